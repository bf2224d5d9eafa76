/*
 * NAME
 *	frontend_store 3h
 * SUMMARY
 *	the front ends' database: opened at start or later, never fatal
 * DESCRIPTION
 *	policyd and the milter behave alike when the database cannot be
 *	opened at start (missing, unreadable, locked, newer schema): they
 *	start anyway, answer every relayed recipient with on_store_error
 *	(never a permit), log why once a minute, and try again every
 *	FRONTEND_STORE_RETRY seconds, so a database made readable again is
 *	used without a restart. Local mail, which the daemons do not judge,
 *	keeps flowing meanwhile; a daemon that exited instead would stop
 *	it too (the milter's milter_default_action).
 *
 *	Thread safety: frontend_store_get() may be called from several
 *	threads (the milter); one of them opens, the others see NULL until
 *	the store is complete. Once open, the store stays until
 *	frontend_store_close().
 */
#ifndef AUTHRELAY_FRONTEND_STORE_H
#define AUTHRELAY_FRONTEND_STORE_H

#include "store.h"

#define FRONTEND_STORE_RETRY 5	/* seconds between two attempts to open */

struct frontend_store;

/* Makes the opener for location with opts (both copied) and tries a
   first open. Returns 0, or -1 only when out of memory; a database that
   cannot be opened is not an error here (see above). */
int frontend_store_new(const char *location, const struct store_options *opts,
		       struct frontend_store **fs_r);

/* The open store, or NULL when it is not open; tries to open it again
   when the last attempt is FRONTEND_STORE_RETRY seconds old. */
struct store *frontend_store_get(struct frontend_store *fs);

/* Calls fn(ctx, store) once the store is open: at once when it is
   already, else from the thread whose frontend_store_get() opens it
   (with fs's lock held: fn must not call frontend_store_*()). One
   callback per fs; a later call replaces it. For what needs the store
   but does not ask for it per request (the milter's metrics scrape). */
typedef void frontend_store_open_fn(void *ctx, struct store *store);
void frontend_store_on_open(struct frontend_store *fs, frontend_store_open_fn *fn, void *ctx);

/* Closes the store (flushing queued rows up to flush_timeout_ms), frees
   fs and sets *fs to NULL; NULL is fine. */
void frontend_store_close(struct frontend_store **fs, long long flush_timeout_ms);

#endif

/*
 * NAME
 *	grants 3h
 * SUMMARY
 *	login events to relay grants
 * SYNOPSIS
 *	#include "grants.h"
 * DESCRIPTION
 *	A successful login becomes a struct store_login: the IP masked to 32
 *	bits (IPv4; IPv4-mapped addresses were made IPv4 by the parser) or to
 *	grant_ipv6_prefix (IPv6), expiry = login time + grant_ttl. Logins from
 *	grant_exclude_networks, and logins whose grant would already have
 *	expired (old lines read late: --scan, catching up after downtime)
 *	make no grant. A login stamped more than GRANT_MAX_FUTURE seconds
 *	after now (a forged line, a wrong clock on the POP/IMAP host) counts
 *	as made now: no grant ever outlives grant_ttl by more than that skew.
 *	A batch collects the logins of one read and is written
 *	with the source's checkpoint in one store transaction, so the
 *	checkpoint never runs ahead of the grants. grants never parses.
 */
#ifndef AUTHRELAY_GRANTS_H
#define AUTHRELAY_GRANTS_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "parsers.h"
#include "log.h"
#include "store.h"

/* How far a login's stamp may lie ahead of our clock (skew between hosts,
   rounding of syslog stamps) before it is taken as "now". */
#define GRANT_MAX_FUTURE 300

struct grant_policy {
	long long ttl;			/* grant_ttl, seconds */
	unsigned ipv6_prefix;		/* grant_ipv6_prefix */
	const struct cidr_list *exclude; /* grant_exclude_networks; NULL = none */
};

enum grant_outcome {
	GRANT_NEW = 0,		/* *login_r filled */
	GRANT_EXCLUDED,		/* the IP is in grant_exclude_networks */
	GRANT_EXPIRED		/* login time + ttl is not after now */
};

/* Fills *login_r from ev (source names the file or "journal"; line must
   stay valid until the login is written). */
enum grant_outcome grants_from_event(const struct grant_policy *policy,
				     const struct login_event *ev, const char *source,
				     const char *line, int64_t now, struct store_login *login_r);

/* Logs one "grant ip=NET/LEN user= service= login= expires= source=
   [session=]" line at level (after the login was written; a login whose
   session the store had counted before shows its session again). The
   daemon logs at info (the mail log's record of each grant); --scan at
   debug, so a backfill does not print one line per login. */
void grants_log(const struct store_login *login, enum log_level level);

struct grant_batch {
	struct store_login *logins;
	size_t count, cap;
};

/* Appends a copy of login (the line pointer is kept, not copied).
   Returns 0, or -1 when out of memory (the batch is unchanged). */
int grant_batch_add(struct grant_batch *batch, const struct store_login *login);

/* Writes the batch and cp (may be NULL) in one transaction and empties
   the batch. On -1 (*error_r malloc'd) nothing was written and the batch
   is kept: the caller retries it, or clears it and reads the lines again
   from the last checkpoint. */
int grant_batch_apply(struct grant_batch *batch, struct store *store,
		      const struct store_checkpoint *cp, char **error_r);

void grant_batch_clear(struct grant_batch *batch);
void grant_batch_free(struct grant_batch *batch);

#endif

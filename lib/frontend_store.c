/*
 * NAME
 *	frontend_store 3
 * SUMMARY
 *	the front ends' database: opened at start or later, never fatal
 * SYNOPSIS
 *	#include "frontend_store.h"
 * DESCRIPTION
 *	See frontend_store.h. The fast path (the store is open) is one
 *	atomic load; the mutex is taken only while the store is missing and
 *	an attempt is due.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend_store.h"
#include "log.h"

#define FRONTEND_STORE_LOG_EVERY 60	/* seconds between two "cannot open" lines */

struct frontend_store {
	char *location;
	char *program;
	char *password_file;	/* a copy: the configuration may be reloaded */
	struct store_options opts;
	_Atomic(struct store *) store;
	_Atomic(time_t) retry_at;
	time_t logged_at;		/* under lock */
	frontend_store_open_fn *on_open;	/* under lock */
	void *on_open_ctx;
	pthread_mutex_t lock;
};

/* frontend_store_try - one attempt to open; the caller holds the lock */
static void frontend_store_try(struct frontend_store *fs)
{
	struct store *store = NULL;
	char *error = NULL;
	time_t now = time(NULL);

	if (store_open(fs->location, &fs->opts, &store, &error) == 0) {
		log_info("database %s open", fs->location);
		atomic_store(&fs->store, store);
		if (fs->on_open != NULL)
			fs->on_open(fs->on_open_ctx, store);
		return;
	}
	atomic_store(&fs->retry_at, now + FRONTEND_STORE_RETRY);
	/* Every attempt fails the same way; say so once a minute. */
	if (fs->logged_at == 0 || now - fs->logged_at >= FRONTEND_STORE_LOG_EVERY) {
		log_error("cannot open database %s: %s; answering with on_store_error, "
			  "retrying every %ds",
			  fs->location, error ? error : "unknown error", FRONTEND_STORE_RETRY);
		fs->logged_at = now;
	}
	free(error);
}

/* frontend_store_new - make the opener, try once */
int frontend_store_new(const char *location, const struct store_options *opts,
		       struct frontend_store **fs_r)
{
	struct frontend_store *fs = calloc(1, sizeof *fs);

	*fs_r = NULL;
	if (fs == NULL)
		return -1;
	fs->location = strdup(location);
	fs->program = opts->program ? strdup(opts->program) : NULL;
	fs->password_file = opts->password_file ? strdup(opts->password_file) : NULL;
	if (fs->location == NULL || (opts->program != NULL && fs->program == NULL)
	    || (opts->password_file != NULL && fs->password_file == NULL)) {
		free(fs->location);
		free(fs->program);
		free(fs->password_file);
		free(fs);
		return -1;
	}
	fs->opts = *opts;
	fs->opts.program = fs->program;
	fs->opts.password_file = fs->password_file;
	atomic_init(&fs->store, NULL);
	atomic_init(&fs->retry_at, 0);
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_lock(&fs->lock);
	frontend_store_try(fs);
	pthread_mutex_unlock(&fs->lock);
	*fs_r = fs;
	return 0;
}

/* frontend_store_get - the store, opening it again when due */
struct store *frontend_store_get(struct frontend_store *fs)
{
	struct store *store = atomic_load(&fs->store);

	if (store != NULL)
		return store;
	if (time(NULL) < atomic_load(&fs->retry_at))
		return NULL;
	pthread_mutex_lock(&fs->lock);
	/* Another thread may have opened it, or tried, meanwhile. */
	if (atomic_load(&fs->store) == NULL && time(NULL) >= atomic_load(&fs->retry_at))
		frontend_store_try(fs);
	store = atomic_load(&fs->store);
	pthread_mutex_unlock(&fs->lock);
	return store;
}

/* frontend_store_on_open - who to tell when the store opens */
void frontend_store_on_open(struct frontend_store *fs, frontend_store_open_fn *fn, void *ctx)
{
	struct store *store;

	pthread_mutex_lock(&fs->lock);
	fs->on_open = fn;
	fs->on_open_ctx = ctx;
	store = atomic_load(&fs->store);
	if (store != NULL && fn != NULL)
		fn(ctx, store);
	pthread_mutex_unlock(&fs->lock);
}

/* frontend_store_close - close and free */
void frontend_store_close(struct frontend_store **_fs, long long flush_timeout_ms)
{
	struct frontend_store *fs = *_fs;
	struct store *store;

	if (fs == NULL)
		return;
	*_fs = NULL;
	store = atomic_load(&fs->store);
	if (store != NULL)
		store_close(&store, flush_timeout_ms);
	pthread_mutex_destroy(&fs->lock);
	free(fs->location);
	free(fs->program);
	free(fs->password_file);
	free(fs);
}

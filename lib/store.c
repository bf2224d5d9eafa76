/*
 * NAME
 *	store 3
 * SUMMARY
 *	the backend-neutral store entry points
 * SYNOPSIS
 *	#include "store.h"
 * DESCRIPTION
 *	store_open() opens the location with the first backend of the
 *	table in store_backends.c that accepts it. Every other function
 *	checks its arguments (a NULL store or a missing required pointer is
 *	an error, never a crash and never "not found"), applies the
 *	business rules of store_rules.c, and calls the backend through
 *	struct store_ops. An operation the backend does not have (a NULL
 *	entry) is an error naming the backend and the operation, never a
 *	crash: LOOKUP_ERROR for a lookup, -1 with "the NAME backend cannot
 *	VERB" for the others.
 * DIAGNOSTICS
 *	Errors are returned as malloc'd text in *error_r; lookups return
 *	LOOKUP_ERROR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "store_backend.h"
#include "store_writer.h"

/* counted_lookup - a lookup's answer, an error counted in the metrics */
static enum lookup_result counted_lookup(enum lookup_result r)
{
	if (r == LOOKUP_ERROR)
		metrics_store_error();
	return r;
}

/* counted_write - a write's result, a failure counted in the metrics */
static int counted_write(int rc)
{
	if (rc < 0)
		metrics_store_error();
	return rc;
}

/* cannot - an operation the backend does not have: an error */
static int cannot(const struct store *store, const char *verb, char **error_r)
{
	return error_r_set(error_r, "the %s backend cannot %s", store->ops->name, verb);
}

/* cannot_look_up - a lookup the backend does not have: a store error,
   logged once per process (a daemon would otherwise log every request) */
static enum lookup_result cannot_look_up(const struct store *store, const char *verb)
{
	static int logged;

	if (__atomic_exchange_n(&logged, 1, __ATOMIC_RELAXED) == 0)
		log_error("the %s backend cannot %s: answering as a store error",
			  store->ops->name, verb);
	metrics_store_error();
	return LOOKUP_ERROR;
}

/* opened - what every store keeps from its options */
static int opened(int rc, const struct store_options *opts, struct store **store_r)
{
	if (rc == 0) {
		(*store_r)->progress = opts->progress;
		(*store_r)->progress_ctx = opts->progress_ctx;
	}
	return rc;
}

/* store_open - the first backend that accepts location opens it */
int store_open(const char *location, const struct store_options *opts,
	       struct store **store_r, char **error_r)
{
	const struct store_backend *backend;

	if (error_r != NULL)
		*error_r = NULL;
	if (store_r == NULL)
		return error_r_set(error_r, "store_open: no result pointer");
	*store_r = NULL;
	if (location == NULL || *location == '\0')
		return error_r_set(error_r, "no database location configured");
	if (opts == NULL)
		return error_r_set(error_r, "store_open: no options");
	if ((backend = store_backend_find(location, error_r)) == NULL)
		return -1;
	return opened(backend->open(location, opts, store_r, error_r), opts, store_r);
}

/* store_location_is_server - a server backend accepts location */
bool store_location_is_server(const char *location)
{
	const struct store_backend *backend;

	if (location == NULL || *location == '\0')
		return false;
	backend = store_backend_find(location, NULL);
	return backend != NULL && backend->is_server;
}

/* store_location_files - the paths a database on files is made of */
int store_location_files(const char *location, store_file_cb *cb, void *ctx)
{
	const struct store_backend *backend;

	if (location == NULL || *location == '\0' || cb == NULL
	    || (backend = store_backend_find(location, NULL)) == NULL)
		return -1;
	return backend->files != NULL ? backend->files(location, cb, ctx) : 0;
}

/* store_close - flush, stop and free whichever backend */
void store_close(struct store **store, long long flush_timeout_ms)
{
	if (store == NULL || *store == NULL)
		return;
	/* Without a close the backend's memory cannot be freed: said, not
	   crashed on. */
	if ((*store)->ops->close != NULL)
		(*store)->ops->close(*store, flush_timeout_ms);
	else
		log_error("the %s backend cannot close a store", (*store)->ops->name);
	*store = NULL;
}

/* store_read_begin - one read transaction for a batch of lookups */
int store_read_begin(struct store *store)
{
	if (store == NULL || store->ops->read_begin == NULL)
		return -1;
	return store->ops->read_begin(store);
}

int store_read_end(struct store *store)
{
	if (store == NULL || store->ops->read_end == NULL)
		return 0;
	return store->ops->read_end(store);
}

/* store_backend_name - which backend serves this store */
const char *store_backend_name(const struct store *store)
{
	return store != NULL ? store->ops->name : "";
}

/* store_schema_latest - the newest schema of location's backend */
int store_schema_latest(const char *location)
{
	const struct store_backend *backend;

	if (location == NULL || *location == '\0'
	    || (backend = store_backend_find(location, NULL)) == NULL
	    || backend->ops->schema_latest == NULL)
		return -1;
	return backend->ops->schema_latest();
}

/* store_schema_newest - the newest schema of store's backend */
int store_schema_newest(const struct store *store)
{
	if (store == NULL || store->ops->schema_latest == NULL)
		return -1;
	return store->ops->schema_latest();
}

int store_schema_version(struct store *store, int *version_r)
{
	if (store == NULL || version_r == NULL || store->ops->schema_version == NULL)
		return -1;
	return store->ops->schema_version(store, version_r);
}

enum lookup_result store_check_integrity(struct store *store, char **detail_r)
{
	if (detail_r != NULL)
		*detail_r = NULL;
	if (store == NULL)
		return LOOKUP_ERROR;
	if (store->ops->check_integrity == NULL) {
		cannot(store, "check its integrity", detail_r);
		return LOOKUP_ERROR;
	}
	return store->ops->check_integrity(store, detail_r);
}

/* ---- grants ---- */

enum lookup_result store_grant_lookup(struct store *store, const struct ipaddr *ip, int64_t now,
				      struct store_grant *grant_r)
{
	if (store == NULL || ip == NULL)
		return LOOKUP_ERROR;
	/* An unknown client address has no grant; that is an answer. */
	if (ip->family == 0)
		return LOOKUP_NOT_FOUND;
	if (store->ops->grant_lookup == NULL)
		return cannot_look_up(store, "look up grants");
	return counted_lookup(store->ops->grant_lookup(store, ip, now, grant_r));
}

int store_logins_apply(struct store *store, const struct store_login *logins, size_t count,
		       const struct store_checkpoint *cp, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || (logins == NULL && count > 0))
		return error_r_set(error_r, "store_logins_apply: bad arguments");
	if (count == 0 && cp == NULL)
		return 0;
	/* Everything is checked before the transaction, so a bad row costs
	   no lock time. */
	for (size_t i = 0; i < count; i++)
		if (store_rules_login(&logins[i], error_r) < 0)
			return -1;
	if (cp != NULL && store_rules_checkpoint(cp, error_r) < 0)
		return -1;
	if (store->ops->logins_apply == NULL)
		return cannot(store, "record logins", error_r);
	return counted_write(store->ops->logins_apply(store, logins, count, cp, error_r));
}

enum lookup_result store_checkpoint_get(struct store *store, const char *source,
					struct store_checkpoint *cp_r)
{
	if (store == NULL || source == NULL || cp_r == NULL)
		return LOOKUP_ERROR;
	if (store->ops->checkpoint_get == NULL)
		return cannot_look_up(store, "read checkpoints");
	return counted_lookup(store->ops->checkpoint_get(store, source, cp_r));
}

int store_grant_add(struct store *store, const struct store_grant *grant, const char *actor,
		    char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || grant == NULL || actor == NULL)
		return error_r_set(error_r, "store_grant_add: bad arguments");
	if (store_rules_grant(grant, (int64_t)time(NULL), error_r) < 0)
		return -1;
	if (store->ops->grant_add == NULL)
		return cannot(store, "add grants", error_r);
	return store->ops->grant_add(store, grant, actor, error_r);
}

int store_grant_revoke(struct store *store, const struct ipaddr *ip, const char *actor,
		       unsigned *removed_r, char **error_r)
{
	unsigned removed;

	if (error_r != NULL)
		*error_r = NULL;
	if (removed_r == NULL)
		removed_r = &removed;
	*removed_r = 0;
	if (store == NULL || ip == NULL || actor == NULL)
		return error_r_set(error_r, "store_grant_revoke: bad arguments");
	if (ip->family == 0)
		return error_r_set(error_r, "grant revoke: no IP address given");
	if (store->ops->grant_revoke == NULL)
		return cannot(store, "revoke grants", error_r);
	return store->ops->grant_revoke(store, ip, actor, removed_r, error_r);
}

int store_grant_list(struct store *store, int64_t now, store_grant_cb *cb, void *ctx,
		     char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_grant_list: bad arguments");
	if (store->ops->grant_list == NULL)
		return cannot(store, "list grants", error_r);
	return store->ops->grant_list(store, now, cb, ctx, error_r);
}

/* ---- users and senders ---- */

enum lookup_result store_user_suspended(struct store *store, const char *username)
{
	if (store == NULL || username == NULL)
		return LOOKUP_ERROR;
	if (store->ops->user_suspended == NULL)
		return cannot_look_up(store, "look up users");
	return counted_lookup(store->ops->user_suspended(store, username));
}

int store_user_set_suspended(struct store *store, const char *username, bool suspended,
			     const char *actor, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || username == NULL || actor == NULL)
		return error_r_set(error_r, "store_user_set_suspended: bad arguments");
	if (*username == '\0' || strlen(username) >= STORE_USER_MAX)
		return error_r_set(error_r, "user name must be 1 to %d characters",
				   STORE_USER_MAX - 1);
	if (store->ops->user_set_suspended == NULL)
		return cannot(store, "suspend users", error_r);
	return store->ops->user_set_suspended(store, username, suspended, actor, error_r);
}

int store_user_list(struct store *store, store_user_cb *cb, void *ctx, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_user_list: bad arguments");
	if (store->ops->user_list == NULL)
		return cannot(store, "list users", error_r);
	return store->ops->user_list(store, cb, ctx, error_r);
}

enum lookup_result store_sender_owned(struct store *store, const char *username,
				      const char *address)
{
	struct store_sender_key key;

	if (store == NULL || username == NULL || address == NULL)
		return LOOKUP_ERROR;
	/* An address that does not normalise is owned by nobody; that is
	   an answer about the address, not a store failure. */
	if (store_rules_sender_key(address, &key) < 0)
		return LOOKUP_NOT_FOUND;
	/* The null sender "" is covered by "*" only: no other candidate. */
	if (store->ops->sender_owned == NULL)
		return cannot_look_up(store, "look up sender addresses");
	return counted_lookup(store->ops->sender_owned(store, username,
						       key.bare[0] != '\0' ? key.bare : NULL,
						       key.at_domain[0] != '\0' ? key.at_domain
									     : NULL));
}

int store_sender_allow(struct store *store, const char *username, const char *pattern,
		       const char *actor, char **error_r)
{
	char norm[ADDR_MAX];

	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || username == NULL || pattern == NULL || actor == NULL)
		return error_r_set(error_r, "store_sender_allow: bad arguments");
	if (*username == '\0' || strlen(username) >= STORE_USER_MAX)
		return error_r_set(error_r, "user name must be 1 to %d characters",
				   STORE_USER_MAX - 1);
	if (addr_pattern_normalize(pattern, norm, sizeof norm, error_r) < 0)
		return -1;
	if (store->ops->sender_allow == NULL)
		return cannot(store, "allow sender addresses", error_r);
	return store->ops->sender_allow(store, username, norm, actor, error_r);
}

int store_sender_deny(struct store *store, const char *username, const char *pattern,
		      const char *actor, char **error_r)
{
	char norm[ADDR_MAX];

	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || username == NULL || pattern == NULL || actor == NULL)
		return error_r_set(error_r, "store_sender_deny: bad arguments");
	if (addr_pattern_normalize(pattern, norm, sizeof norm, error_r) < 0)
		return -1;
	if (store->ops->sender_deny == NULL)
		return cannot(store, "deny sender addresses", error_r);
	return store->ops->sender_deny(store, username, norm, actor, error_r);
}

int store_sender_list(struct store *store, const char *username, store_sender_cb *cb, void *ctx,
		      char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_sender_list: bad arguments");
	if (store->ops->sender_list == NULL)
		return cannot(store, "list sender addresses", error_r);
	return store->ops->sender_list(store, username, cb, ctx, error_r);
}

/* ---- certificates ---- */

enum lookup_result store_cert_lookup(struct store *store, const char *fingerprint, char *user_r)
{
	char fpr[STORE_FPR_MAX];

	if (store == NULL || fingerprint == NULL)
		return LOOKUP_ERROR;
	/* Not a fingerprint at all: no certificate has it. */
	if (store_fingerprint_normalize(fingerprint, fpr, sizeof fpr) < 0)
		return LOOKUP_NOT_FOUND;
	if (store->ops->cert_lookup == NULL)
		return cannot_look_up(store, "look up certificates");
	return counted_lookup(store->ops->cert_lookup(store, fpr, user_r));
}

int store_cert_add(struct store *store, const struct store_cert *cert, const char *actor,
		   char **error_r)
{
	struct store_cert norm;

	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cert == NULL || actor == NULL)
		return error_r_set(error_r, "store_cert_add: bad arguments");
	if (store_rules_cert(cert, &norm, error_r) < 0)
		return -1;
	if (store->ops->cert_add == NULL)
		return cannot(store, "add certificates", error_r);
	return store->ops->cert_add(store, &norm, actor, error_r);
}

int store_cert_revoke(struct store *store, const char *fingerprint, const char *actor,
		      char **error_r)
{
	char fpr[STORE_FPR_MAX];

	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || fingerprint == NULL || actor == NULL)
		return error_r_set(error_r, "store_cert_revoke: bad arguments");
	if (store_rules_fingerprint(fingerprint, fpr, error_r) < 0)
		return -1;
	if (store->ops->cert_revoke == NULL)
		return cannot(store, "revoke certificates", error_r);
	return store->ops->cert_revoke(store, fpr, actor, error_r);
}

int store_cert_list(struct store *store, store_cert_cb *cb, void *ctx, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_cert_list: bad arguments");
	if (store->ops->cert_list == NULL)
		return cannot(store, "list certificates", error_r);
	return store->ops->cert_list(store, cb, ctx, error_r);
}

/* ---- decisions and audit ---- */

int store_decision_queue(struct store *store, const struct store_decision *d)
{
	int rc;

	if (store == NULL || d == NULL)
		return -1;
	/* Rows accepted minus rows written is the queue's length: the
	   metrics read the writer's count at scrape time. */
	if ((rc = store_writer_queue(store, d)) == 0)
		metrics_decision_row_queued();
	return rc;
}

int store_decision_flush(struct store *store, long long timeout_ms)
{
	/* A backend that keeps no decisions cannot say they are written. */
	if (store == NULL || store->ops->decision_write == NULL)
		return -1;
	return store_writer_flush(store, timeout_ms);
}

void store_decision_stats(struct store *store, uint64_t *written_r, uint64_t *dropped_r)
{
	uint64_t w = 0, dr = 0;

	if (store != NULL)
		store_writer_stats(store, &w, &dr);
	if (written_r != NULL)
		*written_r = w;
	if (dropped_r != NULL)
		*dropped_r = dr;
}

int store_audit(struct store *store, const struct store_audit_filter *filter,
		store_decision_cb *cb, void *ctx, char **error_r)
{
	static const struct store_audit_filter none;

	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_audit: bad arguments");
	if (store->ops->audit == NULL)
		return cannot(store, "read decisions", error_r);
	return store->ops->audit(store, filter != NULL ? filter : &none, cb, ctx, error_r);
}

int store_prune(struct store *store, int64_t before, unsigned batch, const char *actor,
		uint64_t *deleted_r, char **error_r)
{
	uint64_t deleted, counts[STORE_PRUNE_TABLES] = { 0 }, total = 0;
	char subject[32], detail[160];
	int n, res = 0;

	if (error_r != NULL)
		*error_r = NULL;
	if (deleted_r == NULL)
		deleted_r = &deleted;
	*deleted_r = 0;
	if (store == NULL || actor == NULL)
		return error_r_set(error_r, "store_prune: bad arguments");
	if (store->ops->prune_batch == NULL || store->ops->admin_log == NULL)
		return cannot(store, "prune", error_r);
	if (batch == 0)
		batch = 1000;
	if (batch > 100000)	/* keep each transaction short */
		batch = 100000;
	/* The progress line counts decisions and grants, the bulk of a
	   prune; the limits' rows are few and go last. */
	if (store->progress != NULL) {
		if (store->ops->prune_count != NULL)
			for (int t = STORE_PRUNE_DECISIONS; t <= STORE_PRUNE_GRANTS; t++)
				total += store->ops->prune_count(store, t, before);
		store->progress(store->progress_ctx, 0, total);
	}
	for (int t = 0; t < STORE_PRUNE_TABLES && res == 0; t++) {
		do {
			if ((n = store->ops->prune_batch(store, t, before, batch, error_r)) < 0) {
				res = -1;
				break;
			}
			counts[t] += (uint64_t)n;
			if (store->progress != NULL)
				store->progress(store->progress_ctx,
						counts[STORE_PRUNE_DECISIONS] + counts[STORE_PRUNE_GRANTS],
						total);
		} while ((unsigned)n == batch);
	}
	for (int t = 0; t < STORE_PRUNE_TABLES; t++)
		*deleted_r += counts[t];
	store_rules_prune_log(before, counts, res < 0, subject, detail);
	/* Logged also after a partial prune: those rows are gone. */
	if (store->ops->admin_log(store, actor, "prune", subject, detail,
				  res < 0 ? NULL : error_r) < 0)
		res = -1;
	return res;
}

int store_admin_log(struct store *store, const char *actor, const char *action,
		    const char *subject, const char *detail, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || actor == NULL || action == NULL)
		return error_r_set(error_r, "store_admin_log: bad arguments");
	if (store->ops->admin_log == NULL)
		return cannot(store, "write the admin log", error_r);
	return store->ops->admin_log(store, actor, action, subject != NULL ? subject : "",
				     detail != NULL ? detail : "", error_r);
}

int store_query(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
		char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || sql == NULL || cb == NULL)
		return error_r_set(error_r, "store_query: bad arguments");
	if (store->ops->query == NULL)
		return cannot(store, "run queries", error_r);
	return store->ops->query(store, sql, cb, ctx, error_r);
}

/* ---- copy between databases ---- */

/* copy_missing - the error of a backend without copy support */
static int copy_missing(struct store *store, char **error_r)
{
	return error_r_set(error_r, "the %s backend cannot copy tables",
			   store != NULL ? store->ops->name : "(no)");
}

int store_copy_begin(struct store *store, bool write, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || store->ops->copy_begin == NULL)
		return copy_missing(store, error_r);
	return counted_write(store->ops->copy_begin(store, write, error_r));
}

enum lookup_result store_table_count(struct store *store, const struct store_table *t,
				     uint64_t *count_r, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || t == NULL || count_r == NULL || store->ops->table_count == NULL) {
		copy_missing(store, error_r);
		return LOOKUP_ERROR;
	}
	*count_r = 0;
	return counted_lookup(store->ops->table_count(store, t, count_r, error_r));
}

int store_table_dump(struct store *store, const struct store_table *t, store_row_cb *cb,
		     void *ctx, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || t == NULL || cb == NULL || store->ops->table_dump == NULL)
		return copy_missing(store, error_r);
	return counted_write(store->ops->table_dump(store, t, cb, ctx, error_r));
}

int store_table_clear(struct store *store, const struct store_table *t, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || t == NULL || store->ops->table_clear == NULL)
		return copy_missing(store, error_r);
	return counted_write(store->ops->table_clear(store, t, error_r));
}

int store_table_load(struct store *store, const struct store_table *t,
		     const struct store_value *values, size_t nrows, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || t == NULL || (values == NULL && nrows > 0)
	    || store->ops->table_load == NULL)
		return copy_missing(store, error_r);
	if (nrows == 0)
		return 0;
	return counted_write(store->ops->table_load(store, t, values, nrows, error_r));
}

int store_copy_end(struct store *store, const struct store_copy_note *note, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || store->ops->copy_end == NULL)
		return copy_missing(store, error_r);
	return counted_write(store->ops->copy_end(store, note, error_r));
}

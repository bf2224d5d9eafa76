/*
 * NAME
 *	store 3
 * SUMMARY
 *	the backend-neutral store entry points
 * SYNOPSIS
 *	#include "store.h"
 * DESCRIPTION
 *	store_open() chooses the backend from the form of the location:
 *	"postgresql://", "postgres://" or a libpq "keyword=value" string is
 *	PostgreSQL (store_pgsql*.c), another "scheme://" is an error,
 *	anything else is a file path for SQLite. Every other function checks its arguments (a NULL
 *	store or a missing required pointer is an error, never a crash and
 *	never "not found") and calls the backend through struct store_ops.
 *
 *	The PostgreSQL backend's model (answers from memory kept current
 *	by the database) is described in store_pgsql.h.
 * DIAGNOSTICS
 *	Errors are returned as malloc'd text in *error_r; lookups return
 *	LOOKUP_ERROR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "sql_migrations.h"
#include "store.h"
#include "store_backend.h"
#include "store_pgsql.h"

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

/* store_fingerprint_normalize - Postfix's fingerprint form */
int store_fingerprint_normalize(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = 0;
	unsigned digits = 0;
	int pending = -1;

	if (in == NULL || size == 0)
		return -1;
	for (const char *p = in; *p != '\0'; p++) {
		int v;
		char c = *p;

		if (c == ':' || c == ' ' || c == '\t')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		digits++;
		if (pending < 0) {
			pending = v;
			continue;
		}
		/* Room for an optional ':', two digits and the NUL. */
		if (len + (len > 0) + 3 > size)
			return -1;
		if (len > 0)
			out[len++] = ':';
		out[len++] = hex[pending];
		out[len++] = hex[v];
		pending = -1;
	}
	if (digits == 0 || pending >= 0)
		return -1;
	out[len] = '\0';
	return 0;
}

/* store_open - choose the backend by the location's form */
int store_open(const char *location, const struct store_options *opts,
	       struct store **store_r, char **error_r)
{
	const char *sep;

	if (error_r != NULL)
		*error_r = NULL;
	if (store_r == NULL)
		return error_r_set(error_r, "store_open: no result pointer");
	*store_r = NULL;
	if (location == NULL || *location == '\0')
		return error_r_set(error_r, "no database location configured");
	if (opts == NULL)
		return error_r_set(error_r, "store_open: no options");

	if (store_pgsql_location(location))
		return store_pgsql_open(location, opts, store_r, error_r);
	/* "scheme://..." names a server; a file path never needs "://" (a
	   path that really contains it can be written as ./path). */
	if ((sep = strstr(location, "://")) != NULL && strchr(location, '/') > sep) {
		size_t n = (size_t)(sep - location);

		return error_r_set(error_r, "database \"%s\": unknown backend \"%.*s\"; use a "
				   "file path for SQLite or postgresql://... for PostgreSQL",
				   location, (int)n, location);
	}
	return store_sqlite_open(location, opts, store_r, error_r);
}

bool store_location_is_server(const char *location)
{
	return location != NULL && store_pgsql_location(location);
}

/* store_close - flush, stop and free whichever backend */
void store_close(struct store **store, long long flush_timeout_ms)
{
	if (store == NULL || *store == NULL)
		return;
	(*store)->ops->close(*store, flush_timeout_ms);
	*store = NULL;
}

/* store_read_begin - one read transaction for a batch of lookups */
int store_read_begin(struct store *store)
{
	if (store == NULL || store->ops->read_begin == NULL)
		return -1;
	return store->ops->read_begin(store);
}

void store_read_end(struct store *store)
{
	if (store != NULL && store->ops->read_end != NULL)
		store->ops->read_end(store);
}

/* store_backend_name - which backend serves this store */
const char *store_backend_name(const struct store *store)
{
	return store != NULL ? store->ops->name : "";
}

/* store_schema_latest - the newest migration compiled in */
int store_schema_latest(void)
{
	int latest = 0;

	for (unsigned i = 0; i < sql_migrations_count; i++)
		if (sql_migrations[i].version > latest)
			latest = sql_migrations[i].version;
	return latest;
}

int store_schema_newest(const struct store *store)
{
	/* Until the backends carry their own migrations (issue 14's store
	   refactor), PostgreSQL's are its own table. */
	if (store != NULL && strcmp(store->ops->name, "pgsql") == 0)
		return store_pgsql_schema_latest();
	return store_schema_latest();
}

int store_schema_version(struct store *store, int *version_r)
{
	if (store == NULL || version_r == NULL)
		return -1;
	return store->ops->schema_version(store, version_r);
}

enum lookup_result store_check_integrity(struct store *store, char **detail_r)
{
	if (detail_r != NULL)
		*detail_r = NULL;
	if (store == NULL)
		return LOOKUP_ERROR;
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
	return counted_write(store->ops->logins_apply(store, logins, count, cp, error_r));
}

enum lookup_result store_checkpoint_get(struct store *store, const char *source,
					struct store_checkpoint *cp_r)
{
	if (store == NULL || source == NULL || cp_r == NULL)
		return LOOKUP_ERROR;
	return counted_lookup(store->ops->checkpoint_get(store, source, cp_r));
}

int store_grant_add(struct store *store, const struct store_grant *grant, const char *actor,
		    char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || grant == NULL || actor == NULL)
		return error_r_set(error_r, "store_grant_add: bad arguments");
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
	return store->ops->grant_revoke(store, ip, actor, removed_r, error_r);
}

int store_grant_list(struct store *store, int64_t now, store_grant_cb *cb, void *ctx,
		     char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_grant_list: bad arguments");
	return store->ops->grant_list(store, now, cb, ctx, error_r);
}

/* ---- users and senders ---- */

enum lookup_result store_user_suspended(struct store *store, const char *username)
{
	if (store == NULL || username == NULL)
		return LOOKUP_ERROR;
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
	return store->ops->user_set_suspended(store, username, suspended, actor, error_r);
}

int store_user_list(struct store *store, store_user_cb *cb, void *ctx, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_user_list: bad arguments");
	return store->ops->user_list(store, cb, ctx, error_r);
}

enum lookup_result store_sender_owned(struct store *store, const char *username,
				      const char *address)
{
	if (store == NULL || username == NULL || address == NULL)
		return LOOKUP_ERROR;
	return counted_lookup(store->ops->sender_owned(store, username, address));
}

int store_sender_allow(struct store *store, const char *username, const char *pattern,
		       const char *actor, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || username == NULL || pattern == NULL || actor == NULL)
		return error_r_set(error_r, "store_sender_allow: bad arguments");
	if (*username == '\0' || strlen(username) >= STORE_USER_MAX)
		return error_r_set(error_r, "user name must be 1 to %d characters",
				   STORE_USER_MAX - 1);
	return store->ops->sender_allow(store, username, pattern, actor, error_r);
}

int store_sender_deny(struct store *store, const char *username, const char *pattern,
		      const char *actor, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || username == NULL || pattern == NULL || actor == NULL)
		return error_r_set(error_r, "store_sender_deny: bad arguments");
	return store->ops->sender_deny(store, username, pattern, actor, error_r);
}

int store_sender_list(struct store *store, const char *username, store_sender_cb *cb, void *ctx,
		      char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_sender_list: bad arguments");
	return store->ops->sender_list(store, username, cb, ctx, error_r);
}

/* ---- certificates ---- */

enum lookup_result store_cert_lookup(struct store *store, const char *fingerprint, char *user_r)
{
	if (store == NULL || fingerprint == NULL)
		return LOOKUP_ERROR;
	return counted_lookup(store->ops->cert_lookup(store, fingerprint, user_r));
}

int store_cert_add(struct store *store, const struct store_cert *cert, const char *actor,
		   char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cert == NULL || actor == NULL)
		return error_r_set(error_r, "store_cert_add: bad arguments");
	return store->ops->cert_add(store, cert, actor, error_r);
}

int store_cert_revoke(struct store *store, const char *fingerprint, const char *actor,
		      char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || fingerprint == NULL || actor == NULL)
		return error_r_set(error_r, "store_cert_revoke: bad arguments");
	return store->ops->cert_revoke(store, fingerprint, actor, error_r);
}

int store_cert_list(struct store *store, store_cert_cb *cb, void *ctx, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || cb == NULL)
		return error_r_set(error_r, "store_cert_list: bad arguments");
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
	if ((rc = store->ops->decision_queue(store, d)) == 0)
		metrics_decision_row_queued();
	return rc;
}

int store_decision_flush(struct store *store, long long timeout_ms)
{
	if (store == NULL)
		return -1;
	return store->ops->decision_flush(store, timeout_ms);
}

void store_decision_stats(struct store *store, uint64_t *written_r, uint64_t *dropped_r)
{
	uint64_t w = 0, dr = 0;

	if (store != NULL)
		store->ops->decision_stats(store, &w, &dr);
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
	return store->ops->audit(store, filter != NULL ? filter : &none, cb, ctx, error_r);
}

int store_prune(struct store *store, int64_t before, unsigned batch, const char *actor,
		uint64_t *deleted_r, char **error_r)
{
	uint64_t deleted;

	if (error_r != NULL)
		*error_r = NULL;
	if (deleted_r == NULL)
		deleted_r = &deleted;
	*deleted_r = 0;
	if (store == NULL || actor == NULL)
		return error_r_set(error_r, "store_prune: bad arguments");
	if (batch == 0)
		batch = 1000;
	return store->ops->prune(store, before, batch, actor, deleted_r, error_r);
}

int store_admin_log(struct store *store, const char *actor, const char *action,
		    const char *subject, const char *detail, char **error_r)
{
	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || actor == NULL || action == NULL)
		return error_r_set(error_r, "store_admin_log: bad arguments");
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

/*
 * NAME
 *	store_queries 3
 * SUMMARY
 *	the named queries: listed and run in the backend's own SQL
 * SYNOPSIS
 *	#include "store.h"
 * DESCRIPTION
 *	Programs name their queries (authrelayctl audit --query NAME,
 *	status, report); each backend keeps the text in its own SQL
 *	(struct store_ops' query_text, in sql_blocks.h's form), and this
 *	file finds the block, binds :since from a number and hands the
 *	statement to the backend's read-only query. No program holds SQL.
 * DIAGNOSTICS
 *	A name the backend has no text for: "not available with
 *	PostgreSQL yet"; the callers name the query.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql_blocks.h"
#include "store.h"
#include "store_backend.h"

/* The caller's callback of store_queries_list(). */
struct query_names {
	store_query_name_cb *cb;
	void *ctx;
};

static int query_name(const struct sql_block *b, void *ctx)
{
	const struct query_names *q = ctx;

	return q->cb != NULL ? q->cb(b->name, b->what, q->ctx) : 0;
}

/* store_queries_list - the names a backend's text has */
int store_queries_list(const char *location, enum store_query_set set,
		       store_query_name_cb *cb, void *ctx)
{
	const struct store_backend *backend;
	struct query_names q = { cb, ctx };
	const char *text;

	if (location == NULL)
		location = "authrelay.db";	/* any path: the file backend */
	if ((backend = store_backend_find(location, NULL)) == NULL)
		return -1;
	if (backend->ops->query_text == NULL || (text = backend->ops->query_text(set)) == NULL)
		return 0;
	return (int)sql_blocks_each(text, query_name, &q);
}

#define SINCE_PLACEHOLDER ":since"

/* bind_since - the statement with every :since replaced by 'ISO', or NULL */
static char *bind_since(const char *sql, size_t len, int64_t since)
{
	const size_t plen = strlen(SINCE_PLACEHOLDER);
	char literal[32];
	size_t n = 0, cap, llen;
	time_t t = (time_t)(since > 0 ? since : 1);	/* nothing before 1970-01-01T00:00:01Z */
	struct tm tm;
	char *out;

	/* Digits, '-', 'T', ':' and 'Z' only: nothing in it can end the
	   quotes. */
	if (gmtime_r(&t, &tm) == NULL || strftime(literal, sizeof literal, "'%Y-%m-%dT%H:%M:%SZ'",
						  &tm) == 0)
		return NULL;
	llen = strlen(literal);
	cap = len + 1;
	for (const char *p = sql; (p = strstr(p, SINCE_PLACEHOLDER)) != NULL && p < sql + len;
	     p += plen)
		cap += llen;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		if (i + plen <= len && memcmp(sql + i, SINCE_PLACEHOLDER, plen) == 0) {
			memcpy(out + n, literal, llen);
			n += llen;
			i += plen;
		} else {
			out[n++] = sql[i++];
		}
	}
	out[n] = '\0';
	return out;
}

/* store_query_named - one named query in the backend's own SQL */
int store_query_named(struct store *store, enum store_query_set set, const char *name,
		      int64_t since, store_sql_cb *cb, void *ctx, char **error_r)
{
	struct sql_block b;
	const char *text;
	char *sql;
	int rc;

	if (error_r != NULL)
		*error_r = NULL;
	if (store == NULL || name == NULL || cb == NULL)
		return error_r_set(error_r, "store_query_named: bad arguments");
	if (store->ops->query == NULL)
		return error_r_set(error_r, "the %s backend cannot run queries", store->ops->name);
	if (store->ops->query_text == NULL || (text = store->ops->query_text(set)) == NULL
	    || sql_block_find(text, name, &b) != 0)
		return error_r_set(error_r, "not available with %s yet",
				   store->ops->title != NULL ? store->ops->title : store->ops->name);
	if ((sql = bind_since(b.sql, b.sql_len, since)) == NULL)
		return error_r_set(error_r, "query %s: out of memory", name);
	rc = store->ops->query(store, sql, cb, ctx, error_r);
	free(sql);
	return rc;
}

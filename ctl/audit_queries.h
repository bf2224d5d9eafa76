/*
 * NAME
 *	audit_queries 3h
 * SUMMARY
 *	the named queries of sql/audit.sql
 * DESCRIPTION
 *	sql/audit.sql (compiled in as sql_audit_text) is a series of
 *	blocks: a "-- name: NAME" line, a "-- what: text" line, then one SQL
 *	statement ending with ';'. These functions find a block by name and
 *	list the names, so authrelayctl audit --query NAME runs exactly what
 *	`sqlite3 DB < audit.sql` runs.
 */
#ifndef AUTHRELAY_CTL_AUDIT_QUERIES_H
#define AUTHRELAY_CTL_AUDIT_QUERIES_H

#include <stddef.h>

#define AUDIT_QUERY_NAME_MAX 64
#define AUDIT_QUERY_WHAT_MAX 256

struct audit_query {
	char name[AUDIT_QUERY_NAME_MAX];
	char what[AUDIT_QUERY_WHAT_MAX];
	const char *sql;	/* points into the text: the statement ... */
	size_t sql_len;		/* ... and its length, up to its ';' */
};

/* Calls cb for each query of text in order; cb returning non-zero stops.
   Returns the number of queries seen. */
typedef int audit_query_cb(const struct audit_query *q, void *ctx);
unsigned audit_queries_each(const char *text, audit_query_cb *cb, void *ctx);

/* Finds the query called name in text. Returns 0 with *q_r filled, or
   -1 when there is none. */
int audit_query_find(const char *text, const char *name, struct audit_query *q_r);

#endif

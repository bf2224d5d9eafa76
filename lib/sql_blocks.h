/*
 * NAME
 *	sql_blocks 3h
 * SUMMARY
 *	the named statements of a compiled-in SQL text (sql/audit.sql's form)
 * DESCRIPTION
 *	sql/audit.sql, sql/pgsql/audit.sql and sql/report.sql (compiled in,
 *	lib/sql_audit.h, lib/sql_report.h) are series of blocks: a
 *	"-- name: NAME" line, a "-- what: text" line, then one SQL statement
 *	ending with ';'. These functions list the blocks and find one by
 *	name, so authrelayctl audit --query NAME runs exactly what
 *	`sqlite3 DB < audit.sql` runs. Only the store's backends read SQL
 *	text (store_query_named()); the programs name queries.
 */
#ifndef AUTHRELAY_SQL_BLOCKS_H
#define AUTHRELAY_SQL_BLOCKS_H

#include <stddef.h>

#define SQL_BLOCK_NAME_MAX 64
#define SQL_BLOCK_WHAT_MAX 256

struct sql_block {
	char name[SQL_BLOCK_NAME_MAX];
	char what[SQL_BLOCK_WHAT_MAX];
	const char *sql;	/* points into the text: the statement ... */
	size_t sql_len;		/* ... and its length, up to its ';' */
};

/* Calls cb for each block of text in order; cb returning non-zero stops.
   Returns the number of blocks seen. */
typedef int sql_block_cb(const struct sql_block *b, void *ctx);
unsigned sql_blocks_each(const char *text, sql_block_cb *cb, void *ctx);

/* Finds the block called name in text. Returns 0 with *b_r filled, or
   -1 when there is none. */
int sql_block_find(const char *text, const char *name, struct sql_block *b_r);

#endif

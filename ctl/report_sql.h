/*
 * NAME
 *	report_sql 3h
 * SUMMARY
 *	the questions of sql/report.sql, asked and answered in memory
 * DESCRIPTION
 *	authrelayctl status and report ask the database the named queries
 *	of sql/report.sql through store_query_named(), which runs each in
 *	the backend's own text, and keep each answer as a small table of
 *	strings that the text, JSON and HTML writers read. The one
 *	placeholder, :since, is bound by the store from a number: no text
 *	from outside ever reaches the SQL.
 */
#ifndef AUTHRELAY_CTL_REPORT_SQL_H
#define AUTHRELAY_CTL_REPORT_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The most rows one answer keeps: above the per-hour queries' answers
   for a year (8760 hours x 4 verdicts); the other queries LIMIT their
   own. Rows past it are counted in dropped, not kept. */
#define REPORT_ROWS_MAX 50000

struct report_rows {
	size_t ncols, nrows;
	char **names;		/* ncols column names */
	char **cells;		/* nrows * ncols values; NULL for SQL NULL */
	size_t dropped;		/* rows past REPORT_ROWS_MAX */
};

/* Runs the query called name in sql/report.sql with :since standing for
   the time since (Unix seconds, UTC). Returns 0 with *rows_r (free with
   report_rows_free; a query without rows gives nrows 0), or -1 with
   *error_r (malloc'd) and *rows_r NULL: an unknown name, or the store's
   error. */
int report_sql_run(struct store *store, const char *name, int64_t since,
		   struct report_rows **rows_r, char **error_r);

/* Appends one row of ncols values (copied; NULL stays NULL) to r, which
   may be a zeroed struct; the first row sets the column names, and a
   later row with another count is refused. Returns 0, or -1 (out of
   memory, r unchanged but for column names). Rows past REPORT_ROWS_MAX
   are counted in dropped. */
int report_rows_add(struct report_rows *r, size_t ncols, const char *const *names,
		    const char *const *values);

/* The value of column col in row, or NULL for SQL NULL, a row past the
   end or a column the answer does not have. */
const char *report_rows_get(const struct report_rows *r, size_t row, const char *col);

/* The same as a number: 0 for NULL or text that is not a number. */
long long report_rows_num(const struct report_rows *r, size_t row, const char *col);

/* Frees *r and sets it to NULL; NULL is fine. */
void report_rows_free(struct report_rows **r);

#endif

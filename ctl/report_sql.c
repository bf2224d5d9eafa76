/*
 * NAME
 *	report_sql 3
 * SUMMARY
 *	the questions of sql/report.sql, asked and answered in memory
 * DESCRIPTION
 *	See report_sql.h. The store finds the query in its backend's text
 *	and binds :since (store_query_named()).
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "error_r.h"
#include "report_sql.h"

/* report_rows_add - appends one row */
int report_rows_add(struct report_rows *r, size_t ncols, const char *const *names,
		    const char *const *values)
{
	char **cells;

	if (r->names == NULL) {
		r->ncols = ncols;
		if ((r->names = calloc(r->ncols + 1, sizeof *r->names)) == NULL)
			return -1;
		for (size_t i = 0; i < r->ncols; i++)
			if ((r->names[i] = strdup(names[i] ? names[i] : "?")) == NULL)
				return -1;
	}
	if (ncols != r->ncols)
		return -1;
	if (r->nrows >= REPORT_ROWS_MAX) {
		r->dropped++;
		return 0;
	}
	cells = realloc(r->cells, (r->nrows + 1) * r->ncols * sizeof *cells);
	if (cells == NULL)
		return -1;
	r->cells = cells;
	for (size_t i = 0; i < r->ncols; i++) {
		char **cell = &cells[r->nrows * r->ncols + i];

		*cell = NULL;
		if (values[i] != NULL && (*cell = strdup(values[i])) == NULL) {
			/* The row is not counted: free what it holds. */
			while (i-- > 0)
				free(cells[r->nrows * r->ncols + i]);
			return -1;
		}
	}
	r->nrows++;
	return 0;
}

/* keep_row - the store's callback: copies one row */
static int keep_row(int ncols, const char *const *names, const char *const *values, void *ctx)
{
	return report_rows_add(ctx, (size_t)ncols, names, values);
}

/* report_sql_run - ask one named question */
int report_sql_run(struct store *store, const char *name, int64_t since,
		   struct report_rows **rows_r, char **error_r)
{
	struct report_rows *r;

	*rows_r = NULL;
	*error_r = NULL;
	if ((r = calloc(1, sizeof *r)) == NULL) {
		error_r_set(error_r, "out of memory");
		return -1;
	}
	if (store_query_named(store, STORE_QUERIES_REPORT, name, since, keep_row, r, error_r) != 0) {
		if (*error_r == NULL)
			error_r_set(error_r, "%s: database error", name);
		report_rows_free(&r);
		return -1;
	}
	*rows_r = r;
	return 0;
}

/* report_rows_get - one value by row and column name */
const char *report_rows_get(const struct report_rows *r, size_t row, const char *col)
{
	if (r == NULL || row >= r->nrows)
		return NULL;
	for (size_t i = 0; i < r->ncols; i++)
		if (strcmp(r->names[i], col) == 0)
			return r->cells[row * r->ncols + i];
	return NULL;
}

/* report_rows_num - one value as a number */
long long report_rows_num(const struct report_rows *r, size_t row, const char *col)
{
	const char *v = report_rows_get(r, row, col);
	char *end;
	long long n;

	if (v == NULL || *v == 0)
		return 0;
	n = strtoll(v, &end, 10);
	return *end == 0 ? n : 0;
}

/* report_rows_free - frees the answer */
void report_rows_free(struct report_rows **_r)
{
	struct report_rows *r = *_r;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	if (r->names != NULL)
		for (size_t i = 0; i < r->ncols; i++)
			free(r->names[i]);
	free(r->names);
	free(r);
	*_r = NULL;
}

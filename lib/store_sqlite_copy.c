/*
 * NAME
 *	store_sqlite_copy 3
 * SUMMARY
 *	SQLite backend: tables dumped and loaded for authrelayctl copy
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	The copy entries of struct store_ops. Their statements are built
 *	from store_tables[] (store_tables.c) rather than kept in
 *	store_sqlite_sql.c: the column list then exists once, for both
 *	backends, and a column added there is copied without another edit.
 *	They run on the main connection, in the transaction that
 *	sq_copy_begin() opened and sq_copy_end() ends.
 *
 *	A value whose SQLite type does not match its column (SQLite keeps
 *	what it is given; authrelay never writes such a row) stops the dump
 *	with the table, the row's key and the column named, rather than
 *	being copied as something else.
 * DIAGNOSTICS
 *	"database PATH: what: sqlite's message", as the rest of the backend.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store_sqlite.h"

/* The longest statement: INSERT with every column and its '?'. */
#define SQ_COPY_SQL_MAX 1024

int sq_copy_begin(struct store *store, bool write, char **error_r)
{
	struct sq_store *st = sq_store(store);
	int rc;

	sq_lock(st);
	if (write)
		rc = sq_begin(&st->main, error_r);
	else if (sq_run(&st->main, SQ_BEGIN_DEFERRED) != SQLITE_DONE)
		rc = sq_fail(&st->main, error_r, "begin a read transaction");
	else
		rc = 0;
	sq_unlock(st);
	return rc;
}

/* prepare - one statement of this file's, or -1 with *error_r */
static sqlite3_stmt *prepare(struct sq_store *st, const char *sql, char **error_r)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(st->main.db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		sq_fail(&st->main, error_r, sql);
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

/* table_exists - 1 when the schema has t, 0 when not, -1 on error */
static int table_exists(struct sq_store *st, const struct store_table *t, char **error_r)
{
	sqlite3_stmt *stmt = prepare(st, "SELECT count(*) FROM sqlite_master "
				     "WHERE type = 'table' AND name = ?", error_r);
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_text(stmt, 1, t->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) > 0
					      : sq_fail(&st->main, error_r, "look for a table");
	sqlite3_finalize(stmt);
	return rc;
}

enum lookup_result sq_table_count(struct store *store, const struct store_table *t,
					 uint64_t *count_r, char **error_r)
{
	struct sq_store *st = sq_store(store);
	enum lookup_result res = LOOKUP_ERROR;
	char sql[SQ_COPY_SQL_MAX];
	sqlite3_stmt *stmt;
	int exists;

	sq_lock(st);
	if ((exists = table_exists(st, t, error_r)) <= 0) {
		sq_unlock(st);
		return exists == 0 ? LOOKUP_NOT_FOUND : LOOKUP_ERROR;
	}
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", t->name);
	if ((stmt = prepare(st, sql, error_r)) != NULL) {
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			*count_r = (uint64_t)sqlite3_column_int64(stmt, 0);
			res = LOOKUP_FOUND;
		} else {
			sq_fail(&st->main, error_r, "count rows");
		}
		sqlite3_finalize(stmt);
	}
	sq_unlock(st);
	return res;
}

/* column_value - column i of the current row as its table's type says;
   0, or -1 with *error_r naming the row */
static int column_value(struct sq_store *st, sqlite3_stmt *stmt, const struct store_table *t,
			unsigned i, struct store_value *v, char **error_r)
{
	static const int want[] = { [STORE_VALUE_INT] = SQLITE_INTEGER,
				    [STORE_VALUE_TEXT] = SQLITE_TEXT,
				    [STORE_VALUE_BLOB] = SQLITE_BLOB };
	const struct store_column *c = &t->columns[i];
	int type = sqlite3_column_type(stmt, (int)i);

	memset(v, 0, sizeof *v);
	if (type == SQLITE_NULL && c->nullable) {
		v->null = true;
		return 0;
	}
	if (type != want[c->type]) {
		const char *key = (const char *)sqlite3_column_text(stmt, 0);

		return error_r_set(error_r, "database %s: table %s, row %s = %s: column %s holds "
				   "%s, not %s; fix the row with sqlite3, then copy again",
				   st->path, t->name, t->columns[0].name, key ? key : "NULL",
				   c->name, type == SQLITE_NULL ? "NULL" : "another type",
				   c->type == STORE_VALUE_INT ? "an integer" : c->type == STORE_VALUE_TEXT
				   ? "text" : "a blob");
	}
	if (c->type == STORE_VALUE_INT) {
		v->i = sqlite3_column_int64(stmt, (int)i);
	} else {
		v->bytes = c->type == STORE_VALUE_TEXT ? (const char *)sqlite3_column_text(stmt, (int)i)
						       : sqlite3_column_blob(stmt, (int)i);
		v->len = (size_t)sqlite3_column_bytes(stmt, (int)i);
		if (v->bytes == NULL)
			v->bytes = "";
	}
	return 0;
}

int sq_table_dump(struct store *store, const struct store_table *t, store_row_cb *cb,
			 void *ctx, char **error_r)
{
	struct sq_store *st = sq_store(store);
	struct store_value values[STORE_TABLE_COLUMNS_MAX];
	char cols[SQ_COPY_SQL_MAX], sql[SQ_COPY_SQL_MAX * 2];
	size_t used;
	sqlite3_stmt *stmt;
	int rc = 0, step;

	if (store_table_column_list(t, cols, sizeof cols) < 0)
		return error_r_set(error_r, "table %s: column list too long", t->name);
	used = (size_t)snprintf(sql, sizeof sql, "SELECT %s FROM \"%s\" ORDER BY", cols, t->name);
	for (unsigned k = 0; t->order[k] != NULL && used < sizeof sql; k++)
		used += (size_t)snprintf(sql + used, sizeof sql - used, "%s \"%s\"", k ? "," : "",
					 t->order[k]);
	sq_lock(st);
	if ((stmt = prepare(st, sql, error_r)) == NULL) {
		sq_unlock(st);
		return -1;
	}
	while (rc == 0 && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (unsigned i = 0; rc == 0 && i < t->ncolumns; i++)
			rc = column_value(st, stmt, t, i, &values[i], error_r);
		if (rc == 0 && cb(values, ctx) != 0)
			rc = -1;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = sq_fail(&st->main, error_r, "read rows");
	sqlite3_finalize(stmt);
	sq_unlock(st);
	return rc;
}

int sq_table_clear(struct store *store, const struct store_table *t, char **error_r)
{
	struct sq_store *st = sq_store(store);
	char sql[SQ_COPY_SQL_MAX];
	sqlite3_stmt *stmt;
	int rc;

	snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", t->name);
	sq_lock(st);
	if ((stmt = prepare(st, sql, error_r)) == NULL)
		rc = -1;
	else
		rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : sq_fail(&st->main, error_r, sql);
	sqlite3_finalize(stmt);
	sq_unlock(st);
	return rc;
}

/* bind_row - one row's values to the INSERT's parameters */
static void bind_row(sqlite3_stmt *stmt, const struct store_table *t, const struct store_value *v)
{
	for (unsigned i = 0; i < t->ncolumns; i++) {
		int idx = (int)i + 1;

		if (v[i].null)
			sqlite3_bind_null(stmt, idx);
		else if (t->columns[i].type == STORE_VALUE_INT)
			sqlite3_bind_int64(stmt, idx, v[i].i);
		else if (t->columns[i].type == STORE_VALUE_TEXT)
			sqlite3_bind_text(stmt, idx, v[i].bytes, (int)v[i].len, SQLITE_STATIC);
		else
			sqlite3_bind_blob(stmt, idx, v[i].bytes, (int)v[i].len, SQLITE_STATIC);
	}
}

int sq_table_load(struct store *store, const struct store_table *t,
			 const struct store_value *values, size_t nrows, char **error_r)
{
	struct sq_store *st = sq_store(store);
	char cols[SQ_COPY_SQL_MAX], sql[SQ_COPY_SQL_MAX * 2];
	size_t used;
	sqlite3_stmt *stmt;
	int rc = 0;

	if (store_table_column_list(t, cols, sizeof cols) < 0)
		return error_r_set(error_r, "table %s: column list too long", t->name);
	used = (size_t)snprintf(sql, sizeof sql, "INSERT INTO \"%s\" (%s) VALUES (", t->name, cols);
	for (unsigned i = 0; i < t->ncolumns && used < sizeof sql; i++)
		used += (size_t)snprintf(sql + used, sizeof sql - used, "%s?", i ? ", " : "");
	if (used + 2 > sizeof sql)
		return error_r_set(error_r, "table %s: statement too long", t->name);
	memcpy(sql + used, ")", 2);
	sq_lock(st);
	if ((stmt = prepare(st, sql, error_r)) == NULL) {
		sq_unlock(st);
		return -1;
	}
	for (size_t r = 0; r < nrows && rc == 0; r++) {
		bind_row(stmt, t, values + r * t->ncolumns);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			char what[128];

			snprintf(what, sizeof what, "insert into %s", t->name);
			rc = sq_fail(&st->main, error_r, what);
		}
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
	}
	sqlite3_finalize(stmt);
	sq_unlock(st);
	return rc;
}

int sq_copy_end(struct store *store, const struct store_copy_note *note, char **error_r)
{
	struct sq_store *st = sq_store(store);
	int rc = 0;

	sq_lock(st);
	if (note == NULL) {
		sq_rollback(&st->main);
	} else if (sq_admin_row(&st->main, note->actor, note->action, note->subject,
				note->detail, error_r) < 0) {
		sq_rollback(&st->main);
		rc = -1;
	} else {
		/* No sequences to set: an INTEGER PRIMARY KEY continues after
		   the highest id in the table. */
		rc = sq_commit(&st->main, error_r);	/* rolls back on failure */
	}
	sq_unlock(st);
	return rc;
}

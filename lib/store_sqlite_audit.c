/*
 * NAME
 *	store_sqlite_audit 3
 * SUMMARY
 *	SQLite backend: audit reads, prune, admin log, named and admin SQL
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	These serve authrelayctl, not the hot path. store_audit() builds
 *	its statement from the filter, so it is prepared per call. Only ts
 *	is indexed (sql/002): --since bounds the rows read; the other
 *	filters are checked on each of them.
 *	store_prune() deletes in batches (its loop is store.c's), each its
 *	own transaction with the main lock released in between, so lookups
 *	from the daemons' threads and other processes are held up for one
 *	batch at most.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "sql_audit.h"
#include "sql_report.h"
#include "store_sqlite.h"

int sq_audit(struct store *store, const struct store_audit_filter *filter,
	     store_decision_cb *cb, void *ctx, char **error_r)
{
	struct sq_store *st = sq_store(store);
	char sql[512];
	size_t len;
	sqlite3_stmt *stmt;
	int rc, res = 0;

	len = (size_t)snprintf(sql, sizeof sql,
			       "SELECT id, ts, program, client_ip, sasl_username, sender, "
			       "recipient, verdict, rule, reason, queue_id FROM decision_log "
			       "WHERE 1");
	if (filter->since != 0)
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND ts >= ?1");
	if (filter->username != NULL)
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND sasl_username = ?2");
	if (filter->ip != NULL)
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND client_ip = ?3");
	if (filter->verdict != NULL)
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND verdict = ?4");
	len += (size_t)snprintf(sql + len, sizeof sql - len, " ORDER BY id DESC");
	if (filter->limit != 0)
		snprintf(sql + len, sizeof sql - len, " LIMIT ?5");

	sq_lock(st);
	if (sqlite3_prepare_v2(st->main.db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		sq_fail(&st->main, error_r, "audit");
		sq_unlock(st);
		return -1;
	}
	if (filter->since != 0)
		sqlite3_bind_int64(stmt, 1, filter->since);
	sq_bind_text(stmt, 2, filter->username);
	sq_bind_text(stmt, 3, filter->ip);
	sq_bind_text(stmt, 4, filter->verdict);
	if (filter->limit != 0)
		sqlite3_bind_int64(stmt, 5, filter->limit);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_decision_row row;

		row.id = sqlite3_column_int64(stmt, 0);
		row.ts = sqlite3_column_int64(stmt, 1);
		row.program = (const char *)sqlite3_column_text(stmt, 2);
		row.client_ip = (const char *)sqlite3_column_text(stmt, 3);
		row.sasl_username = (const char *)sqlite3_column_text(stmt, 4);
		row.sender = (const char *)sqlite3_column_text(stmt, 5);
		row.recipient = (const char *)sqlite3_column_text(stmt, 6);
		row.verdict = (const char *)sqlite3_column_text(stmt, 7);
		row.rule = (const char *)sqlite3_column_text(stmt, 8);
		row.reason = (const char *)sqlite3_column_text(stmt, 9);
		row.queue_id = (const char *)sqlite3_column_text(stmt, 10);
		if (cb(&row, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		res = sq_fail(&st->main, error_r, "audit");
	sqlite3_finalize(stmt);
	sq_unlock(st);
	return res;
}

/* The statements of each table store_prune() empties, and of its count
   (decisions and grants only: the progress line counts the bulk). */
static const enum sq_stmt_id prune_stmt[STORE_PRUNE_TABLES] = {
	[STORE_PRUNE_DECISIONS] = SQ_PRUNE_DECISIONS,
	[STORE_PRUNE_GRANTS] = SQ_PRUNE_GRANTS,
	[STORE_PRUNE_LIMIT_REFUSALS] = SQ_PRUNE_LIMIT_REFUSALS,
	[STORE_PRUNE_LIMIT_COUNTS] = SQ_PRUNE_LIMIT_COUNTS,
};

/* sq_prune_batch - delete up to batch rows in one transaction; rows
   deleted or -1 */
int sq_prune_batch(struct store *store, enum store_prune_table table, int64_t before,
		   unsigned batch, char **error_r)
{
	struct sq_store *st = sq_store(store);
	enum sq_stmt_id id = prune_stmt[table];
	sqlite3_stmt *stmt;
	int rc, changes;

	sq_lock(st);
	if (sq_begin(&st->main, error_r) < 0) {
		sq_unlock(st);
		return -1;
	}
	if ((stmt = sq_stmt(&st->main, id)) == NULL) {
		sq_fail(&st->main, error_r, "prune");
		goto rollback;
	}
	sqlite3_bind_int64(stmt, 1, before);
	sqlite3_bind_int64(stmt, 2, batch);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		sq_fail(&st->main, error_r, "prune");
		goto rollback;
	}
	changes = sqlite3_changes(st->main.db);
	if (sq_commit(&st->main, error_r) < 0) {
		sq_unlock(st);
		return -1;
	}
	sq_unlock(st);
	return changes;

rollback:
	sq_rollback(&st->main);
	sq_unlock(st);
	return -1;
}

/* sq_prune_count - rows a prune statement will delete; 0 when it cannot
   be counted (the count is only for the progress line) */
uint64_t sq_prune_count(struct store *store, enum store_prune_table table, int64_t before)
{
	struct sq_store *st = sq_store(store);
	sqlite3_stmt *stmt;
	enum sq_stmt_id id;
	uint64_t n = 0;

	if (table == STORE_PRUNE_DECISIONS)
		id = SQ_PRUNE_COUNT_DECISIONS;
	else if (table == STORE_PRUNE_GRANTS)
		id = SQ_PRUNE_COUNT_GRANTS;
	else
		return 0;

	sq_lock(st);
	if ((stmt = sq_stmt(&st->main, id)) != NULL) {
		sqlite3_bind_int64(stmt, 1, before);
		if (sqlite3_step(stmt) == SQLITE_ROW)
			n = (uint64_t)sqlite3_column_int64(stmt, 0);
		sqlite3_reset(stmt);
	}
	sq_unlock(st);
	return n;
}

int sq_admin_log(struct store *store, const char *actor, const char *action,
		 const char *subject, const char *detail, char **error_r)
{
	struct sq_store *st = sq_store(store);

	sq_lock(st);
	if (sq_begin(&st->main, error_r) < 0)
		goto fail;
	if (sq_admin_row(&st->main, actor, action, subject, detail, error_r) < 0) {
		sq_rollback(&st->main);
		goto fail;
	}
	if (sq_commit(&st->main, error_r) < 0)
		goto fail;
	sq_unlock(st);
	return 0;
fail:
	sq_unlock(st);
	return -1;
}

int sq_query(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
	     char **error_r)
{
	struct sq_store *st = sq_store(store);
	const char *names[64], *values[64];
	const char *tail = NULL;
	sqlite3_stmt *stmt;
	int rc, ncols, res = 0;

	sq_lock(st);
	if (sqlite3_prepare_v2(st->main.db, sql, -1, &stmt, &tail) != SQLITE_OK) {
		sq_fail(&st->main, error_r, "query");
		sq_unlock(st);
		return -1;
	}
	if (stmt == NULL) {
		sq_unlock(st);
		return error_r_set(error_r, "query: no SQL statement");
	}
	/* One read-only statement: the audit interface never changes data
	   (and a second statement after ';' would run unchecked). */
	while (tail != NULL && (*tail == ' ' || *tail == '\t' || *tail == '\n' || *tail == '\r'
				|| *tail == ';'))
		tail++;
	if (tail != NULL && *tail != '\0') {
		res = error_r_set(error_r, "query: only one SQL statement is allowed");
		goto done;
	}
	if (!sqlite3_stmt_readonly(stmt)) {
		res = error_r_set(error_r, "query: only read-only SQL is allowed");
		goto done;
	}
	ncols = sqlite3_column_count(stmt);
	if (ncols > 64) {
		res = error_r_set(error_r, "query: more than 64 columns");
		goto done;
	}
	for (int i = 0; i < ncols; i++)
		names[i] = sqlite3_column_name(stmt, i);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (int i = 0; i < ncols; i++)
			values[i] = (const char *)sqlite3_column_text(stmt, i);
		if (cb(ncols, names, values, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		res = sq_fail(&st->main, error_r, "query");
done:
	sqlite3_finalize(stmt);
	sq_unlock(st);
	return res;
}

/* sq_query_text - the named queries in SQLite's SQL */
const char *sq_query_text(enum store_query_set set)
{
	switch (set) {
	case STORE_QUERIES_AUDIT:
		return sql_audit_text;
	case STORE_QUERIES_REPORT:
		return sql_report_text;
	}
	return NULL;
}

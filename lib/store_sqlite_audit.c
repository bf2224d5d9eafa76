/*
 * NAME
 *	store_sqlite_audit 3
 * SUMMARY
 *	SQLite backend: audit reads, prune, admin log, admin SQL
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	These serve authrelayctl, not the hot path. store_audit() builds
 *	its statement from the filter, so it is prepared per call. Only ts
 *	is indexed (sql/002): --since bounds the rows read; the other
 *	filters are checked on each of them.
 *	store_prune() deletes in batches, each its own transaction with the
 *	main lock released in between, so lookups from the daemons' threads
 *	and other processes are held up for one batch at most.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

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

/* prune_one - delete up to batch rows in one transaction; rows deleted
   or -1 */
static int prune_one(struct sq_store *st, enum sq_stmt_id id, int64_t before, unsigned batch,
		     char **error_r)
{
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

/* prune_count - rows a prune statement will delete; 0 when it cannot be
   counted (the count is only for the progress line) */
static uint64_t prune_count(struct sq_store *st, enum sq_stmt_id id, int64_t before)
{
	sqlite3_stmt *stmt;
	uint64_t n = 0;

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

int sq_prune(struct store *store, int64_t before, unsigned batch, const char *actor,
	     uint64_t *deleted_r, char **error_r)
{
	struct sq_store *st = sq_store(store);
	static const enum sq_stmt_id what[] = { SQ_PRUNE_DECISIONS, SQ_PRUNE_GRANTS,
						 SQ_PRUNE_LIMIT_REFUSALS, SQ_PRUNE_LIMIT_COUNTS };
	/* The progress line counts decisions and grants, the bulk of a
	   prune; the limits' rows are few and go last. */
	static const enum sq_stmt_id count_what[] = { SQ_PRUNE_COUNT_DECISIONS,
						      SQ_PRUNE_COUNT_GRANTS };
	uint64_t counts[4] = { 0, 0, 0, 0 }, total = 0;
	char subject[32], detail[160];
	struct tm tm;
	time_t t = (time_t)before;
	int n, res = 0;

	if (batch > 100000)	/* keep each transaction short */
		batch = 100000;
	if (st->progress != NULL) {
		for (int i = 0; i < 2; i++)
			total += prune_count(st, count_what[i], before);
		st->progress(st->progress_ctx, 0, total);
	}
	for (int i = 0; i < 4 && res == 0; i++) {
		do {
			if ((n = prune_one(st, what[i], before, batch, error_r)) < 0) {
				res = -1;
				break;
			}
			counts[i] += (uint64_t)n;
			if (st->progress != NULL)
				st->progress(st->progress_ctx, counts[0] + counts[1], total);
		} while ((unsigned)n == batch);
	}
	*deleted_r = counts[0] + counts[1] + counts[2] + counts[3];
	if (gmtime_r(&t, &tm) == NULL || strftime(subject, sizeof subject, "%Y-%m-%dT%H:%M:%SZ",
						  &tm) == 0)
		snprintf(subject, sizeof subject, "%lld", (long long)before);
	snprintf(detail, sizeof detail, "decisions=%llu grants=%llu", (unsigned long long)counts[0],
		 (unsigned long long)counts[1]);
	if (counts[2] + counts[3] > 0)	/* sending limits (004) */
		snprintf(detail + strlen(detail), sizeof detail - strlen(detail),
			 " limit_refusals=%llu limit_counts=%llu", (unsigned long long)counts[2],
			 (unsigned long long)counts[3]);
	if (res < 0)
		snprintf(detail + strlen(detail), sizeof detail - strlen(detail),
			 " (stopped by an error)");
	/* Logged also after a partial prune: those rows are gone. */
	if (sq_admin_log(store, actor, "prune", subject, detail, res < 0 ? NULL : error_r) < 0)
		res = -1;
	return res;
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

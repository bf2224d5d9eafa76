/*
 * NAME
 *	store_sqlite_limits 3
 * SUMMARY
 *	SQLite backend: limit rows, counters, refusals
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	Counting is atomic across processes: a charge that adds runs in
 *	one BEGIN IMMEDIATE transaction (the database's write lock is
 *	taken before the counters are read), so two daemons, or two
 *	threads of one, can never both read "one left" and both add. A
 *	charge that only asks (RCPT) reads without writing.
 *
 *	The arithmetic is lib/limit_window.h's, applied to each stored
 *	bucket; the time is the database's (SQ_NOW).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "duration.h"
#include "limit_window.h"
#include "store_sqlite.h"

/* sq_limit_now - the database's clock: for SQLite, this host's. SQL's
   'now' in an embedded database is the calling process's own time(), so
   asking the database would only cost a statement. (A server backend
   asks its server: that is the clock several hosts share.) */
static int sq_limit_now(struct sq_conn *conn, int64_t *now_r, char **error_r)
{
	(void)conn;
	(void)error_r;
	*now_r = (int64_t)time(NULL);
	return 0;
}

enum lookup_result sq_limit_rules_get(struct store *store, const char *user, const char *domain,
				      char spec_r[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX])
{
	struct sq_store *st = sq_store(store);
	enum lookup_result res = LOOKUP_NOT_FOUND;
	sqlite3_stmt *stmt;
	int rc;

	for (int k = 0; k < STORE_LIMIT_KINDS; k++)
		spec_r[0][k][0] = spec_r[1][k][0] = '\0';
	sq_lock(st);
	if (sq_lookup_moved(st) || (stmt = sq_stmt(&st->main, SQ_LIMIT_RULE_GET)) == NULL) {
		res = sq_lookup_failed(st, "limit lookup");
		sq_unlock(st);
		return res;
	}
	sq_bind_text(stmt, 1, user);
	sq_bind_text(stmt, 2, domain);	/* NULL matches nothing */
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const unsigned char *subject = sqlite3_column_text(stmt, 0);
		int k = store_limit_kind_of((const char *)sqlite3_column_text(stmt, 1));
		int which = subject != NULL && strcmp((const char *)subject, user) == 0 ? 0 : 1;

		if (k < 0)
			continue;
		sq_column_copy(stmt, 2, spec_r[which][k], LIMIT_SPEC_TEXT_MAX);
		res = LOOKUP_FOUND;
	}
	if (rc != SQLITE_DONE)
		res = sq_lookup_failed(st, "limit lookup");
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

/* What limit_set and limit_clear write. */
struct sq_limit_change {
	const char *subject, *kind, *spec, *actor;
};

/* sq_limit_set_row - the limit_rules row and its admin_log row */
static int sq_limit_set_row(struct sq_conn *conn, void *ctx, char **error_r)
{
	const struct sq_limit_change *l = ctx;
	sqlite3_stmt *stmt = sq_stmt(conn, SQ_LIMIT_RULE_SET);
	char detail[LIMIT_SPEC_TEXT_MAX + 32];

	if (stmt == NULL)
		return sq_fail(conn, error_r, "set limit");
	sq_bind_text(stmt, 1, l->subject);
	sq_bind_text(stmt, 2, l->kind);
	sq_bind_text(stmt, 3, l->spec);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)time(NULL));
	if (sq_step_done(conn, stmt, "set limit", error_r) < 0)
		return -1;
	snprintf(detail, sizeof detail, "%s %s", l->kind, l->spec);
	return sq_admin_row(conn, l->actor, "limit set", l->subject, detail, error_r);
}

int sq_limit_set(struct store *store, const char *subject, const char *kind, const char *spec,
		 const char *actor, char **error_r)
{
	struct sq_limit_change l = {subject, kind, spec, actor};

	return sq_transact(sq_store(store), sq_limit_set_row, &l, error_r);
}

/* sq_limit_clear_rows - delete a subject's rows; none is an error */
static int sq_limit_clear_rows(struct sq_conn *conn, void *ctx, char **error_r)
{
	const struct sq_limit_change *l = ctx;
	sqlite3_stmt *stmt = sq_stmt(conn, SQ_LIMIT_RULE_CLEAR);

	if (stmt == NULL)
		return sq_fail(conn, error_r, "clear limit");
	sq_bind_text(stmt, 1, l->subject);
	if (sq_step_done(conn, stmt, "clear limit", error_r) < 0)
		return -1;
	if (sqlite3_changes(conn->db) == 0)
		return error_r_set(error_r, "%s has no limit in the database", l->subject);
	return sq_admin_row(conn, l->actor, "limit clear", l->subject, "", error_r);
}

int sq_limit_clear(struct store *store, const char *subject, const char *actor, char **error_r)
{
	struct sq_limit_change l = {subject, NULL, NULL, actor};

	return sq_transact(sq_store(store), sq_limit_clear_rows, &l, error_r);
}

/* The caller's callback for sq_limit_list(). */
struct sq_limit_list {
	store_limit_rule_cb *cb;
	void *ctx;
};

/* sq_limit_row - one SQ_LIMIT_RULE_LIST row to the callback */
static int sq_limit_row(sqlite3_stmt *stmt, void *ctx)
{
	const struct sq_limit_list *l = ctx;
	char subject[STORE_USER_MAX], kind[16], spec[LIMIT_SPEC_TEXT_MAX];

	sq_column_copy(stmt, 0, subject, sizeof subject);
	sq_column_copy(stmt, 1, kind, sizeof kind);
	sq_column_copy(stmt, 2, spec, sizeof spec);
	return l->cb(subject, kind, spec, sqlite3_column_int64(stmt, 3), l->ctx);
}

int sq_limit_list(struct store *store, store_limit_rule_cb *cb, void *ctx, char **error_r)
{
	struct sq_limit_list l = {cb, ctx};

	return sq_list(sq_store(store), SQ_LIMIT_RULE_LIST, "list limits", NULL, sq_limit_row,
		       &l, error_r);
}

/* tally_row - count one counter row into state */
static void tally_row(const struct store_limit_charge *c, const struct sq_count_row *r,
		      struct store_limit_state *state,
		      bool stale_r[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX])
{
	struct limit_bucket b = {r->bucket, r->count};

	store_limit_tally(c, r->kind, r->window, &b, state, stale_r);
}

/* sq_limit_used - what each limited window of c holds at now: from the
   rows kept in memory (st not NULL, store_sqlite_counts.c), else read,
   and kept when read in a transaction of its own or in the write one */
static int sq_limit_used(struct sq_store *st, struct sq_conn *conn,
			 const struct store_limit_charge *c, struct store_limit_state *state,
			 bool stale_r[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX], char **error_r)
{
	const struct sq_count_row *kept;
	struct sq_count_row rows[SQ_COUNTS_ROWS];
	unsigned n = 0;
	uint32_t label = 0;
	bool keep;
	sqlite3_stmt *stmt;
	int rc;

	if (st != NULL && sq_counts_get(st, c->subject, &kept, &n, &label)) {
		for (unsigned i = 0; i < n; i++)
			tally_row(c, &kept[i], state, stale_r);
		return 0;
	}
	keep = st != NULL && sqlite3_txn_state(conn->db, "main") != SQLITE_TXN_READ;
	n = 0;
	/* The transaction's own additions first: the read includes them. */
	if (sq_pending_write(conn, error_r) < 0)
		return -1;
	if ((stmt = sq_stmt(conn, SQ_LIMIT_COUNTS_GET)) == NULL)
		return sq_fail(conn, error_r, "read limit counters");
	sq_bind_text(stmt, 1, c->subject);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct sq_count_row r = {
			store_limit_kind_of((const char *)sqlite3_column_text(stmt, 0)),
			sqlite3_column_int64(stmt, 1), sqlite3_column_int64(stmt, 2),
			(uint64_t)sqlite3_column_int64(stmt, 3)};

		tally_row(c, &r, state, stale_r);
		if (n < SQ_COUNTS_ROWS)
			rows[n++] = r;
		else
			keep = false;
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(conn, error_r, "read limit counters");
	if (keep)
		sq_counts_put(st, c->subject, rows, n, label);
	return 0;
}

/* sq_limit_add - add to the current bucket of each window (written
   before the transaction commits), drop the buckets seen stale */
static int sq_limit_add(struct sq_store *st, struct sq_conn *conn,
			const struct store_limit_charge *c, int64_t now,
			bool stale[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX], char **error_r)
{
	/* The current bucket of each limited window, what it gets, and
	   the window's limit: one row each, SQ_LIMIT_ADD_ROWS at most (a
	   row per window of both kinds). */
	struct sq_count_row row[SQ_LIMIT_ADD_ROWS];
	uint32_t max[SQ_LIMIT_ADD_ROWS];
	unsigned n = 0;
	sqlite3_stmt *stmt;

	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		const struct limit_spec *spec = c->spec[k];

		if (spec == NULL || !limit_spec_is_active(spec) || c->add[k] == 0)
			continue;
		for (unsigned w = 0; w < spec->count; w++, n++) {
			int64_t window = spec->windows[w].seconds;

			row[n] = (struct sq_count_row){k, window, limit_bucket_start(now, window),
						       c->add[k]};
			max[n] = spec->windows[w].max;
		}
	}
	if (n == 0)
		return 0;
	/* Written before the transaction commits (store_sqlite_pending.c),
	   with the other additions of the batch. */
	if (sq_pending_add(conn, c->subject, row, max, n, error_r) < 0)
		return -1;
	for (unsigned i = 0; st != NULL && i < n; i++)
		sq_counts_add(st, c->subject, row[i].kind, row[i].window, row[i].bucket,
			      row[i].count);
	/* Only where a bucket has slid out: most additions land in a
	   bucket that exists. */
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		for (unsigned w = 0; c->spec[k] != NULL && w < c->spec[k]->count; w++) {
			int64_t window = c->spec[k]->windows[w].seconds, oldest;

			if (!stale[k][w] || c->add[k] == 0)
				continue;
			oldest = limit_window_oldest(now, window);
			if (sq_pending_write(conn, error_r) < 0)
				return -1;
			if ((stmt = sq_stmt(conn, SQ_LIMIT_COUNTS_EXPIRE)) == NULL)
				return sq_fail(conn, error_r, "expire limit counters");
			sq_bind_text(stmt, 1, c->subject);
			sq_bind_text(stmt, 2, store_limit_kind_name(k));
			sqlite3_bind_int64(stmt, 3, window);
			sqlite3_bind_int64(stmt, 4, oldest);
			if (sq_step_done(conn, stmt, "expire limit counters", error_r) < 0)
				return -1;
			if (st != NULL)
				sq_counts_expire(st, c->subject, k, window, oldest);
		}
	}
	return 0;
}

/* sq_limit_check - read, judge, and add when within; the caller owns
   conn; st: the counters kept in memory may be used (main, the lock
   held, in a transaction of its own, the batch's write one, or a read
   snapshot), or NULL */
static int sq_limit_check(struct sq_store *st, struct sq_conn *conn,
			  const struct store_limit_charge *c, struct store_limit_state *state,
			  char **error_r)
{
	bool stale[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX];

	memset(stale, 0, sizeof stale);
	if (sq_limit_now(conn, &state->now, error_r) < 0 ||
	    sq_limit_used(st, conn, c, state, stale, error_r) < 0)
		return -1;
	if (store_limit_judge(c, state))
		return 0;
	return c->commit ? sq_limit_add(st, conn, c, state->now, stale, error_r) : 0;
}

/* sq_limit_charge_tx - sq_limit_check as an sq_transact() change */
static int sq_limit_charge_tx(struct sq_conn *conn, void *ctx, char **error_r)
{
	void **args = ctx;

	return sq_limit_check(NULL, conn, args[0], args[1], error_r);
}

/* sq_limit_batch_abort - roll the batch's write transaction back: its
   counts go, in the database and in memory, and the turn is given back */
static void sq_limit_batch_abort(struct sq_store *st)
{
	sq_rollback(&st->main);
	sq_counts_drop(st);	/* the batch's counts were applied there */
	if (st->main_turn) {
		st->main_turn = false;
		sq_turn_give(st, false);
	}
}

/* sq_limit_charge_batch - a charge that adds, inside the caller's read
   snapshot (policyd's event batch): the snapshot becomes the batch's one
   write transaction, committed by store_read_end(), whose -1 tells the
   caller that the counts of the charges it marked batched were lost.
   The write lock is taken (BEGIN IMMEDIATE) before the first counters
   are read and held to the end of the batch, so the check-and-add of
   every charge stays atomic against other processes; the batch's
   charges share one commit instead of paying one each. A charge that
   fails rolls the batch's transaction back. The caller holds the lock. */
static int sq_limit_charge_batch(struct sq_store *st, const struct store_limit_charge *c,
				 struct store_limit_state *state, char **error_r)
{
	struct sq_conn *conn = &st->main;
	int res;

	/* SQLite may have ended the batch's transaction after an error:
	   its counts are lost (store_read_end() says so) and were applied
	   to those in memory. */
	if (sq_pending_ended(conn))
		sq_counts_drop(st);
	/* Once counts of this batch are lost, its answers held for them
	   all turn into store errors (store_read_end() cannot tell one
	   from another): count nothing more in it, so that no message is
	   both counted and refused. */
	if (sq_pending_were_lost(conn))
		return error_r_set(error_r, "database %s: this batch's limit counts were rolled "
				   "back; counting again from the next batch", st->path);
	if (sqlite3_txn_state(conn->db, "main") != SQLITE_TXN_WRITE) {
		/* Ends the read snapshot (it only read), then takes the
		   write lock, waiting up to the busy timeout. */
		if (sq_moved(st))
			return error_r_set(error_r, "database %s was removed or replaced while open",
					   st->path);
		/* The decision writer's batch goes first; the turn is given
		   back by sq_read_end() (store_sqlite_turn.c). */
		if (!st->main_turn) {
			sq_turn_take(st, false);
			st->main_turn = true;
		}
		if (sq_begin(conn, error_r) < 0) {
			res = -1;
			goto out;
		}
		sq_turn_began(st, conn);
	}
	res = sq_limit_check(st, conn, c, state, error_r);
	/* Added: it holds when the batch commits (store_read_end()). */
	state->batched = res == 0 && state->crossed_kind < 0;
out:
	/* A failed charge may have added part of its rows: the batch's
	   transaction goes (the earlier charges of the batch with it; a
	   store error loses counts, never adds wrong ones). */
	if (res != 0)
		sq_limit_batch_abort(st);
	return res;
}

int sq_limit_charge(struct store *store, const struct store_limit_charge *c,
		    struct store_limit_state *state_r, char **error_r)
{
	struct sq_store *st = sq_store(store);
	int res;

	sq_lock(st);
	if (c->commit && st->snapshot) {
		res = sq_limit_charge_batch(st, c, state_r, error_r);
	} else if (c->commit) {
		void *args[2] = {(void *)c, state_r};

		sq_unlock(st);
		res = sq_transact(st, sq_limit_charge_tx, args, error_r);
		sq_lock(st);
	} else if (sq_lookup_moved(st)) {
		res = error_r_set(error_r, "database %s was removed or replaced while open",
				  st->path);
	} else {
		/* Only asking: reads, in the caller's snapshot when one is
		   open; a charge at DATA decides for good. */
		sq_snapshot_join(st);
		res = sq_limit_check(st, &st->main, c, state_r, error_r);
		/* Inside the batch's write transaction, the read may have
		   failed writing the batch's additions before it. */
		if (res != 0 && st->main_turn)
			sq_limit_batch_abort(st);
	}
	sq_unlock(st);
	return res;
}

/* What sq_limit_refused_tx works on. */
struct sq_limit_refusal {
	const struct store_limit_refusal *r;
	unsigned refusals;
	bool suspended, notify;
};

/* sq_limit_refused_tx - count, record, maybe suspend, in one transaction */
static int sq_limit_refused_tx(struct sq_conn *conn, void *ctx, char **error_r)
{
	struct sq_limit_refusal *x = ctx;
	const struct store_limit_refusal *r = x->r;
	sqlite3_stmt *stmt;
	int64_t now;
	bool notified_before = false;
	int rc;

	if (sq_limit_now(conn, &now, error_r) < 0)
		return -1;
	if ((stmt = sq_stmt(conn, SQ_LIMIT_REFUSALS_RECENT)) == NULL)
		return sq_fail(conn, error_r, "count limit refusals");
	sq_bind_text(stmt, 1, r->subject);
	sqlite3_bind_int64(stmt, 2, now - r->suspend_window);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		x->refusals = (unsigned)sqlite3_column_int64(stmt, 0) + 1;
		notified_before = sqlite3_column_int(stmt, 1) != 0;
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW)
		return sq_fail(conn, error_r, "count limit refusals");
	x->notify = r->notify_wanted && !notified_before;
	if ((stmt = sq_stmt(conn, SQ_LIMIT_REFUSAL_ADD)) == NULL)
		return sq_fail(conn, error_r, "record limit refusal");
	sqlite3_bind_int64(stmt, 1, now);
	sq_bind_text(stmt, 2, r->subject);
	sq_bind_text(stmt, 3, store_limit_kind_name(r->kind));
	sqlite3_bind_int64(stmt, 4, r->window);
	sqlite3_bind_int(stmt, 5, x->notify ? 1 : 0);
	if (sq_step_done(conn, stmt, "record limit refusal", error_r) < 0)
		return -1;
	if (r->suspend_after == 0 || x->refusals < r->suspend_after)
		return 0;
	if ((stmt = sq_stmt(conn, SQ_USER_SUSPENDED)) == NULL)
		return sq_fail(conn, error_r, "user lookup");
	sq_bind_text(stmt, 1, r->subject);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_int(stmt, 0) != 0) {
		sqlite3_reset(stmt);
		return 0;	/* already suspended (by us or an admin) */
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_fail(conn, error_r, "user lookup");
	if ((stmt = sq_stmt(conn, SQ_USER_SET)) == NULL)
		return sq_fail(conn, error_r, "suspend user");
	sq_bind_text(stmt, 1, r->subject);
	sqlite3_bind_int(stmt, 2, 1);
	sqlite3_bind_int64(stmt, 3, now);
	if (sq_step_done(conn, stmt, "suspend user", error_r) < 0)
		return -1;
	{
		char detail[160];
		char d[64];

		snprintf(detail, sizeof detail,
			 "limit_suspend_after = %u: %u attempts refused by a sending limit "
			 "within %s",
			 r->suspend_after, x->refusals, duration_format(r->suspend_window, d, sizeof d));
		if (sq_admin_row(conn, r->actor, "user suspend", r->subject, detail, error_r) < 0)
			return -1;
	}
	x->suspended = true;
	return 0;
}

int sq_limit_refused(struct store *store, const struct store_limit_refusal *r,
		     unsigned *refusals_r, bool *suspended_r, bool *notify_r, char **error_r)
{
	struct sq_limit_refusal x = {r, 0, false, false};

	if (sq_transact(sq_store(store), sq_limit_refused_tx, &x, error_r) < 0)
		return -1;
	*refusals_r = x.refusals;
	*suspended_r = x.suspended;
	*notify_r = x.notify;
	return 0;
}

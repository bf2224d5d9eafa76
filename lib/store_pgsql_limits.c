/*
 * NAME
 *	store_pgsql_limits 3
 * SUMMARY
 *	PostgreSQL backend: limit rows, counters, refusals
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	The rules (limit_rules) are in the daemons' memory like grants and
 *	users (store_pgsql_view.c, reloaded on NOTIFY): finding a user's
 *	limits costs no round trip. The counters are not: every charge and
 *	every refusal asks the database, so that several MX hosts share
 *	them, timed by the server's clock (now()).
 *
 *	Atomic across hosts: a charge that adds runs in one transaction
 *	that first takes a transaction-scoped advisory lock on the subject
 *	(pg_advisory_xact_lock(PG_LIMIT_LOCK, hashtext(subject))), then
 *	reads the counters in a statement of its own (READ COMMITTED: a new
 *	snapshot, taken after the lock, so it sees every charge committed
 *	before), judges in C (limit_window.h, through store_limits.c), and
 *	adds and commits. Two charges of one subject, from any hosts, thus
 *	never both read "one left". That is two round trips: BEGIN, the
 *	lock and the read go in one message, the additions and the COMMIT
 *	in another. A charge that only asks (RCPT) is one SELECT without a
 *	lock. A refusal is two round trips (three when it suspends), under
 *	the same lock, so that one notification goes out per user and
 *	window whichever host refuses.
 *
 *	Bounded: charges and refusals use a connection of their own (the
 *	limit connection, under st->limit_lock), non-blocking, with one
 *	deadline of PG_LIMIT_TIMEOUT_MS for the whole transaction, connect
 *	included; the server is told the same (statement_timeout) and gives
 *	up waiting for the lock at PG_LIMIT_LOCK_TIMEOUT. Past the deadline,
 *	or on any failure, the connection is dropped (the server rolls back
 *	what it had) and the caller gets -1: the enforcers answer
 *	on_store_error, never a permit. When the deadline passes after
 *	COMMIT was sent, the server may have added the counts: the message
 *	is refused (temporarily) and counted all the same, an error on the
 *	side of refusing. After a failed connect, or while the view thread
 *	knows the server is away, charges fail at once for
 *	PG_LIMIT_RETRY_MS, so that a dead server does not hold every
 *	limited request for a deadline.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "duration.h"
#include "limit_window.h"
#include "store_pgsql.h"

/* The advisory lock class of the counters: "ARLY" as the schema lock,
   in the two-key space (which never meets the one-key one). */
#define PG_LIMIT_LOCK "1095912537"
/* How long a charge waits for another host's charge of the same
   subject (two round trips of the other host, normally well under a
   millisecond). */
#define PG_LIMIT_LOCK_TIMEOUT "'500ms'"

/* ---- rules: written through the admin connection, read from memory ---- */

/* What limit_set and limit_clear write. */
struct limit_change {
	const char *subject, *kind, *spec, *actor;
};

static int limit_set_row(struct pg_store *st, void *ctx, char **error_r)
{
	const struct limit_change *l = ctx;
	char now[24], detail[LIMIT_SPEC_TEXT_MAX + 32];
	const char *p[4] = { l->subject, l->kind, l->spec, now };
	PGresult *res;

	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	res = pg_exec(st, "set limit",
		      "INSERT INTO limit_rules (subject, kind, spec, changed) "
		      "VALUES ($1, $2, $3, $4) ON CONFLICT (subject, kind) DO UPDATE "
		      "SET spec = excluded.spec, changed = excluded.changed",
		      4, p, error_r);
	if (res == NULL)
		return -1;
	PQclear(res);
	snprintf(detail, sizeof detail, "%s %s", l->kind, l->spec);
	return pg_admin_row(st, l->actor, "limit set", l->subject, detail, error_r);
}

int pg_limit_set(struct store *store, const char *subject, const char *kind, const char *spec,
		 const char *actor, char **error_r)
{
	struct limit_change l = { subject, kind, spec, actor };

	return pg_transact(pg_store(store), limit_set_row, &l, PG_T_LIMITS, error_r);
}

static int limit_clear_rows(struct pg_store *st, void *ctx, char **error_r)
{
	const struct limit_change *l = ctx;
	const char *p[1] = { l->subject };
	PGresult *res = pg_exec(st, "clear limit", "DELETE FROM limit_rules WHERE subject = $1",
				1, p, error_r);
	int n;

	if (res == NULL)
		return -1;
	n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n == 0)
		return error_r_set(error_r, "%s has no limit in the database", l->subject);
	return pg_admin_row(st, l->actor, "limit clear", l->subject, "", error_r);
}

int pg_limit_clear(struct store *store, const char *subject, const char *actor, char **error_r)
{
	struct limit_change l = { subject, NULL, NULL, actor };

	return pg_transact(pg_store(store), limit_clear_rows, &l, PG_T_LIMITS, error_r);
}

/* The caller's callback for pg_limit_list(). */
struct limit_list {
	store_limit_rule_cb *cb;
	void *ctx;
};

static int limit_row(PGresult *res, int row, void *ctx)
{
	const struct limit_list *l = ctx;

	return l->cb(PQgetvalue(res, row, 0), PQgetvalue(res, row, 1), PQgetvalue(res, row, 2),
		     strtoll(PQgetvalue(res, row, 3), NULL, 10), l->ctx);
}

int pg_limit_list(struct store *store, store_limit_rule_cb *cb, void *ctx, char **error_r)
{
	struct limit_list l = { cb, ctx };

	return pg_rows(pg_store(store), "list limits",
		       "SELECT subject, kind, spec, changed FROM limit_rules "
		       "ORDER BY subject COLLATE \"C\", kind COLLATE \"C\"",
		       0, NULL, limit_row, &l, error_r);
}

/* ---- the limit connection ---- */

/* limit_drop - forget the connection (the server rolls back what it had) */
static void limit_drop(struct pg_store *st, bool retry_later)
{
	PQfinish(st->limit);
	st->limit = NULL;
	if (retry_later)
		st->limit_retry_ms = pg_now_ms() + PG_LIMIT_RETRY_MS;
}

/* limit_conn - the limit connection, idle and ready, (re)opened within
   the deadline when needed; limit_lock held. NULL with *error_r. */
static PGconn *limit_conn(struct pg_store *st, long long deadline, char **error_r)
{
	bool away;
	char set[200];
	PGconn *conn;
	PGresult *res;

	if (st->limit != NULL && PQstatus(st->limit) == CONNECTION_OK
	    && PQtransactionStatus(st->limit) == PQTRANS_IDLE)
		return st->limit;
	limit_drop(st, false);
	pthread_mutex_lock(&st->lock);
	/* The view thread of a daemon knows when the server is away. */
	away = st->thread_started && st->ever_loaded && !st->loaded;
	pthread_mutex_unlock(&st->lock);
	if (away)
		return error_r_set(error_r, "the connection to PostgreSQL is lost"), NULL;
	if (pg_now_ms() < st->limit_retry_ms)
		return error_r_set(error_r, "PostgreSQL did not answer the last attempt; "
				   "trying again within %d ms", PG_LIMIT_RETRY_MS), NULL;
	if ((conn = pg_connect_nb(st, deadline - pg_now_ms(), error_r)) == NULL) {
		st->limit_retry_ms = pg_now_ms() + PG_LIMIT_RETRY_MS;
		return NULL;
	}
	/* The server gives up when we would: statement_timeout. A charge's
	   COMMIT does not wait for the server's disk (synchronous_commit):
	   a crash of the server may forget the counts of its last fraction
	   of a second, as SQLite's batched charges may forget a batch, and a
	   DATA request does not wait for an fsync. Refusals (a suspension)
	   wait for it. */
	snprintf(set, sizeof set, "SET TIME ZONE 'UTC'; SET lock_timeout = %s; "
		 "SET statement_timeout = %d; SET synchronous_commit = off",
		 PG_LIMIT_LOCK_TIMEOUT, PG_LIMIT_TIMEOUT_MS);
	res = pg_nb_exec(conn, set, -1, NULL, deadline - pg_now_ms(), error_r);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (res != NULL)
			error_r_set(error_r, "%.*s", (int)strcspn(PQresultErrorMessage(res), "\n"),
				    PQresultErrorMessage(res));
		PQclear(res);
		PQfinish(conn);
		st->limit_retry_ms = pg_now_ms() + PG_LIMIT_RETRY_MS;
		return NULL;
	}
	PQclear(res);
	st->limit = conn;
	return conn;
}

/* limit_exec - sql on the limit connection within the deadline (n < 0:
   several statements, no parameters). The result when it succeeded
   (caller clears); else NULL with *error_r, and the connection dropped
   (a transaction it had open goes with it). */
static PGresult *limit_exec(struct pg_store *st, const char *what, const char *sql, int n,
			    const char *const *p, long long deadline, char **error_r)
{
	PGresult *res;
	char *error = NULL;
	long long left = deadline - pg_now_ms();

	if (left <= 0) {
		limit_drop(st, false);
		return error_r_set(error_r, "%s: no answer within %d ms", what,
				   PG_LIMIT_TIMEOUT_MS), NULL;
	}
	res = pg_nb_exec(st->limit, sql, n, p, left, &error);
	if (res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK
			    || PQresultStatus(res) == PGRES_TUPLES_OK)) {
		free(error);
		return res;
	}
	if (res != NULL) {
		const char *msg = PQresultErrorMessage(res);

		error_r_set(error_r, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
	} else {
		error_r_set(error_r, "%s: %s", what, error != NULL ? error : "connection failed");
	}
	free(error);
	PQclear(res);
	/* A broken connection is worth a pause; a statement that failed
	   (a lock not granted in time) is not. */
	limit_drop(st, res == NULL);
	return NULL;
}

/* literal - text as an SQL literal (PQescapeLiteral), into buf */
static int literal(PGconn *conn, const char *text, char *buf, size_t size, char **error_r)
{
	char *lit = PQescapeLiteral(conn, text, strlen(text));
	int n;

	if (lit == NULL)
		return error_r_set(error_r, "cannot quote \"%s\"", text);
	n = snprintf(buf, size, "%s", lit);
	PQfreemem(lit);
	if (n < 0 || (size_t)n >= size)
		return error_r_set(error_r, "\"%s\" is too long", text);
	return 0;
}

/* Quoted subjects are at most 2 * STORE_USER_MAX + 4 bytes (every
   character doubled, E'' and quotes). */
#define LIT_MAX (2 * STORE_USER_MAX + 8)

/* limit_lock_sql - BEGIN, the subject's lock, and then query, as one
   message: query runs after the lock is granted, in its own snapshot */
static void limit_lock_sql(char *sql, size_t size, const char *lit, const char *query)
{
	snprintf(sql, size, "BEGIN; SELECT pg_advisory_xact_lock(" PG_LIMIT_LOCK ", hashtext(%s)); %s",
		 lit, query);
}

/* The database's clock, in Unix seconds (as limit_window.h counts). */
#define PG_LIMIT_NOW "floor(extract(epoch FROM now()))::bigint"

/* ---- charges ---- */

/* counts_read - now and every counter row of c->subject, from res
   (now, kind, window_seconds, bucket, count; kind NULL: no rows); -1
   when res is not that */
static int counts_read(const struct store_limit_charge *c, PGresult *res,
		       struct store_limit_state *state,
		       bool stale[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX], char **error_r)
{
	if (PQntuples(res) < 1 || PQnfields(res) != 5)
		return error_r_set(error_r, "read limit counters: unexpected answer");
	state->now = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	for (int i = 0; i < PQntuples(res); i++) {
		struct limit_bucket b;

		if (PQgetisnull(res, i, 1))
			continue;
		b.bucket = strtoll(PQgetvalue(res, i, 3), NULL, 10);
		b.count = strtoull(PQgetvalue(res, i, 4), NULL, 10);
		store_limit_tally(c, store_limit_kind_of(PQgetvalue(res, i, 1)),
				  strtoll(PQgetvalue(res, i, 2), NULL, 10), &b, state, stale);
	}
	return 0;
}

/* add_sql - the additions to the current bucket of each window, the
   expiry of the buckets seen stale, and COMMIT, as one message; -1 when
   it does not fit */
static int add_sql(const struct store_limit_charge *c, const char *lit, int64_t now,
		   bool stale[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX], char *sql, size_t size)
{
	size_t len = 0;
	int rows = 0, n;

	n = snprintf(sql, size, "INSERT INTO limit_counts (subject, kind, window_seconds, bucket, "
				"count, max) VALUES ");
	len = (size_t)n;
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		const struct limit_spec *spec = c->spec[k];

		if (spec == NULL || !limit_spec_is_active(spec) || c->add[k] == 0)
			continue;
		for (unsigned w = 0; w < spec->count && len < size; w++, rows++) {
			int64_t window = spec->windows[w].seconds;

			n = snprintf(sql + len, size - len, "%s(%s, '%s', %lld, %lld, %llu, %llu)",
				     rows ? ", " : "", lit, store_limit_kind_name(k),
				     (long long)window, (long long)limit_bucket_start(now, window),
				     (unsigned long long)c->add[k],
				     (unsigned long long)spec->windows[w].max);
			len += (size_t)n;
		}
	}
	if (rows == 0)
		len = 0;	/* nothing to add: only COMMIT */
	else if (len < size)
		len += (size_t)snprintf(sql + len, size - len,
					" ON CONFLICT (subject, kind, window_seconds, bucket) DO "
					"UPDATE SET count = limit_counts.count + excluded.count, "
					"max = excluded.max; ");
	/* Only where a bucket has slid out: most additions land in one
	   that exists. */
	for (int k = 0; rows > 0 && k < STORE_LIMIT_KINDS; k++) {
		for (unsigned w = 0; c->spec[k] != NULL && w < c->spec[k]->count && len < size;
		     w++) {
			int64_t window = c->spec[k]->windows[w].seconds;

			if (!stale[k][w] || c->add[k] == 0)
				continue;
			len += (size_t)snprintf(sql + len, size - len,
						"DELETE FROM limit_counts WHERE subject = %s AND "
						"kind = '%s' AND window_seconds = %lld AND "
						"bucket < %lld; ",
						lit, store_limit_kind_name(k), (long long)window,
						(long long)limit_window_oldest(now, window));
		}
	}
	if (len < size)
		len += (size_t)snprintf(sql + len, size - len, "COMMIT");
	return len < size ? 0 : -1;
}

/* charge - the charge's round trips; limit_lock held */
static int charge(struct pg_store *st, const struct store_limit_charge *c,
		  struct store_limit_state *state, char **error_r)
{
	static const char counts[] =
		"SELECT n.t, c.kind, c.window_seconds, c.bucket, c.count "
		"FROM (SELECT " PG_LIMIT_NOW " AS t) n LEFT JOIN limit_counts c ON c.subject = ";
	long long deadline = pg_now_ms() + PG_LIMIT_TIMEOUT_MS;
	bool stale[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX];
	/* sql: up to STORE_LIMIT_KINDS * LIMIT_WINDOWS_MAX rows and as many
	   expiries, each with the quoted subject */
	char lit[LIT_MAX], query[sizeof counts + LIT_MAX], sql[16384];
	PGconn *conn;
	PGresult *res;
	int rc;

	memset(stale, 0, sizeof stale);
	if ((conn = limit_conn(st, deadline, error_r)) == NULL)
		return -1;
	if (!c->commit) {
		/* Only asking (RCPT): one statement, one snapshot, no lock;
		   the charge at DATA decides for good. */
		const char *p[1] = { c->subject };

		snprintf(query, sizeof query, "%s$1", counts);
		if ((res = limit_exec(st, "read limit counters", query, 1, p, deadline,
				      error_r)) == NULL)
			return -1;
		rc = counts_read(c, res, state, stale, error_r);
		PQclear(res);
		if (rc == 0)
			store_limit_judge(c, state);
		return rc;
	}
	if (literal(conn, c->subject, lit, sizeof lit, error_r) < 0)
		return -1;
	snprintf(query, sizeof query, "%s%s", counts, lit);
	limit_lock_sql(sql, sizeof sql, lit, query);
	if ((res = limit_exec(st, "read limit counters", sql, -1, NULL, deadline, error_r)) == NULL)
		return -1;
	rc = counts_read(c, res, state, stale, error_r);
	PQclear(res);
	if (rc < 0) {
		limit_drop(st, false);	/* and its transaction */
		return -1;
	}
	if (store_limit_judge(c, state)) {
		/* Crossed: nothing added; the lock goes with the transaction. */
		snprintf(sql, sizeof sql, "ROLLBACK");
	} else if (add_sql(c, lit, state->now, stale, sql, sizeof sql) < 0) {
		limit_drop(st, false);
		return error_r_set(error_r, "add to limit counters: statement too long");
	}
	if ((res = limit_exec(st, "add to limit counters", sql, -1, NULL, deadline, error_r))
	    == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int pg_limit_charge(struct store *store, const struct store_limit_charge *c,
		    struct store_limit_state *state_r, char **error_r)
{
	struct pg_store *st = pg_store(store);
	int res;

	pthread_mutex_lock(&st->limit_lock);
	res = charge(st, c, state_r, error_r);
	pthread_mutex_unlock(&st->limit_lock);
	return res;
}

/* ---- refusals ---- */

/* What refused() works on. */
struct limit_refusal {
	const struct store_limit_refusal *r;
	unsigned refusals;
	bool suspended, notify;
};

/* suspend_sql - the user's suspension (unless already suspended, by us
   or an admin) and its admin_log row, in one statement that returns a
   row when it suspended */
static int suspend_sql(PGconn *conn, const struct limit_refusal *x, const char *lit,
		       const char *now, char *sql, size_t size, char **error_r)
{
	const struct store_limit_refusal *r = x->r;
	char detail[160], d[64], dlit[2 * sizeof detail + 8], alit[LIT_MAX];
	int n;

	snprintf(detail, sizeof detail,
		 "limit_suspend_after = %u: %u attempts refused by a sending limit within %s",
		 r->suspend_after, x->refusals, duration_format(r->suspend_window, d, sizeof d));
	if (literal(conn, detail, dlit, sizeof dlit, error_r) < 0
	    || literal(conn, r->actor, alit, sizeof alit, error_r) < 0)
		return -1;
	n = snprintf(sql, size,
		     "WITH s AS (INSERT INTO users (username, suspended, changed) "
		     "VALUES (%s, 1, %s) ON CONFLICT (username) DO UPDATE SET suspended = 1, "
		     "changed = excluded.changed WHERE users.suspended = 0 RETURNING username) "
		     "INSERT INTO admin_actions (ts, actor, action, subject, detail) "
		     "SELECT %s, %s, 'user suspend', username, %s FROM s RETURNING id",
		     lit, now, now, alit, dlit);
	if (n < 0 || (size_t)n >= size)
		return error_r_set(error_r, "suspend user: statement too long");
	return 0;
}

/* refused - count, record, maybe suspend, in one transaction under the
   subject's lock; limit_lock held */
static int refused(struct pg_store *st, struct limit_refusal *x, char **error_r)
{
	const struct store_limit_refusal *r = x->r;
	long long deadline = pg_now_ms() + PG_LIMIT_TIMEOUT_MS;
	char lit[LIT_MAX], query[320 + LIT_MAX], sql[1024 + 3 * LIT_MAX], now[24];
	bool notified_before, suspend;
	PGconn *conn;
	PGresult *res;
	int n;

	if ((conn = limit_conn(st, deadline, error_r)) == NULL
	    || literal(conn, r->subject, lit, sizeof lit, error_r) < 0)
		return -1;
	/* limit_refusals_subject_ts. */
	snprintf(query, sizeof query,
		 "SET LOCAL synchronous_commit = on; "
		 "SELECT " PG_LIMIT_NOW ", count(*), coalesce(max(notified), 0) "
		 "FROM limit_refusals WHERE subject = %s AND ts > " PG_LIMIT_NOW " - %lld",
		 lit, (long long)r->suspend_window);
	limit_lock_sql(sql, sizeof sql, lit, query);
	if ((res = limit_exec(st, "count limit refusals", sql, -1, NULL, deadline, error_r))
	    == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQnfields(res) != 3) {
		PQclear(res);
		limit_drop(st, false);	/* and its transaction */
		return error_r_set(error_r, "count limit refusals: unexpected answer");
	}
	snprintf(now, sizeof now, "%s", PQgetvalue(res, 0, 0));
	x->refusals = (unsigned)strtoul(PQgetvalue(res, 0, 1), NULL, 10) + 1;
	notified_before = strtol(PQgetvalue(res, 0, 2), NULL, 10) != 0;
	PQclear(res);
	x->notify = r->notify_wanted && !notified_before;
	suspend = r->suspend_after != 0 && x->refusals >= r->suspend_after;
	n = snprintf(sql, sizeof sql,
		     "INSERT INTO limit_refusals (ts, subject, kind, window_seconds, notified) "
		     "VALUES (%s, %s, '%s', %lld, %d)%s",
		     now, lit, store_limit_kind_name(r->kind), (long long)r->window,
		     x->notify ? 1 : 0, suspend ? "; " : "; COMMIT");
	if (suspend && suspend_sql(conn, x, lit, now, sql + n, sizeof sql - (size_t)n, error_r) < 0) {
		limit_drop(st, false);
		return -1;
	}
	if ((res = limit_exec(st, "record limit refusal", sql, -1, NULL, deadline, error_r))
	    == NULL)
		return -1;
	x->suspended = suspend && PQntuples(res) > 0;
	PQclear(res);
	if (!suspend)
		return 0;
	if ((res = limit_exec(st, "suspend user", "COMMIT", -1, NULL, deadline, error_r)) == NULL) {
		x->suspended = false;
		return -1;
	}
	PQclear(res);
	return 0;
}

int pg_limit_refused(struct store *store, const struct store_limit_refusal *r,
		     unsigned *refusals_r, bool *suspended_r, bool *notify_r, char **error_r)
{
	struct pg_store *st = pg_store(store);
	struct limit_refusal x = { r, 0, false, false };
	int res;

	pthread_mutex_lock(&st->limit_lock);
	res = refused(st, &x, error_r);
	pthread_mutex_unlock(&st->limit_lock);
	if (res < 0)
		return -1;
	/* This process answers from memory: the suspension is there before
	   the next request (other hosts learn it by NOTIFY). */
	if (x.suspended)
		pg_thread_changed(st, PG_T_USERS);
	*refusals_r = x.refusals;
	*suspended_r = x.suspended;
	*notify_r = x.notify;
	return 0;
}

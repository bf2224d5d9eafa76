/*
 * NAME
 *	store_pgsql_thread 3
 * SUMMARY
 *	PostgreSQL backend: the view connection's thread and the decision queue
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	One thread owns the view connection (store_pgsql.h tells the
 *	contract). Its loop, in order of priority:
 *	  - not connected: wait for the backoff, then connect (non-blocking,
 *	    with a deadline), LISTEN authrelay, load every table, and mark
 *	    the view current;
 *	  - tables marked dirty (by a notification, or by an admin call of
 *	    this process): reload them in one read-only snapshot;
 *	  - queued decisions due (a full batch, PG_BATCH_WAIT_MS since the
 *	    oldest, a flush or the close): write up to PG_BATCH_MAX in one
 *	    INSERT; they leave the queue only after the server said yes;
 *	  - quiet for PG_PING_MS: "SELECT 1";
 *	  - else poll the connection (notifications) and the wake pipe.
 *	Any failure of the connection (an error, or no answer within the
 *	deadline) drops it: the view stops being current at once and the
 *	loop starts over with the backoff.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"
#include "store_pgsql.h"

#define FIELD_COUNT 9
#define FIELD_MAX 1024		/* bytes kept of each text field, as SQLite's */

struct pg_decision {
	long long queued_ms;
	int64_t ts;
	char *f[FIELD_COUNT];	/* program, client_ip, ... queue_id; NULL = NULL */
};

/* ---- waiting on the connection ---- */

/* wait_sock - 1 when the socket is ready for events, 0 at deadline */
static int wait_sock(PGconn *conn, short events, long long deadline)
{
	struct pollfd p = { PQsocket(conn), events, 0 };
	long long left = deadline - pg_now_ms();
	int rc;

	if (p.fd < 0)
		return -1;
	if (left <= 0)
		return 0;
	rc = poll(&p, 1, left > 1000 ? 1000 : (int)left);
	if (rc < 0 && errno != EINTR)
		return -1;
	return rc > 0 ? 1 : (pg_now_ms() >= deadline ? 0 : wait_sock(conn, events, deadline));
}

/* How a statement of the thread ended. */
enum outcome {
	A_OK,
	A_BROKEN,	/* the connection failed or did not answer in time */
	A_BUSY,		/* a lock or a conflict (lock_timeout): try again later */
	A_FAILED	/* the statement failed: the connection is fine */
};

/* busy_state - SQLSTATEs that mean "someone else holds it, try again" */
static bool busy_state(const char *state)
{
	return state != NULL && (strcmp(state, "55P03") == 0	/* lock_not_available */
				 || strcmp(state, "40001") == 0	/* serialization_failure */
				 || strcmp(state, "40P01") == 0);	/* deadlock_detected */
}

PGresult *pg_nb_exec(PGconn *conn, const char *sql, int n, const char *const *params,
		     long long timeout_ms, char **error_r)
{
	long long deadline = pg_now_ms() + timeout_ms;
	PGresult *res, *keep = NULL;
	int rc;

	if (!(n < 0 ? PQsendQuery(conn, sql)
		    : PQsendQueryParams(conn, sql, n, NULL, params, NULL, NULL, 0)))
		goto conn_fail;
	while ((rc = PQflush(conn)) == 1) {
		if (wait_sock(conn, POLLOUT | POLLIN, deadline) <= 0)
			return error_r_set(error_r, "no answer within %lld ms", timeout_ms), NULL;
		if (!PQconsumeInput(conn))
			goto conn_fail;
	}
	if (rc < 0)
		goto conn_fail;
	for (;;) {
		while (PQisBusy(conn)) {
			if (wait_sock(conn, POLLIN, deadline) <= 0) {
				PQclear(keep);
				error_r_set(error_r, "no answer within %lld ms", timeout_ms);
				return NULL;
			}
			if (!PQconsumeInput(conn)) {
				PQclear(keep);
				goto conn_fail;
			}
		}
		if ((res = PQgetResult(conn)) == NULL)
			break;
		/* Several statements: the first failure is the answer (the
		   server skips the rest). */
		if (keep != NULL && PQresultStatus(keep) != PGRES_COMMAND_OK
		    && PQresultStatus(keep) != PGRES_TUPLES_OK) {
			PQclear(res);
			continue;
		}
		PQclear(keep);
		keep = res;
	}
	if (keep != NULL)
		return keep;
conn_fail:
	error_r_set(error_r, "%.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
		    PQerrorMessage(conn));
	return NULL;
}

/* aexec - one statement, non-blocking, within the store's deadline.
   Returns the result (caller clears) or NULL with *error_r; *how_r says
   why (A_BROKEN: the connection is no longer usable). */
static PGresult *aexec(struct pg_store *st, PGconn *conn, const char *sql, int n,
		       const char *const *params, enum outcome *how_r, char **error_r)
{
	PGresult *keep = pg_nb_exec(conn, sql, n, params, st->timeout_ms, error_r);
	const char *msg;

	*how_r = A_BROKEN;
	if (keep == NULL)
		return NULL;
	if (PQresultStatus(keep) == PGRES_COMMAND_OK || PQresultStatus(keep) == PGRES_TUPLES_OK) {
		*how_r = A_OK;
		return keep;
	}
	if (PQstatus(conn) == CONNECTION_OK)
		*how_r = busy_state(PQresultErrorField(keep, PG_DIAG_SQLSTATE)) ? A_BUSY : A_FAILED;
	msg = PQresultErrorMessage(keep);
	error_r_set(error_r, "%.*s", (int)strcspn(msg, "\n"), msg);
	PQclear(keep);
	return NULL;
}

/* arun - aexec without a result; 0 or -1 (the connection is broken or
   the statement failed, either way the caller starts over) */
static int arun(struct pg_store *st, PGconn *conn, const char *sql, char **error_r)
{
	enum outcome how;
	PGresult *res = aexec(st, conn, sql, 0, NULL, &how, error_r);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

PGconn *pg_connect_nb(struct pg_store *st, long long timeout_ms, char **error_r)
{
	long long deadline = pg_now_ms() + timeout_ms;
	PGconn *conn = pg_connect_start(st);
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;

	if (conn == NULL) {
		error_r_set(error_r, "out of memory");
		return NULL;
	}
	while (PQstatus(conn) != CONNECTION_BAD) {
		int ready;

		if (ps == PGRES_POLLING_OK) {
			PQsetnonblocking(conn, 1);
			return conn;
		}
		if (ps == PGRES_POLLING_FAILED)
			break;
		ready = wait_sock(conn, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
		if (ready <= 0) {
			error_r_set(error_r, "no connection within %lld ms", timeout_ms);
			PQfinish(conn);
			return NULL;
		}
		ps = PQconnectPoll(conn);
	}
	error_r_set(error_r, "%.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
		    PQerrorMessage(conn));
	PQfinish(conn);
	return NULL;
}

/* ---- the view ---- */

/* reload - the tables named, in one snapshot, swapped in together.
   0, -1 when the connection must go, 1 when a lock held by another
   session kept a table from being read (lock_timeout): the copy in
   memory stays, the tables stay dirty, and the caller tries again. */
static int reload(struct pg_store *st, PGconn *conn, unsigned tables, char **error_r)
{
	struct pg_view *fresh = NULL;
	enum outcome how = A_OK;
	int rc = -1;

	if (arun(st, conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", error_r) < 0)
		return -1;
	for (unsigned t = PG_T_GRANTS; t <= PG_T_LIMITS; t <<= 1) {
		PGresult *res;

		if (!(tables & t))
			continue;
		if ((res = aexec(st, conn, pg_view_sql(t), 0, NULL, &how, error_r)) == NULL)
			goto done;
		if (pg_view_replace(&fresh, t, res) < 0) {
			PQclear(res);
			error_r_set(error_r, "a row of the grants table does not parse");
			goto done;
		}
		PQclear(res);
	}
	if (arun(st, conn, "COMMIT", error_r) < 0)
		goto done;
	pthread_mutex_lock(&st->lock);
	pg_view_move(&st->view, fresh, tables);
	pthread_mutex_unlock(&st->lock);
	rc = 0;
done:
	if (rc < 0 && how == A_BUSY && arun(st, conn, "ROLLBACK", NULL) == 0)
		rc = 1;
	pg_view_free(fresh);	/* after the move: the old tables */
	return rc;
}

/* drain_notifies - mark the tables named by notifications dirty */
static void drain_notifies(struct pg_store *st, PGconn *conn)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = { { "grants", PG_T_GRANTS }, { "users", PG_T_USERS },
		      { "sender_rights", PG_T_SENDERS }, { "certs", PG_T_CERTS },
		      { "limit_rules", PG_T_LIMITS } };
	unsigned dirty = 0;
	PGnotify *n;

	while ((n = PQnotifies(conn)) != NULL) {
		unsigned bit = PG_T_ALL;	/* an unknown name: reload all */

		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcmp(n->extra, names[i].name) == 0)
				bit = names[i].bit;
		dirty |= bit;
		PQfreemem(n);
	}
	if (dirty != 0) {
		pthread_mutex_lock(&st->lock);
		st->dirty |= dirty;
		pthread_mutex_unlock(&st->lock);
	}
}

/* cond_wait_ms - wait on st->cond (lock held) for at most ms */
static void cond_wait_ms(struct pg_store *st, long long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&st->cond, &st->lock, &ts);
}

/* ---- the decision queue ---- */

static void decision_free(struct pg_decision *d)
{
	free(d);
}

/* clean_copy - text cut to FIELD_MAX bytes into out, each byte that is
   not part of valid UTF-8 replaced by '?' (PostgreSQL refuses such text
   in a UTF8 database, and one bad sender must not lose a whole batch);
   returns the bytes written with the NUL */
static size_t clean_copy(char *out, const char *text)
{
	size_t len = strnlen(text, FIELD_MAX + 1), o = 0;
	const unsigned char *p = (const unsigned char *)text;

	if (len > FIELD_MAX)
		len = FIELD_MAX;
	for (size_t i = 0; i < len;) {
		unsigned need = p[i] < 0x80 ? 0 : (p[i] & 0xE0) == 0xC0 ? 1
				 : (p[i] & 0xF0) == 0xE0 ? 2 : (p[i] & 0xF8) == 0xF0 ? 3 : 9;
		bool ok = need != 9 && i + need < len;

		for (unsigned k = 1; ok && k <= need; k++)
			ok = (p[i + k] & 0xC0) == 0x80;
		if (!ok) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, p + i, need + 1);
		o += need + 1;
		i += need + 1;
	}
	out[o] = '\0';
	return o + 1;
}

/* decision_copy - one allocation: the row and every field */
static struct pg_decision *decision_copy(const struct store_decision *d, const char *program)
{
	const char *src[FIELD_COUNT] = { d->program != NULL ? d->program : program,
					 d->client_ip, d->sasl_username, d->sender, d->recipient,
					 d->verdict, d->rule, d->reason, d->queue_id };
	size_t size = sizeof(struct pg_decision);
	struct pg_decision *row;
	char *p;

	for (int i = 0; i < FIELD_COUNT; i++)
		if (src[i] != NULL)
			size += strnlen(src[i], FIELD_MAX) + 1;
	if ((row = malloc(size)) == NULL)
		return NULL;
	row->ts = d->ts;
	row->queued_ms = pg_now_ms();
	p = (char *)(row + 1);
	for (int i = 0; i < FIELD_COUNT; i++) {
		row->f[i] = NULL;
		if (src[i] == NULL)
			continue;
		row->f[i] = p;
		p += clean_copy(p, src[i]);
	}
	return row;
}

/* wake_thread - one byte into the pipe (full: it is awake anyway) */
static void wake_thread(struct pg_store *st)
{
	if (st->wake[1] >= 0) {
		ssize_t rc = write(st->wake[1], "x", 1);

		(void)rc;
	}
}

int pg_decision_queue(struct store *store, const struct store_decision *d)
{
	struct pg_store *st = pg_store(store);
	struct pg_decision *row;
	long long now = pg_now_ms();
	bool warn = false;
	uint64_t dropped;

	row = st->queue_max > 0 ? decision_copy(d, st->program + strlen("authrelay-")) : NULL;
	pthread_mutex_lock(&st->lock);
	if (row != NULL && st->queue_count < st->queue_max && !st->stopping) {
		st->queue[(st->queue_head + st->queue_count) % st->queue_max] = row;
		st->queue_count++;
		st->queued++;
		if (st->queue_count == 1 || st->queue_count == PG_BATCH_MAX)
			wake_thread(st);
		pthread_mutex_unlock(&st->lock);
		return 0;
	}
	dropped = ++st->dropped;
	if (st->queue_max > 0 && now - st->dropped_logged_ms >= 60000) {
		st->dropped_logged_ms = now;
		warn = true;
	}
	pthread_mutex_unlock(&st->lock);
	decision_free(row);
	if (warn)
		log_warning("database: decision queue full (%u rows waiting for PostgreSQL): "
			    "%llu rows dropped so far", st->queue_max, (unsigned long long)dropped);
	return -1;
}

/* write_batch - the oldest rows in one INSERT; -1 when the connection
   broke, 1 when a lock kept the table (lock_timeout): either way the rows
   stay queued */
static int write_batch(struct pg_store *st, PGconn *conn)
{
	static const char head[] = "INSERT INTO decision_log (ts, program, client_ip, "
				   "sasl_username, sender, recipient, verdict, rule, reason, "
				   "queue_id) VALUES ";
	char sql[sizeof head + PG_BATCH_MAX * 80], (*ts)[24];
	const char **params;
	struct pg_decision *rows[PG_BATCH_MAX];
	unsigned n, len = 0;
	char *error = NULL;
	enum outcome how;
	PGresult *res;

	pthread_mutex_lock(&st->lock);
	n = st->queue_count < PG_BATCH_MAX ? st->queue_count : PG_BATCH_MAX;
	for (unsigned i = 0; i < n; i++)
		rows[i] = st->queue[(st->queue_head + i) % st->queue_max];
	pthread_mutex_unlock(&st->lock);
	if (n == 0)
		return 0;
	if ((params = calloc((size_t)n * 10, sizeof *params)) == NULL
	    || (ts = calloc(n, sizeof *ts)) == NULL)
		abort();
	len = (unsigned)snprintf(sql, sizeof sql, "%s", head);
	for (unsigned i = 0; i < n; i++) {
		unsigned b = i * 10;

		len += (unsigned)snprintf(sql + len, sizeof sql - len,
					  "%s($%u,$%u,$%u,$%u,$%u,$%u,$%u,$%u,$%u,$%u)",
					  i ? "," : "", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6,
					  b + 7, b + 8, b + 9, b + 10);
		snprintf(ts[i], sizeof ts[i], "%lld", (long long)rows[i]->ts);
		params[b] = ts[i];
		for (int k = 0; k < FIELD_COUNT; k++)
			params[b + 1 + (unsigned)k] = rows[i]->f[k];
	}
	res = aexec(st, conn, sql, (int)n * 10, params, &how, &error);
	free(params);
	free(ts);
	PQclear(res);
	if (res == NULL && (how == A_BROKEN || how == A_BUSY)) {
		free(error);
		return how == A_BROKEN ? -1 : 1;
	}
	if (res == NULL)
		log_error("database: cannot write %u decision rows, dropped: %s", n,
			  error ? error : "unknown error");
	free(error);
	pthread_mutex_lock(&st->lock);
	st->queue_head = (st->queue_head + n) % st->queue_max;
	st->queue_count -= n;
	st->dequeued += n;
	if (res != NULL)
		st->written += n;
	else
		st->dropped += n;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	for (unsigned i = 0; i < n; i++)
		decision_free(rows[i]);
	return 0;
}

int pg_decision_flush(struct store *store, long long timeout_ms)
{
	struct pg_store *st = pg_store(store);
	long long deadline = pg_now_ms() + timeout_ms;
	uint64_t target;
	int rc = 0;

	pthread_mutex_lock(&st->lock);
	target = st->queued;
	st->flush_now = true;
	wake_thread(st);
	while (st->dequeued < target) {
		long long left = deadline - pg_now_ms();

		if (left <= 0) {
			rc = -1;
			break;
		}
		cond_wait_ms(st, left);
	}
	st->flush_now = false;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void pg_decision_stats(struct store *store, uint64_t *written_r, uint64_t *dropped_r)
{
	struct pg_store *st = pg_store(store);

	pthread_mutex_lock(&st->lock);
	*written_r = st->written;
	*dropped_r = st->dropped;
	pthread_mutex_unlock(&st->lock);
}

/* ---- the loop ---- */

/* lose - drop the connection; the view stops being current now */
static void lose(struct pg_store *st, PGconn **conn, const char *why, bool *logged)
{
	bool was_loaded;

	pthread_mutex_lock(&st->lock);
	was_loaded = st->loaded;
	if (st->loaded) {
		st->loaded = false;
		st->lost_at_ms = pg_now_ms();
	}
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	if (was_loaded || !*logged) {
		log_error("database: PostgreSQL connection lost or refused: %.*s; lookups answer "
			  "on_store_error%s until it is back",
			  why ? (int)strcspn(why, "\n") : 13, why ? why : "unknown error",
			  st->stale_grace_ms > 0 ? " after database_stale_grace" : "");
		*logged = true;
	}
	PQfinish(*conn);	/* after the message: why may be its text */
	*conn = NULL;
}

/* setup - LISTEN, then the full load; the view is current after it */
static int setup(struct pg_store *st, PGconn *conn, char **error_r)
{
	if (arun(st, conn, "SET TIME ZONE 'UTC'", error_r) < 0
	    || arun(st, conn, "SET lock_timeout = " PG_LOCK_TIMEOUT, error_r) < 0
	    || arun(st, conn, "LISTEN authrelay", error_r) < 0)
		return -1;
	pthread_mutex_lock(&st->lock);
	st->dirty = 0;
	pthread_mutex_unlock(&st->lock);
	if (reload(st, conn, PG_T_ALL, error_r) < 0)
		return -1;
	pthread_mutex_lock(&st->lock);
	st->loaded = st->ever_loaded = true;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
	return 0;
}

/* idle - poll the connection and the wake pipe for at most ms */
static int idle(struct pg_store *st, PGconn *conn, long long ms)
{
	struct pollfd p[2] = { { st->wake[0], POLLIN, 0 }, { conn ? PQsocket(conn) : -1,
							    POLLIN, 0 } };
	char buf[64];

	if (ms < 0)
		ms = 0;
	if (poll(p, conn ? 2 : 1, ms > 1000 ? 1000 : (int)ms) < 0 && errno != EINTR)
		return -1;
	if (p[0].revents & POLLIN)
		while (read(st->wake[0], buf, sizeof buf) > 0)
			;
	if (conn != NULL && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
		if (!PQconsumeInput(conn))
			return -1;
		drain_notifies(st, conn);
		return 1;
	}
	return 0;
}

/* busy - another session's lock kept a reload or a write waiting
   (lock_timeout): the connection is fine and the copy in memory is still
   what the database holds to everybody else who could change it, so
   lookups go on answering from it; tables (reloads) are marked dirty
   again and both wait PG_BUSY_RETRY_MS. Logged once per episode. */
static void busy(struct pg_store *st, unsigned tables, long long *busy_until, bool *logged,
		 const char *what)
{
	pthread_mutex_lock(&st->lock);
	st->dirty |= tables;
	pthread_mutex_unlock(&st->lock);
	*busy_until = pg_now_ms() + PG_BUSY_RETRY_MS;
	if (!*logged)
		log_warning("database: cannot %s: a table is locked by another session; "
			    "answering from memory and trying again every %d ms", what,
			    PG_BUSY_RETRY_MS);
	*logged = true;
}

static void *thread_main(void *arg)
{
	struct pg_store *st = arg;
	PGconn *conn = NULL;
	long long backoff = PG_BACKOFF_MIN_MS, next_attempt = 0, last_traffic = 0;
	long long busy_until = 0;	/* a lock held elsewhere: reads and writes wait */
	bool logged = false, busy_logged = false;

	for (;;) {
		long long now = pg_now_ms(), wait;
		unsigned tables, queued;
		uint64_t gen;
		bool due, stop, busy_wait = false;
		char *error = NULL;

		pthread_mutex_lock(&st->lock);
		stop = st->stopping && (st->queue_count == 0 || now >= st->stop_deadline_ms);
		tables = st->dirty;
		gen = st->reload_asked;
		queued = st->queue_count;
		due = queued > 0 && (queued >= PG_BATCH_MAX || st->flush_now || st->stopping
				     || now - st->queue[st->queue_head]->queued_ms >= PG_BATCH_WAIT_MS);
		wait = queued > 0 ? st->queue[st->queue_head]->queued_ms + PG_BATCH_WAIT_MS - now
				  : PG_PING_MS;
		pthread_mutex_unlock(&st->lock);
		if (stop)
			break;

		if (conn == NULL) {
			if (now < next_attempt) {
				idle(st, NULL, next_attempt - now);
				continue;
			}
			if ((conn = pg_connect_nb(st, st->timeout_ms, &error)) == NULL
			    || setup(st, conn, &error) < 0) {
				lose(st, &conn, error, &logged);
				next_attempt = pg_now_ms() + backoff;
				backoff = backoff * 2 > PG_BACKOFF_MAX_MS ? PG_BACKOFF_MAX_MS
									 : backoff * 2;
			} else {
				if (logged)
					log_info("database: PostgreSQL connection back, tables "
						 "reloaded");
				logged = false;
				backoff = PG_BACKOFF_MIN_MS;
				last_traffic = pg_now_ms();
			}
			free(error);
			continue;
		}
		if (now < busy_until) {
			/* Wait for the lock: nothing to read or write before. */
			busy_wait = true;
			due = false;
			wait = busy_until - now;
		}
		if (tables != 0 && !busy_wait) {
			int rc;

			pthread_mutex_lock(&st->lock);
			st->dirty &= ~tables;
			pthread_mutex_unlock(&st->lock);
			if ((rc = reload(st, conn, tables, &error)) < 0) {
				lose(st, &conn, error, &logged);
			} else if (rc > 0) {
				busy(st, tables, &busy_until, &busy_logged, "reload the tables");
			} else {
				busy_logged = false;
				pthread_mutex_lock(&st->lock);
				if (st->reload_done < gen)
					st->reload_done = gen;
				pthread_cond_broadcast(&st->cond);
				pthread_mutex_unlock(&st->lock);
				last_traffic = pg_now_ms();
			}
			free(error);
			continue;
		}
		if (tables == 0) {
			pthread_mutex_lock(&st->lock);
			if (st->reload_done < gen)
				st->reload_done = gen;
			pthread_cond_broadcast(&st->cond);
			pthread_mutex_unlock(&st->lock);
		}
		if (due) {
			int rc = write_batch(st, conn);

			if (rc < 0)
				lose(st, &conn, "writing decisions failed", &logged);
			else if (rc > 0)
				busy(st, 0, &busy_until, &busy_logged, "write decisions");
			else
				last_traffic = pg_now_ms();
			continue;
		}
		if (now - last_traffic >= PG_PING_MS) {
			if (arun(st, conn, "SELECT 1", &error) < 0)
				lose(st, &conn, error, &logged);
			else
				last_traffic = pg_now_ms();
			if (conn != NULL)
				drain_notifies(st, conn);
			free(error);
			continue;
		}
		if (last_traffic + PG_PING_MS - now < wait)
			wait = last_traffic + PG_PING_MS - now;
		switch (idle(st, conn, wait)) {
		case -1:
			lose(st, &conn, PQerrorMessage(conn), &logged);
			break;
		case 1:
			last_traffic = pg_now_ms();
			break;
		}
	}
	PQfinish(conn);
	return NULL;
}

int pg_thread_start(struct pg_store *st, char **error_r)
{
	if (st->thread_started)
		return 0;
	if (pipe2(st->wake, O_CLOEXEC | O_NONBLOCK) < 0)
		return error_r_set(error_r, "pipe: %s", strerror(errno));
	if (pthread_create(&st->thread, NULL, thread_main, st) != 0) {
		close(st->wake[0]);
		close(st->wake[1]);
		st->wake[0] = st->wake[1] = -1;
		return error_r_set(error_r, "cannot start the database thread");
	}
	st->thread_started = true;
	return 0;
}

void pg_thread_stop(struct pg_store *st, long long flush_timeout_ms)
{
	uint64_t left;

	pthread_mutex_lock(&st->lock);
	if (!st->thread_started) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	st->stopping = true;
	st->stop_deadline_ms = pg_now_ms() + flush_timeout_ms;
	wake_thread(st);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	pthread_mutex_lock(&st->lock);
	left = st->queue_count;
	for (unsigned i = 0; i < st->queue_count; i++)
		decision_free(st->queue[(st->queue_head + i) % st->queue_max]);
	st->dropped += left;
	st->dequeued += left;
	st->queue_count = 0;
	st->thread_started = false;
	pthread_mutex_unlock(&st->lock);
	close(st->wake[0]);
	close(st->wake[1]);
	st->wake[0] = st->wake[1] = -1;
	if (left > 0 || st->dropped > 0)
		log_warning("database: %llu decision rows could not be written to PostgreSQL "
			    "(%llu written)", (unsigned long long)st->dropped,
			    (unsigned long long)st->written);
}

void pg_thread_changed(struct pg_store *st, unsigned tables)
{
	long long deadline = pg_now_ms() + st->timeout_ms;
	uint64_t gen;

	pthread_mutex_lock(&st->lock);
	if (!st->thread_started || (st->ever_loaded && !st->loaded)) {
		/* Nothing in memory to refresh (or the connection is lost):
		   the next load reads it. */
		st->dirty |= tables;
		pthread_mutex_unlock(&st->lock);
		return;
	}
	/* Also while the first load is under way: its snapshot may have
	   been taken before this change committed, and a lookup made right
	   after this call must see the change. */
	st->dirty |= tables;
	gen = ++st->reload_asked;
	wake_thread(st);
	while (st->reload_done < gen && (st->loaded || !st->ever_loaded) && pg_now_ms() < deadline)
		cond_wait_ms(st, deadline - pg_now_ms());
	pthread_mutex_unlock(&st->lock);
}

bool pg_view_usable(struct pg_store *st)
{
	if (!st->thread_started) {
		char *error = NULL;

		if (pg_thread_start(st, &error) < 0) {
			log_error("database: %s", error);
			free(error);
			return false;
		}
	}
	/* Only the first lookup waits, once, for the first load. */
	if (!st->first_wait_done) {
		long long deadline = pg_now_ms() + st->timeout_ms;

		while (!st->ever_loaded && pg_now_ms() < deadline)
			cond_wait_ms(st, deadline - pg_now_ms());
		st->first_wait_done = true;
	}
	if (st->loaded)
		return true;
	return st->ever_loaded && st->stale_grace_ms > 0
	       && pg_now_ms() - st->lost_at_ms < st->stale_grace_ms;
}

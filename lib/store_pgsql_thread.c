/*
 * NAME
 *	store_pgsql_thread 3
 * SUMMARY
 *	PostgreSQL backend: the view connection's thread
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
 * *	  - quiet for PG_PING_MS: "SELECT 1";
 *	  - else poll the connection (notifications) and the wake pipe.
 *	Any failure of the connection (an error, or no answer within the
 *	deadline) drops it: the view stops being current at once and the
 *	loop starts over with the backoff. Decision rows are not this
 *	thread's: the decision writer (store_writer.c) writes them on a
 *	connection of its own (store_pgsql_write.c).
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

/* ---- the view ---- */

/* reload - the tables named, in one snapshot, swapped in together.
   0, -1 when the connection must go, 1 when a lock held by another
   session kept a table from being read (lock_timeout): the copy in
   memory stays, the tables stay dirty, and the caller tries again. */
static int reload(struct pg_store *st, PGconn *conn, unsigned tables, char **error_r)
{
	struct pg_view *fresh = NULL;
	enum pg_outcome how = PG_OK;
	int rc = -1;

	if (pg_arun(st, conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", error_r) < 0)
		return -1;
	for (unsigned t = PG_T_GRANTS; t <= PG_T_LIMITS; t <<= 1) {
		PGresult *res;

		if (!(tables & t))
			continue;
		if ((res = pg_aexec(st, conn, pg_view_sql(t), 0, NULL, &how, error_r)) == NULL)
			goto done;
		if (pg_view_replace(&fresh, t, res) < 0) {
			PQclear(res);
			error_r_set(error_r, "a row of the grants table does not parse");
			goto done;
		}
		PQclear(res);
	}
	if (pg_arun(st, conn, "COMMIT", error_r) < 0)
		goto done;
	pthread_mutex_lock(&st->lock);
	pg_view_move(&st->view, fresh, tables);
	pthread_mutex_unlock(&st->lock);
	rc = 0;
done:
	if (rc < 0 && how == PG_BUSY && pg_arun(st, conn, "ROLLBACK", NULL) == 0)
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

/* wake_thread - one byte into the pipe (full: it is awake anyway) */
static void wake_thread(struct pg_store *st)
{
	if (st->wake[1] >= 0) {
		ssize_t rc = write(st->wake[1], "x", 1);

		(void)rc;
	}
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
	if (pg_arun(st, conn, "SET TIME ZONE 'UTC'", error_r) < 0
	    || pg_arun(st, conn, "SET lock_timeout = " PG_LOCK_TIMEOUT, error_r) < 0
	    || pg_arun(st, conn, "LISTEN authrelay", error_r) < 0)
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

/* busy - another session's lock kept a reload waiting (lock_timeout):
   the connection is fine and the copy in memory is still what the
   database holds to everybody else who could change it, so lookups go
   on answering from it; the tables are marked dirty again and wait
   PG_BUSY_RETRY_MS. Logged once per episode. */
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
	long long busy_until = 0;	/* a lock held elsewhere: reloads wait */
	bool logged = false, busy_logged = false;

	for (;;) {
		long long now = pg_now_ms(), wait;
		unsigned tables;
		uint64_t gen;
		bool stop, busy_wait = false;
		char *error = NULL;

		pthread_mutex_lock(&st->lock);
		stop = st->stopping;
		tables = st->dirty;
		gen = st->reload_asked;
		wait = PG_PING_MS;
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
			/* Wait for the lock: nothing to read before. */
			busy_wait = true;
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
		if (now - last_traffic >= PG_PING_MS) {
			if (pg_arun(st, conn, "SELECT 1", &error) < 0)
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

void pg_thread_stop(struct pg_store *st)
{
	pthread_mutex_lock(&st->lock);
	if (!st->thread_started) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	st->stopping = true;
	wake_thread(st);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	pthread_mutex_lock(&st->lock);
	st->thread_started = false;
	pthread_mutex_unlock(&st->lock);
	close(st->wake[0]);
	close(st->wake[1]);
	st->wake[0] = st->wake[1] = -1;
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

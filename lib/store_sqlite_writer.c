/*
 * NAME
 *	store_sqlite_writer 3
 * SUMMARY
 *	SQLite backend: the decision queue and its writer thread
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	store_decision_queue() copies a row (each field cut at FIELD_MAX
 *	bytes, on a UTF-8 character boundary) and appends it to a bounded
 *	ring under a mutex that is never held across database work, so a
 *	caller never waits for the disk. When the ring is full the row is
 *	dropped and counted; a warning says so at most once a minute.
 *
 *	The writer thread takes up to BATCH_MAX rows (waiting up to
 *	BATCH_WAIT_MS, 200 ms, for a batch to fill) and writes them in one
 *	transaction on its own connection. A row once taken is never
 *	dropped: a busy or locked database, or any other failure, is
 *	retried with backoff (BACKOFF_MIN_MS doubling to BACKOFF_MAX_MS)
 *	until it is written, or until store_close()'s flush deadline has
 *	passed; rows given up then are counted in the close log line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "store_sqlite.h"

#define FIELD_MAX 1024		/* bytes kept of each text field */
#define FIELD_COUNT 9
/* Rows per transaction. The writer's work on a batch takes a core from
   the replies for that long: 250 rows (about 0.5 ms) instead of 1000
   brought policyd's p99 from 1.9 to 1.2 ms at 100k requests/s on two
   cores (tests/bench/policyd.sh), for a few hundred commits a second. */
#define BATCH_MAX 250
/* How long the first row of a batch waits for more. Inside a real
   Postfix (tests/bench/postfix-policyd.sh: one request per wake-up, 600
   to 900 a second) a batch is what arrives in this time, and each
   transaction's fixed cost (the thread's wake-up, SQLite's locks, the
   WAL write, and the reader's page cache re-read after each commit) is
   shared by its rows: at 20 ms (12 to 18 rows) the writer thread cost
   7 to 8 us per request, at 200 ms 1 to 2 us. A row waits at most this
   long before it is written (authrelayctl audit sees it then), and a
   kill -9 loses at most this much; a flush (close, SIGTERM) does not
   wait for it. Flat out, batches fill to BATCH_MAX long before. */
#define BATCH_WAIT_MS 200
#define BACKOFF_MIN_MS 5
#define BACKOFF_MAX_MS 500
/* The writer's own busy wait: short, because the retry loop is ours. */
#define WRITER_BUSY_MS 200
/* The writer's page cache (KiB): it appends rows, touching the last
   pages of decision_log and its indexes; SQLite's default (2 MiB) only
   grows the daemon's memory as the table grows (policyd's RSS target is
   16 MiB with 1000 idle connections). */
#define WRITER_CACHE_KIB 512
#define STR_(x) #x
#define STR(x) STR_(x)

/* One queued row, one allocation: the ring holds only pointers, so the
   ring of decision_queue_max rows (100,000 by default) costs 8 bytes a
   slot, not a slot of nine pointers; once a busy daemon's ring had gone
   round, that difference was 8 MiB of resident memory. */
#define FIELD_ABSENT UINT16_MAX
struct sq_decision {
	int64_t ts;
	uint16_t off[FIELD_COUNT];	/* program, client_ip, ... queue_id in text; FIELD_ABSENT: NULL */
	char text[];
};

struct sq_writer {
	pthread_t thread;
	pthread_mutex_t lock;		/* the ring and counters; never held for I/O */
	pthread_cond_t wake;		/* the writer: rows, flush or stop */
	pthread_cond_t progress;	/* flushers: rows written */
	struct sq_decision **ring;
	unsigned cap, head, count;
	uint64_t accepted, written, dropped, lost;
	unsigned flushers;		/* callers waiting in flush: do not linger */
	bool stopping;
	struct timespec stop_deadline;
	time_t drop_warned, error_warned;
	struct sq_decision *batch[BATCH_MAX];
	struct sq_conn conn;
	struct sq_store *st;
};

/* deadline_ms - CLOCK_REALTIME now + ms, for pthread_cond_timedwait */
static struct timespec deadline_ms(long long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ms < 0)
		ms = 0;
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static bool passed(const struct timespec *when)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > when->tv_sec
	       || (now.tv_sec == when->tv_sec && now.tv_nsec >= when->tv_nsec);
}

/* batch_fill - the rows that make a full batch: a ring smaller than
   BATCH_MAX is written as soon as it is full, not 20 ms later */
static unsigned batch_fill(const struct sq_writer *w)
{
	return w->cap < BATCH_MAX ? w->cap : BATCH_MAX;
}

/* capped_len - length of text cut to FIELD_MAX without splitting a
   UTF-8 sequence */
static size_t capped_len(const char *text)
{
	size_t len = strnlen(text, FIELD_MAX + 1);

	if (len <= FIELD_MAX)
		return len;
	len = FIELD_MAX;
	while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	return len;
}

/* decision_copy - one allocation holding the row and every field */
static struct sq_decision *decision_copy(const struct store_decision *d)
{
	const char *src[FIELD_COUNT] = {
		d->program, d->client_ip, d->sasl_username, d->sender, d->recipient,
		d->verdict, d->rule, d->reason, d->queue_id,
	};
	size_t len[FIELD_COUNT], total = 0;
	struct sq_decision *row;

	_Static_assert(FIELD_COUNT * (FIELD_MAX + 1) < FIELD_ABSENT, "offsets fit in uint16_t");
	for (int i = 0; i < FIELD_COUNT; i++) {
		len[i] = src[i] != NULL ? capped_len(src[i]) : 0;
		total += src[i] != NULL ? len[i] + 1 : 0;
	}
	if ((row = malloc(sizeof *row + total)) == NULL)
		return NULL;
	row->ts = d->ts != 0 ? d->ts : (int64_t)time(NULL);
	total = 0;
	for (int i = 0; i < FIELD_COUNT; i++) {
		if (src[i] == NULL) {
			row->off[i] = FIELD_ABSENT;
			continue;
		}
		row->off[i] = (uint16_t)total;
		memcpy(row->text + total, src[i], len[i]);
		row->text[total + len[i]] = '\0';
		total += len[i] + 1;
	}
	return row;
}

/* field - one field of a queued row, NULL when absent */
static const char *field(const struct sq_decision *r, int i)
{
	return r->off[i] == FIELD_ABSENT ? NULL : r->text + r->off[i];
}

int sq_decision_queue(struct store *store, const struct store_decision *d)
{
	struct sq_store *st = sq_store(store);
	struct sq_writer *w = st->writer;
	struct sq_decision *row;
	uint64_t dropped = 0;
	bool warn = false;
	time_t now;

	if (w == NULL) {
		__atomic_add_fetch(&st->dropped_no_writer, 1, __ATOMIC_RELAXED);
		return -1;
	}
	/* Copy before taking the lock: the lock covers only the ring. */
	if ((row = decision_copy(d)) == NULL)
		goto drop_unlocked;
	pthread_mutex_lock(&w->lock);
	if (w->count < w->cap && !w->stopping) {
		w->ring[(w->head + w->count) % w->cap] = row;
		w->count++;
		w->accepted++;
		/* Wake the writer only when it may sleep without a timer (the
		   queue was empty) or when its batch is full; otherwise it
		   takes the rows at the end of its BATCH_WAIT_MS wait. A
		   signal per row cost a futex wake and a context switch per
		   request (tests/bench/policyd.sh). */
		if (w->count == 1 || w->count == batch_fill(w))
			pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
	pthread_mutex_unlock(&w->lock);
	free(row);

drop_unlocked:
	now = time(NULL);
	pthread_mutex_lock(&w->lock);
	dropped = ++w->dropped;
	if (now - w->drop_warned >= 60) {
		w->drop_warned = now;
		warn = true;
	}
	pthread_mutex_unlock(&w->lock);
	if (warn)
		log_warning("decision queue full (%u rows): %llu decision rows dropped so far; "
			    "the database is slow or locked", w->cap, (unsigned long long)dropped);
	return -1;
}

/* bind_row - the ten parameters of one row, from parameter first + 1 */
static void bind_row(sqlite3_stmt *stmt, int first, const struct sq_decision *r,
		     const char *program)
{
	sqlite3_bind_int64(stmt, first + 1, r->ts);
	sq_bind_text(stmt, first + 2, field(r, 0) != NULL ? field(r, 0) : program);
	for (int f = 1; f < FIELD_COUNT; f++)
		sq_bind_text(stmt, first + f + 2, field(r, f));
	/* verdict is NOT NULL in the schema; an absent one is "". */
	if (field(r, 5) == NULL)
		sq_bind_text(stmt, first + 7, "");
}

/* write_batch - one transaction for every row of the batch, whole
   groups of SQ_DECISION_ROWS_PER_INSERT rows in one statement and the
   rest one by one; SQLite result code (SQLITE_DONE when written) */
static int write_batch(struct sq_writer *w, unsigned n)
{
	struct sq_conn *conn = &w->conn;
	sqlite3_stmt *stmt;
	int rc, moved = 0;
	unsigned i = 0;

	/* A removed or replaced file takes WAL writes without an error: they
	   would be lost. Keep the rows queued instead (and say why). */
	if (sqlite3_file_control(conn->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK
	    && moved)
		return SQLITE_READONLY_DBMOVED;
	if ((rc = sq_run(conn, SQ_BEGIN_IMMEDIATE)) != SQLITE_DONE)
		return rc;
	while (i < n) {
		unsigned rows = n - i >= SQ_DECISION_ROWS_PER_INSERT ? SQ_DECISION_ROWS_PER_INSERT : 1;

		stmt = sq_stmt(conn, rows > 1 ? SQ_DECISION_INSERT_MANY : SQ_DECISION_INSERT);
		if (stmt == NULL) {
			rc = sqlite3_errcode(conn->db);
			goto rollback;
		}
		for (unsigned k = 0; k < rows; k++)
			bind_row(stmt, (int)k * (FIELD_COUNT + 1), w->batch[i + k], w->st->program);
		rc = sqlite3_step(stmt);
		sqlite3_reset(stmt);
		if (rc != SQLITE_DONE)
			goto rollback;
		i += rows;
	}
	if ((rc = sq_run(conn, SQ_COMMIT)) == SQLITE_DONE)
		return rc;
rollback:
	sq_rollback(conn);
	return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
}

/* write_until_done - retry a taken batch until written or given up at
   the stop deadline; returns the rows written (n or 0) */
static unsigned write_until_done(struct sq_writer *w, unsigned n)
{
	long long backoff = BACKOFF_MIN_MS;
	int rc;

	while ((rc = write_batch(w, n)) != SQLITE_DONE) {
		time_t now = time(NULL);
		struct timespec until;
		bool give_up;

		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED && now - w->error_warned >= 60) {
			w->error_warned = now;
			log_warning("database %s: writing %u decision rows failed: %s; retrying",
				    w->conn.path, n, rc == SQLITE_READONLY_DBMOVED
				    ? "the file was removed or replaced while open (restore it and "
				      "restart)" : sqlite3_errmsg(w->conn.db));
		}
		pthread_mutex_lock(&w->lock);
		give_up = w->stopping && passed(&w->stop_deadline);
		if (!give_up) {
			/* Sleep, but wake at once for a stop. */
			until = deadline_ms(backoff);
			if (w->stopping && !passed(&w->stop_deadline)
			    && (w->stop_deadline.tv_sec < until.tv_sec
				|| (w->stop_deadline.tv_sec == until.tv_sec
				    && w->stop_deadline.tv_nsec < until.tv_nsec)))
				until = w->stop_deadline;
			pthread_cond_timedwait(&w->wake, &w->lock, &until);
			give_up = w->stopping && passed(&w->stop_deadline);
		}
		pthread_mutex_unlock(&w->lock);
		if (give_up)
			return 0;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	return n;
}

/* writer_main - take batches until stopped and empty (or out of time) */
static void *writer_main(void *arg)
{
	struct sq_writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct timespec fill;
		unsigned n, done;

		while (w->count == 0 && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->count == 0 || (w->stopping && passed(&w->stop_deadline)))
			break;
		/* Let a batch fill, unless someone waits for it. */
		fill = deadline_ms(BATCH_WAIT_MS);
		while (w->count < batch_fill(w) && !w->stopping && w->flushers == 0)
			if (pthread_cond_timedwait(&w->wake, &w->lock, &fill) == ETIMEDOUT)
				break;
		n = w->count < BATCH_MAX ? w->count : BATCH_MAX;
		for (unsigned i = 0; i < n; i++)
			w->batch[i] = w->ring[(w->head + i) % w->cap];
		w->head = (w->head + n) % w->cap;
		w->count -= n;
		pthread_mutex_unlock(&w->lock);

		done = write_until_done(w, n);
		for (unsigned i = 0; i < n; i++)
			free(w->batch[i]);

		pthread_mutex_lock(&w->lock);
		w->written += done;
		w->lost += n - done;
		pthread_cond_broadcast(&w->progress);
	}
	/* Out of time at close: what is still queued is lost, counted. */
	for (; w->count > 0; w->count--) {
		free(w->ring[w->head]);
		w->head = (w->head + 1) % w->cap;
		w->lost++;
	}
	pthread_cond_broadcast(&w->progress);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int sq_writer_start(struct sq_store *st, unsigned queue_max, char **error_r)
{
	struct sq_writer *w;
	long long busy = st->busy_timeout_ms < WRITER_BUSY_MS ? st->busy_timeout_ms : WRITER_BUSY_MS;

	if ((w = calloc(1, sizeof *w)) == NULL
	    || (w->ring = calloc(queue_max, sizeof *w->ring)) == NULL) {
		free(w);
		return error_r_set(error_r, "decision queue of %u rows: out of memory", queue_max);
	}
	w->cap = queue_max;
	w->st = st;
	if (sq_conn_open(&w->conn, st->path, busy, error_r) < 0) {
		free(w->ring);
		free(w);
		return -1;
	}
	/* A smaller cache is only slower, never wrong: ignore a failure. */
	(void)sqlite3_exec(w->conn.db, "PRAGMA cache_size = -" STR(WRITER_CACHE_KIB), NULL, NULL,
			   NULL);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->progress, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		sq_conn_close(&w->conn);
		pthread_cond_destroy(&w->progress);
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w->ring);
		free(w);
		return error_r_set(error_r, "cannot start the decision writer thread");
	}
	st->writer = w;
	return 0;
}

void sq_writer_stop(struct sq_store *st, long long flush_timeout_ms)
{
	struct sq_writer *w = st->writer;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	w->stop_deadline = deadline_ms(flush_timeout_ms);
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);

	if (w->lost > 0 || w->dropped > 0)
		log_warning("database %s: decision writer stopped: %llu rows written, %llu not "
			    "written in time at close, %llu dropped (queue full)", st->path,
			    (unsigned long long)w->written, (unsigned long long)w->lost,
			    (unsigned long long)w->dropped);
	sq_conn_close(&w->conn);
	pthread_cond_destroy(&w->progress);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->ring);
	free(w);
	st->writer = NULL;
}

int sq_decision_flush(struct store *store, long long timeout_ms)
{
	struct sq_writer *w = sq_store(store)->writer;
	struct timespec until = deadline_ms(timeout_ms);
	uint64_t target;
	int res = 0;

	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->lock);
	target = w->accepted;
	w->flushers++;
	pthread_cond_signal(&w->wake);
	while (w->written + w->lost < target) {
		if (pthread_cond_timedwait(&w->progress, &w->lock, &until) == ETIMEDOUT
		    && w->written + w->lost < target) {
			res = -1;
			break;
		}
	}
	w->flushers--;
	pthread_mutex_unlock(&w->lock);
	return res;
}

void sq_decision_stats(struct store *store, uint64_t *written_r, uint64_t *dropped_r)
{
	struct sq_store *st = sq_store(store);
	struct sq_writer *w = st->writer;

	*dropped_r = __atomic_load_n(&st->dropped_no_writer, __ATOMIC_RELAXED);
	*written_r = 0;
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	*written_r = w->written;
	*dropped_r += w->dropped;
	pthread_mutex_unlock(&w->lock);
}

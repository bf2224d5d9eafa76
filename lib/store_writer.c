/*
 * NAME
 *	store_writer 3
 * SUMMARY
 *	the decision queue and its writer thread, for every backend
 * SYNOPSIS
 *	#include "store_writer.h"
 * DESCRIPTION
 *	store_writer_queue() copies a row (each field cut at
 *	STORE_WRITER_FIELD_MAX bytes, on a UTF-8 character boundary), gives
 *	it the next sequence number and appends it to a bounded ring under a
 *	mutex that is never held across database work, so a caller never
 *	waits for the database. When the ring is full the row is dropped and
 *	counted; a warning says so at most once a minute.
 *
 *	The writer thread takes up to BATCH_MAX rows (waiting up to
 *	BATCH_WAIT_MS, 200 ms, for a batch to fill) and hands them to the
 *	backend's decision_write, one transaction. A row once taken is never
 *	dropped: a busy or locked database, a lost connection or any other
 *	failure is retried with the same rows (the same identities) and
 *	backoff (BACKOFF_MIN_MS doubling to BACKOFF_MAX_MS) until it is
 *	written, or until store_writer_stop()'s flush deadline has passed;
 *	rows given up then are counted in the stop log line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store_backend.h"
#include "store_writer.h"

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

struct store_writer {
	struct store *store;
	char *name;			/* the database, for messages */
	uint64_t id;			/* random: the rows' identity with seq */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;		/* the ring and counters; never held for I/O */
	pthread_cond_t wake;		/* the writer: rows, flush or stop */
	pthread_cond_t progress;	/* flushers: rows written */
	struct store_writer_row **ring;
	unsigned cap, head, count;
	uint64_t accepted, written, dropped, lost;
	unsigned flushers;		/* callers waiting in flush: do not linger */
	bool stopping;
	struct timespec stop_deadline;
	time_t drop_warned, error_warned;
	struct store_writer_row *batch[BATCH_MAX];
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
   BATCH_MAX is written as soon as it is full, not BATCH_WAIT_MS later */
static unsigned batch_fill(const struct store_writer *w)
{
	return w->cap < BATCH_MAX ? w->cap : BATCH_MAX;
}

/* capped_len - length of text cut to STORE_WRITER_FIELD_MAX without
   splitting a UTF-8 sequence */
static size_t capped_len(const char *text)
{
	size_t len = strnlen(text, STORE_WRITER_FIELD_MAX + 1);

	if (len <= STORE_WRITER_FIELD_MAX)
		return len;
	len = STORE_WRITER_FIELD_MAX;
	while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	return len;
}

/* row_copy - one allocation holding the row and every field */
static struct store_writer_row *row_copy(const struct store_decision *d)
{
	/* verdict is NOT NULL in both schemas: an absent one is "" (were it
	   NULL, the batch would fail on every retry). */
	const char *src[SW_FIELDS] = {
		d->program, d->client_ip, d->sasl_username, d->sender, d->recipient,
		d->verdict != NULL ? d->verdict : "", d->rule, d->reason, d->queue_id,
	};
	size_t len[SW_FIELDS], total = 0;
	struct store_writer_row *row;

	_Static_assert(SW_FIELDS * (STORE_WRITER_FIELD_MAX + 1) < STORE_WRITER_ABSENT,
		       "offsets fit in uint16_t");
	for (int i = 0; i < SW_FIELDS; i++) {
		len[i] = src[i] != NULL ? capped_len(src[i]) : 0;
		total += src[i] != NULL ? len[i] + 1 : 0;
	}
	if ((row = malloc(sizeof *row + total)) == NULL)
		return NULL;
	row->ts = d->ts != 0 ? d->ts : (int64_t)time(NULL);
	total = 0;
	for (int i = 0; i < SW_FIELDS; i++) {
		if (src[i] == NULL) {
			row->off[i] = STORE_WRITER_ABSENT;
			continue;
		}
		row->off[i] = (uint16_t)total;
		memcpy(row->text + total, src[i], len[i]);
		row->text[total + len[i]] = '\0';
		total += len[i] + 1;
	}
	return row;
}

int store_writer_queue(struct store *store, const struct store_decision *d)
{
	struct store_writer *w = store->writer;
	struct store_writer_row *row = NULL;
	uint64_t dropped = 0;
	bool warn = false;
	time_t now;

	if (w == NULL)
		return -1;
	/* Copy before taking the lock: the lock covers only the ring. */
	if (w->cap > 0 && (row = row_copy(d)) == NULL)
		goto drop_unlocked;
	pthread_mutex_lock(&w->lock);
	if (w->count < w->cap && !w->stopping) {
		row->seq = ++w->accepted;
		w->ring[(w->head + w->count) % w->cap] = row;
		w->count++;
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
	if (w->cap > 0 && now - w->drop_warned >= 60) {
		w->drop_warned = now;
		warn = true;
	}
	pthread_mutex_unlock(&w->lock);
	if (warn)
		log_warning("decision queue full (%u rows): %llu decision rows dropped so far; "
			    "the database is slow or locked", w->cap, (unsigned long long)dropped);
	return -1;
}

/* write_until_done - retry a taken batch until written or given up at
   the stop deadline; returns the rows written (n or 0) */
static unsigned write_until_done(struct store_writer *w, unsigned n)
{
	const struct store_writer_batch batch = { w->id, n, w->batch };
	long long backoff = BACKOFF_MIN_MS;
	char *error = NULL;
	int rc;

	while ((rc = w->store->ops->decision_write(w->store, &batch, &error)) != STORE_WRITE_OK) {
		time_t now = time(NULL);
		struct timespec until;
		bool give_up;

		if (rc != STORE_WRITE_BUSY && now - w->error_warned >= 60) {
			w->error_warned = now;
			log_warning("database %s: writing %u decision rows failed: %s; retrying",
				    w->name, n, error != NULL ? error : "out of memory");
		}
		free(error);
		error = NULL;
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
	free(error);
	return n;
}

/* writer_main - take batches until stopped and empty (or out of time) */
static void *writer_main(void *arg)
{
	struct store_writer *w = arg;

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

/* writer_id - a random identity; a clock and the PID when the kernel
   has no randomness to give (only before the pool is ready at boot) */
static uint64_t writer_id(void)
{
	uint64_t id;
	struct timespec ts;

	if (getrandom(&id, sizeof id, GRND_NONBLOCK) == (ssize_t)sizeof id)
		return id;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 48);
}

static void writer_free(struct store_writer *w)
{
	pthread_cond_destroy(&w->progress);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->ring);
	free(w->name);
	free(w);
}

int store_writer_start(struct store *store, unsigned queue_max, const char *name,
		       char **error_r)
{
	struct store_writer *w;

	if ((w = calloc(1, sizeof *w)) == NULL
	    || (queue_max > 0 && (w->ring = calloc(queue_max, sizeof *w->ring)) == NULL)
	    || (w->name = strdup(name)) == NULL) {
		if (w != NULL)
			free(w->ring);
		free(w);
		return error_r_set(error_r, "decision queue of %u rows: out of memory", queue_max);
	}
	w->cap = queue_max;
	w->store = store;
	w->id = writer_id();
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->progress, NULL);
	if (queue_max > 0) {
		if (store->ops->decision_write == NULL) {
			writer_free(w);
			return error_r_set(error_r, "the %s backend cannot write decisions",
					   store->ops->name);
		}
		if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
			writer_free(w);
			return error_r_set(error_r, "cannot start the decision writer thread");
		}
		w->thread_started = true;
	}
	store->writer = w;
	return 0;
}

void store_writer_stop(struct store *store, long long flush_timeout_ms)
{
	struct store_writer *w = store->writer;

	if (w == NULL)
		return;
	if (w->thread_started) {
		pthread_mutex_lock(&w->lock);
		w->stopping = true;
		w->stop_deadline = deadline_ms(flush_timeout_ms);
		pthread_cond_broadcast(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	if (w->lost > 0 || (w->cap > 0 && w->dropped > 0))
		log_warning("database %s: decision writer stopped: %llu rows written, %llu not "
			    "written in time at close, %llu dropped (queue full)", w->name,
			    (unsigned long long)w->written, (unsigned long long)w->lost,
			    (unsigned long long)w->dropped);
	writer_free(w);
	store->writer = NULL;
}

int store_writer_flush(struct store *store, long long timeout_ms)
{
	struct store_writer *w = store->writer;
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

void store_writer_stats(struct store *store, uint64_t *written_r, uint64_t *dropped_r)
{
	struct store_writer *w = store->writer;

	*written_r = *dropped_r = 0;
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	*written_r = w->written;
	*dropped_r = w->dropped;
	pthread_mutex_unlock(&w->lock);
}

/*
 * NAME
 *	check_store_writer_fake 1
 * SUMMARY
 *	tests for the backend-neutral decision writer, with a fake backend
 * DESCRIPTION
 *	The fake backend's decision_write follows a plan, one letter per
 *	attempt: O writes, F fails, B answers busy, C writes and then
 *	answers a failure (a connection that broke after the COMMIT was
 *	sent), W waits until the test lets it go and then writes. Like
 *	PostgreSQL's unique key, it stores a row whose identity (writer,
 *	seq) it already has only once, and counts the copy it skipped. The
 *	table of cases checks what was stored, the counters, the attempts,
 *	and the warnings (stderr) against what each case wants. Timing
 *	bounds are generous: the machine may be busy.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "store_backend.h"
#include "store_writer.h"
#include "test_tmpdir.h"
#include "test_run.h"

#define FAKE_ROWS 64

struct fake {
	struct store base;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *plan;		/* one letter per attempt; past its end: O */
	unsigned attempts;
	bool released;			/* W: the test let the writer go */
	bool waiting;			/* W: the writer is held */
	uint64_t writer;
	uint64_t seqs[FAKE_ROWS];	/* the stored rows' identities */
	char recipients[FAKE_ROWS][1100];
	int64_t ts[FAKE_ROWS];
	char verdicts[FAKE_ROWS][16];	/* "(null)" for NULL */
	unsigned stored, skipped;
	uint64_t prev_seqs[FAKE_ROWS];	/* the last attempt's rows */
	unsigned prev_count;
	bool prev_failed;
	bool same_rows;			/* every retry had the failed attempt's rows */
};

static bool stored_already(const struct fake *f, uint64_t writer, uint64_t seq)
{
	for (unsigned i = 0; i < f->stored; i++)
		if (f->writer == writer && f->seqs[i] == seq)
			return true;
	return false;
}

/* store - write the batch the way a unique key would */
static void store_rows(struct fake *f, const struct store_writer_batch *b)
{
	for (unsigned i = 0; i < b->count; i++) {
		const char *rcpt = store_writer_field(b->rows[i], SW_RECIPIENT);
		const char *verdict = store_writer_field(b->rows[i], SW_VERDICT);

		if (stored_already(f, b->writer, b->rows[i]->seq) || f->stored == FAKE_ROWS) {
			f->skipped++;
			continue;
		}
		f->writer = b->writer;
		f->seqs[f->stored] = b->rows[i]->seq;
		f->ts[f->stored] = b->rows[i]->ts;
		snprintf(f->recipients[f->stored], sizeof f->recipients[0], "%s",
			 rcpt != NULL ? rcpt : "(null)");
		snprintf(f->verdicts[f->stored], sizeof f->verdicts[0], "%s",
			 verdict != NULL ? verdict : "(null)");
		f->stored++;
	}
}

static int fake_write(struct store *store, const struct store_writer_batch *b, char **error_r)
{
	struct fake *f = (struct fake *)store;
	char step;
	int rc = STORE_WRITE_OK;

	pthread_mutex_lock(&f->lock);
	step = f->attempts < strlen(f->plan) ? f->plan[f->attempts] : 'O';
	f->attempts++;
	/* A retry must carry the same rows as the attempt that failed. */
	if (f->prev_failed && f->prev_count != b->count)
		f->same_rows = false;
	for (unsigned i = 0; f->prev_failed && i < f->prev_count && i < b->count; i++)
		if (f->prev_seqs[i] != b->rows[i]->seq)
			f->same_rows = false;
	f->prev_count = b->count < FAKE_ROWS ? b->count : FAKE_ROWS;
	for (unsigned i = 0; i < f->prev_count; i++)
		f->prev_seqs[i] = b->rows[i]->seq;
	f->prev_failed = step == 'F' || step == 'B' || step == 'C';
	switch (step) {
	case 'W':
		f->waiting = true;
		pthread_cond_broadcast(&f->cond);
		while (!f->released)
			pthread_cond_wait(&f->cond, &f->lock);
		f->waiting = false;
		store_rows(f, b);
		break;
	case 'F':
		rc = error_r_set(error_r, "fake failure %u", f->attempts);
		break;
	case 'B':
		rc = STORE_WRITE_BUSY;
		break;
	case 'C':
		store_rows(f, b);
		rc = error_r_set(error_r, "connection lost after the commit");
		break;
	default:
		store_rows(f, b);
	}
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static const struct store_ops fake_ops = { .name = "fake", .decision_write = fake_write };

static struct fake *fake_new(const char *plan, unsigned queue_max)
{
	struct fake *f = calloc(1, sizeof *f);
	char *error = NULL;

	ck_assert_ptr_nonnull(f);
	f->base.ops = &fake_ops;
	f->plan = plan;
	f->same_rows = true;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	if (store_writer_start(&f->base, queue_max, "fake", &error) < 0)
		ck_abort_msg("store_writer_start: got \"%s\", want success", error);
	return f;
}

static void fake_free(struct fake *f, long long flush_ms)
{
	store_writer_stop(&f->base, flush_ms);
	ck_assert_ptr_null(f->base.writer);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* wait_held - wait until a W step holds the writer */
static void wait_held(struct fake *f)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&f->lock);
	while (!f->waiting)
		if (pthread_cond_timedwait(&f->cond, &f->lock, &until) != 0)
			break;
	ck_assert_msg(f->waiting, "writer held in decision_write: got no, want yes");
	pthread_mutex_unlock(&f->lock);
}

static void release(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->released = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* stderr into a file, to count the warnings */
static char err_path[200];
static int saved_stderr = -1;

static void capture_start(void)
{
	const char *dir = test_tmpdir_create("check_store_writer_fake");

	snprintf(err_path, sizeof err_path, "%s/stderr", dir);
	fflush(stderr);
	saved_stderr = dup(2);
	ck_assert(freopen(err_path, "w", stderr) != NULL);
}

/* capture_count - stop capturing; how many lines hold needle */
static unsigned capture_count(const char *needle)
{
	char line[2048];
	unsigned n = 0;
	FILE *fp;

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	if ((fp = fopen(err_path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(fp);
	test_tmpdir_remove();
	return n;
}

static struct store_decision row(const char *recipient)
{
	struct store_decision d = { 1795698401, "policyd", "192.0.2.1", "alice",
				    "alice@example.org", recipient, "permit", "sasl",
				    "authenticated", "4XyZ1" };

	return d;
}

/* Rows queued at once, then a flush: what the plan makes of them. */
static const struct {
	const char *label;
	const char *plan;
	unsigned rows;
	unsigned want_attempts;	/* one batch: every attempt is a retry of it */
	unsigned want_skipped;	/* copies a unique key turned away */
	unsigned want_warnings;	/* "decision rows failed" lines */
} retry_cases[] = {
	{ "written at once", "", 10, 1, 0, 0 },
	{ "failures retried until written", "FFF", 10, 4, 0, 1 },
	{ "busy retried without a warning", "BB", 10, 3, 0, 0 },
	{ "commit lost twice: retried, each row stored once", "CC", 10, 3, 20, 1 },
	{ "a mix of all three", "BCFC", 7, 5, 14, 1 },
};

START_TEST(test_retry)
{
	struct fake *f;
	uint64_t written, dropped;
	char rcpt[32];
	unsigned warnings;

	capture_start();
	f = fake_new(retry_cases[_i].plan, 100);
	for (unsigned i = 0; i < retry_cases[_i].rows; i++) {
		struct store_decision d = row(rcpt);

		snprintf(rcpt, sizeof rcpt, "r%u@example.net", i);
		ck_assert_int_eq(store_decision_queue(&f->base, &d), 0);
	}
	ck_assert_msg(store_decision_flush(&f->base, 10000) == 0, "%s: flush: got -1, want 0",
		      retry_cases[_i].label);
	store_decision_stats(&f->base, &written, &dropped);
	warnings = capture_count("decision rows failed");
	ck_assert_msg(f->stored == retry_cases[_i].rows && written == retry_cases[_i].rows
		      && dropped == 0,
		      "%s: got %u stored, %llu written, %llu dropped; want %u, %u, 0",
		      retry_cases[_i].label, f->stored, (unsigned long long)written,
		      (unsigned long long)dropped, retry_cases[_i].rows, retry_cases[_i].rows);
	ck_assert_msg(f->attempts == retry_cases[_i].want_attempts
		      && f->skipped == retry_cases[_i].want_skipped && f->same_rows,
		      "%s: got %u attempts, %u copies skipped, same rows %d; want %u, %u, 1",
		      retry_cases[_i].label, f->attempts, f->skipped, f->same_rows,
		      retry_cases[_i].want_attempts, retry_cases[_i].want_skipped);
	ck_assert_msg(warnings == retry_cases[_i].want_warnings,
		      "%s: warnings: got %u, want %u (at most one a minute)",
		      retry_cases[_i].label, warnings, retry_cases[_i].want_warnings);
	/* In queue order, numbered from 1, each recipient once. */
	for (unsigned i = 0; i < f->stored; i++) {
		snprintf(rcpt, sizeof rcpt, "r%u@example.net", i);
		ck_assert_msg(f->seqs[i] == i + 1 && strcmp(f->recipients[i], rcpt) == 0,
			      "%s: row %u: got seq %llu %s, want %u %s", retry_cases[_i].label, i,
			      (unsigned long long)f->seqs[i], f->recipients[i], i + 1, rcpt);
	}
	fake_free(f, 1000);
}
END_TEST

/* A ring of 4 while the writer is held with the first row: 4 more fit,
   the rest are dropped, counted, and warned about once. */
START_TEST(test_full_queue_drops)
{
	struct fake *f;
	struct store_decision d = row("full@example.net");
	uint64_t written, dropped;
	unsigned accepted = 0, warnings;

	capture_start();
	f = fake_new("W", 4);
	ck_assert_int_eq(store_decision_queue(&f->base, &d), 0);
	/* The writer takes it with the next three once the ring is full. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_decision_queue(&f->base, &d), 0);
	wait_held(f);
	for (int i = 0; i < 10; i++)
		if (store_decision_queue(&f->base, &d) == 0)
			accepted++;
	store_decision_stats(&f->base, &written, &dropped);
	ck_assert_msg(accepted == 4 && dropped == 6 && written == 0,
		      "while held: got %u accepted, %llu dropped, %llu written; want 4, 6, 0",
		      accepted, (unsigned long long)dropped, (unsigned long long)written);
	release(f);
	ck_assert_int_eq(store_decision_flush(&f->base, 10000), 0);
	store_decision_stats(&f->base, &written, &dropped);
	warnings = capture_count("decision queue full (4 rows)");
	ck_assert_msg(written == 8 && dropped == 6 && f->stored == 8,
		      "after: got %llu written, %llu dropped, %u stored; want 8, 6, 8",
		      (unsigned long long)written, (unsigned long long)dropped, f->stored);
	ck_assert_msg(warnings == 1, "queue full warnings: got %u, want 1", warnings);
	fake_free(f, 1000);
}
END_TEST

/* flush returns -1 at its deadline while the batch is held, 0 after. */
START_TEST(test_flush_deadline)
{
	struct fake *f = fake_new("W", 100);
	struct store_decision d = row("flush@example.net");
	double t0, took;

	ck_assert_int_eq(store_decision_queue(&f->base, &d), 0);
	t0 = now_ms();
	ck_assert_msg(store_decision_flush(&f->base, 300) == -1,
		      "flush while held: got 0, want -1");
	took = now_ms() - t0;
	ck_assert_msg(took >= 290 && took < 3000, "flush(300) took %.0f ms, want 300..3000",
		      took);
	wait_held(f);
	release(f);
	ck_assert_int_eq(store_decision_flush(&f->base, 10000), 0);
	ck_assert_uint_eq(f->stored, 1);
	fake_free(f, 1000);
}
END_TEST

/* A database that never takes the rows: stop gives up at its deadline,
   says how many were not written, and the queue accepts nothing more. */
START_TEST(test_stop_deadline)
{
	struct fake *f;
	struct store_decision d = row("never@example.net");
	double t0, took;
	unsigned said;

	capture_start();
	f = fake_new("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 100);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(store_decision_queue(&f->base, &d), 0);
	t0 = now_ms();
	store_writer_stop(&f->base, 300);
	took = now_ms() - t0;
	said = capture_count("0 rows written, 5 not written in time at close, 0 dropped");
	ck_assert_msg(took >= 250 && took < 3000, "stop(300) took %.0f ms, want 300..3000", took);
	ck_assert_msg(said == 1 && f->stored == 0,
		      "stop: got %u log lines, %u stored; want 1, 0", said, f->stored);
	ck_assert_int_eq(store_decision_queue(&f->base, &d), -1);
	fake_free(f, 0);
}
END_TEST

/* decision_queue_max 0: no thread, every row dropped and counted, no
   warning, flush has nothing to wait for. */
START_TEST(test_no_queue)
{
	struct fake *f;
	struct store_decision d = row("none@example.net");
	uint64_t written, dropped;
	unsigned warnings;

	capture_start();
	f = fake_new("", 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_decision_queue(&f->base, &d), -1);
	ck_assert_int_eq(store_decision_flush(&f->base, 10), 0);
	store_decision_stats(&f->base, &written, &dropped);
	fake_free(f, 100);
	warnings = capture_count("decision");
	ck_assert_msg(written == 0 && dropped == 3 && warnings == 0,
		      "got %llu written, %llu dropped, %u warnings; want 0, 3, 0",
		      (unsigned long long)written, (unsigned long long)dropped, warnings);
}
END_TEST

/* What the backend gets of a row: fields cut on a character boundary,
   a NULL verdict made "" (NOT NULL in the schemas), a zero time made now, one writer identity for all. */
START_TEST(test_row_copy)
{
	static const struct {
		const char *label;
		size_t a_count;		/* 'a' bytes before the tail */
		const char *tail;
		size_t want_len;
	} cuts[] = {
		{ "short kept", 10, "", 10 },
		{ "exactly 1024 kept", 1024, "", 1024 },
		{ "ASCII cut at 1024", 1500, "", 1024 },
		{ "2-byte character across 1024 dropped whole", 1023, "\xc3\xa9", 1023 },
		{ "4-byte character across 1024 dropped whole", 1022, "\xf0\x9f\x98\x80", 1022 },
		{ "4-byte character ending at 1024 kept", 1020, "\xf0\x9f\x98\x80", 1024 },
	};
	size_t n = sizeof cuts / sizeof cuts[0];
	struct fake *f = fake_new("", 100);
	char text[1600];
	time_t before = time(NULL);

	for (size_t i = 0; i < n; i++) {
		struct store_decision d = row(text);

		memset(text, 'a', cuts[i].a_count);
		strcpy(text + cuts[i].a_count, cuts[i].tail);
		d.ts = i == 0 ? 0 : 7;
		d.verdict = i == 1 ? NULL : "permit";
		ck_assert_int_eq(store_decision_queue(&f->base, &d), 0);
	}
	ck_assert_int_eq(store_decision_flush(&f->base, 10000), 0);
	ck_assert_uint_eq(f->stored, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strlen(f->recipients[i]) == cuts[i].want_len,
			      "%s: got %zu bytes, want %zu", cuts[i].label,
			      strlen(f->recipients[i]), cuts[i].want_len);
	ck_assert_msg(strcmp(f->verdicts[0], "permit") == 0 && strcmp(f->verdicts[1], "") == 0,
		      "verdicts: got \"%s\" and \"%s\", want \"permit\" and \"\" (NOT NULL)",
		      f->verdicts[0], f->verdicts[1]);
	ck_assert_msg(f->ts[0] >= before && f->ts[0] <= time(NULL) && f->ts[1] == 7,
		      "ts: got %lld and %lld, want now and 7", (long long)f->ts[0],
		      (long long)f->ts[1]);
	fake_free(f, 1000);
}
END_TEST

/* Two writers (two processes, two stores) have different identities. */
START_TEST(test_writer_identity)
{
	struct fake *a = fake_new("", 10), *b = fake_new("", 10);
	struct store_decision d = row("id@example.net");

	ck_assert_int_eq(store_decision_queue(&a->base, &d), 0);
	ck_assert_int_eq(store_decision_queue(&b->base, &d), 0);
	ck_assert_int_eq(store_decision_flush(&a->base, 10000), 0);
	ck_assert_int_eq(store_decision_flush(&b->base, 10000), 0);
	ck_assert_msg(a->stored == 1 && b->stored == 1 && a->writer != b->writer
		      && a->seqs[0] == 1 && b->seqs[0] == 1,
		      "got writers %llx and %llx, seqs %llu and %llu; want two writers, 1 and 1",
		      (unsigned long long)a->writer, (unsigned long long)b->writer,
		      (unsigned long long)a->seqs[0], (unsigned long long)b->seqs[0]);
	fake_free(a, 1000);
	fake_free(b, 1000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_writer_fake");
	TCase *tc = tcase_create("writer");

	log_set_level(LOG_LEVEL_WARNING);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_retry, 0, sizeof retry_cases / sizeof retry_cases[0]);
	tcase_add_test(tc, test_full_queue_drops);
	tcase_add_test(tc, test_flush_deadline);
	tcase_add_test(tc, test_stop_deadline);
	tcase_add_test(tc, test_no_queue);
	tcase_add_test(tc, test_row_copy);
	tcase_add_test(tc, test_writer_identity);
	suite_add_tcase(s, tc);
	return test_run(s);
}

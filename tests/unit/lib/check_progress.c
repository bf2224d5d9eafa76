/*
 * NAME
 *	check_progress 1
 * SUMMARY
 *	unit tests for lib/progress
 * DESCRIPTION
 *	A table of (unit, done, total, elapsed) with the exact line that
 *	progress_format() must print; the drawing rules (nothing through a
 *	pipe unless forced, nothing when quiet, the wipe before a summary)
 *	checked on a pipe's bytes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct format_case {
	const char *label;
	enum progress_unit unit;
	uint64_t done, total;
	double elapsed;
	const char *note;
	const char *want;
};

static const struct format_case format_cases[] = {
	{"bytes, no rate in the first second", PROGRESS_BYTES, 512, 2048, 0.5, NULL,
	 "scan: 512 B of 2.0 KiB (25%)"},
	{"bytes with rate and time left", PROGRESS_BYTES, 40 << 20, 80 << 20, 2.0, NULL,
	 "scan: 40.0 MiB of 80.0 MiB (50%), 20.0 MiB/s, 2s left"},
	{"bytes, total unknown: no time left", PROGRESS_BYTES, 3 << 20, 0, 3.0, NULL,
	 "scan: 3.0 MiB, 1.0 MiB/s"},
	{"bytes, done: 100% and nothing left", PROGRESS_BYTES, 1 << 30, 1 << 30, 4.0, NULL,
	 "scan: 1.0 GiB of 1.0 GiB (100%), 256.0 MiB/s"},
	{"bytes, past the total (file grew)", PROGRESS_BYTES, 3000, 2048, 1.0, NULL,
	 "scan: 2.9 KiB of 2.0 KiB (100%), 2.9 KiB/s"},
	{"rows with separators, minutes left", PROGRESS_ROWS, 120000, 1000000, 10.0, NULL,
	 "prune: 120,000 of 1,000,000 rows (12%), 12,000 rows/s, 1m13s left"},
	{"rows, hours left", PROGRESS_ROWS, 1000, 10000000, 1.0, NULL,
	 "prune: 1,000 of 10,000,000 rows (0%), 1,000 rows/s, 2h46m left"},
	{"rows, nothing done yet: no rate", PROGRESS_ROWS, 0, 500, 5.0, NULL,
	 "prune: 0 of 500 rows (0%)"},
	{"rows, total unknown", PROGRESS_ROWS, 999, 0, 1.0, NULL, "prune: 999 rows, 999 rows/s"},
	{"busy: elapsed and a note", PROGRESS_BUSY, 0, 0, 61.4, "scanning every decision row",
	 "prune: 1m01s; scanning every decision row"},
	{"busy: under a minute", PROGRESS_BUSY, 0, 0, 1.2, NULL, "prune: 1s"},
	{"busy: past an hour drops seconds", PROGRESS_BUSY, 0, 0, 3725.0, NULL, "prune: 1h02m"},
};

START_TEST(test_format)
{
	const struct format_case *c = &format_cases[_i];
	const char *what = c->unit == PROGRESS_BYTES ? "scan" : "prune";
	char buf[256];

	progress_format(buf, sizeof buf, what, c->unit, c->done, c->total, c->elapsed, c->note);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->label, buf,
		      c->want);
}
END_TEST

START_TEST(test_format_small_buffer)
{
	char buf[8];

	memset(buf, 'x', sizeof buf);
	progress_format(buf, sizeof buf, "scan", PROGRESS_ROWS, 123456, 0, 0, NULL);
	ck_assert_msg(memchr(buf, 0, sizeof buf) != NULL, "not NUL-terminated");
	ck_assert_str_eq(buf, "scan: 1");
}
END_TEST

/* pipe_open - a FILE that writes into a pipe; *read_fd_r its other end */
static FILE *pipe_open(int *read_fd_r)
{
	int fds[2];
	FILE *w;

	ck_assert_int_eq(pipe(fds), 0);
	w = fdopen(fds[1], "w");
	ck_assert_ptr_nonnull(w);
	*read_fd_r = fds[0];
	return w;
}

/* pipe_read - closes w and reads what went through the pipe */
static void pipe_read(FILE *w, int read_fd, char *out, size_t size)
{
	ssize_t n;

	fclose(w);
	n = read(read_fd, out, size - 1);
	out[n < 0 ? 0 : n] = 0;
	close(read_fd);
}

/* drawn - what a progress run writes to a pipe: a first update (drawn at
   once), a second too soon to draw, a third after the redraw interval,
   the end */
static void drawn(enum progress_mode mode, char *out, size_t size)
{
	int rfd;
	FILE *w = pipe_open(&rfd);
	struct progress p;

	progress_start(&p, mode, w, "scan", PROGRESS_ROWS, 10);
	progress_update(&p, 1, 0);
	progress_update(&p, 2, 0);	/* too soon: not drawn */
	usleep((PROGRESS_REDRAW_MS + 20) * 1000);
	progress_update(&p, 5, 0);
	progress_end(&p);
	pipe_read(w, rfd, out, size);
}

/* What each mode draws through a pipe (drawn()'s updates). */
static const struct mode_case {
	const char *label;
	enum progress_mode mode;
	const char *want;
} mode_cases[] = {
	{"auto: nothing through a pipe", PROGRESS_AUTO, ""},
	{"quiet: nothing", PROGRESS_QUIET, ""},
	{"forced: two lines, then the wipe", PROGRESS_ALWAYS,
	 "\rscan: 1 of 10 rows (10%)\033[K\rscan: 5 of 10 rows (50%)\033[K\r\033[K"},
};

START_TEST(test_modes)
{
	const struct mode_case *c = &mode_cases[_i];
	char out[256];

	drawn(c->mode, out, sizeof out);
	ck_assert_msg(strcmp(out, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->label, out,
		      c->want);
}
END_TEST

START_TEST(test_busy_waits_a_second)
{
	int rfd;
	FILE *w = pipe_open(&rfd);
	struct progress p;
	char out[256];

	progress_start(&p, PROGRESS_ALWAYS, w, "audit", PROGRESS_BUSY, 0);
	p.note = "reading";
	progress_update(&p, 0, 0);	/* before PROGRESS_BUSY_FIRST_MS: nothing */
	p.start.tv_sec -= 2;		/* as if two seconds had passed */
	progress_update(&p, 0, 0);
	progress_end(&p);
	pipe_read(w, rfd, out, sizeof out);
	ck_assert_msg(strcmp(out, "\raudit: 2s; reading\033[K\r\033[K") == 0,
		      "got \"%s\", want the busy line after a second only", out);
}
END_TEST

static Suite *progress_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_format, 0, N(format_cases));
	tcase_add_test(tc, test_format_small_buffer);
	tcase_add_loop_test(tc, test_modes, 0, N(mode_cases));
	tcase_add_test(tc, test_busy_waits_a_second);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(progress_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

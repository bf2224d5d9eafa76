/*
 * NAME
 *	check_commit_group 1
 * SUMMARY
 *	logins from many threads: each committed once, a bad one failing alone
 * DESCRIPTION
 *	THREADS threads each write PER_THREAD logins of their own through
 *	one commit group into a real database; every call must return 0 and
 *	every login must be in grant_log exactly once. Then, with the same
 *	threads, every tenth login is invalid (an expiry not after its login
 *	time): exactly those calls fail, with the store's error, and every
 *	other login is written (a batch that fails is written one by one).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit_group.h"
#include "log.h"
#include "test_tmpdir.h"

#define THREADS 8
#define PER_THREAD 200

static char path[128];
static struct store *store;
static struct commit_group *group;
static bool with_bad;
static int failures[THREADS], bad_errors[THREADS];

static void setup(void)
{
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 5000,
				     .program = "test" };
	char *error = NULL;

	snprintf(path, sizeof path, "%s/g.db", test_tmpdir_create("check_commit_group"));
	if (store_open(path, &opts, &store, &error) < 0)
		ck_abort_msg("store_open: %s", error);
	ck_assert_int_eq(commit_group_create(store, &group), 0);
}

static void teardown(void)
{
	commit_group_free(&group);
	store_close(&store, 1000);
	test_tmpdir_remove();
}

static void *writer(void *arg)
{
	int t = (int)(long)arg;

	for (int i = 0; i < PER_THREAD; i++) {
		struct store_login l;
		char line[64], *error = NULL;
		bool bad = with_bad && i % 10 == 0;

		memset(&l, 0, sizeof l);
		snprintf(line, sizeof line, "10.%d.%d.%d", t, i / 256, i % 256);
		ck_assert_int_eq(ipaddr_parse(line, &l.net), 0);
		l.prefix_len = 32;
		snprintf(l.username, sizeof l.username, "u%d", t);
		snprintf(l.service, sizeof l.service, "pop3");
		snprintf(l.source, sizeof l.source, "dovecot-auth-policy");
		snprintf(l.session, sizeof l.session, "s%dx%d", t, i);
		snprintf(line, sizeof line, "thread %d login %d", t, i);
		l.line = line;
		l.login_time = 1000;
		l.expires_at = bad ? 1000 : 2800;
		if (commit_group_write(group, &l, &error) < 0) {
			failures[t]++;
			if (bad && error != NULL && strstr(error, "expiry") != NULL)
				bad_errors[t]++;
			free(error);
		}
	}
	return NULL;
}

static int count_cb(int ncols, const char *const *names, const char *const *values, void *ctx)
{
	long long *out = ctx;

	(void)names;
	ck_assert_int_eq(ncols, 2);
	ck_assert_msg(strcmp(values[0], values[1]) == 0, "grant_log: %s rows but %s distinct lines",
		      values[0], values[1]);
	*out = atoll(values[0]);
	return 0;
}

static long long logged(void)
{
	long long n = -1;
	char *error = NULL;

	if (store_query(store, "SELECT count(*), count(DISTINCT line) FROM grant_log", count_cb, &n,
			&error) < 0)
		ck_abort_msg("store_query: %s", error);
	return n;
}

static void run_threads(void)
{
	pthread_t th[THREADS];

	memset(failures, 0, sizeof failures);
	memset(bad_errors, 0, sizeof bad_errors);
	for (long t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, writer, (void *)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
}

START_TEST(test_all_written_once)
{
	with_bad = false;
	run_threads();
	for (int t = 0; t < THREADS; t++)
		ck_assert_msg(failures[t] == 0, "thread %d: got %d failed writes, want 0", t,
			      failures[t]);
	ck_assert_msg(logged() == THREADS * PER_THREAD, "grant_log: got %lld rows, want %d",
		      logged(), THREADS * PER_THREAD);
}
END_TEST

START_TEST(test_bad_login_fails_alone)
{
	with_bad = true;
	run_threads();
	for (int t = 0; t < THREADS; t++)
		ck_assert_msg(failures[t] == PER_THREAD / 10 && bad_errors[t] == PER_THREAD / 10,
			      "thread %d: got %d failed writes (%d naming the expiry), want %d", t,
			      failures[t], bad_errors[t], PER_THREAD / 10);
	ck_assert_msg(logged() == THREADS * (PER_THREAD - PER_THREAD / 10),
		      "grant_log: got %lld rows, want %d", logged(),
		      THREADS * (PER_THREAD - PER_THREAD / 10));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("commit_group");
	TCase *tc = tcase_create("threads");
	SRunner *sr;
	int failed;

	log_set_level(LOG_LEVEL_ERROR);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_all_written_once);
	tcase_add_test(tc, test_bad_login_fails_alone);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

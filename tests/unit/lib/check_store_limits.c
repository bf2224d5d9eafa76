/*
 * NAME
 *	check_store_limits 1
 * SUMMARY
 *	unit tests: the contract of limit rows, counters and refusals, on
 *	both backends
 * DESCRIPTION
 *	Which row wins (user, domain, none); a table of charges against
 *	one subject (ask, add, cross, a multi-recipient message) and what
 *	the limit_usage view then shows; the atomicity of adding, with
 *	processes charging one subject at once (on PostgreSQL each process
 *	is a host of its own: its own connections); refusals leading to one
 *	notification and a suspension, seen by the lookup at once.
 *
 *	The same tests run on a fresh SQLite file, then on a private
 *	PostgreSQL 15 (test_pg.h; skipped when it is not installed), whose
 *	tables are emptied before each test. PostgreSQL only: a charge
 *	whose lock another session holds fails within its deadline, never
 *	answering "within", and works again once the lock is gone; with
 *	the server stopped a charge is an error, and after it is back a
 *	charge works again without reopening the store.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "test_pg.h"
#include "test_tmpdir.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char path[600];		/* the database: a file, or the server's conninfo */
static const char *password_file;	/* PostgreSQL's */
static bool on_pgsql;

static void setup(void)
{
	snprintf(path, sizeof path, "%s/authrelay.db", test_tmpdir_create("check_store_limits"));
}

/* setup_pgsql - the shared server, emptied (the daemons' role may
   delete rows, not truncate) */
static void setup_pgsql(void)
{
	PGconn *conn = test_pg_session("authrelay", test_pg.passfile);
	PGresult *res = PQexec(conn, "DELETE FROM limit_rules; DELETE FROM limit_counts; "
				     "DELETE FROM limit_refusals; DELETE FROM users; "
				     "DELETE FROM admin_actions");

	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "empty the tables: %s",
		      PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(conn);
	snprintf(path, sizeof path, "%s", test_pg.conninfo);
}

/* store_new - opened as a daemon opens it (a decision queue: on
   PostgreSQL the rules are answered from memory) */
static struct store *store_new(enum store_open_mode mode)
{
	struct store_options opts = { .mode = mode, .busy_timeout_ms = 10000, .program = "test",
				      .decision_queue_max = 100, .password_file = password_file };
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(path, &opts, &store, &error) < 0)
		ck_abort_msg("store_open(%s): got error \"%s\", want success", path, error);
	return store;
}

static int first_value(int ncols, const char *const *names, const char *const *values,
		       void *ctx)
{
	(void)names;
	snprintf(ctx, 64, "%s", ncols > 0 && values[0] != NULL ? values[0] : "NULL");
	return 1;
}

/* query_value - the first column of the first row, as text ("" for none) */
static void query_value(struct store *store, const char *sql, char out[64])
{
	char *error = NULL;

	out[0] = '\0';
	ck_assert_msg(store_query(store, sql, first_value, out, &error) == 0, "%s: %s", sql, error);
}

static struct limit_spec spec_of(const char *text)
{
	struct limit_spec spec;
	char *error = NULL;

	if (limit_spec_parse(text, &spec, &error) != 0)
		ck_abort_msg("limit_spec_parse(%s): %s", text, error);
	return spec;
}

static void set_ok(struct store *store, const char *subject, enum store_limit_kind kind,
		   const char *text)
{
	struct limit_spec spec = spec_of(text);
	char *error = NULL;

	if (store_limit_set(store, subject, kind, &spec, "test", &error) != 0)
		ck_abort_msg("limit set %s %s: %s", subject, text, error);
}

static const struct {
	const char *label, *user;
	enum store_limit_kind kind;
	enum lookup_result want;
	const char *want_spec;
} rule_cases[] = {
	{"user's own row", "alice@example.org", STORE_LIMIT_RECIPIENTS, LOOKUP_FOUND, "5/1h"},
	{"user row wins over the domain's", "alice@example.org", STORE_LIMIT_MESSAGES, LOOKUP_FOUND,
	 "unlimited"},
	{"domain row for a user without one", "bob@example.org", STORE_LIMIT_RECIPIENTS,
	 LOOKUP_FOUND, "50/1h, 500/1d"},
	{"domain row of the other kind", "bob@example.org", STORE_LIMIT_MESSAGES, LOOKUP_NOT_FOUND,
	 NULL},
	{"another domain: the default", "bob@example.net", STORE_LIMIT_RECIPIENTS, LOOKUP_NOT_FOUND,
	 NULL},
	{"a name without a domain", "carol", STORE_LIMIT_RECIPIENTS, LOOKUP_NOT_FOUND, NULL},
	{"the domain is the last '@'s", "x@y@example.org", STORE_LIMIT_RECIPIENTS, LOOKUP_FOUND,
	 "50/1h, 500/1d"},
	{"a name that is a domain's key is not its domain", "@example.org", STORE_LIMIT_RECIPIENTS,
	 LOOKUP_FOUND, "50/1h, 500/1d"},
};

START_TEST(test_rules)
{
	struct store *store = store_new(STORE_OPEN_CREATE);
	char *error = NULL;

	set_ok(store, "alice@example.org", STORE_LIMIT_RECIPIENTS, "5/1h");
	set_ok(store, "alice@example.org", STORE_LIMIT_MESSAGES, "unlimited");
	set_ok(store, "@example.org", STORE_LIMIT_RECIPIENTS, "500/1d 50/1h");
	set_ok(store, "@example.org", STORE_LIMIT_MESSAGES, "9/1h");
	ck_assert_int_eq(store_limit_clear(store, "@example.org", "test", &error), 0);
	set_ok(store, "@example.org", STORE_LIMIT_RECIPIENTS, "500/1d 50/1h");
	for (size_t i = 0; i < N(rule_cases); i++) {
		struct limit_spec spec;
		char text[LIMIT_SPEC_TEXT_MAX];
		enum lookup_result r =
			store_limit_rule(store, rule_cases[i].user, rule_cases[i].kind, &spec);

		ck_assert_msg(r == rule_cases[i].want, "%s: got %d, want %d", rule_cases[i].label, r,
			      rule_cases[i].want);
		if (r == LOOKUP_FOUND)
			ck_assert_msg(strcmp(limit_spec_format(&spec, text, sizeof text),
					     rule_cases[i].want_spec) == 0,
				      "%s: got \"%s\", want \"%s\"", rule_cases[i].label, text,
				      rule_cases[i].want_spec);
	}
	ck_assert_msg(store_limit_clear(store, "nobody", "test", &error) == -1 && error != NULL &&
			      strstr(error, "has no limit") != NULL,
		      "clear of nothing: got \"%s\", want an error", error ? error : "success");
	free(error);
	error = NULL;
	{
		struct limit_spec none = spec_of("none");

		ck_assert_msg(store_limit_set(store, "x", STORE_LIMIT_MESSAGES, &none, "t", &error) == -1,
			      "set none: got success, want an error");
		free(error);
	}
	store_close(&store, 1000);
}
END_TEST

static const struct {
	const char *label;
	uint64_t rcpts, msgs;
	bool commit;
	int want_kind;		/* -1: within */
	uint64_t want_used_rcpts;	/* of the first window, before the charge */
} charge_cases[] = {
	{"ask on an empty counter", 1, 1, false, -1, 0},
	{"first message, 2 recipients", 2, 1, true, -1, 0},
	{"asking adds nothing", 1, 1, false, -1, 2},
	{"second message, 2 recipients", 2, 1, true, -1, 2},
	{"3 more recipients would cross 5/1h", 3, 1, true, STORE_LIMIT_RECIPIENTS, 4},
	{"the refused message added nothing", 1, 1, true, -1, 4},
	{"recipients at the limit: asking for one more crosses", 1, 1, false,
	 STORE_LIMIT_RECIPIENTS, 5},
	{"messages: 3 of 3 used, a message without recipients crosses messages", 0, 1, true,
	 STORE_LIMIT_MESSAGES, 5},
};

START_TEST(test_charges)
{
	struct store *store = store_new(STORE_OPEN_CREATE);
	struct limit_spec rcpts = spec_of("5/1h, 100/1d"), msgs = spec_of("3/1h");

	for (size_t i = 0; i < N(charge_cases); i++) {
		struct store_limit_charge c = {"alice", {&rcpts, &msgs},
					       {charge_cases[i].rcpts, charge_cases[i].msgs},
					       charge_cases[i].commit};
		struct store_limit_state state;
		char *error = NULL;

		ck_assert_msg(store_limit_charge(store, &c, &state, &error) == 0, "%s: error %s",
			      charge_cases[i].label, error);
		ck_assert_msg(state.crossed_kind == charge_cases[i].want_kind,
			      "%s: crossed kind got %d, want %d", charge_cases[i].label,
			      state.crossed_kind, charge_cases[i].want_kind);
		ck_assert_msg(state.used[STORE_LIMIT_RECIPIENTS][0] == charge_cases[i].want_used_rcpts,
			      "%s: used got %llu, want %llu", charge_cases[i].label,
			      (unsigned long long)state.used[STORE_LIMIT_RECIPIENTS][0],
			      (unsigned long long)charge_cases[i].want_used_rcpts);
		ck_assert_msg(state.used[STORE_LIMIT_RECIPIENTS][1] ==
				      state.used[STORE_LIMIT_RECIPIENTS][0],
			      "%s: the day window holds %llu, the hour %llu", charge_cases[i].label,
			      (unsigned long long)state.used[STORE_LIMIT_RECIPIENTS][1],
			      (unsigned long long)state.used[STORE_LIMIT_RECIPIENTS][0]);
		ck_assert_msg(state.now > 1700000000, "%s: the database's clock says %lld",
			      charge_cases[i].label, (long long)state.now);
	}
	{
		/* Another subject has its own counters; an unlimited kind
		   never crosses. */
		struct limit_spec unl = spec_of("unlimited");
		struct store_limit_charge c = {"bob", {&rcpts, &unl}, {5, 1000}, true};
		struct store_limit_state state;
		char *error = NULL;

		ck_assert_int_eq(store_limit_charge(store, &c, &state, &error), 0);
		ck_assert_msg(state.crossed_kind == -1, "bob: got crossed %d, want -1",
			      state.crossed_kind);
	}
	{
		/* A subject of the longest length with quotes and a
		   backslash (PostgreSQL: quoted into the statements) counts
		   like any other, in every window. */
		char odd[STORE_USER_MAX];
		struct limit_spec four = spec_of("3/1m, 5/1h, 7/1d, 9/7d");
		struct store_limit_charge c = {odd, {&four, &four}, {3, 1}, true};
		struct store_limit_state state;
		char *error = NULL;

		memset(odd, 'x', sizeof odd - 1);
		odd[sizeof odd - 1] = '\0';
		memcpy(odd, "o'brien\\\"", 9);
		ck_assert_msg(store_limit_charge(store, &c, &state, &error) == 0, "odd subject: %s",
			      error);
		ck_assert_msg(store_limit_charge(store, &c, &state, &error) == 0, "odd subject: %s",
			      error);
		ck_assert_msg(state.crossed_kind == STORE_LIMIT_RECIPIENTS && state.used[0][0] == 3 &&
				      state.used[0][3] == 3 && state.used[1][2] == 1,
			      "odd subject, second message: got crossed %d used %llu/%llu/%llu, want 0 "
			      "3/3/1", state.crossed_kind, (unsigned long long)state.used[0][0],
			      (unsigned long long)state.used[0][3],
			      (unsigned long long)state.used[1][2]);
	}
	{
		/* The audit view: what counts now, and the limit. */
		static const struct {
			const char *sql, *want;
		} views[] = {
			{"SELECT used FROM limit_usage WHERE username = 'alice' AND kind = 'recipients' "
			 "AND \"window\" = 3600", "5"},
			{"SELECT max FROM limit_usage WHERE username = 'alice' AND kind = 'recipients' "
			 "AND \"window\" = 86400", "100"},
			{"SELECT used FROM limit_usage WHERE username = 'alice' AND kind = 'messages'",
			 "3"},
			{"SELECT count(*) FROM limit_usage", "13"},
		};
		char got[64];

		for (size_t i = 0; i < N(views); i++) {
			query_value(store, views[i].sql, got);
			ck_assert_msg(strcmp(got, views[i].want) == 0, "%s: got %s, want %s",
				      views[i].sql, got, views[i].want);
		}
	}
	store_close(&store, 1000);
}
END_TEST

/* Processes charging one subject at once never get past the limit:
   8 processes x 20 attempts of one against 50/1h let exactly 50
   through. */
START_TEST(test_atomic)
{
	struct store *store = store_new(STORE_OPEN_CREATE);
	enum { PROCS = 8, TRIES = 20, LIMIT = 50 };
	int through = 0;
	int fds[PROCS][2];
	pid_t pids[PROCS];

	store_close(&store, 1000);
	for (int p = 0; p < PROCS; p++) {
		ck_assert_int_eq(pipe(fds[p]), 0);
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			struct store *s = store_new(STORE_OPEN_EXISTING);
			struct limit_spec spec = spec_of("50/1h");
			unsigned char ok = 0;

			for (int t = 0; t < TRIES; t++) {
				struct store_limit_charge c = {"mallory", {&spec, NULL}, {1, 0}, true};
				struct store_limit_state state;
				char *error = NULL;

				if (store_limit_charge(s, &c, &state, &error) == 0 &&
				    state.crossed_kind < 0)
					ok++;
				free(error);
			}
			if (write(fds[p][1], &ok, 1) != 1)
				_exit(2);
			store_close(&s, 1000);
			_exit(0);
		}
		close(fds[p][1]);
	}
	for (int p = 0; p < PROCS; p++) {
		unsigned char ok = 0;
		int status;

		ck_assert_int_eq(read(fds[p][0], &ok, 1), 1);
		close(fds[p][0]);
		waitpid(pids[p], &status, 0);
		through += ok;
	}
	ck_assert_msg(through == LIMIT, "%d of %d attempts went through, want exactly %d", through,
		      PROCS * TRIES, LIMIT);
}
END_TEST

START_TEST(test_refusals)
{
	struct store *store = store_new(STORE_OPEN_CREATE);
	struct store_limit_refusal r = {"eve@example.org", STORE_LIMIT_RECIPIENTS, 3600, 3, 86400,
					"authrelay-policyd", false};
	static const struct {
		unsigned want_refusals;
		bool want_suspended, want_notify;
	} steps[] = {{1, false, false}, {2, false, true}, {3, true, false}, {4, false, false}};

	for (size_t i = 0; i < N(steps); i++) {
		/* No address until the second refusal: the first one did
		   not use up the window's one notification. */
		r.notify_wanted = i > 0;
		unsigned refusals = 0;
		bool suspended = false, notify = false;
		char *error = NULL;

		ck_assert_msg(store_limit_refused(store, &r, &refusals, &suspended, &notify, &error) == 0,
			      "refusal %zu: %s", i + 1, error);
		ck_assert_msg(refusals == steps[i].want_refusals && suspended == steps[i].want_suspended &&
				      notify == steps[i].want_notify,
			      "refusal %zu: got %u/%d/%d, want %u/%d/%d", i + 1, refusals, suspended,
			      notify, steps[i].want_refusals, steps[i].want_suspended,
			      steps[i].want_notify);
	}
	ck_assert_msg(store_user_suspended(store, "eve@example.org") == LOOKUP_FOUND,
		      "eve: got not suspended, want suspended");
	{
		char got[64];

		query_value(store, "SELECT count(*) FROM admin_actions WHERE action = 'user suspend' "
				   "AND subject = 'eve@example.org' AND actor = 'authrelay-policyd'", got);
		ck_assert_msg(strcmp(got, "1") == 0, "admin_log rows of the suspension: got %s, want 1",
			      got);
		query_value(store, "SELECT count(*) FROM limit_refusals WHERE notified = 1", got);
		ck_assert_msg(strcmp(got, "1") == 0, "notified refusals: got %s, want 1", got);
	}
	store_close(&store, 1000);
}
END_TEST

/* prune removes the refusals older than its time and the counters
   twice their window old, and says so in admin_log. */
START_TEST(test_prune)
{
	struct store *store = store_new(STORE_OPEN_CREATE);
	struct limit_spec spec = spec_of("5/1s");
	struct store_limit_charge c = {"walter", {&spec, NULL}, {1, 0}, true};
	struct store_limit_refusal r = {"walter", STORE_LIMIT_RECIPIENTS, 1, 0, 86400, "test", false};
	struct store_limit_state state;
	unsigned refusals;
	bool suspended, notify;
	uint64_t deleted = 0;
	char *error = NULL, got[64];

	ck_assert_int_eq(store_limit_charge(store, &c, &state, &error), 0);
	ck_assert_int_eq(store_limit_refused(store, &r, &refusals, &suspended, &notify, &error), 0);
	sleep(3);	/* the 1 s window's bucket is now over twice its window old */
	ck_assert_msg(store_prune(store, (int64_t)time(NULL) + 1, 1000, "test", &deleted, &error) == 0,
		      "prune: %s", error);
	ck_assert_msg(deleted == 2, "prune: got %llu rows deleted, want 2 (a bucket, a refusal)",
		      (unsigned long long)deleted);
	query_value(store, "SELECT count(*) FROM limit_counts", got);
	ck_assert_msg(strcmp(got, "0") == 0, "limit_counts after prune: got %s rows, want 0", got);
	query_value(store, "SELECT detail FROM admin_log WHERE action = 'prune'", got);
	ck_assert_msg(strstr(got, "limit_refusals=1 limit_counts=1") != NULL,
		      "prune's admin_log detail: got \"%s\"", got);
	store_close(&store, 1000);
}
END_TEST

/* charge_one - one adding charge of one recipient for subject against
   spec; the call's result, *crossed_r the crossed kind */
static int charge_one(struct store *store, const char *subject, const char *spec_text,
		      int *crossed_r, long long *ms_r)
{
	struct limit_spec spec = spec_of(spec_text);
	struct store_limit_charge c = {subject, {&spec, NULL}, {1, 0}, true};
	struct store_limit_state state;
	struct timespec t0, t1;
	char *error = NULL;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = store_limit_charge(store, &c, &state, &error);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(error);
	*crossed_r = rc == 0 ? state.crossed_kind : -2;
	*ms_r = (t1.tv_sec - t0.tv_sec) * 1000LL + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	return rc;
}

/* PostgreSQL: another host holding the subject's lock (a charge stuck
   in its transaction) makes a charge fail within its deadline; the lock
   gone, the next charge counts. */
START_TEST(test_pgsql_lock_held)
{
	struct store *store = store_new(STORE_OPEN_EXISTING);
	PGconn *other = test_pg_session("authrelay", test_pg.passfile);
	PGresult *res = PQexec(other, "BEGIN; SELECT pg_advisory_xact_lock(1095912537, "
				      "hashtext('trent'))");
	int crossed;
	long long ms;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "lock: %s", PQresultErrorMessage(res));
	PQclear(res);
	ck_assert_msg(charge_one(store, "trent", "5/1h", &crossed, &ms) == -1,
		      "charge while another host holds the lock: got success (crossed %d), want an "
		      "error", crossed);
	ck_assert_msg(ms < 2000, "the failed charge took %lld ms, want < 2000 (its deadline)", ms);
	PQclear(PQexec(other, "ROLLBACK"));
	PQfinish(other);
	ck_assert_msg(charge_one(store, "trent", "5/1h", &crossed, &ms) == 0 && crossed == -1,
		      "charge after the lock is gone: got %d, want within", crossed);
	store_close(&store, 1000);
}
END_TEST

/* PostgreSQL: the server stopped, a charge is an error (never within);
   back, charges work again on the same store. */
START_TEST(test_pgsql_server_away)
{
	struct store *store = store_new(STORE_OPEN_EXISTING);
	int crossed, rc = -1;
	long long ms;

	ck_assert_int_eq(charge_one(store, "victor", "5/1h", &crossed, &ms), 0);
	ck_assert_int_eq(test_pg_script("pause"), 0);
	rc = charge_one(store, "victor", "5/1h", &crossed, &ms);
	ck_assert_int_eq(test_pg_script("resume"), 0);
	ck_assert_msg(rc == -1, "charge with the server stopped: got success (crossed %d), want an "
		      "error", crossed);
	ck_assert_msg(ms < 2000, "the failed charge took %lld ms, want < 2000", ms);
	for (int i = 0; i < 100 && rc != 0; i++) {
		usleep(100000);
		rc = charge_one(store, "victor", "5/1h", &crossed, &ms);
	}
	ck_assert_msg(rc == 0 && crossed == -1, "charge after the server is back: got %d/%d, want "
		      "0/-1 within 10 s", rc, crossed);
	store_close(&store, 1000);
}
END_TEST

static Suite *store_limits_suite(void)
{
	Suite *s = suite_create(on_pgsql ? "store_limits_pgsql" : "store_limits");
	TCase *tc = tcase_create("core");

	if (on_pgsql)
		tcase_add_checked_fixture(tc, setup_pgsql, NULL);
	else
		tcase_add_checked_fixture(tc, setup, test_tmpdir_remove);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_charges);
	tcase_add_test(tc, test_atomic);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_prune);
	if (on_pgsql) {
		tcase_add_test(tc, test_pgsql_lock_held);
		tcase_add_test(tc, test_pgsql_server_away);
	}
	suite_add_tcase(s, tc);
	return s;
}

/* run - the suite on the backend set up; its failures */
static int run(void)
{
	SRunner *sr = srunner_create(store_limits_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}

int main(void)
{
	int failed, rc;

	log_set_level(LOG_LEVEL_ERROR);
	failed = run();
	/* 0: started; 1: PostgreSQL 15 is not installed (said, skipped) */
	if ((rc = test_pg_start("check_store_limits")) != 0)
		return failed == 0 && rc > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	on_pgsql = true;
	password_file = test_pg.passfile;
	failed += run();
	test_pg_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

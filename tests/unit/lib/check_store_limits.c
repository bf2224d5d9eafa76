/*
 * NAME
 *	check_store_limits 1
 * SUMMARY
 *	unit tests: limit rows, counters and refusals in a real SQLite store
 * DESCRIPTION
 *	Which row wins (user, domain, none); a table of charges against
 *	one subject (ask, add, cross, a multi-recipient message); the
 *	atomicity of adding, with processes charging one subject at once;
 *	refusals leading to one notification and a suspension.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "test_tmpdir.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char path[128];

static void setup(void)
{
	snprintf(path, sizeof path, "%s/authrelay.db", test_tmpdir_create("check_store_limits"));
}

static struct store *store_new(enum store_open_mode mode)
{
	struct store_options opts = { .mode = mode, .busy_timeout_ms = 10000, .program = "test" };
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(path, &opts, &store, &error) < 0)
		ck_abort_msg("store_open(%s): got error \"%s\", want success", path, error);
	return store;
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
	store_close(&store, 1000);
}
END_TEST

static Suite *store_limits_suite(void)
{
	Suite *s = suite_create("store_limits");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, test_tmpdir_remove);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rules);
	tcase_add_test(tc, test_charges);
	tcase_add_test(tc, test_atomic);
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_limits_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * NAME
 *	check_error_r 1
 * SUMMARY
 *	unit tests for lib/error_r
 * DESCRIPTION
 *	A table of calls with the message each must leave in *error_r, each
 *	run twice: with an error_r (message, -1, errno kept) and with NULL
 *	(-1, errno kept, nothing written).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error_r.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A message longer than any fixed buffer a caller might have guessed. */
#define LONG_LEN 5000

static char long_text[LONG_LEN + 1];

static int call_plain(char **error_r)
{
	return error_r_set(error_r, "out of memory");
}

static int call_args(char **error_r)
{
	return error_r_set(error_r, "%s: line %d: %.3s", "t.conf", 7, "abcdef");
}

static int call_percent(char **error_r)
{
	return error_r_set(error_r, "100%% sure, %s", "%s stays text");
}

static int call_empty(char **error_r)
{
	return error_r_set(error_r, "%s", "");
}

static int call_long(char **error_r)
{
	return error_r_set(error_r, "%s", long_text);
}

static int call_strerror(char **error_r)
{
	return error_r_set(error_r, "cannot open: %s", strerror(ENOENT));
}

struct set_case {
	const char *label;
	int (*call)(char **error_r);
	const char *want;	/* NULL: long_text */
};

static const struct set_case set_cases[] = {
	{"plain text", call_plain, "out of memory"},
	{"arguments formatted", call_args, "t.conf: line 7: abc"},
	{"percent signs", call_percent, "100% sure, %s stays text"},
	{"empty message", call_empty, ""},
	{"longer than a page", call_long, NULL},
	{"strerror text", call_strerror, "cannot open: No such file or directory"},
};

START_TEST(test_set)
{
	const struct set_case *c = &set_cases[_i];
	const char *want = c->want ? c->want : long_text;
	char *error = (char *)"untouched";
	int rc;

	memset(long_text, 'x', LONG_LEN);
	long_text[LONG_LEN] = 0;
	errno = EACCES;
	rc = c->call(&error);
	ck_assert_msg(rc == -1, "%s: got %d, want -1", c->label, rc);
	ck_assert_msg(errno == EACCES, "%s: errno got %d, want %d", c->label, errno, EACCES);
	ck_assert_msg(error != NULL && strcmp(error, want) == 0, "%s: got \"%.40s\" (%zu bytes), "
		      "want \"%.40s\" (%zu bytes)", c->label, error ? error : "(null)",
		      error ? strlen(error) : 0, want, strlen(want));
	free(error);

	errno = EACCES;
	rc = c->call(NULL);
	ck_assert_msg(rc == -1, "%s, NULL error_r: got %d, want -1", c->label, rc);
	ck_assert_msg(errno == EACCES, "%s, NULL error_r: errno got %d, want %d", c->label, errno,
		      EACCES);
}
END_TEST

static Suite *error_r_suite(void)
{
	Suite *s = suite_create("error_r");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_set, 0, N(set_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(error_r_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * NAME
 *	check_limit_spec 1
 * SUMMARY
 *	unit tests for lib/limit_spec
 * DESCRIPTION
 *	A table of texts with the windows they give (printed back in the
 *	canonical form, which must parse again to the same) or their exact
 *	error message.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "limit_spec.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct spec_case {
	const char *label;
	const char *input;
	const char *want;	/* limit_spec_format() of the result, when error is NULL */
	const char *error;
};

static const struct spec_case spec_cases[] = {
	{"one window", "100/1h", "100/1h", NULL},
	{"two windows", "100/1h, 1000/1d", "100/1h, 1000/1d", NULL},
	{"sorted shortest first", "1000/1d 100/1h", "100/1h, 1000/1d", NULL},
	{"commas without space", "5/1h,50/1d", "5/1h, 50/1d", NULL},
	{"extra separators", " ,5/1h ,\t 50/1d, ", "5/1h, 50/1d", NULL},
	{"four windows", "1/1s 2/1m 3/1h 4/1d", "1/1s, 2/1m, 3/1h, 4/1d", NULL},
	{"bare seconds", "10/90", "10/1m30s", NULL},
	{"sum duration", "10/1h30m", "10/1h30m", NULL},
	{"largest count", "1000000000/1d", "1000000000/1d", NULL},
	{"longest window", "1/366d", "1/366d", NULL},
	{"none", "none", "none", NULL},
	{"empty is none", "", "none", NULL},
	{"only separators is none", " , ", "none", NULL},
	{"unlimited", "unlimited", "unlimited", NULL},
	{"five windows", "1/1s 2/2s 3/3s 4/4s 5/5s", NULL, "bad limit \"5/5s\": more than 4 windows"},
	{"same window twice", "5/1h 6/60m", NULL, "bad limit \"6/60m\": two limits for the same window"},
	{"none with a window", "none 5/1h", NULL,
	 "bad limit \"5/1h\": none and unlimited must stand alone"},
	{"window then unlimited", "5/1h unlimited", NULL,
	 "bad limit \"unlimited\": none and unlimited must stand alone"},
	{"no slash", "100", NULL, "bad limit \"100\": no '/'; want N/DURATION as in 100/1h, or none"},
	{"no count", "/1h", NULL, "bad limit \"/1h\": missing count before '/'"},
	{"no duration", "5/", NULL, "bad limit \"5/\": missing duration after '/'"},
	{"zero count", "0/1h", NULL,
	 "bad limit \"0/1h\": a count of 0 allows nothing; suspend the user instead"},
	{"negative count", "-5/1h", NULL, "bad limit \"-5/1h\": the count must be digits only"},
	{"count too big", "1000000001/1h", NULL, "bad limit \"1000000001/1h\": count over 1000000000"},
	{"count overflow", "99999999999999999999999/1h", NULL,
	 "bad limit \"99999999999999999999999/1h\": count over 1000000000"},
	{"bad duration", "5/1x", NULL,
	 "bad limit \"5/1x\": bad duration \"1x\": unknown unit 'x'; use s, m, h, d or w"},
	{"zero window", "5/0s", NULL, "bad limit \"5/0s\": the window must be at least 1s"},
	{"window over a year", "5/367d", NULL, "bad limit \"5/367d\": the window may be at most 366d"},
	{"two slashes", "5/1h/2", NULL,
	 "bad limit \"5/1h/2\": bad duration \"1h/2\": unexpected '/' after a unit; sums read like 1h30m"},
	{"control character", "5/1h\x01", NULL,
	 "bad limit \"5/1h?\": bad duration \"1h?\": unexpected '?' after a unit; sums read like 1h30m"},
	{"upper case word", "NONE", NULL,
	 "bad limit \"NONE\": no '/'; want N/DURATION as in 100/1h, or none"},
};

START_TEST(test_parse)
{
	const struct spec_case *c = &spec_cases[_i];
	struct limit_spec spec, again;
	char buf[LIMIT_SPEC_TEXT_MAX], buf2[LIMIT_SPEC_TEXT_MAX];
	char *error = NULL;
	int rc;

	memset(&spec, 0x5a, sizeof spec);
	rc = limit_spec_parse(c->input, &spec, &error);
	if (c->error != NULL) {
		ck_assert_msg(rc == -1, "%s: \"%s\": got success, want error", c->label, c->input);
		ck_assert_msg(error != NULL && strcmp(error, c->error) == 0,
			      "%s: got '%s', want '%s'", c->label, error, c->error);
		ck_assert_msg(spec.count == 0x5a5a5a5au, "%s: *spec_r changed on error", c->label);
		free(error);
		return;
	}
	ck_assert_msg(rc == 0, "%s: \"%s\": got error '%s', want \"%s\"", c->label, c->input,
		      error, c->want);
	limit_spec_format(&spec, buf, sizeof buf);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->label, buf,
		      c->want);
	ck_assert_msg(limit_spec_parse(buf, &again, &error) == 0, "%s: \"%s\" does not parse back: %s",
		      c->label, buf, error);
	limit_spec_format(&again, buf2, sizeof buf2);
	ck_assert_msg(strcmp(buf, buf2) == 0, "%s: round trip: got \"%s\", want \"%s\"", c->label,
		      buf2, buf);
	ck_assert_msg(limit_spec_is_active(&spec) == (strcmp(buf, "none") != 0 &&
						      strcmp(buf, "unlimited") != 0),
		      "%s: is_active wrong for \"%s\"", c->label, buf);
}
END_TEST

static Suite *limit_spec_suite(void)
{
	Suite *s = suite_create("limit_spec");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, N(spec_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(limit_spec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

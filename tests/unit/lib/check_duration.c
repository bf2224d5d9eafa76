/*
 * NAME
 *	check_duration 1
 * SUMMARY
 *	unit tests for lib/duration
 * DESCRIPTION
 *	A table of texts with their seconds or their exact error message, and
 *	a table of seconds with their printed form (which must parse back).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct parse_case {
	const char *label;
	const char *input;
	long long want;		/* when error is NULL */
	const char *error;
};

static const struct parse_case parse_cases[] = {
	{"bare seconds", "30", 30, NULL},
	{"bare zero", "0", 0, NULL},
	{"seconds", "45s", 45, NULL},
	{"minutes", "30m", 1800, NULL},
	{"hours", "2h", 7200, NULL},
	{"days", "90d", 90 * 86400LL, NULL},
	{"weeks", "2w", 14 * 86400LL, NULL},
	{"zero with unit", "0m", 0, NULL},
	{"sum h m", "1h30m", 5400, NULL},
	{"sum all units", "1w1d1h1m1s", 7 * 86400 + 86400 + 3600 + 60 + 1, NULL},
	{"sum skipping units", "1d30s", 86430, NULL},
	{"leading zeros", "007m", 420, NULL},
	{"over 60 minutes is fine", "90m", 5400, NULL},
	{"exactly 100 years", "36525d", 36525 * 86400LL, NULL},
	{"100 years in seconds", "3155760000", 3155760000LL, NULL},
	{"empty", "", 0, "bad duration \"\": empty; want a number with s, m, h, d or w"},
	{"negative", "-5m", 0, "bad duration \"-5m\": no sign allowed"},
	{"plus", "+5m", 0, "bad duration \"+5m\": no sign allowed"},
	{"unit alone", "m", 0, "bad duration \"m\": missing number before a unit"},
	{"unknown unit", "30x", 0, "bad duration \"30x\": unknown unit 'x'; use s, m, h, d or w"},
	{"upper case unit", "30M", 0,
	 "bad duration \"30M\": unknown unit 'M'; use s, m, h, d or w"},
	{"fraction", "1.5h", 0, "bad duration \"1.5h\": unknown unit '.'; use s, m, h, d or w"},
	{"word unit", "30min", 0, "bad duration \"30min\": unexpected 'i' after a unit; sums read like 1h30m"},
	{"trailing junk", "30mx", 0, "bad duration \"30mx\": unexpected 'x' after a unit; sums read like 1h30m"},
	{"trailing space", "30m ", 0, "bad duration \"30m \": unexpected ' ' after a unit; sums read like 1h30m"},
	{"leading space", " 30m", 0, "bad duration \" 30m\": missing number before a unit"},
	{"inner space", "1h 30m", 0, "bad duration \"1h 30m\": unexpected ' ' after a unit; sums read like 1h30m"},
	{"bare number after unit", "1h30", 0,
	 "bad duration \"1h30\": a number without a unit must stand alone"},
	{"units out of order", "30m1h", 0,
	 "bad duration \"30m1h\": units must go from largest to smallest, each once"},
	{"unit twice", "1h1h", 0,
	 "bad duration \"1h1h\": units must go from largest to smallest, each once"},
	{"over 100 years", "36526d", 0, "bad duration \"36526d\": longer than 100 years (36525d)"},
	{"over 100 years by sum", "36525d1s", 0,
	 "bad duration \"36525d1s\": longer than 100 years (36525d)"},
	{"bare over limit", "3155760001", 0,
	 "bad duration \"3155760001\": longer than 100 years (36525d)"},
	{"long long overflow", "99999999999999999999999w", 0,
	 "bad duration \"99999999999999999999999w\": longer than 100 years (36525d)"},
	{"control character", "30\x01", 0,
	 "bad duration \"30?\": unknown unit '?'; use s, m, h, d or w"},
	{"hex", "0x10", 0, "bad duration \"0x10\": unknown unit 'x'; use s, m, h, d or w"},
};

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	long long got = -12345;
	char *error = NULL;
	int rc;

	rc = duration_parse(c->input, &got, &error);
	if (c->error == NULL) {
		ck_assert_msg(rc == 0, "%s: \"%s\": got error %s, want %lld", c->label, c->input,
			      error, c->want);
		ck_assert_msg(got == c->want, "%s: \"%s\": got %lld, want %lld", c->label,
			      c->input, got, c->want);
		return;
	}
	ck_assert_msg(rc == -1, "%s: \"%s\": got %lld, want error", c->label, c->input, got);
	ck_assert_msg(got == -12345, "%s: *seconds_r changed on error", c->label);
	ck_assert_msg(error != NULL && strcmp(error, c->error) == 0, "%s: got '%s', want '%s'",
		      c->label, error, c->error);
	free(error);
}
END_TEST

struct format_case {
	const char *label;
	long long seconds;
	const char *want;
};

static const struct format_case format_cases[] = {
	{"zero", 0, "0s"},
	{"seconds", 45, "45s"},
	{"minutes", 1800, "30m"},
	{"hour and a half", 5400, "1h30m"},
	{"grant default", 30 * 60, "30m"},
	{"retention default", 90 * 86400LL, "90d"},
	{"one week", 7 * 86400, "1w"},
	{"two weeks", 14 * 86400, "2w"},
	{"eight days", 8 * 86400, "8d"},
	{"all parts", 86400 + 3600 + 60 + 1, "1d1h1m1s"},
	{"day and seconds", 86430, "1d30s"},
	{"negative", -90, "-1m30s"},
	{"100 years", 36525 * 86400LL, "36525d"},
};

START_TEST(test_format)
{
	const struct format_case *c = &format_cases[_i];
	char buf[64];
	long long back = -1;
	char *error = NULL;

	duration_format(c->seconds, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: %lld: got %s, want %s", c->label, c->seconds,
		      buf, c->want);
	if (c->seconds >= 0) {
		ck_assert_msg(duration_parse(buf, &back, &error) == 0, "%s: %s: %s", c->label, buf,
			      error);
		ck_assert_msg(back == c->seconds, "%s: %s parses to %lld, want %lld", c->label,
			      buf, back, c->seconds);
	}
}
END_TEST

START_TEST(test_format_small_buffer)
{
	char buf[5];

	memset(buf, 'x', sizeof(buf));
	duration_format(86400 + 3600 + 60 + 1, buf, sizeof(buf));
	ck_assert_msg(memchr(buf, 0, sizeof(buf)) != NULL, "not NUL-terminated");
	ck_assert_str_eq(buf, "1d1h");
	duration_format(1, buf, 0);
	ck_assert_int_eq(buf[0], '1');
}
END_TEST

static Suite *duration_suite(void)
{
	Suite *s = suite_create("duration");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, N(parse_cases));
	tcase_add_loop_test(tc, test_format, 0, N(format_cases));
	tcase_add_test(tc, test_format_small_buffer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(duration_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

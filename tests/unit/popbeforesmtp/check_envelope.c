/*
 * NAME
 *	check_envelope 1
 * SUMMARY
 *	log line envelopes and the missing syslog year
 * DESCRIPTION
 *	Where the tag starts in each envelope, lines without one, and the
 *	year inferred for BSD stamps around the turn of the year, on Feb 29
 *	and with a host clock running ahead. Times are UTC (TZ set below);
 *	one case runs in a zone with an offset.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "envelope.h"

struct env_case {
	const char *label;
	const char *line;
	int want_rc;
	const char *host;	/* NULL: no host */
	const char *tag;	/* where the tag starts */
	const char *time;	/* ISO-8601 UTC, or NULL when the stamp cannot be converted */
};

/* 2026-11-26T14:00:00Z */
#define NOW ((time_t)1795701600)

static const struct env_case env_cases[] = {
	{ "BSD with host", "Nov 26 13:06:41 mail dovecot: imap-login: x", 0, "mail",
	  "dovecot: imap-login: x", "2026-11-26T13:06:41Z" },
	{ "BSD, space-padded day", "Nov  6 01:02:03 h prog[1]: m", 0, "h", "prog[1]: m",
	  "2026-11-06T01:02:03Z" },
	{ "BSD, zero-padded day, no host (Dovecot log_path)",
	  "Nov 06 01:02:03 imap-login: Info: Login: x", 0, NULL, "imap-login: Info: Login: x",
	  "2026-11-06T01:02:03Z" },
	{ "RFC 3339 with microseconds and +00:00",
	  "2026-11-26T12:51:49.954165+00:00 vm dovecot: m", 0, "vm", "dovecot: m",
	  "2026-11-26T12:51:49Z" },
	{ "RFC 3339 with Z", "2026-01-01T00:00:00Z vm p: m", 0, "vm", "p: m",
	  "2026-01-01T00:00:00Z" },
	{ "RFC 3339 with a negative offset", "2025-12-31T20:30:00-05:30 vm p: m", 0, "vm", "p: m",
	  "2026-01-01T02:00:00Z" },
	{ "RFC 3339 without fraction, +01:00", "2026-06-01T10:00:00+01:00 vm p: m", 0, "vm",
	  "p: m", "2026-06-01T09:00:00Z" },
	{ "RFC 3339, impossible date", "2026-02-30T10:00:00Z vm p: m", 0, "vm", "p: m", NULL },
	{ "BSD, impossible hour", "Nov 26 24:00:00 h p: m", -1, NULL, NULL, NULL },
	{ "BSD, month in lower case", "nov 26 13:06:41 h p: m", -1, NULL, NULL, NULL },
	{ "BSD, no tag", "Nov 26 13:06:41 h", -1, NULL, NULL, NULL },
	{ "BSD, two spaces after the stamp", "Nov 26 13:06:41  h p: m", -1, NULL, NULL, NULL },
	{ "RFC 3339, missing zone", "2026-11-26T12:51:49 vm p: m", -1, NULL, NULL, NULL },
	{ "no envelope", "dovecot: imap-login: Login: x", -1, NULL, NULL, NULL },
	{ "truncated stamp", "Nov 26 13:06", -1, NULL, NULL, NULL },
	{ "empty", "", -1, NULL, NULL, NULL },
};

static void format_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

START_TEST(test_envelope)
{
	int fails = 0;

	for (size_t i = 0; i < sizeof(env_cases) / sizeof(env_cases[0]); i++) {
		const struct env_case *c = &env_cases[i];
		struct envelope env;
		int64_t t;
		char when[32];
		int rc = envelope_parse(c->line, strlen(c->line), &env);

		if (rc != c->want_rc) {
			fprintf(stderr, "%s: got rc %d, want %d\n", c->label, rc, c->want_rc);
			fails++;
			continue;
		}
		if (rc < 0)
			continue;
		if ((c->host == NULL) != (env.host == NULL)
		    || (c->host != NULL
			&& (env.host_len != strlen(c->host)
			    || memcmp(env.host, c->host, env.host_len) != 0))) {
			fprintf(stderr, "%s: host: got \"%.*s\", want \"%s\"\n", c->label,
				(int)env.host_len, env.host ? env.host : "", c->host ? c->host : "(none)");
			fails++;
		}
		if (env.tag_len != strlen(c->tag) || memcmp(env.tag, c->tag, env.tag_len) != 0) {
			fprintf(stderr, "%s: tag: got \"%.*s\", want \"%s\"\n", c->label,
				(int)env.tag_len, env.tag, c->tag);
			fails++;
		}
		rc = envelope_time(&env, NOW, &t);
		if (c->time == NULL) {
			if (rc == 0) {
				format_time(t, when, sizeof(when));
				fprintf(stderr, "%s: time: got %s, want an error\n", c->label, when);
				fails++;
			}
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "%s: time: got an error, want %s\n", c->label, c->time);
			fails++;
			continue;
		}
		format_time(t, when, sizeof(when));
		if (strcmp(when, c->time) != 0) {
			fprintf(stderr, "%s: time: got %s, want %s\n", c->label, when, c->time);
			fails++;
		}
	}
	ck_assert_msg(fails == 0, "%d envelope case(s) failed, see above", fails);
}
END_TEST

struct year_case {
	const char *label;
	const char *now;	/* "YYYY-MM-DDTHH:MM:SS" UTC */
	int mon, mday, hh, mm, ss;
	const char *want;	/* NULL: no year fits */
};

static const struct year_case year_cases[] = {
	{ "same day", "2026-11-26T14:00:00", 10, 26, 13, 6, 41, "2026-11-26T13:06:41Z" },
	{ "Dec line read just after New Year", "2027-01-01T00:00:05", 11, 31, 23, 59, 59,
	  "2026-12-31T23:59:59Z" },
	{ "Jan line read just after New Year", "2027-01-01T00:00:05", 0, 1, 0, 0, 1,
	  "2027-01-01T00:00:01Z" },
	{ "Jan line from a host running ahead, read on Dec 31", "2026-12-31T23:59:59", 0, 1, 0,
	  0, 3, "2027-01-01T00:00:03Z" },
	{ "Dec line read on Dec 31", "2026-12-31T23:59:59", 11, 31, 23, 59, 58,
	  "2026-12-31T23:59:58Z" },
	{ "line a few hours ahead (skew) stays this year", "2026-11-26T14:00:00", 10, 26, 20, 0,
	  0, "2026-11-26T20:00:00Z" },
	{ "line two days ahead is last year's", "2026-11-26T14:00:00", 10, 28, 14, 0, 0,
	  "2025-11-28T14:00:00Z" },
	{ "old backfill: Feb line read in Nov", "2026-11-26T14:00:00", 1, 3, 8, 0, 0,
	  "2026-02-03T08:00:00Z" },
	{ "Feb 29 read in 2029 lands on 2028", "2029-01-10T00:00:00", 1, 29, 12, 0, 0,
	  "2028-02-29T12:00:00Z" },
	{ "Feb 29 read in 2026 lands on 2024", "2026-11-26T14:00:00", 1, 29, 12, 0, 0,
	  "2024-02-29T12:00:00Z" },
	{ "Feb 29 read in 2027: no leap year among the 3 tried", "2027-06-01T00:00:00", 1, 29,
	  12, 0, 0, NULL },
};

static time_t parse_utc(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	ck_assert_ptr_nonnull(strptime(s, "%Y-%m-%dT%H:%M:%S", &tm));
	return timegm(&tm);
}

START_TEST(test_year)
{
	int fails = 0;

	for (size_t i = 0; i < sizeof(year_cases) / sizeof(year_cases[0]); i++) {
		const struct year_case *c = &year_cases[i];
		int64_t t;
		char when[32];
		int rc = envelope_bsd_time(c->mon, c->mday, c->hh, c->mm, c->ss, parse_utc(c->now),
					   &t);

		if (c->want == NULL) {
			if (rc == 0) {
				format_time(t, when, sizeof(when));
				fprintf(stderr, "%s: got %s, want no year\n", c->label, when);
				fails++;
			}
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "%s: got an error, want %s\n", c->label, c->want);
			fails++;
			continue;
		}
		format_time(t, when, sizeof(when));
		if (strcmp(when, c->want) != 0) {
			fprintf(stderr, "%s: got %s, want %s\n", c->label, when, c->want);
			fails++;
		}
	}
	ck_assert_msg(fails == 0, "%d year case(s) failed, see above", fails);
}
END_TEST

/* A BSD stamp is local time: in UTC+1 "13:06:41" is 12:06:41Z. */
START_TEST(test_local_zone)
{
	struct envelope env;
	int64_t t;
	char when[32];
	const char *line = "Nov 26 13:06:41 mail p: m";

	setenv("TZ", "CET-1", 1);
	tzset();
	ck_assert_int_eq(envelope_parse(line, strlen(line), &env), 0);
	ck_assert_int_eq(envelope_time(&env, NOW, &t), 0);
	format_time(t, when, sizeof(when));
	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_msg(strcmp(when, "2026-11-26T12:06:41Z") == 0, "got %s, want 2026-11-26T12:06:41Z",
		      when);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc = tcase_create("table");
	SRunner *sr;
	int failed;

	setenv("TZ", "UTC", 1);
	tzset();
	tcase_add_test(tc, test_envelope);
	tcase_add_test(tc, test_year);
	tcase_add_test(tc, test_local_zone);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

/*
 * NAME
 *	parse_table 3h
 * SUMMARY
 *	the table runner shared by the check_parse_*.c suites
 * DESCRIPTION
 *	A case is a whole log line and what must come out of it: granted or
 *	not, and for a grant the IP (RFC 5952 text), user, service and time
 *	(ISO-8601 UTC). Every line goes through parsers_parse_line() with all
 *	parsers on, so a case also proves that no other parser takes the line.
 *	The clock is fixed at PT_NOW in UTC so that year inference is
 *	reproducible.
 */
#ifndef PARSE_TABLE_H
#define PARSE_TABLE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parsers.h"

struct parse_case {
	const char *label;
	const char *line;
	int want;		/* PARSE_LOGIN, PARSE_REFUSED or PARSE_IGNORED */
	const char *ip;		/* for PARSE_LOGIN */
	const char *user;
	const char *service;
	const char *time;	/* "2026-11-26T13:06:41Z" */
};

/* 2026-11-26T14:00:00Z: after every sample line. */
#define PT_NOW ((time_t)1795701600)

static const char *pt_result_name(int r)
{
	return r == PARSE_LOGIN ? "LOGIN" : r == PARSE_REFUSED ? "REFUSED" : "IGNORED";
}

/* pt_run - check one case; returns the number of failures */
static int pt_run(const struct parse_case *c)
{
	struct parser_set set;
	struct login_event ev;
	char *error = NULL, ip[IPADDR_STRLEN], when[32];
	enum parse_result r;
	time_t t;
	struct tm tm;
	int fails = 0;

	if (parsers_select(NULL, &set, &error) < 0) {
		fprintf(stderr, "parsers_select: %s\n", error);
		return 1;
	}
	memset(&ev, 0x5a, sizeof(ev));
	r = parsers_parse_line(&set, c->line, strlen(c->line), PT_NOW, &ev);
	if ((int)r != c->want) {
		fprintf(stderr, "%s: got %s (%s), want %s\n", c->label, pt_result_name(r),
			r == PARSE_REFUSED ? ev.why : "", pt_result_name(c->want));
		return 1;
	}
	if (r == PARSE_REFUSED && (ev.why == NULL || ev.why[0] == '\0')) {
		fprintf(stderr, "%s: refused without a reason\n", c->label);
		fails++;
	}
	if (r != PARSE_LOGIN)
		return fails;
	/* follow hands out only lines holding the set's needle. */
	if (strstr(c->line, set.needle) == NULL) {
		fprintf(stderr, "%s: the line lacks the needle \"%s\": follow would skip it\n",
			c->label, set.needle);
		fails++;
	}
	ipaddr_format(&ev.ip, ip);
	t = (time_t)ev.time;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (strcmp(ip, c->ip) != 0) {
		fprintf(stderr, "%s: ip: got %s, want %s\n", c->label, ip, c->ip);
		fails++;
	}
	if (strcmp(ev.user, c->user) != 0) {
		fprintf(stderr, "%s: user: got \"%s\", want \"%s\"\n", c->label, ev.user, c->user);
		fails++;
	}
	if (strcmp(ev.service, c->service) != 0) {
		fprintf(stderr, "%s: service: got %s, want %s\n", c->label, ev.service, c->service);
		fails++;
	}
	if (strcmp(when, c->time) != 0) {
		fprintf(stderr, "%s: time: got %s, want %s\n", c->label, when, c->time);
		fails++;
	}
	return fails;
}

/* One table of a suite: a name for messages and its cases. */
struct pt_table {
	const char *name;
	const struct parse_case *cases;
	size_t count;
};
#define PT_TABLE(cases) { #cases, cases, sizeof(cases) / sizeof((cases)[0]) }

/* The tables pt_main() runs, one loop iteration each. */
static const struct pt_table *pt_tables;

/* pt_table_test - every case of table _i */
START_TEST(pt_table_test)
{
	const struct pt_table *t = &pt_tables[_i];
	int fails = 0;

	for (size_t i = 0; i < t->count; i++)
		fails += pt_run(&t->cases[i]);
	ck_assert_msg(fails == 0, "%s: %d case(s) failed, see above", t->name, fails);
}
END_TEST

/* pt_main - a suite named name of n tables, every time in them UTC;
   returns the exit status */
static int pt_main(const char *name, const struct pt_table *tables, int n)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("table");
	SRunner *sr;
	int failed;

	setenv("TZ", "UTC", 1);
	tzset();
	pt_tables = tables;
	tcase_add_loop_test(tc, pt_table_test, 0, n);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif

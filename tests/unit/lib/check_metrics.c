/*
 * NAME
 *	check_metrics 1
 * SUMMARY
 *	unit tests for lib/metrics
 * DESCRIPTION
 *	Whole expositions after a table of updates, compared byte for byte;
 *	a table of decision names and the series they count in; a buffer
 *	too small; a disabled registry that counts nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* One update of the registry. */
enum op_kind { OP_DECISION, OP_DURATION, OP_STORE_ERROR, OP_QUEUED, OP_CONN, OP_LINE, OP_LOGIN };

struct op {
	enum op_kind kind;
	const char *a, *b, *c;
	long long n;
};

struct format_case {
	const char *label;
	const char *program;
	const struct op *ops;
	size_t nops;
	struct metrics_scrape scrape;
	const char *want;
};

static const char *const sources[] = {"/var/log/mail.log", "/tmp/a\"b\\c"};
static const char *const formats[] = {"dovecot", "courier"};

static const struct op policyd_ops[] = {
	{OP_DECISION, "policyd", "permit", "sasl", 0},
	{OP_DECISION, "policyd", "permit", "sasl", 0},
	{OP_DECISION, "policyd", "tempfail", "rate_limit", 0},
	{OP_DECISION, "policyd", "weird", "nope", 0},
	{OP_DECISION, "loginwatch", "permit", "sasl", 0},	/* not a front end: nothing */
	{OP_DURATION, NULL, NULL, NULL, 30000},			/* 30 us: le 0.00005 */
	{OP_DURATION, NULL, NULL, NULL, 2000000000},		/* 2 s: le 2.5 */
	{OP_DURATION, NULL, NULL, NULL, 9000000000LL},		/* 9 s: +Inf only */
	{OP_STORE_ERROR, NULL, NULL, NULL, 0},
	{OP_QUEUED, NULL, NULL, NULL, 0},
	{OP_QUEUED, NULL, NULL, NULL, 0},
	{OP_CONN, NULL, NULL, NULL, 2},
	{OP_CONN, NULL, NULL, NULL, -1},
};

static const struct op loginwatch_ops[] = {
	{OP_LINE, "/var/log/mail.log", NULL, NULL, 0},
	{OP_LINE, "/var/log/other.log", NULL, NULL, 0},		/* not configured: nothing */
	{OP_LOGIN, "dovecot", "imap", NULL, 0},
	{OP_LOGIN, "x", "smtp", NULL, 0},
};

static const char want_policyd[] =
	"# HELP authrelay_build_info Always 1; the version as a label.\n"
	"# TYPE authrelay_build_info gauge\n"
	"authrelay_build_info{program=\"policyd\",version=\"0.1.0\"} 1\n"
	"# HELP process_start_time_seconds Start time of the process since the Unix epoch in seconds.\n"
	"# TYPE process_start_time_seconds gauge\n"
	"process_start_time_seconds 1700000000.500\n"
	"# HELP authrelay_store_errors_total Database calls that failed (lookups and writes).\n"
	"# TYPE authrelay_store_errors_total counter\n"
	"authrelay_store_errors_total{program=\"policyd\"} 1\n"
	"# HELP authrelay_decisions_total Relay decisions by front end, verdict and rule.\n"
	"# TYPE authrelay_decisions_total counter\n"
	"authrelay_decisions_total{program=\"policyd\",verdict=\"permit\",rule=\"sasl\"} 2\n"
	"authrelay_decisions_total{program=\"policyd\",verdict=\"tempfail\",rule=\"rate_limit\"} 1\n"
	"authrelay_decisions_total{program=\"policyd\",verdict=\"other\",rule=\"other\"} 1\n"
	"# HELP authrelay_request_duration_seconds Time from a complete request to its reply.\n"
	"# TYPE authrelay_request_duration_seconds histogram\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.000025\"} 0\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.00005\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.0001\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.00025\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.0005\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.001\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.0025\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.005\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.01\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.025\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.05\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.1\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.25\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"0.5\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"1\"} 1\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"2.5\"} 2\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"5\"} 2\n"
	"authrelay_request_duration_seconds_bucket{program=\"policyd\",le=\"+Inf\"} 3\n"
	"authrelay_request_duration_seconds_sum{program=\"policyd\"} 11.00003\n"
	"authrelay_request_duration_seconds_count{program=\"policyd\"} 3\n"
	"# HELP authrelay_connections Client connections open now.\n"
	"# TYPE authrelay_connections gauge\n"
	"authrelay_connections{program=\"policyd\"} 1\n"
	"# HELP authrelay_decision_queue_rows Decision rows waiting to be written to the database.\n"
	"# TYPE authrelay_decision_queue_rows gauge\n"
	"authrelay_decision_queue_rows 1\n"
	"# HELP authrelay_decision_rows_dropped_total Decision rows dropped because the queue was full.\n"
	"# TYPE authrelay_decision_rows_dropped_total counter\n"
	"authrelay_decision_rows_dropped_total 3\n";

static const char want_loginwatch[] =
	"# HELP authrelay_build_info Always 1; the version as a label.\n"
	"# TYPE authrelay_build_info gauge\n"
	"authrelay_build_info{program=\"loginwatch\",version=\"0.1.0\"} 1\n"
	"# HELP process_start_time_seconds Start time of the process since the Unix epoch in seconds.\n"
	"# TYPE process_start_time_seconds gauge\n"
	"process_start_time_seconds 1.250\n"
	"# HELP authrelay_store_errors_total Database calls that failed (lookups and writes).\n"
	"# TYPE authrelay_store_errors_total counter\n"
	"authrelay_store_errors_total{program=\"loginwatch\"} 0\n"
	"# HELP authrelay_loginwatch_lines_total Candidate login lines read per source (lines holding a login message).\n"
	"# TYPE authrelay_loginwatch_lines_total counter\n"
	"authrelay_loginwatch_lines_total{source=\"/var/log/mail.log\"} 1\n"
	"authrelay_loginwatch_lines_total{source=\"/tmp/a\\\"b\\\\c\"} 0\n"
	"# HELP authrelay_loginwatch_logins_total Successful logins read, by parser format and service.\n"
	"# TYPE authrelay_loginwatch_logins_total counter\n"
	"authrelay_loginwatch_logins_total{format=\"dovecot\",service=\"imap\"} 1\n"
	"authrelay_loginwatch_logins_total{format=\"other\",service=\"other\"} 1\n"
	"# HELP authrelay_loginwatch_lag_bytes Bytes of a followed file not read yet.\n"
	"# TYPE authrelay_loginwatch_lag_bytes gauge\n"
	"authrelay_loginwatch_lag_bytes{source=\"/tmp/a\\\"b\\\\c\"} 42\n"
	"# HELP authrelay_grants_active Relay grants live now (the active_grants view).\n"
	"# TYPE authrelay_grants_active gauge\n"
	"authrelay_grants_active 7\n";

static const struct format_case format_cases[] = {
	{"policyd: decisions, histogram, queue", "policyd", policyd_ops, N(policyd_ops),
	 {.has_queue = true, .decision_rows_written = 1, .decision_rows_dropped = 3},
	 want_policyd},
	{"loginwatch: lines, logins, lag, grants", "loginwatch", loginwatch_ops, N(loginwatch_ops),
	 {.has_grants = true, .grants_active = 7, .has_lag = {false, true}, .lag_bytes = {0, 42}},
	 want_loginwatch},
};

/* apply - run a table of updates on an enabled registry */
static void apply(const char *program, double start, const struct op *ops, size_t nops)
{
	metrics_enable(program, "0.1.0", start);
	metrics_loginwatch_sources(sources, N(sources));
	for (size_t i = 0; i < N(formats); i++)
		metrics_loginwatch_format(formats[i]);
	for (size_t i = 0; i < nops; i++) {
		const struct op *o = &ops[i];

		switch (o->kind) {
		case OP_DECISION:
			metrics_decision(o->a, o->b, o->c);
			break;
		case OP_DURATION:
			metrics_request_duration((uint64_t)o->n);
			break;
		case OP_STORE_ERROR:
			metrics_store_error();
			break;
		case OP_QUEUED:
			metrics_decision_row_queued();
			break;
		case OP_CONN:
			metrics_connections_add((int)o->n);
			break;
		case OP_LINE:
			metrics_loginwatch_line(o->a);
			break;
		case OP_LOGIN:
			metrics_loginwatch_login(o->a, o->b);
			break;
		}
	}
}

START_TEST(test_format)
{
	const struct format_case *c = &format_cases[_i];
	static char got[65536];
	int n;

	apply(c->program, c->program[0] == 'p' ? 1700000000.5 : 1.25, c->ops, c->nops);
	n = metrics_format(&c->scrape, got, sizeof got);
	ck_assert_msg(n == (int)strlen(c->want) && strcmp(got, c->want) == 0,
		      "%s: got (%d bytes)\n%s\nwant (%zu bytes)\n%s", c->label, n, got,
		      strlen(c->want), c->want);
	metrics_disable();
}
END_TEST

/* Decision names: which series a (program, verdict, rule) is counted in. */
struct name_case {
	const char *label;
	const char *program, *verdict, *rule;
	const char *want;	/* the one series line; NULL: none */
};

static const struct name_case name_cases[] = {
	{"policyd permit sasl", "policyd", "permit", "sasl",
	 "authrelay_decisions_total{program=\"policyd\",verdict=\"permit\",rule=\"sasl\"} 1\n"},
	{"milter reject none", "milter", "reject", "none",
	 "authrelay_decisions_total{program=\"milter\",verdict=\"reject\",rule=\"none\"} 1\n"},
	{"milter dunno bad_request", "milter", "dunno", "bad_request",
	 "authrelay_decisions_total{program=\"milter\",verdict=\"dunno\",rule=\"bad_request\"} 1\n"},
	{"store error", "policyd", "tempfail", "store_error",
	 "authrelay_decisions_total{program=\"policyd\",verdict=\"tempfail\",rule=\"store_error\"} 1\n"},
	{"rate_limit from the limits", "milter", "tempfail", "rate_limit",
	 "authrelay_decisions_total{program=\"milter\",verdict=\"tempfail\",rule=\"rate_limit\"} 1\n"},
	{"unknown rule is other", "policyd", "permit", "user@example.org",
	 "authrelay_decisions_total{program=\"policyd\",verdict=\"permit\",rule=\"other\"} 1\n"},
	{"NULL verdict is other", "policyd", NULL, "grant",
	 "authrelay_decisions_total{program=\"policyd\",verdict=\"other\",rule=\"grant\"} 1\n"},
	{"NULL program is this process's (policyd)", NULL, "dunno", "none",
	 "authrelay_decisions_total{program=\"policyd\",verdict=\"dunno\",rule=\"none\"} 1\n"},
	{"unknown program counts nothing", "ctl", "permit", "sasl", NULL},
};

START_TEST(test_names)
{
	const struct name_case *c = &name_cases[_i];
	static char got[65536];
	struct metrics_scrape s;
	const char *line;

	memset(&s, 0, sizeof s);
	metrics_enable("policyd", "0.1.0", 0);
	metrics_decision(c->program, c->verdict, c->rule);
	ck_assert_int_gt(metrics_format(&s, got, sizeof got), 0);
	line = strstr(got, "authrelay_decisions_total{");
	if (c->want == NULL)
		ck_assert_msg(line == NULL, "%s: got %s, want no series", c->label, line);
	else
		ck_assert_msg(line != NULL && strncmp(line, c->want, strlen(c->want)) == 0,
			      "%s: got %.120s, want %s", c->label, line ? line : "(none)", c->want);
	metrics_disable();
}
END_TEST

START_TEST(test_too_small)
{
	char got[100];
	struct metrics_scrape s;

	memset(&s, 0, sizeof s);
	metrics_enable("milter", "0.1.0", 0);
	ck_assert_int_eq(metrics_format(&s, got, sizeof got), -1);
	ck_assert_int_eq(metrics_format(&s, got, 0), -1);
	metrics_disable();
}
END_TEST

START_TEST(test_disabled)
{
	char got[256];
	struct metrics_scrape s;

	memset(&s, 0, sizeof s);
	metrics_disable();
	ck_assert(!metrics_enabled());
	metrics_decision("policyd", "permit", "sasl");
	metrics_store_error();
	ck_assert_int_eq(metrics_format(&s, got, sizeof got), 0);
	ck_assert_str_eq(got, "");
	/* Counting starts from zero when enabled after the fact. */
	metrics_enable("policyd", "0.1.0", 0);
	ck_assert(metrics_enabled());
	ck_assert_int_gt(metrics_format(&s, got, sizeof got), -2);
	metrics_disable();
}
END_TEST

START_TEST(test_position)
{
	const char *path;
	uint64_t dev, ino, off;

	metrics_enable("loginwatch", "0.1.0", 0);
	metrics_loginwatch_sources(sources, N(sources));
	ck_assert(!metrics_loginwatch_position_get(0, &path, &dev, &ino, &off));
	metrics_loginwatch_position("/var/log/mail.log", 8, 1234, 999);
	metrics_loginwatch_position("/not/configured", 1, 1, 1);
	ck_assert(metrics_loginwatch_position_get(0, &path, &dev, &ino, &off));
	ck_assert_str_eq(path, "/var/log/mail.log");
	ck_assert_msg(dev == 8 && ino == 1234 && off == 999, "got %llu:%llu@%llu, want 8:1234@999",
		      (unsigned long long)dev, (unsigned long long)ino, (unsigned long long)off);
	ck_assert(!metrics_loginwatch_position_get(1, &path, &dev, &ino, &off));
	ck_assert(!metrics_loginwatch_position_get(2, &path, &dev, &ino, &off));
	metrics_disable();
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_format, 0, N(format_cases));
	tcase_add_loop_test(tc, test_names, 0, N(name_cases));
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_disabled);
	tcase_add_test(tc, test_position);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

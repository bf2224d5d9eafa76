/*
 * NAME
 *	check_log 1
 * SUMMARY
 *	unit tests for lib/log
 * DESCRIPTION
 *	log_kv_append against a table of hostile values and of cut points;
 *	the decision line; level names, facilities; the level filter and
 *	the stderr copy, captured through a pipe dup2'ed over fd 2 (never
 *	syslog: the tests open it with facility local7 and ignore it).
 *	syslog() itself is replaced by a counter defined here (a definition
 *	in the program comes before the C library's), so a test can see
 *	whether log.c called it.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct kv_case {
	const char *label;
	const char *value;
	const char *want;	/* what is appended after "x" */
};

static const struct kv_case kv_cases[] = {
	{"plain", "alice", " k=alice"},
	{"address", "alice@example.org", " k=alice@example.org"},
	{"ipv6", "2001:db8::1", " k=2001:db8::1"},
	{"NULL", NULL, " k=\"\""},
	{"empty", "", " k=\"\""},
	{"space", "a b", " k=\"a b\""},
	{"leading space", " a", " k=\" a\""},
	{"tab", "a\tb", " k=\"a\\tb\""},
	{"double quote", "a\"b", " k=\"a\\\"b\""},
	{"only quote", "\"", " k=\"\\\"\""},
	{"equals", "a=b", " k=\"a=b\""},
	{"forged field", "x verdict=permit", " k=\"x verdict=permit\""},
	{"backslash", "a\\b", " k=\"a\\\\b\""},
	{"trailing backslash", "a\\", " k=\"a\\\\\""},
	{"CR LF", "a\r\nb", " k=\"a\\r\\nb\""},
	{"forged log line", "x\nNov 26 13:06:41 h dovecot: imap-login: Login: user=<a>",
	 " k=\"x\\nNov 26 13:06:41 h dovecot: imap-login: Login: user=<a>\""},
	{"control 0x01", "a\x01z", " k=\"a\\x01z\""},
	{"escape 0x1b", "\x1b[31m", " k=\"\\x1b[31m\""},
	{"DEL", "a\x7f", " k=\"a\\x7f\""},
	{"UTF-8 bare", "j\xc3\xbcrgen", " k=j\xc3\xbcrgen"},
	{"UTF-8 quoted", "J\xc3\xbcrgen M\xc3\xbcller", " k=\"J\xc3\xbcrgen M\xc3\xbcller\""},
	{"4-byte UTF-8", "\xf0\x9f\x93\xa7", " k=\xf0\x9f\x93\xa7"},
	{"single quote is fine", "o'brien", " k=o'brien"},
	{"angle brackets", "<bob@example.org>", " k=<bob@example.org>"},
};

START_TEST(test_kv)
{
	const struct kv_case *c = &kv_cases[_i];
	char buf[256] = "x";
	size_t n;

	n = log_kv_append(buf, sizeof(buf), "k", c->value);
	ck_assert_msg(strcmp(buf + 1, c->want) == 0, "%s: got [%s], want [%s]", c->label, buf + 1,
		      c->want);
	ck_assert_msg(n == strlen(buf), "%s: returned %zu, length %zu", c->label, n, strlen(buf));
	ck_assert_msg(strchr(buf, '\n') == NULL && strchr(buf, '\r') == NULL,
		      "%s: line break in output", c->label);
}
END_TEST

/* Cut points: size is the whole buffer; buf starts empty. */
struct cut_case {
	const char *label;
	const char *value;
	size_t size;
	const char *want;
	bool full;		/* want size - 1 returned */
};

static const struct cut_case cut_cases[] = {
	{"fits exactly", "a\"b", 10, " k=\"a\\\"b\"", false},
	{"cut after escape", "a\"b", 9, " k=\"a\\\"\"", true},
	{"escape not split", "a\"b", 8, " k=\"a\"", true},
	{"escape not split, 7", "a\"b", 7, " k=\"a\"", true},
	{"hex escape not split", "ab\x01", 10, " k=\"ab\"", true},
	{"hex escape fits", "ab\x01", 12, " k=\"ab\\x01\"", false},
	{"bare cut at 6", "abc", 6, " k=ab", true},
	{"only key room", "a b c", 6, " k=\"\"", true},
	{"no room for quotes", "a b c", 5, "", true},
	{"no room for key", "abc", 3, "", true},
	{"bare cut", "abcdef", 6, " k=ab", true},
	{"UTF-8 kept whole", "\xc3\xbc\xc3\xbc", 6, " k=\xc3\xbc", true},
	{"UTF-8 not split", "\xc3\xbc\xc3\xbc", 5, " k=", true},
	{"UTF-8 4-byte not split", "a\xf0\x9f\x93\xa7", 8, " k=a", true},
	{"UTF-8 in quotes not split", "a \xc3\xbc", 9, " k=\"a \"", true},
	{"invalid UTF-8 cut as bytes", "a\x80\x80\x80\x80\x80", 7, " k=a\x80\x80", true},
	{"size one", "a", 1, "", true},
};

START_TEST(test_kv_cut)
{
	const struct cut_case *c = &cut_cases[_i];
	char buf[64];
	size_t n;

	memset(buf, '#', sizeof(buf));
	buf[0] = 0;
	n = log_kv_append(buf, c->size, "k", c->value);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got [%s], want [%s]", c->label, buf,
		      c->want);
	ck_assert_msg(buf[c->size] == '#', "%s: wrote past size", c->label);
	if (c->full)
		ck_assert_msg(n == c->size - 1, "%s: returned %zu, want %zu (full)", c->label, n,
			      c->size - 1);
	else
		ck_assert_msg(n == strlen(buf), "%s: returned %zu, want %zu", c->label, n,
			      strlen(buf));
}
END_TEST

START_TEST(test_kv_full_buffer)
{
	char buf[4] = {'a', 'b', 'c', 'd'};	/* no NUL at all */

	ck_assert_uint_eq(log_kv_append(buf, sizeof(buf), "k", "v"), 3);
	ck_assert_str_eq(buf, "abc");
	ck_assert_uint_eq(log_kv_append(buf, 0, "k", "v"), 0);
}
END_TEST

struct decision_case {
	const char *label;
	struct log_decision d;
	const char *want;
};

static const struct decision_case decision_cases[] = {
	{"sasl permit",
	 {"192.0.2.1", "alice", "alice@example.org", "bob@example.net", "permit", "sasl",
	  "authenticated", "4B59AA723CF"},
	 "decision client=192.0.2.1 user=alice sender=alice@example.org rcpt=bob@example.net "
	 "verdict=permit rule=sasl reason=authenticated queue_id=4B59AA723CF"},
	{"all NULL",
	 {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
	 "decision client=\"\" user=\"\" sender=\"\" rcpt=\"\" verdict=\"\" rule=\"\" reason=\"\" "
	 "queue_id=\"\""},
	{"null sender, reason with spaces",
	 {"::1", "", "", "x@example.net", "reject", "tls", "TLS required for AUTH", NULL},
	 "decision client=::1 user=\"\" sender=\"\" rcpt=x@example.net verdict=reject rule=tls "
	 "reason=\"TLS required for AUTH\" queue_id=\"\""},
	{"hostile sender",
	 {"127.0.0.1", NULL, "a\"b\r\nverdict=permit", "r@x", "dunno", "none", "no rule", ""},
	 "decision client=127.0.0.1 user=\"\" sender=\"a\\\"b\\r\\nverdict=permit\" rcpt=r@x "
	 "verdict=dunno rule=none reason=\"no rule\" queue_id=\"\""},
};

START_TEST(test_decision_format)
{
	const struct decision_case *c = &decision_cases[_i];
	char buf[1024];

	log_decision_format(&c->d, buf, sizeof(buf));
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s:\n got [%s]\nwant [%s]", c->label, buf,
		      c->want);
}
END_TEST

START_TEST(test_decision_format_small)
{
	struct log_decision d = {"192.0.2.1", "alice", "a b", "r", "permit", "sasl", "x", "q"};
	char buf[32];

	memset(buf, '#', sizeof(buf));
	log_decision_format(&d, buf, 30);
	ck_assert_str_eq(buf, "decision client=192.0.2.1");
	ck_assert_int_eq(buf[30], '#');
}
END_TEST

START_TEST(test_level_names)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	enum log_level level;
	int i, facility;

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(log_level_parse(names[i], &level), 0);
		ck_assert_int_eq(level, i);
		ck_assert_str_eq(log_level_name(level), names[i]);
	}
	ck_assert_int_eq(log_level_parse("INFO", &level), -1);
	ck_assert_int_eq(log_level_parse("warn", &level), -1);
	ck_assert_int_eq(log_level_parse("", &level), -1);
	ck_assert_int_eq(log_facility_parse("mail", &facility), 0);
	ck_assert_int_eq(facility, LOG_MAIL);
	ck_assert_int_eq(log_facility_parse("local0", &facility), 0);
	ck_assert_int_eq(facility, LOG_LOCAL0);
	ck_assert_int_eq(log_facility_parse("local7", &facility), 0);
	ck_assert_int_eq(facility, LOG_LOCAL7);
	ck_assert_int_eq(log_facility_parse("daemon", &facility), 0);
	ck_assert_int_eq(facility, LOG_DAEMON);
	ck_assert_int_eq(log_facility_parse("user", &facility), 0);
	ck_assert_int_eq(facility, LOG_USER);
	ck_assert_int_eq(log_facility_parse("local8", &facility), -1);
	ck_assert_int_eq(log_facility_parse("MAIL", &facility), -1);
	ck_assert_int_eq(log_facility_parse("kern", &facility), -1);
	ck_assert_str_eq(log_facility_name(LOG_MAIL), "mail");
	ck_assert_str_eq(log_facility_name(LOG_LOCAL3), "local3");
}
END_TEST

/* Replaces the C library's syslog(): counts the calls log.c makes. */
static int syslog_calls;

void syslog(int priority, const char *fmt, ...)
{
	(void)priority;
	(void)fmt;
	syslog_calls++;
}

/* Capture of fd 2 around a block of log calls. */
struct capture {
	int saved;
	int pipe[2];
};

static void capture_start(struct capture *cap)
{
	ck_assert_int_eq(pipe(cap->pipe), 0);
	cap->saved = dup(STDERR_FILENO);
	ck_assert_int_ge(cap->saved, 0);
	ck_assert_int_ge(dup2(cap->pipe[1], STDERR_FILENO), 0);
	close(cap->pipe[1]);
}

/* Returns what was written to fd 2 (malloc'd). Stays under the pipe
   buffer (64 KiB on Linux) so the writer never blocks. */
static char *capture_end(struct capture *cap)
{
	size_t len = 0, cap_size = 65536;
	char *out = malloc(cap_size + 1);
	ssize_t n;

	dup2(cap->saved, STDERR_FILENO);
	close(cap->saved);
	while ((n = read(cap->pipe[0], out + len, cap_size - len)) > 0)
		len += (size_t)n;
	close(cap->pipe[0]);
	out[len] = 0;
	return out;
}

struct filter_case {
	const char *label;
	enum log_level threshold;
	enum log_level level;
	const char *want;	/* after "ident[pid]: ", "" = nothing written */
};

static const struct filter_case filter_cases[] = {
	{"info at info", LOG_LEVEL_INFO, LOG_LEVEL_INFO, "hello 42\n"},
	{"debug at info dropped", LOG_LEVEL_INFO, LOG_LEVEL_DEBUG, ""},
	{"warning at info", LOG_LEVEL_INFO, LOG_LEVEL_WARNING, "warning: hello 42\n"},
	{"error at error", LOG_LEVEL_ERROR, LOG_LEVEL_ERROR, "error: hello 42\n"},
	{"warning at error dropped", LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, ""},
	{"info at warning dropped", LOG_LEVEL_WARNING, LOG_LEVEL_INFO, ""},
	{"debug at debug", LOG_LEVEL_DEBUG, LOG_LEVEL_DEBUG, "debug: hello 42\n"},
	{"error at debug", LOG_LEVEL_DEBUG, LOG_LEVEL_ERROR, "error: hello 42\n"},
};

START_TEST(test_filter)
{
	const struct filter_case *c = &filter_cases[_i];
	struct capture cap;
	char want[256];
	char *got;

	log_open("check_log", LOG_LOCAL7, true);
	log_set_level(c->threshold);
	ck_assert_int_eq(log_get_level(), c->threshold);
	capture_start(&cap);
	log_msg(c->level, "hello %d", 42);
	got = capture_end(&cap);
	if (*c->want)
		snprintf(want, sizeof(want), "check_log[%ld]: %s", (long)getpid(), c->want);
	else
		want[0] = 0;
	ck_assert_msg(strcmp(got, want) == 0, "%s: got [%s], want [%s]", c->label, got, want);
	free(got);
	log_close();
}
END_TEST

/* Without a syslog socket, syslog() (a failed connect each time in
   glibc) is not called at all; the stderr copy is still written. With
   the socket, every message goes to syslog() as before. */
START_TEST(test_no_syslog_socket)
{
	struct capture cap;
	struct stat sb;
	bool present = stat(_PATH_LOG, &sb) == 0 && S_ISSOCK(sb.st_mode);
	int want_calls = present ? 3 : 0, lines = 0;
	char *got;

	log_open("check_log", LOG_LOCAL7, true);
	log_set_level(LOG_LEVEL_INFO);
	syslog_calls = 0;
	capture_start(&cap);
	for (int i = 0; i < 3; i++)
		log_info("message %d", i);
	got = capture_end(&cap);
	for (const char *p = got; (p = strstr(p, ": message ")) != NULL; p++)
		lines++;
	ck_assert_msg(syslog_calls == want_calls, "syslog() calls with%s %s: got %d, want %d",
		      present ? "" : "out", _PATH_LOG, syslog_calls, want_calls);
	ck_assert_msg(lines == 3, "stderr copy: got %d lines [%s], want 3", lines, got);
	free(got);
	log_close();
}
END_TEST

START_TEST(test_stderr_modes)
{
	struct capture cap;
	char want[512];
	char *got;

	/* Not opened (or closed): stderr only. The ident is "authrelay" in a
	   fresh process, the last one opened otherwise (CK_FORK=no). */
	log_close();
	log_set_level(LOG_LEVEL_INFO);
	capture_start(&cap);
	log_info("before open");
	got = capture_end(&cap);
	snprintf(want, sizeof(want), "[%ld]: before open\n", (long)getpid());
	ck_assert_msg(strlen(got) > strlen(want) && strcmp(got + strlen(got) - strlen(want), want) == 0,
		      "not opened: got [%s], want [...%s]", got, want);
	free(got);

	/* Opened without the stderr copy: nothing on stderr. */
	log_open("check_log", LOG_LOCAL7, false);
	capture_start(&cap);
	log_error("to syslog only");
	got = capture_end(&cap);
	ck_assert_msg(*got == 0, "background: got [%s], want nothing", got);
	free(got);

	/* Reopened (reload) with the copy and a new ident. */
	log_open("check_log2", LOG_LOCAL7, true);
	capture_start(&cap);
	log_warning("line\nforged: Login: user=<x>\x1b[0m");
	got = capture_end(&cap);
	snprintf(want, sizeof(want), "check_log2[%ld]: warning: line?forged: Login: user=<x>?[0m\n",
		 (long)getpid());
	ck_assert_msg(strcmp(got, want) == 0, "control chars: got [%s], want [%s]", got, want);
	free(got);
	log_close();
}
END_TEST

START_TEST(test_errno_and_long)
{
	struct capture cap;
	char *big = malloc(10000), *got, want[256];
	size_t len;

	memset(big, 'a', 9999);
	big[9999] = 0;
	log_open("check_log", LOG_LOCAL7, true);
	log_set_level(LOG_LEVEL_INFO);
	capture_start(&cap);
	errno = ENOENT;
	log_error("open x: %m");
	ck_assert_int_eq(errno, ENOENT);
	log_info("%s", big);
	got = capture_end(&cap);
	snprintf(want, sizeof(want), "check_log[%ld]: error: open x: %s\n", (long)getpid(),
		 strerror(ENOENT));
	ck_assert_msg(strncmp(got, want, strlen(want)) == 0, "%%m: got [%.80s], want [%s]", got,
		      want);
	/* The long message is cut but stays one line ending in a newline. */
	len = strlen(got);
	ck_assert_msg(len < strlen(want) + 4200, "long line not cut: %zu bytes", len);
	ck_assert_int_eq(got[len - 1], '\n');
	ck_assert_ptr_eq(strchr(got + strlen(want), '\n'), got + len - 1);
	free(got);
	free(big);
	log_close();
}
END_TEST

START_TEST(test_log_decision)
{
	struct log_decision d = {"192.0.2.7", "bob", "bob@example.org", "x@example.net",
				 "reject", "sender", "not owner", "ABC"};
	struct capture cap;
	char want[512];
	char *got;

	log_open("check_log", LOG_LOCAL7, true);
	log_set_level(LOG_LEVEL_INFO);
	capture_start(&cap);
	log_decision(&d);
	log_set_level(LOG_LEVEL_WARNING);
	log_decision(&d);	/* info level: dropped */
	got = capture_end(&cap);
	snprintf(want, sizeof(want),
		 "check_log[%ld]: decision client=192.0.2.7 user=bob sender=bob@example.org "
		 "rcpt=x@example.net verdict=reject rule=sender reason=\"not owner\" "
		 "queue_id=ABC\n",
		 (long)getpid());
	ck_assert_msg(strcmp(got, want) == 0, "got [%s], want [%s]", got, want);
	free(got);
	log_close();
}
END_TEST

/* log_limit_pass over a sequence of times, interval 60: which calls pass
   and how many were held back before each that passes. */
START_TEST(test_limit)
{
	static const struct {
		int64_t now;
		bool pass;
		uint64_t held;
	} seq[] = {
		{ 1000, true, 0 },	/* the first passes */
		{ 1000, false, 0 },
		{ 1030, false, 0 },
		{ 1059, false, 0 },
		{ 1060, true, 3 },	/* a minute later, with the 3 held back */
		{ 1061, false, 0 },
		{ 2000, true, 1 },
		{ 900, true, 0 },	/* the clock went back: not held for ever */
	};
	struct log_limit limit = { 0, 0 };

	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
		uint64_t held = 99;
		bool pass = log_limit_pass(&limit, seq[i].now, 60, &held);

		ck_assert_msg(pass == seq[i].pass, "call %zu at %lld: pass: got %d, want %d", i,
			      (long long)seq[i].now, pass, seq[i].pass);
		if (pass)
			ck_assert_msg(held == seq[i].held, "call %zu: held: got %llu, want %llu", i,
				      (unsigned long long)held, (unsigned long long)seq[i].held);
	}
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_kv, 0, N(kv_cases));
	tcase_add_loop_test(tc, test_kv_cut, 0, N(cut_cases));
	tcase_add_test(tc, test_kv_full_buffer);
	tcase_add_loop_test(tc, test_decision_format, 0, N(decision_cases));
	tcase_add_test(tc, test_decision_format_small);
	tcase_add_test(tc, test_level_names);
	tcase_add_loop_test(tc, test_filter, 0, N(filter_cases));
	tcase_add_test(tc, test_no_syslog_socket);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_stderr_modes);
	tcase_add_test(tc, test_errno_and_long);
	tcase_add_test(tc, test_log_decision);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

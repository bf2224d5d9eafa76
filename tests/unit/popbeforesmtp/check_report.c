/*
 * NAME
 *	check_report 1
 * SUMMARY
 *	Dovecot auth-policy requests: the answer and the grant of each
 * DESCRIPTION
 *	report_handle() gets a request built here (no HTTP: method, query,
 *	X-API-Key header, body) and a commit function that records the
 *	grant it is given. Each case is a request and what must come out:
 *	the HTTP status, and the grant (ip/prefix user service session) or
 *	none. The bodies are Dovecot 2.3.19's, as its auth-policy.c builds
 *	them with the default auth_policy_request_attributes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "report.h"

#define KEY "s3cret-key"
#define OK_BODY(login, remote, proto, success, reject)                                        \
	"{\"login\":\"" login "\",\"pwhash\":\"a1b2\",\"remote\":\"" remote                     \
	"\",\"device_id\":\"\",\"protocol\":\"" proto "\",\"session_id\":\"Wq1+bS1hqrF/AAAB\"," \
	"\"success\":" success ",\"policy_reject\":" reject ",\"tls\":true}"

struct report_case {
	const char *label;
	const char *method, *command, *key, *body;
	unsigned want_status;
	const char *want_grant;	/* "ip/len user service session", or NULL: none */
};

static const struct report_case cases[] = {
	/* What grants */
	{ "pop3 login", "POST", "report", KEY, OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"),
	  200, "192.0.2.1/32 alice pop3 Wq1+bS1hqrF/AAAB" },
	{ "imap login over IPv6 (grant_ipv6_prefix 64)", "POST", "report", KEY,
	  OK_BODY("bob@example.org", "2001:db8:1:2:3:4:5:6", "imap", "true", "false"), 200,
	  "2001:db8:1:2::/64 bob@example.org imap Wq1+bS1hqrF/AAAB" },
	{ "IPv4-mapped remote stored as IPv4", "POST", "report", KEY,
	  OK_BODY("alice", "::ffff:192.0.2.9", "imap", "true", "false"), 200,
	  "192.0.2.9/32 alice imap Wq1+bS1hqrF/AAAB" },
	{ "key with Dovecot's blank after the colon kept by a proxy", "POST", "report", KEY "  ",
	  OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 200,
	  "192.0.2.1/32 alice pop3 Wq1+bS1hqrF/AAAB" },
	{ "session id Dovecot never makes: no session", "POST", "report", KEY,
	  "{\"login\":\"alice\",\"remote\":\"192.0.2.1\",\"protocol\":\"imap\",\"session_id\":\"a b\","
	  "\"success\":true,\"policy_reject\":false}", 200, "192.0.2.1/32 alice imap -" },
	{ "control characters in the login shown as ?", "POST", "report", KEY,
	  OK_BODY("al\\u0001ice", "192.0.2.1", "imap", "true", "false"), 200,
	  "192.0.2.1/32 al?ice imap Wq1+bS1hqrF/AAAB" },
	/* Reports that grant nothing */
	{ "failed login", "POST", "report", KEY, OK_BODY("alice", "192.0.2.1", "pop3", "false", "false"),
	  200, NULL },
	{ "refused by policy", "POST", "report", KEY,
	  OK_BODY("alice", "192.0.2.1", "pop3", "true", "true"), 200, NULL },
	{ "Postfix SMTP AUTH through Dovecot SASL", "POST", "report", KEY,
	  OK_BODY("alice", "192.0.2.1", "smtp", "true", "false"), 200, NULL },
	{ "doveadm auth test", "POST", "report", KEY,
	  OK_BODY("alice", "", "doveadm", "true", "false"), 200, NULL },
	{ "protocol in capitals", "POST", "report", KEY,
	  OK_BODY("alice", "192.0.2.1", "IMAP", "true", "false"), 200, NULL },
	{ "excluded network", "POST", "report", KEY,
	  OK_BODY("alice", "198.51.100.7", "imap", "true", "false"), 200, NULL },
	{ "anonymous", "POST", "report", KEY, OK_BODY("anonymous", "192.0.2.1", "imap", "true", "false"),
	  200, NULL },
	{ "empty login", "POST", "report", KEY, OK_BODY("", "192.0.2.1", "imap", "true", "false"), 200,
	  NULL },
	{ "no remote", "POST", "report", KEY,
	  "{\"login\":\"alice\",\"protocol\":\"imap\",\"success\":true,\"policy_reject\":false}", 200,
	  NULL },
	{ "remote not an address", "POST", "report", KEY,
	  OK_BODY("alice", "192.0.2.1, 6.6.6.6", "imap", "true", "false"), 200, NULL },
	{ "remote with a zone", "POST", "report", KEY, OK_BODY("alice", "fe80::1%eth0", "imap", "true", "false"),
	  200, NULL },
	{ "allow", "POST", "allow", KEY,
	  "{\"login\":\"alice\",\"pwhash\":\"a1\",\"remote\":\"192.0.2.1\",\"device_id\":\"\","
	  "\"protocol\":\"imap\",\"session_id\":\"x\",\"tls\":false}", 200, NULL },
	{ "allow with success true does not grant either", "POST", "allow", KEY,
	  OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 200, NULL },
	/* The key */
	{ "no key", "POST", "report", NULL, OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 401,
	  NULL },
	{ "wrong key", "POST", "report", "s3cret-kez",
	  OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 401, NULL },
	{ "key prefix", "POST", "report", "s3cret", OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"),
	  401, NULL },
	{ "key and more", "POST", "report", KEY "x",
	  OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 401, NULL },
	{ "empty key", "POST", "report", "", OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 401,
	  NULL },
	{ "no key on allow", "POST", "allow", NULL, "{}", 401, NULL },
	/* Bad input */
	{ "GET", "GET", "report", KEY, "", 405, NULL },
	{ "PUT", "PUT", "report", KEY, OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 405, NULL },
	{ "no command", "POST", NULL, KEY, OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 400,
	  NULL },
	{ "unknown command", "POST", "grant", KEY,
	  OK_BODY("alice", "192.0.2.1", "pop3", "true", "false"), 400, NULL },
	{ "malformed JSON", "POST", "report", KEY, "{\"login\":\"alice\",", 400, NULL },
	{ "empty body", "POST", "report", KEY, "", 400, NULL },
	{ "an array", "POST", "report", KEY, "[1,2]", 400, NULL },
	{ "two JSON objects", "POST", "report", KEY, "{} {}", 400, NULL },
	{ "remote named twice", "POST", "report", KEY,
	  "{\"login\":\"alice\",\"remote\":\"192.0.2.1\",\"remote\":\"6.6.6.6\",\"protocol\":\"imap\","
	  "\"success\":true,\"policy_reject\":false}", 400, NULL },
	{ "success as a string", "POST", "report", KEY,
	  "{\"login\":\"alice\",\"remote\":\"192.0.2.1\",\"protocol\":\"imap\",\"success\":\"true\","
	  "\"policy_reject\":false}", 400, NULL },
	{ "no success", "POST", "report", KEY,
	  "{\"login\":\"alice\",\"remote\":\"192.0.2.1\",\"protocol\":\"imap\",\"policy_reject\":false}",
	  400, NULL },
	{ "no policy_reject", "POST", "report", KEY,
	  "{\"login\":\"alice\",\"remote\":\"192.0.2.1\",\"protocol\":\"imap\",\"success\":true}", 400,
	  NULL },
	{ "remote as a number", "POST", "report", KEY,
	  "{\"login\":\"alice\",\"remote\":3221225985,\"protocol\":\"imap\",\"success\":true,"
	  "\"policy_reject\":false}", 400, NULL },
	{ "login as an object", "POST", "report", KEY,
	  "{\"login\":{\"name\":\"alice\"},\"remote\":\"192.0.2.1\",\"protocol\":\"imap\","
	  "\"success\":true,\"policy_reject\":false}", 400, NULL },
	{ "NUL inside a string", "POST", "report", KEY,
	  "{\"login\":\"alice\\u0000x\",\"remote\":\"192.0.2.1\",\"protocol\":\"imap\","
	  "\"success\":true,\"policy_reject\":false}", 400, NULL },
};

/* ---- the request, without HTTP ---- */

struct fake {
	const struct report_case *c;
};

static const char *fake_header(const struct http_request *req, const char *name)
{
	const struct fake *f = req->impl;

	return strcasecmp(name, "X-API-Key") == 0 ? f->c->key : NULL;
}

static const char *fake_query(const struct http_request *req, const char *name)
{
	const struct fake *f = req->impl;

	return strcmp(name, "command") == 0 ? f->c->command : NULL;
}

/* ---- the commit, recorded ---- */

static char granted[512];
static int commits;
static bool commit_fails;

static int record(void *ctx, const struct store_login *l, char **error_r)
{
	char ip[IPADDR_STRLEN];

	(void)ctx;
	commits++;
	if (commit_fails) {
		*error_r = strdup("database is locked");
		return -1;
	}
	ck_assert_str_eq(l->source, REPORT_SOURCE);
	ck_assert_msg(l->line != NULL && strstr(l->line, "success=true") != NULL,
		      "grant_history line: got \"%s\", want the report's fields", l->line);
	ck_assert_msg(l->expires_at == l->login_time + 1800, "expiry: got login + %lld, want + 1800",
		      (long long)(l->expires_at - l->login_time));
	snprintf(granted, sizeof granted, "%s/%u %s %s %s", ipaddr_format(&l->net, ip), l->prefix_len,
		 l->username, l->service, l->session[0] ? l->session : "-");
	return 0;
}

static struct report *make_report(const char *key)
{
	static struct cidr_list *exclude;
	static char *words[] = { "imap", "pop3" };
	struct cfg_list protocols = { 2, words };
	struct grant_policy policy = { 1800, 64, NULL };
	struct report *r = NULL;
	char *error = NULL;

	if (exclude == NULL)
		ck_assert_int_eq(cidr_list_parse("198.51.100.0/24", &exclude, &error), 0);
	policy.exclude = exclude;
	ck_assert_int_eq(report_create(&policy, &protocols, key, record, NULL, &r, &error), 0);
	return r;
}

static unsigned run(struct report *r, const struct report_case *c)
{
	struct fake f = { c };
	struct http_request req = { c->method, "/", "127.0.0.1", c->body, strlen(c->body),
				    fake_header, fake_query, &f };
	struct http_reply reply = { 0, NULL, NULL, 0 };

	report_handle(r, &req, &reply);
	if (reply.status == 200)
		ck_assert_msg(reply.body_len == 12 && memcmp(reply.body, "{\"status\":0}", 12) == 0,
			      "%s: 200 body: got \"%.*s\", want {\"status\":0}", c->label,
			      (int)reply.body_len, reply.body);
	return reply.status;
}

START_TEST(test_case)
{
	const struct report_case *c = &cases[_i];
	struct report *r = make_report(KEY);
	unsigned status;

	granted[0] = '\0';
	commits = 0;
	commit_fails = false;
	status = run(r, c);
	ck_assert_msg(status == c->want_status, "%s: status: got %u, want %u", c->label, status,
		      c->want_status);
	ck_assert_msg(strcmp(granted, c->want_grant ? c->want_grant : "") == 0,
		      "%s: grant: got \"%s\", want \"%s\"", c->label, granted[0] ? granted : "none",
		      c->want_grant ? c->want_grant : "none");
	report_free(&r);
}
END_TEST

/* Without a key configured (a loopback listener), any key or none will do. */
START_TEST(test_no_key_configured)
{
	struct report *r = make_report(NULL);
	struct report_case c = cases[0];

	c.key = NULL;
	granted[0] = '\0';
	commit_fails = false;
	ck_assert_uint_eq(run(r, &c), 200);
	ck_assert_str_eq(granted, "192.0.2.1/32 alice pop3 Wq1+bS1hqrF/AAAB");
	report_free(&r);
}
END_TEST

/* A grant that cannot be committed is answered 503, never 200. */
START_TEST(test_commit_fails)
{
	struct report *r = make_report(KEY);
	struct report_stats st;

	commit_fails = true;
	commits = 0;
	ck_assert_uint_eq(run(r, &cases[0]), 503);
	ck_assert_int_eq(commits, 1);
	report_get_stats(r, &st);
	ck_assert_msg(st.failed == 1 && st.granted == 0, "stats: got failed=%llu granted=%llu, "
		      "want 1 0", (unsigned long long)st.failed, (unsigned long long)st.granted);
	commit_fails = false;
	report_free(&r);
}
END_TEST

/* SIGHUP: a new protocol list applies to the next request. */
START_TEST(test_reconfigure)
{
	struct report *r = make_report(KEY);
	static char *words[] = { "smtp" };
	struct cfg_list protocols = { 1, words };
	struct grant_policy policy = { 600, 128, NULL };

	ck_assert_int_eq(report_reconfigure(r, &policy, &protocols), 0);
	granted[0] = '\0';
	ck_assert_uint_eq(run(r, &cases[0]), 200);	/* pop3: no longer */
	ck_assert_str_eq(granted, "");
	report_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("requests");
	SRunner *sr;
	int failed;

	log_set_level(LOG_LEVEL_ERROR);
	tcase_add_loop_test(tc, test_case, 0, (int)(sizeof cases / sizeof cases[0]));
	tcase_add_test(tc, test_no_key_configured);
	tcase_add_test(tc, test_commit_fails);
	tcase_add_test(tc, test_reconfigure);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

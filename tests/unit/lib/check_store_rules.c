/*
 * NAME
 *	check_store_rules 1
 * SUMMARY
 *	table tests for lib/store_rules.c, the rules every backend answers by
 * DESCRIPTION
 *	Each rule as a table of { label, input, want }: the sender
 *	candidates (checked against addr_pattern_match(), so the equality a
 *	backend does gives the matcher's answer), fingerprint and certificate
 *	normalisation, the checks on logins and grants, the prune log line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ipaddr.h"
#include "store_rules.h"
#include "test_run.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* rc -1: the address does not normalise. */
static const struct {
	const char *label, *address, *bare, *at_domain;
	int rc;
} sender_cases[] = {
	{ "plain", "alice@example.org", "alice@example.org", "@example.org", 0 },
	{ "tag stripped", "alice+news@example.org", "alice@example.org", "@example.org", 0 },
	{ "domain case", "<Alice@EXAMPLE.Org>", "Alice@example.org", "@example.org", 0 },
	{ "null sender", "<>", "", "", 0 },
	{ "empty", "", "", "", 0 },
	{ "bare local part", "alice", "alice", "", 0 },
	{ "bare local part with tag", "alice+x", "alice", "", 0 },
	{ "not an address", "a b@example.org", "", "", -1 },
};

/* Stored patterns (each its own addr_pattern_normalize() form) the
   candidates are checked against with addr_pattern_match(). */
static const char *const patterns[] = {
	"alice@example.org", "@example.org", "Alice@example.org", "bob@example.org",
};

START_TEST(test_sender_key)
{
	struct store_sender_key key;
	char norm[ADDR_MAX];
	int rc = store_rules_sender_key(sender_cases[_i].address, &key);

	ck_assert_msg(rc == sender_cases[_i].rc, "%s: got %d, want %d", sender_cases[_i].label, rc,
		      sender_cases[_i].rc);
	ck_assert_msg(strcmp(key.bare, sender_cases[_i].bare) == 0, "%s: bare got \"%s\", want \"%s\"",
		      sender_cases[_i].label, key.bare, sender_cases[_i].bare);
	ck_assert_msg(strcmp(key.at_domain, sender_cases[_i].at_domain) == 0,
		      "%s: at_domain got \"%s\", want \"%s\"", sender_cases[_i].label,
		      key.at_domain, sender_cases[_i].at_domain);
	if (rc < 0)
		return;
	/* Equality on the candidates is lib/addr.h's matcher. */
	ck_assert_int_eq(addr_normalize(sender_cases[_i].address, norm, sizeof norm), 0);
	for (size_t p = 0; p < N(patterns); p++) {
		char pat[ADDR_MAX];

		ck_assert_int_eq(addr_pattern_normalize(patterns[p], pat, sizeof pat, NULL), 0);
		ck_assert_str_eq(pat, patterns[p]);
		bool eq = strcmp(patterns[p], key.bare) == 0 || strcmp(patterns[p], key.at_domain) == 0;
		bool match = addr_pattern_match(patterns[p], norm);

		ck_assert_msg(eq == match, "%s, pattern %s: candidates say %d, addr_pattern_match %d",
			      sender_cases[_i].label, patterns[p], eq, match);
	}
}
END_TEST

/* want NULL: refused. */
static const struct {
	const char *label, *in, *want;
} fpr_cases[] = {
	{ "Postfix form", "AB:CD:01:EF", "AB:CD:01:EF" },
	{ "lower case", "ab:cd:01:ef", "AB:CD:01:EF" },
	{ "no colons", "abcd01ef", "AB:CD:01:EF" },
	{ "odd colons", "a:bcd:01ef", "AB:CD:01:EF" },
	{ "spaces and tabs", "ab cd\t01 ef", "AB:CD:01:EF" },
	{ "odd digits", "abc", NULL },
	{ "not hex", "zz:11", NULL },
	{ "empty", "", NULL },
	{ "only colons", ":::", NULL },
};

START_TEST(test_fingerprint)
{
	char out[STORE_FPR_MAX], *error = NULL;
	int rc = store_rules_fingerprint(fpr_cases[_i].in, out, &error);

	if (fpr_cases[_i].want == NULL) {
		ck_assert_msg(rc < 0, "%s: got \"%s\", want refusal", fpr_cases[_i].label, out);
		ck_assert_msg(error != NULL && strstr(error, "bad certificate fingerprint") != NULL,
			      "%s: error got \"%s\"", fpr_cases[_i].label, error ? error : "(null)");
		free(error);
		return;
	}
	ck_assert_msg(rc == 0, "%s: got error \"%s\", want %s", fpr_cases[_i].label, error,
		      fpr_cases[_i].want);
	ck_assert_msg(strcmp(out, fpr_cases[_i].want) == 0, "%s: got %s, want %s",
		      fpr_cases[_i].label, out, fpr_cases[_i].want);
}
END_TEST

START_TEST(test_fingerprint_bounds)
{
	char small[6];

	/* "AB:CD" needs 6 bytes with its NUL; "AB:CD:EF" does not fit. */
	ck_assert_int_eq(store_fingerprint_normalize("abcd", small, sizeof small), 0);
	ck_assert_str_eq(small, "AB:CD");
	ck_assert_int_eq(store_fingerprint_normalize("abcdef", small, sizeof small), -1);
	ck_assert_int_eq(store_fingerprint_normalize(NULL, small, sizeof small), -1);
	ck_assert_int_eq(store_fingerprint_normalize("ab", small, 0), -1);
}
END_TEST

/* want: the normalised fingerprints, or NULL and a part of the error. */
static const struct {
	const char *label, *user, *fpr, *pubfpr, *want_fpr, *want_pub, *error;
} cert_cases[] = {
	{ "both normalised", "alice", "ab:cd", "0102", "AB:CD", "01:02", NULL },
	{ "no public key", "alice", "abcd", "", "AB:CD", "", NULL },
	{ "no user", "", "abcd", "", NULL, NULL, "without a valid user name" },
	{ "bad fingerprint", "alice", "xyz", "", NULL, NULL, "bad certificate fingerprint" },
	{ "bad public key", "alice", "abcd", "q", NULL, NULL, "bad public-key fingerprint" },
};

START_TEST(test_cert)
{
	struct store_cert in, out;
	char *error = NULL;
	int rc;

	memset(&in, 0, sizeof in);
	snprintf(in.username, sizeof in.username, "%s", cert_cases[_i].user);
	snprintf(in.fingerprint, sizeof in.fingerprint, "%s", cert_cases[_i].fpr);
	snprintf(in.pubkey_fingerprint, sizeof in.pubkey_fingerprint, "%s", cert_cases[_i].pubfpr);
	snprintf(in.subject, sizeof in.subject, "CN=x");
	rc = store_rules_cert(&in, &out, &error);
	if (cert_cases[_i].error != NULL) {
		ck_assert_msg(rc < 0 && error != NULL && strstr(error, cert_cases[_i].error) != NULL,
			      "%s: got %d \"%s\", want error containing \"%s\"", cert_cases[_i].label,
			      rc, error ? error : "", cert_cases[_i].error);
		free(error);
		return;
	}
	ck_assert_msg(rc == 0, "%s: got error \"%s\"", cert_cases[_i].label, error);
	ck_assert_str_eq(out.fingerprint, cert_cases[_i].want_fpr);
	ck_assert_str_eq(out.pubkey_fingerprint, cert_cases[_i].want_pub);
	ck_assert_str_eq(out.username, in.username);
	ck_assert_str_eq(out.subject, "CN=x");
}
END_TEST

/* error NULL: accepted. */
static const struct {
	const char *label, *ip;
	unsigned prefix;
	const char *user, *service;
	int64_t login_time, expires_at;
	const char *error;
} login_cases[] = {
	{ "IPv4 host", "192.0.2.7", 32, "alice", "imap", 100, 200, NULL },
	{ "IPv6 /64", "2001:db8::", 64, "alice", "pop3", 100, 200, NULL },
	{ "no address", NULL, 32, "alice", "imap", 100, 200, "without an IP address" },
	{ "prefix too long", "192.0.2.7", 33, "alice", "imap", 100, 200, "longer than the address" },
	{ "no user", "192.0.2.7", 32, "", "imap", 100, 200, "login user name is empty" },
	{ "no service", "192.0.2.7", 32, "alice", "", 100, 200, "login service is empty" },
	{ "expiry at login", "192.0.2.7", 32, "alice", "imap", 100, 100, "expiry is not after" },
};

START_TEST(test_login)
{
	struct store_login l;
	char *error = NULL;
	int rc;

	memset(&l, 0, sizeof l);
	if (login_cases[_i].ip != NULL)
		ck_assert_int_eq(ipaddr_parse(login_cases[_i].ip, &l.net), 0);
	l.prefix_len = login_cases[_i].prefix;
	snprintf(l.username, sizeof l.username, "%s", login_cases[_i].user);
	snprintf(l.service, sizeof l.service, "%s", login_cases[_i].service);
	l.login_time = login_cases[_i].login_time;
	l.expires_at = login_cases[_i].expires_at;
	rc = store_rules_login(&l, &error);
	if (login_cases[_i].error == NULL) {
		ck_assert_msg(rc == 0, "%s: got error \"%s\", want success", login_cases[_i].label,
			      error);
		return;
	}
	ck_assert_msg(rc < 0 && error != NULL && strstr(error, login_cases[_i].error) != NULL,
		      "%s: got %d \"%s\", want error containing \"%s\"", login_cases[_i].label, rc,
		      error ? error : "", login_cases[_i].error);
	free(error);
}
END_TEST

START_TEST(test_grant_and_checkpoint)
{
	struct store_grant g;
	struct store_checkpoint cp;
	char *error = NULL;

	memset(&g, 0, sizeof g);
	ck_assert_int_eq(ipaddr_parse("192.0.2.0", &g.net), 0);
	g.prefix_len = 24;
	g.expires_at = 1000;
	/* first_seen 0: the start is now. */
	ck_assert_int_eq(store_rules_grant(&g, 999, &error), 0);
	ck_assert_int_eq(store_rules_grant(&g, 1000, &error), -1);
	ck_assert_msg(strstr(error, "expiry is not after its start") != NULL, "got \"%s\"", error);
	free(error);
	g.first_seen = 10;
	ck_assert_int_eq(store_rules_grant(&g, 5000, NULL), 0);

	memset(&cp, 0, sizeof cp);
	ck_assert_int_eq(store_rules_checkpoint(&cp, NULL), -1);
	snprintf(cp.source, sizeof cp.source, "/var/log/mail.log");
	ck_assert_int_eq(store_rules_checkpoint(&cp, NULL), 0);
}
END_TEST

static const struct {
	const char *label;
	int64_t before;
	uint64_t counts[STORE_PRUNE_TABLES];
	bool stopped;
	const char *subject, *detail;
} prune_cases[] = {
	{ "decisions and grants", 86400, { 5, 2, 0, 0 }, false, "1970-01-02T00:00:00Z",
	  "decisions=5 grants=2" },
	{ "with limits", 0, { 0, 0, 3, 4 }, false, "1970-01-01T00:00:00Z",
	  "decisions=0 grants=0 limit_refusals=3 limit_counts=4" },
	{ "stopped", 0, { 1, 0, 0, 0 }, true, "1970-01-01T00:00:00Z",
	  "decisions=1 grants=0 (stopped by an error)" },
};

START_TEST(test_prune_log)
{
	char subject[32], detail[160];

	store_rules_prune_log(prune_cases[_i].before, prune_cases[_i].counts,
			      prune_cases[_i].stopped, subject, detail);
	ck_assert_msg(strcmp(subject, prune_cases[_i].subject) == 0, "%s: subject got %s, want %s",
		      prune_cases[_i].label, subject, prune_cases[_i].subject);
	ck_assert_msg(strcmp(detail, prune_cases[_i].detail) == 0, "%s: detail got %s, want %s",
		      prune_cases[_i].label, detail, prune_cases[_i].detail);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_rules");
	TCase *tc = tcase_create("rules");

	tcase_add_loop_test(tc, test_sender_key, 0, N(sender_cases));
	tcase_add_loop_test(tc, test_fingerprint, 0, N(fpr_cases));
	tcase_add_test(tc, test_fingerprint_bounds);
	tcase_add_loop_test(tc, test_cert, 0, N(cert_cases));
	tcase_add_loop_test(tc, test_login, 0, N(login_cases));
	tcase_add_test(tc, test_grant_and_checkpoint);
	tcase_add_loop_test(tc, test_prune_log, 0, N(prune_cases));
	suite_add_tcase(s, tc);
	return test_run(s);
}

/*
 * NAME
 *	check_route 1
 * SUMMARY
 *	table tests for milter/route.c
 * DESCRIPTION
 *	Relayed or local by {rcpt_mailer} against milter_relay_transports,
 *	or by domain against milter_local_domains, and the fail-closed
 *	cases. Mailer values are what Postfix 3.7 sent in the lab
 *	(samples/milter-macros.log: smtp for a relay, virtual for a local
 *	virtual mailbox domain).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

static char *transports_default[] = { "smtp", "relay" };
static char *domains_lab[] = { "lab.test", "@Example.ORG" };

static const struct cfg_list transports = { 2, transports_default };
static const struct cfg_list no_domains = { 0, NULL };
static const struct cfg_list domains = { 2, domains_lab };

static const struct {
	const char *label;
	const struct cfg_list *local_domains;
	const char *mailer, *rcpt;
	enum route want;
} cases[] = {
	{ "postfix smtp", &no_domains, "smtp", "<someone@example.org>", ROUTE_RELAY },
	{ "postfix relay transport", &no_domains, "relay", "<a@relay.test>", ROUTE_RELAY },
	{ "postfix virtual is local", &no_domains, "virtual", "<alice@lab.test>", ROUTE_LOCAL },
	{ "postfix local is local", &no_domains, "local", "<root>", ROUTE_LOCAL },
	{ "postfix lmtp is local", &no_domains, "lmtp", "<a@lab.test>", ROUTE_LOCAL },
	{ "already rejected by postfix", &no_domains, "error", "<a@x.test>", ROUTE_LOCAL },
	{ "transport names are exact", &no_domains, "SMTP", "<a@x.test>", ROUTE_LOCAL },
	{ "no mailer: assumed relay", &no_domains, NULL, "<a@lab.test>", ROUTE_RELAY_UNKNOWN },
	{ "empty mailer: assumed relay", &no_domains, "", "<a@lab.test>", ROUTE_RELAY_UNKNOWN },
	{ "domains: listed is local", &domains, "smtp", "<bob@lab.test>", ROUTE_LOCAL },
	{ "domains: case-insensitive", &domains, NULL, "<bob@LAB.Test>", ROUTE_LOCAL },
	{ "domains: @domain spelling", &domains, NULL, "x@example.org", ROUTE_LOCAL },
	{ "domains: other is relay", &domains, "virtual", "<x@example.net>", ROUTE_RELAY },
	{ "domains: subdomain is relay", &domains, NULL, "<x@sub.lab.test>", ROUTE_RELAY },
	{ "domains: no domain is local", &domains, NULL, "<postmaster>", ROUTE_LOCAL },
	{ "domains: unreadable: assumed relay", &domains, NULL, "<a b@lab.test>",
	  ROUTE_RELAY_UNKNOWN },
	{ "domains: no recipient: assumed relay", &domains, NULL, NULL, ROUTE_RELAY_UNKNOWN },
};

START_TEST(test_route)
{
	enum route got = route_recipient(&transports, cases[_i].local_domains, cases[_i].mailer,
					 cases[_i].rcpt);

	ck_assert_msg(got == cases[_i].want, "%s: got %s, want %s", cases[_i].label,
		      route_name(got), route_name(cases[_i].want));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("milter/route");
	TCase *tc = tcase_create("route");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_route, 0, sizeof cases / sizeof cases[0]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * NAME
 *	check_route 1
 * SUMMARY
 *	table tests for milter/route.c: relayed or local, as the MTA said
 * DESCRIPTION
 *	Each row is a recipient as a client wrote it and the {rcpt_mailer}
 *	the MTA sent for it, seen in a lab: Postfix 3.7 (the reference
 *	lab's samples/milter-macros.log: smtp for a relay, virtual for a
 *	virtual mailbox domain) and Sendmail 8.17 (tests/sendmail/run.sh,
 *	which prints the mailer of every recipient it sends; lab.test is
 *	Sendmail's local domain there). Routing tricks are classified by
 *	what the MTA resolved them to, never by the address text: the
 *	percent hack and a bang path that Sendmail relays through esmtp
 *	are relays although their domain is local.
 *
 *	The rows are judged against the shipped default of
 *	milter_relay_transports (cfg_defaults()), so a default that misses
 *	one of the MTAs' relaying mailers fails here.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "route.h"

static const struct {
	const char *label;
	const char *rcpt;	/* what the client sent (for the record) */
	const char *mailer;	/* {rcpt_mailer} the MTA sent; NULL: none */
	enum route want;
} cases[] = {
	/* Postfix 3.7 */
	{ "postfix: relay", "<someone@example.org>", "smtp", ROUTE_RELAY },
	{ "postfix: relay_domains", "<a@relay.test>", "relay", ROUTE_RELAY },
	{ "postfix: virtual mailbox", "<alice@lab.test>", "virtual", ROUTE_LOCAL },
	{ "postfix: local", "<root>", "local", ROUTE_LOCAL },
	{ "postfix: lmtp", "<a@lab.test>", "lmtp", ROUTE_LOCAL },
	{ "postfix: uucp transport", "<a!b@lab.test>", "uucp", ROUTE_RELAY },
	{ "postfix: already rejected", "<a@x.test>", "error", ROUTE_LOCAL },
	{ "postfix: percent hack rewritten to the remote domain", "<someone%example.org@lab.test>",
	  "smtp", ROUTE_RELAY },
	/* Sendmail 8.17 */
	{ "sendmail: relay", "<someone@example.org>", "esmtp", ROUTE_RELAY },
	{ "sendmail: percent hack", "<someone%example.org@lab.test>", "esmtp", ROUTE_RELAY },
	{ "sendmail: bang path", "<example.org!someone@lab.test>", "esmtp", ROUTE_RELAY },
	{ "sendmail: source route", "<@lab.test:someone@example.org>", "esmtp", ROUTE_RELAY },
	{ "sendmail: source route via an address literal", "<@[127.0.0.1]:someone@example.org>",
	  "esmtp", ROUTE_RELAY },
	{ "sendmail: percent hack via an address literal", "<someone%example.org@[127.0.0.1]>",
	  "esmtp", ROUTE_RELAY },
	{ "sendmail: quoted local part", "<\"someone@example.org\"@lab.test>", "esmtp",
	  ROUTE_RELAY },
	{ "sendmail: quoted percent hack", "<\"someone%example.org\"@lab.test>", "esmtp",
	  ROUTE_RELAY },
	{ "sendmail: smtp mailer", "<a@x.test>", "smtp", ROUTE_RELAY },
	{ "sendmail: smtp8 mailer", "<a@x.test>", "smtp8", ROUTE_RELAY },
	{ "sendmail: dsmtp mailer", "<a@x.test>", "dsmtp", ROUTE_RELAY },
	{ "sendmail: relay mailer (SMART_HOST, LUSER_RELAY)", "<a@x.test>", "relay", ROUTE_RELAY },
	{ "sendmail: uucp-dom mailer", "<a@x.uucp>", "uucp-dom", ROUTE_RELAY },
	{ "sendmail: local", "<someone@lab.test>", "local", ROUTE_LOCAL },
	{ "sendmail: local, trailing dot", "<someone@lab.test.>", "local", ROUTE_LOCAL },
	{ "sendmail: local, address literal", "<someone@[127.0.0.1]>", "local", ROUTE_LOCAL },
	{ "sendmail: local, no domain", "<postmaster>", "local", ROUTE_LOCAL },
	/* The milter cannot tell: fail closed. */
	{ "no mailer: assumed relay", "<someone@lab.test>", NULL, ROUTE_RELAY_UNKNOWN },
	{ "empty mailer: assumed relay", "<someone%example.org@lab.test>", "", ROUTE_RELAY_UNKNOWN },
	{ "mailer names are exact", "<a@x.test>", "ESMTP", ROUTE_LOCAL },
};

static struct authrelay_config *defaults;

START_TEST(test_route)
{
	enum route got = route_recipient(&defaults->milter_relay_transports, cases[_i].mailer);

	ck_assert_msg(got == cases[_i].want, "%s: RCPT TO:%s, mailer %s: got %s, want %s",
		      cases[_i].label, cases[_i].rcpt, cases[_i].mailer ? cases[_i].mailer : "none",
		      route_name(got), route_name(cases[_i].want));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("milter/route");
	TCase *tc = tcase_create("route");
	SRunner *sr;
	int failed;

	defaults = cfg_defaults();
	tcase_add_loop_test(tc, test_route, 0, sizeof cases / sizeof cases[0]);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cfg_free(&defaults);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

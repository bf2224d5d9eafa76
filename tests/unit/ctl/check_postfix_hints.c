/*
 * NAME
 *	check_postfix_hints 1
 * SUMMARY
 *	table tests of authrelayctl check's Postfix wiring hints
 * DESCRIPTION
 *	Each case is postconf output as text; the hints it gives are joined
 *	as "W:text" / "O:text" lines and must contain (or not contain) the
 *	wanted words, with the wanted number of warnings.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postfix_hints.h"
#include "test_run.h"

struct collected {
	char text[4096];
};

static void collect(void *ctx, bool ok, const char *text)
{
	struct collected *c = ctx;
	size_t len = strlen(c->text);

	snprintf(c->text + len, sizeof c->text - len, "%s:%s\n", ok ? "O" : "W", text);
}

#define GOOD_RELAY                                                                           \
	"smtpd_relay_restrictions = permit_mynetworks, check_policy_service { "           \
	"inet:127.0.0.1:10040, default_action=DUNNO }, reject_unauth_destination\n"

static const struct {
	const char *label;
	const char *postconf;
	bool milter_in_use;
	const char *limits_set_by;
	unsigned want_warnings;
	const char *want_has;
	const char *want_not;
} cases[] = {
	{"recommended placement", GOOD_RELAY "mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128\n"
	 "smtpd_milters =\nsmtpd_recipient_restrictions =\n",
	 false, NULL, 0, "O:smtpd_relay_restrictions asks check_policy_service inet:127.0.0.1:10040 before", "W:"},
	{"plain endpoint form", "smtpd_relay_restrictions = check_policy_service inet:127.0.0.1:10040,"
	 " reject_unauth_destination\nmynetworks = 127.0.0.0/8\n",
	 false, NULL, 0, "O:smtpd_relay_restrictions asks", "W:"},
	{"policy after reject_unauth_destination",
	 "smtpd_relay_restrictions = permit_mynetworks reject_unauth_destination "
	 "check_policy_service inet:127.0.0.1:10040\nmynetworks = 127.0.0.0/8\n",
	 false, NULL, 1, "W:smtpd_relay_restrictions: reject_unauth_destination comes before", NULL},
	{"permit_sasl_authenticated first",
	 "smtpd_relay_restrictions = permit_sasl_authenticated, check_policy_service "
	 "inet:127.0.0.1:10040, defer_unauth_destination\nmynetworks = 127.0.0.0/8\n",
	 false, NULL, 1, "SASL rules", NULL},
	{"no policy, no milter",
	 "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, "
	 "defer_unauth_destination\nmynetworks = 127.0.0.0/8\nsmtpd_milters =\n",
	 false, NULL, 1, "Postfix never asks authrelay", NULL},
	{"another policy server",
	 "smtpd_relay_restrictions = check_policy_service unix:private/policy, "
	 "reject_unauth_destination\nmynetworks = 127.0.0.0/8\n",
	 false, NULL, 1, "asks check_policy_service unix:private/policy, not", NULL},
	{"policy only in recipient restrictions",
	 "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
	 "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:10040\n"
	 "mynetworks = 127.0.0.0/8\n",
	 false, NULL, 1, "move it to smtpd_relay_restrictions", NULL},
	{"no reject_unauth_destination anywhere",
	 "smtpd_relay_restrictions = check_policy_service inet:127.0.0.1:10040\n"
	 "mynetworks = 127.0.0.0/8\n",
	 false, NULL, 1, "DUNNO would not refuse relay", NULL},
	{"wide IPv4 mynetworks", GOOD_RELAY "mynetworks = 127.0.0.0/8, 10.0.0.0/8 192.0.2.0/24\n",
	 false, NULL, 1, "W:mynetworks contains 10.0.0.0/8", "192.0.2.0/24"},
	{"whole Internet", GOOD_RELAY "mynetworks = 0.0.0.0/0\n", false, NULL, 1, "open relay", NULL},
	{"wide IPv6 in brackets", GOOD_RELAY "mynetworks = [2001:db8::]/32 [2001:db8:1::]/64\n",
	 false, NULL, 1, "W:mynetworks contains [2001:db8::]/32", "/64 ("},
	{"tables and names ignored", GOOD_RELAY "mynetworks = hash:/etc/postfix/net, /etc/nets, "
	 "!192.0.2.0/24, example.org\n",
	 false, NULL, 0, "O:mynetworks has no network", "W:"},
	{"milter wired, no policy: fine",
	 "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
	 "mynetworks = 127.0.0.0/8\nsmtpd_milters = { inet:127.0.0.1:10030, default_action=tempfail }\n",
	 false, NULL, 0, "O:smtpd_milters contains inet:127.0.0.1:10030", "W:"},
	{"milter configured but not wired", GOOD_RELAY "mynetworks = 127.0.0.0/8\n"
	 "smtpd_milters = inet:127.0.0.1:9999\n",
	 true, NULL, 1, "but smtpd_milters does not contain it", NULL},
	{"folded continuation line",
	 "smtpd_relay_restrictions = permit_mynetworks,\n    check_policy_service inet:127.0.0.1:10040,\n"
	 "    reject_unauth_destination\nmynetworks = 127.0.0.0/8\n",
	 false, NULL, 0, "O:smtpd_relay_restrictions asks", "W:"},
	{"limits set, data restrictions ask policyd", GOOD_RELAY "mynetworks = 127.0.0.0/8\n"
	 "smtpd_data_restrictions = check_policy_service { inet:127.0.0.1:10040, "
	 "default_action=DUNNO }\n",
	 false, "limit_messages in authrelay.conf", 0,
	 "O:smtpd_data_restrictions asks check_policy_service inet:127.0.0.1:10040 (sending "
	 "limits: limit_messages in authrelay.conf)", "W:"},
	{"limits set, no data restrictions", GOOD_RELAY "mynetworks = 127.0.0.0/8\n"
	 "smtpd_data_restrictions =\n",
	 false, "2 limit rows in the database", 1,
	 "W:sending limits are set (2 limit rows in the database) but smtpd_data_restrictions "
	 "has no check_policy_service inet:127.0.0.1:10040", NULL},
	{"limits set, data restrictions ask another server", GOOD_RELAY "mynetworks = 127.0.0.0/8\n"
	 "smtpd_data_restrictions = check_policy_service unix:private/quota\n",
	 false, "limit_recipients in authrelay.conf", 1, "W:sending limits are set", NULL},
	{"no limits: data restrictions not looked at", GOOD_RELAY "mynetworks = 127.0.0.0/8\n"
	 "smtpd_data_restrictions =\n",
	 false, NULL, 0, "O:smtpd_relay_restrictions asks", "smtpd_data_restrictions"},
	{"limits set, policyd wired in master.cf only: no data hint",
	 "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n"
	 "mynetworks = 127.0.0.0/8\nsmtpd_milters = inet:127.0.0.1:10030\n",
	 false, "limit_messages in authrelay.conf", 0, "O:smtpd_milters contains",
	 "smtpd_data_restrictions"},
};

START_TEST(test_hints)
{
	struct postfix_conf pc;
	struct postfix_expect e = {"inet:127.0.0.1:10040", "inet:127.0.0.1:10030",
				   cases[_i].milter_in_use, cases[_i].limits_set_by};
	struct collected got = {""};
	unsigned warnings;

	ck_assert_int_eq(postfix_conf_parse(cases[_i].postconf, &pc), 0);
	warnings = postfix_hints(&pc, &e, collect, &got);
	postfix_conf_free(&pc);
	ck_assert_msg(warnings == cases[_i].want_warnings, "%s: got %u warnings, want %u:\n%s",
		      cases[_i].label, warnings, cases[_i].want_warnings, got.text);
	ck_assert_msg(strstr(got.text, cases[_i].want_has) != NULL,
		      "%s: got\n%swant it to contain \"%s\"", cases[_i].label, got.text,
		      cases[_i].want_has);
	if (cases[_i].want_not != NULL)
		ck_assert_msg(strstr(got.text, cases[_i].want_not) == NULL,
			      "%s: got\n%swant no \"%s\"", cases[_i].label, got.text,
			      cases[_i].want_not);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("postfix_hints");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_hints, 0, (int)(sizeof cases / sizeof cases[0]));
	suite_add_tcase(s, tc);
	return test_run(s);
}

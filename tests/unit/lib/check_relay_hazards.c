/*
 * NAME
 *	check_relay_hazards 1
 * SUMMARY
 *	table tests for lib/relay_hazards.c
 * DESCRIPTION
 *	A configuration text (as file "t.conf") and the programs asked
 *	about, against every warning line expected, "FILE:LINE: warning:
 *	text" as the daemons' -n print them. Safe setups (the defaults, a
 *	private /8, the documented Sendmail setup, an extra relaying
 *	transport) must give none.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay_hazards.h"
#include "test_run.h"

#define TRUST_WHY " covers most of the Internet: every client in it may relay (an open relay); " \
		  "list only your own networks\n"
#define MAILER_WHY ": recipients the MTA relays through these mailers count as local and are " \
		   "accepted from anyone (an open relay); add them back\n"

static const struct {
	const char *label;
	const char *text;
	unsigned programs;
	const char *want;
} cases[] = {
	{"defaults", "", CFG_ALL, ""},
	{"a private /8 and hosts", "trusted_networks = 10.0.0.0/8, 127.0.0.1, ::1", CFG_ALL, ""},
	{"documented Sendmail setup",
	 "milter_socket = unix:/run/authrelay/milter.sock\ntrusted_networks = 127.0.0.1, ::1\n"
	 "milter_relay_check = yes\nsender_login_check = both",
	 CFG_MILTER, ""},
	{"an extra relaying transport",
	 "milter_relay_transports = smtp, esmtp, smtp8, dsmtp, relay, uucp, uucp-old, uucp-new,\n"
	 "  suucp, uucp-dom, uucp-uudom, smtp-out",
	 CFG_MILTER, ""},
	{"0.0.0.0/0 on line 2", "# trusted\ntrusted_networks = 192.0.2.0/24, 0.0.0.0/0", CFG_POLICYD,
	 "t.conf:2: warning: trusted_networks: 0.0.0.0/0" TRUST_WHY},
	{"/7 and ::/0 and 2000::/3, continued",
	 "trusted_networks = 2.0.0.0/7,\n  ::/0, 2001:db8::/32, 2000::/3", CFG_MILTER,
	 "t.conf:1: warning: trusted_networks: 2.0.0.0/7" TRUST_WHY
	 "t.conf:1: warning: trusted_networks: ::/0" TRUST_WHY
	 "t.conf:1: warning: trusted_networks: 2000::/3" TRUST_WHY},
	{"the old default smtp, relay (open with Sendmail)",
	 "log_level = info\nmilter_relay_transports = smtp, relay", CFG_MILTER,
	 "t.conf:2: warning: milter_relay_transports lacks esmtp, smtp8, dsmtp, uucp, uucp-old, "
	 "uucp-new, suucp, uucp-dom, uucp-uudom" MAILER_WHY},
	{"the later of two settings counts",
	 "milter_relay_transports = smtp\nmilter_relay_transports = smtp, esmtp, smtp8, dsmtp, "
	 "relay, uucp, uucp-old, uucp-new, suucp, uucp-dom\n",
	 CFG_MILTER, "t.conf:2: warning: milter_relay_transports lacks uucp-uudom" MAILER_WHY},
	{"transports are the milter's only", "milter_relay_transports = smtp", CFG_POLICYD, ""},
};

START_TEST(test_hazards)
{
	struct authrelay_config *cfg = NULL;
	char *error = NULL, *got = NULL;
	size_t size = 0;
	FILE *fp;
	unsigned n, lines = 0;

	ck_assert_msg(cfg_load_string("t.conf", cases[_i].text, &cfg, &error) == 0, "%s: %s",
		      cases[_i].label, error ? error : "load failed");
	fp = open_memstream(&got, &size);
	ck_assert_ptr_nonnull(fp);
	n = relay_hazards_print(cfg, cases[_i].programs, fp);
	fclose(fp);
	ck_assert_msg(strcmp(got, cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      cases[_i].label, got, cases[_i].want);
	for (const char *p = got; *p; p++)
		lines += *p == '\n';
	ck_assert_msg(n == lines, "%s: got count %u, want %u (one per line)", cases[_i].label, n,
		      lines);
	free(got);
	cfg_free(&cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("relay_hazards");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_hazards, 0, sizeof cases / sizeof cases[0]);
	suite_add_tcase(s, tc);
	return test_run(s);
}

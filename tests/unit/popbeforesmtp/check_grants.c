/*
 * NAME
 *	check_grants 1
 * SUMMARY
 *	login events to store logins: masking, exclusion, expiry
 * DESCRIPTION
 *	One table of { label, ip, ipv6 prefix, login time, want outcome, want
 *	net/prefix, want expiry } against a fixed clock and
 *	grant_exclude_networks = 192.0.2.128/25, 2001:db8:ff::/48.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "grants.h"

#define NOW 1795701600LL
#define TTL 1800

struct grant_case {
	const char *label;
	const char *ip;
	unsigned v6prefix;
	long long login_time;
	enum grant_outcome want;
	const char *want_net;	/* "net/len" */
	long long want_expires;
};

static const struct grant_case cases[] = {
	{ "IPv4 is exact", "192.0.2.1", 64, NOW - 10, GRANT_NEW, "192.0.2.1/32", NOW - 10 + TTL },
	{ "IPv4-mapped was made IPv4 by the parser", "::ffff:192.0.2.2", 64, NOW, GRANT_NEW,
	  "192.0.2.2/32", NOW + TTL },
	{ "IPv6 widened to /64", "2001:db8:1:2:3:4:5:6", 64, NOW, GRANT_NEW, "2001:db8:1:2::/64",
	  NOW + TTL },
	{ "IPv6 kept at /128", "2001:db8::6", 128, NOW, GRANT_NEW, "2001:db8::6/128", NOW + TTL },
	{ "IPv6 prefix above 128 clamped", "2001:db8::7", 200, NOW, GRANT_NEW, "2001:db8::7/128",
	  NOW + TTL },
	{ "IPv4 excluded", "192.0.2.200", 64, NOW, GRANT_EXCLUDED, NULL, 0 },
	{ "IPv6 excluded", "2001:db8:ff:1::1", 64, NOW, GRANT_EXCLUDED, NULL, 0 },
	{ "expired: login + ttl == now", "192.0.2.3", 64, NOW - TTL, GRANT_EXPIRED, NULL, 0 },
	{ "live: one second left", "192.0.2.4", 64, NOW - TTL + 1, GRANT_NEW, "192.0.2.4/32",
	  NOW + 1 },
	{ "clock skew within bound kept", "192.0.2.5", 64, NOW + GRANT_MAX_FUTURE, GRANT_NEW,
	  "192.0.2.5/32", NOW + GRANT_MAX_FUTURE + TTL },
	{ "future stamp taken as now", "192.0.2.6", 64, NOW + GRANT_MAX_FUTURE + 1, GRANT_NEW,
	  "192.0.2.6/32", NOW + TTL },
	{ "year 9999 stamp taken as now", "192.0.2.7", 64, 253402300799LL, GRANT_NEW,
	  "192.0.2.7/32", NOW + TTL },
	{ "year 0026 stamp long expired", "192.0.2.8", 64, -61319000000LL, GRANT_EXPIRED, NULL, 0 },
};

START_TEST(test_table)
{
	struct cidr_list *exclude = NULL;
	char *error = NULL;
	int fails = 0;

	ck_assert_int_eq(cidr_list_parse("192.0.2.128/25, 2001:db8:ff::/48", &exclude, &error), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct grant_case *c = &cases[i];
		struct grant_policy policy = { TTL, c->v6prefix, exclude };
		struct login_event ev;
		struct store_login login;
		enum grant_outcome got;
		char net[IPADDR_STRLEN + 8];

		memset(&ev, 0, sizeof(ev));
		ck_assert_int_eq(ipaddr_parse(c->ip, &ev.ip), 0);
		strcpy(ev.user, "u");
		strcpy(ev.service, "imap");
		ev.time = c->login_time;
		got = grants_from_event(&policy, &ev, "/var/log/mail.log", "line", NOW, &login);
		if (got != c->want) {
			fprintf(stderr, "%s: got outcome %d, want %d\n", c->label, got, c->want);
			fails++;
			continue;
		}
		if (got != GRANT_NEW)
			continue;
		ipaddr_format(&login.net, net);
		snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%u", login.prefix_len);
		if (strcmp(net, c->want_net) != 0 || login.expires_at != c->want_expires
		    || strcmp(login.source, "/var/log/mail.log") != 0 || strcmp(login.username, "u") != 0) {
			fprintf(stderr, "%s: got %s expires %lld, want %s expires %lld\n", c->label, net,
				(long long)login.expires_at, c->want_net, c->want_expires);
			fails++;
		}
	}
	cidr_list_free(&exclude);
	ck_assert_msg(fails == 0, "%d case(s) failed, see above", fails);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("grants");
	TCase *tc = tcase_create("table");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_table);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

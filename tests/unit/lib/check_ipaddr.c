/*
 * NAME
 *	check_ipaddr 1
 * SUMMARY
 *	unit tests for lib/ipaddr
 * DESCRIPTION
 *	Tables of real spellings: what inet_pton accepts and refuses, the
 *	RFC 5952 section 4 cases (including the ones glibc inet_ntop gets
 *	wrong), tagged milter forms, masking and prefix matching.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipaddr.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Parse then print: want is the normalised text, or NULL for "refused". */
struct parse_case {
	const char *label;
	const char *input;
	const char *want;
	int family;
};

static const struct parse_case parse_cases[] = {
	{"ipv4 plain", "192.0.2.1", "192.0.2.1", AF_INET},
	{"ipv4 zero", "0.0.0.0", "0.0.0.0", AF_INET},
	{"ipv4 broadcast", "255.255.255.255", "255.255.255.255", AF_INET},
	{"ipv4 loopback", "127.0.0.1", "127.0.0.1", AF_INET},
	{"ipv4 octet 256", "192.0.2.256", NULL, 0},
	{"ipv4 three parts", "192.0.2", NULL, 0},
	{"ipv4 five parts", "192.0.2.1.5", NULL, 0},
	{"ipv4 leading zero (octal trap)", "010.0.0.1", NULL, 0},
	{"ipv4 hex", "0x7f.0.0.1", NULL, 0},
	{"ipv4 single number", "2130706433", NULL, 0},
	{"ipv4 leading space", " 192.0.2.1", NULL, 0},
	{"ipv4 trailing space", "192.0.2.1 ", NULL, 0},
	{"ipv4 trailing newline", "192.0.2.1\n", NULL, 0},
	{"ipv4 with prefix", "192.0.2.0/24", NULL, 0},
	{"ipv4 with port", "192.0.2.1:25", NULL, 0},
	{"ipv4 bracketed (not here)", "[192.0.2.1]", NULL, 0},
	{"empty", "", NULL, 0},
	{"word", "localhost", NULL, 0},
	{"ipv6 loopback", "::1", "::1", AF_INET6},
	{"ipv6 any", "::", "::", AF_INET6},
	{"ipv6 upper case", "2001:DB8::A", "2001:db8::a", AF_INET6},
	{"ipv6 leading zeros dropped", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1",
	 AF_INET6},
	{"rfc5952 4.2.2 single zero field kept", "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1",
	 AF_INET6},
	{"rfc5952 4.2.2 single zero not ::", "2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1",
	 AF_INET6},
	{"rfc5952 4.2.3 longest run", "2001:0:0:1:0:0:0:1", "2001:0:0:1::1", AF_INET6},
	{"rfc5952 4.2.3 first of equal runs", "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1",
	 AF_INET6},
	{"equal runs, three zeros each", "1:0:0:0:2:0:0:0", "1::2:0:0:0", AF_INET6},
	{"run at the end", "2001:db8:1:1:1:1:0:0", "2001:db8:1:1:1:1::", AF_INET6},
	{"glibc prints ::0.1.0.2", "::1:2", "::1:2", AF_INET6},
	{"ipv4-compatible stays hex", "::102:304", "::102:304", AF_INET6},
	{"ipv4-compatible dotted input", "::1.2.3.4", "::102:304", AF_INET6},
	{"link local", "fe80::1", "fe80::1", AF_INET6},
	{"all fields", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", AF_INET6},
	{"max", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	 AF_INET6},
	{"ipv4 one, two and three digits", "0.9.10.255", "0.9.10.255", AF_INET},
	{"ipv4 tens and hundreds with zeros", "100.101.110.99", "100.101.110.99", AF_INET},
	{"ipv4 all zeros", "0.0.0.0", "0.0.0.0", AF_INET},
	{"ipv4 widest", "255.255.255.255", "255.255.255.255", AF_INET},
	{"mapped becomes ipv4", "::ffff:192.0.2.1", "192.0.2.1", AF_INET},
	{"mapped hex becomes ipv4", "::ffff:c000:201", "192.0.2.1", AF_INET},
	{"mapped upper case", "::FFFF:127.0.0.1", "127.0.0.1", AF_INET},
	{"mapped long form", "0:0:0:0:0:ffff:7f00:1", "127.0.0.1", AF_INET},
	{"siit ::ffff:0:a.b.c.d is not mapped", "::ffff:0:1.2.3.4", "::ffff:0:102:304", AF_INET6},
	{"two ::", "1::2::3", NULL, 0},
	{"nine fields", "1:2:3:4:5:6:7:8:9", NULL, 0},
	{"field too long", "12345::1", NULL, 0},
	{"zone id", "fe80::1%eth0", NULL, 0},
	{"prefix", "2001:db8::/32", NULL, 0},
	{"bracketed ipv6 (not here)", "[::1]", NULL, 0},
	{"tagged (not here)", "IPv6:::1", NULL, 0},
	{"non-hex", "2001:db8::g", NULL, 0},
	{"overlong", "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001", NULL, 0},
};

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	struct ipaddr ip;
	char buf[IPADDR_STRLEN];
	int rc;

	memset(&ip, 0xa5, sizeof(ip));
	rc = ipaddr_parse(c->input, &ip);
	if (c->want == NULL) {
		ck_assert_msg(rc == -1, "%s: \"%s\": got 0 (%s), want -1", c->label, c->input,
			      ipaddr_format(&ip, buf));
		ck_assert_msg(ip.family == 0, "%s: family %d after failure, want 0", c->label,
			      ip.family);
		return;
	}
	ck_assert_msg(rc == 0, "%s: \"%s\": got -1, want %s", c->label, c->input, c->want);
	ck_assert_msg(ip.family == c->family, "%s: family got %d, want %d", c->label, ip.family,
		      c->family);
	ipaddr_format(&ip, buf);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: \"%s\": got %s, want %s", c->label, c->input,
		      buf, c->want);
	if (ip.family == AF_INET) {
		static const uint8_t zero[12];
		ck_assert_msg(memcmp(ip.bytes + 4, zero, 12) == 0, "%s: bytes past IPv4 not zero",
			      c->label);
	}
}
END_TEST

/* Every printed form must parse back to the same address. */
START_TEST(test_roundtrip)
{
	const struct parse_case *c = &parse_cases[_i];
	struct ipaddr ip, again;
	char buf[IPADDR_STRLEN];

	if (c->want == NULL)
		return;
	ck_assert_int_eq(ipaddr_parse(c->input, &ip), 0);
	ck_assert_msg(ipaddr_parse(ipaddr_format(&ip, buf), &again) == 0, "%s: %s does not parse",
		      c->label, buf);
	ck_assert_msg(ipaddr_equal(&ip, &again), "%s: %s parses to another address", c->label,
		      buf);
}
END_TEST

static const struct parse_case tagged_cases[] = {
	{"milter ipv6 loopback", "IPv6:::1", "::1", AF_INET6},
	{"milter ipv6", "IPv6:2001:DB8::5", "2001:db8::5", AF_INET6},
	{"tag lower case", "ipv6:2001:db8::5", "2001:db8::5", AF_INET6},
	{"tag upper case", "IPV6:2001:db8::5", "2001:db8::5", AF_INET6},
	{"tagged mapped", "IPv6:::ffff:192.0.2.9", "192.0.2.9", AF_INET},
	{"brackets ipv4", "[192.0.2.1]", "192.0.2.1", AF_INET},
	{"brackets ipv6", "[::1]", "::1", AF_INET6},
	{"brackets and tag", "[IPv6:2001:db8::1]", "2001:db8::1", AF_INET6},
	{"plain ipv4", "192.0.2.1", "192.0.2.1", AF_INET},
	{"plain ipv6", "2001:db8::1", "2001:db8::1", AF_INET6},
	{"tag on ipv4", "IPv6:192.0.2.1", NULL, 0},
	{"tag alone", "IPv6:", NULL, 0},
	{"empty brackets", "[]", NULL, 0},
	{"open bracket", "[::1", NULL, 0},
	{"close bracket", "::1]", NULL, 0},
	{"lone bracket", "[", NULL, 0},
	{"double brackets", "[[::1]]", NULL, 0},
	{"tag outside brackets", "IPv6:[::1]", NULL, 0},
	{"bracket with space", "[ ::1]", NULL, 0},
	{"double tag", "IPv6:IPv6:::1", NULL, 0},
	{"tag with zone", "IPv6:fe80::1%eth0", NULL, 0},
	{"postfix unknown", "unknown", NULL, 0},
	{"empty", "", NULL, 0},
	{"long junk in brackets",
	 "[0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001]", NULL, 0},
};

START_TEST(test_parse_tagged)
{
	const struct parse_case *c = &tagged_cases[_i];
	struct ipaddr ip;
	char buf[IPADDR_STRLEN];
	int rc;

	memset(&ip, 0x5a, sizeof(ip));
	rc = ipaddr_parse_tagged(c->input, &ip);
	if (c->want == NULL) {
		ck_assert_msg(rc == -1, "%s: \"%s\": got 0 (%s), want -1", c->label, c->input,
			      ipaddr_format(&ip, buf));
		ck_assert_msg(ip.family == 0, "%s: family not cleared", c->label);
		return;
	}
	ck_assert_msg(rc == 0, "%s: \"%s\": got -1, want %s", c->label, c->input, c->want);
	ck_assert_msg(ip.family == c->family, "%s: family got %d, want %d", c->label, ip.family,
		      c->family);
	ck_assert_msg(strcmp(ipaddr_format(&ip, buf), c->want) == 0, "%s: got %s, want %s",
		      c->label, buf, c->want);
}
END_TEST

START_TEST(test_format_unknown)
{
	struct ipaddr ip;
	char buf[IPADDR_STRLEN];

	memset(&ip, 0, sizeof(ip));
	ck_assert_str_eq(ipaddr_format(&ip, buf), "unknown");
	ck_assert_uint_eq(ipaddr_bits(&ip), 0);
	/* A hand-built mapped IPv6 prints in the RFC 5952 mixed form. */
	ip.family = AF_INET6;
	ip.bytes[10] = ip.bytes[11] = 0xff;
	ip.bytes[12] = 192, ip.bytes[13] = 0, ip.bytes[14] = 2, ip.bytes[15] = 1;
	ck_assert_str_eq(ipaddr_format(&ip, buf), "::ffff:192.0.2.1");
}
END_TEST

struct mask_case {
	const char *label;
	const char *input;
	unsigned len;
	const char *want;
};

static const struct mask_case mask_cases[] = {
	{"v4 /24", "192.0.2.77", 24, "192.0.2.0"},
	{"v4 /0", "192.0.2.77", 0, "0.0.0.0"},
	{"v4 /32", "192.0.2.77", 32, "192.0.2.77"},
	{"v4 /31", "192.0.2.77", 31, "192.0.2.76"},
	{"v4 /9", "10.255.1.1", 9, "10.128.0.0"},
	{"v4 /1", "192.0.2.77", 1, "128.0.0.0"},
	{"v4 len clamped", "192.0.2.77", 200, "192.0.2.77"},
	{"v6 /64", "2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::"},
	{"v6 /48", "2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::"},
	{"v6 /127", "2001:db8::3", 127, "2001:db8::2"},
	{"v6 /128", "2001:db8::3", 128, "2001:db8::3"},
	{"v6 /0", "2001:db8::3", 0, "::"},
	{"v6 /23", "2001:dbff::", 23, "2001:da00::"},
	{"v6 len clamped", "2001:db8::3", 999, "2001:db8::3"},
};

START_TEST(test_mask)
{
	const struct mask_case *c = &mask_cases[_i];
	struct ipaddr ip;
	char buf[IPADDR_STRLEN];

	ck_assert_int_eq(ipaddr_parse(c->input, &ip), 0);
	ipaddr_mask(&ip, c->len);
	ck_assert_msg(strcmp(ipaddr_format(&ip, buf), c->want) == 0, "%s: %s/%u: got %s, want %s",
		      c->label, c->input, c->len, buf, c->want);
}
END_TEST

struct prefix_case {
	const char *label;
	const char *addr;
	const char *net;
	unsigned len;
	bool want;
};

static const struct prefix_case prefix_cases[] = {
	{"v4 inside /24", "192.0.2.77", "192.0.2.0", 24, true},
	{"v4 outside /24", "192.0.3.77", "192.0.2.0", 24, false},
	{"v4 /32 same", "127.0.0.1", "127.0.0.1", 32, true},
	{"v4 /32 other", "127.0.0.2", "127.0.0.1", 32, false},
	{"v4 /0 matches all v4", "203.0.113.9", "0.0.0.0", 0, true},
	{"v4 /0 does not match v6", "::1", "0.0.0.0", 0, false},
	{"v6 /0 does not match v4", "127.0.0.1", "::", 0, false},
	{"mapped matches v4 net", "::ffff:192.0.2.5", "192.0.2.0", 24, true},
	{"v4 does not match ::ffff:0:0/96", "192.0.2.5", "::ffff:0:0", 96, false},
	{"v6 /64 privacy address", "2001:db8:1:2:a:b:c:d", "2001:db8:1:2::", 64, true},
	{"v6 /64 other net", "2001:db8:1:3::1", "2001:db8:1:2::", 64, false},
	{"v6 /128 exact", "::1", "::1", 128, true},
	{"v6 /128 other", "::2", "::1", 128, false},
	{"net with host bits still compares masked", "192.0.2.200", "192.0.2.1", 24, true},
	{"v4 /25 lower half", "192.0.2.127", "192.0.2.0", 25, true},
	{"v4 /25 upper half", "192.0.2.128", "192.0.2.0", 25, false},
};

START_TEST(test_in_prefix)
{
	const struct prefix_case *c = &prefix_cases[_i];
	struct ipaddr addr, net;
	bool got;

	ck_assert_int_eq(ipaddr_parse(c->addr, &addr), 0);
	ck_assert_int_eq(ipaddr_parse(c->net, &net), 0);
	got = ipaddr_in_prefix(&addr, &net, c->len);
	ck_assert_msg(got == c->want, "%s: %s in %s/%u: got %d, want %d", c->label, c->addr, c->net,
		      c->len, got, c->want);
}
END_TEST

START_TEST(test_unset_matches_nothing)
{
	struct ipaddr unset, net, v4;

	memset(&unset, 0, sizeof(unset));
	ck_assert_int_eq(ipaddr_parse("0.0.0.0", &net), 0);
	ck_assert_int_eq(ipaddr_parse("0.0.0.0", &v4), 0);
	ck_assert(!ipaddr_in_prefix(&unset, &net, 0));
	ck_assert(!ipaddr_in_prefix(&v4, &unset, 0));
	ck_assert(!ipaddr_in_prefix(&unset, &unset, 0));
	ck_assert(!ipaddr_equal(&unset, &v4));
	ck_assert(ipaddr_equal(&v4, &net));
	ck_assert_uint_eq(ipaddr_bits(&v4), 32);
	ck_assert_int_eq(ipaddr_parse("::", &net), 0);
	ck_assert_uint_eq(ipaddr_bits(&net), 128);
	ck_assert(!ipaddr_equal(&net, &v4));
}
END_TEST

static Suite *ipaddr_suite(void)
{
	Suite *s = suite_create("ipaddr");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, N(parse_cases));
	tcase_add_loop_test(tc, test_roundtrip, 0, N(parse_cases));
	tcase_add_loop_test(tc, test_parse_tagged, 0, N(tagged_cases));
	tcase_add_test(tc, test_format_unknown);
	tcase_add_loop_test(tc, test_mask, 0, N(mask_cases));
	tcase_add_loop_test(tc, test_in_prefix, 0, N(prefix_cases));
	tcase_add_test(tc, test_unset_matches_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ipaddr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

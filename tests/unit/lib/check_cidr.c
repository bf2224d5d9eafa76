/*
 * NAME
 *	check_cidr 1
 * SUMMARY
 *	unit tests for lib/cidr
 * DESCRIPTION
 *	One table of single networks (accepted with their canonical form, or
 *	refused with the exact message), one of lists, one of matches.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* want is the canonical "net/len", or NULL with error the exact message. */
struct parse_case {
	const char *label;
	const char *input;
	const char *want;
	const char *error;
};

static const struct parse_case parse_cases[] = {
	{"v4 /24", "192.0.2.0/24", "192.0.2.0/24", NULL},
	{"v4 /0", "0.0.0.0/0", "0.0.0.0/0", NULL},
	{"v4 /32", "192.0.2.1/32", "192.0.2.1/32", NULL},
	{"v4 bare host", "127.0.0.1", "127.0.0.1/32", NULL},
	{"v4 /8", "10.0.0.0/8", "10.0.0.0/8", NULL},
	{"v6 /32", "2001:db8::/32", "2001:db8::/32", NULL},
	{"v6 upper case", "2001:DB8::/32", "2001:db8::/32", NULL},
	{"v6 bare host", "::1", "::1/128", NULL},
	{"v6 /0", "::/0", "::/0", NULL},
	{"v6 /64", "2001:db8:1:2::/64", "2001:db8:1:2::/64", NULL},
	{"v6 /128", "2001:db8::5/128", "2001:db8::5/128", NULL},
	{"postfix brackets v6", "[2001:db8::]/32", "2001:db8::/32", NULL},
	{"postfix brackets host", "[::1]", "::1/128", NULL},
	{"postfix brackets v4", "[192.0.2.0]/24", "192.0.2.0/24", NULL},
	{"mapped network becomes v4", "::ffff:10.0.0.0/104", "10.0.0.0/8", NULL},
	{"mapped host becomes v4", "::ffff:192.0.2.1", "192.0.2.1/32", NULL},
	{"host bits v4", "10.1.1.1/24", NULL,
	 "host bits set in \"10.1.1.1/24\"; did you mean \"10.1.1.0/24\"?"},
	{"host bits v4 /31", "192.0.2.1/31", NULL,
	 "host bits set in \"192.0.2.1/31\"; did you mean \"192.0.2.0/31\"?"},
	{"host bits v4 /0", "1.2.3.4/0", NULL,
	 "host bits set in \"1.2.3.4/0\"; did you mean \"0.0.0.0/0\"?"},
	{"host bits v6", "2001:db8::1/64", NULL,
	 "host bits set in \"2001:db8::1/64\"; did you mean \"2001:db8::/64\"?"},
	{"host bits mapped", "::ffff:10.1.1.1/120", NULL,
	 "host bits set in \"::ffff:10.1.1.1/120\"; did you mean \"10.1.1.0/24\"?"},
	{"v4 len 33", "192.0.2.0/33", NULL, "bad prefix length in \"192.0.2.0/33\"; want 0..32"},
	{"v6 len 129", "::/129", NULL, "bad prefix length in \"::/129\"; want 0..128"},
	{"len negative", "192.0.2.0/-1", NULL, "bad prefix length in \"192.0.2.0/-1\"; want 0..32"},
	{"len plus", "192.0.2.0/+24", NULL, "bad prefix length in \"192.0.2.0/+24\"; want 0..32"},
	{"len leading zero", "192.0.2.0/024", NULL,
	 "bad prefix length in \"192.0.2.0/024\"; want 0..32"},
	{"len empty", "192.0.2.0/", NULL, "bad prefix length in \"192.0.2.0/\"; want 0..32"},
	{"len huge", "192.0.2.0/4294967320", NULL,
	 "bad prefix length in \"192.0.2.0/4294967320\"; want 0..32"},
	{"len junk", "192.0.2.0/24x", NULL, "bad prefix length in \"192.0.2.0/24x\"; want 0..32"},
	{"two slashes", "192.0.2.0/24/8", NULL,
	 "bad prefix length in \"192.0.2.0/24/8\"; want 0..32"},
	{"mapped too short", "::ffff:0.0.0.0/95", NULL,
	 "IPv4-mapped prefix shorter than /96 in \"::ffff:0.0.0.0/95\""},
	{"bad address", "192.0.2/24", NULL, "bad network address in \"192.0.2/24\""},
	{"hostname", "localhost", NULL, "bad network address in \"localhost\""},
	{"empty", "", NULL, "empty network \"\""},
	{"only slash", "/24", NULL, "bad network address in \"/24\""},
	{"open bracket", "[::1/128", NULL, "bad network address in \"[::1/128\""},
	{"len inside brackets", "[::1/128]", NULL, "bad network address in \"[::1/128]\""},
	{"zone", "fe80::1%eth0/64", NULL, "bad network address in \"fe80::1%eth0/64\""},
	{"control char quoted safely", "1.2.3.4\x1b/8", NULL,
	 "bad network address in \"1.2.3.4?/8\""},
	{"too long, cut", "1111111111222222222233333333334444444444555555555566666666667777777777",
	 NULL, "network too long: \"1111111111222222222233333333334444444444555555555566666666667777...\""},
};

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	struct cidr cidr;
	char *error = NULL;
	char buf[IPADDR_STRLEN + 4];
	int rc;

	rc = cidr_parse(c->input, &cidr, &error);
	if (c->want != NULL) {
		ck_assert_msg(rc == 0, "%s: \"%s\": got error %s, want %s", c->label, c->input,
			      error, c->want);
		cidr_format(&cidr, buf, sizeof(buf));
		ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got %s, want %s", c->label, buf,
			      c->want);
		ck_assert_ptr_null(error);
		return;
	}
	ck_assert_msg(rc == -1, "%s: \"%s\": got 0, want error", c->label, c->input);
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(strcmp(error, c->error) == 0, "%s: got '%s', want '%s'", c->label, error,
		      c->error);
	free(error);
}
END_TEST

/* want is the canonical list joined by ",", or NULL with error. */
struct list_case {
	const char *label;
	const char *input;
	const char *want;
	const char *error;
};

static const struct list_case list_cases[] = {
	{"empty", "", "", NULL},
	{"only separators", " ,\t, \n", "", NULL},
	{"one", "127.0.0.0/8", "127.0.0.0/8", NULL},
	{"commas", "127.0.0.0/8,::1", "127.0.0.0/8,::1/128", NULL},
	{"comma space", "127.0.0.0/8, [::1]/128", "127.0.0.0/8,::1/128", NULL},
	{"white space only", "10.0.0.0/8 192.168.0.0/16\t172.16.0.0/12",
	 "10.0.0.0/8,192.168.0.0/16,172.16.0.0/12", NULL},
	{"leading and trailing", "  ,10.0.0.0/8,, ", "10.0.0.0/8", NULL},
	{"newlines (continued cfg value)", "10.0.0.0/8\n  192.0.2.0/24", "10.0.0.0/8,192.0.2.0/24",
	 NULL},
	{"first bad item reported", "10.0.0.0/8, 10.1.1.1/24, bogus", NULL,
	 "host bits set in \"10.1.1.1/24\"; did you mean \"10.1.1.0/24\"?"},
	{"bad word", "127.0.0.1 localhost", NULL, "bad network address in \"localhost\""},
	{"semicolon is not a separator", "127.0.0.1;::1", NULL,
	 "bad network address in \"127.0.0.1;::1\""},
};

START_TEST(test_list)
{
	const struct list_case *c = &list_cases[_i];
	struct cidr_list *list = (struct cidr_list *)&list; /* must stay untouched on error */
	struct cidr_list *sentinel = list;
	char *error = NULL;
	char got[1024] = "", buf[IPADDR_STRLEN + 4];
	size_t i;
	int rc;

	rc = cidr_list_parse(c->input, &list, &error);
	if (c->want == NULL) {
		ck_assert_msg(rc == -1, "%s: got 0, want error", c->label);
		ck_assert_msg(list == sentinel, "%s: *list_r changed on error", c->label);
		ck_assert_msg(error != NULL && strcmp(error, c->error) == 0,
			      "%s: got '%s', want '%s'", c->label, error, c->error);
		free(error);
		return;
	}
	ck_assert_msg(rc == 0, "%s: got error %s", c->label, error);
	for (i = 0; i < cidr_list_count(list); i++) {
		if (i > 0)
			strcat(got, ",");
		strcat(got, cidr_format(cidr_list_get(list, i), buf, sizeof(buf)));
	}
	ck_assert_ptr_null(cidr_list_get(list, i));
	ck_assert_msg(strcmp(got, c->want) == 0, "%s: got %s, want %s", c->label, got, c->want);
	cidr_list_free(&list);
	ck_assert_ptr_null(list);
	cidr_list_free(&list);
}
END_TEST

struct match_case {
	const char *label;
	const char *list;
	const char *ip;
	bool want;
};

static const struct match_case match_cases[] = {
	{"empty list", "", "127.0.0.1", false},
	{"v4 in /8", "127.0.0.0/8", "127.1.2.3", true},
	{"v4 outside", "127.0.0.0/8", "128.0.0.1", false},
	{"second item", "10.0.0.0/8, 127.0.0.1", "127.0.0.1", true},
	{"host only", "127.0.0.1", "127.0.0.2", false},
	{"mapped client matches v4 list", "127.0.0.0/8", "::ffff:127.0.0.1", true},
	{"v6 in /64", "2001:db8:1:2::/64", "2001:db8:1:2:ffff::1", true},
	{"v6 not in v4 /0", "0.0.0.0/0", "::1", false},
	{"v4 not in v6 /0", "::/0", "127.0.0.1", false},
	{"v6 loopback", "::1", "::1", true},
};

START_TEST(test_match)
{
	const struct match_case *c = &match_cases[_i];
	struct cidr_list *list = NULL;
	struct ipaddr ip;
	char *error = NULL;
	bool got;

	ck_assert_msg(cidr_list_parse(c->list, &list, &error) == 0, "%s: %s", c->label, error);
	ck_assert_int_eq(ipaddr_parse(c->ip, &ip), 0);
	got = cidr_list_match(list, &ip);
	ck_assert_msg(got == c->want, "%s: %s in {%s}: got %d, want %d", c->label, c->ip, c->list,
		      got, c->want);
	cidr_list_free(&list);
}
END_TEST

START_TEST(test_match_edges)
{
	struct cidr_list *list = NULL;
	struct ipaddr ip;
	char *error = NULL;

	memset(&ip, 0, sizeof(ip));
	ck_assert_int_eq(cidr_list_parse("0.0.0.0/0 ::/0", &list, &error), 0);
	ck_assert_msg(!cidr_list_match(list, &ip), "family 0 ip matched a list");
	ck_assert_int_eq(ipaddr_parse("192.0.2.1", &ip), 0);
	ck_assert(cidr_list_match(list, &ip));
	ck_assert_msg(!cidr_list_match(NULL, &ip), "NULL list matched");
	ck_assert_uint_eq(cidr_list_count(NULL), 0);
	ck_assert_ptr_null(cidr_list_get(NULL, 0));
	cidr_list_free(&list);
	cidr_list_free(NULL);
}
END_TEST

START_TEST(test_long_list)
{
	char *text = malloc(20 * 1000 + 1), *p = text;
	struct cidr_list *list = NULL;
	struct ipaddr ip;
	char *error = NULL;
	unsigned i;

	for (i = 0; i < 1000; i++)
		p += sprintf(p, "10.%u.%u.0/24, ", i / 256, i % 256);
	ck_assert_int_eq(cidr_list_parse(text, &list, &error), 0);
	ck_assert_uint_eq(cidr_list_count(list), 1000);
	ck_assert_int_eq(ipaddr_parse("10.3.231.9", &ip), 0);
	ck_assert(cidr_list_match(list, &ip));
	ck_assert_int_eq(ipaddr_parse("10.3.232.9", &ip), 0);
	ck_assert(!cidr_list_match(list, &ip));
	cidr_list_free(&list);
	free(text);
}
END_TEST

static Suite *cidr_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, N(parse_cases));
	tcase_add_loop_test(tc, test_list, 0, N(list_cases));
	tcase_add_loop_test(tc, test_match, 0, N(match_cases));
	tcase_add_test(tc, test_match_edges);
	tcase_add_test(tc, test_long_list);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cidr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

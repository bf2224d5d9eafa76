/*
 * NAME
 *	check_addr 1
 * SUMMARY
 *	table tests for lib/addr.c
 * DESCRIPTION
 *	Envelope normalisation, tag stripping, domain extraction, pattern
 *	normalisation with its messages, and pattern coverage, each as a
 *	table of { label, input, want }.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* want NULL: addr_normalize() must refuse. */
static const struct {
	const char *label, *in, *want;
} normalize_cases[] = {
	{ "plain", "alice@example.org", "alice@example.org" },
	{ "brackets", "<alice@example.org>", "alice@example.org" },
	{ "domain lower-cased, local kept", "<Alice+News@Example.ORG>", "Alice+News@example.org" },
	{ "surrounding space", "  <bob@x.test>\t", "bob@x.test" },
	{ "space inside brackets", "< bob@x.test >", "bob@x.test" },
	{ "null sender", "<>", "" },
	{ "empty", "", "" },
	{ "blank", "   ", "" },
	{ "bare local part", "alice", "alice" },
	{ "quoted local with space kept", "\"a b\"@X.test", "\"a b\"@x.test" },
	{ "quoted local with @ kept", "<\"a@b\"@x.test>", "\"a@b\"@x.test" },
	{ "quoted escape kept", "\"a\\\"b\"@x.test", "\"a\\\"b\"@x.test" },
	{ "needless quotes removed", "\"alice\"@x.test", "alice@x.test" },
	{ "needless quotes, dots", "\"a.b\"@x.test", "a.b@x.test" },
	{ "quoted leading dot kept", "\".a\"@x.test", "\".a\"@x.test" },
	{ "source route ignored", "<@relay.test:alice@x.test>", "alice@x.test" },
	{ "two-hop source route", "<@a.test,@b.test:alice@X.test>", "alice@x.test" },
	{ "address literal", "postmaster@[192.0.2.1]", "postmaster@[192.0.2.1]" },
	{ "8-bit local part", "j\xc3\xb6rg@x.test", "j\xc3\xb6rg@x.test" },
	{ "tag kept by normalize", "a+b+c@x.test", "a+b+c@x.test" },
	{ "two unquoted @", "a@b@x.test", NULL },
	{ "empty local part", "@x.test", NULL },
	{ "empty quoted local part", "\"\"@x.test", NULL },
	{ "empty domain", "alice@", NULL },
	{ "only @", "@", NULL },
	{ "space inside", "al ice@x.test", NULL },
	{ "tab inside", "al\tice@x.test", NULL },
	{ "CR", "alice@x.test\r", NULL },
	{ "LF inside", "alice\n@x.test", NULL },
	{ "DEL", "ali\x7f" "ce@x.test", NULL },
	{ "control inside quotes", "\"a\x01\"@x.test", NULL },
	{ "unclosed quote", "\"alice@x.test", NULL },
	{ "quote in domain", "alice@\"x\".test", NULL },
	{ "open bracket only", "<alice@x.test", NULL },
	{ "close bracket only", "alice@x.test>", NULL },
	{ "bracket inside", "al<ice@x.test", NULL },
	{ "lone <", "<", NULL },
	{ "route without colon", "<@relay.test>", NULL },
	{ "route to nothing", "<@relay.test:>", NULL },
	/* Found by fuzz_addr: with no domain, an '@' inside quotes would be
	   taken for the separator by addr_domain() and the tag logic. */
	{ "bare local part with quoted @", "Y\"/b@A \"", NULL },
	{ "bare quoted local part with @", "\"a@B\"", NULL },
};

START_TEST(test_normalize)
{
	char out[ADDR_MAX];
	const char *want = normalize_cases[_i].want;
	int rc;

	memset(out, 'X', sizeof out);
	rc = addr_normalize(normalize_cases[_i].in, out, sizeof out);
	if (want == NULL)
		ck_assert_msg(rc == -1, "%s: got 0 (\"%s\"), want -1", normalize_cases[_i].label,
			      out);
	else
		ck_assert_msg(rc == 0 && strcmp(out, want) == 0, "%s: got %d \"%s\", want \"%s\"",
			      normalize_cases[_i].label, rc, rc == 0 ? out : "", want);
}
END_TEST

/* Length limits: the result must fit ADDR_MAX-1 characters, and the
   caller's buffer; longer input is refused, never cut. */
START_TEST(test_normalize_lengths)
{
	char in[2 * ADDR_MAX], out[ADDR_MAX], small[8];
	size_t local;

	/* local@x.test exactly ADDR_MAX-1 long: accepted. */
	local = ADDR_MAX - 1 - strlen("@x.test");
	memset(in, 'a', local);
	strcpy(in + local, "@x.test");
	ck_assert_msg(addr_normalize(in, out, sizeof out) == 0, "len %zu: got -1, want 0",
		      strlen(in));
	ck_assert_uint_eq(strlen(out), ADDR_MAX - 1);

	/* One more: refused. */
	memset(in, 'a', local + 1);
	strcpy(in + local + 1, "@x.test");
	ck_assert_msg(addr_normalize(in, out, sizeof out) == -1, "len %zu: got 0, want -1",
		      strlen(in));

	/* Long surrounding white space does not make a short address too long,
	   but unbounded input is refused. */
	memset(in, ' ', sizeof in - 1);
	in[sizeof in - 1] = 0;
	memcpy(in + 10, "<a@b.test>", 10);
	ck_assert_int_eq(addr_normalize(in, out, sizeof out), 0);
	ck_assert_str_eq(out, "a@b.test");
	{
		size_t big = 100000;
		char *huge = malloc(big + 1);

		ck_assert_ptr_nonnull(huge);
		memset(huge, 'a', big);
		huge[big] = 0;
		ck_assert_int_eq(addr_normalize(huge, out, sizeof out), -1);
		free(huge);
	}

	/* Caller's buffer too small: refused, not cut. */
	ck_assert_int_eq(addr_normalize("alice@x.test", small, sizeof small), -1);
	ck_assert_int_eq(addr_normalize(NULL, out, sizeof out), -1);
}
END_TEST

static const struct {
	const char *label, *in, *want;
} strip_cases[] = {
	{ "tag", "alice+news@x.test", "alice@x.test" },
	{ "two delimiters: first wins", "alice+a+b@x.test", "alice@x.test" },
	{ "no tag", "alice@x.test", "alice@x.test" },
	{ "empty tag", "alice+@x.test", "alice@x.test" },
	{ "leading + is not a tag", "+alice@x.test", "+alice@x.test" },
	{ "plus in domain untouched", "alice@x+y.test", "alice@x+y.test" },
	{ "bare local with tag", "alice+x", "alice" },
	{ "quoted local taken literally", "\"a+b c\"@x.test", "\"a+b c\"@x.test" },
	{ "null sender", "", "" },
};

START_TEST(test_strip_tag)
{
	char out[ADDR_MAX];

	addr_strip_tag(strip_cases[_i].in, out, sizeof out);
	ck_assert_msg(strcmp(out, strip_cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      strip_cases[_i].label, out, strip_cases[_i].want);
}
END_TEST

static const struct {
	const char *label, *in, *want;
} domain_cases[] = {
	{ "plain", "alice@x.test", "x.test" },
	{ "quoted @ in local", "\"a@b\"@x.test", "x.test" },
	{ "no domain", "alice", "" },
	{ "null sender", "", "" },
	{ "literal", "a@[192.0.2.1]", "[192.0.2.1]" },
};

START_TEST(test_domain)
{
	const char *got = addr_domain(domain_cases[_i].in);

	ck_assert_msg(strcmp(got, domain_cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      domain_cases[_i].label, got, domain_cases[_i].want);
}
END_TEST

/* want NULL: refused, and the message must contain hint. */
static const struct {
	const char *label, *in, *want, *hint;
} pattern_cases[] = {
	{ "address", "Alice@Example.ORG", "Alice@example.org", NULL },
	{ "address in brackets", "<bob@x.test>", "bob@x.test", NULL },
	{ "domain", "@Example.ORG", "@example.org", NULL },
	{ "domain with space around", "  @x.test ", "@x.test", NULL },
	{ "star", "*", "*", NULL },
	{ "star with space", " * ", "*", NULL },
	{ "literal domain", "@[192.0.2.1]", "@[192.0.2.1]", NULL },
	{ "idn domain", "@b\xc3\xbc" "cher.test", "@b\xc3\xbc" "cher.test", NULL },
	{ "tag refused", "alice+news@x.test", NULL, "write \"alice@x.test\"" },
	{ "no domain", "alice", NULL, "has no domain" },
	{ "empty", "", NULL, "empty pattern" },
	{ "null sender", "<>", NULL, "empty pattern" },
	{ "star at domain", "*@x.test", NULL, "write \"@x.test\"" },
	{ "subdomain wildcard", "@*.x.test", NULL, "wildcards" },
	{ "two @ in domain pattern", "@x@y.test", NULL, "two '@'" },
	{ "two @", "a@b@y.test", NULL, "not an address" },
	{ "space inside", "al ice@x.test", NULL, "not an address" },
	{ "control", "alice@x.test\n", NULL, "not an address" },
	{ "bare @", "@", NULL, "domain is empty" },
	{ "empty label", "@x..test", NULL, "empty label" },
	{ "trailing dot", "alice@x.test.", NULL, "ends with a dot" },
	{ "bad domain char", "alice@x!y.test", NULL, "not allowed" },
	{ "bad literal", "@[192.0.2.1", NULL, "literal" },
	{ "garbage", "%%%", NULL, "has no domain" },
	{ "control in domain pattern", "@x\x01.test", NULL, "control" },
};

START_TEST(test_pattern_normalize)
{
	char out[ADDR_MAX];
	char *error = NULL;
	int rc = addr_pattern_normalize(pattern_cases[_i].in, out, sizeof out, &error);
	const char *want = pattern_cases[_i].want;

	if (want != NULL) {
		ck_assert_msg(rc == 0 && strcmp(out, want) == 0,
			      "%s: got %d \"%s\" (%s), want \"%s\"", pattern_cases[_i].label, rc,
			      rc == 0 ? out : "", error ? error : "", want);
		ck_assert_ptr_null(error);
	} else {
		ck_assert_msg(rc == -1, "%s: got 0 \"%s\", want -1", pattern_cases[_i].label, out);
		ck_assert_msg(error != NULL && strstr(error, pattern_cases[_i].hint) != NULL,
			      "%s: got message \"%s\", want one containing \"%s\"",
			      pattern_cases[_i].label, error ? error : "(null)",
			      pattern_cases[_i].hint);
	}
	free(error);
}
END_TEST

START_TEST(test_pattern_too_long)
{
	char in[ADDR_MAX + 10], out[ADDR_MAX];
	char *error = NULL;

	memset(in, 'a', sizeof in - 1);
	in[sizeof in - 1] = 0;
	in[5] = '@';
	ck_assert_int_eq(addr_pattern_normalize(in, out, sizeof out, &error), -1);
	ck_assert_msg(error && strstr(error, "longer than"), "got \"%s\"", error ? error : "");
	free(error);
}
END_TEST

static const struct {
	const char *label, *pattern, *addr;
	bool want;
} match_cases[] = {
	{ "exact", "alice@x.test", "alice@x.test", true },
	{ "tag ignored on the address", "alice@x.test", "alice+news@x.test", true },
	{ "other user", "alice@x.test", "bob@x.test", false },
	{ "local part is case-sensitive", "alice@x.test", "Alice@x.test", false },
	{ "domain case-insensitive", "alice@x.test", "alice@X.Test", true },
	{ "prefix of local part", "alice@x.test", "alicex@x.test", false },
	{ "local is prefix of pattern", "alicex@x.test", "alice@x.test", false },
	{ "other domain", "alice@x.test", "alice@y.test", false },
	{ "subdomain is another domain", "alice@x.test", "alice@sub.x.test", false },
	{ "domain pattern", "@x.test", "bob@x.test", true },
	{ "domain pattern, tagged", "@x.test", "bob+z@x.test", true },
	{ "domain pattern, case", "@x.test", "bob@X.TEST", true },
	{ "domain pattern, not subdomains", "@x.test", "bob@sub.x.test", false },
	{ "domain pattern, not suffix", "@x.test", "bob@evilx.test", false },
	{ "domain pattern, bare local", "@x.test", "x.test", false },
	{ "star", "*", "anyone@anywhere.test", true },
	{ "null sender: star", "*", "", true },
	{ "null sender: domain", "@x.test", "", false },
	{ "null sender: address", "alice@x.test", "", false },
	{ "empty pattern", "", "alice@x.test", false },
	{ "tagged pattern never matches (fails closed)", "alice+a@x.test", "alice+b@x.test",
	  false },
	{ "quoted local exact", "\"a b\"@x.test", "\"a b\"@x.test", true },
	{ "quoted @ not a domain", "@x.test", "\"bob@x.test\"@y.test", false },
	{ "leading + is part of the name", "+alice@x.test", "+alice@x.test", true },
};

START_TEST(test_pattern_match)
{
	bool got = addr_pattern_match(match_cases[_i].pattern, match_cases[_i].addr);

	ck_assert_msg(got == match_cases[_i].want, "%s: match(\"%s\", \"%s\") got %d, want %d",
		      match_cases[_i].label, match_cases[_i].pattern, match_cases[_i].addr, got,
		      match_cases[_i].want);
}
END_TEST

/* Round trip: what the normaliser makes of raw input is what the
   matcher expects, so a pattern typed by an admin matches the address a
   client sends. */
START_TEST(test_normalize_then_match)
{
	char pat[ADDR_MAX], addr[ADDR_MAX];
	char *error = NULL;

	ck_assert_int_eq(addr_pattern_normalize("Alice@LAB.test", pat, sizeof pat, &error), 0);
	ck_assert_int_eq(addr_normalize("<Alice+Invoices@lab.TEST>", addr, sizeof addr), 0);
	ck_assert(addr_pattern_match(pat, addr));
	ck_assert_int_eq(addr_normalize("<\"Alice\"@Lab.Test>", addr, sizeof addr), 0);
	ck_assert(addr_pattern_match(pat, addr));
	ck_assert_int_eq(addr_normalize("<alice@lab.test>", addr, sizeof addr), 0);
	ck_assert(!addr_pattern_match(pat, addr));
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");

	tcase_add_loop_test(tc, test_normalize, 0, N(normalize_cases));
	tcase_add_test(tc, test_normalize_lengths);
	tcase_add_loop_test(tc, test_strip_tag, 0, N(strip_cases));
	tcase_add_loop_test(tc, test_domain, 0, N(domain_cases));
	tcase_add_loop_test(tc, test_pattern_normalize, 0, N(pattern_cases));
	tcase_add_test(tc, test_pattern_too_long);
	tcase_add_loop_test(tc, test_pattern_match, 0, N(match_cases));
	tcase_add_test(tc, test_normalize_then_match);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(addr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * NAME
 *	check_rfc5322 1
 * SUMMARY
 *	table tests for lib/rfc5322.c
 * DESCRIPTION
 *	Real From: values (valid, obsolete and hostile) with the addresses
 *	they must yield, joined by single spaces; or an error that must
 *	mention a given text.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "rfc5322.h"

static const struct {
	const char *label, *in, *want;
} ok_cases[] = {
	{ "bare addr-spec", "alice@lab.test", "alice@lab.test" },
	{ "domain lower-cased", "Alice@LAB.Test", "Alice@lab.test" },
	{ "angle only", "<alice@lab.test>", "alice@lab.test" },
	{ "atom display name", "Alice Liddell <alice@lab.test>", "alice@lab.test" },
	{ "dots in display name (obs-phrase)", "John Q. Public <jqp@lab.test>", "jqp@lab.test" },
	{ "quoted display name", "\"Liddell, Alice\" <alice@lab.test>", "alice@lab.test" },
	{ "quoted display name with escapes", "\"A \\\"the\\\" L\\\\\" <alice@lab.test>",
	  "alice@lab.test" },
	{ "RFC 2047 B word", "=?utf-8?B?QWxpY2UgTGlkZGVsbA==?= <alice@lab.test>",
	  "alice@lab.test" },
	{ "RFC 2047 Q word", "=?UTF-8?Q?Andr=C3=A9_Pirard?= <andre@lab.test>",
	  "andre@lab.test" },
	{ "RFC 2047 word in quotes", "\"=?utf-8?q?B=C3=B6b?=\" <bob@lab.test>", "bob@lab.test" },
	{ "two encoded words", "=?utf-8?q?a?= =?iso-8859-1?b?5A==?= <a@lab.test>",
	  "a@lab.test" },
	{ "UTF-8 display name (RFC 6532)", "J\xc3\xb6rg <joerg@lab.test>", "joerg@lab.test" },
	{ "multiple mailboxes", "alice@lab.test, Bob <bob@lab.test>,carol@lab.test",
	  "alice@lab.test bob@lab.test carol@lab.test" },
	{ "comment after", "alice@lab.test (Alice Liddell)", "alice@lab.test" },
	{ "comment before and inside", "(x) alice(y)@(z)lab.test", "alice@lab.test" },
	{ "nested comments", "alice@lab.test (a (b (c) \\) d) e)", "alice@lab.test" },
	{ "quoted local part", "\"a b\"@lab.test", "\"a b\"@lab.test" },
	{ "needlessly quoted local part", "\"alice\"@lab.test", "alice@lab.test" },
	{ "quoted local part in angle", "Al <\"al.\\\"x\"@lab.test>", "\"al.\\\"x\"@lab.test" },
	{ "group", "team: a@lab.test, b@lab.test;", "a@lab.test b@lab.test" },
	{ "group among mailboxes", "x@lab.test, team: a@lab.test;, y@lab.test",
	  "x@lab.test a@lab.test y@lab.test" },
	{ "empty group beside a mailbox", "undisclosed-recipients:;, a@lab.test", "a@lab.test" },
	{ "group with name-addrs", "\"The Team\": A <a@lab.test>, B <b@lab.test>;",
	  "a@lab.test b@lab.test" },
	{ "folded CRLF", "Alice\r\n <alice@lab.test>,\r\n\tbob@lab.test",
	  "alice@lab.test bob@lab.test" },
	{ "folded LF", "Alice\n <alice@lab.test>", "alice@lab.test" },
	{ "fold inside quoted name", "\"Alice\r\n Liddell\" <alice@lab.test>", "alice@lab.test" },
	{ "trailing CRLF", "alice@lab.test\r\n", "alice@lab.test" },
	{ "obs-route", "<@relay.test:alice@lab.test>", "alice@lab.test" },
	{ "obs-route, two hops", "Al <@a.test,@b.test:alice@lab.test>", "alice@lab.test" },
	{ "tabs", "\tAlice\t<alice@lab.test>\t", "alice@lab.test" },
	{ "obs-local-part with spaces", "a . b @ lab . test", "a.b@lab.test" },
	{ "obs quoted words", "\"a\".\"b\"@lab.test", "a.b@lab.test" },
	{ "obs quoted words, requoted", "\"a\".\"b c\"@lab.test", "\"a.b c\"@lab.test" },
	{ "needless escape dropped", "\"a\\lice\"@lab.test", "alice@lab.test" },
	{ "empty list elements", ",alice@lab.test,,bob@lab.test,",
	  "alice@lab.test bob@lab.test" },
	{ "domain literal", "root@[192.0.2.1]", "root@[192.0.2.1]" },
	{ "tag kept", "alice+news@lab.test", "alice+news@lab.test" },
	/* Hostile: what looks like an address but is not one. */
	{ "quoted name looks like address", "\"alice@lab.test\" <mallory@evil.test>",
	  "mallory@evil.test" },
	{ "comment looks like address", "(alice@lab.test) mallory@evil.test",
	  "mallory@evil.test" },
	{ "comment after angle", "<mallory@evil.test> (alice@lab.test)", "mallory@evil.test" },
	{ "unquoted address as name (common mailer bug)", "alice@lab.test <mallory@evil.test>",
	  "mallory@evil.test" },
	{ "encoded word hides address", "=?utf-8?q?alice=40lab.test?= <mallory@evil.test>",
	  "mallory@evil.test" },
	{ "quoted comma and angle in name", "\"alice@lab.test, <alice@lab.test>\" <m@evil.test>",
	  "m@evil.test" },
};

static const struct {
	const char *label, *in, *hint;
} err_cases[] = {
	{ "empty", "", "no address" },
	{ "blank", "  \t ", "no address" },
	{ "comment only", "(alice@lab.test)", "no address" },
	{ "empty group only", "undisclosed-recipients:;", "no address" },
	{ "no @", "alice", "missing '@'" },
	{ "no @ in angle", "Alice <alice>", "missing '@'" },
	{ "empty angle", "<>", "missing '@'" },
	{ "name without address", "Alice Liddell", "missing '@'" },
	{ "two @", "a@b@lab.test", "two '@'" },
	{ "two addresses without comma", "alice@lab.test mallory@evil.test", "two '@'" },
	{ "phrase before bare address", "Alice alice@lab.test", "unexpected" },
	{ "empty local part", "@lab.test", "empty local part" },
	{ "empty domain", "alice@", "empty domain" },
	{ "unbalanced quote", "\"alice@lab.test <mallory@evil.test>", "quoted string" },
	{ "unbalanced quote, escaped close", "\"alice\\\" <a@lab.test>", "quoted string" },
	{ "unbalanced comment", "(alice@lab.test mallory@evil.test", "comment" },
	{ "unbalanced nested comment", "((a) a@lab.test", "comment" },
	{ "close comment only", "a@lab.test)", "comment" },
	{ "unbalanced <", "Alice <alice@lab.test", "'<'" },
	{ "unbalanced < with comma", "Alice <alice@lab.test, bob@lab.test>", "'<'" },
	{ "unbalanced >", "alice@lab.test>", "'>'" },
	{ "double <", "<<a@lab.test>>", "'<'" },
	{ "text after >", "<a@lab.test> b", "after '>'" },
	{ "unbalanced domain literal", "a@[192.0.2.1", "domain literal" },
	{ "bare CR", "alice@lab.test\rBcc: x@evil.test", "line break" },
	{ "LF then header", "alice@lab.test\nBcc: x@evil.test", "line break" },
	{ "NUL", "alice@lab.test\0x", "control" },
	{ "control char", "ali\x01" "ce@lab.test", "control" },
	{ "nested group", "a: b: c@lab.test;;", "group inside a group" },
	{ "unclosed group", "team: a@lab.test", "not closed" },
	{ "; outside group", "a@lab.test;", "outside a group" },
	{ "route without colon", "<@relay.test alice@lab.test>", "route" },
	{ "comma hidden by Q word", "=?utf-8?Q?Doe,_John?= <j@lab.test>", "missing '@'" },
	{ "backslash outside quotes", "a\\b@lab.test", "0x5c" },
	{ "empty quoted local", "\"\"@lab.test", "empty local part" },
};

/* The NUL case needs its length: use sizeof for string literals there. */
static size_t case_len(const char *label, const char *in)
{
	if (strcmp(label, "NUL") == 0)
		return strlen(in) + 2;
	return strlen(in);
}

static void join(const struct rfc5322_addrlist *list, char *buf, size_t size)
{
	size_t i, used = 0;

	buf[0] = 0;
	for (i = 0; i < list->count && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "",
					 list->addrs[i]);
}

START_TEST(test_ok)
{
	struct rfc5322_addrlist list;
	char *error = NULL;
	char got[2048];
	int rc = rfc5322_parse_address_list(ok_cases[_i].in, strlen(ok_cases[_i].in), &list,
					    &error);

	join(&list, got, sizeof got);
	ck_assert_msg(rc == 0 && strcmp(got, ok_cases[_i].want) == 0,
		      "%s: got %d \"%s\" (%s), want \"%s\"", ok_cases[_i].label, rc, got,
		      error ? error : "no error", ok_cases[_i].want);
	ck_assert_ptr_null(error);
	rfc5322_addrlist_free(&list);
	ck_assert_uint_eq(list.count, 0);
	ck_assert_ptr_null(list.addrs);
}
END_TEST

START_TEST(test_err)
{
	struct rfc5322_addrlist list;
	char *error = NULL;
	char got[2048];
	int rc = rfc5322_parse_address_list(
		err_cases[_i].in, case_len(err_cases[_i].label, err_cases[_i].in), &list, &error);

	join(&list, got, sizeof got);
	ck_assert_msg(rc == -1, "%s: got 0 \"%s\", want an error", err_cases[_i].label, got);
	ck_assert_msg(list.count == 0 && list.addrs == NULL, "%s: list not empty on error",
		      err_cases[_i].label);
	ck_assert_msg(error != NULL && strstr(error, err_cases[_i].hint) != NULL,
		      "%s: got message \"%s\", want one containing \"%s\"", err_cases[_i].label,
		      error ? error : "(null)", err_cases[_i].hint);
	free(error);
}
END_TEST

/* The value need not be NUL-terminated: only len bytes are read. */
START_TEST(test_len_bound)
{
	struct rfc5322_addrlist list;
	char *error = NULL;
	const char *text = "alice@lab.test, mallory@evil.test";

	ck_assert_int_eq(rfc5322_parse_address_list(text, 14, &list, &error), 0);
	ck_assert_uint_eq(list.count, 1);
	ck_assert_str_eq(list.addrs[0], "alice@lab.test");
	rfc5322_addrlist_free(&list);
	rfc5322_addrlist_free(&list);	/* an empty list is fine */
}
END_TEST

START_TEST(test_limits)
{
	struct rfc5322_addrlist list;
	char *error = NULL, *buf;
	size_t n = RFC5322_MAX_HEADER + 1, i, used;

	buf = malloc(200000);
	ck_assert_ptr_nonnull(buf);

	/* Over the header cap, even if otherwise fine. */
	memset(buf, ' ', n);
	memcpy(buf, "a@lab.test", 10);
	ck_assert_int_eq(rfc5322_parse_address_list(buf, n, &list, &error), -1);
	ck_assert_msg(error && strstr(error, "longer than"), "got \"%s\"", error);
	free(error);
	error = NULL;

	/* At the cap: accepted. */
	ck_assert_int_eq(rfc5322_parse_address_list(buf, n - 1, &list, &error), 0);
	ck_assert_uint_eq(list.count, 1);
	rfc5322_addrlist_free(&list);

	/* 100k '(' is refused by length; so are 16k of them by balance, and
	   deep but balanced nesting works without recursion. */
	memset(buf, '(', 100000);
	ck_assert_int_eq(rfc5322_parse_address_list(buf, 100000, &list, &error), -1);
	free(error);
	error = NULL;
	ck_assert_int_eq(rfc5322_parse_address_list(buf, RFC5322_MAX_HEADER, &list, &error), -1);
	ck_assert_msg(error && strstr(error, "comment"), "got \"%s\"", error);
	free(error);
	error = NULL;
	memset(buf, '(', 8000);
	memset(buf + 8000, ')', 8000);
	memcpy(buf + 16000, " a@lab.test", 11);
	ck_assert_int_eq(rfc5322_parse_address_list(buf, 16011, &list, &error), 0);
	ck_assert_str_eq(list.addrs[0], "a@lab.test");
	rfc5322_addrlist_free(&list);

	/* MAX_ADDRESSES accepted, one more refused. */
	for (used = 0, i = 0; i < RFC5322_MAX_ADDRESSES; i++)
		used += (size_t)sprintf(buf + used, "u%zu@lab.test,", i);
	ck_assert_int_eq(rfc5322_parse_address_list(buf, used, &list, &error), 0);
	ck_assert_uint_eq(list.count, RFC5322_MAX_ADDRESSES);
	ck_assert_str_eq(list.addrs[99], "u99@lab.test");
	rfc5322_addrlist_free(&list);
	used += (size_t)sprintf(buf + used, "one@more.test");
	ck_assert_int_eq(rfc5322_parse_address_list(buf, used, &list, &error), -1);
	ck_assert_msg(error && strstr(error, "more than"), "got \"%s\"", error);
	ck_assert_uint_eq(list.count, 0);
	free(error);
	error = NULL;

	/* An address past ADDR_MAX is refused, not cut. */
	memset(buf, 'a', 400);
	memcpy(buf + 400, "@lab.test", 9);
	ck_assert_int_eq(rfc5322_parse_address_list(buf, 409, &list, &error), -1);
	ck_assert_msg(error && strstr(error, "longer than"), "got \"%s\"", error);
	free(error);
	error = NULL;
	/* At the boundaries (fuzz_rfc5322 found strlen() run on a local part
	   that did not fit): a local part of ADDR_MAX - 1 bytes fits but the
	   address does not; one of ADDR_MAX bytes does not fit at all. */
	for (size_t local = ADDR_MAX - 1; local <= ADDR_MAX; local++) {
		memset(buf, 'b', local);
		memcpy(buf + local, "@lab.test", 9);
		ck_assert_int_eq(rfc5322_parse_address_list(buf, local + 9, &list, &error), -1);
		ck_assert_msg(error && strstr(error, "longer than"), "local %zu: got \"%s\"", local,
			      error);
		ck_assert_uint_eq(list.count, 0);
		free(error);
		error = NULL;
	}
	free(buf);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *rfc5322_suite(void)
{
	Suite *s = suite_create("rfc5322");
	TCase *tc = tcase_create("rfc5322");

	tcase_add_loop_test(tc, test_ok, 0, N(ok_cases));
	tcase_add_loop_test(tc, test_err, 0, N(err_cases));
	tcase_add_test(tc, test_len_bound);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rfc5322_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

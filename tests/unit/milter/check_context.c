/*
 * NAME
 *	check_context 1
 * SUMMARY
 *	tests for milter/context.c
 * DESCRIPTION
 *	Client addresses in the forms the MTAs send, bounded copies that
 *	never keep a cut value, From: collection (first kept, the rest
 *	counted, over-long flagged), and message reset keeping the
 *	connection.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "test_run.h"

static const struct {
	const char *label, *in, *want;
	int want_ret;
} client_cases[] = {
	{ "IPv4", "192.0.2.7", "192.0.2.7", 0 },
	{ "IPv6", "2001:db8::1", "2001:db8::1", 0 },
	{ "IPv6 loopback", "::1", "::1", 0 },
	{ "postfix IPv6: tag", "IPv6:::1", "::1", 0 },
	{ "tag with full address", "IPv6:2001:DB8:0:0:0:0:0:1", "2001:db8::1", 0 },
	{ "mapped IPv4", "::ffff:192.0.2.7", "192.0.2.7", 0 },
	{ "brackets", "[127.0.0.1]", "127.0.0.1", 0 },
	{ "name is not an address", "mail.example.org", "unknown", -1 },
	{ "NULL", NULL, "unknown", -1 },
	{ "empty", "", "unknown", -1 },
};

START_TEST(test_client)
{
	struct milter_context *mc = context_new();
	int ret;

	ck_assert_ptr_nonnull(mc);
	ret = context_set_client(mc, client_cases[_i].in);
	ck_assert_msg(ret == client_cases[_i].want_ret &&
			      strcmp(mc->client_text, client_cases[_i].want) == 0,
		      "%s: got %d \"%s\", want %d \"%s\"", client_cases[_i].label, ret,
		      mc->client_text, client_cases[_i].want_ret, client_cases[_i].want);
	context_free(&mc);
	ck_assert_ptr_null(mc);
}
END_TEST

START_TEST(test_copy)
{
	char buf[8];

	ck_assert(context_copy(buf, sizeof buf, "1234567") && strcmp(buf, "1234567") == 0);
	ck_assert_msg(!context_copy(buf, sizeof buf, "12345678") && buf[0] == '\0',
		      "too long: got \"%s\", want \"\" and false", buf);
	ck_assert(context_copy(buf, sizeof buf, NULL) && buf[0] == '\0');
}
END_TEST

START_TEST(test_from)
{
	struct milter_context *mc = context_new();
	char *big = malloc(RFC5322_MAX_HEADER + 2);

	ck_assert_ptr_nonnull(mc);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(context_from_add(mc, "Alice <alice@lab.test>"), 0);
	ck_assert_int_eq(context_from_add(mc, "Mallory <m@evil.test>"), 0);
	ck_assert_msg(mc->from_count == 2 && strcmp(mc->from_value, "Alice <alice@lab.test>") == 0,
		      "got %u \"%s\", want 2 and the first value", mc->from_count,
		      mc->from_value);

	/* reset keeps the buffer and the connection, forgets the message */
	context_set_client(mc, "192.0.2.1");
	mc->in_message = true;
	strcpy(mc->sasl_username, "alice");
	context_message_reset(mc);
	ck_assert_msg(mc->from_count == 0 && mc->from_len == 0 && !mc->in_message &&
			      mc->sasl_username[0] == '\0' &&
			      strcmp(mc->client_text, "192.0.2.1") == 0 && mc->from_value != NULL,
		      "reset: got count %u user \"%s\" client %s", mc->from_count,
		      mc->sasl_username, mc->client_text);

	/* exactly the limit fits, one more is flagged */
	memset(big, 'a', RFC5322_MAX_HEADER);
	big[RFC5322_MAX_HEADER] = '\0';
	ck_assert_int_eq(context_from_add(mc, big), 0);
	ck_assert_msg(!mc->from_too_long && mc->from_len == RFC5322_MAX_HEADER,
		      "at the limit: got too_long %d len %zu", mc->from_too_long, mc->from_len);
	context_message_reset(mc);
	big[RFC5322_MAX_HEADER] = 'a';
	big[RFC5322_MAX_HEADER + 1] = '\0';
	ck_assert_int_eq(context_from_add(mc, big), 0);
	ck_assert_msg(mc->from_too_long && mc->from_count == 1 && mc->from_len == 0,
		      "over the limit: got too_long %d count %u", mc->from_too_long,
		      mc->from_count);
	free(big);
	context_free(&mc);
	context_free(&mc);	/* NULL is fine */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("milter/context");
	TCase *tc = tcase_create("context");

	tcase_add_loop_test(tc, test_client, 0, sizeof client_cases / sizeof client_cases[0]);
	tcase_add_test(tc, test_copy);
	tcase_add_test(tc, test_from);
	suite_add_tcase(s, tc);
	return test_run(s);
}

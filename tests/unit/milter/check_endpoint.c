/*
 * NAME
 *	check_endpoint 1
 * SUMMARY
 *	table tests for milter/endpoint.c
 * DESCRIPTION
 *	milter_socket in Postfix notation to libmilter's connection string,
 *	and the forms that must be refused.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "test_run.h"

/* want NULL: refused. */
static const struct {
	const char *label, *in, *want;
} cases[] = {
	{ "inet IPv4", "inet:127.0.0.1:10030", "inet:10030@127.0.0.1" },
	{ "inet IPv6 brackets", "inet:[::1]:10030", "inet6:10030@::1" },
	{ "inet IPv6 global", "inet:[2001:db8::25]:8891", "inet6:8891@2001:db8::25" },
	{ "inet host name", "inet:localhost:10030", "inet:10030@localhost" },
	{ "bare host:port is inet", "127.0.0.1:10030", "inet:10030@127.0.0.1" },
	{ "unix", "unix:/run/authrelay/milter.sock", "unix:/run/authrelay/milter.sock" },
	{ "unix under postfix spool", "unix:/var/spool/postfix/authrelay/milter",
	  "unix:/var/spool/postfix/authrelay/milter" },
	{ "unix relative path", "unix:milter.sock", NULL },
	{ "no port", "inet:127.0.0.1", NULL },
	{ "libmilter notation is not postfix notation", "inet:10030@127.0.0.1", NULL },
	{ "unknown transport", "tcp:127.0.0.1:10030", NULL },
	{ "empty", "", NULL },
};

START_TEST(test_translate)
{
	char conn[ENDPOINT_CONN_MAX];
	struct listen_endpoint ep;
	char *error = NULL;
	int ret = endpoint_translate(cases[_i].in, conn, sizeof conn, &ep, &error);

	if (cases[_i].want == NULL) {
		ck_assert_msg(ret == -1 && error != NULL, "%s: got %d \"%s\", want refusal",
			      cases[_i].label, ret, ret == 0 ? conn : "");
		ck_assert_msg(strstr(error, cases[_i].in) != NULL,
			      "%s: error \"%s\" does not quote the input", cases[_i].label, error);
	} else {
		ck_assert_msg(ret == 0 && strcmp(conn, cases[_i].want) == 0,
			      "%s: got %d \"%s\" (%s), want \"%s\"", cases[_i].label, ret,
			      ret == 0 ? conn : "", error ? error : "", cases[_i].want);
	}
	free(error);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("milter/endpoint");
	TCase *tc = tcase_create("endpoint");

	tcase_add_loop_test(tc, test_translate, 0, sizeof cases / sizeof cases[0]);
	suite_add_tcase(s, tc);
	return test_run(s);
}

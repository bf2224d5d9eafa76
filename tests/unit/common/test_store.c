/*
 * NAME
 *	test_store 3
 * SUMMARY
 *	small helpers for the store's unit tests: addresses, logins, rows
 * DESCRIPTION
 *	See test_store.h.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "test_store.h"

struct ipaddr test_ip(const char *text)
{
	struct ipaddr a;

	ck_assert_msg(ipaddr_parse(text, &a) == 0, "ipaddr_parse(%s) failed", text);
	return a;
}

/* test_login - one login as loginwatch reports it */
struct store_login test_login(const char *addr, unsigned prefix, const char *user, int64_t t,
			      int64_t ttl)
{
	struct store_login l;

	memset(&l, 0, sizeof l);
	l.net = test_ip(addr);
	ipaddr_mask(&l.net, prefix);
	l.prefix_len = prefix;
	snprintf(l.username, sizeof l.username, "%s", user);
	snprintf(l.service, sizeof l.service, "imap");
	l.login_time = t;
	l.expires_at = t + ttl;
	snprintf(l.source, sizeof l.source, "/var/log/mail.log");
	l.line = "Nov 26 13:06:41 lab dovecot: imap-login: Login: user=<x>";
	return l;
}

void test_logins_apply(struct store *store, const struct store_login *l, size_t n,
		       const struct store_checkpoint *cp)
{
	char *error = NULL;

	if (store_logins_apply(store, l, n, cp, &error) < 0)
		ck_abort_msg("store_logins_apply: got \"%s\", want success", error);
}

/* test_rows_collect - one row, appended as name=value pairs */
int test_rows_collect(int ncols, const char *const *names, const char *const *values, void *ctx)
{
	struct test_rows *r = ctx;

	for (int i = 0; i < ncols; i++) {
		size_t len = strlen(r->text);

		snprintf(r->text + len, sizeof r->text - len, "%s=%s%s", names[i],
			 values[i] ? values[i] : "NULL", i + 1 < ncols ? "," : ";");
	}
	r->n++;
	return 0;
}

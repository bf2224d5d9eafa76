/*
 * NAME
 *	test_store 3h
 * SUMMARY
 *	small helpers for the store's unit tests: addresses, logins, rows
 * DESCRIPTION
 *	Shared by check_store, check_store_contract and check_store_pgsql.
 *	Every failure aborts the test with a message.
 */
#ifndef AUTHRELAY_TEST_STORE_H
#define AUTHRELAY_TEST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ipaddr.h"
#include "store.h"

/* The address text parses to (the test fails when it does not). */
struct ipaddr test_ip(const char *text);

/* A successful IMAP login of user from addr/prefix (masked) at time t,
   granted for ttl seconds, read from /var/log/mail.log. */
struct store_login test_login(const char *addr, unsigned prefix, const char *user, int64_t t,
			      int64_t ttl);

/* store_logins_apply() that must succeed. */
void test_logins_apply(struct store *store, const struct store_login *l, size_t n,
		       const struct store_checkpoint *cp);

/* The rows of a query as one line: test_rows_collect() is a
   store_sql_cb that appends each row to r->text as
   "name=value,name=value;" (SQL NULL as NULL) and counts it, so a test
   compares a whole answer with one string. ctx is a zeroed struct
   test_rows. Always returns 0. */
struct test_rows {
	int n;
	char text[2048];	/* cut at its size */
};
int test_rows_collect(int ncols, const char *const *names, const char *const *values, void *ctx);

#endif

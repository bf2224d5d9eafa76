/*
 * NAME
 *	selftest 3h
 * SUMMARY
 *	authrelayctl selftest: an open-relay self-check over SMTP
 * DESCRIPTION
 *	Speaks SMTP to a server the way a client would, with STARTTLS and
 *	SMTP AUTH, and tries to relay without ever sending a message: each
 *	attempt stops at RCPT TO and ends with RSET and QUIT. Attempts:
 *	unauthenticated relay (a foreign and a local sender), authenticated
 *	relay with the user's own sender once per usable SASL mechanism, and
 *	authenticated relay with a foreign sender. Each gets a verdict
 *	against what the rules say should happen.
 */
#ifndef AUTHRELAY_SELFTEST_H
#define AUTHRELAY_SELFTEST_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes of the self-test. */
#define SELFTEST_OK 0		/* behaves as the rules say */
#define SELFTEST_OPEN_RELAY 1	/* an unauthenticated relay was accepted */
#define SELFTEST_MISMATCH 2	/* not open, but not as the rules say */

struct selftest_options {
	char host[256];
	char port[16];
	bool starttls;
	const char *cafile;
	bool insecure;
	const char *user;		/* NULL: unauthenticated attempts only */
	char *password;			/* from --password-file or the environment */
	const char *from;		/* the user's own address */
	const char *foreign_from;	/* somebody else's address */
	const char *unauth_from;	/* a stranger's address */
	const char *to;			/* a recipient in a domain the server does not serve */
	const char *helo;
	int timeout_ms;
	bool expect_sender_check;	/* sender_login_check is on */
	bool expect_tls_for_auth;	/* require_tls_for_auth is on */
	bool json;
};

/* Parses "selftest" arguments (argv[0] is "selftest"). Returns 0, or -1
   with *error_r (malloc'd) for a usage error. The password is never
   taken from the command line: --password-file FILE or the environment
   variable AUTHRELAY_SELFTEST_PASSWORD. */
int selftest_parse_args(int argc, char **argv, struct selftest_options *opts, char **error_r);

/* Runs every attempt and prints the table (or JSON) to out. Returns
   SELFTEST_OK, SELFTEST_OPEN_RELAY, SELFTEST_MISMATCH, or 69
   (EX_UNAVAILABLE) when the server could not be reached at all. */
int selftest_run(const struct selftest_options *opts, FILE *out);

/* Frees what selftest_parse_args allocated (the password, wiped). */
void selftest_options_free(struct selftest_options *opts);

#endif

/*
 * NAME
 *	selftest_sasl 3h
 * SUMMARY
 *	SMTP AUTH with libsasl2's client API, for authrelayctl selftest
 * DESCRIPTION
 *	Runs one AUTH exchange (RFC 4954) on an open SMTP connection with a
 *	named mechanism, or lists which of the server's mechanisms this
 *	libsasl2 installation can do (PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5,
 *	SCRAM-* as the installed plugins allow).
 */
#ifndef AUTHRELAY_SELFTEST_SASL_H
#define AUTHRELAY_SELFTEST_SASL_H

#include <stddef.h>

#include "selftest_conn.h"

struct selftest_credentials {
	const char *user;
	const char *password;
};

/* Initialises libsasl2's client side once. Returns 0, or -1 with
   *error_r. */
int selftest_sasl_init(char **error_r);
void selftest_sasl_done(void);

/* From the server's space-separated mechanism list, keeps those this
   libsasl2 can do with a user name and password, in the server's order,
   into out (space-separated). */
void selftest_sasl_usable(const char *server_mechs, char *out, size_t size);

/* Authenticates with mech. Returns 0 with *reply_r the server's final
   reply (235 on success, 5xx/4xx on refusal), or -1 with *error_r when
   the exchange itself broke (connection lost, libsasl2 failure). */
int selftest_sasl_auth(struct smtp_conn *conn, const char *host, const char *mech,
		       const struct selftest_credentials *cred, struct smtp_reply *reply_r,
		       char **error_r);

#endif

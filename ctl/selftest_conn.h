/*
 * NAME
 *	selftest_conn 3h
 * SUMMARY
 *	an SMTP client connection for authrelayctl selftest
 * DESCRIPTION
 *	A TCP connection to an SMTP server with optional STARTTLS (OpenSSL),
 *	line-oriented commands and multi-line replies. Every read and write
 *	has a timeout; replies and lines are bounded, so a hostile or broken
 *	server cannot make the self-test hang or grow without bound.
 */
#ifndef AUTHRELAY_SELFTEST_CONN_H
#define AUTHRELAY_SELFTEST_CONN_H

#include <stdbool.h>
#include <stddef.h>

/* A reply: its code and text (continuation lines joined with " / "). */
#define SMTP_REPLY_MAX 2048

struct smtp_reply {
	int code;			/* 0 when no reply could be read */
	char text[SMTP_REPLY_MAX];	/* "250-mail.example ... / 250 OK" without codes */
	char first_line[512];		/* the first line as received, for the table */
};

struct smtp_conn;

struct smtp_tls_options {
	const char *cafile;	/* NULL: the system's default trust store */
	bool insecure;		/* no certificate verification (explicit flag) */
};

/* Connects to host:port (getaddrinfo; IPv4 and IPv6) within timeout_ms
   and reads the greeting into *greeting_r. Returns the connection, or
   NULL with *error_r (malloc'd). */
struct smtp_conn *smtp_conn_open(const char *host, const char *port, int timeout_ms,
				 struct smtp_reply *greeting_r, char **error_r);

/* Sends "line\r\n" and reads the reply. Returns 0, or -1 with *error_r
   when the connection failed (the reply code is then 0). A line with CR
   or LF in it is refused. */
int smtp_conn_command(struct smtp_conn *conn, const char *line, struct smtp_reply *reply_r,
		      char **error_r);

/* Starts TLS after a 220 reply to STARTTLS: handshake, and verification
   of the server certificate against host unless insecure. Returns 0, or
   -1 with *error_r (the connection is then unusable). */
int smtp_conn_starttls(struct smtp_conn *conn, const char *host,
		       const struct smtp_tls_options *tls, char **error_r);

bool smtp_conn_is_tls(const struct smtp_conn *conn);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" or "" */
const char *smtp_conn_tls_summary(const struct smtp_conn *conn);

/* Local and remote "ip;port" strings, as libsasl2 wants them. */
const char *smtp_conn_local_ipport(const struct smtp_conn *conn);
const char *smtp_conn_remote_ipport(const struct smtp_conn *conn);

/* Returns true when the EHLO reply offers keyword (case-insensitive),
   and copies its parameters (e.g. the AUTH mechanism list) into
   params_r when not NULL. */
bool smtp_reply_has_keyword(const struct smtp_reply *ehlo, const char *keyword, char *params_r,
			    size_t size);

/* Sends QUIT (best effort), closes, frees, sets *conn to NULL. */
void smtp_conn_close(struct smtp_conn **conn);

#endif

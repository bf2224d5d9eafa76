/*
 * NAME
 *	selftest_conn 3
 * SUMMARY
 *	an SMTP client connection for authrelayctl selftest
 * DESCRIPTION
 *	See selftest_conn.h. Reads go through a small buffer; with TLS the
 *	buffer is filled by SSL_read, otherwise by read(2). poll(2) bounds
 *	every wait. Lines longer than SMTP_LINE_MAX end the conversation:
 *	RFC 5321 allows 512 octets per reply line, we accept four times that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "error_r.h"
#include "selftest_conn.h"

#define SMTP_LINE_MAX 2048
#define SMTP_REPLY_LINES_MAX 100

struct smtp_conn {
	int fd;
	int timeout_ms;
	SSL_CTX *ssl_ctx;
	SSL *ssl;
	char buf[4096];
	size_t len, pos;
	char local_ipport[64];
	char remote_ipport[64];
	char tls_summary[128];
};

/* Formats a sockaddr as "ip;port" for libsasl2. */
static void format_ipport(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		port = ntohs(sin6->sin6_port);
	}
	snprintf(buf, size, "%s;%u", host, port);
}

/* Waits until fd is readable (events POLLIN) or writable within the
   connection's timeout. Returns 0, or -1 on timeout or error. */
static int wait_fd(struct smtp_conn *conn, short events)
{
	struct pollfd pfd = { .fd = conn->fd, .events = events };
	int n;

	do
		n = poll(&pfd, 1, conn->timeout_ms);
	while (n < 0 && errno == EINTR);
	return n > 0 ? 0 : -1;
}

/* Connects one address with a timeout (non-blocking connect). */
static int connect_timeout(const struct addrinfo *ai, int timeout_ms)
{
	struct pollfd pfd;
	int fd, err = 0, n;
	socklen_t len = sizeof err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		errno = n == 0 ? ETIMEDOUT : errno;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
		errno = err ? err : errno;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Fills the buffer. Returns bytes read (> 0), or -1 on EOF/error/timeout. */
static int fill(struct smtp_conn *conn)
{
	ssize_t n;

	conn->len = conn->pos = 0;
	for (;;) {
		if (conn->ssl != NULL) {
			if (SSL_pending(conn->ssl) == 0 && wait_fd(conn, POLLIN) < 0)
				return -1;
			n = SSL_read(conn->ssl, conn->buf, sizeof conn->buf);
			if (n > 0)
				break;
			int e = SSL_get_error(conn->ssl, (int)n);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				continue;
			return -1;
		}
		if (wait_fd(conn, POLLIN) < 0)
			return -1;
		n = read(conn->fd, conn->buf, sizeof conn->buf);
		if (n > 0)
			break;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return -1;
	}
	conn->len = (size_t)n;
	return (int)n;
}

/* Reads one line without its CRLF into line (size SMTP_LINE_MAX).
   Returns 0, or -1 on EOF, timeout, a NUL byte or an overlong line. */
static int read_line(struct smtp_conn *conn, char *line)
{
	size_t used = 0;

	for (;;) {
		if (conn->pos >= conn->len && fill(conn) < 0)
			return -1;
		char c = conn->buf[conn->pos++];
		if (c == '\n')
			break;
		if (c == 0 || used + 1 >= SMTP_LINE_MAX)
			return -1;
		line[used++] = c;
	}
	if (used > 0 && line[used - 1] == '\r')
		used--;
	line[used] = 0;
	return 0;
}

/* Reads a whole (possibly multi-line) reply. */
static int read_reply(struct smtp_conn *conn, struct smtp_reply *reply, char **error_r)
{
	char line[SMTP_LINE_MAX];
	size_t tlen = 0;

	memset(reply, 0, sizeof *reply);
	for (int i = 0; i < SMTP_REPLY_LINES_MAX; i++) {
		if (read_line(conn, line) < 0) {
			error_r_set(error_r, "connection lost or timed out while reading a reply");
			reply->code = 0;
			return -1;
		}
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
		    line[1] > '9' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != 0 && line[3] != ' ' && line[3] != '-')) {
			error_r_set(error_r, "not an SMTP reply line: \"%.80s\"", line);
			reply->code = 0;
			return -1;
		}
		int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (i == 0) {
			reply->code = code;
			snprintf(reply->first_line, sizeof reply->first_line, "%.500s", line);
		} else if (code != reply->code) {
			error_r_set(error_r, "reply code changed inside a multi-line reply");
			reply->code = 0;
			return -1;
		}
		const char *text = line[3] ? line + 4 : "";
		int n = snprintf(reply->text + tlen, sizeof reply->text - tlen, "%s%s",
				 i ? " / " : "", text);
		if (n > 0)
			tlen = tlen + (size_t)n < sizeof reply->text ? tlen + (size_t)n
								     : sizeof reply->text - 1;
		if (line[3] != '-')
			return 0;
	}
	error_r_set(error_r, "reply longer than %d lines", SMTP_REPLY_LINES_MAX);
	reply->code = 0;
	return -1;
}

/* Writes all of data. */
static int write_all(struct smtp_conn *conn, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n;

		if (conn->ssl != NULL) {
			n = SSL_write(conn->ssl, data, (int)len);
			if (n <= 0) {
				int e = SSL_get_error(conn->ssl, (int)n);
				if ((e == SSL_ERROR_WANT_WRITE && wait_fd(conn, POLLOUT) == 0) ||
				    (e == SSL_ERROR_WANT_READ && wait_fd(conn, POLLIN) == 0))
					continue;
				return -1;
			}
		} else {
			if (wait_fd(conn, POLLOUT) < 0)
				return -1;
			n = write(conn->fd, data, len);
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return -1;
			}
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* smtp_conn_open - connect and read the greeting */
struct smtp_conn *smtp_conn_open(const char *host, const char *port, int timeout_ms,
				 struct smtp_reply *greeting_r, char **error_r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct smtp_conn *conn;
	int rc, fd = -1, saved = 0, one = 1;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		error_r_set(error_r, "%s port %s: %s", host, port, gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = connect_timeout(ai, timeout_ms);
		if (fd < 0)
			saved = errno;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		error_r_set(error_r, "cannot connect to %s port %s: %s", host, port, strerror(saved));
		return NULL;
	}
	/* Commands are single writes awaiting a reply: no point in Nagle. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	conn = calloc(1, sizeof *conn);
	if (conn == NULL) {
		close(fd);
		error_r_set(error_r, "out of memory");
		return NULL;
	}
	conn->fd = fd;
	conn->timeout_ms = timeout_ms;
	sslen = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		format_ipport((struct sockaddr *)&ss, conn->local_ipport, sizeof conn->local_ipport);
	sslen = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0)
		format_ipport((struct sockaddr *)&ss, conn->remote_ipport,
			      sizeof conn->remote_ipport);
	if (read_reply(conn, greeting_r, error_r) < 0) {
		smtp_conn_close(&conn);
		return NULL;
	}
	return conn;
}

/* smtp_conn_command - send one command line, read its reply */
int smtp_conn_command(struct smtp_conn *conn, const char *line, struct smtp_reply *reply_r,
		      char **error_r)
{
	char out[SMTP_LINE_MAX + 2];
	size_t len = strlen(line);

	memset(reply_r, 0, sizeof *reply_r);
	if (strpbrk(line, "\r\n") != NULL || len >= SMTP_LINE_MAX) {
		error_r_set(error_r, "refusing to send a command with CR/LF or over %d bytes",
			  SMTP_LINE_MAX);
		return -1;
	}
	memcpy(out, line, len);
	memcpy(out + len, "\r\n", 2);
	if (write_all(conn, out, len + 2) < 0) {
		error_r_set(error_r, "connection lost while sending a command");
		return -1;
	}
	return read_reply(conn, reply_r, error_r);
}

/* Returns the first OpenSSL error as text, or a fallback. */
static const char *ssl_error_text(void)
{
	static __thread char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "handshake failed";
	ERR_error_string_n(e, buf, sizeof buf);
	return buf;
}

/* smtp_conn_starttls - TLS handshake on the open connection */
int smtp_conn_starttls(struct smtp_conn *conn, const char *host,
		       const struct smtp_tls_options *tls, char **error_r)
{
	int rc;

	if (conn->pos < conn->len) {
		/* Bytes after the 220 would be a STARTTLS injection (cf. CVE-2011-0411). */
		error_r_set(error_r, "server sent data after its STARTTLS reply; refusing TLS");
		return -1;
	}
	conn->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (conn->ssl_ctx == NULL) {
		error_r_set(error_r, "TLS: %s", ssl_error_text());
		return -1;
	}
	SSL_CTX_set_min_proto_version(conn->ssl_ctx, TLS1_2_VERSION);
	if (tls->insecure) {
		SSL_CTX_set_verify(conn->ssl_ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(conn->ssl_ctx, SSL_VERIFY_PEER, NULL);
		rc = tls->cafile ? SSL_CTX_load_verify_locations(conn->ssl_ctx, tls->cafile, NULL)
				 : SSL_CTX_set_default_verify_paths(conn->ssl_ctx);
		if (rc != 1) {
			error_r_set(error_r, "TLS: cannot load CA file %s: %s",
				  tls->cafile ? tls->cafile : "(system default)", ssl_error_text());
			return -1;
		}
	}
	conn->ssl = SSL_new(conn->ssl_ctx);
	if (conn->ssl == NULL || SSL_set_fd(conn->ssl, conn->fd) != 1) {
		error_r_set(error_r, "TLS: %s", ssl_error_text());
		return -1;
	}
	/* SNI carries host names only (RFC 6066). */
	if (strchr(host, ':') == NULL && strspn(host, "0123456789.") != strlen(host))
		SSL_set_tlsext_host_name(conn->ssl, host);
	if (!tls->insecure) {
		/* An IP literal is checked against the certificate's IP SANs. */
		unsigned char bin[16];
		if (inet_pton(AF_INET, host, bin) == 1 || inet_pton(AF_INET6, host, bin) == 1)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(conn->ssl), host);
		else
			SSL_set1_host(conn->ssl, host);
	}
	for (;;) {
		rc = SSL_connect(conn->ssl);
		if (rc == 1)
			break;
		int e = SSL_get_error(conn->ssl, rc);
		if ((e == SSL_ERROR_WANT_READ && wait_fd(conn, POLLIN) == 0) ||
		    (e == SSL_ERROR_WANT_WRITE && wait_fd(conn, POLLOUT) == 0))
			continue;
		long vr = SSL_get_verify_result(conn->ssl);
		if (vr != X509_V_OK)
			error_r_set(error_r, "TLS: server certificate not trusted: %s "
					   "(use --cafile FILE, or --insecure to skip the check)",
				  X509_verify_cert_error_string(vr));
		else
			error_r_set(error_r, "TLS: %s", ssl_error_text());
		SSL_free(conn->ssl);
		conn->ssl = NULL;
		return -1;
	}
	snprintf(conn->tls_summary, sizeof conn->tls_summary, "%s %s", SSL_get_version(conn->ssl),
		 SSL_get_cipher_name(conn->ssl));
	return 0;
}

bool smtp_conn_is_tls(const struct smtp_conn *conn)
{
	return conn->ssl != NULL;
}

const char *smtp_conn_tls_summary(const struct smtp_conn *conn)
{
	return conn->tls_summary;
}

const char *smtp_conn_local_ipport(const struct smtp_conn *conn)
{
	return conn->local_ipport;
}

const char *smtp_conn_remote_ipport(const struct smtp_conn *conn)
{
	return conn->remote_ipport;
}

/* smtp_reply_has_keyword - look for an EHLO extension */
bool smtp_reply_has_keyword(const struct smtp_reply *ehlo, const char *keyword, char *params_r,
			    size_t size)
{
	size_t klen = strlen(keyword);
	const char *p = ehlo->text;

	/* text is "greeting / KEYWORD params / KEYWORD2 ..."; skip the greeting. */
	while ((p = strstr(p, " / ")) != NULL) {
		p += 3;
		if (strncasecmp(p, keyword, klen) == 0 && (p[klen] == ' ' || p[klen] == 0)) {
			if (params_r != NULL && size > 0) {
				const char *q = p + klen;
				const char *end = strstr(q, " / ");
				size_t n = end ? (size_t)(end - q) : strlen(q);
				while (n > 0 && *q == ' ')
					q++, n--;
				if (n >= size)
					n = size - 1;
				memcpy(params_r, q, n);
				params_r[n] = 0;
			}
			return true;
		}
	}
	return false;
}

/* smtp_conn_close - QUIT, close, free */
void smtp_conn_close(struct smtp_conn **_conn)
{
	struct smtp_conn *conn = *_conn;
	struct smtp_reply reply;
	char *error = NULL;

	if (conn == NULL)
		return;
	*_conn = NULL;
	conn->timeout_ms = conn->timeout_ms > 2000 ? 2000 : conn->timeout_ms;
	if (smtp_conn_command(conn, "QUIT", &reply, &error) < 0)
		free(error);
	if (conn->ssl != NULL) {
		SSL_shutdown(conn->ssl);
		SSL_free(conn->ssl);
	}
	SSL_CTX_free(conn->ssl_ctx);
	close(conn->fd);
	free(conn);
}

/*
 * NAME
 *	http_server 3h
 * SUMMARY
 *	a small HTTP/1.1 server for one handler (libmicrohttpd)
 * SYNOPSIS
 *	#include "http_server.h"
 * DESCRIPTION
 *	The one place that includes the HTTP library. It knows nothing of
 *	what it serves: loginwatch's auth-policy reports today, a metrics
 *	endpoint tomorrow. The caller opens the listening socket (lib/listen:
 *	inet: or unix:, before the privilege drop) and hands it over; the
 *	server runs in one thread of its own, so the handler is called for
 *	one request at a time and may block (it answers only after its
 *	work is done), at the cost of the requests waiting behind it.
 *
 *	Limits, each enforced before the handler sees anything: at most
 *	max_connections connections (shared out among the threads; a thread
 *	at its share stops accepting, so more wait in the listen queue);
 *	a connection idle for timeout seconds is closed, also in the middle
 *	of a request (a slow client); headers fit in HTTP_SERVER_HEADER_SPACE
 *	bytes (else the library answers 431); a body over max_body bytes
 *	(announced by Content-Length or found while reading) is answered 413
 *	without calling the handler. Keep-alive is HTTP/1.1's default.
 */
#ifndef AUTHRELAY_HTTP_SERVER_H
#define AUTHRELAY_HTTP_SERVER_H

#include <stddef.h>

/* Memory per connection for the request line, headers and buffers.
   Dovecot's auth-policy requests carry about 200 bytes of headers. */
#define HTTP_SERVER_HEADER_SPACE (16 * 1024)

/* One request as the handler sees it. Every pointer is valid only
   during the call. header() and query() return NULL when the header
   (case-insensitive name) or query argument is absent. */
struct http_request {
	const char *method;		/* "POST", "GET", ... */
	const char *path;		/* without the query: "/" */
	const char *peer;		/* "192.0.2.1", "::1" or "unix" */
	const char *body;		/* NUL-terminated copy; body_len bytes */
	size_t body_len;
	const char *(*header)(const struct http_request *req, const char *name);
	const char *(*query)(const struct http_request *req, const char *name);
	void *impl;			/* the server's (or a test's) own data */
};

/* What the handler answers: status and a body the server copies. */
struct http_reply {
	unsigned status;
	const char *content_type;	/* NULL: no Content-Type */
	const char *body;		/* NULL: empty */
	size_t body_len;
};

typedef void http_handler(void *ctx, const struct http_request *req, struct http_reply *reply_r);

struct http_server_options {
	unsigned max_connections;
	unsigned timeout;		/* seconds */
	size_t max_body;		/* bytes */
	unsigned threads;		/* 1: one request at a time */
	const char *name;		/* for log lines: "auth-policy" */
};

struct http_server;

/* Starts serving listen_fd (listening, non-blocking; the server closes
   it when stopped) in a thread of its own. Returns 0, or -1 with
   *error_r (malloc'd); then listen_fd is still the caller's. */
int http_server_start(int listen_fd, const struct http_server_options *opts,
		      http_handler *handler, void *ctx, struct http_server **server_r,
		      char **error_r);

/* Stops accepting, closes every connection, waits for the thread and a
   handler call in progress; sets *server to NULL. NULL is fine. */
void http_server_stop(struct http_server **server);

#endif

/*
 * NAME
 *	http_server 3
 * SUMMARY
 *	a small HTTP/1.1 server for one handler (libmicrohttpd)
 * SYNOPSIS
 *	#include "http_server.h"
 * DESCRIPTION
 *	See http_server.h. libmicrohttpd calls the access handler once when
 *	the headers are in (a body announced larger than max_body is
 *	answered 413 there, without reading it), once per piece of body,
 *	and once more at the end, when the handler runs. The body is kept
 *	per request and freed when the library says the request completed.
 *	The library's own messages (connection limit reached, a client that
 *	broke the protocol) are outside clients' doing: they are logged at
 *	most once per HTTP_SERVER_LOG_INTERVAL, with a count of the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "error_r.h"
#include "http_server.h"
#include "log.h"

#define HTTP_SERVER_LOG_INTERVAL 60	/* seconds between library messages */

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_server_options opts;
	http_handler *handler;
	void *ctx;
	pthread_mutex_t log_lock;	/* the library may log from two threads */
	struct log_limit log_limit;
};

/* The body of one request, kept across the library's calls. */
struct http_body {
	char *data;
	size_t len;
	bool too_large;
};

/* server_log - the library's messages, rate-limited */
static void server_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	char text[512];
	uint64_t held = 0;
	size_t n;

	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	pthread_mutex_lock(&s->log_lock);
	if (log_limit_pass(&s->log_limit, (int64_t)time(NULL), HTTP_SERVER_LOG_INTERVAL, &held)) {
		if (held > 0)
			log_warning("%s: %s (and %llu more such messages in the last %d s)",
				    s->opts.name, text, (unsigned long long)held,
				    HTTP_SERVER_LOG_INTERVAL);
		else
			log_warning("%s: %s", s->opts.name, text);
	}
	pthread_mutex_unlock(&s->log_lock);
}

/* header_of - a request header of the library's connection */
static const char *header_of(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->impl, MHD_HEADER_KIND, name);
}

/* query_of - a query argument of the library's connection */
static const char *query_of(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->impl, MHD_GET_ARGUMENT_KIND, name);
}

/* peer_text - the client's address, or "unix" */
static void peer_text(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info != NULL ? info->client_addr : NULL;

	snprintf(buf, size, "unix");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, buf,
			  (socklen_t)size);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, buf,
			  (socklen_t)size);
}

/* send_reply - queue the reply on the connection */
static enum MHD_Result send_reply(struct MHD_Connection *conn, const struct http_reply *reply)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(reply->body != NULL ? reply->body_len : 0,
					       (void *)(reply->body != NULL ? reply->body : ""),
					       MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (reply->content_type != NULL)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					      reply->content_type);
	ret = MHD_queue_response(conn, reply->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static const struct http_reply too_large = { 413, "text/plain", "request body too large\n", 23 };

/* on_request - the library's access handler */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_body *b = *con_cls;
	struct http_request req;
	struct http_reply reply = { 500, NULL, NULL, 0 };
	char peer[INET6_ADDRSTRLEN];
	const char *cl;

	(void)version;
	if (b == NULL) {
		/* The headers are in. */
		if ((b = calloc(1, sizeof(*b))) == NULL)
			return MHD_NO;
		*con_cls = b;
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > s->opts.max_body) {
			b->too_large = true;
			return send_reply(conn, &too_large);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (b->too_large)
			return MHD_YES;
		if (n > s->opts.max_body - b->len) {
			b->too_large = true;
			free(b->data);
			b->data = NULL;
			return MHD_YES;
		}
		char *grown = realloc(b->data, b->len + n + 1);

		if (grown == NULL)
			return MHD_NO;
		b->data = grown;
		memcpy(b->data + b->len, upload_data, n);
		b->len += n;
		b->data[b->len] = '\0';
		return MHD_YES;
	}
	if (b->too_large)
		return send_reply(conn, &too_large);
	peer_text(conn, peer, sizeof(peer));
	req.method = method;
	req.path = url;
	req.peer = peer;
	req.body = b->data != NULL ? b->data : "";
	req.body_len = b->len;
	req.header = header_of;
	req.query = query_of;
	req.impl = conn;
	s->handler(s->ctx, &req, &reply);
	return send_reply(conn, &reply);
}

/* on_completed - the request is over: free its body */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct http_body *b = *con_cls;

	(void)cls;
	(void)conn;
	(void)code;
	if (b != NULL) {
		free(b->data);
		free(b);
		*con_cls = NULL;
	}
}

/* http_server_start - see http_server.h */
int http_server_start(int listen_fd, const struct http_server_options *opts,
		      http_handler *handler, void *ctx, struct http_server **server_r,
		      char **error_r)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		*error_r = strdup("out of memory");
		return -1;
	}
	s->opts = *opts;
	s->handler = handler;
	s->ctx = ctx;
	pthread_mutex_init(&s->log_lock, NULL);
	s->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, server_log, s,	/* first, or it is not used for all */
		MHD_OPTION_LISTEN_SOCKET, listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)opts->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)opts->timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_SERVER_HEADER_SPACE,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(opts->threads > 1 ? opts->threads : 0),
		MHD_OPTION_END);
	if (s->daemon == NULL) {
		return error_r_set(error_r, "%s: cannot start the HTTP server (libmicrohttpd)",
			     opts->name);
		pthread_mutex_destroy(&s->log_lock);
		free(s);
	}
	*server_r = s;
	return 0;
}

/* http_server_stop - see http_server.h */
void http_server_stop(struct http_server **server)
{
	struct http_server *s = *server;

	if (s == NULL)
		return;
	MHD_stop_daemon(s->daemon);
	pthread_mutex_destroy(&s->log_lock);
	free(s);
	*server = NULL;
}

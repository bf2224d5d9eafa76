/*
 * NAME
 *	metrics_http 3h
 * SUMMARY
 *	GET /metrics: lib/metrics served by lib/http_server
 * SYNOPSIS
 *	#include "metrics_http.h"
 * DESCRIPTION
 *	A daemon with *_metrics_listen set opens the endpoint as root
 *	(metrics_http_open(), before the privilege drop), then starts the
 *	server in a thread of its own (metrics_http_start()). The hot path
 *	only adds to lib/metrics' atomic counters; a scrape reads them, and
 *	what only the store or the file system knows (decision rows written
 *	and dropped, active grants, the size of a followed file), in the
 *	server's thread. So a scrape never delays a policy reply.
 *
 *	GET (or HEAD) /metrics answers 200 with the text exposition; any
 *	other path is 404, any other method 405.
 */
#ifndef AUTHRELAY_METRICS_HTTP_H
#define AUTHRELAY_METRICS_HTTP_H

#include <stdbool.h>

#include "http_server.h"
#include "store.h"

/* Connections a scrape may use at once, and how long one may idle: a
   Prometheus server keeps one connection per target; a few more let an
   admin's curl in beside it. */
#define METRICS_HTTP_MAX_CONNECTIONS 16
#define METRICS_HTTP_TIMEOUT 30

/* Buffer of one exposition: a loginwatch with METRICS_SOURCES_MAX
   sources, or a front end with every verdict x rule pair counted, writes
   under 16 KB. */
#define METRICS_HTTP_BUFFER (64 * 1024)

struct metrics_http;

/* Parses spec (inet:HOST:PORT or unix:PATH; key names key in errors)
   and opens the listening socket; call as root, before the privilege
   drop. A unix: socket gets mode 0660 and, as root, run_user as owner.
   Returns 0 with *fd_r, or -1 with *error_r and *status_r (EXIT_CONFIG
   for a bad spec or user, EXIT_UNAVAILABLE when it cannot listen). A
   socket that other hosts can reach is logged as a warning: the
   metrics name the config's files and say how busy the server is. */
int metrics_http_open(const char *key, const char *spec, const char *run_user, int *fd_r,
		      int *status_r, char **error_r);

/* Turns lib/metrics on for program (metrics_enable() with this build's
   version and the time now). Call before metrics_http_start() and
   before naming loginwatch's sources, so that no scrape sees them
   half set. */
void metrics_http_enable(const char *program);

/* Serves fd (the server's from now on, also on failure); counting must
   be on (metrics_http_enable()). Returns 0, or -1 with *error_r. */
int metrics_http_start(int fd, struct metrics_http **mh_r, char **error_r);

/* Hands the daemon's store to the scrape (NULL: none yet): the decision
   queue's rows when queue is true (policyd, milter), the count of
   active grants when grants is true (loginwatch). Safe while the server
   runs; the store must outlive metrics_http_stop(). */
void metrics_http_set_store(struct metrics_http *mh, struct store *store, bool queue,
			    bool grants);

/* The scrape's handler, for tests: answers req from the registry. */
void metrics_http_handle(void *ctx, const struct http_request *req, struct http_reply *reply_r);

/* Stops the server and frees everything; *mh becomes NULL. NULL is fine.
   Counting goes on (the registry is static) until the process ends. */
void metrics_http_stop(struct metrics_http **mh);

#endif

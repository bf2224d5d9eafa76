/*
 * NAME
 *	metrics_http 3
 * SUMMARY
 *	GET /metrics: lib/metrics served by lib/http_server
 * SYNOPSIS
 *	#include "metrics_http.h"
 * DESCRIPTION
 *	One server thread, one request at a time: the exposition buffer is
 *	the server's own and reused. The store pointer is published with a
 *	release store, since policyd opens its database after the server
 *	starts (and retries until it can).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "error_r.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

struct metrics_http {
	struct http_server *server;
	struct store *store;		/* atomic: set by the daemon's thread */
	int queue, grants;		/* atomic, with store */
	char buf[METRICS_HTTP_BUFFER];
};

/* metrics_http_open - the endpoint, as root */
int metrics_http_open(const char *key, const char *spec, const char *run_user, int *fd_r,
		      int *status_r, char **error_r)
{
	struct listen_endpoint ep;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	char *why = NULL;

	*status_r = EXIT_CONFIG;
	if (listen_parse(spec, &ep, &why) < 0) {
		error_r_set(error_r, "%s: %s", key, why ? why : "bad endpoint");
		free(why);
		return -1;
	}
	if (ep.kind == LISTEN_UNIX && geteuid() == 0
	    && daemon_user_ids(run_user, &uid, &gid, error_r) < 0)
		return -1;
	*status_r = EXIT_UNAVAILABLE;
	if (listen_open(&ep, true, uid, gid, 0660, fd_r, error_r) < 0)
		return -1;
	if (!listen_is_local(*fd_r))
		log_warning("%s = %s can be reached from other hosts; the metrics show the config's "
			    "file names and the server's load: listen on loopback or filter it",
			    key, spec);
	return 0;
}

/* metrics_http_enable - count from now on */
void metrics_http_enable(const char *program)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	metrics_enable(program, AUTHRELAY_VERSION, (double)now.tv_sec + now.tv_nsec / 1e9);
}

/* metrics_http_start - serve the count */
int metrics_http_start(int fd, struct metrics_http **mh_r, char **error_r)
{
	struct http_server_options opts = {METRICS_HTTP_MAX_CONNECTIONS, METRICS_HTTP_TIMEOUT, 0, 1,
					    "metrics"};
	struct metrics_http *mh = calloc(1, sizeof *mh);

	if (mh == NULL) {
		close(fd);
		return error_r_set(error_r, "metrics: out of memory");
	}
	if (http_server_start(fd, &opts, metrics_http_handle, mh, &mh->server, error_r) < 0) {
		close(fd);
		free(mh);
		return -1;
	}
	*mh_r = mh;
	return 0;
}

void metrics_http_set_store(struct metrics_http *mh, struct store *store, bool queue,
			    bool grants)
{
	if (mh == NULL)
		return;
	__atomic_store_n(&mh->queue, queue, __ATOMIC_RELAXED);
	__atomic_store_n(&mh->grants, grants, __ATOMIC_RELAXED);
	__atomic_store_n(&mh->store, store, __ATOMIC_RELEASE);
}

/* count_row - the one value of SELECT count(*) */
static int count_row(int ncols, const char *const *names, const char *const *values, void *ctx)
{
	(void)names;
	if (ncols != 1 || values[0] == NULL)
		return -1;
	*(uint64_t *)ctx = strtoull(values[0], NULL, 10);
	return 0;
}

/* scrape_lag - unread bytes of each followed file: its size past the
   position read, or the whole new file after a rotation not yet
   followed (the rest of the old one is not counted) */
static void scrape_lag(struct metrics_scrape *s)
{
	for (size_t i = 0; i < METRICS_SOURCES_MAX; i++) {
		const char *path;
		uint64_t dev, ino, offset;
		struct stat st;

		if (!metrics_loginwatch_position_get(i, &path, &dev, &ino, &offset)
		    || stat(path, &st) < 0)
			continue;
		s->has_lag[i] = true;
		if ((uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino)
			s->lag_bytes[i] = (uint64_t)st.st_size > offset ? (uint64_t)st.st_size - offset : 0;
		else
			s->lag_bytes[i] = (uint64_t)st.st_size;
	}
}

/* scrape_store - what the store knows; a failed count leaves the
   family out and is counted as a store error */
static void scrape_store(struct metrics_http *mh, struct metrics_scrape *s)
{
	struct store *store = __atomic_load_n(&mh->store, __ATOMIC_ACQUIRE);
	char *error = NULL;

	if (store == NULL)
		return;
	if (__atomic_load_n(&mh->queue, __ATOMIC_RELAXED)) {
		store_decision_stats(store, &s->decision_rows_written, &s->decision_rows_dropped);
		s->has_queue = true;
	}
	if (__atomic_load_n(&mh->grants, __ATOMIC_RELAXED)) {
		if (store_query(store, "SELECT count(*) FROM active_grants", count_row,
				&s->grants_active, &error) == 0) {
			s->has_grants = true;
		} else {
			log_warning("metrics: cannot count active grants: %s", error ? error : "error");
			metrics_store_error();
			free(error);
		}
	}
}

/* metrics_http_handle - GET /metrics */
void metrics_http_handle(void *ctx, const struct http_request *req, struct http_reply *reply_r)
{
	static const char not_found[] = "Not found: the metrics are at /metrics\n";
	static const char bad_method[] = "Method not allowed: use GET\n";
	struct metrics_http *mh = ctx;
	struct metrics_scrape s;
	int n;

	reply_r->content_type = "text/plain; charset=utf-8";
	if (strcmp(req->path, "/metrics") != 0) {
		reply_r->status = 404;
		reply_r->body = not_found;
		reply_r->body_len = sizeof not_found - 1;
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		reply_r->status = 405;
		reply_r->body = bad_method;
		reply_r->body_len = sizeof bad_method - 1;
		return;
	}
	memset(&s, 0, sizeof s);
	scrape_store(mh, &s);
	scrape_lag(&s);
	n = metrics_format(&s, mh->buf, sizeof mh->buf);
	if (n < 0) {
		log_error("metrics: the exposition outgrew %d bytes (METRICS_HTTP_BUFFER)",
			  METRICS_HTTP_BUFFER);
		reply_r->status = 500;
		reply_r->body = NULL;
		reply_r->body_len = 0;
		return;
	}
	reply_r->status = 200;
	reply_r->content_type = METRICS_CONTENT_TYPE;
	reply_r->body = mh->buf;
	reply_r->body_len = (size_t)n;
}

void metrics_http_stop(struct metrics_http **mh)
{
	if (mh == NULL || *mh == NULL)
		return;
	http_server_stop(&(*mh)->server);
	free(*mh);
	*mh = NULL;
}

/*
 * NAME
 *	server 3
 * SUMMARY
 *	the policyd event loop: many policy connections, one thread
 * SYNOPSIS
 *	#include "server.h"
 * DESCRIPTION
 *	Level-triggered epoll over the listeners and the connections
 *	(conn.c handles each connection's bytes). Connections sit on a list
 *	ordered by their last progress (a read or a write that moved
 *	bytes); the idle timeout closes from the front, and the wait time is
 *	the front's deadline, so timeouts cost nothing per event.
 *
 *	Signals are blocked outside epoll_pwait(), so SIGTERM or SIGHUP is
 *	never lost between the flag check and the wait.
 * DIAGNOSTICS
 *	Limit refusals and descriptor shortages are logged at most once a
 *	minute with a count.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "daemon.h"
#include "error_r.h"
#include "log.h"
#include "server.h"

#define MAX_EVENTS 256
#define ACCEPTS_PER_EVENT 64
#define STOP_GRACE_MS 5000

/* set_nonblock - make fd non-blocking */
static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* format_peer - "ip:port" or "unix" for log lines */
static void format_peer(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, size, "unix");
	}
}

/* refuse_log - rate-limited warning for connections we cannot take */
static void refuse_log(struct server *srv, const char *why)
{
	long long now = conn_now_ms();

	srv->refused++;
	if (now - srv->refused_log_ms >= 60000 || srv->refused_log_ms == 0) {
		log_warning("refused %lu connection(s) in the last minute: %s", srv->refused, why);
		srv->refused = 0;
		srv->refused_log_ms = now;
	}
}

/* listeners_pause - stop accepting for a second (out of descriptors) */
static void listeners_pause(struct server *srv, bool pause)
{
	for (unsigned i = 0; i < srv->nlisteners; i++)
		(void)conn_watch_set(srv, &srv->listeners[i], pause ? 0 : EPOLLIN);
	srv->listeners_paused = pause;
	srv->listeners_resume_ms = conn_now_ms() + 1000;
}

/* accept_ready - take new connections from one listener */
static void accept_ready(struct server *srv, struct watch *lw)
{
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lw->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char peer[PEER_MAX];

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Level-triggered: without a pause the loop spins. */
				refuse_log(srv, strerror(errno));
				listeners_pause(srv, true);
			} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_error("accept: %s", strerror(errno));
			}
			return;
		}
		if (srv->nconns >= srv->settings.max_connections) {
			/* Closing at once lets Postfix fall back to its
			   default_action now rather than after a timeout. */
			close(fd);
			refuse_log(srv, "policyd_max_connections reached");
			continue;
		}
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
			int one = 1;

			/* Replies are single small writes; never let Nagle
			   hold one back waiting for an ACK. */
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}
		format_peer(&ss, peer, sizeof(peer));
		(void)conn_create(srv, fd, fd, peer);
	}
}

/* server_create - the loop without listeners or connections */
int server_create(const struct server_settings *settings, const struct server_callbacks *cb,
		  struct server **server_r, char **error_r)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return error_r_set(error_r, "calloc: %s", strerror(errno));
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0) {
		error_r_set(error_r, "epoll_create1: %s", strerror(errno));
		free(srv);
		return -1;
	}
	srv->settings = *settings;
	srv->cb = *cb;
	*server_r = srv;
	return 0;
}

/* server_add_listener - accept connections from fd */
int server_add_listener(struct server *srv, int fd, char **error_r)
{
	if (srv->nlisteners >= MAX_LISTENERS) {
		errno = EMFILE;
		return error_r_set(error_r, "too many listeners: %s", strerror(errno));
	}
	if (set_nonblock(fd) < 0)
		return error_r_set(error_r, "fcntl O_NONBLOCK: %s", strerror(errno));
	struct watch *w = &srv->listeners[srv->nlisteners];

	*w = (struct watch){WATCH_LISTENER, fd, 0, NULL};
	if (conn_watch_set(srv, w, EPOLLIN) < 0)
		return error_r_set(error_r, "epoll_ctl: %s", strerror(errno));
	srv->nlisteners++;
	return 0;
}

/* server_add_connection - serve one connected peer */
int server_add_connection(struct server *srv, int rfd, int wfd, const char *peer, char **error_r)
{
	if (set_nonblock(rfd) < 0 || set_nonblock(wfd) < 0)
		return error_r_set(error_r, "fcntl O_NONBLOCK: %s", strerror(errno));
	if (conn_create(srv, rfd, wfd, peer) == NULL)
		return error_r_set(error_r, "cannot serve the connection: %s", strerror(errno));
	return 0;
}

/* expire_idle - close connections without progress for idle_timeout */
static long long expire_idle(struct server *srv, long long now)
{
	long long limit = srv->settings.idle_timeout * 1000;

	while (srv->head != NULL && now - srv->head->last_ms >= limit) {
		struct conn *c = srv->head;

		log_info("%s: idle for %llds%s; closing connection", c->peer,
			 srv->settings.idle_timeout,
			 c->io && proto_parser_in_request(c->io->parser) ? " in the middle of a request"
									   : "");
		conn_close(srv, c);
	}
	return srv->head ? srv->head->last_ms + limit - now : -1;
}

/* begin_stop - SIGTERM: no new connections; close those with nothing due */
static void begin_stop(struct server *srv)
{
	srv->stopping = true;
	for (unsigned i = 0; i < srv->nlisteners; i++) {
		(void)conn_watch_set(srv, &srv->listeners[i], 0);
		close(srv->listeners[i].fd);
	}
	srv->nlisteners = 0;
	for (struct conn *c = srv->head, *next; c != NULL; c = next) {
		next = c->next;
		c->drained = false;
		if (conn_process(srv, c) < 0 || conn_flush(srv, c) < 0 || conn_stop_step(srv, c) < 0)
			conn_close(srv, c);
	}
}

/* do_reload - SIGHUP */
static void do_reload(struct server *srv)
{
	struct server_settings s;

	if (srv->cb.reload == NULL || srv->cb.reload(srv->cb.ctx, &s) < 0)
		return;
	if (memcmp(&s.limits, &srv->settings.limits, sizeof(s.limits)) != 0) {
		/* Blocks made with the old limits are freed, not reused. */
		srv->generation++;
		conn_pool_clear(srv);
	}
	srv->settings = s;
}

/* server_run - the loop */
int server_run(struct server *srv, bool until_no_connections)
{
	struct epoll_event events[MAX_EVENTS];
	sigset_t block, waitmask;
	long long stop_deadline = 0, last_tick = conn_now_ms();

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);

	for (;;) {
		if (daemon_stop_requested && !srv->stopping) {
			log_info("stopping: %u connection(s) open", srv->nconns);
			begin_stop(srv);
			stop_deadline = conn_now_ms() + STOP_GRACE_MS;
		}
		if (daemon_reload_requested) {
			daemon_reload_requested = 0;
			do_reload(srv);
		}
		long long now = conn_now_ms();

		if (srv->stopping && (srv->nconns == 0 || now >= stop_deadline))
			break;
		if (until_no_connections && srv->nconns == 0 && srv->nlisteners == 0)
			break;
		if (srv->listeners_paused && now >= srv->listeners_resume_ms && !srv->stopping)
			listeners_pause(srv, false);
		if (now - last_tick >= 1000) {
			last_tick = now;
			if (srv->cb.tick)
				srv->cb.tick(srv->cb.ctx);
		}

		long long wait = expire_idle(srv, now);

		if (wait < 0 || wait > 1000)
			wait = 1000;
		if (srv->stopping && stop_deadline - now < wait)
			wait = stop_deadline - now;
		int n = epoll_pwait(srv->epfd, events, MAX_EVENTS, (int)wait, &waitmask);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_pwait: %s", strerror(errno));
			sigprocmask(SIG_UNBLOCK, &block, NULL);
			return -1;
		}
		if (n > 0 && srv->cb.batch_begin != NULL)
			srv->cb.batch_begin(srv->cb.ctx);
		for (int i = 0; i < n; i++) {
			struct watch *w = events[i].data.ptr;
			uint32_t ev = events[i].events;

			if (w->kind == WATCH_LISTENER) {
				accept_ready(srv, w);
				continue;
			}
			struct conn *c = w->conn;
			bool shared = c->rw.fd == c->ww.fd;
			int rc = 0;

			/* An earlier event of this batch may have closed it. */
			if (c->dead)
				continue;
			if (w->kind == WATCH_WRITE || (shared && (ev & (EPOLLOUT | EPOLLERR))))
				rc = conn_writable(srv, c);
			if (rc == 0 && w->kind == WATCH_READ && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				rc = c->eof ? -1 : conn_readable(srv, c);
			if (rc < 0)
				conn_close(srv, c);
		}
		bool lost = n > 0 && srv->cb.batch_end != NULL && srv->cb.batch_end(srv->cb.ctx) < 0;

		conn_release_held(srv, lost);
		conn_free_dead(srv);
	}
	while (srv->head != NULL) {
		struct conn_io *io = srv->head->io;

		if (io != NULL && io->out_len > 0)
			log_warning("%s: stopping with %zu reply bytes unsent", srv->head->peer,
				    io->out_len - io->out_off);
		conn_close(srv, srv->head);
	}
	conn_free_dead(srv);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	return 0;
}

/* server_connection_count - connections open now */
unsigned server_connection_count(const struct server *srv)
{
	return srv->nconns;
}

/* server_free - close everything */
void server_free(struct server **server)
{
	struct server *srv = *server;

	if (srv == NULL)
		return;
	while (srv->head != NULL)
		conn_close(srv, srv->head);
	conn_free_dead(srv);
	conn_pool_clear(srv);
	for (unsigned i = 0; i < srv->nlisteners; i++)
		close(srv->listeners[i].fd);
	close(srv->epfd);
	free(srv);
	*server = NULL;
}

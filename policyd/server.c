/*
 * NAME
 *	server 3
 * SUMMARY
 *	the policyd event loop: many policy connections, one thread
 * SYNOPSIS
 *	#include "server.h"
 * DESCRIPTION
 *	Level-triggered epoll. The common path costs one read() and one
 *	write() per request and no epoll_ctl(): interest in EPOLLOUT is
 *	added only while a reply could not be written at once, and
 *	interest in EPOLLIN is dropped only while the reply buffer is too
 *	full to take another reply (back-pressure against a client that
 *	pipelines requests and does not read its answers).
 *
 *	Connections sit on a list ordered by their last progress (a read
 *	or a write that moved bytes); the idle timeout closes from the
 *	front, and the wait time is the front's deadline, so timeouts cost
 *	nothing per event.
 *
 *	Memory: Postfix keeps policy connections open and mostly idle
 *	between requests. An idle connection holds only struct conn (a few
 *	hundred bytes); the parser buffer, request fields and reply buffer
 *	(struct conn_io, about 6 KiB with the default policyd_max_line) are
 *	attached when bytes arrive and given back to a small pool as soon as
 *	no request is in progress and no reply waits. Memory is therefore
 *	bounded by the connections that are busy at the same moment, and by
 *	max_connections times struct conn.
 * DIAGNOSTICS
 *	One log line per closed-on-error connection, naming the peer.
 *	Limit refusals and descriptor shortages are logged at most once a
 *	minute with a count.
 *--*/
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

#include "daemon.h"
#include "log.h"
#include "server.h"

#define MAX_LISTENERS 8
#define MAX_EVENTS 256
#define READS_PER_EVENT 4	/* then let other connections run */
#define ACCEPTS_PER_EVENT 64
#define OUT_MAX (2 * PROTO_REPLY_MAX)
#define STOP_GRACE_MS 5000
#define PEER_MAX 64
#define POOL_MAX 128		/* free conn_io blocks kept for reuse */

enum watch_kind { WATCH_LISTENER, WATCH_READ, WATCH_WRITE };

/* What an epoll registration points at. */
struct watch {
	enum watch_kind kind;
	int fd;
	uint32_t events;	/* registered interest (0: not registered) */
	struct conn *conn;	/* NULL for a listener */
};

/* What a connection needs only while a request or reply is in flight. */
struct conn_io {
	struct conn_io *next_free;
	unsigned generation;		/* limits it was made with (see reload) */
	struct proto_parser *parser;
	struct policy_request req;
	size_t out_len, out_off;
	char out[OUT_MAX];
};

struct conn {
	struct conn *prev, *next;	/* by last progress, oldest first */
	struct watch rw, ww;		/* ww unused when rfd == wfd */
	struct conn_io *io;		/* NULL while idle */
	long long last_ms;
	unsigned long requests;
	bool eof;			/* peer closed its side */
	bool drained;			/* the last read found nothing more (EAGAIN) */
	bool dead;			/* closed; freed after the event batch */
	char peer[PEER_MAX];
};

struct server {
	int epfd;
	struct server_settings settings;
	struct server_callbacks cb;
	struct watch listeners[MAX_LISTENERS];
	unsigned nlisteners;
	bool listeners_paused;
	long long listeners_resume_ms;
	struct conn *head, *tail;
	struct conn *dead;		/* closed in this batch, linked by next */
	struct conn_io *pool;		/* free conn_io blocks */
	unsigned npool;
	unsigned generation;		/* bumped when the limits change */
	unsigned nconns;
	bool stopping;
	long long refused_log_ms;	/* rate limit for refusal logging */
	unsigned long refused;
};

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* set_nonblock - make fd non-blocking */
static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* errorf - a malloc'd error text */
static char *errorf(const char *what)
{
	char *s = NULL;

	if (asprintf(&s, "%s: %s", what, strerror(errno)) < 0)
		abort();
	return s;
}

/* watch_set - register, change or remove interest for one watch */
static int watch_set(struct server *srv, struct watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	int op;

	if (events == w->events)
		return 0;
	if (w->events == 0)
		op = EPOLL_CTL_ADD;
	else if (events == 0)
		op = EPOLL_CTL_DEL;
	else
		op = EPOLL_CTL_MOD;
	if (epoll_ctl(srv->epfd, op, w->fd, &ev) < 0)
		return -1;
	w->events = events;
	return 0;
}

/* list_unlink, list_append - the progress-ordered connection list */
static void list_unlink(struct server *srv, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		srv->tail = c->prev;
	c->prev = c->next = NULL;
}

static void list_append(struct server *srv, struct conn *c)
{
	c->prev = srv->tail;
	c->next = NULL;
	if (srv->tail)
		srv->tail->next = c;
	else
		srv->head = c;
	srv->tail = c;
}

/* conn_progress - the connection moved bytes: restart its idle clock */
static void conn_progress(struct server *srv, struct conn *c)
{
	c->last_ms = now_ms();
	if (srv->tail != c) {
		list_unlink(srv, c);
		list_append(srv, c);
	}
}

/* io_free - release one conn_io block */
static void io_free(struct conn_io *io)
{
	proto_parser_free(&io->parser);
	free(io);
}

/* io_get - a clean conn_io block, from the pool when one is there */
static struct conn_io *io_get(struct server *srv)
{
	struct conn_io *io = srv->pool;

	if (io != NULL) {
		srv->pool = io->next_free;
		srv->npool--;
		return io;
	}
	io = malloc(sizeof(*io));
	if (io == NULL)
		return NULL;
	io->next_free = NULL;
	io->generation = srv->generation;
	io->parser = proto_parser_create(&srv->settings.limits);
	io->out_len = io->out_off = 0;
	request_reset(&io->req);
	return io;
}

/* io_put - give a block back: cleaned into the pool, or freed */
static void io_put(struct server *srv, struct conn_io *io)
{
	if (io->generation != srv->generation || srv->npool >= POOL_MAX) {
		io_free(io);
		return;
	}
	proto_parser_reset(io->parser);
	request_reset(&io->req);
	io->out_len = io->out_off = 0;
	io->next_free = srv->pool;
	srv->pool = io;
	srv->npool++;
}

/* conn_detach_idle - no request in progress, no reply waiting: give the block back */
static void conn_detach_idle(struct server *srv, struct conn *c)
{
	struct conn_io *io = c->io;

	if (io == NULL || io->out_len > 0 || proto_parser_in_request(io->parser) ||
	    proto_parser_error(io->parser, NULL) != PROTO_ERR_NONE)
		return;
	c->io = NULL;
	io_put(srv, io);
}

/* conn_close - forget a connection and free everything it holds */
static void conn_close(struct server *srv, struct conn *c)
{
	(void)watch_set(srv, &c->rw, 0);
	if (c->ww.fd != c->rw.fd)
		(void)watch_set(srv, &c->ww, 0);
	close(c->rw.fd);
	if (c->ww.fd != c->rw.fd)
		close(c->ww.fd);
	list_unlink(srv, c);
	if (c->io != NULL) {
		io_free(c->io);	/* not pooled: it may hold half a request */
		c->io = NULL;
	}
	log_debug("%s: closed after %lu requests", c->peer, c->requests);
	/* Later events of the same epoll batch may still point at this
	   connection's watches: free it only after the batch. */
	c->dead = true;
	c->next = srv->dead;
	srv->dead = c;
	srv->nconns--;
}

/* free_dead - release connections closed during the last batch */
static void free_dead(struct server *srv)
{
	while (srv->dead != NULL) {
		struct conn *c = srv->dead;

		srv->dead = c->next;
		free(c);
	}
}

/* conn_interest - bring epoll interest in line with the connection state */
static int conn_interest(struct server *srv, struct conn *c)
{
	size_t out_len = c->io ? c->io->out_len : 0;
	bool want_out = c->io && c->io->out_off < out_len;
	/* Stop reading while another reply might not fit: the bytes stay
	   in the kernel, and TCP flow control slows the client down. */
	bool want_in = !c->eof && !srv->stopping && OUT_MAX - out_len >= PROTO_REPLY_MAX;

	if (c->ww.fd == c->rw.fd)
		return watch_set(srv, &c->rw, (want_in ? EPOLLIN : 0) | (want_out ? EPOLLOUT : 0));
	if (watch_set(srv, &c->rw, want_in ? EPOLLIN : 0) < 0)
		return -1;
	return watch_set(srv, &c->ww, want_out ? EPOLLOUT : 0);
}

/* conn_flush - write what is pending; -1 when the connection is dead */
static int conn_flush(struct server *srv, struct conn *c)
{
	struct conn_io *io = c->io;

	if (io == NULL)
		return 0;
	while (io->out_off < io->out_len) {
		ssize_t n = write(c->ww.fd, io->out + io->out_off, io->out_len - io->out_off);

		if (n > 0) {
			io->out_off += (size_t)n;
			conn_progress(srv, c);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		log_info("%s: write: %s; closing connection", c->peer,
			 n < 0 ? strerror(errno) : "nothing written");
		return -1;
	}
	if (io->out_off == io->out_len) {
		io->out_off = io->out_len = 0;
	} else if (io->out_off > 0) {
		memmove(io->out, io->out + io->out_off, io->out_len - io->out_off);
		io->out_len -= io->out_off;
		io->out_off = 0;
	}
	return 0;
}

/* conn_process - answer every complete request that fits the reply buffer */
static int conn_process(struct server *srv, struct conn *c)
{
	struct conn_io *io = c->io;

	if (io == NULL)
		return 0;
	while (OUT_MAX - io->out_len >= PROTO_REPLY_MAX) {
		enum proto_status st = proto_parser_next(io->parser, request_attr, &io->req);
		const char *why;

		if (st == PROTO_NEED_MORE)
			return 0;
		if (st == PROTO_ERROR) {
			(void)proto_parser_error(io->parser, &why);
			log_warning("%s: bad policy request: %s; closing connection", c->peer, why);
			return -1;
		}
		size_t n = srv->cb.answer(srv->cb.ctx, &io->req, io->out + io->out_len,
					  OUT_MAX - io->out_len, &why);

		request_reset(&io->req);
		if (n == 0) {
			log_warning("%s: bad policy request: %s; closing connection", c->peer,
				    why ? why : "not answered");
			return -1;
		}
		io->out_len += n;
		c->requests++;
	}
	return 0;
}

/* conn_readable - read and answer; -1 when the connection must close */
static int conn_readable(struct server *srv, struct conn *c)
{
	if (c->io == NULL && (c->io = io_get(srv)) == NULL) {
		log_error("%s: out of memory; closing connection", c->peer);
		return -1;
	}
	struct conn_io *io = c->io;

	c->drained = false;
	for (int i = 0; i < READS_PER_EVENT && !c->eof; i++) {
		if (OUT_MAX - io->out_len < PROTO_REPLY_MAX)
			break;
		size_t room;
		char *space = proto_parser_space(io->parser, &room);
		ssize_t n = read(c->rw.fd, space, room);

		if (n > 0) {
			proto_parser_filled(io->parser, (size_t)n);
			conn_progress(srv, c);
			if (conn_process(srv, c) < 0)
				return -1;
			if ((size_t)n < room)
				break;	/* the socket is most likely drained */
			continue;
		}
		if (n == 0) {
			c->eof = true;
			if (proto_parser_in_request(io->parser))
				log_info("%s: connection closed in the middle of a request "
					 "(%zu bytes unanswered)",
					 c->peer, proto_parser_pending(io->parser));
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->drained = true;
			break;
		}
		log_info("%s: read: %s; closing connection", c->peer, strerror(errno));
		return -1;
	}
	if (conn_flush(srv, c) < 0)
		return -1;
	/* Closed by the peer and every reply written: done. */
	if (c->eof && io->out_len == 0)
		return -1;
	conn_detach_idle(srv, c);
	return conn_interest(srv, c) < 0 ? -1 : 0;
}

/* stop_step - while stopping: answer what the peer sent before the stop,
   write it, then close. Returns -1 to close now, 0 while replies wait. */
static int stop_step(struct server *srv, struct conn *c)
{
	/* Requests already in the socket were sent before SIGTERM: they
	   are in flight and get their replies. Bounded: the loop stops at
	   the first EAGAIN, and a full reply buffer waits for EPOLLOUT. */
	for (int i = 0; i < 1000 && !c->eof && !c->drained; i++) {
		if (c->io != NULL && OUT_MAX - c->io->out_len < PROTO_REPLY_MAX)
			break;
		if (conn_readable(srv, c) < 0)
			return -1;
	}
	if (c->io != NULL && c->io->out_len > 0)
		return conn_interest(srv, c) < 0 ? -1 : 0;
	return -1;
}

/* conn_writable - continue writing; then answer what waited for room */
static int conn_writable(struct server *srv, struct conn *c)
{
	if (conn_flush(srv, c) < 0)
		return -1;
	if (conn_process(srv, c) < 0 || conn_flush(srv, c) < 0)
		return -1;
	if (srv->stopping)
		return stop_step(srv, c);
	bool drained = c->io == NULL || c->io->out_len == 0;

	if (drained && c->eof)
		return -1;
	conn_detach_idle(srv, c);
	return conn_interest(srv, c) < 0 ? -1 : 0;
}

/* conn_create - state for one new connection; on failure the descriptors are closed */
static struct conn *conn_create(struct server *srv, int rfd, int wfd, const char *peer)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL) {
		log_error("%s: out of memory; closing connection", peer);
		close(rfd);
		if (wfd != rfd)
			close(wfd);
		return NULL;
	}
	c->rw = (struct watch){WATCH_READ, rfd, 0, c};
	c->ww = (struct watch){WATCH_WRITE, wfd, 0, c};
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->last_ms = now_ms();
	list_append(srv, c);
	srv->nconns++;
	if (conn_interest(srv, c) < 0) {
		log_error("%s: epoll_ctl: %s", peer, strerror(errno));
		conn_close(srv, c);	/* closes the descriptors too */
		return NULL;
	}
	return c;
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
	long long now = now_ms();

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
		(void)watch_set(srv, &srv->listeners[i], pause ? 0 : EPOLLIN);
	srv->listeners_paused = pause;
	srv->listeners_resume_ms = now_ms() + 1000;
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

	if (srv == NULL) {
		*error_r = errorf("calloc");
		return -1;
	}
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0) {
		*error_r = errorf("epoll_create1");
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
		*error_r = errorf("too many listeners");
		return -1;
	}
	if (set_nonblock(fd) < 0) {
		*error_r = errorf("fcntl O_NONBLOCK");
		return -1;
	}
	struct watch *w = &srv->listeners[srv->nlisteners];

	*w = (struct watch){WATCH_LISTENER, fd, 0, NULL};
	if (watch_set(srv, w, EPOLLIN) < 0) {
		*error_r = errorf("epoll_ctl");
		return -1;
	}
	srv->nlisteners++;
	return 0;
}

/* server_add_connection - serve one connected peer */
int server_add_connection(struct server *srv, int rfd, int wfd, const char *peer, char **error_r)
{
	if (set_nonblock(rfd) < 0 || set_nonblock(wfd) < 0) {
		*error_r = errorf("fcntl O_NONBLOCK");
		return -1;
	}
	if (conn_create(srv, rfd, wfd, peer) == NULL) {
		*error_r = errorf("cannot serve the connection");
		return -1;
	}
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
		(void)watch_set(srv, &srv->listeners[i], 0);
		close(srv->listeners[i].fd);
	}
	srv->nlisteners = 0;
	for (struct conn *c = srv->head, *next; c != NULL; c = next) {
		next = c->next;
		c->drained = false;
		if (conn_process(srv, c) < 0 || conn_flush(srv, c) < 0 || stop_step(srv, c) < 0)
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
		while (srv->pool != NULL) {
			struct conn_io *io = srv->pool;

			srv->pool = io->next_free;
			io_free(io);
		}
		srv->npool = 0;
	}
	srv->settings = s;
}

/* server_run - the loop */
int server_run(struct server *srv, bool until_no_connections)
{
	struct epoll_event events[MAX_EVENTS];
	sigset_t block, waitmask;
	long long stop_deadline = 0, last_tick = now_ms();

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
			stop_deadline = now_ms() + STOP_GRACE_MS;
		}
		if (daemon_reload_requested) {
			daemon_reload_requested = 0;
			do_reload(srv);
		}
		long long now = now_ms();

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
		free_dead(srv);
	}
	while (srv->head != NULL) {
		struct conn_io *io = srv->head->io;

		if (io != NULL && io->out_len > 0)
			log_warning("%s: stopping with %zu reply bytes unsent", srv->head->peer,
				    io->out_len - io->out_off);
		conn_close(srv, srv->head);
	}
	free_dead(srv);
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
	free_dead(srv);
	while (srv->pool != NULL) {
		struct conn_io *io = srv->pool;

		srv->pool = io->next_free;
		io_free(io);
	}
	for (unsigned i = 0; i < srv->nlisteners; i++)
		close(srv->listeners[i].fd);
	close(srv->epfd);
	free(srv);
	*server = NULL;
}

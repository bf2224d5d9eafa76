/*
 * NAME
 *	conn 3
 * SUMMARY
 *	policyd event loop internals: one connection's state machine
 * SYNOPSIS
 *	#include "conn.h"
 * DESCRIPTION
 *	The common path costs one read() and one write() per request and no
 *	epoll_ctl(): interest in EPOLLOUT is added only while a reply could
 *	not be written at once, and interest in EPOLLIN is dropped only
 *	while the reply buffer is too full to take another reply
 *	(back-pressure against a client that pipelines requests and does
 *	not read its answers).
 *
 *	Memory: Postfix keeps policy connections open and mostly idle
 *	between requests. An idle connection holds only struct conn (a few
 *	hundred bytes); the parser buffer, request fields and reply buffer
 *	(struct conn_io, about 6 KiB with the default policyd_max_line) are
 *	attached when bytes arrive and given back to a small pool as soon as
 *	no request is in progress and no reply waits.
 * DIAGNOSTICS
 *	One log line per connection closed on an error, naming the peer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "metrics.h"

/* conn_now_ms - monotonic milliseconds */
long long conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* conn_watch_set - register, change or remove interest for one watch */
int conn_watch_set(struct server *srv, struct watch *w, uint32_t events)
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
	c->last_ms = conn_now_ms();
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
	io->held = false;
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
	io->held = false;
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
void conn_close(struct server *srv, struct conn *c)
{
	(void)conn_watch_set(srv, &c->rw, 0);
	if (c->ww.fd != c->rw.fd)
		(void)conn_watch_set(srv, &c->ww, 0);
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
	metrics_connections_add(-1);
}

/* conn_free_dead - release connections closed during the last batch */
void conn_free_dead(struct server *srv)
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

	/* A held reply is written at the batch's end: no epoll_ctl() for
	   it (conn_release_held() sets the interest then). */
	if (c->io != NULL && c->io->held)
		return 0;

	if (c->ww.fd == c->rw.fd)
		return conn_watch_set(srv, &c->rw, (want_in ? EPOLLIN : 0) | (want_out ? EPOLLOUT : 0));
	if (conn_watch_set(srv, &c->rw, want_in ? EPOLLIN : 0) < 0)
		return -1;
	return conn_watch_set(srv, &c->ww, want_out ? EPOLLOUT : 0);
}

/* conn_flush - write what is pending; -1 when the connection is dead */
int conn_flush(struct server *srv, struct conn *c)
{
	struct conn_io *io = c->io;
	size_t end;

	if (io == NULL)
		return 0;
	/* A held reply waits for the batch's end; those before it go. */
	end = io->held ? io->held_off : io->out_len;
	while (io->out_off < end) {
		ssize_t n = write(c->ww.fd, io->out + io->out_off, end - io->out_off);

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
		if (io->held)
			io->held_off -= io->out_off;
		io->out_off = 0;
	}
	return 0;
}

/* conn_process - answer every complete request that fits the reply buffer */
int conn_process(struct server *srv, struct conn *c)
{
	struct conn_io *io = c->io;

	if (io == NULL)
		return 0;
	while (!io->held && OUT_MAX - io->out_len >= PROTO_REPLY_MAX) {
		enum proto_status st = proto_parser_next(io->parser, request_attr, &io->req);
		const char *why;
		bool held = false;

		if (st == PROTO_NEED_MORE)
			return 0;
		if (st == PROTO_ERROR) {
			(void)proto_parser_error(io->parser, &why);
			log_warning("%s: bad policy request: %s; closing connection", c->peer, why);
			return -1;
		}
		size_t n = srv->cb.answer(srv->cb.ctx, &io->req, io->out + io->out_len,
					  OUT_MAX - io->out_len, &why, &held);

		if (n == 0) {
			request_reset(&io->req);
			log_warning("%s: bad policy request: %s; closing connection", c->peer,
				    why ? why : "not answered");
			return -1;
		}
		if (held) {
			/* Its request stays in io->req for conn_release_held(). */
			io->held = true;
			io->held_off = io->out_len;
			c->held_next = srv->held;
			srv->held = c;
		} else {
			request_reset(&io->req);
		}
		io->out_len += n;
		c->requests++;
	}
	return 0;
}

void conn_release_held(struct server *srv, bool lost)
{
	struct conn *c = srv->held;

	srv->held = NULL;
	while (c != NULL) {
		struct conn *next = c->held_next;
		struct conn_io *io = c->io;
		int rc = 0;

		c->held_next = NULL;
		if (c->dead || io == NULL || !io->held) {
			c = next;
			continue;
		}
		if (lost) {
			size_t n = srv->cb.uncounted(srv->cb.ctx, &io->req, io->out + io->held_off,
						     OUT_MAX - io->held_off);

			if (n == 0)
				rc = -1;	/* cannot happen: a reply always fits */
			io->out_len = io->held_off + n;
		}
		request_reset(&io->req);
		io->held = false;
		/* The reply, the requests that came behind it, and the
		   connection's state after them, as when it can be written
		   to (the stop path included). */
		if (rc < 0 || conn_writable(srv, c) < 0)
			conn_close(srv, c);
		c = next;
	}
}

/* conn_readable - read and answer; -1 when the connection must close */
int conn_readable(struct server *srv, struct conn *c)
{
	if (c->io == NULL && (c->io = io_get(srv)) == NULL) {
		log_error("%s: out of memory; closing connection", c->peer);
		return -1;
	}
	struct conn_io *io = c->io;

	c->drained = false;
	for (int i = 0; i < READS_PER_EVENT && !c->eof; i++) {
		if (OUT_MAX - io->out_len < PROTO_REPLY_MAX || io->held)
			break;
		size_t room;
		char *space = proto_parser_space(io->parser, &room);
		ssize_t n = read(c->rw.fd, space, room);

		if (n > 0) {
			unsigned long before = c->requests;

			proto_parser_filled(io->parser, (size_t)n);
			if (conn_process(srv, c) < 0)
				return -1;
			/* Progress is a whole request, not a byte: a client
			   that trickles one in (slowloris) is still closed
			   idle_timeout after its last complete exchange. */
			if (c->requests != before || !proto_parser_in_request(io->parser))
				conn_progress(srv, c);
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

/* conn_stop_step - while stopping: answer what the peer sent before the stop,
   write it, then close. Returns -1 to close now, 0 while replies wait. */
int conn_stop_step(struct server *srv, struct conn *c)
{
	/* Requests already in the socket were sent before SIGTERM: they
	   are in flight and get their replies. Bounded: the loop stops at
	   the first EAGAIN, and a full reply buffer waits for EPOLLOUT. */
	for (int i = 0; i < 1000 && !c->eof && !c->drained; i++) {
		if (c->io != NULL && (OUT_MAX - c->io->out_len < PROTO_REPLY_MAX || c->io->held))
			break;
		if (conn_readable(srv, c) < 0)
			return -1;
	}
	if (c->io != NULL && c->io->out_len > 0)
		return conn_interest(srv, c) < 0 ? -1 : 0;
	return -1;
}

/* conn_writable - continue writing; then answer what waited for room */
int conn_writable(struct server *srv, struct conn *c)
{
	if (conn_flush(srv, c) < 0)
		return -1;
	if (conn_process(srv, c) < 0 || conn_flush(srv, c) < 0)
		return -1;
	if (srv->stopping)
		return conn_stop_step(srv, c);
	bool drained = c->io == NULL || c->io->out_len == 0;

	if (drained && c->eof)
		return -1;
	conn_detach_idle(srv, c);
	return conn_interest(srv, c) < 0 ? -1 : 0;
}

/* conn_create - state for one new connection; on failure the descriptors are closed */
struct conn *conn_create(struct server *srv, int rfd, int wfd, const char *peer)
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
	c->last_ms = conn_now_ms();
	list_append(srv, c);
	srv->nconns++;
	metrics_connections_add(1);
	if (conn_interest(srv, c) < 0) {
		log_error("%s: epoll_ctl: %s", peer, strerror(errno));
		conn_close(srv, c);	/* closes the descriptors too */
		return NULL;
	}
	return c;
}

/* conn_pool_clear - free every pooled block */
void conn_pool_clear(struct server *srv)
{
	while (srv->pool != NULL) {
		struct conn_io *io = srv->pool;

		srv->pool = io->next_free;
		io_free(io);
	}
	srv->npool = 0;
}

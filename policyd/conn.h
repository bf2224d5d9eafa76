/*
 * NAME
 *	conn 3h
 * SUMMARY
 *	policyd event loop internals: one connection's state machine
 * SYNOPSIS
 *	#include "conn.h"
 * DESCRIPTION
 *	Private to server.c and conn.c (the event loop and the connections
 *	it serves); nothing else includes this header. server.c owns the
 *	loop (epoll, accept, timeouts, signals); conn.c owns what happens
 *	on one connection (reading into the parser, answering, writing,
 *	back-pressure, the conn_io pool, closing).
 */
#ifndef AUTHRELAY_POLICYD_CONN_H
#define AUTHRELAY_POLICYD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "request.h"
#include "server.h"

#define MAX_LISTENERS 8
#define READS_PER_EVENT 4	/* then let other connections run */
#define OUT_MAX (2 * PROTO_REPLY_MAX)
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
	/* A reply held to the end of the event batch (a message counted
	   in its transaction): the last one in out, from held_off; req is
	   its request until then, and no other request is processed. */
	bool held;
	size_t held_off;
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
	struct conn *held_next;		/* in srv->held while its reply is held */
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
	struct conn *held;		/* holding a reply, by held_next */
	struct conn_io *pool;		/* free conn_io blocks */
	unsigned npool;
	unsigned generation;		/* bumped when the limits change */
	unsigned nconns;
	bool stopping;
	long long refused_log_ms;	/* rate limit for refusal logging */
	unsigned long refused;
};

/* Monotonic milliseconds. */
long long conn_now_ms(void);

/* Registers, changes or removes epoll interest (0: removed) for w.
   Returns 0, or -1 with errno. */
int conn_watch_set(struct server *srv, struct watch *w, uint32_t events);

/* A connection for rfd/wfd, appended to the list with read interest.
   NULL on failure, with both descriptors closed and a log line. */
struct conn *conn_create(struct server *srv, int rfd, int wfd, const char *peer);

/* Unregisters and closes the descriptors, frees the I/O block; the
   struct itself is freed by conn_free_dead() after the event batch. */
void conn_close(struct server *srv, struct conn *c);
void conn_free_dead(struct server *srv);

/* At the end of the event batch, after batch_end(): the held replies
   written (replaced by uncounted()'s when lost), and what their
   connections sent meanwhile answered. Before conn_free_dead(). */
void conn_release_held(struct server *srv, bool lost);

/* Event handlers; -1 means the caller must conn_close(). */
int conn_readable(struct server *srv, struct conn *c);
int conn_writable(struct server *srv, struct conn *c);

/* Answers complete requests already buffered / writes pending replies;
   -1 when the connection is dead. */
int conn_process(struct server *srv, struct conn *c);
int conn_flush(struct server *srv, struct conn *c);

/* While stopping: answers what the peer sent before the stop and keeps
   the connection until its replies are written; -1 to close now. */
int conn_stop_step(struct server *srv, struct conn *c);

/* Frees every pooled conn_io block (limits changed, or shutdown). */
void conn_pool_clear(struct server *srv);

#endif

/*
 * NAME
 *	server 3h
 * SUMMARY
 *	the policyd event loop: many policy connections, one thread
 * SYNOPSIS
 *	#include "server.h"
 * DESCRIPTION
 *	One epoll loop serves every connection with non-blocking sockets.
 *	A connection's state (parser buffer, request fields, reply buffer)
 *	is allocated once when it is accepted and freed when it closes, so
 *	memory is bounded by max_connections. A client that stalls (half a
 *	request, or replies it does not read) only holds its own
 *	connection: reading from it stops while its replies wait, and the
 *	idle timeout closes it.
 *
 *	Signals: SIGTERM/SIGINT and SIGHUP are blocked outside epoll_pwait(),
 *	so a signal is never lost between the flag check and the wait.
 */
#ifndef AUTHRELAY_POLICYD_SERVER_H
#define AUTHRELAY_POLICYD_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"
#include "request.h"

/* What the loop needs from the configuration; replaced on SIGHUP. */
struct server_settings {
	struct proto_limits limits;	/* for connections accepted from now on */
	long long idle_timeout;		/* seconds without progress before a close */
	unsigned max_connections;	/* more are accepted and closed at once */
};

/* What the program behind the loop does. */
struct server_callbacks {
	void *ctx;
	/* Answers one complete request (request_answer() semantics): the
	   reply length, or 0 with *error_r to log and close. *held_r: the
	   reply holds only when batch_end() returns 0; it is written after
	   it, and replaced by uncounted()'s when batch_end() returns -1. */
	size_t (*answer)(void *ctx, const struct policy_request *req, char *reply, size_t size,
			 const char **error_r, bool *held_r);
	/* The reply to a held request whose batch lost its count
	   (request_uncounted() semantics). */
	size_t (*uncounted)(void *ctx, const struct policy_request *req, char *reply,
			    size_t size);
	/* Re-reads the configuration after SIGHUP. Returns 0 with new
	   settings, or -1 (it logged why) to keep the old ones. */
	int (*reload)(void *ctx, struct server_settings *settings_r);
	/* Called about once a second (database retries). May be NULL. */
	void (*tick)(void *ctx);
	/* Called around the handling of one epoll_wait() batch of events
	   (policyd: one database read snapshot per batch). May be NULL.
	   batch_end() returns -1 when the counts of the held replies were
	   lost (store_read_end()). */
	void (*batch_begin)(void *ctx);
	int (*batch_end)(void *ctx);
};

struct server;

/* Creates the loop. Returns 0, or -1 with *error_r (malloc'd). */
int server_create(const struct server_settings *settings, const struct server_callbacks *cb,
		  struct server **server_r, char **error_r);

/* Serves connections accepted on a listening socket (made non-blocking
   here). Returns 0, or -1 with *error_r. */
int server_add_listener(struct server *server, int fd, char **error_r);

/* Serves one already connected peer: reads rfd, writes wfd (the same
   descriptor for a socket; stdin and stdout in spawn mode). peer names
   it in log lines. Returns 0, or -1 with *error_r. */
int server_add_connection(struct server *server, int rfd, int wfd, const char *peer,
			  char **error_r);

/* Runs until SIGTERM/SIGINT (then replies already due are written,
   for up to 5 seconds, and every connection is closed), or, when
   until_no_connections, until the last connection closes (spawn
   mode). Returns 0, or -1 when epoll itself fails. */
int server_run(struct server *server, bool until_no_connections);

/* Connections open now (tests, logging). */
unsigned server_connection_count(const struct server *server);

/* Closes every connection and listener; sets *server to NULL. */
void server_free(struct server **server);

#endif

/*
 * NAME
 *	listen 3h
 * SUMMARY
 *	inet:HOST:PORT and unix:PATH endpoints
 * DESCRIPTION
 *	Postfix notation: "inet:127.0.0.1:10040", "inet:[::1]:10040",
 *	"inet:localhost:10040" (resolved with getaddrinfo, numeric service),
 *	"unix:/run/authrelay/policyd.sock". A bare "HOST:PORT" is inet.
 */
#ifndef AUTHRELAY_LISTEN_H
#define AUTHRELAY_LISTEN_H

#include <stdbool.h>
#include <sys/types.h>

enum listen_kind { LISTEN_INET, LISTEN_UNIX };

struct listen_endpoint {
	enum listen_kind kind;
	char host[256];		/* inet: without brackets; "" = all addresses */
	char port[16];		/* inet */
	char path[108];		/* unix */
};

/* Parses spec. Returns 0, or -1 with *error_r (malloc'd) saying what form
   is expected. */
int listen_parse(const char *spec, struct listen_endpoint *ep_r, char **error_r);

/* Creates, binds and listens (backlog 1024, SO_REUSEADDR, close-on-exec,
   non-blocking when nonblock). For unix: removes a stale socket file
   (only a socket, never another file), then chowns it to uid/gid (-1:
   leave) and chmods to mode. Returns 0 with *fd_r, or -1 with *error_r
   naming the endpoint and the errno text. */
int listen_open(const struct listen_endpoint *ep, bool nonblock, uid_t uid, gid_t gid,
		unsigned mode, int *fd_r, char **error_r);

/* Returns true when fd, a bound socket, can be reached only from this
   host: a unix: socket, or an inet: socket bound to 127.0.0.0/8, ::1 or
   an IPv4-mapped 127.0.0.0/8. A wildcard address, any other address or
   a getsockname() failure is false. */
bool listen_is_local(int fd);

/* Prints the endpoint back in Postfix notation. */
const char *listen_format(const struct listen_endpoint *ep, char *buf, unsigned size);

#endif

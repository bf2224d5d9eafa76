/*
 * NAME
 *	listen 3
 * SUMMARY
 *	inet:HOST:PORT and unix:PATH endpoints
 * SYNOPSIS
 *	#include "listen.h"
 * DESCRIPTION
 *	listen_parse() reads Postfix notation: "inet:HOST:PORT",
 *	"inet:[IPv6]:PORT", a bare "HOST:PORT", "unix:PATH" (also
 *	"local:PATH", the libmilter synonym). HOST "" or "*" means every
 *	address; PORT is numeric, 0 asks the kernel for a free one (tests).
 *	A unix PATH must be absolute (the daemons chdir("/") when they
 *	detach) and fit in sun_path.
 *
 *	listen_open() binds the first address the host resolves to. The
 *	wildcard host is bound as "::" with IPV6_V6ONLY off (one socket for
 *	both families), or 0.0.0.0 where IPv6 is missing. A unix socket is
 *	created under umask 0177 so that it is never more open than asked,
 *	even for an instant, then given its owner and mode. An existing
 *	socket file is removed only when nobody answers on it; a live one or
 *	any other kind of file is refused.
 * DIAGNOSTICS
 *	Errors name the endpoint and, for system calls, the errno text.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "error_r.h"
#include "listen.h"

#define LISTEN_BACKLOG 1024

/* listen_parse_port - 0..65535, digits only */
static int listen_parse_port(const char *text, char *port_r, size_t size)
{
	size_t i, n = strlen(text);
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(text[i] - '0');
	}
	if (v > 65535)
		return -1;
	snprintf(port_r, size, "%lu", v);
	return 0;
}

/* listen_parse_inet - "HOST:PORT" or "[V6]:PORT" */
static int listen_parse_inet(const char *spec, const char *text, struct listen_endpoint *ep,
			     char **error_r)
{
	const char *colon, *host = text, *port;
	size_t host_len, i;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return error_r_set(error_r, "\"%s\": expected inet:[IPv6]:PORT", spec);
		host = text + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
		if (host_len == 0 || memchr(host, ':', host_len) == NULL)
			return error_r_set(error_r, "\"%s\": only IPv6 addresses go in brackets",
					   spec);
	} else {
		if ((colon = strrchr(text, ':')) == NULL) {
			if (strchr(text, '@') != NULL)
				return error_r_set(error_r,
						   "\"%s\": this is libmilter's PORT@HOST form; "
						   "write inet:HOST:PORT",
						   spec);
			return error_r_set(error_r,
					   "\"%s\": expected inet:HOST:PORT, "
					   "inet:[IPv6]:PORT or unix:PATH",
					   spec);
		}
		host_len = (size_t)(colon - text);
		port = colon + 1;
		if (memchr(text, ':', host_len) != NULL)
			return error_r_set(error_r,
					   "\"%s\": an IPv6 address needs brackets: "
					   "inet:[ADDRESS]:PORT",
					   spec);
		if (host_len == 1 && host[0] == '*')
			host_len = 0;
	}
	if (host_len >= sizeof ep->host)
		return error_r_set(error_r, "\"%.64s...\": host name longer than %zu bytes", spec,
				   sizeof ep->host - 1);
	for (i = 0; i < host_len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c <= ' ' || c == 0x7f || c == '[' || c == ']' || c == '/' || c == '@')
			return error_r_set(error_r, "\"%s\": bad character in the host name", spec);
	}
	if (listen_parse_port(port, ep->port, sizeof ep->port) < 0)
		return error_r_set(error_r, "\"%s\": the port must be a number from 0 to 65535",
				   spec);
	memcpy(ep->host, host, host_len);
	ep->host[host_len] = 0;
	ep->kind = LISTEN_INET;
	return 0;
}

/* listen_parse - Postfix notation into an endpoint */
int listen_parse(const char *spec, struct listen_endpoint *ep_r, char **error_r)
{
	struct sockaddr_un sun;
	const char *path;

	if (error_r != NULL)
		*error_r = NULL;
	memset(ep_r, 0, sizeof *ep_r);
	if (spec == NULL || spec[0] == 0)
		return error_r_set(error_r, "empty endpoint; expected inet:HOST:PORT or unix:PATH");
	if (strnlen(spec, 1024) >= 1024)
		return error_r_set(error_r, "endpoint longer than 1023 bytes");
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		path = strchr(spec, ':') + 1;
		if (path[0] != '/')
			return error_r_set(error_r,
					   "\"%s\": the socket path must be absolute "
					   "(unix:/run/authrelay/NAME.sock)",
					   spec);
		if (strlen(path) >= sizeof sun.sun_path || strlen(path) >= sizeof ep_r->path)
			return error_r_set(error_r, "\"%s\": socket path longer than %zu bytes",
					   spec, sizeof sun.sun_path - 1);
		for (const char *p = path; *p; p++)
			if ((unsigned char)*p < ' ' || *p == 0x7f)
				return error_r_set(error_r, "\"%s\": control character in the path",
						   spec);
		ep_r->kind = LISTEN_UNIX;
		strcpy(ep_r->path, path);
		return 0;
	}
	if (strncmp(spec, "inet:", 5) == 0)
		return listen_parse_inet(spec, spec + 5, ep_r, error_r);
	if (strncmp(spec, "inet6:", 6) == 0 || strncmp(spec, "inet4:", 6) == 0)
		return error_r_set(error_r,
				   "\"%s\": write inet:HOST:PORT (an IPv6 host in brackets)", spec);
	return listen_parse_inet(spec, spec, ep_r, error_r);
}

/* listen_format - the endpoint in Postfix notation */
const char *listen_format(const struct listen_endpoint *ep, char *buf, unsigned size)
{
	if (ep->kind == LISTEN_UNIX)
		snprintf(buf, size, "unix:%s", ep->path);
	else if (ep->host[0] == 0)
		snprintf(buf, size, "inet:*:%s", ep->port);
	else if (strchr(ep->host, ':') != NULL)
		snprintf(buf, size, "inet:[%s]:%s", ep->host, ep->port);
	else
		snprintf(buf, size, "inet:%s:%s", ep->host, ep->port);
	return buf;
}

/* open_inet - socket, options, bind, listen on the first usable address */
static int open_inet(const struct listen_endpoint *ep, int flags, int *fd_r, char **error_r)
{
	struct addrinfo hints, *res, *ai;
	char name[300];
	int rc, fd = -1, saved = 0, on = 1, off = 0;

	listen_format(ep, name, sizeof name);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (ep->host[0] == 0)
		hints.ai_family = AF_INET6;	/* "::" dual-stack, fallback below */
	rc = getaddrinfo(ep->host[0] ? ep->host : NULL, ep->port, &hints, &res);
	if (rc != 0 && ep->host[0] == 0) {
		hints.ai_family = AF_INET;
		rc = getaddrinfo(NULL, ep->port, &hints, &res);
	}
	if (rc != 0)
		return error_r_set(error_r, "%s: cannot resolve: %s", name, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | flags, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			/* The wildcard on a host without IPv6: 0.0.0.0 instead. */
			if (ep->host[0] == 0 && ai->ai_family == AF_INET6
			    && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
				struct listen_endpoint v4 = *ep;

				freeaddrinfo(res);
				strcpy(v4.host, "0.0.0.0");
				return open_inet(&v4, flags, fd_r, error_r);
			}
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0
		    || (ai->ai_family == AF_INET6
			&& setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, ep->host[0] ? &on : &off,
				      sizeof on) < 0)
		    || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
			continue;
		}
		break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return error_r_set(error_r, "%s: %s", name,
				   strerror(saved ? saved : EADDRNOTAVAIL));
	*fd_r = fd;
	return 0;
}

/* socket_is_live - someone accepts connections on the unix socket */
static int socket_is_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return 1;		/* cannot tell: do not remove it */
	rc = connect(fd, (const struct sockaddr *)sun, sizeof *sun);
	close(fd);
	return rc == 0 || (errno != ECONNREFUSED && errno != ENOENT);
}

/* open_unix - a stream socket at ep->path with owner and mode applied */
static int open_unix(const struct listen_endpoint *ep, int flags, uid_t uid, gid_t gid,
		     unsigned mode, int *fd_r, char **error_r)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_mask;
	int fd, rc;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(ep->path) >= sizeof sun.sun_path || ep->path[0] == 0)
		return error_r_set(error_r, "unix:%s: bad socket path", ep->path);
	strcpy(sun.sun_path, ep->path);

	if (lstat(ep->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return error_r_set(error_r,
					   "unix:%s: exists and is not a socket; "
					   "refusing to remove it",
					   ep->path);
		if (socket_is_live(&sun))
			return error_r_set(error_r, "unix:%s: another process is listening there",
					   ep->path);
		if (unlink(ep->path) < 0 && errno != ENOENT)
			return error_r_set(error_r, "unix:%s: cannot remove the stale socket: %s",
					   ep->path, strerror(errno));
	} else if (errno != ENOENT) {
		return error_r_set(error_r, "unix:%s: %s", ep->path, strerror(errno));
	}

	if ((fd = socket(AF_UNIX, SOCK_STREAM | flags, 0)) < 0)
		return error_r_set(error_r, "unix:%s: socket: %s", ep->path, strerror(errno));
	old_mask = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old_mask);
	if (rc < 0) {
		rc = errno;
		close(fd);
		return error_r_set(error_r, "unix:%s: bind: %s", ep->path, strerror(rc));
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(ep->path, uid, gid) < 0) {
		rc = errno;
		goto undo;
	}
	if (chmod(ep->path, (mode_t)(mode & 07777)) < 0) {
		rc = errno;
		goto undo;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		rc = errno;
		goto undo;
	}
	*fd_r = fd;
	return 0;

undo:
	close(fd);
	unlink(ep->path);
	return error_r_set(error_r, "unix:%s: %s", ep->path, strerror(rc));
}

/* listen_open - a listening socket for the endpoint */
int listen_open(const struct listen_endpoint *ep, bool nonblock, uid_t uid, gid_t gid,
		unsigned mode, int *fd_r, char **error_r)
{
	int flags = SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);

	if (error_r != NULL)
		*error_r = NULL;
	*fd_r = -1;
	if (ep->kind == LISTEN_UNIX)
		return open_unix(ep, flags, uid, gid, mode, fd_r, error_r);
	return open_inet(ep, flags, fd_r, error_r);
}

/* listen_is_local - see listen.h */
bool listen_is_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return false;
	if (ss.ss_family == AF_UNIX)
		return true;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/*
 * NAME
 *	nodelay 3
 * SUMMARY
 *	TCP_NODELAY on the sockets libmilter accepts
 * DESCRIPTION
 *	See nodelay.h for why and why it is safe.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nodelay.h"

/* glibc declares accept() with __SOCKADDR_ARG (a transparent union under
   _GNU_SOURCE); the definition must match that declaration exactly. */
typedef int accept_fn(int, __SOCKADDR_ARG, socklen_t *__restrict);

static accept_fn *next_accept;
static pthread_once_t next_accept_once = PTHREAD_ONCE_INIT;
static atomic_bool tuning_off;
static atomic_ulong tuned_count;

/* nodelay_resolve - find the accept() we stand in front of */
static void nodelay_resolve(void)
{
	void *sym = dlsym(RTLD_NEXT, "accept");

	/* Converting a data pointer to a function pointer is what dlsym()
	   requires (POSIX); memcpy keeps -Wpedantic quiet about it. */
	memcpy(&next_accept, &sym, sizeof next_accept);
}

/* nodelay_init - read the switch */
void nodelay_init(void)
{
	const char *v = getenv("AUTHRELAY_MILTER_NODELAY");

	atomic_store(&tuning_off, v != NULL && strcmp(v, "0") == 0);
	pthread_once(&next_accept_once, nodelay_resolve);
}

bool nodelay_enabled(void)
{
	return !atomic_load(&tuning_off);
}

unsigned long nodelay_tuned_count(void)
{
	return atomic_load(&tuned_count);
}

/* nodelay_tune - set the options on a TCP socket, ignore the rest */
static void nodelay_tune(int fd)
{
	int protocol = 0, one = 1;
	socklen_t len = sizeof protocol;

	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0 ||
	    protocol != IPPROTO_TCP)
		return;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
		atomic_fetch_add(&tuned_count, 1);
	/* Not sticky in Linux (the kernel may go back to delayed ACKs), but
	   it acknowledges the first commands at once. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

/* accept - libc's accept(), plus TCP_NODELAY on TCP sockets */
int accept(int fd, __SOCKADDR_ARG addr, socklen_t *__restrict addrlen)
{
	int conn, saved_errno;

	pthread_once(&next_accept_once, nodelay_resolve);
	if (next_accept == NULL) {
		/* Cannot happen with glibc; never guess a replacement. */
		errno = ENOSYS;
		return -1;
	}
	conn = next_accept(fd, addr, addrlen);
	if (conn < 0 || atomic_load(&tuning_off))
		return conn;
	saved_errno = errno;
	nodelay_tune(conn);
	errno = saved_errno;
	return conn;
}

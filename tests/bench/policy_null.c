/*
 * NAME
 *	policy_null 1
 * SUMMARY
 *	do-nothing policy responder: the benchmark's baseline
 * SYNOPSIS
 *	policy_null PORT [ACTION]
 * DESCRIPTION
 *	Listens on 127.0.0.1:PORT, and answers "action=DUNNO" (or
 *	"action=ACTION", e.g. OK to let Postfix relay) to every
 *	request without looking at it beyond the empty line that ends it:
 *	one epoll loop, non-blocking sockets, the same I/O shape as policyd
 *	(one read, one write per request). Whatever policyd spends above
 *	this is parsing, deciding, the database and logging.
 *
 *	Built by tests/bench/policyd.sh and postfix-policyd.sh with cc -O2;
 *	not part of the product.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct nconn {
	int fd;
	char last;	/* last byte of the previous read */
};

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int one = 1, lfd, ep;
	static char buf[65536], out[65536], reply[64];
	size_t reply_len;
	struct epoll_event ev, evs[256];

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s PORT [ACTION]\n", argv[0]);
		return 2;
	}
	snprintf(reply, sizeof(reply), "action=%.40s\n\n", argc == 3 ? argv[2] : "DUNNO");
	reply_len = strlen(reply);
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 1024) < 0) {
		perror("bind/listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			struct nconn *c = evs[i].data.ptr;

			if (c == NULL) {
				int fd;

				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					c = calloc(1, sizeof(*c));
					c->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			ssize_t r = read(c->fd, buf, sizeof(buf));

			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				close(c->fd);
				free(c);
				continue;
			}
			size_t replies = 0, o = 0;

			/* Count the empty lines that end requests, also across reads. */
			for (ssize_t k = 0; k < r; k++) {
				char prev = k > 0 ? buf[k - 1] : c->last;

				if (buf[k] == '\n' && prev == '\n')
					replies++;
			}
			c->last = buf[r - 1];
			for (size_t k = 0; k < replies && o + reply_len < sizeof(out); k++) {
				memcpy(out + o, reply, reply_len);
				o += reply_len;
			}
			if (o > 0 && write(c->fd, out, o) < 0) {
				close(c->fd);
				free(c);
			}
		}
	}
}

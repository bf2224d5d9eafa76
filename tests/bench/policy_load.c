/*
 * NAME
 *	policy_load 1
 * SUMMARY
 *	closed-loop load generator for the Postfix policy protocol
 * SYNOPSIS
 *	policy_load run HOST PORT CONNECTIONS SECONDS REQUEST_FILE
 *	policy_load hold HOST PORT CONNECTIONS SECONDS REQUEST_FILE
 * DESCRIPTION
 *	run: CONNECTIONS persistent connections, each sending one request
 *	and waiting for its reply before the next (as smtpd does), for
 *	SECONDS after a one-second warm-up. Requests are taken in turn from
 *	REQUEST_FILE (requests separated by their empty line). Prints one
 *	line: "requests=N seconds=S rps=R p50_ms=A p99_ms=B max_ms=C errors=E
 *	answered=T rcpt_answered=U": T counts every reply, warm-up included,
 *	and U those to protocol_state=RCPT requests (policyd writes a
 *	decision row for each of those: the caller checks none was lost).
 *
 *	hold: opens CONNECTIONS connections, sends one request on each,
 *	reads the replies, prints "holding N", then keeps them open and idle
 *	for SECONDS (the caller measures the server's memory meanwhile).
 *
 *	Built by tests/bench/policyd.sh with cc -O2; not part of the product.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUESTS 64
#define HIST_US 100000		/* 1 us buckets up to 100 ms */

struct lconn {
	int fd;
	unsigned next_req;
	size_t sent;		/* bytes of the current request written */
	char in[512];
	size_t in_len;
	long long start_ns;
};

static char *requests[MAX_REQUESTS];
static size_t request_len[MAX_REQUESTS];
static unsigned nrequests;
static int request_is_rcpt[MAX_REQUESTS];
static unsigned long long answered_total, rcpt_total;
static unsigned long long hist[HIST_US + 1];

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* load_requests - split the file at empty lines */
static void load_requests(const char *path)
{
	FILE *f = fopen(path, "r");
	static char all[1 << 20];
	size_t n;

	if (f == NULL)
		die(path);
	n = fread(all, 1, sizeof(all) - 1, f);
	fclose(f);
	all[n] = '\0';
	for (char *s = all; *s && nrequests < MAX_REQUESTS;) {
		char *end = strstr(s, "\n\n");

		if (end == NULL)
			break;
		requests[nrequests] = s;
		request_len[nrequests] = (size_t)(end - s) + 2;
		request_is_rcpt[nrequests] = strncmp(s, "protocol_state=RCPT\n", 20) == 0
					     || memmem(s, (size_t)(end - s) + 1, "\nprotocol_state=RCPT\n",
						       21) != NULL;
		nrequests++;
		s = end + 2;
	}
	if (nrequests == 0) {
		fprintf(stderr, "%s: no request\n", path);
		exit(1);
	}
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int fd, one = 1;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		die("getaddrinfo");
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("connect");
	freeaddrinfo(ai);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Non-blocking: a reply is read only when epoll says it is there. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* send_request - write the connection's next request (blocking is fine: small) */
static void send_request(struct lconn *c)
{
	const char *r = requests[c->next_req % nrequests];
	size_t len = request_len[c->next_req % nrequests];

	c->start_ns = now_ns();
	while (c->sent < len) {
		ssize_t n = write(c->fd, r + c->sent, len - c->sent);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;	/* a 600-byte request: the socket buffer frees at once */
		if (n < 0)
			die("write");
		c->sent += (size_t)n;
	}
	c->sent = 0;
	c->next_req++;
}

/* read_reply - true when a whole reply arrived */
static int read_reply(struct lconn *c, int *error)
{
	ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		fprintf(stderr, "connection closed by the server\n");
		exit(1);
	}
	c->in_len += (size_t)n;
	c->in[c->in_len] = '\0';
	char *end = strstr(c->in, "\n\n");

	if (end == NULL)
		return 0;
	*error = strncmp(c->in, "action=", 7) != 0;
	size_t used = (size_t)(end - c->in) + 2;

	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	return 1;
}

static double percentile(unsigned long long total, double p)
{
	unsigned long long want = (unsigned long long)(total * p), seen = 0;

	for (int i = 0; i <= HIST_US; i++) {
		seen += hist[i];
		if (seen > want)
			return i / 1000.0;
	}
	return HIST_US / 1000.0;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: %s run|hold HOST PORT CONNECTIONS SECONDS REQUEST_FILE\n",
			argv[0]);
		return 2;
	}
	int nconn = atoi(argv[4]);
	double seconds = atof(argv[5]);
	int hold = strcmp(argv[1], "hold") == 0;
	struct lconn *conns = calloc((size_t)nconn, sizeof(*conns));
	int ep = epoll_create1(0);

	load_requests(argv[6]);
	for (int i = 0; i < nconn; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};

		conns[i].fd = connect_to(argv[2], argv[3]);
		conns[i].next_req = (unsigned)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0)
			die("epoll_ctl");
	}
	for (int i = 0; i < nconn; i++)
		send_request(&conns[i]);

	long long t0 = now_ns(), warm_end = t0 + (hold ? 0 : 1000000000LL);
	long long end = warm_end + (long long)(seconds * 1e9);
	unsigned long long count = 0, errors = 0;
	long long max_ns = 0;
	int answered = 0;
	struct epoll_event evs[256];

	for (;;) {
		long long now = now_ns();

		if (!hold && now >= end)
			break;
		if (hold && answered == nconn)
			break;
		int n = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			struct lconn *c = evs[i].data.ptr;
			int err = 0;

			while (read_reply(c, &err)) {
				long long t = now_ns();
				long long lat = t - c->start_ns;

				answered_total++;
				rcpt_total += (unsigned)request_is_rcpt[(c->next_req - 1) % nrequests];
				if (hold) {
					answered++;
					break;
				}
				if (t >= warm_end && c->start_ns >= warm_end) {
					long long us = lat / 1000;

					hist[us > HIST_US ? HIST_US : us]++;
					count++;
					errors += (unsigned)err;
					if (lat > max_ns)
						max_ns = lat;
				}
				send_request(c);
			}
		}
	}
	if (hold) {
		printf("holding %d rcpt_answered=%llu\n", nconn, rcpt_total);
		fflush(stdout);
		struct timespec ts = {(time_t)seconds, 0};

		nanosleep(&ts, NULL);
		return 0;
	}
	printf("requests=%llu seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%llu "
	       "answered=%llu rcpt_answered=%llu\n",
	       count, seconds, count / seconds, percentile(count, 0.50), percentile(count, 0.99),
	       max_ns / 1e6, errors, answered_total, rcpt_total);
	return 0;
}

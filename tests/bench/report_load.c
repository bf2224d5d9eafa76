/*
 * NAME
 *	report_load 1
 * SUMMARY
 *	closed-loop load generator for Dovecot's auth-policy reports
 * SYNOPSIS
 *	report_load HOST PORT KEY CONNECTIONS REPORTS FIRST [RATE]
 * DESCRIPTION
 *	CONNECTIONS keep-alive HTTP/1.1 connections (as Dovecot's auth
 *	process keeps them), each in a thread of its own, together post
 *	REPORTS reports of successful POP3 logins, each for an address of
 *	its own (10.0.0.0/8 from number FIRST on) with a session id of its
 *	own; each connection waits for the answer before the next report.
 *	loginwatch answers only after the grant is committed, so the time
 *	from the request to the answer is the report-to-commit latency.
 *	With RATE (reports per second), report i is due at start + i/RATE
 *	(open loop, as logins arrive) and its latency counts from when it
 *	was due, so a report delayed behind a slow one is not forgotten.
 *	Prints one line: "reports=N seconds=S rps=R p50_ms=A p99_ms=B
 *	max_ms=C errors=E" (errors: answers other than 200, and broken
 *	connections). Built by tests/bench/auth-policy.sh; not part of the
 *	product.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host, *key;
static int port;
static unsigned long reports, first, conns;
static double rate, start_ms;	/* rate 0: closed loop */
static double *lat_ms;		/* one per report */
static unsigned long errors;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int connect_to(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	inet_pton(AF_INET, host, &sa.sin_addr);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		exit(2);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* read_answer - one HTTP answer; its status, or -1 */
static int read_answer(int fd)
{
	char buf[4096];
	size_t len = 0;
	char *end;
	long clen = 0;
	int status;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (len == sizeof(buf) - 1)
			return -1;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (char *p = buf; p < end; p = strstr(p, "\r\n") + 2)
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = strtol(p + 15, NULL, 10);
	for (size_t have = len - (size_t)(end + 4 - buf); have < (size_t)clen;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return status;
}

static void *worker(void *arg)
{
	unsigned long w = (unsigned long)arg;
	int fd = connect_to();
	char body[512], req[1024];

	for (unsigned long i = w; i < reports; i += conns) {
		unsigned long k = first + i;
		int blen = snprintf(body, sizeof(body),
				    "{\"login\":\"user%lu@example.org\",\"pwhash\":\"0a1b2c3d\","
				    "\"remote\":\"10.%lu.%lu.%lu\",\"device_id\":\"\",\"protocol\":\"pop3\","
				    "\"session_id\":\"bench%luAAAB\",\"success\":true,"
				    "\"policy_reject\":false,\"tls\":true}",
				    k % 1000, k / 65536 % 256, k / 256 % 256, k % 256, k);
		int rlen = snprintf(req, sizeof(req),
				    "POST /?command=report HTTP/1.1\r\nHost: %s:%d\r\n"
				    "Content-Type: application/json\r\nX-API-Key: %s\r\n"
				    "Content-Length: %d\r\n\r\n%s", host, port, key, blen, body);
		double t0 = now_ms();
		int status;

		if (rate > 0) {
			double due = start_ms + i * 1000.0 / rate;

			while (t0 < due) {
				struct timespec ts = { 0, (long)((due - t0) * 1e6) };

				nanosleep(&ts, NULL);
				t0 = now_ms();
			}
			t0 = due;
		}

		if (write(fd, req, (size_t)rlen) != rlen || (status = read_answer(fd)) < 0) {
			pthread_mutex_lock(&lock);
			errors++;
			pthread_mutex_unlock(&lock);
			close(fd);
			fd = connect_to();
			lat_ms[i] = -1;
			continue;
		}
		lat_ms[i] = now_ms() - t0;
		if (status != 200) {
			pthread_mutex_lock(&lock);
			errors++;
			pthread_mutex_unlock(&lock);
		}
	}
	close(fd);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	pthread_t *t;
	double t0, secs;
	unsigned long n = 0;

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: report_load HOST PORT KEY CONNECTIONS REPORTS FIRST [RATE]\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	key = argv[3];
	conns = strtoul(argv[4], NULL, 10);
	reports = strtoul(argv[5], NULL, 10);
	first = strtoul(argv[6], NULL, 10);
	rate = argc == 8 ? strtod(argv[7], NULL) : 0;
	lat_ms = calloc(reports, sizeof(double));
	t = calloc(conns, sizeof(pthread_t));
	t0 = now_ms();
	/* open loop: the first report is due once the connections are open */
	start_ms = rate > 0 ? t0 + 100 : t0;
	if (rate > 0)
		t0 = start_ms;
	for (unsigned long i = 0; i < conns; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (unsigned long i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	secs = (now_ms() - t0) / 1e3;	/* from the first report due */
	for (unsigned long i = 0; i < reports; i++)
		if (lat_ms[i] >= 0)
			lat_ms[n++] = lat_ms[i];
	qsort(lat_ms, n, sizeof(double), cmp);
	printf("reports=%lu seconds=%.3f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
	       "errors=%lu\n", reports, secs, reports / secs, n ? lat_ms[n / 2] : 0,
	       n ? lat_ms[(size_t)(n * 0.9)] : 0, n ? lat_ms[(size_t)(n * 0.99)] : 0,
	       n ? lat_ms[n - 1] : 0, errors);
	return 0;
}

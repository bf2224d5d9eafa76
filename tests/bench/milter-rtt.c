/*
 * NAME
 *	milter-rtt 1
 * SUMMARY
 *	what one SMTP session's milter conversation costs, without Postfix
 * SYNOPSIS
 *	milter-rtt unix:PATH|inet:PORT@127.0.0.1 SESSIONS MESSAGES
 * DESCRIPTION
 *	Speaks Postfix 3.7's side of the milter protocol to a filter, packet
 *	for packet as smtpd sends it for one message of tests/bench/milter.sh
 *	(negotiate, connect, HELO and MAIL macros, MAIL, RCPT, DATA, two
 *	aborts, quit; the filter must accept at DATA, as authrelay-milter
 *	does without a From: check), writes them when Postfix does (a command and the packets
 *	before it together, when a reply is due), and waits for a reply
 *	exactly where Postfix waits for one.
 *
 *	First SESSIONS sessions of one message each, a new connection per
 *	session (as the benchmark's SMTP sessions); then one connection that
 *	carries MESSAGES messages. Prints one line:
 *
 *	  session US message US replies N
 *
 *	session: microseconds per one-message session (connection setup,
 *	negotiation, the message, teardown); message: microseconds per
 *	message on the kept connection; replies: the replies waited for per
 *	message. Both are wall time of this process, which waits for the
 *	filter at every reply: the latency a milter adds to smtpd, less
 *	smtpd's own work to build and parse the packets.
 *
 *	Exit status 0, or 1 when the filter answered something other than
 *	continue or accept, or a socket failed.
 *	Built by the benchmark at run time (cc).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_storage target;
static socklen_t target_len;
static unsigned long peer_protocol;	/* SMFIP_* the filter negotiated */

/* rtt_die - report and stop */
static void rtt_die(const char *what)
{
	fprintf(stderr, "milter-rtt: %s: %s\n", what, errno ? strerror(errno) : "protocol error");
	exit(1);
}

/* rtt_target - parse unix:PATH or inet:PORT@HOST */
static void rtt_target(const char *spec)
{
	memset(&target, 0, sizeof target);
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&target;

		if (strlen(spec + 5) >= sizeof sun->sun_path)
			rtt_die("socket path too long");
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, spec + 5);
		target_len = sizeof *sun;
	} else if (strncmp(spec, "inet:", 5) == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&target;
		const char *at = strchr(spec, '@');

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(spec + 5));
		if (at == NULL || inet_pton(AF_INET, at + 1, &sin->sin_addr) != 1)
			rtt_die("want inet:PORT@ADDRESS");
		target_len = sizeof *sin;
	} else {
		rtt_die("want unix:PATH or inet:PORT@ADDRESS");
	}
}

/* Packets wait here until a reply is due, as in smtpd: Postfix writes
   a command and the macros before it in one stream transaction, and
   flushes the stream when it reads a reply or ends the session. */
static char out_buf[4096];
static size_t out_len;

/* rtt_flush - write what is buffered */
static void rtt_flush(int fd)
{
	if (out_len > 0 && write(fd, out_buf, out_len) != (ssize_t)out_len)
		rtt_die("write");
	out_len = 0;
}

/* rtt_send - one packet: length, command, data */
static void rtt_send(int fd, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);

	if (len + 5 > sizeof out_buf - out_len)
		rtt_flush(fd);
	if (len + 5 > sizeof out_buf)
		rtt_die("packet too long");
	memcpy(out_buf + out_len, &n, 4);
	out_buf[out_len + 4] = cmd;
	memcpy(out_buf + out_len + 5, data, len);
	out_len += len + 5;
}

/* rtt_read_all - exactly len bytes */
static void rtt_read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = read(fd, buf + got, len - got);
		if (r <= 0)
			rtt_die("read");
		got += (size_t)r;
	}
}

/* rtt_reply - one reply packet; returns its command, data into buf */
static char rtt_reply(int fd, char *buf, size_t size, size_t *len_r)
{
	char head[5];
	uint32_t n;

	rtt_flush(fd);
	rtt_read_all(fd, head, 5);
	memcpy(&n, head, 4);
	n = ntohl(n);
	if (n == 0 || n - 1 > size)
		rtt_die("reply too long");
	rtt_read_all(fd, buf, n - 1);
	if (len_r != NULL)
		*len_r = n - 1;
	return head[4];
}

/* rtt_expect - a reply that lets the message go on */
static char rtt_expect(int fd, unsigned *replies)
{
	char buf[512];
	size_t len;
	char c = rtt_reply(fd, buf, sizeof buf - 1, &len);

	(*replies)++;
	if (c != SMFIR_CONTINUE && c != SMFIR_ACCEPT) {
		errno = 0;
		buf[len] = '\0';
		fprintf(stderr, "milter-rtt: reply '%c' %s\n", c, buf);
		rtt_die("unexpected reply");
	}
	return c;
}

/* rtt_open - connect and negotiate as Postfix 3.7 does */
static int rtt_open(void)
{
	uint32_t opt[3] = { htonl(6), htonl(0x1ff), htonl(0x1fffff) };
	char buf[512];
	size_t len;
	uint32_t f1;
	int fd = socket(target.ss_family, SOCK_STREAM, 0);

	struct timeval tv = { 10, 0 };

	if (fd < 0 || connect(fd, (struct sockaddr *)&target, target_len) != 0)
		rtt_die("connect");
	/* a filter that does not answer fails the run, never hangs it */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
		rtt_die("setsockopt");
	rtt_send(fd, SMFIC_OPTNEG, opt, sizeof opt);
	if (rtt_reply(fd, buf, sizeof buf, &len) != SMFIC_OPTNEG || len < 12)
		rtt_die("negotiation");
	memcpy(&f1, buf + 8, 4);
	peer_protocol = ntohl(f1);
	return fd;
}

/* rtt_message - one message's packets; returns the replies waited for */
static unsigned rtt_message(int fd)
{
	static const char mail_macros[] = "M";
	static const char mail[] = "<bench@bench.test>";
	static const char rcpt_macros[] = "R{rcpt_mailer}\0smtp\0{rcpt_addr}\0someone@example.org";
	static const char rcpt[] = "<someone@example.org>";
	static const char data_macros[] = "Ti\0ABCDEF12345";
	unsigned replies = 0;

	rtt_send(fd, SMFIC_MACRO, mail_macros, 1);	/* no macro defined */
	rtt_send(fd, SMFIC_MAIL, mail, sizeof mail);
	if (!(peer_protocol & SMFIP_NR_MAIL))
		rtt_expect(fd, &replies);
	rtt_send(fd, SMFIC_MACRO, rcpt_macros, sizeof rcpt_macros);
	rtt_send(fd, SMFIC_RCPT, rcpt, sizeof rcpt);
	rtt_expect(fd, &replies);
	rtt_send(fd, SMFIC_MACRO, data_macros, sizeof data_macros);
	rtt_send(fd, SMFIC_DATA, "", 0);
	/* No From: check is due in the benchmark: the filter accepts here
	   and the end of the message is not sent (this tool does not
	   speak it). */
	if (rtt_expect(fd, &replies) != SMFIR_ACCEPT) {
		errno = 0;
		rtt_die("DATA answered without accept");
	}
	rtt_send(fd, SMFIC_ABORT, "", 0);
	return replies;
}

/* rtt_client - the client's connect and HELO, once per connection */
static unsigned rtt_client(int fd)
{
	static const char conn_macros[] = "C{client_addr}\0" "127.0.0.1";
	static const char conn[] = "[127.0.0.1]\0" "4\0\0" "127.0.0.1";
	static const char helo_macros[] = "H";
	unsigned replies = 0;

	rtt_send(fd, SMFIC_MACRO, conn_macros, sizeof conn_macros);
	rtt_send(fd, SMFIC_CONNECT, conn, sizeof conn);
	if (!(peer_protocol & SMFIP_NR_CONN))
		rtt_expect(fd, &replies);
	rtt_send(fd, SMFIC_MACRO, helo_macros, 1);	/* no macro defined */
	return replies;
}

/* rtt_session - a one-message session on a new connection */
static unsigned rtt_session(void)
{
	int fd = rtt_open();
	unsigned replies = 1;	/* the negotiation */

	replies += rtt_client(fd);
	replies += rtt_message(fd);
	rtt_send(fd, SMFIC_ABORT, "", 0);
	rtt_send(fd, SMFIC_QUIT, "", 0);
	rtt_flush(fd);
	close(fd);
	return replies;
}

/* rtt_now - microseconds */
static double rtt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	long sessions, messages, i;
	double t0, t_session, t_message;
	unsigned replies = 0;
	int fd;

	if (argc != 4 || (sessions = atol(argv[2])) < 1 || (messages = atol(argv[3])) < 1) {
		fprintf(stderr, "usage: milter-rtt unix:PATH|inet:PORT@ADDRESS SESSIONS MESSAGES\n");
		return 64;
	}
	rtt_target(argv[1]);
	t0 = rtt_now();
	for (i = 0; i < sessions; i++)
		rtt_session();
	t_session = (rtt_now() - t0) / (double)sessions;
	fd = rtt_open();
	rtt_client(fd);
	t0 = rtt_now();
	for (i = 0; i < messages; i++)
		replies = rtt_message(fd);
	t_message = (rtt_now() - t0) / (double)messages;
	rtt_send(fd, SMFIC_QUIT, "", 0);
	rtt_flush(fd);
	close(fd);
	printf("session %.1f message %.1f replies %u\n", t_session, t_message, replies);
	return 0;
}

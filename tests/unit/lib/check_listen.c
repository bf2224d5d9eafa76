/*
 * NAME
 *	check_listen 1
 * SUMMARY
 *	tests for lib/listen.c
 * DESCRIPTION
 *	A table of endpoint specs, then real sockets: 127.0.0.1 and ::1 on
 *	a kernel-chosen port, and unix sockets in a private temporary
 *	directory (mode, owner, stale socket, live socket, regular file).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "test_tmpdir.h"

/* kind -1: an error whose message contains want_host. */
static const struct {
	const char *label, *spec;
	int kind;
	const char *host, *port, *path, *format;
} parse_cases[] = {
	{ "inet v4", "inet:127.0.0.1:10040", LISTEN_INET, "127.0.0.1", "10040", "",
	  "inet:127.0.0.1:10040" },
	{ "inet v6", "inet:[::1]:10040", LISTEN_INET, "::1", "10040", "", "inet:[::1]:10040" },
	{ "inet name", "inet:localhost:25", LISTEN_INET, "localhost", "25", "",
	  "inet:localhost:25" },
	{ "bare host:port", "127.0.0.1:10030", LISTEN_INET, "127.0.0.1", "10030", "",
	  "inet:127.0.0.1:10030" },
	{ "bare v6", "[::1]:10030", LISTEN_INET, "::1", "10030", "", "inet:[::1]:10030" },
	{ "all addresses, star", "inet:*:10040", LISTEN_INET, "", "10040", "", "inet:*:10040" },
	{ "all addresses, empty", "inet::10040", LISTEN_INET, "", "10040", "", "inet:*:10040" },
	{ "port 0", "inet:127.0.0.1:0", LISTEN_INET, "127.0.0.1", "0", "", "inet:127.0.0.1:0" },
	{ "leading zeros", "inet:127.0.0.1:0025", LISTEN_INET, "127.0.0.1", "25", "",
	  "inet:127.0.0.1:25" },
	{ "port max", "inet:127.0.0.1:65535", LISTEN_INET, "127.0.0.1", "65535", "",
	  "inet:127.0.0.1:65535" },
	{ "unix", "unix:/run/authrelay/policyd.sock", LISTEN_UNIX, "", "",
	  "/run/authrelay/policyd.sock", "unix:/run/authrelay/policyd.sock" },
	{ "local synonym", "local:/run/m.sock", LISTEN_UNIX, "", "", "/run/m.sock",
	  "unix:/run/m.sock" },
	{ "empty", "", -1, "empty endpoint", NULL, NULL, NULL },
	{ "no port", "inet:127.0.0.1", -1, "expected inet:HOST:PORT", NULL, NULL, NULL },
	{ "empty port", "inet:127.0.0.1:", -1, "port must be", NULL, NULL, NULL },
	{ "port too big", "inet:127.0.0.1:65536", -1, "port must be", NULL, NULL, NULL },
	{ "named port", "inet:127.0.0.1:smtp", -1, "port must be", NULL, NULL, NULL },
	{ "negative port", "inet:127.0.0.1:-1", -1, "port must be", NULL, NULL, NULL },
	{ "v6 without brackets", "inet:::1:10040", -1, "needs brackets", NULL, NULL, NULL },
	{ "unclosed bracket", "inet:[::1:10040", -1, "[IPv6]", NULL, NULL, NULL },
	{ "v4 in brackets", "inet:[127.0.0.1]:10040", -1, "only IPv6", NULL, NULL, NULL },
	{ "libmilter form", "inet:10030@127.0.0.1", -1, "PORT@HOST", NULL, NULL, NULL },
	{ "space in host", "inet:local host:25", -1, "bad character", NULL, NULL, NULL },
	{ "relative unix path", "unix:policyd.sock", -1, "absolute", NULL, NULL, NULL },
	{ "empty unix path", "unix:", -1, "absolute", NULL, NULL, NULL },
	{ "inet6 prefix", "inet6:[::1]:25", -1, "write inet:", NULL, NULL, NULL },
	{ "garbage", "policyd", -1, "expected inet:HOST:PORT", NULL, NULL, NULL },
};

START_TEST(test_parse)
{
	struct listen_endpoint ep;
	char *error = NULL, buf[512];
	int rc = listen_parse(parse_cases[_i].spec, &ep, &error);

	if (parse_cases[_i].kind < 0) {
		ck_assert_msg(rc == -1, "%s: got 0, want -1", parse_cases[_i].label);
		ck_assert_msg(error && strstr(error, parse_cases[_i].host),
			      "%s: got message \"%s\", want one containing \"%s\"",
			      parse_cases[_i].label, error ? error : "(null)", parse_cases[_i].host);
		free(error);
		return;
	}
	ck_assert_msg(rc == 0, "%s: got -1 (%s), want 0", parse_cases[_i].label, error);
	ck_assert_msg((int)ep.kind == parse_cases[_i].kind && strcmp(ep.host, parse_cases[_i].host) == 0
			      && strcmp(ep.port, parse_cases[_i].port) == 0
			      && strcmp(ep.path, parse_cases[_i].path) == 0,
		      "%s: got kind %d host \"%s\" port \"%s\" path \"%s\", want %d \"%s\" \"%s\" "
		      "\"%s\"",
		      parse_cases[_i].label, ep.kind, ep.host, ep.port, ep.path,
		      parse_cases[_i].kind, parse_cases[_i].host, parse_cases[_i].port,
		      parse_cases[_i].path);
	listen_format(&ep, buf, sizeof buf);
	ck_assert_msg(strcmp(buf, parse_cases[_i].format) == 0, "%s: format got \"%s\", want \"%s\"",
		      parse_cases[_i].label, buf, parse_cases[_i].format);
}
END_TEST

/* Path length against sun_path: 107 bytes fit, 108 do not. */
START_TEST(test_parse_path_length)
{
	struct sockaddr_un sun;
	struct listen_endpoint ep;
	char spec[300], *error = NULL;
	size_t max = sizeof sun.sun_path - 1;

	strcpy(spec, "unix:/");
	memset(spec + 6, 'p', max - 1);
	spec[5 + max] = 0;
	ck_assert_int_eq(listen_parse(spec, &ep, &error), 0);
	ck_assert_uint_eq(strlen(ep.path), max);
	strcat(spec, "p");
	ck_assert_int_eq(listen_parse(spec, &ep, &error), -1);
	ck_assert_msg(error && strstr(error, "longer than"), "got \"%s\"", error);
	free(error);
}
END_TEST

static void check_flags(int fd, bool nonblock)
{
	int fdflags = fcntl(fd, F_GETFD), flflags = fcntl(fd, F_GETFL);

	ck_assert_msg(fdflags >= 0 && (fdflags & FD_CLOEXEC), "close-on-exec not set");
	ck_assert_msg(((flflags & O_NONBLOCK) != 0) == nonblock, "O_NONBLOCK got %d, want %d",
		      (flflags & O_NONBLOCK) != 0, nonblock);
}

/* Connects to the listening fd's own address and accepts: proof that
   it really listens. */
static void check_accepts(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int c, a;

	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	c = socket(ss.ss_family, SOCK_STREAM, 0);
	ck_assert_int_ge(c, 0);
	ck_assert_msg(connect(c, (struct sockaddr *)&ss, len) == 0, "connect: %s",
		      strerror(errno));
	a = accept(lfd, NULL, NULL);
	ck_assert_msg(a >= 0, "accept: %s", strerror(errno));
	close(a);
	close(c);
}

static const struct {
	const char *spec;
	int family;
	bool nonblock;
} inet_cases[] = {
	{ "inet:127.0.0.1:0", AF_INET, false },
	{ "inet:127.0.0.1:0", AF_INET, true },
	{ "inet:[::1]:0", AF_INET6, true },
	{ "127.0.0.1:0", AF_INET, false },
};

START_TEST(test_open_inet)
{
	struct listen_endpoint ep;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char *error = NULL;
	int fd;

	ck_assert_int_eq(listen_parse(inet_cases[_i].spec, &ep, &error), 0);
	ck_assert_msg(listen_open(&ep, inet_cases[_i].nonblock, (uid_t)-1, (gid_t)-1, 0, &fd,
				  &error) == 0,
		      "%s: %s", inet_cases[_i].spec, error);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	ck_assert_int_eq(ss.ss_family, inet_cases[_i].family);
	ck_assert_int_ne(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						 : ((struct sockaddr_in6 *)&ss)->sin6_port,
			 0);
	check_flags(fd, inet_cases[_i].nonblock);
	if (!inet_cases[_i].nonblock)
		check_accepts(fd);
	close(fd);
}
END_TEST

/* A port in use is an error that names the endpoint. */
START_TEST(test_open_inet_busy)
{
	struct listen_endpoint ep;
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	char spec[64], *error = NULL;
	int fd, fd2;

	ck_assert_int_eq(listen_parse("inet:127.0.0.1:0", &ep, &error), 0);
	ck_assert_int_eq(listen_open(&ep, false, (uid_t)-1, (gid_t)-1, 0, &fd, &error), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(spec, sizeof spec, "inet:127.0.0.1:%u", ntohs(sin.sin_port));
	ck_assert_int_eq(listen_parse(spec, &ep, &error), 0);
	ck_assert_int_eq(listen_open(&ep, false, (uid_t)-1, (gid_t)-1, 0, &fd2, &error), -1);
	ck_assert_int_eq(fd2, -1);
	ck_assert_msg(error && strstr(error, spec) && strstr(error, strerror(EADDRINUSE)),
		      "got \"%s\"", error);
	free(error);
	close(fd);
}
END_TEST

static const char *tmpdir;

static void make_tmpdir(void)
{
	tmpdir = test_tmpdir_create("check_listen");
}

static void unix_ep(struct listen_endpoint *ep, const char *name)
{
	char spec[200], *error = NULL;

	snprintf(spec, sizeof spec, "unix:%s/%s", tmpdir, name);
	ck_assert_int_eq(listen_parse(spec, ep, &error), 0);
}

START_TEST(test_open_unix)
{
	static const unsigned modes[] = { 0600, 0660, 0666 };
	struct listen_endpoint ep;
	struct stat st;
	struct passwd *pw;
	char *error = NULL;
	int fd;

	unix_ep(&ep, "s.sock");
	for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		ck_assert_msg(listen_open(&ep, i == 1, (uid_t)-1, (gid_t)-1, modes[i], &fd,
					  &error) == 0,
			      "mode %o: %s", modes[i], error);
		ck_assert_int_eq(stat(ep.path, &st), 0);
		ck_assert(S_ISSOCK(st.st_mode));
		ck_assert_msg((st.st_mode & 07777) == modes[i], "mode got %o, want %o",
			      st.st_mode & 07777, modes[i]);
		check_flags(fd, i == 1);
		if (i != 1)
			check_accepts(fd);
		/* Closing leaves a stale socket file: the next round reuses it. */
		close(fd);
		ck_assert_int_eq(lstat(ep.path, &st), 0);
	}

	/* Owner applied (needs root to give a file away). */
	pw = getpwnam("nobody");
	if (geteuid() == 0 && pw != NULL) {
		ck_assert_int_eq(listen_open(&ep, false, pw->pw_uid, pw->pw_gid, 0660, &fd,
					     &error), 0);
		ck_assert_int_eq(stat(ep.path, &st), 0);
		ck_assert_msg(st.st_uid == pw->pw_uid && st.st_gid == pw->pw_gid,
			      "owner got %d:%d, want %d:%d", (int)st.st_uid, (int)st.st_gid,
			      (int)pw->pw_uid, (int)pw->pw_gid);
		close(fd);
		/* Only the group. */
		ck_assert_int_eq(listen_open(&ep, false, (uid_t)-1, pw->pw_gid, 0660, &fd,
					     &error), 0);
		ck_assert_int_eq(stat(ep.path, &st), 0);
		ck_assert_int_eq(st.st_uid, geteuid());
		ck_assert_int_eq(st.st_gid, pw->pw_gid);
		close(fd);
	} else {
		fprintf(stderr, "check_listen: not root, owner change not tested\n");
	}
}
END_TEST

/* A live socket is never removed from under its owner. */
START_TEST(test_open_unix_live)
{
	struct listen_endpoint ep;
	char *error = NULL;
	int fd, fd2;

	unix_ep(&ep, "live.sock");
	ck_assert_int_eq(listen_open(&ep, false, (uid_t)-1, (gid_t)-1, 0600, &fd, &error), 0);
	ck_assert_int_eq(listen_open(&ep, false, (uid_t)-1, (gid_t)-1, 0600, &fd2, &error), -1);
	ck_assert_msg(error && strstr(error, "another process"), "got \"%s\"", error);
	free(error);
	check_accepts(fd);	/* the first listener still owns its path */
	close(fd);
}
END_TEST

/* A regular file (or directory) at the path is refused and kept. */
START_TEST(test_open_unix_not_socket)
{
	struct listen_endpoint ep;
	struct stat st;
	char *error = NULL, buf[16];
	int fd, f;

	unix_ep(&ep, "file");
	f = open(ep.path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(f, 0);
	ck_assert_int_eq(write(f, "keep me", 7), 7);
	close(f);
	ck_assert_int_eq(listen_open(&ep, false, (uid_t)-1, (gid_t)-1, 0600, &fd, &error), -1);
	ck_assert_msg(error && strstr(error, "not a socket"), "got \"%s\"", error);
	free(error);
	error = NULL;
	f = open(ep.path, O_RDONLY);
	ck_assert_int_ge(f, 0);
	ck_assert_int_eq(read(f, buf, sizeof buf), 7);
	close(f);

	unix_ep(&ep, "dir");
	ck_assert_int_eq(mkdir(ep.path, 0700), 0);
	ck_assert_int_eq(listen_open(&ep, false, (uid_t)-1, (gid_t)-1, 0600, &fd, &error), -1);
	ck_assert_int_eq(stat(ep.path, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	free(error);

	/* A missing directory: an error with the errno text. */
	unix_ep(&ep, "missing/s.sock");
	ck_assert_int_eq(listen_open(&ep, false, (uid_t)-1, (gid_t)-1, 0600, &fd, &error), -1);
	ck_assert_msg(error && strstr(error, strerror(ENOENT)), "got \"%s\"", error);
	free(error);
}
END_TEST

/* Which listeners only this host can reach (loginwatch refuses an
   auth-policy listener without a key anywhere else). */
static const struct {
	const char *spec;
	bool local;
} local_cases[] = {
	{ "inet:127.0.0.1:0", true },
	{ "inet:127.0.0.2:0", true },
	{ "inet:[::1]:0", true },
	{ "inet:0.0.0.0:0", false },
	{ "inet:[::]:0", false },
	{ "unix:", true },	/* + the test directory */
};

START_TEST(test_is_local)
{
	struct listen_endpoint ep;
	char spec[200], *error = NULL;
	int fd;

	snprintf(spec, sizeof spec, "%s", local_cases[_i].spec);
	if (strcmp(spec, "unix:") == 0)
		snprintf(spec, sizeof spec, "unix:%s/local.sock", tmpdir);
	ck_assert_int_eq(listen_parse(spec, &ep, &error), 0);
	ck_assert_msg(listen_open(&ep, true, (uid_t)-1, (gid_t)-1, 0600, &fd, &error) == 0, "%s: %s",
		      spec, error);
	ck_assert_msg(listen_is_local(fd) == local_cases[_i].local, "%s: local: got %d, want %d",
		      spec, !local_cases[_i].local, local_cases[_i].local);
	close(fd);
	ck_assert(!listen_is_local(fd));	/* a closed descriptor is not local */
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *listen_suite(void)
{
	Suite *s = suite_create("listen");
	TCase *tc = tcase_create("parse");
	TCase *tu = tcase_create("open");

	tcase_add_loop_test(tc, test_parse, 0, N(parse_cases));
	tcase_add_test(tc, test_parse_path_length);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tu, make_tmpdir, test_tmpdir_remove);
	tcase_add_loop_test(tu, test_open_inet, 0, N(inet_cases));
	tcase_add_test(tu, test_open_inet_busy);
	tcase_add_loop_test(tu, test_is_local, 0, N(local_cases));
	tcase_add_test(tu, test_open_unix);
	tcase_add_test(tu, test_open_unix_live);
	tcase_add_test(tu, test_open_unix_not_socket);
	suite_add_tcase(s, tu);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(listen_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

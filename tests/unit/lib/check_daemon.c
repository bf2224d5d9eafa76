/*
 * NAME
 *	check_daemon 1
 * SUMMARY
 *	tests for lib/daemon.c
 * DESCRIPTION
 *	User lookup, privilege drop and detaching in forked children that
 *	report back through a pipe; the pidfile lock against a real second
 *	process; signal flags; the command line in forked children whose
 *	exit status and output are checked. Every child is waited for by
 *	PID and killed by PID when it must not outlive its test.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "test_tmpdir.h"

/* read_all - reads fd to EOF into buf (NUL-terminated) */
static void read_all(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t n;

	while (used + 1 < size && (n = read(fd, buf + used, size - 1 - used)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		used += (size_t)n;
	}
	buf[used] = 0;
}

/* wait_exit - waits for pid; returns its exit status, or 128+signal */
static int wait_exit(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const struct {
	const char *label, *user;
	int ok;
	long uid, gid;
} user_cases[] = {
	{ "root", "root", 1, 0, 0 },
	{ "nobody", "nobody", 1, 65534, 65534 },
	{ "unknown", "no-such-user-authrelay", 0, 0, 0 },
	{ "empty", "", 0, 0, 0 },
};

START_TEST(test_user_ids)
{
	uid_t uid = 4242;
	gid_t gid = 4242;
	char *error = NULL;
	int rc = daemon_user_ids(user_cases[_i].user, &uid, &gid, &error);

	if (user_cases[_i].ok) {
		struct passwd *pw = getpwnam(user_cases[_i].user);

		ck_assert_ptr_nonnull(pw);
		ck_assert_msg(rc == 0 && uid == pw->pw_uid && gid == pw->pw_gid,
			      "%s: got %d %ld:%ld (%s), want 0 %ld:%ld", user_cases[_i].label, rc,
			      (long)uid, (long)gid, error ? error : "", (long)pw->pw_uid,
			      (long)pw->pw_gid);
	} else {
		ck_assert_msg(rc == -1 && error != NULL, "%s: got %d, want -1 with a message",
			      user_cases[_i].label, rc);
		ck_assert_msg(user_cases[_i].user[0] == 0 || strstr(error, user_cases[_i].user),
			      "%s: message \"%s\" does not name the user", user_cases[_i].label,
			      error);
		free(error);
	}
}
END_TEST

/* In a child: drop to nobody and report what the kernel says. */
START_TEST(test_drop_privileges)
{
	struct passwd *pw = getpwnam("nobody");
	char got[512], want[512];
	int fds[2];
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "check_daemon: not root, privilege drop not tested\n");
		return;
	}
	ck_assert_ptr_nonnull(pw);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *error = NULL;
		gid_t groups[64];
		int n, setuid_rc, seteuid_rc;
		FILE *fp = fdopen(fds[1], "w");

		close(fds[0]);
		/* Give root extra groups first: they must be gone afterwards. */
		groups[0] = 0;
		groups[1] = 4;
		if (setgroups(2, groups) < 0)
			_exit(3);
		if (daemon_drop_privileges("nobody", &error) < 0) {
			fprintf(fp, "error %s", error);
			fclose(fp);
			_exit(1);
		}
		n = getgroups(64, groups);
		setuid_rc = setuid(0);
		seteuid_rc = seteuid(0);
		fprintf(fp, "uid=%ld euid=%ld gid=%ld egid=%ld groups=%d:%ld setuid0=%d seteuid0=%d",
			(long)getuid(), (long)geteuid(), (long)getgid(), (long)getegid(), n,
			n > 0 ? (long)groups[0] : -1L, setuid_rc, seteuid_rc);
		/* Not root any more: a second call is a no-op returning 0. */
		fprintf(fp, " again=%d", daemon_drop_privileges("root", &error));
		fclose(fp);
		_exit(0);
	}
	close(fds[1]);
	read_all(fds[0], got, sizeof got);
	close(fds[0]);
	ck_assert_int_eq(wait_exit(pid), 0);
	snprintf(want, sizeof want,
		 "uid=%ld euid=%ld gid=%ld egid=%ld groups=1:%ld setuid0=-1 seteuid0=-1 again=0",
		 (long)pw->pw_uid, (long)pw->pw_uid, (long)pw->pw_gid, (long)pw->pw_gid,
		 (long)pw->pw_gid);
	ck_assert_msg(strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got, want);
}
END_TEST

/* Refusals leave the process as it was. */
START_TEST(test_drop_privileges_refused)
{
	char *error = NULL;

	if (geteuid() != 0)
		return;
	ck_assert_int_eq(daemon_drop_privileges("no-such-user-authrelay", &error), -1);
	ck_assert_msg(error && strstr(error, "unknown user"), "got \"%s\"", error);
	free(error);
	error = NULL;
	ck_assert_int_eq(daemon_drop_privileges("root", &error), -1);
	ck_assert_msg(error && strstr(error, "is root"), "got \"%s\"", error);
	free(error);
	ck_assert_int_eq(geteuid(), 0);
	ck_assert_int_eq(getuid(), 0);
}
END_TEST

/* The daemon (grandchild) reports its situation through a pipe. */
START_TEST(test_detach)
{
	char got[512], want[512];
	struct stat null_st;
	int fds[2];
	pid_t pid;

	ck_assert_int_eq(stat("/dev/null", &null_st), 0);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *error = NULL, cwd[64], line[512];
		struct stat st;
		int nulls = 0, fd;

		close(fds[0]);
		if (chdir("/tmp") < 0)
			_exit(3);
		if (daemon_detach(&error) < 0) {
			dprintf(fds[1], "error %s", error);
			_exit(1);
		}
		for (fd = 0; fd < 3; fd++)
			if (fstat(fd, &st) == 0 && S_ISCHR(st.st_mode)
			    && st.st_rdev == null_st.st_rdev)
				nulls++;
		if (getcwd(cwd, sizeof cwd) == NULL)
			strcpy(cwd, "?");
		snprintf(line, sizeof line, "leader=%d sid_is_pgid=%d cwd=%s devnull=%d",
			 getsid(0) == getpid(), getsid(0) != getpgid(0) ? 0 : 1, cwd, nulls);
		if (write(fds[1], line, strlen(line)) < 0)
			_exit(4);
		_exit(0);
	}
	close(fds[1]);
	/* The direct child is the first parent inside daemon_detach(): it
	   exits 0 at once; the daemon writes, then closes the pipe. */
	ck_assert_int_eq(wait_exit(pid), 0);
	read_all(fds[0], got, sizeof got);
	close(fds[0]);
	snprintf(want, sizeof want, "leader=0 sid_is_pgid=1 cwd=/ devnull=3");
	ck_assert_msg(strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got, want);
}
END_TEST

static const char *tmpdir;

static void make_tmpdir(void)
{
	tmpdir = test_tmpdir_create("check_daemon");
}

static void file_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	read_all(fd, buf, size);
	close(fd);
}

START_TEST(test_pidfile)
{
	char path[128], got[64], want[64], *error = NULL;
	struct stat st;
	int ready[2];
	pid_t holder;

	/* Creates missing directories, writes our pid. */
	snprintf(path, sizeof path, "%s/run/authrelay/d.pid", tmpdir);
	ck_assert_msg(daemon_pidfile_open(path, (uid_t)-1, (gid_t)-1, &error) == 0, "%s", error);
	file_text(path, got, sizeof got);
	snprintf(want, sizeof want, "%ld\n", (long)getpid());
	ck_assert_msg(strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got, want);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	daemon_pidfile_remove(path);
	ck_assert_int_eq(access(path, F_OK), -1);

	/* A second process holds it: we are refused, with its pid. */
	ck_assert_int_eq(pipe(ready), 0);
	holder = fork();
	ck_assert_int_ge(holder, 0);
	if (holder == 0) {
		close(ready[0]);
		if (daemon_pidfile_open(path, (uid_t)-1, (gid_t)-1, &error) < 0)
			_exit(1);
		if (write(ready[1], "y", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	close(ready[1]);
	/* One byte, not to EOF: the holder keeps its end open while it waits. */
	got[0] = 0;
	if (read(ready[0], got, 1) != 1)
		got[0] = 0;
	got[1] = 0;
	close(ready[0]);
	if (strcmp(got, "y") != 0) {
		kill(holder, SIGKILL);
		wait_exit(holder);
		ck_abort_msg("holder did not get the pidfile");
	}
	snprintf(want, sizeof want, "pid %ld", (long)holder);
	if (daemon_pidfile_open(path, (uid_t)-1, (gid_t)-1, &error) != -1
	    || strstr(error, want) == NULL) {
		kill(holder, SIGKILL);
		wait_exit(holder);
		ck_abort_msg("second open: got \"%s\", want a refusal naming %s",
			     error ? error : "success", want);
	}
	free(error);
	error = NULL;
	/* Refused: removing is not ours to do. */
	daemon_pidfile_remove(path);
	ck_assert_int_eq(access(path, F_OK), 0);

	/* The holder dies without cleaning up: the stale file is reused. */
	kill(holder, SIGKILL);
	ck_assert_int_eq(wait_exit(holder), 128 + SIGKILL);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_msg(daemon_pidfile_open(path, (uid_t)-1, (gid_t)-1, &error) == 0, "%s", error);
	file_text(path, got, sizeof got);
	snprintf(want, sizeof want, "%ld\n", (long)getpid());
	ck_assert_msg(strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got, want);
	daemon_pidfile_remove(path);

	/* Empty path: nothing to do. */
	ck_assert_int_eq(daemon_pidfile_open("", (uid_t)-1, (gid_t)-1, &error), 0);
}
END_TEST

/* A stale file with a longer pid in it is overwritten whole, and a
   symlink at the path is not followed. */
START_TEST(test_pidfile_stale_and_symlink)
{
	char path[128], target[128], got[64], want[64], *error = NULL;
	struct passwd *pw = getpwnam("nobody");
	struct stat st;
	FILE *fp;

	snprintf(path, sizeof path, "%s/stale.pid", tmpdir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "99999999999\n");
	fclose(fp);
	ck_assert_int_eq(daemon_pidfile_open(path, (uid_t)-1, (gid_t)-1, &error), 0);
	file_text(path, got, sizeof got);
	snprintf(want, sizeof want, "%ld\n", (long)getpid());
	ck_assert_msg(strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got, want);
	daemon_pidfile_remove(path);

	snprintf(target, sizeof target, "%s/target", tmpdir);
	snprintf(path, sizeof path, "%s/link.pid", tmpdir);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(daemon_pidfile_open(path, (uid_t)-1, (gid_t)-1, &error), -1);
	ck_assert_int_eq(access(target, F_OK), -1);
	free(error);
	error = NULL;

	/* The new directory is given to the daemon's user (root only). */
	if (geteuid() == 0 && pw != NULL) {
		snprintf(path, sizeof path, "%s/owned/d.pid", tmpdir);
		ck_assert_int_eq(daemon_pidfile_open(path, pw->pw_uid, pw->pw_gid, &error), 0);
		snprintf(target, sizeof target, "%s/owned", tmpdir);
		ck_assert_int_eq(stat(target, &st), 0);
		ck_assert_int_eq(st.st_uid, pw->pw_uid);
		ck_assert_int_eq(st.st_gid, pw->pw_gid);
		ck_assert_int_eq(st.st_mode & 0777, 0755);
		daemon_pidfile_remove(path);
	}
}
END_TEST

START_TEST(test_signals)
{
	struct sigaction sa;
	int fds[2];
	char c;
	ssize_t n;
	pid_t pid, parent = getpid();

	daemon_stop_requested = 0;
	daemon_reload_requested = 0;
	daemon_signals_install(0);
	ck_assert_int_eq(raise(SIGHUP), 0);
	ck_assert_int_eq(daemon_reload_requested, 1);
	ck_assert_int_eq(daemon_stop_requested, 0);
	ck_assert_int_eq(raise(SIGTERM), 0);
	ck_assert_int_eq(daemon_stop_requested, 1);
	daemon_stop_requested = 0;
	ck_assert_int_eq(raise(SIGINT), 0);
	ck_assert_int_eq(daemon_stop_requested, 1);
	ck_assert_int_eq(raise(SIGPIPE), 0);	/* ignored: we are still here */

	ck_assert_int_eq(sigaction(SIGTERM, NULL, &sa), 0);
	ck_assert_int_eq(sa.sa_flags & SA_RESTART, 0);

	/* Another reload signal. */
	daemon_reload_requested = 0;
	daemon_signals_install(SIGUSR1);
	ck_assert_int_eq(raise(SIGUSR1), 0);
	ck_assert_int_eq(daemon_reload_requested, 1);

	/* A blocking read returns EINTR: a helper signals until we stop it. */
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (int i = 0; i < 200; i++) {
			usleep(50000);
			kill(parent, SIGTERM);
		}
		_exit(0);
	}
	n = read(fds[0], &c, 1);
	kill(pid, SIGKILL);
	wait_exit(pid);
	ck_assert_msg(n == -1 && errno == EINTR, "read got %zd (%s), want -1 EINTR", n,
		      strerror(errno));
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* Command lines. want_exit -1: returns want_index with the fields set. */
static const struct {
	const char *label;
	const char *argv[8];
	bool spawn_ok;
	int want_exit, want_index;
	const char *config;
	bool f, n, S;
	const char *want_out, *want_err;
} args_cases[] = {
	{ "nothing", { "p" }, false, -1, 1, NULL, false, false, false, "", "" },
	{ "all", { "p", "-c", "/x.conf", "-f", "-n" }, false, -1, 5, "/x.conf", true, true,
	  false, "", "" },
	{ "bundled", { "p", "-fnc/y.conf" }, false, -1, 2, "/y.conf", true, true, false, "", "" },
	{ "spawn accepted", { "p", "-S", "-f" }, true, -1, 3, NULL, true, false, true, "", "" },
	{ "stops at operand", { "p", "-f", "rest", "-n" }, false, -1, 2, NULL, true, false, false,
	  "", "" },
	{ "double dash", { "p", "--", "-n" }, false, -1, 2, NULL, false, false, false, "", "" },
	{ "version", { "p", "-V" }, false, 0, 0, NULL, false, false, false,
	  "p " AUTHRELAY_VERSION "\n", "" },
	{ "help", { "p", "-h" }, true, 0, 0, NULL, false, false, false, "usage: p [-c FILE]",
	  "" },
	{ "bad option", { "p", "-x" }, false, 64, 0, NULL, false, false, false, "",
	  "unknown option -x" },
	{ "spawn refused", { "p", "-S" }, false, 64, 0, NULL, false, false, false, "",
	  "unknown option -S" },
	{ "missing argument", { "p", "-c" }, false, 64, 0, NULL, false, false, false, "",
	  "needs an argument" },
	{ "long option", { "p", "--help" }, false, 64, 0, NULL, false, false, false, "",
	  "usage:" },
};

START_TEST(test_args)
{
	int out[2], err[2], argc = 0, status;
	char got_out[2048], got_err[2048];
	char *argv[8];
	pid_t pid;

	while (args_cases[_i].argv[argc] != NULL)
		argc++;
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct daemon_args args;
		int idx;

		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		for (int i = 0; i <= argc; i++)
			argv[i] = (char *)args_cases[_i].argv[i];
		idx = daemon_args_parse(argc, argv, "p", args_cases[_i].spawn_ok, &args);
		/* Returned: report the parse on stdout with exit 100. */
		printf("index=%d config=%s f=%d n=%d S=%d", idx,
		       args.config_path ? args.config_path : "(null)", args.foreground,
		       args.check_only, args.spawn);
		fflush(stdout);
		_exit(100);
	}
	close(out[1]);
	close(err[1]);
	read_all(out[0], got_out, sizeof got_out);
	read_all(err[0], got_err, sizeof got_err);
	close(out[0]);
	close(err[0]);
	status = wait_exit(pid);
	if (args_cases[_i].want_exit < 0) {
		char want[256];

		snprintf(want, sizeof want, "index=%d config=%s f=%d n=%d S=%d",
			 args_cases[_i].want_index,
			 args_cases[_i].config ? args_cases[_i].config : "(null)",
			 args_cases[_i].f, args_cases[_i].n, args_cases[_i].S);
		ck_assert_msg(status == 100 && strcmp(got_out, want) == 0,
			      "%s: got exit %d \"%s\" (stderr \"%s\"), want \"%s\"",
			      args_cases[_i].label, status, got_out, got_err, want);
	} else {
		ck_assert_msg(status == args_cases[_i].want_exit,
			      "%s: got exit %d, want %d (stdout \"%s\" stderr \"%s\")",
			      args_cases[_i].label, status, args_cases[_i].want_exit, got_out,
			      got_err);
		ck_assert_msg(strstr(got_out, args_cases[_i].want_out) != NULL,
			      "%s: stdout got \"%s\", want \"%s\"", args_cases[_i].label, got_out,
			      args_cases[_i].want_out);
		ck_assert_msg(strstr(got_err, args_cases[_i].want_err) != NULL,
			      "%s: stderr got \"%s\", want \"%s\"", args_cases[_i].label, got_err,
			      args_cases[_i].want_err);
		/* Output goes to exactly one stream. */
		ck_assert_msg(status == 0 ? got_err[0] == 0 : got_out[0] == 0,
			      "%s: output on the wrong stream", args_cases[_i].label);
	}
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("daemon");
	TCase *tp = tcase_create("pidfile");

	tcase_add_loop_test(tc, test_user_ids, 0, N(user_cases));
	tcase_add_test(tc, test_drop_privileges);
	tcase_add_test(tc, test_drop_privileges_refused);
	tcase_add_test(tc, test_detach);
	tcase_add_test(tc, test_signals);
	tcase_add_loop_test(tc, test_args, 0, N(args_cases));
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tp, make_tmpdir, test_tmpdir_remove);
	tcase_add_test(tp, test_pidfile);
	tcase_add_test(tp, test_pidfile_stale_and_symlink);
	suite_add_tcase(s, tp);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(daemon_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

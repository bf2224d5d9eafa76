/*
 * NAME
 *	daemon 3
 * SUMMARY
 *	start-up chores shared by the daemons
 * SYNOPSIS
 *	#include "daemon.h"
 * DESCRIPTION
 *	The order a daemon follows: daemon_args_parse(), read the config,
 *	open sockets (as root), daemon_detach() unless -f,
 *	daemon_pidfile_open(), daemon_drop_privileges(), open the database,
 *	daemon_signals_install(), serve until daemon_stop_requested.
 *
 *	Privileges: the supplementary groups are set with initgroups(), so an
 *	admin can grant run_user read access to the mail logs the usual way
 *	(adding it to group adm), and root's own groups are gone; real,
 *	effective and saved ids are all set, and the drop is verified by
 *	trying to regain root. run_user may not be root itself.
 *
 *	The pidfile stays open and flock()ed for the daemon's life: a second
 *	instance finds it locked and refuses to start; a file left by a dead
 *	process is not locked and is simply reused. Only the holder removes
 *	it, so a refused second instance cannot delete the first one's file.
 * DIAGNOSTICS
 *	Errors come back in *error_r (malloc'd) naming the object and the
 *	errno text; daemon_args_parse() exits on its own (64, or 0 for -V/-h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "error_r.h"

#ifndef AUTHRELAY_VERSION
#define AUTHRELAY_VERSION "unknown"
#endif

volatile sig_atomic_t daemon_stop_requested;
volatile sig_atomic_t daemon_reload_requested;

/* The open, locked pidfile; -1 when this process holds none. */
static int pidfile_fd = -1;

/* daemon_user_ids - uid and primary gid of a user name */
int daemon_user_ids(const char *user, uid_t *uid_r, gid_t *gid_r, char **error_r)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc;

	if (user == NULL || user[0] == 0)
		return error_r_set(error_r, "no user name given");
	rc = getpwnam_r(user, &pw, buf, sizeof buf, &res);
	if (rc != 0)
		return error_r_set(error_r, "cannot look up user \"%s\": %s", user, strerror(rc));
	if (res == NULL)
		return error_r_set(error_r, "unknown user \"%s\" (create it, or set run_user)",
				   user);
	*uid_r = pw.pw_uid;
	*gid_r = pw.pw_gid;
	return 0;
}

/* daemon_drop_privileges - become user for good, when root */
int daemon_drop_privileges(const char *user, char **error_r)
{
	uid_t uid, ruid, euid, suid;
	gid_t gid, rgid, egid, sgid;

	if (geteuid() != 0 && getuid() != 0)
		return 0;
	if (daemon_user_ids(user, &uid, &gid, error_r) < 0)
		return -1;
	if (uid == 0)
		return error_r_set(error_r, "run_user \"%s\" is root; a daemon must not keep root",
				   user);
	if (initgroups(user, gid) < 0)
		return error_r_set(error_r, "initgroups(%s): %s", user, strerror(errno));
	if (setresgid(gid, gid, gid) < 0)
		return error_r_set(error_r, "setresgid(%ld): %s", (long)gid, strerror(errno));
	if (setresuid(uid, uid, uid) < 0)
		return error_r_set(error_r, "setresuid(%ld): %s", (long)uid, strerror(errno));

	/* Verify, rather than trust: every id changed and root stays out. */
	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0)
		return error_r_set(error_r, "cannot read back the process ids: %s",
				   strerror(errno));
	if (ruid != uid || euid != uid || suid != uid || rgid != gid || egid != gid
	    || sgid != gid)
		return error_r_set(error_r, "privilege drop to \"%s\" incomplete", user);
	if (setuid(0) == 0 || seteuid(0) == 0)
		return error_r_set(error_r, "privilege drop to \"%s\" failed: root can be regained",
				   user);
	return 0;
}

/* devnull_stdio - stdin, stdout and stderr to /dev/null */
static int devnull_stdio(char **error_r)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return error_r_set(error_r, "open /dev/null: %s", strerror(errno));
	if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
		int saved = errno;

		close(fd);
		return error_r_set(error_r, "dup2 /dev/null: %s", strerror(saved));
	}
	if (fd > 2)
		close(fd);
	return 0;
}

/* daemon_detach - leave the terminal and the caller's session for good */
int daemon_detach(char **error_r)
{
	pid_t pid;

	/* Buffered output must not be written twice, once by each process. */
	fflush(NULL);
	if ((pid = fork()) < 0)
		return error_r_set(error_r, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return error_r_set(error_r, "setsid: %s", strerror(errno));
	/* Not a session leader any more: opening a tty cannot make it ours. */
	if ((pid = fork()) < 0)
		return error_r_set(error_r, "fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		return error_r_set(error_r, "chdir /: %s", strerror(errno));
	return devnull_stdio(error_r);
}

/* make_parent_dir - creates path's directory (and missing ancestors) */
static int make_parent_dir(const char *path, uid_t uid, gid_t gid, char **error_r)
{
	char dir[4096];
	char *slash, *p;
	struct stat st;

	if (strlen(path) >= sizeof dir)
		return error_r_set(error_r, "pidfile path too long");
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0;
	*slash = 0;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : error_r_set(error_r, "%s: not a directory", dir);
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return error_r_set(error_r, "mkdir %s: %s", dir, strerror(errno));
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return error_r_set(error_r, "mkdir %s: %s", dir, strerror(errno));
	/* The daemon removes its pidfile after dropping root: it needs the
	   directory to be its own. */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(dir, uid, gid) < 0)
		return error_r_set(error_r, "chown %s: %s", dir, strerror(errno));
	return 0;
}

/* daemon_pidfile_open - lock and write the pidfile for this process */
int daemon_pidfile_open(const char *path, uid_t uid, gid_t gid, char **error_r)
{
	char buf[32];
	ssize_t n;
	int fd, len;

	if (path == NULL || path[0] == 0)
		return 0;
	if (pidfile_fd >= 0)
		return error_r_set(error_r, "%s: this process already holds a pidfile", path);
	if (make_parent_dir(path, uid, gid, error_r) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return error_r_set(error_r, "open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;

		n = read(fd, buf, sizeof buf - 1);
		buf[n > 0 ? n : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		close(fd);
		if (saved == EWOULDBLOCK)
			return error_r_set(error_r,
					   "%s is locked by a running process (pid %s): "
					   "already running?",
					   path, buf[0] ? buf : "unknown");
		return error_r_set(error_r, "flock %s: %s", path, strerror(saved));
	}
	len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		int saved = errno;

		close(fd);
		return error_r_set(error_r, "write %s: %s", path, strerror(saved));
	}
	pidfile_fd = fd;
	return 0;
}

/* daemon_pidfile_remove - removes the pidfile this process holds */
void daemon_pidfile_remove(const char *path)
{
	if (pidfile_fd < 0)
		return;
	if (path != NULL && path[0] != 0)
		(void)unlink(path);
	close(pidfile_fd);
	pidfile_fd = -1;
}

static void on_stop(int sig)
{
	(void)sig;
	daemon_stop_requested = 1;
}

static void on_reload(int sig)
{
	(void)sig;
	daemon_reload_requested = 1;
}

/* daemon_signals_install - flag-setting handlers, no SA_RESTART */
void daemon_signals_install(int reload_signal)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: a blocking wait returns EINTR */
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_reload;
	sigaction(reload_signal > 0 ? reload_signal : SIGHUP, &sa, NULL);
	/* A peer that hangs up is an EPIPE on write, not the end of us. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void usage(FILE *fp, const char *prog, bool accept_spawn)
{
	fprintf(fp,
		"usage: %s [-c FILE] [-f] [-n]%s [-V] [-h]\n"
		"  -c FILE  configuration file (default %s/authrelay/authrelay.conf)\n"
		"  -f       stay in the foreground, log to stderr as well\n"
		"  -n       check the configuration and the database, then exit\n"
		"%s"
		"  -V       print the version\n"
		"  -h       this help\n",
		prog, accept_spawn ? " [-S]" : "",
#ifdef AUTHRELAY_SYSCONFDIR
		AUTHRELAY_SYSCONFDIR,
#else
		"/etc",
#endif
		accept_spawn ? "  -S       spawn mode: serve one connection on stdin/stdout\n" : "");
}

/* daemon_args_parse - the common command line */
int daemon_args_parse(int argc, char **argv, const char *prog, bool accept_spawn,
		      struct daemon_args *args_r)
{
	const char *opts = accept_spawn ? "+:c:fnVhS" : "+:c:fnVh";
	int c;

	memset(args_r, 0, sizeof *args_r);
	opterr = 0;
	optind = 0;	/* glibc: full re-initialisation, so tests can call again */
	while ((c = getopt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'c':
			args_r->config_path = optarg;
			break;
		case 'f':
			args_r->foreground = true;
			break;
		case 'n':
			args_r->check_only = true;
			break;
		case 'S':
			args_r->spawn = true;
			break;
		case 'V':
			printf("%s %s\n", prog, AUTHRELAY_VERSION);
			fflush(stdout);
			exit(0);
		case 'h':
			usage(stdout, prog, accept_spawn);
			fflush(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "%s: option -%c needs an argument\n", prog, optopt);
			usage(stderr, prog, accept_spawn);
			exit(EXIT_USAGE);
		default:
			if (optopt >= ' ' && optopt < 0x7f)
				fprintf(stderr, "%s: unknown option -%c\n", prog, optopt);
			else
				fprintf(stderr, "%s: unknown option\n", prog);
			usage(stderr, prog, accept_spawn);
			exit(EXIT_USAGE);
		}
	}
	return optind;
}

/*
 * NAME
 *	status_daemon 3
 * SUMMARY
 *	is a daemon of the suite running: its pidfile, process and version
 * DESCRIPTION
 *	See status_daemon.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "status_daemon.h"

/* unit_enabled - a link to authrelay-NAME.service in a .wants directory */
static bool unit_enabled(const char *name)
{
	char pattern[256];
	glob_t g;
	bool found;

	snprintf(pattern, sizeof pattern, "%s/*.wants/authrelay-%s.service", STATUS_SYSTEMD_DIR,
		 name);
	found = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;
	globfree(&g);
	return found;
}

/* read_pidfile - the pid in an open pidfile; 0 when there is none */
static long read_pidfile(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = 0;
	pid = strtol(buf, &end, 10);
	return pid > 0 && (*end == '\n' || *end == 0) ? pid : 0;
}

/* proc_start_time - the process's start, from /proc/PID/stat and btime */
static int64_t proc_start_time(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *fp;
	size_t n;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = 0;
	/* The command name may hold spaces and ')': fields follow the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	/* Field 3 (state) follows; starttime is field 22. */
	for (int field = 3; field <= 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &ticks) != 1 || hz <= 0)
		return 0;
	if ((fp = fopen("/proc/stat", "r")) == NULL)
		return 0;
	while (fgets(buf, sizeof buf, fp) != NULL)
		if (sscanf(buf, "btime %llu", &btime) == 1)
			break;
	fclose(fp);
	return btime > 0 ? (int64_t)(btime + ticks / (unsigned long long)hz) : 0;
}

/* proc_version - runs the process's own binary with -V */
static void proc_version(struct status_daemon *d)
{
	char path[64], target[4096], cmd[96], line[128];
	const char *base;
	ssize_t n;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%ld/exe", d->pid);
	if ((n = readlink(path, target, sizeof target - 1)) < 0) {
		snprintf(d->detail, sizeof d->detail, "version unknown: %s: %s", path,
			 strerror(errno));
		return;
	}
	target[n] = 0;
	if (n > 10 && strcmp(target + n - 10, " (deleted)") == 0) {
		d->binary_replaced = true;
		target[n - 10] = 0;
	}
	base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	/* Only ever run one of our own programs. */
	if (strncmp(base, "authrelay-", 10) != 0) {
		snprintf(d->detail, sizeof d->detail, "version unknown: pid %ld runs %.100s", d->pid,
			 base);
		return;
	}
	/* The command is built from a number only. */
	snprintf(cmd, sizeof cmd, "%s -V 2>/dev/null </dev/null", path);
	if ((fp = popen(cmd, "r")) == NULL)
		return;
	if (fgets(line, sizeof line, fp) != NULL) {
		char *v = strrchr(line, ' ');

		line[strcspn(line, "\n")] = 0;
		if (v != NULL)
			snprintf(d->version, sizeof d->version, "%s", v + 1);
	}
	pclose(fp);
}

/* status_daemon_probe - what the pidfile and /proc say */
void status_daemon_probe(const char *name, const char *pidfile, bool expected,
			 struct status_daemon *d)
{
	bool unit;
	int fd;

	memset(d, 0, sizeof *d);
	d->name = name;
	d->pidfile = pidfile;
	d->state = STATUS_DAEMON_STOPPED;
	if (pidfile == NULL || *pidfile == 0) {
		d->configured = false;
		d->configured_why = "no pidfile configured";
		return;
	}
	fd = open(pidfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno != ENOENT) {
		d->state = STATUS_DAEMON_UNKNOWN;
		snprintf(d->detail, sizeof d->detail, "%s: %s", pidfile, strerror(errno));
	} else if (fd >= 0) {
		d->pid = read_pidfile(fd);
		/* A shared lock is refused while the daemon holds its own. */
		if (flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
			d->state = STATUS_DAEMON_UP;
		else
			d->state = STATUS_DAEMON_STALE;
		close(fd);
		if (d->state == STATUS_DAEMON_UP && d->pid > 0 && kill((pid_t)d->pid, 0) < 0 &&
		    errno == ESRCH) {
			/* Locked, but not by the pid written in it. */
			d->state = STATUS_DAEMON_UNKNOWN;
			snprintf(d->detail, sizeof d->detail,
				 "%s is locked but pid %ld is not running", pidfile, d->pid);
		}
	}
	unit = unit_enabled(name);
	if (expected)
		d->configured_why = "named by --expect";
	else if (unit)
		d->configured_why = "systemd unit enabled";
	else if (d->state != STATUS_DAEMON_STOPPED)
		d->configured_why = "pidfile present";
	else
		d->configured_why = "no pidfile, no enabled systemd unit";
	d->configured = expected || unit || d->state != STATUS_DAEMON_STOPPED;
	if (d->state == STATUS_DAEMON_UP && d->pid > 0) {
		d->started = proc_start_time(d->pid);
		proc_version(d);
	}
}

/* status_daemon_is_down - configured, yet not running */
bool status_daemon_is_down(const struct status_daemon *d)
{
	return d->configured && d->state != STATUS_DAEMON_UP;
}

/* status_daemon_state_name - one word per state */
const char *status_daemon_state_name(enum status_daemon_state state)
{
	switch (state) {
	case STATUS_DAEMON_UP:
		return "up";
	case STATUS_DAEMON_STALE:
		return "down";
	case STATUS_DAEMON_STOPPED:
		return "stopped";
	case STATUS_DAEMON_UNKNOWN:
		break;
	}
	return "unknown";
}

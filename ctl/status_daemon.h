/*
 * NAME
 *	status_daemon 3h
 * SUMMARY
 *	is a daemon of the suite running: its pidfile, process and version
 * DESCRIPTION
 *	A running daemon holds an flock() on its pidfile for its whole life
 *	(lib/daemon.c): a pidfile that is locked names a live daemon; one
 *	that is not locked was left by a process that died without its
 *	clean stop (a crash, kill -9); no pidfile means the daemon was
 *	never started or stopped cleanly. The lock is tested, not trusted
 *	to the pid alone, so a pid reused by another process is not taken
 *	for the daemon.
 *
 *	A daemon counts as configured (it should be running) when its
 *	pidfile key is not empty and any of: its systemd unit is enabled
 *	(a link authrelay-NAME.service in a *.wants directory of
 *	STATUS_SYSTEMD_DIR, as systemctl enable makes), its pidfile exists,
 *	or the admin named it with authrelayctl status --expect.
 *
 *	Version and start time come from /proc: the version by running the
 *	daemon's own binary (/proc/PID/exe -V, only when that is one of the
 *	suite's programs), the start time from /proc/PID/stat. Where /proc
 *	does not let us see (another user's process, not root), they stay
 *	unknown.
 */
#ifndef AUTHRELAY_CTL_STATUS_DAEMON_H
#define AUTHRELAY_CTL_STATUS_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#define STATUS_SYSTEMD_DIR "/etc/systemd/system"
#define STATUS_VERSION_MAX 64

enum status_daemon_state {
	STATUS_DAEMON_UP,		/* pidfile locked by a live process */
	STATUS_DAEMON_STALE,		/* pidfile left by a dead process: "down" */
	STATUS_DAEMON_STOPPED,		/* no pidfile */
	STATUS_DAEMON_UNKNOWN		/* the pidfile cannot be read (why in detail) */
};

struct status_daemon {
	const char *name;		/* "policyd" */
	const char *pidfile;		/* from the config; "" = none */
	bool configured;
	const char *configured_why;	/* "systemd unit enabled", ... or why not */
	enum status_daemon_state state;
	long pid;			/* 0 when unknown */
	int64_t started;		/* Unix time; 0 when unknown */
	char version[STATUS_VERSION_MAX]; /* "" when unknown */
	bool binary_replaced;		/* the running binary was deleted or replaced */
	char detail[160];		/* why UNKNOWN, or "" */
};

/* Fills d for the daemon called name ("policyd", "milter",
   "loginwatch"; its systemd unit is authrelay-NAME.service) whose
   pidfile key is pidfile. expected: the admin said it must run. Never
   fails: what cannot be learnt is left unknown and said in d->detail. */
void status_daemon_probe(const char *name, const char *pidfile, bool expected,
			 struct status_daemon *d);

/* Returns true when d is configured and not up. */
bool status_daemon_is_down(const struct status_daemon *d);

/* "up", "down (pidfile left by pid N)", ... : the state in one word. */
const char *status_daemon_state_name(enum status_daemon_state state);

#endif

/*
 * NAME
 *	daemon 3h
 * SUMMARY
 *	start-up chores shared by the daemons
 * DESCRIPTION
 *	Detaching, pidfiles, privilege drop, signal flags, and the common
 *	command line (-c -f -n -V -h). Sockets are opened as root before
 *	daemon_drop_privileges(); the database afterwards, so its files
 *	belong to run_user.
 */
#ifndef AUTHRELAY_DAEMON_H
#define AUTHRELAY_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

/* sysexits.h values, named here for the programs' own use. */
#define EXIT_USAGE 64
#define EXIT_UNAVAILABLE 69
#define EXIT_INTERNAL 70
#define EXIT_CONFIG 78

/* Looks up user; fills uid/gid. Returns 0, or -1 with *error_r. */
int daemon_user_ids(const char *user, uid_t *uid_r, gid_t *gid_r, char **error_r);

/* When running as root: setgroups/setgid/setuid to user, and verifies that
   root cannot be regained. Not root: nothing to do, returns 0. Returns
   -1 with *error_r on any failure (the caller must exit). */
int daemon_drop_privileges(const char *user, char **error_r);

/* fork, setsid, fork, chdir("/"), stdin/stdout/stderr to /dev/null.
   Returns 0 in the daemon (the parents exit), -1 with *error_r. */
int daemon_detach(char **error_r);

/* Writes getpid() to path (creating its directory, mode 0755, owned by
   uid/gid when they are not -1), refusing when another live process
   holds it (an flock()ed pidfile). Returns 0, or -1 with *error_r. An
   empty path does nothing. */
int daemon_pidfile_open(const char *path, uid_t uid, gid_t gid, char **error_r);
void daemon_pidfile_remove(const char *path);

/* Flags set by the installed handlers (SIGTERM/SIGINT, SIGHUP or the
   given reload signal). Handlers are installed without SA_RESTART so a
   blocking wait returns EINTR. */
extern volatile sig_atomic_t daemon_stop_requested;
extern volatile sig_atomic_t daemon_reload_requested;
void daemon_signals_install(int reload_signal);

/* The common command line. */
struct daemon_args {
	const char *config_path;	/* -c, or NULL for the default */
	bool foreground;		/* -f */
	bool check_only;		/* -n */
	bool spawn;			/* -S (policyd only: allowed when accepted) */
};

/* Parses argv for -c FILE -f -n -V -h and, when accept_spawn, -S.
   -V prints "prog VERSION" and exits 0; -h prints usage and exits 0; a
   bad option prints usage to stderr and exits 64. Returns the index of
   the first non-option argument. */
int daemon_args_parse(int argc, char **argv, const char *prog, bool accept_spawn,
		      struct daemon_args *args_r);

#endif

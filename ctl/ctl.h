/*
 * NAME
 *	ctl 3h
 * SUMMARY
 *	authrelayctl's command table and what every command shares
 * DESCRIPTION
 *	A command is one row of ctl_commands[] (commands.c): its family
 *	("grant"), its verb ("add", or NULL for a one-word command such as
 *	"init"), its usage line and its function. Adding a command (cert,
 *	selftest) is one row and one file.
 *
 *	main() calls run(ctl, argc, argv) with the command's own arguments
 *	(after its words). run() checks them first, then loads what it needs
 *	with ctl_config() and ctl_store(), so bad arguments are exit 64 even
 *	when the database is missing. run() returns a sysexits code.
 */
#ifndef AUTHRELAY_CTL_H
#define AUTHRELAY_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "progress.h"
#include "store.h"

/* Exit codes beyond sysexits.h: a change the store refused (deny of a
   pattern that is not there, revoke of a grant that does not exist). */
#define CTL_EXIT_REFUSED 1

#define CTL_ACTOR_MAX 160

/* How long a command waits for a lock: long enough to wait out a
   daemon's write batch, short enough for a person at a terminal. */
#define CTL_BUSY_TIMEOUT_MS 5000

struct ctl {
	const char *config_path;	/* NULL: CFG_DEFAULT_PATH */
	bool json;			/* --json */
	struct authrelay_config *cfg;
	struct store *store;
	char actor[CTL_ACTOR_MAX];	/* "root (sudo: alice)" */
	int64_t now;
	FILE *out;			/* stdout; tests may redirect */
	const struct ctl_command *cmd;
	enum progress_mode progress_mode;	/* --quiet / --progress / neither */
	struct progress progress;	/* the long work's line on stderr */
	bool progress_on;		/* between ctl_progress_begin and _end */
};

typedef int ctl_run_fn(struct ctl *ctl, int argc, char **argv);

struct ctl_command {
	const char *family;		/* "grant" */
	const char *verb;		/* "add", or NULL */
	const char *args;		/* "IP [--user U] [--ttl D]" */
	const char *summary;
	ctl_run_fn *run;
};

/* The table, ended by a row with family NULL. */
extern const struct ctl_command ctl_commands[];

/* Finds the command named by argv[0] (and argv[1] for a family with
   verbs); *words_r gets how many words named it. NULL when none. */
const struct ctl_command *ctl_command_find(int argc, char **argv, int *words_r);

/* Loads ctl->cfg (once). Returns EX_OK, or EX_CONFIG after printing
   every problem as FILE:LINE: message. An explicit -c file must exist;
   without -c the defaults serve when the default file is missing. */
int ctl_config(struct ctl *ctl);

/* Loads the config and opens ctl->store (once): the database must exist
   unless create. Returns EX_OK, EX_CONFIG, or EX_UNAVAILABLE after
   saying why (a missing database is never created here). As root, a
   database whose file or directory belongs to an account other than
   root and run_user is refused with the reason and the fix. */
int ctl_store(struct ctl *ctl, bool create);

struct out_column;
struct out_table;

/* Fills t by calling one store list function with arg (the command's
   filter, or NULL); 0, or -1 with *error_r. */
typedef int ctl_list_fn(struct ctl *ctl, const void *arg, struct out_table *t,
			char **error_r);

/* A list command after its arguments were checked: opens the store,
   writes the table of ncols columns that list fills, and says "cannot
   list WHAT: why" when the store fails. Returns EX_OK, what ctl_store()
   returned, or EX_UNAVAILABLE. */
int ctl_list(struct ctl *ctl, const struct out_column *cols, size_t ncols, ctl_list_fn *list,
	     const void *arg, const char *what);

/* Starts the progress line of long work (drawn on stderr when it is a
   terminal, or with --progress; never with --quiet). The store reports
   into it (ctl_store() passes it as the store's progress function) until
   ctl_progress_end() wipes it, which the caller does before printing
   anything else. what and note are not copied. */
void ctl_progress_begin(struct ctl *ctl, const char *what, enum progress_unit unit,
			const char *note);
void ctl_progress_end(struct ctl *ctl);

/* Prints the general usage (every command) to fp. */
void ctl_usage_all(FILE *fp);

/* Prints "usage: authrelayctl ... FAMILY VERB ARGS" for one command to
   stderr, after "authrelayctl: " and msg when msg is not NULL, and
   returns EX_USAGE. */
int ctl_usage_error(const struct ctl *ctl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "authrelayctl: message" to stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fills ctl->actor: the invoking user's login name, and " (sudo: X)"
   when SUDO_USER is set (X limited to printable characters). */
void ctl_actor_init(struct ctl *ctl);

/* One command-line option of a command: "--user U" or "--user=U". */
struct ctl_option {
	const char *name;		/* "--user" */
	const char **value_r;		/* set to the value when given */
};

/* Splits argv into options (from opts) and positional arguments, of
   which there must be min_pos to max_pos; pos_r has room for max_pos.
   Returns 0, or -1 after printing the reason and the command's usage
   (the caller returns EX_USAGE). "--" ends the options. */
int ctl_args(struct ctl *ctl, int argc, char **argv, const struct ctl_option *opts,
	     const char **pos_r, int min_pos, int max_pos, int *npos_r);

/* Returns true when text is non-empty, shorter than max, and free of
   control characters (user names, fingerprints from the command line). */
bool ctl_is_plain(const char *text, size_t max);

/* Formats a Unix time as ISO-8601 UTC "2026-11-26T13:06:41Z" (the
   views' form) into buf (size at least CTL_TIME_MAX). 0 prints "". */
#define CTL_TIME_MAX 32
const char *ctl_time_format(int64_t t, char *buf, size_t size);

/* The commands (one file per family). */
ctl_run_fn cmd_init, cmd_check, cmd_prune;
ctl_run_fn cmd_grant_list, cmd_grant_add, cmd_grant_revoke;
ctl_run_fn cmd_user_list, cmd_user_suspend, cmd_user_resume;
ctl_run_fn cmd_limit_list, cmd_limit_set, cmd_limit_clear, cmd_limit_show;
ctl_run_fn cmd_sender_list, cmd_sender_allow, cmd_sender_deny;
ctl_run_fn cmd_audit;
ctl_run_fn cmd_cert_list, cmd_cert_add, cmd_cert_revoke;
ctl_run_fn cmd_selftest;
ctl_run_fn cmd_status, cmd_report;
ctl_run_fn cmd_copy;

/* Reports a store change: a human line, or {"ok":true,...} with --json;
   nothing with --quiet. */
void ctl_report_change(struct ctl *ctl, const char *action, const char *subject,
		       const char *detail);

#endif

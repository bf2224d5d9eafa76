/*
 * NAME
 *	ctl 3
 * SUMMARY
 *	what every authrelayctl command shares
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	Messages, usage lines, the actor recorded in admin_log, option
 *	parsing and time formatting. See ctl.h.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "output.h"

#define PROGNAME "authrelayctl"

static void vmessage(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, PROGNAME ": %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* ctl_error - "authrelayctl: message" */

void ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

/* ctl_warning - "authrelayctl: warning: message" */

void ctl_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

/* ctl_usage_error - the reason, then the command's usage line */

int ctl_usage_error(const struct ctl *ctl, const char *fmt, ...)
{
	const struct ctl_command *cmd = ctl->cmd;
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vmessage("", fmt, ap);
		va_end(ap);
	}
	if (cmd == NULL) {
		ctl_usage_all(stderr);
		return EX_USAGE;
	}
	fprintf(stderr, "usage: " PROGNAME " [-c FILE] [--json] %s%s%s%s%s\n", cmd->family,
		cmd->verb ? " " : "", cmd->verb ? cmd->verb : "", *cmd->args ? " " : "",
		cmd->args);
	return EX_USAGE;
}

/* copy_plain - copies up to size-1 printable ASCII bytes, others as '?' */

static void copy_plain(char *out, size_t size, const char *in)
{
	size_t i;

	for (i = 0; in[i] != 0 && i + 1 < size; i++)
		out[i] = (in[i] > 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = 0;
}

/* ctl_actor_init - who is making this change, for admin_log */

void ctl_actor_init(struct ctl *ctl)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo_user = getenv("SUDO_USER");
	char login[64];
	char sudo[64];

	/* getlogin() is not used: it names the terminal's owner (wrong under
	   su, absent under cron and in containers); the uid is who runs us. */
	if (pw != NULL && pw->pw_name != NULL && *pw->pw_name != 0)
		copy_plain(login, sizeof login, pw->pw_name);
	else
		snprintf(login, sizeof login, "uid %ld", (long)getuid());
	if (sudo_user != NULL && *sudo_user != 0) {
		copy_plain(sudo, sizeof sudo, sudo_user);
		snprintf(ctl->actor, sizeof ctl->actor, "%s (sudo: %s)", login, sudo);
	} else {
		snprintf(ctl->actor, sizeof ctl->actor, "%s", login);
	}
}

/* ctl_is_plain - a non-empty, bounded word without control characters */

bool ctl_is_plain(const char *text, size_t max)
{
	size_t len;

	if (text == NULL || *text == 0)
		return false;
	len = strlen(text);
	if (len >= max)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return false;
	return true;
}

/* ctl_time_format - ISO-8601 UTC, as the SQL views show times */

const char *ctl_time_format(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = 0;
	return buf;
}

/* find_option - the option named by arg ("--user" or "--user=x") */

static const struct ctl_option *find_option(const struct ctl_option *opts, const char *arg,
					    const char **inline_value_r)
{
	*inline_value_r = NULL;
	for (; opts != NULL && opts->name != NULL; opts++) {
		size_t len = strlen(opts->name);

		if (strncmp(arg, opts->name, len) != 0)
			continue;
		if (arg[len] == 0)
			return opts;
		if (arg[len] == '=') {
			*inline_value_r = arg + len + 1;
			return opts;
		}
	}
	return NULL;
}

/* ctl_args - options and positional arguments of one command */

int ctl_args(struct ctl *ctl, int argc, char **argv, const struct ctl_option *opts,
	     const char **pos_r, int min_pos, int max_pos, int *npos_r)
{
	bool options_done = false;
	int npos = 0;

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const struct ctl_option *opt;
		const char *value;

		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1] != 0) {
			opt = find_option(opts, arg, &value);
			if (opt == NULL) {
				ctl_usage_error(ctl, "unknown option \"%s\"", arg);
				return -1;
			}
			if (value == NULL) {
				if (i + 1 >= argc) {
					ctl_usage_error(ctl, "option %s needs a value", opt->name);
					return -1;
				}
				value = argv[++i];
			}
			*opt->value_r = value;
			continue;
		}
		if (npos >= max_pos) {
			ctl_usage_error(ctl, "unexpected argument \"%s\"", arg);
			return -1;
		}
		pos_r[npos++] = arg;
	}
	if (npos < min_pos) {
		ctl_usage_error(ctl, "missing argument");
		return -1;
	}
	if (npos_r != NULL)
		*npos_r = npos;
	return 0;
}

/* ctl_report_change - what a change did, for people or programs */

void ctl_report_change(struct ctl *ctl, const char *action, const char *subject,
		       const char *detail)
{
	if (ctl->progress_mode == PROGRESS_QUIET)
		return;
	if (ctl->json) {
		fputs("{\"ok\": true, \"action\": ", ctl->out);
		out_json_string(ctl->out, action);
		fputs(", \"subject\": ", ctl->out);
		out_json_string(ctl->out, subject);
		fputs(", \"detail\": ", ctl->out);
		out_json_string(ctl->out, detail);
		fputs(", \"actor\": ", ctl->out);
		out_json_string(ctl->out, ctl->actor);
		fputs("}\n", ctl->out);
	} else {
		out_text_value(ctl->out, action);
		fputs(": ", ctl->out);
		out_text_value(ctl->out, subject);
		if (detail != NULL && *detail != 0) {
			fputs(" (", ctl->out);
			out_text_value(ctl->out, detail);
			fputs(")", ctl->out);
		}
		fputc('\n', ctl->out);
	}
	fflush(ctl->out);
}

/* ctl_config - ctl->cfg, or EX_CONFIG with every problem printed */

int ctl_config(struct ctl *ctl)
{
	char *error = NULL;
	size_t len;

	if (ctl->cfg != NULL)
		return EX_OK;
	/* An explicit -c file must exist; without -c the defaults serve
	   when the default file is missing (a fresh install). */
	if (cfg_load(ctl->config_path, ctl->config_path == NULL, &ctl->cfg, &error) != 0) {
		if (error == NULL || *error == 0) {
			ctl_error("%s: cannot load the configuration",
				  ctl->config_path ? ctl->config_path : CFG_DEFAULT_PATH);
		} else {
			len = strlen(error);
			fputs(error, stderr);
			if (error[len - 1] != '\n')
				fputc('\n', stderr);
		}
		free(error);
		return EX_CONFIG;
	}
	log_open("authrelayctl", ctl->cfg->log_facility, ctl->progress_mode != PROGRESS_QUIET);
	log_set_level(ctl->cfg->log_level);
	return EX_OK;
}

/* owner_name - "alice (uid 1000)" */

static const char *owner_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		snprintf(buf, size, "%s (uid %ld)", pw->pw_name, (long)uid);
	else
		snprintf(buf, size, "uid %ld", (long)uid);
	return buf;
}

/* unsafe_owner - one file or directory that root must not trust: 0 when
   it is missing or owned by root or run_user */

static int unsafe_owner(const char *path, const char *what, const struct passwd *run_pw,
			const char *run_user, const char *database)
{
	char owner[128];
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	if (st.st_uid == 0 || (run_pw != NULL && st.st_uid == run_pw->pw_uid))
		return 0;
	owner_name(st.st_uid, owner, sizeof owner);
	ctl_error("refusing to work on database %s as root: %s %s belongs to %s, neither root "
		  "nor run_user %s%s; that account could change the database under root",
		  database, what, path, owner, run_user,
		  run_pw == NULL ? " (no such user)" : "");
	ctl_error("fix: %schown %s %s (run_user owns the database and its directory), "
		  "or run authrelayctl as the owner",
		  run_pw == NULL ? "create the run_user account and " : "", run_user, path);
	return -1;
}

/* What safe_file() checks against. */
struct safe_files {
	const struct passwd *pw;
	const char *run_user, *database;
};

/* safe_file - one path of the database: 0 when root may trust it */

static int safe_file(const struct store_file *f, void *ctx)
{
	static const char *const what[] = {
		[STORE_FILE_DIR] = "its directory",
		[STORE_FILE_MAIN] = "the file",
		[STORE_FILE_SIDE] = "its file",
	};
	const struct safe_files *s = ctx;

	return unsafe_owner(f->path, what[f->kind], s->pw, s->run_user, s->database);
}

/* ctl_store_safe - as root, only a database that root or run_user owns */

static int ctl_store_safe(struct ctl *ctl)
{
	const char *db = ctl->cfg->database;
	struct safe_files s;

	if (geteuid() != 0 || strstr(db, "://") != NULL || store_location_is_server(db))
		return 0;
	errno = 0;
	s.pw = getpwnam(ctl->cfg->run_user);
	s.run_user = ctl->cfg->run_user;
	s.database = db;
	/* The backend names its files (SQLite: the directory, the file,
	   -wal, -shm); -1 also when a path does not fit. */
	return store_location_files(db, safe_file, &s) != 0 ? -1 : 0;
}

/* ctl_store - ctl->store, or EX_UNAVAILABLE with the reason */

/* ctl_progress_tick - the store's progress function: rows done of a
   total, or (0, 0) "still working" */
static void ctl_progress_tick(void *ctx, uint64_t done, uint64_t total)
{
	struct ctl *ctl = ctx;

	if (!ctl->progress_on)
		return;
	/* Counted work reports its own figures; the engine's "still working"
	   ticks only matter to a busy line. */
	if (total == 0 && ctl->progress.unit != PROGRESS_BUSY)
		return;
	progress_update(&ctl->progress, done, total);
}

void ctl_progress_begin(struct ctl *ctl, const char *what, enum progress_unit unit,
			const char *note)
{
	progress_start(&ctl->progress, ctl->progress_mode, stderr, what, unit, 0);
	ctl->progress.note = note;
	ctl->progress_on = true;
}

void ctl_progress_end(struct ctl *ctl)
{
	if (ctl->progress_on)
		progress_end(&ctl->progress);
	ctl->progress_on = false;
}

int ctl_store(struct ctl *ctl, bool create)
{
	struct store_options opts = {
		.mode = create ? STORE_OPEN_CREATE : STORE_OPEN_EXISTING,
		.busy_timeout_ms = CTL_BUSY_TIMEOUT_MS,
		.decision_queue_max = 0,
		.program = "authrelayctl",
		.progress = ctl_progress_tick,
		.progress_ctx = ctl,
	};
	int rc;
	char *error = NULL;
	int status;

	if (ctl->store != NULL)
		return EX_OK;
	if ((status = ctl_config(ctl)) != EX_OK)
		return status;
	if (ctl_store_safe(ctl) != 0)
		return EX_UNAVAILABLE;
	opts.password_file = ctl->cfg->database_password_file;
	/* Opening migrates an older schema: a rewrite of a large table shows
	   a line after a second of work. */
	ctl_progress_begin(ctl, ctl->cmd != NULL ? ctl->cmd->family : "database", PROGRESS_BUSY,
			   "opening the database, applying schema migrations");
	rc = store_open(ctl->cfg->database, &opts, &ctl->store, &error);
	ctl_progress_end(ctl);
	if (rc != 0) {
		/* The store's messages name the database already. */
		if (error != NULL && strstr(error, ctl->cfg->database) != NULL)
			ctl_error("%s", error);
		else
			ctl_error("database %s: %s", ctl->cfg->database, error ? error : "cannot open");
		free(error);
		return EX_UNAVAILABLE;
	}
	return EX_OK;
}

int ctl_list(struct ctl *ctl, const struct out_column *cols, size_t ncols, ctl_list_fn *list,
	     const void *arg, const char *what)
{
	struct out_table *t;
	char *error = NULL;
	int status;

	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	t = out_table_new(ctl->out, ctl->json, cols, ncols);
	if (list(ctl, arg, t, &error) != 0) {
		out_table_end(&t);
		ctl_error("cannot list %s: %s", what, error ? error : "database error");
		free(error);
		return EX_UNAVAILABLE;
	}
	out_table_end(&t);
	return EX_OK;
}

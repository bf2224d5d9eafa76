/*
 * NAME
 *	cmd_copy 3
 * SUMMARY
 *	authrelayctl copy --to DATABASE: move a site's data to another database
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	Copies every table of the configured database (normally SQLite)
 *	into DATABASE (any location store_open() accepts: normally a
 *	postgresql:// URI or a libpq key=value string) with store_copy(),
 *	whose rules (empty target, same schema version, all or nothing) are
 *	in lib/store_copy.h. DATABASE must have been initialised by
 *	authrelayctl init; a SQLite target must exist.
 *
 *	The target's password comes from --to-password-file, read as
 *	database_password_file is (refused when group or others may read
 *	it); a password inside DATABASE itself is refused, since a command
 *	line is visible to every local user (ps).
 *
 *	Prints the rows of every table on both sides, then one summary line;
 *	on a terminal a progress line in rows counts up meanwhile. Exit 0
 *	when committed; 1 when a rule refused it or the counts differ
 *	(nothing committed); 69 when a database failed; 64 on bad arguments.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "ctl.h"
#include "output.h"
#include "store_copy.h"

static const struct out_column copy_columns[] = {
	{"table", OUT_STRING},
	{"source", OUT_INT},
	{"target", OUT_INT},
	{"note", OUT_STRING},
};
#define COPY_NCOLS (sizeof copy_columns / sizeof copy_columns[0])

/* has_inline_password - DATABASE carries a password: a URI's
   "user:secret@" or a "password=" keyword */
static bool has_inline_password(const char *location)
{
	const char *scheme = strstr(location, "://");

	if (scheme != NULL) {
		const char *auth = scheme + 3;
		size_t hostpart = strcspn(auth, "/?");
		const char *at = memchr(auth, '@', hostpart);

		if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL)
			return true;
		return strstr(location, "password=") != NULL;
	}
	for (const char *p = strstr(location, "password"); p != NULL; p = strstr(p + 1, "password")) {
		const char *q = p + 8;

		if (p != location && p[-1] != ' ' && p[-1] != '\t')
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=')
			return true;
	}
	return false;
}

/* take_flag - removes every flag (an option without a value) from
   argv before "--", *set_r true when there was one; the new argc */
static int take_flag(int argc, char **argv, const char *flag, bool *set_r)
{
	int out = 0, i;

	for (i = 0; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], flag) == 0)
			*set_r = true;
		else
			argv[out++] = argv[i];
	}
	while (i < argc)
		argv[out++] = argv[i++];
	return out;
}

/* same_database - the target is the configured database itself */
static bool same_database(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return true;
	return !store_location_is_server(a) && !store_location_is_server(b) && stat(a, &sa) == 0
	       && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* copy_progress - store_copy()'s rows into the progress line */
static void copy_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct ctl *ctl = ctx;

	if (ctl->progress_on)
		progress_update(&ctl->progress, done, total);
}

/* count_note - what a table's target figure holds besides the copied rows */
static void count_note(const struct store_copy_result *r, const struct store_copy_table *c,
		       char *note, size_t size)
{
	size_t used = 0;

	note[0] = '\0';
	if (c->target != c->source + c->kept)
		used += (size_t)snprintf(note, size, "DIFFERS: want %" PRIu64, c->source + c->kept);
	if (c->kept > 0 && used < size)
		used += (size_t)snprintf(note + used, size - used, "%s+%" PRIu64 " kept from the "
					 "target", used ? ", " : "", c->kept);
	if (c->table->keep_target && r->committed && used < size)
		used += (size_t)snprintf(note + used, size - used, "%s+1 this copy",
					 used ? ", " : "");
	if (!r->committed && used < size)
		snprintf(note + used, size - used, "%snot committed", used ? ", " : "");
}

/* print_counts - each table's rows on both sides */
static void print_counts(struct ctl *ctl, const struct store_copy_result *r)
{
	struct out_table *t = out_table_new(ctl->out, ctl->json, copy_columns, COPY_NCOLS);

	for (unsigned i = 0; i < r->ntables; i++) {
		const struct store_copy_table *c = &r->tables[i];
		char source[24], target[24], note[128];
		const char *values[COPY_NCOLS] = { c->table->name, source, target, note };
		uint64_t n = r->loaded ? c->target : c->target_before;

		snprintf(source, sizeof source, "%" PRIu64, c->source);
		if (r->loaded && c->table->keep_target && r->committed)
			n++;
		snprintf(target, sizeof target, "%" PRIu64, n);
		if (!c->target_has) {
			values[2] = NULL;
			snprintf(note, sizeof note, "no such table on the target");
		} else if (r->loaded) {
			count_note(r, c, note, sizeof note);
		} else {
			snprintf(note, sizeof note, "before the copy");
		}
		if (note[0] == '\0')
			values[3] = NULL;
		out_table_row(t, values);
	}
	out_table_end(&t);
}

/* open_target - the store of --to */
static int open_target(struct ctl *ctl, const char *location, const char *password_file,
		       struct store **store_r)
{
	struct store_options opts = {
		.mode = STORE_OPEN_EXISTING,
		.busy_timeout_ms = CTL_BUSY_TIMEOUT_MS,
		.program = "authrelayctl",
		.password_file = password_file,
	};
	char *error = NULL;

	(void)ctl;
	if (store_open(location, &opts, store_r, &error) == 0)
		return EX_OK;
	ctl_error("target %s: %s", location, error ? error : "cannot open");
	free(error);
	return EX_UNAVAILABLE;
}

/* cmd_copy - every table of the configured database into --to */
int cmd_copy(struct ctl *ctl, int argc, char **argv)
{
	const char *to = NULL, *password_file = NULL;
	bool replace = false;
	const struct ctl_option opts[] = {
		{"--to", &to},
		{"--to-password-file", &password_file},
		{NULL, NULL},
	};
	struct store_copy_options copy = { 0 };
	struct store_copy_result r;
	struct store *target = NULL;
	struct timespec t0, t1;
	char *error = NULL;
	char detail[160];
	double elapsed;
	int status, rc;

	argc = take_flag(argc, argv, "--replace", &replace);
	if (ctl_args(ctl, argc, argv, opts, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	if (to == NULL || *to == '\0')
		return ctl_usage_error(ctl, "copy needs --to DATABASE");
	if (has_inline_password(to))
		return ctl_usage_error(ctl, "--to %s holds a password, which every local user can "
				       "read on a command line; put it in a file only you can "
				       "read and give --to-password-file FILE", "DATABASE");
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	if (same_database(ctl->cfg->database, to)) {
		ctl_error("copy: --to %s is the configured database itself", to);
		return EX_USAGE;
	}
	if ((status = open_target(ctl, to, password_file, &target)) != EX_OK)
		return status;

	copy.replace = replace;
	copy.actor = ctl->actor;
	copy.source_name = ctl->cfg->database;
	copy.progress = copy_progress;
	copy.progress_ctx = ctl;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ctl_progress_begin(ctl, "copy", PROGRESS_ROWS, NULL);
	rc = store_copy(ctl->store, target, &copy, &r, &error);
	ctl_progress_end(ctl);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	store_close(&target, 0);
	elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	if (r.counted && (rc != 0 || ctl->progress_mode != PROGRESS_QUIET))
		print_counts(ctl, &r);
	if (rc != 0) {
		ctl_error("copy to %s: %s", to, error ? error : "database error");
		free(error);
		return r.refused ? CTL_EXIT_REFUSED : EX_UNAVAILABLE;
	}
	snprintf(detail, sizeof detail, "%" PRIu64 " rows from %s in %.1f s, %.0f rows/s", r.rows,
		 ctl->cfg->database, elapsed, elapsed > 0 ? (double)r.rows / elapsed : 0.0);
	ctl_report_change(ctl, "copied", to, detail);
	return EX_OK;
}

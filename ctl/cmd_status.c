/*
 * NAME
 *	cmd_status 3
 * SUMMARY
 *	authrelayctl status
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	One screen: each daemon (pidfile, up or not, version, uptime), the
 *	database (backend, size, schema, last write), live grants,
 *	decisions of the last hour by verdict and rule, each loginwatch
 *	source's last login and how far behind its checkpoint is, and
 *	store errors of the last hour. --json gives the same as one object.
 *	The decisions are read with store_audit(), which every backend
 *	serves from its time index, so the screen stays quick on a big
 *	table; the rest are questions of sql/report.sql.
 *
 *	--expect LIST names daemons that must be up whatever else is known
 *	(status_daemon.h says when a daemon otherwise counts as
 *	configured). Exit 0 when every configured daemon is up and the
 *	database answered, 1 otherwise, so monitoring scripts can run it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "ctl.h"
#include "status.h"

static const char *const status_daemon_names[STATUS_NDAEMONS] = {
	"policyd", "milter", "loginwatch",
};

/* parse_expect - "policyd,milter" into flags; -1 for an unknown name */
static int parse_expect(const char *list, bool expect_r[STATUS_NDAEMONS], const char **bad_r)
{
	static char word[64];
	const char *p = list;

	while (*p != 0) {
		size_t n = strcspn(p, ", ");
		size_t i;

		if (n > 0) {
			for (i = 0; i < STATUS_NDAEMONS; i++)
				if (strlen(status_daemon_names[i]) == n &&
				    strncmp(p, status_daemon_names[i], n) == 0)
					break;
			if (i == STATUS_NDAEMONS) {
				snprintf(word, sizeof word, "%.*s", (int)(n < 60 ? n : 60), p);
				*bad_r = word;
				return -1;
			}
			expect_r[i] = true;
		}
		p += n;
		p += strspn(p, ", ");
	}
	return 0;
}

/* file_info - size and mtime of path; false when it cannot be seen */
static bool file_info(const char *path, uint64_t *size_r, int64_t *mtime_r)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	*size_r = (uint64_t)st.st_size;
	if ((int64_t)st.st_mtime > *mtime_r)
		*mtime_r = (int64_t)st.st_mtime;
	return true;
}

/* collect_file - SQLite: the file, its -wal, and when either changed */
static void collect_file(struct status *st)
{
	char wal[4096];

	if (strcmp(st->backend, "sqlite") != 0)
		return;
	st->has_size = file_info(st->location, &st->size, &st->file_mtime);
	snprintf(wal, sizeof wal, "%s-wal", st->location);
	if (!file_info(wal, &st->wal_size, &st->file_mtime))
		st->wal_size = 0;
}

/* ask - one question; a failure is kept for the screen */
static struct report_rows *ask(struct ctl *ctl, struct status *st, const char *name, int64_t since)
{
	struct report_rows *rows = NULL;
	char *error = NULL;

	if (report_sql_run(ctl->store, name, since, &rows, &error) != 0 &&
	    st->query_error[0] == 0)
		snprintf(st->query_error, sizeof st->query_error, "%s: %s", name,
			 error ? error : "database error");
	free(error);
	return rows;
}

/* add_source - a source row, once per name */
static struct status_source *add_source(struct status *st, const char *name, bool in_config)
{
	for (size_t i = 0; i < st->nsources; i++)
		if (strcmp(st->sources[i].name, name) == 0)
			return &st->sources[i];
	if (st->nsources >= STATUS_SOURCES_MAX)
		return NULL;
	st->sources[st->nsources] = (struct status_source){ .name = name, .in_config = in_config };
	return &st->sources[st->nsources++];
}

/* collect_source_file - checkpoint against the file: how much is unread */
static void collect_source_file(struct ctl *ctl, struct status_source *s)
{
	struct store_checkpoint cp;
	struct stat sb;

	switch (store_checkpoint_get(ctl->store, s->name, &cp)) {
	case LOOKUP_FOUND:
		s->has_checkpoint = true;
		s->offset = cp.offset;
		s->checkpoint_time = cp.updated;
		break;
	case LOOKUP_NOT_FOUND:
		break;
	case LOOKUP_ERROR:
		snprintf(s->note, sizeof s->note, "checkpoint unreadable");
		return;
	}
	if (strcmp(s->name, "-") == 0 || strcmp(s->name, "journal") == 0) {
		snprintf(s->note, sizeof s->note, "not a file: no lag to measure");
		return;
	}
	if (stat(s->name, &sb) != 0) {
		snprintf(s->note, sizeof s->note, "cannot stat: %s", strerror(errno));
		return;
	}
	s->has_size = true;
	s->size = (uint64_t)sb.st_size;
	s->same_file = s->has_checkpoint && cp.dev == (uint64_t)sb.st_dev &&
		       cp.ino == (uint64_t)sb.st_ino;
	s->has_lag = true;
	/* Another file (rotated since) has not been started: all of it is
	   unread. A file shorter than the offset was truncated: loginwatch
	   starts it again from the top. */
	s->lag = s->same_file && s->offset <= s->size ? s->size - s->offset : s->size;
}

/* collect_sources - loginwatch_sources, then any other source of grant_history */
static void collect_sources(struct ctl *ctl, struct status *st)
{
	const struct cfg_list *list = &ctl->cfg->loginwatch_sources;
	struct report_rows *r = st->logins;

	for (size_t i = 0; i < list->count; i++)
		add_source(st, list->items[i], true);
	for (size_t row = 0; r != NULL && row < r->nrows; row++) {
		const char *name = report_rows_get(r, row, "source");
		struct status_source *s;

		if (name == NULL || (s = add_source(st, name, false)) == NULL)
			continue;
		s->last_login = report_rows_get(r, row, "last_login");
		s->logins = report_rows_num(r, row, "logins");
	}
	for (size_t i = 0; i < st->nsources; i++)
		if (st->sources[i].in_config)
			collect_source_file(ctl, &st->sources[i]);
}

/* collect_database - everything the database can tell */
static void collect_database(struct ctl *ctl, struct status *st)
{
	st->location = ctl->cfg->database;
	st->schema = -1;
	st->schema_latest = store_schema_latest(ctl->cfg->database);
	if (ctl_store(ctl, false) != EX_OK) {
		snprintf(st->db_error, sizeof st->db_error, "cannot open %s", ctl->cfg->database);
		return;
	}
	st->db_ok = true;
	st->schema_latest = store_schema_newest(ctl->store);
	st->backend = store_backend_name(ctl->store);
	collect_file(st);
	if (store_schema_version(ctl->store, &st->schema) != 0)
		st->schema = -1;
	st->last_write = ask(ctl, st, "last-write", 0);
	st->grants = ask(ctl, st, "active-grants", 0);
	st->logins = ask(ctl, st, "last-login", 0);
	status_decisions_collect(ctl->store, st);
	collect_sources(ctl, st);
}

/* status_has_trouble - what makes the exit status 1 */
bool status_has_trouble(const struct status *st)
{
	for (size_t i = 0; i < STATUS_NDAEMONS; i++)
		if (status_daemon_is_down(&st->daemons[i]))
			return true;
	return !st->db_ok || st->query_error[0] != 0;
}

/* use_colour - a terminal that has not asked for none */
static bool use_colour(const struct ctl *ctl)
{
	const char *no_colour = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	if (ctl->json || !isatty(fileno(ctl->out)))
		return false;
	if (no_colour != NULL && *no_colour != 0)
		return false;
	return term != NULL && *term != 0 && strcmp(term, "dumb") != 0;
}

/* cmd_status - collect, print, exit 0 or 1 */
int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	const char *expect = NULL, *bad = NULL;
	const struct ctl_option opts[] = {
		{"--expect", &expect},
		{NULL, NULL},
	};
	bool expected[STATUS_NDAEMONS] = { false };
	const char *pidfiles[STATUS_NDAEMONS];
	struct status st;
	int status;

	if (ctl_args(ctl, argc, argv, opts, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	if (expect != NULL && parse_expect(expect, expected, &bad) != 0)
		return ctl_usage_error(ctl, "--expect: \"%s\" is not policyd, milter or loginwatch",
				       bad);
	if ((status = ctl_config(ctl)) != EX_OK)
		return status;
	memset(&st, 0, sizeof st);
	st.now = ctl->now;
	st.config_path = *ctl->cfg->path ? ctl->cfg->path : "(defaults)";
	pidfiles[0] = ctl->cfg->policyd_pidfile;
	pidfiles[1] = ctl->cfg->milter_pidfile;
	pidfiles[2] = ctl->cfg->loginwatch_pidfile;
	for (size_t i = 0; i < STATUS_NDAEMONS; i++)
		status_daemon_probe(status_daemon_names[i], pidfiles[i], expected[i],
				    &st.daemons[i]);
	collect_database(ctl, &st);
	if (ctl->json)
		status_print_json(ctl->out, &st);
	else
		status_print_text(ctl->out, &st, use_colour(ctl));
	report_rows_free(&st.last_write);
	report_rows_free(&st.grants);
	report_rows_free(&st.decisions);
	report_rows_free(&st.logins);
	report_rows_free(&st.store_errors);
	return status_has_trouble(&st) ? STATUS_EXIT_TROUBLE : EX_OK;
}

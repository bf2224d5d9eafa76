/*
 * NAME
 *	status_print 3
 * SUMMARY
 *	authrelayctl status: the screen and the JSON object
 * DESCRIPTION
 *	See status.h. Text from the database (source names, times) goes
 *	through out_text_value() on the screen and out_json_string() in
 *	JSON, so a crafted value can neither move the terminal's cursor
 *	nor break the object. Colour is ANSI SGR, only when asked for.
 */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "status.h"

#define SGR_GREEN "\033[32m"
#define SGR_RED "\033[1;31m"
#define SGR_YELLOW "\033[33m"
#define SGR_DIM "\033[2m"
#define SGR_OFF "\033[0m"

/* Lag worth a yellow mark: about a minute of a busy IMAP server's log. */
#define STATUS_LAG_WARN (1024 * 1024)

/* paint - text in a colour, or plain */
static void paint(FILE *fp, bool colour, const char *sgr, const char *text)
{
	fprintf(fp, "%s%s%s", colour ? sgr : "", text, colour ? SGR_OFF : "");
}

/* pad - a value from the database in a column of width characters */
static void pad(FILE *fp, const char *value, size_t width)
{
	size_t n = value != NULL ? strlen(value) : 1;

	out_text_value(fp, value != NULL ? value : "-");
	fprintf(fp, "%*s", n < width ? (int)(width - n) : 1, "");
}

/* human_age - "3d 4h", "12m 5s", "40s" */
static const char *human_age(int64_t seconds, char *buf, size_t size)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds >= 86400)
		snprintf(buf, size, "%" PRId64 "d %" PRId64 "h", seconds / 86400,
			 seconds % 86400 / 3600);
	else if (seconds >= 3600)
		snprintf(buf, size, "%" PRId64 "h %" PRId64 "m", seconds / 3600, seconds % 3600 / 60);
	else if (seconds >= 60)
		snprintf(buf, size, "%" PRId64 "m %" PRId64 "s", seconds / 60, seconds % 60);
	else
		snprintf(buf, size, "%" PRId64 "s", seconds);
	return buf;
}

/* human_bytes - "812 B", "12.3 KiB", "4.0 MiB" */
static const char *human_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", n);
		return buf;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

static long long total_of(const struct report_rows *r, const char *col)
{
	long long total = 0;

	for (size_t i = 0; r != NULL && i < r->nrows; i++)
		total += report_rows_num(r, i, col);
	return total;
}

/* ---- the screen ---- */

static void text_daemon(FILE *fp, const struct status *st, const struct status_daemon *d,
			bool colour)
{
	char age[32];
	const char *state = status_daemon_state_name(d->state);

	fprintf(fp, "  %-11s ", d->name);
	if (!d->configured && d->state == STATUS_DAEMON_STOPPED) {
		paint(fp, colour, SGR_DIM, "-        not configured");
		fprintf(fp, " (%s)\n", d->configured_why);
		return;
	}
	paint(fp, colour, d->state == STATUS_DAEMON_UP ? SGR_GREEN : SGR_RED, state);
	fprintf(fp, "%*s", (int)(9 - strlen(state)), "");
	if (d->state == STATUS_DAEMON_UP) {
		fprintf(fp, "pid %ld", d->pid);
		fprintf(fp, ", version %s", d->version[0] ? d->version : "unknown");
		if (d->started > 0)
			fprintf(fp, ", up %s", human_age(st->now - d->started, age, sizeof age));
		if (d->binary_replaced)
			paint(fp, colour, SGR_YELLOW, ", binary replaced: restart to run it");
	} else if (d->state == STATUS_DAEMON_STALE) {
		fprintf(fp, "pidfile left by pid %ld, which is gone", d->pid);
	} else if (d->state == STATUS_DAEMON_STOPPED) {
		fputs("no pidfile", fp);
	}
	if (d->detail[0])
		fprintf(fp, " (%s)", d->detail);
	fprintf(fp, "\n  %-11s %s (%s)\n", "", d->pidfile, d->configured_why);
}

static void text_database(FILE *fp, const struct status *st, bool colour)
{
	char a[32], b[32];
	const char *newest;

	if (!st->db_ok) {
		fputs("  ", fp);
		paint(fp, colour, SGR_RED, "unavailable");
		fprintf(fp, ": %s\n", st->db_error);
		return;
	}
	fprintf(fp, "  %s  ", st->backend);
	out_text_value(fp, st->location);
	fputc('\n', fp);
	if (st->has_size)
		fprintf(fp, "  size %s (WAL %s)", human_bytes(st->size, a, sizeof a),
			human_bytes(st->wal_size, b, sizeof b));
	else
		fputs("  size unknown", fp);
	if (st->schema < 0)
		fputs(", schema unknown\n", fp);
	else
		fprintf(fp, ", schema %d%s\n", st->schema,
			st->schema == st->schema_latest ? " (current)" : " (older than this build)");
	if (st->file_mtime > 0)
		fprintf(fp, "  last write %s (%s ago)\n", ctl_time_format(st->file_mtime, a, sizeof a),
			human_age(st->now - st->file_mtime, b, sizeof b));
	fprintf(fp, "  newest decision %s", st->newest_decision[0] ? st->newest_decision : "none");
	newest = report_rows_get(st->last_write, 0, "admin_change");
	fputs(", newest admin change ", fp);
	out_text_value(fp, newest ? newest : "none");
	fputc('\n', fp);
}

static void text_decisions(FILE *fp, const struct status *st)
{
	const struct report_rows *r = st->decisions;

	fprintf(fp, "  %lld in the last hour\n", total_of(r, "decisions"));
	for (size_t i = 0; r != NULL && i < r->nrows; i++) {
		const char *verdict = report_rows_get(r, i, "verdict");
		const char *rule = report_rows_get(r, i, "rule");

		fputs("  ", fp);
		pad(fp, verdict, 10);
		pad(fp, rule, 17);
		fprintf(fp, "%7lld\n", report_rows_num(r, i, "decisions"));
	}
}

static void text_sources(FILE *fp, const struct status *st, bool colour)
{
	char a[32], b[32];

	if (st->nsources == 0) {
		fputs("  no sources (loginwatch_sources is empty)\n", fp);
		return;
	}
	for (size_t i = 0; i < st->nsources; i++) {
		const struct status_source *s = &st->sources[i];

		fputs("  ", fp);
		out_text_value(fp, s->name);
		fputs(s->in_config ? "\n" : " (not in loginwatch_sources)\n", fp);
		fputs("    last login ", fp);
		out_text_value(fp, s->last_login ? s->last_login : "none seen");
		if (s->has_lag) {
			fprintf(fp, ", read %" PRIu64 " of %" PRIu64 " bytes, lag ",
				s->same_file ? s->offset : 0, s->size);
			paint(fp, colour && s->lag >= STATUS_LAG_WARN, SGR_YELLOW,
			      human_bytes(s->lag, a, sizeof a));
			if (!s->same_file)
				fputs(s->has_checkpoint ? " (the file was rotated since the checkpoint)"
							: " (no checkpoint yet)",
				      fp);
		}
		if (s->checkpoint_time > 0)
			fprintf(fp, ", checkpoint %s ago", human_age(st->now - s->checkpoint_time, b,
								     sizeof b));
		if (s->note[0])
			fprintf(fp, " (%s)", s->note);
		fputc('\n', fp);
	}
}

static void text_store_errors(FILE *fp, const struct status *st, bool colour)
{
	const struct report_rows *r = st->store_errors;
	long long total = total_of(r, "errors");
	char count[32];

	if (total == 0) {
		fputs("  none in the last hour\n", fp);
		return;
	}
	snprintf(count, sizeof count, "%lld", total);
	fputs("  ", fp);
	paint(fp, colour, SGR_YELLOW, count);
	fputs(" in the last hour:", fp);
	for (size_t i = 0; i < r->nrows; i++) {
		fputs(i ? ", " : " ", fp);
		out_text_value(fp, report_rows_get(r, i, "program"));
		fprintf(fp, " %lld (last ", report_rows_num(r, i, "errors"));
		out_text_value(fp, report_rows_get(r, i, "last"));
		fputc(')', fp);
	}
	fputc('\n', fp);
}

/* text_verdict - the last line: ok, or what is wrong */
static void text_verdict(FILE *fp, const struct status *st, bool colour)
{
	char line[256] = "trouble:";
	size_t n = strlen(line);

	if (!status_has_trouble(st)) {
		paint(fp, colour, SGR_GREEN, "ok: every configured daemon is up");
		fputc('\n', fp);
		return;
	}
	for (size_t i = 0; i < STATUS_NDAEMONS; i++)
		if (status_daemon_is_down(&st->daemons[i]))
			n += (size_t)snprintf(line + n, sizeof line - n, " %s %s;",
					      st->daemons[i].name,
					      status_daemon_state_name(st->daemons[i].state));
	if (!st->db_ok || st->query_error[0])
		snprintf(line + n, sizeof line - n, " the database did not answer;");
	line[strlen(line) - 1] = 0;
	paint(fp, colour, SGR_RED, line);
	fputc('\n', fp);
}

/* status_print_text - one screen */
void status_print_text(FILE *fp, const struct status *st, bool colour)
{
	char now[CTL_TIME_MAX];

	fprintf(fp, "authrelay status at %s, config ", ctl_time_format(st->now, now, sizeof now));
	out_text_value(fp, st->config_path);
	fputs("\n\ndaemons\n", fp);
	for (size_t i = 0; i < STATUS_NDAEMONS; i++)
		text_daemon(fp, st, &st->daemons[i], colour);
	fputs("\ndatabase\n", fp);
	text_database(fp, st, colour);
	if (st->db_ok) {
		fprintf(fp, "\ngrants\n  %lld active\n", report_rows_num(st->grants, 0, "grants"));
		fputs("\ndecisions\n", fp);
		text_decisions(fp, st);
		fputs("\nloginwatch sources\n", fp);
		text_sources(fp, st, colour);
		fputs("\nstore errors (decisions answered with on_store_error)\n", fp);
		text_store_errors(fp, st, colour);
	}
	if (st->query_error[0]) {
		fputs("\n", fp);
		paint(fp, colour, SGR_RED, "database error");
		fputs(": ", fp);
		out_text_value(fp, st->query_error);
		fputc('\n', fp);
	}
	fputs("\n", fp);
	text_verdict(fp, st, colour);
}

/* ---- JSON ---- */

static void json_key(FILE *fp, const char *key, bool first)
{
	fprintf(fp, "%s\"%s\":", first ? "" : ",", key);
}

static void json_str(FILE *fp, const char *key, const char *value, bool first)
{
	json_key(fp, key, first);
	out_json_string(fp, value);
}

static void json_time(FILE *fp, const char *key, int64_t t, bool first)
{
	char buf[CTL_TIME_MAX];

	json_str(fp, key, t > 0 ? ctl_time_format(t, buf, sizeof buf) : NULL, first);
}

/* json_rows - an answer as an array of objects; numbers where cols says */
static void json_rows(FILE *fp, const struct report_rows *r, const char *const *numeric)
{
	fputc('[', fp);
	for (size_t i = 0; r != NULL && i < r->nrows; i++) {
		fputs(i ? ",{" : "{", fp);
		for (size_t c = 0; c < r->ncols; c++) {
			bool num = false;

			for (const char *const *n = numeric; *n != NULL; n++)
				num = num || strcmp(*n, r->names[c]) == 0;
			json_key(fp, r->names[c], c == 0);
			if (num)
				fprintf(fp, "%lld", report_rows_num(r, i, r->names[c]));
			else
				out_json_string(fp, r->cells[i * r->ncols + c]);
		}
		fputc('}', fp);
	}
	fputc(']', fp);
}

static void json_daemon(FILE *fp, const struct status *st, const struct status_daemon *d)
{
	fputc('{', fp);
	json_str(fp, "name", d->name, true);
	json_str(fp, "pidfile", d->pidfile, false);
	fprintf(fp, ",\"configured\":%s", d->configured ? "true" : "false");
	json_str(fp, "configured_why", d->configured_why, false);
	json_str(fp, "state", status_daemon_state_name(d->state), false);
	fprintf(fp, ",\"up\":%s", d->state == STATUS_DAEMON_UP ? "true" : "false");
	json_key(fp, "pid", false);
	d->pid > 0 ? fprintf(fp, "%ld", d->pid) : fputs("null", fp);
	json_str(fp, "version", d->version[0] ? d->version : NULL, false);
	json_time(fp, "started", d->started, false);
	json_key(fp, "uptime_seconds", false);
	d->started > 0 ? fprintf(fp, "%" PRId64, st->now - d->started) : fputs("null", fp);
	fprintf(fp, ",\"binary_replaced\":%s", d->binary_replaced ? "true" : "false");
	json_str(fp, "detail", d->detail[0] ? d->detail : NULL, false);
	fputc('}', fp);
}

static void json_source(FILE *fp, const struct status_source *s)
{
	fputc('{', fp);
	json_str(fp, "source", s->name, true);
	fprintf(fp, ",\"in_config\":%s", s->in_config ? "true" : "false");
	json_str(fp, "last_login", s->last_login, false);
	fprintf(fp, ",\"logins\":%lld", s->logins);
	json_key(fp, "checkpoint_offset", false);
	s->has_checkpoint ? fprintf(fp, "%" PRIu64, s->offset) : fputs("null", fp);
	json_time(fp, "checkpoint_time", s->checkpoint_time, false);
	json_key(fp, "file_size", false);
	s->has_size ? fprintf(fp, "%" PRIu64, s->size) : fputs("null", fp);
	json_key(fp, "lag_bytes", false);
	s->has_lag ? fprintf(fp, "%" PRIu64, s->lag) : fputs("null", fp);
	fprintf(fp, ",\"same_file\":%s", s->same_file ? "true" : "false");
	json_str(fp, "note", s->note[0] ? s->note : NULL, false);
	fputc('}', fp);
}

/* status_print_json - one object */
void status_print_json(FILE *fp, const struct status *st)
{
	static const char *const counts[] = { "decisions", "errors", NULL };

	fputc('{', fp);
	json_time(fp, "time", st->now, true);
	json_str(fp, "config", st->config_path, false);
	fprintf(fp, ",\"ok\":%s,\"daemons\":[", status_has_trouble(st) ? "false" : "true");
	for (size_t i = 0; i < STATUS_NDAEMONS; i++) {
		fputs(i ? "," : "", fp);
		json_daemon(fp, st, &st->daemons[i]);
	}
	fputs("],\"database\":{", fp);
	fprintf(fp, "\"ok\":%s", st->db_ok ? "true" : "false");
	json_str(fp, "error", st->db_ok ? NULL : st->db_error, false);
	json_str(fp, "location", st->location, false);
	json_str(fp, "backend", st->backend, false);
	json_key(fp, "size_bytes", false);
	st->has_size ? fprintf(fp, "%" PRIu64, st->size) : fputs("null", fp);
	json_key(fp, "wal_bytes", false);
	st->has_size ? fprintf(fp, "%" PRIu64, st->wal_size) : fputs("null", fp);
	json_key(fp, "schema_version", false);
	st->schema >= 0 ? fprintf(fp, "%d", st->schema) : fputs("null", fp);
	fprintf(fp, ",\"schema_latest\":%d", st->schema_latest);
	json_time(fp, "last_write", st->file_mtime, false);
	json_str(fp, "newest_decision", st->newest_decision[0] ? st->newest_decision : NULL, false);
	json_str(fp, "newest_grant_event", report_rows_get(st->last_write, 0, "grant_event"), false);
	json_str(fp, "newest_admin_change", report_rows_get(st->last_write, 0, "admin_change"),
		 false);
	fputs("},\"grants_active\":", fp);
	st->grants ? fprintf(fp, "%lld", report_rows_num(st->grants, 0, "grants")) : fputs("null", fp);
	fprintf(fp, ",\"decisions_last_hour\":{\"total\":%lld,\"by_rule\":",
		total_of(st->decisions, "decisions"));
	json_rows(fp, st->decisions, counts);
	fputs("},\"loginwatch\":[", fp);
	for (size_t i = 0; i < st->nsources; i++) {
		fputs(i ? "," : "", fp);
		json_source(fp, &st->sources[i]);
	}
	fprintf(fp, "],\"store_errors_last_hour\":{\"total\":%lld,\"by_program\":",
		total_of(st->store_errors, "errors"));
	json_rows(fp, st->store_errors, counts);
	fputc('}', fp);
	json_str(fp, "query_error", st->query_error[0] ? st->query_error : NULL, false);
	fputs("}\n", fp);
}

/*
 * NAME
 *	cmd_report 3
 * SUMMARY
 *	authrelayctl report
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	A summary of the last --since D (default 1d) for people, in the
 *	spirit of pflogsumm: totals, relayed and refused by rule, the
 *	clients refused most, the top senders and users, grants and where
 *	they came from, sending-limit refusals, admin changes. Text by
 *	default (--json: one object); --html FILE writes one
 *	self-contained page with charts instead (the text is not printed
 *	then). Everything comes from the audit views (sql/report.sql), so
 *	any backend serves it.
 *
 *	The HTML file is written beside its final name and renamed into
 *	place, so a web server never shows half a report.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "ctl.h"
#include "duration.h"
#include "report.h"

#define REPORT_DEFAULT_SINCE "1d"

const struct report_section report_sections[REPORT_NSECTIONS] = {
	[REPORT_RELAYED] = { "Relayed by rule", "relayed-by-rule", "nothing relayed" },
	[REPORT_REFUSED] = { "Refused by rule", "refused-by-rule", "nothing refused" },
	[REPORT_TOP_REFUSED] = { "Top refused clients", "top-refused-clients", "none" },
	[REPORT_TOP_SENDERS] = { "Top senders (relayed)", "top-senders", "none" },
	[REPORT_TOP_USERS] = { "Top SASL users", "top-users", "none" },
	[REPORT_GRANTS] = { "Grants and their sources", "grants-by-source", "none" },
	[REPORT_LIMITS] = { "Sending-limit refusals (rule rate_limit)", "limit-breaches", "none" },
	[REPORT_ADMIN] = { "Admin changes", "admin-changes", "none" },
};

/* report_column_is_count - the columns that hold numbers */
bool report_column_is_count(const char *name)
{
	static const char *const counts[] = {
		"decisions", "relayed", "refused", "rejected", "tempfailed", "no_opinion",
		"clients", "users", "grants", "addresses", "logins", "errors",
	};

	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		if (strcmp(name, counts[i]) == 0)
			return true;
	return false;
}

/* report_grants_total - grants made in the window */
long long report_grants_total(const struct report *r)
{
	const struct report_rows *g = r->sections[REPORT_GRANTS];
	long long total = 0;

	for (size_t i = 0; g != NULL && i < g->nrows; i++)
		total += report_rows_num(g, i, "grants");
	return total;
}

/* report_collect - every question; 0, or -1 after saying which failed */
static int report_collect(struct ctl *ctl, struct report *r)
{
	struct report_rows **answers[REPORT_NSECTIONS + 3];
	const char *names[REPORT_NSECTIONS + 3];
	size_t n = 0;
	char *error = NULL;

	answers[n] = &r->totals;
	names[n++] = "totals";
	answers[n] = &r->per_hour;
	names[n++] = "decisions-per-hour";
	answers[n] = &r->grants_per_hour;
	names[n++] = "grants-per-hour";
	for (size_t i = 0; i < REPORT_NSECTIONS; i++) {
		answers[n] = &r->sections[i];
		names[n++] = report_sections[i].query;
	}
	for (size_t i = 0; i < n; i++) {
		if (report_sql_run(ctl->store, names[i], r->since, answers[i], &error) != 0) {
			ctl_error("report: %s", error ? error : names[i]);
			free(error);
			return -1;
		}
	}
	return 0;
}

static void report_free(struct report *r)
{
	report_rows_free(&r->totals);
	report_rows_free(&r->per_hour);
	report_rows_free(&r->grants_per_hour);
	for (size_t i = 0; i < REPORT_NSECTIONS; i++)
		report_rows_free(&r->sections[i]);
}

/* write_html - FILE.tmp, then rename: never half a page under FILE */
static int write_html(const struct report *r, const char *path)
{
	char *tmp;
	FILE *fp;
	int ok;

	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		ctl_error("out of memory");
		return EX_OSERR;
	}
	if ((fp = fopen(tmp, "w")) == NULL) {
		ctl_error("cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		return EX_CANTCREAT;
	}
	report_write_html(fp, r);
	ok = fflush(fp) == 0 && !ferror(fp);
	ok = (fclose(fp) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		ctl_error("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return EX_IOERR;
	}
	free(tmp);
	return EX_OK;
}

/* cmd_report - ask, then write text, JSON or HTML */
int cmd_report(struct ctl *ctl, int argc, char **argv)
{
	const char *since = REPORT_DEFAULT_SINCE, *html = NULL;
	const struct ctl_option opts[] = {
		{"--since", &since},
		{"--html", &html},
		{NULL, NULL},
	};
	struct report r;
	long long seconds;
	char *error = NULL;
	int status;

	if (ctl_args(ctl, argc, argv, opts, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	if (duration_parse(since, &seconds, &error) != 0 || seconds <= 0) {
		status = ctl_usage_error(ctl, "--since: %s", error ? error : "want a duration above 0");
		free(error);
		return status;
	}
	if (html != NULL && *html == 0)
		return ctl_usage_error(ctl, "--html: a file name");
	if (html != NULL && ctl->json)
		return ctl_usage_error(ctl, "--html and --json: choose one");
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	memset(&r, 0, sizeof r);
	r.until = ctl->now;
	/* Nothing is older than 1970: a longer window starts at its first
	   second (0 would print as no time at all). */
	r.since = seconds < ctl->now ? ctl->now - seconds : 1;
	if (gethostname(r.host, sizeof r.host) != 0)
		r.host[0] = 0;
	r.host[sizeof r.host - 1] = 0;
	if (report_collect(ctl, &r) != 0) {
		report_free(&r);
		return EX_UNAVAILABLE;
	}
	if (html != NULL)
		status = write_html(&r, html);
	else
		report_write_text(ctl->out, &r, ctl->json);
	report_free(&r);
	return status;
}

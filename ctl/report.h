/*
 * NAME
 *	report 3h
 * SUMMARY
 *	what authrelayctl report found, and its writers
 * DESCRIPTION
 *	cmd_report.c asks sql/report.sql's questions for one window (the
 *	last --since D, a day by default) and keeps the answers here;
 *	report_text.c writes them for a terminal or a mail (or as JSON),
 *	report_html.c as one self-contained HTML file with inline SVG
 *	charts. The sections are one table (report_sections[]), so the
 *	writers cannot disagree on what a report holds.
 */
#ifndef AUTHRELAY_CTL_REPORT_H
#define AUTHRELAY_CTL_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report_sql.h"

/* One section of the report after the totals: a query and what its
   rows are. */
struct report_section {
	const char *title;	/* "Relayed by rule" */
	const char *query;	/* "relayed-by-rule" (sql/report.sql) */
	const char *none;	/* what an empty answer says */
};

enum {
	REPORT_RELAYED,
	REPORT_REFUSED,
	REPORT_TOP_REFUSED,
	REPORT_TOP_SENDERS,
	REPORT_TOP_USERS,
	REPORT_GRANTS,
	REPORT_LIMITS,
	REPORT_ADMIN,
	REPORT_NSECTIONS
};

extern const struct report_section report_sections[REPORT_NSECTIONS];

struct report {
	int64_t since, until;		/* the window, Unix seconds */
	char host[256];			/* this host's name, for the title */
	struct report_rows *totals;	/* one row: decisions, relayed, ... */
	struct report_rows *sections[REPORT_NSECTIONS];
	struct report_rows *per_hour;	/* hour, verdict, decisions */
	struct report_rows *grants_per_hour; /* hour, grants */
};

/* Returns true when a column of an answer holds a count (JSON number,
   right-aligned). */
bool report_column_is_count(const char *name);

/* Grants made in the window: the sum of the grants column of the
   grants-by-source answer. */
long long report_grants_total(const struct report *r);

/* Writes the report as text (pflogsumm-like sections), or as one JSON
   object when json. */
void report_write_text(FILE *fp, const struct report *r, bool json);

/* Writes the report as one HTML document: inline CSS, inline SVG
   charts, no script, nothing fetched. Every value from the database is
   escaped (out_html_text). */
void report_write_html(FILE *fp, const struct report *r);

#endif

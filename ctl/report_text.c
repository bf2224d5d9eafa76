/*
 * NAME
 *	report_text 3
 * SUMMARY
 *	authrelayctl report as text (or JSON)
 * DESCRIPTION
 *	See report.h. The sections are tables written by output.c, which
 *	shows control characters from the database as '?', so a crafted
 *	user name cannot move the cursor of the terminal that reads the
 *	report. The JSON form is one object: "window", "totals", then one
 *	array per question, named as in sql/report.sql.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "report.h"

/* The lines of the grand totals: a column of the totals answer and
   what it counts. */
static const struct {
	const char *column;
	const char *label;
} report_total_lines[] = {
	{ "decisions", "decisions (one per recipient)" },
	{ "relayed", "relayed" },
	{ "rejected", "rejected" },
	{ "tempfailed", "temporary failures (store errors, sending limits)" },
	{ "no_opinion", "no opinion (Postfix refused the relay unless the recipient was local)" },
	{ "clients", "client addresses" },
	{ "users", "SASL users" },
};

/* write_rows - one answer as a table, text or JSON */
static void write_rows(FILE *fp, const struct report_rows *rows, bool json)
{
	struct out_column *cols;
	struct out_table *t;

	if ((cols = calloc(rows->ncols ? rows->ncols : 1, sizeof *cols)) == NULL)
		abort();
	for (size_t c = 0; c < rows->ncols; c++)
		cols[c] = (struct out_column){ rows->names[c],
					       report_column_is_count(rows->names[c]) ? OUT_INT
										     : OUT_STRING };
	t = out_table_new(fp, json, cols, rows->ncols);
	for (size_t i = 0; i < rows->nrows; i++)
		out_table_row(t, (const char *const *)&rows->cells[i * rows->ncols]);
	out_table_end(&t);
	free(cols);
}

static void underline(FILE *fp, const char *title)
{
	fprintf(fp, "\n%s\n", title);
	for (size_t i = strlen(title); i > 0; i--)
		fputc('-', fp);
	fputc('\n', fp);
}

static void write_json(FILE *fp, const struct report *r)
{
	char since[CTL_TIME_MAX], until[CTL_TIME_MAX];

	fputs("{\"host\":", fp);
	out_json_string(fp, r->host);
	fprintf(fp, ",\"since\":\"%s\",\"until\":\"%s\",\"totals\":{",
		ctl_time_format(r->since, since, sizeof since),
		ctl_time_format(r->until, until, sizeof until));
	for (size_t i = 0; i < sizeof report_total_lines / sizeof report_total_lines[0]; i++)
		fprintf(fp, "%s\"%s\":%lld", i ? "," : "", report_total_lines[i].column,
			report_rows_num(r->totals, 0, report_total_lines[i].column));
	fprintf(fp, ",\"grants\":%lld}", report_grants_total(r));
	for (size_t i = 0; i < REPORT_NSECTIONS; i++) {
		fprintf(fp, ",\"%s\":", report_sections[i].query);
		write_rows(fp, r->sections[i], true);
	}
	fputs(",\"decisions-per-hour\":", fp);
	write_rows(fp, r->per_hour, true);
	fputs(",\"grants-per-hour\":", fp);
	write_rows(fp, r->grants_per_hour, true);
	fputs("}\n", fp);
}

/* report_write_text - the pflogsumm-like summary */
void report_write_text(FILE *fp, const struct report *r, bool json)
{
	char since[CTL_TIME_MAX], until[CTL_TIME_MAX];

	if (json) {
		write_json(fp, r);
		return;
	}
	fputs("authrelay report", fp);
	if (r->host[0]) {
		fputs(" for ", fp);
		out_text_value(fp, r->host);
	}
	fprintf(fp, "\n%s to %s\n", ctl_time_format(r->since, since, sizeof since),
		ctl_time_format(r->until, until, sizeof until));
	underline(fp, "Grand totals");
	for (size_t i = 0; i < sizeof report_total_lines / sizeof report_total_lines[0]; i++)
		fprintf(fp, "%8lld  %s\n", report_rows_num(r->totals, 0, report_total_lines[i].column),
			report_total_lines[i].label);
	fprintf(fp, "%8lld  %s\n", report_grants_total(r), "grants made (logins and manual)");
	for (size_t i = 0; i < REPORT_NSECTIONS; i++) {
		underline(fp, report_sections[i].title);
		if (r->sections[i]->nrows == 0)
			fprintf(fp, "%s\n", report_sections[i].none);
		else
			write_rows(fp, r->sections[i], false);
	}
}

/*
 * NAME
 *	report_html 3
 * SUMMARY
 *	authrelayctl report --html: one self-contained page
 * DESCRIPTION
 *	See report.h. The page needs nothing but itself: the style sheet
 *	is inline, the charts are inline SVG (svg_chart.c), there is no
 *	script and nothing is fetched, so it can be mailed, archived or
 *	served as a static file. User names, addresses and log sources are
 *	text an attacker can choose: every value from the database goes
 *	through out_html_text().
 *
 *	Elements carry the column names of sql/report.sql (id of a table =
 *	the query's name, data-col of a cell = its column), so scripts and
 *	tests can read the numbers back.
 *
 *	Charts have one bar per hour of the window, or per day when the
 *	window is longer than REPORT_HOURLY_MAX hours.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "output.h"
#include "report.h"
#include "svg_chart.h"

#ifndef AUTHRELAY_VERSION
#define AUTHRELAY_VERSION "unknown"
#endif

/* Above three days of hourly bars, a bar is a day: 72 bars still fit a
   screen's width with room for each. */
#define REPORT_HOURLY_MAX 72
#define REPORT_CHART_W 1100
#define REPORT_CHART_H 300

static const struct svg_series verdict_series[] = {
	{ "permit", "#2e7d32" },
	{ "reject", "#c62828" },
	{ "tempfail", "#ef6c00" },
	{ "dunno", "#9e9e9e" },
};
#define NVERDICTS (sizeof verdict_series / sizeof verdict_series[0])

static const struct svg_series grant_series[] = { { "grants", "#1565c0" } };

static const char report_css[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1b1b;"
	"margin:2em auto;max-width:1150px;padding:0 1em;background:#fafafa}"
	"h1{font-size:1.6em;margin:0}h2{font-size:1.15em;margin:1.8em 0 .5em;"
	"border-bottom:1px solid #ddd;padding-bottom:.2em}"
	".window{color:#555;margin:.2em 0 1.2em}"
	".totals{display:flex;flex-wrap:wrap;gap:.6em}"
	".total{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5em .9em;"
	"min-width:8.5em}.total .n{display:block;font-size:1.5em;font-weight:600}"
	".total .l{color:#555;font-size:.85em}"
	".permit .n{color:#2e7d32}.reject .n{color:#c62828}.tempfail .n{color:#ef6c00}"
	".dunno .n{color:#757575}"
	"table{border-collapse:collapse;background:#fff;border:1px solid #ddd;min-width:40%}"
	"th,td{padding:.3em .8em;border-bottom:1px solid #eee;text-align:left;"
	"font-variant-numeric:tabular-nums;overflow-wrap:anywhere}"
	"th{background:#f0f0f0;font-weight:600}td.num,th.num{text-align:right}"
	".none{color:#777;font-style:italic}"
	"svg.chart{width:100%;height:auto;background:#fff;border:1px solid #ddd;border-radius:6px}"
	".grid{stroke:#e6e6e6}.axis{stroke:#888}"
	".ylabel{font-size:11px;fill:#555;text-anchor:end}"
	".xlabel{font-size:11px;fill:#555;text-anchor:middle}"
	".legend{font-size:12px;fill:#333}.empty{font-size:14px;fill:#888;text-anchor:middle}"
	"footer{color:#777;font-size:.85em;margin:2.5em 0 1em}";

/* The totals shown as boxes: a column of the totals answer, its label,
   and a class that colours it. */
static const struct {
	const char *column, *label, *class;
} html_totals[] = {
	{ "decisions", "decisions", "" },
	{ "relayed", "relayed", "permit" },
	{ "rejected", "rejected", "reject" },
	{ "tempfailed", "temporary failures", "tempfail" },
	{ "no_opinion", "no opinion", "dunno" },
	{ "clients", "client addresses", "" },
	{ "users", "SASL users", "" },
};

/* html_table - one answer as a table, or a line saying there is none */
static void html_table(FILE *fp, const char *id, const struct report_rows *r, const char *none)
{
	if (r->nrows == 0) {
		fprintf(fp, "<p class=\"none\" id=\"%s\">", id);
		out_html_text(fp, none);
		fputs("</p>\n", fp);
		return;
	}
	fprintf(fp, "<table id=\"%s\">\n<tr>", id);
	for (size_t c = 0; c < r->ncols; c++) {
		fprintf(fp, "<th%s>", report_column_is_count(r->names[c]) ? " class=\"num\"" : "");
		out_html_text(fp, r->names[c]);
		fputs("</th>", fp);
	}
	fputs("</tr>\n", fp);
	for (size_t i = 0; i < r->nrows; i++) {
		fputs("<tr>", fp);
		for (size_t c = 0; c < r->ncols; c++) {
			const char *v = r->cells[i * r->ncols + c];

			fprintf(fp, "<td%s data-col=\"", report_column_is_count(r->names[c])
								 ? " class=\"num\"" : "");
			out_html_text(fp, r->names[c]);
			fputs("\">", fp);
			out_html_text(fp, v != NULL ? v : "-");
			fputs("</td>", fp);
		}
		fputs("</tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

/* A chart's bars: one per hour (or day) of the window. */
struct buckets {
	int64_t start, step;
	size_t n;
	char (*labels)[24];
	const char **label_ptrs;
	long long *values;	/* n * nseries */
};

/* bucket_step - an hour, or a day for a window above REPORT_HOURLY_MAX hours */
static int64_t bucket_step(const struct report *r)
{
	return (r->until - r->since) / 3600 + 1 > REPORT_HOURLY_MAX ? 86400 : 3600;
}

static void buckets_init(struct buckets *b, const struct report *r, size_t nseries)
{
	b->step = bucket_step(r);
	b->start = r->since - r->since % b->step;
	b->n = (size_t)((r->until - b->start) / b->step + 1);
	b->labels = calloc(b->n, sizeof *b->labels);
	b->label_ptrs = calloc(b->n, sizeof *b->label_ptrs);
	b->values = calloc(b->n * nseries, sizeof *b->values);
	if (b->labels == NULL || b->label_ptrs == NULL || b->values == NULL)
		abort();
	for (size_t i = 0; i < b->n; i++) {
		time_t t = (time_t)(b->start + (int64_t)i * b->step);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(b->labels[i], sizeof b->labels[i],
			 b->step == 3600 ? "%m-%d %H:00" : "%Y-%m-%d", &tm);
		b->label_ptrs[i] = b->labels[i];
	}
}

/* bucket_of - the bar of an hour "2026-12-05T08"; -1 outside the window */
static long bucket_of(const struct buckets *b, const char *hour)
{
	struct tm tm;
	const char *end;
	int64_t t;

	memset(&tm, 0, sizeof tm);
	if (hour == NULL || (end = strptime(hour, "%Y-%m-%dT%H", &tm)) == NULL || *end != 0)
		return -1;
	t = (int64_t)timegm(&tm);
	if (t < b->start)
		return -1;
	t = (t - b->start) / b->step;
	return t < (int64_t)b->n ? (long)t : -1;
}

static void buckets_free(struct buckets *b)
{
	free(b->labels);
	free(b->label_ptrs);
	free(b->values);
}

/* chart_decisions - decisions per hour, stacked by verdict */
static void chart_decisions(FILE *fp, const struct report *r)
{
	struct buckets b;
	struct svg_bars c;

	buckets_init(&b, r, NVERDICTS);
	for (size_t i = 0; i < r->per_hour->nrows; i++) {
		long bar = bucket_of(&b, report_rows_get(r->per_hour, i, "hour"));
		const char *verdict = report_rows_get(r->per_hour, i, "verdict");

		for (size_t s = 0; bar >= 0 && verdict != NULL && s < NVERDICTS; s++)
			if (strcmp(verdict, verdict_series[s].name) == 0)
				b.values[(size_t)bar * NVERDICTS + s] +=
					report_rows_num(r->per_hour, i, "decisions");
	}
	c = (struct svg_bars){ b.step == 3600 ? "decisions per hour by verdict"
					       : "decisions per day by verdict",
			       b.n, NVERDICTS, b.label_ptrs, verdict_series, b.values,
			       REPORT_CHART_W, REPORT_CHART_H };
	svg_chart_bars(fp, &c);
	buckets_free(&b);
}

/* chart_grants - grants made per hour */
static void chart_grants(FILE *fp, const struct report *r)
{
	struct buckets b;
	struct svg_bars c;

	buckets_init(&b, r, 1);
	for (size_t i = 0; i < r->grants_per_hour->nrows; i++) {
		long bar = bucket_of(&b, report_rows_get(r->grants_per_hour, i, "hour"));

		if (bar >= 0)
			b.values[bar] += report_rows_num(r->grants_per_hour, i, "grants");
	}
	c = (struct svg_bars){ b.step == 3600 ? "grants per hour" : "grants per day", b.n, 1,
			       b.label_ptrs, grant_series, b.values, REPORT_CHART_W,
			       REPORT_CHART_H * 2 / 3 };
	svg_chart_bars(fp, &c);
	buckets_free(&b);
}

static void html_totals_boxes(FILE *fp, const struct report *r)
{
	fputs("<div class=\"totals\">\n", fp);
	for (size_t i = 0; i < sizeof html_totals / sizeof html_totals[0]; i++)
		fprintf(fp, "<div class=\"total %s\" id=\"total-%s\"><span class=\"n\">%lld</span>"
			    "<span class=\"l\">%s</span></div>\n",
			html_totals[i].class, html_totals[i].column,
			report_rows_num(r->totals, 0, html_totals[i].column), html_totals[i].label);
	fprintf(fp, "<div class=\"total\" id=\"total-grants\"><span class=\"n\">%lld</span>"
		    "<span class=\"l\">grants made</span></div>\n</div>\n",
		report_grants_total(r));
}

/* report_write_html - the page */
void report_write_html(FILE *fp, const struct report *r)
{
	char since[CTL_TIME_MAX], until[CTL_TIME_MAX];
	bool hourly = bucket_step(r) == 3600;

	ctl_time_format(r->since, since, sizeof since);
	ctl_time_format(r->until, until, sizeof until);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>authrelay report ",
	      fp);
	out_html_text(fp, r->host);
	fprintf(fp, " %s</title>\n<style>%s</style>\n</head>\n<body>\n<h1>authrelay report", since,
		report_css);
	if (r->host[0]) {
		fputs(" for ", fp);
		out_html_text(fp, r->host);
	}
	fprintf(fp, "</h1>\n<p class=\"window\">%s to %s (UTC)</p>\n", since, until);
	html_totals_boxes(fp, r);
	fprintf(fp, "<h2>Decisions per %s by verdict</h2>\n", hourly ? "hour" : "day");
	chart_decisions(fp, r);
	fprintf(fp, "<h2>Grants per %s</h2>\n", hourly ? "hour" : "day");
	chart_grants(fp, r);
	for (size_t i = 0; i < REPORT_NSECTIONS; i++) {
		fputs("<h2>", fp);
		out_html_text(fp, report_sections[i].title);
		fputs("</h2>\n", fp);
		html_table(fp, report_sections[i].query, r->sections[i], report_sections[i].none);
	}
	fprintf(fp, "<footer>Made by authrelayctl %s at %s from the audit views "
		    "(decisions, grant_history, admin_log). dunno: authrelay had no opinion, and "
		    "Postfix refused the relay unless the recipient was local.</footer>\n</body>\n</html>\n",
		AUTHRELAY_VERSION, until);
}

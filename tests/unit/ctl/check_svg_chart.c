/*
 * NAME
 *	check_svg_chart 1
 * SUMMARY
 *	table tests of the report's SVG bar chart
 * DESCRIPTION
 *	The y axis ends on a round number at or above the tallest bar; the
 *	gridline labels are whole numbers; every non-zero segment has a
 *	<title> with its count; labels are escaped; no bars says so.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg_chart.h"
#include "test_run.h"

static const struct {
	long long in, want;
} axis_cases[] = {
	{-5, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 5}, {5, 5}, {6, 10}, {10, 10}, {11, 20},
	{19, 20}, {21, 50}, {50, 50}, {51, 100}, {199, 200}, {201, 500}, {999, 1000},
	{1000001, 2000000},
};

START_TEST(test_axis_max)
{
	long long got = svg_chart_axis_max(axis_cases[_i].in);

	ck_assert_msg(got == axis_cases[_i].want, "axis_max(%lld): got %lld, want %lld",
		      axis_cases[_i].in, got, axis_cases[_i].want);
}
END_TEST

static char *render(const struct svg_bars *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	svg_chart_bars(fp, c);
	fclose(fp);
	return buf;
}

static const struct svg_series two[] = { { "permit", "#2e7d32" }, { "reject", "#c62828" } };

/* A chart's <title>s and y labels, read back. */
static const struct {
	const char *label;
	size_t nbars;
	long long values[8];	/* nbars x 2 */
	const char *want_titles;	/* the <title> texts joined by '|' */
	const char *want_ylabels;	/* the y labels joined by ',' */
} chart_cases[] = {
	{"two bars", 2, {3, 1, 0, 2}, "a&lt;b permit: 3|a&lt;b reject: 1|h2 reject: 2",
	 "0,1,2,3,4,5"},
	{"zero segments drawn as nothing", 2, {0, 0, 0, 0}, "", "0,1"},
	{"tall bar: 20 in steps of 5", 1, {12, 7}, "a&lt;b permit: 12|a&lt;b reject: 7",
	 "0,5,10,15,20"},
	{"negative counts as 0", 1, {-4, 1}, "a&lt;b reject: 1", "0,1"},
};

static void collect(const char *svg, const char *open, const char *close, char sep, char *out,
		    size_t size)
{
	const char *p = svg;
	size_t n = 0;

	out[0] = 0;
	while ((p = strstr(p, open)) != NULL) {
		const char *end;

		p += strlen(open);
		if ((end = strstr(p, close)) == NULL)
			break;
		n += (size_t)snprintf(out + n, size - n, "%s%.*s", n ? (char[]){ sep, 0 } : "",
				      (int)(end - p), p);
		p = end;
	}
}

START_TEST(test_chart)
{
	const char *labels[] = { "a<b", "h2", "h3", "h4" };
	struct svg_bars c = { "test chart", chart_cases[_i].nbars, 2, labels, two,
			      chart_cases[_i].values, 600, 200 };
	char *svg = render(&c);
	char titles[1024], ylabels[256];

	collect(svg, "<title>", "</title>", '|', titles, sizeof titles);
	collect(svg, "class=\"ylabel\">", "</text>", ',', ylabels, sizeof ylabels);
	ck_assert_msg(strcmp(titles, chart_cases[_i].want_titles) == 0, "%s: titles got %s, want %s",
		      chart_cases[_i].label, titles, chart_cases[_i].want_titles);
	ck_assert_msg(strcmp(ylabels, chart_cases[_i].want_ylabels) == 0,
		      "%s: y labels got %s, want %s", chart_cases[_i].label, ylabels,
		      chart_cases[_i].want_ylabels);
	ck_assert_msg(strstr(svg, "<b") == NULL, "%s: an unescaped label in %s",
		      chart_cases[_i].label, svg);
	free(svg);
}
END_TEST

START_TEST(test_no_bars)
{
	struct svg_bars c = { "empty", 0, 2, NULL, two, NULL, 600, 200 };
	char *svg = render(&c);

	ck_assert_msg(strstr(svg, ">no data</text>") != NULL, "got %s, want a \"no data\" text", svg);
	ck_assert_msg(strncmp(svg, "<svg ", 5) == 0 && strstr(svg, "</svg>\n") != NULL,
		      "got %s, want one svg element", svg);
	free(svg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("svg_chart");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_axis_max, 0,
			    (int)(sizeof axis_cases / sizeof axis_cases[0]));
	tcase_add_loop_test(tc, test_chart, 0, (int)(sizeof chart_cases / sizeof chart_cases[0]));
	tcase_add_test(tc, test_no_bars);
	suite_add_tcase(s, tc);
	return test_run(s);
}

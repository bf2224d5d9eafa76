/*
 * NAME
 *	svg_chart 3
 * SUMMARY
 *	a stacked bar chart as inline SVG
 * DESCRIPTION
 *	See svg_chart.h. Coordinates are whole pixels of the viewBox; the
 *	SVG scales with the page (width 100%, height auto).
 */
#include <string.h>

#include "output.h"
#include "svg_chart.h"

#define MARGIN_LEFT 56
#define MARGIN_RIGHT 36	/* room for half the last x label */
#define MARGIN_TOP 34
#define MARGIN_BOTTOM 34
#define LABELS_MAX 12	/* x labels shown at most, so that they never overlap */

/* svg_chart_axis_max - 1, 2 or 5 times a power of ten, at least n */
long long svg_chart_axis_max(long long n)
{
	long long step = 1;

	if (n < 1)
		return 1;
	for (;;) {
		if (n <= step)
			return step;
		if (n <= 2 * step)
			return 2 * step;
		if (n <= 5 * step)
			return 5 * step;
		if (step > (long long)1e17)
			return n;
		step *= 10;
	}
}

/* grid_steps - how many lines divide 0..axis (1, 2 or 5 times a power
   of ten) into whole, round steps: 10 in 2s, 20 in 5s, 50 in 10s,
   100 in 20s; 1, 2 and 5 in 1s */
static unsigned grid_steps(long long axis)
{
	long long lead = axis;

	while (lead >= 10 && lead % 10 == 0)
		lead /= 10;
	if (axis < 10)
		return axis > 0 ? (unsigned)axis : 1;
	return lead == 2 ? 4 : 5;
}

static long long value_at(const struct svg_bars *c, size_t bar, size_t s)
{
	long long v = c->values[bar * c->nseries + s];

	return v > 0 ? v : 0;
}

/* legend - a swatch and a name per series, along the top */
static void legend(FILE *fp, const struct svg_bars *c)
{
	unsigned x = MARGIN_LEFT;

	for (size_t s = 0; s < c->nseries; s++) {
		fprintf(fp, "<rect x=\"%u\" y=\"10\" width=\"12\" height=\"12\" fill=\"%s\"/>", x,
			c->series[s].colour);
		fprintf(fp, "<text x=\"%u\" y=\"21\" class=\"legend\">", x + 16);
		out_html_text(fp, c->series[s].name);
		fputs("</text>\n", fp);
		x += 24 + 8 * (unsigned)(c->series[s].name ? strlen(c->series[s].name) : 0);
	}
}

/* svg_chart_bars - the whole chart */
void svg_chart_bars(FILE *fp, const struct svg_bars *c)
{
	unsigned plot_w = c->width - MARGIN_LEFT - MARGIN_RIGHT;
	unsigned plot_h = c->height - MARGIN_TOP - MARGIN_BOTTOM;
	unsigned base = MARGIN_TOP + plot_h;
	long long top = 0, axis;
	unsigned steps;
	size_t every;
	double bar_w;

	for (size_t b = 0; b < c->nbars; b++) {
		long long sum = 0;

		for (size_t s = 0; s < c->nseries; s++)
			sum += value_at(c, b, s);
		if (sum > top)
			top = sum;
	}
	axis = svg_chart_axis_max(top);
	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %u %u\" "
		    "role=\"img\" aria-label=\"", c->width, c->height);
	out_html_text(fp, c->title);
	fputs("\" class=\"chart\">\n", fp);
	legend(fp, c);
	/* The y axis: round steps, a faint line each. */
	steps = grid_steps(axis);
	for (unsigned g = 0; g <= steps; g++) {
		unsigned y = base - (unsigned)((double)plot_h * g / steps);

		fprintf(fp, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" class=\"grid\"/>"
			    "<text x=\"%u\" y=\"%u\" class=\"ylabel\">%lld</text>\n",
			MARGIN_LEFT, y, MARGIN_LEFT + plot_w, y, MARGIN_LEFT - 6, y + 4,
			axis / steps * g);
	}
	if (c->nbars == 0) {
		fprintf(fp, "<text x=\"%u\" y=\"%u\" class=\"empty\">no data</text>\n</svg>\n",
			MARGIN_LEFT + plot_w / 2, MARGIN_TOP + plot_h / 2);
		return;
	}
	bar_w = (double)plot_w / (double)c->nbars;
	every = (c->nbars + LABELS_MAX - 1) / LABELS_MAX;
	for (size_t b = 0; b < c->nbars; b++) {
		double x = MARGIN_LEFT + bar_w * (double)b;
		double y = base;

		for (size_t s = 0; s < c->nseries; s++) {
			long long v = value_at(c, b, s);
			double h = (double)plot_h * (double)v / (double)axis;

			if (v == 0)
				continue;
			y -= h;
			fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				    "fill=\"%s\"><title>",
				x + bar_w * 0.1, y, bar_w * 0.8, h, c->series[s].colour);
			out_html_text(fp, c->labels[b]);
			fputs(" ", fp);
			out_html_text(fp, c->series[s].name);
			fprintf(fp, ": %lld</title></rect>\n", v);
		}
		if (b % every == 0) {
			fprintf(fp, "<text x=\"%.1f\" y=\"%u\" class=\"xlabel\">", x + bar_w / 2,
				base + 16);
			out_html_text(fp, c->labels[b]);
			fputs("</text>\n", fp);
		}
	}
	fprintf(fp, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" class=\"axis\"/>\n</svg>\n",
		MARGIN_LEFT, base, MARGIN_LEFT + plot_w, base);
}

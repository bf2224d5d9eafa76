/*
 * NAME
 *	svg_chart 3h
 * SUMMARY
 *	a stacked bar chart as inline SVG
 * DESCRIPTION
 *	Draws one chart as an <svg> element to put inside an HTML page: a
 *	bar per label, one stacked segment per series, a y axis with round
 *	steps, a legend, and a <title> per segment that browsers show as a
 *	tooltip (no script). Labels and series names are escaped.
 */
#ifndef AUTHRELAY_CTL_SVG_CHART_H
#define AUTHRELAY_CTL_SVG_CHART_H

#include <stddef.h>
#include <stdio.h>

struct svg_series {
	const char *name;	/* "permit" */
	const char *colour;	/* "#2e7d32": ours, written as is */
};

struct svg_bars {
	const char *title;		/* the chart's accessible name */
	size_t nbars, nseries;
	const char *const *labels;	/* nbars x-axis labels */
	const struct svg_series *series;
	const long long *values;	/* nbars * nseries, bar by bar; negative as 0 */
	unsigned width, height;		/* pixels */
};

/* Writes the chart. No bars gives an empty plot saying "no data". */
void svg_chart_bars(FILE *fp, const struct svg_bars *c);

/* The smallest "round" number (1, 2 or 5 times a power of ten) that is
   at least n; 1 for n < 1. The y axis ends there. */
long long svg_chart_axis_max(long long n);

#endif

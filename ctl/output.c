/*
 * NAME
 *	output 3
 * SUMMARY
 *	authrelayctl's tables: aligned text for people, JSON for programs
 * SYNOPSIS
 *	#include "output.h"
 * DESCRIPTION
 *	See output.h. The UTF-8 check follows RFC 3629: no overlong forms,
 *	no surrogates, nothing above U+10FFFF; anything else is one invalid
 *	byte at a time, so a bad byte never swallows the good text after it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

struct out_table {
	FILE *fp;
	bool json;
	const struct out_column *cols;
	size_t ncols;
	size_t rows_written;	/* JSON: for the separating commas */
	char **held;		/* text: OUT_TEXT_BATCH rows x ncols */
	size_t nheld;
	size_t *width;		/* text: column widths, fixed by the first batch */
	bool widths_fixed;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		abort();
	return p;
}

static char *xstrdup_or_null(const char *s)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = strdup(s);
	if (p == NULL)
		abort();
	return p;
}

/* utf8_len - length of the valid UTF-8 sequence at s, or 0 */

static size_t utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	/* The NUL terminator is not a continuation byte: no overrun. */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* An escaper: the text that stands for byte c, or NULL to write c as it
   is (a valid UTF-8 sequence is then copied whole). */
typedef const char *escape_fn(unsigned char c, char buf[8]);

/* write_escaped - s through escape; an invalid UTF-8 byte as invalid */
static void write_escaped(FILE *fp, const char *s, escape_fn *escape, const char *invalid)
{
	const unsigned char *p = (const unsigned char *)s;
	char buf[8];

	while (*p != 0) {
		const char *e = escape(*p, buf);
		size_t len;

		if (e != NULL) {
			fputs(e, fp);
			p++;
		} else if ((len = utf8_len(p)) == 0) {
			fputs(invalid, fp);
			p++;
		} else {
			fwrite(p, 1, len, fp);
			p += len;
		}
	}
}

/* json_escape - RFC 8259: quote, backslash, and every control character */
static const char *json_escape(unsigned char c, char buf[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, 8, "\\u%04x", c);
		return buf;
	}
	return NULL;
}

/* html_escape - the five markup characters; control characters as U+FFFD */
static const char *html_escape(unsigned char c, char buf[8])
{
	(void)buf;
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	}
	return c < 0x20 || c == 0x7f ? "&#xFFFD;" : NULL;
}

/* out_json_string - one RFC 8259 string literal */

void out_json_string(FILE *fp, const char *s)
{
	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	putc('"', fp);
	write_escaped(fp, s, json_escape, "\\ufffd");
	putc('"', fp);
}

/* out_html_text - text safe inside HTML and SVG, in elements and quoted attributes */

void out_html_text(FILE *fp, const char *s)
{
	if (s != NULL)
		write_escaped(fp, s, html_escape, "&#xFFFD;");
}

/* text_width - columns a value takes once shown by out_text_value */

static size_t text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t width = 0;

	if (s == NULL)
		return 1;	/* "-" */
	while (*p != 0) {
		size_t len = *p < 0x80 ? 1 : utf8_len(p);

		p += len ? len : 1;
		width++;
	}
	return width;
}

/* out_text_value - a value safe for the terminal */

void out_text_value(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != 0) {
		size_t len;

		if (*p < 0x20 || *p == 0x7f) {
			putc('?', fp);
			p++;
			continue;
		}
		len = utf8_len(p);
		if (len == 0 || (len == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
			/* Invalid, or a C1 control character (U+0080..U+009F). */
			putc('?', fp);
			p += len ? len : 1;
			continue;
		}
		fwrite(p, 1, len, fp);
		p += len;
	}
}

struct out_table *out_table_new(FILE *fp, bool json, const struct out_column *cols, size_t ncols)
{
	struct out_table *t = xcalloc(1, sizeof *t);

	t->fp = fp;
	t->json = json;
	t->cols = cols;
	t->ncols = ncols;
	if (!json) {
		t->held = xcalloc(OUT_TEXT_BATCH * ncols, sizeof *t->held);
		t->width = xcalloc(ncols, sizeof *t->width);
		for (size_t c = 0; c < ncols; c++)
			t->width[c] = text_width(cols[c].name);
	}
	return t;
}

/* is_integer - "-?[0-9]+", what may be written as a JSON number */

static bool is_integer(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == 0 || (*s == '0' && s[1] != 0))
		return false;
	for (; *s != 0; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void json_row(struct out_table *t, const char *const *values)
{
	FILE *fp = t->fp;

	fputs(t->rows_written == 0 ? "[\n  {" : ",\n  {", fp);
	for (size_t c = 0; c < t->ncols; c++) {
		const char *v = values[c];

		if (c > 0)
			fputs(", ", fp);
		out_json_string(fp, t->cols[c].name);
		fputs(": ", fp);
		if (v == NULL)
			fputs("null", fp);
		else if (t->cols[c].type == OUT_INT && is_integer(v))
			fputs(v, fp);
		else if (t->cols[c].type == OUT_BOOL)
			fputs(strcmp(v, "true") == 0 ? "true" : "false", fp);
		else
			out_json_string(fp, v);
	}
	putc('}', fp);
	t->rows_written++;
}

static const char *text_shown(const struct out_table *t, size_t c, const char *v)
{
	if (v == NULL || (*v == 0 && t->cols[c].type == OUT_STRING))
		return "-";
	if (t->cols[c].type == OUT_BOOL)
		return strcmp(v, "true") == 0 ? "yes" : "no";
	return v;
}

/* text_line - one aligned line; the last column is never padded */

static void text_line(struct out_table *t, const char *const *shown)
{
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = text_width(shown[c]);

		out_text_value(t->fp, shown[c]);
		/* A value wider than its column (over OUT_TEXT_WIDTH_MAX) still
		   gets two spaces, or it would run into the next one. */
		if (c + 1 < t->ncols) {
			size_t spaces = (w < t->width[c] ? t->width[c] - w : 0) + 2;
			while (spaces-- > 0)
				putc(' ', t->fp);
		}
	}
	putc('\n', t->fp);
}

/* text_flush - fixes the widths on the first call, writes held rows */

static void text_flush(struct out_table *t)
{
	const char **shown = xcalloc(t->ncols, sizeof *shown);

	if (!t->widths_fixed) {
		for (size_t r = 0; r < t->nheld; r++)
			for (size_t c = 0; c < t->ncols; c++) {
				size_t w = text_width(t->held[r * t->ncols + c]);

				if (w > OUT_TEXT_WIDTH_MAX)
					w = OUT_TEXT_WIDTH_MAX;
				if (w > t->width[c])
					t->width[c] = w;
			}
		for (size_t c = 0; c < t->ncols; c++)
			shown[c] = t->cols[c].name;
		text_line(t, shown);
		t->widths_fixed = true;
	}
	for (size_t r = 0; r < t->nheld; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			char **cell = &t->held[r * t->ncols + c];

			shown[c] = *cell;
		}
		text_line(t, shown);
		for (size_t c = 0; c < t->ncols; c++) {
			free(t->held[r * t->ncols + c]);
			t->held[r * t->ncols + c] = NULL;
		}
	}
	t->nheld = 0;
	free(shown);
}

void out_table_row(struct out_table *t, const char *const *values)
{
	if (t->json) {
		json_row(t, values);
		return;
	}
	for (size_t c = 0; c < t->ncols; c++)
		t->held[t->nheld * t->ncols + c] = xstrdup_or_null(text_shown(t, c, values[c]));
	if (++t->nheld == OUT_TEXT_BATCH)
		text_flush(t);
}

void out_table_end(struct out_table **tp)
{
	struct out_table *t = *tp;

	if (t == NULL)
		return;
	if (t->json) {
		fputs(t->rows_written == 0 ? "[]\n" : "\n]\n", t->fp);
	} else {
		text_flush(t);
		free(t->held);
		free(t->width);
	}
	fflush(t->fp);
	free(t);
	*tp = NULL;
}

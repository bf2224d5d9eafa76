/*
 * NAME
 *	output 3h
 * SUMMARY
 *	authrelayctl's tables: aligned text for people, JSON for programs
 * DESCRIPTION
 *	A table has named, typed columns (the names are the SQL views'
 *	column names, so JSON keys and views agree). Rows are given as
 *	strings; NULL is "no value" (JSON null, "-" in text).
 *
 *	Text tables show values with control characters as '?', so a user
 *	name from a log line cannot move the cursor of the admin's
 *	terminal. JSON strings are escaped per RFC 8259; bytes that are not
 *	valid UTF-8 become U+FFFD, so the output always parses.
 *
 *	Memory is bounded: JSON rows are written as they come; text rows
 *	are held until OUT_TEXT_BATCH of them set the column widths, then
 *	written, and later rows reuse those widths.
 */
#ifndef AUTHRELAY_CTL_OUTPUT_H
#define AUTHRELAY_CTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define OUT_TEXT_BATCH 1000
#define OUT_TEXT_WIDTH_MAX 40	/* longer values overflow, not cut */

enum out_type {
	OUT_STRING,
	OUT_INT,	/* JSON number (text "42"); quoted if not an integer */
	OUT_BOOL	/* "true"/"false": JSON true/false, text yes/no */
};

struct out_column {
	const char *name;
	enum out_type type;
};

struct out_table;

/* Starts a table on fp. Never fails (aborts on out of memory). */
struct out_table *out_table_new(FILE *fp, bool json, const struct out_column *cols,
				size_t ncols);

/* Adds one row of ncols values (copied). */
void out_table_row(struct out_table *t, const char *const *values);

/* Writes what is held, closes the JSON array, frees, sets *t to NULL. */
void out_table_end(struct out_table **t);

/* Writes s as a JSON string literal, quotes included. NULL writes null. */
void out_json_string(FILE *fp, const char *s);

/* Writes s for HTML or SVG text and quoted attribute values: & < > " '
   as entities, control characters and bytes that are not valid UTF-8
   as U+FFFD. NULL writes nothing. */
void out_html_text(FILE *fp, const char *s);

/* Writes s with every byte that is not printable ASCII or valid UTF-8
   (and every control character) shown as '?'. */
void out_text_value(FILE *fp, const char *s);

#endif

/*
 * NAME
 *	sql_blocks 3
 * SUMMARY
 *	the named statements of a compiled-in SQL text
 * DESCRIPTION
 *	See sql_blocks.h. The text is ours (compiled in), but it is still
 *	parsed defensively: a block without a statement, or a name too long,
 *	is skipped rather than trusted.
 */
#include <stdio.h>
#include <string.h>

#include "sql_blocks.h"

#define NAME_TAG "-- name:"
#define WHAT_TAG "-- what:"

/* Copies the rest of the line after tag (trimmed) into out. */
static const char *line_value(const char *p, const char *tag, char *out, size_t size)
{
	const char *end = strchr(p, '\n');
	size_t n;

	if (end == NULL)
		end = p + strlen(p);
	p += strlen(tag);
	while (p < end && *p == ' ')
		p++;
	n = (size_t)(end - p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = 0;
	return *end ? end + 1 : end;
}

/* sql_blocks_each - every block in order */
unsigned sql_blocks_each(const char *text, sql_block_cb *cb, void *ctx)
{
	const char *p = text;
	unsigned count = 0;

	while ((p = strstr(p, NAME_TAG)) != NULL) {
		struct sql_block q;
		const char *end;

		/* Only a tag at the start of a line counts. */
		if (p != text && p[-1] != '\n') {
			p += strlen(NAME_TAG);
			continue;
		}
		memset(&q, 0, sizeof q);
		p = line_value(p, NAME_TAG, q.name, sizeof q.name);
		if (strncmp(p, WHAT_TAG, strlen(WHAT_TAG)) == 0)
			p = line_value(p, WHAT_TAG, q.what, sizeof q.what);
		end = strchr(p, ';');
		if (q.name[0] == 0 || end == NULL)
			continue;
		q.sql = p;
		q.sql_len = (size_t)(end - p + 1);
		count++;
		if (cb != NULL && cb(&q, ctx) != 0)
			break;
		p = end + 1;
	}
	return count;
}

struct find_ctx {
	const char *name;
	struct sql_block *q;
	int found;
};

static int find_cb(const struct sql_block *q, void *ctx)
{
	struct find_ctx *f = ctx;

	if (strcmp(q->name, f->name) != 0)
		return 0;
	*f->q = *q;
	f->found = 1;
	return 1;
}

/* sql_block_find - the block called name */
int sql_block_find(const char *text, const char *name, struct sql_block *q_r)
{
	struct find_ctx f = { name, q_r, 0 };

	sql_blocks_each(text, find_cb, &f);
	return f.found ? 0 : -1;
}

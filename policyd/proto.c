/*
 * NAME
 *	proto 3
 * SUMMARY
 *	Postfix policy delegation protocol: incremental parser, reply writer
 * SYNOPSIS
 *	#include "proto.h"
 * DESCRIPTION
 *	The buffer holds at most one line plus its LF, so memory per
 *	connection is bounded by policyd_max_line whatever the client
 *	sends: complete lines are handed to the callback and consumed, only
 *	a partial last line is kept (moved to the front) for the next read.
 *	Every byte is examined once for LF and NUL (scan marks where the
 *	examined part ends), so a request split into one-byte reads costs
 *	no more than one read in one piece.
 * DIAGNOSTICS
 *	proto_parser_error() gives a one-line text that names the limit
 *	and the line number within the request.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

struct proto_parser {
	struct proto_limits limits;
	char *buf;
	size_t cap;		/* max_line + 1: one line and its LF */
	size_t start;		/* first byte not consumed */
	size_t end;		/* first byte not filled */
	size_t scan;		/* bytes before this were checked for LF */
	size_t nul;		/* first NUL byte read and not consumed; SIZE_MAX: none */
	unsigned lines;		/* lines of the current request so far */
	unsigned attrs;		/* attribute lines of the current request */
	size_t req_bytes;	/* bytes of the current request consumed */
	enum proto_error_kind error;
	char error_text[160];
};

/* clamp_limit - keep a configured limit inside [lo, hi] */
static unsigned clamp_limit(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* proto_parser_create - allocate a parser and its one buffer */
struct proto_parser *proto_parser_create(const struct proto_limits *limits)
{
	struct proto_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		abort();
	p->limits.max_line = clamp_limit(limits->max_line, PROTO_MIN_LINE, PROTO_MAX_LINE_CEILING);
	p->limits.max_attributes = clamp_limit(limits->max_attributes, 1, 1000000);
	/* A request must hold at least one line and the empty line. */
	p->limits.max_request = clamp_limit(limits->max_request, 2, 1U << 30);
	p->cap = (size_t)p->limits.max_line + 1;
	p->buf = malloc(p->cap);
	if (p->buf == NULL)
		abort();
	p->nul = SIZE_MAX;
	return p;
}

/* proto_parser_reset - make the parser as new, keeping its buffer */
void proto_parser_reset(struct proto_parser *p)
{
	p->start = p->end = p->scan = 0;
	p->nul = SIZE_MAX;
	p->lines = p->attrs = 0;
	p->req_bytes = 0;
	p->error = PROTO_ERR_NONE;
	p->error_text[0] = '\0';
}

/* proto_parser_limits - the limits in force */
const struct proto_limits *proto_parser_limits(const struct proto_parser *p)
{
	return &p->limits;
}

/* proto_parser_free - release a parser */
void proto_parser_free(struct proto_parser **parser)
{
	if (*parser == NULL)
		return;
	free((*parser)->buf);
	free(*parser);
	*parser = NULL;
}

/* compact - move the unconsumed bytes to the front of the buffer */
static void compact(struct proto_parser *p)
{
	if (p->start == 0)
		return;
	memmove(p->buf, p->buf + p->start, p->end - p->start);
	p->end -= p->start;
	p->scan -= p->start;
	if (p->nul != SIZE_MAX)
		p->nul -= p->start;
	p->start = 0;
}

/* proto_parser_space - where the next read goes */
char *proto_parser_space(struct proto_parser *p, size_t *room_r)
{
	if (p->end == p->cap)
		compact(p);
	*room_r = p->cap - p->end;
	return p->buf + p->end;
}

/* proto_parser_filled - account for bytes read into the space */
void proto_parser_filled(struct proto_parser *p, size_t n)
{
	char *nul;

	if (p->end + n > p->cap)
		abort();	/* the caller wrote past the room it was given */
	/* One look for NUL per read, not one per line: the bytes before
	   an earlier NUL are all that can still be parsed. */
	if (p->nul == SIZE_MAX && (nul = memchr(p->buf + p->end, '\0', n)) != NULL)
		p->nul = (size_t)(nul - p->buf);
	p->end += n;
}

/* proto_parser_feed - copy bytes in, as far as they fit */
size_t proto_parser_feed(struct proto_parser *p, const char *data, size_t len)
{
	size_t room;
	char *space = proto_parser_space(p, &room);

	if (len > room)
		len = room;
	memcpy(space, data, len);
	proto_parser_filled(p, len);
	return len;
}

/* fail - record a violation and return PROTO_ERROR */
static enum proto_status fail(struct proto_parser *p, enum proto_error_kind kind, const char *fmt,
			      ...) __attribute__((format(printf, 3, 4)));

static enum proto_status fail(struct proto_parser *p, enum proto_error_kind kind, const char *fmt,
			      ...)
{
	va_list ap;

	p->error = kind;
	va_start(ap, fmt);
	vsnprintf(p->error_text, sizeof(p->error_text), fmt, ap);
	va_end(ap);
	return PROTO_ERROR;
}

/* proto_request_start - start counting a new request */
static void proto_request_start(struct proto_parser *p)
{
	p->lines = 0;
	p->attrs = 0;
	p->req_bytes = 0;
}

/* proto_parser_next - consume complete lines up to the end of a request */
enum proto_status proto_parser_next(struct proto_parser *p, proto_attr_cb *cb, void *ctx)
{
	const struct proto_limits *lim = &p->limits;

	if (p->error != PROTO_ERR_NONE)
		return PROTO_ERROR;
	for (;;) {
		char *from = p->buf + p->scan;
		size_t avail = p->end - p->scan;
		char *nl = memchr(from, '\n', avail);
		size_t checked = nl ? (size_t)(nl - from) : avail;

		/* Names and values can never hold NUL (SMTPD_POLICY_README);
		   one in the stream is garbage or an attack. */
		if (p->nul < p->scan + checked)
			return fail(p, PROTO_ERR_NUL_BYTE, "NUL byte in line %u", p->lines + 1);
		p->scan += checked;

		size_t line_len = p->scan - p->start;

		if (line_len > lim->max_line)
			return fail(p, PROTO_ERR_LINE_TOO_LONG,
				    "line %u is longer than %u bytes (policyd_max_line)",
				    p->lines + 1, lim->max_line);
		if (p->req_bytes + line_len + (nl ? 1 : 0) > lim->max_request)
			return fail(p, PROTO_ERR_REQUEST_TOO_LARGE,
				    "request is longer than %u bytes (policyd_max_request)",
				    lim->max_request);
		if (nl == NULL) {
			compact(p);
			return PROTO_NEED_MORE;
		}

		/* One complete line: [start, scan), LF at scan. */
		char *line = p->buf + p->start;

		p->scan += 1;
		p->start = p->scan;
		p->req_bytes += line_len + 1;
		p->lines += 1;
		if (line_len > 0 && line[line_len - 1] == '\r')
			line_len -= 1;
		line[line_len] = '\0';
		if (line_len == 0) {
			proto_request_start(p);
			return PROTO_REQUEST_DONE;
		}

		char *eq = memchr(line, '=', line_len);

		if (eq == NULL)
			return fail(p, PROTO_ERR_NO_EQUALS, "line %u has no '=' (%u bytes)", p->lines,
				    (unsigned)line_len);
		if (eq == line)
			return fail(p, PROTO_ERR_EMPTY_NAME, "line %u has an empty name",
				    p->lines);
		if (++p->attrs > lim->max_attributes)
			return fail(p, PROTO_ERR_TOO_MANY_ATTRIBUTES,
				    "request has more than %u attributes (policyd_max_attributes)",
				    lim->max_attributes);
		*eq = '\0';
		cb(ctx, line, (size_t)(eq - line), eq + 1, line_len - (size_t)(eq - line) - 1);
	}
}

/* proto_parser_error - the recorded violation */
enum proto_error_kind proto_parser_error(const struct proto_parser *p, const char **text_r)
{
	if (text_r != NULL)
		*text_r = p->error != PROTO_ERR_NONE ? p->error_text : "";
	return p->error;
}

/* proto_parser_in_request - is a request (or line) partly received? */
bool proto_parser_in_request(const struct proto_parser *p)
{
	return p->lines > 0 || p->end > p->start;
}

/* proto_parser_pending - bytes received and not consumed */
size_t proto_parser_pending(const struct proto_parser *p)
{
	return p->end - p->start;
}

/* proto_reply_format - one reply attribute and the empty line */
size_t proto_reply_format(char *buf, size_t size, const char *action, const char *text)
{
	size_t n = 0;

	if (size < 3)
		abort();	/* not even room for "\n\n" and NUL: a caller bug */
	/* Keep room for "\n\n" and the NUL at every step. */
	size_t limit = size - 3;

	for (const char *s = "action="; *s && n < limit; s++)
		buf[n++] = *s;
	for (const char *s = action; *s && n < limit; s++)
		buf[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	if (text != NULL && *text != '\0' && n < limit) {
		buf[n++] = ' ';
		for (const char *s = text; *s && n < limit; s++)
			buf[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	}
	buf[n++] = '\n';
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

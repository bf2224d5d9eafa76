/*
 * NAME
 *	proto 3h
 * SUMMARY
 *	Postfix policy delegation protocol: incremental parser, reply writer
 * SYNOPSIS
 *	#include "proto.h"
 * DESCRIPTION
 *	A request is a sequence of "name=value" lines ended by an empty
 *	line (SMTPD_POLICY_README). Bytes arrive in arbitrary pieces; the
 *	parser keeps one bounded buffer per connection, reads are made
 *	straight into it (proto_parser_space(), proto_parser_filled()),
 *	and proto_parser_next() hands every complete attribute line to a
 *	callback until a request is complete. Several pipelined requests in
 *	one read come out one at a time, in order.
 *
 *	Limits bound everything that comes from outside: the length of one
 *	line, the number of attributes and the bytes of one request. Over a
 *	limit, a non-empty line without '=' (or with an empty name), or a
 *	NUL byte anywhere is a protocol error: the caller logs it once and
 *	closes the connection (SMTPD_POLICY_README: in case of trouble the
 *	server must not reply, but log and disconnect).
 *
 *	A single trailing CR is removed from each line so that a person
 *	typing into telnet is understood; Postfix itself sends bare LF.
 */
#ifndef AUTHRELAY_POLICYD_PROTO_H
#define AUTHRELAY_POLICYD_PROTO_H

#include <stdbool.h>
#include <stddef.h>

/* The defaults of the policyd_max_* configuration keys. */
#define PROTO_DEFAULT_MAX_LINE 4096
#define PROTO_DEFAULT_MAX_ATTRIBUTES 100
#define PROTO_DEFAULT_MAX_REQUEST 65536

/* Hard floors and ceilings, whatever the configuration says: a line
   shorter than this cannot carry a Postfix attribute, a larger one is
   a memory hazard with thousands of connections. */
#define PROTO_MIN_LINE 256
#define PROTO_MAX_LINE_CEILING 65536

/* The longest reply proto_reply_format() writes, with its blank line. */
#define PROTO_REPLY_MAX 512

struct proto_limits {
	unsigned max_line;	  /* bytes in one line, without its LF */
	unsigned max_attributes;  /* attribute lines in one request */
	unsigned max_request;	  /* bytes in one request, LFs included */
};

enum proto_status {
	PROTO_NEED_MORE = 0,	/* every complete line consumed; read more */
	PROTO_REQUEST_DONE,	/* one request ended (its empty line consumed) */
	PROTO_ERROR		/* a protocol violation; see the error text */
};

enum proto_error_kind {
	PROTO_ERR_NONE = 0,
	PROTO_ERR_LINE_TOO_LONG,
	PROTO_ERR_TOO_MANY_ATTRIBUTES,
	PROTO_ERR_REQUEST_TOO_LARGE,
	PROTO_ERR_NO_EQUALS,
	PROTO_ERR_EMPTY_NAME,
	PROTO_ERR_NUL_BYTE
};

/* Called once per attribute line of the current request. name and
   value are NUL-terminated copies inside the parser's buffer, valid
   only during the call; value may be empty. */
typedef void proto_attr_cb(void *ctx, const char *name, size_t name_len, const char *value,
			   size_t value_len);

struct proto_parser;

/* Creates a parser with its buffer (max_line + 2 bytes, allocated once).
   Limits are clamped to the floor/ceiling above. Aborts on out of
   memory (a daemon cannot answer without its buffer; the caller checks
   connection counts before). */
struct proto_parser *proto_parser_create(const struct proto_limits *limits);

/* Forgets everything received (and a recorded violation) so the parser
   can serve another connection; its buffer is kept. */
void proto_parser_reset(struct proto_parser *parser);

/* The limits the parser was created with (after clamping). */
const struct proto_limits *proto_parser_limits(const struct proto_parser *parser);

/* Frees the parser and sets *parser to NULL; NULL is fine. */
void proto_parser_free(struct proto_parser **parser);

/* Where the next read goes, and how many bytes fit (*room_r). The room
   is 0 only when unconsumed complete lines wait: call
   proto_parser_next() first. */
char *proto_parser_space(struct proto_parser *parser, size_t *room_r);

/* Records that n bytes were written at proto_parser_space(). */
void proto_parser_filled(struct proto_parser *parser, size_t n);

/* Convenience for tests and spawn mode: copies up to len bytes of data
   into the buffer and returns how many fitted. */
size_t proto_parser_feed(struct proto_parser *parser, const char *data, size_t len);

/* Consumes complete lines from the buffer, calling cb for each
   attribute, until a request ends (PROTO_REQUEST_DONE: the next call
   starts the next request), no complete line is left (PROTO_NEED_MORE),
   or a violation (PROTO_ERROR; the parser is then unusable and
   proto_parser_error() says why). */
enum proto_status proto_parser_next(struct proto_parser *parser, proto_attr_cb *cb, void *ctx);

/* The violation after PROTO_ERROR: a kind and a one-line text such as
   "line 3 is longer than 4096 bytes (policyd_max_line)". */
enum proto_error_kind proto_parser_error(const struct proto_parser *parser, const char **text_r);

/* True when part of a request (or of a line) has been received and
   not yet ended: a connection that closes now loses a request. */
bool proto_parser_in_request(const struct proto_parser *parser);

/* Bytes received and not yet consumed (tests). */
size_t proto_parser_pending(const struct proto_parser *parser);

/* Writes "action=ACTION[ TEXT]\n\n" into buf (size at least
   PROTO_REPLY_MAX) and returns its length. text may be NULL or "";
   control characters in it become '?', and it is cut to fit, so the
   reply is always exactly one attribute line and one empty line. */
size_t proto_reply_format(char *buf, size_t size, const char *action, const char *text);

#endif

/*
 * NAME
 *	fuzz_policy - libFuzzer target for the policy protocol parser
 * DESCRIPTION
 *	The input is cut into reads of varying size (the first byte picks the
 *	size pattern), as a network delivers it. Properties: every attribute
 *	has a non-empty name and no NUL; a request never has more attributes
 *	than the limit; after PROTO_ERROR the parser says why; the reply
 *	writer always produces exactly one attribute line and one empty line,
 *	whatever text it is given.
 */
#include "proto.h"

#include "fuzz_common.h"

struct count {
	unsigned attributes;
	unsigned max_attributes;
};

static void on_attr(void *ctx, const char *name, size_t name_len, const char *value,
		    size_t value_len)
{
	struct count *c = ctx;

	FUZZ_ASSERT(name_len > 0 && strlen(name) == name_len);
	FUZZ_ASSERT(strlen(value) == value_len);
	FUZZ_ASSERT(memchr(name, '=', name_len) == NULL);
	c->attributes++;
	FUZZ_ASSERT(c->attributes <= c->max_attributes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_limits limits = { 256, 8, 2048 };
	struct count c = { 0, limits.max_attributes };
	struct proto_parser *p;
	unsigned step;
	size_t off = 1;
	enum proto_status st = PROTO_NEED_MORE;

	if (size == 0)
		return 0;
	step = (data[0] % 64) + 1;
	p = proto_parser_create(&limits);
	while (off < size && st != PROTO_ERROR) {
		size_t room, n = size - off < step ? size - off : step;
		char *space = proto_parser_space(p, &room);

		if (room == 0) {
			st = proto_parser_next(p, on_attr, &c);
			FUZZ_ASSERT(st != PROTO_NEED_MORE || proto_parser_space(p, &room) != NULL);
			if (st == PROTO_REQUEST_DONE)
				c.attributes = 0;
			continue;
		}
		if (n > room)
			n = room;
		memcpy(space, data + off, n);
		proto_parser_filled(p, n);
		off += n;
		while ((st = proto_parser_next(p, on_attr, &c)) == PROTO_REQUEST_DONE)
			c.attributes = 0;
	}
	if (st == PROTO_ERROR) {
		const char *text = NULL;
		FUZZ_ASSERT(proto_parser_error(p, &text) != PROTO_ERR_NONE);
		FUZZ_ASSERT(text != NULL && *text != 0);
	}
	proto_parser_free(&p);
	FUZZ_ASSERT(p == NULL);

	/* The reply writer, with the input as reason text. */
	char text[1024], reply[PROTO_REPLY_MAX];
	size_t tlen = size - 1 < sizeof text - 1 ? size - 1 : sizeof text - 1;
	memcpy(text, data + 1, tlen);
	text[tlen] = 0;
	size_t rlen = proto_reply_format(reply, sizeof reply, "REJECT 5.7.1", text);
	FUZZ_ASSERT(rlen >= 2 && rlen < sizeof reply && strlen(reply) == rlen);
	FUZZ_ASSERT(reply[rlen - 1] == '\n' && reply[rlen - 2] == '\n');
	FUZZ_ASSERT(memchr(reply, '\n', rlen - 2) == NULL);
	FUZZ_ASSERT(strncmp(reply, "action=", 7) == 0);
	return 0;
}

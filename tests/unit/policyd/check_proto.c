/*
 * NAME
 *	check_proto 1
 * SUMMARY
 *	unit tests for the policy protocol parser and reply writer
 * DESCRIPTION
 *	Each case is fed whole, split in two at every byte boundary, and
 *	one byte at a time; the events (attributes, request ends, the
 *	error) must be the same every way. Events print as "name:value;"
 *	per attribute, "/" per request end and "!kind" for a violation.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

struct events {
	char text[65536];
	size_t len;
};

static void ev_add(struct events *ev, const char *s, size_t n)
{
	if (ev->len + n >= sizeof(ev->text))
		n = sizeof(ev->text) - ev->len - 1;
	memcpy(ev->text + ev->len, s, n);
	ev->len += n;
	ev->text[ev->len] = '\0';
}

static void on_attr(void *ctx, const char *name, size_t name_len, const char *value,
		    size_t value_len)
{
	struct events *ev = ctx;

	/* The callback promises NUL-terminated copies of exact length. */
	ck_assert_uint_eq(strlen(name), name_len);
	ck_assert_uint_eq(strlen(value), value_len);
	ev_add(ev, name, name_len);
	ev_add(ev, ":", 1);
	ev_add(ev, value, value_len);
	ev_add(ev, ";", 1);
}

static const char *kind_name(enum proto_error_kind k)
{
	switch (k) {
	case PROTO_ERR_NONE:
		return "none";
	case PROTO_ERR_LINE_TOO_LONG:
		return "line_too_long";
	case PROTO_ERR_TOO_MANY_ATTRIBUTES:
		return "too_many_attributes";
	case PROTO_ERR_REQUEST_TOO_LARGE:
		return "request_too_large";
	case PROTO_ERR_NO_EQUALS:
		return "no_equals";
	case PROTO_ERR_EMPTY_NAME:
		return "empty_name";
	case PROTO_ERR_NUL_BYTE:
		return "nul_byte";
	}
	return "?";
}

/* drain - run the parser over what it holds; returns false after an error */
static bool drain(struct proto_parser *p, struct events *ev)
{
	for (;;) {
		enum proto_status st = proto_parser_next(p, on_attr, ev);

		if (st == PROTO_NEED_MORE)
			return true;
		if (st == PROTO_REQUEST_DONE) {
			ev_add(ev, "/", 1);
			continue;
		}
		const char *text;

		ev_add(ev, "!", 1);
		const char *k = kind_name(proto_parser_error(p, &text));

		ev_add(ev, k, strlen(k));
		ck_assert_msg(text[0] != '\0', "error without text");
		return false;
	}
}

/* feed_piece - feed one piece, draining whenever the buffer fills */
static bool feed_piece(struct proto_parser *p, struct events *ev, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = proto_parser_feed(p, data, len);

		data += n;
		len -= n;
		if (!drain(p, ev))
			return false;
		ck_assert_msg(n > 0 || len == 0, "parser took no bytes and reported no error");
	}
	return drain(p, ev);
}

/* run - feed input in pieces cut at the given offsets */
static void run(const struct proto_limits *lim, const char *in, size_t len, const size_t *cuts,
		size_t ncuts, struct events *ev, bool *in_request_r)
{
	struct proto_parser *p = proto_parser_create(lim);
	size_t at = 0;
	bool ok = true;

	ev->len = 0;
	ev->text[0] = '\0';
	for (size_t i = 0; ok && i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		ok = feed_piece(p, ev, in + at, to - at);
		at = to;
	}
	*in_request_r = ok && proto_parser_in_request(p);
	proto_parser_free(&p);
	ck_assert_ptr_null(p);
}

struct parse_case {
	const char *label;
	unsigned max_line, max_attrs, max_request;	/* 0: default */
	const char *input;
	size_t input_len;	/* 0: strlen(input) */
	const char *want;
	bool want_in_request;
};

#define REQ "request=smtpd_access_policy\n"
#define L256 "v=" \
	"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" \
	"012345678901234567890123456789012345678901234567890123"
#define V254 \
	"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" \
	"012345678901234567890123456789012345678901234567890123"

static const struct parse_case parse_cases[] = {
	{"one request", 0, 0, 0, REQ "protocol_state=RCPT\n\n", 0,
	 "request:smtpd_access_policy;protocol_state:RCPT;/", false},
	{"two pipelined requests", 0, 0, 0, REQ "a=1\n\n" REQ "a=2\n\n", 0,
	 "request:smtpd_access_policy;a:1;/request:smtpd_access_policy;a:2;/", false},
	{"empty value", 0, 0, 0, "sender=\n\n", 0, "sender:;/", false},
	{"value holding '='", 0, 0, 0, "ccert_subject=a=b=c\n\n", 0, "ccert_subject:a=b=c;/", false},
	{"CRLF line ends", 0, 0, 0, "a=1\r\nb=2\r\n\r\n", 0, "a:1;b:2;/", false},
	{"CR kept inside a value", 0, 0, 0, "a=x\ry\n\n", 0, "a:x\ry;/", false},
	{"empty request", 0, 0, 0, "\n", 0, "/", false},
	{"half a request", 0, 0, 0, REQ "sender=a@b", 0, "request:smtpd_access_policy;", true},
	{"request without its empty line", 0, 0, 0, REQ, 0, "request:smtpd_access_policy;", true},
	{"line without '='", 0, 0, 0, REQ "hello\n\n", 0,
	 "request:smtpd_access_policy;!no_equals", false},
	{"empty name", 0, 0, 0, "=x\n\n", 0, "!empty_name", false},
	{"NUL in a value", 0, 0, 0, "a=b\0c\n\n", 7, "!nul_byte", false},
	{"NUL in a partial line", 0, 0, 0, "a=1\nb\0", 6, "a:1;!nul_byte", false},
	{"NUL in the second request", 0, 0, 0, "a=1\n\nb=2\0\n\n", 11, "a:1;/!nul_byte", false},
	{"NUL after the buffer was compacted", 256, 0, 0, L256 "\n" L256 "\nc=\0\n\n",
	 2 * 257 + 5, "v:" V254 ";v:" V254 ";!nul_byte", false},
	{"line of exactly max_line", 256, 0, 0, L256 "\n\n", 0, "v:" V254 ";/", false},
	{"line of max_line + 1", 256, 0, 0, L256 "x\n\n", 0, "!line_too_long", false},
	{"partial line over max_line", 256, 0, 0, L256 "xy", 0, "!line_too_long", false},
	{"max_attributes reached", 0, 3, 0, "a=1\nb=2\nc=3\n\n", 0, "a:1;b:2;c:3;/", false},
	{"max_attributes exceeded", 0, 3, 0, "a=1\nb=2\nc=3\nd=4\n\n", 0,
	 "a:1;b:2;c:3;!too_many_attributes", false},
	{"attribute count resets per request", 0, 2, 0, "a=1\nb=2\n\na=3\nb=4\n\n", 0,
	 "a:1;b:2;/a:3;b:4;/", false},
	{"max_request reached", 0, 0, 9, "a=1\nb=2\n\n", 0, "a:1;b:2;/", false},
	{"max_request exceeded", 0, 0, 9, "a=1\nb=222\n\n", 0, "a:1;!request_too_large", false},
	{"max_request exceeded by a partial line", 0, 0, 9, "a=1\nb=2222", 0,
	 "a:1;!request_too_large", false},
	{"request size resets per request", 0, 0, 9, "a=1\nb=2\n\nc=3\nd=4\n\n", 0,
	 "a:1;b:2;/c:3;d:4;/", false},
	{"Postfix 3.7 request (lab sample)", 0, 0, 0,
	 "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
	 "helo_name=client.lab.test\nqueue_id=\nsender=alice@lab.test\nrecipient=someone@example.org\n"
	 "recipient_count=0\nclient_address=127.0.0.1\nclient_name=unknown\n"
	 "reverse_client_name=unknown\nclient_port=56950\nserver_address=127.0.0.1\n"
	 "server_port=10028\ninstance=19a3.6b082ee0.e217a.0\nsasl_method=PLAIN\n"
	 "sasl_username=alice@lab.test\nsasl_sender=\nsize=0\nccert_subject=\nccert_issuer=\n"
	 "ccert_fingerprint=\nccert_pubkey_fingerprint=\nencryption_protocol=\n"
	 "encryption_cipher=\nencryption_keysize=0\netrn_domain=\nstress=\npolicy_context=lab\n\n",
	 0,
	 "request:smtpd_access_policy;protocol_state:RCPT;protocol_name:ESMTP;"
	 "helo_name:client.lab.test;queue_id:;sender:alice@lab.test;recipient:someone@example.org;"
	 "recipient_count:0;client_address:127.0.0.1;client_name:unknown;"
	 "reverse_client_name:unknown;client_port:56950;server_address:127.0.0.1;"
	 "server_port:10028;instance:19a3.6b082ee0.e217a.0;sasl_method:PLAIN;"
	 "sasl_username:alice@lab.test;sasl_sender:;size:0;ccert_subject:;ccert_issuer:;"
	 "ccert_fingerprint:;ccert_pubkey_fingerprint:;encryption_protocol:;"
	 "encryption_cipher:;encryption_keysize:0;etrn_domain:;stress:;policy_context:lab;/",
	 false},
};

static void case_limits(const struct parse_case *c, struct proto_limits *lim)
{
	lim->max_line = c->max_line ? c->max_line : PROTO_DEFAULT_MAX_LINE;
	lim->max_attributes = c->max_attrs ? c->max_attrs : PROTO_DEFAULT_MAX_ATTRIBUTES;
	lim->max_request = c->max_request ? c->max_request : PROTO_DEFAULT_MAX_REQUEST;
}

static void check_events(const struct parse_case *c, const char *how, const struct events *ev,
			 bool in_request)
{
	ck_assert_msg(strcmp(ev->text, c->want) == 0, "%s (%s): got \"%s\", want \"%s\"", c->label,
		      how, ev->text, c->want);
	ck_assert_msg(in_request == c->want_in_request, "%s (%s): in_request got %d, want %d",
		      c->label, how, in_request, c->want_in_request);
}

START_TEST(test_parse_whole)
{
	const struct parse_case *c = &parse_cases[_i];
	struct proto_limits lim;
	static struct events ev;
	bool in_request;
	size_t len = c->input_len ? c->input_len : strlen(c->input);

	case_limits(c, &lim);
	run(&lim, c->input, len, NULL, 0, &ev, &in_request);
	check_events(c, "whole", &ev, in_request);
}
END_TEST

START_TEST(test_parse_split_everywhere)
{
	const struct parse_case *c = &parse_cases[_i];
	struct proto_limits lim;
	static struct events ev;
	bool in_request;
	size_t len = c->input_len ? c->input_len : strlen(c->input);
	char how[64];

	case_limits(c, &lim);
	for (size_t cut = 0; cut <= len; cut++) {
		run(&lim, c->input, len, &cut, 1, &ev, &in_request);
		snprintf(how, sizeof(how), "split at %zu", cut);
		check_events(c, how, &ev, in_request);
	}
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));

	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	run(&lim, c->input, len, cuts, len, &ev, &in_request);
	free(cuts);
	check_events(c, "byte by byte", &ev, in_request);
}
END_TEST

/* Many pipelined requests larger than the buffer, fed in one piece:
   every one must come out, in order. */
START_TEST(test_parse_pipeline_larger_than_buffer)
{
	struct proto_limits lim = {PROTO_MIN_LINE, 100, 65536};
	static char in[64000];
	static struct events ev;
	char want[8192] = "";
	size_t len = 0, wl = 0;
	bool in_request;

	for (int i = 0; i < 500; i++) {
		len += (size_t)snprintf(in + len, sizeof(in) - len, "request=smtpd_access_policy\nn=%d\n\n", i);
		wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "n:%d;/", i);
	}
	run(&lim, in, len, NULL, 0, &ev, &in_request);
	/* drop the repeated request attribute from the events */
	static char got[65536];
	size_t gl = 0;

	for (const char *s = ev.text; *s;) {
		const char *skip = "request:smtpd_access_policy;";

		if (strncmp(s, skip, strlen(skip)) == 0) {
			s += strlen(skip);
			continue;
		}
		got[gl++] = *s++;
	}
	got[gl] = '\0';
	ck_assert_msg(strcmp(got, want) == 0, "got %.80s..., want %.80s...", got, want);
	ck_assert(!in_request);
}
END_TEST

START_TEST(test_parser_error_is_sticky)
{
	struct proto_limits lim = {0, 0, 0};
	struct proto_parser *p = proto_parser_create(&lim);
	struct events ev = {.len = 0};

	proto_parser_feed(p, "junk\na=1\n\n", 10);
	ck_assert_int_eq(proto_parser_next(p, on_attr, &ev), PROTO_ERROR);
	ck_assert_int_eq(proto_parser_next(p, on_attr, &ev), PROTO_ERROR);
	ck_assert_msg(ev.len == 0, "got events \"%s\" after an error, want none", ev.text);
	proto_parser_free(&p);
}
END_TEST

struct reply_case {
	const char *label, *action, *text, *want;
};

static const struct reply_case reply_cases[] = {
	{"permit", "OK", NULL, "action=OK\n\n"},
	{"dunno with empty text", "DUNNO", "", "action=DUNNO\n\n"},
	{"reject", "REJECT", "5.7.1 user alice is suspended",
	 "action=REJECT 5.7.1 user alice is suspended\n\n"},
	{"defer", "DEFER_IF_PERMIT", "4.3.0 relay database unavailable",
	 "action=DEFER_IF_PERMIT 4.3.0 relay database unavailable\n\n"},
	{"control characters", "REJECT", "5.7.1 a\nb\rc\td\x7f",
	 "action=REJECT 5.7.1 a?b?c?d?\n\n"},
};

START_TEST(test_reply_format)
{
	const struct reply_case *c = &reply_cases[_i];
	char buf[PROTO_REPLY_MAX];
	size_t n = proto_reply_format(buf, sizeof(buf), c->action, c->text);

	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got \"%s\", want \"%s\"", c->label, buf,
		      c->want);
	ck_assert_uint_eq(n, strlen(c->want));
}
END_TEST

START_TEST(test_reply_format_cut)
{
	char text[2000];
	char buf[PROTO_REPLY_MAX];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	size_t n = proto_reply_format(buf, sizeof(buf), "REJECT", text);

	ck_assert_msg(n == sizeof(buf) - 1, "got length %zu, want %zu", n, sizeof(buf) - 1);
	ck_assert_msg(buf[n - 1] == '\n' && buf[n - 2] == '\n' && buf[n - 3] == 'x',
		      "a cut reply must still end in one empty line");
	ck_assert_ptr_null(memchr(buf, '\n', n - 2));
}
END_TEST

/* A caller may stop after a request (its reply is pending) and read
   more later: the buffer is then compacted with a NUL already read but
   not yet parsed. The NUL must still be found where it moved to. */
START_TEST(test_nul_kept_across_compaction)
{
	struct proto_limits lim = {256, PROTO_DEFAULT_MAX_ATTRIBUTES, PROTO_DEFAULT_MAX_REQUEST};
	struct proto_parser *p = proto_parser_create(&lim);
	static struct events ev;
	char in[257];
	size_t room;

	memset(&ev, 0, sizeof ev);
	memcpy(in, "a=1\n\nb=", 7);
	memset(in + 7, 'x', sizeof in - 7);
	in[256] = '\0';	/* the last byte: after compaction, 5 bytes earlier */
	ck_assert_uint_eq(proto_parser_feed(p, in, sizeof in), sizeof in);
	ck_assert_int_eq(proto_parser_next(p, on_attr, &ev), PROTO_REQUEST_DONE);
	(void)proto_parser_space(p, &room);	/* full: compacts */
	ck_assert_uint_eq(room, 5);
	ck_assert_uint_eq(proto_parser_feed(p, "\n\n", 2), 2);
	ck_assert_int_eq(proto_parser_next(p, on_attr, &ev), PROTO_ERROR);
	ck_assert_int_eq(proto_parser_error(p, NULL), PROTO_ERR_NUL_BYTE);
	proto_parser_free(&p);
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("parser");
	int nparse = (int)(sizeof(parse_cases) / sizeof(parse_cases[0]));
	int nreply = (int)(sizeof(reply_cases) / sizeof(reply_cases[0]));

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_nul_kept_across_compaction);
	tcase_add_loop_test(tc, test_parse_whole, 0, nparse);
	tcase_add_loop_test(tc, test_parse_split_everywhere, 0, nparse);
	tcase_add_test(tc, test_parse_pipeline_larger_than_buffer);
	tcase_add_test(tc, test_parser_error_is_sticky);
	suite_add_tcase(s, tc);
	tc = tcase_create("reply");
	tcase_add_loop_test(tc, test_reply_format, 0, nreply);
	tcase_add_test(tc, test_reply_format_cut);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(proto_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);

	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

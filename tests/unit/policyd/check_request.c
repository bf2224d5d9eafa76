/*
 * NAME
 *	check_request 1
 * SUMMARY
 *	unit tests: policy request attributes to decide() to the reply
 * DESCRIPTION
 *	Each case is a policy request (attribute lines, as Postfix sends
 *	them) and the reply wanted, with a table-driven fake in place of
 *	the store: which IP has a grant, which user is suspended, which
 *	fingerprint is registered, and whether lookups fail.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proto.h"
#include "request.h"
#include "store_lookups.h"

struct fake {
	const char *grant_ip;		/* the one IP with a live grant */
	const char *suspended_user;
	const char *owned_sender;	/* what every user owns */
	const char *cert;		/* the one registered fingerprint */
	bool fail;			/* every lookup fails */
	char seen_ip[IPADDR_STRLEN];	/* what decide() asked about */
};

static enum lookup_result fake_suspended(void *ctx, const char *user)
{
	struct fake *f = ctx;

	if (f->fail)
		return LOOKUP_ERROR;
	return f->suspended_user && strcmp(user, f->suspended_user) == 0 ? LOOKUP_FOUND
									  : LOOKUP_NOT_FOUND;
}

static enum lookup_result fake_owned(void *ctx, const char *user, const char *address)
{
	struct fake *f = ctx;

	(void)user;
	if (f->fail)
		return LOOKUP_ERROR;
	return f->owned_sender && strcmp(address, f->owned_sender) == 0 ? LOOKUP_FOUND
									   : LOOKUP_NOT_FOUND;
}

static enum lookup_result fake_grant(void *ctx, const struct ipaddr *ip, int64_t now)
{
	struct fake *f = ctx;

	(void)now;
	ipaddr_format(ip, f->seen_ip);
	if (f->fail)
		return LOOKUP_ERROR;
	return f->grant_ip && strcmp(f->seen_ip, f->grant_ip) == 0 ? LOOKUP_FOUND
								   : LOOKUP_NOT_FOUND;
}

static enum lookup_result fake_cert(void *ctx, const char *fpr)
{
	struct fake *f = ctx;

	if (f->fail)
		return LOOKUP_ERROR;
	return f->cert && strcmp(fpr, f->cert) == 0 ? LOOKUP_FOUND : LOOKUP_NOT_FOUND;
}

struct request_case {
	const char *label;
	const char *attrs;		/* lines after request= and protocol_state= */
	const char *state;		/* protocol_state, "" to leave it out */
	struct fake fake;
	bool tempfail_policy_dunno;	/* on_store_error = dunno */
	const char *want;		/* reply prefix; NULL: not answered */
	const char *want_seen_ip;	/* when set: the address decide() asked about */
};

static const struct request_case cases[] = {
	{"no facts: no opinion", "client_address=192.0.2.1\n", "RCPT", {.grant_ip = "192.0.2.9"},
	 false, "action=DUNNO\n\n", "192.0.2.1"},
	{"grant for the client", "client_address=192.0.2.9\n", "RCPT", {.grant_ip = "192.0.2.9"},
	 false, "action=OK\n\n", NULL},
	{"IPv4-mapped client asked as IPv4", "client_address=::ffff:192.0.2.9\n", "RCPT",
	 {.grant_ip = "192.0.2.9"}, false, "action=OK\n\n", "192.0.2.9"},
	{"IPv6 client in RFC 5952 form", "client_address=2001:DB8:0:0:0:0:0:1\n", "RCPT",
	 {.grant_ip = "2001:db8::1"}, false, "action=OK\n\n", "2001:db8::1"},
	{"unparsable client address: no grant asked", "client_address=unknown\n", "RCPT",
	 {.grant_ip = "192.0.2.9"}, false, "action=DUNNO\n\n", NULL},
	{"SASL user owning the sender", "sasl_username=alice\nsender=alice@example.org\n", "RCPT",
	 {.owned_sender = "alice@example.org"}, false, "action=OK\n\n", NULL},
	{"suspended SASL user", "sasl_username=bob\nsender=bob@example.org\n", "RCPT",
	 {.suspended_user = "bob", .owned_sender = "bob@example.org"}, false,
	 "action=REJECT 5.7.1 ", NULL},
	{"SASL user with a foreign sender", "sasl_username=alice\nsender=eve@example.net\n", "RCPT",
	 {.owned_sender = "alice@example.org"}, false, "action=REJECT 5.7.1 ", NULL},
	{"certificate fingerprint, xtext-decoded", "ccert_fingerprint=AB+3ACD+3AEF\n", "RCPT",
	 {.cert = "AB:CD:EF"}, false, "action=OK\n\n", NULL},
	{"public-key fingerprint", "ccert_pubkey_fingerprint=01:02\n", "RCPT", {.cert = "01:02"},
	 false, "action=OK\n\n", NULL},
	{"lookup failure, on_store_error=tempfail", "client_address=192.0.2.9\n", "RCPT",
	 {.grant_ip = "192.0.2.9", .fail = true}, false, "action=DEFER_IF_PERMIT 4.3.0 ", NULL},
	{"lookup failure, on_store_error=dunno", "client_address=192.0.2.9\n", "RCPT",
	 {.grant_ip = "192.0.2.9", .fail = true}, true, "action=DUNNO\n\n", NULL},
	{"SASL lookup failure never permits", "sasl_username=alice\nsender=alice@example.org\n",
	 "RCPT", {.owned_sender = "alice@example.org", .fail = true}, false,
	 "action=DEFER_IF_PERMIT 4.3.0 ", NULL},
	{"MAIL state: DUNNO without a decision", "client_address=192.0.2.9\n", "MAIL",
	 {.grant_ip = "192.0.2.9"}, false, "action=DUNNO\n\n", ""},
	{"no protocol_state: DUNNO", "client_address=192.0.2.9\n", "", {.grant_ip = "192.0.2.9"},
	 false, "action=DUNNO\n\n", ""},
	{"unknown attributes are ignored", "x_future=1\nclient_address=192.0.2.9\n", "RCPT",
	 {.grant_ip = "192.0.2.9"}, false, "action=OK\n\n", NULL},
	{"last of a repeated attribute wins", "client_address=192.0.2.1\nclient_address=192.0.2.9\n",
	 "RCPT", {.grant_ip = "192.0.2.9"}, false, "action=OK\n\n", NULL},
	{"sasl_username too long: DUNNO, never cut", NULL, "RCPT",
	 {.grant_ip = "192.0.2.9", .suspended_user = "x"}, false, "action=DUNNO\n\n", NULL},
};

static const char *long_user_attrs(void)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "client_address=192.0.2.9\nsasl_username=");
	memset(buf + strlen(buf), 'u', 600);
	strcat(buf, "\n");
	return buf;
}

static void on_attr(void *ctx, const char *name, size_t nl, const char *value, size_t vl)
{
	request_attr(ctx, name, nl, value, vl);
}

/* parse - run the text through the real parser into req */
static void parse(const char *text, struct policy_request *req)
{
	struct proto_limits lim = {PROTO_DEFAULT_MAX_LINE, PROTO_DEFAULT_MAX_ATTRIBUTES,
				   PROTO_DEFAULT_MAX_REQUEST};
	struct proto_parser *p = proto_parser_create(&lim);
	size_t len = strlen(text);

	request_reset(req);
	ck_assert_uint_eq(proto_parser_feed(p, text, len), len);
	ck_assert_int_eq(proto_parser_next(p, on_attr, req), PROTO_REQUEST_DONE);
	proto_parser_free(&p);
}

START_TEST(test_request_answer)
{
	const struct request_case *c = &cases[_i];
	struct fake f = c->fake;
	struct relay_lookups lookups = {&f, fake_suspended, fake_owned, fake_grant, fake_cert};
	struct relay_policy policy = {
		.check_envelope = true,
		.on_store_error = c->tempfail_policy_dunno ? ON_STORE_ERROR_DUNNO
							   : ON_STORE_ERROR_TEMPFAIL,
	};
	struct frontend_env env = { .policy = &policy, .lookups = &lookups };
	struct policy_request req;
	char text[4096], reply[PROTO_REPLY_MAX];
	const char *error;

	snprintf(text, sizeof(text), "request=smtpd_access_policy\n%s%s%s%s\n",
		 c->state[0] ? "protocol_state=" : "", c->state, c->state[0] ? "\n" : "",
		 c->attrs ? c->attrs : long_user_attrs());
	parse(text, &req);
	size_t n = request_answer(&req, &env, 1700000000, reply, sizeof(reply), &error, NULL);

	ck_assert_msg(n > 0, "%s: not answered (%s)", c->label, error ? error : "");
	ck_assert_msg(strncmp(reply, c->want, strlen(c->want)) == 0, "%s: got \"%s\", want \"%s\"",
		      c->label, reply, c->want);
	ck_assert_uint_eq(n, strlen(reply));
	/* A status code is always followed by text, and the reply is one line. */
	if (strstr(reply, " 5.") || strstr(reply, " 4."))
		ck_assert_msg(strlen(reply) > strlen(c->want) + 2, "%s: no text after the code in \"%s\"",
			      c->label, reply);
	ck_assert_msg(strchr(reply, '\n') == reply + n - 2, "%s: reply \"%s\" is not one line",
		      c->label, reply);
	ck_assert_msg(strncmp(reply, "action=OK", 9) != 0 || !f.fail,
		      "%s: OK on a lookup failure", c->label);
	if (c->want_seen_ip != NULL)
		ck_assert_msg(strcmp(f.seen_ip, c->want_seen_ip) == 0,
			      "%s: grant asked for \"%s\", want \"%s\"", c->label, f.seen_ip,
			      c->want_seen_ip);
}
END_TEST

struct refuse_case {
	const char *label, *text;
};

static const struct refuse_case refuse_cases[] = {
	{"no request attribute", "protocol_state=RCPT\nclient_address=192.0.2.9\n\n"},
	{"another request type", "request=junk\nprotocol_state=RCPT\n\n"},
	{"request type is exact", "request=smtpd_access_policyX\nprotocol_state=RCPT\n\n"},
};

START_TEST(test_request_refused)
{
	const struct refuse_case *c = &refuse_cases[_i];
	struct fake f = {.grant_ip = "192.0.2.9"};
	struct relay_lookups lookups = {&f, fake_suspended, fake_owned, fake_grant, fake_cert};
	struct relay_policy policy = {0};
	struct frontend_env env = { .policy = &policy, .lookups = &lookups };
	struct policy_request req;
	char reply[PROTO_REPLY_MAX];
	const char *error = NULL;

	parse(c->text, &req);
	size_t n = request_answer(&req, &env, 1700000000, reply, sizeof(reply), &error, NULL);

	ck_assert_msg(n == 0, "%s: got a reply of %zu bytes, want none", c->label, n);
	ck_assert_msg(error != NULL && error[0] != '\0', "%s: no reason given", c->label);
}
END_TEST

START_TEST(test_unavailable_lookups)
{
	struct relay_lookups lookups;
	struct relay_policy policy = {.on_store_error = ON_STORE_ERROR_TEMPFAIL};
	struct frontend_env env = { .policy = &policy, .lookups = &lookups };
	struct policy_request req;
	char reply[PROTO_REPLY_MAX];
	const char *error;

	store_lookups_init(&lookups, NULL);
	parse("request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.9\n\n", &req);
	request_answer(&req, &env, 1700000000, reply, sizeof(reply), &error, NULL);
	ck_assert_msg(strncmp(reply, "action=DEFER_IF_PERMIT 4.3.0 ", 29) == 0,
		      "got \"%s\", want DEFER_IF_PERMIT 4.3.0 with text", reply);
}
END_TEST

/* Every name Postfix 3.x sends is known (stored or dropped, never
   counted unknown); names that differ from one only in length or in one
   byte are unknown. */
static const struct {
	const char *name;
	unsigned want_unknown;
} name_cases[] = {
	{"request", 0}, {"protocol_state", 0}, {"client_address", 0}, {"sasl_username", 0},
	{"sender", 0}, {"recipient", 0}, {"ccert_fingerprint", 0},
	{"ccert_pubkey_fingerprint", 0}, {"queue_id", 0}, {"instance", 0},
	{"encryption_protocol", 0}, {"protocol_name", 0}, {"helo_name", 0},
	{"recipient_count", 0}, {"client_name", 0}, {"reverse_client_name", 0},
	{"client_port", 0}, {"server_address", 0}, {"server_port", 0}, {"sasl_method", 0},
	{"sasl_sender", 0}, {"size", 0}, {"ccert_subject", 0}, {"ccert_issuer", 0},
	{"encryption_cipher", 0}, {"encryption_keysize", 0}, {"etrn_domain", 0},
	{"stress", 0}, {"policy_context", 0}, {"compatibility_level", 0}, {"mail_version", 0},
	{"requesT", 1}, {"reques", 1}, {"requests", 1}, {"Sender", 1}, {"senders", 1},
	{"client_addresz", 1}, {"ccert_pubkey_fingerprinT", 1}, {"x", 1},
	{"a_name_longer_than_any_postfix_attribute_name", 1},
};

START_TEST(test_attribute_names)
{
	struct policy_request req;
	const char *name = name_cases[_i].name;

	request_reset(&req);
	request_attr(&req, name, strlen(name), "v", 1);
	ck_assert_msg(req.unknown == name_cases[_i].want_unknown,
		      "%s: unknown count: got %u, want %u", name, req.unknown,
		      name_cases[_i].want_unknown);
}
END_TEST

/* Values are stored whole or not at all: the longest that fits, one
   byte more, and xtext decoding of ccert_* (plain copies and the
   decoding loop must agree on the bound). */
START_TEST(test_value_bounds)
{
	static const struct {
		const char *name;
		size_t len;		/* of a value of 'a's, or 0: use text */
		const char *text;
		bool want_overflow;
		const char *want;	/* stored value, when not overflowing and text */
	} value_cases[] = {
		{"sasl_username", STORE_USER_MAX - 1, NULL, false, NULL},
		{"sasl_username", STORE_USER_MAX, NULL, true, NULL},
		{"ccert_fingerprint", 0, "AB:+43D:EF", false, "AB:CD:EF"},
		{"ccert_fingerprint", 0, "AB+2", false, "AB+2"},
		{"ccert_fingerprint", 0, "+00x", false, "?x"},
		{"sender", 0, "a+b@example.org", false, "a+b@example.org"},
	};
	static char value[STORE_USER_MAX + 8];

	for (size_t i = 0; i < sizeof value_cases / sizeof value_cases[0]; i++) {
		struct policy_request req;
		const char *v = value_cases[i].text;
		size_t len;

		if (v == NULL) {
			memset(value, 'a', value_cases[i].len);
			value[value_cases[i].len] = '\0';
			v = value;
		}
		len = strlen(v);
		request_reset(&req);
		request_attr(&req, value_cases[i].name, strlen(value_cases[i].name), v, len);
		ck_assert_msg((req.overflow != NULL) == value_cases[i].want_overflow,
			      "%s of %zu bytes: overflow got %d, want %d", value_cases[i].name, len,
			      req.overflow != NULL, value_cases[i].want_overflow);
		if (value_cases[i].want_overflow)
			continue;
		if (strcmp(value_cases[i].name, "sasl_username") == 0)
			ck_assert_uint_eq(strlen(req.sasl_username), len);
		else if (strcmp(value_cases[i].name, "sender") == 0)
			ck_assert_str_eq(req.sender, value_cases[i].want);
		else
			ck_assert_str_eq(req.ccert_fingerprint, value_cases[i].want);
	}
}
END_TEST

static Suite *request_suite(void)
{
	Suite *s = suite_create("request");
	TCase *tc = tcase_create("answer");

	tcase_add_loop_test(tc, test_request_answer, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_request_refused, 0,
			    (int)(sizeof(refuse_cases) / sizeof(refuse_cases[0])));
	tcase_add_test(tc, test_unavailable_lookups);
	tcase_add_test(tc, test_value_bounds);
	tcase_add_loop_test(tc, test_attribute_names, 0,
			    (int)(sizeof(name_cases) / sizeof(name_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(request_suite());

	log_set_level(LOG_LEVEL_WARNING);	/* no decision lines in the test output */

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);

	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

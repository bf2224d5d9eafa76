/*
 * NAME
 *	check_decide 1
 * SUMMARY
 *	table tests of the relay decision
 * DESCRIPTION
 *	decide() talks to a fake struct relay_lookups whose answers are set
 *	per case. The fake writes every question it is asked into a trace
 *	("user(alice) sender(alice,a@example.org) grant(192.0.2.7)
 *	cert(AB:CD)"), and each case names the exact trace it wants: that
 *	proves which lookups were made, in which order, with which
 *	normalised address and client IP, and which were never made (an
 *	authenticated client is never rescued by a grant).
 */

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "decide.h"

#define ERR LOOKUP_ERROR
#define FOUND LOOKUP_FOUND
#define NOTF LOOKUP_NOT_FOUND

/* The fake store: what it answers, and what it was asked. */
struct fake {
	enum lookup_result suspended;	/* answer to user_suspended */
	enum lookup_result owned;	/* answer to sender_owned ... */
	const char *owned_except;	/* ... except for this address */
	enum lookup_result owned_except_answer;
	enum lookup_result grant;	/* answer to grant_live */
	const char *cert_known;		/* fingerprint that is registered */
	const char *cert_error;		/* fingerprint whose lookup fails */
	char trace[1024];
};

/* Appends "name(a)" or "name(a,b)" to the trace. */
static void trace_add(struct fake *f, const char *name, const char *a, const char *b)
{
	size_t len = strlen(f->trace);

	snprintf(f->trace + len, sizeof f->trace - len, "%s%s(%s%s%s)", len ? " " : "", name, a,
		 b ? "," : "", b ? b : "");
}

static enum lookup_result fake_user_suspended(void *ctx, const char *username)
{
	struct fake *f = ctx;

	trace_add(f, "user", username, NULL);
	return f->suspended;
}

static enum lookup_result fake_sender_owned(void *ctx, const char *username, const char *address)
{
	struct fake *f = ctx;

	trace_add(f, "sender", username, address);
	if (f->owned_except != NULL && strcmp(address, f->owned_except) == 0)
		return f->owned_except_answer;
	return f->owned;
}

/* Prints the address exactly as asked: a mapped address left as IPv6
   would show as "::ffff:192.0.2.7" and fail the case. */
static enum lookup_result fake_grant_live(void *ctx, const struct ipaddr *ip, int64_t now)
{
	struct fake *f = ctx;
	char text[INET6_ADDRSTRLEN] = "?";
	char asked[INET6_ADDRSTRLEN + 32];

	if (ip->family == AF_INET || ip->family == AF_INET6)
		inet_ntop(ip->family, ip->bytes, text, sizeof text);
	snprintf(asked, sizeof asked, "%s@%lld", text, (long long)now);
	trace_add(f, "grant", asked, NULL);
	return f->grant;
}

static enum lookup_result fake_cert_known(void *ctx, const char *fingerprint)
{
	struct fake *f = ctx;

	trace_add(f, "cert", fingerprint, NULL);
	if (f->cert_error != NULL && strcmp(fingerprint, f->cert_error) == 0)
		return LOOKUP_ERROR;
	if (f->cert_known != NULL && strcmp(fingerprint, f->cert_known) == 0)
		return LOOKUP_FOUND;
	return LOOKUP_NOT_FOUND;
}

static void fake_bind(struct fake *f, struct relay_lookups *l)
{
	l->ctx = f;
	l->user_suspended = fake_user_suspended;
	l->sender_owned = fake_sender_owned;
	l->grant_live = fake_grant_live;
	l->cert_known = fake_cert_known;
}

/* Builds a client with inet_pton, NOT ipaddr_parse: "::ffff:a.b.c.d"
   stays IPv4-mapped IPv6, as a front end filling it from a sockaddr_in6
   would leave it, so decide() must normalise it itself. */
static struct ipaddr client_raw(const char *text)
{
	struct ipaddr ip;

	memset(&ip, 0, sizeof ip);
	if (text == NULL)
		return ip;
	if (inet_pton(AF_INET, text, ip.bytes) == 1)
		ip.family = AF_INET;
	else if (inet_pton(AF_INET6, text, ip.bytes) == 1)
		ip.family = AF_INET6;
	else
		ck_abort_msg("test table: bad client %s", text);
	return ip;
}

static void reason_is_clean(const char *label, const char *reason)
{
	for (const char *p = reason; *p != 0; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
			      "%s: reason has byte 0x%02x: got \"%s\"", label,
			      (unsigned char)*p, reason);
}

#define FPR "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"
#define PUB "01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14"
#define NOW 1764162401

struct decide_case {
	const char *label;
	/* request */
	const char *client;
	const char *user;
	bool tls;
	const char *sender;
	const char *fpr, *pub;
	/* policy */
	bool require_tls, envelope, store_error_dunno;
	const char *trusted;
	/* the fake store's answers */
	struct fake store;
	/* want */
	enum relay_verdict_kind kind;
	enum relay_rule rule;
	const char *status;
	const char *reason_has;
	const char *trace;
};

static const struct decide_case decide_cases[] = {
	/* 1. A store error never permits: every lookup fails in turn. */
	{.label = "user lookup fails: tempfail", .client = "192.0.2.7", .user = "alice",
	 .store = {.suspended = ERR, .grant = FOUND},
	 .trusted = "192.0.2.0/24",
	 .kind = VERDICT_TEMPFAIL, .rule = RULE_STORE_ERROR, .status = "4.3.0",
	 .reason_has = "try again later", .trace = "user(alice)"},
	{.label = "user lookup fails, on_store_error dunno", .client = "192.0.2.7", .user = "alice",
	 .store_error_dunno = true, .store = {.suspended = ERR},
	 .kind = VERDICT_DUNNO, .rule = RULE_STORE_ERROR, .status = "",
	 .reason_has = "lookup failed", .trace = "user(alice)"},
	{.label = "sender lookup fails: tempfail", .client = "192.0.2.7", .user = "alice",
	 .envelope = true, .sender = "alice@example.org", .store = {.owned = ERR, .grant = FOUND},
	 .kind = VERDICT_TEMPFAIL, .rule = RULE_STORE_ERROR, .status = "4.3.0",
	 .trace = "user(alice) sender(alice,alice@example.org)"},
	{.label = "sender lookup fails, on_store_error dunno", .user = "alice",
	 .envelope = true, .store_error_dunno = true, .sender = "alice@example.org",
	 .store = {.owned = ERR},
	 .kind = VERDICT_DUNNO, .rule = RULE_STORE_ERROR, .status = "",
	 .trace = "user(alice) sender(alice,alice@example.org)"},
	{.label = "grant lookup fails, trusted client: still tempfail", .client = "192.0.2.7",
	 .trusted = "192.0.2.0/24", .fpr = FPR, .store = {.grant = ERR, .cert_known = FPR},
	 .kind = VERDICT_TEMPFAIL, .rule = RULE_STORE_ERROR, .status = "4.3.0",
	 .trace = "grant(192.0.2.7@1764162401)"},
	{.label = "grant lookup fails, on_store_error dunno", .client = "2001:db8::1",
	 .store_error_dunno = true, .store = {.grant = ERR},
	 .kind = VERDICT_DUNNO, .rule = RULE_STORE_ERROR, .status = "",
	 .trace = "grant(2001:db8::1@1764162401)"},
	{.label = "cert lookup fails: tempfail", .client = "192.0.2.7", .fpr = FPR,
	 .pub = PUB, .trusted = "192.0.2.0/24", .store = {.cert_error = FPR, .cert_known = PUB},
	 .kind = VERDICT_TEMPFAIL, .rule = RULE_STORE_ERROR, .status = "4.3.0",
	 .trace = "grant(192.0.2.7@1764162401) cert(" FPR ")"},
	{.label = "pubkey cert lookup fails, on_store_error dunno", .client = "192.0.2.7",
	 .fpr = FPR, .pub = PUB, .store_error_dunno = true, .trusted = "192.0.2.0/24",
	 .store = {.cert_error = PUB},
	 .kind = VERDICT_DUNNO, .rule = RULE_STORE_ERROR, .status = "",
	 .trace = "grant(192.0.2.7@1764162401) cert(" FPR ") cert(" PUB ")"},
	{.label = "lookup answers garbage: counted as failure", .client = "192.0.2.7",
	 .user = "alice", .store = {.suspended = (enum lookup_result)7},
	 .kind = VERDICT_TEMPFAIL, .rule = RULE_STORE_ERROR, .status = "4.3.0",
	 .trace = "user(alice)"},

	/* 2. Authenticated: the SASL rules alone, never rescued. */
	{.label = "sasl user, no rules: permit", .client = "192.0.2.7", .user = "alice",
	 .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "",
	 .reason_has = "authenticated as alice", .trace = "user(alice)"},
	{.label = "suspended: reject", .client = "192.0.2.7", .user = "alice",
	 .store = {.suspended = FOUND},
	 .kind = VERDICT_REJECT, .rule = RULE_SUSPENDED, .status = "5.7.1",
	 .reason_has = "user alice is suspended", .trace = "user(alice)"},
	{.label = "suspended, IP has a grant, cert, trusted: still reject", .client = "192.0.2.7",
	 .user = "alice", .fpr = FPR, .trusted = "192.0.2.0/24",
	 .store = {.suspended = FOUND, .grant = FOUND, .cert_known = FPR},
	 .kind = VERDICT_REJECT, .rule = RULE_SUSPENDED, .status = "5.7.1",
	 .trace = "user(alice)"},
	{.label = "require_tls, no TLS: reject", .client = "192.0.2.7", .user = "alice",
	 .require_tls = true,
	 .kind = VERDICT_REJECT, .rule = RULE_TLS_REQUIRED, .status = "5.7.1",
	 .reason_has = "TLS", .trace = "user(alice)"},
	{.label = "require_tls, no TLS, IP has a grant: still reject", .client = "192.0.2.7",
	 .user = "alice", .require_tls = true, .store = {.grant = FOUND},
	 .kind = VERDICT_REJECT, .rule = RULE_TLS_REQUIRED, .status = "5.7.1",
	 .trace = "user(alice)"},
	{.label = "require_tls with TLS: permit", .client = "192.0.2.7", .user = "alice",
	 .require_tls = true, .tls = true,
	 .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "", .trace = "user(alice)"},
	{.label = "suspended beats TLS check", .user = "alice", .require_tls = true,
	 .store = {.suspended = FOUND},
	 .kind = VERDICT_REJECT, .rule = RULE_SUSPENDED, .status = "5.7.1",
	 .trace = "user(alice)"},
	{.label = "envelope owned: permit", .client = "192.0.2.7", .user = "alice",
	 .envelope = true, .sender = "<alice@example.org>", .store = {.owned = FOUND},
	 .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "",
	 .trace = "user(alice) sender(alice,alice@example.org)"},
	{.label = "envelope not owned: reject", .client = "192.0.2.7", .user = "alice",
	 .envelope = true, .sender = "bob@example.org",
	 .kind = VERDICT_REJECT, .rule = RULE_SENDER_MISMATCH, .status = "5.7.1",
	 .reason_has = "sender address <bob@example.org> not owned by user alice",
	 .trace = "user(alice) sender(alice,bob@example.org)"},
	{.label = "not owned, IP has grant and cert: still reject", .client = "192.0.2.7",
	 .user = "alice", .envelope = true, .sender = "bob@example.org", .fpr = FPR,
	 .trusted = "192.0.2.0/24", .store = {.grant = FOUND, .cert_known = FPR},
	 .kind = VERDICT_REJECT, .rule = RULE_SENDER_MISMATCH, .status = "5.7.1",
	 .trace = "user(alice) sender(alice,bob@example.org)"},
	{.label = "+tag and domain case normalised for the lookup", .user = "alice",
	 .envelope = true, .sender = " <Alice+news@Example.ORG> ", .store = {.owned = FOUND},
	 .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "",
	 .trace = "user(alice) sender(alice,Alice+news@example.org)"},
	{.label = "null sender <> asked as \"\", not owned: reject", .user = "alice",
	 .envelope = true, .sender = "<>",
	 .kind = VERDICT_REJECT, .rule = RULE_SENDER_MISMATCH, .status = "5.7.1",
	 .reason_has = "sender address <> not owned", .trace = "user(alice) sender(alice,)"},
	{.label = "null sender owned (\"*\" pattern): permit", .user = "alice", .envelope = true,
	 .sender = "<>", .store = {.owned = FOUND},
	 .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "",
	 .trace = "user(alice) sender(alice,)"},
	{.label = "absent (NULL) sender is the null sender", .user = "alice", .envelope = true,
	 .kind = VERDICT_REJECT, .rule = RULE_SENDER_MISMATCH, .status = "5.7.1",
	 .trace = "user(alice) sender(alice,)"},
	{.label = "malformed sender: reject without lookup", .user = "alice", .envelope = true,
	 .sender = "<a@b@c>", .store = {.owned = FOUND},
	 .kind = VERDICT_REJECT, .rule = RULE_SENDER_MISMATCH, .status = "5.7.1",
	 .reason_has = "not a valid address", .trace = "user(alice)"},
	{.label = "sender check off: sender not asked", .user = "alice",
	 .sender = "bob@example.org",
	 .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "", .trace = "user(alice)"},
	{.label = "CR/LF in user name kept out of the reason", .user = "ev\r\nil",
	 .store = {.suspended = FOUND},
	 .kind = VERDICT_REJECT, .rule = RULE_SUSPENDED, .status = "5.7.1",
	 .reason_has = "user ev??il is suspended", .trace = "user(ev\r\nil)"},

	/* 3. Grants. */
	{.label = "IPv4 grant: permit", .client = "192.0.2.7", .sender = "x@example.org",
	 .store = {.grant = FOUND},
	 .kind = VERDICT_PERMIT, .rule = RULE_GRANT, .status = "",
	 .reason_has = "relay grant for 192.0.2.7", .trace = "grant(192.0.2.7@1764162401)"},
	{.label = "empty user name is not authenticated", .client = "192.0.2.7", .user = "",
	 .store = {.grant = FOUND, .suspended = FOUND},
	 .kind = VERDICT_PERMIT, .rule = RULE_GRANT, .status = "",
	 .trace = "grant(192.0.2.7@1764162401)"},
	{.label = "IPv6 grant asked with the full address", .client = "2001:DB8:0:0:1::7",
	 .store = {.grant = FOUND},
	 .kind = VERDICT_PERMIT, .rule = RULE_GRANT, .status = "",
	 .reason_has = "relay grant for 2001:db8::1:0:0:7",
	 .trace = "grant(2001:db8::1:0:0:7@1764162401)"},
	{.label = "IPv4-mapped client asked as IPv4", .client = "::ffff:192.0.2.7",
	 .store = {.grant = FOUND},
	 .kind = VERDICT_PERMIT, .rule = RULE_GRANT, .status = "",
	 .reason_has = "relay grant for 192.0.2.7", .trace = "grant(192.0.2.7@1764162401)"},
	{.label = "expired grant (not found): dunno", .client = "192.0.2.7",
	 .kind = VERDICT_DUNNO, .rule = RULE_NONE, .status = "",
	 .trace = "grant(192.0.2.7@1764162401)"},
	{.label = "unknown client: no grant question", .client = NULL, .store = {.grant = FOUND},
	 .kind = VERDICT_DUNNO, .rule = RULE_NONE, .status = "", .trace = ""},

	/* 4. Certificates. */
	{.label = "certificate fingerprint: permit", .client = "192.0.2.7", .fpr = FPR,
	 .pub = PUB, .store = {.cert_known = FPR},
	 .kind = VERDICT_PERMIT, .rule = RULE_CERT, .status = "",
	 .trace = "grant(192.0.2.7@1764162401) cert(" FPR ")"},
	{.label = "pubkey fingerprint: permit", .client = "192.0.2.7", .fpr = FPR, .pub = PUB,
	 .store = {.cert_known = PUB},
	 .kind = VERDICT_PERMIT, .rule = RULE_CERT, .status = "",
	 .reason_has = "public key",
	 .trace = "grant(192.0.2.7@1764162401) cert(" FPR ") cert(" PUB ")"},
	{.label = "pubkey fingerprint alone: permit", .client = "192.0.2.7", .fpr = "",
	 .pub = PUB, .store = {.cert_known = PUB},
	 .kind = VERDICT_PERMIT, .rule = RULE_CERT, .status = "",
	 .trace = "grant(192.0.2.7@1764162401) cert(" PUB ")"},
	{.label = "unregistered certificate: dunno", .client = "192.0.2.7", .fpr = FPR,
	 .pub = PUB,
	 .kind = VERDICT_DUNNO, .rule = RULE_NONE, .status = "",
	 .trace = "grant(192.0.2.7@1764162401) cert(" FPR ") cert(" PUB ")"},
	{.label = "grant beats certificate", .client = "192.0.2.7", .fpr = FPR,
	 .store = {.grant = FOUND, .cert_known = FPR},
	 .kind = VERDICT_PERMIT, .rule = RULE_GRANT, .status = "",
	 .trace = "grant(192.0.2.7@1764162401)"},

	/* 5. trusted_networks. */
	{.label = "trusted IPv4: permit", .client = "192.0.2.7", .trusted = "10.0.0.0/8, 192.0.2.0/24",
	 .kind = VERDICT_PERMIT, .rule = RULE_TRUSTED, .status = "",
	 .reason_has = "192.0.2.7 in trusted_networks",
	 .trace = "grant(192.0.2.7@1764162401)"},
	{.label = "trusted, IPv4-mapped client", .client = "::ffff:192.0.2.7",
	 .trusted = "192.0.2.0/24",
	 .kind = VERDICT_PERMIT, .rule = RULE_TRUSTED, .status = "",
	 .trace = "grant(192.0.2.7@1764162401)"},
	{.label = "trusted IPv6: permit", .client = "2001:db8:1::5", .trusted = "2001:db8::/32",
	 .kind = VERDICT_PERMIT, .rule = RULE_TRUSTED, .status = "",
	 .trace = "grant(2001:db8:1::5@1764162401)"},
	{.label = "outside trusted: dunno", .client = "198.51.100.1", .trusted = "192.0.2.0/24",
	 .kind = VERDICT_DUNNO, .rule = RULE_NONE, .status = "",
	 .trace = "grant(198.51.100.1@1764162401)"},
	{.label = "IPv6 client, IPv4 trusted: dunno", .client = "::1", .trusted = "127.0.0.0/8",
	 .kind = VERDICT_DUNNO, .rule = RULE_NONE, .status = "",
	 .trace = "grant(::1@1764162401)"},

	/* 6. Nothing. */
	{.label = "nothing: dunno rule none", .client = "198.51.100.1",
	 .sender = "x@example.org",
	 .kind = VERDICT_DUNNO, .rule = RULE_NONE, .status = "",
	 .reason_has = "no relay rule", .trace = "grant(198.51.100.1@1764162401)"},
};

static void check_verdict(const char *label, const struct relay_verdict *v,
			  enum relay_verdict_kind kind, enum relay_rule rule, const char *status,
			  const char *reason_has, const struct fake *f, const char *trace)
{
	ck_assert_msg(v->kind == kind, "%s: verdict got %s, want %s (reason \"%s\")", label,
		      relay_verdict_name(v->kind), relay_verdict_name(kind), v->reason);
	ck_assert_msg(v->rule == rule, "%s: rule got %s, want %s", label,
		      relay_rule_name(v->rule), relay_rule_name(rule));
	ck_assert_msg(v->status != NULL && strcmp(v->status, status) == 0,
		      "%s: status got \"%s\", want \"%s\"", label, v->status ? v->status : "(null)",
		      status);
	ck_assert_msg(v->reason[0] != 0, "%s: reason is empty", label);
	reason_is_clean(label, v->reason);
	if (reason_has != NULL)
		ck_assert_msg(strstr(v->reason, reason_has) != NULL,
			      "%s: reason got \"%s\", want it to contain \"%s\"", label, v->reason,
			      reason_has);
	ck_assert_msg(strcmp(f->trace, trace) == 0, "%s: lookups got \"%s\", want \"%s\"", label,
		      f->trace, trace);
}

START_TEST(test_decide_table)
{
	const struct decide_case *c = &decide_cases[_i];
	struct relay_request req;
	struct relay_policy policy;
	struct relay_lookups lookups;
	struct relay_verdict v;
	struct cidr_list *trusted = NULL;
	struct fake f = c->store;
	char *error = NULL;

	memset(&req, 0, sizeof req);
	req.client = client_raw(c->client);
	req.sasl_username = c->user;
	req.tls = c->tls;
	req.sender = c->sender;
	req.cert_fingerprint = c->fpr;
	req.cert_pubkey_fingerprint = c->pub;
	req.now = NOW;

	memset(&policy, 0, sizeof policy);
	policy.require_tls_for_auth = c->require_tls;
	policy.check_envelope = c->envelope;
	policy.on_store_error = c->store_error_dunno ? ON_STORE_ERROR_DUNNO
						     : ON_STORE_ERROR_TEMPFAIL;
	if (c->trusted != NULL) {
		ck_assert_msg(cidr_list_parse(c->trusted, &trusted, &error) == 0, "%s: %s",
			      c->label, error);
		policy.trusted_networks = trusted;
	}
	fake_bind(&f, &lookups);
	memset(&v, 0x55, sizeof v);	/* garbage: decide() must set every field */

	decide(&req, &policy, &lookups, &v);
	check_verdict(c->label, &v, c->kind, c->rule, c->status, c->reason_has, &f, c->trace);
	cidr_list_free(&trusted);
}
END_TEST

/* ---- decide_header_from ---- */

#define FROM_MAX 4

struct header_case {
	const char *label;
	const char *user;
	bool check_header;
	bool store_error_dunno;
	const char *from[FROM_MAX];
	size_t count;
	struct fake store;
	enum relay_verdict_kind kind;
	enum relay_rule rule;
	const char *status;
	const char *reason_has;
	const char *trace;
};

static const struct header_case header_cases[] = {
	{.label = "several addresses, all owned", .user = "alice", .check_header = true,
	 .from = {"Alice@Example.org", "<alice+list@example.ORG>", "team@example.org"},
	 .count = 3, .store = {.owned = FOUND},
	 .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "",
	 .trace = "sender(alice,Alice@example.org) sender(alice,alice+list@example.org) "
		  "sender(alice,team@example.org)"},
	{.label = "one foreign address among several: reject naming it", .user = "alice",
	 .check_header = true,
	 .from = {"alice@example.org", "Mallory@Evil.Example", "team@example.org"}, .count = 3,
	 .store = {.owned = FOUND, .owned_except = "Mallory@evil.example",
		   .owned_except_answer = NOTF},
	 .kind = VERDICT_REJECT, .rule = RULE_SENDER_MISMATCH, .status = "5.7.1",
	 .reason_has = "<Mallory@evil.example> not owned by user alice",
	 .trace = "sender(alice,alice@example.org) sender(alice,Mallory@evil.example)"},
	{.label = "lookup fails on the second address: tempfail", .user = "alice",
	 .check_header = true, .from = {"alice@example.org", "bob@example.org"}, .count = 2,
	 .store = {.owned = FOUND, .owned_except = "bob@example.org", .owned_except_answer = ERR},
	 .kind = VERDICT_TEMPFAIL, .rule = RULE_STORE_ERROR, .status = "4.3.0",
	 .trace = "sender(alice,alice@example.org) sender(alice,bob@example.org)"},
	{.label = "lookup fails, on_store_error dunno", .user = "alice", .check_header = true,
	 .store_error_dunno = true, .from = {"alice@example.org"}, .count = 1,
	 .store = {.owned = ERR},
	 .kind = VERDICT_DUNNO, .rule = RULE_STORE_ERROR, .status = "",
	 .trace = "sender(alice,alice@example.org)"},
	{.label = "malformed From: address: reject", .user = "alice", .check_header = true,
	 .from = {"alice@example.org", "not an address"}, .count = 2, .store = {.owned = FOUND},
	 .kind = VERDICT_REJECT, .rule = RULE_SENDER_MISMATCH, .status = "5.7.1",
	 .reason_has = "<not an address>", .trace = "sender(alice,alice@example.org)"},
	{.label = "check off: nothing asked", .user = "alice", .check_header = false,
	 .from = {"mallory@evil.example"}, .count = 1,
	 .kind = VERDICT_PERMIT, .rule = RULE_NONE, .status = "", .trace = ""},
	{.label = "no SASL user: nothing asked", .user = NULL, .check_header = true,
	 .from = {"mallory@evil.example"}, .count = 1,
	 .kind = VERDICT_PERMIT, .rule = RULE_NONE, .status = "", .trace = ""},
	{.label = "no From: address at all", .user = "alice", .check_header = true, .count = 0,
	 .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "", .trace = ""},
};

START_TEST(test_header_from_table)
{
	const struct header_case *c = &header_cases[_i];
	struct relay_request req;
	struct relay_policy policy;
	struct relay_lookups lookups;
	struct relay_verdict v;
	struct fake f = c->store;

	memset(&req, 0, sizeof req);
	req.client = client_raw("192.0.2.7");
	req.sasl_username = c->user;
	req.header_from = c->from;
	req.header_from_count = c->count;
	req.now = NOW;
	memset(&policy, 0, sizeof policy);
	policy.check_header = c->check_header;
	policy.on_store_error = c->store_error_dunno ? ON_STORE_ERROR_DUNNO
						     : ON_STORE_ERROR_TEMPFAIL;
	fake_bind(&f, &lookups);
	memset(&v, 0x55, sizeof v);

	decide_header_from(&req, &policy, &lookups, &v);
	check_verdict(c->label, &v, c->kind, c->rule, c->status, c->reason_has, &f, c->trace);
}
END_TEST

START_TEST(test_header_from_too_many)
{
	enum { N = 101 };
	const char *from[N];
	struct relay_request req;
	struct relay_policy policy;
	struct relay_lookups lookups;
	struct relay_verdict v;
	struct fake f = {.owned = FOUND};

	for (size_t i = 0; i < N; i++)
		from[i] = "alice@example.org";
	memset(&req, 0, sizeof req);
	req.sasl_username = "alice";
	req.header_from = from;
	req.header_from_count = N;
	memset(&policy, 0, sizeof policy);
	policy.check_header = true;
	fake_bind(&f, &lookups);
	decide_header_from(&req, &policy, &lookups, &v);
	check_verdict("101 From: addresses", &v, VERDICT_REJECT, RULE_SENDER_MISMATCH, "5.7.1",
		      "too many", &f, "");

	/* 100 is still checked one by one. */
	req.header_from_count = N - 1;
	decide_header_from(&req, &policy, &lookups, &v);
	ck_assert_msg(v.kind == VERDICT_PERMIT, "100 From: addresses: got %s, want permit",
		      relay_verdict_name(v.kind));
}
END_TEST

/* ---- requests decide() cannot work with ---- */

START_TEST(test_bad_request)
{
	struct relay_request req;
	struct relay_policy policy;
	struct relay_lookups lookups;
	struct relay_verdict v;
	struct fake f = {.grant = FOUND, .owned = FOUND};
	const char *label[] = {"no user_suspended", "no sender_owned", "no grant_live",
			       "no cert_known", "header_from NULL with a count", "NULL request"};

	for (unsigned i = 0; i < sizeof label / sizeof label[0]; i++) {
		const struct relay_request *reqp = &req;

		memset(&req, 0, sizeof req);
		req.client = client_raw("192.0.2.7");
		req.sasl_username = i == 4 ? "alice" : NULL;
		memset(&policy, 0, sizeof policy);
		policy.check_header = true;
		memset(&f.trace, 0, sizeof f.trace);
		fake_bind(&f, &lookups);
		switch (i) {
		case 0:
			lookups.user_suspended = NULL;
			break;
		case 1:
			lookups.sender_owned = NULL;
			break;
		case 2:
			lookups.grant_live = NULL;
			break;
		case 3:
			lookups.cert_known = NULL;
			break;
		case 4:
			req.header_from_count = 2;
			break;
		default:
			reqp = NULL;
			break;
		}
		decide(reqp, &policy, &lookups, &v);
		check_verdict(label[i], &v, VERDICT_DUNNO, RULE_BAD_REQUEST, "", NULL, &f, "");
		decide_header_from(reqp, &policy, &lookups, &v);
		check_verdict(label[i], &v, VERDICT_DUNNO, RULE_BAD_REQUEST, "", NULL, &f, "");
	}
}
END_TEST

/* ---- a long hostile value stays inside the reason ---- */

START_TEST(test_reason_bounded)
{
	char user[2000];
	struct relay_request req;
	struct relay_policy policy;
	struct relay_lookups lookups;
	struct relay_verdict v;
	struct fake f = {.suspended = FOUND};

	memset(user, '\n', sizeof user - 1);
	user[sizeof user - 1] = 0;
	memset(&req, 0, sizeof req);
	req.sasl_username = user;
	memset(&policy, 0, sizeof policy);
	fake_bind(&f, &lookups);
	decide(&req, &policy, &lookups, &v);
	ck_assert_msg(v.rule == RULE_SUSPENDED, "got %s, want suspended", relay_rule_name(v.rule));
	reason_is_clean("2000 newlines", v.reason);
	ck_assert_msg(strlen(v.reason) < RELAY_REASON_MAX, "reason length %zu",
		      strlen(v.reason));
	ck_assert_msg(strstr(v.reason, "...") != NULL, "cut not marked: got \"%s\"", v.reason);
}
END_TEST

/* ---- names ---- */

START_TEST(test_names)
{
	static const struct {
		enum relay_verdict_kind kind;
		const char *want;
	} verdicts[] = {
		{VERDICT_PERMIT, "permit"},
		{VERDICT_DUNNO, "dunno"},
		{VERDICT_REJECT, "reject"},
		{VERDICT_TEMPFAIL, "tempfail"},
		{(enum relay_verdict_kind)99, "unknown"},
	};
	static const struct {
		enum relay_rule rule;
		const char *want;
	} rules[] = {
		{RULE_NONE, "none"},
		{RULE_STORE_ERROR, "store_error"},
		{RULE_SASL, "sasl"},
		{RULE_SUSPENDED, "suspended"},
		{RULE_TLS_REQUIRED, "tls_required"},
		{RULE_SENDER_MISMATCH, "sender_mismatch"},
		{RULE_GRANT, "grant"},
		{RULE_CERT, "cert"},
		{RULE_TRUSTED, "trusted"},
		{RULE_BAD_REQUEST, "bad_request"},
		{RULE_RATE_LIMIT, "rate_limit"},
		{(enum relay_rule)99, "unknown"},
	};

	for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
		const char *got = relay_verdict_name(verdicts[i].kind);

		ck_assert_msg(strcmp(got, verdicts[i].want) == 0, "verdict %d: got %s, want %s",
			      (int)verdicts[i].kind, got, verdicts[i].want);
	}
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		const char *got = relay_rule_name(rules[i].rule);

		ck_assert_msg(strcmp(got, rules[i].want) == 0, "rule %d: got %s, want %s",
			      (int)rules[i].rule, got, rules[i].want);
	}
}
END_TEST

/* ---- relay_policy_from_config ---- */

START_TEST(test_policy_from_config)
{
	static const struct {
		enum sender_login_check slc;
		bool sees_headers;
		bool want_envelope, want_header;
	} cases[] = {
		{SENDER_CHECK_NO, true, false, false},
		{SENDER_CHECK_ENVELOPE, true, true, false},
		{SENDER_CHECK_HEADER, true, false, true},
		{SENDER_CHECK_HEADER, false, false, false},
		{SENDER_CHECK_BOTH, true, true, true},
		{SENDER_CHECK_BOTH, false, true, false},
	};
	struct authrelay_config cfg;
	struct cidr_list *trusted = NULL;
	char *error = NULL;

	ck_assert_msg(cidr_list_parse("192.0.2.0/24", &trusted, &error) == 0, "%s", error);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct relay_policy p;

		memset(&cfg, 0, sizeof cfg);
		cfg.sender_login_check = cases[i].slc;
		cfg.require_tls_for_auth = i % 2 == 0;
		cfg.on_store_error = i % 2 ? ON_STORE_ERROR_DUNNO : ON_STORE_ERROR_TEMPFAIL;
		cfg.trusted_networks = trusted;
		memset(&p, 0x55, sizeof p);
		relay_policy_from_config(&p, &cfg, cases[i].sees_headers);
		ck_assert_msg(p.check_envelope == cases[i].want_envelope,
			      "case %zu: check_envelope got %d, want %d", i, p.check_envelope,
			      cases[i].want_envelope);
		ck_assert_msg(p.check_header == cases[i].want_header,
			      "case %zu: check_header got %d, want %d", i, p.check_header,
			      cases[i].want_header);
		ck_assert_msg(p.require_tls_for_auth == (i % 2 == 0),
			      "case %zu: require_tls_for_auth got %d", i, p.require_tls_for_auth);
		ck_assert_msg(p.on_store_error == cfg.on_store_error,
			      "case %zu: on_store_error got %d, want %d", i, (int)p.on_store_error,
			      (int)cfg.on_store_error);
		ck_assert_msg(p.trusted_networks == trusted, "case %zu: trusted_networks not kept",
			      i);
	}
	cidr_list_free(&trusted);
}
END_TEST

static Suite *decide_suite(void)
{
	Suite *s = suite_create("decide");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_decide_table, 0,
			    (int)(sizeof decide_cases / sizeof decide_cases[0]));
	tcase_add_loop_test(tc, test_header_from_table, 0,
			    (int)(sizeof header_cases / sizeof header_cases[0]));
	tcase_add_test(tc, test_header_from_too_many);
	tcase_add_test(tc, test_bad_request);
	tcase_add_test(tc, test_reason_bounded);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_policy_from_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(decide_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

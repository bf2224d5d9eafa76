/*
 * NAME
 *	request 3
 * SUMMARY
 *	policy request attributes to a relay decision and its reply
 * SYNOPSIS
 *	#include "request.h"
 * DESCRIPTION
 *	The attribute table below lists every attribute Postfix 3.x sends
 *	(SMTPD_POLICY_README, and what Postfix 3.7 was seen to send in the
 *	lab); an entry with a field stores the value there, an entry
 *	without one is known and dropped.
 *
 *	ccert_* values are xtext (Postfix 2.2.11 and later): "+XX" stands
 *	for the byte 0xXX. Fingerprints never need it, but decoding keeps a
 *	future Postfix that encodes more from breaking the comparison.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "request.h"

enum field_use {
	FIELD_IGNORED = 0,	/* known, not used */
	FIELD_DECISION,		/* too long: the request cannot be decided */
	FIELD_INFO,		/* too long: cut (only logged) */
	FIELD_TLS		/* non-empty sets tls */
};

struct attr_def {
	const char *name;
	size_t name_len;
	enum field_use use;
	size_t offset;
	size_t size;
	bool xtext;
};

#define F(name, use, field, xt) \
	{#name, sizeof(#name) - 1, use, offsetof(struct policy_request, field), \
	 sizeof(((struct policy_request *)0)->field), xt}
#define KNOWN(name) {#name, sizeof(#name) - 1, FIELD_IGNORED, 0, 0, false}

static const struct attr_def attr_defs[] = {
	F(request, FIELD_DECISION, request, false),
	F(protocol_state, FIELD_DECISION, protocol_state, false),
	F(client_address, FIELD_DECISION, client_address, false),
	F(sasl_username, FIELD_DECISION, sasl_username, false),
	F(sender, FIELD_DECISION, sender, false),
	F(recipient, FIELD_INFO, recipient, false),
	F(ccert_fingerprint, FIELD_DECISION, ccert_fingerprint, true),
	F(ccert_pubkey_fingerprint, FIELD_DECISION, ccert_pubkey_fingerprint, true),
	F(queue_id, FIELD_INFO, queue_id, false),
	F(instance, FIELD_INFO, instance, false),
	F(recipient_count, FIELD_DECISION, recipient_count, false),
	{"encryption_protocol", sizeof("encryption_protocol") - 1, FIELD_TLS, 0, 0, false},
	KNOWN(protocol_name),
	KNOWN(helo_name),
	KNOWN(client_name),
	KNOWN(reverse_client_name),
	KNOWN(client_port),
	KNOWN(server_address),
	KNOWN(server_port),
	KNOWN(sasl_method),
	KNOWN(sasl_sender),
	KNOWN(size),
	KNOWN(ccert_subject),
	KNOWN(ccert_issuer),
	KNOWN(encryption_cipher),
	KNOWN(encryption_keysize),
	KNOWN(etrn_domain),
	KNOWN(stress),
	KNOWN(policy_context),
	KNOWN(compatibility_level),
	KNOWN(mail_version),
};

/* request_reset - empty the request */
void request_reset(struct policy_request *req)
{
	/* Only the first byte of each string field needs clearing; memset
	   of the whole struct (about 1.5 KiB) per request is measurable in
	   the benchmark but harmless; keep it simple and certain. */
	memset(req, 0, sizeof(*req));
}

/* hexval - value of one hex digit, or -1 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* copy_value - copy value into a field, decoding xtext; false when it does not fit */
static bool copy_value(char *field, size_t size, const char *value, size_t len, bool xtext)
{
	size_t n = 0;

	/* Plain text, the common case, in one copy. */
	if (!xtext || memchr(value, '+', len) == NULL) {
		if (len >= size) {
			field[0] = '\0';
			return false;
		}
		memcpy(field, value, len);
		field[len] = '\0';
		return true;
	}

	for (size_t i = 0; i < len; i++) {
		char c = value[i];

		if (xtext && c == '+' && i + 2 < len && hexval(value[i + 1]) >= 0 &&
		    hexval(value[i + 2]) >= 0) {
			c = (char)(hexval(value[i + 1]) * 16 + hexval(value[i + 2]));
			i += 2;
			if (c == '\0')
				c = '?';	/* a decoded NUL would cut the field */
		}
		if (n + 1 >= size) {
			field[0] = '\0';
			return false;
		}
		field[n++] = c;
	}
	field[n] = '\0';
	return true;
}

#define ATTR_COUNT (sizeof(attr_defs) / sizeof(attr_defs[0]))
#define ATTR_NAME_MAX 31	/* longer than every name in attr_defs */

/* The table by name length: a request has about 25 attributes and the
   table 31 names, so a scan of the whole table per attribute was a
   measurable part of each request (tests/bench/policyd.sh). by_len
   lists the entries of each length, at most a few. */
static unsigned char by_len[ATTR_COUNT];
static unsigned char len_start[ATTR_NAME_MAX + 2];
static pthread_once_t by_len_once = PTHREAD_ONCE_INIT;

/* by_len_build - sort the table's indexes by name length */
static void by_len_build(void)
{
	unsigned n = 0;

	for (size_t len = 0; len <= ATTR_NAME_MAX; len++) {
		len_start[len] = (unsigned char)n;
		for (size_t i = 0; i < ATTR_COUNT; i++)
			if (attr_defs[i].name_len == len)
				by_len[n++] = (unsigned char)i;
	}
	len_start[ATTR_NAME_MAX + 1] = (unsigned char)n;
}

/* attr_find - the table entry for a name, or NULL */
static const struct attr_def *attr_find(const char *name, size_t name_len)
{
	if (name_len > ATTR_NAME_MAX)
		return NULL;
	pthread_once(&by_len_once, by_len_build);
	for (unsigned k = len_start[name_len]; k < len_start[name_len + 1]; k++) {
		const struct attr_def *d = &attr_defs[by_len[k]];

		if (memcmp(d->name, name, name_len) == 0)
			return d;
	}
	return NULL;
}

/* request_attr - store one attribute of the current request */
void request_attr(void *ctx, const char *name, size_t name_len, const char *value,
		  size_t value_len)
{
	struct policy_request *req = ctx;
	const struct attr_def *d = attr_find(name, name_len);
	char *field;

	if (d == NULL) {
		req->unknown++;
		return;
	}
	switch (d->use) {
	case FIELD_IGNORED:
		return;
	case FIELD_TLS:
		req->tls = value_len > 0;
		return;
	case FIELD_DECISION:
	case FIELD_INFO:
		break;
	}
	field = (char *)req + d->offset;
	if (d->offset == offsetof(struct policy_request, request))
		req->has_request = true;
	if (!copy_value(field, d->size, value, value_len, d->xtext)) {
		if (d->use == FIELD_DECISION) {
			if (req->overflow == NULL)
				req->overflow = d->name;
		} else {
			/* Only logged: a cut value is still useful. */
			memcpy(field, value, d->size - 1);
			field[d->size - 1] = '\0';
		}
	}
}

/* status_or - the verdict's enhanced status when of the right class */
static const char *status_or(const char *status, char class, const char *fallback)
{
	/* "5.7.1" shape: class digit, '.', more. Anything else would make
	   Postfix read the text as part of the code. */
	if (status != NULL && status[0] == class && status[1] == '.' && strlen(status) <= 9)
		return status;
	return fallback;
}

/* format_reply - the reply for a verdict */
static size_t format_reply(const struct relay_verdict *v, char *reply, size_t size)
{
	char text[RELAY_REASON_MAX + 16];

	switch (v->kind) {
	case VERDICT_PERMIT:
		return proto_reply_format(reply, size, "OK", NULL);
	case VERDICT_REJECT:
		snprintf(text, sizeof(text), "%s %s", status_or(v->status, '5', "5.7.1"),
			 v->reason[0] ? v->reason : "Relay access denied");
		return proto_reply_format(reply, size, "REJECT", text);
	case VERDICT_TEMPFAIL:
		if (v->rule == RULE_RATE_LIMIT) {
			/* SPEC: over a sending limit, "action=450 4.7.1 text":
			   a plain temporary refusal, whatever else would permit. */
			snprintf(text, sizeof(text), "%s %s", status_or(v->status, '4', "4.7.1"),
				 v->reason[0] ? v->reason : "Sending limit reached");
			return proto_reply_format(reply, size, "450", text);
		}
		snprintf(text, sizeof(text), "%s %s", status_or(v->status, '4', "4.3.0"),
			 v->reason[0] ? v->reason : "Relay database temporarily unavailable");
		return proto_reply_format(reply, size, "DEFER_IF_PERMIT", text);
	case VERDICT_DUNNO:
		break;
	}
	/* DUNNO, and any value the enum might grow: never OK by accident. */
	return proto_reply_format(reply, size, "DUNNO", NULL);
}

/* The buffers a struct frontend_request points into besides req. */
struct request_text {
	char ip[IPADDR_STRLEN];
	char too_long[64];
};

/* request_facts - the decision facts of req, pointing into req and t */
static void request_facts(const struct policy_request *req, int64_t now,
			  struct frontend_request *fr, struct request_text *t)
{
	memset(fr, 0, sizeof(*fr));
	/* family 0 when absent or unparsable: decide() then matches no
	   grant, certificate-free network or trusted network by address. */
	(void)ipaddr_parse(req->client_address, &fr->relay.client);
	fr->relay.sasl_username = req->sasl_username;
	fr->relay.tls = req->tls;
	fr->relay.sender = req->sender;
	fr->relay.cert_fingerprint = req->ccert_fingerprint;
	fr->relay.cert_pubkey_fingerprint = req->ccert_pubkey_fingerprint;
	fr->relay.now = now;
	fr->client_text = fr->relay.client.family != 0 ? ipaddr_format(&fr->relay.client, t->ip)
						       : req->client_address;
	fr->recipient = req->recipient;
	fr->queue_id = req->queue_id;
	if (req->overflow != NULL) {
		snprintf(t->too_long, sizeof(t->too_long), "attribute %s", req->overflow);
		fr->too_long = t->too_long;
	}
}

/* request_answer - decide one request and write its reply */
size_t request_answer(const struct policy_request *req, const struct frontend_env *env,
		      int64_t now, char *reply, size_t size, const char **error_r, bool *held_r)
{
	struct frontend_request fr;
	struct relay_verdict v;
	struct request_text text;
	/* Timed from here: the request is complete and parsed. */
	uint64_t start = metrics_request_start();
	size_t len;

	*error_r = NULL;
	if (held_r != NULL)
		*held_r = false;
	if (!req->has_request) {
		*error_r = "request has no \"request\" attribute";
		return 0;
	}
	if (strcmp(req->request, "smtpd_access_policy") != 0) {
		*error_r = "unsupported request type (only request=smtpd_access_policy)";
		return 0;
	}
	if (strcmp(req->protocol_state, "RCPT") != 0 && strcmp(req->protocol_state, "DATA") != 0) {
		log_debug("protocol_state=%s: DUNNO (relay is decided at RCPT, limits at DATA)",
			  req->protocol_state[0] ? req->protocol_state : "(none)");
		return proto_reply_format(reply, size, "DUNNO", NULL);
	}

	request_facts(req, now, &fr, &text);
	if (strcmp(req->protocol_state, "DATA") == 0) {
		unsigned long n = strtoul(req->recipient_count, NULL, 10);

		fr.recipient = "";
		frontend_decide_data(&fr, env, n > 100000 ? 100000 : (unsigned)n, &v, held_r);
	} else {
		frontend_decide_rcpt(&fr, env, &v);
	}
	len = format_reply(&v, reply, size);
	metrics_request_done(start);
	return len;
}

size_t request_uncounted(const struct policy_request *req, const struct frontend_env *env,
			 int64_t now, char *reply, size_t size)
{
	struct frontend_request fr;
	struct relay_verdict v;
	struct request_text text;

	request_facts(req, now, &fr, &text);
	fr.recipient = "";	/* a DATA request's */
	frontend_data_uncounted(&fr, env, &v);
	return format_reply(&v, reply, size);
}

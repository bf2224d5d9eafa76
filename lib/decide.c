/*
 * NAME
 *	decide 3
 * SUMMARY
 *	the relay decision shared by policyd and the milter
 * SYNOPSIS
 *	#include "decide.h"
 *
 *	void decide(req, policy, lookups, verdict_r)
 *
 *	void decide_header_from(req, policy, lookups, verdict_r)
 * DESCRIPTION
 *	decide() walks the rules of authrelay.conf(5) RELAY DECISION
 *	(doc/DESIGN.md "3. The relay decision") in order and stops at the
 *	first rule that gives an answer. It asks its questions through
 *	struct relay_lookups only, lazily: a lookup that is not needed is
 *	not made, so a grant lookup that would fail does not matter to an
 *	authenticated client.
 *
 *	The first lookup that fails ends the decision with the policy's
 *	on_store_error (tempfail 4.3.0, or no opinion): nothing after it is
 *	consulted, so a failed lookup can never be turned into a permit by
 *	a later rule. An answer other than the three lookup results counts
 *	as a failure.
 *
 *	An authenticated client is judged by the SASL rules alone and is
 *	never rescued by a grant, a certificate or trusted_networks: a
 *	suspended user whose IP also holds a grant is still rejected.
 *
 *	Addresses are normalised here with lib/addr (brackets, domain case);
 *	the lookup receives the normalised address with its +tag, and
 *	handles the tag itself (store.h). The null sender is asked about as
 *	"", which only a "*" pattern covers (addr.h). An address that does
 *	not normalise cannot be owned: it is rejected as a mismatch, never
 *	passed on as "no opinion" (Postfix would then permit_sasl_authenticated).
 *
 *	An IPv4-mapped IPv6 client (a front end that filled the struct from
 *	a sockaddr_in6) is turned into IPv4 before any question is asked.
 * DIAGNOSTICS
 *	None: decide() never fails. The reason text is plain ASCII without
 *	control characters; bytes from outside that are not printable
 *	ASCII are shown as '?'.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "cidr.h"
#include "decide.h"

/* More From: mailboxes than any real message has; a longer list is
   refused rather than costing one lookup per entry. */
#define DECIDE_HEADER_FROM_MAX 100

/* Shown in reasons instead of a value longer than this, so the reason
   keeps room for its own words. */
#define DECIDE_SHOWN_MAX 100

static const char *const verdict_names[] = {
	[VERDICT_DUNNO] = "dunno",
	[VERDICT_PERMIT] = "permit",
	[VERDICT_REJECT] = "reject",
	[VERDICT_TEMPFAIL] = "tempfail",
};

static const char *const rule_names[] = {
	[RULE_NONE] = "none",
	[RULE_STORE_ERROR] = "store_error",
	[RULE_SASL] = "sasl",
	[RULE_SUSPENDED] = "suspended",
	[RULE_TLS_REQUIRED] = "tls_required",
	[RULE_SENDER_MISMATCH] = "sender_mismatch",
	[RULE_GRANT] = "grant",
	[RULE_CERT] = "cert",
	[RULE_TRUSTED] = "trusted",
	[RULE_BAD_REQUEST] = "bad_request",
	[RULE_RATE_LIMIT] = "rate_limit",
};

/* relay_verdict_name - "permit", "dunno", ...; "unknown" out of range */

const char *relay_verdict_name(enum relay_verdict_kind kind)
{
	if ((unsigned)kind >= sizeof verdict_names / sizeof verdict_names[0])
		return "unknown";
	return verdict_names[kind];
}

/* relay_rule_name - "none", "store_error", ...; "unknown" out of range */

const char *relay_rule_name(enum relay_rule rule)
{
	if ((unsigned)rule >= sizeof rule_names / sizeof rule_names[0])
		return "unknown";
	return rule_names[rule];
}

/* relay_policy_from_config - the decision's view of the config */

void relay_policy_from_config(struct relay_policy *policy, const struct authrelay_config *cfg,
			      bool front_end_sees_headers)
{
	enum sender_login_check slc = cfg->sender_login_check;

	memset(policy, 0, sizeof *policy);
	policy->require_tls_for_auth = cfg->require_tls_for_auth;
	policy->check_envelope = slc == SENDER_CHECK_ENVELOPE || slc == SENDER_CHECK_BOTH;
	policy->check_header = front_end_sees_headers &&
			       (slc == SENDER_CHECK_HEADER || slc == SENDER_CHECK_BOTH);
	policy->on_store_error = cfg->on_store_error;
	policy->trusted_networks = cfg->trusted_networks;
}

/* shown - copies text for a reason: printable ASCII only, bounded */

static const char *shown(const char *text, char *buf, size_t size)
{
	size_t limit = size - 1 < DECIDE_SHOWN_MAX ? size - 1 : DECIDE_SHOWN_MAX;
	size_t i;

	if (text == NULL)
		text = "";
	for (i = 0; text[i] != 0 && i < limit; i++) {
		unsigned char c = (unsigned char)text[i];

		buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[i] = 0;
	/* Mark a cut so that a reader never takes it for the whole value. */
	if (text[i] != 0 && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return buf;
}

/* set_verdict - fills the verdict; the reason is made safe afterwards */

static void set_verdict(struct relay_verdict *v, enum relay_verdict_kind kind,
			enum relay_rule rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_verdict(struct relay_verdict *v, enum relay_verdict_kind kind,
			enum relay_rule rule, const char *fmt, ...)
{
	va_list ap;

	v->kind = kind;
	v->rule = rule;
	switch (kind) {
	case VERDICT_REJECT:
		v->status = "5.7.1";
		break;
	case VERDICT_TEMPFAIL:
		v->status = "4.3.0";
		break;
	default:
		v->status = "";
		break;
	}
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof v->reason, fmt, ap);
	va_end(ap);

	/* Arguments were already passed through shown(); this is the
	   last guard that a reply line can never be split. */
	for (char *p = v->reason; *p != 0; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
}

/* decide_store_error - the policy's answer when a lookup could not tell */

static void decide_store_error(struct relay_verdict *v, const struct relay_policy *policy,
			       const char *what)
{
	if (policy->on_store_error == ON_STORE_ERROR_DUNNO)
		set_verdict(v, VERDICT_DUNNO, RULE_STORE_ERROR,
			    "relay database lookup failed (%s); no opinion", what);
	else
		set_verdict(v, VERDICT_TEMPFAIL, RULE_STORE_ERROR,
			    "relay database lookup failed (%s); try again later", what);
}

/* is_error - anything but a clear answer is a failure */

static bool is_error(enum lookup_result r)
{
	return r != LOOKUP_FOUND && r != LOOKUP_NOT_FOUND;
}

static bool is_empty(const char *s)
{
	return s == NULL || *s == 0;
}

/* is_usable - the request and its lookups can be worked with */

static bool is_usable(const struct relay_request *req, const struct relay_policy *policy,
		      const struct relay_lookups *lookups)
{
	return req != NULL && policy != NULL && lookups != NULL &&
	       lookups->user_suspended != NULL && lookups->sender_owned != NULL &&
	       lookups->grant_live != NULL && lookups->cert_known != NULL &&
	       (req->header_from_count == 0 || req->header_from != NULL);
}

/* client_normalized - the client address with ::ffff:a.b.c.d as IPv4 */

static void client_normalized(const struct ipaddr *in, struct ipaddr *out)
{
	static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	*out = *in;
	if (in->family == AF_INET6 && memcmp(in->bytes, mapped_prefix, sizeof mapped_prefix) == 0) {
		memset(out, 0, sizeof *out);
		out->family = AF_INET;
		memcpy(out->bytes, in->bytes + 12, 4);
	}
}

/* check_owned - one sender_owned question; true when the verdict is set */

static bool check_owned(const struct relay_request *req, const struct relay_policy *policy,
			const struct relay_lookups *lookups, const char *what,
			const char *address, struct relay_verdict *v)
{
	char normalized[ADDR_MAX];
	char buf_user[DECIDE_SHOWN_MAX + 1];
	char buf_addr[DECIDE_SHOWN_MAX + 1];
	enum lookup_result r;

	if (address == NULL)
		address = "";
	if (addr_normalize(address, normalized, sizeof normalized) != 0) {
		set_verdict(v, VERDICT_REJECT, RULE_SENDER_MISMATCH,
			    "%s address <%s> is not a valid address", what,
			    shown(address, buf_addr, sizeof buf_addr));
		return true;
	}
	r = lookups->sender_owned(lookups->ctx, req->sasl_username, normalized);
	if (is_error(r)) {
		decide_store_error(v, policy, "sender");
		return true;
	}
	if (r == LOOKUP_NOT_FOUND) {
		set_verdict(v, VERDICT_REJECT, RULE_SENDER_MISMATCH,
			    "%s address <%s> not owned by user %s", what,
			    shown(normalized, buf_addr, sizeof buf_addr),
			    shown(req->sasl_username, buf_user, sizeof buf_user));
		return true;
	}
	return false;
}

/* decide_sasl - rule 2: an authenticated client, judged alone */

static void decide_sasl(const struct relay_request *req, const struct relay_policy *policy,
			const struct relay_lookups *lookups, struct relay_verdict *v)
{
	char buf_user[DECIDE_SHOWN_MAX + 1];
	enum lookup_result r;

	r = lookups->user_suspended(lookups->ctx, req->sasl_username);
	if (is_error(r)) {
		decide_store_error(v, policy, "user");
		return;
	}
	if (r == LOOKUP_FOUND) {
		set_verdict(v, VERDICT_REJECT, RULE_SUSPENDED, "user %s is suspended",
			    shown(req->sasl_username, buf_user, sizeof buf_user));
		return;
	}
	if (policy->require_tls_for_auth && !req->tls) {
		set_verdict(v, VERDICT_REJECT, RULE_TLS_REQUIRED,
			    "authenticated relay requires a TLS-protected session");
		return;
	}
	if (policy->check_envelope &&
	    check_owned(req, policy, lookups, "sender", req->sender, v))
		return;
	set_verdict(v, VERDICT_PERMIT, RULE_SASL, "authenticated as %s",
		    shown(req->sasl_username, buf_user, sizeof buf_user));
}

/* decide_cert - rule 4 for one fingerprint; LOOKUP_FOUND means verdict set */

static enum lookup_result decide_cert(const char *fingerprint, const char *what,
				      const struct relay_policy *policy,
				      const struct relay_lookups *lookups, struct relay_verdict *v)
{
	enum lookup_result r;

	if (is_empty(fingerprint))
		return LOOKUP_NOT_FOUND;
	r = lookups->cert_known(lookups->ctx, fingerprint);
	if (is_error(r)) {
		decide_store_error(v, policy, "certificate");
		return LOOKUP_ERROR;
	}
	if (r == LOOKUP_FOUND)
		set_verdict(v, VERDICT_PERMIT, RULE_CERT, "registered client certificate (%s)",
			    what);
	return r;
}

/* decide - the relay decision, rule by rule (doc/DESIGN.md 3) */

void decide(const struct relay_request *req, const struct relay_policy *policy,
	    const struct relay_lookups *lookups, struct relay_verdict *verdict_r)
{
	struct ipaddr client;
	char buf_ip[IPADDR_STRLEN];
	enum lookup_result r;

	if (!is_usable(req, policy, lookups)) {
		set_verdict(verdict_r, VERDICT_DUNNO, RULE_BAD_REQUEST, "incomplete request");
		return;
	}

	/* Rule 2: the SASL rules alone; nothing below may rescue a refusal. */
	if (!is_empty(req->sasl_username)) {
		decide_sasl(req, policy, lookups, verdict_r);
		return;
	}

	/* Rule 3: a grant. An unknown (family 0) client can hold none. */
	client_normalized(&req->client, &client);
	if (client.family != 0) {
		r = lookups->grant_live(lookups->ctx, &client, req->now);
		if (is_error(r)) {
			decide_store_error(verdict_r, policy, "grant");
			return;
		}
		if (r == LOOKUP_FOUND) {
			set_verdict(verdict_r, VERDICT_PERMIT, RULE_GRANT, "relay grant for %s",
				    ipaddr_format(&client, buf_ip));
			return;
		}
	}

	/* Rule 4: a registered certificate, by either fingerprint form. */
	r = decide_cert(req->cert_fingerprint, "fingerprint", policy, lookups, verdict_r);
	if (r != LOOKUP_NOT_FOUND)
		return;
	r = decide_cert(req->cert_pubkey_fingerprint, "public key fingerprint", policy, lookups,
			verdict_r);
	if (r != LOOKUP_NOT_FOUND)
		return;

	/* Rule 5: trusted_networks (family 0 matches nothing). */
	if (cidr_list_match(policy->trusted_networks, &client)) {
		set_verdict(verdict_r, VERDICT_PERMIT, RULE_TRUSTED, "client %s in trusted_networks",
			    ipaddr_format(&client, buf_ip));
		return;
	}

	/* Rule 6: no opinion; the front end says what that means. */
	set_verdict(verdict_r, VERDICT_DUNNO, RULE_NONE, "no relay rule matched");
}

/* decide_header_from - every From: address must be the SASL user's */

void decide_header_from(const struct relay_request *req, const struct relay_policy *policy,
			const struct relay_lookups *lookups, struct relay_verdict *verdict_r)
{
	char buf_user[DECIDE_SHOWN_MAX + 1];

	if (!is_usable(req, policy, lookups)) {
		set_verdict(verdict_r, VERDICT_DUNNO, RULE_BAD_REQUEST, "incomplete request");
		return;
	}
	if (!policy->check_header || is_empty(req->sasl_username)) {
		set_verdict(verdict_r, VERDICT_PERMIT, RULE_NONE, "From: not checked");
		return;
	}
	if (req->header_from_count > DECIDE_HEADER_FROM_MAX) {
		set_verdict(verdict_r, VERDICT_REJECT, RULE_SENDER_MISMATCH,
			    "too many From: addresses (%zu, at most %d)", req->header_from_count,
			    DECIDE_HEADER_FROM_MAX);
		return;
	}
	for (size_t i = 0; i < req->header_from_count; i++)
		if (check_owned(req, policy, lookups, "From:", req->header_from[i], verdict_r))
			return;
	set_verdict(verdict_r, VERDICT_PERMIT, RULE_SASL, "From: owned by user %s",
		    shown(req->sasl_username, buf_user, sizeof buf_user));
}

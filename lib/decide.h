/*
 * NAME
 *	decide 3h
 * SUMMARY
 *	the relay decision shared by policyd and the milter
 * DESCRIPTION
 *	decide() is the relay decision of authrelay.conf(5) RELAY DECISION
 *	(doc/DESIGN.md "3. The relay decision") and nothing else: no I/O of its
 *	own; every fact it needs comes from the request, the policy, or the
 *	lookups the caller passes in (the store in the daemons, a table of
 *	fakes in the tests). It is called only for a recipient that the MTA
 *	would relay; local delivery is the front end's business.
 *
 *	Order: a store error never permits (on_store_error); an
 *	authenticated client is judged by the SASL rules alone (suspended,
 *	TLS, sender ownership) and is never rescued by a grant; then a live
 *	grant for the client IP; then a registered certificate; then
 *	trusted_networks; else no opinion.
 */
#ifndef AUTHRELAY_DECIDE_H
#define AUTHRELAY_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "ipaddr.h"
#include "lookup.h"

enum relay_verdict_kind {
	VERDICT_DUNNO = 0,	/* no opinion: Postfix decides (reject_unauth_destination) */
	VERDICT_PERMIT,
	VERDICT_REJECT,		/* 5.7.1 */
	VERDICT_TEMPFAIL	/* 4.3.0 / 4.7.1 */
};

enum relay_rule {
	RULE_NONE = 0,		/* nothing matched */
	RULE_STORE_ERROR,	/* a lookup failed */
	RULE_SASL,		/* authenticated and allowed */
	RULE_SUSPENDED,		/* authenticated user is suspended */
	RULE_TLS_REQUIRED,	/* require_tls_for_auth and no TLS */
	RULE_SENDER_MISMATCH,	/* sender not owned by the SASL user */
	RULE_GRANT,		/* POP/IMAP-before-SMTP or manual grant */
	RULE_CERT,		/* registered client certificate */
	RULE_TRUSTED,		/* trusted_networks */
	RULE_BAD_REQUEST,	/* front end could not build a request */
	RULE_RATE_LIMIT		/* a sending limit (lib/frontend_limit.h), never decide()'s */
};

/* The facts of one relay attempt, as the front end saw them. Strings
   may be NULL or "" for "absent". Addresses are as received; decide()
   normalises them. */
struct relay_request {
	struct ipaddr client;		/* family 0 when unknown */
	const char *sasl_username;
	bool tls;			/* session is TLS-protected */
	const char *sender;		/* envelope MAIL FROM */
	const char *const *header_from;	/* From: addresses (milter), or NULL */
	size_t header_from_count;
	const char *cert_fingerprint;	/* ccert_fingerprint */
	const char *cert_pubkey_fingerprint;	/* ccert_pubkey_fingerprint */
	int64_t now;
};

/* The admin's rules (from the config). */
struct relay_policy {
	bool require_tls_for_auth;
	bool check_envelope;		/* sender_login_check envelope|both */
	bool check_header;		/* sender_login_check header|both (milter only) */
	enum on_store_error on_store_error;
	const struct cidr_list *trusted_networks;	/* may be NULL */
};

/* Fills policy from a config; header checks only where the front end can
   see headers (the milter). */
void relay_policy_from_config(struct relay_policy *policy, const struct authrelay_config *cfg,
			      bool front_end_sees_headers);

/* Where decide() asks its questions. Every function returns
   LOOKUP_FOUND, LOOKUP_NOT_FOUND or LOOKUP_ERROR. */
struct relay_lookups {
	void *ctx;
	enum lookup_result (*user_suspended)(void *ctx, const char *username);
	enum lookup_result (*sender_owned)(void *ctx, const char *username, const char *address);
	enum lookup_result (*grant_live)(void *ctx, const struct ipaddr *ip, int64_t now);
	enum lookup_result (*cert_known)(void *ctx, const char *fingerprint);
};

#define RELAY_REASON_MAX 256

struct relay_verdict {
	enum relay_verdict_kind kind;
	enum relay_rule rule;
	const char *status;		/* "5.7.1", "4.3.0", or "" for permit/dunno */
	char reason[RELAY_REASON_MAX];	/* plain text, no CR/LF, safe for replies */
};

/* Decides the relay of one recipient. Never fails: an impossible request
   gives VERDICT_DUNNO with RULE_BAD_REQUEST, a failed lookup gives the
   policy's on_store_error. */
void decide(const struct relay_request *req, const struct relay_policy *policy,
	    const struct relay_lookups *lookups, struct relay_verdict *verdict_r);

/* Checks the From: addresses of an authenticated client's message
   (check_header): every address must be owned by the SASL user. PERMIT
   when all are (or the check is off, or there is no SASL user), REJECT
   RULE_SENDER_MISMATCH naming the first foreign address, or the store
   error result. */
void decide_header_from(const struct relay_request *req, const struct relay_policy *policy,
			const struct relay_lookups *lookups, struct relay_verdict *verdict_r);

/* "permit" "dunno" "reject" "tempfail" */
const char *relay_verdict_name(enum relay_verdict_kind kind);
/* "none" "store_error" "sasl" "suspended" "tls_required"
   "sender_mismatch" "grant" "cert" "trusted" "bad_request" "rate_limit" */
const char *relay_rule_name(enum relay_rule rule);

#endif

/*
 * NAME
 *	request 3h
 * SUMMARY
 *	policy request attributes to a relay decision and its reply
 * SYNOPSIS
 *	#include "request.h"
 * DESCRIPTION
 *	struct policy_request keeps the attributes of one request that
 *	matter, in fixed-size fields (no allocation per request). Every
 *	Postfix 3.x attribute name is known; those the decision does not
 *	use are counted and dropped, unknown ones likewise (Postfix may add
 *	attributes; SMTPD_POLICY_README says to ignore them). A repeated
 *	attribute keeps its last value.
 *
 *	A value too long for its field is never cut when the decision
 *	depends on it (a cut user name could name another user): the
 *	request is then not judged (frontend.h: DUNNO, rule bad_request).
 *	Values only logged (recipient, queue_id, instance) are cut.
 *
 *	request_answer() turns a complete request into a reply:
 *	protocol_state RCPT is decided with frontend_decide_rcpt(), which
 *	also records the decision; DATA (smtpd_data_restrictions) counts
 *	the message against the sending limits (frontend_decide_data(),
 *	recipient_count recipients): DUNNO, or 450 4.7.1 for a message
 *	that would cross a limit; every other state
 *	(CONNECT, EHLO, HELO, MAIL, END-OF-MESSAGE, VRFY, ETRN) gets
 *	DUNNO without a decision row, because relay is decided per
 *	recipient and smtpd_relay_restrictions only runs at RCPT.
 */
#ifndef AUTHRELAY_POLICYD_REQUEST_H
#define AUTHRELAY_POLICYD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "decide.h"
#include "frontend.h"
#include "store.h"

#define REQUEST_SHORT_MAX 64

struct policy_request {
	char request[REQUEST_SHORT_MAX];	/* "smtpd_access_policy" */
	char protocol_state[REQUEST_SHORT_MAX];	/* "RCPT", ... */
	char client_address[REQUEST_SHORT_MAX];
	char sasl_username[STORE_USER_MAX];
	char sender[ADDR_MAX];
	char recipient[ADDR_MAX];
	char ccert_fingerprint[STORE_FPR_MAX];	/* xtext-decoded */
	char ccert_pubkey_fingerprint[STORE_FPR_MAX];
	char queue_id[REQUEST_SHORT_MAX];
	char instance[REQUEST_SHORT_MAX];
	char recipient_count[REQUEST_SHORT_MAX];	/* at DATA (Postfix 2.3+) */
	bool has_request;		/* a request= line was seen */
	bool tls;			/* encryption_protocol was not empty */
	const char *overflow;		/* first decision attribute too long, or NULL */
	unsigned unknown;		/* attributes not in the Postfix 3.x list */
};

/* Empties req for the next request. */
void request_reset(struct policy_request *req);

/* Stores one attribute (the proto_attr_cb for proto_parser_next(); ctx
   is the struct policy_request). */
void request_attr(void *ctx, const char *name, size_t name_len, const char *value,
		  size_t value_len);

/* Answers one complete request: writes the reply ("action=...\n\n")
   into reply (size at least PROTO_REPLY_MAX), logs the decision line
   and queues the decision row (never waiting for it). Returns the reply
   length, or 0 for a request that must not be answered (no request
   attribute, or a request type other than smtpd_access_policy): then
   *error_r says why and the caller logs it and closes the connection.
   The reply is never OK on any error path.
   *held_r (may be NULL): the request is a message counted in the
   store's batch transaction (frontend_decide_data()): the reply holds
   only when store_read_end() returns 0, else request_uncounted()'s. */
size_t request_answer(const struct policy_request *req, const struct frontend_env *env,
		      int64_t now, char *reply, size_t size, const char **error_r, bool *held_r);

/* The reply to a request answered with *held_r set whose batch lost
   its count: on_store_error, recorded (frontend_data_uncounted()).
   Returns the reply length. */
size_t request_uncounted(const struct policy_request *req, const struct frontend_env *env,
			 int64_t now, char *reply, size_t size);

#endif

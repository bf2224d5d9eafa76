/*
 * NAME
 *	frontend_limit 3h
 * SUMMARY
 *	sending limits on a permitted relay: who is counted, check, refuse
 * DESCRIPTION
 *	Called by lib/frontend for a verdict that permits relay, so both
 *	front ends limit alike.
 *
 *	Who is counted: an authenticated client by its SASL user; a client
 *	relaying by a POP/IMAP-before-SMTP grant by the grant's user, or by
 *	its IP address when the grant has none; a certificate client by the
 *	certificate's user. A client in trusted_networks is never limited
 *	(whatever else it has), and neither is a permit by any other rule.
 *
 *	When: at RCPT (FRONTEND_LIMIT_ASK) a user already at a limit, that
 *	is, one more recipient or one more message would cross it, is
 *	refused; nothing is counted. At DATA (FRONTEND_LIMIT_COUNT) the
 *	message's recipients and the message itself are checked and added
 *	in one step (store_limit_charge()): a message that would cross is
 *	refused before its body is sent, and counts nothing. A message that
 *	is refused later (the milter's From: check at end of message, a
 *	content filter) was counted at DATA.
 *
 *	A refusal is VERDICT_TEMPFAIL, RULE_RATE_LIMIT, status 4.7.1, its
 *	reason naming the user, the kind and the window. It is recorded in
 *	limit_refusals: at limit_suspend_after refusals within
 *	limit_suspend_window the user is suspended (admin_log row with the
 *	daemon as actor, a syslog warning), and the first refusal of a user
 *	in that window sends one mail to limit_notify_address. A client
 *	counted by its IP address is never suspended.
 *
 *	A store error on this path gives on_store_error, as in decide().
 */
#ifndef AUTHRELAY_FRONTEND_LIMIT_H
#define AUTHRELAY_FRONTEND_LIMIT_H

#include "cfg.h"
#include "decide.h"
#include "store.h"

enum frontend_limit_stage {
	FRONTEND_LIMIT_ASK,	/* RCPT: refuse a user already at a limit */
	FRONTEND_LIMIT_COUNT	/* DATA: check and add the message */
};

/* What the limit path needs besides the request (per call). */
struct frontend_limits {
	const struct authrelay_config *cfg;	/* defaults, suspend, notify */
	const char *actor;			/* "authrelay-policyd": admin_log, mail */
};

/* Applies the limits to a permitting *verdict for req at stage, adding
   recipients (and one message) at FRONTEND_LIMIT_COUNT. Leaves the
   verdict alone when nothing is crossed or nobody is counted; turns it
   into the refusal (or on_store_error) otherwise. *batched_r (may be
   NULL): the message was counted in the store's batch transaction
   (store_limit_charge(), state->batched): the verdict holds only when
   store_read_end() commits it; else frontend_limit_lost(). */
void frontend_limit_apply(struct store *store, const struct frontend_limits *limits,
			  const struct relay_request *req, const struct relay_policy *policy,
			  enum frontend_limit_stage stage, unsigned recipients,
			  struct relay_verdict *verdict, bool *batched_r);

/* The verdict of a message whose count its batch lost: on_store_error,
   as for any store error on this path. */
void frontend_limit_lost(const struct relay_policy *policy, struct relay_verdict *verdict);

#endif

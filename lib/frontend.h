/*
 * NAME
 *	frontend 3h
 * SUMMARY
 *	what policyd and the milter share: decide a recipient, record it
 * DESCRIPTION
 *	A front end translates its protocol into a struct frontend_request
 *	and the verdict back into its protocol; everything in between is
 *	here, once: the refusal to judge a request whose facts did not fit
 *	(bad_request), decide(), and the decision record (the log line and
 *	the queued decisions row). The two front ends then cannot drift.
 *
 *	Over-long input: a value the decision depends on (SASL user name,
 *	sender, fingerprint) that did not fit its field is never cut, since
 *	a cut name could be someone else's. The request is not judged: the
 *	verdict is "no opinion" (DUNNO) with rule bad_request, the same as
 *	for a client no rule knows. policyd answers DUNNO (Postfix's
 *	reject_unauth_destination then refuses a relay); the milter, which
 *	has nothing behind it, refuses the relay (554 5.7.1).
 *
 *	No opinion in a front end with nothing behind it (env.dunno_refuses,
 *	the milter) is a refusal; its record then says verdict "reject",
 *	since that is what the client was told.
 */
#ifndef AUTHRELAY_FRONTEND_H
#define AUTHRELAY_FRONTEND_H

#include <stdbool.h>
#include <stdint.h>

#include "decide.h"
#include "frontend_limit.h"
#include "store.h"

/* One relayed recipient, as the front end saw it. */
struct frontend_request {
	struct relay_request relay;	/* the facts for decide() */
	const char *client_text;	/* the client as logged ("unknown"...) */
	const char *recipient;		/* as logged; may be NULL */
	const char *queue_id;		/* may be NULL */
	const char *too_long;		/* the first decision fact that did not
					   fit its field, or NULL */
};

/* What the front end has now (per call: a reload may change it). */
struct frontend_env {
	const struct relay_policy *policy;
	const struct relay_lookups *lookups;	/* store_lookups_init(), or fakes */
	struct store *store;			/* decision rows; NULL: none */
	bool audit;				/* audit_decisions */
	bool dunno_refuses;			/* no MTA rule behind the front end */
	const struct frontend_limits *limits;	/* sending limits; NULL: off */
};

/* Decides one relayed recipient and records it (log line, and a queued
   decisions row when env->audit and a store are there; the row never
   waits for the disk). A permit is then held against the sending limits
   (frontend_limit.h, FRONTEND_LIMIT_ASK): a user already at a limit is
   refused. Never fails; a verdict is always set. */
void frontend_decide_rcpt(const struct frontend_request *req, const struct frontend_env *env,
			  struct relay_verdict *verdict_r);

/* At DATA, for a message with recipients relayed recipients: finds
   who sends (frontend_limit.h; the relay rules themselves are RCPT's,
   per relayed recipient), and checks and counts the message against
   the sending limits in one step (FRONTEND_LIMIT_COUNT). VERDICT_DUNNO
   means nothing to say (nobody counted, or within every limit);
   otherwise the limit's refusal (TEMPFAIL rate_limit) or, when the
   limits cannot be read, on_store_error, recorded with recipient "".
   Never fails. *batched_r (may be NULL): the message was counted in the
   store's batch transaction (policyd's event batch): the verdict holds
   only when store_read_end() returns 0; when it returns -1 the front
   end answers frontend_data_uncounted()'s verdict instead. */
void frontend_decide_data(const struct frontend_request *req, const struct frontend_env *env,
			  unsigned recipients, struct relay_verdict *verdict_r, bool *batched_r);

/* The message of req was counted in a batch whose counts were lost
   (store_read_end() returned -1): on_store_error, recorded as any DATA
   verdict. Never fails. */
void frontend_data_uncounted(const struct frontend_request *req, const struct frontend_env *env,
			     struct relay_verdict *verdict_r);

/* Records a verdict reached elsewhere (the milter's From: check at end
   of message) the same way. */
void frontend_record(const struct frontend_request *req, const struct frontend_env *env,
		     const struct relay_verdict *verdict);

#endif

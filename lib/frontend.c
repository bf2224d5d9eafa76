/*
 * NAME
 *	frontend 3
 * SUMMARY
 *	what policyd and the milter share: decide a recipient, record it
 * SYNOPSIS
 *	#include "frontend.h"
 * DESCRIPTION
 *	See frontend.h. The decision line and the decisions row carry the
 *	same fields, taken from one place, so the log and the audit agree.
 */
#include <stdio.h>
#include <string.h>

#include "frontend.h"
#include "log.h"
#include "metrics.h"

/* frontend_verdict_name - the verdict as the client was told it */
static const char *frontend_verdict_name(const struct frontend_env *env,
					 const struct relay_verdict *v)
{
	if (v->kind == VERDICT_DUNNO && env->dunno_refuses)
		return relay_verdict_name(VERDICT_REJECT);
	return relay_verdict_name(v->kind);
}

/* frontend_record - the log line and the queued row of one verdict */
void frontend_record(const struct frontend_request *req, const struct frontend_env *env,
		     const struct relay_verdict *verdict)
{
	struct log_decision line = {
		.client_ip = req->client_text,
		.sasl_username = req->relay.sasl_username,
		.sender = req->relay.sender,
		.recipient = req->recipient,
		.verdict = frontend_verdict_name(env, verdict),
		.rule = relay_rule_name(verdict->rule),
		.reason = verdict->reason,
		.queue_id = req->queue_id,
	};

	log_decision(&line);
	metrics_decision(NULL, line.verdict, line.rule);
	if (env->audit && env->store != NULL) {
		struct store_decision row = {
			.ts = req->relay.now,
			.program = NULL,
			.client_ip = line.client_ip,
			.sasl_username = line.sasl_username,
			.sender = line.sender,
			.recipient = line.recipient,
			.verdict = line.verdict,
			.rule = line.rule,
			.reason = line.reason,
			.queue_id = line.queue_id,
		};

		/* A full queue is counted and logged by the store; the reply
		   does not wait for the audit either way. */
		(void)store_decision_queue(env->store, &row);
	}
}

/* frontend_decide_rcpt - judge one relayed recipient and record it */
void frontend_decide_rcpt(const struct frontend_request *req, const struct frontend_env *env,
			  struct relay_verdict *verdict_r)
{
	if (req->too_long != NULL) {
		memset(verdict_r, 0, sizeof *verdict_r);
		verdict_r->kind = VERDICT_DUNNO;
		verdict_r->rule = RULE_BAD_REQUEST;
		verdict_r->status = "";
		snprintf(verdict_r->reason, sizeof verdict_r->reason, "%s is too long",
			 req->too_long);
	} else {
		decide(&req->relay, env->policy, env->lookups, verdict_r);
		frontend_limit_apply(env->store, env->limits, &req->relay, env->policy,
				     FRONTEND_LIMIT_ASK, 0, verdict_r, NULL);
	}
	frontend_record(req, env, verdict_r);
}

/* frontend_decide_data - count a message, refuse one that would cross */
void frontend_decide_data(const struct frontend_request *req, const struct frontend_env *env,
			  unsigned recipients, struct relay_verdict *verdict_r, bool *batched_r)
{
	if (batched_r != NULL)
		*batched_r = false;
	memset(verdict_r, 0, sizeof *verdict_r);
	verdict_r->kind = VERDICT_DUNNO;
	verdict_r->rule = RULE_NONE;
	verdict_r->status = "";
	if (req->too_long != NULL || env->limits == NULL || env->store == NULL)
		return;
	/* The relay rules were applied at RCPT, per relayed recipient (a
	   suspended user's mail to local recipients is not refused here):
	   DATA only asks who sends (frontend_limit.h) and counts. */
	verdict_r->kind = VERDICT_PERMIT;
	frontend_limit_apply(env->store, env->limits, &req->relay, env->policy,
			     FRONTEND_LIMIT_COUNT, recipients, verdict_r, batched_r);
	if (verdict_r->kind == VERDICT_PERMIT) {
		verdict_r->kind = VERDICT_DUNNO;	/* counted, or nobody to count */
		return;
	}
	frontend_record(req, env, verdict_r);
}

/* frontend_data_uncounted - the message's count was lost with its batch */
void frontend_data_uncounted(const struct frontend_request *req, const struct frontend_env *env,
			     struct relay_verdict *verdict_r)
{
	frontend_limit_lost(env->policy, verdict_r);
	frontend_record(req, env, verdict_r);
}

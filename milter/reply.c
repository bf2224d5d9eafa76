/*
 * NAME
 *	reply 3
 * SUMMARY
 *	milter replies: verdict to action, SMTP codes and safe text
 * DESCRIPTION
 *	See reply.h. The SMTP codes follow what Postfix itself uses for the
 *	same refusal: 554 for relay (relay_domains_reject_code), 550 for
 *	content at end of message. A temporary failure is 451 with the
 *	verdict's 4.x.x status (4.3.0 for a database that cannot answer, as
 *	the policy server's DEFER_IF_PERMIT), else 4.3.0: a failure of
 *	this mail system, never a reason the client could fix.
 */
#include <stdio.h>
#include <string.h>

#include "reply.h"

/* reply_text_safe - sanitise reply text for smfi_setreply() */
const char *reply_text_safe(const char *text, char *out, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return out;
	if (text != NULL) {
		for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
			unsigned char c = *p;

			if (c == '%') {
				/* Both halves or neither: a lone '%' would make
				   libmilter's MTA drop the whole text. */
				if (n + 2 >= size)
					break;
				out[n++] = '%';
				out[n++] = '%';
				continue;
			}
			if (c < 0x20 || c == 0x7f)
				c = ' ';
			if (n + 1 >= size)
				break;
			out[n++] = (char)c;
		}
	}
	out[n] = '\0';
	return out;
}

/* reply_set - fill one reply */
static void reply_set(struct milter_reply *reply_r, enum reply_action action, const char *rcode,
		      const char *xcode, const char *text)
{
	reply_r->action = action;
	reply_r->rcode = rcode;
	reply_r->xcode = xcode;
	reply_text_safe(text, reply_r->text, sizeof reply_r->text);
}

/* reply_from_verdict - verdict at a stage to a milter reply */
void reply_from_verdict(const struct relay_verdict *verdict, enum reply_stage stage,
			struct milter_reply *reply_r)
{
	const char *reason = verdict->reason[0] ? verdict->reason : NULL;

	switch (verdict->kind) {
	case VERDICT_PERMIT:
		reply_set(reply_r, REPLY_CONTINUE, "", "", "");
		return;
	case VERDICT_DUNNO:
		if (stage == REPLY_STAGE_RCPT)
			reply_set(reply_r, REPLY_REJECT, "554", "5.7.1", "Relay access denied");
		else
			reply_set(reply_r, REPLY_CONTINUE, "", "", "");
		return;
	case VERDICT_REJECT: {
		const char *rcode = stage == REPLY_STAGE_RCPT ? "554" : "550";
		/* Only a 5.x.x status fits a 5xx reply. */
		const char *xcode = verdict->status != NULL && verdict->status[0] == '5'
					    ? verdict->status
					    : "5.7.1";

		reply_set(reply_r, REPLY_REJECT, rcode, xcode,
			  reason ? reason : "Access denied");
		return;
	}
	case VERDICT_TEMPFAIL:
		if (verdict->rule == RULE_RATE_LIMIT) {
			/* SPEC: a sending limit is 450 4.7.1, as policyd's. */
			reply_set(reply_r, REPLY_TEMPFAIL, "450", "4.7.1",
				  reason ? reason : "Sending limit reached, try again later");
			return;
		}
		/* fall through */
	default:
		/* Anything unknown fails safe: temporary, never permit. */
		reply_set(reply_r, REPLY_TEMPFAIL, "451",
			  verdict->status != NULL && verdict->status[0] == '4' ? verdict->status
									      : "4.3.0",
			  reason ? reason : "Service temporarily unavailable, try again later");
		return;
	}
}

/* reply_tempfail - a temporary failure with text */
void reply_tempfail(const char *text, struct milter_reply *reply_r)
{
	reply_set(reply_r, REPLY_TEMPFAIL, "451", "4.3.0", text);
}

/* reply_action_name - for logs */
const char *reply_action_name(enum reply_action action)
{
	switch (action) {
	case REPLY_CONTINUE:
		return "continue";
	case REPLY_REJECT:
		return "reject";
	case REPLY_TEMPFAIL:
		return "tempfail";
	}
	return "unknown";
}

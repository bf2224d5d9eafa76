/*
 * NAME
 *	frontend_limit 3
 * SUMMARY
 *	sending limits on a permitted relay: who is counted, check, refuse
 * SYNOPSIS
 *	#include "frontend_limit.h"
 * DESCRIPTION
 *	See frontend_limit.h. Cost for a permitted relay: the subject (a
 *	grant or certificate lookup again for those rules), the limit rows
 *	(limit_resolve: up to two probes per kind), and, only when a limit
 *	applies, the counters (one indexed range) or at DATA one write
 *	transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "duration.h"
#include "frontend_limit.h"
#include "limit_resolve.h"
#include "log.h"
#include "notify_mail.h"

/* frontend_limit_subject - who is counted: 1 (subject_r set), 0 nobody,
   -1 store error. rule is what permitted (RCPT), or RULE_NONE at DATA:
   then the order of decide() finds it (SASL user, grant, certificate),
   without decide()'s other questions, which are RCPT's. */
static int frontend_limit_subject(struct store *store, const struct relay_request *req,
				  const struct relay_policy *policy, enum relay_rule rule,
				  char *subject_r)
{
	char ipbuf[IPADDR_STRLEN];
	enum lookup_result r;

	if (cidr_list_match(policy->trusted_networks, &req->client))
		return 0;
	if (rule == RULE_NONE) {
		bool has_cert = (req->cert_fingerprint != NULL && req->cert_fingerprint[0]) ||
				(req->cert_pubkey_fingerprint != NULL &&
				 req->cert_pubkey_fingerprint[0]);

		if (req->sasl_username != NULL && req->sasl_username[0] != '\0')
			rule = RULE_SASL;
		else if (req->client.family != 0 &&
			 (r = store_grant_lookup(store, &req->client, req->now, NULL)) != LOOKUP_NOT_FOUND)
			rule = r == LOOKUP_FOUND ? RULE_GRANT : RULE_STORE_ERROR;
		else if (has_cert)
			rule = RULE_CERT;
		if (rule == RULE_STORE_ERROR)
			return -1;
	}
	switch (rule) {
	case RULE_SASL:
		snprintf(subject_r, STORE_USER_MAX, "%s", req->sasl_username);
		return 1;
	case RULE_GRANT: {
		struct store_grant g;

		r = store_grant_lookup(store, &req->client, req->now, &g);
		if (r == LOOKUP_ERROR)
			return -1;
		/* A grant that expired since decide() saw it: its IP. */
		if (r == LOOKUP_FOUND && g.username[0] != '\0')
			snprintf(subject_r, STORE_USER_MAX, "%s", g.username);
		else
			snprintf(subject_r, STORE_USER_MAX, "%s", ipaddr_format(&req->client, ipbuf));
		return 1;
	}
	case RULE_CERT: {
		const char *fprs[] = {req->cert_fingerprint, req->cert_pubkey_fingerprint};

		for (size_t i = 0; i < 2; i++) {
			if (fprs[i] == NULL || fprs[i][0] == '\0')
				continue;
			r = store_cert_lookup(store, fprs[i], subject_r);
			if (r == LOOKUP_ERROR)
				return -1;
			if (r == LOOKUP_FOUND && subject_r[0] != '\0')
				return 1;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* frontend_limit_store_error - on_store_error on the limit path */
static void frontend_limit_store_error(const struct relay_policy *policy, const char *what,
				       struct relay_verdict *v)
{
	bool dunno = policy->on_store_error == ON_STORE_ERROR_DUNNO;

	v->kind = dunno ? VERDICT_DUNNO : VERDICT_TEMPFAIL;
	v->rule = RULE_STORE_ERROR;
	v->status = dunno ? "" : "4.3.0";
	snprintf(v->reason, sizeof v->reason, "relay database lookup failed (%s); %s", what,
		 dunno ? "no opinion" : "try again later");
}

/* frontend_limit_refuse - the verdict naming the crossed limit */
static void frontend_limit_refuse(const char *subject, const struct limit_resolved *lr,
				  const struct store_limit_state *st,
				  enum frontend_limit_stage stage, unsigned recipients,
				  struct relay_verdict *v)
{
	int k = st->crossed_kind, w = st->crossed_window;
	const struct limit_window *lw = &lr->spec[k].windows[w];
	char window[64];

	duration_format(lw->seconds, window, sizeof window);
	v->kind = VERDICT_TEMPFAIL;
	v->rule = RULE_RATE_LIMIT;
	v->status = "4.7.1";
	if (stage == FRONTEND_LIMIT_COUNT && k == STORE_LIMIT_RECIPIENTS)
		snprintf(v->reason, sizeof v->reason,
			 "sending limit: this message's %u recipients would pass %.64s's limit of %u "
			 "recipients per %s (%llu used); try again later or with fewer",
			 recipients, subject, (unsigned)lw->max, window,
			 (unsigned long long)st->used[k][w]);
	else
		snprintf(v->reason, sizeof v->reason,
			 "sending limit reached: %.64s may send %s %u %s per %s (%llu used); "
			 "try again later",
			 subject, k == STORE_LIMIT_RECIPIENTS ? "to" : "", (unsigned)lw->max,
			 store_limit_kind_name(k), window, (unsigned long long)st->used[k][w]);
	/* "send  5 messages": no double space in the reply. */
	for (char *p = strstr(v->reason, "  "); p != NULL; p = strstr(p, "  "))
		memmove(p, p + 1, strlen(p));
}

/* frontend_limit_refused - count the refusal; suspend, notify */
static void frontend_limit_refused(struct store *store, const struct frontend_limits *limits,
				   const char *subject, const struct limit_resolved *lr,
				   const struct store_limit_state *st, const struct relay_verdict *v)
{
	const struct authrelay_config *cfg = limits->cfg;
	struct ipaddr ip;
	bool is_ip = ipaddr_parse(subject, &ip) == 0;
	struct store_limit_refusal r = {
		.subject = subject,
		.kind = (enum store_limit_kind)st->crossed_kind,
		.window = lr->spec[st->crossed_kind].windows[st->crossed_window].seconds,
		.suspend_after = is_ip ? 0 : cfg->limit_suspend_after,
		.suspend_window = cfg->limit_suspend_window,
		.actor = limits->actor,
		.notify_wanted = cfg->limit_notify_address[0] != '\0',
	};
	unsigned refusals = 0;
	bool suspended = false, notify = false;
	char *error = NULL;

	if (store_limit_refused(store, &r, &refusals, &suspended, &notify, &error) != 0) {
		log_warning("limit refusal of %s not recorded: %s", subject,
			    error ? error : "database error");
		free(error);
		return;
	}
	if (suspended)
		log_warning("user %s suspended: %u attempts refused by a sending limit within "
			    "limit_suspend_window (limit_suspend_after = %u)",
			    subject, refusals, cfg->limit_suspend_after);
	if (notify && cfg->limit_notify_address[0] != '\0') {
		char subj[STORE_USER_MAX + 64], body[RELAY_REASON_MAX + 4 * STORE_USER_MAX], win[64];

		snprintf(subj, sizeof subj, "authrelay: sending limit %s for %s",
			 suspended ? "suspended" : "reached", subject);
		snprintf(body, sizeof body,
			 "%s refused mail of %s:\n  %s\n\n"
			 "Refusals within %s: %u (limit_suspend_after = %u).\n%s"
			 "No further mail about %s is sent within limit_suspend_window.\n"
			 "Usage: authrelayctl limit show %s\n",
			 limits->actor, subject, v->reason,
			 duration_format(cfg->limit_suspend_window, win, sizeof win), refusals,
			 cfg->limit_suspend_after,
			 suspended ? "The user is now suspended: authrelayctl user resume to undo.\n"
				   : "",
			 subject, subject);
		if (notify_mail_send(cfg->limit_notify_sendmail, cfg->limit_notify_address,
				     limits->actor, subj, body, &error) != 0) {
			log_warning("%s", error ? error : "notification mail failed");
			free(error);
		} else {
			log_info("limit notification about %s sent to %s", subject,
				 cfg->limit_notify_address);
		}
	}
}

void frontend_limit_apply(struct store *store, const struct frontend_limits *limits,
			  const struct relay_request *req, const struct relay_policy *policy,
			  enum frontend_limit_stage stage, unsigned recipients,
			  struct relay_verdict *verdict, bool *batched_r)
{
	char subject[STORE_USER_MAX];
	struct limit_resolved lr;
	struct store_limit_state st;
	struct store_limit_charge c;
	char *error = NULL;
	int who;

	if (batched_r != NULL)
		*batched_r = false;
	if (verdict->kind != VERDICT_PERMIT || limits == NULL || store == NULL)
		return;
	who = frontend_limit_subject(store, req, policy,
				     stage == FRONTEND_LIMIT_COUNT ? RULE_NONE : verdict->rule, subject);
	if (who == 0)
		return;
	if (who < 0) {
		frontend_limit_store_error(policy, "limit subject", verdict);
		return;
	}
	if (limit_resolve(store, limits->cfg, subject, &lr) != 0) {
		frontend_limit_store_error(policy, "limits", verdict);
		return;
	}
	if (!limit_spec_is_active(&lr.spec[STORE_LIMIT_RECIPIENTS]) &&
	    !limit_spec_is_active(&lr.spec[STORE_LIMIT_MESSAGES]))
		return;
	c.subject = subject;
	c.spec[STORE_LIMIT_RECIPIENTS] = &lr.spec[STORE_LIMIT_RECIPIENTS];
	c.spec[STORE_LIMIT_MESSAGES] = &lr.spec[STORE_LIMIT_MESSAGES];
	/* RCPT: one more of each must still fit. DATA: the message. */
	c.add[STORE_LIMIT_RECIPIENTS] = stage == FRONTEND_LIMIT_COUNT ? recipients : 1;
	c.add[STORE_LIMIT_MESSAGES] = 1;
	c.commit = stage == FRONTEND_LIMIT_COUNT;
	if (store_limit_charge(store, &c, &st, &error) != 0) {
		log_warning("limit check of %s failed: %s", subject, error ? error : "database error");
		free(error);
		frontend_limit_store_error(policy, "limit counters", verdict);
		return;
	}
	if (st.crossed_kind < 0) {
		if (batched_r != NULL)
			*batched_r = st.batched;
		return;
	}
	frontend_limit_refuse(subject, &lr, &st, stage, recipients, verdict);
	frontend_limit_refused(store, limits, subject, &lr, &st, verdict);
}

void frontend_limit_lost(const struct relay_policy *policy, struct relay_verdict *verdict)
{
	memset(verdict, 0, sizeof *verdict);
	frontend_limit_store_error(policy, "limit counters not committed", verdict);
}

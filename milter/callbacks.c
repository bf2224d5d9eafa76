/*
 * NAME
 *	callbacks 3
 * SUMMARY
 *	libmilter callbacks: MTA events to relay_request, verdicts to replies
 * DESCRIPTION
 *	See callbacks.h. Each callback takes a reference on the current
 *	settings for its own duration (settings.h), reads what it needs
 *	from the MTA into the connection context, and answers through
 *	callbacks_reply(), the one place that calls smfi_setreply().
 *
 *	State that is missing (allocation failed, or an event came
 *	without its connection) never lets mail relay: such a callback
 *	answers with a temporary failure.
 */
#include <arpa/inet.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "addr.h"
#include "callbacks.h"
#include "context.h"
#include "decide.h"
#include "frontend.h"
#include "log.h"
#include "metrics.h"
#include "reply.h"
#include "rfc5322.h"
#include "route.h"
#include "settings.h"
#include "store_lookups.h"

static struct frontend_store *cb_fstore;

/* The macros we ask for, per stage. {tls_version} is asked at MAIL:
   Postfix evaluates any macro at any stage, and HELO may be turned off.
   i (the queue id) from MAIL on: Sendmail knows it there, Postfix at
   the first accepted recipient or only at the end of the message. */
static char macros_connect[] = "v {client_addr}";
static char macros_envfrom[] = "i {auth_authen} {auth_type} {tls_version} {cipher}";
static char macros_envrcpt[] = "i {rcpt_mailer} {rcpt_addr}";
static char macros_data[] = "i";
static char macros_eom[] = "i";

/* callbacks_set_store - the database behind every lookup */
void callbacks_set_store(struct frontend_store *fstore)
{
	cb_fstore = fstore;
}

/* callbacks_env - what frontend_decide_rcpt() needs, for this callback */
static void callbacks_env(const struct milter_settings *s, struct relay_lookups *lookups,
			  struct frontend_limits *limits, struct frontend_env *env_r)
{
	struct store *store = cb_fstore != NULL ? frontend_store_get(cb_fstore) : NULL;

	store_lookups_init(lookups, store);	/* NULL: every lookup fails */
	env_r->policy = &s->policy;
	env_r->lookups = lookups;
	env_r->store = store;
	env_r->audit = s->cfg->audit_decisions;
	/* No MTA restriction behind the milter: no opinion refuses. */
	env_r->dunno_refuses = true;
	limits->cfg = s->cfg;
	limits->actor = "authrelay-milter";
	env_r->limits = limits;
}

/* callbacks_reply - hand a reply to libmilter, return its status */
static sfsistat callbacks_reply(SMFICTX *ctx, const struct milter_reply *reply)
{
	if (reply->action != REPLY_CONTINUE)
		log_debug("reply: %s %s %s", reply->rcode, reply->xcode, reply->text);
	switch (reply->action) {
	case REPLY_CONTINUE:
		return SMFIS_CONTINUE;
	case REPLY_REJECT:
		if (smfi_setreply(ctx, (char *)reply->rcode, (char *)reply->xcode,
				  (char *)reply->text) != MI_SUCCESS)
			log_warning("smfi_setreply refused \"%s %s %s\"", reply->rcode,
				    reply->xcode, reply->text);
		return SMFIS_REJECT;
	case REPLY_TEMPFAIL:
	default:
		if (smfi_setreply(ctx, (char *)reply->rcode, (char *)reply->xcode,
				  (char *)reply->text) != MI_SUCCESS)
			log_warning("smfi_setreply refused \"%s %s %s\"", reply->rcode,
				    reply->xcode, reply->text);
		return SMFIS_TEMPFAIL;
	}
}

/* callbacks_lost - the answer when state is missing */
static sfsistat callbacks_lost(SMFICTX *ctx, const char *where)
{
	struct milter_reply reply;

	log_error("%s: no connection state (out of memory earlier?): temporary failure", where);
	reply_tempfail("Service temporarily unavailable, try again later", &reply);
	return callbacks_reply(ctx, &reply);
}

/* callbacks_request - the facts of this message for the front end */
static void callbacks_request(const struct milter_context *mc, const char *recipient,
			      struct frontend_request *req)
{
	memset(req, 0, sizeof *req);
	req->relay.client = mc->client;
	req->relay.sasl_username = mc->sasl_username;
	req->relay.tls = mc->tls;
	req->relay.sender = mc->sender;
	/* Postfix passes no certificate fingerprint to milters (only the
	   CN, and only of a verified certificate): the certificate rule is
	   policyd's. */
	req->relay.cert_fingerprint = NULL;
	req->relay.cert_pubkey_fingerprint = NULL;
	req->relay.now = (int64_t)time(NULL);
	req->client_text = mc->client_text;
	req->recipient = recipient;
	req->queue_id = mc->queue_id;
	/* A cut name or address is someone else's: never judged. */
	if (mc->sasl_too_long)
		req->too_long = "macro {auth_authen}";
	else if (mc->sender_too_long)
		req->too_long = "envelope sender";
}

/* cb_negotiate - ask for macros, turn off events we do not use */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
			     unsigned long f3, unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	const struct milter_settings *s = settings_acquire();
	struct milter_context *mc = smfi_getpriv(ctx);
	/* DATA stays on, with a reply, although we have nothing to say:
	   Postfix sends a stage's macros even for an event negotiated
	   away, and at DATA that macro packet is the last thing smtpd
	   writes before cleanup takes over the socket. Unanswered, it is
	   followed by cleanup's end-of-message write, which Nagle holds
	   until the milter's delayed ACK (40 ms) on an inet: socket:
	   measured, 21 messages/s instead of 250 on one session. One
	   more round trip per message costs microseconds. */
	unsigned long steps = SMFIP_NOHELO | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN;
	bool headers;

	(void)f2;
	(void)f3;
	if (mc == NULL) {
		mc = context_new();
		if (mc != NULL)
			smfi_setpriv(ctx, mc);
	}
	/* No reply to connect and MAIL, where we never refuse: Postfix
	   then sends them with the next command in one write (a round
	   trip less each). Not without a context: a lost one must be able
	   to answer. */
	if (mc != NULL)
		steps |= SMFIP_NR_CONN | SMFIP_NR_MAIL;
	/* Headers only when a From: check can happen on this connection. */
	headers = mc != NULL && s != NULL && s->policy.check_header;
	if (!headers)
		steps |= SMFIP_NOHDRS;
	else if (f1 & SMFIP_NR_HDR)
		steps |= SMFIP_NR_HDR;	/* one write per header block, not per header */
	*pf1 = steps & f1;	/* only what the MTA offers */
	*pf0 = 0;
	*pf2 = 0;
	*pf3 = 0;
	if (mc != NULL) {
		mc->collect_headers = headers && (*pf1 & SMFIP_NOHDRS) == 0;
		mc->header_noreply = (*pf1 & SMFIP_NR_HDR) != 0;
		mc->connect_noreply = (*pf1 & SMFIP_NR_CONN) != 0;
		mc->mail_noreply = (*pf1 & SMFIP_NR_MAIL) != 0;
	}
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		if (smfi_setsymlist(ctx, SMFIM_CONNECT, macros_connect) != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVFROM, macros_envfrom) != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVRCPT, macros_envrcpt) != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_DATA, macros_data) != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_EOM, macros_eom) != MI_SUCCESS)
			log_warning("smfi_setsymlist failed: relying on the MTA's macro settings");
	} else {
		log_debug("MTA cannot take a macro list: relying on its macro settings");
	}
	settings_release(&s);
	return SMFIS_CONTINUE;
}

/* cb_connect - remember the client address */
static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_context *mc = smfi_getpriv(ctx);
	char text[INET6_ADDRSTRLEN];
	const char *addr = NULL, *version;

	(void)hostname;
	if (mc == NULL) {
		mc = context_new();
		if (mc == NULL)
			return callbacks_lost(ctx, "connect");
		smfi_setpriv(ctx, mc);
	}
	if (hostaddr != NULL && hostaddr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)hostaddr;

		addr = inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
	} else if (hostaddr != NULL && hostaddr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
			(const struct sockaddr_in6 *)(const void *)hostaddr;

		addr = inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
	}
	/* No socket address (unknown family): {client_addr}, which Postfix
	   writes as "IPv6:::1" for IPv6. */
	if (addr == NULL)
		addr = smfi_getsymval(ctx, "{client_addr}");
	if (context_set_client(mc, addr) != 0)
		log_debug("connect: client address unknown (%s)", addr ? addr : "none");
	/* Postfix's v is "$mail_name $mail_version"; Sendmail's a bare
	   version number. */
	version = smfi_getsymval(ctx, "v");
	mc->mta_postfix = version != NULL && strncmp(version, "Postfix ", 8) == 0;
	return mc->connect_noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_envfrom - a new message: who sends, authenticated, TLS */
static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_context *mc = smfi_getpriv(ctx);
	const char *tls, *sender = argv != NULL ? argv[0] : NULL;
	char norm[ADDR_MAX];

	if (mc == NULL)
		return callbacks_lost(ctx, "mail");
	context_message_reset(mc);
	mc->in_message = true;
	if (!context_copy(mc->sasl_username, sizeof mc->sasl_username,
			  smfi_getsymval(ctx, "{auth_authen}")))
		mc->sasl_too_long = true;
	tls = smfi_getsymval(ctx, "{tls_version}");
	mc->tls = tls != NULL && tls[0] != '\0';
	/* Kept normalised for the logs when it can be; decide() normalises
	   again, and refuses what does not normalise. */
	if (sender != NULL && addr_normalize(sender, norm, sizeof norm) == 0)
		sender = norm;
	if (!context_copy(mc->sender, sizeof mc->sender, sender))
		mc->sender_too_long = true;
	context_copy(mc->queue_id, sizeof mc->queue_id, smfi_getsymval(ctx, "i"));
	/* Nothing is judged here: the sender rules are part of the relay
	   decision, made per relayed recipient (a message delivered only
	   locally is the MTA's business). */
	return mc->mail_noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_envrcpt - judge a relayed recipient, accept a local one */
static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_context *mc = smfi_getpriv(ctx);
	const struct milter_settings *s;
	const char *rcpt = argv != NULL ? argv[0] : NULL;
	const char *mailer, *macro_rcpt;
	uint64_t start = metrics_request_start();
	char norm[ADDR_MAX];
	struct frontend_request req;
	struct frontend_env env;
	struct frontend_limits limits;
	struct relay_lookups lookups;
	struct relay_verdict v;
	struct milter_reply reply;
	enum route route;

	if (mc == NULL || !mc->in_message)
		return callbacks_lost(ctx, "rcpt");
	s = settings_acquire();
	if (s == NULL)
		return callbacks_lost(ctx, "rcpt");
	mailer = smfi_getsymval(ctx, "{rcpt_mailer}");
	macro_rcpt = smfi_getsymval(ctx, "{rcpt_addr}");
	if (rcpt == NULL || rcpt[0] == '\0')
		rcpt = macro_rcpt;
	route = route_recipient(&s->cfg->milter_relay_transports, mailer);
	if (rcpt != NULL && addr_normalize(rcpt, norm, sizeof norm) == 0)
		rcpt = norm;
	/* Postfix may know the queue id only from here on. */
	if (mc->queue_id[0] == '\0')
		context_copy(mc->queue_id, sizeof mc->queue_id, smfi_getsymval(ctx, "i"));
	if (route == ROUTE_LOCAL) {
		log_debug("rcpt %s: local (mailer %s): accepted", rcpt ? rcpt : "",
			  mailer ? mailer : "none");
		settings_release(&s);
		return SMFIS_CONTINUE;
	}
	if (route == ROUTE_RELAY)
		log_debug("rcpt %s: relayed (mailer %s)", rcpt ? rcpt : "", mailer);
	else
		log_warning("rcpt %s: the MTA sent no {rcpt_mailer}: judged as relayed",
			    rcpt ? rcpt : "");
	if (!s->cfg->milter_relay_check && mc->mta_postfix) {
		/* Postfix and policyd decided this relay (and recorded it); the
		   milter only keeps the message's From: check. */
		log_debug("rcpt %s: relayed, relay left to the MTA (milter_relay_check = no)",
			  rcpt ? rcpt : "");
		mc->relayed++;
		settings_release(&s);
		return SMFIS_CONTINUE;
	}
	if (!s->cfg->milter_relay_check)
		/* Only Postfix refuses relay itself before a milter is asked
		   (reject_unauth_destination); behind any other MTA, such as
		   Sendmail with promiscuous_relay, leaving relay alone would
		   relay for anyone. */
		log_warning("rcpt %s: milter_relay_check = no needs Postfix's relay restrictions, "
			    "and this MTA is not Postfix: relay judged here",
			    rcpt ? rcpt : "");
	callbacks_request(mc, rcpt, &req);
	callbacks_env(s, &lookups, &limits, &env);
	frontend_decide_rcpt(&req, &env, &v);
	reply_from_verdict(&v, REPLY_STAGE_RCPT, &reply);
	if (reply.action == REPLY_CONTINUE)
		mc->relayed++;
	settings_release(&s);
	metrics_request_done(start);
	return callbacks_reply(ctx, &reply);
}

/* cb_header - collect From: for the end-of-message check */
static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_context *mc = smfi_getpriv(ctx);
	sfsistat done = mc != NULL && mc->header_noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;

	if (mc == NULL || !mc->collect_headers || mc->sasl_username[0] == '\0')
		return done;
	if (name != NULL && strcasecmp(name, "From") == 0 && context_from_add(mc, value) != 0) {
		/* Counted as "too long": the check at end of message then
		   refuses to guess. */
		log_error("header: out of memory keeping From:");
		mc->from_count++;
		mc->from_too_long = true;
	}
	return done;
}

/* data_header_check_due - whether end of message has a From: to judge */
static bool data_header_check_due(const struct milter_settings *s,
				  const struct milter_context *mc)
{
	/* The From: rule is part of relay: a message that relays to no one
	   (all its recipients local), or whose sender did not authenticate,
	   is not judged. */
	if (!s->policy.check_header || mc->sasl_username[0] == '\0' || mc->relayed == 0)
		return false;
	if (!mc->collect_headers) {
		/* sender_login_check changed by a reload after this
		   connection negotiated: it never sees the headers. */
		log_info("queue_id=%s: From: not checked: headers were not negotiated "
			 "on this connection",
			 mc->queue_id);
		return false;
	}
	return true;
}

/* eom_header_problem - From: headers that cannot be judged */
static const char *eom_header_problem(const struct milter_context *mc, char *buf, size_t size)
{
	if (mc->from_count == 0)
		return "Message has no From: header; RFC 5322 requires one";
	if (mc->from_count > 1) {
		snprintf(buf, size, "Message has %u From: headers; RFC 5322 allows one",
			 mc->from_count);
		return buf;
	}
	if (mc->from_too_long)
		return "From: header too long";
	return NULL;
}

/* cb_eom - the From: check for authenticated users */
static sfsistat cb_eom(SMFICTX *ctx)
{
	struct milter_context *mc = smfi_getpriv(ctx);
	const struct milter_settings *s;
	struct milter_reply reply = { .action = REPLY_CONTINUE, .rcode = "", .xcode = "" };
	struct relay_verdict v = { .kind = VERDICT_PERMIT, .rule = RULE_SASL, .status = "" };
	struct rfc5322_addrlist list = { 0, NULL };
	struct frontend_request req;
	struct frontend_env env;
	struct frontend_limits limits;
	struct relay_lookups lookups;
	char buf[RELAY_REASON_MAX];
	const char *problem;
	char *error = NULL;

	if (mc == NULL || !mc->in_message)
		return callbacks_lost(ctx, "eom");
	s = settings_acquire();
	if (s == NULL)
		return callbacks_lost(ctx, "eom");
	if (smfi_getsymval(ctx, "i") != NULL)
		context_copy(mc->queue_id, sizeof mc->queue_id, smfi_getsymval(ctx, "i"));
	/* Usually answered at DATA already (cb_data); an MTA without DATA
	   (or a reload in between) ends here. */
	if (!data_header_check_due(s, mc))
		goto done;
	callbacks_request(mc, "", &req);
	callbacks_env(s, &lookups, &limits, &env);
	if ((problem = eom_header_problem(mc, buf, sizeof buf)) != NULL) {
		v.kind = VERDICT_REJECT;
		v.rule = RULE_BAD_REQUEST;
		v.status = "5.7.1";
		snprintf(v.reason, sizeof v.reason, "%s", problem);
	} else if (rfc5322_parse_address_list(mc->from_value, mc->from_len, &list, &error) != 0) {
		v.kind = VERDICT_REJECT;
		v.rule = RULE_BAD_REQUEST;
		v.status = "5.7.1";
		snprintf(v.reason, sizeof v.reason, "From: header cannot be read: %s",
			 error ? error : "syntax error");
		free(error);
	} else {
		req.relay.header_from = (const char *const *)list.addrs;
		req.relay.header_from_count = list.count;
		decide_header_from(&req.relay, &s->policy, env.lookups, &v);
		rfc5322_addrlist_free(&list);
	}
	reply_from_verdict(&v, REPLY_STAGE_EOM, &reply);
	/* No opinion at end of message lets the message pass (its
	   recipients were judged at RCPT): recorded as "dunno". */
	env.dunno_refuses = false;
	req.relay.header_from = NULL;
	req.relay.header_from_count = 0;
	frontend_record(&req, &env, &v);
done:
	context_message_reset(mc);
	settings_release(&s);
	return callbacks_reply(ctx, &reply);
}

/* cb_data - end the message's conversation when nothing is left to judge */
static sfsistat cb_data(SMFICTX *ctx)
{
	struct milter_context *mc = smfi_getpriv(ctx);
	const struct milter_settings *s;
	bool due;

	/* The reply matters even when it is "continue" (see cb_negotiate). */
	if (mc == NULL || !mc->in_message)
		return callbacks_lost(ctx, "data");
	s = settings_acquire();
	if (s == NULL)
		return callbacks_lost(ctx, "data");
	/* Postfix has the queue id from the first accepted recipient on. */
	if (smfi_getsymval(ctx, "i") != NULL)
		context_copy(mc->queue_id, sizeof mc->queue_id, smfi_getsymval(ctx, "i"));
	if (s->cfg->milter_relay_check && mc->relayed > 0) {
		/* The sending limits count the message here, before its
		   body: its relayed recipients and the message, in one step
		   (frontend_limit.h). */
		struct frontend_request req;
		struct frontend_env env;
		struct frontend_limits limits;
		struct relay_lookups lookups;
		struct relay_verdict v;

		callbacks_request(mc, "", &req);
		callbacks_env(s, &lookups, &limits, &env);
		frontend_decide_data(&req, &env, mc->relayed, &v, NULL);
		if (v.kind != VERDICT_DUNNO) {
			struct milter_reply reply;

			settings_release(&s);
			reply_from_verdict(&v, REPLY_STAGE_EOM, &reply);
			context_message_reset(mc);
			return callbacks_reply(ctx, &reply);
		}
	}
	due = data_header_check_due(s, mc);
	settings_release(&s);
	if (due)
		return SMFIS_CONTINUE;
	/* Every recipient is judged (RCPT comes before DATA) and no From:
	   verdict can follow: accepting the message here spares the
	   headers and the end-of-message round trip. Postfix skips this
	   milter until the next MAIL, which libmilter then reports as a
	   new message (cb_envfrom resets it). */
	context_message_reset(mc);
	return SMFIS_ACCEPT;
}

/* cb_abort - the message is gone, the connection stays */
static sfsistat cb_abort(SMFICTX *ctx)
{
	struct milter_context *mc = smfi_getpriv(ctx);

	if (mc != NULL)
		context_message_reset(mc);
	return SMFIS_CONTINUE;
}

/* cb_close - free the connection state (also when connect never came) */
static sfsistat cb_close(SMFICTX *ctx)
{
	struct milter_context *mc = smfi_getpriv(ctx);

	if (mc != NULL) {
		smfi_setpriv(ctx, NULL);
		context_free(&mc);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc callbacks_description = {
	.xxfi_name = "authrelay-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_SETSYMLIST,
	.xxfi_connect = cb_connect,
	.xxfi_helo = NULL,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = NULL,
	.xxfi_body = NULL,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

/* callbacks_desc - for smfi_register() */
struct smfiDesc *callbacks_desc(void)
{
	return &callbacks_description;
}

/*
 * NAME
 *	route 3h
 * SUMMARY
 *	is this recipient relayed or delivered here?
 * DESCRIPTION
 *	A milter sees every recipient; only relayed ones are judged by
 *	decide(). Two documented methods:
 *
 *	milter_local_domains set (Sendmail, or any MTA): a recipient whose
 *	domain is not in the list (exact, case-insensitive) is relayed; a
 *	recipient without a domain is local.
 *
 *	otherwise (Postfix): the {rcpt_mailer} macro, the transport Postfix
 *	resolved the recipient to, is compared with milter_relay_transports
 *	(default smtp, relay). Postfix reports "error" for a recipient it
 *	already rejected: not relayed, nothing to judge.
 *
 *	When neither method can tell (no local domains and no
 *	{rcpt_mailer}), the recipient counts as relayed: failing closed
 *	refuses relay, it never opens it.
 */
#ifndef AUTHRELAY_MILTER_ROUTE_H
#define AUTHRELAY_MILTER_ROUTE_H

#include "cfg.h"

enum route { ROUTE_LOCAL = 0, ROUTE_RELAY, ROUTE_RELAY_UNKNOWN };

/* Classifies one recipient. rcpt is the envelope recipient as received
   ("<a@b>" or "a@b"); rcpt_mailer may be NULL. ROUTE_RELAY_UNKNOWN is a
   relay that was assumed (see above): the caller logs it. */
enum route route_recipient(const struct cfg_list *relay_transports,
			   const struct cfg_list *local_domains, const char *rcpt_mailer,
			   const char *rcpt);

const char *route_name(enum route route);

#endif

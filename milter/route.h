/*
 * NAME
 *	route 3h
 * SUMMARY
 *	is this recipient relayed or delivered here?
 * DESCRIPTION
 *	A milter sees every recipient; only relayed ones are judged by
 *	decide(). The MTA alone knows where a recipient goes: it tells the
 *	milter in the {rcpt_mailer} macro, the mailer (Sendmail) or
 *	transport (Postfix) it resolved the recipient to, after its own
 *	address rewriting (percent hack, bang paths, source routes, quoted
 *	local parts, trailing dots, address literals). A recipient whose
 *	mailer is listed in milter_relay_transports is relayed; any other
 *	mailer is local. The recipient address itself is never looked at:
 *	the milter cannot parse it the way the MTA does, and a guess that
 *	says "local" where the MTA relays is an open relay.
 *
 *	Postfix reports "error" for a recipient it already rejected: not
 *	relayed, nothing to judge.
 *
 *	No {rcpt_mailer} (an MTA that does not send it, or a macro list
 *	without it): the recipient counts as relayed. Failing closed
 *	refuses relay, it never opens it.
 */
#ifndef AUTHRELAY_MILTER_ROUTE_H
#define AUTHRELAY_MILTER_ROUTE_H

#include "cfg.h"

enum route { ROUTE_LOCAL = 0, ROUTE_RELAY, ROUTE_RELAY_UNKNOWN };

/* Classifies one recipient by its mailer; rcpt_mailer may be NULL.
   Mailer names are compared exactly (Sendmail's and Postfix's are
   case-sensitive). ROUTE_RELAY_UNKNOWN is a relay that was assumed
   (no mailer): the caller logs it. */
enum route route_recipient(const struct cfg_list *relay_transports, const char *rcpt_mailer);

const char *route_name(enum route route);

#endif

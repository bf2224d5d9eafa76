/*
 * NAME
 *	callbacks 3h
 * SUMMARY
 *	libmilter callbacks: MTA events to relay_request, verdicts to replies
 * DESCRIPTION
 *	negotiate  asks the MTA for the macros it needs (smfi_setsymlist),
 *	           so Postfix's default milter_*_macros are enough, and
 *	           turns off the events it does not use (HELO, body, end of
 *	           headers, unknown commands; headers unless From: is
 *	           checked). DATA stays on, see cb_negotiate().
 *	connect    the client address from hostaddr (IPv4, IPv6; mapped
 *	           IPv4 as IPv4), else the {client_addr} macro.
 *	envfrom    {auth_authen}, {tls_version}, the envelope sender.
 *	envrcpt    a relayed recipient (see route.h) is judged by
 *	           frontend_decide_rcpt(), as in policyd, sender rules
 *	           included (554 5.7.1); a local one is accepted.
 *	header     collects From: (header|both, authenticated users).
 *	eom        decide_header_from() on the From: addresses of a message
 *	           that relays (550 5.7.1).
 *	close      frees the connection state.
 *	Every relay verdict and every header verdict is logged and queued
 *	as a decisions row (frontend.h, the same record as policyd's).
 */
#ifndef AUTHRELAY_MILTER_CALLBACKS_H
#define AUTHRELAY_MILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

#include "frontend_store.h"

/* The filter description handed to smfi_register(). */
struct smfiDesc *callbacks_desc(void);

/* The database every callback asks (shared by all threads; opened at
   start or later, see frontend_store.h). */
void callbacks_set_store(struct frontend_store *fstore);

#endif

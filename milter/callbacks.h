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
 *	envrcpt    a relayed recipient (see route.h) is judged by decide(),
 *	           sender rules included (554 5.7.1); a local one is
 *	           accepted.
 *	header     collects From: (header|both, authenticated users).
 *	eom        decide_header_from() on the From: addresses of a message
 *	           that relays (550 5.7.1).
 *	close      frees the connection state.
 *	Every relay verdict and every header verdict is logged and queued
 *	as a decisions row.
 */
#ifndef AUTHRELAY_MILTER_CALLBACKS_H
#define AUTHRELAY_MILTER_CALLBACKS_H

#include <libmilter/mfapi.h>

#include "store.h"

/* The filter description handed to smfi_register(). */
struct smfiDesc *callbacks_desc(void);

/* The store every callback asks (opened once, shared by all threads). */
void callbacks_set_store(struct store *store);

#endif

/*
 * NAME
 *	context 3h
 * SUMMARY
 *	per-connection milter state
 * DESCRIPTION
 *	One struct milter_context per MTA connection: allocated once (in
 *	negotiate or connect, whichever comes first), reset per message,
 *	freed in close, which libmilter also calls when a connection ends
 *	before connect. Every string from the MTA is copied into a bounded
 *	field here, so nothing depends on how long libmilter keeps its
 *	macro values.
 *
 *	From: headers: the value of the first one is kept (up to
 *	RFC5322_MAX_HEADER bytes; its buffer is allocated once per
 *	connection, on first use), and all of them are counted; RFC 5322
 *	allows exactly one, so a second one's text is not needed.
 */
#ifndef AUTHRELAY_MILTER_CONTEXT_H
#define AUTHRELAY_MILTER_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "ipaddr.h"
#include "rfc5322.h"
#include "store.h"

#define CONTEXT_QUEUE_ID_MAX 64

struct milter_context {
	/* connection */
	struct ipaddr client;			/* family 0 when unknown */
	char client_text[IPADDR_STRLEN];	/* "unknown" when unknown */
	bool collect_headers;			/* negotiated: headers are sent */
	bool header_noreply;			/* negotiated SMFIP_NR_HDR */
	bool connect_noreply;			/* negotiated SMFIP_NR_CONN */
	bool mail_noreply;			/* negotiated SMFIP_NR_MAIL */
	bool mta_postfix;			/* connect macro v names Postfix */

	/* message (reset by context_message_reset) */
	bool in_message;			/* MAIL seen */
	char sasl_username[STORE_USER_MAX];	/* "" = not authenticated */
	bool sasl_too_long;			/* {auth_authen} did not fit */
	bool tls;
	char sender[ADDR_MAX + 3];		/* envelope sender as received */
	bool sender_too_long;
	char queue_id[CONTEXT_QUEUE_ID_MAX];
	unsigned relayed;			/* relayed recipients permitted */

	unsigned from_count;			/* From: headers seen */
	bool from_too_long;			/* the first one did not fit */
	size_t from_len;
	char *from_value;			/* RFC5322_MAX_HEADER + 1 bytes */
};

/* Allocates a context with no client and no message. Returns NULL when
   out of memory. */
struct milter_context *context_new(void);

/* Forgets the message (MAIL to end of message, or abort); keeps the
   connection and the From: buffer. */
void context_message_reset(struct milter_context *ctx);

/* Sets the client from a printed address ("192.0.2.1", "::1",
   "IPv6:::1", "[::1]", "::ffff:192.0.2.1"). Returns 0, or -1 leaving
   the client unknown. */
int context_set_client(struct milter_context *ctx, const char *text);

/* Copies text into dst (size bytes). Returns true when it fit; a NULL
   text gives "" and true. */
bool context_copy(char *dst, size_t size, const char *text);

/* Records one From: header value. The first is kept (its buffer is
   allocated here on first use); later ones are only counted. Returns 0,
   or -1 when out of memory (nothing recorded). */
int context_from_add(struct milter_context *ctx, const char *value);

/* Frees the context and sets *ctx to NULL; NULL is fine. */
void context_free(struct milter_context **ctx);

#endif

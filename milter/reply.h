/*
 * NAME
 *	reply 3h
 * SUMMARY
 *	milter replies: verdict to action, SMTP codes and safe text
 * DESCRIPTION
 *	Pure translation, no libmilter: callbacks.c hands the result to
 *	smfi_setreply(). libmilter refuses reply text with CR or LF and
 *	silently drops text with a single '%' (it is a format for the MTA),
 *	so every text goes through reply_text_safe() first.
 */
#ifndef AUTHRELAY_MILTER_REPLY_H
#define AUTHRELAY_MILTER_REPLY_H

#include <stddef.h>

#include "decide.h"

/* libmilter caps a whole reply line at 980 bytes; the text part stays
   well below, also after '%' doubling. */
#define REPLY_TEXT_MAX 512

/* Where in the transaction a verdict is answered. */
enum reply_stage {
	REPLY_STAGE_RCPT,	/* relay of one recipient: 554 */
	REPLY_STAGE_EOM		/* From: header: 550 */
};

enum reply_action { REPLY_CONTINUE = 0, REPLY_REJECT, REPLY_TEMPFAIL };

struct milter_reply {
	enum reply_action action;
	const char *rcode;		/* "554", "451"; "" for continue */
	const char *xcode;		/* "5.7.1", "4.3.0"; "" for continue */
	char text[REPLY_TEXT_MAX];	/* already safe for smfi_setreply() */
};

/* Copies text into out (size bytes, at least 1): CR, LF, TAB and other
   control characters become a space, '%' is doubled, and the result is
   cut at a character boundary so that a doubled '%' is never split. A
   NULL text gives "". Returns out. */
const char *reply_text_safe(const char *text, char *out, size_t size);

/* Translates a verdict at stage into a reply:
     permit                    -> continue
     dunno at RCPT             -> 554 5.7.1 Relay access denied (the
                                  milter has no MTA rule behind it)
     dunno at EOM              -> continue (no opinion on a message
                                  whose recipients were judged at RCPT)
     reject                    -> 554/550 by stage, the verdict's
                                  status (5.7.1 when empty), its reason
     tempfail, rule rate_limit -> 450 4.7.1 reason (a sending limit)
     tempfail                  -> 451, the verdict's 4.x.x status (4.3.0
                                  for a store error; 4.3.0 when it has
                                  none), reason
   Never fails. */
void reply_from_verdict(const struct relay_verdict *verdict, enum reply_stage stage,
			struct milter_reply *reply_r);

/* A temporary failure with text (out of memory, lost state): 451 4.3.0. */
void reply_tempfail(const char *text, struct milter_reply *reply_r);

const char *reply_action_name(enum reply_action action);

#endif

/*
 * NAME
 *	envelope 3h
 * SUMMARY
 *	the time stamp and host in front of a log line's program tag
 * SYNOPSIS
 *	#include "envelope.h"
 * DESCRIPTION
 *	Three envelopes carry POP/IMAP login lines:
 *
 *	  BSD syslog   "Nov 26 13:06:41 host prog[pid]: message" (no year;
 *	               the day is space- or zero-padded)
 *	  RFC 3339     "2026-11-26T12:51:49.954165+00:00 host prog[pid]: message"
 *	  Dovecot file "Nov 26 13:06:41 imap-login: Info: message" (its own
 *	               log_path: no host; the first word ends in ':')
 *
 *	envelope_parse() only finds where the tag starts, so that a line that
 *	no parser wants costs a few comparisons; the time is converted by
 *	envelope_time() for the few lines that matter.
 */
#ifndef AUTHRELAY_ENVELOPE_H
#define AUTHRELAY_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum envelope_kind { ENVELOPE_BSD = 1, ENVELOPE_RFC3339 };

struct envelope {
	enum envelope_kind kind;
	const char *stamp;	/* the time stamp text, not NUL-terminated */
	size_t stamp_len;
	const char *host;	/* NULL for Dovecot's own file format */
	size_t host_len;
	const char *tag;	/* "prog[pid]: message": what the parsers read */
	size_t tag_len;
};

/* Finds the time stamp, the optional host and the tag of line (len bytes,
   no newline). Returns 0, or -1 when the line has no known envelope (the
   line is then ignored: no parser sees it). */
int envelope_parse(const char *line, size_t len, struct envelope *env_r);

/* Converts the envelope's stamp into Unix seconds. A BSD stamp is local
   time without a year: see envelope_bsd_time(). Returns 0, or -1 when
   the stamp holds an impossible date. */
int envelope_time(const struct envelope *env, time_t now, int64_t *time_r);

/* How far in the future a stamp may lie (clock skew between hosts) before
   envelope_bsd_time() takes it for last year's. */
#define ENVELOPE_FUTURE_SLACK (24 * 3600)

/* Local time mon (0-11) mday hh:mm:ss of the latest year whose result is
   not more than ENVELOPE_FUTURE_SLACK after now: at Jan 1 00:00:05 a line
   stamped "Dec 31 23:59:59" is last year's; at Dec 31 23:59:59 a line
   stamped "Jan  1 00:00:01" (a host whose clock runs ahead) is next
   year's. Feb 29 only lands on leap years. Returns 0, or -1. */
int envelope_bsd_time(int mon, int mday, int hh, int mm, int ss, time_t now, int64_t *time_r);

#endif

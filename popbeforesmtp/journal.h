/*
 * NAME
 *	journal 3h
 * SUMMARY
 *	the systemd journal as a login source, trusting only journald's fields
 * SYNOPSIS
 *	#include "journal.h"
 * DESCRIPTION
 *	Any local user can send a journal entry with any SYSLOG_IDENTIFIER,
 *	so an entry is read only when _SYSTEMD_UNIT (set by journald from
 *	the sender's cgroup, not by the sender) is a unit of an enabled
 *	format (dovecot.service, ...). Each entry is handed to the line
 *	callback as "STAMP journal IDENT: MESSAGE" (RFC 3339 stamp from
 *	the entry's realtime), so the same parsers read it.
 *
 *	The position is the entry's realtime in microseconds (as offset) and
 *	a hash of its cursor (as line_hash); dev and ino are 0. Without
 *	libsystemd (HAVE_SYSTEMD unset) journal_open() fails with a clear
 *	message.
 */
#ifndef AUTHRELAY_JOURNAL_H
#define AUTHRELAY_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "follow.h"
#include "parsers.h"

#define JOURNAL_SOURCE "journal"

struct journal;

/* Returns true when this build can read the journal. */
bool journal_available(void);

/* Opens the local system journal for the units of the enabled parsers.
   Returns 0, or -1 with *error_r. */
int journal_open(const struct parser_set *parsers, const struct follow_callbacks *cb, void *ctx,
		 struct journal **journal_r, char **error_r);

/* Where to start: after pos, or (pos NULL) at realtime since (Unix
   seconds: older logins could not grant anyway). */
void journal_resume(struct journal *journal, const struct follow_position *pos, int64_t since);

/* The descriptor to poll, and what to call when it is readable. */
int journal_fd(struct journal *journal);
void journal_ready(void *journal);

void journal_free(struct journal **journal);

#endif

/*
 * NAME
 *	loginwatch 3h
 * SUMMARY
 *	the pipeline: lines -> parsers -> grants -> store, with checkpoints
 * SYNOPSIS
 *	#include "loginwatch.h"
 * DESCRIPTION
 *	struct loginwatch is the context behind the follow callbacks
 *	(loginwatch_callbacks). Each line is parsed; each login becomes a
 *	grant in the batch; at the end of each read the batch is written
 *	with the source's checkpoint in one transaction, at once, so that a
 *	login is visible to policyd as soon as the read drains.
 *
 *	A read without logins writes its checkpoint only when it is
 *	important (rotation, shutdown) or LOGINWATCH_CHECKPOINT_IDLE seconds
 *	after the last one: re-reading lines without logins after a crash
 *	grants nothing twice, and a busy mail log does not cost a transaction
 *	per read. --scan (no checkpoints, no reader waiting) writes
 *	LOGINWATCH_SCAN_BATCH logins per transaction instead.
 */
#ifndef AUTHRELAY_LOGINWATCH_H
#define AUTHRELAY_LOGINWATCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "follow.h"
#include "grants.h"
#include "parsers.h"
#include "store.h"

struct progress;

#define LOGINWATCH_CHECKPOINT_IDLE 5	/* seconds */
#define LOGINWATCH_MAX_SOURCES 32
#define LOGINWATCH_STDIN_RETRIES 30	/* seconds a stdin batch is retried */
#define LOGINWATCH_SCAN_BATCH 10000	/* --scan: logins per transaction */

struct loginwatch_stats {
	uint64_t candidates, logins, refused, excluded, expired, granted, batch_failures;
};

struct loginwatch {
	struct parser_set parsers;
	struct grant_policy policy;
	struct store *store;		/* NULL: parse only (counts, writes nothing) */
	bool scan;			/* --scan: no checkpoints */
	volatile sig_atomic_t *stop;	/* ends stdin retries; may be NULL */
	time_t now;
	struct grant_batch batch;
	bool lost_logins;		/* a grant could not be queued in this read */
	struct {
		const char *source;
		time_t written;
	} cp[LOGINWATCH_MAX_SOURCES];
	size_t cp_count;
	struct loginwatch_stats stats;
	struct progress *progress;	/* --scan: the progress line, or NULL */
	uint64_t progress_base;		/* --scan: bytes of the files already read */
};

extern const struct follow_callbacks loginwatch_callbacks;

/* Converts a stored checkpoint to a follow position and back. */
void loginwatch_position(const struct store_checkpoint *cp, struct follow_position *pos_r);

/* Frees the batch. */
void loginwatch_done(struct loginwatch *w);

#endif

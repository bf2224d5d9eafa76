/*
 * NAME
 *	store_writer 3h
 * SUMMARY
 *	the decision writer: bounded queue, batches, retries (private)
 * SYNOPSIS
 *	#include "store_writer.h"
 * DESCRIPTION
 *	The part of store_decision_queue() / _flush() / _stats() that is
 *	the same for every backend: a bounded queue of copied rows, a thread
 *	that takes them in batches, retries a failed batch with backoff until
 *	it is written, a flush with a deadline, and the counters. A backend
 *	supplies one operation, store_ops.decision_write (store_backend.h):
 *	write one batch in one transaction on a connection of its own that
 *	only the writer's thread uses.
 *
 *	A row once accepted has an identity, (batch->writer, row->seq), that
 *	is the same on every attempt to write it: writer is random per
 *	writer (per process and store), seq counts the rows it accepted. A
 *	backend that cannot always tell whether a batch committed (a network
 *	server whose connection broke after the COMMIT was sent) stores the
 *	identity under a unique key and skips a row it already has, so a
 *	retried batch is never written twice.
 *
 *	The backend starts the writer in its open function, once the
 *	connection the writer will use is ready, and stops it first thing
 *	in its close function. store.c calls the rest.
 *
 *	Included by store.c and the backends only; callers use store.h.
 */
#ifndef AUTHRELAY_STORE_WRITER_H
#define AUTHRELAY_STORE_WRITER_H

#include <stdint.h>

struct store;
struct store_decision;

/* The fields of a queued row, in the order of struct store_decision. */
enum store_writer_field {
	SW_PROGRAM,		/* NULL: the backend's default (options.program) */
	SW_CLIENT_IP,
	SW_SASL_USERNAME,
	SW_SENDER,
	SW_RECIPIENT,
	SW_VERDICT,		/* never NULL: "" when the caller gave none */
	SW_RULE,
	SW_REASON,
	SW_QUEUE_ID,
	SW_FIELDS
};

/* Bytes kept of each text field; a longer one is cut on a UTF-8
   character boundary. */
#define STORE_WRITER_FIELD_MAX 1024

/* One queued row, one allocation: the ring holds only pointers, so the
   ring of decision_queue_max rows (100,000 by default) costs 8 bytes a
   slot, not a slot of nine pointers; once a busy daemon's ring had gone
   round, that difference was 8 MiB of resident memory. */
#define STORE_WRITER_ABSENT UINT16_MAX
struct store_writer_row {
	uint64_t seq;		/* the row's number at this writer, from 1 */
	int64_t ts;		/* the caller's, or time(NULL) when it gave 0 */
	uint16_t off[SW_FIELDS];	/* into text; STORE_WRITER_ABSENT: NULL */
	char text[];
};

/* One field of a queued row (NUL-terminated), NULL when absent. */
static inline const char *store_writer_field(const struct store_writer_row *r,
					     enum store_writer_field f)
{
	return r->off[f] == STORE_WRITER_ABSENT ? NULL : r->text + r->off[f];
}

/* What store_ops.decision_write() gets: rows in the order queued. */
struct store_writer_batch {
	uint64_t writer;	/* this writer's random identity */
	unsigned count;
	struct store_writer_row *const *rows;
};

/* What store_ops.decision_write() returns. */
enum {
	STORE_WRITE_OK = 0,	/* every row is stored */
	STORE_WRITE_FAILED = -1,	/* not stored (*error_r says why): retried, logged */
	STORE_WRITE_BUSY = 1	/* another session's lock: retried, not logged */
};

/* Sets up store->writer with a queue of queue_max rows and starts its
   thread (none when queue_max is 0: every row is then dropped and
   counted, without a warning). name says which database in messages.
   0, or -1 with *error_r. */
int store_writer_start(struct store *store, unsigned queue_max, const char *name,
		       char **error_r);

/* Writes what is queued for up to flush_timeout_ms, stops the thread,
   logs the counts when a row was not written, frees store->writer.
   Nothing to do when there is no writer. */
void store_writer_stop(struct store *store, long long flush_timeout_ms);

/* store.h's store_decision_queue(), _flush() and _stats(). Without a
   writer, queue returns -1 (counted nowhere), flush 0, stats zeroes. */
int store_writer_queue(struct store *store, const struct store_decision *d);
int store_writer_flush(struct store *store, long long timeout_ms);
void store_writer_stats(struct store *store, uint64_t *written_r, uint64_t *dropped_r);

#endif

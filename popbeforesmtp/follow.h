/*
 * NAME
 *	follow 3h
 * SUMMARY
 *	log sources followed like tail -F, with resumable positions
 * SYNOPSIS
 *	#include "follow.h"
 * DESCRIPTION
 *	A source is a file path or stdin. Files are followed across
 *	rename-and-create rotation (the old file is read to its end first;
 *	the switch happens once the new file has data, so lines the writer
 *	still puts into the old file before it reopens are not lost),
 *	copytruncate (the size drops below our position: read from 0) and
 *	files that do not exist yet. inotify on each file's directory wakes
 *	the loop; without inotify the loop polls every FOLLOW_POLL_MS.
 *
 *	Lines go to the line callback one by one (NUL-terminated in place,
 *	only those holding the callbacks' needle text,
 *	valid until the batch callback returns); after each read the batch
 *	callback gets the position just after the last complete line: file
 *	identity, offset and a hash of that line. When the batch callback
 *	fails, the file is rewound to the previous position and read again
 *	later, so a line is never lost because the database was busy. A
 *	line longer than LOGIN_LINE_MAX is skipped whole (never split), and
 *	counted.
 *
 *	A position saved by the caller (the checkpoint) is handed back with
 *	follow_resume() at start-up: the file with that identity is found
 *	again (also under its rotated name, e.g. mail.log.1) and checked by
 *	the line hash; what was rotated during the downtime is finished
 *	before the current file is read from its start.
 */
#ifndef AUTHRELAY_FOLLOW_H
#define AUTHRELAY_FOLLOW_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FOLLOW_POLL_MS 250		/* polling fallback without inotify */
#define FOLLOW_RESCAN_MS 1000		/* safety re-check with inotify */
#define FOLLOW_RETRY_MS 1000		/* after a failed batch */
#define FOLLOW_HASH_SPAN 4096		/* bytes of the last line hashed */

struct follow_position {
	uint64_t dev, ino;	/* identity of the file read */
	uint64_t offset;	/* bytes consumed (through the last newline) */
	uint64_t line_hash;	/* follow_line_hash() of the last line consumed; 0 at offset 0 */
};

struct follow_callbacks {
	/* One complete line (no newline, NUL-terminated, writable). Only
	   lines that contain needle(ctx) are handed out, when needle is not
	   NULL and returns a non-empty text: finding candidates with
	   memmem() is what makes reading a busy mail log cheap. */
	void (*line)(void *ctx, const char *source, char *line, size_t len);
	const char *(*needle)(void *ctx);
	/* End of a read. pos is NULL for stdin. important is true when the
	   position should be saved now (rotation switch, end of a scan,
	   shutdown). Returns 0, or -1 to have the lines read again later. */
	int (*batch)(void *ctx, const char *source, const struct follow_position *pos,
		     bool important);
};

struct follow;

/* Creates an empty follower. Returns 0, or -1 with *error_r. */
int follow_create(const struct follow_callbacks *cb, void *ctx, struct follow **follow_r,
		  char **error_r);

/* Adds a file ("-" is stdin) and opens it now when it exists (so that it
   is opened before the privilege drop). A missing file is not an error:
   it is read when it appears. Returns 0, or -1 with *error_r (unreadable
   file, too many sources). */
int follow_add(struct follow *follow, const char *path, char **error_r);

/* Adds another input (the journal): ready(arg) is called when fd is
   readable and at every rescan. Returns 0, or -1 with *error_r. */
int follow_add_input(struct follow *follow, int fd, void (*ready)(void *arg), void *arg,
		     char **error_r);

/* Hands back the saved position of path (NULL: none, read from the
   start). Must be called before follow_run(). Logs what it found. */
void follow_resume(struct follow *follow, const char *path, const struct follow_position *pos);

/* Reads until *stop or *reload becomes non-zero (signal flags), or until
   every source is stdin and it reached its end. Returns 0 then, or -1
   with *error_r when the loop cannot go on. */
int follow_run(struct follow *follow, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload,
	       char **error_r);

/* Calls the batch callback with important = true for every file source
   (to save positions at shutdown). */
void follow_flush(struct follow *follow);

/* Reads path from its start to its end once (--scan), through the same
   callbacks; the last line may lack its newline. Returns 0, or -1 with
   *error_r. */
int follow_scan(const char *path, const struct follow_callbacks *cb, void *ctx, char **error_r);

/* Lines skipped because they were longer than LOGIN_LINE_MAX. */
uint64_t follow_long_lines(const struct follow *follow);

/* FNV-1a of the last FOLLOW_HASH_SPAN bytes of line; never 0. */
uint64_t follow_line_hash(const char *line, size_t len);

/* Frees everything (closes the files) and sets *follow to NULL. */
void follow_free(struct follow **follow);

#endif

/*
 * NAME
 *	follow_private 3h
 * SUMMARY
 *	what follow.c (reading sources) and follow_loop.c (waiting) share
 * DESCRIPTION
 *	Private to the follow module; callers use follow.h.
 */
#ifndef AUTHRELAY_FOLLOW_PRIVATE_H
#define AUTHRELAY_FOLLOW_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "follow.h"
#include "parsers.h"

#define BUF_CAP (256 * 1024)	/* one read; must exceed LOGIN_LINE_MAX + FOLLOW_HASH_SPAN */
#define MAX_SOURCES 32

_Static_assert(BUF_CAP > LOGIN_LINE_MAX + FOLLOW_HASH_SPAN + 2, "read buffer too small");

struct source {
	char *path;		/* as configured; "-" for stdin */
	const char *name;	/* for the callbacks: path, or "stdin" */
	char *dir, *base;	/* for inotify and for finding rotated files */
	bool is_stdin, stdin_eof;
	int fd;			/* the file being read, -1 when none */
	uint64_t dev, ino;
	uint64_t offset;	/* consumed, through the last newline */
	uint64_t hash;		/* of the last line consumed */
	uint64_t skipped;	/* bytes of an overlong line dropped from buf */
	bool skipping;		/* buf starts inside an overlong line */
	char *buf;		/* BUF_CAP + 1 (room for a final NUL) */
	size_t len;		/* bytes in buf */
	size_t done;		/* of which handed out, until compact() */
	int next_fd;		/* the file now at path, read after a rotated fd ends */
	bool finishing;		/* fd is a rotated file or a copy: switch to next_fd after it */
	bool chain;		/* ... and rotated files newer than it come first (resume) */
	int wd;			/* inotify watch on dir, -1 when none */
	bool open_error_logged;
};

struct follow {
	struct follow_callbacks cb;
	void *ctx;
	int input_fd;			/* follow_add_input(), -1 when none */
	void (*input_ready)(void *arg);
	void *input_arg;
	struct source src[MAX_SOURCES];
	size_t count;
	int ino_fd;
	uint64_t long_lines;
};

/* The source of path, or NULL. */
struct source *follow_find_source(struct follow *f, const char *path);

/* Reads the source's fd to its end, handing out lines and batches.
   Returns 0 at the end, -1 when a batch or the read failed (a file is
   then rewound to its last position). */
int follow_drain(struct follow *f, struct source *s);

/* Hands out the unfinished last line (a file that ended without a
   newline, stdin at its end). */
void follow_finish_partial(struct follow *f, struct source *s);

/* Calls the batch callback with the source's position. */
int follow_batch(struct follow *f, struct source *s, bool important);

/* Opens, drains, and checks a file source for truncation and rotation. */
void follow_check_file(struct follow *f, struct source *s);

#endif

/*
 * NAME
 *	progress 3h
 * SUMMARY
 *	one progress line, updated in place, for long work on a terminal
 * SYNOPSIS
 *	#include "progress.h"
 * DESCRIPTION
 *	Long admin work (authrelay-loginwatch --scan, authrelayctl prune,
 *	init's migrations, audit scans) shows one line on a terminal that
 *	says what is done, the rate and, where the total is known, the time
 *	left. The line is drawn at the first update, redrawn at most every
 *	PROGRESS_REDRAW_MS, and wiped
 *	by progress_end(), so the caller's summary line comes next on a clean
 *	line. Not on a terminal (a pipe, cron, systemd) nothing is drawn, so
 *	logs hold only the summary.
 *
 *	progress_format() is pure and is what the unit tests check; the rest
 *	only decides when to call it and writes its result.
 */
#ifndef AUTHRELAY_PROGRESS_H
#define AUTHRELAY_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* --quiet, --progress, or neither. */
enum progress_mode {
	PROGRESS_AUTO,   /* a line only when the stream is a terminal */
	PROGRESS_ALWAYS, /* --progress: a line even through a pipe */
	PROGRESS_QUIET   /* --quiet: no line, and callers print no summary */
};

/* What is counted: sets the words and the number format. */
enum progress_unit {
	PROGRESS_BYTES, /* "12.5 MiB of 80.0 MiB, 40.1 MiB/s" */
	PROGRESS_ROWS,  /* "120,000 rows of 1,000,000, 52,000 rows/s" */
	PROGRESS_BUSY   /* nothing countable: elapsed time only */
};

struct progress {
	FILE *stream;     /* NULL: draws nothing */
	const char *what; /* "scan", "prune", ... (not copied) */
	enum progress_unit unit;
	uint64_t total; /* 0: unknown, no time left shown */
	uint64_t done;
	struct timespec start, drawn; /* drawn: valid once visible */
	bool visible;                 /* a line is on the screen */
	const char *note;             /* optional text after the figures (not copied) */
};

/* Redraw interval: often enough to look alive, rare enough that a scan
   of 1M lines (about 20 reads per 100 ms here) spends nothing on it. */
#define PROGRESS_REDRAW_MS 200

/* A PROGRESS_BUSY line appears only after this long: work that ends
   sooner prints nothing. */
#define PROGRESS_BUSY_FIRST_MS 1000

/* Sets p up. mode decides whether anything is drawn: AUTO draws when
   stream is a terminal, ALWAYS draws anyway, QUIET never. The start time
   is now. Never fails. */
void progress_start(struct progress *p, enum progress_mode mode, FILE *stream, const char *what,
                    enum progress_unit unit, uint64_t total);

/* Records done (and a new total when total != 0) and draws: the first
   call at once (PROGRESS_BUSY: once PROGRESS_BUSY_FIRST_MS have passed),
   later ones when the last drawing is older than PROGRESS_REDRAW_MS.
   Cheap when nothing is drawn: no clock read. */
void progress_update(struct progress *p, uint64_t done, uint64_t total);

/* Wipes the line (when one is visible), so the caller's summary starts a
   clean line. p may be used again with progress_update() after this. */
void progress_end(struct progress *p);

/* Whether anything will be drawn. */
bool progress_is_drawn(const struct progress *p);

/* Formats the line's text into buf (no '\r', no newline): what, the
   figures for unit, the rate after one second of work, the time left
   when total is known and the rate is not zero, then note. Always
   NUL-terminates; returns buf. */
const char *progress_format(char *buf, size_t size, const char *what, enum progress_unit unit,
                            uint64_t done, uint64_t total, double elapsed_s, const char *note);

#endif

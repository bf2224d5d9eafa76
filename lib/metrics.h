/*
 * NAME
 *	metrics 3h
 * SUMMARY
 *	the daemons' Prometheus counters and their text exposition
 * SYNOPSIS
 *	#include "metrics.h"
 * DESCRIPTION
 *	One fixed registry per process (a daemon is one program): counters,
 *	gauges and one histogram, each a plain integer updated with a
 *	relaxed atomic, so the hot path takes no lock and never waits for a
 *	scrape. metrics_format() writes the Prometheus text exposition
 *	(version 0.0.4) of the registry and of the values only known at
 *	scrape time (struct metrics_scrape) into a buffer; it does no I/O.
 *	lib/metrics_http serves that text on GET /metrics.
 *
 *	Until metrics_enable() is called every update returns at once: a
 *	daemon without *_metrics_listen pays one predictable branch per
 *	update, and authrelayctl (which shares lib/store) counts nothing.
 *
 *	Labels have low cardinality only: program, verdict and rule come
 *	from fixed name tables (an unknown name is counted as "other"),
 *	format and service likewise; a source is a configured path. No
 *	user, address or IP is ever a label.
 */
#ifndef AUTHRELAY_METRICS_H
#define AUTHRELAY_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_SOURCES_MAX 32		/* loginwatch sources counted */
#define METRICS_FORMATS_MAX 16		/* loginwatch parsers counted */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Turns counting on for program ("policyd", "milter" or "loginwatch":
   which families are exposed follows from it), with version for
   authrelay_build_info and start_time (seconds since the epoch, with a
   fraction) for process_start_time_seconds. Resets every value. Call
   once at start-up, before any other thread updates or scrapes. */
void metrics_enable(const char *program, const char *version, double start_time);

/* Turns counting off again and resets every value (tests). */
void metrics_disable(void);

/* True after metrics_enable(). */
bool metrics_enabled(void);

/* One decision of a front end, counted as
   authrelay_decisions_total{program,verdict,rule}. The names are those
   of the log line and the decisions row; program is "policyd" or
   "milter", or NULL for this process's own (metrics_enable()), so that
   shared code (lib/frontend) need not know which front end it serves.
   Call it once per decision, where the decision is recorded. */
void metrics_decision(const char *program, const char *verdict, const char *rule);

/* One request's time from a complete request to its reply, in
   nanoseconds: authrelay_request_duration_seconds. */
void metrics_request_duration(uint64_t nanoseconds);

/* The monotonic clock in nanoseconds when counting, else 0: the start of
   a request. metrics_request_done(start) then observes the time since
   (nothing for a start of 0). */
uint64_t metrics_request_start(void);
void metrics_request_done(uint64_t start);

/* A failed store call (a lookup that returned LOOKUP_ERROR, a write
   that returned -1): authrelay_store_errors_total. */
void metrics_store_error(void);

/* A decision row the store accepted into its queue (the rows in the
   queue are those accepted and not yet written). */
void metrics_decision_row_queued(void);

/* A client connection opened (+1) or closed (-1):
   authrelay_connections. */
void metrics_connections_add(int delta);

/* loginwatch: names the sources (copied) and adds a parser format (a
   static text, kept as a pointer), so that the hot path finds them.
   Call after metrics_enable(), before the first line is read. At most
   METRICS_SOURCES_MAX / METRICS_FORMATS_MAX are kept (more are counted
   as none / as "other"). */
void metrics_loginwatch_sources(const char *const *paths, size_t count);
void metrics_loginwatch_format(const char *name);

/* loginwatch: one candidate line read from source (a configured path;
   other texts count nothing). */
void metrics_loginwatch_line(const char *source);

/* loginwatch: one successful login of format ("dovecot", ...) and
   service ("imap", "pop3"; others are "other"). */
void metrics_loginwatch_login(const char *format, const char *service);

/* loginwatch: the position reached in source: file identity and the
   bytes consumed. The scrape compares it with the file's size. */
void metrics_loginwatch_position(const char *source, uint64_t dev, uint64_t ino, uint64_t offset);

/* loginwatch: the position last reported for source index i (0 ..
   count-1 of metrics_loginwatch_sources()); returns false when none was
   reported yet or i is out of range. */
bool metrics_loginwatch_position_get(size_t i, const char **path_r, uint64_t *dev_r,
				     uint64_t *ino_r, uint64_t *offset_r);

/* Values read at scrape time by the caller (lib/metrics_http). A family
   whose has_ flag is false is left out. */
struct metrics_scrape {
	bool has_queue;
	uint64_t decision_rows_written, decision_rows_dropped;
	bool has_grants;
	uint64_t grants_active;
	bool has_lag[METRICS_SOURCES_MAX];
	uint64_t lag_bytes[METRICS_SOURCES_MAX];	/* per metrics_loginwatch_sources() index */
};

/* Writes the exposition of the registry and of scrape into buf (size
   bytes, NUL-terminated). Returns the length, or -1 when size is too
   small (buf then holds a truncated text). Disabled: an empty text. */
int metrics_format(const struct metrics_scrape *scrape, char *buf, size_t size);

#endif

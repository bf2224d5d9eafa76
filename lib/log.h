/*
 * NAME
 *	log 3h
 * SUMMARY
 *	syslog and stderr logging, one key=value line per decision
 * DESCRIPTION
 *	log_open() names the program (syslog ident) and facility. In the
 *	foreground (-f) every message also goes to stderr. A program in spawn
 *	mode, whose stdout is the protocol, never writes to stdout.
 *
 *	Messages below the configured level are dropped. Text from outside
 *	is never used as a format string; values in key=value lines are
 *	quoted when they hold white space, quotes or '=' and have control
 *	characters escaped, so one decision is always one line.
 */
#ifndef AUTHRELAY_LOG_H
#define AUTHRELAY_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARNING, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Parses "error", "warning", "info", "debug". Returns 0 or -1. */
int log_level_parse(const char *text, enum log_level *level_r);
const char *log_level_name(enum log_level level);

/* Parses a syslog facility name ("mail", "local0".."local7", "daemon",
   "user") into its LOG_* value. Returns 0 or -1. */
int log_facility_parse(const char *text, int *facility_r);

/* The name of a LOG_* facility value, or "unknown". Facilities accepted
   beyond the list above: "auth", "authpriv". */
const char *log_facility_name(int facility);

/* Opens syslog with ident and facility; also_stderr copies every
   message to stderr (foreground). Safe to call again (reload). */
void log_open(const char *ident, int facility, bool also_stderr);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Appends " key=value" to buf (NUL-terminated, total size bytes),
   quoting value as described above; a NULL or empty value prints as
   key="" . Truncates safely (never splits an escape) and returns the new
   length, or size - 1 when full. */
size_t log_kv_append(char *buf, size_t size, const char *key, const char *value);

/* A rate limit for lines that outside clients can cause (a wrong key,
   a connection limit reached): the first line passes, then at most one
   per interval. Not locked: one caller thread, or the caller's lock. */
struct log_limit {
	int64_t last;		/* when a line last passed; 0 = never */
	uint64_t held;		/* lines held back since */
};

/* Returns true when a line may be logged at now; *held_r then gets the
   number held back since the last one (to be said in the line), and the
   count starts again. Otherwise counts the line and returns false. */
bool log_limit_pass(struct log_limit *limit, int64_t now, unsigned interval, uint64_t *held_r);

/* The fields of one decision line. NULL fields are printed as "". */
struct log_decision {
	const char *client_ip;
	const char *sasl_username;
	const char *sender;
	const char *recipient;
	const char *verdict;	/* permit dunno reject tempfail */
	const char *rule;
	const char *reason;
	const char *queue_id;
};

/* Formats "decision client=... user=... sender=... rcpt=... verdict=...
   rule=... reason=... queue_id=..." into buf and returns buf. */
const char *log_decision_format(const struct log_decision *d, char *buf, size_t size);

/* Logs that line at info level. */
void log_decision(const struct log_decision *d);

#endif

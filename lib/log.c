/*
 * NAME
 *	log 3
 * SUMMARY
 *	syslog and stderr logging, one key=value line per decision
 * SYNOPSIS
 *	#include "log.h"
 * DESCRIPTION
 *	Every message is formatted once into a bounded buffer, its control
 *	characters replaced by '?' (so text from outside cannot start a
 *	forged log line), and prefixed as Postfix does: "warning: ",
 *	"error: ", "debug: ", nothing for info. That text goes to syslog
 *	and, in the foreground, to stderr as "ident[pid]: text" in a single
 *	write(2), so lines from several threads never interleave.
 *
 *	Without a syslog socket (no /dev/log: a container, a host without
 *	a syslog daemon) glibc's syslog() tries socket(), connect() and
 *	close() again for every message, about 8 us per decision line for
 *	nothing. So the socket's presence is checked with stat() at most
 *	once a second and syslog() is skipped while it is absent; the
 *	stderr copy (foreground) is unchanged. When no copy goes to stderr
 *	either, the message is not even formatted. Once the socket is back,
 *	the next message goes to syslog again.
 *
 *	Before log_open() nothing is sent to syslog and every message goes
 *	to stderr: start-up errors (usage, config) must reach the terminal.
 *
 *	The level and the stderr flag are atomics: milter threads read them
 *	while the main thread may change them on reload.
 *
 *	log_kv_append() quoting: a value is written bare when it is made
 *	only of bytes other than white space, '"', '=', '\' and control
 *	characters; otherwise it is put in double quotes with '\\', '\"',
 *	'\n', '\r', '\t' and '\xHH' (other control bytes and DEL) escaped.
 *	Bytes from 0x80 up (UTF-8) pass through. A value that does not fit
 *	is cut before an escape or a UTF-8 sequence, never inside one, and
 *	its closing quote is kept.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* One log line at most; longer messages are cut (syslog would cut them
   anyway, most relays at 1 KiB to 8 KiB). */
#define LOG_LINE_MAX 4096

/* The decision line: eight fields, each may grow 4x when escaped, but a
   line stays bounded by LOG_LINE_MAX like any other. */
#define LOG_DECISION_MAX LOG_LINE_MAX

static char log_ident[64] = "authrelay";
static atomic_bool log_opened;
static atomic_bool log_stderr = true;
static atomic_int log_level = LOG_LEVEL_INFO;

/* syslog()'s socket: present at the last check, and when that was (a
   time() second). Atomics: milter threads log concurrently; two threads
   racing both stat(), which is harmless. */
static atomic_bool log_socket_present = true;
static _Atomic long long log_socket_checked = -1;

/* log_syslog_reachable - whether syslog() has a socket to send to */
static bool log_syslog_reachable(void)
{
	long long now = (long long)time(NULL);
	struct stat sb;
	bool present;

	if (atomic_load(&log_socket_checked) == now)
		return atomic_load(&log_socket_present);
	present = stat(_PATH_LOG, &sb) == 0 && S_ISSOCK(sb.st_mode);
	atomic_store(&log_socket_present, present);
	atomic_store(&log_socket_checked, now);
	return present;
}

/* log_has_sink - whether a message would reach syslog or stderr: when
   neither, formatting it (a decision line per request in policyd) is
   work for nothing */
static bool log_has_sink(void)
{
	return atomic_load(&log_stderr) || !atomic_load(&log_opened) || log_syslog_reachable();
}

static const char *const log_level_names[] = {"error", "warning", "info", "debug"};

/* log_level_parse - level name to enum */
int log_level_parse(const char *text, enum log_level *level_r)
{
	int i;

	for (i = LOG_LEVEL_ERROR; i <= LOG_LEVEL_DEBUG; i++) {
		if (strcmp(text, log_level_names[i]) == 0) {
			*level_r = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* log_level_name - enum to level name */
const char *log_level_name(enum log_level level)
{
	if ((int)level < LOG_LEVEL_ERROR || level > LOG_LEVEL_DEBUG)
		return "unknown";
	return log_level_names[level];
}

static const struct {
	const char *name;
	int facility;
} log_facilities[] = {
	{"mail", LOG_MAIL},	{"daemon", LOG_DAEMON}, {"user", LOG_USER},
	{"auth", LOG_AUTH},	{"authpriv", LOG_AUTHPRIV},
	{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
	{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
	{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

/* log_facility_parse - facility name to LOG_* value */
int log_facility_parse(const char *text, int *facility_r)
{
	size_t i;

	for (i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++) {
		if (strcmp(text, log_facilities[i].name) == 0) {
			*facility_r = log_facilities[i].facility;
			return 0;
		}
	}
	return -1;
}

/* log_facility_name - LOG_* value to facility name */
const char *log_facility_name(int facility)
{
	size_t i;

	for (i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
		if (log_facilities[i].facility == facility)
			return log_facilities[i].name;
	return "unknown";
}

/* log_open - (re)open syslog under ident */
void log_open(const char *ident, int facility, bool also_stderr)
{
	if (atomic_load(&log_opened))
		closelog();
	/* openlog keeps the pointer: it must be our own static copy. */
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	/* LOG_NDELAY connects now, before a chroot or privilege drop. */
	openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	atomic_store(&log_stderr, also_stderr);
	atomic_store(&log_opened, true);
}

void log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

/* log_close - close syslog; later messages go to stderr only */
void log_close(void)
{
	if (atomic_exchange(&log_opened, false))
		closelog();
	atomic_store(&log_stderr, true);
}

/* log_write_all - write(2) the whole buffer, ignoring failure (there is
   nowhere left to report it) */
static void log_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* log_vmsg - filter, format, sanitise, send */
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const prefixes[] = {"error: ", "warning: ", "", "debug: "};
	static const int priorities[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char text[LOG_LINE_MAX], line[LOG_LINE_MAX + 100];
	int saved_errno = errno;
	size_t plen, i;
	int n;

	if ((int)level < LOG_LEVEL_ERROR || level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_ERROR;
	if ((int)level > atomic_load(&log_level) || !log_has_sink()) {
		errno = saved_errno;
		return;
	}
	plen = strlen(prefixes[level]);
	memcpy(text, prefixes[level], plen);
	/* errno restored so that "%m" names the caller's error. */
	errno = saved_errno;
	if (vsnprintf(text + plen, sizeof(text) - plen, fmt, ap) < 0)
		text[plen] = 0;
	for (i = plen; text[i]; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = '?';
	if (atomic_load(&log_opened) && log_syslog_reachable())
		syslog(priorities[level], "%s", text);
	if (atomic_load(&log_stderr) || !atomic_load(&log_opened)) {
		n = snprintf(line, sizeof(line), "%s[%ld]: %s\n", log_ident, (long)getpid(), text);
		if (n > 0)
			log_write_all(STDERR_FILENO, line,
				      (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	errno = saved_errno;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* log_kv_needs_quotes - true unless the value can be written bare */
static bool log_kv_needs_quotes(const char *value)
{
	const unsigned char *p = (const unsigned char *)value;

	if (*p == 0)
		return true;
	for (; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
			return true;
	return false;
}

/* log_kv_escape - the bytes that stand for ch inside quotes; returns count */
static size_t log_kv_escape(unsigned char ch, char out[4])
{
	static const char hex[] = "0123456789abcdef";

	switch (ch) {
	case '\\':
	case '"':
		out[0] = '\\', out[1] = (char)ch;
		return 2;
	case '\n':
		out[0] = '\\', out[1] = 'n';
		return 2;
	case '\r':
		out[0] = '\\', out[1] = 'r';
		return 2;
	case '\t':
		out[0] = '\\', out[1] = 't';
		return 2;
	}
	if (ch < 0x20 || ch == 0x7f) {
		out[0] = '\\', out[1] = 'x', out[2] = hex[ch >> 4], out[3] = hex[ch & 15];
		return 4;
	}
	out[0] = (char)ch;
	return 1;
}

/* log_kv_append - append " key=value", quoted and escaped as needed */
size_t log_kv_append(char *buf, size_t size, const char *key, const char *value)
{
	size_t len, klen, i, reserve;
	bool quoted, cut = false;

	if (size == 0)
		return 0;
	len = strnlen(buf, size);
	if (len >= size) {
		buf[size - 1] = 0;
		return size - 1;
	}
	if (value == NULL)
		value = "";
	quoted = log_kv_needs_quotes(value);
	klen = strlen(key);
	/* The key, '=' and an empty value ("") go in whole or not at all. */
	if (len + 1 + klen + 1 + (quoted ? 2 : 0) > size - 1)
		return size - 1;
	buf[len++] = ' ';
	memcpy(buf + len, key, klen);
	len += klen;
	buf[len++] = '=';
	if (quoted)
		buf[len++] = '"';
	reserve = quoted ? 1 : 0;
	for (i = 0; value[i]; i++) {
		char esc[4];
		size_t n = quoted ? log_kv_escape((unsigned char)value[i], esc) : 1;

		if (!quoted)
			esc[0] = value[i];
		if (len + n + reserve > size - 1) {
			cut = true;
			break;
		}
		memcpy(buf + len, esc, n);
		len += n;
	}
	/* Do not leave half a UTF-8 character: drop the bytes of a sequence
	   whose continuation did not fit (they were copied one for one). */
	if (cut && ((unsigned char)value[i] & 0xc0) == 0x80) {
		size_t j = i;

		while (j > 0 && i - j < 3 && ((unsigned char)value[j - 1] & 0xc0) == 0x80)
			j--;
		/* value[j - 1] must be a lead byte; if not, this is not UTF-8
		   and nothing is dropped. */
		if (j > 0 && (unsigned char)value[j - 1] >= 0xc0)
			len -= i - (j - 1);
	}
	if (quoted)
		buf[len++] = '"';
	buf[len] = 0;
	return cut ? size - 1 : len;
}

/* log_decision_format - the one decision line */
const char *log_decision_format(const struct log_decision *d, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	snprintf(buf, size, "decision");
	log_kv_append(buf, size, "client", d->client_ip);
	log_kv_append(buf, size, "user", d->sasl_username);
	log_kv_append(buf, size, "sender", d->sender);
	log_kv_append(buf, size, "rcpt", d->recipient);
	log_kv_append(buf, size, "verdict", d->verdict);
	log_kv_append(buf, size, "rule", d->rule);
	log_kv_append(buf, size, "reason", d->reason);
	log_kv_append(buf, size, "queue_id", d->queue_id);
	return buf;
}

/* log_decision - log the decision line at info level */
void log_decision(const struct log_decision *d)
{
	char line[LOG_DECISION_MAX];

	if (LOG_LEVEL_INFO > log_get_level() || !log_has_sink())
		return;
	log_info("%s", log_decision_format(d, line, sizeof(line)));
}

/* log_limit_pass - see log.h */
bool log_limit_pass(struct log_limit *limit, int64_t now, unsigned interval, uint64_t *held_r)
{
	if (limit->last != 0 && now >= limit->last && now - limit->last < (int64_t)interval) {
		limit->held++;
		return false;
	}
	*held_r = limit->held;
	limit->held = 0;
	limit->last = now;
	return true;
}

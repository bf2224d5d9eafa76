/*
 * NAME
 *	cfg_keys 3
 * SUMMARY
 *	the table of authrelay.conf keys and their value parsers
 * SYNOPSIS
 *	#include "cfg_keys.h"
 * DESCRIPTION
 *	One row per field of struct authrelay_config, with the same name.
 *	Defaults are written as text in the table and parsed by the same code
 *	as the file, so the manual, the example file and the compiled-in
 *	values cannot drift apart (check_cfg compares all three).
 *
 *	Value types:
 *	string	any text; some keys refuse an empty value
 *	duration	duration_parse(), with a per-key range
 *	number	decimal, no sign, with a per-key range
 *	mode	octal file mode 0..07777 ("0660" or "660")
 *	bool	yes no true false 1 0, any case
 *	choice	one word of a fixed set
 *	endpoint	inet:HOST:PORT, unix:PATH, or HOST:PORT (checked for
 *		form only: names are resolved by the program at start)
 *	networks	cidr_list_parse()
 *	list	words separated by commas and/or white space
 */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_keys.h"
#include "duration.h"
#include "error_r.h"

enum cfg_type {
	CFG_T_STRING,
	CFG_T_DURATION,
	CFG_T_NUMBER,
	CFG_T_MODE,
	CFG_T_BOOL,
	CFG_T_CHOICE,
	CFG_T_LEVEL,
	CFG_T_FACILITY,
	CFG_T_ENDPOINT,
	CFG_T_NETWORKS,
	CFG_T_LIST,
	CFG_T_LIMIT,
};

/* Flags */
#define CFG_NONEMPTY 1		/* string, list: "" is refused */
#define CFG_LOWER 2		/* list: words are lower-cased (domains) */

struct cfg_key {
	struct cfg_key_info info;
	enum cfg_type type;
	size_t offset;		/* of the field in struct authrelay_config */
	long long min, max;	/* duration (seconds), number */
	unsigned flags;
	const char *const *words; /* choice values (index = enum value), list vocabulary */
};

static const char *const cfg_sender_check_words[] = {"no", "envelope", "header", "both", NULL};
static const char *const cfg_store_error_words[] = {"tempfail", "dunno", NULL};
static const char *const cfg_format_words[] = {"all",	"dovecot", "courier", "cyrus",
					       "uw-imap", "qpopper", NULL};

#define OFF(field) offsetof(struct authrelay_config, field)
#define DAY (86400LL)
#define YEARS_100 (36525 * DAY)
#define DAEMONS (CFG_POLICYD | CFG_MILTER | CFG_LOGINWATCH)
#define ENFORCERS (CFG_POLICYD | CFG_MILTER)

/* name, type text, default, programs, summary; type, offset, min, max, flags, words */
static const struct cfg_key cfg_key_table[] = {
	/* common */
	{{"database", "path or postgresql://...", "/var/lib/authrelay/authrelay.db", CFG_ALL,
	  "the database shared by all programs: an SQLite file, or PostgreSQL"},
	 CFG_T_STRING, OFF(database), 0, 0, CFG_NONEMPTY, NULL},
	{{"database_password_file", "path", "", CFG_ALL,
	  "the PostgreSQL password, in a file that only its owner may read"},
	 CFG_T_STRING, OFF(database_password_file), 0, 0, 0, NULL},
	{{"database_stale_grace", "duration", "0", ENFORCERS,
	  "how long answers may come from memory after the PostgreSQL connection is lost "
	  "(0: a store error at once)"},
	 CFG_T_DURATION, OFF(database_stale_grace), 0, 86400, 0, NULL},
	{{"database_busy_timeout", "duration", "2s", CFG_ALL,
	  "how long a database access waits for another program's lock"},
	 CFG_T_DURATION, OFF(database_busy_timeout), 1, 3600, 0, NULL},
	{{"run_user", "string", "authrelay", DAEMONS,
	  "the user the daemons switch to after opening their sockets"},
	 CFG_T_STRING, OFF(run_user), 0, 0, CFG_NONEMPTY, NULL},
	{{"log_level", "error|warning|info|debug", "info", CFG_ALL,
	  "messages below this level are not logged"},
	 CFG_T_LEVEL, OFF(log_level), 0, 0, 0, NULL},
	{{"log_facility", "syslog facility", "mail", CFG_ALL,
	  "syslog facility: mail, daemon, user, auth, authpriv, local0..local7"},
	 CFG_T_FACILITY, OFF(log_facility), 0, 0, 0, NULL},

	/* relay rules */
	{{"grant_ttl", "duration", "30m", CFG_LOGINWATCH | CFG_CTL,
	  "how long a POP/IMAP login keeps relay open for its IP, from the login"},
	 CFG_T_DURATION, OFF(grant_ttl), 1, YEARS_100, 0, NULL},
	{{"grant_ipv6_prefix", "number 1..128", "128", CFG_LOGINWATCH | CFG_CTL,
	  "prefix length an IPv6 login grants (64 covers privacy addresses)"},
	 CFG_T_NUMBER, OFF(grant_ipv6_prefix), 1, 128, 0, NULL},
	{{"grant_exclude_networks", "network list", "", CFG_LOGINWATCH | CFG_CTL,
	  "logins from these networks never create a grant"},
	 CFG_T_NETWORKS, OFF(grant_exclude_networks), 0, 0, 0, NULL},
	{{"trusted_networks", "network list", "", ENFORCERS,
	  "clients in these networks may always relay"},
	 CFG_T_NETWORKS, OFF(trusted_networks), 0, 0, 0, NULL},
	{{"require_tls_for_auth", "bool", "no", ENFORCERS,
	  "SASL-authenticated relay only over a TLS-protected session"},
	 CFG_T_BOOL, OFF(require_tls_for_auth), 0, 0, 0, NULL},
	{{"sender_login_check", "no|envelope|header|both", "no", ENFORCERS,
	  "an authenticated user may only use sender addresses granted to them"},
	 CFG_T_CHOICE, OFF(sender_login_check), 0, 0, 0, cfg_sender_check_words},
	{{"on_store_error", "tempfail|dunno", "tempfail", ENFORCERS,
	  "the answer when the database cannot be read"},
	 CFG_T_CHOICE, OFF(on_store_error), 0, 0, 0, cfg_store_error_words},

	/* audit */
	{{"audit_retention", "duration", "90d", CFG_CTL,
	  "decision rows older than this are removed by authrelayctl prune"},
	 CFG_T_DURATION, OFF(audit_retention), 1, YEARS_100, 0, NULL},
	{{"audit_decisions", "bool", "yes", ENFORCERS, "write a decisions row for every verdict"},
	 CFG_T_BOOL, OFF(audit_decisions), 0, 0, 0, NULL},
	{{"decision_queue_max", "number", "100000", ENFORCERS,
	  "decision rows waiting to be written at most; more are dropped and counted"},
	 CFG_T_NUMBER, OFF(decision_queue_max), 1, 10000000, 0, NULL},

	/* sending limits */
	{{"limit_recipients", "limit list", "none", ENFORCERS | CFG_CTL,
	  "default recipient limits of a counted user, e.g. 100/1h, 1000/1d (sliding windows)"},
	 CFG_T_LIMIT, OFF(limit_recipients), 0, 0, 0, NULL},
	{{"limit_messages", "limit list", "none", ENFORCERS | CFG_CTL,
	  "default message limits of a counted user, same form"},
	 CFG_T_LIMIT, OFF(limit_messages), 0, 0, 0, NULL},
	{{"limit_suspend_after", "number", "0", ENFORCERS,
	  "suspend a user after this many refusals by a limit within limit_suspend_window; 0 never"},
	 CFG_T_NUMBER, OFF(limit_suspend_after), 0, 1000000, 0, NULL},
	{{"limit_suspend_window", "duration", "1d", ENFORCERS,
	  "the window of limit_suspend_after, and of one notification mail per user"},
	 CFG_T_DURATION, OFF(limit_suspend_window), 1, 366 * DAY, 0, NULL},
	{{"limit_notify_address", "string", "", ENFORCERS,
	  "one mail per user and limit_suspend_window goes here when a limit refuses"},
	 CFG_T_STRING, OFF(limit_notify_address), 0, 0, 0, NULL},
	{{"limit_notify_sendmail", "path", "/usr/sbin/sendmail", ENFORCERS,
	  "the sendmail(1) program the notification is handed to"},
	 CFG_T_STRING, OFF(limit_notify_sendmail), 0, 0, CFG_NONEMPTY, NULL},

	/* policyd */
	{{"policyd_listen", "endpoint", "inet:127.0.0.1:10040", CFG_POLICYD | CFG_CTL,
	  "where the policy server listens: inet:HOST:PORT or unix:PATH"},
	 CFG_T_ENDPOINT, OFF(policyd_listen), 0, 0, CFG_NONEMPTY, NULL},
	{{"policyd_socket_owner", "string", "", CFG_POLICYD,
	  "owner of a unix: socket; empty means run_user"},
	 CFG_T_STRING, OFF(policyd_socket_owner), 0, 0, 0, NULL},
	{{"policyd_socket_mode", "octal mode", "0660", CFG_POLICYD,
	  "permissions of a unix: socket"},
	 CFG_T_MODE, OFF(policyd_socket_mode), 0, 07777, 0, NULL},
	{{"policyd_pidfile", "path", "/run/authrelay/policyd.pid", CFG_POLICYD,
	  "pid file; empty means none"},
	 CFG_T_STRING, OFF(policyd_pidfile), 0, 0, 0, NULL},
	{{"policyd_idle_timeout", "duration", "330s", CFG_POLICYD,
	  "an idle connection is closed after this (Postfix's own limit is 300s)"},
	 CFG_T_DURATION, OFF(policyd_idle_timeout), 1, 86400, 0, NULL},
	{{"policyd_max_connections", "number", "4096", CFG_POLICYD,
	  "simultaneous connections at most"},
	 CFG_T_NUMBER, OFF(policyd_max_connections), 1, 1000000, 0, NULL},
	{{"policyd_max_line", "number", "4096", CFG_POLICYD,
	  "bytes per request attribute line at most"},
	 CFG_T_NUMBER, OFF(policyd_max_line), 1, 1048576, 0, NULL},
	{{"policyd_max_attributes", "number", "100", CFG_POLICYD,
	  "attributes per request at most"},
	 CFG_T_NUMBER, OFF(policyd_max_attributes), 1, 100000, 0, NULL},
	{{"policyd_max_request", "number", "65536", CFG_POLICYD, "bytes per request at most"},
	 CFG_T_NUMBER, OFF(policyd_max_request), 1, 16777216, 0, NULL},
	{{"policyd_metrics_listen", "endpoint", "", CFG_POLICYD,
	  "serve Prometheus metrics (GET /metrics) here: inet:HOST:PORT or unix:PATH; empty: off"},
	 CFG_T_ENDPOINT, OFF(policyd_metrics_listen), 0, 0, 0, NULL},

	/* milter */
	{{"milter_socket", "endpoint", "inet:127.0.0.1:10030", CFG_MILTER | CFG_CTL,
	  "where the milter listens: inet:HOST:PORT or unix:PATH"},
	 CFG_T_ENDPOINT, OFF(milter_socket), 0, 0, CFG_NONEMPTY, NULL},
	{{"milter_socket_owner", "string", "", CFG_MILTER,
	  "owner of a unix: socket; empty means run_user"},
	 CFG_T_STRING, OFF(milter_socket_owner), 0, 0, 0, NULL},
	{{"milter_socket_mode", "octal mode", "0660", CFG_MILTER, "permissions of a unix: socket"},
	 CFG_T_MODE, OFF(milter_socket_mode), 0, 07777, 0, NULL},
	{{"milter_pidfile", "path", "/run/authrelay/milter.pid", CFG_MILTER,
	  "pid file; empty means none"},
	 CFG_T_STRING, OFF(milter_pidfile), 0, 0, 0, NULL},
	{{"milter_relay_transports", "list", CFG_RELAY_TRANSPORTS_DEFAULT, CFG_MILTER,
	  "a recipient whose {rcpt_mailer} is one of these is being relayed"},
	 CFG_T_LIST, OFF(milter_relay_transports), 0, 0, CFG_NONEMPTY, NULL},
	{{"milter_timeout", "duration", "30s", CFG_MILTER, "libmilter I/O timeout"},
	 CFG_T_DURATION, OFF(milter_timeout), 1, 3600, 0, NULL},
	{{"milter_metrics_listen", "endpoint", "", CFG_MILTER,
	  "serve Prometheus metrics (GET /metrics) here: inet:HOST:PORT or unix:PATH; empty: off"},
	 CFG_T_ENDPOINT, OFF(milter_metrics_listen), 0, 0, 0, NULL},
	{{"milter_relay_check", "bool", "yes", CFG_MILTER,
	  "the milter decides relay itself (no: leave relay to Postfix/policyd, check From: only)"},
	 CFG_T_BOOL, OFF(milter_relay_check), 0, 0, 0, NULL},

	/* loginwatch */
	{{"loginwatch_sources", "list", "", CFG_LOGINWATCH,
	  "log inputs: file paths, - for stdin, journal (systemd builds)"},
	 CFG_T_LIST, OFF(loginwatch_sources), 0, 0, 0, NULL},
	{{"loginwatch_formats", "list", "all", CFG_LOGINWATCH,
	  "login-line parsers on: all, dovecot, courier, cyrus, uw-imap, qpopper"},
	 CFG_T_LIST, OFF(loginwatch_formats), 0, 0, CFG_NONEMPTY, cfg_format_words},
	{{"loginwatch_pidfile", "path", "/run/authrelay/loginwatch.pid", CFG_LOGINWATCH,
	  "pid file; empty means none"},
	 CFG_T_STRING, OFF(loginwatch_pidfile), 0, 0, 0, NULL},
	{{"loginwatch_http_listen", "endpoint", "", CFG_LOGINWATCH,
	  "serve Dovecot's auth-policy requests here: inet:HOST:PORT or unix:PATH; empty: off"},
	 CFG_T_ENDPOINT, OFF(loginwatch_http_listen), 0, 0, 0, NULL},
	{{"loginwatch_http_api_key_file", "path", "", CFG_LOGINWATCH,
	  "file holding the key Dovecot sends (auth_policy_server_api_header)"},
	 CFG_T_STRING, OFF(loginwatch_http_api_key_file), 0, 0, 0, NULL},
	{{"loginwatch_http_protocols", "list", "imap, pop3", CFG_LOGINWATCH,
	  "reported protocols whose successful logins grant"},
	 CFG_T_LIST, OFF(loginwatch_http_protocols), 0, 0, CFG_LOWER, NULL},
	{{"loginwatch_http_timeout", "duration", "30s", CFG_LOGINWATCH,
	  "an idle or stalled auth-policy connection is closed after this"},
	 CFG_T_DURATION, OFF(loginwatch_http_timeout), 1, 3600, 0, NULL},
	{{"loginwatch_http_max_connections", "number", "256", CFG_LOGINWATCH,
	  "simultaneous auth-policy connections at most"},
	 CFG_T_NUMBER, OFF(loginwatch_http_max_connections), 1, 100000, 0, NULL},
	{{"loginwatch_metrics_listen", "endpoint", "", CFG_LOGINWATCH,
	  "serve Prometheus metrics (GET /metrics) here: inet:HOST:PORT or unix:PATH; empty: off"},
	 CFG_T_ENDPOINT, OFF(loginwatch_metrics_listen), 0, 0, 0, NULL},
};

#define CFG_NKEYS (sizeof(cfg_key_table) / sizeof(cfg_key_table[0]))

_Static_assert(CFG_NKEYS <= CFG_KEYS_MAX, "raise CFG_KEYS_MAX in cfg.h");

/* Keys that once existed. A file that still sets one is refused with
   the reason, never read with a silently different meaning. */
static const struct {
	const char *name;
	const char *why;
} cfg_removed_table[] = {
	{"milter_local_domains",
	 "no longer exists: a recipient is local only when the MTA's {rcpt_mailer} says so "
	 "(a domain list let percent-hack and bang-path recipients relay); "
	 "delete this line and see milter_relay_transports in authrelay.conf(5)"},
};

/* The public table is a copy of the info parts, built once. */
static struct cfg_key_info cfg_key_infos[CFG_NKEYS + 1];
static pthread_once_t cfg_key_infos_once = PTHREAD_ONCE_INIT;

static void cfg_key_infos_init(void)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++)
		cfg_key_infos[i] = cfg_key_table[i].info;
}

/* cfg_keys - the public key table */
const struct cfg_key_info *cfg_keys(void)
{
	pthread_once(&cfg_key_infos_once, cfg_key_infos_init);
	return cfg_key_infos;
}

const struct cfg_key *cfg_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++)
		if (strcmp(cfg_key_table[i].info.name, name) == 0)
			return &cfg_key_table[i];
	return NULL;
}

size_t cfg_key_index(const struct cfg_key *key)
{
	return (size_t)(key - cfg_key_table);
}

const char *cfg_key_removed(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof cfg_removed_table / sizeof cfg_removed_table[0]; i++)
		if (strcmp(cfg_removed_table[i].name, name) == 0)
			return cfg_removed_table[i].why;
	return NULL;
}

/* cfg_key_line - where the file set a key; 0: not set (its default) */
unsigned cfg_key_line(const struct authrelay_config *cfg, const char *name)
{
	const struct cfg_key *k = cfg_key_find(name);

	return k != NULL ? cfg->key_lines[cfg_key_index(k)] : 0;
}

/* cfg_distance - optimal string alignment distance, a transposition
   counting one; both strings under 40 bytes (the longest key has 23; a
   longer name is far from all of them) */
static unsigned cfg_distance(const char *a, const char *b)
{
	unsigned d[40][40];
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la >= 40 || lb >= 40)
		return UINT_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned best = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]
			    && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

const char *cfg_key_suggest(const char *name)
{
	const char *best = NULL;
	unsigned best_d = 3, dist;
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++) {
		dist = cfg_distance(name, cfg_key_table[i].info.name);
		if (dist < best_d) {
			best_d = dist;
			best = cfg_key_table[i].info.name;
		}
	}
	return best;
}

/* cfg_parse_number - decimal digits only, in [min, max] */
static int cfg_parse_number(const char *value, long long min, long long max, long long *n_r,
			    char **error_r)
{
	long long n = 0;
	const char *p;

	if (*value == 0)
		return error_r_set(error_r, "empty value; want a number %lld..%lld", min, max);
	for (p = value; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return error_r_set(error_r, "\"%.64s\" is not a number; want %lld..%lld",
					   value, min, max);
		if (n <= max)
			n = n * 10 + (*p - '0');
	}
	if (n < min || n > max)
		return error_r_set(error_r, "%.64s is out of range; want %lld..%lld", value, min,
				   max);
	*n_r = n;
	return 0;
}

/* cfg_parse_mode - octal digits, at most 07777 */
static int cfg_parse_mode(const char *value, unsigned *mode_r, char **error_r)
{
	unsigned m = 0;
	const char *p;

	if (*value == 0 || strlen(value) > 5)
		return error_r_set(error_r, "bad mode \"%.64s\"; want octal such as 0660", value);
	for (p = value; *p; p++) {
		if (*p < '0' || *p > '7')
			return error_r_set(error_r, "bad mode \"%.64s\"; want octal such as 0660",
					   value);
		m = m * 8 + (unsigned)(*p - '0');
	}
	if (m > 07777)
		return error_r_set(error_r, "bad mode \"%.64s\"; want octal such as 0660", value);
	*mode_r = m;
	return 0;
}

/* cfg_parse_bool - yes no true false 1 0 */
static int cfg_parse_bool(const char *value, bool *b_r, char **error_r)
{
	static const char *const yes[] = {"yes", "true", "1"};
	static const char *const no[] = {"no", "false", "0"};
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*b_r = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*b_r = false;
			return 0;
		}
	}
	return error_r_set(error_r, "bad boolean \"%.64s\"; want yes or no", value);
}

/* cfg_parse_choice - index of value in words */
static int cfg_parse_choice(const char *value, const char *const *words, int *index_r,
			    char **error_r)
{
	char want[128] = "";
	int i;

	for (i = 0; words[i]; i++) {
		if (strcmp(value, words[i]) == 0) {
			*index_r = i;
			return 0;
		}
	}
	for (i = 0; words[i]; i++) {
		if (i > 0)
			strncat(want, words[i + 1] ? ", " : " or ", sizeof(want) - strlen(want) - 1);
		strncat(want, words[i], sizeof(want) - strlen(want) - 1);
	}
	return error_r_set(error_r, "bad value \"%.64s\"; want %s", value, want);
}

/* cfg_check_endpoint - inet:HOST:PORT, [inet:]HOST:PORT or unix:PATH,
   form only */
static int cfg_check_endpoint(const char *value, char **error_r)
{
	const char *rest, *colon;
	long long port;
	char *ignored = NULL;

	if (strncmp(value, "unix:", 5) == 0) {
		rest = value + 5;
		/* sun_path holds 108 bytes with its NUL */
		if (*rest == 0 || strlen(rest) > 107)
			return error_r_set(error_r,
					   "bad endpoint \"%.64s\"; want unix:PATH (at most "
					   "107 bytes)",
					   value);
		return 0;
	}
	rest = strncmp(value, "inet:", 5) == 0 ? value + 5 : value;
	colon = strrchr(rest, ':');
	if (colon == NULL || cfg_parse_number(colon + 1, 1, 65535, &port, &ignored) < 0
	    || colon - rest > 255) {
		free(ignored);
		return error_r_set(error_r,
				   "bad endpoint \"%.64s\"; want inet:HOST:PORT (port 1..65535) "
				   "or unix:PATH",
				   value);
	}
	/* An IPv6 host needs brackets: "inet:::1:10040" is ambiguous. */
	if (memchr(rest, ':', (size_t)(colon - rest)) != NULL
	    && !(rest[0] == '[' && colon[-1] == ']'))
		return error_r_set(error_r,
				   "bad endpoint \"%.64s\"; write an IPv6 host in "
				   "brackets: inet:[::1]:PORT",
				   value);
	return 0;
}

/* cfg_list_parse - split words on commas and white space */
static int cfg_list_parse(const char *value, unsigned flags, const char *const *vocabulary,
			  struct cfg_list *list_r, char **error_r)
{
	struct cfg_list list = {0, NULL};
	const char *p = value, *start;
	size_t cap = 0, i, n;

	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (*p == 0)
			break;
		start = p;
		while (*p && *p != ',' && !isspace((unsigned char)*p))
			p++;
		n = (size_t)(p - start);
		if (vocabulary != NULL) {
			for (i = 0; vocabulary[i]; i++)
				if (strlen(vocabulary[i]) == n && memcmp(vocabulary[i], start, n) == 0)
					break;
			if (vocabulary[i] == NULL) {
				char want[160] = "";

				for (i = 0; vocabulary[i]; i++) {
					strncat(want, i ? " " : "", sizeof(want) - strlen(want) - 1);
					strncat(want, vocabulary[i], sizeof(want) - strlen(want) - 1);
				}
				error_r_set(error_r, "unknown word \"%.*s\"; want words from: %s",
					    (int)(n > 64 ? 64 : n), start, want);
				goto fail;
			}
		}
		if (list.count == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			char **items = reallocarray(list.items, ncap, sizeof(*items));

			if (items == NULL)
				goto oom;
			list.items = items;
			cap = ncap;
		}
		if ((list.items[list.count] = strndup(start, n)) == NULL)
			goto oom;
		if (flags & CFG_LOWER)
			for (i = 0; i < n; i++)
				list.items[list.count][i] =
					(char)tolower((unsigned char)list.items[list.count][i]);
		list.count++;
	}
	if (list.count == 0 && (flags & CFG_NONEMPTY)) {
		error_r_set(error_r, "empty list; name at least one");
		goto fail;
	}
	*list_r = list;
	return 0;
oom:
	error_r_set(error_r, "out of memory");
fail:
	for (i = 0; i < list.count; i++)
		free(list.items[i]);
	free(list.items);
	return -1;
}

static void cfg_list_free_items(struct cfg_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

int cfg_key_set(struct authrelay_config *cfg, const struct cfg_key *key, const char *value,
		char **error_r)
{
	void *field = (char *)cfg + key->offset;
	long long n;
	unsigned mode = 0;
	bool b = false;
	int i;

	switch (key->type) {
	case CFG_T_ENDPOINT:
		/* An endpoint that may be empty is off when empty. */
		if ((*value != 0 || (key->flags & CFG_NONEMPTY))
		    && cfg_check_endpoint(value, error_r) < 0)
			return -1;
		/* FALLTHROUGH */
	case CFG_T_STRING: {
		char *copy;

		if (*value == 0 && (key->flags & CFG_NONEMPTY))
			return error_r_set(error_r, "empty value; this key needs one");
		if ((copy = strdup(value)) == NULL)
			return error_r_set(error_r, "out of memory");
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case CFG_T_DURATION:
		if (duration_parse(value, &n, error_r) < 0)
			return -1;
		if (n < key->min || n > key->max) {
			char lo[32], hi[32];

			return error_r_set(error_r, "%s is out of range; want %s..%s", value,
					   duration_format(key->min, lo, sizeof(lo)),
					   duration_format(key->max, hi, sizeof(hi)));
		}
		*(long long *)field = n;
		return 0;
	case CFG_T_NUMBER:
		if (cfg_parse_number(value, key->min, key->max, &n, error_r) < 0)
			return -1;
		*(unsigned *)field = (unsigned)n;
		return 0;
	case CFG_T_MODE:
		if (cfg_parse_mode(value, &mode, error_r) < 0)
			return -1;
		*(unsigned *)field = mode;
		return 0;
	case CFG_T_BOOL:
		if (cfg_parse_bool(value, &b, error_r) < 0)
			return -1;
		*(bool *)field = b;
		return 0;
	case CFG_T_CHOICE:
		if (cfg_parse_choice(value, key->words, &i, error_r) < 0)
			return -1;
		/* The enums are declared in the order of their words. */
		if (key->offset == OFF(sender_login_check))
			cfg->sender_login_check = (enum sender_login_check)i;
		else
			cfg->on_store_error = (enum on_store_error)i;
		return 0;
	case CFG_T_LEVEL: {
		enum log_level level;

		if (log_level_parse(value, &level) < 0)
			return error_r_set(error_r,
					   "bad log level \"%.64s\"; want error, warning, info "
					   "or debug",
					   value);
		cfg->log_level = level;
		return 0;
	}
	case CFG_T_FACILITY:
		if (log_facility_parse(value, &i) < 0)
			return error_r_set(error_r,
					   "bad syslog facility \"%.64s\"; want mail, daemon, "
					   "user, auth, authpriv or local0..local7",
					   value);
		cfg->log_facility = i;
		return 0;
	case CFG_T_NETWORKS: {
		struct cidr_list *list;

		if (cidr_list_parse(value, &list, error_r) < 0)
			return -1;
		cidr_list_free((struct cidr_list **)field);
		*(struct cidr_list **)field = list;
		return 0;
	}
	case CFG_T_LIMIT: {
		struct limit_spec spec;
		char *why = NULL;

		if (limit_spec_parse(value, &spec, &why) < 0) {
			error_r_set(error_r, "%s", why ? why : "bad limit");
			free(why);
			return -1;
		}
		if (spec.unlimited)
			return error_r_set(error_r, "unlimited is for one user or domain "
						   "(authrelayctl limit set); the default's word is none");
		*(struct limit_spec *)field = spec;
		return 0;
	}
	case CFG_T_LIST: {
		struct cfg_list list;

		if (cfg_list_parse(value, key->flags, key->words, &list, error_r) < 0)
			return -1;
		cfg_list_free_items((struct cfg_list *)field);
		*(struct cfg_list *)field = list;
		return 0;
	}
	}
	return error_r_set(error_r, "internal error: key type %d", (int)key->type);
}

int cfg_keys_set_defaults(struct authrelay_config *cfg, char **error_r)
{
	size_t i;
	char *why = NULL;

	for (i = 0; i < CFG_NKEYS; i++) {
		if (cfg_key_set(cfg, &cfg_key_table[i], cfg_key_table[i].info.default_value, &why)
		    < 0) {
			error_r_set(error_r, "default of %s: %s", cfg_key_table[i].info.name,
				    why ? why : "?");
			free(why);
			return -1;
		}
	}
	return 0;
}

void cfg_keys_free_values(struct authrelay_config *cfg)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++) {
		void *field = (char *)cfg + cfg_key_table[i].offset;

		switch (cfg_key_table[i].type) {
		case CFG_T_STRING:
		case CFG_T_ENDPOINT:
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		case CFG_T_NETWORKS:
			cidr_list_free((struct cidr_list **)field);
			break;
		case CFG_T_LIST:
			cfg_list_free_items((struct cfg_list *)field);
			break;
		default:
			break;
		}
	}
}

/* cfg_list_has - exact word match */
bool cfg_list_has(const struct cfg_list *list, const char *word)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		if (strcmp(list->items[i], word) == 0)
			return true;
	return false;
}

const char *sender_login_check_name(enum sender_login_check v)
{
	return (unsigned)v < 4 ? cfg_sender_check_words[v] : "unknown";
}

const char *on_store_error_name(enum on_store_error v)
{
	return (unsigned)v < 2 ? cfg_store_error_words[v] : "unknown";
}

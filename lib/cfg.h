/*
 * NAME
 *	cfg 3h
 * SUMMARY
 *	the authrelay.conf grammar and the table of keys
 * DESCRIPTION
 *	One file for all programs (authrelay.conf(5)): "key = value" lines,
 *	'#' comments, blank lines, and continuation lines that start with
 *	white space, as in Postfix main.cf. Lists are separated by commas
 *	and/or white space; durations take s m h d w suffixes.
 *
 *	Every key of the suite is in one table (name, type, default, which
 *	programs use it). A program accepts every key of the suite, and
 *	refuses unknown keys and bad values, reported as FILE:LINE: message,
 *	all of them, not just the first.
 */
#ifndef AUTHRELAY_CFG_H
#define AUTHRELAY_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "cidr.h"
#include "limit_spec.h"
#include "log.h"

#define CFG_DEFAULT_PATH AUTHRELAY_SYSCONFDIR "/authrelay/authrelay.conf"

/* Which program uses a key (a bit set). */
enum cfg_program {
	CFG_POLICYD = 1 << 0,
	CFG_MILTER = 1 << 1,
	CFG_LOGINWATCH = 1 << 2,
	CFG_CTL = 1 << 3,
	CFG_ALL = 0xf
};

enum sender_login_check {
	SENDER_CHECK_NO = 0,
	SENDER_CHECK_ENVELOPE,
	SENDER_CHECK_HEADER,
	SENDER_CHECK_BOTH
};

enum on_store_error { ON_STORE_ERROR_TEMPFAIL = 0, ON_STORE_ERROR_DUNNO };

/* More than the number of keys (cfg_keys.c checks it at compile time). */
#define CFG_KEYS_MAX 64

/* The mailers (Sendmail) and transports (Postfix) that relay, as MTAs
   ship them: Postfix's smtp and relay; Sendmail's smtp, esmtp, smtp8,
   dsmtp, relay and its UUCP mailers (Debian's Postfix has a uucp
   transport too). One list serves both MTAs: Postfix never names a
   local transport after a Sendmail relay mailer. */
#define CFG_RELAY_TRANSPORTS_DEFAULT \
	"smtp, esmtp, smtp8, dsmtp, relay, uucp, uucp-old, uucp-new, suucp, uucp-dom, uucp-uudom"

/* A list of words (allocated; count may be 0). */
struct cfg_list {
	size_t count;
	char **items;
};

/* The whole parsed configuration. Durations are in seconds. Strings are
   never NULL (an empty value is ""). */
struct authrelay_config {
	char *path;			/* the file read, or "" for defaults */

	/* common */
	char *database;			/* /var/lib/authrelay/authrelay.db */
	long long database_busy_timeout; /* 2s: how long a lookup waits for a lock */
	char *database_password_file;	/* "": PostgreSQL without a password */
	long long database_stale_grace;	/* 0: no answers from memory after a loss */
	char *run_user;			/* authrelay */
	enum log_level log_level;	/* info */
	int log_facility;		/* LOG_MAIL ("mail") */

	/* relay rules */
	long long grant_ttl;		/* 30m */
	unsigned grant_ipv6_prefix;	/* 128 */
	struct cidr_list *grant_exclude_networks; /* empty */
	struct cidr_list *trusted_networks;	/* empty */
	bool require_tls_for_auth;	/* no */
	enum sender_login_check sender_login_check; /* no */
	enum on_store_error on_store_error; /* tempfail */

	/* audit */
	long long audit_retention;	/* 90d */
	bool audit_decisions;		/* yes: write a decisions row per verdict */
	unsigned decision_queue_max;	/* 100000 rows waiting at most */

	/* sending limits (lib/limit_spec.h) */
	struct limit_spec limit_recipients;	/* none */
	struct limit_spec limit_messages;	/* none */
	unsigned limit_suspend_after;	/* 0: never */
	long long limit_suspend_window;	/* 1d */
	char *limit_notify_address;	/* "": no mail */
	char *limit_notify_sendmail;	/* /usr/sbin/sendmail */

	/* policyd */
	char *policyd_listen;		/* inet:127.0.0.1:10040 */
	char *policyd_socket_owner;	/* "" = run_user; for unix: sockets */
	unsigned policyd_socket_mode;	/* 0660 */
	char *policyd_pidfile;		/* /run/authrelay/policyd.pid */
	long long policyd_idle_timeout;	/* 330s: above Postfix's 300s max_idle */
	unsigned policyd_max_connections; /* 4096 */
	unsigned policyd_max_line;	/* 4096 bytes per attribute line */
	unsigned policyd_max_attributes; /* 100 per request */
	unsigned policyd_max_request;	/* 65536 bytes per request */
	char *policyd_metrics_listen;	/* "": no GET /metrics */

	/* milter */
	char *milter_socket;		/* inet:127.0.0.1:10030 */
	char *milter_socket_owner;	/* "" = run_user */
	unsigned milter_socket_mode;	/* 0660 */
	char *milter_pidfile;		/* /run/authrelay/milter.pid */
	struct cfg_list milter_relay_transports; /* CFG_RELAY_TRANSPORTS_DEFAULT */
	long long milter_timeout;	/* 30s: libmilter I/O timeout */
	char *milter_metrics_listen;	/* "": no GET /metrics */
	bool milter_relay_check;	/* yes: the milter decides relay itself;
					   no: Postfix (policyd) does, the milter
					   checks From: only */

	/* loginwatch */
	struct cfg_list loginwatch_sources;	/* empty */
	struct cfg_list loginwatch_formats;	/* all */
	char *loginwatch_pidfile;	/* /run/authrelay/loginwatch.pid */
	char *loginwatch_http_listen;	/* "": no auth-policy server */
	char *loginwatch_http_api_key_file; /* "": no key (loopback only) */
	struct cfg_list loginwatch_http_protocols; /* imap, pop3 */
	long long loginwatch_http_timeout;	/* 30s: idle or stalled connections closed */
	unsigned loginwatch_http_max_connections; /* 256 */
	char *loginwatch_metrics_listen;	/* "": no GET /metrics */

	/* where the file set each key (cfg_key_line()), 0 = default */
	unsigned key_lines[CFG_KEYS_MAX];
};

/* Loads path (CFG_DEFAULT_PATH when NULL) on top of the defaults. A
   missing file is an error unless missing_ok (then the defaults are
   used, with path ""). Returns 0, or -1 with *error_r a malloc'd text of
   one "FILE:LINE: message" line per problem (caller frees) and *cfg_r
   untouched. The lines are joined by '\n', with no final newline; at
   most 100 are listed, then "FILE: N more problems not shown". A key
   given twice takes its later value, silently, as in Postfix. A
   world-writable file, or one in a world-writable directory without
   the sticky bit, is refused unread ("FILE: ... (chmod o-w ...)"). */
int cfg_load(const char *path, bool missing_ok, struct authrelay_config **cfg_r, char **error_r);

/* Parses text as if it were the file named name (tests, fuzzing). */
int cfg_load_string(const char *name, const char *text, struct authrelay_config **cfg_r,
		    char **error_r);

/* The defaults alone. Never fails (aborts on out of memory). */
struct authrelay_config *cfg_defaults(void);

/* Frees the config and sets *cfg to NULL; NULL is fine. */
void cfg_free(struct authrelay_config **cfg);

/* One row of the key table, for authrelayctl check and the manual. */
struct cfg_key_info {
	const char *name;
	const char *type;		/* "string" "duration" "bool" "list" ... */
	const char *default_value;	/* as written in the file */
	unsigned programs;		/* enum cfg_program bits */
	const char *summary;
};

/* The key table, terminated by a row with name NULL. */
const struct cfg_key_info *cfg_keys(void);

/* Returns the line of cfg->path that set key name, or 0 when the key
   has its default value (or is unknown). */
unsigned cfg_key_line(const struct authrelay_config *cfg, const char *name);

/* Returns true when list holds word (exact match). */
bool cfg_list_has(const struct cfg_list *list, const char *word);

const char *sender_login_check_name(enum sender_login_check v);
const char *on_store_error_name(enum on_store_error v);

#endif

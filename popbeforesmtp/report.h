/*
 * NAME
 *	report 3h
 * SUMMARY
 *	Dovecot's auth-policy requests as a login source
 * SYNOPSIS
 *	#include "report.h"
 * DESCRIPTION
 *	Dovecot (2.2.34+, 2.3) can tell an HTTP "policy server" about every
 *	authentication: POST <url>?command=allow before it (answered
 *	{"status":0} here: authrelay never refuses a login) and
 *	POST <url>?command=report after it, with a JSON object of string
 *	values from auth_policy_request_attributes (login, remote, protocol,
 *	session_id, ... by default) and the booleans success, policy_reject
 *	and tls. report_handle() is the HTTP handler (http_server.h) for
 *	these requests; it is the one file that includes the JSON library.
 *
 *	A request is served in this order, the first failing step answering:
 *	  405  the method is not POST;
 *	  401  a key is configured and the X-API-Key header does not hold
 *	       it (logged at most once per REPORT_LOG_INTERVAL, with a count);
 *	  400  command is neither allow nor report; the body is not one JSON
 *	       object (a member named twice is malformed too, so no two
 *	       readers can disagree on which "remote" counts); in a report,
 *	       success or policy_reject is not a boolean, or remote,
 *	       protocol, login or session_id is present and not a string;
 *	  200  {"status":0}: allow; or a report. A report grants only when
 *	       success is true, policy_reject is false, protocol is one of
 *	       loginwatch_http_protocols, remote is an IP address (IPv4-
 *	       mapped becomes IPv4) and login is a non-anonymous name; the
 *	       grant is made by grants_from_event() as for a log line (at
 *	       the time of the report; grant_ttl, grant_ipv6_prefix,
 *	       grant_exclude_networks) and committed before the answer;
 *	  503  the grant could not be committed (Dovecot logs the failure;
 *	       it does not retry: the log source, if configured, is the
 *	       fallback).
 *	The grant's grant_history row has source REPORT_SOURCE, the
 *	report's fields as key=value text in place of a log line, and the
 *	report's session_id, so the log line of the same login (same
 *	session) does not count it again.
 */
#ifndef AUTHRELAY_REPORT_H
#define AUTHRELAY_REPORT_H

#include <stdint.h>

#include "cfg.h"
#include "grants.h"
#include "http_server.h"
#include "store.h"

#define REPORT_SOURCE "dovecot-auth-policy"

/* Bodies above this are refused (413). Dovecot 2.3.19's report with the
   default attributes is about 300 bytes, plus the user name (at most
   LOGIN_USER_MAX) and any attributes a site adds. */
#define REPORT_MAX_BODY 16384
#define REPORT_LOG_INTERVAL 60	/* seconds between "wrong key" lines */
/* HTTP threads: reports that arrive together are committed together
   (commit_group.h); four threads let four reports share a transaction
   while a fifth waits. */
#define REPORT_THREADS 4
#define REPORT_KEY_MAX 512	/* bytes of the key file's first line */

/* Writes one grant (the daemon: commit_group_write()). Returns 0, or -1
   with *error_r (malloc'd). Called from the HTTP server's threads, several
   at once. */
typedef int report_commit_fn(void *ctx, const struct store_login *login, char **error_r);

struct report_stats {
	uint64_t requests, unauthorized, malformed, reports, granted, not_granted, failed;
};

struct report;

/* Creates the handler's context. key NULL or "" means no key is asked
   for (the caller allows that on loopback only). protocols is copied.
   Returns 0, or -1 with *error_r. */
int report_create(const struct grant_policy *policy, const struct cfg_list *protocols,
		  const char *key, report_commit_fn *commit, void *commit_ctx,
		  struct report **report_r, char **error_r);

/* Replaces the grant policy and protocols (SIGHUP), between two
   requests. The policy's exclude list must live until the next call
   or report_free(). Returns 0, or -1 (out of memory: unchanged). */
int report_reconfigure(struct report *report, const struct grant_policy *policy,
		       const struct cfg_list *protocols);

/* The http_handler: ctx is the struct report. */
void report_handle(void *ctx, const struct http_request *req, struct http_reply *reply_r);

/* The counts so far (taken between two requests). */
void report_get_stats(struct report *report, struct report_stats *stats_r);

void report_free(struct report **report);

/* Reads the key: the first line of path, white space around it taken
   off; an empty key, a file others may read or write, or one that is
   not a regular file is an error. Returns 0 with *key_r (malloc'd), or
   -1 with *error_r naming the file and the fix. */
int report_key_read(const char *path, char **key_r, char **error_r);

#endif

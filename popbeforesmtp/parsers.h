/*
 * NAME
 *	parsers 3h
 * SUMMARY
 *	login-line parsers: one per POP/IMAP server, behind one signature
 * SYNOPSIS
 *	#include "parsers.h"
 * DESCRIPTION
 *	A parser reads the tag and message of one log line ("prog[pid]:
 *	message", the envelope already removed) and says whether it is a
 *	successful, non-anonymous login with a valid client IP. It matches the
 *	program name exactly and the whole message shape; the IP is taken from
 *	the position the server's format fixes, which in every format lies
 *	outside (or after) the text a client chose, and is validated with
 *	inet_pton (ipaddr_parse). IPv4-mapped IPv6 becomes IPv4 there.
 *
 *	Parsers never touch the store; they do not know the time either: the
 *	caller fills ev->time from the envelope.
 */
#ifndef AUTHRELAY_PARSERS_H
#define AUTHRELAY_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cfg.h"
#include "ipaddr.h"

#define LOGIN_USER_MAX 256	/* = STORE_USER_MAX: longer names are truncated */
#define LOGIN_SERVICE_MAX 16	/* = STORE_SERVICE_MAX */
#define LOGIN_SESSION_MAX 64	/* = STORE_SESSION_MAX */

/* Lines longer than this (without the newline) are skipped whole. */
#define LOGIN_LINE_MAX 8192

struct login_event {
	struct ipaddr ip;		/* the client, IPv4-mapped already made IPv4 */
	char user[LOGIN_USER_MAX];	/* control characters shown as '?' */
	char service[LOGIN_SERVICE_MAX]; /* "imap" or "pop3" */
	char session[LOGIN_SESSION_MAX]; /* the server's session id, "" = none */
	int64_t time;			/* from the envelope (parsers leave 0) */
	const char *format;		/* "dovecot", ...: the parser that matched */
	const char *why;		/* PARSE_REFUSED: the reason, static text */
};

enum parse_result {
	PARSE_IGNORED = 0,	/* not this server's login line */
	PARSE_LOGIN = 1,	/* a successful login: grant */
	PARSE_REFUSED = 2	/* this server's login line, but it must not grant
				   (anonymous, no IP, bad IP): ev->why says why */
};

/* The one signature. msg is "prog[pid]: message" (len bytes, not
   NUL-terminated, no newline). Fills *ev_r on PARSE_LOGIN, and ev_r->why
   on PARSE_REFUSED. */
typedef enum parse_result parse_fn(const char *msg, size_t len, struct login_event *ev_r);

enum parse_result parse_dovecot(const char *msg, size_t len, struct login_event *ev_r);
enum parse_result parse_courier(const char *msg, size_t len, struct login_event *ev_r);
enum parse_result parse_cyrus(const char *msg, size_t len, struct login_event *ev_r);
enum parse_result parse_uw(const char *msg, size_t len, struct login_event *ev_r);
enum parse_result parse_qpopper(const char *msg, size_t len, struct login_event *ev_r);

/* The program names (tags) each parser reads, NULL-terminated: lines of
   other programs never reach it. */
extern const char *const parse_dovecot_programs[], *const parse_courier_programs[],
	*const parse_cyrus_programs[], *const parse_uw_programs[], *const parse_qpopper_programs[];

/* ---- helpers shared by the parsers ---- */

/* When msg starts with exactly name, an optional "[digits]" and ": ",
   returns the length of that prefix; otherwise 0. */
size_t parse_tag(const char *msg, size_t len, const char *name);

/* As parse_tag, for the first of names (NULL-terminated) that matches;
   *index_r gets its index. */
size_t parse_tag_any(const char *msg, size_t len, const char *const *names, size_t *index_r);

/* Returns true when s (len bytes) starts with the NUL-terminated prefix. */
bool parse_has_prefix(const char *s, size_t len, const char *prefix);

/* The last occurrence of needle (NUL-terminated) in s, or NULL. */
const char *parse_last(const char *s, size_t len, const char *needle);

/* Parses len bytes as an IP address (at most IPADDR_STRLEN - 1 bytes, no
   brackets). Returns 0, or -1. */
int parse_ip(const char *s, size_t len, struct ipaddr *ip_r);

/* Ends the parse of a successful login line: copies the user name (len
   bytes) into ev->user, truncated to fit, with control characters and
   DEL replaced by '?', and returns PARSE_LOGIN; or PARSE_REFUSED with
   ev->why "anonymous login" when the login was anonymous: the server
   said so (anonymous true), or the name is empty or "anonymous" (any
   case). The one place where anonymous logins are kept from granting. */
enum parse_result parse_login_user(struct login_event *ev, const char *s, size_t len,
				   bool anonymous);

/* Sets ev->service (a short static name). */
void parse_set_service(struct login_event *ev, const char *service);

/* ---- the format table and the line entry point ---- */

struct parser_info {
	const char *name;		/* loginwatch_formats word */
	parse_fn *parse;
	const char *const *programs;	/* parse_<x>_programs */
	const char *needle;		/* text every line it accepts holds */
	const char *const *units;	/* systemd units trusted for it (journal) */
};

/* The table, terminated by a row with name NULL. */
const struct parser_info *parsers_table(void);

#define PARSER_PROGRAMS_MAX 32

/* The parsers a loginwatch_formats list selects ("all" = every one), and
   a flat table of their program names for the dispatch: most lines come
   from other programs, and one length comparison per name rejects them. */
struct parser_set {
	const struct parser_info *on[8];
	size_t count;
	struct {
		size_t len;
		const char *program;
		const struct parser_info *parser;
	} tags[PARSER_PROGRAMS_MAX];
	size_t tag_count;
	/* The longest text common to the needles of the parsers on: a line
	   without it cannot be a login of any of them. */
	char needle[32];
};

/* Fills *set_r from the list of words. Returns 0, or -1 with *error_r
   (malloc'd, names the unknown word) and *set_r empty. */
int parsers_select(const struct cfg_list *formats, struct parser_set *set_r, char **error_r);

/* Runs the enabled parsers on msg ("prog[pid]: message"). Returns the
   first result that is not PARSE_IGNORED. */
enum parse_result parsers_parse_msg(const struct parser_set *set, const char *msg, size_t len,
				    struct login_event *ev_r);

/* The whole line (envelope, then parsers), ev_r->time from the envelope
   (now for year inference). A stamp that cannot be converted refuses the
   line. */
enum parse_result parsers_parse_line(const struct parser_set *set, const char *line, size_t len,
				     time_t now, struct login_event *ev_r);

#endif

/*
 * NAME
 *	parse_dovecot 3
 * SUMMARY
 *	Dovecot 2.3/2.4 login lines
 * SYNOPSIS
 *	#include "parsers.h"
 *
 *	enum parse_result parse_dovecot(const char *msg, size_t len,
 *					struct login_event *ev_r)
 * DESCRIPTION
 *	Accepts exactly
 *
 *	  dovecot: imap-login: Login: user=<U>, method=M, rip=IP, lip=..., ...
 *	  imap-login: Info: Login: user=<U>, method=M, rip=IP, ...   (log_path)
 *	  dovecot: Dec 06 07:58:10 imap-login: Info: Login: user=<U>, ...
 *	  dovecot: imap-login: Info: Login: user=<U>, ...
 *
 *	The last two are the journal's: Dovecot with log_path = /dev/stderr
 *	under systemd writes its file form to stderr, with its own stamp
 *	(log_timestamp's default, "%b %d %H:%M:%S ") or without it
 *	(log_timestamp = ""), and journald files it under the identifier
 *	"dovecot" (proved with a real Dovecot in tests/loginwatch/journal.sh).
 *	The journal source trusts such lines by their systemd unit only; in
 *	a syslog file they are no easier to forge than the first form.
 *
 *	and pop3-login. The user name is the only client-chosen text and
 *	Dovecot escapes none of ',' '<' '>' '=' ' ' in it (see the forged
 *	user name samples), so the line is read structurally: the shape is
 *	anchored at "Login: user=<" right after the program, and the client
 *	address is the LAST ", rip=" of the line, because every field after
 *	the user name is Dovecot's own. A line whose rip is not an address
 *	(inet_pton), or with method=ANONYMOUS, never grants. Failed and
 *	aborted logins ("Disconnected: ...", "Aborted login ..."), proxy
 *	lines and the auth process's lines do not start with "Login:" and
 *	are ignored.
 *
 *	login_log_format_elements may drop or reorder elements; user and rip
 *	are required, method is optional, and the user must come before rip
 *	(the default; otherwise the client could place text after it).
 *
 *	The session id (", session=<ID>" after rip, Dovecot's own text) is
 *	kept when it is there: Dovecot's auth-policy report names the same
 *	login with it, and the store counts one login once.
 */
#include <string.h>
#include <strings.h>

#include "parsers.h"

static const char *const login_names[] = { "imap-login", "pop3-login", NULL };

/* The tags a Dovecot login line starts with: through syslog, or its own file. */
const char *const parse_dovecot_programs[] = { "dovecot", "imap-login", "pop3-login", NULL };
static const char *const login_services[] = { "imap", "pop3" };

/* is_method_char - characters of a SASL mechanism name */
static bool is_method_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
	       || c == '_';
}

/* is_session_char - characters of a Dovecot session id (base64) */
static bool is_session_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
	       || c == '/' || c == '=';
}

/* set_session - the session id from the fields after rip, if any */
static void set_session(struct login_event *ev, const char *p, const char *end)
{
	const char *s = parse_last(p, (size_t)(end - p), ", session=<"), *t;

	if (s == NULL)
		return;
	s += 11;
	for (t = s; t < end && is_session_char(*t); t++)
		;
	if (t == s || t == end || *t != '>' || (size_t)(t - s) >= sizeof(ev->session)
	    || (t + 1 != end && !parse_has_prefix(t + 1, (size_t)(end - t - 1), ", ")))
		return;
	memcpy(ev->session, s, (size_t)(t - s));
	ev->session[t - s] = '\0';
}

/* stamp_len - the length of Dovecot's default log_timestamp at s
   ("Dec 06 07:58:10 "), or 0 */
static size_t stamp_len(const char *s, size_t len)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const char shape[] = "Mmm 99 99:99:99 ";
	bool month = false;

	if (len < sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		char c = s[i], want = shape[i];

		if ((want == '9' && (c < '0' || c > '9')) || (want != '9' && want != 'M' && want != 'm'
							     && c != want))
			return 0;
	}
	for (size_t m = 0; m < 12 && !month; m++)
		month = memcmp(s, months + 3 * m, 3) == 0;
	return month ? sizeof(shape) - 1 : 0;
}

/* parse_dovecot - see above */
enum parse_result parse_dovecot(const char *msg, size_t len, struct login_event *ev_r)
{
	const char *p = msg, *end = msg + len, *rip, *ip_end, *user_end, *m;
	size_t n, service;
	bool wrapped = false, stamped = false;
	char method[32] = "";

	/* Through syslog: "dovecot: imap-login: Login: ..." (no level word);
	   through the journal, Dovecot's stderr: "dovecot: [STAMP]imap-login:
	   Info: Login: ..." */
	if ((n = parse_tag(p, len, "dovecot")) > 0) {
		p += n;
		wrapped = true;
		stamped = (n = stamp_len(p, (size_t)(end - p))) > 0;
		p += n;
	}
	if ((n = parse_tag_any(p, (size_t)(end - p), login_names, &service)) == 0)
		return PARSE_IGNORED;
	p += n;
	/* Dovecot's own log_path file, and its stderr: "imap-login: Info:
	   Login: ..."; the level word is optional only where syslog may have
	   left it out. */
	if (parse_has_prefix(p, (size_t)(end - p), "Info: "))
		p += 6;
	else if (!wrapped || stamped)
		return PARSE_IGNORED;
	if (!parse_has_prefix(p, (size_t)(end - p), "Login: user=<"))
		return PARSE_IGNORED;
	p += 13;

	memset(ev_r, 0, sizeof(*ev_r));
	parse_set_service(ev_r, login_services[service]);

	/* The client address: the last rip= of the line. */
	if ((rip = parse_last(p, (size_t)(end - p), ", rip=")) == NULL) {
		ev_r->why = "no rip= after the user name";
		return PARSE_REFUSED;
	}
	ip_end = memchr(rip + 6, ',', (size_t)(end - rip - 6));
	if (ip_end == NULL)
		ip_end = end;
	if (parse_ip(rip + 6, (size_t)(ip_end - rip - 6), &ev_r->ip) < 0) {
		ev_r->why = "rip is not an IP address";
		return PARSE_REFUSED;
	}
	if (ip_end != end && !parse_has_prefix(ip_end, (size_t)(end - ip_end), ", ")) {
		ev_r->why = "malformed fields after rip";
		return PARSE_REFUSED;
	}
	set_session(ev_r, ip_end, end);

	/* Between "user=<" and rip: "U>" or "U>, method=M". */
	user_end = rip;
	m = parse_last(p, (size_t)(user_end - p), ", method=");
	if (m != NULL) {
		const char *t = m + 9;

		for (; t < user_end && is_method_char(*t); t++)
			;
		if (t == user_end && t > m + 9 && (size_t)(t - m - 9) < sizeof(method)) {
			memcpy(method, m + 9, (size_t)(t - m - 9));
			method[t - m - 9] = '\0';
			user_end = m;
		}
	}
	if (user_end == p || user_end[-1] != '>') {
		ev_r->why = "malformed user field";
		return PARSE_REFUSED;
	}
	return parse_login_user(ev_r, p, (size_t)(user_end - 1 - p),
				strcasecmp(method, "ANONYMOUS") == 0);
}

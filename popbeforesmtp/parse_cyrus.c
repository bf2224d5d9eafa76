/*
 * NAME
 *	parse_cyrus 3
 * SUMMARY
 *	Cyrus IMAP imapd/pop3d login lines
 * SYNOPSIS
 *	#include "parsers.h"
 *
 *	enum parse_result parse_cyrus(const char *msg, size_t len,
 *				      struct login_event *ev_r)
 * DESCRIPTION
 *	Accepts exactly
 *
 *	  cyrus/imap[123]: login: HOST [IP] USER MECH User logged in SESSIONID=<...>
 *
 *	from cyrus/imap, cyrus/imaps, cyrus/pop3, cyrus/pop3s (and the same
 *	names without "cyrus/"). HOST is a DNS name without spaces or empty
 *	("login: [IP] ..."), and older versions write "HOST[IP]". The address
 *	comes before the user name, so the client's text cannot move it;
 *	the line must end with "User logged in" and an optional SESSIONID.
 *	"badlogin: ..." is ignored; the user "anonymous" never grants.
 */
#include <string.h>

#include "parsers.h"

const char *const parse_cyrus_programs[] = { "cyrus/imap", "cyrus/imaps", "cyrus/pop3", "cyrus/pop3s",
				     "imap", "imaps", "pop3", "pop3s", NULL };

/* parse_cyrus - see above */
enum parse_result parse_cyrus(const char *msg, size_t len, struct login_event *ev_r)
{
	const char *p = msg, *end = msg + len, *b, *ip_end, *tail, *mech;
	size_t n, service;

	if ((n = parse_tag_any(msg, len, parse_cyrus_programs, &service)) == 0)
		return PARSE_IGNORED;
	p += n;
	if (!parse_has_prefix(p, (size_t)(end - p), "login: "))
		return PARSE_IGNORED;
	p += 7;

	memset(ev_r, 0, sizeof(*ev_r));
	parse_set_service(ev_r, strstr(parse_cyrus_programs[service], "pop3") != NULL ? "pop3" : "imap");
	/* HOST: no spaces; then optionally one space; then [IP]. */
	for (b = p; b < end && *b != '[' && *b != ' '; b++)
		;
	if (b < end && *b == ' ')
		b++;
	if (b >= end || *b != '[') {
		ev_r->why = "no [IP] after the host name";
		return PARSE_REFUSED;
	}
	ip_end = memchr(b + 1, ']', (size_t)(end - b - 1));
	if (ip_end == NULL || parse_ip(b + 1, (size_t)(ip_end - b - 1), &ev_r->ip) < 0) {
		ev_r->why = "[IP] is not an IP address";
		return PARSE_REFUSED;
	}
	p = ip_end + 1;
	if (!parse_has_prefix(p, (size_t)(end - p), " ")) {
		ev_r->why = "malformed login line";
		return PARSE_REFUSED;
	}
	p++;
	/* The end: " User logged in" and an optional " SESSIONID=<...>". */
	tail = parse_last(p, (size_t)(end - p), " User logged in");
	if (tail == NULL) {
		ev_r->why = "no \"User logged in\"";
		return PARSE_REFUSED;
	}
	{
		const char *t = tail + 15;
		size_t rest = (size_t)(end - t);

		if (rest != 0
		    && !(parse_has_prefix(t, rest, " SESSIONID=<") && end[-1] == '>'
			 && memchr(t + 1, ' ', rest - 1) == NULL)) {
			ev_r->why = "unexpected text after \"User logged in\"";
			return PARSE_REFUSED;
		}
	}
	/* "USER MECH": the mechanism is the last word. */
	for (mech = tail; mech > p && mech[-1] != ' '; mech--)
		;
	if (mech == tail || mech - 1 <= p) {
		ev_r->why = "no user name or mechanism";
		return PARSE_REFUSED;
	}
	return parse_login_user(ev_r, p, (size_t)(mech - 1 - p), false);
}

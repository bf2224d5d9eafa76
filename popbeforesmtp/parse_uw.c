/*
 * NAME
 *	parse_uw 3
 * SUMMARY
 *	UW-IMAP imapd and ipop3d login lines
 * SYNOPSIS
 *	#include "parsers.h"
 *
 *	enum parse_result parse_uw(const char *msg, size_t len,
 *				   struct login_event *ev_r)
 * DESCRIPTION
 *	Accepts exactly
 *
 *	  imapd[1]: Login user=U host=NAME [IP]
 *	  imapd[1]: Authenticated user=U host=[IP]
 *	  ipop3d[1]: Login user=U host=NAME [IP] nmsgs=N/M
 *	  ipop3d[1]: APOP user=U host=[IP] nmsgs=N/M
 *	  ipop3d[1]: Auth user=U host=[IP] nmsgs=N/M
 *
 *	The user name comes first and is the client's text, so the line is
 *	read from its end: the optional nmsgs, then "[IP]", then "host=" or
 *	"host=NAME " (a DNS name has no spaces). A line whose host carries
 *	no address ("host=name" only) never grants. "Login failure",
 *	"Login failed", "Excessive login failures", "Login anonymous=" and
 *	the proxy line "IMAP login to host=..." do not start with one of the
 *	words above and are ignored.
 */
#include <string.h>

#include "parsers.h"

const char *const parse_uw_programs[] = { "imapd", "ipop3d", NULL };
static const char *const services[] = { "imap", "pop3" };
static const char *const starts[] = { "Login user=", "Authenticated user=", "APOP user=",
				      "Auth user=", NULL };

/* strip_nmsgs - end of s without a trailing " nmsgs=N/M" */
static const char *strip_nmsgs(const char *s, const char *end)
{
	const char *p = end;
	int slash = 0;

	while (p > s && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '/')) {
		if (p[-1] == '/')
			slash++;
		p--;
	}
	if (slash == 1 && p - s >= 7 && memcmp(p - 7, " nmsgs=", 7) == 0 && p < end && *p != '/'
	    && end[-1] != '/')
		return p - 7;
	return end;
}

/* parse_uw - see above */
enum parse_result parse_uw(const char *msg, size_t len, struct login_event *ev_r)
{
	const char *p = msg, *end = msg + len, *b, *host;
	size_t n, service, i;

	if ((n = parse_tag_any(msg, len, parse_uw_programs, &service)) == 0)
		return PARSE_IGNORED;
	p += n;
	for (i = 0; starts[i] != NULL; i++)
		if (parse_has_prefix(p, (size_t)(end - p), starts[i]))
			break;
	if (starts[i] == NULL)
		return PARSE_IGNORED;
	p += strlen(starts[i]);

	memset(ev_r, 0, sizeof(*ev_r));
	parse_set_service(ev_r, services[service]);
	if (service == 1)
		end = strip_nmsgs(p, end);
	if (end == p || end[-1] != ']') {
		ev_r->why = "no [IP] at the end of the line";
		return PARSE_REFUSED;
	}
	for (b = end - 1; b > p && *b != '['; b--)
		;
	if (*b != '[' || parse_ip(b + 1, (size_t)(end - 1 - b - 1), &ev_r->ip) < 0) {
		ev_r->why = "[IP] is not an IP address";
		return PARSE_REFUSED;
	}
	/* "host=[IP]" or "host=NAME [IP]" */
	if (b - p >= 6 && memcmp(b - 6, " host=", 6) == 0) {
		host = b - 6;
	} else if (b > p && b[-1] == ' ') {
		for (host = b - 1; host > p && host[-1] != ' '; host--)
			;
		if (host == p || (size_t)(b - host) < 6 || memcmp(host, "host=", 5) != 0) {
			ev_r->why = "malformed host=";
			return PARSE_REFUSED;
		}
		host--;
	} else {
		ev_r->why = "malformed host=";
		return PARSE_REFUSED;
	}
	if (host < p || *host != ' ') {
		ev_r->why = "malformed host=";
		return PARSE_REFUSED;
	}
	return parse_login_user(ev_r, p, (size_t)(host - p), false);
}

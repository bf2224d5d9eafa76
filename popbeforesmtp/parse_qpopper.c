/*
 * NAME
 *	parse_qpopper 3
 * SUMMARY
 *	Qpopper login lines
 * SYNOPSIS
 *	#include "parsers.h"
 *
 *	enum parse_result parse_qpopper(const char *msg, size_t len,
 *					struct login_event *ev_r)
 * DESCRIPTION
 *	Accepts exactly
 *
 *	  in.qpopper[7597]: (v4.0.9) POP login by user "U" at (HOST) IP [pop_log.c:244]
 *
 *	from in.qpopper, qpopper or popper; the version and the trailing
 *	source tag are optional. The user name is the client's text (this is
 *	the shape CVE-2001-1075 forged through sendmail's log), so the line
 *	is read from its end: the source tag, the address, "(HOST)", and
 *	'" at (' closing the name. "Servicing request from ..." comes before
 *	authentication and is ignored.
 */
#include <string.h>

#include "parsers.h"

const char *const parse_qpopper_programs[] = { "in.qpopper", "qpopper", "popper", NULL };

/* strip_source_tag - end of s without a trailing " [file.c:NNN]" */
static const char *strip_source_tag(const char *s, const char *end)
{
	const char *p = end;

	if (p == s || p[-1] != ']')
		return end;
	p--;
	while (p > s && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p == end - 1 || p == s || p[-1] != ':')
		return end;
	p--;
	while (p > s && p[-1] != '[' && p[-1] != ' ')
		p--;
	if (p - s < 2 || p[-1] != '[' || p[-2] != ' ' || p == end - 1)
		return end;
	return p - 2;
}

/* parse_qpopper - see above */
enum parse_result parse_qpopper(const char *msg, size_t len, struct login_event *ev_r)
{
	const char *p = msg, *end = msg + len, *ip, *host;
	size_t n, service;

	if ((n = parse_tag_any(msg, len, parse_qpopper_programs, &service)) == 0)
		return PARSE_IGNORED;
	p += n;
	if (parse_has_prefix(p, (size_t)(end - p), "(v")) {
		const char *v = memchr(p, ' ', (size_t)(end - p));

		if (v == NULL || v[-1] != ')')
			return PARSE_IGNORED;
		p = v + 1;
	}
	if (!parse_has_prefix(p, (size_t)(end - p), "POP login by user \""))
		return PARSE_IGNORED;
	p += 19;

	memset(ev_r, 0, sizeof(*ev_r));
	parse_set_service(ev_r, "pop3");
	end = strip_source_tag(p, end);
	for (ip = end; ip > p && ip[-1] != ' '; ip--)
		;
	if (ip == p || parse_ip(ip, (size_t)(end - ip), &ev_r->ip) < 0) {
		ev_r->why = "no IP address at the end of the line";
		return PARSE_REFUSED;
	}
	/* '"' " at (" HOST ") " IP: HOST is the text between the last " at ("
	   before the address and the ") " just before it. */
	if (ip - p < 2 || ip[-2] != ')') {
		ev_r->why = "malformed \"at (host)\"";
		return PARSE_REFUSED;
	}
	host = parse_last(p, (size_t)(ip - 2 - p), "\" at (");
	if (host == NULL || memchr(host + 6, ' ', (size_t)(ip - 2 - host - 6)) != NULL) {
		ev_r->why = "malformed \"at (host)\"";
		return PARSE_REFUSED;
	}
	return parse_login_user(ev_r, p, (size_t)(host - p), false);
}

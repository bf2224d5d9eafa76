/*
 * NAME
 *	parse_courier 3
 * SUMMARY
 *	Courier-IMAP imapd/pop3d login lines
 * SYNOPSIS
 *	#include "parsers.h"
 *
 *	enum parse_result parse_courier(const char *msg, size_t len,
 *					struct login_event *ev_r)
 * DESCRIPTION
 *	Accepts exactly
 *
 *	  imapd: LOGIN, user=U, ip=[IP], port=[N], protocol=IMAP
 *
 *	from imapd, imapd-ssl, pop3d and pop3d-ssl; port, protocol and a
 *	POP3 ", stls=1" are optional (older versions lack them), nothing
 *	else may follow. The user name comes first and is the client's
 *	text, so the address is the LAST ", ip=[" of the line and everything
 *	after it must have the shape above. "LOGIN FAILED, ...", "LOGOUT,
 *	...", "Connection, ..." and "DISCONNECTED, ..." are ignored.
 */
#include <string.h>

#include "parsers.h"

const char *const parse_courier_programs[] = { "imapd", "imapd-ssl", "pop3d", "pop3d-ssl", NULL };
static const char *const services[] = { "imap", "imap", "pop3", "pop3" };

/* skip_bracket_digits - past prefix + digits + "]"; p when prefix is absent, NULL when malformed */
static const char *skip_bracket_digits(const char *p, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *q;

	if ((size_t)(end - p) < n || memcmp(p, prefix, n) != 0)
		return p;
	q = p + n;
	while (q < end && *q >= '0' && *q <= '9')
		q++;
	if (q == p + n || q >= end || *q != ']')
		return NULL;
	return q + 1;
}

/* parse_courier - see above */
enum parse_result parse_courier(const char *msg, size_t len, struct login_event *ev_r)
{
	const char *p = msg, *end = msg + len, *ip, *ip_end, *q;
	size_t n, service;

	if ((n = parse_tag_any(msg, len, parse_courier_programs, &service)) == 0)
		return PARSE_IGNORED;
	p += n;
	if (!parse_has_prefix(p, (size_t)(end - p), "LOGIN, user="))
		return PARSE_IGNORED;
	p += 12;

	memset(ev_r, 0, sizeof(*ev_r));
	parse_set_service(ev_r, services[service]);
	if ((ip = parse_last(p, (size_t)(end - p), ", ip=[")) == NULL) {
		ev_r->why = "no ip=[...] after the user name";
		return PARSE_REFUSED;
	}
	ip_end = memchr(ip + 6, ']', (size_t)(end - ip - 6));
	if (ip_end == NULL || parse_ip(ip + 6, (size_t)(ip_end - ip - 6), &ev_r->ip) < 0) {
		ev_r->why = "ip is not an IP address";
		return PARSE_REFUSED;
	}
	/* Courier's own fields after the address, in this order. */
	q = skip_bracket_digits(ip_end + 1, end, ", port=[");
	if (q != NULL && parse_has_prefix(q, (size_t)(end - q), ", protocol=")) {
		q += 11;
		while (q < end && *q >= 'A' && *q <= 'Z')
			q++;
		if (q < end && (*q >= '0' && *q <= '9'))
			q++;	/* POP3 */
	}
	if (q != NULL && parse_has_prefix(q, (size_t)(end - q), ", stls=1"))
		q += 8;
	if (q != end) {
		ev_r->why = "unexpected text after ip=[...]";
		return PARSE_REFUSED;
	}
	return parse_login_user(ev_r, p, (size_t)(ip - p), false);
}

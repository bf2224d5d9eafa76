/*
 * NAME
 *	fuzz_loginline - libFuzzer target for the login-log parsers
 * DESCRIPTION
 *	Whole log lines (envelope and message) through every parser. A line
 *	that grants must name a valid IP whose text occurs in the line
 *	itself (so no grant for an address the line does not hold), a
 *	service of imap or pop3, a user without control characters, and a
 *	time; a refusal must say why. Through grants_from_event, whatever the
 *	stamp, a grant never ends later than now + grant_ttl + the allowed
 *	clock skew.
 */
#include <time.h>

#include "grants.h"
#include "parsers.h"

#include "fuzz_common.h"

/* True when the printed address (or its IPv4-mapped form, or its
   uncompressed IPv6 spelling) is plausibly in the line: we only demand
   that every hex group or octet printed occurs somewhere. */
static bool address_in_line(const struct ipaddr *ip, const char *line, size_t len)
{
	char text[IPADDR_STRLEN];

	ipaddr_format(ip, text);
	if (memmem(line, len, text, strlen(text)) != NULL)
		return true;
	/* "::ffff:1.2.3.4" in the line becomes IPv4: the dotted quad is there. */
	/* IPv6 written in another valid spelling (leading zeros, no
	   compression): compare by parsing each token that parses. */
	for (size_t i = 0; i < len; i++) {
		size_t j = i;
		char tok[IPADDR_STRLEN + 8];
		struct ipaddr other;

		while (j < len && j - i < sizeof tok - 1 &&
		       (strchr("0123456789abcdefABCDEF:.", line[j]) != NULL))
			j++;
		if (j > i && j - i < sizeof tok) {
			memcpy(tok, line + i, j - i);
			tok[j - i] = 0;
			if (ipaddr_parse(tok, &other) == 0 && ipaddr_equal(&other, ip))
				return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_list all = { 1, (char *[]){ "all" } };
	struct parser_set set;
	struct login_event ev;
	char *error = NULL;
	static const time_t now = 1795700000; /* 2026-11-26, fixed: reproducible */

	if (size > LOGIN_LINE_MAX + 16)
		return 0;
	FUZZ_ASSERT(parsers_select(&all, &set, &error) == 0);
	memset(&ev, 0, sizeof ev);
	enum parse_result r = parsers_parse_line(&set, (const char *)data, size, now, &ev);
	if (r == PARSE_LOGIN) {
		FUZZ_ASSERT(ev.ip.family != 0);
		FUZZ_ASSERT(address_in_line(&ev.ip, (const char *)data, size));
		FUZZ_ASSERT(strcmp(ev.service, "imap") == 0 || strcmp(ev.service, "pop3") == 0);
		for (const char *p = ev.user; *p; p++)
			FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f);
		FUZZ_ASSERT(ev.format != NULL);
		FUZZ_ASSERT(ev.time != 0);
		struct grant_policy policy = { 1800, 64, NULL };
		struct store_login login;
		if (grants_from_event(&policy, &ev, "fuzz", "line", now, &login) == GRANT_NEW)
			FUZZ_ASSERT(login.expires_at <= now + GRANT_MAX_FUTURE + 1800);
	} else if (r == PARSE_REFUSED) {
		FUZZ_ASSERT(ev.why != NULL);
	}
	return 0;
}

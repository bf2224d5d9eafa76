/*
 * NAME
 *	check_parse_qpopper 1
 * SUMMARY
 *	Qpopper login lines, and CVE-2001-1075
 * DESCRIPTION
 *	The poprelayd attack: sendmail logged a sender address holding a
 *	Qpopper login line. Only the in.qpopper program's own line grants.
 */
#include "parse_table.h"

static const struct parse_case cases[] = {
	{ "in.qpopper with version and source tag",
	  "Nov 26 13:06:41 mail in.qpopper[7597]: (v4.0.9) POP login by user \"nick\" at (host.example.com) 74.125.46.35 [pop_log.c:244]",
	  PARSE_LOGIN, "74.125.46.35", "nick", "pop3", "2026-11-26T13:06:41Z" },
	{ "qpopper without version or tag",
	  "Nov 26 13:06:41 mail qpopper[7598]: POP login by user \"ann\" at (192.0.2.30) 192.0.2.30",
	  PARSE_LOGIN, "192.0.2.30", "ann", "pop3", "2026-11-26T13:06:41Z" },
	{ "popper, IPv6",
	  "Nov 26 13:06:41 mail popper[7599]: (v4.1.0) POP login by user \"bo\" at (h6.example) 2001:db8::30 [pop_log.c:250]",
	  PARSE_LOGIN, "2001:db8::30", "bo", "pop3", "2026-11-26T13:06:41Z" },
	{ "forged user name: the address is read from the end",
	  "Nov 26 13:06:41 mail in.qpopper[7600]: (v4.0.9) POP login by user \"x\" at (a) 6.6.6.6\" at (h) 192.0.2.31 [pop_log.c:244]",
	  PARSE_LOGIN, "192.0.2.31", "x\" at (a) 6.6.6.6", "pop3", "2026-11-26T13:06:41Z" },

	{ "CVE-2001-1075: sendmail logging the sender",
	  "Nov 26 13:06:41 mail sendmail[8000]: f5QD1: from=\"POP login by user \"admin\" at (66.66.66.66) 66.66.66.66\"@example.org, size=0",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "CVE-2001-1075 through postfix",
	  "Nov 26 13:06:41 mail postfix/smtpd[8001]: NOQUEUE: reject: RCPT from x[6.6.6.6]: from=<\"POP login by user \"admin\" at (66.66.66.66) 66.66.66.66\"@example.org>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "Servicing request (before authentication)",
	  "Nov 26 13:06:41 mail in.qpopper[7597]: Servicing request from \"host.example.com\" at 74.125.46.35",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "trailing text after the address",
	  "Nov 26 13:06:41 mail in.qpopper[7597]: POP login by user \"n\" at (h) 74.125.46.35 extra",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "no host in parentheses",
	  "Nov 26 13:06:41 mail in.qpopper[7597]: POP login by user \"n\" 74.125.46.35",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "anonymous",
	  "Nov 26 13:06:41 mail in.qpopper[7597]: POP login by user \"anonymous\" at (h) 74.125.46.35",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
};

int main(void)
{
	static const struct pt_table tables[] = { PT_TABLE(cases) };

	return pt_main("parse_qpopper", tables, (int)(sizeof tables / sizeof tables[0]));
}

/*
 * NAME
 *	check_parse_courier 1
 * SUMMARY
 *	Courier-IMAP login lines
 * DESCRIPTION
 *	Courier writes "LOGIN, user=U, ip=[IP], port=[N], protocol=P"; the user
 *	comes first, so forged names must not move the address.
 */
#include "parse_table.h"

static const struct parse_case cases[] = {
	{ "imapd, IPv4-mapped",
	  "Nov 26 13:06:41 mail imapd: LOGIN, user=alice, ip=[::ffff:192.0.2.10], port=[51234], protocol=IMAP",
	  PARSE_LOGIN, "192.0.2.10", "alice", "imap", "2026-11-26T13:06:41Z" },
	{ "imapd-ssl with pid",
	  "Nov 26 13:06:41 mail imapd-ssl[4021]: LOGIN, user=alice@example.org, ip=[2001:db8::5], port=[51234], protocol=IMAP",
	  PARSE_LOGIN, "2001:db8::5", "alice@example.org", "imap", "2026-11-26T13:06:41Z" },
	{ "pop3d with stls=1",
	  "Nov 26 13:06:41 mail pop3d: LOGIN, user=bob, ip=[::ffff:192.0.2.11], port=[40000], protocol=POP3, stls=1",
	  PARSE_LOGIN, "192.0.2.11", "bob", "pop3", "2026-11-26T13:06:41Z" },
	{ "pop3d-ssl",
	  "Nov 26 13:06:41 mail pop3d-ssl: LOGIN, user=bob, ip=[192.0.2.12], port=[40000], protocol=POP3",
	  PARSE_LOGIN, "192.0.2.12", "bob", "pop3", "2026-11-26T13:06:41Z" },
	{ "older version without port and protocol",
	  "Nov 26 13:06:41 mail imapd: LOGIN, user=carol, ip=[::ffff:192.0.2.13]",
	  PARSE_LOGIN, "192.0.2.13", "carol", "imap", "2026-11-26T13:06:41Z" },
	{ "forged user name: the last ip= is Courier's",
	  "Nov 26 13:06:41 mail imapd: LOGIN, user=x, ip=[6.6.6.6], port=[1], protocol=IMAP, ip=[::ffff:192.0.2.14], port=[2], protocol=IMAP",
	  PARSE_LOGIN, "192.0.2.14", "x, ip=[6.6.6.6], port=[1], protocol=IMAP", "imap", "2026-11-26T13:06:41Z" },

	{ "LOGIN FAILED",
	  "Nov 26 13:06:41 mail imapd: LOGIN FAILED, user=alice, ip=[::ffff:192.0.2.10]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "LOGIN FAILED, method",
	  "Nov 26 13:06:41 mail pop3d: LOGIN FAILED, method=PLAIN, user=alice, ip=[::ffff:192.0.2.10]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "LOGOUT",
	  "Nov 26 13:06:41 mail imapd: LOGOUT, user=alice, ip=[::ffff:192.0.2.10], headers=0, body=0, rcvd=40, sent=300, time=4",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "Connection",
	  "Nov 26 13:06:41 mail imapd: Connection, ip=[::ffff:192.0.2.10]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "forged name with a trailing address that Courier did not write",
	  "Nov 26 13:06:41 mail imapd: LOGIN, user=x, ip=[::ffff:192.0.2.14], port=[2], protocol=IMAP, z=1",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "bad address",
	  "Nov 26 13:06:41 mail imapd: LOGIN, user=x, ip=[192.0.2.300], port=[2], protocol=IMAP",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "anonymous",
	  "Nov 26 13:06:41 mail imapd: LOGIN, user=anonymous, ip=[192.0.2.3], port=[2], protocol=IMAP",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "other program",
	  "Nov 26 13:06:41 mail webmail: imapd: LOGIN, user=x, ip=[6.6.6.6], port=[2], protocol=IMAP",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "program name with a suffix",
	  "Nov 26 13:06:41 mail imapdx: LOGIN, user=x, ip=[6.6.6.6], port=[2], protocol=IMAP",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
};

int main(void)
{
	static const struct pt_table tables[] = { PT_TABLE(cases) };

	return pt_main("parse_courier", tables, (int)(sizeof tables / sizeof tables[0]));
}

/*
 * NAME
 *	check_parse_uw 1
 * SUMMARY
 *	UW-IMAP imapd and ipop3d login lines
 * DESCRIPTION
 *	The documented login lines (authrelay-loginwatch(8), Formats), the
 *	failures and the proxy line, and a line without an address (no grant).
 */
#include "parse_table.h"

static const struct parse_case cases[] = {
	{ "ipop3d with host name",
	  "Nov 26 13:06:41 mail ipop3d[21869]: Login user=tony host=ns1.example.com [61.209.254.2] nmsgs=0/0",
	  PARSE_LOGIN, "61.209.254.2", "tony", "pop3", "2026-11-26T13:06:41Z" },
	{ "imapd with [ip] only",
	  "Nov 26 13:06:41 mail imapd[21870]: Login user=tony host=[202.32.124.66]",
	  PARSE_LOGIN, "202.32.124.66", "tony", "imap", "2026-11-26T13:06:41Z" },
	{ "imapd Authenticated",
	  "Nov 26 13:06:41 mail imapd[21871]: Authenticated user=ann host=h.example [2001:db8::9]",
	  PARSE_LOGIN, "2001:db8::9", "ann", "imap", "2026-11-26T13:06:41Z" },
	{ "ipop3d APOP",
	  "Nov 26 13:06:41 mail ipop3d[21872]: APOP user=bea host=[192.0.2.20] nmsgs=12/40",
	  PARSE_LOGIN, "192.0.2.20", "bea", "pop3", "2026-11-26T13:06:41Z" },
	{ "ipop3d Auth",
	  "Nov 26 13:06:41 mail ipop3d[21873]: Auth user=cid host=[::ffff:192.0.2.21] nmsgs=1/1",
	  PARSE_LOGIN, "192.0.2.21", "cid", "pop3", "2026-11-26T13:06:41Z" },
	{ "forged user name: the address is read from the end",
	  "Nov 26 13:06:41 mail imapd[21874]: Login user=x host=[6.6.6.6] host=[192.0.2.22]",
	  PARSE_LOGIN, "192.0.2.22", "x host=[6.6.6.6]", "imap", "2026-11-26T13:06:41Z" },

	{ "no address: host name only",
	  "Nov 26 13:06:41 mail ipop3d[21869]: Login user=tony host=ns1.example.com nmsgs=0/0",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "Login failure",
	  "Nov 26 13:06:41 mail imapd[1]: Login failure user=tony host=[202.32.124.66]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "Login failed",
	  "Nov 26 13:06:41 mail ipop3d[1]: Login failed user=tony auth=tony host=[202.32.124.66]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "Excessive login failures",
	  "Nov 26 13:06:41 mail imapd[1]: Excessive login failures user=tony host=[202.32.124.66]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "anonymous",
	  "Nov 26 13:06:41 mail imapd[1]: Login anonymous=x@y host=[202.32.124.66]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "proxy: the first host is the client's choice",
	  "Nov 26 13:06:41 mail imapd[1]: IMAP login to host=6.6.6.6 user=tony host=[202.32.124.66]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "trailing text after the address",
	  "Nov 26 13:06:41 mail imapd[1]: Login user=tony host=[202.32.124.66] x",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "nmsgs on imapd is not imapd's shape",
	  "Nov 26 13:06:41 mail imapd[1]: Login user=tony host=[202.32.124.66] nmsgs=0/0",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "bad address",
	  "Nov 26 13:06:41 mail imapd[1]: Login user=tony host=[202.32.124]",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "other program",
	  "Nov 26 13:06:41 mail sendmail[1]: Login user=tony host=[6.6.6.6]",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
};

int main(void)
{
	static const struct pt_table tables[] = { PT_TABLE(cases) };

	return pt_main("parse_uw", tables, (int)(sizeof tables / sizeof tables[0]));
}

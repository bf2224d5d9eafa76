/*
 * NAME
 *	check_parse_cyrus 1
 * SUMMARY
 *	Cyrus IMAP login lines
 * DESCRIPTION
 *	"login: HOST [IP] USER MECH User logged in SESSIONID=<...>"; badlogin
 *	and anonymous never grant.
 */
#include "parse_table.h"

static const struct parse_case cases[] = {
	{ "cyrus/imap with host and session",
	  "Nov 26 13:06:41 mail cyrus/imap[123]: login: client.example.com [192.0.2.10] alice plaintext+TLS User logged in SESSIONID=<cyrus-123-1-1-1>",
	  PARSE_LOGIN, "192.0.2.10", "alice", "imap", "2026-11-26T13:06:41Z" },
	{ "cyrus/pop3 with [ip] only",
	  "Nov 26 13:06:41 mail cyrus/pop3[124]: login: [2001:db8::7] bob PLAIN User logged in",
	  PARSE_LOGIN, "2001:db8::7", "bob", "pop3", "2026-11-26T13:06:41Z" },
	{ "older host[ip] without a space",
	  "Nov 26 13:06:41 mail imap[125]: login: localhost[::ffff:192.0.2.11] carol plaintext User logged in",
	  PARSE_LOGIN, "192.0.2.11", "carol", "imap", "2026-11-26T13:06:41Z" },
	{ "imaps service name",
	  "Nov 26 13:06:41 mail cyrus/imaps[126]: login: h.example [192.0.2.12] dave SCRAM-SHA-256 User logged in SESSIONID=<s>",
	  PARSE_LOGIN, "192.0.2.12", "dave", "imap", "2026-11-26T13:06:41Z" },
	{ "user name with spaces stays a name",
	  "Nov 26 13:06:41 mail cyrus/imap[127]: login: h [192.0.2.13] e [6.6.6.6] x PLAIN User logged in",
	  PARSE_LOGIN, "192.0.2.13", "e [6.6.6.6] x", "imap", "2026-11-26T13:06:41Z" },

	{ "badlogin",
	  "Nov 26 13:06:41 mail cyrus/imap[123]: badlogin: client.example.com [192.0.2.10] plaintext alice SASL(-13): authentication failure: checkpass failed",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "anonymous",
	  "Nov 26 13:06:41 mail cyrus/imap[123]: login: client.example.com [192.0.2.10] anonymous ANONYMOUS User logged in",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "text after User logged in",
	  "Nov 26 13:06:41 mail cyrus/imap[123]: login: h [192.0.2.10] a PLAIN User logged in extra words",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "no address",
	  "Nov 26 13:06:41 mail cyrus/imap[123]: login: h a PLAIN User logged in",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "host name with a space before the address",
	  "Nov 26 13:06:41 mail cyrus/imap[123]: login: a b [6.6.6.6] c PLAIN User logged in",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "other message of the program",
	  "Nov 26 13:06:41 mail cyrus/imap[123]: accepted connection",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "other program",
	  "Nov 26 13:06:41 mail cyrus/lmtp[123]: login: h [6.6.6.6] a PLAIN User logged in",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
};

int main(void)
{
	static const struct pt_table tables[] = { PT_TABLE(cases) };

	return pt_main("parse_cyrus", tables, (int)(sizeof tables / sizeof tables[0]));
}

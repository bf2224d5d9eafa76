/*
 * NAME
 *	check_parse_dovecot 1
 * SUMMARY
 *	Dovecot login lines: real samples, forged user names, lines that must never grant
 * DESCRIPTION
 *	The first table is every line of logs captured in the lab (Dovecot
 *	2.3.19.1 on Debian 12, its log_path file and rsyslog's RFC 3339
 *	format), including the real forged-user-name lines; the second holds
 *	the documented success and failure lines (authrelay-loginwatch(8),
 *	Formats and Security) and variants of the format.
 */
#include "parse_table.h"

static const struct parse_case samples[] = {
	{ "file-format:1", "Nov 26 13:06:38 master: Info: Dovecot v2.3.19.1 (9b53102964) starting up for imap, pop3 (core dumps disabled)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:2", "Nov 26 13:06:41 imap-login: Info: Login: user=<bob>, method=CRAM-MD5, rip=127.0.0.1, lip=127.0.0.1, mpid=6580, secured, session=<1eZWnS1hqrF/AAAB>",
	  PARSE_LOGIN, "127.0.0.1", "bob", "imap", "2026-11-26T13:06:41Z" },
	{ "file-format:3", "Nov 26 13:06:41 imap(bob)<6580><1eZWnS1hqrF/AAAB>: Info: Disconnected: Logged out in=55 out=1435 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=1 body_bytes=516",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:4", "Nov 26 13:06:41 pop3-login: Info: Login: user=<bob>, method=CRAM-MD5, rip=127.0.0.1, lip=127.0.0.1, mpid=6583, secured, session=<BRRYnS1hHpt/AAAB>",
	  PARSE_LOGIN, "127.0.0.1", "bob", "pop3", "2026-11-26T13:06:41Z" },
	{ "file-format:5", "Nov 26 13:06:41 pop3(bob)<6583><BRRYnS1hHpt/AAAB>: Info: Disconnected: Logged out top=0/0, retr=0/0, del=0/1, size=516",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:6", "Nov 26 13:06:41 imap-login: Info: Login: user=<alice>, method=CRAM-MD5, rip=::1, lip=::1, mpid=6586, secured, session=<IwNZnS1hHIcAAAAAAAAAAAAAAAAAAAAB>",
	  PARSE_LOGIN, "::1", "alice", "imap", "2026-11-26T13:06:41Z" },
	{ "file-format:7", "Nov 26 13:06:41 imap(alice)<6586><IwNZnS1hHIcAAAAAAAAAAAAAAAAAAAAB>: Info: Disconnected: Logged out in=27 out=564 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:8", "Nov 26 13:06:41 auth: Info: cram-md5(bob,127.0.0.1,<FhtanS1htrF/AAAB>): Password mismatch",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:9", "Nov 26 13:06:42 imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 1 secs): user=<bob>, method=CRAM-MD5, rip=127.0.0.1, lip=127.0.0.1, secured, session=<FhtanS1htrF/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:10", "Nov 26 13:06:42 auth: Info: plain(?,127.0.0.1,<2F5mnS1hxLF/AAAB>): Username character disallowed by auth_username_chars: 0x2c (username: bob, rip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:11", "Nov 26 13:06:42 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<bob, rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<2F5mnS1hxLF/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:12", "Nov 26 13:06:42 auth: Info: plain(?,127.0.0.1,<nMppnS1h0rF/AAAB>): Username character disallowed by auth_username_chars: 0x2c (username: bob, rip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:13", "Nov 26 13:06:43 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<bob, rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<nMppnS1h0rF/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:14", "Nov 26 13:06:43 auth: Info: plain(?,127.0.0.1,<BW5xnS1hIpt/AAAB>): Username character disallowed by auth_username_chars: 0x2c (username: bob, rip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:15", "Nov 26 13:06:43 pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<bob, rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<BW5xnS1hIpt/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:16", "Nov 26 13:06:43 auth: Info: plain(?,127.0.0.1,<awN5nS1h2rF/AAAB>): Username character disallowed by auth_username_chars: 0x3e (username: bob>, method=PLAIN, rip=6.6.6.6, lip=127.0.0.1, mpid=1, secured, session=<x>)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:17", "Nov 26 13:06:44 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<bob>, method=PLAIN, rip=6.6.6.6, lip=127.0.0.1, mpid=1, secured, session=<x>>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<awN5nS1h2rF/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:18", "Nov 26 13:06:44 auth: Info: plain(?,127.0.0.1,<IqqAnS1h4LF/AAAB>): Username character disallowed by auth_username_chars: 0x3e (username: bob>, method=PLAIN, rip=6.6.6.6, lip=127.0.0.1, mpid=1, secured, session=<x>)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:19", "Nov 26 13:06:44 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<bob>, method=PLAIN, rip=6.6.6.6, lip=127.0.0.1, mpid=1, secured, session=<x>>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<IqqAnS1h4LF/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:20", "Nov 26 13:06:44 auth: Info: plain(?,127.0.0.1,<S1uInS1hKpt/AAAB>): Username character disallowed by auth_username_chars: 0x3e (username: bob>, method=PLAIN, rip=6.6.6.6, lip=127.0.0.1, mpid=1, secured, session=<x>)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:21", "Nov 26 13:06:45 pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<bob>, method=PLAIN, rip=6.6.6.6, lip=127.0.0.1, mpid=1, secured, session=<x>>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<S1uInS1hKpt/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:22", "Nov 26 13:06:45 auth: Info: plain(?,127.0.0.1,<RgCQnS1h7rF/AAAB>): Username character disallowed by auth_username_chars: 0x22 (username: b\"o'b%n%s)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:23", "Nov 26 13:06:45 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<b\"o'b%n%s>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<RgCQnS1h7rF/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:24", "Nov 26 13:06:45 auth: Info: plain(?,127.0.0.1,<nKSXnS1h/rF/AAAB>): Username character disallowed by auth_username_chars: 0x22 (username: b\"o'b%n%s)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:25", "Nov 26 13:06:46 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<b\"o'b%n%s>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<nKSXnS1h/rF/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:26", "Nov 26 13:06:46 auth: Info: plain(?,127.0.0.1,<Z1mfnS1hMpt/AAAB>): Username character disallowed by auth_username_chars: 0x22 (username: b\"o'b%n%s)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:27", "Nov 26 13:06:46 pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<b\"o'b%n%s>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<Z1mfnS1hMpt/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:28", "Nov 26 13:06:46 auth: Info: plain(?,127.0.0.1,<1+OmnS1hCrJ/AAAB>): Username character disallowed by auth_username_chars: 0x09 (username: bob?lip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:29", "Nov 26 13:06:47 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<bob?lip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<1+OmnS1hCrJ/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:30", "Nov 26 13:06:47 auth: Info: plain(?,127.0.0.1,<rISunS1hELJ/AAAB>): Username character disallowed by auth_username_chars: 0x09 (username: bob?lip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:31", "Nov 26 13:06:47 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<bob?lip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<rISunS1hELJ/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:32", "Nov 26 13:06:47 auth: Info: plain(?,127.0.0.1,<MSS2nS1hPpt/AAAB>): Username character disallowed by auth_username_chars: 0x09 (username: bob?lip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:33", "Nov 26 13:06:48 pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<bob?lip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<MSS2nS1hPpt/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:34", "Nov 26 13:06:48 auth: Info: plain(?,127.0.0.1,<POS9nS1hILJ/AAAB>): Username character disallowed by auth_username_chars: 0x0d (username: bob??imap-login: Info: Login: user=<evil>, method=PLAIN, rip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:35", "Nov 26 13:06:48 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<bob??imap-login: Info: Login: user=<evil>, method=PLAIN, rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<POS9nS1hILJ/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:36", "Nov 26 13:06:48 auth: Info: plain(?,127.0.0.1,<LqPFnS1hJrJ/AAAB>): Username character disallowed by auth_username_chars: 0x0d (username: bob??imap-login: Info: Login: user=<evil>, method=PLAIN, rip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:37", "Nov 26 13:06:49 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<bob??imap-login: Info: Login: user=<evil>, method=PLAIN, rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<LqPFnS1hJrJ/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:38", "Nov 26 13:06:49 auth: Info: plain(?,127.0.0.1,<KTvNnS1hTJt/AAAB>): Username character disallowed by auth_username_chars: 0x20 (username: bob imap-login: Info: Login: user=<evil>, method=PLAIN, rip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:39", "Nov 26 13:06:49 pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<bob imap-login: Info: Login: user=<evil>, method=PLAIN, rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<KTvNnS1hTJt/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:40", "Nov 26 13:06:49 auth: Info: plain(?,127.0.0.1,<ehnVnS1hKLJ/AAAB>): Username character disallowed by auth_username_chars: 0xc3 (username: b\xc3\x83\xc2\xb6""b?[31m)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:41", "Nov 26 13:06:50 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<b\xc3\x83\xc2\xb6""b?[31m>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<ehnVnS1hKLJ/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:42", "Nov 26 13:06:50 auth: Info: plain(?,127.0.0.1,<nOHcnS1hfKl/AAAB>): Username character disallowed by auth_username_chars: 0xc3 (username: b\xc3\x83\xc2\xb6""b?[31m)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:43", "Nov 26 13:06:50 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 0 secs): user=<b\xc3\x83\xc2\xb6""b?[31m>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<nOHcnS1hfKl/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:44", "Nov 26 13:06:50 auth: Info: plain(?,127.0.0.1,<lRfknS1hiI1/AAAB>): Username character disallowed by auth_username_chars: 0xc3 (username: b\xc3\x83\xc2\xb6""b?[31m)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "file-format:45", "Nov 26 13:06:51 pop3-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 1 secs): user=<b\xc3\x83\xc2\xb6""b?[31m>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<lRfknS1hiI1/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "syslog-format:1", "2026-11-26T12:51:48.877351+00:00 vm dovecot: master: Dovecot v2.3.19.1 (9b53102964) starting up for imap, pop3 (core dumps disabled)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "syslog-format:2", "2026-11-26T12:51:49.954165+00:00 vm dovecot: pop3-login: Login: user=<bob>, method=CRAM-MD5, rip=127.0.0.1, lip=127.0.0.1, mpid=19212, secured, session=<Zj40aC1hirR/AAAB>",
	  PARSE_LOGIN, "127.0.0.1", "bob", "pop3", "2026-11-26T12:51:49Z" },
	{ "syslog-format:3", "2026-11-26T12:51:49.957596+00:00 vm dovecot: pop3(bob)<19212><Zj40aC1hirR/AAAB>: Disconnected: Logged out top=0/0, retr=0/0, del=0/0, size=0",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "syslog-format:4", "2026-11-26T12:51:50.010186+00:00 vm dovecot: imap-login: Login: user=<alice>, method=CRAM-MD5, rip=::1, lip=::1, mpid=19215, secured, session=<UiE1aC1hvKsAAAAAAAAAAAAAAAAAAAAB>",
	  PARSE_LOGIN, "::1", "alice", "imap", "2026-11-26T12:51:50Z" },
	{ "syslog-format:5", "2026-11-26T12:51:50.015448+00:00 vm dovecot: imap(alice)<19215><UiE1aC1hvKsAAAAAAAAAAAAAAAAAAAAB>: Disconnected: Logged out in=27 out=564 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "syslog-format:6", "2026-11-26T12:51:50.057254+00:00 vm dovecot: auth: cram-md5(bob,127.0.0.1,<2wI2aC1hSLd/AAAB>): Password mismatch",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "syslog-format:7", "2026-11-26T12:51:50.559416+00:00 vm dovecot: imap-login: Disconnected: Connection closed (auth failed, 1 attempts in 0 secs): user=<bob>, method=CRAM-MD5, rip=127.0.0.1, lip=127.0.0.1, secured, session=<2wI2aC1hSLd/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "syslog-format:8", "2026-11-26T12:51:50.658801+00:00 vm dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=19220, secured, session=<1AU/aC1hVrd/AAAB>",
	  PARSE_LOGIN, "127.0.0.1", "bob", "imap", "2026-11-26T12:51:50Z" },
	{ "syslog-format:9", "2026-11-26T12:51:50.665965+00:00 vm dovecot: imap(bob)<19220><1AU/aC1hVrd/AAAB>: Disconnected: Logged out in=12 out=477 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "syslog-format:10", "2026-11-26T12:51:59.016128+00:00 vm dovecot: master: Warning: Killed with signal 15 (by pid=19238 uid=0 code=kill)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "forged-username:4", "Nov 26 12:46:32 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 17 secs): user=<bob>, method=PLAIN, rip=6.6.6.6, lip=127.0.0.1, mpid=1, secured, session=<x>>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<H7JEVC1hON5/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "forged-username:5", "Nov 26 12:49:05 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 17 secs): user=<bob??imap-login: Info: Login: user=<evil>, method=PLAIN, rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<cbRhXS1hdsx/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "forged-username:6", "Nov 26 12:48:14 imap-login: Info: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 17 secs): user=<bob?lip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, session=<f4RVWi1h9rx/AAAB>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "forged-username:7", "Nov 26 12:45:57 auth: Info: plain(?,127.0.0.1,<D5YwUy1h7MJ/AAAB>): Username character disallowed by auth_username_chars: 0x2c (username: bob, rip=6.6.6.6)",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "forged-username:10", "Nov 26 12:51:19 imap-login: Info: Login: user=<x, rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=18951, secured, session=<utxiZi1h4o1/AAAB>",
	  PARSE_LOGIN, "127.0.0.1", "x, rip=6.6.6.6", "imap", "2026-11-26T12:51:19Z" },
	{ "forged-username:11", "Nov 26 12:51:24 imap-login: Info: Login: user=<y>, method=plain, rip=6.6.6.6, lip=1.2.3.4, mpid=1, secured, session=<z>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=18995, secured, session=<gWqsZi1hYsN/AAAB>",
	  PARSE_LOGIN, "127.0.0.1", "y>, method=plain, rip=6.6.6.6, lip=1.2.3.4, mpid=1, secured, session=<z", "imap", "2026-11-26T12:51:24Z" },
	{ "forged-username:12", "Nov 26 12:51:24 pop3-login: Info: Login: user=<y>, method=plain, rip=6.6.6.6, lip=1.2.3.4, mpid=1, secured, session=<z>, method=PLAIN, rip=::1, lip=::1, mpid=18997, secured, session=<vPGsZi1hwIsAAAAAAAAAAAAAAAAAAAAB>",
	  PARSE_LOGIN, "::1", "y>, method=plain, rip=6.6.6.6, lip=1.2.3.4, mpid=1, secured, session=<z", "pop3", "2026-11-26T12:51:24Z" },
};

static const struct parse_case variants[] = {
	/* Shapes that grant. */
	{ "TLS flag, IPv4-mapped rip stored as IPv4",
	  "Nov 26 13:06:41 mail dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=::ffff:198.51.100.1, lip=192.0.2.1, mpid=3147, TLS, session=<3EQSIZLnDsM9xTGS>",
	  PARSE_LOGIN, "198.51.100.1", "alice", "imap", "2026-11-26T13:06:41Z" },
	{ "no flag, BSD day padded with a space",
	  "Nov  6 09:00:00 mail dovecot: pop3-login: Login: user=<bob@example.org>, method=PLAIN, rip=2001:db8::1, lip=2001:db8::2, mpid=1, session=<x>",
	  PARSE_LOGIN, "2001:db8::1", "bob@example.org", "pop3", "2026-11-06T09:00:00Z" },
	{ "TLS handshaking flag, zero-padded day (log_path)",
	  "Nov 06 09:00:00 imap-login: Info: Login: user=<c>, method=LOGIN, rip=192.0.2.7, lip=192.0.2.1, mpid=2, TLS handshaking, session=<y>",
	  PARSE_LOGIN, "192.0.2.7", "c", "imap", "2026-11-06T09:00:00Z" },
	{ "RFC 3339 with an offset, dovecot[pid]",
	  "2026-11-26T14:51:50.010186+02:00 vm dovecot[812]: imap-login: Login: user=<d>, method=PLAIN, rip=192.0.2.8, lip=192.0.2.1, mpid=3, secured, session=<z>",
	  PARSE_LOGIN, "192.0.2.8", "d", "imap", "2026-11-26T12:51:50Z" },
	{ "without method element",
	  "Nov 26 13:00:00 mail dovecot: imap-login: Login: user=<e>, rip=192.0.2.9, lip=192.0.2.1",
	  PARSE_LOGIN, "192.0.2.9", "e", "imap", "2026-11-26T13:00:00Z" },
	{ "rip last element",
	  "Nov 26 13:00:00 mail dovecot: imap-login: Login: user=<f>, method=PLAIN, rip=192.0.2.10",
	  PARSE_LOGIN, "192.0.2.10", "f", "imap", "2026-11-26T13:00:00Z" },
	{ "Dec line read in Nov of the next year is not in the future",
	  "Dec 31 23:59:59 mail dovecot: imap-login: Login: user=<g>, method=PLAIN, rip=192.0.2.11, lip=192.0.2.1",
	  PARSE_LOGIN, "192.0.2.11", "g", "imap", "2025-12-31T23:59:59Z" },
	{ "control characters in the user name shown as ?",
	  "Nov 26 13:00:00 mail dovecot: imap-login: Login: user=<a\x1b[31m>, method=PLAIN, rip=192.0.2.12, lip=192.0.2.1",
	  PARSE_LOGIN, "192.0.2.12", "a?[31m", "imap", "2026-11-26T13:00:00Z" },

	/* Failed, aborted, anonymous: never. */
	{ "auth failed (syslog)",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<bob>, method=PLAIN, rip=198.51.100.1, lip=192.0.2.1, TLS, session=<a>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "connection closed, auth failed",
	  "Nov 26 13:06:42 mail dovecot: pop3-login: Disconnected: Connection closed (auth failed, 3 attempts in 9 secs): user=<bob>, method=PLAIN, rip=198.51.100.1, lip=192.0.2.1, session=<a>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "aborted login",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Aborted login (no auth attempts in 0 secs): user=<>, rip=198.51.100.1, lip=192.0.2.1, session=<a>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "auth process line",
	  "Nov 26 13:06:42 mail dovecot: auth: passwd-file(bob,1.2.3.4): unknown user",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "method=ANONYMOUS",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Login: user=<anonymous>, method=ANONYMOUS, rip=198.51.100.1, lip=192.0.2.1, mpid=9, session=<a>",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "proxy line",
	  "Nov 26 13:06:42 mail dovecot: imap-login: proxy(alice): started proxying to 192.0.2.50:143: user=<alice>, method=PLAIN, rip=198.51.100.1, lip=192.0.2.1, session=<a>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "rip not an address",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=300.1.1.1, lip=192.0.2.1",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "rip with junk",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=6.6.6.6x, lip=192.0.2.1",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "rip with a zone",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, rip=fe80::1%eth0, lip=192.0.2.1",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "no rip at all",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Login: user=<bob>, method=PLAIN, lip=192.0.2.1",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "user field not closed by >",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Login: user=<bob, rip=6.6.6.6",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },

	/* Not Dovecot's login process, or not its shape. */
	{ "postfix logging attacker text",
	  "Nov 26 13:06:42 mail postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[6.6.6.6]: 554 <dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=6.6.6.6>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "other program named like a prefix",
	  "Nov 26 13:06:42 mail dovecot2: imap-login: Login: user=<a>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "submission-login is not POP/IMAP",
	  "Nov 26 13:06:42 mail dovecot: submission-login: Login: user=<a>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "log_path line without the Info level",
	  "Nov 26 13:06:42 imap-login: Login: user=<a>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	/* The journal's form: Dovecot's stderr (log_path = /dev/stderr) under
	   systemd, filed under the identifier "dovecot"; the lines are the
	   real ones tests/loginwatch/journal.sh captures from Dovecot 2.3.19.1,
	   in the line the journal source builds ("STAMP journal IDENT: MSG"). */
	{ "journal: Dovecot's stderr with its own stamp",
	  "2026-11-26T13:06:42Z journal dovecot: Nov 26 13:06:42 pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=127.0.0.77, lip=127.0.0.1, mpid=3254, session=<Ij5oePJhGuh/AABN>",
	  PARSE_LOGIN, "127.0.0.77", "bob", "pop3", "2026-11-26T13:06:42Z" },
	{ "journal: Dovecot's stderr with log_timestamp = \"\"",
	  "2026-11-26T13:06:42Z journal dovecot: imap-login: Info: Login: user=<alice>, method=PLAIN, rip=2001:db8::7, lip=::1, mpid=3254, TLS, session=<Ij5oePJhGuh/AABN>",
	  PARSE_LOGIN, "2001:db8::7", "alice", "imap", "2026-11-26T13:06:42Z" },
	{ "the same through syslog (a level word)",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Info: Login: user=<a>, method=PLAIN, rip=192.0.2.6",
	  PARSE_LOGIN, "192.0.2.6", "a", "imap", "2026-11-26T13:06:42Z" },
	{ "journal: stderr, failed login",
	  "2026-11-26T13:06:42Z journal dovecot: Nov 26 13:06:42 pop3-login: Info: Disconnected (auth failed, 1 attempts in 0 secs): user=<bob>, method=PLAIN, rip=127.0.0.77, lip=127.0.0.1, session=<x>",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "journal: stderr stamp without the level word",
	  "2026-11-26T13:06:42Z journal dovecot: Nov 26 13:06:42 pop3-login: Login: user=<bob>, method=PLAIN, rip=127.0.0.77",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "journal: stderr, another level",
	  "2026-11-26T13:06:42Z journal dovecot: Nov 26 13:06:42 pop3-login: Warning: Login: user=<bob>, method=PLAIN, rip=127.0.0.77",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "journal: a stamp of another log_timestamp",
	  "2026-11-26T13:06:42Z journal dovecot: 2026-11-26 13:06:42 pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=127.0.0.77",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "journal: a stamp with a month that is none",
	  "2026-11-26T13:06:42Z journal dovecot: Foo 26 13:06:42 pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=127.0.0.77",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "journal: the stamp from the imap process, not the login process",
	  "2026-11-26T13:06:42Z journal dovecot: Nov 26 13:06:42 imap(bob)<3254><Ij5oePJhGuh/AABN>: Info: Login: user=<bob>, rip=127.0.0.77",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "journal: two stamps",
	  "2026-11-26T13:06:42Z journal dovecot: Nov 26 13:06:42 Nov 26 13:06:42 pop3-login: Info: Login: user=<bob>, rip=127.0.0.77",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "login text later in the message",
	  "Nov 26 13:06:42 mail dovecot: imap-login: Warning: x Login: user=<a>, method=PLAIN, rip=6.6.6.6",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "no envelope",
	  "dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1",
	  PARSE_IGNORED, NULL, NULL, NULL, NULL },
	{ "impossible date",
	  "Nov 31 13:06:42 mail dovecot: imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.1",
	  PARSE_REFUSED, NULL, NULL, NULL, NULL },
	{ "empty", "", PARSE_IGNORED, NULL, NULL, NULL, NULL },
};

/* The session id: kept when it is Dovecot's own field after rip (the
   store counts a login reported and logged under one session once). */
static const struct {
	const char *label, *line, *session;
} sessions[] = {
	{ "session id kept",
	  "Nov 26 13:06:41 imap-login: Info: Login: user=<bob>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, mpid=1, TLS, session=<1eZWnS1hqrF/AAAB>",
	  "1eZWnS1hqrF/AAAB" },
	{ "session id of an IPv6 login",
	  "Nov 26 13:06:41 imap-login: Info: Login: user=<alice>, method=CRAM-MD5, rip=::1, lip=::1, mpid=6586, secured, session=<IwNZnS1hHIcAAAAAAAAAAAAAAAAAAAAB>",
	  "IwNZnS1hHIcAAAAAAAAAAAAAAAAAAAAB" },
	{ "through syslog",
	  "Nov 26 13:06:41 mail dovecot: pop3-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, session=<BRRYnS1hHpt/AAAB>",
	  "BRRYnS1hHpt/AAAB" },
	{ "no session field",
	  "Nov 26 13:06:41 pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2", "" },
	{ "session text in the user name only",
	  "Nov 26 13:06:41 imap-login: Info: Login: user=<x, session=<FORGED>>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2", "" },
	{ "characters Dovecot never uses",
	  "Nov 26 13:06:41 imap-login: Info: Login: user=<bob>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, session=<a b>", "" },
	{ "unterminated",
	  "Nov 26 13:06:41 imap-login: Info: Login: user=<bob>, method=PLAIN, rip=192.0.2.1, session=<abc", "" },
};

START_TEST(test_session)
{
	struct parser_set set;
	struct login_event ev;
	char *error = NULL;
	enum parse_result r;

	ck_assert_int_eq(parsers_select(NULL, &set, &error), 0);
	r = parsers_parse_line(&set, sessions[_i].line, strlen(sessions[_i].line), PT_NOW, &ev);
	ck_assert_msg(r == PARSE_LOGIN, "%s: got %s, want LOGIN", sessions[_i].label,
		      pt_result_name(r));
	ck_assert_msg(strcmp(ev.session, sessions[_i].session) == 0,
		      "%s: session: got \"%s\", want \"%s\"", sessions[_i].label, ev.session,
		      sessions[_i].session);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parse_dovecot_session");
	TCase *tc = tcase_create("session");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_session, 0, (int)(sizeof sessions / sizeof sessions[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed != 0)
		return 1;
	static const struct pt_table tables[] = { PT_TABLE(samples), PT_TABLE(variants) };

	return pt_main("parse_dovecot", tables, (int)(sizeof tables / sizeof tables[0]));
}

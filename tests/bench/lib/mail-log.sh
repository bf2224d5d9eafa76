# NAME
#	mail-log.sh - the benchmarks' generated mail log
# SUMMARY
#	. tests/bench/lib/mail-log.sh; bench_mail_log LINES FILE
# DESCRIPTION
#	bench_mail_log writes LINES lines of a busy mail host's log to FILE,
#	stamped now (so that loginwatch --scan records the logins, not
#	expired): 2% Dovecot logins (997 users, distinct client addresses),
#	the rest Postfix and Dovecot noise. The same seed every time, so
#	runs compare (tests/bench/loginwatch.sh, tests/bench/pgsql.sh).
bench_mail_log() {
	local s
	s=$(date '+%b %e %H:%M:%S')
	awk -v s="$s" -v n="$1" 'BEGIN { srand(1); for (i = 0; i < n; i++) {
	k = i % 50;
	if (k == 0) printf "%s mail dovecot: imap-login: Login: user=<user%d@example.org>, method=PLAIN, rip=198.51.%d.%d, lip=192.0.2.1, mpid=%d, TLS, session=<Ab%dCdEf>\n", s, i % 997, int(i / 256) % 256, i % 256, i, i;
	else if (k < 15) printf "%s mail postfix/smtpd[%d]: connect from unknown[203.0.113.%d]\n", s, 1000 + k, i % 256;
	else if (k < 30) printf "%s mail postfix/cleanup[%d]: %05X%06X: message-id=<%d.%d@example.org>\n", s, 2000 + k, i % 65536, i, i, k;
	else if (k < 40) printf "%s mail postfix/qmgr[%d]: %05X%06X: from=<sender%d@example.com>, size=%d, nrcpt=1 (queue active)\n", s, 3000, i % 65536, i, i % 500, 1000 + i % 9000;
	else if (k < 45) printf "%s mail dovecot: imap(user%d@example.org)<%d><Ab%dCdEf>: Disconnected: Logged out in=120 out=3400 deleted=0 expunged=0 trashed=0\n", s, i % 997, i, i;
	else printf "%s mail postfix/smtp[%d]: %05X%06X: to=<rcpt%d@example.net>, relay=mx.example.net[198.51.100.7]:25, delay=0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n", s, 4000, i % 65536, i, i % 700 } }' > "$2"
}

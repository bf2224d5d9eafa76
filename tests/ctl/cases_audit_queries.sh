# tests/ctl/cases_audit_queries.sh -- sourced by run.sh: every ready query
# of sql/audit.sql, through authrelayctl audit --query NAME, on a database
# filled with known rows (times relative to now), checked row by row.
# On PostgreSQL the queries of sql/pgsql/audit.sql.

db_fresh queries
QDB=$FRESH_DB
db_conf "$T/queries.conf" "$QDB"
db_init "$T/queries.conf"
expect_rc "queries: init" 0 || true
now=$(date +%s)
db_sql "$QDB" <<SQL
INSERT INTO decision_log (ts, program, client_ip, sasl_username, sender, recipient, verdict, rule, reason, queue_id) VALUES
 ($now - 60,  'policyd', '198.51.100.1', '',       'x@a.test',   'r@b.test', 'permit',   'grant',           'grant', ''),
 ($now - 120, 'policyd', '198.51.100.1', '',       'x@a.test',   'r@b.test', 'permit',   'grant',           'grant', ''),
 ($now - 180, 'milter',  '198.51.100.1', '',       'x@a.test',   'r@b.test', 'permit',   'grant',           'grant', ''),
 ($now - 240, 'policyd', '198.51.100.2', 'alice',  'alice@a.test','r@b.test', 'permit',  'sasl',            'sasl', ''),
 ($now - 300, 'policyd', '198.51.100.2', 'alice',  'alice@a.test','r@b.test', 'permit',  'sasl',            'sasl', ''),
 ($now - 172800, 'policyd', '198.51.100.9', '',    'old@a.test', 'r@b.test', 'permit',   'grant',           'old', ''),
 ($now - 400, 'policyd', '198.51.100.2', 'alice',  'bob@a.test', 'r@b.test', 'reject',   'sender_mismatch', 'not hers', ''),
 ($now - 500, 'milter',  '198.51.100.2', 'alice',  'carol@a.test','r@b.test','reject',   'sender_mismatch', 'not hers', ''),
 ($now - 600, 'policyd', '203.0.113.5',  'mallory','m@a.test',   'r@b.test', 'reject',   'suspended',       'suspended', ''),
 ($now - 700, 'policyd', '203.0.113.5',  '',       'm@a.test',   'r@b.test', 'dunno',    'none',            '', ''),
 ($now - 710, 'policyd', '203.0.113.5',  '',       'm@a.test',   'r@b.test', 'dunno',    'none',            '', ''),
 ($now - 720, 'policyd', '203.0.113.5',  '',       'm@a.test',   'r@b.test', 'dunno',    'none',            '', ''),
 ($now - 730, 'policyd', '203.0.113.5',  '',       'm@a.test',   'r@b.test', 'dunno',    'none',            '', ''),
 ($now - 800, 'policyd', '198.51.100.7', '',       'z@a.test',   'r@b.test', 'tempfail', 'store_error',     'locked', '');
INSERT INTO grant_log (event, ip, prefix_len, username, service, login_time, expires_at, source, line) VALUES
 ('login', '198.51.100.1', 32, 'bob', 'pop3', $now - 900, $now + 900, '/var/log/dovecot.log', 'pop3-login: Login: user=<bob>'),
 ('login', '198.51.100.8', 32, 'old', 'imap', $now - 8 * 86400, $now - 8 * 86400 + 1800, '/var/log/dovecot.log', 'old line');
INSERT INTO grants (family, net, ip, prefix_len, username, service, first_seen, last_seen, expires_at, logins) VALUES
 (4, X'C6336401', '198.51.100.1', 32, 'bob', 'pop3', $now - 900, $now - 900, $now + 900, 1),
 (4, X'C6336408', '198.51.100.8', 32, 'old', 'imap', $now - 9000, $now - 9000, $now - 7200, 1);
SQL

# query_case NAME PYTHON-CHECK: runs the query as JSON and checks its rows.
query_case() {
	local name=$1 check=$2
	run -c "$T/queries.conf" --json audit --query "$name"
	if [ "$rc" != 0 ]; then
		bad "audit --query $name" "exit $rc"
		return
	fi
	if "$PY" -c "import json,sys; rows=json.load(open(sys.argv[1])); $check" "$T/out" 2> "$T/pyerr"; then
		ok "audit --query $name: the expected rows"
	else
		bad "audit --query $name" "$(tail -1 "$T/pyerr"); got $(head -c 600 "$T/out")"
	fi
}
query_case who-relayed "assert [(r['client_ip'], r['sasl_username'], r['rule'], r['relayed']) for r in rows] == [('198.51.100.1','-','grant','3'), ('198.51.100.2','alice','sasl','2')], rows"
query_case grant-origins "assert [(r['username'], r['ip'], r['line']) for r in rows] == [('bob','198.51.100.1','pop3-login: Login: user=<bob>')], rows"
query_case top-refused "assert [(r['client_ip'], r['total'], r['rejected'], r['no_opinion']) for r in rows] == [('203.0.113.5','5','1','4'), ('198.51.100.2','2','2','0'), ('198.51.100.7','1','0','0')], rows"
query_case sender-mismatches "assert [(r['sasl_username'], r['attempts'], r['senders']) for r in rows] == [('alice','2','2')], rows"
query_case store-errors "assert [(r['program'], r['errors']) for r in rows] == [('policyd','1')], rows"
query_case active-grants "assert [(r['ip'], r['username'], r['logins']) for r in rows] == [('198.51.100.1','bob','1')], rows"
query_case rejects-last-hour "assert sorted(r['rule'] for r in rows) == ['sender_mismatch','sender_mismatch','suspended'], rows"
query_case admin-changes "assert rows and rows[0]['action'] == 'init', rows"
db_sql "$QDB" <<SQL
INSERT INTO limit_refusals (ts, subject, kind, window_seconds) VALUES
 ($now - 60, 'eve', 'recipients', 3600), ($now - 50, 'eve', 'messages', 86400),
 ($now - 8 * 86400, 'old', 'messages', 3600);
INSERT INTO users (username, suspended, changed) VALUES ('eve', 1, $now);
SQL
query_case limit-breaches "assert [(r['username'], r['refused'], r['limits'], r['suspended']) for r in rows] == [('eve','2','messages/86400s,recipients/3600s','yes')], rows"
if [ "$PGSQL" = 1 ]; then
	audit_sql=$(dirname "$0")/../../sql/pgsql/audit.sql
else
	audit_sql=$(dirname "$0")/../../sql/audit.sql
fi
want="active-grants admin-changes grant-origins limit-breaches rejects-last-hour sender-mismatches store-errors top-refused who-relayed "

# Every query of audit.sql is covered above, and the file runs whole in
# sqlite3 (psql on PostgreSQL, as an auditor would run it).
names=$(sed -n 's/^-- name: *//p' "$audit_sql" | sort | tr '\n' ' ')
[ "$names" = "$want" ] && ok "${audit_sql#*/../../}: every query has a case here" ||
	bad "${audit_sql#*/../../} names" "got $names, want $want"
if [ "$PGSQL" = 1 ]; then
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U authrelay -d authrelay \
		-f "$audit_sql" > "$T/all.out" 2> "$T/err"
else
	sqlite3 -header -column "$QDB" < "$audit_sql" > "$T/all.out" 2> "$T/err"
fi
if [ $? = 0 ] && [ ! -s "$T/err" ]; then
	ok "the whole ${audit_sql#*/../../} runs in $([ "$PGSQL" = 1 ] && echo psql || echo sqlite3)"
else
	bad "${audit_sql#*/../../} as a whole" "$(cat "$T/err")"
fi
# (the list is the same on both backends)
run -c "$T/queries.conf" audit --query list
[ "$rc" = 0 ] && [ "$(grep -c . "$T/out")" = 10 ] && ok "audit --query list: a header and 9 queries" ||
	bad "audit --query list" "rc=$rc $(cat "$T/out")"
run -c "$T/queries.conf" audit --query no-such-query
[ "$rc" = 64 ] && ok "audit --query of an unknown name: exit 64" || bad "unknown query" "rc=$rc"
run -c "$T/queries.conf" audit --query who-relayed --since 1h
[ "$rc" = 64 ] && ok "audit --query with a filter: exit 64" || bad "query with filter" "rc=$rc"

# tests/ctl/cases_status.sh -- sourced by run.sh: authrelayctl status
# against a real authrelay-policyd from the build (daemon mode, a free
# loopback port, its pidfile in the temp dir), running, stopped and
# killed: the exit status, the --json object, the decisions it made,
# loginwatch lag from a checkpoint, store errors of the last hour, colour
# only on a tty. On PostgreSQL the checkpoint row names this host (two
# loginwatch hosts never share one) and the database is the server's.

SD=$T/status
mkdir -p "$SD"
# The daemon drops to nobody (as root) and must reach its database and
# create the WAL index beside it.
chmod 0711 "$T"
chmod 0755 "$SD"
[ "$(id -u)" = 0 ] && chown nobody "$SD"
POLICYD=$BUILD/authrelay-policyd
SPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCONF=$SD/authrelay.conf
db_fresh status/status
SDB=$FRESH_DB
db_conf "$SCONF" "$SDB"
{
	[ "$(id -u)" = 0 ] && echo "run_user = nobody"
	echo "policyd_listen = inet:127.0.0.1:$SPORT"
	echo "policyd_pidfile = $SD/policyd.pid"
	echo "milter_pidfile ="
	echo "loginwatch_pidfile ="
	echo "loginwatch_sources = $SD/dovecot.log"
} >> "$SCONF"
# Whatever happens, the daemon started here is stopped by its PID.
st_pid=""
st_stop() {
	if [ -n "$st_pid" ]; then
		kill "$st_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$st_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$st_pid" 2>/dev/null
		st_pid=""
	fi
}
trap 'st_stop; ctl_cleanup' EXIT
st_start() { # starts policyd (it detaches) and waits for its pidfile and port
	rm -f "$SD/policyd.pid"
	if ! "$POLICYD" -c "$SCONF" 2> "$T/err"; then
		bad "status: start policyd" "$(cat "$T/err")"
		return 1
	fi
	for _ in $(seq 100); do
		st_pid=$(cat "$SD/policyd.pid" 2>/dev/null)
		if [ -n "$st_pid" ] && "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$SPORT" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	bad "status: start policyd" "no pidfile or no listener after 10 s"
	return 1
}
# st_json PYTHON-CHECK: status --json, exit status in rc, the object as d
st_case() { # LABEL WANT_RC PYTHON-CHECK [ARGS...]
	local label=$1 want=$2 check=$3
	shift 3
	run -c "$SCONF" --json status "$@"
	if [ "$rc" != "$want" ]; then
		bad "status $label" "exit status got $rc, want $want; $(head -c 400 "$T/out")"
	elif "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); $check" "$T/out" 2> "$T/pyerr"; then
		ok "status $label"
	else
		bad "status $label" "$(tail -1 "$T/pyerr")"
	fi
}
db_init "$SCONF"
expect_rc "status: init" 0 || true
printf 'x%.0s' $(seq 250) > "$SD/dovecot.log"

# ---- no daemon, no pidfile: not configured, exit 0; --expect makes it count ----
unit_enabled=$(ls /etc/systemd/system/*.wants/authrelay-policyd.service 2>/dev/null)
if [ -z "$unit_enabled" ]; then
	st_case "(policyd never started): stopped, not configured, exit 0" 0 \
		"p=d['daemons'][0]; assert (p['name'], p['state'], p['configured'], d['ok']) == ('policyd', 'stopped', False, True), p"
else
	ok "status (policyd never started): skipped, this host enables authrelay-policyd.service"
fi
st_case "--expect policyd (never started): exit 1" 1 \
	"p=d['daemons'][0]; assert (p['state'], p['configured'], p['configured_why'], d['ok']) == ('stopped', True, 'named by --expect', False), p" \
	--expect policyd
st_case "milter and loginwatch with empty pidfile keys: not configured" 0 \
	"assert [(x['name'], x['configured'], x['configured_why']) for x in d['daemons'][1:]] == [('milter', False, 'no pidfile configured'), ('loginwatch', False, 'no pidfile configured')], d['daemons']"

if st_start; then
	# ---- running: up, its pid, its version, exit 0 ----
	want_version=$("$POLICYD" -V | awk '{print $2}')
	st_case "(policyd running): up, pid of the pidfile, version $want_version, exit 0" 0 \
		"p=d['daemons'][0]; assert (p['state'], p['up'], p['pid'], p['version'], p['configured']) == ('up', True, $st_pid, '$want_version', True), p; assert 0 <= p['uptime_seconds'] < 120, p; assert d['ok'] is True"

	# ---- real decisions: 2 dunno (a stranger), 3 permit sasl ----
	"$PY" - "$SPORT" <<'PYEOF' > "$T/replies"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10)
def ask(**a):
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
            "client_address": "203.0.113.9", "sender": "x@example.org", "recipient": "r@example.net",
            "sasl_username": "", "queue_id": ""}
    base.update(a)
    s.sendall("".join("%s=%s\n" % kv for kv in base.items()).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n\n"):
        buf += s.recv(4096)
    print(buf.decode().strip())
for _ in range(2):
    ask()
for _ in range(3):
    ask(sasl_username="alice", client_address="198.51.100.4", sasl_method="PLAIN")
PYEOF
	if [ "$(sort "$T/replies" | uniq -c | awk '{print $1 " " $2}' | tr '\n' ';')" = "2 action=DUNNO;3 action=OK;" ]; then
		ok "status: policyd answered 2 DUNNO and 3 OK"
	else
		bad "status: policyd replies" "got $(tr '\n' ';' < "$T/replies")"
	fi
	# The decision rows are written in batches (at most 20 ms apart).
	for _ in $(seq 50); do
		[ "$(db_sql "$SDB" "select count(*) from decision_log" 2>/dev/null)" = 5 ] && break
		sleep 0.1
	done
	# ---- loginwatch: a checkpoint 100 bytes into the 250-byte file, a login ----
	now=$(date +%s)
	read -r dev ino < <("$PY" -c 'import os,sys; s=os.stat(sys.argv[1]); print(s.st_dev, s.st_ino)' "$SD/dovecot.log")
	if [ "$PGSQL" = 1 ]; then
		cp_cols='host, source, dev, ino, "offset"' cp_host="'$(hostname)', "
	else
		cp_cols='source, dev, ino, offset' cp_host=""
	fi
	db_sql "$SDB" <<SQL
INSERT INTO loginwatch_checkpoints ($cp_cols, line_hash, updated)
 VALUES ($cp_host'$SD/dovecot.log', $dev, $ino, 100, 0, $now - 30);
INSERT INTO grant_log (event, ip, prefix_len, username, service, login_time, expires_at, source, line)
 VALUES ('login', '192.0.2.44', 32, 'bob', 'imap', $now - 600, $now + 1200, '$SD/dovecot.log', 'imap-login: Login: user=<bob>'),
        ('login', '192.0.2.45', 32, 'carl', 'imap', $now - 300, $now + 1500, '$SD/dovecot.log', 'imap-login: Login: user=<carl>');
INSERT INTO grants (family, net, ip, prefix_len, username, service, first_seen, last_seen, expires_at, logins)
 VALUES (4, X'C000022D', '192.0.2.45', 32, 'carl', 'imap', $now - 300, $now - 300, $now + 1500, 1);
INSERT INTO decision_log (ts, program, client_ip, verdict, rule, reason)
 VALUES ($now - 1200, 'milter', '192.0.2.1', 'tempfail', 'store_error', 'locked'),
        ($now - 7200, 'milter', '192.0.2.1', 'tempfail', 'store_error', 'older than an hour');
SQL
	last_login=$(date -u -d "@$((now - 300))" +%Y-%m-%dT%H:%M:%SZ)
	st_case "decisions of the last hour by verdict and rule = what policyd answered" 0 \
		"got=sorted((r['verdict'], r['rule'], r['decisions']) for r in d['decisions_last_hour']['by_rule']); want=[('dunno', 'none', 2), ('permit', 'sasl', 3), ('tempfail', 'store_error', 1)]; assert got == want, 'got %r, want %r' % (got, want); assert d['decisions_last_hour']['total'] == 6"
	st_case "loginwatch: last login, checkpoint 100 of 250 bytes, lag 150" 0 \
		"s=d['loginwatch'][0]; got=(s['source'], s['last_login'], s['logins'], s['checkpoint_offset'], s['file_size'], s['lag_bytes'], s['same_file']); want=('$SD/dovecot.log', '$last_login', 2, 100, 250, 150, True); assert got == want, 'got %r, want %r' % (got, want)"
	st_case "active grants 1, store errors of the last hour 1 (milter)" 0 \
		"got=(d['grants_active'], d['store_errors_last_hour']['total'], [(r['program'], r['errors']) for r in d['store_errors_last_hour']['by_program']]); want=(1, 1, [('milter', 1)]); assert got == want, 'got %r, want %r' % (got, want)"
	if [ "$PGSQL" = 1 ]; then
		# (no file: no size and no last write time)
		st_case "database: pgsql, its URI, schema current" 0 \
			"db=d['database']; got=(db['backend'], db['location'], db['schema_version'] == db['schema_latest']); want=('pgsql', '$SDB', True); assert got == want, 'got %r, want %r' % (got, want); assert db['newest_decision'], db"
	else
		st_case "database: sqlite, the file's size, schema current" 0 \
			"db=d['database']; import os; got=(db['backend'], db['location'], db['size_bytes'], db['schema_version'] == db['schema_latest']); want=('sqlite', '$SDB', os.path.getsize('$SDB'), True); assert got == want, 'got %r, want %r' % (got, want); assert db['last_write'] and db['newest_decision'], db"
	fi

	# ---- the screen: no colour into a pipe or with NO_COLOR, colour on a tty ----
	run -c "$SCONF" status
	if [ "$rc" = 0 ] && grep -q '^  policyd  *up  *pid '"$st_pid"', version' "$T/out" && ! grep -q $'\033' "$T/out" &&
		grep -q 'lag 150 B' "$T/out" && grep -q '^ok: every configured daemon is up' "$T/out"; then
		ok "status (text, a pipe): policyd up with its pid, lag 150 B, no colour, ok line"
	else
		bad "status (text)" "rc=$rc: $(cat "$T/out")"
	fi
	TERM=xterm script -qec "$CTL -c $SCONF status" /dev/null > "$T/tty" 2>&1
	TERM=xterm NO_COLOR=1 script -qec "$CTL -c $SCONF status" /dev/null > "$T/tty-nocolor" 2>&1
	TERM=xterm script -qec "$CTL -c $SCONF --json status" /dev/null > "$T/tty-json" 2>&1
	if grep -q $'\033\\[32mup' "$T/tty" && ! grep -q $'\033' "$T/tty-nocolor" && ! grep -q $'\033' "$T/tty-json"; then
		ok "status on a terminal: colour; none with NO_COLOR=1 or --json"
	else
		bad "status colour" "tty: $(grep -c $'\033' "$T/tty") lines with escapes; NO_COLOR: $(grep -c $'\033' "$T/tty-nocolor"); --json: $(grep -c $'\033' "$T/tty-json")"
	fi

	# ---- killed: the pidfile stays, unlocked: down, exit 1 ----
	kill -9 "$st_pid"
	for _ in $(seq 50); do kill -0 "$st_pid" 2>/dev/null || break; sleep 0.1; done
	killed=$st_pid
	st_pid=""
	st_case "(policyd killed with -9): down, exit 1" 1 \
		"p=d['daemons'][0]; assert (p['state'], p['up'], p['pid'], p['configured'], d['ok']) == ('down', False, $killed, True, False), p"
	run -c "$SCONF" status
	if [ "$rc" = 1 ] && grep -q '^  policyd  *down  *pidfile left by pid '"$killed"', which is gone' "$T/out" &&
		grep -qx 'trouble: policyd down' "$T/out"; then
		ok "status (text) after kill -9: down, the pid named, \"trouble: policyd down\", exit 1"
	else
		bad "status (text) after kill -9" "rc=$rc: $(cat "$T/out")"
	fi
fi

# ---- stopped by SIGTERM: --expect policyd still exits 1 ----
if st_start; then
	stopped=$st_pid
	st_stop
	st_case "--expect policyd after SIGTERM (pid $stopped): not up, exit 1" 1 \
		"p=d['daemons'][0]; assert p['up'] is False and p['configured'] is True and d['ok'] is False, p" \
		--expect policyd
fi

# ---- the database missing: exit 1, the daemons still shown ----
printf 'database = %s\npolicyd_pidfile = %s\nmilter_pidfile =\nloginwatch_pidfile =\n' "$SD/nope.db" "$SD/none.pid" > "$SD/nodb.conf"
run -c "$SD/nodb.conf" --json status
if [ "$rc" = 1 ] && "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["database"]["ok"] is False and len(d["daemons"]) == 3' "$T/out" 2>/dev/null &&
	[ ! -e "$SD/nope.db" ]; then
	ok "status with the database missing: exit 1, database.ok false, daemons listed, nothing created"
else
	bad "status without a database" "rc=$rc: $(head -c 300 "$T/out")"
fi
usage_case "status --expect of an unknown daemon" -c "$SCONF" status --expect policyd,postfix

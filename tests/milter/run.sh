#!/bin/bash
# NAME
#	run.sh - authrelay-milter against miltertest, one Lua script per rule
# SUMMARY
#	AUTHRELAY_BUILD=/abs/build bash tests/milter/run.sh   (make check)
# DESCRIPTION
#	Starts the real authrelay-milter (foreground) with a temporary
#	configuration and a temporary database on a unix: socket, runs each
#	script in this directory against it, and checks the decision lines the
#	milter logged for each script (the reply code alone cannot tell a 554
#	from a 451: miltertest shows both as "replycode"). Then the same on an
#	inet: socket (free loopback port), SIGUSR1 reload, -n, and the
#	decisions rows in the database after a clean stop.
#
#	Data (sqlite3 on the schema from sql/):
#	  grants   127.0.0.20/32 and ::1/128, live for an hour
#	  alice    owns alice@lab.test and @alice.example
#	  carol    owns carol@lab.test, suspended
#	The store error is made by renaming the grants table under the
#	running milter (in WAL mode a lock would not stop readers), and
#	repaired afterwards.
#
#	AUTHRELAY_BACKEND=pgsql runs the same against a private PostgreSQL
#	15 (tests/pg.sh, the roles of conf-examples/postgresql); there the
#	store error is PostgreSQL stopped under the running milter (451,
#	never a permit), and after it is started again the same milter,
#	not restarted, accepts the granted client.
#
#	VALGRIND=1 runs the milter under valgrind (memory errors, definite
#	and indirect leaks; libmilter needed no suppression: what it keeps
#	until exit is still reachable, not lost).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${AUTHRELAY_BUILD:-$SRC/build}
MILTER=${MILTER_BIN:-$BUILD/authrelay-milter}
. "$HERE/../common.sh"	# stop_pid

pass=0
failed=0
T=""
PIDS=()

say_pass() { printf 'PASS %s\n' "$1"; pass=$((pass + 1)); }
say_fail() { printf 'FAIL %s%s\n' "$1" "${2:+: $2}"; failed=$((failed + 1)); }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	[ -n "${PG_DIR:-}" ] && pg_stop
	[ -n "$T" ] && [ "${MILTER_KEEP:-0}" != 1 ] && rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for t in miltertest sqlite3; do
	command -v "$t" >/dev/null || { echo "missing $t (make deps)"; echo "0 passed, 1 failed"; exit 1; }
done
[ -x "$MILTER" ] || { echo "$MILTER is not built"; echo "0 passed, 1 failed"; exit 1; }

T=$(mktemp -d /tmp/authrelay-milter-test.XXXXXX)
chmod 0755 "$T"
if [ "$(id -u)" = 0 ]; then
	RUN_USER=nobody
else
	RUN_USER=$(id -un)
fi
mkdir -p "$T/db" "$T/run"
chown "$RUN_USER" "$T/db" "$T/run" 2>/dev/null
DB=$T/db/authrelay.db
PGSQL=0
[ "${AUTHRELAY_BACKEND:-sqlite}" = pgsql ] && PGSQL=1

sql() { sqlite3 -batch -cmd '.timeout 5000' "$DB" "$@"; }

# ---- the database ----
now=$(date +%s)
if [ "$PGSQL" = 1 ]; then
	. "$SRC/tests/pg.sh"
	pg_start && pg_init "$BUILD" ||
		{ echo "PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
	chown "$RUN_USER" "$PG_PASSFILE"
	DB=$PG_CONNINFO
	# one statement as an argument, or a script on stdin
	sql() {
		if [ $# -gt 0 ]; then pg_psql "$1"; else
			"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
				-U authrelay -d authrelay -f -
		fi
	}
	sql <<EOF
INSERT INTO grants (family, net, ip, prefix_len, username, service, first_seen, last_seen, expires_at)
  VALUES (4, '\x7F000014', '127.0.0.20', 32, 'popuser', 'pop3', $now, $now, $now + 3600),
         (6, '\x00000000000000000000000000000001', '::1', 128, 'v6user', 'imap', $now, $now, $now + 3600);
EOF
else
{
	cat "$SRC"/sql/[0-9][0-9][0-9]-*.sql
	n=$(ls "$SRC"/sql/[0-9][0-9][0-9]-*.sql | wc -l)
	printf 'PRAGMA application_id = %d;\nPRAGMA user_version = %d;\n' $((0x41524c59)) "$n"
	printf 'PRAGMA journal_mode = WAL;\n'
} | sqlite3 -batch "$DB" >/dev/null || { echo "cannot create the database"; echo "0 passed, 1 failed"; exit 1; }
sql <<EOF
INSERT INTO grants (family, net, ip, prefix_len, username, service, first_seen, last_seen, expires_at)
  VALUES (4, X'7F000014', '127.0.0.20', 32, 'popuser', 'pop3', $now, $now, $now + 3600),
         (6, X'00000000000000000000000000000001', '::1', 128, 'v6user', 'imap', $now, $now, $now + 3600);
EOF
fi
sql <<EOF
INSERT INTO users (username, suspended, changed) VALUES
  ('alice@lab.test', 0, $now), ('carol@lab.test', 1, $now);
INSERT INTO sender_rights (username, pattern, added) VALUES
  ('alice@lab.test', 'alice@lab.test', $now), ('alice@lab.test', '@alice.example', $now),
  ('carol@lab.test', 'carol@lab.test', $now);
EOF
chown "$RUN_USER" "$DB"* 2>/dev/null

# conf NAME SOCKET [key = value ...]: a configuration file
conf() {
	local name=$1 socket=$2
	shift 2
	{
		printf 'database = %s\nrun_user = %s\nlog_level = debug\n' "$DB" "$RUN_USER"
		[ "$PGSQL" = 1 ] && printf 'database_password_file = %s\n' "$PG_PASSFILE"
		printf 'sender_login_check = both\n'
		printf 'milter_socket = %s\nmilter_pidfile = %s/run/%s.pid\n' "$socket" "$T" "$name"
		printf '%s\n' "$@"
	} >"$T/$name.conf"
}

# start NAME: the milter in the foreground, its log in $T/NAME.log
start() {
	local name=$1 i
	if [ "${VALGRIND:-0}" = 1 ]; then
		valgrind -q --vgdb=no --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=99 --log-file="$T/$name.valgrind" \
			"$MILTER" -f -c "$T/$name.conf" >"$T/$name.log" 2>&1 &
	else
		"$MILTER" -f -c "$T/$name.conf" >"$T/$name.log" 2>&1 &
	fi
	MPID=$!
	PIDS+=("$MPID")
	for i in $(seq 1 400); do
		grep -q 'started: socket' "$T/$name.log" 2>/dev/null && return 0
		kill -0 "$MPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "milter $name did not start:"
	cat "$T/$name.log"
	return 1
}

# script NAME SOCKET LOG EXPECTED...: runs NAME.lua, then checks that each
# EXPECTED appears, in order, among the lines the milter logged meanwhile:
# "verdict rule" for a decision line, "=CODE X.Y.Z" for a reply.
script() {
	local name=$1 socket=$2 log=$3 before out e got
	shift 3
	before=$(wc -l <"$log")
	if ! out=$(miltertest -D "socket=$socket" -D "lib=$HERE/lib.lua" -s "$HERE/$name.lua" 2>&1); then
		say_fail "$name" "$(printf '%s' "$out" | grep -m1 'FAIL' || echo "miltertest failed: $out")"
		return
	fi
	# the lines are written before the reply is sent; allow a slow machine
	sleep 0.1
	got=$(tail -n +"$((before + 1))" "$log" | sed -nE \
		-e 's/.* decision .*verdict=([^ ]*) rule=([^ ]*).*/\1 \2/p' \
		-e 's/.*debug: reply: ([0-9]{3} [0-9.]+) .*/=\1/p')
	for e in "$@"; do
		if ! printf '%s\n' "$got" | grep -qxF -- "$e"; then
			say_fail "$name" "no \"$e\" logged in order; left: $(printf '%s' "$got" | tr '\n' ';')"
			return
		fi
		# drop everything up to and including the first match: order counts
		got=$(printf '%s\n' "$got" | awk -v e="$e" 'done { print } !done && $0 == e { done = 1 }')
	done
	say_pass "$name"
}

# ---- unix: socket, every rule ----
SOCK=$T/run/milter.sock
conf unix "unix:$SOCK"
if start unix; then
	U="unix:$SOCK"
	L=$T/unix.log
	script unauth_relay_refused "$U" "$L" "reject none" "=554 5.7.1" "reject none" "=554 5.7.1"
	script local_recipient_accepted "$U" "$L"
	script grant_ip_accepted "$U" "$L" "permit grant"
	script sasl_user_accepted "$U" "$L" "permit sasl" "permit sasl" "permit sasl" "permit sasl" \
		"reject sender_mismatch" "=554 5.7.1"
	script suspended_user_refused "$U" "$L" "reject suspended" "=554 5.7.1"
	script header_mismatch_refused "$U" "$L" "permit sasl" "reject sender_mismatch" "=550 5.7.1" \
		"permit sasl" "reject bad_request" "=550 5.7.1" "permit sasl" "reject bad_request" \
		"=550 5.7.1" "permit grant"
	script from_multi_encoded "$U" "$L" "permit sasl" "permit sasl" "reject sender_mismatch" \
		"permit sasl" "permit sasl" "permit sasl" "permit sasl" "reject sender_mismatch" \
		"permit sasl" "permit sasl" "permit sasl" "permit sasl" "reject bad_request"
	script ipv6_client "$U" "$L" "permit grant" "permit grant" "permit grant"
	script overlong_refused "$U" "$L" "reject bad_request" "=554 5.7.1" "reject bad_request" "=554 5.7.1"
	script data_accept "$U" "$L" "permit grant" "permit sasl" "reject sender_mismatch" \
		"=550 5.7.1" "permit sasl" "permit sasl" "reject none" "=554 5.7.1" "reject none" "=554 5.7.1"
	if [ "$PGSQL" = 1 ]; then
		pg_pause
		for _ in $(seq 1 100); do grep -q 'connection lost' "$L" && break; sleep 0.05; done
		script store_error_tempfail "$U" "$L" "tempfail store_error" "=451 4.3.0"
		pg_resume
		for _ in $(seq 1 300); do grep -q 'connection back' "$L" && break; sleep 0.05; done
	else
		sql 'ALTER TABLE grants RENAME TO grants_broken'
		script store_error_tempfail "$U" "$L" "tempfail store_error" "=451 4.3.0"
		sql 'ALTER TABLE grants_broken RENAME TO grants'
	fi
	script grant_ip_accepted "$U" "$L" "permit grant"

	# the socket's mode
	mode=$(stat -c %a "$SOCK")
	[ "$mode" = 660 ] && say_pass "unix socket mode 0660" || say_fail "unix socket mode" "got $mode, want 660"

	# SIGUSR1: trusted_networks now holds 127.0.0.10
	printf 'trusted_networks = 127.0.0.10\n' >>"$T/unix.conf"
	kill -USR1 "$MPID"
	for _ in $(seq 1 100); do grep -q 'reload: configuration' "$L" && break; sleep 0.05; done
	script grant_ip_accepted "$U" "$L" "permit grant"
	script reload_trusted "$U" "$L" "permit trusted"

	# clean stop: the queued decision rows are written
	stop_pid "$MPID"
	rows=$(sql "SELECT count(*) FROM decisions WHERE verdict = 'reject' AND rule = 'suspended' AND recipient = 'someone@example.org'")
	[ "$rows" = 1 ] && say_pass "decisions row per verdict (suspended: 1)" ||
		say_fail "decisions rows" "got $rows suspended rows, want 1"
	rows=$(sql "SELECT count(*) FROM decisions WHERE queue_id = 'HDR1' AND verdict = 'reject'")
	[ "$rows" = 1 ] && say_pass "header verdict row carries the queue id" ||
		say_fail "header verdict row" "got $rows rows with queue_id HDR1, want 1"
	rows=$(sql "SELECT count(*) FROM decisions WHERE queue_id = 'DATA2' AND verdict = 'reject' AND rule = 'sender_mismatch'")
	[ "$rows" = 1 ] && say_pass "header verdict row carries the queue id sent at DATA" ||
		say_fail "header verdict row (DATA)" "got $rows rows with queue_id DATA2, want 1"
else
	say_fail "start on unix socket"
fi

# ---- milter_relay_check = no: relay left to Postfix/policyd ----
conf relayoff "unix:$T/run/relayoff.sock" "milter_relay_check = no"
if start relayoff; then
	# no relay decision logged for either relayed recipient; the From:
	# check still rejects alice's message with bob's address
	script relay_left_to_mta "unix:$T/run/relayoff.sock" "$T/relayoff.log" \
		"reject sender_mismatch" "=550 5.7.1"
	if grep -q 'verdict=reject rule=none' "$T/relayoff.log"; then
		say_fail "milter_relay_check = no" "a relay decision was made: $(grep -m1 'rule=none' "$T/relayoff.log")"
	else
		say_pass "milter_relay_check = no: no relay decision of its own"
	fi
	script relay_check_not_postfix "unix:$T/run/relayoff.sock" "$T/relayoff.log" \
		"reject none" "=554 5.7.1" "reject none" "=554 5.7.1"
	stop_pid "$MPID"
else
	say_fail "start with milter_relay_check = no"
fi

# ---- sending limits: the same logic as policyd (lib/frontend_limit) ----
conf limits "unix:$T/run/limits.sock" "limit_recipients = 3/1h"
if start limits; then
	script limits "unix:$T/run/limits.sock" "$T/limits.log" "permit grant" "permit grant" \
		"permit grant" "permit grant" "tempfail rate_limit" "=450 4.7.1" "permit grant" \
		"tempfail rate_limit" "=450 4.7.1"
	stop "$MPID"
	got=$(sql "SELECT used FROM limit_usage WHERE username = 'popuser' AND kind = 'recipients'")
	[ "$got" = 3 ] && say_pass "limits: limit_usage shows popuser's 3 of 3" ||
		say_fail "limits: limit_usage" "got '$got', want 3"
else
	say_fail "start with limits"
fi

# ---- inet: socket on a free loopback port ----
port=""
for _ in $(seq 1 100); do
	p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
	ss -Hatn "( sport = :$p )" 2>/dev/null | grep -q . || { port=$p; break; }
done
conf inet "inet:127.0.0.1:$port"
if [ -n "$port" ] && start inet; then
	I="inet:$port@127.0.0.1"
	script unauth_relay_refused "$I" "$T/inet.log" "reject none" "reject none"
	script sasl_user_accepted "$I" "$T/inet.log" "permit sasl" "permit sasl" "permit sasl" \
		"permit sasl" "reject sender_mismatch" "=554 5.7.1"
	stop_pid "$MPID"
	grep -Eq 'stopping \([1-9][0-9]* inet connections tuned' "$T/inet.log" &&
		say_pass "inet connections got TCP_NODELAY" ||
		say_fail "TCP_NODELAY" "$(grep stopping "$T/inet.log")"
else
	say_fail "start on inet socket (port ${port:-none})"
fi

# ---- -n ----
if "$MILTER" -n -c "$T/unix.conf" >"$T/n.out" 2>&1; then
	say_pass "-n accepts a good configuration"
else
	say_fail "-n good configuration" "$(cat "$T/n.out")"
fi
conf bad "inet:127.0.0.1"
"$MILTER" -n -c "$T/bad.conf" >"$T/n.out" 2>&1
rc=$?
[ "$rc" = 78 ] && say_pass "-n refuses a bad milter_socket (78)" ||
	say_fail "-n bad configuration" "got $rc, want 78: $(cat "$T/n.out")"

if [ "${VALGRIND:-0}" = 1 ]; then
	for f in "$T"/*.valgrind; do
		if [ -s "$f" ]; then say_fail "valgrind $(basename "$f")" "$(head -30 "$f")"; else say_pass "valgrind $(basename "$f")"; fi
	done
fi

[ "$failed" = 0 ] || { for f in "$T"/*.log; do echo "---- $f"; tail -n 30 "$f"; done; }
echo "$pass passed, $failed failed"
[ "$failed" = 0 ]

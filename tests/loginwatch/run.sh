#!/bin/bash
# tests/loginwatch/run.sh -- authrelay-loginwatch against real files and a
# temporary database: start-up read, append, rename rotation, copytruncate,
# a file created later, forged user names, an overlong line, restart without
# double counting, kill -9 in a burst of 100,000 lines across rotations
# (compared with one clean --scan), stdin, -n; the journal (journal.sh) and
# the auth-policy listener (reports.sh).
# Prints one line per case and "N passed, M failed"; exits 1 on a failure.
#
# AUTHRELAY_BACKEND=pgsql: the same against a private PostgreSQL 15
# (tests/pg.sh, the roles of conf-examples/postgresql). Each section's
# "database" is then the one PostgreSQL database, emptied by mkdb; the
# kill -9 burst is compared with a clean --scan into an SQLite file, so
# both backends must store exactly the same grants and lines. The
# journal source and the auth-policy listener (scripts of their own) run
# in the SQLite pass only.
set -u
BUILD=${AUTHRELAY_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
BIN=$BUILD/authrelay-loginwatch
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/loginwatch-test.XXXXXX)
# 0755, owned by the daemon's user (below): the daemons refuse a database in a
# world-writable directory.
chmod 0755 "$T"
[ "$(id -u)" = 0 ] && chown nobody "$T"
PIDS=""
. "$HERE/../common.sh"

cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ -n "${PG_DIR:-}" ] && pg_stop
	if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "(kept $T)"; fi
}
trap cleanup EXIT

# As root the daemon runs as nobody; the test's own sqlite3 queries run as
# nobody too, or a query made while the daemon is down would create the
# WAL files owned by root, which the daemon could then not write.
if [ "$(id -u)" = 0 ]; then
	RUN_USER=nobody
	ASUSER="setpriv --reuid=nobody --regid=nogroup --clear-groups"
else
	RUN_USER=$(id -un)
	ASUSER=
fi

PGSQL=0
if [ "${AUTHRELAY_BACKEND:-sqlite}" = pgsql ]; then
	PGSQL=1
	. "$HERE/../pg.sh"
	pg_start && pg_init "$BUILD" ||
		{ echo "PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
	chown "$RUN_USER" "$PG_PASSFILE"
fi
# on_pg DB -- true when DB stands for the PostgreSQL database (every
# database but the SQLite reference of the burst)
on_pg() { [ "$PGSQL" = 1 ] && [ "$1" != "${REF:-}" ]; }

# mkdb DB -- an initialised database owned by RUN_USER
mkdb() {
	if on_pg "$1"; then
		pg_psql "DELETE FROM grants; DELETE FROM grant_log; DELETE FROM loginwatch_checkpoints"
		return
	fi
	rm -f "$1" "$1"-wal "$1"-shm
	if [ -x "$BUILD/authrelayctl" ] && "$BUILD/authrelayctl" -c "$(conf_for "$1" /dev/null)" init >/dev/null 2>&1; then
		:
	else
		# Until authrelayctl exists: an empty file with authrelay's
		# application_id; the daemon applies the migrations on open.
		sqlite3 "$1" "PRAGMA application_id = $((0x41524c59));"
	fi
	[ "$(id -u)" = 0 ] && chown "$RUN_USER" "$1"
	"$BIN" -c "$(conf_for "$1" /dev/null)" --scan /dev/null >/dev/null 2>&1
}

# conf_for DB SOURCES... -- writes a config, prints its path
conf_for() {
	local db=$1; shift
	local c=$T/conf.$RANDOM$RANDOM
	{
		if on_pg "$db"; then
			echo "database = $PG_CONNINFO"
			echo "database_password_file = $PG_PASSFILE"
		else
			echo "database = $db"
		fi
		echo "run_user = $RUN_USER"
		echo "log_level = info"
		echo "grant_ttl = 1d"
		echo "grant_exclude_networks = 192.0.2.200/32"
		echo "loginwatch_sources = $*"
		echo "loginwatch_pidfile ="
	} > "$c"
	echo "$c"
}

stamp() { date '+%b %e %H:%M:%S'; }
# login IP [USER] -- a Dovecot login line stamped now
login() { echo "$(stamp) mail dovecot: imap-login: Login: user=<${2:-u}>, method=PLAIN, rip=$1, lip=127.0.0.1, mpid=1, TLS, session=<s>"; }
noise() { echo "$(stamp) mail postfix/smtpd[1]: connect from unknown[192.0.2.99]"; }

q() {
	if on_pg "$DB"; then
		pg_psql "$(printf '%s' "$1" | sed "s/group_concat(\([^)]*\))/string_agg(\1, ',')/")" 2>/dev/null
	else
		$ASUSER sqlite3 -cmd ".timeout 5000" "$DB" "$1" 2>/dev/null
	fi
}
# wait_for SQL WANT [SECONDS] -- until the query prints WANT
wait_for() {
	local i=0 limit=$(( ${3:-10} * 20 ))
	while [ $i -lt $limit ]; do
		[ "$(q "$1")" = "$2" ] && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}
logins_of() { q "SELECT logins FROM grants WHERE ip = '$1'"; }

DLOG=$T/daemon.log
start() { "$BIN" -c "$CONF" -f 2>>"$DLOG" & DPID=$!; PIDS="$PIDS $DPID"; }
stop() { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }

[ -x "$BIN" ] || { echo "no $BIN"; echo "0 passed, 1 failed"; exit 1; }

# ---------------------------------------------------------------- following
DB=$T/follow.db
LOG=$T/mail.log
LATER=$T/later/dovecot.log
mkdir -p "$T/later.parent"
CONF=$(conf_for "$DB" "$LOG" "$LATER")
mkdb "$DB"
login 192.0.2.1 > "$LOG"
noise >> "$LOG"
start

wait_for "SELECT username FROM grants WHERE ip = '192.0.2.1'" u && ok "existing file read at start-up" \
	|| bad "existing file read at start-up" "no grant for 192.0.2.1"

login 2001:db8::5 alice >> "$LOG"
wait_for "SELECT username FROM active_grants WHERE ip = '2001:db8::5'" alice \
	&& ok "appended IPv6 login granted" || bad "appended IPv6 login granted" "no grant"

echo "$(stamp) mail dovecot: imap-login: Login: user=<m>, method=PLAIN, rip=::ffff:192.0.2.6, lip=::1, mpid=1, session=<s>" >> "$LOG"
wait_for "SELECT ip FROM grants WHERE username = 'm'" 192.0.2.6 \
	&& ok "IPv4-mapped stored as IPv4" || bad "IPv4-mapped stored as IPv4" "got '$(q "SELECT ip FROM grants WHERE username='m'")'"

login 192.0.2.200 ex >> "$LOG"
login 192.0.2.7 after-ex >> "$LOG"
wait_for "SELECT username FROM grants WHERE ip = '192.0.2.7'" after-ex
[ -z "$(q "SELECT ip FROM grants WHERE ip = '192.0.2.200'")" ] && ok "grant_exclude_networks honoured" \
	|| bad "grant_exclude_networks honoured" "192.0.2.200 granted"

# Rename rotation: the writer keeps writing to the old file until it
# reopens; the new file is created empty first.
mv "$LOG" "$LOG.1"
login 192.0.2.10 old1 >> "$LOG.1"
: > "$LOG"
login 192.0.2.11 old2 >> "$LOG.1"
sleep 0.3
login 192.0.2.12 new1 >> "$LOG"
if wait_for "SELECT count(*) FROM grants WHERE ip IN ('192.0.2.10','192.0.2.11','192.0.2.12')" 3; then
	ok "rename rotation: old file finished, new file read"
else
	bad "rename rotation" "grants: $(q "SELECT group_concat(ip) FROM grants")"
fi

# copytruncate
login 192.0.2.20 ct1 >> "$LOG"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.20'" 1
cp "$LOG" "$LOG.ct"
: > "$LOG"
sleep 0.2
login 192.0.2.21 ct2 >> "$LOG"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.21'" 1 \
	&& ok "copytruncate: read again from 0" || bad "copytruncate" "no grant for 192.0.2.21"
[ "$(logins_of 192.0.2.20)" = 1 ] && ok "copytruncate: nothing counted twice" \
	|| bad "copytruncate: nothing counted twice" "logins $(logins_of 192.0.2.20)"

# copytruncate racing the reader (SIGSTOP holds it): a line written after
# its last read is only in the copy, which is finished first.
kill -STOP "$DPID"
login 192.0.2.22 only-in-copy >> "$LOG"
cp "$LOG" "$LOG.ct1"
: > "$LOG"
login 192.0.2.23 after-truncate >> "$LOG"
kill -CONT "$DPID"
if wait_for "SELECT count(*) FROM grants WHERE ip IN ('192.0.2.22', '192.0.2.23')" 2 \
	&& [ "$(logins_of 192.0.2.21)" = 1 ]; then
	ok "copytruncate race: the copy's unread line granted once"
else
	bad "copytruncate race" "$(q "SELECT group_concat(ip || ':' || logins) FROM grants WHERE ip LIKE '192.0.2.2%'")"
fi

# A file (and its directory) that appear later.
mkdir -p "$T/later"
login 192.0.2.30 later > "$LATER"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.30'" 1 \
	&& ok "file created later" || bad "file created later" "no grant for 192.0.2.30"

# Real forged-user-name lines (Dovecot 2.3.19.1), stamped now.
sed -e '/^#/d' -e "s/^[A-Z][a-z][a-z] [ 0-9][0-9] [0-9:]\{8\}/$(stamp)/" \
	"$HERE/samples/dovecot-forged-username.log" >> "$LOG"
login 192.0.2.31 marker >> "$LOG"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.31'" 1
if [ -z "$(q "SELECT ip FROM grant_log WHERE ip LIKE '6.6.6.%'")" ] \
	&& [ "$(q "SELECT count(*) FROM grant_log WHERE username LIKE 'y>, method=plain%'")" = 2 ]; then
	ok "forged user names grant their real rip only"
else
	bad "forged user names" "$(q "SELECT ip, username FROM grant_log WHERE line LIKE '%6.6.6.6%'")"
fi

# An overlong line whose tail is a login line must not be split.
{ printf '%s mail x: ' "$(stamp)"; head -c 9000 /dev/zero | tr '\0' x; login 6.6.6.7 split; login 192.0.2.32 after-long; } >> "$LOG"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.32'" 1
[ -z "$(q "SELECT ip FROM grants WHERE ip = '6.6.6.7'")" ] && [ "$(logins_of 192.0.2.32)" = 1 ] \
	&& ok "overlong line skipped whole" || bad "overlong line skipped whole" "6.6.6.7 granted or next line lost"

# Restart: nothing read twice.
before=$(q "SELECT count(*) FROM grant_log")
stop
start
login 192.0.2.33 restarted >> "$LOG"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.33'" 1
sleep 0.5
after=$(q "SELECT count(*) FROM grant_log")
[ "$after" = $((before + 1)) ] && [ "$(logins_of 192.0.2.1)" = 1 ] \
	&& ok "restart resumes at the checkpoint" || bad "restart resumes at the checkpoint" "grant_log $before -> $after"

# Latency (generous bound: a shared machine).
t0=$(date +%s%N)
login 192.0.2.34 fast >> "$LOG"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.34'" 1 5
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 1000 ] && ok "login visible after ${ms} ms" || bad "latency" "${ms} ms"

grep -q 'grant ip=192.0.2.34/32 user=fast service=imap' "$T/daemon.log" \
	&& ok "grant logged as key=value" || bad "grant logged" "no line in daemon.log"

# SIGHUP: a new grant_exclude_networks applies to the next logins.
sed -i 's|^grant_exclude_networks = .*|grant_exclude_networks = 192.0.2.200/32, 192.0.2.35|' "$CONF"
kill -HUP "$DPID"
i=0; while ! grep -q 'reloaded' "$DLOG" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
login 192.0.2.35 hup-excluded >> "$LOG"
login 192.0.2.36 hup-marker >> "$LOG"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.36'" 1
[ -z "$(q "SELECT ip FROM grants WHERE ip = '192.0.2.35'")" ] && kill -0 "$DPID" 2>/dev/null \
	&& ok "SIGHUP reloads grant_exclude_networks" || bad "SIGHUP reload" "192.0.2.35 granted or daemon gone"
stop

# copytruncate while down, the file refilled past the old offset: the copy
# is finished from the checkpoint, the new content read from 0.
login 192.0.2.37 unread-at-stop >> "$LOG"
cp "$LOG" "$LOG.ct2"
: > "$LOG"
{ login 192.0.2.38 refilled; for _ in $(seq 1 400); do noise; done; } >> "$LOG"
start
if wait_for "SELECT count(*) FROM grants WHERE ip IN ('192.0.2.37', '192.0.2.38')" 2 \
	&& sleep 0.5 && [ "$(logins_of 192.0.2.37)" = 1 ] && [ "$(logins_of 192.0.2.33)" = 1 ]; then
	ok "copytruncate while down: copy finished, nothing twice"
else
	bad "copytruncate while down" "$(q "SELECT group_concat(ip || ':' || logins) FROM grants WHERE ip LIKE '192.0.2.3%'")"
fi
stop

# ---------------------------------------------------- kill -9 in a burst
# 100,000 lines (20% logins over 400 addresses, so counts matter), written
# in 100 chunks; rotation while running, kill -9, more lines and a second
# rotation while down, restart: grants must equal one clean --scan.
DB=$T/burst.db
REF=$T/ref.db
B=$T/burst
mkdir -p "$B"; chmod 0755 "$B"; [ "$(id -u)" = 0 ] && chown "$RUN_USER" "$B"
LOG=$B/mail.log
CONF=$(conf_for "$DB" "$LOG")
mkdb "$DB"
mkdb "$REF"
S=$(stamp)
awk -v s="$S" 'BEGIN { srand(7); for (i = 0; i < 100000; i++) {
	if (i % 5 == 0) { n = int(rand() * 400);
		ip = (n < 200) ? sprintf("198.51.100.%d", n) : sprintf("2001:db8:1::%x", n);
		printf "%s mail dovecot: pop3-login: Login: user=<u%d>, method=PLAIN, rip=%s, lip=127.0.0.1, mpid=%d, TLS, session=<s%d>\n", s, n, ip, i, i }
	else printf "%s mail postfix/smtpd[%d]: connect from unknown[203.0.113.%d]\n", s, i, i % 250 } }' > "$B/all"
chunk() { sed -n "$(( ($1 - 1) * 1000 + 1 )),$(( $1 * 1000 ))p" "$B/all"; }
: > "$LOG"
DLOG=$T/burst.log
start
for c in $(seq 1 30); do chunk "$c" >> "$LOG"; done
mv "$LOG" "$LOG.1"; : > "$LOG"
for c in $(seq 31 50); do chunk "$c" >> "$LOG"; done
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null
for c in $(seq 51 70); do chunk "$c" >> "$LOG"; done
mv "$LOG.1" "$LOG.2"; mv "$LOG" "$LOG.1"; : > "$LOG"
for c in $(seq 71 100); do chunk "$c" >> "$LOG"; done
start

# The reference: one clean pass over the same files, oldest first.
"$BIN" -c "$(conf_for "$REF" /dev/null)" --scan "$LOG.2" "$LOG.1" "$LOG" > "$T/scan.out" 2>/dev/null
want=$(sqlite3 "$REF" "SELECT count(*) FROM grant_log")
if wait_for "SELECT count(*) FROM grant_log" "$want" 60; then
	sleep 1.5	# anything counted twice would show up now
	got=$(q "SELECT count(*) FROM grant_log")
	a=$(q "SELECT ip || ' ' || logins FROM grants ORDER BY ip" | md5sum)
	b=$(sqlite3 "$REF" "SELECT ip || ' ' || logins FROM grants ORDER BY ip" | md5sum)
	l1=$(q "SELECT line FROM grant_log ORDER BY line" | md5sum)
	l2=$(sqlite3 "$REF" "SELECT line FROM grant_log ORDER BY line" | md5sum)
	if [ "$want" = 20000 ] && [ "$got" = "$want" ] && [ "$a" = "$b" ] && [ "$l1" = "$l2" ]; then
		how=$(grep -o 'mail.log: \(finishing the rotated file from offset [0-9]*\|resuming at offset [0-9]*\)' "$DLOG" | tail -1)
		ok "kill -9 + 2 rotations in 100,000 lines: grants equal a clean --scan ($want logins; restart: ${how#*: })"
	else
		bad "kill -9 burst" "grant_log $got want $want (scan: $(cat "$T/scan.out")); grants equal: $([ "$a" = "$b" ] && echo yes || echo no)"
	fi
else
	bad "kill -9 burst" "grant_log $(q "SELECT count(*) FROM grant_log"), want $want"
fi
stop

# ------------------------------------------------------------ stdin, -n
DB=$T/stdin.db
mkdb "$DB"
CONF=$(conf_for "$DB" -)
{ login 192.0.2.40 piped; noise; } | "$BIN" -c "$CONF" -f 2>>"$T/daemon.log"
rc=$?
[ "$rc" = 0 ] && [ "$(logins_of 192.0.2.40)" = 1 ] && ok "stdin source, exit at end of input" \
	|| bad "stdin source" "rc $rc, logins '$(logins_of 192.0.2.40)'"

"$BIN" -c "$CONF" -n >/dev/null 2>&1 && ok "-n accepts a good configuration" \
	|| bad "-n accepts a good configuration" "exit $?"
BADC=$T/bad.conf
{ cat "$CONF"; echo "loginwatch_formats = dovecot sendmail"; } > "$BADC"
"$BIN" -c "$BADC" -n >/dev/null 2>&1; rc=$?
[ "$rc" = 78 ] && ok "-n refuses an unknown format (78)" || bad "-n refuses an unknown format" "exit $rc"
"$BIN" -V | grep -q '^authrelay-loginwatch ' && ok "-V" || bad "-V" "no version"

. "$HERE/cases_progress.sh"

# The journal source and the auth-policy listener have their own scripts
# and databases: they run in the SQLite pass only.
[ "$PGSQL" = 1 ] && { summary; exit; }

# The journal source, in its own mount namespace: its case lines, counted here.
js=0; while IFS= read -r l; do case $l in "ok   "*) echo "$l"; pass=$((pass + 1));; "FAIL "*) echo "$l"; fail=$((fail + 1));; *" passed, "*" failed") js=1;; *) echo "$l";; esac; done < <(bash "$HERE/journal.sh"); [ "$js" = 1 ] || bad "journal.sh" "ended without its summary"

# The auth-policy listener over HTTP: its case lines, counted here.
rs=0; while IFS= read -r l; do case $l in "ok   "*) echo "$l"; pass=$((pass + 1));; "FAIL "*) echo "$l"; fail=$((fail + 1));; *" passed, "*" failed") rs=1;; *) echo "$l";; esac; done < <(bash "$HERE/reports.sh"); [ "$rs" = 1 ] || bad "reports.sh" "ended without its summary"

summary

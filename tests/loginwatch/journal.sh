#!/bin/bash
# tests/loginwatch/journal.sh -- authrelay-loginwatch's "journal" source
# against a real journal file, without touching the host's journal.
#
# Inside a private mount namespace (unshare --mount --propagation private)
# tmpfs is mounted over the directories sd_journal_open(SD_JOURNAL_SYSTEM |
# SD_JOURNAL_LOCAL_ONLY) reads: /var/log/journal (emptied) and /run/log
# (or /run/log/journal when it exists), and entries are written to
# /run/log/journal/<machine-id>/system.journal by systemd-journal-remote
# from journal export format. The file must be named system.journal (or
# system@...): SD_JOURNAL_SYSTEM ignores any other name, e.g. remote.journal.
#
# Cases: a Dovecot login from dovecot.service grants (ip, user, service);
# a failed login, the same login text from another unit (journald sets
# _SYSTEMD_UNIT, the sender cannot) and a login older than grant_ttl do
# not; an entry appended while running is seen (following); a restart
# resumes at the checkpoint (nothing counted twice); a real Dovecot's
# stderr login lines (log_path = /dev/stderr, with and without its own
# stamp) filed from dovecot.service grant, from another unit not.
#
# Without libsystemd in the build it prints "ok   journal: not built (no
# libsystemd)"; when not root (unshare --mount needs it) "ok   journal:
# not run (needs root for unshare --mount)". Both count as passed.
# Prints one line per case and "N passed, M failed"; exits 1 on a failure.
set -u
BUILD=${AUTHRELAY_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
BIN=$BUILD/authrelay-loginwatch
JREMOTE=/lib/systemd/systemd-journal-remote
. "$(dirname "$0")/../common.sh"
finish() { summary; exit; }

if [ "${AUTHRELAY_JOURNAL_NS:-}" != 1 ]; then
	[ -x "$BIN" ] || { bad "journal" "no $BIN"; finish; }
	C=$(mktemp /tmp/journal-conf.XXXXXX)
	printf 'database = /nonexistent/x.db\nloginwatch_sources = journal\n' > "$C"
	out=$("$BIN" -c "$C" -n 2>&1)
	rm -f "$C"
	if echo "$out" | grep -q 'no libsystemd'; then
		ok "journal: not built (no libsystemd)"; finish
	fi
	if [ "$(id -u)" != 0 ]; then
		ok "journal: not run (needs root for unshare --mount)"; finish
	fi
	[ -x "$JREMOTE" ] || { bad "journal" "no $JREMOTE (Debian package systemd-journal-remote: make deps)"; finish; }
	command -v unshare >/dev/null || { bad "journal" "no unshare"; finish; }
	AUTHRELAY_JOURNAL_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

# ------------------------------------------- inside the mount namespace
T=$(mktemp -d /tmp/loginwatch-journal.XXXXXX)
chmod 0755 "$T"
PIDS=""
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "(kept $T)"; fi
}
trap cleanup EXIT

RUN_USER=nobody
ASUSER="setpriv --reuid=nobody --regid=nogroup --clear-groups"
chown nobody "$T"

MID=$(cat /etc/machine-id 2>/dev/null)
BOOT=$(tr -d - < /proc/sys/kernel/random/boot_id)
[ ${#MID} = 32 ] || { bad "journal" "no machine id in /etc/machine-id"; finish; }
# The journal directories, as seen only inside this namespace.
if [ -d /var/log/journal ]; then
	mount -t tmpfs -o mode=0755,size=64m tmpfs /var/log/journal || { bad "journal" "mount /var/log/journal"; finish; }
fi
for m in /run/log/journal /run/log /run; do
	if [ -d "$m" ]; then
		mount -t tmpfs -o mode=0755,size=64m tmpfs "$m" || { bad "journal" "mount $m"; finish; }
		break
	fi
done
JDIR=/run/log/journal/$MID
mkdir -p "$JDIR"
# The writer runs as run_user, so the files are readable by the daemon
# after it drops privileges (as journald's are through group or ACL).
chown "$RUN_USER" "$JDIR"
JFILE=$JDIR/system.journal

MONO=1000
# entry UNIT REALTIME_USEC MESSAGE -- one journal entry, written now (as
# $AS: run_user unless set)
entry() {
	MONO=$((MONO + 1000))
	printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_MACHINE_ID=%s\n_SYSTEMD_UNIT=%s\n_PID=4242\n_UID=0\n_COMM=imap-login\nSYSLOG_IDENTIFIER=dovecot\nMESSAGE=%s\n\n' \
		"$2" "$MONO" "$BOOT" "$MID" "$1" "$3" \
		| ${AS-$ASUSER} "$JREMOTE" --output="$JFILE" - 2>>"$T/jremote.log" \
		|| bad "journal" "systemd-journal-remote failed: $(tail -1 "$T/jremote.log")"
}
now_us() { date +%s%6N; }
login() { echo "imap-login: Login: user=<$2>, method=PLAIN, rip=$1, lip=127.0.0.1, mpid=4242, TLS, session=<s>"; }

DB=$T/journal.db
CONF=$T/journal.conf
{
	echo "database = $DB"
	echo "run_user = $RUN_USER"
	echo "log_level = info"
	echo "grant_ttl = 1d"
	echo "loginwatch_formats = dovecot"
	echo "loginwatch_sources = journal"
	echo "loginwatch_pidfile ="
} > "$CONF"
"$BUILD/authrelayctl" -c "$CONF" init >/dev/null 2>&1 || { bad "journal" "authrelayctl init failed"; finish; }
chown "$RUN_USER" "$DB" "$DB"-wal "$DB"-shm 2>/dev/null

q() { $ASUSER sqlite3 -cmd ".timeout 5000" "$DB" "$1" 2>/dev/null; }
wait_for() {
	local i=0 limit=$(( ${3:-10} * 20 ))
	while [ $i -lt $limit ]; do
		[ "$(q "$1")" = "$2" ] && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}
GRANTS="SELECT group_concat(ip || ' ' || username || ' ' || service, ', ') FROM (SELECT * FROM grants ORDER BY ip)"
DLOG=$T/daemon.log
start() { "$BIN" -c "$CONF" -f 2>>"$DLOG" & DPID=$!; PIDS="$PIDS $DPID"; }
stop() { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }

# Entries written before the daemon starts.
entry dovecot.service $(( $(now_us) - 3 * 86400 * 1000000 )) "$(login 192.0.2.50 jold)"
entry dovecot.service "$(now_us)" "$(login 192.0.2.51 jalice)"
entry dovecot.service "$(now_us)" "imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<jbad>, method=PLAIN, rip=192.0.2.52, lip=127.0.0.1, TLS, session=<f>"
entry user@1000.service "$(now_us)" "$(login 192.0.2.53 jforged)"
entry dovecot.service "$(now_us)" "pop3-login: Login: user=<jbob>, method=PLAIN, rip=2001:db8::51, lip=::1, mpid=4243, TLS, session=<p>"
n=$(journalctl -D /run/log/journal -o export 2>/dev/null | grep -c '^MESSAGE=')
[ "$n" = 5 ] && ok "journal: systemd-journal-remote wrote 5 entries to $JFILE" \
	|| bad "journal: entries written" "journalctl sees $n, want 5"

start
want="192.0.2.51 jalice imap, 2001:db8::51 jbob pop3"
if wait_for "$GRANTS" "$want"; then
	sleep 0.5	# a wrong grant would show up now
	got=$(q "$GRANTS")
	[ "$got" = "$want" ] && ok "journal: existing entries: exactly the trusted unit's logins granted" \
		|| bad "journal: existing entries" "got '$got', want '$want'"
else
	bad "journal: existing entries" "got '$(q "$GRANTS")', want '$want' ($(tail -2 "$DLOG" | tr '\n' ' '))"
fi
[ -z "$(q "SELECT ip FROM grant_log WHERE ip IN ('192.0.2.50', '192.0.2.52', '192.0.2.53')")" ] \
	&& ok "journal: old, failed and other-unit logins not granted" \
	|| bad "journal: not granted" "$(q "SELECT group_concat(ip) FROM grant_log")"

# Following: an entry written while running.
t0=$(date +%s%N)
entry dovecot.service "$(now_us)" "$(login 192.0.2.54 jfollow)"
if wait_for "SELECT username || ' ' || service FROM grants WHERE ip = '192.0.2.54'" "jfollow imap" 15; then
	ok "journal: entry written while running granted after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else
	bad "journal: following" "no grant for 192.0.2.54 ($(tail -2 "$DLOG" | tr '\n' ' '))"
fi
entry user@1000.service "$(now_us)" "$(login 192.0.2.55 jforged2)"

# Restart: resumes at the checkpoint, nothing counted twice.
before=$(q "SELECT count(*) FROM grant_log")
stop
start
entry dovecot.service "$(now_us)" "$(login 192.0.2.56 jrestart)"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.56'" 1 15
sleep 0.5
after=$(q "SELECT count(*) FROM grant_log")
logins=$(q "SELECT group_concat(logins) FROM (SELECT logins FROM grants ORDER BY ip)")
if [ "$before" = 3 ] && [ "$after" = 4 ] && [ "$logins" = "1,1,1,1" ]; then
	ok "journal: restart resumes at the checkpoint (grant_log $before -> $after)"
else
	bad "journal: restart" "grant_log $before -> $after (want 3 -> 4), logins $logins; grants $(q "$GRANTS")"
fi

# Rotation: journald starts a new file; it is read while running.
mv "$JFILE" "$JDIR/system@0000000000000000000000000000000a-0000000000000001-0000000000000001.journal"
entry dovecot.service "$(now_us)" "$(login 192.0.2.57 jrotated)"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.57'" 1 15 \
	&& ok "journal: a new journal file (rotation) is read" \
	|| bad "journal: rotation" "no grant for 192.0.2.57 ($(tail -2 "$DLOG" | tr '\n' ' '))"
grep -q 'journal: /.*sd_journal skips a file' "$DLOG" \
	&& bad "journal: readable files" "reported unreadable: $(grep 'sd_journal skips' "$DLOG")" \
	|| ok "journal: no unreadable-file report while run_user can read the files"

# A file run_user cannot read (root's, 0640) is skipped by sd_journal: the
# daemon says so (within JOURNAL_CHECK_SEC), and reads it once readable.
mv "$JFILE" "$JDIR/system@0000000000000000000000000000000a-0000000000000002-0000000000000002.journal"
AS="" entry dovecot.service "$(now_us)" "$(login 192.0.2.58 junreadable)"
i=0; while ! grep -q "journal: $JFILE: Permission denied: sd_journal skips" "$DLOG" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
if grep -q "journal: $JFILE: Permission denied: sd_journal skips" "$DLOG" \
	&& [ -z "$(q "SELECT ip FROM grants WHERE ip = '192.0.2.58'")" ]; then
	ok "journal: an unreadable new journal file is reported after $((i * 50)) ms"
else
	bad "journal: unreadable file" "no report in $DLOG, or 192.0.2.58 granted"
fi
chown "$RUN_USER" "$JFILE"
wait_for "SELECT count(*) FROM grants WHERE ip = '192.0.2.58'" 1 15 \
	&& ok "journal: the file is read once run_user may read it" \
	|| bad "journal: file made readable" "no grant for 192.0.2.58"
# Dovecot's own stderr, as systemd captures it (log_path = /dev/stderr,
# the unit's stdout stream: identifier "dovecot", _TRANSPORT=stdout). The
# lines are a real Dovecot's: it is started here with that log_path, with
# its default log_timestamp and with log_timestamp = "", a POP3 login is
# made, and the login line it wrote becomes a journal entry.
# dovecot_stderr_login STAMP_SETTING IP: the Login line Dovecot wrote to
# stderr for a POP3 login of bob from IP ("" when none).
dovecot_stderr_login() {
	local dv=$T/dv port pid
	rm -rf "$dv"; mkdir -p "$dv/run" "$dv/state" "$dv/mail"
	chown 5000:5000 "$dv/mail"
	printf 'bob:{PLAIN}bobpw::::::\n' > "$dv/users"
	chown root:dovecot "$dv/users"; chmod 0640 "$dv/users"
	port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat > "$dv/dovecot.conf" <<-EOC
		base_dir = $dv/run
		state_dir = $dv/state
		protocols = pop3
		listen = 127.0.0.1
		disable_plaintext_auth = no
		ssl = no
		default_login_user = dovenull
		default_internal_user = dovecot
		first_valid_uid = 5000
		mail_location = maildir:$dv/mail/%u
		passdb {
		  driver = passwd-file
		  args = scheme=PLAIN username_format=%u $dv/users
		}
		userdb {
		  driver = static
		  args = uid=5000 gid=5000 home=$dv/mail/%u
		}
		service pop3-login {
		  inet_listener pop3 {
		    port = $port
		  }
		}
		log_path = /dev/stderr
		$1
	EOC
	dovecot -F -c "$dv/dovecot.conf" 2> "$dv/stderr" & pid=$!
	PIDS="$PIDS $pid"
	for _ in $(seq 1 100); do
		curl -s --max-time 5 --interface "$2" "pop3://127.0.0.1:$port/" -u bob:bobpw >/dev/null && break
		sleep 0.05
	done
	for _ in $(seq 1 100); do grep -q "rip=$2," "$dv/stderr" && break; sleep 0.05; done
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
	grep -m1 "Login: user=<bob>.*rip=$2," "$dv/stderr"
}
# entry_stderr UNIT MESSAGE: a line of the unit's stderr, as journald files it
entry_stderr() {
	MONO=$((MONO + 1000))
	printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_MACHINE_ID=%s\n_SYSTEMD_UNIT=%s\n_PID=4242\n_UID=0\n_COMM=log\n_TRANSPORT=stdout\nSYSLOG_IDENTIFIER=dovecot\nPRIORITY=6\nMESSAGE=%s\n\n' \
		"$(now_us)" "$MONO" "$BOOT" "$MID" "$1" "$2" \
		| $ASUSER "$JREMOTE" --output="$JFILE" - 2>>"$T/jremote.log" \
		|| bad "journal" "systemd-journal-remote failed: $(tail -1 "$T/jremote.log")"
}
if command -v dovecot >/dev/null && getent passwd dovenull >/dev/null; then
	for form in default empty; do
		if [ $form = default ]; then setting=""; ip=127.0.0.61; shape='^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} pop3-login: Info: Login: user=<bob>, '
		else setting='log_timestamp = ""'; ip=127.0.0.62; shape='^pop3-login: Info: Login: user=<bob>, '; fi
		line=$(dovecot_stderr_login "$setting" "$ip")
		if ! printf '%s\n' "$line" | grep -Eq "$shape"; then
			bad "journal: Dovecot's stderr ($form log_timestamp)" "got line '$line', want the shape $shape"
			continue
		fi
		ok "journal: a real Dovecot's stderr login line ($form log_timestamp): $line"
		entry_stderr dovecot.service "$line"
		entry_stderr user@1000.service "${line/$ip/127.0.0.63}"
		if wait_for "SELECT username || ' ' || service FROM grants WHERE ip = '$ip'" "bob pop3" 15; then
			ok "journal: ... filed from dovecot.service's stderr, it grants"
		else
			bad "journal: ... Dovecot's stderr" "no grant for $ip ($(tail -2 "$DLOG" | tr '\n' ' '))"
		fi
	done
	sleep 0.5
	[ -z "$(q "SELECT ip FROM grant_log WHERE ip = '127.0.0.63'")" ] \
		&& ok "journal: the same stderr line from another unit grants nothing" \
		|| bad "journal: stderr from another unit" "127.0.0.63 granted"
else
	bad "journal: Dovecot's stderr" "no dovecot (make deps installs dovecot-pop3d)"
fi
stop
grep -q 'grant ip=192.0.2.56/32 user=jrestart service=imap' "$DLOG" \
	&& ok "journal: grant logged" || bad "journal: grant logged" "no line in $DLOG"
finish

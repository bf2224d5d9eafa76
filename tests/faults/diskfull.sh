#!/bin/bash
# tests/faults/diskfull.sh -- the database's file system full (a 16 MiB tmpfs)
#
# The database lives on a small tmpfs (root only: mount, unmounted on exit).
# With policyd, the milter and loginwatch running, a file fills the file
# system to the last block. Then: policyd and the milter keep answering
# (lookups need no space: OK / continue for the granted client, DUNNO /
# 554 for another), and say in the log that the decision rows cannot be
# written (disk full); loginwatch keeps running and says it cannot store
# its grants. Space freed: the queued decision rows are written (counted:
# none lost), the logins read meanwhile become grants, integrity_check ok.
# The file system is large enough that the space freed holds everything
# queued meanwhile (10,010 decision rows and 50 grants): on a 3 MiB one the
# writers that happened to flush first could take it all, and the last one
# to retry then found the disk full again, for real (one run in five).
. "$(dirname "$0")/lib.sh"
only_on sqlite "SQLite only: the database file on a full file system (PostgreSQL's disk is its server's)"
fault_setup diskfull

if ! is_root; then
	skip "disk full" "needs root (mount -t tmpfs)"
	fault_done
fi
mkdir -p "$T/full"
if ! mount -t tmpfs -o size=16m,mode=0750 tmpfs "$T/full"; then
	skip "disk full" "cannot mount a tmpfs here"
	fault_done
fi
MOUNTS+=("$T/full")
chown "$RUN_USER:$RUN_GROUP" "$T/full"
DB=$T/full/authrelay.db
make_db || { bad "authrelayctl init on the tmpfs" "failed"; fault_done; }
"$CTL" -c "$T/ctl.conf" grant add 127.0.0.20 --ttl 1d >/dev/null 2>&1
conf main
# what SQLite and the kernel say (not the path, which holds "full" too)
FULL_RE='disk is full|no space left'

started=()
for kind in policyd milter loginwatch; do
	have "$kind" || { skip "$kind, disk full" "not built yet"; continue; }
	start "$kind" "full-$kind" main && started+=("$kind:$LAST_PID") ||
		bad "$kind, disk full" "did not start"
done
pid_of() { local kp; for kp in "${started[@]}"; do [ "${kp%%:*}" = "$1" ] && echo "${kp#*:}"; done; }

# fill it to the last block (root: tmpfs keeps no reserve)
dd if=/dev/zero of="$T/full/filler" bs=64k >/dev/null 2>&1
dd if=/dev/zero of="$T/full/filler2" bs=512 >/dev/null 2>&1
avail=$(df -B1 --output=avail "$T/full" | tail -1 | tr -d ' ')
echo "# $T/full: $avail bytes left"

for kind in policyd milter; do
	pid=$(pid_of "$kind")
	[ -n "$pid" ] || continue
	if [ "$kind" = policyd ]; then
		out=$($CLIENT policy "$P_POLICY" --ip 127.0.0.20 --n 5000 --conns 4 --rcpt-prefix "full-$kind-")
		out2=$($CLIENT policy "$P_POLICY" --ip 127.0.0.99 --n 5 --rcpt-prefix "fullno-$kind-")
		permit=OK no=DUNNO
	else
		out=$($CLIENT milter "$P_MILTER" --ip 127.0.0.20 --n 5000 --conns 4 --rcpt-prefix "full-$kind-")
		out2=$($CLIENT milter "$P_MILTER" --ip 127.0.0.99 --n 5 --rcpt-prefix "fullno-$kind-")
		permit=continue no=554
	fi
	if [ "$(verdict_count "$out" "$permit")" = 5000 ] && [ "$(verdict_count "$out2" "$no")" = 5 ] &&
		kill -0 "$pid" 2>/dev/null; then
		ok "$kind, disk full: keeps answering (5000 x $permit in max $(field "$out" max_ms) ms, 5 x $no for an unknown client)"
	else
		bad "$kind, disk full" "got [$out] and [$out2], want 5000 x $permit and 5 x $no"
	fi
	for _ in $(seq 1 50); do
		grep -qiE "$FULL_RE" "$T/full-$kind.log" && break
		sleep 0.1
	done
	line=$(grep -m1 -iE "$FULL_RE" "$T/full-$kind.log")
	[ -n "$line" ] && ok "$kind says so in the log: \"$(echo "$line" | sed 's/.*: database/database/' | cut -c1-140)\"" ||
		bad "$kind, disk full: log" "no line saying the disk is full: $(tail -c 300 "$T/full-$kind.log")"
done

pid=$(pid_of loginwatch)
if [ -n "$pid" ]; then
	for i in $(seq 1 50); do login_line "127.77.0.$i" "full$i" >>"$T/mail.log"; done
	for _ in $(seq 1 50); do
		grep -qiE "$FULL_RE" "$T/full-loginwatch.log" && break
		sleep 0.1
	done
	line=$(grep -m1 -iE "$FULL_RE" "$T/full-loginwatch.log")
	if kill -0 "$pid" 2>/dev/null && [ -n "$line" ]; then
		ok "loginwatch, disk full: running, says so: \"$(echo "$line" | cut -c1-140)\""
	else
		bad "loginwatch, disk full" "running: $(kill -0 "$pid" 2>/dev/null && echo yes || echo no); log: $(tail -c 300 "$T/full-loginwatch.log")"
	fi
fi

# space again
rm -f "$T/full/filler" "$T/full/filler2"
for kind in policyd milter; do
	[ -n "$(pid_of "$kind")" ] || continue
	rows=$(wait_rows "SELECT count(*) FROM decisions WHERE recipient LIKE 'full%-$kind-%'" 5005 40)
	[ "$rows" = 5005 ] && ok "$kind: all 5005 decision rows queued while the disk was full are written after" ||
		bad "$kind decision rows after the disk full" "got $rows, want 5005 (none lost)"
done
if [ -n "$pid" ]; then
	got=$(wait_rows "SELECT count(*) FROM active_grants WHERE username LIKE 'full%'" 50 40)
	[ "$got" = 50 ] && ok "loginwatch: the 50 logins read while the disk was full are granted after" ||
		bad "loginwatch grants after the disk full" "got $got, want 50"
fi
for kp in "${started[@]}"; do stop_pid "${kp#*:}"; done
ig=$(sql 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ' | sed 's/ $//')
[ "$ig" = ok ] && ok "integrity_check after the disk full: ok" || bad "integrity after the disk full" "got [$ig]"

fault_done

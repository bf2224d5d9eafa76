#!/bin/bash
# tests/faults/dbgone.sh -- the database removed, replaced, or made unreadable
#
# removed   rm of the database (and -wal/-shm) under running daemons: the
#           open descriptor would still answer from the deleted inode, so
#           the store checks the path on every lookup: policyd answers
#           DEFER_IF_PERMIT, the milter 451, never a permit, and both log
#           that the file was removed; loginwatch logs it, writes nothing
#           into the deleted file, and keeps running.
# replaced  a copy moved over it (a restore done with mv): the same.
# unreadable chmod 000 with the daemons running as a non-root run_user:
#           a running daemon keeps its open descriptor (permissions are
#           checked at open), so the case is the restart: policyd and the
#           milter both start, answer DEFER_IF_PERMIT / 451 and log why,
#           and recover by themselves once the file is readable again
#           (lib/frontend_store.h). Never a permit.
. "$(dirname "$0")/lib.sh"
only_on sqlite "SQLite only: the database file removed, replaced or unreadable; PostgreSQL: pg_stopped.sh"
fault_setup dbgone

# fresh_db: a new database with a live grant for 127.0.0.20
fresh_db() {
	rm -f "$DB" "$DB-wal" "$DB-shm"
	make_db || return 1
	"$CTL" -c "$T/ctl.conf" grant add 127.0.0.20 --ttl 1d >/dev/null 2>&1
}
conf main

for how in removed replaced; do
	fresh_db || { bad "database for $how" "init failed"; continue; }
	started=()
	for kind in policyd milter loginwatch; do
		have "$kind" || { skip "$kind, database $how" "not built yet"; continue; }
		: >"$T/$how-$kind.log"
		start "$kind" "$how-$kind" main && started+=("$kind:$LAST_PID")
	done
	for kp in "${started[@]}"; do
		kind=${kp%%:*}
		[ "$kind" = loginwatch ] && continue
		out=$(ask "$kind" 3 "$how-before-")
		[ "$(verdict_count "$out" "$(permit_of "$kind")")" = 3 ] ||
			bad "$kind before the database is $how" "got [$out], want 3 x $(permit_of "$kind")"
	done
	if [ "$how" = removed ]; then
		rm -f "$DB" "$DB-wal" "$DB-shm"
	else
		cp "$DB" "$T/copy.db" && chown --reference="$DB" "$T/copy.db" && mv "$T/copy.db" "$DB"
	fi
	login_line 192.0.2.99 gone >>"$T/mail.log"
	for kp in "${started[@]}"; do
		kind=${kp%%:*}
		pid=${kp#*:}
		if [ "$kind" = loginwatch ]; then
			sleep 1
			for _ in $(seq 1 30); do
				grep -q "removed or replaced while open" "$T/$how-$kind.log" && break
				sleep 0.1
			done
			if kill -0 "$pid" 2>/dev/null && grep -q "removed or replaced while open" "$T/$how-$kind.log"; then
				ok "loginwatch, database $how: still running, logs \"$(grep -m1 -o 'database [^ ]* was removed or replaced while open[^(]*' "$T/$how-$kind.log")\""
			else
				bad "loginwatch, database $how" "exited: $(tail -c 300 "$T/$how-$kind.log")"
			fi
			continue
		fi
		out=$(ask "$kind" 10 "$how-after-")
		tf=$(tempfail_of "$kind")
		if [ "$(verdict_count "$out" "$tf")" = 10 ] && [ "$(verdict_count "$out" "$(permit_of "$kind")")" = 0 ] &&
			kill -0 "$pid" 2>/dev/null; then
			ok "$kind, database $how: 10 x $tf, never $(permit_of "$kind"), still running [$out]"
		else
			bad "$kind, database $how" "got [$out], want 10 x $tf and the daemon alive"
		fi
		if grep -q "removed or replaced while open" "$T/$how-$kind.log"; then
			ok "$kind logs it: \"$(grep -m1 -o 'database [^ ]*: [a-z ]*failed: the file was removed or replaced while open' "$T/$how-$kind.log")\""
		else
			bad "$kind, database $how: log" "no 'removed or replaced while open' line in $T/$how-$kind.log"
		fi
	done
	for kp in "${started[@]}"; do
		pid=${kp#*:}
		stop_pid "$pid"
	done
done

# ---- unreadable: chmod 000, then (re)start ----
if is_root; then
	fresh_db
	chmod 000 "$DB"
	for kind in policyd milter; do
		have "$kind" || { skip "$kind, unreadable database" "not built yet"; continue; }
		: >"$T/unread-$kind.log"
		tf=$(tempfail_of "$kind")
		start "$kind" "unread-$kind" main || { bad "$kind, unreadable database" "did not start"; continue; }
		pid=$LAST_PID
		out=$(ask "$kind" 5 "unread-$kind-")
		if [ "$(verdict_count "$out" "$tf")" = 5 ] && kill -0 "$pid" 2>/dev/null; then
			ok "$kind, database chmod 000: 5 x $tf, running [$out]"
		else
			bad "$kind, database chmod 000" "got [$out], want 5 x $tf"
		fi
		line=$(grep -m1 -iE "cannot open database.*$DB" "$T/unread-$kind.log")
		[ -n "$line" ] && ok "$kind logs it: \"$(echo "$line" | cut -c1-150)\"" ||
			bad "$kind, unreadable database: log" "no 'cannot open database' line: $(tail -c 300 "$T/unread-$kind.log")"
		# readable again: it recovers by itself (retries the open)
		chmod 0640 "$DB"
		for i in $(seq 1 30); do
			out=$(ask "$kind" 1 "unread2-$kind-")
			[ "$(verdict_count "$out" "$(permit_of "$kind")")" = 1 ] && break
			sleep 0.5
		done
		[ "$i" -lt 30 ] && ok "$kind recovers once the database is readable again (${i} tries)" ||
			bad "$kind after chmod 0640" "still [$out]"
		chmod 000 "$DB"
		stop_pid "$pid"
	done
	chmod 0640 "$DB"
else
	skip "unreadable database" "needs root (the daemons must run as a non-root run_user)"
fi

fault_done

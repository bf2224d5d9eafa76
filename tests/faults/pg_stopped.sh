#!/bin/bash
# tests/faults/pg_stopped.sh -- PostgreSQL stopped under running daemons, then started
#
# PostgreSQL only (AUTHRELAY_BACKEND=pgsql; SQLite's lost file is
# dbgone.sh). policyd, the milter and loginwatch run; the server is
# stopped (fast shutdown: every client is cut off). Wants: policyd
# answers DEFER_IF_PERMIT and the milter 451 within 5 s, and never a
# permit while it is down (database_stale_grace is 0); loginwatch keeps
# running. Then the server is started on the same port: both permit again
# with no restart of any daemon, the loss and the return are logged, a
# login read while the server was away is a grant afterwards (once), and
# the decision rows queued meanwhile are written.
. "$(dirname "$0")/lib.sh"
only_on pgsql "PostgreSQL only (AUTHRELAY_BACKEND=pgsql); SQLite: dbgone.sh"
fault_setup pg_stopped

granted_db
conf main
declare -A pid
for kind in policyd milter loginwatch; do
	start "$kind" "stopped-$kind" main || { bad "$kind" "did not start"; fault_done; }
	pid[$kind]=$LAST_PID
done
# until KIND VERDICT SECONDS: asks every 0.1 s until the reply is VERDICT;
# prints the seconds it took, or nothing
until_verdict() {
	local t0 i
	t0=$(date +%s.%N)
	for i in $(seq 1 $(($3 * 10))); do
		if [ "$(verdict_count "$(ask "$1" 1 "until-$1-")" "$2")" = 1 ]; then
			awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
			return 0
		fi
		sleep 0.1
	done
	return 1
}

for kind in policyd milter; do
	out=$(ask "$kind" 3 "before-$kind-")
	[ "$(verdict_count "$out" "$(permit_of "$kind")")" = 3 ] && ok "$kind permits before the stop [$out]" ||
		bad "$kind before the stop" "got [$out], want 3 x $(permit_of "$kind")"
done

pg_pause
for kind in policyd milter; do
	tf=$(tempfail_of "$kind")
	took=$(until_verdict "$kind" "$tf" 5)
	out=$(ask "$kind" 20 "down-$kind-")
	if [ -n "$took" ] && [ "$(verdict_count "$out" "$tf")" = 20 ] && kill -0 "${pid[$kind]}"; then
		ok "$kind, PostgreSQL stopped: $tf after ${took}s, then 20 x $tf, never $(permit_of "$kind") [$out]"
	else
		bad "$kind, PostgreSQL stopped" "first $tf after '${took:-never}' (want within 5 s), then [$out], want 20 x $tf"
	fi
done
login_line 192.0.2.77 downuser >>"$T/mail.log"
sleep 0.5
kill -0 "${pid[loginwatch]}" && ok "loginwatch keeps running while PostgreSQL is stopped" ||
	bad "loginwatch, PostgreSQL stopped" "exited: $(tail -c 300 "$T/stopped-loginwatch.log")"

pg_resume || { bad "PostgreSQL start" "failed"; fault_done; }
for kind in policyd milter; do
	took=$(until_verdict "$kind" "$(permit_of "$kind")" 20)
	if [ -n "$took" ] && kill -0 "${pid[$kind]}"; then
		ok "$kind, PostgreSQL started again: permits after ${took}s, same process (no restart)"
	else
		bad "$kind, PostgreSQL started again" "no $(permit_of "$kind") within 20 s, or the daemon exited"
	fi
	if grep -q 'connection lost' "$T/stopped-$kind.log" && grep -q 'connection back' "$T/stopped-$kind.log"; then
		ok "$kind logs the loss and the return (\"$(grep -m1 -o 'connection lost.*' "$T/stopped-$kind.log" | cut -c1-90)\")"
	else
		bad "$kind log" "no 'connection lost' and 'connection back' lines in $T/stopped-$kind.log"
	fi
done
got=$(wait_rows "SELECT count(*) FROM grant_history WHERE username = 'downuser' AND ip = '192.0.2.77'" 1 20)
if [ "$got" = 1 ] && kill -0 "${pid[loginwatch]}"; then
	ok "loginwatch: the login read while PostgreSQL was stopped is a grant after it returns, once"
else
	bad "loginwatch after the return" "got $got grant_history rows for it, want 1 (and loginwatch running)"
fi
for kind in policyd milter; do
	rows=$(wait_rows "SELECT count(*) FROM decision_log WHERE recipient LIKE 'down-$kind-%' AND rule = 'store_error'" 20 10)
	[ "$rows" = 20 ] && ok "$kind: the 20 decision rows queued while PostgreSQL was away are written" ||
		bad "$kind decision rows of the outage" "got $rows store_error rows, want 20"
done
fault_done

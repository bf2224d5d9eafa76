#!/bin/bash
# tests/faults/kill9.sh -- kill -9 of each daemon under load, then restart
#
# policyd, milter: a client sends relay requests from a granted address
# on 4 connections; the daemon is killed with SIGKILL mid-way and started
# again (its pidfile and socket are left behind); the client reconnects.
# Afterwards: the restart worked, every answer was the right one (never a
# refusal or a tempfail for the granted client, errors only while it was
# down), the grant is still there, PRAGMA integrity_check says ok, and the
# decision rows written are counted (rows queued in memory at the kill are
# lost by design: they are an audit trail, not state).
# loginwatch: 3000 logins (distinct addresses) appended in bursts, the
# daemon killed after half of them and restarted: every login becomes a
# grant, none twice (grant_log has exactly 3000 login rows), integrity ok.
# On PostgreSQL the same, but integrity_check (SQLite's) skips.
. "$(dirname "$0")/lib.sh"
fault_setup kill9

make_db || { bad "authrelayctl init" "failed"; fault_done; }
"$CTL" -c "$T/ctl.conf" grant add 127.0.0.20 --ttl 1d >/dev/null 2>&1
conf main

# integrity LABEL: PRAGMA integrity_check says ok (SQLite; PostgreSQL's
# own recovery is not ours to check, and its server was not killed here)
integrity() {
	local ig
	if [ "$PGSQL" = 1 ]; then
		skip "$1: integrity_check after kill -9" "SQLite only (PostgreSQL's server was not killed; pg_kill9.sh kills it)"
		return
	fi
	ig=$(sql 'PRAGMA integrity_check' 2>&1 | tr '\n' ' ' | sed 's/ $//')
	[ "$ig" = ok ] && ok "$1: integrity_check after kill -9: ok" || bad "$1 integrity after kill -9" "got [$ig]"
}

for kind in policyd milter; do
	have "$kind" || { skip "$kind kill -9 under load" "not built yet"; continue; }
	start "$kind" "k-$kind" main || { bad "$kind kill -9" "did not start"; continue; }
	pid=$LAST_PID
	ctype=$([ "$kind" = policyd ] && echo policy || echo milter)
	port=$([ "$kind" = policyd ] && echo "$P_POLICY" || echo "$P_MILTER")
	permit=$([ "$kind" = policyd ] && echo OK || echo continue)
	# Enough requests that the load outlives the kill on a fast machine:
	# policyd answered 30,000 in under 0.7 s once its lookups got cheaper.
	n=$([ "$kind" = policyd ] && echo 200000 || echo 6000)
	$CLIENT "$ctype" "$port" --ip 127.0.0.20 --n $n --conns 4 --rcpt-prefix "k-$kind-" >"$T/k-$kind.out" &
	cpid=$!
	PIDS+=("$cpid")
	sleep 0.5
	if ! kill -0 "$cpid" 2>/dev/null; then
		bad "$kind kill -9 under load" "the load ended before the kill (too fast a machine: raise n)"
	fi
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	t0=$(date +%s.%N)
	if start "$kind" "k-$kind-again" main; then
		up=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
		ok "$kind restarted ${up}s after kill -9 (stale pidfile and socket handled)"
		pid=$LAST_PID
	else
		bad "$kind restart after kill -9" "$(tail -c 300 "$T/k-$kind-again.log")"
		wait "$cpid"
		continue
	fi
	wait "$cpid"
	out=$(cat "$T/k-$kind.out")
	answered=$(field "$out" answered)
	wrong=$((answered - $(verdict_count "$out" "$permit")))
	if [ "$wrong" = 0 ] && [ "$answered" -gt 0 ] && [ $((answered + $(field "$out" errors))) = "$n" ]; then
		ok "$kind under load across kill -9: $answered answered, all $permit; $(field "$out" errors) requests failed while it was down [$out]"
	else
		bad "$kind answers across kill -9" "got [$out]: $wrong wrong answers"
	fi
	out=$($CLIENT "$ctype" "$port" --ip 127.0.0.20 --n 5 --rcpt-prefix "k2-$kind-")
	[ "$(verdict_count "$out" "$permit")" = 5 ] && ok "$kind: the grant still permits after the restart" ||
		bad "$kind after the restart" "got [$out]"
	stop_pid "$pid"
	integrity "$kind"
	rows=$(sql "SELECT count(*) FROM decisions WHERE recipient LIKE 'k-$kind-%'")
	if [ "$rows" -le "$answered" ] && [ "$rows" -gt 0 ]; then
		ok "$kind: $rows of $answered decision rows written ($((answered - rows)) were queued in memory at the kill)"
	else
		bad "$kind decision rows" "got $rows rows for $answered answers"
	fi
done

# ---- loginwatch ----
if have loginwatch; then
	start loginwatch k-loginwatch main || bad "loginwatch kill -9" "did not start"
	pid=$LAST_PID
	now=$(date '+%b %e %H:%M:%S')
	awk -v now="$now" 'BEGIN {
		for (i = 0; i < 3000; i++)
			printf "%s mail dovecot: imap-login: Login: user=<k%d>, method=PLAIN, rip=127.%d.%d.%d, lip=127.0.0.1, mpid=%d, TLS, session=<k%d>\n",
				now, i, 100 + int(i / 65536), int(i / 256) % 256, i % 256, i, i
	}' >"$T/burst.log"
	for chunk in $(seq 0 9); do
		sed -n "$((chunk * 300 + 1)),$((chunk * 300 + 300))p" "$T/burst.log" >>"$T/mail.log"
		if [ "$chunk" = 4 ]; then
			sleep 0.05
			kill -KILL "$pid"
			wait "$pid" 2>/dev/null
			killed_at=$(sql "SELECT count(*) FROM grant_history WHERE username LIKE 'k%'")
		fi
		if [ "$chunk" = 6 ]; then
			start loginwatch k-loginwatch-again main || bad "loginwatch restart after kill -9" "$(tail -c 300 "$T/k-loginwatch-again.log")"
			pid=$LAST_PID
		fi
		sleep 0.1
	done
	got=$(wait_rows "SELECT count(DISTINCT username) FROM active_grants WHERE username LIKE 'k%'" 3000 30)
	hist=$(sql "SELECT count(*) FROM grant_history WHERE username LIKE 'k%'")
	if [ "$got" = 3000 ] && [ "$hist" = 3000 ]; then
		ok "loginwatch killed after ${killed_at:-?} of 3000 logins were stored, restarted: all 3000 granted, none counted twice"
	else
		bad "loginwatch across kill -9" "got $got grants and $hist history rows, want 3000 and 3000 (at the kill: ${killed_at:-?})"
	fi
	stop_pid "$pid"
	integrity loginwatch
else
	skip "loginwatch kill -9" "not built yet"
fi

fault_done

#!/bin/bash
# tests/faults/storm.sh -- 1000 idle connections, a slowloris client and a
# flood of garbage against policyd at once, while a legitimate client
# (a granted address) sends a request every 0.1 s for 12 s.
#
# Wants: every legitimate request answered OK (none lost, none refused),
# its latency measured (p50, p99, max; the bound is a generous 1 s for a
# shared machine), the garbage connections closed by policyd one by one
# (counted), the idle connections still open, and policyd alive, with a
# bounded memory (VmRSS read from /proc before and during the storm).
. "$(dirname "$0")/lib.sh"
fault_setup storm

if ! have policyd; then
	skip "policyd storm" "not built yet"
	fault_done
fi
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null
make_db || { bad "authrelayctl init" "failed"; fault_done; }
"$CTL" -c "$T/ctl.conf" grant add 127.0.0.20 --ttl 1d >/dev/null 2>&1
# log_level warning: one info line per refused garbage connection would
# make the log the bottleneck under a flood
conf main "log_level = warning" "audit_decisions = yes"
start policyd storm main || { bad "policyd storm" "did not start"; fault_done; }
pid=$LAST_PID
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
rss0=$(rss "$pid")

$CLIENT storm "$P_POLICY" --ip 127.0.0.20 --idle 1000 --seconds 12 --garbage 6 \
	--rcpt-prefix storm- >"$T/storm.out" 2>&1 &
cpid=$!
PIDS+=("$cpid")
sleep 6
rss1=$(rss "$pid")
fds=$(ls "/proc/$pid/fd" | wc -l)
wait "$cpid"
out=$(cat "$T/storm.out")
echo "# storm: $out"
echo "# policyd during the storm: $fds descriptors, VmRSS ${rss0} kB before, ${rss1} kB during"

sent=$(field "$out" sent)
answered=$(field "$out" answered)
max=$(field "$out" max_ms)
if [ -n "$sent" ] && [ "$answered" = "$sent" ] && [ "$(verdict_count "$out" OK)" = "$sent" ] &&
	[ "${max:-99999}" -lt 1000 ]; then
	ok "legit client during the storm: $answered/$sent answered OK, p50 $(field "$out" p50_ms) ms, p99 $(field "$out" p99_ms) ms, max $max ms"
else
	bad "legit client during the storm" "got [$out], want every request answered OK within 1000 ms"
fi
idle=$(field "$out" idle_accepted)
still=$(field "$out" idle_still_open)
if [ "${idle:-0}" = 1000 ] && [ "${still:-0}" = 1000 ]; then
	ok "1000 idle connections accepted and still open after 12 s (idle timeout is longer)"
else
	bad "idle connections" "got accepted=$idle still_open=$still, want 1000 and 1000"
fi
g=$(field "$out" garbage_closed)
gn=$(field "$out" garbage_not_closed)
if [ "${g:-0}" -gt 0 ] && [ "${gn:-1}" = 0 ]; then
	ok "garbage: all $g connections that sent garbage were closed by policyd, each alone ($(field "$out" garbage_answered) parsed by chance and were answered)"
else
	bad "garbage" "got $g closed and $gn left open 2 s after their garbage: [$out]"
fi
if kill -0 "$pid" 2>/dev/null; then
	ok "policyd alive after the storm (VmRSS ${rss0} -> ${rss1} kB with $fds descriptors)"
else
	bad "policyd after the storm" "died: $(tail -c 400 "$T/storm.log")"
fi
# and it still serves normally
out=$($CLIENT policy "$P_POLICY" --ip 127.0.0.20 --n 20 --conns 2 --rcpt-prefix after-)
[ "$(verdict_count "$out" OK)" = 20 ] && ok "policyd serves normally after the storm [$out]" ||
	bad "policyd after the storm" "got [$out]"
stop_pid "$pid"
rows=$(sql "SELECT count(*) FROM decisions WHERE recipient LIKE 'storm-%'")
[ "$rows" = "$sent" ] && ok "decision rows for the legit requests: $rows of $sent" ||
	bad "decision rows for the legit requests" "got $rows, want $sent"

fault_done

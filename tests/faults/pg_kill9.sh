#!/bin/bash
# tests/faults/pg_kill9.sh -- PostgreSQL killed (-9) in a burst of decisions
#
# policyd runs on a private PostgreSQL 15 (tests/pg.sh) and answers a
# burst of relay requests from a granted address on two connections. In
# the middle of it the server is killed with SIGKILL (the postmaster, by
# the PID in the data directory of the server this script started), stays
# down for a while and is started again on the same port and data. Then:
#   - policyd stayed up and answered every request;
#   - no request was permitted while the server was down: from the kill
#     (plus the time the view thread needs to see the connection close)
#     until the restart every answer is DEFER_IF_PERMIT (on_store_error);
#   - permits come back after the restart, without a restart of policyd;
#   - the decision writer failed while the server was away and retried;
#   - every answered request has exactly one decision_log row: none lost,
#     none written twice (the queue's bound, decision_queue_max, is far
#     above the burst, so nothing may be dropped).
# The server runs with synchronous_commit = on here: with the suite's
# usual "off", a commit acknowledged just before the kill may be undone by
# the crash recovery, which would be the server's loss, not ours.
#
# Run by tests/faults/run.sh when AUTHRELAY_BACKEND=pgsql.
. "$(dirname "$0")/lib.sh"
fault_setup pg_kill9
# lib.sh started this script's PostgreSQL (AUTHRELAY_BACKEND=pgsql) and
# its cleanup trap stops it.
only_on pgsql "PostgreSQL only (AUTHRELAY_BACKEND=pgsql); SQLite: kill9.sh"

if ! have policyd; then
	skip "PostgreSQL kill -9 in a burst" "policyd not built yet"
	fault_done
fi
pg_as_owner "$PG_BIN/psql" -X -q -h "$PG_DIR/run" -p "$PG_PORT" -U postgres -d postgres \
	-c "ALTER SYSTEM SET synchronous_commit = on" -c "SELECT pg_reload_conf()" >/dev/null

conf main
"$CTL" -c "$T/main.conf" grant add 127.0.0.20 --ttl 1d >"$T/grant.out" 2>&1 ||
	{ bad "grant for the burst" "$(cat "$T/grant.out")"; fault_done; }
start policyd pk main || { bad "policyd on PostgreSQL" "did not start"; fault_done; }
pid=$LAST_PID

# The burst: two connections, one request every 2 ms each, for SECONDS;
# one line per request: sent reply(epoch s) recipient verdict
SECONDS_BURST=12
"$PY" - "$P_POLICY" "$SECONDS_BURST" >"$T/burst.out" 2>"$T/burst.err" <<'EOF' &
import socket, sys, threading, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
lines, lock = [], threading.Lock()

def worker(w):
    end = time.time() + seconds
    sock, i = None, 0
    while time.time() < end:
        rcpt = "pk%d-%d@example.org" % (w, i)
        i += 1
        t0 = time.time()
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=15)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
                          "protocol_name=ESMTP\nclient_address=127.0.0.20\n"
                          "client_name=unknown\nhelo_name=client.test\n"
                          "sender=someone@client.test\nrecipient=%s\nqueue_id=\n"
                          "instance=pk.%d.%d\nsize=0\n\n" % (rcpt, w, i)).encode())
            buf = b""
            while b"\n\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError("closed")
                buf += chunk
            verdict = buf.decode().split("\n", 1)[0].split("=", 1)[1].split(" ", 1)[0]
        except (OSError, ConnectionError, IndexError):
            verdict = "ERROR"
            if sock is not None:
                sock.close()
            sock = None
        with lock:
            lines.append("%.6f %.6f %s %s" % (t0, time.time(), rcpt, verdict))
        time.sleep(0.002)

threads = [threading.Thread(target=worker, args=(w,)) for w in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\n".join(lines))
EOF
cpid=$!
PIDS+=("$cpid")

sleep 2
# Kill the postmaster of our server, then wait for its children to go
# (they exit when they see it gone), so the restart finds the port and
# the shared memory free.
PM=$(head -n 1 "$PG_DIR/data/postmaster.pid")
children=$(pgrep -P "$PM" | tr '\n' ' ')
t_kill=$(date +%s.%N)
kill -KILL "$PM"
for _ in $(seq 1 200); do
	alive=0
	for c in $PM $children; do kill -0 "$c" 2>/dev/null && alive=1; done
	[ "$alive" = 0 ] && break
	sleep 0.05
done
[ "$alive" = 0 ] || bad "the killed server's processes exit" "still running: $PM $children"
sleep 2
t_restart=$(date +%s.%N)
if pg_resume; then
	up=$(awk -v a="$t_restart" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	ok "PostgreSQL killed -9 and restarted on the same port (recovery took ${up}s)"
else
	bad "PostgreSQL restart after kill -9" "see $PG_DIR/run/server.log"
fi
wait "$cpid"

answered=$(awk '$4 != "ERROR"' "$T/burst.out" | wc -l)
errors=$(awk '$4 == "ERROR"' "$T/burst.out" | wc -l)
permits=$(awk '$4 == "OK"' "$T/burst.out" | wc -l)
defers=$(awk '$4 == "DEFER_IF_PERMIT"' "$T/burst.out" | wc -l)
others=$((answered - permits - defers))
if kill -0 "$pid" 2>/dev/null && [ "$errors" = 0 ] && [ "$others" = 0 ] && [ "$answered" -gt 500 ]; then
	ok "policyd answered all $answered requests of the burst: $permits OK, $defers DEFER_IF_PERMIT"
else
	bad "policyd through the kill" "got $answered answered, $errors errors, $others neither OK nor DEFER_IF_PERMIT, alive $(kill -0 "$pid" 2>/dev/null && echo yes || echo no); want every request answered OK or DEFER_IF_PERMIT"
fi

# Down: sent after the kill (plus 0.5 s for the view thread to see the
# connection close) and answered before the restart began.
down_permits=$(awk -v k="$t_kill" -v r="$t_restart" '$1 >= k + 0.5 && $2 <= r && $4 == "OK"' "$T/burst.out" | wc -l)
down_total=$(awk -v k="$t_kill" -v r="$t_restart" '$1 >= k + 0.5 && $2 <= r' "$T/burst.out" | wc -l)
if [ "$down_total" -gt 0 ] && [ "$down_permits" = 0 ]; then
	ok "no permit while PostgreSQL was down: $down_total answers, all DEFER_IF_PERMIT"
else
	bad "answers while PostgreSQL was down" "got $down_permits OK of $down_total, want 0 of more than 0"
fi
after=$(awk -v r="$t_restart" '$1 >= r + 3 && $4 == "OK"' "$T/burst.out" | wc -l)
if [ "$after" -gt 0 ]; then
	ok "permits again after the restart, policyd not restarted ($after OK from 3 s after it)"
else
	bad "permits after the restart" "got none from 3 s after the restart"
fi
if grep -q "writing [0-9]* decision rows failed" "$T/pk.log"; then
	ok "the decision writer's failures were retried: \"$(grep -m1 -o 'writing [0-9]* decision rows failed[^;]*' "$T/pk.log" | cut -c1-120)\""
else
	bad "the decision writer while PostgreSQL was down" "no 'writing N decision rows failed' line in $T/pk.log"
fi

# Rows: one per answered request (written within the batch wait and the
# writer's backoff after the server is back).
rows=""
for _ in $(seq 1 100); do
	rows=$(pg_psql "SELECT count(*) || ' ' || count(DISTINCT recipient) FROM decision_log WHERE recipient LIKE 'pk%'" 2>/dev/null)
	[ "${rows%% *}" = "$answered" ] && break
	sleep 0.2
done
pg_psql "SELECT recipient FROM decision_log WHERE recipient LIKE 'pk%'" | sort >"$T/rows.txt"
awk '$4 != "ERROR" { print $3 }' "$T/burst.out" | sort >"$T/answered.txt"
lost=$(comm -23 "$T/answered.txt" "$T/rows.txt" | wc -l)
extra=$(sort -u "$T/rows.txt" | comm -13 "$T/answered.txt" - | wc -l)
twice=$(uniq -d "$T/rows.txt" | wc -l)
if [ "$rows" = "$answered $answered" ] && [ "$lost" = 0 ] && [ "$extra" = 0 ] && [ "$twice" = 0 ]; then
	ok "decision_log: $answered rows for $answered answered requests, none lost, none twice"
else
	bad "decision_log after the kill" "got rows/distinct [$rows], $lost answered without a row (e.g. $(comm -23 "$T/answered.txt" "$T/rows.txt" | head -1)), $extra rows not answered, $twice recipients twice; want $answered $answered, 0, 0, 0"
fi
if grep -q "decision queue full" "$T/pk.log"; then
	bad "the queue's bound" "rows dropped: $(grep -m1 'decision queue full' "$T/pk.log")"
else
	ok "no decision row dropped (the burst is within decision_queue_max)"
fi

stop_pid "$pid"
fault_done

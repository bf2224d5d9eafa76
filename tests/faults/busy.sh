#!/bin/bash
# tests/faults/busy.sh -- the database held by an external writer
#
# An sqlite3 shell (fed through a fifo) holds the lock while policyd and
# the milter answer relay requests from a client with a live grant:
#
#  immediate  BEGIN IMMEDIATE: WAL readers go on, so lookups still
#             answer (the grant permits: OK / continue) quickly; only the
#             decision writer waits.
#  exclusive  locking_mode=EXCLUSIVE plus a write: readers are blocked
#             too, so every lookup fails after database_busy_timeout (1s
#             here) and the reply is on_store_error (DEFER_IF_PERMIT /
#             451 4.3.0), never a permit, and comes within the timeout.
#
# In both, the decision rows queued meanwhile are written once the lock
# is released: their number is counted against the requests sent.
# loginwatch: logins read while the lock is held become grants afterwards.
. "$(dirname "$0")/lib.sh"
only_on sqlite "SQLite only: its file lock; PostgreSQL: pg_locked.sh"
fault_setup busy

granted_db
conf main
N=60

# one_daemon KIND: both lock modes against one daemon
one_daemon() {
	local kind=$1 out n mode permit tempfail want_ok want_tf max rows pid
	if ! have "$kind"; then
		skip "$kind under an external lock" "not built yet"
		return
	fi
	if [ "$kind" = policyd ]; then
		permit=OK tempfail=DEFER_IF_PERMIT
	else
		permit=continue tempfail=451
	fi
	start "$kind" "busy-$kind" main || { bad "$kind under an external lock" "did not start"; return; }
	pid=$LAST_PID
	port=$([ "$kind" = policyd ] && echo "$P_POLICY" || echo "$P_MILTER")
	ctype=$([ "$kind" = policyd ] && echo policy || echo milter)

	# sanity: without a lock the grant permits
	out=$($CLIENT "$ctype" "$port" --ip 127.0.0.20 --n 5 --rcpt-prefix "$kind-free-")
	if [ "$(verdict_count "$out" "$permit")" = 5 ]; then
		ok "$kind: the grant permits without a lock ($out)"
	else
		bad "$kind without a lock" "got [$out], want 5 x $permit"
	fi

	if ! hold_lock immediate; then
		bad "$kind immediate lock" "could not take it"
	else
		n=$N
		out=$($CLIENT "$ctype" "$port" --ip 127.0.0.20 --n $n --conns 4 --rcpt-prefix "$kind-immediate-")
		# hold a little longer: the decision writer must retry
		sleep 2
		release_lock
		max=$(field "$out" max_ms)
		if [ "$(field "$out" answered)" = "$n" ] && [ "$(verdict_count "$out" "$permit")" = "$n" ] &&
			[ "${max:-99999}" -lt 1000 ]; then
			ok "$kind, BEGIN IMMEDIATE held: lookups go on (WAL): $n answered $permit, max ${max} ms [$out]"
		else
			bad "$kind, BEGIN IMMEDIATE held" "got [$out], want $n answered, all $permit, max_ms < 1000"
		fi
		rows=$(wait_rows "SELECT count(*) FROM decisions WHERE recipient LIKE '$kind-immediate-%'" "$n" 20)
		if [ "$rows" = "$n" ]; then
			ok "$kind, BEGIN IMMEDIATE: all $n decision rows queued under the lock are written after it"
		else
			bad "$kind, BEGIN IMMEDIATE: decision rows" "got $rows rows, want $n (none lost)"
		fi
	fi
	# answers again at once after the release
	out=$($CLIENT "$ctype" "$port" --ip 127.0.0.20 --n 5 --rcpt-prefix "$kind-after-")
	if [ "$(verdict_count "$out" "$permit")" = 5 ]; then
		ok "$kind: permits again after the lock is gone"
	else
		bad "$kind after the lock" "got [$out], want 5 x $permit"
	fi
	stop_pid "$pid"
	if kill -0 "$pid" 2>/dev/null; then
		bad "$kind stop" "still running"
	fi
}

one_daemon policyd
one_daemon milter

# exclusive_case KIND: the lock (locking_mode=EXCLUSIVE, which WAL readers
# cannot pass either) is held before the daemon starts
exclusive_case() {
	local kind=$1 out i pid rc max
	if ! have "$kind"; then
		skip "$kind started under an exclusive lock" "not built yet"
		return
	fi
	hold_lock exclusive || { bad "$kind exclusive lock" "could not take it"; return; }
	: >"$T/excl-$kind.log"
	if [ "$kind" = policyd ]; then
		"$POLICYD" -f -c "$T/main.conf" >>"$T/excl-$kind.log" 2>&1 9>&- &
	else
		"$MILTER" -f -c "$T/main.conf" >>"$T/excl-$kind.log" 2>&1 9>&- &
	fi
	pid=$!
	PIDS+=("$pid")
	port=$([ "$kind" = policyd ] && echo "$P_POLICY" || echo "$P_MILTER")
	for i in $(seq 1 100); do
		port_open "$port" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# the database is opened after the socket: past its busy timeout
	sleep 1.5
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		rc=$?
		release_lock
		if [ "$rc" = 69 ] && grep -qiE 'database.*(locked|busy)' "$T/excl-$kind.log"; then
			ok "$kind started under an exclusive lock: refuses to start, exit 69, logs \"$(grep -iE 'locked|busy' "$T/excl-$kind.log" | tail -1 | cut -c1-110)\" (fail-closed: the MTA's default action applies)"
		else
			bad "$kind started under an exclusive lock" "exited $rc: $(tail -c 300 "$T/excl-$kind.log")"
		fi
		return
	fi
	if [ "$kind" = policyd ]; then
		out=$($CLIENT policy "$port" --ip 127.0.0.20 --n 4 --rcpt-prefix "excl-$kind-")
		max=$(field "$out" max_ms)
		if [ "$(verdict_count "$out" DEFER_IF_PERMIT)" = 4 ] && [ "${max:-99999}" -lt 2500 ]; then
			ok "policyd under an exclusive lock: DEFER_IF_PERMIT within ${max} ms, never OK [$out]"
		else
			bad "policyd under an exclusive lock" "got [$out], want 4 x DEFER_IF_PERMIT, max_ms < 2500"
		fi
	else
		out=$($CLIENT milter "$port" --ip 127.0.0.20 --n 4 --rcpt-prefix "excl-$kind-")
		max=$(field "$out" max_ms)
		if [ "$(verdict_count "$out" 451)" = 4 ] && [ "${max:-99999}" -lt 2500 ]; then
			ok "milter under an exclusive lock: 451 within ${max} ms, never continue [$out]"
		else
			bad "milter under an exclusive lock" "got [$out], want 4 x 451, max_ms < 2500"
		fi
	fi
	release_lock
	# the daemon recovers by itself once the lock is gone
	for i in $(seq 1 30); do
		out=$($CLIENT "$([ "$kind" = policyd ] && echo policy || echo milter)" "$port" --ip 127.0.0.20 --n 1 --rcpt-prefix "excl2-$kind-")
		[ "$(field "$out" verdicts)" = "$([ "$kind" = policyd ] && echo OK || echo continue):1" ] && break
		sleep 0.5
	done
	if [ "$i" -lt 30 ]; then
		ok "$kind permits again $((i / 2))s after the exclusive lock is released"
	else
		bad "$kind after the exclusive lock" "still [$out] after 15s"
	fi
	stop_pid "$pid"
}
exclusive_case policyd
exclusive_case milter

# loginwatch: logins read under the lock are granted once it is released
if have loginwatch; then
	if start loginwatch busy-loginwatch main; then
		pid=$LAST_PID
		hold_lock immediate
		for i in $(seq 1 20); do login_line "192.0.2.$i" "busy$i" >>"$T/mail.log"; done
		sleep 2.5
		held=$(as_run_user sqlite3 -batch -cmd '.timeout 100' "$DB" "SELECT count(*) FROM grants WHERE username LIKE 'busy%'" 2>/dev/null)
		release_lock
		rows=$(wait_rows "SELECT count(*) FROM active_grants WHERE username LIKE 'busy%'" 20 20)
		if [ "$rows" = 20 ] && kill -0 "$pid" 2>/dev/null; then
			ok "loginwatch: 20 logins read under the lock are granted after it (${held:-0} visible during it)"
		else
			bad "loginwatch under a lock" "got $rows grants, want 20; running: $(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"
		fi
		stop_pid "$pid"
	else
		bad "loginwatch under a lock" "did not start"
	fi
else
	skip "loginwatch under a lock" "not built yet"
fi

fault_done

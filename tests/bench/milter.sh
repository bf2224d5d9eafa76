#!/bin/bash
# NAME
#	milter.sh - authrelay-milter's cost on Postfix throughput
# SUMMARY
#	AUTHRELAY_BUILD=/abs/build bash tests/bench/milter.sh   (make bench)
# DESCRIPTION
#	One private Postfix on loopback ports chosen free at start, relaying
#	to smtp-sink (the outside world), with one smtpd service per case,
#	so every case runs against the same Postfix in the same run:
#	  none        no milter
#	  unix        authrelay-milter on a unix: socket
#	  inet        authrelay-milter on an inet: socket (TCP_NODELAY, default)
#	  inet-stock  the same with AUTHRELAY_MILTER_NODELAY=0 (libmilter's
#	              sockets as shipped: shows what TCP_NODELAY buys)
#	  floor       milter-floor.c on an inet: socket: a libmilter filter
#	              with authrelay-milter's event set that decides nothing
#	              (what any such filter costs Postfix here)
#	smtp-source sends N messages (2 KB, one recipient each, a new
#	session per message) over S parallel sessions; the rate is messages
#	accepted per second (smtp-source's wall time), measured with an
#	empty queue (deliveries of the previous run finished). Each case runs
#	BENCH_REPS times, interleaved with the others in a rotating order;
#	the best run counts (the machine is shared and noisy). The milter permits every relay
#	through trusted_networks after a grant lookup in the database, so
#	each recipient costs decide() with a real SQLite query and a
#	decisions row.
#
#	Each run also prints the CPU time per message of the case's smtpd
#	processes (Postfix's own milter client work is the difference to
#	"none") and of its milter. At the end, milter-rtt.c replays one
#	session's milter conversation without Postfix against each filter
#	(latency per session and per message on a kept connection), next
#	to the per-message budget the target leaves at S=1.
#
#	Target: with the milter at least 0.85 of the rate without it, on
#	both socket kinds. Exit status 1 only when mail was not accepted or
#	a process failed; a missed target is printed as MISSED.
#
#	Environment: BENCH_N (default 800), BENCH_SESSIONS (default "1 8"),
#	BENCH_REPS (default 3), BENCH_REUSE=1 (all messages of a session
#	over one SMTP connection, smtp-source -d: shows what a long milter
#	connection costs), BENCH_RCPTS (recipients per message, default 1).
# SEE ALSO
#	tests/bench/lib/postfix-lab.sh (the lab, shared with postfix-policyd.sh),
#	tests/e2e/lib.sh (free ports, process bookkeeping)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix-lab.sh
. "$HERE/lib/postfix-lab.sh"

N=${BENCH_N:-800}
SESSIONS=${BENCH_SESSIONS:-"1 8"}
REPS=${BENCH_REPS:-3}
RCPTS=${BENCH_RCPTS:-1}
SOURCE_OPTS=()
[ "${BENCH_REUSE:-0}" = 1 ] && SOURCE_OPTS+=(-d)

bench_lab_init
[ -x "$BIN_MILTER" ] || lab_die "$BIN_MILTER is not built"
DB=$LAB/db/authrelay.db
MILTER_SOCK=$SPOOL/authrelay/milter.sock

lab_port P_NONE
lab_port P_UNIX
lab_port P_INET
lab_port P_STOCK
lab_port P_SINK
lab_port P_MILTER
lab_port P_MILTER_STOCK
lab_port P_FLOOR
lab_port P_MILTER_FLOOR

# ---- authrelay: one database, three milters ----
milter_conf() { # NAME SOCKET
	cat >"$LAB/etc/$1.conf" <<-EOF
		database = $DB
		run_user = $RUN_USER
		log_level = warning
		trusted_networks = 127.0.0.1
		milter_socket = $2
		milter_socket_owner = $RUN_USER:postfix
		milter_pidfile = $LAB/run/$1.pid
	EOF
}
milter_conf unix "unix:$MILTER_SOCK"
milter_conf inet "inet:127.0.0.1:$P_MILTER"
milter_conf stock "inet:127.0.0.1:$P_MILTER_STOCK"
# the schema from sql/, as store_sqlite applies it (no authrelayctl needed)
{
	cat "$SRC"/sql/[0-9][0-9][0-9]-*.sql
	printf 'PRAGMA application_id = %d;\nPRAGMA user_version = %d;\nPRAGMA journal_mode = WAL;\n' \
		$((0x41524c59)) "$(ls "$SRC"/sql/[0-9][0-9][0-9]-*.sql | wc -l)"
} | sqlite3 -batch "$DB" >/dev/null || lab_die "cannot create the database"
chown "$RUN_USER" "$DB"* 2>/dev/null

# ---- Postfix: one smtpd service per case ----
bench_main_cf
cat >>"$PFC/main.cf" <<EOF
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
EOF
cat >"$PFC/master.cf" <<EOF
127.0.0.1:$P_NONE inet n - n - - smtpd -o smtpd_milters=
127.0.0.1:$P_UNIX inet n - n - - smtpd -o smtpd_milters=unix:authrelay/milter.sock
127.0.0.1:$P_INET inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$P_MILTER
127.0.0.1:$P_STOCK inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$P_MILTER_STOCK
127.0.0.1:$P_FLOOR inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$P_MILTER_FLOOR
EOF
lab_master_services >>"$PFC/master.cf"

lab_ports_free
bench_sink_start
lab_daemon milter-unix "$LAB/log/milter-unix.log" "$BIN_MILTER" -f -c "$LAB/etc/unix.conf"
lab_wait_unix "$MILTER_SOCK" "$(lab_pid milter-unix)" milter-unix
lab_daemon milter-inet "$LAB/log/milter-inet.log" "$BIN_MILTER" -f -c "$LAB/etc/inet.conf"
lab_wait_listen 127.0.0.1 "$P_MILTER" "$(lab_pid milter-inet)" milter-inet
lab_daemon milter-stock "$LAB/log/milter-stock.log" \
	env AUTHRELAY_MILTER_NODELAY=0 "$BIN_MILTER" -f -c "$LAB/etc/stock.conf"
lab_wait_listen 127.0.0.1 "$P_MILTER_STOCK" "$(lab_pid milter-stock)" milter-stock
cc -O2 -o "$LAB/milter-floor" "$HERE/milter-floor.c" -lmilter -pthread ||
	lab_die "cannot build milter-floor.c"
cc -O2 -o "$LAB/milter-rtt" "$HERE/milter-rtt.c" || lab_die "cannot build milter-rtt.c"
lab_daemon milter-floor "$LAB/log/milter-floor.log" "$LAB/milter-floor" "inet:$P_MILTER_FLOOR@127.0.0.1"
lab_wait_listen 127.0.0.1 "$P_MILTER_FLOOR" "$(lab_pid milter-floor)" milter-floor
# the floor on a unix: socket too, for the protocol-only measurement
FLOOR_SOCK=$LAB/run/floor.sock
lab_daemon milter-floor-unix "$LAB/log/milter-floor-unix.log" "$LAB/milter-floor" "unix:$FLOOR_SOCK"
lab_wait_unix "$FLOOR_SOCK" "$(lab_pid milter-floor-unix)" milter-floor-unix
bench_postfix_start "$P_NONE" "$P_UNIX" "$P_INET" "$P_STOCK" "$P_FLOOR"

# cpu_ms PID: user+system CPU time of a process, in milliseconds
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"
}

# smtpd_cpu_ms PORT: CPU time of the smtpd processes of the service on
# PORT (master starts them with "-n 127.0.0.1:PORT")
smtpd_cpu_ms() {
	local p total=0 ms
	for p in $(smtpd_pids "$1"); do
		ms=$(cpu_ms "$p" 2>/dev/null) || continue
		total=$((total + ms))
	done
	echo "$total"
}

# milter_cpu_ms CASE: CPU time of the case's milter (0 for none)
milter_cpu_ms() {
	case $1 in
	none | warmup) echo 0 ;;
	inet-stock) cpu_ms "$(lab_pid milter-stock)" ;;
	*) cpu_ms "$(lab_pid "milter-$1")" ;;
	esac
}

# run CASE PORT N S: one smtp-source run; prints the rate (msg/s), then
# the CPU time per message of the case's smtpd processes and of its
# milter (us)
run() {
	local t0 t1 out s0 s1 m0 m1
	drain || return 1
	s0=$(smtpd_cpu_ms "$2")
	m0=$(milter_cpu_ms "$1")
	t0=$(lab_now)
	out=$(smtp-source "${SOURCE_OPTS[@]}" -r "$RCPTS" -s "$4" -m "$3" -l 2048 \
		-f bench@bench.test -t someone@example.org \
		-M client.bench.test "127.0.0.1:$2" 2>&1) || {
		echo "smtp-source ($1): $out" >&2
		return 1
	}
	t1=$(lab_now)
	# smtp-source prints nothing on success; any output is a refusal
	[ -z "$out" ] || { echo "smtp-source ($1): $out" >&2; return 1; }
	s1=$(smtpd_cpu_ms "$2")
	m1=$(milter_cpu_ms "$1")
	echo "$(echo "$3 / ($t1 - $t0)" | bc -l) $(((s1 - s0) * 1000 / $3)) $(((m1 - m0) * 1000 / $3))"
}

declare -A BEST CPU_SMTPD CPU_MILTER
fail=0
printf '# smtp-source -l 2048, %s recipient(s), %s; best of %s runs\n' "$RCPTS" \
	"$([ ${#SOURCE_OPTS[@]} = 0 ] && echo "new session per message" || echo "one session for all messages (-d)")" "$REPS"
for s in $SESSIONS; do
	# warm-up: Postfix spawns its smtpd and cleanup processes
	run warmup "$P_NONE" 20 "$s" >/dev/null || fail=1
	for rep in $(seq 1 "$REPS"); do
		# rotate the order: no case always runs first or last
		case $((rep % 5)) in
		1) order="none unix inet inet-stock floor" ;;
		2) order="unix inet inet-stock floor none" ;;
		3) order="inet inet-stock floor none unix" ;;
		4) order="inet-stock floor none unix inet" ;;
		0) order="floor none unix inet inet-stock" ;;
		esac
		for c in $order; do
			case $c in
			none) p=$P_NONE ;;
			unix) p=$P_UNIX ;;
			inet) p=$P_INET ;;
			inet-stock) p=$P_STOCK ;;
			floor) p=$P_FLOOR ;;
			esac
			out=$(run "$c" "$p" "$N" "$s") || { fail=1; continue; }
			read -r r cpu_smtpd cpu_milter <<<"$out"
			printf '  S=%-2s %-10s run %s: %7.1f msg/s  CPU per message: smtpd %4s us, milter %4s us\n' \
				"$s" "$c" "$rep" "$r" "$cpu_smtpd" "$cpu_milter"
			k="$c/$s"
			if [ -z "${BEST[$k]:-}" ] || [ "$(echo "$r > ${BEST[$k]}" | bc)" = 1 ]; then
				BEST[$k]=$r
			fi
			CPU_SMTPD[$k]="${CPU_SMTPD[$k]:-} $cpu_smtpd"
			CPU_MILTER[$k]="${CPU_MILTER[$k]:-} $cpu_milter"
		done
	done
done

echo "# results (msg/s, ratio to no milter; target >= 0.85; CPU us per message, median of the runs)"
for s in $SESSIONS; do
	base=${BEST[none/$s]:-0}
	# shellcheck disable=SC2086
	printf 'S=%-2s none       %7.1f             smtpd %4s\n' "$s" "$base" \
		"$(median ${CPU_SMTPD[none/$s]:-0})"
	for c in unix inet inet-stock floor; do
		v=${BEST[$c/$s]:-0}
		ratio=$(echo "if ($base > 0) $v / $base else 0" | bc -l)
		verdict=""
		if [ "$c" = unix ] || [ "$c" = inet ]; then
			if [ "$(echo "$ratio >= 0.85" | bc)" = 1 ]; then verdict=met; else verdict=MISSED; fi
		fi
		# shellcheck disable=SC2086
		printf 'S=%-2s %-10s %7.1f  ratio %.2f smtpd %4s milter %4s %s\n' "$s" "$c" "$v" "$ratio" \
			"$(median ${CPU_SMTPD[$c/$s]:-0})" "$(median ${CPU_MILTER[$c/$s]:-0})" "$verdict"
	done
done
echo "# milter CPU time (user+system) over the whole run"
for m in unix inet floor; do
	pid=$(lab_pid "milter-$m")
	printf 'milter-%s: %s ms CPU\n' "$m" "$(cpu_ms "$pid")"
done
# The milter conversation alone, as smtpd has it (milter-rtt.c): what a
# filter adds to each message's latency, against the budget the target
# leaves: at the S=1 rate without milter, 1/0.85 - 1 of a message's time.
base=${BEST[none/1]:-0}
if [ "$(echo "$base > 0" | bc)" = 1 ]; then
	printf '# milter protocol alone (milter-rtt, no Postfix), us; budget at S=1 for 0.85: %.0f us per message\n' \
		"$(echo "(1 / 0.85 - 1) * 1000000 / $base" | bc -l)"
else
	echo "# milter protocol alone (milter-rtt, no Postfix), us"
fi
for c in unix inet floor-unix floor; do
	case $c in
	unix) sock="unix:$MILTER_SOCK" ;;
	inet) sock="inet:$P_MILTER@127.0.0.1" ;;
	floor-unix) sock="unix:$FLOOR_SOCK" ;;
	floor) sock="inet:$P_MILTER_FLOOR@127.0.0.1" ;;
	esac
	# best of BENCH_REPS, like the rates
	best=""
	for rep in $(seq 1 "$REPS"); do
		out=$("$LAB/milter-rtt" "$sock" 2000 2000) || { echo "milter-rtt ($c) failed" >&2; fail=1; break; }
		set -- $out
		if [ -z "$best" ] || [ "$(echo "$2 < $(echo "$best" | cut -d' ' -f2)" | bc)" = 1 ]; then
			best=$out
		fi
	done
	[ -n "$best" ] && printf '%-10s %s\n' "$c" "$best"
done
rejects=$(grep -c 'milter-reject' "$LAB/log/postfix.log")
[ "$rejects" = 0 ] || { echo "milter rejected $rejects commands (see postfix.log)" >&2; fail=1; }
lab_check_alive
exit "$fail"

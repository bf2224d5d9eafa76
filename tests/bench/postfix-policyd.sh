#!/bin/bash
# NAME
#	postfix-policyd.sh - authrelay-policyd's cost inside a real Postfix
# SUMMARY
#	AUTHRELAY_BUILD=/abs/build bash tests/bench/postfix-policyd.sh   (make bench)
# DESCRIPTION
#	What every admin pays on every RCPT, at the rates a server sees
#	(issue 20): one private Postfix on loopback ports chosen free at
#	start, relaying to smtp-sink (the outside world), with one smtpd
#	service per case, so every case runs against the same Postfix:
#	  none    no policy service: relay allowed by permit_mynetworks
#	  inet    check_policy_service inet:127.0.0.1:PORT (authrelay-policyd)
#	  unix    check_policy_service unix:authrelay/unix.sock (another
#	          authrelay-policyd)
#	  floor   check_policy_service inet: to policy_null.c answering OK
#	          without looking (one epoll loop, one read and one write per
#	          request): what any policy server costs Postfix here, the
#	          floor under policyd's figures (no target)
#	In the policyd cases relay is allowed only by policyd's answer OK,
#	from a live grant for 127.0.0.1 in its database (default_action=
#	DUNNO and reject_unauth_destination behind it: a policyd that does
#	not answer OK makes smtp-source fail, and the run with it). Each
#	policyd has a database of its own, audit on, as deployed (daemon
#	mode, log_level info), so its decision rows can be counted.
#
#	smtp-source sends N messages (2 KB, one recipient each, a new
#	session per message) over S parallel sessions; the rate is messages
#	accepted per second (smtp-source's wall time), measured with an empty
#	queue (the previous run's deliveries finished). Each case runs
#	BENCH_REPS times, interleaved with the others in a rotating order;
#	the median run counts (the machine is shared: a busy moment hits
#	one run, not one case).
#
#	CPU per message comes from the scheduler's nanosecond counters
#	(/proc/PID/task/TID/schedstat, first field; clock ticks are 10 ms,
#	too coarse for microseconds per message): of the case's smtpd
#	processes (Postfix's policy client is the difference to "none"),
#	and of policyd, in total and the part of its threads other than the
#	main one (the decision writer). smtpd processes are kept for the
#	whole benchmark (max_use, max_idle), so their counters add up.
#
#	Decision rows: after the runs (and the writer's flush, at most a few
#	seconds) each policyd's database must hold exactly one decision row
#	per message it saw (one RCPT each), warm-up included.
#
#	Targets (issue 20), on the medians: the rate with policyd at least
#	0.95 of the rate without it, and policyd's CPU per message at most
#	20 us, for both socket kinds and every S. Exits 1 when a target is
#	missed, mail was refused, a row is missing, or a process failed.
#
#	Environment: BENCH_N (messages per run, default 600), BENCH_SESSIONS
#	(default "1 8"), BENCH_REPS (default 5), BENCH_POLICYD_ALT (a second
#	authrelay-policyd binary, e.g. one built before a change: its cases
#	"inet-alt" and "unix-alt" run interleaved with the others, so a
#	before/after comparison sees the same moments of the machine).
# SEE ALSO
#	tests/bench/milter.sh (the same lab for the milter),
#	tests/bench/lib/postfix-lab.sh (the lab), tests/e2e/lib.sh
#	(free ports, process bookkeeping, stop by PID)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/postfix-lab.sh
. "$HERE/lib/postfix-lab.sh"

N=${BENCH_N:-600}
SESSIONS=${BENCH_SESSIONS:-"1 8"}
REPS=${BENCH_REPS:-5}

bench_lab_init
[ -x "$BIN_POLICYD" ] || lab_die "$BIN_POLICYD is not built"
[ -x "$BIN_CTL" ] || lab_die "$BIN_CTL is not built"

# The cases: "none", and per policyd binary one inet and one unix case
# (BENCH_POLICYD_ALT: a second binary, e.g. the build before a change,
# measured in the same run as "inet-alt" and "unix-alt").
CASES="none floor inet unix"
declare -A BIN SMTP_PORT POLICY_PORT RELAY
BIN[inet]=$BIN_POLICYD BIN[unix]=$BIN_POLICYD
if [ -n "${BENCH_POLICYD_ALT:-}" ]; then
	[ -x "$BENCH_POLICYD_ALT" ] || lab_die "BENCH_POLICYD_ALT=$BENCH_POLICYD_ALT is not executable"
	CASES="$CASES inet-alt unix-alt"
	BIN[inet-alt]=$BENCH_POLICYD_ALT BIN[unix-alt]=$BENCH_POLICYD_ALT
fi
POLICYD_CASES=${CASES#none floor }
lab_port P_SINK
for c in $CASES; do
	lab_port PORT_
	SMTP_PORT[$c]=$PORT_
done

# ---- authrelay: a policyd per case, a database each, a grant for the client ----
policyd_conf() { # CASE LISTEN
	cat >"$LAB/etc/$1.conf" <<-EOF
		database = $LAB/db/$1.db
		run_user = $RUN_USER
		log_level = info
		audit_decisions = yes
		policyd_listen = $2
		policyd_socket_owner = postfix
		policyd_pidfile = $LAB/run/$1.pid
	EOF
	"$BIN_CTL" -c "$LAB/etc/$1.conf" init >"$LAB/log/ctl-$1.out" 2>&1 &&
		"$BIN_CTL" -c "$LAB/etc/$1.conf" grant add 127.0.0.1 --ttl 1d >>"$LAB/log/ctl-$1.out" 2>&1 ||
		{ cat "$LAB/log/ctl-$1.out" >&2; lab_die "cannot prepare the database of $1"; }
}
RELAY[none]="permit_mynetworks, reject_unauth_destination"
lab_port P_FLOOR
RELAY[floor]="check_policy_service { inet:127.0.0.1:$P_FLOOR, default_action=DUNNO }, reject_unauth_destination"
for c in $POLICYD_CASES; do
	case $c in
	inet*)
		lab_port PORT_
		POLICY_PORT[$c]=$PORT_
		policyd_conf "$c" "inet:127.0.0.1:$PORT_"
		svc="inet:127.0.0.1:$PORT_"
		;;
	unix*)
		policyd_conf "$c" "unix:$SPOOL/authrelay/$c.sock"
		svc="unix:authrelay/$c.sock"
		;;
	esac
	RELAY[$c]="check_policy_service { $svc, default_action=DUNNO }, reject_unauth_destination"
done

# ---- Postfix: one smtpd service per case ----
bench_main_cf
: >"$PFC/master.cf"
for c in $CASES; do
	# the restriction list as a parameter of its own (relay_CASE): a
	# master.cf -o value cannot hold its spaces
	printf 'relay_%s = %s\n' "${c//-/_}" "${RELAY[$c]}" >>"$PFC/main.cf"
	printf '127.0.0.1:%s inet n - n - - smtpd -o smtpd_relay_restrictions=$relay_%s\n' \
		"${SMTP_PORT[$c]}" "${c//-/_}" >>"$PFC/master.cf"
done
lab_master_services >>"$PFC/master.cf"

lab_ports_free
bench_sink_start
cc -O2 -Wall -D_GNU_SOURCE -o "$LAB/policy_null" "$HERE/policy_null.c" || lab_die "cannot build policy_null.c"
"$LAB/policy_null" "$P_FLOOR" OK >"$LAB/log/policy_null.log" 2>&1 &
lab_record floor $!
lab_wait_listen 127.0.0.1 "$P_FLOOR" $! policy_null
# Daemon mode, as deployed: detached, logging to syslog only (-f would
# copy every decision line to stderr as well); recorded by pidfile.
for c in $POLICYD_CASES; do
	"${BIN[$c]}" -c "$LAB/etc/$c.conf" >"$LAB/log/policyd-$c.log" 2>&1 ||
		lab_die "policyd ($c) did not start"
	for _ in $(seq 1 100); do [ -s "$LAB/run/$c.pid" ] && break; sleep 0.05; done
	[ -s "$LAB/run/$c.pid" ] || lab_die "policyd ($c) wrote no pidfile"
	lab_record "policyd-$c" "$(cat "$LAB/run/$c.pid")"
	case $c in
	inet*) lab_wait_listen 127.0.0.1 "${POLICY_PORT[$c]}" "$(lab_pid "policyd-$c")" "policyd-$c" ;;
	unix*) lab_wait_unix "$SPOOL/authrelay/$c.sock" "$(lab_pid "policyd-$c")" "policyd-$c" ;;
	esac
done
# shellcheck disable=SC2046
bench_postfix_start $(for c in $CASES; do echo "${SMTP_PORT[$c]}"; done)

# sched_ns PID [main|others|all]: CPU time in ns of a process's threads
# (the scheduler's count, first field of schedstat)
sched_ns() {
	local t total=0 v
	for t in /proc/"$1"/task/*; do
		case ${2:-all} in
		main) [ "${t##*/}" = "$1" ] || continue ;;
		others) [ "${t##*/}" != "$1" ] || continue ;;
		esac
		read -r v _ <"$t/schedstat" 2>/dev/null || continue
		total=$((total + v))
	done
	echo "$total"
}

# smtpd_ns PORT: CPU time (ns) of the smtpd processes of the service on
# PORT
smtpd_ns() {
	local p total=0 v
	for p in $(smtpd_pids "$1"); do
		v=$(sched_ns "$p") || continue
		total=$((total + v))
	done
	echo "$total"
}

# policyd_ns CASE WHAT: CPU time (ns) of the case's policy server (0
# for none)
policyd_ns() {
	case $1 in
	none) echo 0 ;;
	floor) sched_ns "$(lab_pid floor)" "$2" ;;
	*) sched_ns "$(lab_pid "policyd-$1")" "$2" ;;
	esac
}

port_of() { echo "${SMTP_PORT[$1]}"; }

declare -A SEEN	# messages accepted through each case (policyd: rows wanted)

# run CASE N S: one smtp-source run; prints the rate (msg/s), then the
# CPU time per message in us of the case's smtpd processes, of its
# policyd, and of policyd's threads other than the main one
run() {
	local port t0 t1 out s0 s1 p0 p1 w0 w1
	port=$(port_of "$1")
	drain || return 1
	s0=$(smtpd_ns "$port")
	p0=$(policyd_ns "$1" all)
	w0=$(policyd_ns "$1" others)
	t0=$(lab_now)
	out=$(smtp-source -s "$3" -m "$2" -l 2048 -f bench@bench.test -t someone@example.org \
		-M client.bench.test "127.0.0.1:$port" 2>&1) || {
		echo "smtp-source ($1): $out" >&2
		return 1
	}
	t1=$(lab_now)
	# smtp-source prints nothing on success; any output is a refusal
	[ -z "$out" ] || { echo "smtp-source ($1): $out" >&2; return 1; }
	s1=$(smtpd_ns "$port")
	p1=$(policyd_ns "$1" all)
	w1=$(policyd_ns "$1" others)
	echo "$(echo "$2 / ($t1 - $t0)" | bc -l) $(((s1 - s0) / 1000 / $2)) $(((p1 - p0) / 1000 / $2))" \
		"$(((w1 - w0) / 1000 / $2))"
}

# rotate K LIST...: LIST rotated left by K
rotate() {
	local k=$1 i
	shift
	local a=("$@")
	for i in $(seq 0 $(($# - 1))); do printf '%s ' "${a[$(((i + k) % $#))]}"; done
}

declare -A RATE CPU_SMTPD CPU_POLICYD CPU_WRITER
fail=0
printf '# smtp-source -l 2048, 1 recipient, a new session per message, %s messages a run;' "$N"
printf ' %s interleaved runs a case; load average before: %s\n' "$REPS" "$(cut -d' ' -f1-3 /proc/loadavg)"
for s in $SESSIONS; do
	# warm-up: Postfix spawns its smtpd and cleanup processes, policyd
	# opens its statements
	for c in $CASES; do
		run "$c" 20 "$s" >/dev/null || { fail=1; continue; }
		SEEN[$c]=$((${SEEN[$c]:-0} + 20))
	done
	for rep in $(seq 1 "$REPS"); do
		# rotate the order: no case always runs first or last
		order=$(rotate $((rep - 1)) $CASES)
		for c in $order; do
			out=$(run "$c" "$N" "$s") || { fail=1; continue; }
			SEEN[$c]=$((${SEEN[$c]:-0} + N))
			read -r r cs cp cw <<<"$out"
			printf '  S=%-2s %-8s run %s: %7.1f msg/s  CPU per message: smtpd %4s us, policyd %4s us (writer %s)\n' \
				"$s" "$c" "$rep" "$r" "$cs" "$cp" "$cw"
			k="$c/$s"
			RATE[$k]="${RATE[$k]:-} $r"
			CPU_SMTPD[$k]="${CPU_SMTPD[$k]:-} $cs"
			CPU_POLICYD[$k]="${CPU_POLICYD[$k]:-} $cp"
			CPU_WRITER[$k]="${CPU_WRITER[$k]:-} $cw"
		done
	done
done

echo "# results, medians of $REPS runs (targets: ratio >= 0.95, policyd CPU <= 20 us per message)"
printf '%-4s %-8s %8s %6s %12s %13s %12s\n' S case msg/s ratio "smtpd us/msg" "policyd us/msg" "(writer us)"
missed=""
for s in $SESSIONS; do
	# shellcheck disable=SC2086
	base=$(median ${RATE[none/$s]:-0})
	for c in $CASES; do
		k="$c/$s"
		# shellcheck disable=SC2086
		v=$(median ${RATE[$k]:-0})
		ratio=$(echo "if ($base > 0) $v / $base else 0" | bc -l)
		if [ "$c" = none ] || [ "$c" = floor ]; then
			# shellcheck disable=SC2086
			printf '%-4s %-8s %8.1f %6.2f %12s %13s %12s\n' "$s" "$c" "$v" "$ratio" \
				"$(median ${CPU_SMTPD[$k]:-0})" "$(median ${CPU_POLICYD[$k]:-0})" -
			continue
		fi
		# shellcheck disable=SC2086
		cp=$(median ${CPU_POLICYD[$k]:-0})
		verdict=met
		[ "$(echo "$ratio >= 0.95" | bc)" = 1 ] || { verdict=MISSED; missed="$missed ratio($k)"; }
		[ "$cp" -le 20 ] || { verdict=MISSED; missed="$missed cpu($k)"; }
		# shellcheck disable=SC2086
		printf '%-4s %-8s %8.1f %6.2f %12s %13s %12s %s\n' "$s" "$c" "$v" "$ratio" \
			"$(median ${CPU_SMTPD[$k]:-0})" "$cp" "$(median ${CPU_WRITER[$k]:-0})" "$verdict"
	done
done
printf '# load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
[ -e /dev/log ] || echo "# note: no /dev/log here, so policyd formats no decision lines; with a syslog daemon each one costs a few us more"

# ---- every message's decision row, written ----
for c in $POLICYD_CASES; do
	want=${SEEN[$c]:-0}
	rows=-1
	for _ in $(seq 1 30); do
		n=$(sqlite3 -cmd '.timeout 5000' "$LAB/db/$c.db" \
			"SELECT count(*) FROM decisions WHERE verdict = 'permit'" 2>/dev/null) || n=-1
		[ "$n" -ge "$want" ] || [ "$n" = "$rows" ] && { rows=$n; break; }
		rows=$n
		sleep 1
	done
	all=$(sqlite3 -cmd '.timeout 5000' "$LAB/db/$c.db" "SELECT count(*) FROM decisions" 2>/dev/null)
	if [ "$rows" = "$want" ] && [ "$all" = "$want" ]; then
		echo "decision rows ($c): $rows permit rows for $want messages accepted"
	else
		echo "decision rows ($c): $rows permit rows ($all in all) for $want messages accepted: MISSED"
		fail=1
	fi
done
lab_check_alive
if [ -n "$missed" ]; then
	echo "bench postfix-policyd: TARGET MISSED:$missed"
	exit 1
fi
[ "$fail" = 0 ] && echo "bench postfix-policyd: targets met"
exit "$fail"

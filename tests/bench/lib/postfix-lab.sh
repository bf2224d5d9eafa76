# NAME
#	postfix-lab.sh - the private Postfix of the benchmarks that measure
#	a daemon inside Postfix (milter.sh, postfix-policyd.sh)
# SUMMARY
#	. tests/bench/lib/postfix-lab.sh; bench_lab_init; ...; bench_main_cf;
#	(master.cf by the caller); bench_lab_start PORT...
# DESCRIPTION
#	On top of tests/e2e/lib.sh (free ports, process bookkeeping, stop by
#	PID): a private directory with traps that stop everything started
#	and remove it, also on failure; a main.cf for smtp-source ->
#	Postfix -> smtp-sink on loopback (mynetworks 127.0.0.0/8, no DNS,
#	smtpd processes kept for the whole benchmark so their CPU counters
#	add up); smtp-sink and Postfix started and checked; the queue
#	drained between runs; smtpd processes found per service; medians.
#
#	bench_lab_init sets LAB, PFC, SPOOL and RUN_USER (authrelay when it
#	exists, else nobody) and needs P_SINK chosen (lab_port) before
#	bench_main_cf.
# SEE ALSO
#	tests/e2e/lib.sh
# shellcheck source=../../e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib.sh"

# bench_lab_exit: the EXIT trap: logs on failure, stop by PID, clean up.
bench_lab_exit() {
	local rc=$?
	[ -n "$LAB" ] || return
	[ "$rc" != 0 ] && lab_logs_tail 20 >&2
	lab_stop
	rm -rf "$LAB"
}

# bench_lab_init TOOL...: root, the tools, the private directory, traps.
bench_lab_init() {
	local t
	[ "$(id -u)" = 0 ] || lab_die "the benchmark needs root (postfix)"
	for t in postfix smtp-source smtp-sink sqlite3 bc ss "$@"; do
		command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || lab_die "missing $t (make deps)"
	done
	LAB=$(mktemp -d /tmp/authrelay-bench.XXXXXX) || lab_die "mktemp"
	chmod 0755 "$LAB"
	trap bench_lab_exit EXIT
	trap 'exit 130' INT TERM HUP
	mkdir -p "$LAB"/{pf/etc,pf/spool,log,db,etc,run}
	if getent passwd authrelay >/dev/null; then RUN_USER=authrelay; else RUN_USER=nobody; fi
	chown "$RUN_USER" "$LAB/db" "$LAB/run"
	PFC=$LAB/pf/etc
	SPOOL=$LAB/pf/spool
	# sockets Postfix reaches by a name relative to its queue directory
	mkdir -p "$SPOOL/authrelay"
	chown "$RUN_USER:postfix" "$SPOOL/authrelay"
	chmod 0750 "$SPOOL/authrelay"
}

# bench_main_cf: $PFC/main.cf, relaying to smtp-sink on P_SINK; callers
# append their own parameters.
bench_main_cf() {
	cat >"$PFC/main.cf" <<-EOF
		compatibility_level = 3.6
		queue_directory = $SPOOL
		data_directory = $LAB/pf/data
		mail_owner = postfix
		setgid_group = postdrop
		myhostname = mail.bench.test
		mydomain = bench.test
		mydestination =
		inet_interfaces = loopback-only
		inet_protocols = ipv4
		mynetworks = 127.0.0.0/8
		relayhost = [127.0.0.1]:$P_SINK
		smtp_dns_support_level = disabled
		smtp_host_lookup = native
		smtpd_peername_lookup = no
		smtp_tls_security_level = none
		alias_maps =
		alias_database =
		biff = no
		maillog_file = $LAB/log/postfix.log
		maillog_file_prefixes = $LAB
		smtpd_error_sleep_time = 0
		smtpd_client_connection_rate_limit = 0
		default_process_limit = 200
		# smtpd processes live through the whole benchmark, so that their
		# CPU time can be read per case (a process that exits takes its
		# count along)
		max_use = 1000000
		max_idle = 3600
	EOF
}

# bench_sink_start: smtp-sink, the outside world, on P_SINK.
bench_sink_start() {
	smtp-sink -u postfix "127.0.0.1:$P_SINK" 256 >"$LAB/log/smtp-sink.log" 2>&1 &
	lab_record smtp-sink $!
	lab_wait_listen 127.0.0.1 "$P_SINK" $! smtp-sink
}

# bench_postfix_start PORT...: Postfix, recorded by its master's PID,
# listening on every PORT.
bench_postfix_start() {
	local p
	postfix -c "$PFC" start >"$LAB/log/postfix-start.out" 2>&1 ||
		{ tail -20 "$LAB/log/postfix.log" >&2; lab_die "postfix start failed"; }
	lab_record postfix "$(tr -dc 0-9 <"$LAB/pf/data/master.lock")"
	for p in "$@"; do
		lab_wait_listen 127.0.0.1 "$p" "$(lab_pid postfix)" postfix
	done
}

# drain: wait until the queue is empty, so that one case's deliveries do
# not eat the CPU of the next case's run
drain() {
	local i
	for i in $(seq 1 600); do
		[ -z "$(find "$SPOOL/incoming" "$SPOOL/active" "$SPOOL/deferred" -type f 2>/dev/null | head -1)" ] &&
			return 0
		sleep 0.1
	done
	echo "queue not drained after 60 s" >&2
	return 1
}

# smtpd_pids PORT: the smtpd processes of the service on 127.0.0.1:PORT
# (master starts them with "-n 127.0.0.1:PORT")
smtpd_pids() {
	local p
	for p in $(pgrep -x smtpd); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "-n 127.0.0.1:$1 " && echo "$p"
	done
}

# median LIST...: the middle value (CPU times are noisy both ways)
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }'
}

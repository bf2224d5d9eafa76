# NAME
#	lib.sh - the end-to-end lab: real Postfix, Dovecot and the authrelay daemons
# SUMMARY
#	. tests/e2e/lib.sh; lab_init; lab_start; ...; (lab_stop runs on EXIT)
# DESCRIPTION
#	Builds a private lab under a fresh temporary directory and starts, on
#	loopback ports chosen free at start:
#
#	- a real Postfix (`postfix -c ABSDIR start`): Cyrus SASL from a sasldb
#	  (PLAIN, LOGIN, CRAM-MD5, and SCRAM-SHA-256 and SCRAM-SHA-1 for
#	  selftest), STARTTLS with a generated certificate, smtp-sink as
#	  the outside world (relayhost), no DNS, maillog_file,
#	  mynetworks NOT containing loopback (every test client is a stranger);
#	- a real Dovecot: POP3 and IMAP on 127.0.0.1 and ::1, log_path file;
#	- the authrelay daemons that are built, with configurations rendered
#	  from conf-examples/ (authrelay.conf plus appended overrides: later keys
#	  win; the Postfix snippets appended to the base main.cf/master.cf with
#	  the ports and paths substituted), so the examples cannot rot. The
#	  rendering lives in lab-config.sh; this file runs the processes.
#
#	Whatever the lab hands to another user lives in the lab directory,
#	never in the checkout (which may sit under a 0700 directory such as
#	/root): the programs are copied to $LAB/sbin and run from there, as
#	Postfix's spawn(8) runs authrelay-policyd as the run user. Before
#	anything starts, lab_preflight (lab-reach.sh) tries every path the
#	rendered files hand over as the user that gets it, and stops the lab
#	with one line naming what cannot be reached.
#
#	Several smtpd services share one Postfix (a Postfix start costs
#	seconds):
#	  SMTP     127.0.0.1 and ::1  main.cf.policyd (inet policyd) + main.cf.milter (inet)
#	  UNIX     127.0.0.1          master.cf.policyd-unix + main.cf.milter (unix form)
#	  SPAWN    127.0.0.1          master.cf.policyd-spawn (policyd -S started by Postfix)
#	  TLSREQ   127.0.0.1          master.cf.policyd-inet, a policyd with require_tls_for_auth
#	  MILTERONLY 127.0.0.1        main.cf.milter's milter-alone form (no policyd)
#
#	Everything started is recorded (name, PID) and stopped by PID on EXIT,
#	also on failure; lab_stop waits until each process is gone. A port
#	that is taken by someone else stops the start (a leftover daemon would
#	silently stand in for ours), and each listener is checked to belong to
#	the process we started.
#
#	Environment: AUTHRELAY_BUILD (build directory, default ./build),
#	E2E_KEEP=1 (do not stop on exit), E2E_RUN_USER (the user the daemons
#	drop to; default authrelay when it exists, else nobody),
#	E2E_GRANT_TTL (grant_ttl of the lab, default 10s).
#
#	Users: alice, bob, mallory, dave (SASL, password NAMEpw, realm lab.test, so
#	the SASL names are NAME@lab.test); bob and alice also in Dovecot.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$E2E_DIR/../.." && pwd)
BUILD=${AUTHRELAY_BUILD:-$SRC/build}
CONF_EXAMPLES=$SRC/conf-examples
DOMAIN=lab.test
VUID=${E2E_VUID:-5000}

LAB=""
LAB_PROCS=()		# "name pid" of everything we started
LAB_PORTS=" "
LAB_LOGS=()
LAB_FAILED=0
LAB_MAIN_KEYS=()	# key=value appended to main.conf (the demo's own)

LAB_PROGRAMS="authrelay-policyd authrelay-milter authrelay-loginwatch authrelayctl"
# the built programs; lab_init points these at the lab's copies
# (lab_programs), which every user of the lab can reach
BIN_POLICYD=$BUILD/authrelay-policyd
BIN_MILTER=$BUILD/authrelay-milter
BIN_LOGINWATCH=$BUILD/authrelay-loginwatch
BIN_CTL=$BUILD/authrelayctl

. "$E2E_DIR/lab-config.sh"
. "$E2E_DIR/lab-reach.sh"

# ---- small helpers ----

lab_now() { date +%s.%N; }
lab_elapsed() { echo "$(lab_now) - $1" | bc | sed 's/^\./0./'; }
lab_say() { printf '# %s\n' "$*"; }
lab_die() { printf 'lab: %s\n' "$*" >&2; LAB_FAILED=1; exit 1; }
LAB_NO_TAIL=""		# set: a failure needs no log tails (nothing ran)

# have_prog NAME: true when the program is built.
have_prog() { [ -x "$BUILD/$1" ]; }

# prog_expected NAME: true when its sources are in this tree, so the
# program must be built and tested (a missing binary is then a failure,
# never a silent skip).
prog_expected() {
	case $1 in
	authrelay-policyd) [ -f "$SRC/policyd/main.c" ] ;;
	authrelay-milter) [ -f "$SRC/milter/main.c" ] ;;
	authrelay-loginwatch) [ -f "$SRC/popbeforesmtp/main.c" ] ;;
	authrelayctl) [ -f "$SRC/ctl/main.c" ] ;;
	*) return 1 ;;
	esac
}

# ---- ports ----

# port_taken PORT: any TCP socket (v4 or v6, any state) uses the port.
port_taken() { ss -Hatn "( sport = :$1 )" 2>/dev/null | grep -q .; }

# lab_port VAR: picks a free port below the ephemeral range, stores it in VAR.
lab_port() {
	local p i
	for i in $(seq 1 500); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		case $LAB_PORTS in *" $p "*) continue ;; esac
		port_taken "$p" && continue
		LAB_PORTS="$LAB_PORTS$p "
		printf -v "$1" '%s' "$p"
		return 0
	done
	lab_die "no free port found"
}

# lab_ports_free: refuse to start when one of our ports got taken meanwhile.
lab_ports_free() {
	local p
	for p in $LAB_PORTS; do
		if port_taken "$p"; then
			ss -Hatnp "( sport = :$p )" >&2
			lab_die "port $p is already in use: refusing to start"
		fi
	done
}

# lab_wait_listen HOST PORT PID NAME: waits until HOST:PORT listens and the
# listener belongs to PID (or one of its children).
lab_wait_listen() {
	local host=$1 port=$2 pid=$3 name=$4 i line
	for i in $(seq 1 200); do
		line=$(ss -Hltnp "( sport = :$port )" "src $host" 2>/dev/null)
		if [ -n "$line" ]; then
			case $line in
			*"pid=$pid,"*) return 0 ;;
			*users:*) ;;
			*) sleep 0.05; continue ;;	# owner not resolved yet by ss
			esac
			# Postfix: master owns the socket, children inherit it
			if ps -o ppid= -p "$(echo "$line" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)" 2>/dev/null |
				grep -qw "$pid"; then
				return 0
			fi
			lab_die "$name: $host:$port is held by another process: $line"
		fi
		kill -0 "$pid" 2>/dev/null || lab_die "$name (pid $pid) died before listening on $host:$port"
		sleep 0.05
	done
	lab_die "$name: $host:$port never came up"
}

# lab_wait_unix PATH PID NAME: waits until the socket file exists.
lab_wait_unix() {
	local i
	for i in $(seq 1 200); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || lab_die "$3 (pid $2) died before creating $1"
		sleep 0.05
	done
	lab_die "$3: socket $1 never appeared"
}

# ---- process bookkeeping ----

lab_record() { LAB_PROCS+=("$1 $2"); }

lab_forget() {
	local i
	for i in "${!LAB_PROCS[@]}"; do
		[ "${LAB_PROCS[$i]#* }" = "$1" ] && unset 'LAB_PROCS[i]'
	done
	LAB_PROCS=("${LAB_PROCS[@]}")
}

# lab_pid NAME: the PID recorded for NAME.
lab_pid() {
	local e
	for e in "${LAB_PROCS[@]}"; do
		[ "${e%% *}" = "$1" ] && { echo "${e#* }"; return 0; }
	done
	return 1
}

# lab_wait_gone PID SECONDS: true when PID exited within SECONDS.
lab_wait_gone() {
	local i n=$(($2 * 20))
	for i in $(seq 1 "$n"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# lab_kill NAME: stops one recorded process (TERM, then KILL after 10 s).
lab_kill() {
	local pid
	pid=$(lab_pid "$1") || return 0
	kill -TERM "$pid" 2>/dev/null
	if ! lab_wait_gone "$pid" 10; then
		echo "lab: $1 ($pid) ignored SIGTERM for 10 s; SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
		lab_wait_gone "$pid" 5
	fi
	lab_forget "$pid"
}

# ---- setup ----

# lab_run_user: RUN_USER, the user the daemons drop to: E2E_RUN_USER, else
# authrelay when it exists, else nobody.
lab_run_user() {
	if [ -n "${E2E_RUN_USER:-}" ]; then
		RUN_USER=$E2E_RUN_USER
	elif getent passwd authrelay >/dev/null; then
		RUN_USER=authrelay
	else
		RUN_USER=nobody
	fi
}

# lab_init: the private directory, ports, traps.
lab_init() {
	[ "$(id -u)" = 0 ] || lab_die "the lab needs root (postfix, dovecot, privilege drop)"
	for t in postfix dovecot smtp-sink swaks saslpasswd2 openssl sqlite3 curl ss bc setpriv; do
		command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || lab_die "missing tool $t (run make deps)"
	done
	LAB=$(mktemp -d /tmp/authrelay-e2e.XXXXXX) || lab_die "mktemp failed"
	# postfix and dovecot's unprivileged processes must traverse it
	chmod 0755 "$LAB"
	mkdir -p "$LAB"/{pf/etc/sasl,pf/spool,tls,sasl,dovecot/run,dovecot/state,vmail,log,db,etc,run}
	lab_run_user
	RUN_GROUP=$(id -gn "$RUN_USER")
	# $LAB/run stays root-owned, as systemd's RuntimeDirectory=authrelay makes /run/authrelay
	chown "$RUN_USER:$RUN_GROUP" "$LAB/db"
	chown "$VUID:$VUID" "$LAB/vmail"
	chmod 0770 "$LAB/vmail"
	DB=$LAB/db/authrelay.db
	PFC=$LAB/pf/etc
	SPOOL=$LAB/pf/spool
	GRANT_TTL=${E2E_GRANT_TTL:-10s}
	LOGIN_LOG=$(lab_login_log)
	trap lab_on_exit EXIT
	trap 'LAB_FAILED=1; exit 130' INT TERM HUP
	lab_programs

	lab_port P_SMTP
	lab_port P_UNIX
	lab_port P_SPAWN
	lab_port P_TLSREQ
	lab_port P_MILTERONLY
	lab_port P_SINK
	lab_port P_POP3
	lab_port P_IMAP
	lab_port P_POLICYD
	lab_port P_POLICYD_TLS
	lab_port P_MILTER
	MILTER_UNIX_SOCK=$SPOOL/authrelay/milter.sock
	POLICYD_UNIX_SOCK=$SPOOL/authrelay/policyd.sock
}

# lab_programs: the built programs copied to $LAB/sbin, where every user
# of the lab can execute them (the checkout may be unreachable for them);
# BIN_* name the copies.
lab_programs() {
	local p
	LAB_SBIN=$LAB/sbin
	mkdir -p "$LAB_SBIN"
	for p in $LAB_PROGRAMS; do
		have_prog "$p" || continue
		install -m 0755 "$BUILD/$p" "$LAB_SBIN/$p" || lab_die "cannot copy $BUILD/$p to $LAB_SBIN"
	done
	BIN_POLICYD=$LAB_SBIN/authrelay-policyd
	BIN_MILTER=$LAB_SBIN/authrelay-milter
	BIN_LOGINWATCH=$LAB_SBIN/authrelay-loginwatch
	BIN_CTL=$LAB_SBIN/authrelayctl
}

# ---- Postfix ----

lab_postfix_start() {
	local pid
	# start errors go only to maillog_file
	postfix -c "$PFC" start >"$LAB/log/postfix-start.out" 2>&1 ||
		{ tail -20 "$LAB/log/postfix.log" >&2; lab_die "postfix start failed"; }
	pid=$(tr -dc 0-9 <"$LAB/pf/data/master.lock")
	lab_record postfix "$pid"
	lab_wait_listen 127.0.0.1 "$P_SMTP" "$pid" postfix
	lab_wait_listen '[::1]' "$P_SMTP" "$pid" postfix
	lab_wait_listen 127.0.0.1 "$P_UNIX" "$pid" postfix
	lab_wait_listen 127.0.0.1 "$P_SPAWN" "$pid" postfix
	lab_wait_listen 127.0.0.1 "$P_TLSREQ" "$pid" postfix
	[ "$HAVE_MILTER" = 1 ] && lab_wait_listen 127.0.0.1 "$P_MILTERONLY" "$pid" postfix
}

# lab_postfix_stop: `postfix stop` and wait for the master to go.
lab_postfix_stop() {
	local pid
	pid=$(lab_pid postfix) || return 0
	postfix -c "$PFC" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
	lab_wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null
	lab_forget "$pid"
}

# ---- Dovecot ----

lab_dovecot_start() {
	local pid
	dovecot -c "$LAB/dovecot/dovecot.conf" >"$LAB/log/dovecot-start.out" 2>&1 ||
		{ cat "$LAB/log/dovecot-start.out" >&2; lab_die "dovecot failed to start"; }
	for _ in $(seq 1 100); do
		[ -s "$LAB/dovecot/run/master.pid" ] && break
		sleep 0.05
	done
	pid=$(tr -dc 0-9 <"$LAB/dovecot/run/master.pid")
	lab_record dovecot "$pid"
	lab_wait_listen 127.0.0.1 "$P_POP3" "$pid" dovecot
	lab_wait_listen 127.0.0.1 "$P_IMAP" "$pid" dovecot
	lab_wait_listen '[::1]' "$P_POP3" "$pid" dovecot
	lab_wait_listen '[::1]' "$P_IMAP" "$pid" dovecot
}

# ---- smtp-sink and the authrelay daemons ----

lab_sink_start() {
	smtp-sink -u postfix "127.0.0.1:$P_SINK" 100 >"$LAB/log/smtp-sink.log" 2>&1 &
	lab_record smtp-sink $!
	lab_wait_listen 127.0.0.1 "$P_SINK" $! smtp-sink
}

# lab_daemon NAME LOG COMMAND...: starts COMMAND in the background, in the
# foreground mode of the program, stdout+stderr to LOG.
lab_daemon() {
	local name=$1 log=$2
	shift 2
	"$@" >>"$log" 2>&1 </dev/null &
	lab_record "$name" $!
	# not bash's job: a test's kill -9 must not print "Killed"
	disown $!
	LAB_LOGS+=("$log")
}

lab_ctl() { "$BIN_CTL" -c "$LAB/etc/main.conf" "$@"; }

# lab_db_init: the shared database; authrelayctl init as root hands it to
# run_user (the daemons open it after dropping root), as in production.
lab_db_init() {
	lab_ctl init >"$LAB/log/ctl-init.out" 2>&1 ||
		{ cat "$LAB/log/ctl-init.out" >&2; lab_die "authrelayctl init failed"; }
}

lab_policyd_start() { # NAME CONF
	lab_daemon "$1" "$LAB/log/$1.log" "$BIN_POLICYD" -f -c "$2"
}

lab_milter_start() { # NAME CONF
	lab_daemon "$1" "$LAB/log/$1.log" "$BIN_MILTER" -f -c "$2"
}

lab_loginwatch_start() {
	lab_daemon loginwatch "$LAB/log/loginwatch.log" "$BIN_LOGINWATCH" -f -c "$LAB/etc/main.conf"
}

# lab_start: everything, in dependency order.
lab_start() {
	local t0
	t0=$(lab_now)
	lab_tls
	lab_sasl
	HAVE_POLICYD=0 HAVE_MILTER=0 HAVE_LOGINWATCH=0 HAVE_CTL=0
	have_prog authrelay-policyd && HAVE_POLICYD=1
	have_prog authrelay-milter && HAVE_MILTER=1
	have_prog authrelay-loginwatch && HAVE_LOGINWATCH=1
	have_prog authrelayctl && HAVE_CTL=1
	render_conf main "${LAB_MAIN_KEYS[@]}" >/dev/null
	render_conf unix "policyd_listen=unix:$POLICYD_UNIX_SOCK" policyd_socket_owner=postfix \
		"milter_socket=unix:$MILTER_UNIX_SOCK" milter_socket_owner=postfix >/dev/null
	render_conf tlsreq "policyd_listen=inet:127.0.0.1:$P_POLICYD_TLS" \
		require_tls_for_auth=yes >/dev/null
	render_conf spawn >/dev/null
	lab_postfix_config
	lab_dovecot_config
	lab_ports_free
	[ "$HAVE_CTL" = 1 ] && lab_db_init
	lab_preflight
	lab_sink_start
	if [ "$HAVE_POLICYD" = 1 ]; then
		lab_policyd_start policyd "$LAB/etc/main.conf"
		lab_policyd_start policyd-tls "$LAB/etc/tlsreq.conf"
		lab_policyd_start policyd-unix "$LAB/etc/unix.conf"
	fi
	if [ "$HAVE_MILTER" = 1 ]; then
		lab_milter_start milter "$LAB/etc/main.conf"
		lab_milter_start milter-unix "$LAB/etc/unix.conf"
	fi
	lab_dovecot_start
	[ "$HAVE_LOGINWATCH" = 1 ] && lab_loginwatch_start
	lab_postfix_start
	if [ "$HAVE_POLICYD" = 1 ]; then
		lab_wait_listen 127.0.0.1 "$P_POLICYD" "$(lab_pid policyd)" policyd
		lab_wait_listen 127.0.0.1 "$P_POLICYD_TLS" "$(lab_pid policyd-tls)" policyd-tls
		lab_wait_unix "$POLICYD_UNIX_SOCK" "$(lab_pid policyd-unix)" policyd-unix
	fi
	if [ "$HAVE_MILTER" = 1 ]; then
		lab_wait_listen 127.0.0.1 "$P_MILTER" "$(lab_pid milter)" milter
		lab_wait_unix "$MILTER_UNIX_SOCK" "$(lab_pid milter-unix)" milter-unix
	fi
	lab_check_alive
	LAB_START_SECONDS=$(lab_elapsed "$t0")
}

# lab_check_alive: every recorded process still runs.
lab_check_alive() {
	local e
	for e in "${LAB_PROCS[@]}"; do
		kill -0 "${e#* }" 2>/dev/null || lab_die "${e%% *} (pid ${e#* }) is not running"
	done
}

# lab_logs_tail: the end of every log, for a failure report.
lab_logs_tail() {
	local f
	for f in "$LAB"/log/*; do
		[ -s "$f" ] || continue
		printf '\n---- tail of %s ----\n' "$f"
		tail -n "${1:-25}" "$f"
	done
}

# lab_stop: stops everything we started, by PID, all at once (Dovecot and
# libmilter take seconds to exit), and waits for each.
lab_stop() {
	local e pid pids=()
	if pid=$(lab_pid postfix); then
		postfix -c "$PFC" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null
		pids+=("$pid")
		lab_forget "$pid"
	fi
	for e in "${LAB_PROCS[@]}"; do
		kill -TERM "${e#* }" 2>/dev/null
		pids+=("${e#* }")
	done
	for pid in "${pids[@]}"; do
		if ! lab_wait_gone "$pid" 10; then
			echo "lab: pid $pid ignored SIGTERM for 10 s; SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null
			lab_wait_gone "$pid" 5
		fi
	done
	LAB_PROCS=()
}

# lab_write_stop_script: $LAB/stop.sh stops this lab later (E2E_KEEP=1),
# by the PIDs recorded now, and removes the directory.
lab_write_stop_script() {
	local e
	{
		printf '#!/bin/bash\n# stops the authrelay e2e lab in %s (written by lib.sh)\n' "$LAB"
		# only a lab with a Postfix (tests/sendmail has none)
		lab_pid postfix >/dev/null && printf 'postfix -c %q stop >/dev/null 2>&1\n' "$PFC"
		printf 'pids=()\n'
		# a PID is only ours while its start time is the one seen now
		printf 'stop() { [ "$(ps -o lstart= -p "$1" 2>/dev/null)" = "$2" ] && kill -TERM "$1" && pids+=("$1"); }\n'
		for e in "${LAB_PROCS[@]}"; do
			printf 'stop %s %q   # %s\n' "${e#* }" "$(ps -o lstart= -p "${e#* }")" "${e%% *}"
		done
		cat <<-'EOF'
			for p in "${pids[@]}"; do
				for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
				kill -KILL "$p" 2>/dev/null
			done
		EOF
		printf 'rm -rf %q\necho "lab stopped"\n' "$LAB"
	} >"$LAB/stop.sh"
	chmod 0755 "$LAB/stop.sh"
}

lab_on_exit() {
	local rc=$?
	[ -n "$LAB" ] || return
	if { [ "$rc" != 0 ] || [ "$LAB_FAILED" != 0 ]; } && [ -z "$LAB_NO_TAIL" ]; then
		lab_logs_tail 25 >&2
	fi
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		lab_write_stop_script
		[ -n "${LAB_KEEP_QUIET:-}" ] ||
			echo "# lab kept running (E2E_KEEP=1); stop it with: bash $LAB/stop.sh" >&2
		return
	fi
	lab_stop
	rm -rf "$LAB"
}

# ---- clients ----

# smtp ARGS...: one swaks session; prints the transcript.
smtp() {
	swaks --timeout 30 --helo client.example.net --hide-informational "$@" 2>&1
}

# smtp_outcome TRANSCRIPT: the reply that decided the session: the first
# error reply, else the last reply of the server.
smtp_outcome() {
	local err
	err=$(printf '%s\n' "$1" | grep -m1 -E '^<(\*\*|~\*) ' | sed -E 's/^<(\*\*|~\*) //')
	if [ -n "$err" ]; then
		echo "$err"
	else
		printf '%s\n' "$1" | grep -E '^<[-~] ' | grep -v ' 221 ' | tail -1 | sed -E 's/^<[-~] +//'
	fi
}

# sql QUERY: sqlite3 on the lab database (read-mostly).
sql() { sqlite3 -batch -cmd '.timeout 5000' "$DB" "$@"; }

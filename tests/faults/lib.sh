# tests/faults/lib.sh -- what every fault script shares (sourced, bash).
#
# NAME
#	lib.sh - temp directory, run user, database, daemons, clients, cleanup
# DESCRIPTION
#	fault_setup NAME makes $T (0755) with $T/db and $T/run owned by
#	$RUN_USER (0750), a database made by "authrelayctl init" as it is in
#	production, and the cleanup trap: every daemon started is stopped by
#	its PID (TERM, then KILL), every tmpfs mounted is unmounted, a test
#	user made here is removed, $T is deleted (kept when a case failed and
#	FAULTS_KEEP=1).
#
#	As root RUN_USER is $FAULT_USER when run.sh made one (useradd), or a
#	user this script makes and removes; otherwise the invoking user (the
#	privilege cases then skip).
#
#	ok/bad/skip print one line per case (tests/common.sh); fault_done
#	prints "N passed, M failed" and exits non-zero on a failure.
#
#	AUTHRELAY_BACKEND=pgsql (PGSQL=1): fault_setup also starts a private
#	PostgreSQL 15 (tests/pg.sh, stopped by the cleanup trap) and creates
#	the schema as its owner; DB is then the daemons' connection URI,
#	every configuration names the password file, make_db empties the
#	tables instead of creating a file, and sql runs psql as the daemons'
#	role. A script skips, with its reason, what only SQLite has (file
#	modes, a file removed or replaced, a full disk, integrity_check).
#	only_on BACKEND WHY, before fault_setup: on the other backend the
#	script prints one skip line with WHY and "0 passed, 0 failed" and
#	exits 0, starting nothing.
set -u
FAULTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$FAULTS/../.." && pwd)
BUILD=${AUTHRELAY_BUILD:-$SRC/build}
POLICYD=$BUILD/authrelay-policyd
MILTER=$BUILD/authrelay-milter
LOGINWATCH=$BUILD/authrelay-loginwatch
CTL=$BUILD/authrelayctl
PY=/usr/bin/python3
CLIENT="$PY $FAULTS/client.py"
. "$FAULTS/../common.sh"

T=""
PIDS=()
MOUNTS=()
MADE_USER=""
PGSQL=0
[ "${AUTHRELAY_BACKEND:-sqlite}" = pgsql ] && PGSQL=1

# ok, bad, skip, summary, stop_pid, free_port: tests/common.sh
# usage: if COND; then ok L; else bad L "got X, want Y"; fi

is_root() { [ "$(id -u)" = 0 ]; }

only_on() {
	local backend=sqlite
	[ "$PGSQL" = 1 ] && backend=pgsql
	[ "$1" = "$backend" ] && return 0
	skip "$(basename "$0" .sh)" "$2"
	summary
	exit 0
}

fault_cleanup() {
	local p m
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
	if [ -n "$T" ]; then
		if [ "$fail" != 0 ] && [ "${FAULTS_KEEP:-0}" = 1 ]; then
			echo "(kept $T)"
		else
			rm -rf "$T"
		fi
	fi
	[ -n "$MADE_USER" ] && userdel "$MADE_USER" 2>/dev/null
	[ -n "${PG_DIR:-}" ] && pg_stop
	return 0
}

fault_done() {
	local p f
	# every daemon this script started has stopped: no sanitizer report
	# (SAN=1 builds), no crash report in any daemon's log
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	f=$(grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:|Segmentation fault|core dumped' "$T"/*.log 2>/dev/null | head -3)
	if [ -n "$f" ]; then
		bad "no sanitizer or crash report in the daemons' logs" "in $(echo $f): $(grep -hm1 -E 'Sanitizer|runtime error|Segmentation|core dumped' $f | head -1)"
	else
		ok "no sanitizer or crash report in the daemons' logs$([ "${SAN:-}" = 1 ] && echo " (SAN=1 build)")"
	fi
	summary
	exit $?
}

# as_run_user CMD...: CMD as RUN_USER (root), or as ourselves
as_run_user() {
	if is_root; then
		setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups -- "$@"
	else
		"$@"
	fi
}

# sql SQL...: sqlite3 on the database, as RUN_USER, waiting for locks
# (PostgreSQL: psql as the daemons' role)
sql() {
	if [ "$PGSQL" = 1 ]; then
		pg_psql "$1"
	else
		as_run_user sqlite3 -batch -cmd '.timeout 10000' "$DB" "$@"
	fi
}

fault_setup() {
	local name=$1
	trap fault_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	# a write to the lock fifo after its sqlite3 gave up must not kill us
	trap '' PIPE
	for t in sqlite3 setpriv; do
		command -v "$t" >/dev/null || { echo "FAIL missing $t"; echo "0 passed, 1 failed"; exit 1; }
	done
	if is_root; then
		if [ -n "${FAULT_USER:-}" ] && getent passwd "$FAULT_USER" >/dev/null; then
			RUN_USER=$FAULT_USER
		else
			MADE_USER=arf$$
			useradd --system --no-create-home --shell /usr/sbin/nologin --user-group \
				"$MADE_USER" || { echo "FAIL useradd"; echo "0 passed, 1 failed"; exit 1; }
			RUN_USER=$MADE_USER
		fi
	else
		RUN_USER=$(id -un)
	fi
	RUN_GROUP=$(id -gn "$RUN_USER")
	T=$(mktemp -d "/tmp/authrelay-faults-$name.XXXXXX")
	chmod 0755 "$T"
	mkdir -p "$T/db" "$T/run"
	chmod 0750 "$T/db" "$T/run"
	is_root && chown "$RUN_USER:$RUN_GROUP" "$T/db" "$T/run"
	DB=$T/db/authrelay.db
	if [ "$PGSQL" = 1 ]; then
		. "$FAULTS/../pg.sh"
		pg_start && pg_init "$BUILD" ||
			{ echo "FAIL PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
		# the daemons read it after dropping to run_user
		is_root && chown "$RUN_USER" "$PG_PASSFILE"
		DB=$PG_CONNINFO
	fi
	P_POLICY=$(free_port)
	P_MILTER=$(free_port)
	touch "$T/mail.log"
	chmod 0644 "$T/mail.log"
}

# conf NAME [key = value ...]: $T/NAME.conf for every program
conf() {
	local name=$1
	shift
	{
		printf 'database = %s\nrun_user = %s\nlog_level = info\n' "$DB" "$RUN_USER"
		[ "$PGSQL" = 1 ] && printf 'database_password_file = %s\n' "$PG_PASSFILE"
		printf 'database_busy_timeout = 1s\n'
		printf 'policyd_listen = inet:127.0.0.1:%s\n' "$P_POLICY"
		printf 'policyd_pidfile = %s/run/policyd-%s.pid\n' "$T" "$name"
		printf 'milter_socket = inet:127.0.0.1:%s\n' "$P_MILTER"
		printf 'milter_pidfile = %s/run/milter-%s.pid\n' "$T" "$name"
		printf 'loginwatch_sources = %s/mail.log\n' "$T"
		printf 'loginwatch_pidfile = %s/run/loginwatch-%s.pid\n' "$T" "$name"
		printf 'grant_ttl = 1d\n'
		printf '%s\n' "$@"
	} >"$T/$name.conf"
	chmod 0644 "$T/$name.conf"
}

# make_db: the database, as an admin makes it (root: handed to RUN_USER);
# PostgreSQL: made by fault_setup, emptied here
make_db() {
	conf ctl
	if [ "$PGSQL" = 1 ]; then
		pg_psql "DELETE FROM grants; DELETE FROM grant_log; DELETE FROM sender_rights;
			DELETE FROM users; DELETE FROM decision_log; DELETE FROM loginwatch_checkpoints" ||
			{ echo "cannot empty the PostgreSQL tables"; return 1; }
		return 0
	fi
	"$CTL" -c "$T/ctl.conf" init >"$T/init.out" 2>&1 || {
		echo "authrelayctl init failed:"
		cat "$T/init.out"
		return 1
	}
}

# granted_db: make_db, then a live grant for 127.0.0.20 (the clients'
# address); the script ends with a failed case when either fails
granted_db() {
	make_db || { bad "authrelayctl init" "failed"; fault_done; }
	"$CTL" -c "$T/ctl.conf" grant add 127.0.0.20 --ttl 1d >/dev/null 2>&1 ||
		{ bad "grant add" "failed"; fault_done; }
}

# ask KIND N PREFIX: N relay requests from the granted client (127.0.0.20)
# to policyd or the milter; permit_of and tempfail_of KIND: their replies
ask() {
	if [ "$1" = policyd ]; then
		$CLIENT policy "$P_POLICY" --ip 127.0.0.20 --n "$2" --rcpt-prefix "$3"
	else
		$CLIENT milter "$P_MILTER" --ip 127.0.0.20 --n "$2" --rcpt-prefix "$3"
	fi
}
permit_of() { [ "$1" = policyd ] && echo OK || echo continue; }
tempfail_of() { [ "$1" = policyd ] && echo DEFER_IF_PERMIT || echo 451; }

# port_open PORT: something accepts on 127.0.0.1:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start KIND NAME [CONF]: the daemon (policyd, milter, loginwatch) in the
# foreground with $T/CONF.conf (default NAME), log in $T/NAME.log; sets
# LAST_PID; waits until it serves (a port accepts; loginwatch: "started:").
start() {
	local kind=$1 name=$2 cf=${3:-$2} bin i
	case $kind in
	policyd) bin=$POLICYD ;;
	milter) bin=$MILTER ;;
	loginwatch) bin=$LOGINWATCH ;;
	esac
	# the log exists before the daemon opens it: the wait below reads it
	: >>"$T/$name.log"
	# 9>&-: a daemon must not hold the lock fifo open (hold_lock)
	${FAULT_WRAP:-} "$bin" -f -c "$T/$cf.conf" >>"$T/$name.log" 2>&1 9>&- &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
	for i in $(seq 1 400); do
		case $kind in
		policyd) port_open "$P_POLICY" && return 0 ;;
		milter) grep -q 'started: socket' "$T/$name.log" && port_open "$P_MILTER" && return 0 ;;
		loginwatch) grep -q 'started:' "$T/$name.log" && return 0 ;;
		esac
		kill -0 "$LAST_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "# $kind $name did not start:"
	sed 's/^/#   /' "$T/$name.log" | tail -5
	return 1
}

# have KIND: the program is built (policyd lands later than the others)
have() {
	case $1 in
	policyd) [ -x "$POLICYD" ] ;;
	milter) [ -x "$MILTER" ] ;;
	loginwatch) [ -x "$LOGINWATCH" ] ;;
	esac
}

# proc_ids DIR: "r e s f/r e s f" (Uid/Gid lines) of a /proc/PID or task directory
proc_ids() {
	awk '/^Uid:/ { u = $2 " " $3 " " $4 " " $5 } /^Gid:/ { g = $2 " " $3 " " $4 " " $5 }
	     END { print u "/" g }' "$1/status"
}

# login_line IP USER: one Dovecot login line for loginwatch
login_line() {
	printf '%s mail dovecot: imap-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=127.0.0.1, mpid=%d, TLS, session=<f%s>\n' \
		"$(date '+%b %e %H:%M:%S')" "$2" "$1" "$RANDOM" "$RANDOM"
}

# field LINE NAME: the value of NAME=value in a client.py summary line
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# verdict_count LINE VERDICT: how many replies were VERDICT (0 when none)
verdict_count() {
	local v
	v=$(field "$1" verdicts | tr ',' '\n' | sed -n "s/^$2://p")
	echo "${v:-0}"
}

# hold_lock MODE: an external sqlite3 holds the database's lock until
# release_lock. MODE immediate: BEGIN IMMEDIATE (WAL readers go on);
# exclusive: locking_mode=EXCLUSIVE and a write (readers are blocked too).
hold_lock() {
	local i attempt
	for attempt in 1 2 3 4 5; do
		rm -f "$T/lock.fifo"
		mkfifo "$T/lock.fifo"
		# .bail: a lock not taken ends the shell, and we try again (a
		# daemon just stopped may not have let go of the file yet)
		as_run_user sqlite3 -batch -bail "$DB" <"$T/lock.fifo" >"$T/lock.out" 2>&1 &
		LOCK_PID=$!
		PIDS+=("$LOCK_PID")
		exec 9>"$T/lock.fifo"
		if [ "$1" = exclusive ]; then
			printf 'PRAGMA locking_mode = EXCLUSIVE;\nBEGIN EXCLUSIVE;\n' >&9 2>/dev/null
		else
			printf 'BEGIN IMMEDIATE;\n' >&9 2>/dev/null
		fi
		printf "INSERT INTO admin_actions (ts, actor, action) VALUES (0, 'faults', 'lock');\n" >&9 2>/dev/null
		# held when a second writer cannot start
		for i in $(seq 1 40); do
			kill -0 "$LOCK_PID" 2>/dev/null || break
			if ! as_run_user sqlite3 -batch -cmd '.timeout 0' "$DB" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; then
				return 0
			fi
			sleep 0.05
		done
		exec 9>&-
		wait "$LOCK_PID" 2>/dev/null
		echo "# attempt $attempt: the lock was not taken: $(tr '\n' ' ' <"$T/lock.out")"
		[ -n "${FAULTS_DEBUG:-}" ] && fuser -v "$DB" "$DB-shm" "$DB-wal" 2>&1 | sed "s/^/# /"
		sleep 1
	done
	return 1
}

# release_lock: the shell quits (not only at EOF: a process that inherited
# fd 9 would keep the fifo open)
release_lock() {
	printf 'ROLLBACK;\n.quit\n' >&9 2>/dev/null
	exec 9>&-
	wait "$LOCK_PID" 2>/dev/null
}

# wait_rows SQL WANT SECONDS: polls until SQL gives WANT; prints the last value
wait_rows() {
	local got i
	for i in $(seq 1 $(($3 * 10))); do
		got=$(sql "$1" 2>/dev/null)
		[ "$got" = "$2" ] && break
		sleep 0.1
	done
	echo "$got"
}

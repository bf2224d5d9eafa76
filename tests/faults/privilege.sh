#!/bin/bash
# tests/faults/privilege.sh -- run_user, file modes, refusals of files others can write
#
# As root: each daemon runs as run_user after start-up (every thread's
# real, effective, saved and filesystem uid and gid, read from /proc, are
# run_user's and not 0); the database and its -wal/-shm files are owned
# by run_user with mode 0640 or tighter; a unix socket gets the mode and
# owner the configuration names. Then the refusals: a world-writable
# configuration (or directory without the sticky bit), a world-writable
# database or database directory, and authrelayctl on a database another
# account owns. Not root: the privilege cases skip, the refusals run.
# On PostgreSQL (AUTHRELAY_BACKEND=pgsql) the database's files belong to
# its server: those cases skip, and a password file others can read is
# refused instead.
. "$(dirname "$0")/lib.sh"
fault_setup privilege

make_db || { bad "authrelayctl init" "failed"; fault_done; }
RUID=$(id -u "$RUN_USER")
RGID=$(getent group "$RUN_GROUP" | cut -d: -f3)

# ---- every daemon as run_user ----
conf main
for kind in policyd milter loginwatch; do
	if ! have "$kind"; then
		skip "$kind runs as run_user" "not built yet"
		continue
	fi
	if ! is_root; then
		skip "$kind runs as run_user" "needs root"
		continue
	fi
	if ! start "$kind" "main-$kind" main; then
		bad "$kind runs as run_user" "did not start"
		continue
	fi
	pid=$LAST_PID
	# the database is opened after the drop: give it a moment to be
	# serving (and its threads started)
	sleep 0.3
	want="$RUID $RUID $RUID $RUID/$RGID $RGID $RGID $RGID"
	wrong=""
	nthreads=0
	for task in /proc/"$pid"/task/*; do
		nthreads=$((nthreads + 1))
		got=$(proc_ids "$task")
		[ "$got" = "$want" ] || wrong="$wrong ${task##*/}=[$got]"
	done
	if [ -z "$wrong" ] && [ "$RUID" != 0 ] && [ "$RGID" != 0 ]; then
		ok "$kind runs as $RUN_USER ($nthreads threads, Uid/Gid $want)"
	else
		bad "$kind runs as run_user" "got$wrong, want [$want] in every thread"
	fi
	groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$pid/status" | tr -s ' ')
	case " $groups " in
	*" 0 "*) bad "$kind supplementary groups" "got [$groups], want no root group" ;;
	*) ok "$kind supplementary groups without root's ([${groups# }])" ;;
	esac
	stop_pid "$pid"
done

# ---- the database's files ----
if [ "$PGSQL" = 1 ]; then
	skip "database files' modes" "SQLite only: PostgreSQL's files belong to its server"
elif is_root; then
	# make the -wal/-shm exist: a daemon holding the database open
	if have milter && start milter files-milter main; then
		pid=$LAST_PID
		sleep 0.2
		for f in "$DB" "$DB-wal" "$DB-shm"; do
			if [ ! -e "$f" ]; then
				bad "database file ${f##*/}" "missing while the milter runs"
				continue
			fi
			m=$(stat -c '%a %U' "$f")
			mode=${m% *}
			owner=${m#* }
			if [ "$owner" = "$RUN_USER" ] && [ $((8#$mode & 8#027)) = 0 ]; then
				ok "database file ${f##*/}: mode $mode, owner $owner"
			else
				bad "database file ${f##*/}" "got mode $mode owner $owner, want 0640 or tighter owned by $RUN_USER"
			fi
		done
		stop_pid "$pid"
	else
		skip "database files' modes" "milter not built"
	fi
else
	skip "database files' modes" "needs root"
fi

# ---- unix sockets: mode and owner from the configuration ----
for kind in policyd milter; do
	if ! have "$kind" || ! is_root; then
		skip "$kind unix socket mode" "not built or not root"
		continue
	fi
	for mode in 660 600; do
		sock=$T/run/$kind-$mode.sock
		if [ "$kind" = policyd ]; then
			conf "sock-$kind-$mode" "policyd_listen = unix:$sock" "policyd_socket_mode = 0$mode"
		else
			conf "sock-$kind-$mode" "milter_socket = unix:$sock" "milter_socket_mode = 0$mode"
		fi
		"$(eval echo \$"${kind^^}")" -f -c "$T/sock-$kind-$mode.conf" >"$T/sock-$kind-$mode.log" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		for _ in $(seq 1 100); do [ -S "$sock" ] && break; sleep 0.05; done
		sleep 0.1
		got=$(stat -c '%a %U' "$sock" 2>/dev/null)
		if [ "$got" = "$mode $RUN_USER" ]; then
			ok "$kind unix socket: mode $mode owner $RUN_USER as configured"
		else
			bad "$kind unix socket mode $mode" "got [$got], want [$mode $RUN_USER]"
		fi
		stop_pid "$pid"
	done
done

# ---- a configuration file others can change: refused by every program ----
cp "$T/main.conf" "$T/ww.conf"
chmod 0666 "$T/ww.conf"
mkdir -p "$T/open"
chmod 0777 "$T/open"
cp "$T/main.conf" "$T/open/in-open-dir.conf"
chmod 0644 "$T/open/in-open-dir.conf"
mkdir -p "$T/sticky"
chmod 1777 "$T/sticky"
cp "$T/main.conf" "$T/sticky/in-sticky-dir.conf"
chmod 0644 "$T/sticky/in-sticky-dir.conf"
for kind in policyd milter loginwatch ctl; do
	if [ "$kind" != ctl ] && ! have "$kind"; then
		skip "$kind -n refuses a world-writable configuration" "not built yet"
		continue
	fi
	case $kind in
	policyd) run=("$POLICYD" -n -c) ;;
	milter) run=("$MILTER" -n -c) ;;
	loginwatch) run=("$LOGINWATCH" -n -c) ;;
	ctl) run=("$CTL" check -c) ;;
	esac
	for f in ww.conf open/in-open-dir.conf; do
		if [ "$kind" = ctl ]; then
			"$CTL" -c "$T/$f" check >"$T/n.out" 2>&1
		else
			"${run[@]}" "$T/$f" >"$T/n.out" 2>&1
		fi
		rc=$?
		if [ "$rc" = 78 ] && grep -q "$T/$f: .*world-writable.*(chmod o-w " "$T/n.out"; then
			ok "$kind ${run[*]:1:1} refuses $f: exit 78, names the file and chmod o-w"
		else
			bad "$kind refuses $f" "got exit $rc [$(head -c 300 "$T/n.out")], want 78 and \"$T/$f: ... (chmod o-w ...)\""
		fi
	done
	# a sticky world-writable directory (like /tmp) is fine for the file
	if [ "$kind" = ctl ]; then
		"$CTL" -c "$T/sticky/in-sticky-dir.conf" grant list >"$T/n.out" 2>&1
	else
		"${run[@]}" "$T/sticky/in-sticky-dir.conf" >"$T/n.out" 2>&1
	fi
	rc=$?
	if ! grep -q "world-writable" "$T/n.out"; then
		ok "$kind accepts a configuration in a sticky directory (exit $rc)"
	else
		bad "$kind sticky directory" "got [$(head -c 300 "$T/n.out")]"
	fi
done

# ---- a database others can write: refused, never opened ----
# check_main KIND: the program's check of main.conf (-n; authrelayctl:
# grant list), its output in $T/n.out, its exit status in rc
check_main() {
	case $1 in
	milter) "$MILTER" -n -c "$T/main.conf" >"$T/n.out" 2>&1 ;;
	policyd) "$POLICYD" -n -c "$T/main.conf" >"$T/n.out" 2>&1 ;;
	ctl) "$CTL" -c "$T/main.conf" grant list >"$T/n.out" 2>&1 ;;
	esac
	rc=$?
}
# db_case LABEL SETUP UNDO: SETUP makes the database unsafe; every program refuses
db_case() {
	local label=$1 setup=$2 undo=$3 kind rc
	eval "$setup"
	for kind in milter policyd ctl; do
		[ "$kind" != ctl ] && ! have "$kind" && { skip "$kind $label" "not built yet"; continue; }
		check_main "$kind"
		if { [ "$rc" = 69 ] || [ "$rc" = 78 ]; } && grep -q "world-writable" "$T/n.out"; then
			ok "$kind refuses $label (exit $rc, says world-writable)"
		else
			bad "$kind refuses $label" "got exit $rc [$(head -c 300 "$T/n.out")], want 69/78 saying world-writable"
		fi
	done
	if have milter; then
		# the daemon proper, not just -n: never opens it, keeps running
		# (answering on_store_error, as policyd does: lib/frontend_store.h)
		# and says why; timeout's 124 is the daemon still running after 4 s
		: >"$T/ww-db-milter.log"
		timeout 4 "$MILTER" -f -c "$T/main.conf" >"$T/ww-db-milter.log" 2>&1
		rc=$?
		if [ "$rc" = 124 ] && grep -q "cannot open database.*world-writable" "$T/ww-db-milter.log" &&
			! grep -q "database .* open$" "$T/ww-db-milter.log"; then
			ok "milter daemon never opens $label: keeps running, the reason in the log"
		else
			bad "milter daemon never opens $label" "got exit $rc [$(tail -c 300 "$T/ww-db-milter.log")]"
		fi
	fi
	eval "$undo"
}
if [ "$PGSQL" = 1 ]; then
	skip "a database others can write" "SQLite only: PostgreSQL's files belong to its server"
else
	db_case "a world-writable database" 'chmod 0666 "$DB"' 'chmod 0640 "$DB"'
	db_case "a database in a world-writable directory" 'chmod 0777 "$T/db"' 'chmod 0750 "$T/db"'
	db_case "a planted world-writable -wal" \
		'install -m 0666 /dev/null "$DB-wal"; is_root && chown "$RUN_USER" "$DB-wal"' 'rm -f "$DB-wal"'
fi

# ---- PostgreSQL: a password file others can read is refused ----
if [ "$PGSQL" = 1 ]; then
	chmod 0644 "$PG_PASSFILE"
	for kind in policyd milter ctl; do
		check_main "$kind"
		if [ "$rc" != 0 ] && grep -q "$PG_PASSFILE" "$T/n.out"; then
			ok "$kind refuses a database_password_file others can read (exit $rc: $(grep -m1 "$PG_PASSFILE" "$T/n.out" | cut -c1-120))"
		else
			bad "$kind refuses a readable password file" "got exit $rc [$(head -c 300 "$T/n.out")], want non-zero naming $PG_PASSFILE"
		fi
	done
	chmod 0600 "$PG_PASSFILE"
fi

# ---- authrelayctl as root: a database another account owns ----
if [ "$PGSQL" = 1 ]; then
	skip "authrelayctl ownership refusals" "SQLite only: PostgreSQL's files belong to its server"
elif is_root; then
	other=nobody
	# ctl_case LABEL SETUP UNDO WANT...: grant list exits 69, stderr has each WANT
	ctl_case() {
		local label=$1 setup=$2 undo=$3 w miss=""
		shift 3
		eval "$setup"
		"$CTL" -c "$T/main.conf" grant list >"$T/n.out" 2>&1
		rc=$?
		for w in "$@"; do grep -qF -- "$w" "$T/n.out" || miss="$miss [$w]"; done
		if [ "$rc" = 69 ] && [ -z "$miss" ]; then
			ok "authrelayctl refuses $label (exit 69, says who owns it and the fix)"
		else
			bad "authrelayctl refuses $label" "got exit $rc, missing$miss in [$(head -c 400 "$T/n.out")]"
		fi
		eval "$undo"
	}
	ctl_case "a database owned by $other" 'chown "$other" "$DB"' 'chown "$RUN_USER" "$DB"' \
		"the file $DB belongs to $other" "neither root nor run_user $RUN_USER" "fix: chown $RUN_USER $DB"
	ctl_case "a database directory owned by $other" 'chown "$other" "$T/db"' 'chown "$RUN_USER" "$T/db"' \
		"its directory $T/db belongs to $other" "fix: chown $RUN_USER $T/db"
	ctl_case "a -shm file owned by $other" 'install -o "$other" -m 0640 /dev/null "$DB-shm"' 'rm -f "$DB-shm"' \
		"its file $DB-shm belongs to $other"
	conf nouser "run_user = arf-no-such-user"
	"$CTL" -c "$T/nouser.conf" grant list >"$T/n.out" 2>&1
	rc=$?
	if [ "$rc" = 69 ] && grep -q "run_user arf-no-such-user (no such user)" "$T/n.out" &&
		grep -q "create the run_user account" "$T/n.out"; then
		ok "authrelayctl: a database owned by another user while run_user does not exist: refused, says create it"
	else
		bad "authrelayctl, run_user missing" "got exit $rc [$(head -c 300 "$T/n.out")]"
	fi
	# owned by root or by run_user: fine
	"$CTL" -c "$T/main.conf" grant list >"$T/n.out" 2>&1
	rc=$?
	[ "$rc" = 0 ] && ok "authrelayctl works on a database run_user owns" ||
		bad "authrelayctl on run_user's database" "got exit $rc [$(head -c 300 "$T/n.out")]"
	# init: the new file belongs to run_user, mode 0640; a missing run_user is a warning
	mkdir -p "$T/db2"
	chown "$RUN_USER:$RUN_GROUP" "$T/db2"
	chmod 0750 "$T/db2"
	printf 'database = %s\nrun_user = %s\n' "$T/db2/new.db" "$RUN_USER" >"$T/init2.conf"
	"$CTL" -c "$T/init2.conf" init >"$T/n.out" 2>&1
	got=$(stat -c '%a %U %G' "$T/db2/new.db" 2>/dev/null)
	[ "$got" = "640 $RUN_USER $RUN_GROUP" ] && ok "init creates the database 0640 owned by run_user" ||
		bad "init's file" "got [$got], want [640 $RUN_USER $RUN_GROUP]"
	mkdir -p "$T/db3"
	printf 'database = %s\nrun_user = arf-no-such-user\n' "$T/db3/new.db" >"$T/init3.conf"
	"$CTL" -c "$T/init3.conf" init >"$T/n.out" 2>&1
	rc=$?
	if [ "$rc" = 0 ] && grep -q "run_user arf-no-such-user does not exist" "$T/n.out"; then
		ok "init as root with a missing run_user: created, with a warning"
	else
		bad "init with a missing run_user" "got exit $rc [$(head -c 300 "$T/n.out")]"
	fi
else
	skip "authrelayctl ownership refusals" "needs root"
fi

fault_done

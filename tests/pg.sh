# tests/pg.sh -- a private PostgreSQL 15 for the tests (sourced by bash, or run).
#
# NAME
#	pg.sh - start, pause, resume and stop a throw-away PostgreSQL server
# SYNOPSIS
#	. "$(dirname "${BASH_SOURCE[0]}")/../pg.sh"
#	pg_start || exit 1; ...; pg_stop
#
#	bash tests/pg.sh start DIR	(prints nothing; writes DIR/env)
#	bash tests/pg.sh pause DIR | resume DIR | stop DIR
# DESCRIPTION
#	pg_start creates a 0755 directory under /tmp (the server runs as
#	the postgres user when we are root, and the checkout may sit under
#	a 0700 directory it cannot enter), runs initdb there, starts the
#	server on a free loopback port with its socket in that directory,
#	and creates the roles and the database "authrelay" exactly as an
#	admin would, with conf-examples/postgresql/roles.sql (random
#	passwords, scram-sha-256 over TCP). It sets:
#	    PG_DIR       the directory (data/, run/ with the socket and
#	                 server.log, the password files)
#	    PG_PORT      the TCP port on 127.0.0.1
#	    PG_CONNINFO  postgresql://authrelay@127.0.0.1:PORT/authrelay, the
#	                 daemons' role (rows only, no schema changes)
#	    PG_PASSFILE  a 0600 file holding its password
#	    PGPASSWORD   the same password, so psql(1) in a test needs no prompt
#	    PG_OWNER_CONNINFO, PG_OWNER_PASSFILE  the schema owner's, for
#	                 authrelayctl init (pg_init does it)
#	    PG_AUDIT_CONNINFO, PG_AUDIT_PASSWORD  the auditors' read-only role
#	pg_init BUILD runs BUILD/authrelayctl init as the owner, then
#	conf-examples/postgresql/after-init.sql.
#	pg_psql SQL runs SQL as the authrelay role (unaligned, tuples only).
#	pg_pause stops the server (fast shutdown: clients are cut off) and
#	pg_resume starts it again on the same port and data; pg_stop stops
#	it by the PID it wrote and removes PG_DIR. Nothing here touches a
#	system PostgreSQL service.
#
#	Run as a script, "start DIR" does the same into DIR (which must be
#	empty or missing) and writes the variables to DIR/env as
#	NAME=value lines, for a C test that cannot source a shell file;
#	"pause DIR", "resume DIR" and "stop DIR" act on that server.
#	pg_pause and pg_stop take the PID from the data directory's
#	postmaster.pid, so they stop only the server of PG_DIR. A caller whose DIR was not made by
#	mktemp must make it reachable by the postgres user itself.
# DIAGNOSTICS
#	pg_start returns 1 with a message on stderr when the binaries are
#	missing (PG_MISSING=1 then) or the server does not start.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_as_owner - run a server program as the data directory's owner
pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local dir=${1:-}
	PG_MISSING=0
	if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
		PG_MISSING=1
		echo "pg.sh: PostgreSQL 15 binaries not found in $PG_BIN (apt-get install postgresql-15)" >&2
		return 1
	fi
	if [ -z "$dir" ]; then
		dir=$(mktemp -d /tmp/authrelay-pg.XXXXXX) || return 1
	else
		mkdir -p "$dir" || return 1
	fi
	chmod 0755 "$dir"
	PG_DIR=$dir
	PG_PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	PGPASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	mkdir "$PG_DIR/data" "$PG_DIR/run"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR/data" "$PG_DIR/run"
	if ! pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --no-locale \
		--auth-local=trust --auth-host=scram-sha-256 >"$PG_DIR/initdb.log" 2>&1; then
		echo "pg.sh: initdb failed:" >&2
		cat "$PG_DIR/initdb.log" >&2
		return 1
	fi
	# Tests care about behaviour, not durability: no fsync.
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		port = $PG_PORT
		unix_socket_directories = '$PG_DIR/run'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 100
	EOF
	pg_resume || return 1
	local owner_pw audit_pw top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	owner_pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	audit_pw=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	if ! pg_as_owner "$PG_BIN/psql" -q -X -h "$PG_DIR/run" -p "$PG_PORT" -U postgres \
		-d postgres -v owner_password="$owner_pw" -v daemon_password="$PGPASSWORD" \
		-v audit_password="$audit_pw" -f - <"$top/conf-examples/postgresql/roles.sql" \
		>"$PG_DIR/setup.log" 2>&1; then
		echo "pg.sh: conf-examples/postgresql/roles.sql failed:" >&2
		cat "$PG_DIR/setup.log" >&2
		return 1
	fi
	PG_PASSFILE=$PG_DIR/password
	PG_OWNER_PASSFILE=$PG_DIR/owner-password
	(umask 077; printf '%s\n' "$PGPASSWORD" >"$PG_PASSFILE"; \
	 printf '%s\n' "$owner_pw" >"$PG_OWNER_PASSFILE")
	PG_CONNINFO="postgresql://authrelay@127.0.0.1:$PG_PORT/authrelay"
	PG_OWNER_CONNINFO="postgresql://authrelay_owner@127.0.0.1:$PG_PORT/authrelay"
	PG_AUDIT_CONNINFO="postgresql://authrelay_audit@127.0.0.1:$PG_PORT/authrelay"
	PG_AUDIT_PASSWORD=$audit_pw
	export PG_DIR PG_PORT PG_CONNINFO PG_PASSFILE PGPASSWORD PG_OWNER_CONNINFO \
		PG_OWNER_PASSFILE PG_AUDIT_CONNINFO PG_AUDIT_PASSWORD
	return 0
}

# pg_init - the schema, created by authrelayctl init as its owner, and
# the auditors' grants (conf-examples/postgresql/after-init.sql)
pg_init() {
	local build=$1 top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	printf 'database = %s\ndatabase_password_file = %s\n' "$PG_OWNER_CONNINFO" \
		"$PG_OWNER_PASSFILE" >"$PG_DIR/owner.conf"
	"$build/authrelayctl" -c "$PG_DIR/owner.conf" init >"$PG_DIR/init.log" 2>&1 &&
		PGPASSWORD=$(cat "$PG_OWNER_PASSFILE") "$PG_BIN/psql" -X -q -h 127.0.0.1 \
			-p "$PG_PORT" -U authrelay_owner -d authrelay \
			-f "$top/conf-examples/postgresql/after-init.sql" >>"$PG_DIR/init.log" 2>&1 ||
		{ echo "pg.sh: init failed:" >&2; cat "$PG_DIR/init.log" >&2; return 1; }
}

# pg_resume - start the server of PG_DIR and wait until it accepts connections
pg_resume() {
	if ! pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/run/server.log" -w -t 30 \
		start >/dev/null 2>&1; then
		echo "pg.sh: the server did not start:" >&2
		tail -n 20 "$PG_DIR/run/server.log" >&2
		return 1
	fi
	PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid")
	export PG_PID
}

# pg_pause - fast shutdown of the server we started, by its PID (read
# from our data directory: a pause and resume by another process, such as
# a test run as a script, changes it)
pg_pause() {
	local i
	PG_PID=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
	[ -n "${PG_PID:-}" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null || { PG_PID=; return 0; }
	for i in $(seq 1 200); do
		kill -0 "$PG_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$PG_PID" 2>/dev/null && kill -KILL "$PG_PID" 2>/dev/null
	PG_PID=
}

pg_stop() {
	pg_pause
	[ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
	PG_DIR=
}

pg_psql() {
	"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U authrelay \
		-d authrelay -c "$1"
}

# Run as a script: start DIR / stop DIR, for tests written in C.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	start)
		pg_start "$2" || exit 1
		{
			echo "PG_PID=$PG_PID"
			echo "PG_PORT=$PG_PORT"
			echo "PG_CONNINFO=$PG_CONNINFO"
			echo "PG_PASSFILE=$PG_PASSFILE"
			echo "PG_OWNER_CONNINFO=$PG_OWNER_CONNINFO"
			echo "PG_OWNER_PASSFILE=$PG_OWNER_PASSFILE"
		} >"$PG_DIR/env"
		;;
	pause | stop)
		PG_DIR=$2
		if [ "$1" = pause ]; then pg_pause; else pg_stop; fi
		;;
	resume)
		PG_DIR=$2
		pg_resume || exit 1
		;;
	*)
		echo "usage: pg.sh start DIR | pause DIR | resume DIR | stop DIR" >&2
		exit 2
		;;
	esac
fi

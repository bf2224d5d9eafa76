# NAME
#	lab.sh - a real Sendmail with authrelay-milter as its relay judge
# SUMMARY
#	. tests/sendmail/lab.sh; sm_init; sm_start; ...; (everything stops on EXIT)
# DESCRIPTION
#	Debian 12's Sendmail 8.17, unpacked by tools/sendmail-cache.sh (the
#	package itself would remove Postfix), runs from a private temporary
#	directory in /run (Sendmail refuses sockets and maps below /tmp):
#
#	- its sendmail.cf is built with m4 from the lab's few lines (paths,
#	  a loopback port chosen free at start, lab.test as its local
#	  domain, queue-only delivery so nothing leaves, no DNS) followed by
#	  conf-examples/sendmail/authrelay.mc as an admin would paste it
#	  (only the socket path is the lab's);
#	- `sendmail -bD` runs in `unshare -u -m`: its own host name
#	  mx.lab.test (a qualified name spares its 60 s wait for one), and
#	  the lab's SASL configuration bind-mounted over the system's
#	  directory (libsasl2 reads Sendmail.conf from fixed places only);
#	  neither change is seen outside that process;
#	- its syslog(3) lines go to $LAB/log/sendmail.log through
#	  syslog_shim.so (there is no syslogd here);
#	- authrelay-milter on a unix socket, configured with
#	  conf-examples/authrelay.conf and then conf-examples/sendmail/
#	  authrelay.conf (later keys win), plus the lab's database, run_user
#	  and log level.
#
#	The process helpers, the SMTP client and the checks are the e2e
#	suite's (tests/e2e/lib.sh, check.sh): everything started is stopped
#	by PID on exit, also on failure, and a failure prints every log's tail.
#
#	AUTHRELAY_BACKEND=pgsql: the database is a private PostgreSQL 15
#	(tests/pg.sh, its data in $LAB/pg, schema made by its owner, stopped
#	by PID with the rest), read with psql as the daemons' role.
#
#	Clients are loopback addresses (swaks --local-interface): 127.0.0.1
#	is local submission (trusted_networks of the example), 127.0.0.2 gets
#	a grant, 127.0.0.3 is a stranger. SASL users alice and mallory
#	(password NAMEpw, realm lab.test) live in the lab's sasldb.
#--

SM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$SM_DIR/../e2e/lib.sh"
. "$SM_DIR/../e2e/check.sh"

SM_HOST=mx.lab.test
STRANGER=127.0.0.3
GRANTED=127.0.0.2
SUBMIT=127.0.0.1

# sm_init: Sendmail's cache, the private directory, the port, traps.
sm_init() {
	local t
	[ "$(id -u)" = 0 ] || lab_die "the Sendmail lab needs root (sendmail -bD, unshare, privilege drop)"
	for t in m4 cc unshare mount swaks saslpasswd2 sqlite3 ss bc; do
		command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || lab_die "missing tool $t (run make deps)"
	done
	SM_CACHE=$(sh "$SRC/tools/sendmail-cache.sh") || lab_die "no Sendmail (tools/sendmail-cache.sh)"
	SM_ROOT=$SM_CACHE/root
	SM_CF_DIR=$SM_ROOT/usr/share/sendmail/cf
	# Sendmail refuses a milter socket or an alias map below a directory
	# anyone may write (/tmp): the lab lives in /run (root's, 0755)
	LAB=$(mktemp -d /run/authrelay-sendmail.XXXXXX) || lab_die "mktemp in /run failed"
	# run_user must reach the database below it
	chmod 0755 "$LAB"
	mkdir -p "$LAB"/{sm/queue,sm/sasl2,log,db,etc,run,bin}
	chmod 0700 "$LAB/sm/queue"
	# a copy without the package's set-group-id bit, which would make the
	# dynamic loader ignore LD_PRELOAD (the syslog shim)
	SENDMAIL=$LAB/bin/sendmail
	install -m 0755 "$SM_ROOT/usr/libexec/sendmail/sendmail" "$SENDMAIL"
	lab_run_user
	chown "$RUN_USER" "$LAB/db"
	DB=$LAB/db/authrelay.db
	# the name lib.sh's lab_ctl uses
	CONF=$LAB/etc/main.conf
	MILTER_SOCK=$LAB/run/milter.sock
	SM_LOG=$LAB/log/sendmail.log
	trap lab_on_exit EXIT
	trap 'LAB_FAILED=1; exit 130' INT TERM HUP
	lab_port P_SM
}

# sm_sasl: the sasldb and the Sendmail.conf that libsasl2 reads for it.
sm_sasl() {
	local u
	SASLDB=$LAB/sm/sasldb2
	for u in alice mallory; do
		printf '%s' "${u}pw" | saslpasswd2 -p -c -f "$SASLDB" -u lab.test "$u" ||
			lab_die "saslpasswd2 $u"
	done
	chmod 0640 "$SASLDB"
	cat >"$LAB/sm/sasl2/Sendmail.conf" <<-EOF
		pwcheck_method: auxprop
		auxprop_plugin: sasldb
		sasldb_path: $SASLDB
		mech_list: PLAIN LOGIN CRAM-MD5
	EOF
	# the first of libsasl2's configuration directories that exists
	# (Sendmail reads Sendmail.conf from /etc/sasl2, ..., /usr/lib/sasl2)
	SASL_SYS_DIR=""
	for u in /etc/sasl2 /usr/lib/sasl2; do
		[ -d "$u" ] && { SASL_SYS_DIR=$u; break; }
	done
	[ -n "$SASL_SYS_DIR" ] || lab_die "neither /etc/sasl2 nor /usr/lib/sasl2 exists (libsasl2-modules)"
}

# sm_mc: the lab's sendmail.mc: its own lines, then the example as written.
sm_mc() {
	cat <<-EOF
		divert(-1)
		# authrelay Sendmail lab (tests/sendmail/lab.sh), built with
		# m4 -D_CF_DIR_=$SM_CF_DIR/ $SM_CF_DIR/m4/cf.m4 sendmail.mc
		divert(0)dnl
		VERSIONID(\`authrelay Sendmail lab')dnl
		OSTYPE(\`linux')dnl
		define(\`QUEUE_DIR', \`$LAB/sm/queue')dnl
		define(\`ALIAS_FILE', \`$LAB/sm/aliases')dnl
		define(\`STATUS_FILE', \`$LAB/sm/statistics')dnl
		define(\`confPID_FILE', \`$LAB/run/sendmail.pid')dnl
		define(\`confHELP_FILE', \`')dnl
		define(\`confSERVICE_SWITCH_FILE', \`$LAB/sm/service.switch')dnl
		define(\`confDELIVERY_MODE', \`queueonly')dnl
		define(\`confLOG_LEVEL', \`14')dnl
		define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN CRAM-MD5')dnl
		TRUST_AUTH_MECH(\`PLAIN LOGIN CRAM-MD5')dnl
		FEATURE(\`no_default_msa')dnl
		DAEMON_OPTIONS(\`Port=$P_SM, Addr=127.0.0.1, Name=MTA')dnl
		FEATURE(\`nocanonify')dnl
		FEATURE(\`accept_unresolvable_domains')dnl
		LOCAL_DOMAIN(\`lab.test')dnl
		dnl ---- conf-examples/sendmail/authrelay.mc ----
	EOF
	sed "s|/run/authrelay/milter.sock|$MILTER_SOCK|g" "$CONF_EXAMPLES/sendmail/authrelay.mc"
	printf 'dnl ---- end of the example ----\n'
	printf "MAILER(\`local')dnl\nMAILER(\`smtp')dnl\n"
}

# sm_in_ns COMMAND...: execs COMMAND in Sendmail's namespaces (host name,
# SASL directory), with an empty environment but for PATH and the syslog
# shim: the process keeps the PID, so call it in a subshell or background.
sm_in_ns() {
	exec unshare -u -m --propagation private /bin/sh -c '
		hostname "$1" && mount --bind "$2" "$3" || exit 71
		shim=$4 log=$5
		shift 5
		exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_PRELOAD="$shim" SYSLOG_SHIM_FILE="$log" "$@"' \
		sm-ns "$SM_HOST" "$LAB/sm/sasl2" "$SASL_SYS_DIR" "$LAB/bin/syslog_shim.so" "$SM_LOG" "$@"
}

# sm_config: sendmail.cf, aliases, the authrelay configuration.
sm_config() {
	cc -shared -fPIC -O2 -o "$LAB/bin/syslog_shim.so" "$SM_DIR/syslog_shim.c" ||
		lab_die "cannot build syslog_shim.so"
	sm_sasl
	# no DNS in the lab: host names from /etc/hosts only
	printf 'hosts files\naliases files\n' >"$LAB/sm/service.switch"
	printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' >"$LAB/sm/aliases"
	: >"$LAB/sm/statistics"
	sm_mc >"$LAB/sm/sendmail.mc"
	# m4 warns on stderr that promiscuous_relay makes an open relay: the
	# milter closes it (the point of this suite)
	m4 -D_CF_DIR_="$SM_CF_DIR/" "$SM_CF_DIR/m4/cf.m4" "$LAB/sm/sendmail.mc" \
		>"$LAB/sm/sendmail.cf" 2>"$LAB/log/m4.out" || { cat "$LAB/log/m4.out" >&2; lab_die "m4 failed"; }
	(sm_in_ns "$SENDMAIL" -C "$LAB/sm/sendmail.cf" -bi) >"$LAB/log/newaliases.out" 2>&1 ||
		{ cat "$LAB/log/newaliases.out" >&2; lab_die "sendmail -bi failed"; }
	{
		cat "$CONF_EXAMPLES/authrelay.conf"
		printf '\n# ---- conf-examples/sendmail/authrelay.conf ----\n'
		sed "s|/run/authrelay/milter.sock|$MILTER_SOCK|g" "$CONF_EXAMPLES/sendmail/authrelay.conf"
		printf '\n# ---- Sendmail lab (later keys win) ----\n'
		printf 'database = %s\nrun_user = %s\nlog_level = debug\n' "$DB" "$RUN_USER"
		[ -n "${PG_PASSFILE:-}" ] && printf 'database_password_file = %s\n' "$PG_PASSFILE"
		printf 'milter_pidfile = %s/run/milter.pid\n' "$LAB"
	} >"$CONF"
}

sm_milter_start() {
	lab_milter_start milter "$CONF"
	lab_wait_unix "$MILTER_SOCK" "$(lab_pid milter)" milter
}

sm_sendmail_start() {
	lab_daemon sendmail "$LAB/log/sendmail.out" sm_in_ns "$SENDMAIL" -C "$LAB/sm/sendmail.cf" -bD
	lab_wait_listen 127.0.0.1 "$P_SM" "$(lab_pid sendmail)" sendmail
}

# sm_pgsql: the lab's database is a PostgreSQL server of its own, its
# schema made by the owner role (pg_init); sql reads it with psql
sm_pgsql() {
	. "$SRC/tests/pg.sh"
	pg_start "$LAB/pg" && pg_init "$BUILD" || lab_die "PostgreSQL did not start"
	lab_record pgsql "$PG_PID"
	chown "$RUN_USER" "$PG_PASSFILE"
	DB=$PG_CONNINFO
	sql() { pg_psql "$1"; }
}

# sm_start: the database, the milter, Sendmail.
sm_start() {
	local t0
	t0=$(lab_now)
	[ "${AUTHRELAY_BACKEND:-sqlite}" = pgsql ] && sm_pgsql
	sm_config
	lab_ports_free
	if [ -z "${PG_DIR:-}" ]; then
		lab_ctl init >"$LAB/log/ctl-init.out" 2>&1 ||
			{ cat "$LAB/log/ctl-init.out" >&2; lab_die "authrelayctl init failed"; }
	fi
	sm_milter_start
	sm_sendmail_start
	lab_check_alive
	LAB_START_SECONDS=$(lab_elapsed "$t0")
}

# ---- clients and what the lab saw ----

# sm_smtp CLIENT_ADDR SWAKS_ARGS...: one session to Sendmail from CLIENT_ADDR.
sm_smtp() {
	local from=$1
	shift
	smtp --server 127.0.0.1 --port "$P_SM" --local-interface "$from" "$@"
}

# sm_token RCPT: the suite's unique "sm-NAME" in RCPT, or RCPT itself. The
# milter logs and records a recipient normalised (source route dropped,
# quotes removed), so its rows are found by the token.
sm_token() {
	local t
	t=$(printf '%s' "$1" | grep -o 'sm-[a-z]*' | head -1)
	printf '%s' "${t:-$1}"
}

# sm_mailer RCPT: the {rcpt_mailer} Sendmail sent for RCPT (milter log), or
# "none" when the milter saw no such recipient.
sm_mailer() {
	local m pat
	case $1 in
	*sm-*) pat="rcpt [^ ]*$(sm_token "$1")[^ ]*: " ;;
	*) pat="rcpt $(printf '%s' "$1" | sed 's/[].[*^$\\]/\\&/g'): " ;;
	esac
	m=$(grep -e "$pat" "$LAB/log/milter.log" | grep -F "(mailer " | tail -1 | sed -n 's/.*(mailer \([^)]*\)).*/\1/p')
	printf '%s' "${m:-none}"
}

# sm_queue_id RCPT: the queue id of the session that sent RCPT (Sendmail's log).
sm_queue_id() {
	grep -F "to=<$1>" "$SM_LOG" | tail -1 | sed -n 's/^[^:]*: \([0-9A-Za-z]\{14\}\): .*/\1/p'
}

# sm_accepted_id TRANSCRIPT: the id in "250 2.0.0 ID Message accepted for delivery".
sm_accepted_id() {
	printf '%s\n' "$1" | sed -n 's/.* 250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' | tail -1
}

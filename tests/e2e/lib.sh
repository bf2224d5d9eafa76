# NAME
#	lib.sh - the end-to-end lab: real Postfix, Dovecot and the authrelay daemons
# SUMMARY
#	. tests/e2e/lib.sh; lab_init; lab_start; ...; (lab_stop runs on EXIT)
# DESCRIPTION
#	Builds a private lab under a fresh temporary directory and starts, on
#	loopback ports chosen free at start:
#
#	- a real Postfix (`postfix -c ABSDIR start`): Cyrus SASL from a sasldb
#	  (PLAIN, LOGIN, CRAM-MD5), STARTTLS with a generated certificate,
#	  smtp-sink as the outside world (relayhost), no DNS, maillog_file,
#	  mynetworks NOT containing loopback (every test client is a stranger);
#	- a real Dovecot: POP3 and IMAP on 127.0.0.1 and ::1, log_path file;
#	- the authrelay daemons that are built, with configurations rendered
#	  from conf-examples/ (authrelay.conf plus appended overrides: later keys
#	  win; the Postfix snippets appended to the base main.cf/master.cf with
#	  the ports and paths substituted), so the examples cannot rot.
#
#	Several smtpd services share one Postfix (a Postfix start costs
#	seconds):
#	  SMTP     127.0.0.1 and ::1  main.cf.policyd (inet policyd) + main.cf.milter (inet)
#	  UNIX     127.0.0.1          master.cf.policyd-unix + main.cf.milter (unix form)
#	  SPAWN    127.0.0.1          master.cf.policyd-spawn (policyd -S started by Postfix)
#	  TLSREQ   127.0.0.1          master.cf.policyd-inet, a policyd with require_tls_for_auth
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
#	E2E_GRANT_TTL (grant_ttl of the lab, default 8s).
#
#	Users: alice, bob, mallory, dave (SASL, password NAMEpw, realm lab.test, so
#	the SASL names are NAME@lab.test); bob and alice also in Dovecot.
#--

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

BIN_POLICYD=$BUILD/authrelay-policyd
BIN_MILTER=$BUILD/authrelay-milter
BIN_LOGINWATCH=$BUILD/authrelay-loginwatch
BIN_CTL=$BUILD/authrelayctl

# ---- small helpers ----

lab_now() { date +%s.%N; }
lab_elapsed() { echo "$(lab_now) - $1" | bc | sed 's/^\./0./'; }
lab_say() { printf '# %s\n' "$*"; }
lab_die() { printf 'lab: %s\n' "$*" >&2; LAB_FAILED=1; exit 1; }

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

# lab_init: the private directory, ports, traps.
lab_init() {
	[ "$(id -u)" = 0 ] || lab_die "the lab needs root (postfix, dovecot, privilege drop)"
	for t in postfix dovecot smtp-sink swaks saslpasswd2 openssl sqlite3 curl ss bc; do
		command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || lab_die "missing tool $t (run make deps)"
	done
	LAB=$(mktemp -d /tmp/authrelay-e2e.XXXXXX) || lab_die "mktemp failed"
	# postfix and dovecot's unprivileged processes must traverse it
	chmod 0755 "$LAB"
	mkdir -p "$LAB"/{pf/etc/sasl,pf/spool,tls,sasl,dovecot/run,dovecot/state,vmail,log,db,etc,run}
	if [ -n "${E2E_RUN_USER:-}" ]; then
		RUN_USER=$E2E_RUN_USER
	elif getent passwd authrelay >/dev/null; then
		RUN_USER=authrelay
	else
		RUN_USER=nobody
	fi
	RUN_GROUP=$(id -gn "$RUN_USER")
	chown "$RUN_USER:$RUN_GROUP" "$LAB/db" "$LAB/run"
	chown "$VUID:$VUID" "$LAB/vmail"
	chmod 0770 "$LAB/vmail"
	DB=$LAB/db/authrelay.db
	PFC=$LAB/pf/etc
	SPOOL=$LAB/pf/spool
	GRANT_TTL=${E2E_GRANT_TTL:-8s}
	trap lab_on_exit EXIT
	trap 'LAB_FAILED=1; exit 130' INT TERM HUP

	lab_port P_SMTP
	lab_port P_UNIX
	lab_port P_SPAWN
	lab_port P_TLSREQ
	lab_port P_SINK
	lab_port P_POP3
	lab_port P_IMAP
	lab_port P_POLICYD
	lab_port P_POLICYD_TLS
	lab_port P_MILTER
	MILTER_UNIX_SOCK=$SPOOL/authrelay/milter.sock
	POLICYD_UNIX_SOCK=$SPOOL/authrelay/policyd.sock
}

# lab_tls: a CA, the server certificate, and client certificates for alice
# and mallory (EC keys: fast to make).
lab_tls() {
	local d=$LAB/tls u
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
		-subj "/CN=authrelay e2e CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null ||
		lab_die "openssl: CA"
	lab_cert "$d/key.pem" "$d/cert.pem" "mail.$DOMAIN" \
		"subjectAltName=DNS:mail.$DOMAIN,IP:127.0.0.1,IP:::1"
	for u in alice mallory; do
		lab_cert "$d/$u.key" "$d/$u.pem" "$u@$DOMAIN" "extendedKeyUsage=clientAuth"
	done
}

# lab_cert KEY CERT CN EXTENSION: a key and a certificate signed by the lab CA.
lab_cert() {
	local d=$LAB/tls
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$3" \
		-keyout "$1" -out "$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
			-days 30 -extfile <(printf '%s\n' "$4") -out "$2" 2>/dev/null ||
		lab_die "openssl: certificate for $3"
	chmod 0600 "$1"
}

# lab_sasl: the Cyrus sasldb that Postfix's smtpd reads.
lab_sasl() {
	local u
	SASLDB=$LAB/sasl/sasldb2
	for u in alice bob mallory dave; do
		printf '%s' "${u}pw" | saslpasswd2 -p -c -f "$SASLDB" -u "$DOMAIN" "$u" ||
			lab_die "saslpasswd2 $u"
	done
	chown root:postfix "$SASLDB"
	chmod 0640 "$SASLDB"
	# Debian's smtpd reads $config_directory/sasl/smtpd.conf
	cat >"$PFC/sasl/smtpd.conf" <<-EOF
		pwcheck_method: auxprop
		auxprop_plugin: sasldb
		sasldb_path: $SASLDB
		mech_list: PLAIN LOGIN CRAM-MD5
	EOF
}

# ---- rendering conf-examples ----

# render_conf NAME [key=value ...]: $LAB/etc/NAME.conf from
# conf-examples/authrelay.conf with the lab's keys and then the given
# overrides appended (later keys win). Prints the path.
render_conf() {
	local name=$1 out=$LAB/etc/$1.conf kv
	shift
	{
		# missing only while the config module is being written (s05 says so)
		cat "$CONF_EXAMPLES/authrelay.conf" 2>/dev/null
		printf '\n# ---- e2e lab overrides (later keys win) ----\n'
		printf 'database = %s\n' "$DB"
		printf 'run_user = %s\n' "$RUN_USER"
		printf 'log_level = debug\n'
		printf 'grant_ttl = %s\n' "$GRANT_TTL"
		printf 'sender_login_check = both\n'
		printf 'policyd_listen = inet:127.0.0.1:%s\n' "$P_POLICYD"
		printf 'policyd_pidfile = %s/run/%s-policyd.pid\n' "$LAB" "$name"
		printf 'milter_socket = inet:127.0.0.1:%s\n' "$P_MILTER"
		printf 'milter_pidfile = %s/run/%s-milter.pid\n' "$LAB" "$name"
		printf 'loginwatch_sources = %s\n' "$LAB/log/dovecot.log"
		printf 'loginwatch_pidfile = %s/run/%s-loginwatch.pid\n' "$LAB" "$name"
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$out"
	echo "$out"
}

# pf_subst: the lab's ports, paths and user in a Postfix snippet (stdin).
pf_subst() {
	sed -e "s|inet:127\.0\.0\.1:10040|inet:127.0.0.1:$P_POLICYD|g" \
		-e "s|inet:127\.0\.0\.1:10030|inet:127.0.0.1:$P_MILTER|g" \
		-e "s|/usr/local/sbin/authrelay-policyd|$BIN_POLICYD|g" \
		-e "s|/etc/authrelay/authrelay.conf|$LAB/etc/spawn.conf|g" \
		-e "s|user=authrelay|user=$RUN_USER|g"
}

# snippet_to_o FILE: the active "key = value" settings of a main.cf
# snippet (continuation lines joined) as master.cf "-o { k = v }" lines,
# so a main.cf example can be applied to one smtpd service.
snippet_to_o() {
	awk '
		/^[ \t]*#/ || /^[ \t]*$/ { next }
		/^[ \t]/ { cur = cur " " $0; next }
		{ if (cur != "") print cur; cur = $0 }
		END { if (cur != "") print cur }' "$1" |
		sed -e 's/[ \t][ \t]*/ /g' -e 's/^/  -o { /' -e 's/$/ }/'
}

# master_service FILE NAME ADDR: the entry NAME of a master.cf snippet
# (with its continuation lines), renamed to ADDR (host:port or a name).
master_service() {
	awk -v name="$2" -v addr="$3" '
		/^[^ \t#]/ { on = ($1 == name); if (on) { sub(name, addr) } }
		/^#/ { next }
		on { print }' "$1"
}

# ---- Postfix ----

lab_postfix_config() {
	cat >"$PFC/main.cf" <<-EOF
		# e2e lab base main.cf (the conf-examples snippets are appended below)
		compatibility_level = 3.6
		queue_directory = $SPOOL
		data_directory = $LAB/pf/data
		mail_owner = postfix
		setgid_group = postdrop
		myhostname = mail.$DOMAIN
		mydomain = $DOMAIN
		myorigin = \$mydomain
		mydestination =
		inet_interfaces = loopback-only
		inet_protocols = all
		# loopback is deliberately NOT trusted: every test client is a stranger
		mynetworks = 192.0.2.254/32
		# the outside world is smtp-sink; nothing needs DNS
		relayhost = [127.0.0.1]:$P_SINK
		smtp_dns_support_level = disabled
		smtp_host_lookup = native
		lmtp_host_lookup = native
		smtpd_peername_lookup = no
		smtp_tls_security_level = none
		alias_maps =
		alias_database =
		biff = no
		maillog_file = $LAB/log/postfix.log
		maillog_file_prefixes = $LAB
		# the local domain: virtual(8) Maildirs that Dovecot serves
		virtual_mailbox_domains = $DOMAIN
		virtual_mailbox_base = $LAB/vmail
		virtual_mailbox_maps = texthash:$PFC/vmailbox
		virtual_uid_maps = static:$VUID
		virtual_gid_maps = static:$VUID
		# SMTP AUTH: Cyrus SASL, sasldb
		smtpd_sasl_auth_enable = yes
		smtpd_sasl_type = cyrus
		smtpd_sasl_path = smtpd
		smtpd_sasl_local_domain = $DOMAIN
		smtpd_sasl_security_options = noanonymous
		# STARTTLS offered, AUTH allowed without it (require_tls_for_auth is ours)
		smtpd_tls_security_level = may
		smtpd_tls_auth_only = no
		smtpd_tls_cert_file = $LAB/tls/cert.pem
		smtpd_tls_key_file = $LAB/tls/key.pem
		smtpd_tls_CAfile = $LAB/tls/ca.pem
		smtpd_tls_ask_ccert = yes
		smtpd_tls_fingerprint_digest = sha256
		smtpd_tls_loglevel = 1
		smtpd_recipient_restrictions =
		# make the lab fast
		smtpd_error_sleep_time = 0
		smtpd_soft_error_limit = 1000
		smtpd_hard_error_limit = 1000
		smtpd_client_connection_rate_limit = 0
		queue_run_delay = 10s
		minimal_backoff_time = 10s
	EOF
	printf 'alice@%s alice/Maildir/\nbob@%s bob/Maildir/\nmallory@%s mallory/Maildir/\n' \
		"$DOMAIN" "$DOMAIN" "$DOMAIN" >"$PFC/vmailbox"

	# The examples, with the lab's ports and paths.
	{
		printf '\n# ---- conf-examples/postfix/main.cf.policyd ----\n'
		pf_subst <"$CONF_EXAMPLES/postfix/main.cf.policyd"
		if [ "$HAVE_MILTER" = 1 ]; then
			printf '\n# ---- conf-examples/postfix/main.cf.milter (inet form) ----\n'
			pf_subst <"$CONF_EXAMPLES/postfix/main.cf.milter"
		fi
		printf '\n# ---- from the comment of master.cf.policyd-spawn ----\n'
		sed -n 's/^#   \(.*_time_limit = .*\)/\1/p' "$CONF_EXAMPLES/postfix/master.cf.policyd-spawn"
	} >>"$PFC/main.cf"

	# chroot n everywhere: no copies of /etc files needed
	cat >"$PFC/master.cf" <<-EOF
		# service type private unpriv chroot wakeup maxproc command + args
		127.0.0.1:$P_SMTP inet n - n - - smtpd
		[::1]:$P_SMTP inet n - n - - smtpd
		pickup unix n - n 60 1 pickup
		cleanup unix n - n - 0 cleanup
		qmgr unix n - n 300 1 qmgr
		tlsmgr unix - - n 1000? 1 tlsmgr
		rewrite unix - - n - - trivial-rewrite
		bounce unix - - n - 0 bounce
		defer unix - - n - 0 bounce
		trace unix - - n - 0 bounce
		verify unix - - n - 1 verify
		flush unix n - n 1000? 0 flush
		proxymap unix - - n - - proxymap
		proxywrite unix - - n - 1 proxymap
		smtp unix - - n - - smtp
		relay unix - - n - - smtp
		showq unix n - n - - showq
		error unix - - n - - error
		retry unix - - n - - error
		discard unix - - n - - discard
		virtual unix - n n - - virtual
		anvil unix - - n - 1 anvil
		scache unix - - n - 1 scache
		postlog unix-dgram n - n - 1 postlogd
	EOF
	{
		printf '# ---- conf-examples/postfix/master.cf.policyd-unix + main.cf.milter (unix form) ----\n'
		master_service "$CONF_EXAMPLES/postfix/master.cf.policyd-unix" submission "127.0.0.1:$P_UNIX" |
			sed "s/syslog_name=postfix\/submission/syslog_name=postfix\/unix/"
		sed -e 's/^smtpd_milters = inet:.*/#&/' -e 's/^#\(smtpd_milters = unix:.*\)/\1/' \
			"$CONF_EXAMPLES/postfix/main.cf.milter" >"$LAB/etc/main.cf.milter-unix"
		[ "$HAVE_MILTER" = 1 ] && snippet_to_o "$LAB/etc/main.cf.milter-unix"
		printf '# ---- conf-examples/postfix/master.cf.policyd-spawn ----\n'
		master_service "$CONF_EXAMPLES/postfix/master.cf.policyd-spawn" authrelay-policy authrelay-policy |
			pf_subst
		master_service "$CONF_EXAMPLES/postfix/master.cf.policyd-spawn" submission "127.0.0.1:$P_SPAWN" |
			sed "s/syslog_name=postfix\/submission/syslog_name=postfix\/spawn/"
		printf '  -o smtpd_milters=\n'
		printf '# ---- conf-examples/postfix/master.cf.policyd-inet (require_tls_for_auth policyd) ----\n'
		master_service "$CONF_EXAMPLES/postfix/master.cf.policyd-inet" submission "127.0.0.1:$P_TLSREQ" |
			sed -e "s/syslog_name=postfix\/submission/syslog_name=postfix\/tlsreq/" \
				-e "s|inet:127\.0\.0\.1:10040|inet:127.0.0.1:$P_POLICYD_TLS|g"
		printf '  -o smtpd_milters=\n'
	} >>"$PFC/master.cf"
	mkdir -p "$SPOOL/authrelay"
	chown "$RUN_USER:postfix" "$SPOOL/authrelay"
	chmod 0750 "$SPOOL/authrelay"
	postfix -c "$PFC" check >"$LAB/log/postfix-check.out" 2>&1 ||
		{ cat "$LAB/log/postfix-check.out" >&2; lab_die "postfix check failed"; }
}

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

lab_dovecot_config() {
	local dv=$LAB/dovecot
	printf 'alice:{PLAIN}alicepw::::::\nbob:{PLAIN}bobpw::::::\n' >"$dv/users"
	chown root:dovecot "$dv/users"
	chmod 0640 "$dv/users"
	cat >"$dv/dovecot.conf" <<-EOF
		base_dir = $dv/run
		state_dir = $dv/state
		protocols = imap pop3
		listen = 127.0.0.1, ::1
		auth_failure_delay = 0
		auth_mechanisms = plain login cram-md5
		disable_plaintext_auth = no
		ssl = yes
		ssl_cert = <$LAB/tls/cert.pem
		ssl_key = <$LAB/tls/key.pem
		default_login_user = dovenull
		default_internal_user = dovecot
		first_valid_uid = $VUID
		mail_location = maildir:~/Maildir
		passdb {
		  driver = passwd-file
		  args = scheme=PLAIN username_format=%u $dv/users
		}
		userdb {
		  driver = static
		  args = uid=$VUID gid=$VUID home=$LAB/vmail/%u
		}
		service imap-login {
		  inet_listener imap {
		    port = $P_IMAP
		  }
		  inet_listener imaps {
		    port = 0
		  }
		}
		service pop3-login {
		  inet_listener pop3 {
		    port = $P_POP3
		  }
		  inet_listener pop3s {
		    port = 0
		  }
		}
		# no per-IP auth penalty (2, 4, 8, 15 s) in tests
		service anvil {
		  unix_listener anvil-auth-penalty {
		    mode = 0
		  }
		}
	EOF
	lab_dovecot_logging >>"$dv/dovecot.conf"
}

# The logging part: conf-examples/dovecot/ when the loginwatch helper's
# example is there (rendered with the lab's log path), else log_path alone.
lab_dovecot_logging() {
	local f
	f=$(ls "$CONF_EXAMPLES"/dovecot/*.conf 2>/dev/null | head -1)
	printf '\n# ---- logging ----\n'
	if [ -n "$f" ]; then
		printf '# from %s\n' "${f#"$SRC"/}"
		sed -e "s|^\([ \t]*log_path[ \t]*=\).*|\1 $LAB/log/dovecot.log|" \
			-e "s|^\([ \t]*info_log_path[ \t]*=\).*|\1 $LAB/log/dovecot.log|" "$f"
		grep -q '^[ \t]*log_path' "$f" || printf 'log_path = %s\n' "$LAB/log/dovecot.log"
	else
		printf 'log_path = %s\nauth_verbose = yes\n' "$LAB/log/dovecot.log"
	fi
}

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
	LAB_LOGS+=("$log")
}

lab_ctl() { "$BIN_CTL" -c "$LAB/etc/main.conf" "$@"; }

# lab_db_init: the shared database, owned by the run user.
lab_db_init() {
	lab_ctl init >"$LAB/log/ctl-init.out" 2>&1 ||
		{ cat "$LAB/log/ctl-init.out" >&2; lab_die "authrelayctl init failed"; }
	chown "$RUN_USER:$RUN_GROUP" "$DB"* 2>/dev/null
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
	render_conf main >/dev/null
	render_conf unix "policyd_listen=unix:$POLICYD_UNIX_SOCK" policyd_socket_owner=postfix \
		"milter_socket=unix:$MILTER_UNIX_SOCK" milter_socket_owner=postfix >/dev/null
	render_conf tlsreq "policyd_listen=inet:127.0.0.1:$P_POLICYD_TLS" \
		require_tls_for_auth=yes >/dev/null
	render_conf spawn >/dev/null
	lab_postfix_config
	lab_dovecot_config
	lab_ports_free
	[ "$HAVE_CTL" = 1 ] && lab_db_init
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
		printf 'postfix -c %q stop >/dev/null 2>&1\n' "$PFC"
		printf 'pids=()\n'
		for e in "${LAB_PROCS[@]}"; do
			printf 'kill -TERM %s 2>/dev/null && pids+=(%s)   # %s\n' "${e#* }" "${e#* }" "${e%% *}"
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
	if [ "$rc" != 0 ] || [ "$LAB_FAILED" != 0 ]; then
		lab_logs_tail 25 >&2
	fi
	if [ "${E2E_KEEP:-0}" = 1 ]; then
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

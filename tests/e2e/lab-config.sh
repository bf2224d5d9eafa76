# NAME
#	lab-config.sh - the lab's configuration: certificates, sasldb, and the
#	Postfix, Dovecot and authrelay files rendered from conf-examples/
# SUMMARY
#	sourced by lib.sh
# DESCRIPTION
#	The configuration half of the lab (lib.sh runs the processes). The
#	Postfix base main.cf/master.cf is the lab's own; every authrelay piece
#	in it comes from conf-examples/postfix/ with the lab's ports, paths and
#	user substituted, and the authrelay.conf files are conf-examples/
#	authrelay.conf with the lab's keys appended (later keys win).

# ---- TLS and SASL ----

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
		mech_list: PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 SCRAM-SHA-1
	EOF
}

# ---- rendering conf-examples ----

# The line render_conf puts between the example and the lab's keys; it
# also tells the lab's authrelay.conf files from other *.conf in $LAB/etc.
RENDER_CONF_MARK='# ---- e2e lab overrides (later keys win) ----'

# render_conf NAME [key=value ...]: $LAB/etc/NAME.conf from
# conf-examples/authrelay.conf with the lab's keys and then the given
# overrides appended (later keys win). Prints the path.
render_conf() {
	local name=$1 out=$LAB/etc/$1.conf kv
	shift
	{
		# missing only while the config module is being written (s05 says so)
		cat "$CONF_EXAMPLES/authrelay.conf" 2>/dev/null
		printf '\n%s\n' "$RENDER_CONF_MARK"
		printf 'database = %s\n' "$DB"
		printf 'run_user = %s\n' "$RUN_USER"
		printf 'log_level = debug\n'
		printf 'grant_ttl = %s\n' "$GRANT_TTL"
		printf 'sender_login_check = both\n'
		printf 'policyd_listen = inet:127.0.0.1:%s\n' "$P_POLICYD"
		printf 'policyd_pidfile = %s/run/%s-policyd.pid\n' "$LAB" "$name"
		printf 'milter_socket = inet:127.0.0.1:%s\n' "$P_MILTER"
		printf 'milter_pidfile = %s/run/%s-milter.pid\n' "$LAB" "$name"
		printf 'loginwatch_sources = %s\n' "$LOGIN_LOG"
		printf 'loginwatch_pidfile = %s/run/%s-loginwatch.pid\n' "$LAB" "$name"
		# sending limits (s80): no default limit, so only the users that
		# s80 limits with authrelayctl are ever refused or suspended
		printf 'limit_suspend_after = 3\nlimit_suspend_window = 1h\n'
		printf 'limit_notify_address = alice@%s\n' "$DOMAIN"
		printf 'limit_notify_sendmail = %s/etc/sendmail-lab\n' "$LAB"
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

# lab_master_services: Postfix's own services for a private master.cf
# (the lab's and tests/bench/milter.sh's), chroot n everywhere: no copies
# of /etc files needed.
lab_master_services() {
	cat <<-EOF
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
}

# pf_main_base HOST QUEUE DATA LOG: the main.cf settings every Postfix
# of the lab shares (the lab's and s95's MX instances): its own queue and
# data directories and maillog_file, loopback only, loopback not trusted,
# smtp-sink as the outside world, no DNS, fast error handling.
pf_main_base() {
	cat <<-EOF
		compatibility_level = 3.6
		queue_directory = $2
		data_directory = $3
		mail_owner = postfix
		setgid_group = postdrop
		myhostname = $1
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
		maillog_file = $4
		maillog_file_prefixes = $LAB
		smtpd_recipient_restrictions =
		# make the lab fast
		smtpd_error_sleep_time = 0
		smtpd_soft_error_limit = 1000
		smtpd_hard_error_limit = 1000
		smtpd_client_connection_rate_limit = 0
		queue_run_delay = 10s
		minimal_backoff_time = 10s
	EOF
}

lab_postfix_config() {
	{
		echo "# e2e lab base main.cf (the conf-examples snippets are appended below)"
		pf_main_base "mail.$DOMAIN" "$SPOOL" "$LAB/pf/data" "$LAB/log/postfix.log"
	} >"$PFC/main.cf"
	cat >>"$PFC/main.cf" <<-EOF
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
	EOF
	lab_master_services >>"$PFC/master.cf"
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
		if [ "$HAVE_MILTER" = 1 ]; then
			printf '# ---- main.cf.milter without policyd (the milter alone decides relay) ----\n'
			printf '127.0.0.1:%s inet n - n - - smtpd\n  -o syslog_name=postfix/milteralone\n' "$P_MILTERONLY"
			sed -n 's/^#   \(smtpd_relay_restrictions = .*\)/  -o { \1 }/p' "$CONF_EXAMPLES/postfix/main.cf.milter"
			grep '^smtpd_milters = inet:' "$CONF_EXAMPLES/postfix/main.cf.milter" | pf_subst |
				sed 's/^\(.*\)$/  -o { \1 }/'
		fi
		printf '# ---- conf-examples/postfix/master.cf.policyd-inet (require_tls_for_auth policyd) ----\n'
		master_service "$CONF_EXAMPLES/postfix/master.cf.policyd-inet" submission "127.0.0.1:$P_TLSREQ" |
			sed -e "s/syslog_name=postfix\/submission/syslog_name=postfix\/tlsreq/" \
				-e "s|inet:127\.0\.0\.1:10040|inet:127.0.0.1:$P_POLICYD_TLS|g"
		printf '  -o smtpd_milters=\n'
	} >>"$PFC/master.cf"
	mkdir -p "$SPOOL/authrelay"
	chown "$RUN_USER:postfix" "$SPOOL/authrelay"
	chmod 0750 "$SPOOL/authrelay"
	# (no separate `postfix check`: it costs ~2 s; `postfix start` checks
	# too, and its complaints land in maillog_file, printed on failure)
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

# lab_login_log: the file Dovecot writes login lines to, as the example
# in conf-examples/dovecot/ has it (info_log_path; its name kept, moved
# into the lab), else the lab's log_path.
lab_login_log() {
	local f p
	f=$(find "$CONF_EXAMPLES/dovecot" -name '*.conf' 2>/dev/null | sort | head -1)
	p=$([ -n "$f" ] && sed -n 's/^[ \t]*info_log_path[ \t]*=[ \t]*\([^ \t]*\).*/\1/p' "$f" | tail -1)
	if [ -n "$p" ]; then
		echo "$LAB/log/$(basename "$p")"
	else
		echo "$LAB/log/dovecot.log"
	fi
}

# The logging part: conf-examples/dovecot/ (rendered: its files moved into
# the lab), after the lab's log_path for everything else.
lab_dovecot_logging() {
	local f
	f=$(find "$CONF_EXAMPLES/dovecot" -name '*.conf' 2>/dev/null | sort | head -1)
	printf '\n# ---- logging ----\nlog_path = %s\n' "$LAB/log/dovecot.log"
	if [ -n "$f" ]; then
		printf '# from %s\n' "${f#"$SRC"/}"
		sed -e "s|^\([ \t]*info_log_path[ \t]*=\).*|\1 $LOGIN_LOG|" "$f"
	else
		printf 'auth_verbose = yes\n'
	fi
}

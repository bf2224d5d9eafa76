# s95-several-hosts: the layout of README "Several hosts" on one machine.
# One PostgreSQL 15 (tests/pg.sh, its data in $LAB/pg), two MX hosts
# (two more Postfix instances, each with its own config, queue and data
# directories, maillog_file and port, and its own authrelay-policyd whose
# configuration names the shared database) and the lab's Dovecot as the
# IMAP host, whose login log an authrelay-loginwatch with the same
# database reads. A POP3 login lets that IP relay through both MX;
# authrelayctl grant revoke run with MX 1's configuration is refused by
# both within one second: the time from the revoke (authrelayctl has
# returned: the change is committed) to the first refused RCPT on each
# MX is measured by clients polling both at once, and printed.

R=example.org
IP95=127.0.0.95

# mx_config N: $LAB/mxN/etc/{main,master}.cf and mxN.conf (its policyd)
mx_config() {
	local n=$1 dir=$LAB/mx$1 smtp policy
	smtp=$(eval echo "\$P_MX${n}")
	policy=$(eval echo "\$P_MX${n}_POLICYD")
	mkdir -p "$dir/etc" "$dir/spool"
	{
		echo "# MX $n of s95 (the lab's base, then conf-examples/postfix/main.cf.policyd)"
		pf_main_base "mx$n.$DOMAIN" "$dir/spool" "$dir/data" "$LAB/log/mx$n-postfix.log"
		sed "s|inet:127\.0\.0\.1:10040|inet:127.0.0.1:$policy|g" "$CONF_EXAMPLES/postfix/main.cf.policyd"
	} >"$dir/etc/main.cf"
	{
		printf '127.0.0.1:%s inet n - n - - smtpd\n' "$smtp"
		lab_master_services
	} >"$dir/etc/master.cf"
	render_conf "mx$n" "database=$PG_CONNINFO" "database_password_file=$PG_PASSFILE" \
		"policyd_listen=inet:127.0.0.1:$policy" >/dev/null
}

# mx_start N: its policyd, then its Postfix
mx_start() {
	local n=$1 dir=$LAB/mx$1 pid
	lab_policyd_start "mx$n-policyd" "$LAB/etc/mx$n.conf"
	lab_wait_listen 127.0.0.1 "$(eval echo "\$P_MX${n}_POLICYD")" "$(lab_pid "mx$n-policyd")" "mx$n-policyd"
	postfix -c "$dir/etc" start >"$LAB/log/mx$n-postfix-start.out" 2>&1 ||
		{ tail -20 "$LAB/log/mx$n-postfix.log" >&2; return 1; }
	pid=$(tr -dc 0-9 <"$dir/data/master.lock")
	lab_record "mx$n-postfix" "$pid"
	lab_wait_listen 127.0.0.1 "$(eval echo "\$P_MX${n}")" "$pid" "mx$n-postfix"
}

# mx_rcpt N: the reply to RCPT TO of a stranger's relay attempt from
# $IP95 through MX N (the session ends there)
mx_rcpt() {
	smtp_outcome "$(smtp --server 127.0.0.1 --port "$(eval echo "\$P_MX$1")" --local-interface "$IP95" \
		--from bob@lab.test --to "r95-$2@$R" --quit-after RCPT)"
}

# first_refusal N T0: polls MX N until RCPT is refused (at most 5 s);
# prints the seconds from T0 to that reply, the number of sessions it
# took (1: the first session after the revoke was refused already, so the
# time is the session's own length) and the reply
first_refusal() {
	local out t i
	for i in $(seq 1 100); do
		out=$(mx_rcpt "$1" "revoked$1")
		t=$(lab_elapsed "$2")
		case $out in 554*) echo "$t $i $out"; return 0 ;; esac
		[ "$(echo "$t > 5" | bc)" = 1 ] && break
	done
	echo "- $i $out"
}

# s95_pgsql: the shared PostgreSQL, stopped by PID with the lab; false
# (and a failed case) when it does not start
s95_pgsql() {
	. "$SRC/tests/pg.sh"
	if pg_start "$LAB/pg"; then
		lab_record pgsql "$PG_PID"
		pg_init "$BUILD" && chown "$RUN_USER" "$PG_PASSFILE" && return 0
	fi
	check_bad "several hosts: PostgreSQL 15 (tests/pg.sh)" \
		"$([ "${PG_MISSING:-0}" = 1 ] && echo missing || echo 'did not start')" "a server (postgresql-15, make deps)"
	return 1
}

if need "several hosts: shared PostgreSQL" authrelay-policyd authrelay-loginwatch authrelayctl && s95_pgsql; then
	lab_port P_MX1
	lab_port P_MX2
	lab_port P_MX1_POLICYD
	lab_port P_MX2_POLICYD
	t95=$(lab_now)
	mx_config 1
	mx_config 2
	render_conf imap "database=$PG_CONNINFO" "database_password_file=$PG_PASSFILE" \
		"loginwatch_pidfile=$LAB/run/imap-loginwatch.pid" >/dev/null
	lab_daemon imap-loginwatch "$LAB/log/imap-loginwatch.log" "$BIN_LOGINWATCH" -f -c "$LAB/etc/imap.conf"
	if mx_start 1 && mx_start 2; then
		lab_say "several hosts: PostgreSQL $PG_PORT, MX 1 $P_MX1 (policyd $P_MX1_POLICYD)," \
			"MX 2 $P_MX2 (policyd $P_MX2_POLICYD) up in $(lab_elapsed "$t95")s"
		check_eq "several hosts: the server both MX and the IMAP host use" \
			"$(pg_psql 'SHOW server_version' | cut -d. -f1) $(pg_psql 'SELECT version FROM schema_version')" \
			"15 $(ls "$SRC"/sql/pgsql/[0-9][0-9][0-9]-*.sql | wc -l)"
		for n in 1 2; do
			check_match "several hosts: before any login $IP95 is a stranger on MX $n" \
				"$(mx_rcpt "$n" "before$n")" '^554 5\.7\.1 .*Relay access denied'
		done
		curl -s --max-time 10 --interface "$IP95" "pop3://127.0.0.1:$P_POP3/" -u bob:bobpw >/dev/null
		t_login=$(lab_now)
		pg_grant() { [ -n "$(pg_psql "SELECT username FROM active_grants WHERE ip = '$IP95'")" ]; }
		wait_for 5 pg_grant
		check_le "several hosts: bob's POP3 login on the IMAP host is a grant in PostgreSQL within 1 s (seconds)" \
			"$WAITED" 1
		for n in 1 2; do
			relay_case "several hosts: $IP95 relays through MX $n after the POP3 login" \
				'^250 2\.0\.0 Ok: queued' - --server 127.0.0.1 --port "$(eval echo "\$P_MX$n")" \
				--local-interface "$IP95" --from bob@lab.test --to "r95-relay$n@$R"
		done
		check_le "several hosts: login to accepted relay on both MX (seconds)" "$(lab_elapsed "$t_login")" 3

		t_ctl=$(lab_now)
		"$BIN_CTL" -c "$LAB/etc/mx1.conf" grant revoke "$IP95" >"$LAB/log/s95-revoke.out" 2>&1
		rc=$?
		t_rev=$(lab_now)
		check_eq "several hosts: authrelayctl grant revoke $IP95 on MX 1 (exit status; took $(lab_elapsed "$t_ctl")s)" "$rc" 0
		first_refusal 1 "$t_rev" >"$LAB/log/s95-mx1.first" &
		p1=$!
		first_refusal 2 "$t_rev" >"$LAB/log/s95-mx2.first" &
		p2=$!
		wait "$p1" "$p2"
		for n in 1 2; do
			read -r took tries reply <"$LAB/log/s95-mx$n.first"
			lab_say "several hosts: revoke to the first refusal on MX $n: ${took}s, SMTP session $tries after the revoke ($reply)"
			if [ "$took" != - ]; then
				check_le "several hosts: revoked on MX 1, refused by MX $n within 1 s (seconds)" "$took" 1
			else
				check_bad "several hosts: revoked on MX 1, refused by MX $n" "$reply" "554 within 1 s"
			fi
		done
		lines=$(grep -c 'Login: user=<bob>.*rip=127\.0\.0\.95' "$LOGIN_LOG")
		check_eq "several hosts: grant_history holds the one login and the revoke" \
			"$(pg_psql "SELECT string_agg(event || ' ' || username, ',' ORDER BY login_time, event)
				FROM grant_history WHERE ip = '$IP95'") ($lines login line)" "login bob,revoke bob (1 login line)"
	else
		check_bad "several hosts: two MX started" "$(tail -3 "$LAB"/log/mx*-postfix-start.out)" "both up"
	fi
fi

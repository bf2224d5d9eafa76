# s35-auth-policy: POP/IMAP-before-SMTP without log parsing. A second,
# real Dovecot configured from conf-examples/dovecot/auth-policy.conf
# reports its logins over HTTP to a second authrelay-loginwatch that has
# no log source at all (loginwatch_sources empty); policyd, reading the
# same database, lets the reported addresses relay. Cases: a POP3 login
# grants; an IMAP login over IPv6 grants; a failed login grants nothing;
# a Dovecot with the wrong key grants nothing (401); logins go on while
# loginwatch is stopped; with the log as a second source, a login seen
# both ways counts once, and a login made while loginwatch was down is
# granted from the log.
# Client addresses 127.0.0.41..46 are this scenario's own.

R=example.org
AP=$LAB/dovecot-ap
AP_KEY=$(openssl rand -hex 16)

ap_grant() { sql "select username||' '||service||' '||logins from active_grants where ip='$1'"; }
ap_has_grant() { [ -n "$(ap_grant "$1")" ]; }
ap_history() { sql "select count(*) from grant_history where ip='$1' and event='login'"; }
ap_pop3() { curl -s --max-time 10 --interface "$1" "pop3://127.0.0.1:$P_POP3_AP/" -u "$2" >/dev/null; echo "rc=$?"; }
ap_log_has() { grep -q "$1" "$LAB/log/loginwatch-ap.log"; }

# ap_dovecot_config KEY: the second Dovecot: the lab's settings on its
# own ports, directories and log files, plus auth-policy.conf as
# shipped with the URL, the key and the nonce filled in.
ap_dovecot_config() {
	sed -e "s|^base_dir = .*|base_dir = $AP/run|" -e "s|^state_dir = .*|state_dir = $AP/state|" \
		-e "s|port = $P_IMAP\$|port = $P_IMAP_AP|" -e "s|port = $P_POP3\$|port = $P_POP3_AP|" \
		-e "s|^log_path = .*|log_path = $AP/dovecot.log|" \
		-e "s|^\([ \t]*info_log_path[ \t]*=\).*|\1 $AP/dovecot-info.log|" \
		"$LAB/dovecot/dovecot.conf"
	printf '\n# ---- from conf-examples/dovecot/auth-policy.conf ----\n'
	sed -e "s|http://127\.0\.0\.1:10050/|http://127.0.0.1:$P_REPORT/|" \
		-e "s|^auth_policy_server_api_header = X-API-Key: .*|auth_policy_server_api_header = X-API-Key: $1|" \
		-e "s|^auth_policy_hash_nonce = .*|auth_policy_hash_nonce = $(openssl rand -hex 8)|" \
		"$CONF_EXAMPLES/dovecot/auth-policy.conf"
}

ap_dovecot_start() {
	local pid
	dovecot -c "$AP/dovecot.conf" >"$LAB/log/dovecot-ap-start.out" 2>&1 ||
		{ check_bad "auth-policy: Dovecot with auth-policy.conf starts" "$(cat "$LAB/log/dovecot-ap-start.out")" "rc=0"; return 1; }
	wait_for 5 test -s "$AP/run/master.pid"
	pid=$(tr -dc 0-9 <"$AP/run/master.pid")
	lab_record dovecot-ap "$pid"
	lab_wait_listen 127.0.0.1 "$P_POP3_AP" "$pid" dovecot-ap
	lab_wait_listen '[::1]' "$P_IMAP_AP" "$pid" dovecot-ap
}

ap_loginwatch_start() { # CONF
	lab_daemon loginwatch-ap "$LAB/log/loginwatch-ap.log" "$BIN_LOGINWATCH" -f -c "$1"
	lab_wait_listen 127.0.0.1 "$P_REPORT" "$(lab_pid loginwatch-ap)" loginwatch-ap
}

if need "auth-policy: Dovecot reports logins to loginwatch" authrelay-loginwatch authrelay-policyd authrelayctl; then
	lab_port P_POP3_AP
	lab_port P_IMAP_AP
	lab_port P_REPORT
	mkdir -p "$AP/run" "$AP/state"
	(umask 077; echo "$AP_KEY" >"$LAB/etc/auth-policy.key")
	render_conf ap "loginwatch_sources=" "loginwatch_http_listen=inet:127.0.0.1:$P_REPORT" \
		"loginwatch_http_api_key_file=$LAB/etc/auth-policy.key" >/dev/null
	out=$("$BIN_LOGINWATCH" -n -c "$LAB/etc/ap.conf" 2>&1; echo "rc=$?")
	check_match "auth-policy: loginwatch -n accepts reports as the only source" "$out" 'rc=0$'
	ap_dovecot_config "$AP_KEY" >"$AP/dovecot.conf"
	ap_loginwatch_start "$LAB/etc/ap.conf"
	if ap_dovecot_start; then
		rows_grant="policyd permit grant"
		[ "$HAVE_MILTER" = 1 ] && rows_grant="$rows_grant;milter permit grant"

		# POP3 over IPv4
		check_eq "auth-policy: POP3 login of bob from 127.0.0.41" "$(ap_pop3 127.0.0.41 bob:bobpw)" "rc=0"
		wait_for 5 ap_has_grant 127.0.0.41
		check_le "auth-policy: ... is a grant within 1 s, with no log source (seconds)" "$WAITED" 1
		check_eq "auth-policy: ... the grant" "$(ap_grant 127.0.0.41)" "bob pop3 1"
		check_match "auth-policy: grant_history: source, the report's fields, the session" \
			"$(sql "select source||' | '||line||' | '||session from grant_history where ip='127.0.0.41'")" \
			'^dovecot-auth-policy \| login=bob remote=127\.0\.0\.41 protocol=pop3 session_id=[A-Za-z0-9+/]+ success=true policy_reject=false tls=false \| [A-Za-z0-9+/]+$'
		relay_case "auth-policy: 127.0.0.41 relays after the reported POP3 login" '^250 2\.0\.0 Ok: queued' \
			"$rows_grant" --server 127.0.0.1 --port "$P_SMTP" --local-interface 127.0.0.41 \
			--from bob@lab.test --to "r35-pop3@$R"

		# IMAP over IPv6
		out=$(curl -s --max-time 10 "imap://[::1]:$P_IMAP_AP/" -u alice:alicepw >/dev/null; echo "rc=$?")
		check_eq "auth-policy: IMAP login of alice over IPv6 (::1)" "$out" "rc=0"
		wait_for 5 ap_has_grant ::1
		check_le "auth-policy: ... is a grant within 1 s (seconds)" "$WAITED" 1
		check_eq "auth-policy: ... the IPv6 grant" "$(ap_grant ::1)" "alice imap 1"
		relay_case "auth-policy: ::1 relays after the reported IMAP login" '^250 2\.0\.0 Ok: queued' \
			"$rows_grant" --server ::1 --port "$P_SMTP" --from alice@lab.test --to "r35-imap6@$R"

		# a failed login: reported (success false), no grant
		check_eq "auth-policy: failed POP3 login from 127.0.0.42 is refused by Dovecot" \
			"$(ap_pop3 127.0.0.42 bob:wrong)" "rc=67"
		wait_for 5 ap_log_has 'no grant: failed login (login bob, remote 127\.0\.0\.42, protocol pop3)'
		check_le "auth-policy: ... Dovecot reported it (seconds)" "$WAITED" 2
		check_eq "auth-policy: ... and it grants nothing" "$(ap_grant 127.0.0.42)" ""
		relay_case "auth-policy: 127.0.0.42 is still refused" '^554 5\.7\.1 .*Relay access denied' \
			"policyd dunno none" --server 127.0.0.1 --port "$P_SMTP" --local-interface 127.0.0.42 \
			--from bob@lab.test --to "r35-failed@$R"

		# Dovecot with the wrong key
		ap_dovecot_config "wrong-$AP_KEY" >"$AP/dovecot.conf"
		doveadm -c "$AP/dovecot.conf" reload
		sleep 0.5
		check_eq "auth-policy: wrong key: bob's POP3 login from 127.0.0.43 still works" \
			"$(ap_pop3 127.0.0.43 bob:bobpw)" "rc=0"
		wait_for 5 ap_log_has 'request from 127\.0\.0\.1 without the right X-API-Key: 401'
		check_le "auth-policy: ... loginwatch answered 401 (logged) (seconds)" "$WAITED" 2
		check_match "auth-policy: ... Dovecot logged the refusal" \
			"$(grep -m1 'Policy server HTTP error' "$AP/dovecot.log")" '401'
		check_eq "auth-policy: ... and no grant" "$(ap_grant 127.0.0.43)" ""
		ap_dovecot_config "$AP_KEY" >"$AP/dovecot.conf"
		doveadm -c "$AP/dovecot.conf" reload
		sleep 0.5

		# loginwatch stopped: Dovecot's logins go on
		lab_kill loginwatch-ap
		t0=$(lab_now)
		check_eq "auth-policy: loginwatch stopped: POP3 login from 127.0.0.44 works" \
			"$(ap_pop3 127.0.0.44 bob:bobpw)" "rc=0"
		check_le "auth-policy: ... without delay (seconds)" "$(lab_elapsed "$t0")" 1
		check_eq "auth-policy: ... and no grant" "$(ap_grant 127.0.0.44)" ""

		# both sources: reports, and Dovecot's log as the fallback
		render_conf ap2 "loginwatch_sources=$AP/dovecot-info.log" \
			"loginwatch_http_listen=inet:127.0.0.1:$P_REPORT" \
			"loginwatch_http_api_key_file=$LAB/etc/auth-policy.key" >/dev/null
		ap_loginwatch_start "$LAB/etc/ap2.conf"
		wait_for 5 ap_has_grant 127.0.0.44
		check_le "auth-policy: log as fallback: the login made while loginwatch was down is a grant (seconds)" "$WAITED" 3
		check_eq "auth-policy: ... from the log" \
			"$(sql "select source from grant_history where ip='127.0.0.44'")" "$AP/dovecot-info.log"
		check_eq "auth-policy: ... logins already reported are not counted again from the log (127.0.0.41)" \
			"$(ap_history 127.0.0.41)" 1
		check_eq "auth-policy: both sources: POP3 login from 127.0.0.45" "$(ap_pop3 127.0.0.45 bob:bobpw)" "rc=0"
		wait_for 5 grep -q 'rip=127\.0\.0\.45,' "$AP/dovecot-info.log"
		sleep 0.5	# the second source's turn
		check_eq "auth-policy: ... one login seen by both sources is one grant refresh" \
			"$(ap_grant 127.0.0.45) $(ap_history 127.0.0.45)" "bob pop3 1 1"
		sess_log=$(sed -n 's/.*rip=127\.0\.0\.45,.*session=<\([^>]*\)>.*/\1/p' "$AP/dovecot-info.log" | head -1)
		check_eq "auth-policy: ... the report's session_id is the log line's session" \
			"$(sql "select session from grant_history where ip='127.0.0.45'")" "$sess_log"

		lab_kill dovecot-ap
	fi
	lab_kill loginwatch-ap
	# later scenarios expect ::1 to be a stranger again
	lab_ctl grant revoke ::1 >/dev/null 2>&1
fi

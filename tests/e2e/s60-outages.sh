# s60-outages: what happens when a piece is down or restarted.
# - loginwatch restarted (SIGTERM, and kill -9) while logins happen: none
#   is lost, none is counted twice (its checkpoint in the database);
# - policyd stopped: Postfix's configured default action (DUNNO in
#   main.cf.policyd): relay refused by reject_unauth_destination, local
#   mail still accepted;
# - milter stopped: milter_default_action = tempfail: 451 4.7.1 (454 4.3.0
#   for AUTH): nothing gets through unchecked.
# Each stopped daemon is started again afterwards.

R=example.org

# history_count IP: grant_history rows for IP (each login once).
history_count() { sql "select count(*) from grant_history where ip='$1' and event='login'"; }
has_grant() { [ -n "$(sql "select 1 from active_grants where ip='$1'")" ]; }
pop3_login() { curl -s --max-time 10 --interface "$1" "pop3://127.0.0.1:$P_POP3/" -u bob:bobpw >/dev/null; }

if need "outages: loginwatch restart" authrelay-loginwatch authrelayctl; then
	before=$(history_count 127.0.0.2)
	for how in TERM KILL; do
		ip=127.0.0.3
		[ "$how" = KILL ] && ip=127.0.0.4
		pid=$(lab_pid loginwatch)
		kill "-$how" "$pid"
		lab_wait_gone "$pid" 10
		lab_forget "$pid"
		pop3_login "$ip"
		wait_for 5 grep -q "rip=${ip//./\\.}," "$LOGIN_LOG"
		lab_loginwatch_start
		wait_for 5 has_grant "$ip"
		check_le "outages: login from $ip while loginwatch was down (SIG$how) is a grant after restart (seconds)" "$WAITED" 3
		check_eq "outages: ... recorded once in grant_history" "$(history_count "$ip")" 1
		[ "$HAVE_POLICYD" = 1 ] && relay_case "outages: ... and $ip relays" '^250 2\.0\.0 Ok: queued' \
			"policyd permit grant$([ "$HAVE_MILTER" = 1 ] && echo ';milter permit grant')" \
			--server 127.0.0.1 --port "$P_SMTP" --local-interface "$ip" --from bob@lab.test --to "r60-$how@$R"
	done
	check_eq "outages: logins read before the restarts are not counted again (127.0.0.2)" \
		"$(history_count 127.0.0.2)" "$before"
fi

if need "outages: policyd stopped" authrelay-policyd authrelayctl; then
	lab_kill policyd
	relay_case "outages: policyd stopped: SASL relay refused by the default action (DUNNO)" \
		'^554 5\.7\.1 .*Relay access denied' "" --server 127.0.0.1 --port "$P_SMTP" \
		--from alice@lab.test --to "r60-nopolicyd@$R" --auth PLAIN --auth-user alice --auth-password alicepw
	relay_case "outages: policyd stopped: local mail still accepted" '^250 2\.0\.0 Ok: queued' - \
		--server 127.0.0.1 --port "$P_SMTP" --from stranger@example.net --to bob@lab.test
	lab_policyd_start policyd "$LAB/etc/main.conf"
	lab_wait_listen 127.0.0.1 "$P_POLICYD" "$(lab_pid policyd)" policyd
	relay_case "outages: policyd started again: SASL relay accepted" '^250 2\.0\.0 Ok: queued' \
		"policyd permit sasl$([ "$HAVE_MILTER" = 1 ] && echo ';milter permit sasl;milter permit sasl')" \
		--server 127.0.0.1 --port "$P_SMTP" \
		--from alice@lab.test --to "r60-policyd-back@$R" --auth PLAIN --auth-user alice --auth-password alicepw
fi

if need "outages: milter stopped" authrelay-milter authrelayctl; then
	# the milter-alone port: the inet milter and no policyd in the way
	lab_kill milter
	# smtpd finds the milter gone at CONNECT: every later command is
	# temporarily refused (AUTH with 454 4.3.0, MAIL with 451 4.7.1)
	relay_case "outages: milter stopped: SASL client gets a temporary failure" '^4[0-9][0-9] 4\.[0-9]\.[0-9] ' "" \
		--server 127.0.0.1 --port "$P_MILTERONLY" \
		--from alice@lab.test --to "r60-nomilter@$R" --auth PLAIN --auth-user alice --auth-password alicepw
	relay_case "outages: milter stopped: any client gets 451 4.7.1 (milter_default_action = tempfail)" \
		'^451 4\.7\.1 ' - --server 127.0.0.1 --port "$P_MILTERONLY" --from stranger@example.net --to bob@lab.test
	lab_milter_start milter "$LAB/etc/main.conf"
	lab_wait_listen 127.0.0.1 "$P_MILTER" "$(lab_pid milter)" milter
	relay_case "outages: milter started again: SASL relay accepted" '^250 2\.0\.0 Ok: queued' \
		"milter permit sasl;milter permit sasl" --server 127.0.0.1 --port "$P_MILTERONLY" \
		--from alice@lab.test --to "r60-milter-back@$R" --auth PLAIN --auth-user alice --auth-password alicepw
fi

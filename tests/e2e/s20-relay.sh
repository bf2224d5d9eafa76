# s20-relay: relay decisions of authrelay-policyd inside Postfix (plus the
# milter's on the main port, when built): strangers refused, SASL users
# relay, a suspended user and a forged envelope sender are refused with
# 5.7.1, require_tls_for_auth, and the unix-socket and spawn policyd forms.

# rows POLICYD_ROW [MILTER_ROWS]: the decision rows one message leaves on a
# port where the milter runs too (when it is built). An authenticated
# user's relayed message gets two milter rows: its recipient, and the
# From: check at end of message (sender_login_check = both).
rows() {
	if [ "$HAVE_MILTER" = 1 ] && [ -n "${2:-}" ]; then echo "$1;$2"; else echo "$1"; fi
}
M_SASL="milter permit sasl;milter permit sasl"
R=example.org
S=(--server 127.0.0.1 --port "$P_SMTP")

if need "relay: policyd scenarios" authrelay-policyd authrelayctl; then
	relay_case "relay: unauthenticated relay refused" '^554 5\.7\.1 .*Relay access denied' \
		"policyd dunno none" "${S[@]}" --from stranger@example.net --to r20-stranger@$R
	for mech in PLAIN LOGIN CRAM-MD5; do
		relay_case "relay: SASL $mech relay accepted" '^250 2\.0\.0 Ok: queued' \
			"$(rows "policyd permit sasl" "$M_SASL")" "${S[@]}" \
			--from alice@lab.test --to "r20-$mech@$R" --auth "$mech" --auth-user alice --auth-password alicepw
	done
	relay_case "relay: SASL over IPv6 (::1) relay accepted" '^250 2\.0\.0 Ok: queued' \
		"$(rows "policyd permit sasl" "$M_SASL")" --server ::1 --port "$P_SMTP" \
		--from alice@lab.test --to "r20-v6@$R" --auth PLAIN --auth-user alice --auth-password alicepw
	relay_case "relay: suspended user -> 5.7.1" '^554 5\.7\.1 ' "policyd reject suspended" "${S[@]}" \
		--from dave@lab.test --to "r20-suspended@$R" --auth PLAIN --auth-user dave --auth-password davepw
	relay_case "relay: envelope sender not owned (sender_login_check) -> 5.7.1" '^554 5\.7\.1 ' \
		"policyd reject sender_mismatch" "${S[@]}" \
		--from alice@lab.test --to "r20-envelope@$R" --auth PLAIN --auth-user mallory --auth-password mallorypw
	relay_case "relay: +tag and domain case of an owned sender accepted" '^250 2\.0\.0 Ok: queued' \
		"$(rows "policyd permit sasl" "$M_SASL")" "${S[@]}" --from alice+news@LAB.TEST \
		--header "From: alice+news@LAB.TEST" --to "r20-tag@$R" --auth PLAIN --auth-user alice --auth-password alicepw

	# master.cf.policyd-inet: a policyd with require_tls_for_auth = yes
	relay_case "relay: require_tls_for_auth, AUTH without TLS -> 5.7.1" '^554 5\.7\.1 ' \
		"policyd reject tls_required" --server 127.0.0.1 --port "$P_TLSREQ" \
		--from alice@lab.test --to "r20-notls@$R" --auth PLAIN --auth-user alice --auth-password alicepw
	relay_case "relay: require_tls_for_auth, AUTH after STARTTLS accepted" '^250 2\.0\.0 Ok: queued' \
		"policyd permit sasl" --server 127.0.0.1 --port "$P_TLSREQ" -tls \
		--from alice@lab.test --to "r20-tls@$R" --auth PLAIN --auth-user alice --auth-password alicepw

	# master.cf.policyd-unix (+ the milter's unix form when built)
	relay_case "relay: unix-socket policyd refuses a stranger" '^554 5\.7\.1 .*Relay access denied' \
		"policyd dunno none" --server 127.0.0.1 --port "$P_UNIX" --from stranger@example.net --to "r20-unix-stranger@$R"
	relay_case "relay: unix-socket policyd lets a SASL user relay" '^250 2\.0\.0 Ok: queued' \
		"$(rows "policyd permit sasl" "$M_SASL")" --server 127.0.0.1 --port "$P_UNIX" \
		--from bob@lab.test --to "r20-unix-sasl@$R" --auth LOGIN --auth-user bob --auth-password bobpw

	# master.cf.policyd-spawn: Postfix starts policyd -S per connection
	relay_case "relay: spawned policyd refuses a stranger" '^554 5\.7\.1 .*Relay access denied' \
		"policyd dunno none" --server 127.0.0.1 --port "$P_SPAWN" --from stranger@example.net --to "r20-spawn-stranger@$R"
	relay_case "relay: spawned policyd lets a SASL user relay" '^250 2\.0\.0 Ok: queued' \
		"policyd permit sasl" --server 127.0.0.1 --port "$P_SPAWN" \
		--from bob@lab.test --to "r20-spawn-sasl@$R" --auth PLAIN --auth-user bob --auth-password bobpw
	qid=$(queue_id "$CASE_OUT")
	wait_for 15 grep -q "$qid: to=<r20-spawn-sasl@$R>, relay=127.0.0.1.*status=sent" "$LAB/log/postfix.log"
	check_match "relay: the relayed message reached the outside world (smtp-sink)" \
		"$(grep "$qid: to=" "$LAB/log/postfix.log" | tail -1 | sed 's/.*: to=/to=/')" "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$P_SINK.*status=sent"
fi

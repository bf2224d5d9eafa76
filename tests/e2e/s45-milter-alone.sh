# s45-milter-alone: authrelay-milter without policyd (the form in the
# comment of main.cf.milter): Postfix's permit_sasl_authenticated lets
# SASL users relay and refuses strangers itself; the milter holds the
# authenticated users to their rules: suspended and forged envelope
# senders at RCPT TO (554 5.7.1), a forged From: at end of message (550).

R=example.org
S=(--server 127.0.0.1 --port "$P_MILTERONLY")

if need "milter alone: relay scenarios" authrelay-milter authrelayctl; then
	relay_case "milter alone: unauthenticated relay refused (by Postfix)" '^554 5\.7\.1 .*Relay access denied' \
		"" "${S[@]}" --from stranger@example.net --to "r45-stranger@$R"
	relay_case "milter alone: stranger's mail to a local user accepted" '^250 2\.0\.0 Ok: queued' \
		- "${S[@]}" --from stranger@example.net --to bob@lab.test
	relay_case "milter alone: SASL relay accepted" '^250 2\.0\.0 Ok: queued' \
		"milter permit sasl;milter permit sasl" "${S[@]}" --auth CRAM-MD5 --auth-user alice --auth-password alicepw \
		--from alice@lab.test --to "r45-sasl@$R"
	relay_case "milter alone: suspended user -> 554 5.7.1" '^554 5\.7\.1 ' \
		"milter reject suspended" "${S[@]}" --auth PLAIN --auth-user dave --auth-password davepw \
		--from dave@lab.test --to "r45-suspended@$R"
	relay_case "milter alone: envelope sender not owned -> 554 5.7.1" '^554 5\.7\.1 ' \
		"milter reject sender_mismatch" "${S[@]}" --auth PLAIN --auth-user mallory --auth-password mallorypw \
		--from alice@lab.test --to "r45-envelope@$R"
	relay_case "milter alone: From: another user's address -> 550 5.7.1" '^550 5\.7\.1 ' \
		"milter permit sasl;milter reject sender_mismatch" "${S[@]}" --auth PLAIN --auth-user mallory \
		--auth-password mallorypw --from mallory@lab.test --header 'From: Alice <alice@lab.test>' --to "r45-forged@$R"
	relay_case "milter alone: From: own address delivered" '^250 2\.0\.0 Ok: queued' \
		"milter permit sasl;milter permit sasl" "${S[@]}" --auth PLAIN --auth-user mallory \
		--auth-password mallorypw --from mallory@lab.test --header 'From: Mallory <mallory@lab.test>' --to "r45-own@$R"
	qid=$(queue_id "$CASE_OUT")
	wait_for 15 grep -q "$qid: to=<r45-own@$R>, relay=127.0.0.1.*status=sent" "$LAB/log/postfix.log"
	check_match "milter alone: ... reached smtp-sink" \
		"$(grep "$qid: to=" "$LAB/log/postfix.log" | tail -1 | sed 's/.*: to=/to=/')" 'status=sent'
fi

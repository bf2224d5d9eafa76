# s40-milter: what Postfix cannot do itself: authrelay-milter checks the
# From: header of an authenticated user's message at end of data
# (sender_login_check = both): someone else's address -> 550 5.7.1, the
# user's own address is delivered.

R=example.org
S=(--server 127.0.0.1 --port "$P_SMTP" --auth PLAIN --auth-user mallory --auth-password mallorypw)

if need "milter: From: header scenarios" authrelay-milter authrelay-policyd authrelayctl; then
	relay_case "milter: From: another user's address -> 550 5.7.1" '^550 5\.7\.1 ' \
		"policyd permit sasl;milter permit sasl;milter reject sender_mismatch" "${S[@]}" \
		--from mallory@lab.test --header 'From: Alice <alice@lab.test>' --to "r40-forged@$R"
	relay_case "milter: From: own and a foreign address -> 550 5.7.1" '^550 5\.7\.1 ' \
		"policyd permit sasl;milter permit sasl;milter reject sender_mismatch" "${S[@]}" \
		--from mallory@lab.test --header 'From: "Mallory" <mallory@lab.test>, alice@lab.test' --to "r40-two@$R"
	relay_case "milter: From: own address is accepted" '^250 2\.0\.0 Ok: queued' \
		"policyd permit sasl;milter permit sasl;milter permit sasl" "${S[@]}" \
		--from mallory@lab.test --header 'From: Mallory <mallory@lab.test>' --to "r40-own@$R"
	qid=$(queue_id "$CASE_OUT")
	wait_for 15 grep -q "$qid: to=<r40-own@$R>, relay=127.0.0.1.*status=sent" "$LAB/log/postfix.log"
	check_match "milter: ... and delivered (smtp-sink)" \
		"$(grep "$qid: to=" "$LAB/log/postfix.log" | tail -1 | sed 's/.*: to=/to=/')" 'status=sent'
fi

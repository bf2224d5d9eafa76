# s10-lab: the lab itself works (SASL, STARTTLS, IPv6, Dovecot logs), so a
# failure further on is authrelay's, not the lab's. Needs no authrelay
# program: mail to the local domain is not relay.

for mech in PLAIN LOGIN CRAM-MD5; do
	relay_case "lab: SASL $mech authenticates (local delivery)" '^250 2\.0\.0 Ok: queued' - \
		--server 127.0.0.1 --port "$P_SMTP" --from alice@lab.test --to bob@lab.test \
		--auth "$mech" --auth-user alice --auth-password alicepw
done
relay_case "lab: wrong password is refused" '^535 5\.7\.8' - \
	--server 127.0.0.1 --port "$P_SMTP" --from alice@lab.test --to bob@lab.test \
	--auth PLAIN --auth-user alice --auth-password wrong
relay_case "lab: STARTTLS + AUTH over IPv6 (::1)" '^250 2\.0\.0 Ok: queued' - \
	--server ::1 --port "$P_SMTP" -tls --from alice@lab.test --to bob@lab.test \
	--auth PLAIN --auth-user alice --auth-password alicepw
qid=$(queue_id "$CASE_OUT")
wait_for 10 grep -q "$qid: to=<bob@lab.test>, relay=virtual.*status=sent" "$LAB/log/postfix.log"
check_match "lab: local mail delivered to the Maildir" \
	"$(grep "$qid: to=" "$LAB/log/postfix.log" | tail -1 | sed 's/.*: to=/to=/')" 'relay=virtual.*status=sent'
out=$(curl -s --max-time 10 --interface 127.0.0.9 "pop3://127.0.0.1:$P_POP3/" -u bob:bobpw >/dev/null; echo "rc=$?")
check_eq "lab: POP3 login over IPv4 (from 127.0.0.9)" "$out" "rc=0"
wait_for 5 grep -q 'pop3-login: Info: Login: user=<bob>.*rip=127\.0\.0\.9,' "$LOGIN_LOG"
check_match "lab: Dovecot logs the POP3 login" \
	"$(grep -m1 'rip=127\.0\.0\.9,' "$LOGIN_LOG")" \
	'^[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} pop3-login: Info: Login: user=<bob>, method=[A-Z0-9-]+, rip=127\.0\.0\.9, lip=127\.0\.0\.1, mpid=[0-9]+'

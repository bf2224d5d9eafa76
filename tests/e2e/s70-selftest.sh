# s70-selftest: authrelayctl selftest, the open-relay self-check, against
# the lab's real Postfix. The lab as configured (the recommended
# smtpd_relay_restrictions with authrelay-policyd) must come out "not an
# open relay, as the rules say" (exit 0), over STARTTLS verified with the
# lab CA and with every SASL mechanism the server offers. Then a second
# smtpd with smtpd_relay_restrictions = permit is added to the same
# Postfix: selftest must call it an open relay (exit 1). The extra service
# is removed again before the next scenario. (Postfix refuses to start an
# smtpd whose restrictions hold no reject_unauth_destination at all, so the
# open one lists it after a "permit" that is always reached first.)

if need "selftest: open-relay self-check" authrelayctl authrelay-policyd; then
	printf 'alicepw\n' > "$LAB/alice.pw"
	chmod 600 "$LAB/alice.pw"
	out=$(lab_ctl selftest --server "127.0.0.1:$P_SMTP" --starttls --cafile "$LAB/tls/ca.pem" \
		--user alice@lab.test --password-file "$LAB/alice.pw" --from alice@lab.test \
		--to r70-selftest@example.org 2>&1; echo "rc=$?")
	check_match "selftest: the lab is not an open relay (exit 0)" "$out" 'rc=0$'
	check_match "selftest: says so" "$out" 'not an open relay; the server behaves as the rules say'
	check_match "selftest: STARTTLS verified with the lab CA" "$out" 'TLSv1\.[23] '
	for mech in PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256 SCRAM-SHA-1; do
		check_match "selftest: authenticated relay with $mech accepted" "$out" \
			"authenticated, own sender +$mech +alice@lab.test +accepted +ok"
	done
	check_match "selftest: unauthenticated relay refused" "$out" \
		'unauthenticated, stranger sender .* refused +ok +554 5\.7\.1'
	check_match "selftest: foreign sender refused (sender_login_check)" "$out" \
		'authenticated, foreign sender .* refused +ok +5[0-9][0-9] '

	# The submission service whose policyd has require_tls_for_auth = yes:
	# without STARTTLS the authenticated relays are to be refused (and are),
	# with it accepted; selftest reads the rule from that policyd's config.
	out=$("$BIN_CTL" -c "$LAB/etc/tlsreq.conf" selftest --server "127.0.0.1:$P_TLSREQ" \
		--user alice@lab.test --password-file "$LAB/alice.pw" --from alice@lab.test \
		--to r70-tlsreq@example.org 2>&1; echo "rc=$?")
	check_match "selftest: require_tls_for_auth, no STARTTLS: AUTH relay refused as the rules say (exit 0)" "$out" 'rc=0$'
	check_match "selftest: ... the authenticated rows want and get refused" "$out" \
		'authenticated, own sender +PLAIN +alice@lab\.test +refused +ok +5[0-9][0-9] '
	out=$("$BIN_CTL" -c "$LAB/etc/tlsreq.conf" selftest --server "127.0.0.1:$P_TLSREQ" --starttls \
		--cafile "$LAB/tls/ca.pem" --user alice@lab.test --password-file "$LAB/alice.pw" \
		--from alice@lab.test --to r70-tlsreq@example.org 2>&1; echo "rc=$?")
	check_match "selftest: require_tls_for_auth with STARTTLS: AUTH relay accepted (exit 0)" "$out" 'rc=0$'

	# A deliberately open smtpd on another port of the same Postfix.
	lab_port P_OPEN
	postconf -c "$PFC" -M "127.0.0.1:$P_OPEN/inet=127.0.0.1:$P_OPEN inet n - n - - smtpd -o syslog_name=postfix/open -o mynetworks=127.0.0.0/8 -o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination -o smtpd_milters=" &&
		postfix -c "$PFC" reload >/dev/null 2>&1
	for _i in $(seq 1 100); do
		ss -Hltn "( sport = :$P_OPEN )" | grep -q . && break
		sleep 0.1
	done
	out=$(lab_ctl selftest --server "127.0.0.1:$P_OPEN" --to r70-open@example.org 2>&1; echo "rc=$?")
	check_match "selftest: mynetworks covering the client is an open relay (exit 1)" "$out" 'rc=1$'
	check_match "selftest: says OPEN RELAY" "$out" '^OPEN RELAY'
	out=$(lab_ctl --json selftest --server "127.0.0.1:$P_OPEN" --to r70-open@example.org 2>/dev/null)
	check_match "selftest --json: open_relay true" "$out" '"open_relay":true'
	postconf -c "$PFC" -MX "127.0.0.1:$P_OPEN/inet" && postfix -c "$PFC" reload >/dev/null 2>&1
	for _i in $(seq 1 100); do
		ss -Hltn "( sport = :$P_OPEN )" | grep -q . || break
		sleep 0.1
	done
	out=$(lab_ctl selftest --server "127.0.0.1:$P_OPEN" --timeout 5 2>&1; echo "rc=$?")
	check_match "selftest: a server that is not there: exit 69" "$out" 'rc=69$'
fi

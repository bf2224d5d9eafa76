# s50-cert: relay by a registered TLS client certificate: `authrelayctl
# cert add` stores the fingerprints the way Postfix reports them
# (ccert_fingerprint, sha256); a client presenting that certificate relays
# without SMTP AUTH, an unregistered one (same CA) does not.
# On a port without the milter (the spawn port): Postfix gives milters no
# certificate fingerprint, so authrelay-milter cannot apply this rule
# (authrelay-milter(8)) and refuses such a relay where it runs too.

R=example.org

if need "cert: client-certificate scenarios" authrelay-policyd authrelayctl; then
	if ! lab_ctl cert list >/dev/null 2>&1; then
		check_skip "cert: relay by client certificate" "authrelayctl has no cert command yet"
	else
		out=$(lab_ctl cert add alice@lab.test "$LAB/tls/alice.pem" 2>&1; echo "rc=$?")
		check_match "cert: authrelayctl cert add alice's certificate" "$out" 'rc=0$'
		relay_case "cert: registered client certificate relays without AUTH" '^250 2\.0\.0 Ok: queued' \
			"policyd permit cert" --server 127.0.0.1 --port "$P_SPAWN" -tls \
			--tls-cert "$LAB/tls/alice.pem" --tls-key "$LAB/tls/alice.key" \
			--from alice@lab.test --to "r50-cert@$R"
		relay_case "cert: unregistered certificate of the same CA is refused" '^554 5\.7\.1 .*Relay access denied' \
			"policyd dunno none" --server 127.0.0.1 --port "$P_SPAWN" -tls \
			--tls-cert "$LAB/tls/mallory.pem" --tls-key "$LAB/tls/mallory.key" \
			--from mallory@lab.test --to "r50-other@$R"
	fi
fi

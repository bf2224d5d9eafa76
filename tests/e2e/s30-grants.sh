# s30-grants: POP/IMAP-before-SMTP end to end: Dovecot writes a login line
# to its log_path, authrelay-loginwatch turns it into a grant, policyd (and
# the milter) let that IP relay at once, until grant_ttl has passed.
# Clients pick their source address in 127.0.0.0/8 (curl --interface,
# swaks --local-interface) so each scenario has an IP of its own.

R=example.org

# grant_of IP: "user service logins" of the live grant for IP, or "".
grant_of() { sql "select username||' '||service||' '||logins from active_grants where ip='$1'"; }
has_grant() { [ -n "$(grant_of "$1")" ]; }

# from_ip IP: swaks arguments for a stranger's relay attempt from IP.
from_ip() { echo "--server 127.0.0.1 --port $P_SMTP --local-interface $1"; }

if need "grants: POP/IMAP-before-SMTP scenarios" authrelay-loginwatch authrelayctl; then
	# the grants alone need loginwatch; relaying by them needs policyd
	relay=0
	need "grants: relay by grant (policyd)" authrelay-policyd && relay=1
	grant_relay_case() { [ "$relay" = 1 ] && relay_case "$@"; }
	rows_grant="policyd permit grant"
	[ "$HAVE_MILTER" = 1 ] && rows_grant="$rows_grant;milter permit grant"

	# shellcheck disable=SC2046
	grant_relay_case "grants: before any login 127.0.0.2 is a stranger" '^554 5\.7\.1 .*Relay access denied' \
		"policyd dunno none" $(from_ip 127.0.0.2) --from bob@lab.test --to "r30-before@$R"

	# a failed login never grants (read before the good login below)
	curl -s --max-time 10 --interface 127.0.0.5 "pop3://127.0.0.1:$P_POP3/" -u bob:wrong >/dev/null
	wait_for 5 grep -q 'rip=127\.0\.0\.5' "$LOGIN_LOG"

	curl -s --max-time 10 --interface 127.0.0.2 "pop3://127.0.0.1:$P_POP3/" -u bob:bobpw >/dev/null
	t_login=$(lab_now)
	wait_for 5 has_grant 127.0.0.2
	check_le "grants: bob's POP3 login from 127.0.0.2 is a grant within 1 s (seconds)" "$WAITED" 1
	check_eq "grants: the grant names user, service, logins" "$(grant_of 127.0.0.2)" "bob pop3 1"
	# shellcheck disable=SC2046
	grant_relay_case "grants: 127.0.0.2 relays after the POP3 login" '^250 2\.0\.0 Ok: queued' \
		"$rows_grant" $(from_ip 127.0.0.2) --from bob@lab.test --to "r30-pop3@$R"
	[ "$relay" = 1 ] && check_le "grants: login to accepted relay (seconds)" "$(lab_elapsed "$t_login")" 3

	check_eq "grants: a failed POP3 login (127.0.0.5) grants nothing" "$(grant_of 127.0.0.5)" ""
	# shellcheck disable=SC2046
	grant_relay_case "grants: 127.0.0.5 is still refused" '^554 5\.7\.1 .*Relay access denied' \
		"policyd dunno none" $(from_ip 127.0.0.5) --from bob@lab.test --to "r30-failed@$R"

	# IMAP over IPv6, then relay from ::1, then the grant expires
	curl -s --max-time 10 "imap://[::1]:$P_IMAP/" -u alice:alicepw >/dev/null
	wait_for 5 has_grant ::1
	check_le "grants: alice's IMAP login over IPv6 is a grant within 1 s (seconds)" "$WAITED" 1
	check_eq "grants: the IPv6 grant" "$(grant_of ::1)" "alice imap 1"
	grant_relay_case "grants: ::1 relays after the IMAP login" '^250 2\.0\.0 Ok: queued' \
		"$rows_grant" --server ::1 --port "$P_SMTP" --from alice@lab.test --to "r30-imap6@$R"

	left=$(sql "select strftime('%s', expires_at) - strftime('%s', 'now') from active_grants where ip='::1'")
	check_le "grants: ::1 expires within grant_ttl ($GRANT_TTL) (seconds left)" "${left:-99}" "${GRANT_TTL%s}"
	# one second past expires_at (whole seconds), then the IP is a stranger again
	sleep "$(( ${left:-0} > 0 ? left + 1 : 1 ))"
	check_eq "grants: the expired grant is gone from active_grants" "$(grant_of ::1)" ""
	grant_relay_case "grants: after grant_ttl ::1 is refused again" '^554 5\.7\.1 .*Relay access denied' \
		"policyd dunno none" --server ::1 --port "$P_SMTP" --from alice@lab.test --to "r30-expired@$R"
fi

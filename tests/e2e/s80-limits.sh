# s80-limits: sending limits inside the real Postfix, on the port of
# master.cf.policyd-spawn (policyd at RCPT and, with the recommended
# smtpd_data_restrictions, at DATA; no milter there, so each message is
# counted once). Limits are set at run time with authrelayctl (no restart).
# The lab's authrelay.conf files have limit_suspend_after = 3 within 1h and
# limit_notify_address = alice@lab.test (lab-config.sh), harmless to the
# other scenarios since no default limit is set.
#
#   bob, messages 5/1h: five messages go, the sixth gets 450 4.7.1 at RCPT;
#   bob, recipients 3/1h: a 4-recipient message is refused at DATA;
#   mallory, messages 2/10s: the third is refused, and after the window has
#     slid a fourth goes through;
#   limit_suspend_after = 3: bob's third refusal suspends him (554 5.7.1
#     from then on); the one notification about bob (at his first
#     refusal) reaches alice's mailbox (limit_notify_sendmail: a stand-in
#     that submits over SMTP to this Postfix, since the lab's Postfix is
#     not the system's /usr/sbin/sendmail).
# The transcript lines of each case are printed ("# s80: ...").

R=example.org
S=(--server 127.0.0.1 --port "$P_SPAWN")
s80_send() { # USER TO...: one message as USER, every TO a recipient
	local user=$1 to
	shift
	to=$(IFS=,; echo "$*")
	smtp "${S[@]}" --from "$user@lab.test" --to "$to" --auth PLAIN --auth-user "$user" \
		--auth-password "${user}pw"
}
s80_case() { # LABEL WANT-REGEX USER TO...
	local label=$1 want=$2 out
	shift 2
	out=$(s80_send "$@")
	echo "# s80: $label: $(smtp_outcome "$out" | head -1 | cut -c1-160)"
	check_match "limits: $label" "$(smtp_outcome "$out")" "$want"
}

if need "limits: sending limits in Postfix" authrelay-policyd authrelayctl; then
	cat >"$LAB/etc/sendmail-lab" <<-EOF
		#!/bin/sh
		# s80: stand-in for /usr/sbin/sendmail -i -- ADDRESS: the lab's Postfix over SMTP
		while [ \$# -gt 0 ] && [ "\$1" != -- ]; do shift; done
		exec swaks --silent 2 --timeout 30 --server 127.0.0.1 --port $P_SMTP \\
			--from authrelay@lab.test --to "\$2" --data -
	EOF
	chmod 0755 "$LAB/etc/sendmail-lab"
	lab_ctl limit set bob@lab.test --messages 5/1h >/dev/null
	for i in 1 2 3 4 5; do
		s80_case "bob 5/1h, message $i of 5 queued" '^250 2\.0\.0 Ok: queued' bob "r80-bob$i@$R"
	done
	s80_case "bob 5/1h, the sixth: 450 4.7.1 naming the limit at RCPT" \
		'^450 4\.7\.1 .*sending limit reached: bob@lab.test may send 5 messages per 1h' bob "r80-bob6@$R"
	check_match "limits: authrelayctl limit show bob: 5 of 5" \
		"$(lab_ctl limit show bob@lab.test | awk '$2 == "messages" {print $4 "/" $3 " used " $5}')" '^5/1h used 5$'

	lab_ctl limit set bob@lab.test --recipients 3/1h --messages 100/1h >/dev/null
	s80_case "bob 3/1h recipients, a 4-recipient message refused at DATA" \
		'^450 4\.7\.1 .*this message.s 4 recipients would pass bob@lab.test.s limit of 3 recipients per 1h' \
		bob "r80-m1@$R" "r80-m2@$R" "r80-m3@$R" "r80-m4@$R"
	s80_case "bob 3/1h recipients, the refused message counted nothing: 3 recipients go" \
		'^250 2\.0\.0 Ok: queued' bob "r80-m5@$R" "r80-m6@$R" "r80-m7@$R"

	lab_ctl limit set mallory@lab.test --messages 2/10s >/dev/null
	s80_case "mallory 2/10s, message 1" '^250 2\.0\.0 Ok: queued' mallory "r80-mal1@$R"
	s80_case "mallory 2/10s, message 2" '^250 2\.0\.0 Ok: queued' mallory "r80-mal2@$R"
	s80_case "mallory 2/10s, message 3 refused" '^450 4\.7\.1 ' mallory "r80-mal3@$R"
	sleep 11
	s80_case "mallory 2/10s, after the window slid: through again" '^250 2\.0\.0 Ok: queued' \
		mallory "r80-mal4@$R"

	# bob has 2 refusals in the window: the third suspends him
	lab_ctl limit set bob@lab.test --messages 1/1h >/dev/null
	s80_case "bob's third refusal (limit_suspend_after = 3): still 450" '^450 4\.7\.1 ' bob "r80-sus1@$R"
	s80_case "bob suspended: 554 5.7.1" '^554 5\.7\.1 .*user bob@lab.test is suspended' bob "r80-sus2@$R"
	check_eq "limits: the suspension's admin_log row names the daemon" \
		"$(sql "select actor || ' ' || action from admin_log where subject = 'bob@lab.test' and action = 'user suspend'")" \
		"authrelay-policyd user suspend"
	check_match "limits: limit-breaches lists bob, suspended" \
		"$(lab_ctl audit --query limit-breaches | awk '$1 == "bob@lab.test" {print $2, $NF}')" '^3 yes$'
	wait_for 30 sh -c "grep -q 'sending limit reached for bob@lab.test' '$LAB'/vmail/alice/Maildir/new/* 2>/dev/null"
	check_match "limits: the notification about bob reached alice's mailbox" \
		"$(grep -h '^Subject:' "$LAB"/vmail/alice/Maildir/new/* 2>/dev/null | grep 'for bob@')" \
		'^Subject: authrelay: sending limit reached for bob@lab.test$'
	check_eq "limits: one notification per user and window (3 refusals of bob)" \
		"$(grep -l '^Subject: authrelay: sending limit .* for bob@lab.test' "$LAB"/vmail/alice/Maildir/new/* 2>/dev/null | wc -l)" 1
	check_eq "limits: every refusal is a decisions row (tempfail rate_limit)" \
		"$(sql "select count(*) from decisions where verdict = 'tempfail' and rule = 'rate_limit'")" 4

	# leave the lab as it was for the scenarios after this one
	lab_ctl user resume bob@lab.test >/dev/null
	for u in bob@lab.test mallory@lab.test; do lab_ctl limit clear "$u" >/dev/null; done
fi

#!/bin/bash
# NAME
#	run.sh - authrelay-milter as the relay judge of a real Sendmail
# SUMMARY
#	AUTHRELAY_BUILD=/abs/build bash tests/sendmail/run.sh
# DESCRIPTION
#	Starts the lab of lab.sh (Sendmail 8.17 configured from
#	conf-examples/sendmail/, authrelay-milter, loopback only) and
#	talks SMTP to it as strangers, a granted client, SASL users and
#	local submission would. Every relay trick a stranger tries (plain
#	relay, percent hack, bang path, source route, quoted local part)
#	must be refused, and the line of each case names the mailer
#	({rcpt_mailer}) Sendmail resolved the recipient to. Decision rows
#	must carry Sendmail's queue id. One line per case, then
#	"N passed, M failed"; everything started is stopped by PID on exit,
#	also on failure. E2E_KEEP=1 leaves the lab running for a look.
#	AUTHRELAY_BACKEND=pgsql: the same against PostgreSQL (lab.sh).
#--
SM_DIR=$(cd "$(dirname "$0")" && pwd)
. "$SM_DIR/lab.sh"

R=example.org
T0=$(lab_now)
for p in authrelay-milter authrelayctl; do
	have_prog "$p" || lab_die "$BUILD/$p is not built (make)"
done
sm_init
sm_start
echo "# lab up in ${LAB_START_SECONDS}s: $LAB (Sendmail $SENDMAIL on 127.0.0.1:$P_SM, run user $RUN_USER)"

# ---- the configuration as documented ----

check_match "config: sendmail.cf holds the example's filter with F=T" \
	"$(grep '^Xauthrelay' "$LAB/sm/sendmail.cf")" "^Xauthrelay, S=unix:$MILTER_SOCK, F=T,"
check_eq "config: authrelay-milter -n: no problem and no warning" \
	"$("$BIN_MILTER" -n -c "$CONF" 2>&1 | grep -v ' are usable$'; echo "rc=${PIPESTATUS[0]}")" "rc=0"
check_eq "config: authrelayctl check: no warning" \
	"$(lab_ctl check 2>&1 | grep '^warning' | grep -v 'postfix:'; true)" ""

# what an admin's older or edited configuration gets
cp "$CONF" "$LAB/etc/old.conf"
printf 'milter_local_domains = lab.test\n' >>"$LAB/etc/old.conf"
old_line=$(wc -l <"$LAB/etc/old.conf")
check_match "config: the removed milter_local_domains is refused, with FILE:LINE" \
	"$("$BIN_MILTER" -n -c "$LAB/etc/old.conf" 2>&1; echo "rc=$?")" \
	"^$LAB/etc/old.conf:$old_line: milter_local_domains no longer exists: .*rc=78\$"
cp "$CONF" "$LAB/etc/narrow.conf"
printf 'milter_relay_transports = smtp, relay\n' >>"$LAB/etc/narrow.conf"
check_match "config: a relay list without Sendmail's esmtp: -n warns (an open relay)" \
	"$("$BIN_MILTER" -n -c "$LAB/etc/narrow.conf" 2>&1)" \
	"narrow.conf:[0-9]+: warning: milter_relay_transports lacks esmtp, smtp8, dsmtp, .*open relay"

# ---- the admin's data ----

out=$(for u in alice mallory; do lab_ctl sender allow "$u@lab.test" "$u@lab.test" >/dev/null 2>&1; echo "rc=$?"; done
	lab_ctl grant add "$GRANTED" --ttl 1h >/dev/null 2>&1; echo "rc=$?")
check_eq "data: sender rights for alice and mallory, a grant for $GRANTED" "$(echo $out)" "rc=0 rc=0 rc=0"

# sm_case LABEL WANT_REGEX CLIENT SWAKS_ARGS...: one session; its outcome
# must match WANT_REGEX. The label gets the mailer Sendmail resolved the
# session's --to to. Sets CASE_OUT and CASE_TO.
sm_case() {
	local label=$1 want=$2 client=$3 a prev=""
	shift 3
	CASE_TO=""
	for a in "$@"; do
		[ "$prev" = --to ] && CASE_TO=$a
		prev=$a
	done
	CASE_OUT=$(sm_smtp "$client" "$@")
	check_match "$label, mailer $(sm_mailer "$CASE_TO")" "$(smtp_outcome "$CASE_OUT")" "$want"
}

# ---- strangers: every relay trick refused ----

STRANGER_TO=()
refused() { # LABEL RCPT
	sm_case "stranger: $1 <$2> refused" '^554 5\.7\.1 .*Relay access denied' "$STRANGER" \
		--from stranger@example.net --to "$2"
	STRANGER_TO+=("$2")
}
refused "plain relay" "sm-plain@$R"
refused "percent hack" "sm-percent%$R@lab.test"
refused "percent hack via an address literal" "sm-literal%$R@[127.0.0.1]"
refused "bang path" "$R!sm-bang@lab.test"
refused "source route" "@lab.test:sm-route@$R"
refused "quoted local part" "\"sm-quoted@$R\"@lab.test"
refused "quoted percent hack" "\"sm-qpercent%$R\"@lab.test"
sm_case "stranger: two @ <sm-twoat@$R@lab.test> refused by Sendmail's parser" '^553 5\.1\.3 ' \
	"$STRANGER" --from stranger@example.net --to "sm-twoat@$R@lab.test"

# ---- local mail: accepted from anyone, never judged ----

for to in root@lab.test root@lab.test. "root@[127.0.0.1]" postmaster; do
	sm_case "stranger: local <$to> accepted" '^250 2\.0\.0 [0-9A-Za-z]{14} Message accepted' \
		"$STRANGER" --from stranger@example.net --to "$to"
done

# ---- clients that may relay ----

sm_case "grant: $GRANTED relays" '^250 2\.0\.0 [0-9A-Za-z]{14} Message accepted' "$GRANTED" \
	--from someone@example.net --to "sm-grant@$R"
GRANT_QID=$(sm_accepted_id "$CASE_OUT")
sm_case "sasl: alice (sasldb, PLAIN) relays" '^250 2\.0\.0 [0-9A-Za-z]{14} Message accepted' \
	"$STRANGER" --auth PLAIN --auth-user alice@lab.test --auth-password alicepw \
	--from alice@lab.test --header 'From: Alice <alice@lab.test>' --to "sm-sasl@$R"
SASL_QID=$(sm_accepted_id "$CASE_OUT")
sm_case "sasl: mallory's From: alice@lab.test refused at end of message" '^550 5\.7\.1 ' \
	"$STRANGER" --auth CRAM-MD5 --auth-user mallory@lab.test --auth-password mallorypw \
	--from mallory@lab.test --header 'From: Alice <alice@lab.test>' --to "sm-forged@$R"
sm_case "sasl: wrong password, no relay" '^535 ' "$STRANGER" --auth PLAIN \
	--auth-user alice@lab.test --auth-password wrong --from alice@lab.test --to "sm-badpw@$R"
sm_case "submission: 127.0.0.1 (trusted_networks, as submit.cf sends) relays" \
	'^250 2\.0\.0 [0-9A-Za-z]{14} Message accepted' "$SUBMIT" --from root@lab.test --to "sm-submit@$R"

# ---- decision rows, with Sendmail's queue ids ----

row() { # RCPT: "verdict rule queue_id" of its decision row
	sql "select verdict||' '||rule||' '||queue_id from decisions
		where recipient like '%$(sm_token "$1")%' and program='milter'"
}
rows_written() { [ -n "$(row "sm-submit@$R")" ]; }
wait_for 10 rows_written
for to in "${STRANGER_TO[@]}"; do
	check_eq "audit: <$to>: a refusal with this session's queue id" "$(row "$to")" \
		"reject none $(sm_queue_id "$to")"
done
check_eq "audit: grant: permit with the id of Sendmail's 250 reply" "$(row "sm-grant@$R")" \
	"permit grant $GRANT_QID"
check_eq "audit: sasl: permit with the id of Sendmail's 250 reply" "$(row "sm-sasl@$R")" \
	"permit sasl $SASL_QID"
forged_qid=$(sm_queue_id "sm-forged@$R")
check_eq "audit: forged From: permit at RCPT, refusal at end of message, one queue id" \
	"$(sql "select verdict||' '||rule from decision_log where program='milter' and queue_id='$forged_qid'
		and queue_id<>'' order by id" | paste -sd';')" "permit sasl;reject sender_mismatch"
check_eq "audit: submission: permit trusted" "$(row "sm-submit@$R" | cut -d' ' -f1-2)" "permit trusted"
check_eq "audit: no decision row without a queue id" \
	"$(sql "select count(*) from decisions where program='milter' and queue_id=''")" 0
check_eq "audit: no stranger permitted" \
	"$(sql "select count(*) from decisions where client_ip='$STRANGER' and sasl_username='' and verdict='permit'")" 0
check_eq "audit: Sendmail's queue holds none of the strangers' relays" \
	"$(grep -lE 'sm-(plain|percent|literal|bang|route|quoted|qpercent)' "$LAB"/sm/queue/* 2>/dev/null)" ""

# ---- milter_relay_check = no is Postfix's: behind Sendmail, relay is judged ----

reloaded() { [ "$(grep -c 'reload: configuration' "$LAB/log/milter.log")" -ge "$1" ]; }
printf 'milter_relay_check = no\n' >>"$CONF"
kill -USR1 "$(lab_pid milter)"
wait_for 10 reloaded 1
sm_case "milter_relay_check = no behind Sendmail: a stranger is still refused" \
	'^554 5\.7\.1 .*Relay access denied' "$STRANGER" --from stranger@example.net --to "sm-nocheck@$R"
check_match "milter_relay_check = no behind Sendmail: ... and the milter says why" \
	"$(grep -F 'sm-nocheck' "$LAB/log/milter.log" | grep warning)" 'this MTA is not Postfix: relay judged here'
sed -i '$d' "$CONF"
kill -USR1 "$(lab_pid milter)"
wait_for 10 reloaded 2

# ---- the milter stopped: F=T, a temporary failure, never relay ----

lab_kill milter
sm_case "milter stopped: a stranger's relay gets a temporary failure (F=T)" '^4[0-9][0-9] 4\.' \
	"$STRANGER" --from stranger@example.net --to "sm-down@$R"
sm_case "milter stopped: the granted client too" '^4[0-9][0-9] 4\.' "$GRANTED" \
	--from someone@example.net --to "sm-down-grant@$R"
sm_milter_start
sm_case "milter back: a stranger is refused again" '^554 5\.7\.1 .*Relay access denied' \
	"$STRANGER" --from stranger@example.net --to "sm-back@$R"

echo "# scenarios took $(lab_elapsed "$T0")s"
check_finish "$T0"

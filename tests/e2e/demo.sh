#!/bin/bash
# NAME
#	demo.sh - `make demo`: the authrelay story on a real Postfix and Dovecot
# SUMMARY
#	make demo [KEEP=1]      (AUTHRELAY_BUILD=/abs/build KEEP= bash tests/e2e/demo.sh)
# DESCRIPTION
#	Starts the end-to-end lab (lib.sh) with grant_ttl = 30m and tells the
#	story in plain words: a stranger is refused, Alice authenticates and
#	relays, Bob checks his mail over POP3 and may then relay from that
#	address for 30 minutes, Mallory tries to send as Alice and is refused.
#	Each SMTP exchange is shown briefly; the audit table from sqlite3 ends
#	it. policyd and the milter run side by side as README.md (step 8)
#	recommends: milter_relay_check = no, so policyd alone decides relay
#	(one row per recipient) and the milter only checks the From: header
#	of authenticated mail (one row per message). The lab's own main.conf
#	keeps the default (yes) because the suite also tests the milter
#	deciding relay alone. Then everything is stopped, or with KEEP=1 left running with a
#	note on how to poke at it and how to stop it.
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
export E2E_GRANT_TTL=30m
[ "${KEEP:-}" = 1 ] && export E2E_KEEP=1
LAB_KEEP_QUIET=1	# the demo says how to stop it itself
. "$E2E_DIR/lib.sh"
# the setup README.md recommends for policyd and the milter side by side
LAB_MAIN_KEYS=(milter_relay_check=no)

R=someone@example.org
bold=""
plain=""
if [ -t 1 ]; then
	bold=$(printf '\033[1m')
	plain=$(printf '\033[0m')
fi

say() { printf '\n%s%s%s\n' "$bold" "$*" "$plain"; }
note() { printf '  %s\n' "$*"; }

# show TRANSCRIPT: the exchange in brief: AUTH (password hidden), MAIL,
# RCPT, DATA, the From: header sent, end of data, and the server's
# one-line (or last-line) replies to those.
show() {
	printf '%s\n' "$1" | awk '
		/^ ?(->|~>) (AUTH|MAIL FROM|RCPT TO|DATA|STARTTLS)/ {
			line = $0; sub(/^ ?(->|~>) /, "", line)
			if (line ~ /^AUTH /) { split(line, w, " "); line = "AUTH " w[2] " ..." }
			printf "    C: %s\n", line; want = 1; next
		}
		/^ ?(->|~>) From: / && !from { sub(/^ ?(->|~>) /, ""); printf "    C:   %s\n", $0; from = 1; next }
		/^ ?(->|~>) \.$/ { printf "    C: .  (end of message)\n"; want = 1; next }
		/^(<-|<~|<\*\*|<~\*) +[0-9][0-9][0-9] / && want {
			sub(/^(<-|<~|<\*\*|<~\*) +/, ""); printf "    S: %s\n", $0; want = 0; next
		}'
}

# session LABEL SWAKS_ARGS...: runs and shows one SMTP session.
session() {
	local out
	out=$(smtp "$@")
	show "$out"
	printf '    => %s\n' "$(smtp_outcome "$out")"
}

missing=""
for p in $LAB_PROGRAMS; do
	have_prog "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "demo: not built yet:$missing (run make)" >&2
	exit 1
fi

say "Starting a private Postfix, Dovecot and the authrelay daemons on loopback..."
lab_init
lab_start
note "Postfix   127.0.0.1:$P_SMTP and [::1]:$P_SMTP (asks authrelay-policyd at RCPT TO, authrelay-milter for the From: header)"
note "Dovecot   POP3 127.0.0.1:$P_POP3, IMAP 127.0.0.1:$P_IMAP (authrelay-loginwatch follows its log)"
note "Internet  smtp-sink on 127.0.0.1:$P_SINK stands in for the rest of the world"
note "lab directory $LAB, up in ${LAB_START_SECONDS%.*}s"

say "The admin says who owns which sender address:"
for u in alice bob mallory; do
	note "authrelayctl sender allow $u@lab.test $u@lab.test"
	lab_ctl sender allow "$u@lab.test" "$u@lab.test" >/dev/null || lab_die "authrelayctl sender allow failed"
done

say "1. A stranger connects from 127.0.0.1 and tries to relay mail to $R."
session --server 127.0.0.1 --port "$P_SMTP" --from stranger@example.net --to "$R"
note "No login, no grant: authrelay-policyd has no opinion and Postfix refuses the relay."

say "2. Alice authenticates (SMTP AUTH PLAIN) and sends to $R."
session --server 127.0.0.1 --port "$P_SMTP" --auth PLAIN --auth-user alice --auth-password alicepw \
	--from alice@lab.test --to "$R" --header "Subject: hello from Alice"
note "An authenticated user, not suspended, using her own address: relayed."

say "3. Bob checks his mail over POP3 from 127.0.0.2 (no SMTP AUTH in his old mail program)."
curl -s --max-time 10 --interface 127.0.0.2 "pop3://127.0.0.1:$P_POP3/" -u bob:bobpw >/dev/null &&
	note "POP3 login as bob: ok"
for _ in $(seq 1 100); do
	[ -n "$(sql "select 1 from active_grants where ip='127.0.0.2'")" ] && break
	sleep 0.02
done
note "Dovecot logged the login; authrelay-loginwatch turned it into a grant:"
sql -header -column "select ip, username, service, expires_at from active_grants where ip='127.0.0.2'" |
	sed 's/^/    /'
say "   Now Bob sends to $R from 127.0.0.2, without authenticating."
session --server 127.0.0.1 --port "$P_SMTP" --local-interface 127.0.0.2 --from bob@lab.test --to "$R"
note "His address logged in to POP3 a moment ago: it may relay for 30 minutes (grant_ttl)."

say "4. Mallory has an account too. He authenticates as mallory but claims to be Alice."
session --server 127.0.0.1 --port "$P_SMTP" --auth PLAIN --auth-user mallory --auth-password mallorypw \
	--from alice@lab.test --to "$R"
note "sender_login_check: alice@lab.test is not mallory's address (policyd, at RCPT TO)."
say "   He tries again: his own envelope sender, but Alice in the From: header."
session --server 127.0.0.1 --port "$P_SMTP" --auth PLAIN --auth-user mallory --auth-password mallorypw \
	--from mallory@lab.test --header "From: Alice <alice@lab.test>" --to "$R"
note "Postfix cannot check headers; authrelay-milter does, at the end of the message."

say "Every decision is in the database (sqlite3 $DB 'select * from decisions'):"
# 5 policyd rows (one per RCPT TO) and 2 milter rows (the From: checks
# of Alice's and Mallory's messages); written in batches, so wait for them
for _ in $(seq 1 100); do
	[ "$(sql "select count(*) from decisions")" -ge 7 ] && break
	sleep 0.05
done
sql -header -column "select substr(ts, 12, 8) as time, program, client_ip,
	sasl_username as user, sender,
	case recipient when '' then '(From: header)' else recipient end as checked,
	verdict, rule from decisions" | sed 's/^/  /'
note "policyd decides each RCPT TO; the milter (milter_relay_check = no, as README.md"
note "recommends) leaves relay to policyd and checks the From: header of authenticated mail."

if [ "${KEEP:-}" = 1 ]; then
	lab_write_stop_script
	say "The lab keeps running (KEEP=1). Poke at it:"
	note "swaks --server 127.0.0.1 --port $P_SMTP --to $R --auth PLAIN --auth-user alice --auth-password alicepw --from alice@lab.test"
	note "curl --interface 127.0.0.3 pop3://127.0.0.1:$P_POP3/ -u bob:bobpw"
	note "$BIN_CTL -c $LAB/etc/main.conf audit"
	note "$BIN_CTL -c $LAB/etc/main.conf grant list"
	note "sqlite3 $DB 'select * from decisions'"
	note "logs: $LAB/log/   configs: $LAB/etc/ $PFC/"
	say "Stop it with:   bash $LAB/stop.sh"
else
	say "Stopping everything..."
fi

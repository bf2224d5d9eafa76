# tests/ctl/cases_cert.sh -- sourced by run.sh: authrelayctl cert.
# Certificates are made here with openssl; the fingerprints authrelayctl
# stores must equal what openssl (and so Postfix) reports.

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=alice-laptop \
	-keyout "$T/alice.key" -out "$T/alice.pem" 2>/dev/null
want_fp=$(openssl x509 -noout -fingerprint -sha256 -in "$T/alice.pem" | cut -d= -f2)
want_pk=$(openssl x509 -in "$T/alice.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl dgst -sha256 -c | sed 's/.*= //' | tr a-f A-F)

run -c "$CONF" cert add alice "$T/alice.pem"
if expect_rc "cert add" 0; then
	got=$(sql "select fingerprint || ' ' || pubkey_fingerprint || ' ' || username from certs")
	if [ "$got" = "$want_fp $want_pk alice" ]; then
		ok "cert add: both fingerprints equal openssl's, user alice"
	else
		bad "cert add: fingerprints" "got $got, want $want_fp $want_pk alice"
	fi
fi
run -c "$CONF" --json cert list
"$PY" - "$T/out" "$want_fp" <<'PY' && ok "cert list --json: the certificate, ISO-8601 not_after" || bad "cert list --json" "$(cat "$T/out")"
import json, re, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 1 and rows[0]["fingerprint"] == sys.argv[2], rows
assert rows[0]["username"] == "alice" and rows[0]["subject"].endswith("alice-laptop"), rows
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rows[0]["not_after"]), rows
PY
run -c "$CONF" cert add alice "$T/alice.key"
[ "$rc" = 65 ] && grep -q "no PEM certificate" "$T/err" &&
	ok "cert add of a key file: exit 65, says no PEM certificate" ||
	bad "cert add of a key file" "rc=$rc: $(cat "$T/err")"
run -c "$CONF" cert add alice "$T/missing.pem"
[ "$rc" = 65 ] && grep -q "No such file" "$T/err" &&
	ok "cert add of a missing file: exit 65" || bad "cert add missing file" "rc=$rc"
# Revoke by the public-key fingerprint, in lower case: Postfix's form is
# upper case, an admin may paste either.
run -c "$CONF" cert revoke "$(echo "$want_pk" | tr A-F a-f)"
if expect_rc "cert revoke by pubkey fingerprint" 0; then
	n=$(sql "select count(*) from certs")
	a=$(sql "select count(*) from admin_actions where action in ('cert add','cert revoke')")
	[ "$n" = 0 ] && [ "$a" = 2 ] && ok "cert revoke (pubkey, lower case): gone, both changes in admin_log" ||
		bad "cert revoke" "certs=$n admin rows=$a"
fi
run -c "$CONF" cert revoke "$want_fp"
expect_rc "cert revoke of nothing: exit 1" 1 && ok "cert revoke of nothing: exit 1"

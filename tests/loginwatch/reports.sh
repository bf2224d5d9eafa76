#!/bin/bash
# tests/loginwatch/reports.sh -- authrelay-loginwatch's auth-policy listener
# over real HTTP on loopback (Dovecot's requests, made with curl and a
# Python socket): what is refused at start (a listener reachable from
# other hosts without a key, a key file others may read, a missing key
# file); 401 without or with a wrong key, and a flood of those logged
# once; 405, 400, 413 (announced and chunked); a report's grant is in the
# database when its 200 arrives; a client that stalls mid-request is
# closed after loginwatch_http_timeout; connections beyond
# loginwatch_http_max_connections wait until one closes.
# Prints one line per case and "N passed, M failed"; exits 1 on a failure.
set -u
BUILD=${AUTHRELAY_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
BIN=$BUILD/authrelay-loginwatch
T=$(mktemp -d /tmp/loginwatch-reports.XXXXXX)
chmod 0755 "$T"
PIDS=""
pass=0; fail=0
ok() { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "(kept $T)"; fi
}
trap cleanup EXIT
if [ "$(id -u)" = 0 ]; then RUN_USER=nobody; chown nobody "$T"; else RUN_USER=$(id -un); fi

PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KEY=k-$RANDOM$RANDOM
(umask 077; echo "$KEY" > "$T/key")
DB=$T/db
conf() { # LISTEN KEYFILE -- the configuration, printed path
	cat > "$T/conf" <<-EOC
		database = $DB
		run_user = $RUN_USER
		log_level = info
		loginwatch_pidfile =
		loginwatch_http_listen = $1
		loginwatch_http_api_key_file = $2
		loginwatch_http_timeout = 2s
		loginwatch_http_max_connections = 4
	EOC
	echo "$T/conf"
}
"$BUILD/authrelayctl" -c "$(conf "inet:127.0.0.1:$PORT" "$T/key")" init >/dev/null 2>&1
[ "$(id -u)" = 0 ] && { chown "$RUN_USER" "$DB" "$DB"-wal "$DB"-shm 2>/dev/null || true; }
q() { sqlite3 -cmd ".timeout 5000" "file:$DB?mode=ro" "$1" 2>/dev/null; }

# ---- refused at start
refused() { # LABEL WANT_TEXT LISTEN KEYFILE
	local out rc
	out=$(timeout 10 "$BIN" -f -c "$(conf "$3" "$4")" 2>&1); rc=$?
	if [ "$rc" = 78 ] && printf '%s' "$out" | grep -q "$2"; then
		ok "start refused: $1 (78)"
	else
		bad "start refused: $1" "exit $rc: $(printf '%s' "$out" | tail -1)"
	fi
}
refused "all addresses without a key" "reachable from other hosts" "inet:0.0.0.0:$PORT" ""
out=$("$BIN" -n -c "$(conf "inet:0.0.0.0:$PORT" "")" 2>&1); rc=$?
[ "$rc" = 78 ] && printf '%s' "$out" | grep -q 'reachable from other hosts' \
	&& ok "-n: all addresses without a key (78)" || bad "-n: all addresses without a key" "exit $rc: $out"
out=$("$BIN" -n -c "$(conf "inet:127.0.0.1:$PORT" "")" 2>&1); rc=$?
[ "$rc" = 0 ] && ok "-n: loopback without a key (0)" || bad "-n: loopback without a key" "exit $rc: $out"
cp "$T/key" "$T/key644"; chmod 0644 "$T/key644"
refused "a key file others may read" "chmod 0600" "inet:127.0.0.1:$PORT" "$T/key644"
refused "a missing key file" "No such file" "inet:127.0.0.1:$PORT" "$T/nokey"

# ---- the daemon
"$BIN" -f -c "$(conf "inet:127.0.0.1:$PORT" "$T/key")" 2>>"$T/daemon.log" & DPID=$!
PIDS="$PIDS $DPID"
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.05; done
U="http://127.0.0.1:$PORT/"
BODY='{"login":"bob","pwhash":"x","remote":"192.0.2.10","device_id":"","protocol":"pop3","session_id":"Ab12+/","success":true,"policy_reject":false,"tls":true}'
req() { # LABEL WANT_STATUS CURL_ARGS...
	local label=$1 want=$2 got
	shift 2
	got=$(curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "$@")
	[ "$got" = "$want" ] && ok "$label: $got" || bad "$label" "got $got, want $want ($(head -c 80 "$T/body"))"
}
req "report without a key" 401 -X POST "$U?command=report" -d "$BODY"
req "report with a wrong key" 401 -X POST "$U?command=report" -H "X-API-Key: x$KEY" -d "$BODY"
[ -z "$(q "SELECT ip FROM grants")" ] && ok "... no grant" || bad "... no grant" "$(q "SELECT ip FROM grants")"
req "GET" 405 "$U?command=report" -H "X-API-Key: $KEY"
req "malformed JSON" 400 -X POST "$U?command=report" -H "X-API-Key: $KEY" -d '{"login":'
head -c 20000 /dev/zero | tr '\0' ' ' > "$T/big"
req "a 20000-byte body (Content-Length)" 413 -X POST "$U?command=report" -H "X-API-Key: $KEY" --data-binary @"$T/big"
req "a 20000-byte body (chunked)" 413 -X POST "$U?command=report" -H "X-API-Key: $KEY" \
	-H "Transfer-Encoding: chunked" --data-binary @"$T/big"
req "allow" 200 -X POST "$U?command=allow" -H "X-API-Key: $KEY" -d '{"login":"bob","remote":"192.0.2.10","tls":true}'
req "report, the key as Dovecot sends 'X-API-Key: KEY'" 200 -X POST "$U?command=report" -H "X-API-Key:  $KEY" -d "$BODY"
# The 200 came after the commit: the grant is there at once.
got=$(q "SELECT ip || ' ' || username || ' ' || service FROM grants")
[ "$got" = "192.0.2.10 bob pop3" ] && ok "... its grant is in the database when the 200 arrives" \
	|| bad "... grant at the 200" "got '$got', want '192.0.2.10 bob pop3'"
cat "$T/daemon.log" > "$T/before-flood"
for i in $(seq 1 50); do curl -s -o /dev/null -X POST "$U?command=report" -H "X-API-Key: bad$i" -d "$BODY"; done
n=$(($(grep -c 'without the right X-API-Key' "$T/daemon.log") - $(grep -c 'without the right X-API-Key' "$T/before-flood")))
[ "$n" = 0 ] && ok "50 more wrong keys within the minute: no more log lines (counted for the next one)" \
	|| bad "wrong-key flood" "got $n more log lines, want 0"

# ---- slow clients and the connection limit (Python: raw sockets)
while IFS= read -r l; do
	case $l in "ok   "*) ok "${l#ok   }" ;; "FAIL "*) l=${l#FAIL }; bad "${l%%: *}" "${l#*: }" ;; *) echo "$l" ;; esac
done < <(/usr/bin/python3 - "$PORT" "$KEY" <<'PY'
import socket, sys, time
port, key = int(sys.argv[1]), sys.argv[2]
def conn():
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.settimeout(6)
    return s
def closed_after(s):
    t0 = time.monotonic()
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        return None
    return time.monotonic() - t0
# A request stalled after its first header line: closed after the 2 s timeout.
s = conn()
s.sendall(b"POST /?command=report HTTP/1.1\r\nHost: x\r\n")
t = closed_after(s)
print("ok   a client stalled mid-request is closed after %.1f s (loginwatch_http_timeout 2s)" % t
      if t is not None and 1.5 <= t <= 4 else "FAIL slow client: closed after %s s, want about 2" % t)
# Four idle connections fill loginwatch_http_max_connections = 4; a fifth
# gets no answer until one of them closes.
idle = [conn() for _ in range(4)]
time.sleep(0.3)
body = b'{"login":"bob","remote":"192.0.2.11","protocol":"imap","success":true,"policy_reject":false}'
fifth = conn()
fifth.sendall(b"POST /?command=report HTTP/1.1\r\nHost: x\r\nX-API-Key: " + key.encode()
              + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
fifth.settimeout(0.8)
try:
    early = fifth.recv(4096)
except socket.timeout:
    early = None
print("ok   a fifth connection beyond loginwatch_http_max_connections (4) waits" if not early
      else "FAIL connection limit: the fifth was answered at once: %r" % early[:40])
idle[0].close()
fifth.settimeout(5)
t0 = time.monotonic()
try:
    answer = fifth.recv(4096)
except socket.timeout:
    answer = b""
print("ok   ... and is answered once one closes (%.2f s)" % (time.monotonic() - t0)
      if answer.startswith(b"HTTP/1.1 200") else "FAIL connection limit: got %r after a slot freed" % answer[:40])
PY
)
wait_grant() { for _ in $(seq 1 50); do [ -n "$(q "SELECT 1 FROM grants WHERE ip = '$1'")" ] && return 0; sleep 0.05; done; return 1; }
wait_grant 192.0.2.11 && ok "... and its report granted" || bad "connection limit" "no grant for 192.0.2.11"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
grep -q 'auth-policy: requests=' "$T/daemon.log" && ok "stop: the counts are logged ($(grep -o 'auth-policy: requests=.*' "$T/daemon.log" | tail -1))" \
	|| bad "stop" "no counts in the log"
# A unix: socket without a key: this host only, so allowed (with a warning).
"$BIN" -f -c "$(conf "unix:$T/ap.sock" "")" 2>>"$T/daemon.log" & DPID=$!
PIDS="$PIDS $DPID"
for _ in $(seq 1 100); do [ -S "$T/ap.sock" ] && break; sleep 0.05; done
got=$(curl -s -w ' %{http_code}' --max-time 10 --unix-socket "$T/ap.sock" -X POST "http://x/?command=report" \
	-d '{"login":"carol","remote":"192.0.2.12","protocol":"imap","success":true,"policy_reject":false}')
[ "$got" = '{"status":0} 200' ] && [ "$(q "SELECT username FROM grants WHERE ip = '192.0.2.12'")" = carol ] \
	&& ok "unix: socket without a key: a report grants" || bad "unix: socket" "got '$got'"
grep -q "serving unix:$T/ap.sock without a key: any local process" "$T/daemon.log" \
	&& ok "... and the start says that any local process can report" || bad "unix: socket" "no warning at start"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null
grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$T/daemon.log" \
	&& bad "sanitizers" "$(grep -m1 -E 'Sanitizer|runtime error:' "$T/daemon.log")" \
	|| ok "no sanitizer report in the daemon's log"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

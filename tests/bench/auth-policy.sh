#!/bin/bash
# tests/bench/auth-policy.sh -- logins from Dovecot's auth-policy reports
# beside logins from the log, in one run, into one authrelay-loginwatch.
#
# The daemon follows a log file and serves reports on a loopback port
# (loginwatch_http_listen, with a key), one database, as a site running
# both sources does. Then, one after the other:
#   log     LOG_N login lines appended at once: lines to grants per second
#           (the file to the database), and login-to-grant latency of
#           LAT_N single lines (appended, database polled every 1 ms);
#   report  REPORT_N reports over CONNS keep-alive connections, each
#           waiting for its answer (closed loop): reports per second and
#           report-to-commit latency (loginwatch answers 200 only after
#           the grant is committed); then REPORT_N reports due at RATE
#           per second over PACED_CONNS connections (open loop, as
#           Dovecot's auth process sends them over up to 100): latency
#           counted from when each was due; then LAT_N reports one at a
#           time on one connection: the latency without queueing.
# Targets (issue 16): >= 2,000 reports/s and p99 < 20 ms, both in the
# closed loop. The open loop's figures are printed beside them, not held
# to the target: its tail counts every stall of the machine (with 64
# client threads on a shared 2-CPU host, the run queue as much as
# loginwatch; under a load of 7-9 the same binary measured p99 from 8 ms
# to 300 ms from run to run) and the SQLite checkpoints (a commit that
# runs one waits for fsync: 10-80 ms seen under that load).
# A miss exits 1; wrong counts (a grant missing) fail too.
# Env: LOG_N (20000), REPORT_N (20000), CONNS (8), PACED_CONNS (64), RATE (2000),
# LAT_N (300), AUTHRELAY_BUILD.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${AUTHRELAY_BUILD:-$(cd "$here/../.." && pwd)/build}
BIN=$BUILD/authrelay-loginwatch
LOG_N=${LOG_N:-20000}
REPORT_N=${REPORT_N:-20000}
CONNS=${CONNS:-8}
PACED_CONNS=${PACED_CONNS:-64}
RATE=${RATE:-2000}
LAT_N=${LAT_N:-300}
T=$(mktemp -d /tmp/auth-policy-bench.XXXXXX)
chmod 0755 "$T"
DPID=
cleanup() { [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
if [ "$(id -u)" = 0 ]; then RUN_USER=nobody; chown nobody "$T"; else RUN_USER=$(id -un); fi

cc -O2 -Wall -D_GNU_SOURCE -pthread -o "$T/report_load" "$here/report_load.c"
PORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
KEY=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; echo "$KEY" > "$T/key")
cat > "$T/conf" <<EOC
database = $T/db
run_user = $RUN_USER
log_level = warning
grant_ttl = 1d
loginwatch_sources = $T/follow.log
loginwatch_pidfile =
loginwatch_http_listen = inet:127.0.0.1:$PORT
loginwatch_http_api_key_file = $T/key
EOC
"$BUILD/authrelayctl" -c "$T/conf" init >/dev/null 2>&1
[ "$(id -u)" = 0 ] && { chown "$RUN_USER" "$T/db" "$T/db-wal" "$T/db-shm" 2>/dev/null || true; }
: > "$T/follow.log"
"$BIN" -c "$T/conf" -f 2>>"$T/daemon.log" &
DPID=$!
for _ in $(seq 1 100); do
	/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
	sleep 0.05
done
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the log path: a burst, then one line at a time
/usr/bin/python3 - "$T/db" "$T/follow.log" "$LOG_N" "$LAT_N" <<'PY'
import sqlite3, sys, time
db, log, n, lat_n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
stamp = time.strftime("%b %e %H:%M:%S")
def line(i, ip):
    return ("%s mail dovecot: pop3-login: Login: user=<user%d@example.org>, method=PLAIN, rip=%s, "
            "lip=192.0.2.1, mpid=%d, TLS, session=<log%dAAAB>\n" % (stamp, i % 1000, ip, i, i))
ip_of = lambda i: "172.%d.%d.%d" % (16 + i // 65536 % 16, i // 256 % 256, i % 256)
count = lambda: con.execute("SELECT count(*) FROM grant_log WHERE event = 'login'").fetchone()[0]
t0 = time.monotonic()
with open(log, "a") as f:
    f.write("".join(line(i, ip_of(i)) for i in range(n)))
while count() < n:
    if time.monotonic() - t0 > 60:
        print("FAIL: log: %d of %d grants after 60 s" % (count(), n)); sys.exit(1)
    time.sleep(0.005)
secs = time.monotonic() - t0
print("log     burst: %d login lines -> %d grants in %.3f s: %.0f grants/s" % (n, count(), secs, n / secs))
lat = []
for i in range(n, n + lat_n):
    ip = ip_of(i)
    t0 = time.monotonic()
    with open(log, "a") as f:
        f.write(line(i, ip))
    while not con.execute("SELECT 1 FROM grants WHERE ip = ?", (ip,)).fetchone():
        if time.monotonic() - t0 > 5:
            print("FAIL: log: no grant for %s after 5 s" % ip); sys.exit(1)
        time.sleep(0.001)
    lat.append((time.monotonic() - t0) * 1000)
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))]
print("log     one at a time: login-to-grant latency over %d lines: p50 %.2f ms, p99 %.2f ms, max %.2f ms"
      % (lat_n, pct(50), pct(99), lat[-1]))
PY

# ---- the report path: under load, then one at a time
load=$("$T/report_load" 127.0.0.1 "$PORT" "$KEY" "$CONNS" "$REPORT_N" 0)
echo "report  closed loop: $CONNS keep-alive connections: $load"
paced=$("$T/report_load" 127.0.0.1 "$PORT" "$KEY" "$PACED_CONNS" "$REPORT_N" "$REPORT_N" "$RATE")
echo "report  open loop at $RATE/s: $PACED_CONNS keep-alive connections: $paced"
one=$("$T/report_load" 127.0.0.1 "$PORT" "$KEY" 1 "$LAT_N" $((2 * REPORT_N)))
echo "report  one at a time: 1 connection: $one"
want=$((2 * REPORT_N + LAT_N))
got=$(sqlite3 "$T/db" "SELECT count(*) FROM grant_log WHERE source = 'dovecot-auth-policy'")
[ "$got" = "$want" ] || { echo "FAIL: $got report grants written, want $want"; exit 1; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
for r in "$load" "$paced" "$one"; do
	[ "$(field "$r" errors)" = 0 ] || { echo "FAIL: answers other than 200: $r"; exit 1; }
done
rps=$(field "$load" rps); p99=$(field "$load" p99_ms); p99_paced=$(field "$paced" p99_ms)
figures="$rps reports/s, p99 $p99 ms closed loop; open loop at $RATE/s: p99 $p99_paced ms, not a target"
if awk -v r="$rps" -v p="$p99" 'BEGIN { exit !(r >= 2000 && p < 20) }'; then
	echo "targets (>= 2,000 reports/s, p99 < 20 ms): met ($figures)"
else
	echo "targets (>= 2,000 reports/s, p99 < 20 ms): MISSED ($figures)"
	exit 1
fi

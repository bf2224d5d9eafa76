#!/bin/bash
# run.sh -- GET /metrics of the three daemons, against the audit and a real
# Prometheus.
#
# Starts the real binaries (AUTHRELAY_BUILD, default ./build) and a private
# Prometheus server on loopback ports chosen at run time, from
# tests/metrics/metrics_test.py. Prints one line per case and
# "N passed, M failed"; exits non-zero on a failure. Every process started
# is stopped by PID, also on failure. METRICS_KEEP=1 keeps the work
# directory (the scrapes and the Prometheus answers are in it).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${AUTHRELAY_BUILD:-$top/build}
for t in promtool prometheus miltertest; do
    if ! command -v "$t" >/dev/null; then
        echo "metrics: missing $t (make deps)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
for p in authrelay-policyd authrelay-milter authrelay-loginwatch authrelayctl; do
    if [ ! -x "$build/$p" ]; then
        echo "metrics: $build/$p is not built"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
work=$(mktemp -d /tmp/authrelay-metrics.XXXXXX)
chmod 0755 "$work"
# AUTHRELAY_BACKEND=pgsql: the same cases against a private PostgreSQL 15.
if [ "${AUTHRELAY_BACKEND:-sqlite}" = pgsql ]; then
    . "$top/tests/pg.sh"
    if ! pg_start || ! pg_init "$build"; then
        [ -n "${PG_DIR:-}" ] && pg_stop
        rm -rf "$work"
        echo "metrics (pgsql): PostgreSQL did not start"
        echo "0 passed, 1 failed"
        exit 1
    fi
    # The daemons read the password after dropping to nobody.
    [ "$(id -u)" = 0 ] && chown nobody "$PG_PASSFILE"
fi
cleanup() {
    [ -n "${PG_DIR:-}" ] && pg_stop
    if [ "${METRICS_KEEP:-0}" = 1 ]; then
        echo "# kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
/usr/bin/python3 "$here/metrics_test.py" "$build" "$top" "$work"

#!/bin/bash
# run.sh -- socket-level tests of authrelay-policyd.
#
# Starts the real binary (AUTHRELAY_BUILD, default ./build) with temporary
# configs and databases on loopback ports chosen at run time, and talks the
# Postfix policy protocol to it from tests/protocol/policy_test.py. Prints
# one line per case and "N passed, M failed"; exits non-zero on a failure.
# Every process started is stopped by PID, also on failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${AUTHRELAY_BUILD:-$top/build}
if [ ! -x "$build/authrelay-policyd" ]; then
    echo "protocol: $build/authrelay-policyd is not built"
    echo "0 passed, 1 failed"
    exit 1
fi
# VALGRIND=1 runs every policyd under valgrind (leaks and errors fail).
# 1000 simultaneous connections need descriptors on both sides.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d /tmp/authrelay-protocol.XXXXXX)
chmod 0755 "$work"
# AUTHRELAY_BACKEND=pgsql: the same cases against a private PostgreSQL 15.
if [ "${AUTHRELAY_BACKEND:-sqlite}" = pgsql ]; then
    . "$top/tests/pg.sh"
    if ! pg_start || ! pg_init "$build"; then
        pg_stop
        rm -rf "$work"
        echo "protocol (pgsql): PostgreSQL did not start"
        echo "0 passed, 1 failed"
        exit 1
    fi
    # The daemons read the password after dropping to nobody.
    [ "$(id -u)" = 0 ] && chown nobody "$PG_PASSFILE"
fi
cleanup() {
    # The harness kills what it started; a detached daemon left by a
    # crash is found through its pidfile.
    if [ -s "$work/policyd.pid" ]; then
        kill "$(cat "$work/policyd.pid")" 2>/dev/null
    fi
    [ -n "${PG_DIR:-}" ] && pg_stop
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
/usr/bin/python3 "$here/policy_test.py" "$build" "$top/sql" "$work"

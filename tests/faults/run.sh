#!/bin/bash
# tests/faults/run.sh -- the fault suite (make check): one script per fault
#
# NAME
#	run.sh - privilege, busy database, lost database, kill -9, disk full,
#	connection storm, valgrind (not with SAN=1); on PostgreSQL a locked
#	table and the server stopped, then started
# SUMMARY
#	AUTHRELAY_BUILD=/abs/build bash tests/faults/run.sh [SCRIPT...]
# DESCRIPTION
#	Runs each script (all of them by default, in the order below), prints
#	their case lines, and ends with the sum "N passed, M failed". As root
#	it makes one test user (useradd) for all scripts to run the daemons
#	as, and removes it at the end. A script that does not end with its
#	own "N passed, M failed" line counts as one failure.
#
#	FAULTS_KEEP=1 keeps a failed script's temporary directory.
#
#	AUTHRELAY_BACKEND=pgsql runs every script against a private
#	PostgreSQL 15 that each one starts (tests/faults/lib.sh): the
#	SQLite-only scripts (busy, dbgone, diskfull) print one skip line
#	with their reason, the pg_* scripts run instead; under the default
#	SQLite it is the other way round.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SCRIPTS=(privilege busy pg_locked dbgone pg_stopped kill9 pg_kill9 diskfull storm)
# valgrind cannot run AddressSanitizer binaries
[ "${SAN:-}" = 1 ] || SCRIPTS+=(valgrind)
[ $# -gt 0 ] && SCRIPTS=("$@")

FAULT_USER=""
cleanup() { [ -n "$FAULT_USER" ] && userdel "$FAULT_USER" 2>/dev/null; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
if [ "$(id -u)" = 0 ]; then
	FAULT_USER=arfault$$
	useradd --system --no-create-home --shell /usr/sbin/nologin --user-group "$FAULT_USER" ||
		{ echo "FAIL useradd $FAULT_USER"; echo "0 passed, 1 failed"; exit 1; }
fi
export FAULT_USER

total_pass=0
total_fail=0
for s in "${SCRIPTS[@]}"; do
	[ -f "$HERE/$s.sh" ] || continue
	start=$(date +%s.%N)
	out=$(bash "$HERE/$s.sh" 2>&1)
	rc=$?
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	printf '%s\n' "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$'
	last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
	if [ -z "$last" ]; then
		echo "FAIL $s: ended without its summary line (exit $rc)"
		total_fail=$((total_fail + 1))
		continue
	fi
	p=${last%% passed*}
	f=${last#*, }
	f=${f%% failed}
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL $s: exit $rc with no failed case"
		total_fail=$((total_fail + 1))
	fi
	printf '# %s: %s passed, %s failed in %.1fs\n' "$s" "$p" "$f" "$secs"
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]

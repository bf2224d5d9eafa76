# tests/common.sh -- what the shell suites share (sourced by bash).
#
# NAME
#	common.sh - case lines, the summary line, stopping a process, a free port
# SYNOPSIS
#	. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
# DESCRIPTION
#	ok LABEL prints "ok   LABEL" and counts it in $pass; bad LABEL WHY
#	prints "FAIL LABEL: WHY" (WHY reads "got X, want Y") and counts it in
#	$fail; skip LABEL WHY prints "skip LABEL: WHY" and counts nothing.
#	summary prints "N passed, M failed", the line make check and
#	tests/faults/run.sh look for, and is true when nothing failed.
#
#	stop_pid PID stops a process the calling script started: SIGTERM,
#	up to 10 s for it to exit (libmilter notices SIGTERM only within its
#	5 s poll), then SIGKILL; it reaps the process and is always true.
#	Scripts never stop anything by name.
#
#	free_port prints a loopback TCP port that was free a moment ago
#	(bound and released by the kernel's choice, so concurrent test runs
#	do not collide on a fixed number).
#
#	Sourcing sets pass and fail to 0.

pass=0
fail=0

ok() { printf 'ok   %s\n' "$1"; pass=$((pass + 1)); }
bad() { printf 'FAIL %s: %s\n' "$1" "$2"; fail=$((fail + 1)); }
skip() { printf 'skip %s: %s\n' "$1" "$2"; }

summary() {
	printf '%d passed, %d failed\n' "$pass" "$fail"
	[ "$fail" = 0 ]
}

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

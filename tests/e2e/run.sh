#!/bin/bash
# NAME
#	run.sh - the end-to-end suite: authrelay inside a real Postfix and Dovecot
# SUMMARY
#	AUTHRELAY_BUILD=/abs/build bash tests/e2e/run.sh [SCENARIO...]
# DESCRIPTION
#	Starts one lab (lib.sh: Postfix, Dovecot, smtp-sink and the authrelay
#	daemons, on loopback ports chosen free at start; a lab that cannot
#	work as set up, with a path handed to a user who cannot reach it,
#	stops there with one line: lab-reach.sh), runs the scenario
#	files s[0-9][0-9]-*.sh in order (or only those named, e.g. s30, plus
#	s02-data which sets up the data the others use), one
#	line per case, and ends with "N passed, M failed". Everything started
#	is stopped by PID on exit, also on failure; a failure prints the tail
#	of every log. E2E_KEEP=1 leaves the lab running for a look.
E2E_DIR=$(cd "$(dirname "$0")" && pwd)
. "$E2E_DIR/lib.sh"
. "$E2E_DIR/check.sh"

T0=$(lab_now)
lab_init
lab_start
echo "# lab up in ${LAB_START_SECONDS}s: $LAB (run user $RUN_USER)"

for _scen_file in "$E2E_DIR"/s[0-9][0-9]-*.sh; do
	_scen=$(basename "$_scen_file" .sh)
	# s02-data sets up the admin's rules that the others rely on: always run
	if [ $# -gt 0 ] && [ "${_scen%%-*}" != s02 ]; then
		case " $* " in *" ${_scen%%-*} "* | *" $_scen "*) ;; *) continue ;; esac
	fi
	echo "# $_scen"
	_scen_t0=$(lab_now)
	. "$_scen_file"
	echo "# $_scen took $(lab_elapsed "$_scen_t0")s"
done
# the scenarios rendered more files (s05's daemon.conf, s75's syslog.conf)
check_eq "lab: every path the scenarios handed to another user was reachable" \
	"$(reach_rows_lab | reach_report)" ""

echo "# scenarios took $(lab_elapsed "$T0")s"
check_finish "$T0"

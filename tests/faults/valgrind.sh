#!/bin/bash
# tests/faults/valgrind.sh -- policyd and the milter under valgrind
#
# NAME
#	valgrind.sh - leak and memory-error check of a policyd and a milter run
# SUMMARY
#	AUTHRELAY_BUILD=/abs/build bash tests/faults/valgrind.sh
# DESCRIPTION
#	Each daemon runs under valgrind --leak-check=full --error-exitcode=9
#	with the faults suite's set-up (root: a test run_user), serves
#	granted, unknown and store-error requests (the database removed
#	under it, or PostgreSQL stopped, so the error paths run too), some garbage (policyd), and
#	is stopped with SIGTERM. Wants: exit status 0 (9 is a valgrind
#	error), "definitely lost: 0" and "indirectly lost: 0" or no leak
#	summary at all, and "ERROR SUMMARY: 0 errors". Prints the valgrind
#	numbers it read. About 15 s: run.sh runs it, except with SAN=1
#	(valgrind cannot run AddressSanitizer binaries).
. "$(dirname "$0")/lib.sh"
fault_setup valgrind

command -v valgrind >/dev/null || { skip "valgrind" "not installed"; fault_done; }
make_db || { bad "authrelayctl init" "failed"; fault_done; }
"$CTL" -c "$T/ctl.conf" grant add 127.0.0.20 --ttl 1d >/dev/null 2>&1
conf main

for kind in policyd milter; do
	have "$kind" || { skip "$kind under valgrind" "not built yet"; continue; }
	FAULT_WRAP="valgrind --vgdb=no --leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --error-exitcode=9 --log-file=$T/$kind.valgrind"
	if [ "$kind" = policyd ]; then
		ctype=policy port=$P_POLICY
	else
		ctype=milter port=$P_MILTER
	fi
	: >"$T/vg-$kind.log"
	start "$kind" "vg-$kind" main || { bad "$kind under valgrind" "did not start"; continue; }
	pid=$LAST_PID
	a=$($CLIENT "$ctype" "$port" --ip 127.0.0.20 --n 300 --conns 3 --rcpt-prefix vg-)
	b=$($CLIENT "$ctype" "$port" --ip 127.0.0.99 --n 100 --conns 2 --rcpt-prefix vgno-)
	if [ "$kind" = policyd ]; then
		$CLIENT storm "$port" --ip 127.0.0.20 --idle 50 --seconds 3 --garbage 2 >/dev/null 2>&1
	fi
	# the database gone (PostgreSQL: the server stopped): the error paths
	if [ "$PGSQL" = 1 ]; then
		pg_pause
		c=$($CLIENT "$ctype" "$port" --ip 127.0.0.20 --n 50 --rcpt-prefix vgerr-)
		pg_resume
	else
		mv "$DB" "$DB.away"
		c=$($CLIENT "$ctype" "$port" --ip 127.0.0.20 --n 50 --rcpt-prefix vgerr-)
		mv "$DB.away" "$DB"
	fi
	echo "# $kind: granted [$a]"
	echo "# $kind: unknown [$b]"
	echo "# $kind: database gone [$c]"
	kill -TERM "$pid"
	for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid"
	rc=$?
	f=$T/$kind.valgrind
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -1)
	def=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 bytes in \2 blocks/p' "$f" | tail -1)
	ind=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 bytes in \2 blocks/p' "$f" | tail -1)
	heap=$(sed -n 's/.*total heap usage: \(.*\)/\1/p' "$f" | tail -1)
	echo "# $kind valgrind: exit $rc; errors ${errors:-?}; definitely lost ${def:-none}; indirectly lost ${ind:-none}; heap: $heap"
	if [ "$rc" = 0 ] && [ "${errors:-x}" = 0 ] && { [ -z "$def" ] || [ "${def%% *}" = 0 ]; } &&
		{ [ -z "$ind" ] || [ "${ind%% *}" = 0 ]; }; then
		ok "$kind under valgrind: exit 0, 0 errors, no definite or indirect leak ($heap)"
	else
		bad "$kind under valgrind" "exit $rc, errors ${errors:-?}, definitely lost ${def:-?}, indirectly ${ind:-?}; see $f"
		grep -A12 -m2 'definitely lost in\|Invalid\|uninitialised' "$f" | sed 's/^/#   /' | head -30
	fi
done

fault_done

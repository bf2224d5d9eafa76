# NAME
#	check.sh - got/want reporting for the end-to-end scenarios
# SUMMARY
#	. tests/e2e/check.sh; check_match LABEL GOT REGEX; ...; check_summary
# DESCRIPTION
#	One line per case: "ok   - label" or "FAIL - label: got X, want Y".
#	check_summary prints "N passed, M failed" and returns non-zero on any
#	failure. A scenario whose program is not in this source tree yet is
#	reported "skip" (not counted); when its sources exist but the binary
#	is missing, that is a failure.
#
#	Every relay attempt of the suite uses its own recipient address and
#	records which decision rows it must leave (audit_expect); the audit
#	scenario compares them with the decisions view at the end.

CHECK_PASS=0
CHECK_FAIL=0
CHECK_SKIP=0
CHECK_FAILED=()
AUDIT_WANT=()		# "recipient|program verdict rule;..." per relay attempt

check_ok() {
	CHECK_PASS=$((CHECK_PASS + 1))
	printf 'ok   - %s\n' "$1"
}

# check_bad LABEL GOT WANT
check_bad() {
	CHECK_FAIL=$((CHECK_FAIL + 1))
	CHECK_FAILED+=("$1")
	printf 'FAIL - %s: got "%s", want %s\n' "$1" "$2" "$3"
}

check_skip() {
	CHECK_SKIP=$((CHECK_SKIP + 1))
	printf 'skip - %s (%s)\n' "$1" "$2"
}

# check_match LABEL GOT REGEX: GOT matches the extended REGEX.
check_match() {
	if printf '%s' "$2" | grep -qE -- "$3"; then
		check_ok "$1 [$(printf '%s' "$2" | head -1 | cut -c1-90)]"
	else
		check_bad "$1" "$2" "/$3/"
	fi
}

# check_eq LABEL GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then
		check_ok "$1 [$2]"
	else
		check_bad "$1" "$2" "\"$3\""
	fi
}

# check_le LABEL GOT MAX: numeric GOT <= MAX.
check_le() {
	if [ -n "$2" ] && [ "$(echo "$2 <= $3" | bc)" = 1 ]; then
		check_ok "$1 [$2 <= $3]"
	else
		check_bad "$1" "$2" "<= $3"
	fi
}

# need LABEL PROG...: true when every PROG is built. Otherwise reports the
# scenario as skipped (program not in the tree yet) or failed (sources
# there, binary missing) and returns 1.
need() {
	local label=$1 p
	shift
	for p in "$@"; do
		have_prog "$p" && continue
		if prog_expected "$p"; then
			check_bad "$label" "$p not built" "$BUILD/$p"
		else
			check_skip "$label" "$p not in this tree yet"
		fi
		return 1
	done
	return 0
}

# relay_case LABEL WANT_REGEX AUDIT_ROWS SWAKS_ARGS...: one SMTP session;
# its outcome must match WANT_REGEX; AUDIT_ROWS ("program verdict rule"
# joined by ";", "" for none, "-" for not audited: a recipient that other
# cases share) is what the decisions view must hold for the
# session's message: the rows of its recipient (its --to) and the
# milter's end-of-message row (no recipient; found by the queue id that
# Postfix logged for that recipient). Sets CASE_OUT to the transcript.
relay_case() {
	local label=$1 want=$2 rows=$3 to="" a prev=""
	shift 3
	for a in "$@"; do
		[ "$prev" = --to ] && to=$a
		prev=$a
	done
	CASE_OUT=$(smtp "$@")
	check_match "$label" "$(smtp_outcome "$CASE_OUT")" "$want"
	[ -n "$to" ] && [ "$rows" != - ] && AUDIT_WANT+=("$to|$rows")
}

# pf_queue_id RCPT: the queue id Postfix logged for a message to RCPT
# (delivered, deferred or refused at end of message), or "".
pf_queue_id() {
	sed -n "s/.* \([0-9A-F]\{6,\}\): .*to=<$1>.*/\1/p" "$LAB/log/postfix.log" | head -1
}

# queue_id TRANSCRIPT: the queue id from "250 2.0.0 Ok: queued as ID".
queue_id() { printf '%s\n' "$1" | sed -n 's/.*Ok: queued as \([0-9A-Z]*\).*/\1/p' | tail -1; }

# wait_for SECONDS COMMAND...: retries COMMAND every 20 ms; true when it
# succeeded within SECONDS. WAITED gets the seconds it took.
wait_for() {
	local limit=$1 t0 i n
	shift
	t0=$(lab_now)
	n=$((limit * 50))
	for i in $(seq 1 "$n"); do
		if "$@"; then
			WAITED=$(lab_elapsed "$t0")
			return 0
		fi
		sleep 0.02
	done
	WAITED=$(lab_elapsed "$t0")
	return 1
}

# check_finish T0: the end of a lab suite: stops everything before the
# summary (unless E2E_KEEP=1), so that what the daemons print on their way
# out (sanitizer and leak reports under SAN=1) is checked too, then the
# closing lines; non-zero when a case failed.
check_finish() {
	local t0
	if [ "${E2E_KEEP:-0}" != 1 ]; then
		t0=$(lab_now)
		lab_stop
		echo "# teardown took $(lab_elapsed "$t0")s"
		check_eq "lab: no sanitizer or crash reports in the daemons' logs" \
			"$(grep -lE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|Segmentation fault|double free' \
				"$LAB"/log/*.log 2>/dev/null | xargs -r -n1 basename | paste -sd' ')" ""
	fi
	[ "$CHECK_FAIL" -gt 0 ] && LAB_FAILED=1
	echo "# suite took $(lab_elapsed "$1")s"
	check_summary
}

# check_summary: the closing line; non-zero when a case failed.
check_summary() {
	[ "$CHECK_SKIP" -gt 0 ] && printf '# %d skipped (programs not in this tree yet)\n' "$CHECK_SKIP"
	if [ "$CHECK_FAIL" -gt 0 ]; then
		printf '# failed: %s\n' "${CHECK_FAILED[@]}"
	fi
	echo "$CHECK_PASS passed, $CHECK_FAIL failed"
	[ "$CHECK_FAIL" = 0 ]
}

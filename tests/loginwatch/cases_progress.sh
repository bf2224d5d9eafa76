# cases_progress.sh -- sourced by tests/loginwatch/run.sh: --scan of a
# 300,000-line log under a pseudo-terminal (script -qec) shows a progress
# line that updates in place and ends with the summary; through a pipe only
# the summary; --quiet nothing at all; the per-grant lines only with -v.
# Uses run.sh's T, BIN, mkdb, conf_for, stamp, ok, bad.

PDB=$T/progress.db
mkdb "$PDB"
PCONF=$(conf_for "$PDB" /dev/null)
PLOG=$T/progress.log
S=$(stamp)
awk -v s="$S" 'BEGIN { for (i = 0; i < 300000; i++) {
	if (i % 50 == 0) printf "%s mail dovecot: imap-login: Login: user=<u%d@example.org>, method=PLAIN, rip=198.51.%d.%d, lip=192.0.2.1, mpid=%d, TLS, session=<P%d>\n", s, i % 97, int(i / 256) % 256, i % 256, i, i;
	else printf "%s mail postfix/smtpd[7]: connect from unknown[203.0.113.%d]\n", s, i % 256 } }' > "$PLOG"
PSUMMARY='candidates=6000 logins=6000 granted=6000 refused=0 excluded=0 expired=0'

# On a terminal: at least one "\rscan: ... of ..." line, wiped, then the
# summary as the last line; no per-grant line.
script -qec "$BIN -c $PCONF --scan $PLOG" /dev/null > "$T/pty.out" 2>&1; rc=$?
lines=$(tr '\r' '\n' < "$T/pty.out" | grep -c '^scan: .* of [0-9.]* MiB (')
last=$(tr '\r' '\n' < "$T/pty.out" | sed 's/\x1b\[K//g' | grep -v '^$' | tail -1)
if [ "$rc" = 0 ] && [ "$lines" -ge 1 ] && [ "$last" = "$PSUMMARY" ] && ! grep -q 'grant ip=' "$T/pty.out"; then
	ok "--scan on a terminal: $lines progress line(s) in place, then the summary"
else
	bad "--scan on a terminal" "rc=$rc, progress lines $lines, last line '$last' (want '$PSUMMARY'), grant lines $(grep -c 'grant ip=' "$T/pty.out")"
fi

# Through a pipe: the summary only, one line, no carriage return.
"$BIN" -c "$PCONF" --scan "$PLOG" 2>&1 | cat > "$T/pipe.out"
if [ "$(cat "$T/pipe.out")" = "$PSUMMARY" ]; then
	ok "--scan through a pipe: the summary line only"
else
	bad "--scan through a pipe" "got '$(head -c 300 "$T/pipe.out" | cat -v)', want '$PSUMMARY'"
fi

# --progress forces the line through a pipe.
"$BIN" -c "$PCONF" --progress --scan "$PLOG" 2>&1 | cat > "$T/forced.out"
if grep -q $'\rscan: ' "$T/forced.out" && [ "$(tail -1 "$T/forced.out" | sed 's/.*\x1b\[K//')" = "$PSUMMARY" ]; then
	ok "--progress: the line through a pipe too, then the summary"
else
	bad "--progress" "got '$(head -c 300 "$T/forced.out" | cat -v)'"
fi

# --quiet: nothing on success, on a terminal too; the grants are written.
script -qec "$BIN -c $PCONF --quiet --scan $PLOG" /dev/null > "$T/quiet.out" 2>&1; rc=$?
if [ "$rc" = 0 ] && [ ! -s "$T/quiet.out" ]; then
	ok "--quiet on a terminal: prints nothing, exit 0"
else
	bad "--quiet" "rc=$rc, printed '$(head -c 300 "$T/quiet.out" | cat -v)'"
fi

# -v: one grant line per login, as before this change (at debug level).
"$BIN" -c "$PCONF" -v --scan "$PLOG" > "$T/verbose.out" 2>&1
n=$(grep -c 'grant ip=' "$T/verbose.out")
[ "$n" = 6000 ] && ok "-v --scan: one grant line per login (6000)" ||
	bad "-v --scan" "got $n grant lines, want 6000"

# cases_progress.sh -- sourced by tests/ctl/run.sh: prune of 60,000 old
# decision rows under a pseudo-terminal (script -qec) shows a progress
# line in rows that updates in place and ends with the summary; through a
# pipe only the summary; --quiet prints nothing and still prunes.
# Uses run.sh's T, CTL, ok, bad.

db_fresh progress
PDB=$FRESH_DB
PCONF=$T/progress.conf
db_conf "$PCONF" "$PDB" "run_user = nobody" "audit_retention = 30d"
# fill_old N: N decision rows from 1970 (all older than audit_retention)
fill_old() {
	db_sql "$PDB" "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $1)
		INSERT INTO decision_log (ts, program, client_ip, verdict, rule, queue_id)
		SELECT 86400 + i, 'policyd', '192.0.2.' || (i % 250), 'permit', 'grant', 'Q' || i FROM c;"
}
"$CTL" -c "$([ "$PGSQL" = 1 ] && echo "$ICONF" || echo "$PCONF")" --quiet init > "$T/init.out" 2>&1; rc=$?
if [ "$rc" = 0 ] && [ ! -s "$T/init.out" ]; then
	ok "init --quiet: prints nothing, exit 0"
else
	bad "init --quiet" "rc=$rc, printed '$(head -c 300 "$T/init.out")'"
fi
fill_old 60000

script -qec "$CTL -c $PCONF prune" /dev/null > "$T/pty.out" 2>&1; rc=$?
lines=$(tr '\r' '\n' < "$T/pty.out" | grep -c '^prune: [0-9,]* of 60,000 rows (')
last=$(tr '\r' '\n' < "$T/pty.out" | sed 's/\x1b\[K//g' | grep -v '^$' | tail -1)
case $last in "pruned: $PDB (60000 rows older than "*" deleted)") lastok=1 ;; *) lastok=0 ;; esac
if [ "$rc" = 0 ] && [ "$lines" -ge 1 ] && [ "$lastok" = 1 ]; then
	ok "prune on a terminal: $lines progress line(s) in rows, then the summary"
else
	bad "prune on a terminal" "rc=$rc, progress lines $lines, last line '$last'"
fi

fill_old 60000
"$CTL" -c "$PCONF" prune 2>&1 | cat > "$T/pipe.out"
if [ "$(wc -l < "$T/pipe.out")" = 1 ] && ! grep -q $'\r' "$T/pipe.out" &&
	grep -q '^pruned: .*(60000 rows older than' "$T/pipe.out"; then
	ok "prune through a pipe: the summary line only"
else
	bad "prune through a pipe" "got '$(head -c 300 "$T/pipe.out" | cat -v)'"
fi

fill_old 60000
script -qec "$CTL -c $PCONF --quiet prune" /dev/null > "$T/quiet.out" 2>&1; rc=$?
left=$(db_sql "$PDB" "select count(*) from decision_log")
if [ "$rc" = 0 ] && [ ! -s "$T/quiet.out" ] && [ "$left" = 0 ]; then
	ok "prune --quiet on a terminal: prints nothing, exit 0, rows gone"
else
	bad "prune --quiet" "rc=$rc, rows left $left, printed '$(head -c 300 "$T/quiet.out" | cat -v)'"
fi

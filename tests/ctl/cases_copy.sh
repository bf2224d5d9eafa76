# cases_copy.sh -- sourced by tests/ctl/run.sh: authrelayctl copy of a
# SQLite site into a real PostgreSQL 15 (tests/pg.sh, stopped by PID on
# exit, also on failure).
#
# The site is filled the way a real one is: authrelayctl (grants IPv4 and
# IPv6, a revoke, users, sender rights, a certificate), authrelay-
# loginwatch following a Dovecot log (grants with their log lines and
# sessions, and the file's checkpoint on exit), authrelay-policyd -S
# (decision rows), plus decision rows written with sqlite3 whose text holds
# what COPY must escape (tab, newline, backslash, quotes, UTF-8). Then:
# every table compared value by value on both sides ("got X, want Y"),
# the four views and the ready audit queries compared, the refusals
# (non-empty target, wrong schema, a 0644 password file, a password on
# the command line, the daemons' role, a table PostgreSQL lacks), --replace,
# a copy back into SQLite, and the progress line on a terminal, through
# a pipe and with --quiet.
# Uses run.sh's T, CTL, BUILD, ok, bad, skip.

CP=$T/copy
mkdir -p "$CP"
. "$(dirname "${BASH_SOURCE[0]}")/../pg.sh"
if [ "$(id -u)" = 0 ]; then CP_USER=nobody; else CP_USER=$(id -un); fi

# site_sql SQL: sqlite3 on the site's database as its run_user, so that a
# -wal or -shm file it creates is not root's (the daemons, dropped to
# run_user, could not open them then)
site_sql() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$CP_USER" -- sqlite3 -batch "$CP/site.db" "$@"
	else
		sqlite3 -batch "$CP/site.db" "$@"
	fi
}

copy_cases() {
	local sdb=$CP/site.db sconf=$CP/site.conf pgconf=$CP/pg.conf log=$CP/mail.log
	local now stamp lwpid i

	if ! pg_init "$BUILD"; then
		bad "copy: PostgreSQL" "authrelayctl init of the target failed"
		return
	fi
	[ "$(id -u)" = 0 ] && chown "$CP_USER" "$CP"
	cat > "$sconf" <<-EOF
		database = $sdb
		run_user = $CP_USER
		grant_ttl = 1d
		grant_ipv6_prefix = 64
		loginwatch_sources = $log
		loginwatch_pidfile =
		policyd_listen = inet:127.0.0.1:$(free_port)
		sender_login_check = envelope
	EOF
	printf 'database = %s\ndatabase_password_file = %s\n' "$PG_OWNER_CONNINFO" \
		"$PG_OWNER_PASSFILE" > "$pgconf"

	# ---- the site ----
	"$CTL" -c "$sconf" init > /dev/null 2>&1 || { bad "copy: site init" "failed"; return; }
	[ "$(id -u)" = 0 ] && chown "$CP_USER" "$sdb"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=carol-laptop \
		-keyout "$CP/carol.key" -out "$CP/carol.pem" 2>/dev/null
	for args in "grant add 192.0.2.7 --user alice" "grant add 2001:db8:1::5 --user bob" \
		"grant add 192.0.2.99" "grant revoke 192.0.2.99" "user suspend mallory" \
		"sender allow alice alice@example.org" "sender allow alice @example.net" \
		"sender allow bob *" "cert add carol $CP/carol.pem"; do
		set -f	# "*" is a pattern for authrelayctl, not for the shell
		# shellcheck disable=SC2086
		"$CTL" -c "$sconf" $args > /dev/null 2> "$T/err"; rc=$?
		set +f
		[ "$rc" = 0 ] || { bad "copy: site: authrelayctl $args" "$(cat "$T/err")"; return; }
	done
	stamp=$(date '+%b %e %H:%M:%S')
	for i in 1 2 3; do
		echo "$stamp mail dovecot: imap-login: Login: user=<u$i@example.org>, method=PLAIN, rip=198.51.100.$i, lip=127.0.0.1, mpid=$i, TLS, session=<S$i>"
	done > "$log"
	echo "$stamp mail dovecot: pop3-login: Login: user=<v6@example.org>, method=PLAIN, rip=2001:db8:2::9, lip=::1, mpid=9, TLS, session=<S9>" >> "$log"
	"$BUILD/authrelay-loginwatch" -c "$sconf" -f 2> "$CP/lw.log" & lwpid=$!
	for i in $(seq 1 100); do
		[ "$(site_sql "select count(*) from grant_log where event = 'login'" 2>/dev/null)" = 4 ] && break
		sleep 0.1
	done
	stop_pid "$lwpid"
	printf '%s' "request=smtpd_access_policy
protocol_state=RCPT
client_address=198.51.100.1
sender=u1@example.org
recipient=r@example.com
queue_id=AB12

request=smtpd_access_policy
protocol_state=RCPT
client_address=203.0.113.9
sasl_username=mallory
sender=m@example.org
recipient=r@example.com

request=smtpd_access_policy
protocol_state=RCPT
client_address=203.0.113.10
sender=nobody@example.org
recipient=r@example.com

" | "$BUILD/authrelay-policyd" -c "$sconf" -S > "$CP/policy.out" 2> "$CP/policy.err"
	now=$(date +%s)
	site_sql "INSERT INTO decision_log (ts, program, client_ip, sasl_username, sender,
		recipient, verdict, rule, reason, queue_id) VALUES
		($now, 'milter', '192.0.2.50', 'zoë', 'tab	here@example.org', 'r@example.com', 'reject',
		 'sender_mismatch', 'line one' || char(10) || 'line two \\N back\\slash ''quoted'' \"dq\"', NULL),
		($now, 'milter', NULL, NULL, NULL, NULL, 'dunno', NULL, NULL, NULL);"

	local want_counts got_counts t
	want_counts=""
	for t in grants grant_log users sender_rights certs loginwatch_checkpoints decision_log admin_actions; do
		want_counts="$want_counts $t=$(site_sql "select count(*) from $t")"
	done
	case $want_counts in
	*" grants=0"* | *" grant_log=0"* | *" users=0"* | *" sender_rights=0"* | *" certs=0"* | \
	*" loginwatch_checkpoints=0"* | *" decision_log=0"*)
		bad "copy: the site has every kind of row" "counts:$want_counts (loginwatch: $(tail -2 "$CP/lw.log"), policyd: $(cat "$CP/policy.err"))"
		return ;;
	esac
	ok "copy: the site has every kind of row:$want_counts"

	# ---- the copy ----
	"$CTL" -c "$sconf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$PG_OWNER_PASSFILE" \
		> "$CP/copy.out" 2> "$T/err"; rc=$?
	if [ "$rc" != 0 ]; then
		bad "copy: exit status" "got $rc, want 0: $(cat "$T/err")"
		return
	fi
	if grep -q "^copied: $PG_OWNER_CONNINFO ([0-9]* rows from $sdb in " "$CP/copy.out" &&
		grep -q '^decision_log  *[0-9][0-9]*  *[0-9][0-9]*' "$CP/copy.out" &&
		! grep -q DIFFERS "$CP/copy.out"; then
		ok "copy: exit 0, the counts of both sides, then the summary"
	else
		bad "copy: output" "got '$(cat "$CP/copy.out")'"
	fi
	copy_compare "$sdb" "copy"

	# ---- the views and the ready audit queries ----
	local v q sq pq
	for v in active_grants grant_history decisions; do
		sq=$(sqlite3 -batch -separator '|' "$sdb" "select * from $v")
		pq=$(pg_psql "select * from $v")
		if [ "$sq" = "$pq" ] && [ -n "$sq" ]; then
			ok "copy: view $v reads the same on both sides"
		else
			bad "copy: view $v" "got '$(printf '%s' "$pq" | head -c 300)', want '$(printf '%s' "$sq" | head -c 300)'"
		fi
	done
	sq=$(sqlite3 -batch -separator '|' "$sdb" "select * from admin_log")
	pq=$(pg_psql "select * from admin_log")
	if [ "$(printf '%s\n' "$pq" | head -n "$(printf '%s\n' "$sq" | wc -l)")" = "$sq" ] &&
		printf '%s\n' "$pq" | tail -2 | head -1 | grep -q '|init|' &&
		printf '%s\n' "$pq" | tail -1 | grep -q "|copy|$sdb|"; then
		ok "copy: admin_log reads the site's history, then the target's init, then copy"
	else
		bad "copy: admin_log" "got '$(printf '%s' "$pq" | tail -4)', want the site's rows then init then copy"
	fi
	for q in who-relayed grant-origins top-refused sender-mismatches store-errors active-grants rejects-last-hour; do
		"$CTL" -c "$sconf" audit --query "$q" > "$CP/q.sqlite" 2>&1
		"$CTL" -c "$pgconf" audit --query "$q" > "$CP/q.pg" 2>&1
		# The same rows; the order of rows that tie on a query's ORDER BY
		# (top-refused with equal counts) is each engine's own.
		if [ "$(LC_ALL=C sort "$CP/q.sqlite")" = "$(LC_ALL=C sort "$CP/q.pg")" ]; then
			ok "copy: audit --query $q gives the same rows ($(wc -l < "$CP/q.pg") lines)"
		else
			bad "copy: audit --query $q" "got '$(head -c 300 "$CP/q.pg")', want '$(head -c 300 "$CP/q.sqlite")'"
		fi
	done
	"$CTL" -c "$sconf" audit > "$CP/a.sqlite" 2>&1
	"$CTL" -c "$pgconf" audit > "$CP/a.pg" 2>&1
	if cmp -s "$CP/a.sqlite" "$CP/a.pg" && [ "$(wc -l < "$CP/a.pg")" -ge 5 ]; then
		ok "copy: authrelayctl audit lists the same decisions on both"
	else
		bad "copy: authrelayctl audit" "got '$(head -c 300 "$CP/a.pg")', want '$(head -c 300 "$CP/a.sqlite")'"
	fi
	# The sequences continue after the copied ids.
	if "$CTL" -c "$pgconf" grant add 192.0.2.123 --user seq > /dev/null 2> "$T/err"; then
		ok "copy: a new grant on PostgreSQL gets a fresh id (sequences set past the copy)"
	else
		bad "copy: sequences" "grant add after the copy failed: $(cat "$T/err")"
	fi
	pg_psql "DELETE FROM grants WHERE ip = '192.0.2.123'; DELETE FROM grant_log WHERE ip = '192.0.2.123'" >/dev/null

	copy_refusals "$sdb" "$sconf" "$pgconf"
	copy_back "$sdb" "$pgconf"
	copy_progress "$sdb" "$sconf"
	copy_bad_text "$sdb" "$sconf"
}

# copy_rows SIDE TABLE COLUMNS [WHERE] -- every row as hex of each value's
# text ("NULL" for NULL), sorted: comparable across SQLite and PostgreSQL
copy_rows() {
	local side=$1 table=$2 cols=$3 where=${4:-} expr="" c
	for c in $cols; do
		if [ "$side" = pg ]; then
			c="CASE WHEN \"$c\" IS NULL THEN 'NULL' WHEN pg_typeof(\"$c\") = 'bytea'::regtype THEN upper(substr(\"$c\"::text, 3)) ELSE upper(encode(convert_to(\"$c\"::text, 'UTF8'), 'hex')) END"
		else
			c="CASE WHEN \"$c\" IS NULL THEN 'NULL' ELSE hex(\"$c\") END"
		fi
		expr="${expr:+$expr || '|' || }$c"
	done
	if [ "$side" = pg ]; then
		pg_psql "SELECT $expr FROM $table $where" | LC_ALL=C sort
	else
		sqlite3 -batch "$side" "SELECT $expr FROM $table $where" | LC_ALL=C sort
	fi
}

# copy_compare SQLITE LABEL -- every table of SQLITE against PostgreSQL
copy_compare() {
	local sdb=$1 label=$2 t cols want got maxid where
	for t in $(site_sql "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name"); do
		cols=$(site_sql "select name from pragma_table_info('$t')" | tr '\n' ' ')
		if [ "$(pg_psql "select to_regclass('$t') is not null")" != t ]; then
			[ "$(site_sql "select count(*) from $t")" = 0 ] &&
				ok "$label: $t: not on PostgreSQL, and empty on the site" ||
				bad "$label: $t" "rows on the site, no table on PostgreSQL"
			continue
		fi
		where=""
		if [ "$t" = admin_actions ]; then
			maxid=$(site_sql "select max(id) from admin_actions")
			where="WHERE id <= $maxid"
		fi
		want=$(copy_rows "$sdb" "$t" "$cols")
		got=$(copy_rows pg "$t" "$cols" "$where")
		if [ "$got" = "$want" ]; then
			ok "$label: $t: $(printf '%s' "$want" | grep -c .) rows equal, every column ($(echo $cols | tr ' ' ','))"
		else
			bad "$label: $t" "got $(printf '%s\n' "$got" | grep -c .) rows, want $(printf '%s\n' "$want" | grep -c .); first difference: $(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed -n 2,3p | tr '\n' ' ')"
		fi
	done
	want=$(hostname)
	got=$(pg_psql "select distinct host from loginwatch_checkpoints")
	[ "$got" = "$want" ] && ok "$label: checkpoints belong to this host on PostgreSQL" ||
		bad "$label: checkpoint host" "got '$got', want '$want'"
}

# copy_owner_psql SQL -- SQL as the schema's owner
copy_owner_psql() {
	PGPASSWORD=$(cat "$PG_OWNER_PASSFILE") "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
		-p "$PG_PORT" -U authrelay_owner -d authrelay -c "$1" >/dev/null
}

# copy_counts -- what a refused copy must leave as it was
copy_counts() {
	echo "$(pg_psql "select count(*) from admin_actions")/$(pg_psql "select count(*) from decision_log")"
}

# copy_refused LABEL RC PATTERN -- the last run exited RC, said PATTERN on
# stderr, and PostgreSQL holds what it held before ($before)
copy_refused() {
	local after
	after=$(copy_counts)
	if [ "$rc" = "$2" ] && grep -q -- "$3" "$T/err" && [ "$after" = "$before" ]; then
		ok "copy: $1 (exit $2), nothing changed"
	else
		bad "copy: $1" "rc=$rc (want $2), counts $after (want $before), stderr '$(cat "$T/err")' (want '$3')"
	fi
}

# copy_refusals SQLITE SCONF PGCONF -- what copy refuses, and that it
# changed nothing then
copy_refusals() {
	local sdb=$1 sconf=$2 pgconf=$3 before version
	before=$(copy_counts)

	run -c "$sconf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$PG_OWNER_PASSFILE"
	copy_refused "a second copy into the non-empty target is refused" 1 \
		'the target is not empty (rows: grants .*--replace deletes'

	version=$(pg_psql "select max(version) from schema_version")
	copy_owner_psql "UPDATE schema_version SET version = 99"
	run -c "$sconf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$PG_OWNER_PASSFILE" --replace
	copy_owner_psql "UPDATE schema_version SET version = $version"
	copy_refused "a target of another schema version is refused" 69 'schema version 99 is newer'
	run -c "$sconf" copy --to "$CP/never-initialised.db"
	if [ "$rc" = 69 ] && grep -q 'authrelayctl init' "$T/err" && [ ! -e "$CP/never-initialised.db" ]; then
		ok "copy: a target never initialised is refused (exit 69), says run init, nothing created"
	else
		bad "copy: uninitialised target" "rc=$rc (want 69), stderr '$(cat "$T/err")'"
	fi

	cp "$PG_OWNER_PASSFILE" "$CP/open-password"
	chmod 0644 "$CP/open-password"
	run -c "$sconf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$CP/open-password" --replace
	copy_refused "a password file of mode 0644 is refused" 69 \
		'readable by group or others (mode 0644)'
	run -c "$sconf" copy --to "postgresql://authrelay_owner:secret@127.0.0.1:$PG_PORT/authrelay"
	copy_refused "a password inside --to is refused" 64 'holds a password'
	run -c "$sconf" copy --to "$PG_CONNINFO" --to-password-file "$PG_PASSFILE" --replace
	copy_refused "the daemons' role is refused before any row is sent" 69 \
		'role authrelay may not set the sequence'
	cp "$sdb" "$CP/limits.db"
	printf 'database = %s\nrun_user = %s\n' "$CP/limits.db" "$CP_USER" > "$CP/limits.conf"
	"$CTL" -c "$CP/limits.conf" limit set @example.org --recipients 100/1h > /dev/null 2>&1
	run -c "$CP/limits.conf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$PG_OWNER_PASSFILE" --replace
	got=$(pg_psql "select subject || ' ' || kind || ' ' || spec from limit_rules")
	if [ "$rc" = 0 ] && [ "$got" = "@example.org recipients 100/1h" ]; then
		ok "copy: a site's sending limits are copied"
	else
		bad "copy: sending limits" "rc=$rc, limit_rules '$got' (want '@example.org recipients 100/1h'), stderr '$(cat "$T/err")'"
	fi
	# Back to the site without limits, for the cases below.
	run -c "$sconf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$PG_OWNER_PASSFILE" --replace
	before=$(copy_counts)

	# A failure half-way (the last table refuses its rows, after --replace
	# deleted the target's rows and decision_log was loaded): all undone.
	copy_owner_psql "CREATE FUNCTION copy_test_fail() RETURNS trigger LANGUAGE plpgsql AS
		\$\$ BEGIN RAISE EXCEPTION 'planted failure'; END \$\$;
		CREATE TRIGGER copy_test_fail BEFORE INSERT ON admin_actions
		FOR EACH STATEMENT EXECUTE FUNCTION copy_test_fail()"
	run -c "$sconf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$PG_OWNER_PASSFILE" --replace
	copy_owner_psql "DROP TRIGGER copy_test_fail ON admin_actions; DROP FUNCTION copy_test_fail()"
	copy_refused "a failure in the last table undoes the whole copy, --replace's deletes too" 69 \
		'load admin_actions: planted failure'

	run -c "$sconf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$PG_OWNER_PASSFILE" --replace
	if [ "$rc" = 0 ] && grep -q "^admin_actions .*+1 this copy" "$T/out"; then
		ok "copy --replace: exit 0 over the earlier copy"
		copy_compare "$sdb" "copy --replace"
	else
		bad "copy --replace" "rc=$rc, out '$(tail -3 "$T/out")', stderr '$(cat "$T/err")'"
	fi
}

# copy_back SQLITE PGCONF -- PostgreSQL into a new SQLite file: the same
# rows come back
copy_back() {
	local sdb=$1 pgconf=$2 back=$CP/back.db t cols want got
	printf 'database = %s\nrun_user = %s\n' "$back" "$CP_USER" > "$CP/back.conf"
	"$CTL" -c "$CP/back.conf" init > /dev/null 2>&1
	run -c "$pgconf" copy --to "$back"
	if [ "$rc" != 0 ]; then
		bad "copy back into SQLite" "rc=$rc, stderr '$(cat "$T/err")'"
		return
	fi
	for t in grants grant_log users sender_rights certs loginwatch_checkpoints decision_log; do
		cols=$(site_sql "select name from pragma_table_info('$t')" | tr '\n' ' ')
		want=$(copy_rows "$sdb" "$t" "$cols")
		got=$(copy_rows "$back" "$t" "$cols")
		if [ "$got" != "$want" ]; then
			bad "copy back: $t" "got $(printf '%s\n' "$got" | grep -c .) rows, want $(printf '%s\n' "$want" | grep -c .): $(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed -n 2,3p | tr '\n' ' ')"
			return
		fi
	done
	ok "copy back from PostgreSQL into a new SQLite file: every table equals the site's"
}

# copy_progress SQLITE SCONF -- 60,000 more decision rows: the progress
# line on a terminal, the summary only through a pipe, nothing with --quiet
copy_progress() {
	local sdb=$1 sconf=$2 last lines to="--to $PG_OWNER_CONNINFO --to-password-file $PG_OWNER_PASSFILE --replace"
	site_sql "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 60000)
		INSERT INTO decision_log (ts, program, client_ip, verdict, rule, queue_id)
		SELECT 86400 + i, 'policyd', '192.0.2.' || (i % 250), 'permit', 'grant', 'Q' || i FROM c;"
	script -qec "$CTL -c $sconf copy $to" /dev/null > "$CP/pty.out" 2>&1; rc=$?
	lines=$(tr '\r' '\n' < "$CP/pty.out" | grep -c '^copy: [0-9,]* of [0-9,]* rows (')
	last=$(tr '\r' '\n' < "$CP/pty.out" | sed 's/\x1b\[K//g' | grep -v '^$' | tail -1)
	case $last in "copied: $PG_OWNER_CONNINFO ("*" rows from $sdb in "*" rows/s)") lastok=1 ;; *) lastok=0 ;; esac
	if [ "$rc" = 0 ] && [ "$lines" -ge 1 ] && [ "$lastok" = 1 ]; then
		ok "copy on a terminal: $lines progress line(s) in rows, then the summary"
	else
		bad "copy on a terminal" "rc=$rc, progress lines $lines (want >= 1), last line '$last'"
	fi
	# shellcheck disable=SC2086
	"$CTL" -c "$sconf" copy $to 2>&1 | cat > "$CP/pipe.out"
	if ! grep -q $'\r' "$CP/pipe.out" && tail -1 "$CP/pipe.out" | grep -q '^copied: .* rows/s)$' &&
		grep -q '^decision_log ' "$CP/pipe.out"; then
		ok "copy through a pipe: the counts and the summary, no progress line"
	else
		bad "copy through a pipe" "got '$(head -c 400 "$CP/pipe.out" | cat -v)'"
	fi
	# shellcheck disable=SC2086
	"$CTL" -c "$sconf" --progress copy $to 2>&1 | cat > "$CP/forced.out"
	if grep -q $'\rcopy: [0-9,]* of [0-9,]* rows (' "$CP/forced.out" &&
		tail -1 "$CP/forced.out" | grep -q '^copied: .* rows/s)$'; then
		ok "copy --progress: the line through a pipe too, then the summary"
	else
		bad "copy --progress" "got '$(head -c 400 "$CP/forced.out" | cat -v)'"
	fi
	script -qec "$CTL -c $sconf --quiet copy $to" /dev/null > "$CP/quiet.out" 2>&1; rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$CP/quiet.out" ] &&
		[ "$(pg_psql "select count(*) from decision_log")" = "$(site_sql "select count(*) from decision_log")" ]; then
		ok "copy --quiet on a terminal: prints nothing, exit 0, rows copied"
	else
		bad "copy --quiet" "rc=$rc, printed '$(head -c 300 "$CP/quiet.out" | cat -v)'"
	fi
}

# copy_bad_text SQLITE SCONF -- text PostgreSQL cannot store (a byte that
# is not UTF-8, a NUL) arrives with '?' in its place, and is counted
copy_bad_text() {
	local sdb=$1 sconf=$2 got want='bad ? byte and ? nul'
	site_sql "INSERT INTO decision_log (ts, program, verdict, reason)
		VALUES (1, 'milter', 'dunno', CAST('bad ' || x'ff' || ' byte and ' || x'00' || ' nul' AS TEXT))"
	run -c "$sconf" copy --to "$PG_OWNER_CONNINFO" --to-password-file "$PG_OWNER_PASSFILE" --replace
	got=$(pg_psql "select reason from decision_log where ts = 1")
	if [ "$rc" = 0 ] && [ "$got" = "$want" ] &&
		grep -q 'decision_log: 1 text values held bytes that are not UTF-8' "$T/err"; then
		ok "copy: text that is not UTF-8 (or holds NUL) is stored with '?', with a warning"
	else
		bad "copy: bad text" "rc=$rc, got '$got', want '$want'; stderr '$(cat "$T/err")'"
	fi
}

# copy_main -- copy_cases against a PostgreSQL of their own, started and
# stopped here. Under AUTHRELAY_BACKEND=pgsql the suite runs its own
# server too: its variables are kept aside meanwhile and put back, and the
# exit trap stops both, so neither is left running.
COPY_SAVED_PG=
copy_main() {
	COPY_SAVED_PG=$(declare -p PG_DIR PG_PORT PG_CONNINFO PG_PASSFILE PGPASSWORD \
		PG_OWNER_CONNINFO PG_OWNER_PASSFILE PG_AUDIT_CONNINFO PG_AUDIT_PASSWORD 2>/dev/null |
		sed 's/^declare -\([a-z]*\) /declare -g\1 /; s/^declare -- /declare -g /')
	PG_DIR=
	if ! pg_start; then
		if [ "${PG_MISSING:-0}" = 1 ]; then
			skip "copy into PostgreSQL" "PostgreSQL 15 binaries missing in $PG_BIN"
		else
			bad "copy: PostgreSQL" "the server did not start"
		fi
		PG_DIR=
		eval "$COPY_SAVED_PG"
		return
	fi
	trap 'pg_stop >/dev/null 2>&1; PG_DIR=; eval "$COPY_SAVED_PG"; ctl_cleanup' EXIT
	copy_cases
	pg_stop
	PG_DIR=
	eval "$COPY_SAVED_PG"
	trap ctl_cleanup EXIT
}

copy_main

#!/bin/bash
# tests/ctl/run.sh -- authrelayctl against a real database in a temp dir.
#
# Runs the real binary ($AUTHRELAY_BUILD/authrelayctl) and checks what it
# prints, its exit status, and what it left in the database (read back
# with sqlite3, through the audit views of sql/README.md). Prints one line per case and
# "N passed, M failed"; exits non-zero on any failure.
#
# AUTHRELAY_BACKEND=pgsql: the same cases against a private PostgreSQL 15
# (tests/pg.sh, stopped on exit), read back with psql: init runs as the
# schema owner (conf-examples/postgresql/owner.conf), everything else as
# the daemons' role; PostgreSQL's own cases (init migrates an older
# schema, check names the server and the schema version, a database
# without authrelay's schema) replace the SQLite file ones. Each group of cases
# that wants a database of its own (SQLite: a file each) gets the one
# PostgreSQL database emptied (db_fresh).
set -u

BUILD=${AUTHRELAY_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
CTL=$BUILD/authrelayctl
PY=/usr/bin/python3
T=$(mktemp -d /tmp/authrelay-ctl.XXXXXX)
PGSQL=0
[ "${AUTHRELAY_BACKEND:-sqlite}" = pgsql ] && PGSQL=1
# ctl_cleanup: the temporary directory and our PostgreSQL (a cases file
# that needs more on exit calls it from its own trap)
ctl_cleanup() {
	rm -rf "$T"
	[ -n "${PG_DIR:-}" ] && pg_stop
	return 0
}
trap ctl_cleanup EXIT

. "$(dirname "$0")/../common.sh"
# bad LABEL WHY: the shared case line, then the last command's stderr
bad() {
	fail=$((fail + 1))
	echo "FAIL $1: $2"
	[ -s "$T/err" ] && sed 's/^/     stderr: /' "$T/err" | head -5
	return 0
}

[ -x "$CTL" ] || { echo "FAIL no binary $CTL"; echo "0 passed, 1 failed"; exit 1; }

if [ "$PGSQL" = 1 ]; then
	. "$(dirname "$0")/../pg.sh"
	pg_start || { echo "FAIL PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
	# a policyd of cases_status.sh reads it after dropping to nobody
	[ "$(id -u)" = 0 ] && chown nobody "$PG_PASSFILE"
	DB=$PG_CONNINFO
else
	DB=$T/authrelay.db
fi

# db_conf FILE DB [LINE...]: a configuration naming database DB (on
# PostgreSQL with the daemons' password file), then the LINEs
db_conf() {
	local f=$1 db=$2
	shift 2
	{
		printf 'database = %s\n' "$db"
		[ "$PGSQL" = 1 ] && printf 'database_password_file = %s\n' "$PG_PASSFILE"
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} > "$f"
}
# db_sql DB [SQL]: SQL (the argument, or stdin) on DB, rows as sqlite3
# -batch prints them (columns joined by "|"); on PostgreSQL through psql
# as the daemons' role, SQLite's X'..' blob literals turned into bytea
db_sql() {
	if [ "$PGSQL" = 1 ]; then
		if [ $# -gt 1 ]; then
			pg_psql "$2"
		else
			sed "s/X'\([0-9A-Fa-f]*\)'/'\\\\x\1'/g" |
				"$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
					-U authrelay -d authrelay -f -
		fi
	else
		sqlite3 -batch "$@"
	fi
}
# db_fresh NAME: the database for a group of cases, in FRESH_DB: SQLite a
# new file $T/NAME.db (authrelayctl init makes it); PostgreSQL the suite's
# one database with every table emptied
db_fresh() {
	if [ "$PGSQL" = 1 ]; then
		FRESH_DB=$DB
		pg_psql "DELETE FROM grants; DELETE FROM grant_log; DELETE FROM sender_rights;
			DELETE FROM users; DELETE FROM certs; DELETE FROM decision_log;
			DELETE FROM admin_actions; DELETE FROM loginwatch_checkpoints;
			DELETE FROM limit_rules; DELETE FROM limit_counts; DELETE FROM limit_refusals"
	else
		FRESH_DB=$T/$1.db
	fi
}

# db_init CONF: authrelayctl init of CONF's database (PostgreSQL: of the
# suite's database, as its owner), stdout in $T/out, status in $rc
db_init() {
	if [ "$PGSQL" = 1 ]; then run -c "$ICONF" init; else run -c "$1" init; fi
}

CONF=$T/authrelay.conf
db_conf "$CONF" "$DB" "# test configuration" "grant_ipv6_prefix = 64" "audit_retention = 30d"
# init: as the schema owner on PostgreSQL
ICONF=$CONF
if [ "$PGSQL" = 1 ]; then
	ICONF=$T/owner.conf
	printf 'database = %s\ndatabase_password_file = %s\n' "$PG_OWNER_CONNINFO" "$PG_OWNER_PASSFILE" > "$ICONF"
fi

# run ARGS... : runs authrelayctl, stdout in $T/out, stderr in $T/err, status in $rc
run() {
	"$CTL" "$@" > "$T/out" 2> "$T/err"
	rc=$?
}
# expect LABEL RC : checks the last status
expect_rc() {
	if [ "$rc" = "$2" ]; then return 0; fi
	bad "$1" "exit status got $rc, want $2"
	return 1
}
sql() { db_sql "$DB" "$@"; }
# sql_json SQL [DB]: the rows of SQL on DB (default: the suite's) as a
# JSON array of objects
sql_json() {
	if [ "$PGSQL" = 1 ]; then
		pg_psql "SELECT coalesce(json_agg(q), '[]') FROM ($1) q"
	else
		sqlite3 -batch -json "${2:-$DB}" "$1"
	fi
}
ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# ---- missing database: clear error, exit 69, nothing created ----
# (PostgreSQL: a database without authrelay's schema)
# created: the tables in DB's public schema (SQLite: the file exists)
created() {
	if [ "$PGSQL" = 1 ]; then
		[ "$(pg_psql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" != 0 ]
	else
		[ -e "$DB" ]
	fi
}
run -c "$CONF" grant list
if expect_rc "missing database: exit 69" 69; then
	if created; then
		bad "missing database: not recreated" "$DB exists after grant list"
	elif ! grep -q "authrelayctl init" "$T/err"; then
		bad "missing database: clear error" "stderr does not say to run authrelayctl init: $(cat "$T/err")"
	else
		ok "missing database: exit 69, says run init, nothing created"
	fi
fi

# ---- init ----
if [ "$PGSQL" = 1 ]; then
	# the daemons' role may not create tables (conf-examples/postgresql/roles.sql)
	run -c "$CONF" init
	if [ "$rc" = 69 ] && ! created; then
		ok "init as the daemons' role: refused, exit 69, nothing created ($(head -c 120 "$T/err"))"
	else
		bad "init as the daemons' role" "exit $rc, created: $(created && echo yes || echo no), want 69 and nothing"
	fi
fi
run -c "$ICONF" init
if expect_rc "init: exit 0" 0; then
	if [ "$PGSQL" = 1 ]; then
		tables=$(pg_psql "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'" |
			sort | tr '\n' ' ')
		views=$(pg_psql "SELECT count(*) FROM information_schema.views WHERE table_schema = 'public'
			AND table_name IN ('active_grants','grant_history','decisions','admin_log')")
		ntables=$(pg_psql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
	else
		tables=$(sql .tables | tr -s ' \n' '\n\n' | sort | tr '\n' ' ')
		views=$(sql "select count(*) from sqlite_master where type='view' and name in
		             ('active_grants','grant_history','decisions','admin_log')")
		ntables=$(sql "select count(*) from sqlite_master where type='table'")
	fi
	missing=""
	for v in active_grants grant_history decisions admin_log; do
		case " $tables" in *" $v "*) ;; *) missing="$missing $v" ;; esac
	done
	if [ -n "$missing" ] || [ "$views" != 4 ] || [ "$ntables" -lt 4 ]; then
		bad "init: tables and the four views" "missing:$missing views=$views tables=$ntables (.tables: $tables)"
	else
		ok "init: .tables shows $ntables tables and the four views"
	fi
fi
run -c "$ICONF" init
expect_rc "init again: idempotent" 0 && ok "init again: exit 0"

# ---- grant add (IPv6 widened to grant_ipv6_prefix), JSON list = view ----
run -c "$CONF" grant add 2001:db8::1 --user u --ttl 10m
expect_rc "grant add IPv6" 0 && ok "grant add 2001:db8::1 --user u --ttl 10m: exit 0"
run -c "$CONF" --json grant list
cp "$T/out" "$T/grants.json"
sql_json 'select * from active_grants' > "$T/view.json"
if expect_rc "--json grant list" 0; then
	if msg=$("$PY" - "$T/grants.json" "$T/view.json" <<'EOF'
import json, re, sys, datetime
ctl = json.load(open(sys.argv[1]))
view = json.load(open(sys.argv[2]))
iso = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
if len(ctl) != 1:
    sys.exit("got %d grants, want 1: %r" % (len(ctl), ctl))
g = ctl[0]
want = {"ip": "2001:db8::", "prefix_len": 64, "username": "u", "service": "manual"}
for k, v in want.items():
    if g.get(k) != v:
        sys.exit("%s got %r, want %r" % (k, g.get(k), v))
for k in ("first_seen", "last_seen", "expires_at"):
    if not iso.match(g[k]):
        sys.exit("%s got %r, want ISO-8601 UTC" % (k, g[k]))
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
if (t(g["expires_at"]) - t(g["first_seen"])).total_seconds() != 600:
    sys.exit("expires_at - first_seen got %s, want 600 s" % (t(g["expires_at"]) - t(g["first_seen"])))
if view != ctl:
    sys.exit("active_grants view %r differs from --json %r" % (view, ctl))
EOF
	); then
		ok "--json grant list shows 2001:db8::/64 for u, 10 min, same row as active_grants, ISO-8601 UTC"
	else
		bad "--json grant list = active_grants" "$msg"
	fi
fi
run -c "$CONF" grant list
if expect_rc "grant list (text)" 0; then
	if head -1 "$T/out" | grep -q '^ip  *prefix_len  *username' && grep -q '^2001:db8::  *64  *u  *manual' "$T/out"; then
		ok "grant list: text table with header and the row"
	else
		bad "grant list (text)" "got: $(cat "$T/out")"
	fi
fi
run -c "$CONF" grant add ::ffff:192.0.2.7 --user v
if expect_rc "grant add IPv4-mapped" 0; then
	row=$(sql "select ip, prefix_len, username from active_grants where username='v'")
	if [ "$row" = "192.0.2.7|32|v" ]; then
		ok "grant add ::ffff:192.0.2.7: stored as 192.0.2.7/32, default ttl"
	else
		bad "grant add IPv4-mapped" "active_grants got '$row', want '192.0.2.7|32|v'"
	fi
fi
run -c "$CONF" grant revoke 192.0.2.7
if expect_rc "grant revoke" 0; then
	n=$(sql "select count(*) from active_grants where ip='192.0.2.7'")
	[ "$n" = 0 ] && ok "grant revoke 192.0.2.7: gone" || bad "grant revoke" "$n rows left"
fi
run -c "$CONF" grant revoke 192.0.2.7
expect_rc "grant revoke of nothing: exit 1" 1 && ok "grant revoke of nothing: exit 1"

# ---- config errors: FILE:LINE, exit 78 ----
db_conf "$T/typo.conf" "$DB" "" "grant_tll = 10m"
for cmd in check "grant list"; do
	# shellcheck disable=SC2086
	run -c "$T/typo.conf" $cmd
	if expect_rc "typo key ($cmd): exit 78" 78; then
		tline=$(grep -n grant_tll "$T/typo.conf" | cut -d: -f1)
		if grep -q "^$T/typo.conf:$tline: unknown key \"grant_tll\"" "$T/err"; then
			ok "typo key ($cmd): exit 78, $T/typo.conf:$tline: unknown key \"grant_tll\""
		else
			bad "typo key ($cmd): FILE:LINE message" "stderr: $(cat "$T/err")"
		fi
	fi
done
run -c "$T/nonexistent.conf" grant list
expect_rc "-c missing file: exit 78" 78 && ok "-c missing file: exit 78"

# ---- users ----
run -c "$CONF" user suspend alice
expect_rc "user suspend" 0 && ok "user suspend alice: exit 0"
run -c "$CONF" --json user list
got=$("$PY" -c 'import json,sys; print([(u["username"], u["suspended"]) for u in json.load(open(sys.argv[1]))])' "$T/out" 2>&1)
[ "$got" = "[('alice', True)]" ] && ok "--json user list: alice suspended" || bad "user list after suspend" "got $got"
[ "$(sql "select suspended from users where username='alice'" 2>/dev/null || echo '?')" != 0 ] || bad "users table" "alice not suspended in the table"
run -c "$CONF" user resume alice
run -c "$CONF" --json user list
got=$("$PY" -c 'import json,sys; print([(u["username"], u["suspended"]) for u in json.load(open(sys.argv[1]))])' "$T/out" 2>&1)
[ "$got" = "[('alice', False)]" ] && ok "user resume alice: not suspended" || bad "user list after resume" "got $got"

# A name with quotes and a backslash survives the JSON round trip.
run -c "$CONF" user suspend 'we"ird\name'
run -c "$CONF" --json user list
got=$("$PY" -c 'import json,sys; print(sorted(u["username"] for u in json.load(open(sys.argv[1]))))' "$T/out" 2>&1)
[ "$got" = "['alice', 'we\"ird\\\\name']" ] && ok "--json escapes quote and backslash" || bad "--json escaping" "got $got"

# ---- senders ----
run -c "$CONF" sender allow alice @Example.ORG
expect_rc "sender allow @domain" 0 && ok "sender allow alice @Example.ORG"
run -c "$CONF" sender allow alice bob@example.net
run -c "$CONF" sender allow carol '*'
run -c "$CONF" sender list alice
if grep -q '^alice  *@example.org ' "$T/out" && grep -q '^alice  *bob@example.net ' "$T/out" && ! grep -q carol "$T/out"; then
	ok "sender list alice: both patterns, domain lower-cased, not carol's"
else
	bad "sender list alice" "got: $(cat "$T/out")"
fi
run -c "$CONF" --json sender list
n=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$T/out" 2>&1)
[ "$n" = 3 ] && ok "--json sender list: 3 patterns" || bad "--json sender list" "got $n"
run -c "$CONF" sender deny alice bob@example.net
expect_rc "sender deny" 0 && [ "$(sql "select count(*) from sender_rights where username='alice'" 2>/dev/null)" = 1 ] &&
	ok "sender deny alice bob@example.net: one pattern left"
run -c "$CONF" sender deny alice bob@example.net
expect_rc "sender deny of a missing pattern: exit 1" 1 && ok "sender deny of a missing pattern: exit 1"
run -c "$CONF" sender allow alice 'a+tag@example.org'
if expect_rc "sender allow with +tag: exit 64" 64; then
	grep -q 'tag' "$T/err" && ok "sender allow with +tag: exit 64, says why" || bad "sender allow +tag" "$(cat "$T/err")"
fi

# ---- audit ----
now=$(date +%s)
# Inserted in time order, as the daemons write them (audit is newest first).
sql "insert into decision_log (ts, program, client_ip, sasl_username, sender, recipient, verdict, rule, reason, queue_id) values
 ($now - 86400*40, 'policyd', '192.0.2.7', 'alice', 'alice@example.org', 'old@example.com', 'permit', 'sasl', 'old', 'Q4'),
 ($now - 7200,   'milter',  '2001:db8::5', 'bob',  'eve@example.org',  'z@example.com', 'reject', 'sender_mismatch', 'sender address <eve@example.org> not owned by user bob', 'Q3'),
 ($now - 120,    'policyd', '198.51.100.1', NULL,  'm@evil.example',   'y@example.com', 'dunno',  'none', 'no relay rule matched', NULL),
 ($now - 60,     'policyd', '192.0.2.7',  'alice', 'alice@example.org', 'x@example.com', 'permit', 'sasl', 'authenticated as alice', 'Q1')"
audit_case() { # LABEL WANT_RECIPIENTS ARGS...
	local label=$1 want=$2
	shift 2
	run -c "$CONF" --json audit "$@"
	local got
	got=$("$PY" -c 'import json,sys; print(",".join(r["recipient"] for r in json.load(open(sys.argv[1]))))' "$T/out" 2>&1)
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "audit $label: $want"; else bad "audit $label" "rc=$rc got '$got', want '$want'"; fi
}
audit_case "(all, newest first)" "x@example.com,y@example.com,z@example.com,old@example.com"
audit_case "--since 1h" "x@example.com,y@example.com" --since 1h
audit_case "--user alice" "x@example.com,old@example.com" --user alice
audit_case "--ip ::ffff:192.0.2.7 (normalised)" "x@example.com,old@example.com" --ip ::ffff:192.0.2.7
audit_case "--ip 2001:DB8:0::5" "z@example.com" --ip 2001:DB8:0::5
audit_case "--verdict reject" "z@example.com" --verdict reject
audit_case "--user alice --since 1d" "x@example.com" --user alice --since 1d
audit_case "--limit 2" "x@example.com,y@example.com" --limit 2
run -c "$CONF" audit --verdict reject
if [ "$rc" = 0 ] && grep -q '^ts  *program' "$T/out" && grep -q 'sender_mismatch' "$T/out"; then
	ok "audit (text): header and the reject row"
else
	bad "audit (text)" "rc=$rc: $(cat "$T/out")"
fi

# ---- prune: audit_retention = 30d ----
run -c "$CONF" prune
if expect_rc "prune" 0; then
	if [ "$PGSQL" = 1 ]; then
		left=$(sql "select string_agg(queue_id, ',' order by id) from decision_log where queue_id is not null")
	else
		left=$(sql "select group_concat(queue_id) from (select queue_id from decision_log where queue_id is not null order by id)")
	fi
	[ "$left" = "Q3,Q1" ] && ok "prune: the 40-day-old decision is gone, recent ones stay" ||
		bad "prune" "queue ids left '$left', want 'Q3,Q1'"
fi

# ---- admin_log: one row per change, with the actor ----
actions=$(sql "select action from admin_log" | sort | uniq -c | awk '{print $2 " " $3 "=" $1}' | tr '\n' ';')
want_actions="grant add=2;grant revoke=2;init=2;prune=1;sender allow=3;sender deny=1;user resume=1;user suspend=2;"
got_actions=$(echo "$actions" | tr ';' '\n' | sed 's/ =/=/' | sort | tr '\n' ';' | sed 's/^;//')
if [ "$got_actions" = "$want_actions" ]; then
	ok "admin_log: a row per change ($want_actions)"
else
	bad "admin_log rows" "got '$got_actions', want '$want_actions'"
fi
me=$(id -un)
actor=$(SUDO_USER=tester "$CTL" -c "$CONF" user suspend dave >/dev/null 2>&1; sql "select actor from admin_log where subject='dave'")
[ "$actor" = "$me (sudo: tester)" ] && ok "admin_log actor: \"$actor\"" || bad "admin_log actor" "got '$actor', want '$me (sudo: tester)'"
row=$(sql "select ts from admin_log limit 1")
[[ $row =~ $ISO ]] && ok "admin_log ts is ISO-8601 UTC ($row)" || bad "admin_log ts" "got $row"

# ---- bad arguments: exit 64 with usage ----
usage_case() { # LABEL ARGS...
	local label=$1
	shift
	run "$@"
	if [ "$rc" = 64 ] && grep -q '^usage: authrelayctl' "$T/err"; then
		ok "bad arguments ($label): exit 64 with usage"
	else
		bad "bad arguments ($label)" "rc=$rc stderr: $(head -3 "$T/err")"
	fi
}
usage_case "no command" -c "$CONF"
usage_case "unknown command" -c "$CONF" frobnicate
usage_case "grant without verb" -c "$CONF" grant
usage_case "unknown verb" -c "$CONF" grant frob
usage_case "grant add without IP" -c "$CONF" grant add
usage_case "grant add bad IP" -c "$CONF" grant add 2001:db8::1/64
usage_case "grant add bad ttl" -c "$CONF" grant add 192.0.2.1 --ttl 10x
usage_case "grant add --user without value" -c "$CONF" grant add 192.0.2.1 --user
usage_case "unknown option" -c "$CONF" grant list --frob
usage_case "extra argument" -c "$CONF" user suspend a b
usage_case "sender allow one argument" -c "$CONF" sender allow alice
usage_case "audit bad verdict" -c "$CONF" audit --verdict maybe
usage_case "audit bad limit" -c "$CONF" audit --limit -3
usage_case "unknown global option" -x grant list
# Bad arguments are reported even when the database is missing.
usage_case "bad arguments before the database" -c "$T/typo-free.conf" grant add
run -h
[ "$rc" = 0 ] && grep -q 'grant add IP' "$T/out" && ok "-h: exit 0, lists commands" || bad "-h" "rc=$rc"

# ---- check: Postfix hints from a stand-in postconf on PATH ----
mkdir -p "$T/bin"
cat > "$T/bin/postconf" <<EOF
#!/bin/sh
cat "$T/postconf.out"
EOF
chmod +x "$T/bin/postconf"
cat > "$T/postconf.out" <<'EOF'
smtpd_relay_restrictions = permit_mynetworks, check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }, reject_unauth_destination
smtpd_recipient_restrictions =
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_milters =
EOF
PATH="$T/bin:$PATH" run -c "$CONF" check
if [ "$rc" = 0 ] && grep -q '^ok: postfix: smtpd_relay_restrictions asks check_policy_service' "$T/out" &&
	grep -q '^ok: database: .*integrity ok' "$T/out" && ! grep -q '^warning: postfix' "$T/out"; then
	ok "check: config, database, wiring ok"
else
	bad "check (good wiring)" "rc=$rc: $(cat "$T/out")"
fi
cat > "$T/postconf.out" <<'EOF'
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, check_policy_service inet:127.0.0.1:10040
mynetworks = 127.0.0.0/8 10.0.0.0/8
smtpd_milters =
EOF
PATH="$T/bin:$PATH" run -c "$CONF" check
if [ "$rc" = 0 ] && grep -q '^warning: postfix: .*reject_unauth_destination comes before' "$T/out" &&
	grep -q '^warning: postfix: mynetworks contains 10.0.0.0/8' "$T/out"; then
	ok "check: bad wiring gives warnings, exit 0"
else
	bad "check (bad wiring)" "rc=$rc: $(cat "$T/out")"
fi
PATH="$T/bin:$PATH" run -c "$CONF" --json check
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] and d["warnings"] >= 2 else 1)' "$T/out" 2>/dev/null &&
	ok "check --json: parses, ok with warnings" || bad "check --json" "$(cat "$T/out")"
# Sending limits in the database and a main.cf wiring without
# smtpd_data_restrictions: nothing would ever be counted.
cat > "$T/postconf.out" <<'EOF'
smtpd_relay_restrictions = permit_mynetworks, check_policy_service { inet:127.0.0.1:10040, default_action=DUNNO }, reject_unauth_destination
smtpd_data_restrictions =
mynetworks = 127.0.0.0/8
smtpd_milters =
EOF
run -c "$CONF" limit set hintuser --messages 5/1h
PATH="$T/bin:$PATH" run -c "$CONF" check
if [ "$rc" = 0 ] && grep -q '^warning: postfix: sending limits are set (1 limit row in the database) but smtpd_data_restrictions has no check_policy_service inet:127.0.0.1:10040' "$T/out"; then
	ok "check: limits set but not asked at DATA: warning"
else
	bad "check (limits, no DATA wiring)" "rc=$rc: $(grep postfix "$T/out")"
fi
sed -i 's/^smtpd_data_restrictions =.*/smtpd_data_restrictions = check_policy_service inet:127.0.0.1:10040/' "$T/postconf.out"
PATH="$T/bin:$PATH" run -c "$CONF" check
if [ "$rc" = 0 ] && grep -q '^ok: postfix: smtpd_data_restrictions asks check_policy_service inet:127.0.0.1:10040 (sending limits: 1 limit row in the database)' "$T/out" &&
	! grep -q '^warning: postfix' "$T/out"; then
	ok "check: limits set and asked at DATA: ok"
else
	bad "check (limits, DATA wiring)" "rc=$rc: $(grep postfix "$T/out")"
fi
run -c "$CONF" limit clear hintuser
[ "$rc" = 0 ] || bad "limit clear hintuser" "rc=$rc: $(cat "$T/err")"
# A postconf that fails (Postfix installed without a main.cf): its own
# message is quoted in one warning of ours, never printed on its own.
cat > "$T/bin/postconf" <<'EOF'
#!/bin/sh
echo "postconf: fatal: open /etc/postfix/main.cf: No such file or directory" >&2
exit 1
EOF
PATH="$T/bin:$PATH" run -c "$CONF" check
if [ "$rc" = 0 ] && grep -q '^warning: postfix: .*postconf -x failed (exit status 1): postconf: fatal: open /etc/postfix/main.cf' "$T/out" &&
	! grep -q 'postconf: fatal' "$T/err"; then
	ok "check: a failing postconf is one warning that quotes it, nothing on stderr"
else
	bad "check (failing postconf)" "rc=$rc out: $(grep postfix "$T/out") err: $(cat "$T/err")"
fi
run -c "$T/typo.conf" check
[ "$rc" = 78 ] && ok "check with a config error: exit 78" || bad "check config error" "rc=$rc"
if [ "$PGSQL" = 1 ]; then
	. "$(dirname "$0")/cases_pgsql.sh"
else
	printf 'not a database, just text\n' > "$T/junk.db"
	printf 'database = %s\n' "$T/junk.db" > "$T/junk.conf"
	run -c "$T/junk.conf" check
	if [ "$rc" = 69 ] && [ "$(cat "$T/junk.db")" = "not a database, just text" ]; then
		ok "check of a non-database file: exit 69, file untouched"
	else
		bad "check of junk" "rc=$rc"
	fi
fi

. "$(dirname "$0")/cases_cert.sh"
. "$(dirname "$0")/cases_audit_queries.sh"
. "$(dirname "$0")/cases_progress.sh"
. "$(dirname "$0")/cases_status.sh"
. "$(dirname "$0")/cases_report.sh"
. "$(dirname "$0")/cases_limit.sh"
. "$(dirname "$0")/cases_copy.sh"

summary

# tests/ctl/cases_limit.sh -- sourced by run.sh: authrelayctl limit
# list | set | clear | show on a database of its own, with a default in
# the configuration; most specific wins (user, @domain, default). On
# either backend.

db_fresh limits
LDB=$FRESH_DB
db_conf "$T/limits.conf" "$LDB" "limit_recipients = 100/1h, 1000/1d"
lsql() { db_sql "$LDB" "$@"; }
db_init "$T/limits.conf"
expect_rc "limits: init" 0 || true

# limit_case LABEL WANT-RC ARGS...: runs authrelayctl limit ARGS
limit_case() {
	local label=$1 want=$2
	shift 2
	run -c "$T/limits.conf" limit "$@"
	expect_rc "limit $label" "$want" && ok "limit $label: exit $want"
}
limit_case "set a user's recipients" 0 set alice@example.org --recipients 5/1h
limit_case "set a domain's both kinds" 0 set @example.org --recipients '50/1h 500/1d' --messages 20/1h
limit_case "set unlimited" 0 set boss@example.org --recipients unlimited
limit_case "set without a kind" 64 set bob@example.org
limit_case "set none (clear is the verb)" 64 set bob@example.org --messages none
limit_case "set a bad limit" 64 set bob@example.org --messages 10
limit_case "set a control character" 64 set "$(printf 'a\001b')" --messages 1/1h
limit_case "clear what is not there" 1 clear nobody@example.org
grep -q 'has no limit' "$T/err" && ok "limit clear of nothing says why" || bad "limit clear of nothing" "$(cat "$T/err")"

run -c "$T/limits.conf" --json limit list
if "$PY" -c "import json,sys; rows=json.load(open(sys.argv[1])); got=[(r['subject'], r['kind'], r['limit']) for r in rows]; want=[('@example.org','messages','20/1h'),('@example.org','recipients','50/1h, 500/1d'),('alice@example.org','recipients','5/1h'),('boss@example.org','recipients','unlimited')]; assert got == want, got" "$T/out" 2> "$T/pyerr"; then
	ok "limit list: every row, canonical form"
else
	bad "limit list" "$(tail -1 "$T/pyerr")"
fi

# show USER: the windows that apply, where from, and the use now
show_case() { # USER PYTHON-LIST-OF (kind, window, max, used, from)
	run -c "$T/limits.conf" --json limit show "$1"
	if [ "$rc" = 0 ] && "$PY" -c "import json,sys; rows=json.load(open(sys.argv[1])); got=[(r['kind'], r['window'], r['max'], r['used'], r['from']) for r in rows]; want=$2; assert got == want, got" "$T/out" 2> "$T/pyerr"; then
		ok "limit show $1: user, then domain, then default"
	else
		bad "limit show $1" "rc=$rc $(tail -1 "$T/pyerr")"
	fi
}
now=$(date +%s)
b=$((now - now % 225))
lsql "INSERT INTO limit_counts VALUES ('alice@example.org', 'recipients', 3600, $b, 3, 5), ('alice@example.org', 'recipients', 3600, $((b - 7200)), 9, 5)"
show_case alice@example.org "[('recipients','1h',5,3,'database'),('messages','1h',20,0,'database')]"
show_case bob@example.org "[('recipients','1h',50,0,'database'),('recipients','1d',500,0,'database'),('messages','1h',20,0,'database')]"
show_case boss@example.org "[('recipients','unlimited','','','database'),('messages','1h',20,0,'database')]"
show_case carol@example.net "[('recipients','1h',100,0,'default'),('recipients','1d',1000,0,'default'),('messages','none','','','default')]"

# the view agrees with show on what counts
got=$(lsql "SELECT username, kind, \"window\", max, used FROM limit_usage")
[ "$got" = "alice@example.org|recipients|3600|5|3" ] && ok "limit_usage view: $got" ||
	bad "limit_usage view" "got '$got', want 'alice@example.org|recipients|3600|5|3'"

limit_case "clear the domain" 0 clear @example.org
show_case bob@example.org "[('recipients','1h',100,0,'default'),('recipients','1d',1000,0,'default'),('messages','none','','','default')]"
got=$(lsql "SELECT action || ' ' || subject || ' ' || detail FROM admin_actions WHERE action LIKE 'limit%' ORDER BY id" | tr '\n' ';')
want="limit set alice@example.org recipients 5/1h;limit set @example.org recipients 50/1h, 500/1d;limit set @example.org messages 20/1h;limit set boss@example.org recipients unlimited;limit clear @example.org ;"
[ "$got" = "$want" ] && ok "limit changes are in admin_log" || bad "limit admin_log" "got '$got', want '$want'"

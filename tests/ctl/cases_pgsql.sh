# tests/ctl/cases_pgsql.sh -- sourced by run.sh with AUTHRELAY_BACKEND=pgsql:
# what only PostgreSQL has. check names the server's version and the
# schema version; a database that is not authrelay's is refused and left
# alone (the SQLite suite's "not a database" file); init migrates a
# database made by an older authrelay (schema version 1: the first file
# of sql/pgsql) to the version of this build, as its owner. The spare
# databases are made by the superuser, over the server's own socket.
# Uses run.sh's T, CTL, PG_*, run, ok, bad.

# su_psql DBNAME SQL: SQL as the superuser postgres
su_psql() {
	pg_as_owner "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_DIR/run" -p "$PG_PORT" \
		-U postgres -d "$1" -c "$2"
}
pg_latest=$(ls "$(dirname "$0")"/../../sql/pgsql/[0-9][0-9][0-9]-*.sql | wc -l)

# ---- check: the server and the schema version ----
run -c "$CONF" check
server=$(su_psql postgres "SHOW server_version" | cut -d' ' -f1)
if [ "$rc" = 0 ] && grep -q "^ok: database: .*: schema version $pg_latest (this build: $pg_latest)$" "$T/out" &&
	grep -q "^ok: database: .*: integrity ok, PostgreSQL $server on 127.0.0.1:$PG_PORT$" "$T/out"; then
	ok "check names PostgreSQL $server and schema version $pg_latest (this build: $pg_latest)"
else
	bad "check on PostgreSQL" "rc=$rc: $(grep database "$T/out"), want schema version $pg_latest and PostgreSQL $server"
fi

# ---- a database without authrelay's schema: refused, left alone ----
printf 'database = postgresql://authrelay@127.0.0.1:%s/postgres\ndatabase_password_file = %s\n' \
	"$PG_PORT" "$PG_PASSFILE" > "$T/other.conf"
before=$(su_psql postgres "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
run -c "$T/other.conf" check
after=$(su_psql postgres "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$rc" = 69 ] && grep -q 'has no authrelay schema (run authrelayctl init)' "$T/err" && [ "$before" = "$after" ]; then
	ok "check of a database that is not authrelay's: exit 69, says run init, nothing created"
else
	bad "check of another database" "rc=$rc, tables $before -> $after, stderr $(head -c 200 "$T/err")"
fi

# ---- init as the daemons' role: refused, and says which role ----
su_psql postgres "CREATE DATABASE authrelay_norights OWNER authrelay_owner" >/dev/null
su_psql authrelay_norights "REVOKE CREATE ON SCHEMA public FROM PUBLIC" >/dev/null
printf 'database = postgresql://authrelay@127.0.0.1:%s/authrelay_norights\ndatabase_password_file = %s\n' \
	"$PG_PORT" "$PG_PASSFILE" > "$T/norights.conf"
run -c "$T/norights.conf" init
tables=$(su_psql authrelay_norights "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$rc" = 69 ] && grep -q 'permission denied' "$T/err" &&
	grep -q 'run it as the role that owns the schema' "$T/err" && [ "$tables" = 0 ]; then
	ok "init as the daemons' role: exit 69, names the owner role, nothing created"
else
	bad "init as the daemons' role" "rc=$rc tables=$tables: $(head -c 300 "$T/err")"
fi
su_psql postgres "DROP DATABASE authrelay_norights" >/dev/null

# ---- init migrates an older schema ----
su_psql postgres "CREATE DATABASE authrelay_v1 OWNER authrelay_owner" >/dev/null
old_conninfo=postgresql://authrelay_owner@127.0.0.1:$PG_PORT/authrelay_v1
printf 'database = %s\ndatabase_password_file = %s\n' "$old_conninfo" "$PG_OWNER_PASSFILE" > "$T/v1.conf"
{
	cat "$(dirname "$0")/../../sql/pgsql/001-schema.sql"
	echo "UPDATE schema_version SET version = 1;"
} | PGPASSWORD=$(cat "$PG_OWNER_PASSFILE") "$PG_BIN/psql" -X -q -1 -v ON_ERROR_STOP=1 \
	-h 127.0.0.1 -p "$PG_PORT" -U authrelay_owner -d authrelay_v1 -f - > "$T/v1.out" 2>&1 ||
	bad "a schema version 1 database" "psql: $(head -c 300 "$T/v1.out")"
v1_sql() { su_psql authrelay_v1 "$1"; }
v1_sql "INSERT INTO grant_log (event, ip, prefix_len, username, login_time) VALUES ('manual', '192.0.2.9', 32, 'kept', 1)"
run -c "$T/v1.conf" init
version=$(v1_sql "SELECT version FROM schema_version")
session=$(v1_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'grant_log' AND column_name = 'session'")
kept=$(v1_sql "SELECT username FROM grant_history")
if [ "$rc" = 0 ] && [ "$version" = "$pg_latest" ] && [ "$session" = 1 ] && [ "$kept" = kept ] &&
	grep -q "applied schema migration 002-" "$T/out" "$T/err"; then
	ok "init migrates schema version 1 to $pg_latest (grant_log.session added, rows kept): $(grep -h -o 'applied schema migration 002-[a-z-]*' "$T/out" "$T/err")"
else
	bad "init of a version 1 database" "rc=$rc version=$version session column=$session rows='$kept': $(cat "$T/out" "$T/err" | head -3)"
fi
su_psql postgres "DROP DATABASE authrelay_v1" >/dev/null

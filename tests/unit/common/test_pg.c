/*
 * NAME
 *	test_pg 3
 * SUMMARY
 *	a private PostgreSQL 15 server for the store's unit tests
 * DESCRIPTION
 *	See test_pg.h. The server is tests/pg.sh's, the same as the
 *	suites' (AUTHRELAY_BACKEND=pgsql).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "test_pg.h"

struct test_pg test_pg;

#define PG_INITDB "/usr/lib/postgresql/15/bin/initdb"

/* test_pg_script - one verb of tests/pg.sh on this server */
int test_pg_script(const char *verb)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "bash tests/pg.sh %s %s", verb, test_pg.dir);
	return system(cmd);
}

/* read_env - DIR/env's NAME=value lines */
static int read_env(void)
{
	char path[128], line[480];
	FILE *fp;

	snprintf(path, sizeof path, "%s/env", test_pg.dir);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "PG_CONNINFO=", 12) == 0)
			snprintf(test_pg.conninfo, sizeof test_pg.conninfo, "%s", line + 12);
		else if (strncmp(line, "PG_PASSFILE=", 12) == 0)
			snprintf(test_pg.passfile, sizeof test_pg.passfile, "%s", line + 12);
		else if (strncmp(line, "PG_OWNER_CONNINFO=", 18) == 0)
			snprintf(test_pg.owner_conninfo, sizeof test_pg.owner_conninfo, "%s",
				 line + 18);
		else if (strncmp(line, "PG_OWNER_PASSFILE=", 18) == 0)
			snprintf(test_pg.owner_passfile, sizeof test_pg.owner_passfile, "%s",
				 line + 18);
		else if (strncmp(line, "PG_PORT=", 8) == 0)
			test_pg.port = atoi(line + 8);
	}
	fclose(fp);
	return test_pg.conninfo[0] != '\0' && test_pg.passfile[0] != '\0' ? 0 : -1;
}

/* test_pg_start - a fresh server with the schema */
int test_pg_start(const char *name)
{
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 5000,
				     .program = "test" };
	struct store *store = NULL;
	char *error = NULL;

	if (access(PG_INITDB, X_OK) != 0)
		return 1;
	snprintf(test_pg.dir, sizeof test_pg.dir, "/tmp/%s.XXXXXX", name);
	if (mkdtemp(test_pg.dir) == NULL || test_pg_script("start") != 0 || read_env() < 0) {
		printf("%s: FAIL: the PostgreSQL server did not start (tests/pg.sh)\n", name);
		test_pg_script("stop");
		return -1;
	}
	/* authrelayctl init's part, as the schema's owner (roles.sql). */
	opts.password_file = test_pg.owner_passfile;
	if (store_open(test_pg.owner_conninfo, &opts, &store, &error) < 0) {
		printf("%s: FAIL: init: %s\n", name, error);
		free(error);
		test_pg_script("stop");
		return -1;
	}
	store_close(&store, 0);
	return 0;
}

void test_pg_stop(void)
{
	test_pg_script("stop");
}

/* test_pg_session - another host's connection, straight through libpq */
PGconn *test_pg_session(const char *role, const char *pwfile)
{
	char pw[128] = "", port[16];
	FILE *fp = fopen(pwfile, "r");
	const char *keys[] = { "host", "port", "dbname", "user", "password", NULL };
	const char *vals[] = { "127.0.0.1", port, "authrelay", role, pw, NULL };
	PGconn *conn;

	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(pw, sizeof pw, fp));
	fclose(fp);
	pw[strcspn(pw, "\n")] = '\0';
	snprintf(port, sizeof port, "%d", test_pg.port);
	conn = PQconnectdbParams(keys, vals, 0);
	ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "other session: %s", PQerrorMessage(conn));
	return conn;
}

void test_pg_sql(const char *text)
{
	test_pg_sql_as(test_pg_session("authrelay", test_pg.passfile), text);
}

/* test_pg_sql_as - text on conn, then conn closed */
void test_pg_sql_as(PGconn *conn, const char *text)
{
	PGresult *res;

	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	res = PQexec(conn, text);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK
			      || PQresultStatus(res) == PGRES_TUPLES_OK,
		      "%s: %s", text, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(conn);
}

long long test_pg_int(const char *text)
{
	PGconn *conn = test_pg_session("authrelay", test_pg.passfile);
	PGresult *res = PQexec(conn, text);
	long long v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", text,
		      PQresultErrorMessage(res));
	v = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return v;
}

void test_pg_empty(void)
{
	/* The daemons' role may delete rows, not truncate. */
	test_pg_sql("DELETE FROM grants; DELETE FROM grant_log; DELETE FROM sender_rights; "
		    "DELETE FROM users; DELETE FROM certs; DELETE FROM decision_log; "
		    "DELETE FROM admin_actions; DELETE FROM loginwatch_checkpoints");
}

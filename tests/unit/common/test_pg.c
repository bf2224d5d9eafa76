/*
 * NAME
 *	test_pg 3
 * SUMMARY
 *	a private PostgreSQL 15 server for the unit tests of the store
 * SYNOPSIS
 *	#include "test_pg.h"
 * DESCRIPTION
 *	See test_pg.h. tests/pg.sh does the work; its "start DIR" writes
 *	DIR/env, read here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "test_pg.h"

struct test_pg test_pg;

int test_pg_script(const char *verb)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "bash tests/pg.sh %s %s", verb, test_pg.dir);
	return system(cmd);
}

/* read_env - the variables tests/pg.sh wrote */
static int read_env(void)
{
	static const struct {
		const char *name;
		char *value;
	} vars[] = { { "PG_CONNINFO=", test_pg.conninfo },
		     { "PG_PASSFILE=", test_pg.passfile },
		     { "PG_OWNER_CONNINFO=", test_pg.owner_conninfo },
		     { "PG_OWNER_PASSFILE=", test_pg.owner_passfile } };
	char path[128], line[600];
	FILE *fp;

	snprintf(path, sizeof path, "%s/env", test_pg.dir);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
			if (strncmp(line, vars[i].name, strlen(vars[i].name)) == 0)
				snprintf(vars[i].value, 512, "%s", line + strlen(vars[i].name));
		if (strncmp(line, "PG_PORT=", 8) == 0)
			test_pg.port = atoi(line + 8);
	}
	fclose(fp);
	return test_pg.conninfo[0] != '\0' && test_pg.passfile[0] != '\0' ? 0 : -1;
}

int test_pg_start(const char *name)
{
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 5000,
				     .program = "test" };
	struct store *store = NULL;
	char *error = NULL;

	if (access("/usr/lib/postgresql/15/bin/initdb", X_OK) != 0) {
		printf("%s: skipped on PostgreSQL: PostgreSQL 15 is not installed "
		       "(/usr/lib/postgresql/15/bin/initdb; make deps installs postgresql-15)\n",
		       name);
		return 0;
	}
	snprintf(test_pg.dir, sizeof test_pg.dir, "/tmp/%s.XXXXXX", name);
	if (mkdtemp(test_pg.dir) == NULL || test_pg_script("start") != 0 || read_env() < 0) {
		printf("%s: FAIL: the PostgreSQL server did not start (tests/pg.sh)\n", name);
		test_pg_stop();
		return -1;
	}
	/* authrelayctl init's part, as the schema's owner (roles.sql). */
	opts.password_file = test_pg.owner_passfile;
	if (store_open(test_pg.owner_conninfo, &opts, &store, &error) < 0) {
		printf("%s: FAIL: init: %s\n", name, error);
		free(error);
		test_pg_stop();
		return -1;
	}
	store_close(&store, 0);
	return 1;
}

void test_pg_stop(void)
{
	if (test_pg.dir[0] != '\0')
		test_pg_script("stop");
}

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

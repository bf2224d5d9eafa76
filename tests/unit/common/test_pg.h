/*
 * NAME
 *	test_pg 3h
 * SUMMARY
 *	a private PostgreSQL 15 server for the store's unit tests
 * DESCRIPTION
 *	For the Check suites that run the store against PostgreSQL
 *	(check_store_contract, check_store_pgsql). test_pg_start() runs
 *	"bash tests/pg.sh start DIR" (from the top of the tree, as make
 *	does), reads DIR/env, and creates the schema as its owner would
 *	(authrelayctl init's part); test_pg_stop() stops it by PID and
 *	removes DIR. A second libpq session (test_pg_sql(), test_pg_int())
 *	stands for another host or an admin's psql. Every failure inside a
 *	test aborts it with PostgreSQL's own message.
 */
#ifndef AUTHRELAY_TEST_PG_H
#define AUTHRELAY_TEST_PG_H

#include <libpq-fe.h>

struct test_pg {
	char dir[64];
	char conninfo[512], passfile[512];		/* the daemons' role */
	char owner_conninfo[512], owner_passfile[512];	/* the schema's owner */
	int port;
};

/* The server of this process, once started. */
extern struct test_pg test_pg;

/* Starts the server and creates the schema. Returns 0; 1 when
   PostgreSQL 15 is not installed (the caller says so and skips: make
   deps installs it); -1 when it did not start (the reason printed,
   prefixed with name, and the server stopped again). */
int test_pg_start(const char *name);

/* bash tests/pg.sh VERB DIR: "pause", "resume" or "stop". Returns its
   exit status. */
int test_pg_script(const char *verb);

/* Stops the server and removes its directory. */
void test_pg_stop(void);

/* A new libpq connection as role with the password in pwfile. */
PGconn *test_pg_session(const char *role, const char *pwfile);

/* SQL as the daemons' role on a fresh connection: runs text (any
   statements); the first column of the first row as a number. */
void test_pg_sql(const char *text);
/* The same on conn (a test_pg_session() of another role), which it closes. */
void test_pg_sql_as(PGconn *conn, const char *text);
long long test_pg_int(const char *text);

/* Deletes every row the tests write, so each test starts empty. */
void test_pg_empty(void);

#endif

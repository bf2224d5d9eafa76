/*
 * NAME
 *	test_pg 3h
 * SUMMARY
 *	a private PostgreSQL 15 server for the unit tests of the store
 * DESCRIPTION
 *	For the Check suites that run the store's contract against
 *	PostgreSQL: test_pg_start() starts a throw-away server with
 *	tests/pg.sh (the suites run from the top of the tree, as make does)
 *	and creates the schema as its owner would (authrelayctl init's
 *	part); test_pg_stop() stops it by its PID and removes it. Between
 *	the two, test_pg holds how to reach it. test_pg_session() is a
 *	second libpq session ("another host", an admin's psql), whose
 *	failures abort the test.
 */
#ifndef AUTHRELAY_TEST_PG_H
#define AUTHRELAY_TEST_PG_H

#include <libpq-fe.h>

struct test_pg {
	char dir[64];			/* tests/pg.sh's directory */
	char conninfo[512], passfile[512];	/* the daemons' role */
	char owner_conninfo[512], owner_passfile[512];	/* the schema owner */
	int port;
};
extern struct test_pg test_pg;

/* 1: the server runs and has the schema; 0: PostgreSQL 15 is not
   installed (a message says so: the caller skips); -1: it did not
   start (a message says why: the caller fails). name prefixes the
   messages and the directory. */
int test_pg_start(const char *name);

/* Runs "bash tests/pg.sh VERB DIR" (pause, resume, stop); its status. */
int test_pg_script(const char *verb);

/* Stops the server and removes its directory. */
void test_pg_stop(void);

/* A libpq session as role ("authrelay" or "authrelay_owner") with the
   password in pwfile. */
PGconn *test_pg_session(const char *role, const char *pwfile);

#endif

/*
 * NAME
 *	test_sqlite 3h
 * SUMMARY
 *	a raw sqlite3 handle for unit tests of the store
 * DESCRIPTION
 *	A second handle on the database under test plays "another program"
 *	or the admin's sqlite3 shell: it inspects what the store wrote,
 *	holds locks, plants foreign or broken schemas. Every failure aborts
 *	the test with SQLite's own message.
 */
#ifndef AUTHRELAY_TEST_SQLITE_H
#define AUTHRELAY_TEST_SQLITE_H

#include <sqlite3.h>

/* Opens path (creating it, as sqlite3_open() does) with busy_ms of busy
   timeout. The caller closes it with sqlite3_close(). */
sqlite3 *test_sqlite_open(const char *path, int busy_ms);

/* Runs one or more SQL statements. */
void test_sqlite_exec(sqlite3 *db, const char *sql);

/* The first column of the first row as an integer; -1 when there is no
   row (a NULL reads as 0). */
long long test_sqlite_int(sqlite3 *db, const char *sql);

#endif

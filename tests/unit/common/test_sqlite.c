/*
 * NAME
 *	test_sqlite 3
 * SUMMARY
 *	a raw sqlite3 handle for unit tests of the store
 * SYNOPSIS
 *	#include "test_sqlite.h"
 * DESCRIPTION
 *	See test_sqlite.h.
 */
#include <check.h>

#include "test_sqlite.h"

/* test_sqlite_open - a plain handle with a busy timeout */
sqlite3 *test_sqlite_open(const char *path, int busy_ms)
{
	sqlite3 *db = NULL;

	ck_assert_msg(sqlite3_open(path, &db) == SQLITE_OK, "sqlite3_open(%s): %s", path,
		      db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_busy_timeout(db, busy_ms);
	return db;
}

/* test_sqlite_exec - run SQL, abort the test on an error */
void test_sqlite_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK, "%s: %s", sql, err);
}

/* test_sqlite_int - one integer from SQL */
long long test_sqlite_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	long long v = -1;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
		      sqlite3_errmsg(db));
	if (sqlite3_step(stmt) == SQLITE_ROW)
		v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

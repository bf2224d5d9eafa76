/*
 * NAME
 *	test_tmpdir 3h
 * SUMMARY
 *	a private temporary directory for one unit test, removed whole
 * DESCRIPTION
 *	For the Check suites under tests/unit (linked into every one of
 *	them). Typical use, as a checked fixture (run in each test's own
 *	process):
 *
 *	    static const char *dir;
 *	    static void setup(void) { dir = test_tmpdir_create("check_x"); }
 *	    tcase_add_checked_fixture(tc, setup, test_tmpdir_remove);
 */
#ifndef AUTHRELAY_TEST_TMPDIR_H
#define AUTHRELAY_TEST_TMPDIR_H

/* Makes a fresh directory /tmp/NAME.XXXXXX (mode 0700) and returns its
   path, valid until test_tmpdir_remove(). Aborts the test when it cannot.
   One directory at a time per process: a second call forgets the first
   (which then stays behind). */
const char *test_tmpdir_create(const char *name);

/* Removes the directory made by test_tmpdir_create() and everything below
   it: a database with its -wal, -shm and -journal files, sockets,
   sub-directories. Never follows a symbolic link. Does nothing when there
   is no directory. What cannot be removed is reported on stderr; the test
   does not fail for it. */
void test_tmpdir_remove(void);

#endif

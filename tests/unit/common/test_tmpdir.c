/*
 * NAME
 *	test_tmpdir 3
 * SUMMARY
 *	a private temporary directory for one unit test, removed whole
 * SYNOPSIS
 *	#include "test_tmpdir.h"
 * DESCRIPTION
 *	Removal walks the tree depth first with nftw(3) and FTW_PHYS, so a
 *	link planted by a test is removed, not followed; no shell is run
 *	(the suites used to call "rm -rf" through system(3)).
 *
 *	A checked fixture's teardown does not run when its test fails:
 *	Check ends the forked test process at the failed assertion with
 *	_exit(2). So each directory's name carries the pid of the test
 *	program's main process, and that process removes what is left under
 *	its pid when it exits.
 */
#include <check.h>
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_tmpdir.h"

static char test_tmpdir[128];
static pid_t test_tmpdir_main;	/* the test program's main process */

/* test_tmpdir_create - mkdtemp under /tmp */
const char *test_tmpdir_create(const char *name)
{
	int n = snprintf(test_tmpdir, sizeof test_tmpdir, "/tmp/%s.%ld.XXXXXX", name,
			 (long)test_tmpdir_main);

	ck_assert_msg(n > 0 && (size_t)n < sizeof test_tmpdir, "tmpdir name \"%s\" too long",
		      name);
	ck_assert_msg(mkdtemp(test_tmpdir) != NULL, "mkdtemp(%s) failed", test_tmpdir);
	return test_tmpdir;
}

/* test_tmpdir_unlink - one entry, children first */
static int test_tmpdir_unlink(const char *path, const struct stat *st, int type,
			      struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "test_tmpdir: could not remove %s\n", path);
	return 0;
}

/* test_tmpdir_remove - the directory and all below it */
void test_tmpdir_remove(void)
{
	if (test_tmpdir[0] == 0)
		return;
	if (nftw(test_tmpdir, test_tmpdir_unlink, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "test_tmpdir: could not walk %s\n", test_tmpdir);
	test_tmpdir[0] = 0;
}

/* test_tmpdir_leftovers - at the main process's exit: the directories of
   its failed tests */
static void test_tmpdir_leftovers(void)
{
	char pattern[64];
	glob_t g;

	if (getpid() != test_tmpdir_main)
		return;		/* a child that exit(3)s */
	snprintf(pattern, sizeof pattern, "/tmp/*.%ld.??????", (long)test_tmpdir_main);
	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		(void)nftw(g.gl_pathv[i], test_tmpdir_unlink, 16, FTW_DEPTH | FTW_PHYS);
	globfree(&g);
}

__attribute__((constructor)) static void test_tmpdir_init(void)
{
	test_tmpdir_main = getpid();
	atexit(test_tmpdir_leftovers);
}

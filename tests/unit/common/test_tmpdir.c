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
 */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_tmpdir.h"

static char test_tmpdir[128];

/* test_tmpdir_create - mkdtemp under /tmp */
const char *test_tmpdir_create(const char *name)
{
	int n = snprintf(test_tmpdir, sizeof test_tmpdir, "/tmp/%s.XXXXXX", name);

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

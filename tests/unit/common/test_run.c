/*
 * NAME
 *	test_run 3
 * SUMMARY
 *	run a Check suite, the exit status of a test program
 * SYNOPSIS
 *	#include "test_run.h"
 */
#include <stdlib.h>

#include "test_run.h"

int test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

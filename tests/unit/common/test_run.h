/*
 * NAME
 *	test_run 3h
 * SUMMARY
 *	run a Check suite, the exit status of a test program
 * DESCRIPTION
 *	The end of every check_*.c main(): runs s (CK_NORMAL output), frees
 *	the runner, and returns EXIT_SUCCESS when no test failed, else
 *	EXIT_FAILURE.
 */
#ifndef AUTHRELAY_TEST_RUN_H
#define AUTHRELAY_TEST_RUN_H

#include <check.h>

int test_run(Suite *s);

#endif

/*
 * NAME
 *	error_r 3
 * SUMMARY
 *	the one setter of an *error_r output parameter
 * SYNOPSIS
 *	#include "error_r.h"
 * DESCRIPTION
 *	See error_r.h for the contract (NULL error_r, out of memory,
 *	ownership). vasprintf(3) leaves its output undefined when it fails,
 *	hence the explicit NULL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "error_r.h"

/* error_r_set - a malloc'd message into *error_r; returns -1 */
int error_r_set(char **error_r, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;
	char *msg;

	if (error_r == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	*error_r = msg;
	errno = saved_errno;
	return -1;
}

/*
 * NAME
 *	error_r 3
 * SUMMARY
 *	a malloc'd error message for an *error_r output parameter
 * DESCRIPTION
 *	See error_r.h. Shared by the certificate and self-test modules.
 */
#include <stdarg.h>
#include <stdio.h>

#include "error_r.h"

void error_r_set(char **error_r, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	*error_r = msg;
}

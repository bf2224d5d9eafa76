/*
 * NAME
 *	error_r 3h
 * SUMMARY
 *	the one setter of an *error_r output parameter
 * DESCRIPTION
 *	Functions that can fail return -1 and explain why in a char **error_r
 *	parameter. This module is the only place that fills one, so every
 *	module treats a NULL error_r, a failed allocation and ownership the
 *	same way.
 */
#ifndef AUTHRELAY_ERROR_R_H
#define AUTHRELAY_ERROR_R_H

/* Formats fmt and its arguments as printf(3) does and stores the result in
   *error_r, then returns -1, so that error paths read
   "return error_r_set(error_r, ...);".

   - error_r NULL: the caller does not want a message; nothing is formatted
     or stored, and -1 is still returned.
   - Out of memory: *error_r is set to NULL; callers print a fallback
     ("out of memory" or their own context) when they find NULL.
   - Ownership: the message is malloc'd and belongs to the caller, who
     frees it with free(). A previous value of *error_r is overwritten,
     not freed: set an error_r once per failure.
   - errno is kept as it was on entry, so a caller may still report it. */
int error_r_set(char **error_r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

/*
 * NAME
 *	error_r 3h
 * SUMMARY
 *	a malloc'd error message for an *error_r output parameter
 */
#ifndef AUTHRELAY_CTL_ERROR_R_H
#define AUTHRELAY_CTL_ERROR_R_H

/* Sets *error_r to a malloc'd printf-style message (NULL when out of
   memory; callers print a fallback then). */
void error_r_set(char **error_r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

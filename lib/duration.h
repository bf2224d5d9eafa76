/*
 * NAME
 *	duration 3h
 * SUMMARY
 *	"30m", "2h", "90d" durations
 * DESCRIPTION
 *	A duration is digits followed by one of s m h d w (a bare number is
 *	seconds, as in Postfix). Sums such as "1h30m" are accepted. Negative
 *	values, overflow past 100 years and trailing junk are errors.
 */
#ifndef AUTHRELAY_DURATION_H
#define AUTHRELAY_DURATION_H

/* Parses text into seconds. Returns 0, or -1 with *error_r a malloc'd
   message (caller frees) and *seconds_r untouched. */
int duration_parse(const char *text, long long *seconds_r, char **error_r);

/* Writes the shortest exact form ("30m", "1h30m", "0s") into buf. */
const char *duration_format(long long seconds, char *buf, unsigned size);

#endif

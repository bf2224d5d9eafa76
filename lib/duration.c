/*
 * NAME
 *	duration 3
 * SUMMARY
 *	"30m", "2h", "90d" durations
 * SYNOPSIS
 *	#include "duration.h"
 * DESCRIPTION
 *	Grammar: a bare decimal number (seconds, as in Postfix), or one or
 *	more terms NUMBER UNIT with UNIT one of s m h d w (lower case: "M"
 *	could be read as months). In a sum the units go from largest to
 *	smallest and each appears once ("1h30m"); "30m1h" and "1h1h" are
 *	refused as the typos they usually are, and so is "1h30" (minutes or
 *	seconds?). No sign, no fraction, no white space: the config reader
 *	has trimmed the value already.
 *
 *	The upper bound is 100 years (36525 days): nothing in the suite
 *	needs more, and it keeps every sum far from long long overflow.
 *
 *	Formatting uses d h m s greedily, so 5400 prints "1h30m" and 90
 *	days print "90d"; w is used only when the whole value is whole
 *	weeks ("2w"), because "12w6d" reads worse than "90d".
 * DIAGNOSTICS
 *	Messages quote the input (bounded, control characters as '?') and
 *	say what is wrong.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "error_r.h"

#define DURATION_MAX (36525LL * 86400)
#define DURATION_QUOTE_MAX 64

struct duration_unit {
	char name;
	long long seconds;
};

/* Largest first: the order a sum must follow. */
static const struct duration_unit duration_units[] = {
	{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1},
};

#define DURATION_NUNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* duration_error - malloc'd message quoting the input */
static int duration_error(char **error_r, const char *text, const char *why)
{
	char quoted[DURATION_QUOTE_MAX + 4];
	size_t i, n = 0;

	for (i = 0; text[i] && n < DURATION_QUOTE_MAX; i++) {
		unsigned char ch = (unsigned char)text[i];

		quoted[n++] = (ch < 0x20 || ch == 0x7f || ch == '"') ? '?' : (char)ch;
	}
	if (text[i]) {
		memcpy(quoted + n, "...", 3);
		n += 3;
	}
	quoted[n] = 0;
	return error_r_set(error_r, "bad duration \"%s\": %s", quoted, why);
}

/* duration_parse - text to seconds */
int duration_parse(const char *text, long long *seconds_r, char **error_r)
{
	const char *p = text;
	long long total = 0;
	size_t next_unit = 0;	/* index of the largest unit still allowed */
	char why[80];

	if (*p == 0)
		return duration_error(error_r, text, "empty; want a number with s, m, h, d or w");
	while (*p) {
		long long n = 0;
		size_t u;

		if (*p == '-' || *p == '+')
			return duration_error(error_r, text, "no sign allowed");
		if (!isdigit((unsigned char)*p) && p == text)
			return duration_error(error_r, text, "missing number before a unit");
		if (!isdigit((unsigned char)*p)) {
			snprintf(why, sizeof(why), "unexpected '%c' after a unit; sums read like 1h30m",
				 isprint((unsigned char)*p) ? *p : '?');
			return duration_error(error_r, text, why);
		}
		/* Stop accumulating once past the limit: no overflow, and the
		   too-long message below still fires. */
		for (; isdigit((unsigned char)*p); p++)
			if (n <= DURATION_MAX)
				n = n * 10 + (*p - '0');
		if (*p == 0) {
			if (next_unit != 0)
				return duration_error(error_r, text,
						      "a number without a unit must stand alone");
			total = n;
			break;
		}
		for (u = 0; u < DURATION_NUNITS && duration_units[u].name != *p; u++)
			;
		if (u == DURATION_NUNITS) {
			snprintf(why, sizeof(why), "unknown unit '%c'; use s, m, h, d or w",
				 isprint((unsigned char)*p) ? *p : '?');
			return duration_error(error_r, text, why);
		}
		if (u < next_unit)
			return duration_error(error_r, text,
					      "units must go from largest to smallest, each once");
		next_unit = u + 1;
		if (n > DURATION_MAX / duration_units[u].seconds)
			return duration_error(error_r, text, "longer than 100 years (36525d)");
		total += n * duration_units[u].seconds;
		if (total > DURATION_MAX)
			return duration_error(error_r, text, "longer than 100 years (36525d)");
		p++;
	}
	if (total > DURATION_MAX)
		return duration_error(error_r, text, "longer than 100 years (36525d)");
	*seconds_r = total;
	return 0;
}

/* duration_format - shortest readable exact form */
const char *duration_format(long long seconds, char *buf, unsigned size)
{
	unsigned long long left;
	size_t u, len = 0;

	if (size == 0)
		return buf;
	buf[0] = 0;
	if (seconds == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	if (seconds < 0) {
		len += (size_t)snprintf(buf, size, "-");
		left = 0ULL - (unsigned long long)seconds;
	} else {
		left = (unsigned long long)seconds;
	}
	if (left % (7 * 86400) == 0) {
		snprintf(buf + len, size - len, "%llu%c", left / (7 * 86400), 'w');
		return buf;
	}
	for (u = 1; u < DURATION_NUNITS && left > 0; u++) {
		unsigned long long unit = (unsigned long long)duration_units[u].seconds;
		int n;

		if (left < unit)
			continue;
		if (len >= size)
			break;
		n = snprintf(buf + len, size - len, "%llu%c", left / unit, duration_units[u].name);
		if (n < 0)
			break;
		len += (size_t)n;
		left %= unit;
	}
	return buf;
}

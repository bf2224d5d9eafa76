/*
 * NAME
 *	limit_spec 3
 * SUMMARY
 *	sending limits as text: "100/1h, 1000/1d", "none", "unlimited"
 * SYNOPSIS
 *	#include "limit_spec.h"
 * DESCRIPTION
 *	See limit_spec.h. Each item is cut at its separators and checked
 *	whole; the count is plain decimal digits (no sign, no leading '+',
 *	no exponent), the duration is duration_parse()'s. "none" and
 *	"unlimited" must stand alone.
 * DIAGNOSTICS
 *	Messages quote the item (bounded, control characters as '?') and
 *	say what is wrong and what is wanted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "limit_spec.h"

#define LIMIT_ITEM_MAX 64	/* "1000000000/36525d" is 17; room for typos */
#define LIMIT_SEPARATORS ", \t\r\n"

/* limit_spec_error - a malloc'd message quoting item */
static int limit_spec_error(char **error_r, const char *item, size_t len, const char *why)
{
	char quoted[LIMIT_ITEM_MAX + 4];
	size_t n = 0;

	for (size_t i = 0; i < len && n < LIMIT_ITEM_MAX; i++) {
		unsigned char ch = (unsigned char)item[i];

		quoted[n++] = (ch < 0x20 || ch == 0x7f || ch == '"') ? '?' : (char)ch;
	}
	if (len > LIMIT_ITEM_MAX) {
		memcpy(quoted + n, "...", 3);
		n += 3;
	}
	quoted[n] = '\0';
	if (asprintf(error_r, "bad limit \"%s\": %s", quoted, why) < 0)
		*error_r = NULL;
	return -1;
}

/* limit_spec_item - one N/DURATION item */
static int limit_spec_item(const char *item, size_t len, struct limit_window *w_r,
			   char **error_r)
{
	char text[LIMIT_ITEM_MAX + 1];
	const char *slash;
	char *duration_error = NULL;
	unsigned long long count = 0;
	long long seconds;

	if (len > LIMIT_ITEM_MAX)
		return limit_spec_error(error_r, item, len, "too long; want N/DURATION as in 100/1h");
	memcpy(text, item, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash == NULL)
		return limit_spec_error(error_r, item, len,
					"no '/'; want N/DURATION as in 100/1h, or none");
	if (slash == text)
		return limit_spec_error(error_r, item, len, "missing count before '/'");
	for (const char *p = text; p < slash; p++) {
		if (*p < '0' || *p > '9')
			return limit_spec_error(error_r, item, len,
						"the count must be digits only");
		count = count * 10 + (unsigned)(*p - '0');
		if (count > LIMIT_MAX_COUNT)
			return limit_spec_error(error_r, item, len,
						"count over 1000000000");
	}
	if (count == 0)
		return limit_spec_error(error_r, item, len,
					"a count of 0 allows nothing; suspend the user instead");
	if (slash[1] == '\0')
		return limit_spec_error(error_r, item, len, "missing duration after '/'");
	if (duration_parse(slash + 1, &seconds, &duration_error) != 0) {
		char why[256];

		snprintf(why, sizeof why, "%s", duration_error ? duration_error : "bad duration");
		free(duration_error);
		return limit_spec_error(error_r, item, len, why);
	}
	if (seconds < 1)
		return limit_spec_error(error_r, item, len, "the window must be at least 1s");
	if (seconds > LIMIT_MAX_SECONDS)
		return limit_spec_error(error_r, item, len, "the window may be at most 366d");
	w_r->max = (uint32_t)count;
	w_r->seconds = seconds;
	return 0;
}

/* limit_spec_parse - text to spec */
int limit_spec_parse(const char *text, struct limit_spec *spec_r, char **error_r)
{
	struct limit_spec spec;
	const char *p = text;
	unsigned items = 0;
	bool word = false;

	memset(&spec, 0, sizeof spec);
	*error_r = NULL;
	for (;;) {
		size_t len;

		p += strspn(p, LIMIT_SEPARATORS);
		if (*p == '\0')
			break;
		len = strcspn(p, LIMIT_SEPARATORS);
		items++;
		if ((len == 4 && memcmp(p, "none", 4) == 0) ||
		    (len == 9 && memcmp(p, "unlimited", 9) == 0)) {
			if (items > 1)
				return limit_spec_error(error_r, p, len,
							"none and unlimited must stand alone");
			spec.unlimited = len == 9;
			word = true;
		} else if (word) {
			return limit_spec_error(error_r, p, len,
						"none and unlimited must stand alone");
		} else if (spec.count == LIMIT_WINDOWS_MAX) {
			return limit_spec_error(error_r, p, len, "more than 4 windows");
		} else {
			struct limit_window w;
			unsigned at;

			if (limit_spec_item(p, len, &w, error_r) != 0)
				return -1;
			/* Insertion keeps the windows shortest first. */
			for (at = 0; at < spec.count && spec.windows[at].seconds < w.seconds; at++)
				;
			if (at < spec.count && spec.windows[at].seconds == w.seconds)
				return limit_spec_error(error_r, p, len,
							"two limits for the same window");
			memmove(&spec.windows[at + 1], &spec.windows[at],
				(spec.count - at) * sizeof spec.windows[0]);
			spec.windows[at] = w;
			spec.count++;
		}
		p += len;
	}
	*spec_r = spec;
	return 0;
}

/* limit_spec_format - spec to text */
const char *limit_spec_format(const struct limit_spec *spec, char *buf, unsigned size)
{
	size_t n = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (spec->unlimited || spec->count == 0) {
		snprintf(buf, size, "%s", spec->unlimited ? "unlimited" : "none");
		return buf;
	}
	for (unsigned i = 0; i < spec->count && n < size; i++) {
		char d[64];
		int w = snprintf(buf + n, size - n, "%s%u/%s", i ? ", " : "",
				 (unsigned)spec->windows[i].max,
				 duration_format(spec->windows[i].seconds, d, sizeof d));

		if (w < 0)
			break;
		n += (size_t)w;
	}
	return buf;
}

/* limit_spec_is_active - anything to count */
bool limit_spec_is_active(const struct limit_spec *spec)
{
	return !spec->unlimited && spec->count > 0;
}

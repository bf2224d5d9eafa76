/*
 * NAME
 *	limit_spec 3h
 * SUMMARY
 *	sending limits as text: "100/1h, 1000/1d", "none", "unlimited"
 * DESCRIPTION
 *	A limit is a list of windows, each N/DURATION: at most N (1 to
 *	LIMIT_MAX_COUNT) in any DURATION (1s to LIMIT_MAX_SECONDS, the
 *	grammar of duration.h). Items are separated by commas and/or white
 *	space, as every list of authrelay.conf(5). "none" is no limit (the
 *	default of the config keys); "unlimited" exempts (a per-user or
 *	per-domain setting that overrides a default). Two windows of the
 *	same length are an error (which one would count?); windows are kept
 *	shortest first.
 */
#ifndef AUTHRELAY_LIMIT_SPEC_H
#define AUTHRELAY_LIMIT_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#define LIMIT_WINDOWS_MAX 4		/* windows per kind: 1h, 1d, 1w and one more */
#define LIMIT_MAX_COUNT 1000000000u	/* far above any real sending rate */
#define LIMIT_MAX_SECONDS (366LL * 86400)	/* a year: counters older are pruned */
#define LIMIT_SPEC_TEXT_MAX 128		/* limit_spec_format() never needs more */

struct limit_window {
	uint32_t max;		/* at most this many ... */
	int64_t seconds;	/* ... in any window of this many seconds */
};

struct limit_spec {
	bool unlimited;		/* "unlimited": exempt, no windows */
	unsigned count;		/* 0 with !unlimited: "none" */
	struct limit_window windows[LIMIT_WINDOWS_MAX];	/* shortest first */
};

/* Parses text. Returns 0, or -1 with *error_r (malloc'd, caller frees)
   saying what is wrong, and *spec_r untouched. An empty text is
   "none". */
int limit_spec_parse(const char *text, struct limit_spec *spec_r, char **error_r);

/* Writes "100/1h, 1000/1d", "none" or "unlimited" into buf (size at
   least LIMIT_SPEC_TEXT_MAX); the text parses back to the same spec.
   Returns buf. */
const char *limit_spec_format(const struct limit_spec *spec, char *buf, unsigned size);

/* True when the spec limits anything (some window, not unlimited). */
bool limit_spec_is_active(const struct limit_spec *spec);

#endif

/*
 * NAME
 *	limit_window 3
 * SUMMARY
 *	sliding-window arithmetic of the sending limits (pure)
 * SYNOPSIS
 *	#include "limit_window.h"
 * DESCRIPTION
 *	See limit_window.h for the model and its worst case. No I/O, no
 *	clock: the store passes the database's time in.
 */
#include <assert.h>

#include "limit_window.h"

/* limit_bucket_seconds - bucket length of a window */
int64_t limit_bucket_seconds(int64_t window)
{
	if (window <= LIMIT_BUCKETS)
		return 1;
	return (window + LIMIT_BUCKETS - 1) / LIMIT_BUCKETS;
}

/* limit_bucket_start - floor t to its bucket */
int64_t limit_bucket_start(int64_t t, int64_t window)
{
	int64_t b = limit_bucket_seconds(window);
	int64_t r = t % b;

	/* C's % truncates toward zero: floor for negative t too. */
	if (r < 0)
		r += b;
	return t - r;
}

/* limit_window_oldest - the bucket holding the window's oldest second */
int64_t limit_window_oldest(int64_t now, int64_t window)
{
	return limit_bucket_start(now - window + 1, window);
}

/* limit_window_used - what still counts at now */
uint64_t limit_window_used(const struct limit_bucket *buckets, size_t n, int64_t now,
			   int64_t window)
{
	int64_t oldest = limit_window_oldest(now, window);
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		/* No upper bound: a bucket after now (clock stepped back)
		   still counts. */
		if (buckets[i].bucket < oldest)
			continue;
		if (sum > UINT64_MAX - buckets[i].count)
			return UINT64_MAX;
		sum += buckets[i].count;
	}
	return sum;
}

/* limit_window_crossed - the first window that add would cross */
int limit_window_crossed(const struct limit_spec *spec, const uint64_t *used, uint64_t add)
{
	if (!limit_spec_is_active(spec))
		return -1;
	assert(spec->count <= LIMIT_WINDOWS_MAX);
	for (unsigned i = 0; i < spec->count; i++) {
		uint64_t max = spec->windows[i].max;

		if (used[i] > max || add > max - used[i])
			return (int)i;
	}
	return -1;
}

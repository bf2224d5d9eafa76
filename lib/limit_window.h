/*
 * NAME
 *	limit_window 3h
 * SUMMARY
 *	sliding-window arithmetic of the sending limits (pure)
 * DESCRIPTION
 *	A window of W seconds is kept as LIMIT_BUCKETS buckets of
 *	B = ceil(W / LIMIT_BUCKETS) seconds each, aligned on multiples of B
 *	(Unix time). What was sent at time t is added to the bucket that
 *	holds t. At time now, the use of the window is the sum of every
 *	bucket that starts at or after limit_window_oldest(now, W), the
 *	start of the bucket holding now - W + 1, the oldest second of the
 *	window (now - W, now].
 *
 *	Worst case, stated and tested: those buckets cover the window and
 *	at most B - 1 seconds before it, so the use is never below the
 *	exact count of the last W seconds. Hence at most max is let
 *	through in ANY W seconds (no double burst at a boundary: there is
 *	no boundary), and the only error is on the side of refusing: a
 *	sent item is forgotten between W and W + B - 1 seconds after it was
 *	sent (for 1h: up to 3m44s late; for 1d: up to 1h29m59s late).
 *
 *	Clock steps (the database's clock): a bucket that starts after
 *	now (the clock went back) is still counted, never forgotten early;
 *	a step forward forgets what is older than the new window, as if
 *	the time had passed.
 */
#ifndef AUTHRELAY_LIMIT_WINDOW_H
#define AUTHRELAY_LIMIT_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "limit_spec.h"

#define LIMIT_BUCKETS 16	/* per window: 1/16 of W is the worst-case lag */

/* One stored bucket of one window: what was sent from bucket on. */
struct limit_bucket {
	int64_t bucket;		/* start, a multiple of limit_bucket_seconds(W) */
	uint64_t count;
};

/* B for a window of W seconds (W >= 1): ceil(W / LIMIT_BUCKETS), at
   least 1. */
int64_t limit_bucket_seconds(int64_t window);

/* The start of the bucket that holds t (floor to a multiple of B; also
   right for t < 0). */
int64_t limit_bucket_start(int64_t t, int64_t window);

/* The first bucket that still counts at now. */
int64_t limit_window_oldest(int64_t now, int64_t window);

/* The use of a window at now: the sum of the buckets that still count
   (see above). Saturates at UINT64_MAX. */
uint64_t limit_window_used(const struct limit_bucket *buckets, size_t n, int64_t now,
			   int64_t window);

/* Which window of spec adding add would cross, given used[i] for each
   of spec->windows: the index of the first (shortest) window with
   used + add > max, or -1 when all stay within. An inactive spec
   crosses nothing. */
int limit_window_crossed(const struct limit_spec *spec, const uint64_t *used, uint64_t add);

#endif

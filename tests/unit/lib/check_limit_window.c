/*
 * NAME
 *	check_limit_window 1
 * SUMMARY
 *	unit tests for lib/limit_window: boundaries, several windows, clock steps
 * DESCRIPTION
 *	Tables of bucket arithmetic, of window use at chosen instants
 *	(edges of buckets and windows, a clock stepped back and forward),
 *	and of crossing checks over several windows; then a simulation that
 *	holds the model to its stated worst case: never more than max in
 *	ANY window of W seconds, and nothing counted W + B - 1 seconds
 *	after the last send.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "limit_window.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define H 3600
#define D 86400
#define T0 1767225600LL	/* 2026-01-01T00:00:00Z, a multiple of every bucket below */

static const struct {
	const char *label;
	int64_t window, want_b;
} bucket_cases[] = {
	{"1s", 1, 1}, {"16s: one second", 16, 1}, {"17s: rounded up", 17, 2},
	{"1h", H, 225}, {"1h1s: rounded up", H + 1, 226}, {"1d", D, 5400},
	{"366d", 366LL * D, 366LL * D / 16},
};

START_TEST(test_bucket_seconds)
{
	int64_t got = limit_bucket_seconds(bucket_cases[_i].window);

	ck_assert_msg(got == bucket_cases[_i].want_b, "%s: got %lld, want %lld",
		      bucket_cases[_i].label, (long long)got, (long long)bucket_cases[_i].want_b);
}
END_TEST

static const struct {
	const char *label;
	int64_t t, window, want;
} start_cases[] = {
	{"aligned", T0, H, T0},
	{"last second of a bucket", T0 + 224, H, T0},
	{"first second of the next", T0 + 225, H, T0 + 225},
	{"zero", 0, H, 0},
	{"before 1970 floors down", -1, H, -225},
	{"-225 is aligned", -225, H, -225},
	{"1s windows: every second", T0 + 7, 1, T0 + 7},
};

START_TEST(test_bucket_start)
{
	int64_t got = limit_bucket_start(start_cases[_i].t, start_cases[_i].window);

	ck_assert_msg(got == start_cases[_i].want, "%s: got %lld, want %lld", start_cases[_i].label,
		      (long long)got, (long long)start_cases[_i].want);
}
END_TEST

/* Buckets of a 1h window (B = 225 s) used by the cases below. */
static const struct limit_bucket hour_buckets[] = {
	{T0, 3},		/* sent during [T0, T0+224] */
	{T0 + 225, 5},		/* [T0+225, T0+449] */
	{T0 + H, 7},		/* [T0+3600, T0+3824] */
};

static const struct {
	const char *label;
	int64_t now;
	uint64_t want;
} used_cases[] = {
	{"before everything (clock far back): all still count", T0 - 10 * H, 15},
	{"at the first bucket", T0, 15},
	{"last second that counts T0's bucket: now - W + 1 = T0 + 224", T0 + H + 223, 15},
	{"T0's bucket forgotten: oldest second is T0 + 225", T0 + H + 224, 12},
	{"second bucket still counts up to T0 + 449 + W - 1... ", T0 + H + 448, 12},
	{"second bucket forgotten", T0 + H + 449, 7},
	{"third bucket's last counting second", T0 + 2 * H + 223, 7},
	{"all forgotten one second later", T0 + 2 * H + 224, 0},
	{"clock stepped forward a day: nothing counts", T0 + D, 0},
};

START_TEST(test_used)
{
	uint64_t got = limit_window_used(hour_buckets, N(hour_buckets), used_cases[_i].now, H);

	ck_assert_msg(got == used_cases[_i].want, "%s: got %llu, want %llu", used_cases[_i].label,
		      (unsigned long long)got, (unsigned long long)used_cases[_i].want);
}
END_TEST

START_TEST(test_used_saturates)
{
	struct limit_bucket b[] = {{T0, UINT64_MAX - 1}, {T0 + 1, 5}};

	ck_assert_msg(limit_window_used(b, 2, T0 + 1, 60) == UINT64_MAX,
		      "got wrapped sum, want UINT64_MAX");
}
END_TEST

static const struct {
	const char *label;
	const char *spec;
	uint64_t used[LIMIT_WINDOWS_MAX];
	uint64_t add;
	int want;
} crossed_cases[] = {
	{"below both", "100/1h, 1000/1d", {99, 500}, 1, -1},
	{"hour at its limit", "100/1h, 1000/1d", {100, 500}, 1, 0},
	{"day at its limit, hour free", "100/1h, 1000/1d", {10, 1000}, 1, 1},
	{"both at their limits: the shortest is named", "100/1h, 1000/1d", {100, 1000}, 1, 0},
	{"exactly reaching the limit is allowed", "100/1h, 1000/1d", {95, 500}, 5, -1},
	{"one over by a multi-recipient message", "100/1h, 1000/1d", {96, 500}, 5, 0},
	{"a message larger than the whole limit", "5/1h", {0}, 6, 0},
	{"already over: crossed even with nothing added", "5/1h", {9}, 0, 0},
	{"nothing added at the limit", "5/1h", {5}, 0, -1},
	{"none crosses nothing", "none", {0}, 1000, -1},
	{"unlimited crosses nothing", "unlimited", {0}, 1000, -1},
	{"huge add does not wrap", "5/1h", {1}, UINT64_MAX, 0},
};

START_TEST(test_crossed)
{
	struct limit_spec spec;
	char *error = NULL;
	int got;

	ck_assert_msg(limit_spec_parse(crossed_cases[_i].spec, &spec, &error) == 0, "%s: %s",
		      crossed_cases[_i].label, error);
	got = limit_window_crossed(&spec, crossed_cases[_i].used, crossed_cases[_i].add);
	ck_assert_msg(got == crossed_cases[_i].want, "%s: got %d, want %d", crossed_cases[_i].label,
		      got, crossed_cases[_i].want);
}
END_TEST

/* The simulation: a sender tries every step seconds (with the clock
   stepping back once and forward once); each try is let through when
   no window would be crossed. Checked every second against the exact
   log of what was let through. */
#define SIM_MAX_EVENTS 20000
#define SIM_MAX_BUCKETS 4096

struct sim {
	struct limit_spec spec;
	struct limit_bucket buckets[LIMIT_WINDOWS_MAX][SIM_MAX_BUCKETS];
	size_t nb[LIMIT_WINDOWS_MAX];
	int64_t sent[SIM_MAX_EVENTS];
	size_t nsent;
};

static void sim_add(struct sim *s, int64_t now)
{
	for (unsigned w = 0; w < s->spec.count; w++) {
		int64_t b = limit_bucket_start(now, s->spec.windows[w].seconds);
		size_t i;

		for (i = 0; i < s->nb[w] && s->buckets[w][i].bucket != b; i++)
			;
		if (i == s->nb[w]) {
			ck_assert(s->nb[w] < SIM_MAX_BUCKETS);
			s->buckets[w][s->nb[w]++] = (struct limit_bucket){b, 0};
		}
		s->buckets[w][i].count++;
	}
	ck_assert(s->nsent < SIM_MAX_EVENTS);
	s->sent[s->nsent++] = now;
}

static bool sim_try(struct sim *s, int64_t now)
{
	uint64_t used[LIMIT_WINDOWS_MAX];

	for (unsigned w = 0; w < s->spec.count; w++)
		used[w] = limit_window_used(s->buckets[w], s->nb[w], now,
					    s->spec.windows[w].seconds);
	if (limit_window_crossed(&s->spec, used, 1) >= 0)
		return false;
	sim_add(s, now);
	return true;
}

static const struct {
	const char *label;
	const char *spec;
	int64_t step, duration;
} sim_cases[] = {
	{"5/1h, a try every 10s for 5h", "5/1h", 10, 5 * H},
	{"100/1h, 300/1d, a try every 7s for 2d", "100/1h, 300/1d", 7, 2 * D},
	{"3/17s (B=2s, uneven), a try every second", "3/17s", 1, 600},
	{"10/1m, 20/5m, a try every 3s", "10/1m, 20/5m", 3, 2 * H},
};

START_TEST(test_simulation)
{
	static struct sim s;
	char *error = NULL;
	int64_t now = T0 + 13, lastgo = 0;
	size_t through = 0;

	memset(&s, 0, sizeof s);
	ck_assert_msg(limit_spec_parse(sim_cases[_i].spec, &s.spec, &error) == 0, "%s", error);
	for (int64_t t = 0; t < sim_cases[_i].duration; t += sim_cases[_i].step) {
		now = T0 + 13 + t;
		if (sim_try(&s, now)) {
			through++;
			lastgo = now;
		}
	}
	ck_assert_msg(through > 0, "%s: nothing went through", sim_cases[_i].label);
	/* No window of W seconds, anywhere, holds more than max. */
	for (unsigned w = 0; w < s.spec.count; w++) {
		int64_t W = s.spec.windows[w].seconds;
		size_t lo = 0;

		for (size_t hi = 0; hi < s.nsent; hi++) {
			while (s.sent[lo] <= s.sent[hi] - W)
				lo++;
			ck_assert_msg(hi - lo + 1 <= s.spec.windows[w].max,
				      "%s: %zu sent in the %llds ending at +%lld, want at most %u",
				      sim_cases[_i].label, hi - lo + 1, (long long)W,
				      (long long)(s.sent[hi] - T0), (unsigned)s.spec.windows[w].max);
		}
		/* Forgotten no later than W + B - 1 after the last send. */
		ck_assert_msg(limit_window_used(s.buckets[w], s.nb[w],
						lastgo + W + limit_bucket_seconds(W) - 1, W) == 0,
			      "%s: still counted W + B - 1 after the last send", sim_cases[_i].label);
	}
	/* And it is not merely refusing everything: over the whole run,
	   at least the longest window's max per its length went through,
	   less one bucket's worth of lag per window length. */
	{
		const struct limit_window *lw = &s.spec.windows[s.spec.count - 1];
		int64_t periods = sim_cases[_i].duration / (lw->seconds + limit_bucket_seconds(lw->seconds));
		int64_t tries_per_window = lw->seconds / sim_cases[_i].step;
		uint64_t floor_max = (uint64_t)periods *
				     (lw->max < tries_per_window ? lw->max : (uint64_t)tries_per_window);

		ck_assert_msg(through >= floor_max, "%s: %zu went through, want at least %llu",
			      sim_cases[_i].label, through, (unsigned long long)floor_max);
	}
}
END_TEST

/* Clock steps during sending: after a step back, what was sent "in the
   future" still counts (the limit holds); after a step forward, it is
   forgotten as if the time had passed. */
START_TEST(test_clock_steps)
{
	static struct sim s;
	char *error = NULL;
	int ok = 0;

	memset(&s, 0, sizeof s);
	ck_assert(limit_spec_parse("5/1h", &s.spec, &error) == 0);
	for (int i = 0; i < 5; i++)
		ok += sim_try(&s, T0 + 100 + i);
	ck_assert_msg(ok == 5, "first five: got %d through, want 5", ok);
	/* the clock goes back two hours */
	ck_assert_msg(!sim_try(&s, T0 - 2 * H), "after a step back: got through, want refused");
	ck_assert_msg(!sim_try(&s, T0 - H), "an hour later (still before): got through, want refused");
	/* the clock jumps forward a day */
	ck_assert_msg(sim_try(&s, T0 + D), "after a step forward: got refused, want through");
}
END_TEST

static Suite *limit_window_suite(void)
{
	Suite *s = suite_create("limit_window");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_bucket_seconds, 0, N(bucket_cases));
	tcase_add_loop_test(tc, test_bucket_start, 0, N(start_cases));
	tcase_add_loop_test(tc, test_used, 0, N(used_cases));
	tcase_add_test(tc, test_used_saturates);
	tcase_add_loop_test(tc, test_crossed, 0, N(crossed_cases));
	tcase_add_loop_test(tc, test_simulation, 0, N(sim_cases));
	tcase_add_test(tc, test_clock_steps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(limit_window_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * NAME
 *	metrics_cost 1
 * SUMMARY
 *	what counting one policyd decision costs, metrics off and on
 * SYNOPSIS
 *	metrics_cost [N]
 * DESCRIPTION
 *	Calls, N times (default 20 million), what policyd calls per decision
 *	when metrics are on: metrics_request_start(), metrics_decision(),
 *	metrics_decision_row_queued(), metrics_request_done(); first with
 *	counting off, then on. Prints "off_ns=X on_ns=Y" per decision. The
 *	side-by-side rps comparison of tests/bench/policyd.sh cannot resolve
 *	a cost this small on a shared machine (two identical processes
 *	differ by up to 6 % there); this figure, set against policyd's CPU
 *	per request, can.
 *
 *	Built by tests/bench/policyd.sh with cc -O2 against libauthrelay.a;
 *	not part of the product.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "decide.h"
#include "metrics.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000;
	const char *verdict = relay_verdict_name(VERDICT_DUNNO), *rule = relay_rule_name(RULE_NONE);
	double ns[2];

	if (n <= 0)
		return 64;
	for (int on = 0; on < 2; on++) {
		double t0;

		if (on)
			metrics_enable("policyd", "bench", 0);
		t0 = now();
		for (long i = 0; i < n; i++) {
			uint64_t start = metrics_request_start();

			metrics_decision("policyd", verdict, rule);
			metrics_decision_row_queued();
			metrics_request_done(start);
		}
		ns[on] = (now() - t0) / (double)n * 1e9;
	}
	printf("off_ns=%.1f on_ns=%.1f\n", ns[0], ns[1]);
	return 0;
}

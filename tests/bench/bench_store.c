/*
 * NAME
 *	bench_store 1
 * SUMMARY
 *	store lookup latency and decision queue throughput
 * DESCRIPTION
 *	bench_store DIR: fills a fresh database in DIR with 100000 grants
 *	(half IPv4 /32, half IPv6 /64, plus a few /128 so the lookup walks
 *	two IPv6 prefix lengths) and prints the mean time of grant, sender
 *	and certificate lookups, then how fast store_decision_queue()
 *	returns and how long the writer takes to store 100000 rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipaddr.h"
#include "log.h"
#include "store.h"

#define GRANTS 100000
#define LOOKUPS 200000
#define DECISIONS 100000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 5000,
				     .decision_queue_max = DECISIONS, .program = "bench" };
	struct store_decision d = { 0, NULL, "192.0.2.1", "alice", "alice@example.org",
				    "bob@example.net", "permit", "sasl", "authenticated", "4XyZ1" };
	static struct store_login logins[1000];
	struct store *store;
	char path[512], *error = NULL;
	double t0, t1;
	unsigned found = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_store DIR\n");
		return 64;
	}
	log_set_level(LOG_LEVEL_WARNING);
	snprintf(path, sizeof path, "%s/bench.db", argv[1]);
	if (store_open(path, &opts, &store, &error) < 0) {
		fprintf(stderr, "bench_store: %s\n", error);
		return 1;
	}
	t0 = now_s();
	for (unsigned base = 0; base < GRANTS; base += 1000) {
		for (unsigned i = 0; i < 1000; i++) {
			unsigned n = base + i;
			struct store_login *l = &logins[i];
			char text[64];

			memset(l, 0, sizeof *l);
			if (n % 2 == 0) {
				snprintf(text, sizeof text, "10.%u.%u.%u", n >> 16 & 255, n >> 8 & 255,
					 n & 255);
				l->prefix_len = 32;
			} else {
				snprintf(text, sizeof text, "2001:db8:%x:%x::1", n >> 16, n & 0xffff);
				l->prefix_len = n % 97 == 0 ? 128 : 64;
			}
			ipaddr_parse(text, &l->net);
			ipaddr_mask(&l->net, l->prefix_len);
			snprintf(l->username, sizeof l->username, "user%u", n);
			snprintf(l->service, sizeof l->service, "imap");
			l->login_time = 1000;
			l->expires_at = 4000000000LL;
			snprintf(l->source, sizeof l->source, "bench");
		}
		if (store_logins_apply(store, logins, 1000, NULL, &error) < 0) {
			fprintf(stderr, "bench_store: %s\n", error);
			return 1;
		}
	}
	t1 = now_s();
	printf("logins_apply: %d grants in batches of 1000: %.2f s (%.1f us/grant)\n", GRANTS,
	       t1 - t0, (t1 - t0) * 1e6 / GRANTS);
	store_sender_allow(store, "alice", "@example.org", "bench", &error);

	t0 = now_s();
	for (unsigned i = 0; i < LOOKUPS; i++) {
		struct ipaddr a;
		char text[64];
		unsigned n = i % (2 * GRANTS);	/* half hits, half misses */

		if (n % 2 == 0)
			snprintf(text, sizeof text, "10.%u.%u.%u", n >> 16 & 255, n >> 8 & 255,
				 n & 255);
		else
			snprintf(text, sizeof text, "2001:db8:%x:%x::77", n >> 16, n & 0xffff);
		ipaddr_parse(text, &a);
		found += store_grant_lookup(store, &a, 2000, NULL) == LOOKUP_FOUND;
	}
	t1 = now_s();
	printf("grant_lookup: %d lookups (%u found): %.1f us each\n", LOOKUPS, found,
	       (t1 - t0) * 1e6 / LOOKUPS);

	t0 = now_s();
	for (unsigned i = 0; i < LOOKUPS; i++)
		store_sender_owned(store, "alice", i % 2 ? "alice+x@Example.org" : "a@other.test");
	t1 = now_s();
	printf("sender_owned: %.1f us each\n", (t1 - t0) * 1e6 / LOOKUPS);

	t0 = now_s();
	for (unsigned i = 0; i < LOOKUPS; i++)
		store_cert_lookup(store, "AB:CD:EF:01:23:45:67:89", NULL);
	t1 = now_s();
	printf("cert_lookup: %.1f us each\n", (t1 - t0) * 1e6 / LOOKUPS);

	t0 = now_s();
	for (unsigned i = 0; i < DECISIONS; i++) {
		d.ts = 1795698401 + i;
		if (store_decision_queue(store, &d) < 0)
			break;
	}
	t1 = now_s();
	printf("decision_queue: %d rows: %.2f us per call\n", DECISIONS,
	       (t1 - t0) * 1e6 / DECISIONS);
	if (store_decision_flush(store, 60000) < 0)
		printf("decision_flush: timed out\n");
	printf("decision writer: %d rows stored %.2f s after the first was queued (%.0f rows/s)\n",
	       DECISIONS, now_s() - t0, DECISIONS / (now_s() - t0));
	store_close(&store, 10000);
	return 0;
}

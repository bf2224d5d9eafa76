/*
 * NAME
 *	metrics 3
 * SUMMARY
 *	the daemons' Prometheus counters and their text exposition
 * SYNOPSIS
 *	#include "metrics.h"
 * DESCRIPTION
 *	The registry is one static struct: every label combination has its
 *	slot from the start (verdict x rule per front end, format x service,
 *	one per source), so an update is an index lookup in a short name
 *	table and one relaxed atomic add: no allocation, no lock. Counters
 *	that are still zero are left out of the exposition for label sets
 *	that most sites never see (a rule that never fired), and written
 *	for the ones an alert rule reads (store errors, dropped rows).
 *
 *	Names follow the Prometheus conventions: prefix authrelay_, _total
 *	on counters, base units (seconds, bytes). The histogram's _count is
 *	the sum of its buckets read in the same pass, so that _count and the
 *	+Inf bucket always agree even while requests are being counted.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decide.h"
#include "metrics.h"

#define METRICS_VERDICTS_MAX 8
#define METRICS_RULES_MAX 32
#define METRICS_SERVICES 3		/* imap, pop3, other */

/* Bucket bounds of authrelay_request_duration_seconds, in nanoseconds.
   A policyd decision on a warm SQLite file was measured at 20-60 us
   (tests/bench/policyd.sh), a store lock wait or a busy database at
   milliseconds to the busy timeout: fine steps below 1 ms, coarse ones
   up to Postfix's own patience. */
static const uint64_t bucket_ns[] = {
	25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 500000000,
	1000000000, 2500000000, 5000000000,
};
#define METRICS_BUCKETS (sizeof bucket_ns / sizeof bucket_ns[0])

/* Front ends counted in authrelay_decisions_total. */
static const char *const front_ends[] = {"policyd", "milter"};
#define METRICS_FRONT_ENDS (sizeof front_ends / sizeof front_ends[0])

/* Rules that a front end may record beyond decide()'s own. */
static const char *const extra_rules[] = {"rate_limit"};

static const char *const services[METRICS_SERVICES] = {"imap", "pop3", "other"};

struct metrics_position {
	uint64_t dev, ino, offset;
	int set;
};

static struct {
	int enabled;
	const char *program, *version;
	double start_time;
	bool front_end, loginwatch;

	/* names: the last entry of each table is "other" */
	const char *verdicts[METRICS_VERDICTS_MAX];
	size_t nverdicts;
	const char *rules[METRICS_RULES_MAX];
	size_t nrules;

	uint64_t decisions[METRICS_FRONT_ENDS][METRICS_VERDICTS_MAX][METRICS_RULES_MAX];
	uint64_t buckets[METRICS_BUCKETS + 1];	/* not cumulative; last is +Inf */
	uint64_t duration_sum_ns;
	uint64_t store_errors;
	uint64_t rows_queued;
	int64_t connections;

	char *sources[METRICS_SOURCES_MAX];	/* copies: a reload frees the config */
	size_t nsources;
	uint64_t lines[METRICS_SOURCES_MAX];
	struct metrics_position positions[METRICS_SOURCES_MAX];
	const char *formats[METRICS_FORMATS_MAX + 1];	/* + "other" */
	size_t nformats;
	uint64_t logins[METRICS_FORMATS_MAX + 1][METRICS_SERVICES];
} reg;

/* counter_add - the hot path's one operation */
static inline void counter_add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

static inline uint64_t counter_get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* name_index - the slot of name in names[0..n-1], the last ("other")
   when absent; pointer equality first, as callers pass the table's own
   static texts */
static size_t name_index(const char *const *names, size_t n, const char *name)
{
	if (name == NULL)
		return n - 1;
	for (size_t i = 0; i < n; i++)
		if (names[i] == name)
			return i;
	for (size_t i = 0; i + 1 < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return n - 1;
}

static void sources_free(void);

/* rule_add - appends a rule name unless known (enable time only) */
static void rule_add(const char *name)
{
	for (size_t i = 0; i < reg.nrules; i++)
		if (strcmp(reg.rules[i], name) == 0)
			return;
	if (reg.nrules + 1 < METRICS_RULES_MAX)
		reg.rules[reg.nrules++] = name;
}

/* metrics_enable - start counting for program */
void metrics_enable(const char *program, const char *version, double start_time)
{
	sources_free();
	memset(&reg, 0, sizeof reg);
	reg.program = program;
	reg.version = version;
	reg.start_time = start_time;
	reg.front_end = strcmp(program, "policyd") == 0 || strcmp(program, "milter") == 0;
	reg.loginwatch = strcmp(program, "loginwatch") == 0;

	/* The names come from decide.c, where the rules live; "unknown"
	   marks the end of its tables. */
	for (int i = 0; reg.nverdicts + 1 < METRICS_VERDICTS_MAX; i++) {
		const char *v = relay_verdict_name((enum relay_verdict_kind)i);

		if (strcmp(v, "unknown") == 0)
			break;
		reg.verdicts[reg.nverdicts++] = v;
	}
	reg.verdicts[reg.nverdicts++] = "other";
	for (int i = 0; i < METRICS_RULES_MAX; i++) {
		const char *r = relay_rule_name((enum relay_rule)i);

		if (strcmp(r, "unknown") == 0)
			break;
		rule_add(r);
	}
	for (size_t i = 0; i < sizeof extra_rules / sizeof extra_rules[0]; i++)
		rule_add(extra_rules[i]);
	reg.rules[reg.nrules++] = "other";
	reg.formats[reg.nformats++] = "other";
	__atomic_store_n(&reg.enabled, 1, __ATOMIC_RELEASE);
}

/* metrics_disable - stop counting, forget everything */
void metrics_disable(void)
{
	sources_free();
	memset(&reg, 0, sizeof reg);
}

bool metrics_enabled(void)
{
	return __atomic_load_n(&reg.enabled, __ATOMIC_RELAXED) != 0;
}

/* metrics_decision - one decision of a front end */
void metrics_decision(const char *program, const char *verdict, const char *rule)
{
	size_t p;

	if (!reg.enabled)
		return;
	if (program == NULL)
		program = reg.program;
	for (p = 0; p < METRICS_FRONT_ENDS; p++)
		if (strcmp(front_ends[p], program) == 0)
			break;
	if (p == METRICS_FRONT_ENDS)
		return;
	counter_add(&reg.decisions[p][name_index(reg.verdicts, reg.nverdicts, verdict)]
				  [name_index(reg.rules, reg.nrules, rule)], 1);
}

/* metrics_request_duration - one observation of the histogram */
void metrics_request_duration(uint64_t nanoseconds)
{
	size_t b = 0;

	if (!reg.enabled)
		return;
	while (b < METRICS_BUCKETS && nanoseconds > bucket_ns[b])
		b++;
	counter_add(&reg.buckets[b], 1);
	counter_add(&reg.duration_sum_ns, nanoseconds);
}

uint64_t metrics_request_start(void)
{
	struct timespec ts;

	if (!reg.enabled || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	/* Never 0 for a real start: the monotonic clock is past its epoch. */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + 1;
}

void metrics_request_done(uint64_t start)
{
	uint64_t now;

	if (start == 0 || (now = metrics_request_start()) == 0)
		return;
	metrics_request_duration(now > start ? now - start : 0);
}

void metrics_store_error(void)
{
	if (reg.enabled)
		counter_add(&reg.store_errors, 1);
}

void metrics_decision_row_queued(void)
{
	if (reg.enabled)
		counter_add(&reg.rows_queued, 1);
}

void metrics_connections_add(int delta)
{
	if (reg.enabled)
		__atomic_add_fetch(&reg.connections, (int64_t)delta, __ATOMIC_RELAXED);
}

/* sources_free - the registry's copies of the source paths */
static void sources_free(void)
{
	for (size_t i = 0; i < reg.nsources; i++)
		free(reg.sources[i]);
	reg.nsources = 0;
}

void metrics_loginwatch_sources(const char *const *paths, size_t count)
{
	sources_free();
	for (size_t i = 0; i < count && reg.nsources < METRICS_SOURCES_MAX; i++)
		if ((reg.sources[reg.nsources] = strdup(paths[i])) != NULL)
			reg.nsources++;
}

void metrics_loginwatch_format(const char *name)
{
	/* "other" stays last */
	if (reg.nformats == 0 || reg.nformats > METRICS_FORMATS_MAX)
		return;
	reg.formats[reg.nformats - 1] = name;
	reg.formats[reg.nformats++] = "other";
}
/* source_index - the slot of a configured source, or -1 */
static int source_index(const char *source)
{
	if (source == NULL)
		return -1;
	for (size_t i = 0; i < reg.nsources; i++)
		if (reg.sources[i] == source || strcmp(reg.sources[i], source) == 0)
			return (int)i;
	return -1;
}

void metrics_loginwatch_line(const char *source)
{
	int i;

	if (!reg.enabled || (i = source_index(source)) < 0)
		return;
	counter_add(&reg.lines[i], 1);
}

void metrics_loginwatch_login(const char *format, const char *service)
{
	if (!reg.enabled)
		return;
	counter_add(&reg.logins[name_index(reg.formats, reg.nformats, format)]
			       [name_index(services, METRICS_SERVICES, service)], 1);
}

void metrics_loginwatch_position(const char *source, uint64_t dev, uint64_t ino, uint64_t offset)
{
	struct metrics_position *p;
	int i;

	if (!reg.enabled || (i = source_index(source)) < 0)
		return;
	/* Not one atomic unit: a scrape in between may pair a new identity
	   with the old offset, which is off for one scrape after a rotation
	   at most. */
	p = &reg.positions[i];
	__atomic_store_n(&p->dev, dev, __ATOMIC_RELAXED);
	__atomic_store_n(&p->ino, ino, __ATOMIC_RELAXED);
	__atomic_store_n(&p->offset, offset, __ATOMIC_RELAXED);
	__atomic_store_n(&p->set, 1, __ATOMIC_RELEASE);
}

bool metrics_loginwatch_position_get(size_t i, const char **path_r, uint64_t *dev_r,
				     uint64_t *ino_r, uint64_t *offset_r)
{
	const struct metrics_position *p;

	if (i >= reg.nsources)
		return false;
	p = &reg.positions[i];
	if (!__atomic_load_n(&p->set, __ATOMIC_ACQUIRE))
		return false;
	*path_r = reg.sources[i];
	*dev_r = __atomic_load_n(&p->dev, __ATOMIC_RELAXED);
	*ino_r = __atomic_load_n(&p->ino, __ATOMIC_RELAXED);
	*offset_r = __atomic_load_n(&p->offset, __ATOMIC_RELAXED);
	return true;
}

/* ---- the exposition ---- */

struct out {
	char *buf;
	size_t size, len;
	bool over;
};

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* out_printf - append, remembering when the buffer was too small */
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->over = true;
		return;
	}
	o->len += (size_t)n;
}

/* out_label - a label value, escaped as the text format wants
   (backslash, double quote, newline) */
static void out_label(struct out *o, const char *value)
{
	for (const char *s = value; *s != '\0'; s++) {
		if (*s == '\\')
			out_printf(o, "\\\\");
		else if (*s == '"')
			out_printf(o, "\\\"");
		else if (*s == '\n')
			out_printf(o, "\\n");
		else
			out_printf(o, "%c", *s);
	}
}

/* out_family - the HELP and TYPE lines */
static void out_family(struct out *o, const char *name, const char *type, const char *help)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* out_seconds - nanoseconds as a decimal number of seconds, exact */
static void out_seconds(struct out *o, uint64_t ns)
{
	char frac[16];
	int n = snprintf(frac, sizeof frac, "%09" PRIu64, ns % 1000000000u);

	/* Trailing zeros of the fraction are noise: 0.0005, not 0.000500000. */
	while (n > 1 && frac[n - 1] == '0')
		frac[--n] = '\0';
	if (strcmp(frac, "0") == 0)
		out_printf(o, "%" PRIu64, ns / 1000000000u);
	else
		out_printf(o, "%" PRIu64 ".%s", ns / 1000000000u, frac);
}

static void format_decisions(struct out *o)
{
	out_family(o, "authrelay_decisions_total", "counter",
		   "Relay decisions by front end, verdict and rule.");
	for (size_t p = 0; p < METRICS_FRONT_ENDS; p++)
		for (size_t v = 0; v < reg.nverdicts; v++)
			for (size_t r = 0; r < reg.nrules; r++) {
				uint64_t n = counter_get(&reg.decisions[p][v][r]);

				if (n == 0)
					continue;
				out_printf(o, "authrelay_decisions_total{program=\"%s\",verdict=\"%s\","
					      "rule=\"%s\"} %" PRIu64 "\n",
					   front_ends[p], reg.verdicts[v], reg.rules[r], n);
			}
}

static void format_duration(struct out *o)
{
	static const char name[] = "authrelay_request_duration_seconds";
	uint64_t total = 0, counts[METRICS_BUCKETS + 1];

	for (size_t b = 0; b <= METRICS_BUCKETS; b++)
		counts[b] = counter_get(&reg.buckets[b]);
	out_family(o, name, "histogram", "Time from a complete request to its reply.");
	for (size_t b = 0; b < METRICS_BUCKETS; b++) {
		total += counts[b];
		out_printf(o, "%s_bucket{program=\"%s\",le=\"", name, reg.program);
		out_seconds(o, bucket_ns[b]);
		out_printf(o, "\"} %" PRIu64 "\n", total);
	}
	total += counts[METRICS_BUCKETS];
	out_printf(o, "%s_bucket{program=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name, reg.program,
		   total);
	out_printf(o, "%s_sum{program=\"%s\"} ", name, reg.program);
	out_seconds(o, counter_get(&reg.duration_sum_ns));
	out_printf(o, "\n%s_count{program=\"%s\"} %" PRIu64 "\n", name, reg.program, total);
}

static void format_front_end(struct out *o, const struct metrics_scrape *s)
{
	format_decisions(o);
	format_duration(o);
	out_family(o, "authrelay_connections", "gauge", "Client connections open now.");
	out_printf(o, "authrelay_connections{program=\"%s\"} %" PRId64 "\n", reg.program,
		   __atomic_load_n(&reg.connections, __ATOMIC_RELAXED));
	if (s->has_queue) {
		uint64_t queued = counter_get(&reg.rows_queued);
		uint64_t written = s->decision_rows_written;

		out_family(o, "authrelay_decision_queue_rows", "gauge",
			   "Decision rows waiting to be written to the database.");
		/* Read after the writer's count, so written may be ahead of
		   queued by the rows queued meanwhile: never negative. */
		out_printf(o, "authrelay_decision_queue_rows %" PRIu64 "\n",
			   queued > written ? queued - written : 0);
		out_family(o, "authrelay_decision_rows_dropped_total", "counter",
			   "Decision rows dropped because the queue was full.");
		out_printf(o, "authrelay_decision_rows_dropped_total %" PRIu64 "\n",
			   s->decision_rows_dropped);
	}
}

static void format_loginwatch(struct out *o, const struct metrics_scrape *s)
{
	out_family(o, "authrelay_loginwatch_lines_total", "counter",
		   "Candidate login lines read per source (lines holding a login message).");
	for (size_t i = 0; i < reg.nsources; i++) {
		out_printf(o, "authrelay_loginwatch_lines_total{source=\"");
		out_label(o, reg.sources[i]);
		out_printf(o, "\"} %" PRIu64 "\n", counter_get(&reg.lines[i]));
	}
	out_family(o, "authrelay_loginwatch_logins_total", "counter",
		   "Successful logins read, by parser format and service.");
	for (size_t f = 0; f < reg.nformats; f++)
		for (size_t v = 0; v < METRICS_SERVICES; v++) {
			uint64_t n = counter_get(&reg.logins[f][v]);

			if (n == 0)
				continue;
			out_printf(o, "authrelay_loginwatch_logins_total{format=\"%s\",service=\"%s\"} "
				      "%" PRIu64 "\n", reg.formats[f], services[v], n);
		}
	out_family(o, "authrelay_loginwatch_lag_bytes", "gauge",
		   "Bytes of a followed file not read yet.");
	for (size_t i = 0; i < reg.nsources; i++) {
		if (!s->has_lag[i])
			continue;
		out_printf(o, "authrelay_loginwatch_lag_bytes{source=\"");
		out_label(o, reg.sources[i]);
		out_printf(o, "\"} %" PRIu64 "\n", s->lag_bytes[i]);
	}
	if (s->has_grants) {
		out_family(o, "authrelay_grants_active", "gauge",
			   "Relay grants live now (the active_grants view).");
		out_printf(o, "authrelay_grants_active %" PRIu64 "\n", s->grants_active);
	}
}

/* metrics_format - the whole exposition */
int metrics_format(const struct metrics_scrape *scrape, char *buf, size_t size)
{
	struct out o = {buf, size, 0, size == 0};

	if (size > 0)
		buf[0] = '\0';
	if (!reg.enabled)
		return size > 0 ? 0 : -1;
	out_family(&o, "authrelay_build_info", "gauge", "Always 1; the version as a label.");
	out_printf(&o, "authrelay_build_info{program=\"%s\",version=\"", reg.program);
	out_label(&o, reg.version);
	out_printf(&o, "\"} 1\n");
	out_family(&o, "process_start_time_seconds", "gauge",
		   "Start time of the process since the Unix epoch in seconds.");
	out_printf(&o, "process_start_time_seconds %.3f\n", reg.start_time);
	out_family(&o, "authrelay_store_errors_total", "counter",
		   "Database calls that failed (lookups and writes).");
	out_printf(&o, "authrelay_store_errors_total{program=\"%s\"} %" PRIu64 "\n", reg.program,
		   counter_get(&reg.store_errors));
	if (reg.front_end)
		format_front_end(&o, scrape);
	if (reg.loginwatch)
		format_loginwatch(&o, scrape);
	return o.over ? -1 : (int)o.len;
}

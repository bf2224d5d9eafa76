/*
 * NAME
 *	status_decisions 3
 * SUMMARY
 *	authrelayctl status: the last hour's decisions, counted
 * DESCRIPTION
 *	Reads the decisions of the last STATUS_WINDOW seconds with
 *	store_audit(), which every backend serves from its time index (the
 *	views' text times are not indexed: counting through them read the
 *	whole table, 2 s per million rows), and counts them in one pass by
 *	verdict and rule, and the store errors among them by program. The
 *	counts become answers of the same shape as report_sql.c's, so the
 *	writers read them alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "status.h"

/* The last hour's decisions, counted by (verdict, rule) and, for store
   errors, by program. Verdicts and rules are a few words each; more
   pairs than this are counted under "other". */
#define TALLY_MAX 64

struct tally_entry {
	char key[2][64];	/* verdict, rule; or program, "" */
	long long count;
	int64_t last;
};

struct tally {
	struct tally_entry by_rule[TALLY_MAX], errors[TALLY_MAX];
	size_t nrules, nerrors;
};

/* tally_add - one more for the pair (a, b) */
static void tally_add(struct tally_entry *t, size_t *n, const char *a, const char *b, int64_t ts)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(t[i].key[0], a) == 0 && strcmp(t[i].key[1], b) == 0)
			break;
	if (i == *n) {
		if (*n == TALLY_MAX) {
			i = TALLY_MAX - 1;
			a = "other";
			b = "other";
		} else {
			(*n)++;
		}
		snprintf(t[i].key[0], sizeof t[i].key[0], "%s", a);
		snprintf(t[i].key[1], sizeof t[i].key[1], "%s", b);
	}
	t[i].count++;
	if (ts > t[i].last)
		t[i].last = ts;
}

static int tally_row(const struct store_decision_row *row, void *ctx)
{
	struct tally *t = ctx;
	const char *rule = row->rule != NULL ? row->rule : "";

	tally_add(t->by_rule, &t->nrules, row->verdict ? row->verdict : "", rule, row->ts);
	if (strcmp(rule, "store_error") == 0)
		tally_add(t->errors, &t->nerrors, row->program ? row->program : "", "", row->ts);
	return 0;
}

static int tally_cmp(const void *a, const void *b)
{
	const struct tally_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key[0], y->key[0]) != 0 ? strcmp(x->key[0], y->key[0])
						 : strcmp(x->key[1], y->key[1]);
}

static int newest_row(const struct store_decision_row *row, void *ctx)
{
	struct status *st = ctx;

	ctl_time_format(row->ts, st->newest_decision, sizeof st->newest_decision);
	return 1;
}

/* tally_rows - the counts as an answer, most first */
static struct report_rows *tally_rows(struct tally_entry *t, size_t n, bool errors)
{
	static const char *const rule_cols[] = { "verdict", "rule", "decisions" };
	static const char *const error_cols[] = { "program", "errors", "last" };
	struct report_rows *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	qsort(t, n, sizeof *t, tally_cmp);
	for (size_t i = 0; i < n; i++) {
		char count[32], last[CTL_TIME_MAX];
		const char *rule_values[] = { t[i].key[0], t[i].key[1], count };
		const char *error_values[] = { t[i].key[0], count,
					       ctl_time_format(t[i].last, last, sizeof last) };

		snprintf(count, sizeof count, "%lld", t[i].count);
		if (report_rows_add(r, 3, errors ? error_cols : rule_cols,
				    errors ? error_values : rule_values) != 0) {
			report_rows_free(&r);
			return NULL;
		}
	}
	return r;
}

/* status_decisions_collect - the last hour, and the newest decision */
void status_decisions_collect(struct store *store, struct status *st)
{
	struct store_audit_filter filter = { .since = st->now - STATUS_WINDOW };
	struct store_audit_filter newest = { .limit = 1 };
	struct tally *t = calloc(1, sizeof *t);
	char *error = NULL;

	if (t == NULL || store_audit(store, &filter, tally_row, t, &error) != 0 ||
	    store_audit(store, &newest, newest_row, st, &error) != 0) {
		snprintf(st->query_error, sizeof st->query_error, "decisions: %s",
			 t == NULL ? "out of memory" : error ? error : "database error");
	} else {
		st->decisions = tally_rows(t->by_rule, t->nrules, false);
		st->store_errors = tally_rows(t->errors, t->nerrors, true);
		if (st->decisions == NULL || st->store_errors == NULL)
			snprintf(st->query_error, sizeof st->query_error, "out of memory");
	}
	free(error);
	free(t);
}

/*
 * NAME
 *	cmd_audit 3
 * SUMMARY
 *	authrelayctl audit
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	Relay decisions, newest first, with the columns of the decisions
 *	view. Filters combine (AND): --since D (the last D: 2h, 7d),
 *	--user U (SASL user), --ip IP (the client; written in any form, it
 *	is compared in the normalised form the daemons store: RFC 5952,
 *	IPv4-mapped as IPv4), --verdict V (permit dunno reject tempfail),
 *	--limit N. Rows are written as they come, so memory does not grow
 *	with the answer.
 *
 *	--query NAME runs one of the ready queries of sql/audit.sql
 *	(compiled in) instead; --query list names them. The columns are the
 *	query's own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "duration.h"
#include "ipaddr.h"
#include "output.h"

static const struct out_column audit_columns[] = {
	{"ts", OUT_STRING},	   {"program", OUT_STRING},   {"client_ip", OUT_STRING},
	{"sasl_username", OUT_STRING}, {"sender", OUT_STRING}, {"recipient", OUT_STRING},
	{"verdict", OUT_STRING},   {"rule", OUT_STRING},      {"reason", OUT_STRING},
	{"queue_id", OUT_STRING},
};
#define AUDIT_NCOLS (sizeof audit_columns / sizeof audit_columns[0])

/* Above any real use, below what unsigned holds everywhere. */
#define AUDIT_LIMIT_MAX 100000000UL

/* The decisions' rows go to t; the first one ends the progress line. */
struct audit_out {
	struct ctl *ctl;
	struct out_table *t;
};

static int decision_row(const struct store_decision_row *row, void *ctx)
{
	struct audit_out *a = ctx;
	char ts[CTL_TIME_MAX];
	const char *values[AUDIT_NCOLS] = {
		ctl_time_format(row->ts, ts, sizeof ts),
		row->program,
		row->client_ip,
		row->sasl_username,
		row->sender,
		row->recipient,
		row->verdict,
		row->rule,
		row->reason,
		row->queue_id,
	};

	ctl_progress_end(a->ctl);
	out_table_row(a->t, values);
	return 0;
}

static bool is_verdict(const char *v)
{
	static const char *const verdicts[] = {"permit", "dunno", "reject", "tempfail"};

	for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++)
		if (strcmp(v, verdicts[i]) == 0)
			return true;
	return false;
}

/* A ready query's rows: the table is made at the first row, when the
   column names are known. */
struct query_out {
	struct ctl *ctl;
	struct out_table *t;
	unsigned rows;
	/* out_table keeps pointers to its columns; SQLite's names live only
	   during the callback, so the table gets its own copies. */
	struct out_column cols[64];
	char *names[64];
	size_t ncols;
};

static int query_row(int ncols, const char *const *names, const char *const *values, void *ctx)
{
	struct query_out *q = ctx;

	if (q->t == NULL) {
		ctl_progress_end(q->ctl);
		q->ncols = ncols > 64 ? 64 : (size_t)ncols;
		for (size_t i = 0; i < q->ncols; i++) {
			q->names[i] = strdup(names[i] ? names[i] : "?");
			if (q->names[i] == NULL)
				return -1;
			q->cols[i] = (struct out_column){ q->names[i], OUT_STRING };
		}
		q->t = out_table_new(q->ctl->out, q->ctl->json, q->cols, q->ncols);
	}
	out_table_row(q->t, values);
	q->rows++;
	return 0;
}

static int list_query(const char *name, const char *what, void *ctx)
{
	struct out_table *t = ctx;
	const char *values[2] = { name, what };

	out_table_row(t, values);
	return 0;
}

/* The name looked for by query_known(). */
struct known {
	const char *name;
	bool found;
};

static int known_name(const char *name, const char *what, void *ctx)
{
	struct known *k = ctx;

	(void)what;
	k->found = strcmp(name, k->name) == 0;
	return k->found;
}

/* query_known - sql/audit.sql has a query called name (the usage check,
   made before the database is opened) */
static bool query_known(const char *name)
{
	struct known k = { name, false };

	store_queries_list(NULL, STORE_QUERIES_AUDIT, known_name, &k);
	return k.found;
}

/* audit --query NAME | list */
static int run_named_query(struct ctl *ctl, const char *name)
{
	static const struct out_column list_columns[] = {
		{ "name", OUT_STRING }, { "what", OUT_STRING },
	};
	struct query_out q = { .ctl = ctl };
	char *error = NULL;
	int status, rc;

	if (strcmp(name, "list") == 0) {
		struct out_table *t = out_table_new(ctl->out, ctl->json, list_columns, 2);
		store_queries_list(NULL, STORE_QUERIES_AUDIT, list_query, t);
		out_table_end(&t);
		return EX_OK;
	}
	if (!query_known(name))
		return ctl_usage_error(ctl, "--query: no query called \"%s\" "
					    "(authrelayctl audit --query list names them)", name);
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	/* The store runs it in the database's own SQL (the backend's copy
	   of sql/audit.sql has the same names), or says it has none. */
	status = EX_OK;
	ctl_progress_begin(ctl, "audit", PROGRESS_BUSY, "running the query");
	rc = store_query_named(ctl->store, STORE_QUERIES_AUDIT, name, 0, query_row, &q, &error);
	ctl_progress_end(ctl);
	if (rc != 0) {
		ctl_error("query %s: %s", name, error ? error : "database error");
		status = EX_UNAVAILABLE;
	}
	free(error);
	if (q.t != NULL)
		out_table_end(&q.t);
	else if (status == EX_OK)
		fputs(ctl->json ? "[]\n" : "(no rows)\n", ctl->out);
	for (size_t i = 0; i < q.ncols; i++)
		free(q.names[i]);
	return status;
}

/* cmd_audit - the filtered decisions */

int cmd_audit(struct ctl *ctl, int argc, char **argv)
{
	const char *since = NULL, *user = NULL, *ip = NULL, *verdict = NULL, *limit = NULL;
	const char *query = NULL;
	const struct ctl_option opts[] = {
		{"--since", &since}, {"--user", &user},	    {"--ip", &ip},
		{"--verdict", &verdict}, {"--limit", &limit}, {"--query", &query},
		{NULL, NULL},
	};
	struct store_audit_filter filter;
	struct ipaddr addr;
	char ip_text[IPADDR_STRLEN];
	struct audit_out a = { .ctl = ctl };
	char *error = NULL;
	int status, rc;

	if (ctl_args(ctl, argc, argv, opts, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	if (query != NULL) {
		if (since || user || ip || verdict || limit)
			return ctl_usage_error(ctl, "--query runs a ready query; it takes no "
						    "other filter");
		return run_named_query(ctl, query);
	}
	memset(&filter, 0, sizeof filter);
	if (since != NULL) {
		long long seconds;

		if (duration_parse(since, &seconds, &error) != 0) {
			status = ctl_usage_error(ctl, "--since: %s", error ? error : since);
			free(error);
			return status;
		}
		filter.since = ctl->now - seconds;
	}
	if (user != NULL) {
		if (!ctl_is_plain(user, STORE_USER_MAX))
			return ctl_usage_error(ctl, "--user: not a user name");
		filter.username = user;
	}
	if (ip != NULL) {
		if (ipaddr_parse(ip, &addr) != 0)
			return ctl_usage_error(ctl, "--ip: \"%s\" is not an IP address", ip);
		filter.ip = ipaddr_format(&addr, ip_text);
	}
	if (verdict != NULL) {
		if (!is_verdict(verdict))
			return ctl_usage_error(ctl, "--verdict: \"%s\" is not one of permit, "
						    "dunno, reject, tempfail",
					       verdict);
		filter.verdict = verdict;
	}
	if (limit != NULL) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(limit, &end, 10);
		if (limit[0] < '0' || limit[0] > '9' || *end != 0 || errno != 0 || n == 0 ||
		    n > AUDIT_LIMIT_MAX)
			return ctl_usage_error(ctl, "--limit: a number from 1 to %lu",
					       AUDIT_LIMIT_MAX);
		filter.limit = (unsigned)n;
	}
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	a.t = out_table_new(ctl->out, ctl->json, audit_columns, AUDIT_NCOLS);
	/* Time is the only index of the decisions: without --since, a
	   filter that matches little reads the whole table first. */
	ctl_progress_begin(ctl, "audit", PROGRESS_BUSY,
			   filter.since == 0 ? "no --since: reading every decision row"
					     : "reading the decisions");
	rc = store_audit(ctl->store, &filter, decision_row, &a, &error);
	ctl_progress_end(ctl);
	if (rc != 0) {
		out_table_end(&a.t);
		ctl_error("cannot read decisions: %s", error ? error : "database error");
		free(error);
		return EX_UNAVAILABLE;
	}
	out_table_end(&a.t);
	return EX_OK;
}

/*
 * NAME
 *	cmd_limit 3
 * SUMMARY
 *	authrelayctl limit list | set | clear | show
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	Per-user and per-domain sending limits, changed at run time: the
 *	daemons read them per attempt, so no restart or reload is needed.
 *	"set" writes the kinds given (--recipients, --messages; "unlimited"
 *	exempts); a kind not given keeps its row or falls through to the
 *	domain and the default. "clear" removes every row of the subject.
 *	"show" prints each window that applies to a user (or a client IP
 *	counted for a grant without a user): its limit, where it comes
 *	from, and what it holds now, by the database's clock. The store
 *	writes the admin_log row with each change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "duration.h"
#include "limit_resolve.h"
#include "output.h"

static const struct out_column limit_columns[] = {
	{"subject", OUT_STRING},
	{"kind", OUT_STRING},
	{"limit", OUT_STRING},
	{"changed", OUT_STRING},
};
#define LIMIT_NCOLS (sizeof limit_columns / sizeof limit_columns[0])

static int limit_row(const char *subject, const char *kind, const char *spec, int64_t changed,
		     void *ctx)
{
	struct out_table *t = ctx;
	char when[CTL_TIME_MAX];
	const char *values[LIMIT_NCOLS] = {subject, kind, spec,
					   ctl_time_format(changed, when, sizeof when)};

	out_table_row(t, values);
	return 0;
}

static int list_limits(struct ctl *ctl, const void *arg, struct out_table *t, char **error_r)
{
	(void)arg;
	return store_limit_list(ctl->store, limit_row, t, error_r);
}

/* cmd_limit_list - every limit row */
int cmd_limit_list(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_args(ctl, argc, argv, NULL, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	return ctl_list(ctl, limit_columns, LIMIT_NCOLS, list_limits, NULL, "limits");
}

/* limit_subject_check - USER or @DOMAIN from the command line */
static int limit_subject_check(struct ctl *ctl, const char *subject)
{
	if (!ctl_is_plain(subject, STORE_USER_MAX))
		return ctl_usage_error(ctl, "USER|@DOMAIN: 1 to %d characters, without control "
					    "characters",
				       STORE_USER_MAX - 1);
	return EX_OK;
}

/* limit_subject_open - the one USER|@DOMAIN argument, checked; the store open */
static int limit_subject_open(struct ctl *ctl, int argc, char **argv, const char **pos_r)
{
	int status;

	if (ctl_args(ctl, argc, argv, NULL, pos_r, 1, 1, NULL) != 0)
		return EX_USAGE;
	if ((status = limit_subject_check(ctl, pos_r[0])) != EX_OK)
		return status;
	return ctl_store(ctl, false);
}

/* cmd_limit_set - write the kinds given */
int cmd_limit_set(struct ctl *ctl, int argc, char **argv)
{
	const char *text[STORE_LIMIT_KINDS] = {NULL, NULL}, *pos[1];
	const struct ctl_option opts[] = {{"--recipients", &text[STORE_LIMIT_RECIPIENTS]},
					  {"--messages", &text[STORE_LIMIT_MESSAGES]},
					  {NULL, NULL}};
	struct limit_spec spec[STORE_LIMIT_KINDS];
	char detail[2 * LIMIT_SPEC_TEXT_MAX + 32] = "";
	int status;

	if (ctl_args(ctl, argc, argv, opts, pos, 1, 1, NULL) != 0)
		return EX_USAGE;
	if ((status = limit_subject_check(ctl, pos[0])) != EX_OK)
		return status;
	if (text[0] == NULL && text[1] == NULL)
		return ctl_usage_error(ctl, "give --recipients, --messages, or both");
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		char *error = NULL;

		if (text[k] == NULL)
			continue;
		if (limit_spec_parse(text[k], &spec[k], &error) != 0) {
			status = ctl_usage_error(ctl, "--%s: %s", store_limit_kind_name(k),
						 error ? error : "bad limit");
			free(error);
			return status;
		}
		if (!spec[k].unlimited && spec[k].count == 0)
			return ctl_usage_error(ctl, "--%s none: to drop a limit, use "
						    "authrelayctl limit clear",
					       store_limit_kind_name(k));
	}
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		char *error = NULL, buf[LIMIT_SPEC_TEXT_MAX];
		size_t n;

		if (text[k] == NULL)
			continue;
		if (store_limit_set(ctl->store, pos[0], k, &spec[k], ctl->actor, &error) != 0) {
			ctl_error("cannot set the %s limit of %s: %s", store_limit_kind_name(k),
				  pos[0], error ? error : "database error");
			free(error);
			return CTL_EXIT_REFUSED;
		}
		n = strlen(detail);
		snprintf(detail + n, sizeof detail - n, "%s%s %s", n ? "; " : "",
			 store_limit_kind_name(k), limit_spec_format(&spec[k], buf, sizeof buf));
	}
	ctl_report_change(ctl, "limit set", pos[0], detail);
	return EX_OK;
}

/* cmd_limit_clear - remove every row of the subject */
int cmd_limit_clear(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	char *error = NULL;
	int status;

	if ((status = limit_subject_open(ctl, argc, argv, pos)) != EX_OK)
		return status;
	if (store_limit_clear(ctl->store, pos[0], ctl->actor, &error) != 0) {
		ctl_error("cannot clear the limits of %s: %s", pos[0],
			  error ? error : "database error");
		free(error);
		return CTL_EXIT_REFUSED;
	}
	ctl_report_change(ctl, "limit cleared", pos[0], "the domain's or the default limits apply");
	return EX_OK;
}

static const struct out_column show_columns[] = {
	{"username", OUT_STRING}, {"kind", OUT_STRING}, {"window", OUT_STRING},
	{"max", OUT_INT},	  {"used", OUT_INT},	{"from", OUT_STRING},
};
#define SHOW_NCOLS (sizeof show_columns / sizeof show_columns[0])

/* cmd_limit_show - each window of a user: limit, source, use now */
int cmd_limit_show(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	struct limit_resolved lr;
	struct store_limit_state state;
	struct store_limit_charge c;
	struct out_table *t;
	char *error = NULL;
	int status;

	if ((status = limit_subject_open(ctl, argc, argv, pos)) != EX_OK)
		return status;
	if (limit_resolve(ctl->store, ctl->cfg, pos[0], &lr) != 0) {
		ctl_error("cannot read the limits of %s: database error", pos[0]);
		return EX_UNAVAILABLE;
	}
	c = (struct store_limit_charge){pos[0], {&lr.spec[0], &lr.spec[1]}, {0, 0}, false};
	if (store_limit_charge(ctl->store, &c, &state, &error) != 0) {
		ctl_error("cannot read the counters of %s: %s", pos[0],
			  error ? error : "database error");
		free(error);
		return EX_UNAVAILABLE;
	}
	t = out_table_new(ctl->out, ctl->json, show_columns, SHOW_NCOLS);
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		const char *from = lr.from_database[k] ? "database" : "default";

		if (!limit_spec_is_active(&lr.spec[k])) {
			const char *values[SHOW_NCOLS] = {
				pos[0], store_limit_kind_name(k),
				lr.spec[k].unlimited ? "unlimited" : "none", "", "", from};

			out_table_row(t, values);
			continue;
		}
		for (unsigned w = 0; w < lr.spec[k].count; w++) {
			char window[64], max[24], used[24];
			const char *values[SHOW_NCOLS] = {pos[0], store_limit_kind_name(k), window,
							  max, used, from};

			duration_format(lr.spec[k].windows[w].seconds, window, sizeof window);
			snprintf(max, sizeof max, "%u", (unsigned)lr.spec[k].windows[w].max);
			snprintf(used, sizeof used, "%llu", (unsigned long long)state.used[k][w]);
			out_table_row(t, values);
		}
	}
	out_table_end(&t);
	return EX_OK;
}

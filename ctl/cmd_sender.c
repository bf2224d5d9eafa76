/*
 * NAME
 *	cmd_sender 3
 * SUMMARY
 *	authrelayctl sender list | allow | deny
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	Which sender addresses an authenticated user may use under
 *	sender_login_check: a full address, "@domain" (that domain, not
 *	its subdomains) or "*". The pattern is checked here with the same
 *	rules the store applies (lib/addr), so a typo is a usage error
 *	that names the problem, before the database is touched.
 */
#include <stdlib.h>
#include <sysexits.h>

#include "addr.h"
#include "ctl.h"
#include "output.h"

static const struct out_column sender_columns[] = {
	{"username", OUT_STRING},
	{"pattern", OUT_STRING},
	{"added", OUT_STRING},
};
#define SENDER_NCOLS (sizeof sender_columns / sizeof sender_columns[0])

static int sender_row(const char *username, const char *pattern, int64_t added, void *ctx)
{
	struct out_table *t = ctx;
	char when[CTL_TIME_MAX];
	const char *values[SENDER_NCOLS] = {username, pattern,
					    ctl_time_format(added, when, sizeof when)};

	out_table_row(t, values);
	return 0;
}

/* list_senders - everybody's patterns (arg NULL) or user arg's */
static int list_senders(struct ctl *ctl, const void *arg, struct out_table *t, char **error_r)
{
	return store_sender_list(ctl->store, arg, sender_row, t, error_r);
}

/* cmd_sender_list - everybody's patterns, or one user's */
int cmd_sender_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1] = {NULL};

	if (ctl_args(ctl, argc, argv, NULL, pos, 0, 1, NULL) != 0)
		return EX_USAGE;
	if (pos[0] != NULL && !ctl_is_plain(pos[0], STORE_USER_MAX))
		return ctl_usage_error(ctl, "USER: not a user name");
	return ctl_list(ctl, sender_columns, SENDER_NCOLS, list_senders, pos[0], "senders");
}

/* sender_change - allow or deny one pattern */

static int sender_change(struct ctl *ctl, int argc, char **argv, bool allow)
{
	const char *pos[2];
	char pattern[ADDR_MAX];
	char *error = NULL;
	int status;
	int (*change)(struct store *, const char *, const char *, const char *, char **) =
		allow ? store_sender_allow : store_sender_deny;

	if (ctl_args(ctl, argc, argv, NULL, pos, 2, 2, NULL) != 0)
		return EX_USAGE;
	if (!ctl_is_plain(pos[0], STORE_USER_MAX))
		return ctl_usage_error(ctl, "USER: a user name of 1 to %d characters, without "
					    "control characters",
				       STORE_USER_MAX - 1);
	if (addr_pattern_normalize(pos[1], pattern, sizeof pattern, &error) != 0) {
		status = ctl_usage_error(ctl, "ADDRESS: %s", error ? error : "not a pattern");
		free(error);
		return status;
	}
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	if (change(ctl->store, pos[0], pattern, ctl->actor, &error) != 0) {
		ctl_error("cannot %s %s for %s: %s", allow ? "allow" : "deny", pattern, pos[0],
			  error ? error : "database error");
		free(error);
		return CTL_EXIT_REFUSED;
	}
	ctl_report_change(ctl, allow ? "sender allowed" : "sender denied", pos[0], pattern);
	return EX_OK;
}

int cmd_sender_allow(struct ctl *ctl, int argc, char **argv)
{
	return sender_change(ctl, argc, argv, true);
}

int cmd_sender_deny(struct ctl *ctl, int argc, char **argv)
{
	return sender_change(ctl, argc, argv, false);
}

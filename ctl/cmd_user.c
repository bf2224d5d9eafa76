/*
 * NAME
 *	cmd_user 3
 * SUMMARY
 *	authrelayctl user list | suspend | resume
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	A suspended SASL user is refused relay (5.7.1) however else the
 *	client would qualify. Suspending a user the database has not seen
 *	yet creates the row, so a user can be stopped before first use.
 *	The store writes the admin_log row with each change.
 */
#include <stdlib.h>
#include <sysexits.h>

#include "ctl.h"
#include "output.h"

static const struct out_column user_columns[] = {
	{"username", OUT_STRING},
	{"suspended", OUT_BOOL},
	{"changed", OUT_STRING},
	{"senders", OUT_INT},
};
#define USER_NCOLS (sizeof user_columns / sizeof user_columns[0])

static int user_row(const struct store_user *u, void *ctx)
{
	struct out_table *t = ctx;
	char changed[CTL_TIME_MAX], senders[16];
	const char *values[USER_NCOLS];

	snprintf(senders, sizeof senders, "%u", u->senders);
	values[0] = u->username;
	values[1] = u->suspended ? "true" : "false";
	values[2] = ctl_time_format(u->changed, changed, sizeof changed);
	values[3] = senders;
	out_table_row(t, values);
	return 0;
}

/* list_users - the users table */
static int list_users(struct ctl *ctl, const void *arg, struct out_table *t, char **error_r)
{
	(void)arg;
	return store_user_list(ctl->store, user_row, t, error_r);
}

/* cmd_user_list - every user the database knows */
int cmd_user_list(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_args(ctl, argc, argv, NULL, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	return ctl_list(ctl, user_columns, USER_NCOLS, list_users, NULL, "users");
}

/* user_set - suspend or resume one user */

static int user_set(struct ctl *ctl, int argc, char **argv, bool suspended)
{
	const char *pos[1];
	char *error = NULL;
	int status;

	if (ctl_args(ctl, argc, argv, NULL, pos, 1, 1, NULL) != 0)
		return EX_USAGE;
	if (!ctl_is_plain(pos[0], STORE_USER_MAX))
		return ctl_usage_error(ctl, "USER: a user name of 1 to %d characters, without "
					    "control characters",
				       STORE_USER_MAX - 1);
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	if (store_user_set_suspended(ctl->store, pos[0], suspended, ctl->actor, &error) != 0) {
		ctl_error("cannot %s %s: %s", suspended ? "suspend" : "resume", pos[0],
			  error ? error : "database error");
		free(error);
		return CTL_EXIT_REFUSED;
	}
	ctl_report_change(ctl, suspended ? "user suspended" : "user resumed", pos[0],
			  suspended ? "relay refused with 5.7.1" : "relay allowed again");
	return EX_OK;
}

int cmd_user_suspend(struct ctl *ctl, int argc, char **argv)
{
	return user_set(ctl, argc, argv, true);
}

int cmd_user_resume(struct ctl *ctl, int argc, char **argv)
{
	return user_set(ctl, argc, argv, false);
}

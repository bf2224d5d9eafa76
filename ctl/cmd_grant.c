/*
 * NAME
 *	cmd_grant 3
 * SUMMARY
 *	authrelayctl grant list | add | revoke
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	"grant add IP" opens relay for IP as a POP/IMAP login would: an
 *	IPv4 address as /32, an IPv6 address widened to grant_ipv6_prefix
 *	(so a privacy address of the same host is covered), an IPv4-mapped
 *	address as IPv4. The grant is "manual" and lasts --ttl (default
 *	grant_ttl). "grant revoke IP" removes every grant covering IP.
 *	The store writes the admin_log row with each change.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>

#include "cidr.h"
#include "duration.h"
#include "ctl.h"
#include "ipaddr.h"
#include "output.h"

/* The active_grants view's columns, in its order. */
static const struct out_column grant_columns[] = {
	{"ip", OUT_STRING},	   {"prefix_len", OUT_INT}, {"username", OUT_STRING},
	{"service", OUT_STRING},   {"first_seen", OUT_STRING}, {"last_seen", OUT_STRING},
	{"expires_at", OUT_STRING}, {"logins", OUT_INT},
};
#define GRANT_NCOLS (sizeof grant_columns / sizeof grant_columns[0])

static int grant_row(const struct store_grant *g, void *ctx)
{
	struct out_table *t = ctx;
	char ip[IPADDR_STRLEN], len[16], first[CTL_TIME_MAX], last[CTL_TIME_MAX];
	char expires[CTL_TIME_MAX], logins[24];
	const char *values[GRANT_NCOLS];

	snprintf(len, sizeof len, "%u", g->prefix_len);
	snprintf(logins, sizeof logins, "%lld", (long long)g->logins);
	values[0] = ipaddr_format(&g->net, ip);
	values[1] = len;
	values[2] = g->username;
	values[3] = g->service;
	values[4] = ctl_time_format(g->first_seen, first, sizeof first);
	values[5] = ctl_time_format(g->last_seen, last, sizeof last);
	values[6] = ctl_time_format(g->expires_at, expires, sizeof expires);
	values[7] = logins;
	out_table_row(t, values);
	return 0;
}

/* list_grants - the live grants */
static int list_grants(struct ctl *ctl, const void *arg, struct out_table *t, char **error_r)
{
	(void)arg;
	return store_grant_list(ctl->store, ctl->now, grant_row, t, error_r);
}

/* cmd_grant_list - every live grant, oldest first */
int cmd_grant_list(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_args(ctl, argc, argv, NULL, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	return ctl_list(ctl, grant_columns, GRANT_NCOLS, list_grants, NULL, "grants");
}

/* ip_from_argument - a command-line address, or a usage error */

static int ip_from_argument(struct ctl *ctl, const char *text, struct ipaddr *ip_r)
{
	if (ipaddr_parse(text, ip_r) != 0) {
		ctl_usage_error(ctl, "\"%s\" is not an IP address (a network is written "
				     "as an address; IPv6 widens to grant_ipv6_prefix)",
				text);
		return -1;
	}
	return 0;
}

/* cmd_grant_add - a manual grant */

int cmd_grant_add(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *ttl_text = NULL, *pos[1];
	const struct ctl_option opts[] = {{"--user", &user}, {"--ttl", &ttl_text}, {NULL, NULL}};
	struct store_grant g;
	struct ipaddr ip;
	long long ttl;
	char *error = NULL;
	char net[IPADDR_STRLEN], subject[IPADDR_STRLEN + 8], detail[STORE_USER_MAX + 64];
	char until[CTL_TIME_MAX];
	int status;

	if (ctl_args(ctl, argc, argv, opts, pos, 1, 1, NULL) != 0)
		return EX_USAGE;
	if (ip_from_argument(ctl, pos[0], &ip) != 0)
		return EX_USAGE;
	if (user != NULL && !ctl_is_plain(user, STORE_USER_MAX))
		return ctl_usage_error(ctl, "--user: a user name of 1 to %d characters, "
					    "without control characters",
				       STORE_USER_MAX - 1);
	if (ttl_text != NULL) {
		if (duration_parse(ttl_text, &ttl, &error) != 0) {
			status = ctl_usage_error(ctl, "--ttl: %s", error ? error : ttl_text);
			free(error);
			return status;
		}
		if (ttl <= 0)
			return ctl_usage_error(ctl, "--ttl: a grant must last at least 1s");
	}
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	if (ttl_text == NULL)
		ttl = ctl->cfg->grant_ttl;

	memset(&g, 0, sizeof g);
	g.net = ip;
	g.prefix_len = ip.family == AF_INET6 ? ctl->cfg->grant_ipv6_prefix : 32;
	ipaddr_mask(&g.net, g.prefix_len);
	snprintf(g.username, sizeof g.username, "%s", user ? user : "");
	snprintf(g.service, sizeof g.service, "manual");
	g.first_seen = g.last_seen = ctl->now;
	g.expires_at = ctl->now + ttl;
	g.logins = 0;
	if (cidr_list_match(ctl->cfg->grant_exclude_networks, &ip))
		ctl_warning("%s is in grant_exclude_networks; granting anyway, as asked", pos[0]);

	if (store_grant_add(ctl->store, &g, ctl->actor, &error) != 0) {
		ctl_error("cannot add the grant: %s", error ? error : "database error");
		free(error);
		return CTL_EXIT_REFUSED;
	}
	snprintf(subject, sizeof subject, "%s/%u", ipaddr_format(&g.net, net), g.prefix_len);
	snprintf(detail, sizeof detail, "user %s, until %s", *g.username ? g.username : "-",
		 ctl_time_format(g.expires_at, until, sizeof until));
	ctl_report_change(ctl, "grant added", subject, detail);
	return EX_OK;
}

/* cmd_grant_revoke - removes every grant covering IP */

int cmd_grant_revoke(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	struct ipaddr ip;
	unsigned removed = 0;
	char *error = NULL;
	char text[IPADDR_STRLEN], detail[48];
	int status;

	if (ctl_args(ctl, argc, argv, NULL, pos, 1, 1, NULL) != 0)
		return EX_USAGE;
	if (ip_from_argument(ctl, pos[0], &ip) != 0)
		return EX_USAGE;
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	if (store_grant_revoke(ctl->store, &ip, ctl->actor, &removed, &error) != 0) {
		ctl_error("cannot revoke: %s", error ? error : "database error");
		free(error);
		return CTL_EXIT_REFUSED;
	}
	ipaddr_format(&ip, text);
	if (removed == 0) {
		ctl_error("no grant covers %s", text);
		return CTL_EXIT_REFUSED;
	}
	snprintf(detail, sizeof detail, "%u grant%s removed", removed, removed == 1 ? "" : "s");
	ctl_report_change(ctl, "grant revoked", text, detail);
	return EX_OK;
}

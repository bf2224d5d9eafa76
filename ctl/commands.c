/*
 * NAME
 *	commands 3
 * SUMMARY
 *	authrelayctl's command table
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	One row per command. A family with verbs ("grant list", "grant
 *	add") has one row per verb; a one-word command has verb NULL. The
 *	usage text printed by -h and on bad arguments comes from here, so
 *	it cannot drift from what is accepted.
 *
 *	To add a command: write cmd_NAME.c, declare its function in ctl.h,
 *	add a row.
 */
#include <string.h>

#include "ctl.h"

const struct ctl_command ctl_commands[] = {
	{"init", NULL, "", "create or migrate the database",
	 cmd_init},
	{"check", NULL, "[--postfix-config DIR]",
	 "check the config, the database and the Postfix wiring", cmd_check},
	{"grant", "list", "", "live relay grants", cmd_grant_list},
	{"grant", "add", "IP [--user U] [--ttl D]", "open relay for IP (IPv6: grant_ipv6_prefix)", cmd_grant_add},
	{"grant", "revoke", "IP", "remove every grant covering IP", cmd_grant_revoke},
	{"user", "list", "", "SASL users known to the database", cmd_user_list},
	{"user", "suspend", "USER", "refuse relay to USER", cmd_user_suspend},
	{"user", "resume", "USER", "allow relay to USER again", cmd_user_resume},
	{"limit", "list", "", "per-user and per-domain sending limits", cmd_limit_list},
	{"limit", "set", "USER|@DOMAIN [--recipients R] [--messages M]",
	 "limits such as 100/1h,1000/1d, or unlimited (no restart needed)", cmd_limit_set},
	{"limit", "clear", "USER|@DOMAIN", "drop the limits of USER or @DOMAIN", cmd_limit_clear},
	{"limit", "show", "USER", "each window that applies to USER and its use now",
	 cmd_limit_show},
	{"sender", "list", "[USER]", "sender addresses users may use", cmd_sender_list},
	{"sender", "allow", "USER ADDRESS", "let USER send as ADDRESS (a@d, @d or *)",
	 cmd_sender_allow},
	{"sender", "deny", "USER ADDRESS", "withdraw ADDRESS from USER", cmd_sender_deny},
	{"audit", NULL, "[--since D] [--user U] [--ip IP] [--verdict V] [--limit N] | --query NAME",
	 "relay decisions, newest first; or a ready query of audit.sql", cmd_audit},
	{"cert", "list", "", "registered TLS client certificates", cmd_cert_list},
	{"cert", "add", "USER FILE.pem", "register USER's client certificate (both fingerprints)",
	 cmd_cert_add},
	{"cert", "revoke", "FINGERPRINT", "forget a certificate (either fingerprint)",
	 cmd_cert_revoke},
	{"selftest", NULL,
	 "--server HOST:PORT [--starttls] [--user U --password-file F] ...",
	 "open-relay self-check over SMTP (never sends a message)", cmd_selftest},
	{"prune", NULL, "", "delete decisions older than audit_retention and expired grants", cmd_prune},
	{"copy", NULL, "--to DATABASE [--to-password-file FILE] [--replace]",
	 "copy every table into another database (SQLite to PostgreSQL)", cmd_copy},
	{"status", NULL, "[--expect DAEMONS]", "one screen: daemons, database, grants, decisions, lag",
	 cmd_status},
	{"report", NULL, "[--since D] [--html FILE]", "a summary for people; --html: one file with charts",
	 cmd_report},
	{NULL, NULL, NULL, NULL, NULL},
};

/* ctl_command_find - the row named by the first one or two words */

const struct ctl_command *ctl_command_find(int argc, char **argv, int *words_r)
{
	if (argc < 1)
		return NULL;
	for (const struct ctl_command *c = ctl_commands; c->family != NULL; c++) {
		if (strcmp(c->family, argv[0]) != 0)
			continue;
		if (c->verb == NULL) {
			*words_r = 1;
			return c;
		}
		if (argc >= 2 && strcmp(c->verb, argv[1]) == 0) {
			*words_r = 2;
			return c;
		}
	}
	return NULL;
}

/* ctl_usage_all - every command, one line each */

void ctl_usage_all(FILE *fp)
{
	fputs("usage: authrelayctl [-c FILE] [--json] [--quiet | --progress] COMMAND\n"
	      "       authrelayctl -h | -V\n"
	      "commands:\n",
	      fp);
	for (const struct ctl_command *c = ctl_commands; c->family != NULL; c++) {
		char words[128];

		snprintf(words, sizeof words, "%s%s%s%s%s", c->family, c->verb ? " " : "",
			 c->verb ? c->verb : "", *c->args ? " " : "", c->args);
		fprintf(fp, "  %-48s %s\n", words, c->summary);
	}
}

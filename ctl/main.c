/*
 * NAME
 *	authrelayctl 8
 * SUMMARY
 *	authrelay administration: grants, users, senders, audit, checks
 * SYNOPSIS
 *	authrelayctl [-c FILE] [--json] [--quiet | --progress] COMMAND [ARGS]
 * DESCRIPTION
 *	Parses the global options, finds the command in ctl_commands[],
 *	loads the config and opens the database as the command needs, runs
 *	it, and closes everything. See authrelayctl(8).
 * DIAGNOSTICS
 *	Exit codes follow sysexits.h: 0 done, 64 usage, 69 database
 *	unavailable, 70 internal, 78 configuration; 1 a change the
 *	database refused (e.g. deny of a pattern that is not there).
 */
#include <stdlib.h>
#include <syslog.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cfg.h"
#include "ctl.h"
#include "log.h"
#include "store.h"

#ifndef AUTHRELAY_VERSION
#define AUTHRELAY_VERSION "unknown"
#endif

/* strip_json - removes every "--json", "--quiet" and "--progress" before
   "--" (they may follow the command too), returning the new argc */

static int strip_json(struct ctl *ctl, int argc, char **argv)
{
	int out = 0;
	bool done = false;

	for (int i = 0; i < argc; i++) {
		if (!done && strcmp(argv[i], "--") == 0)
			done = true;
		if (!done && strcmp(argv[i], "--json") == 0) {
			ctl->json = true;
			continue;
		}
		if (!done && strcmp(argv[i], "--quiet") == 0) {
			ctl->progress_mode = PROGRESS_QUIET;
			continue;
		}
		if (!done && strcmp(argv[i], "--progress") == 0) {
			ctl->progress_mode = PROGRESS_ALWAYS;
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

/* unknown_command - says which words are commands */

static int unknown_command(struct ctl *ctl, int argc, char **argv)
{
	bool family = false;

	for (const struct ctl_command *c = ctl_commands; c->family != NULL; c++)
		if (strcmp(c->family, argv[0]) == 0)
			family = true;
	if (family)
		ctl_error(argc > 1 ? "unknown %s command \"%s\"" : "%s needs a command%s", argv[0],
			  argc > 1 ? argv[1] : "");
	else
		ctl_error("unknown command \"%s\"", argv[0]);
	ctl->cmd = NULL;
	return ctl_usage_error(ctl, NULL);
}

int main(int argc, char **argv)
{
	struct ctl ctl;
	int words = 0;
	int i;
	int status;

	memset(&ctl, 0, sizeof ctl);
	ctl.out = stdout;
	ctl.now = (int64_t)time(NULL);
	argc = strip_json(&ctl, argc - 1, argv + 1);
	argv = argv + 1;

	for (i = 0; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			ctl.config_path = argv[++i];
		} else if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] != 0) {
			ctl.config_path = argv[i] + 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			ctl_usage_all(stdout);
			return EX_OK;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("authrelayctl %s\n", AUTHRELAY_VERSION);
			return EX_OK;
		} else {
			ctl_error("unknown option \"%s\"", argv[i]);
			return ctl_usage_error(&ctl, NULL);
		}
	}
	if (i >= argc) {
		ctl_error("no command given");
		return ctl_usage_error(&ctl, NULL);
	}
	ctl.cmd = ctl_command_find(argc - i, argv + i, &words);
	if (ctl.cmd == NULL)
		return unknown_command(&ctl, argc - i, argv + i);
	ctl_actor_init(&ctl);
	/* The store reports migrations and trouble through lib/log: to the
	   admin's terminal and, like the daemons, to the mail log. */
	log_open("authrelayctl", LOG_MAIL, ctl.progress_mode != PROGRESS_QUIET);
	status = ctl.cmd->run(&ctl, argc - i - words, argv + i + words);
	if (ctl.store != NULL)
		store_close(&ctl.store, 0);
	cfg_free(&ctl.cfg);
	log_close();
	if (fflush(stdout) != 0 && status == EX_OK) {
		ctl_error("cannot write the output");
		status = EX_IOERR;
	}
	return status;
}

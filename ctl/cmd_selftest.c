/*
 * NAME
 *	cmd_selftest 3
 * SUMMARY
 *	authrelayctl selftest: the command around selftest.c
 * DESCRIPTION
 *	Reads the configuration only to know what the rules want of a
 *	foreign sender (sender_login_check) and of AUTH without TLS
 *	(require_tls_for_auth: refused when --starttls is not given);
 *	--expect-sender-check yes|no overrides the first, for testing a
 *	server from a host with another config.
 *	The database is not opened: the self-test looks at the server from
 *	the outside, as a client would.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "selftest.h"

/* cmd_selftest - probe a server for open relay */
int cmd_selftest(struct ctl *ctl, int argc, char **argv)
{
	struct selftest_options opts;
	char **args;
	char *error = NULL;
	bool expect_given = false;
	int status;

	/* selftest_parse_args wants the command word first, as getopt does. */
	args = calloc((size_t)argc + 2, sizeof *args);
	if (args == NULL) {
		ctl_error("out of memory");
		return EX_OSERR;
	}
	args[0] = (char *)"selftest";
	for (int i = 0; i < argc; i++) {
		args[i + 1] = argv[i];
		if (strncmp(argv[i], "--expect-sender-check", 21) == 0)
			expect_given = true;
	}
	status = selftest_parse_args(argc + 1, args, &opts, &error);
	free(args);
	if (status != 0) {
		status = ctl_usage_error(ctl, "%s", error ? error : "bad arguments");
		free(error);
		return status;
	}
	if (!expect_given) {
		if ((status = ctl_config(ctl)) != EX_OK) {
			selftest_options_free(&opts);
			return status;
		}
		opts.expect_sender_check = ctl->cfg->sender_login_check != SENDER_CHECK_NO;
		opts.expect_tls_for_auth = ctl->cfg->require_tls_for_auth;
	}
	opts.json = ctl->json;
	status = selftest_run(&opts, ctl->out);
	selftest_options_free(&opts);
	return status;
}

/*
 * NAME
 *	milter-floor 1
 * SUMMARY
 *	a libmilter filter that sees what authrelay-milter sees and decides nothing
 * SYNOPSIS
 *	milter-floor inet:PORT@127.0.0.1
 * DESCRIPTION
 *	The floor of tests/bench/milter.sh: the same events, the same "no
 *	reply" choices, and DATA answered with "accept" (no From: check is
 *	due in the benchmark) as authrelay-milter negotiates and answers
 *	them, but no macros, no database, no logging. What it costs Postfix
 *	is what any libmilter filter with this event set costs; the
 *	difference to authrelay-milter is authrelay-milter's own work.
 *	Built by the benchmark at run time (cc, -lmilter).
 */
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <stdbool.h>
#include <stdio.h>

static sfsistat floor_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx;
	(void)host;
	(void)addr;
	return SMFIS_NOREPLY;
}

static sfsistat floor_mail(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_NOREPLY;
}

static sfsistat floor_rcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

/* as authrelay-milter for a message with no From: check due: the end of
   the message is not sent */
static sfsistat floor_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static sfsistat floor_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* floor_negotiate - authrelay-milter's event set (without From: check) */
static sfsistat floor_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
				unsigned long f2, unsigned long f3, unsigned long *pf0,
				unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx;
	(void)f0;
	(void)f2;
	(void)f3;
	*pf0 = 0;
	*pf1 = f1 & (SMFIP_NOHELO | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NOHDRS |
		     SMFIP_NR_CONN | SMFIP_NR_MAIL);
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = "milter-floor",
		.xxfi_version = SMFI_VERSION,
		.xxfi_connect = floor_connect,
		.xxfi_envfrom = floor_mail,
		.xxfi_envrcpt = floor_rcpt,
		.xxfi_data = floor_data,
		.xxfi_eom = floor_eom,
		.xxfi_negotiate = floor_negotiate,
	};

	if (argc != 2) {
		fprintf(stderr, "usage: milter-floor inet:PORT@HOST\n");
		return 64;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "milter-floor: cannot listen on %s\n", argv[1]);
		return 69;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 70;
}

/*
 * NAME
 *	cmd_cert 3
 * SUMMARY
 *	authrelayctl cert list | add USER FILE.pem | revoke FINGERPRINT
 * DESCRIPTION
 *	cert add reads the certificate with OpenSSL (cert_pem.c) and stores
 *	both fingerprints as Postfix reports them in ccert_fingerprint and
 *	ccert_pubkey_fingerprint, so policyd and the milter can match either:
 *	the public-key one keeps matching after the client renews its
 *	certificate with the same key. An expired or not-yet-valid
 *	certificate, or a file without one, is refused with the reason.
 *	cert revoke takes either fingerprint.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cert_pem.h"
#include "ctl.h"
#include "output.h"

static const struct out_column cert_columns[] = {
	{ "username", OUT_STRING },	      { "fingerprint", OUT_STRING },
	{ "pubkey_fingerprint", OUT_STRING }, { "subject", OUT_STRING },
	{ "not_after", OUT_STRING },	      { "added", OUT_STRING },
};
#define CERT_NCOLS (sizeof cert_columns / sizeof cert_columns[0])

static void cert_row(struct out_table *t, const struct store_cert *cert)
{
	char not_after[CTL_TIME_MAX], added[CTL_TIME_MAX];
	const char *values[CERT_NCOLS] = {
		cert->username,
		cert->fingerprint,
		cert->pubkey_fingerprint,
		cert->subject,
		ctl_time_format(cert->not_after, not_after, sizeof not_after),
		ctl_time_format(cert->added, added, sizeof added),
	};

	out_table_row(t, values);
}

static int list_cb(const struct store_cert *cert, void *ctx)
{
	cert_row(ctx, cert);
	return 0;
}

/* list_certs - the certs table */
static int list_certs(struct ctl *ctl, const void *arg, struct out_table *t, char **error_r)
{
	(void)arg;
	return store_cert_list(ctl->store, list_cb, t, error_r);
}

/* cmd_cert_list - every registered certificate */
int cmd_cert_list(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_args(ctl, argc, argv, NULL, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	return ctl_list(ctl, cert_columns, CERT_NCOLS, list_certs, NULL, "certificates");
}

/* cmd_cert_add - register USER's certificate from a PEM file */
int cmd_cert_add(struct ctl *ctl, int argc, char **argv)
{
	struct store_cert cert;
	struct out_table *t;
	const char *pos[2];
	char *error = NULL;
	int status;

	if (ctl_args(ctl, argc, argv, NULL, pos, 2, 2, NULL) != 0)
		return EX_USAGE;
	if (!ctl_is_plain(pos[0], STORE_USER_MAX))
		return ctl_usage_error(ctl, "USER: a user name of 1 to %d characters, without "
					    "control characters",
				       STORE_USER_MAX - 1);
	memset(&cert, 0, sizeof cert);
	if (cert_pem_read(pos[1], ctl->now, &cert, &error) != 0) {
		ctl_error("%s", error ? error : "cannot read the certificate");
		free(error);
		return EX_DATAERR;
	}
	snprintf(cert.username, sizeof cert.username, "%s", pos[0]);
	cert.added = ctl->now;
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	if (store_cert_add(ctl->store, &cert, ctl->actor, &error) != 0) {
		ctl_error("cannot add the certificate for %s: %s", pos[0],
			  error ? error : "database error");
		free(error);
		return CTL_EXIT_REFUSED;
	}
	t = out_table_new(ctl->out, ctl->json, cert_columns, CERT_NCOLS);
	cert_row(t, &cert);
	out_table_end(&t);
	return EX_OK;
}

/* cmd_cert_revoke - forget a certificate by either fingerprint */
int cmd_cert_revoke(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	char *error = NULL;
	int status;

	if (ctl_args(ctl, argc, argv, NULL, pos, 1, 1, NULL) != 0)
		return EX_USAGE;
	if (!ctl_is_plain(pos[0], STORE_FPR_MAX))
		return ctl_usage_error(ctl, "FINGERPRINT: AB:CD:... as cert list shows it");
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	if (store_cert_revoke(ctl->store, pos[0], ctl->actor, &error) != 0) {
		ctl_error("cannot revoke %s: %s", pos[0], error ? error : "database error");
		free(error);
		return CTL_EXIT_REFUSED;
	}
	ctl_report_change(ctl, "certificate revoked", pos[0], NULL);
	return EX_OK;
}

/*
 * NAME
 *	selftest_sasl 3
 * SUMMARY
 *	SMTP AUTH with libsasl2's client API
 * DESCRIPTION
 *	See selftest_sasl.h. No SASL security layer is negotiated (max_ssf
 *	0): Postfix offers none, and the self-test only needs to know
 *	whether the server accepts the credentials. Plain-text mechanisms are
 *	allowed on purpose: finding out whether the server accepts them
 *	without TLS is part of what the admin asked for.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "error_r.h"
#include "selftest_sasl.h"

#define SASL_BUF_MAX 8192

/* libsasl2 stores every callback as int (*)(void); going through
   void (*)(void) is the cast GCC accepts as deliberate. */
#define SASL_CB_FN(f) ((int (*)(void))(void (*)(void))(f))

/* What the callbacks hand to libsasl2 for one connection. */
struct sasl_ctx {
	const struct selftest_credentials *cred;
	sasl_secret_t *secret;
};

/* The user and authentication names are the same: the self-test never
   authorises as somebody else. */
static int cb_simple(void *context, int id, const char **result, unsigned *len)
{
	struct sasl_ctx *ctx = context;

	if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
		return SASL_BADPARAM;
	*result = ctx->cred->user;
	if (len != NULL)
		*len = (unsigned)strlen(ctx->cred->user);
	return SASL_OK;
}

static int cb_secret(sasl_conn_t *conn, void *context, int id, sasl_secret_t **psecret)
{
	struct sasl_ctx *ctx = context;
	size_t len = strlen(ctx->cred->password);

	(void)conn;
	if (id != SASL_CB_PASS)
		return SASL_BADPARAM;
	if (ctx->secret == NULL) {
		ctx->secret = calloc(1, sizeof(sasl_secret_t) + len + 1);
		if (ctx->secret == NULL)
			return SASL_NOMEM;
		ctx->secret->len = len;
		memcpy(ctx->secret->data, ctx->cred->password, len);
	}
	*psecret = ctx->secret;
	return SASL_OK;
}

/* Creates a libsasl2 client connection with our callbacks and props. */
static int sasl_conn_new(const char *host, const char *local, const char *remote,
			 struct sasl_ctx *ctx, sasl_callback_t cbs[4], sasl_conn_t **conn_r)
{
	sasl_security_properties_t props = { 0 };

	cbs[0] = (sasl_callback_t){ SASL_CB_USER, SASL_CB_FN(cb_simple), ctx };
	cbs[1] = (sasl_callback_t){ SASL_CB_AUTHNAME, SASL_CB_FN(cb_simple), ctx };
	cbs[2] = (sasl_callback_t){ SASL_CB_PASS, SASL_CB_FN(cb_secret), ctx };
	cbs[3] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	if (sasl_client_new("smtp", host, local, remote, cbs, 0, conn_r) != SASL_OK)
		return -1;
	props.min_ssf = 0;
	props.max_ssf = 0;
	props.maxbufsize = 0;
	props.security_flags = 0;
	if (sasl_setprop(*conn_r, SASL_SEC_PROPS, &props) != SASL_OK) {
		sasl_dispose(conn_r);
		return -1;
	}
	return 0;
}

int selftest_sasl_init(char **error_r)
{
	int rc = sasl_client_init(NULL);

	if (rc != SASL_OK) {
		error_r_set(error_r, "libsasl2 client init failed: %s", sasl_errstring(rc, NULL, NULL));
		return -1;
	}
	return 0;
}

void selftest_sasl_done(void)
{
	sasl_client_done();
}

/* selftest_sasl_usable - which server mechanisms libsasl2 can do here */
void selftest_sasl_usable(const char *server_mechs, char *out, size_t size)
{
	struct selftest_credentials dummy = { "selftest", "selftest" };
	char list[1024], *save = NULL, *mech;
	size_t used = 0;

	snprintf(list, sizeof list, "%s", server_mechs);
	if (size > 0)
		out[0] = 0;
	for (mech = strtok_r(list, " \t", &save); mech; mech = strtok_r(NULL, " \t", &save)) {
		struct sasl_ctx ctx = { &dummy, NULL };
		sasl_callback_t cbs[4];
		sasl_conn_t *conn;
		sasl_interact_t *interact = NULL;
		const char *o = NULL, *chosen = NULL;
		unsigned olen = 0;
		int rc;

		if (sasl_conn_new("localhost", NULL, NULL, &ctx, cbs, &conn) < 0)
			continue;
		rc = sasl_client_start(conn, mech, &interact, &o, &olen, &chosen);
		sasl_dispose(&conn);
		free(ctx.secret);
		if ((rc == SASL_OK || rc == SASL_CONTINUE) && chosen && strcasecmp(chosen, mech) == 0) {
			int n = snprintf(out + used, size - used, "%s%s", used ? " " : "", mech);
			if (n < 0 || (size_t)n >= size - used)
				break;
			used += (size_t)n;
		}
	}
}

/* Sends line and reads the reply; the exchange's only I/O path. */
static int send_line(struct smtp_conn *conn, const char *line, struct smtp_reply *reply,
		     char **error_r)
{
	return smtp_conn_command(conn, line, reply, error_r);
}

/* selftest_sasl_auth - one AUTH exchange */
int selftest_sasl_auth(struct smtp_conn *conn, const char *host, const char *mech,
		       const struct selftest_credentials *cred, struct smtp_reply *reply_r,
		       char **error_r)
{
	struct sasl_ctx ctx = { cred, NULL };
	sasl_callback_t cbs[4];
	sasl_conn_t *sconn = NULL;
	sasl_interact_t *interact = NULL;
	const char *out = NULL, *chosen = NULL;
	unsigned outlen = 0;
	char *line = NULL, *b64 = NULL, *in = NULL;
	int rc, ret = -1;

	if (sasl_conn_new(host, smtp_conn_local_ipport(conn), smtp_conn_remote_ipport(conn), &ctx,
			  cbs, &sconn) < 0) {
		error_r_set(error_r, "libsasl2: cannot create a client connection");
		goto done;
	}
	rc = sasl_client_start(sconn, mech, &interact, &out, &outlen, &chosen);
	if (rc != SASL_OK && rc != SASL_CONTINUE) {
		error_r_set(error_r, "libsasl2 cannot do %s: %s", mech, sasl_errdetail(sconn));
		goto done;
	}
	line = malloc(SASL_BUF_MAX + 64);
	b64 = malloc(SASL_BUF_MAX);
	in = malloc(SASL_BUF_MAX);
	if (line == NULL || b64 == NULL || in == NULL) {
		error_r_set(error_r, "out of memory");
		goto done;
	}
	if (out != NULL) {
		unsigned blen = 0;
		if (sasl_encode64(out, outlen, b64, SASL_BUF_MAX, &blen) != SASL_OK) {
			error_r_set(error_r, "initial response too long");
			goto done;
		}
		/* RFC 4954: an empty initial response is sent as "=". */
		snprintf(line, SASL_BUF_MAX + 64, "AUTH %s %s", chosen, blen ? b64 : "=");
	} else {
		snprintf(line, SASL_BUF_MAX + 64, "AUTH %s", chosen);
	}
	for (int round = 0; round < 16; round++) {
		unsigned inlen = 0, blen = 0;

		if (send_line(conn, line, reply_r, error_r) < 0)
			goto done;
		if (reply_r->code != 334) {
			ret = 0;	/* 235 accepted, or a refusal: both are answers */
			goto done;
		}
		rc = sasl_decode64(reply_r->text, (unsigned)strlen(reply_r->text), in, SASL_BUF_MAX,
				   &inlen);
		if (rc != SASL_OK) {
			error_r_set(error_r, "server challenge is not base64");
			send_line(conn, "*", reply_r, error_r);
			goto done;
		}
		rc = sasl_client_step(sconn, in, inlen, &interact, &out, &outlen);
		if (rc != SASL_OK && rc != SASL_CONTINUE) {
			error_r_set(error_r, "libsasl2 %s step failed: %s", chosen, sasl_errdetail(sconn));
			char *ignored = NULL;
			send_line(conn, "*", reply_r, &ignored);	/* cancel (RFC 4954) */
			free(ignored);
			goto done;
		}
		if (out != NULL && outlen > 0 &&
		    sasl_encode64(out, outlen, b64, SASL_BUF_MAX, &blen) != SASL_OK) {
			error_r_set(error_r, "SASL response too long");
			goto done;
		}
		snprintf(line, SASL_BUF_MAX + 64, "%s", blen ? b64 : "");
	}
	error_r_set(error_r, "SASL exchange did not finish in 16 rounds");
done:
	free(line);
	free(b64);
	free(in);
	if (sconn != NULL)
		sasl_dispose(&sconn);
	free(ctx.secret);
	return ret;
}

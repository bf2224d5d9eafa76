/*
 * NAME
 *	context 3
 * SUMMARY
 *	per-connection milter state
 * DESCRIPTION
 *	See context.h.
 */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "metrics.h"

/* context_new - empty connection state */
struct milter_context *context_new(void)
{
	struct milter_context *ctx = calloc(1, sizeof *ctx);

	if (ctx == NULL)
		return NULL;
	ipaddr_format(&ctx->client, ctx->client_text);
	metrics_connections_add(1);	/* one context per MTA connection */
	return ctx;
}

/* context_message_reset - forget the message, keep the connection */
void context_message_reset(struct milter_context *ctx)
{
	ctx->in_message = false;
	ctx->sasl_username[0] = '\0';
	ctx->sasl_too_long = false;
	ctx->tls = false;
	ctx->sender[0] = '\0';
	ctx->sender_too_long = false;
	ctx->queue_id[0] = '\0';
	ctx->relayed = 0;
	ctx->from_count = 0;
	ctx->from_too_long = false;
	ctx->from_len = 0;
	if (ctx->from_value != NULL)
		ctx->from_value[0] = '\0';
}

/* context_set_client - parse and keep the client address */
int context_set_client(struct milter_context *ctx, const char *text)
{
	int ret = -1;

	if (text != NULL)
		ret = ipaddr_parse_tagged(text, &ctx->client);
	if (ret != 0)
		memset(&ctx->client, 0, sizeof ctx->client);
	ipaddr_format(&ctx->client, ctx->client_text);
	return ret;
}

/* context_copy - bounded copy that says whether it fit */
bool context_copy(char *dst, size_t size, const char *text)
{
	size_t len;

	if (text == NULL) {
		dst[0] = '\0';
		return true;
	}
	len = strlen(text);
	if (len >= size) {
		/* Never keep a cut value: a cut address is another address. */
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, text, len + 1);
	return true;
}

/* context_from_add - record one From: header */
int context_from_add(struct milter_context *ctx, const char *value)
{
	size_t len;

	if (ctx->from_count > 0) {
		/* Only counted: more than one From: is refused anyway. */
		if (ctx->from_count < ~0u)
			ctx->from_count++;
		return 0;
	}
	if (ctx->from_value == NULL) {
		ctx->from_value = malloc(RFC5322_MAX_HEADER + 1);
		if (ctx->from_value == NULL)
			return -1;
	}
	ctx->from_count = 1;
	len = value != NULL ? strlen(value) : 0;
	if (len > RFC5322_MAX_HEADER) {
		ctx->from_too_long = true;
		ctx->from_len = 0;
		ctx->from_value[0] = '\0';
		return 0;
	}
	memcpy(ctx->from_value, value != NULL ? value : "", len);
	ctx->from_value[len] = '\0';
	ctx->from_len = len;
	return 0;
}

/* context_free - release everything */
void context_free(struct milter_context **ctx)
{
	if (ctx == NULL || *ctx == NULL)
		return;
	free((*ctx)->from_value);
	free(*ctx);
	metrics_connections_add(-1);
	*ctx = NULL;
}

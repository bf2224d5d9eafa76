/*
 * NAME
 *	store_lookups 3
 * SUMMARY
 *	decide()'s questions answered by the store
 * SYNOPSIS
 *	#include "store_lookups.h"
 * DESCRIPTION
 *	Thin adapters from struct relay_lookups to store.h; the store's
 *	tri-state answers pass through unchanged, so a store error reaches
 *	decide() as LOOKUP_ERROR.
 */
#include "metrics.h"
#include "store_lookups.h"

static enum lookup_result lookups_user_suspended(void *ctx, const char *username)
{
	return store_user_suspended(ctx, username);
}

static enum lookup_result lookups_sender_owned(void *ctx, const char *username,
					       const char *address)
{
	return store_sender_owned(ctx, username, address);
}

static enum lookup_result lookups_grant_live(void *ctx, const struct ipaddr *ip, int64_t now)
{
	return store_grant_lookup(ctx, ip, now, NULL);
}

static enum lookup_result lookups_cert_known(void *ctx, const char *fingerprint)
{
	return store_cert_lookup(ctx, fingerprint, NULL);
}

/* The answers for a database that is not open: every question fails,
   so decide() gives on_store_error (authrelay.conf(5), RELAY DECISION),
   and counts as a store error in the metrics like any other. */
static enum lookup_result unavailable_user(void *ctx, const char *username)
{
	(void)ctx;
	(void)username;
	metrics_store_error();
	return LOOKUP_ERROR;
}

static enum lookup_result unavailable_sender(void *ctx, const char *username, const char *address)
{
	(void)ctx;
	(void)username;
	(void)address;
	metrics_store_error();
	return LOOKUP_ERROR;
}

static enum lookup_result unavailable_grant(void *ctx, const struct ipaddr *ip, int64_t now)
{
	(void)ctx;
	(void)ip;
	(void)now;
	metrics_store_error();
	return LOOKUP_ERROR;
}

static enum lookup_result unavailable_cert(void *ctx, const char *fingerprint)
{
	(void)ctx;
	(void)fingerprint;
	metrics_store_error();
	return LOOKUP_ERROR;
}

/* store_lookups_init - bind every question to store */
void store_lookups_init(struct relay_lookups *lookups, struct store *store)
{
	if (store == NULL) {
		lookups->ctx = NULL;
		lookups->user_suspended = unavailable_user;
		lookups->sender_owned = unavailable_sender;
		lookups->grant_live = unavailable_grant;
		lookups->cert_known = unavailable_cert;
		return;
	}
	lookups->ctx = store;
	lookups->user_suspended = lookups_user_suspended;
	lookups->sender_owned = lookups_sender_owned;
	lookups->grant_live = lookups_grant_live;
	lookups->cert_known = lookups_cert_known;
}

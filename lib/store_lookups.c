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

/* store_lookups_init - bind every question to store */
void store_lookups_init(struct relay_lookups *lookups, struct store *store)
{
	lookups->ctx = store;
	lookups->user_suspended = lookups_user_suspended;
	lookups->sender_owned = lookups_sender_owned;
	lookups->grant_live = lookups_grant_live;
	lookups->cert_known = lookups_cert_known;
}

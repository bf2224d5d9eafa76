/*
 * NAME
 *	grants 3
 * SUMMARY
 *	login events to relay grants
 * SYNOPSIS
 *	#include "grants.h"
 * DESCRIPTION
 *	See grants.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grants.h"
#include "log.h"

_Static_assert(LOGIN_USER_MAX == STORE_USER_MAX, "login and store user sizes differ");
_Static_assert(LOGIN_SERVICE_MAX == STORE_SERVICE_MAX, "login and store service sizes differ");
_Static_assert(LOGIN_SESSION_MAX == STORE_SESSION_MAX, "login and store session sizes differ");

/* grants_from_event - one login to one store_login */
enum grant_outcome grants_from_event(const struct grant_policy *policy,
				     const struct login_event *ev, const char *source,
				     const char *line, int64_t now, struct store_login *login_r)
{
	int64_t when = ev->time;
	unsigned len;

	if (policy->exclude != NULL && cidr_list_match(policy->exclude, &ev->ip))
		return GRANT_EXCLUDED;
	/* Found by fuzz_loginline: the envelope's year is the line's word; a
	   stamp years ahead would have made a grant that never ends. */
	if (when > now + GRANT_MAX_FUTURE)
		when = now;
	if (when + policy->ttl <= now)
		return GRANT_EXPIRED;
	memset(login_r, 0, sizeof(*login_r));
	login_r->net = ev->ip;
	len = ipaddr_bits(&ev->ip) == 128 ? policy->ipv6_prefix : 32;
	if (len > ipaddr_bits(&ev->ip))
		len = ipaddr_bits(&ev->ip);
	ipaddr_mask(&login_r->net, len);
	login_r->prefix_len = len;
	memcpy(login_r->username, ev->user, sizeof(login_r->username));
	memcpy(login_r->service, ev->service, sizeof(login_r->service));
	memcpy(login_r->session, ev->session, sizeof(login_r->session));
	login_r->login_time = when;
	login_r->expires_at = when + policy->ttl;
	strncpy(login_r->source, source, sizeof(login_r->source) - 1);
	login_r->line = line;
	return GRANT_NEW;
}

/* grants_log - one key=value line per grant written, at level */
void grants_log(const struct store_login *l, enum log_level level)
{
	char ip[IPADDR_STRLEN + 4], num[24], line[1024];

	if (log_get_level() < level)
		return;
	snprintf(line, sizeof(line), "grant");
	ipaddr_format(&l->net, ip);
	snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "/%u", l->prefix_len);
	log_kv_append(line, sizeof(line), "ip", ip);
	log_kv_append(line, sizeof(line), "user", l->username);
	log_kv_append(line, sizeof(line), "service", l->service);
	snprintf(num, sizeof(num), "%lld", (long long)l->login_time);
	log_kv_append(line, sizeof(line), "login", num);
	snprintf(num, sizeof(num), "%lld", (long long)l->expires_at);
	log_kv_append(line, sizeof(line), "expires", num);
	log_kv_append(line, sizeof(line), "source", l->source);
	if (l->session[0] != '\0')
		log_kv_append(line, sizeof(line), "session", l->session);
	log_msg(level, "%s", line);
}

/* grant_batch_add - append one login */
int grant_batch_add(struct grant_batch *batch, const struct store_login *login)
{
	if (batch->count == batch->cap) {
		size_t cap = batch->cap ? batch->cap * 2 : 64;
		struct store_login *n = realloc(batch->logins, cap * sizeof(*n));

		if (n == NULL)
			return -1;
		batch->logins = n;
		batch->cap = cap;
	}
	batch->logins[batch->count++] = *login;
	return 0;
}

/* grant_batch_apply - logins and checkpoint in one transaction */
int grant_batch_apply(struct grant_batch *batch, struct store *store,
		      const struct store_checkpoint *cp, char **error_r)
{
	if (store_logins_apply(store, batch->logins, batch->count, cp, error_r) < 0)
		return -1;
	batch->count = 0;
	return 0;
}

void grant_batch_clear(struct grant_batch *batch)
{
	batch->count = 0;
}

void grant_batch_free(struct grant_batch *batch)
{
	free(batch->logins);
	batch->logins = NULL;
	batch->count = batch->cap = 0;
}

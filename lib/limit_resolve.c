/*
 * NAME
 *	limit_resolve 3
 * SUMMARY
 *	which limits apply to a counted user: database row or default
 * SYNOPSIS
 *	#include "limit_resolve.h"
 * DESCRIPTION
 *	See limit_resolve.h. Two indexed probes at most (user, domain),
 *	both kinds at once.
 */
#include <string.h>

#include "limit_resolve.h"

/* limit_default - the config's default of one kind */
static const struct limit_spec *limit_default(const struct authrelay_config *cfg,
					      enum store_limit_kind kind)
{
	return kind == STORE_LIMIT_RECIPIENTS ? &cfg->limit_recipients : &cfg->limit_messages;
}

bool limit_defaults_active(const struct authrelay_config *cfg)
{
	return limit_spec_is_active(&cfg->limit_recipients) ||
	       limit_spec_is_active(&cfg->limit_messages);
}

int limit_resolve(struct store *store, const struct authrelay_config *cfg, const char *subject,
		  struct limit_resolved *r)
{
	enum lookup_result found[STORE_LIMIT_KINDS];

	memset(r, 0, sizeof *r);
	if (store_limit_rules(store, subject, found, r->spec) != 0)
		return -1;
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		r->from_database[k] = found[k] == LOOKUP_FOUND;
		if (!r->from_database[k])
			r->spec[k] = *limit_default(cfg, k);
	}
	return 0;
}

/*
 * NAME
 *	limit_resolve 3
 * SUMMARY
 *	which limits apply to a counted user: database row or default
 * SYNOPSIS
 *	#include "limit_resolve.h"
 * DESCRIPTION
 *	See limit_resolve.h. Two indexed probes per kind at most.
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
	memset(r, 0, sizeof *r);
	for (int k = 0; k < STORE_LIMIT_KINDS; k++) {
		switch (store_limit_rule(store, subject, k, &r->spec[k])) {
		case LOOKUP_FOUND:
			r->from_database[k] = true;
			break;
		case LOOKUP_NOT_FOUND:
			r->spec[k] = *limit_default(cfg, k);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

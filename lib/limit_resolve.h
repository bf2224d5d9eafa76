/*
 * NAME
 *	limit_resolve 3h
 * SUMMARY
 *	which limits apply to a counted user: database row or default
 * DESCRIPTION
 *	Most specific wins, per kind: the user's own row, then the row of
 *	the user's @domain (store_limit_rule()), then the configuration's
 *	default (limit_recipients, limit_messages). A row "unlimited"
 *	exempts. Shared by the front ends (lib/frontend_limit.h) and
 *	authrelayctl limit show, so both name the same limits.
 */
#ifndef AUTHRELAY_LIMIT_RESOLVE_H
#define AUTHRELAY_LIMIT_RESOLVE_H

#include <stdbool.h>

#include "cfg.h"
#include "limit_spec.h"
#include "store.h"

struct limit_resolved {
	struct limit_spec spec[STORE_LIMIT_KINDS];
	bool from_database[STORE_LIMIT_KINDS];	/* false: the config's default */
};

/* True when the configuration limits anyone by default. */
bool limit_defaults_active(const struct authrelay_config *cfg);

/* Fills *r for subject. Returns 0, or -1 when the store could not
   answer (the caller applies on_store_error; never "no limit"). */
int limit_resolve(struct store *store, const struct authrelay_config *cfg, const char *subject,
		  struct limit_resolved *r);

#endif

/*
 * NAME
 *	cfg_keys 3h
 * SUMMARY
 *	the table of authrelay.conf keys and their value parsers (internal)
 * DESCRIPTION
 *	Used by cfg.c only; programs use cfg.h. The grammar (lines,
 *	comments, continuations) lives in cfg.c, the meaning of each key
 *	here: name, type, default text, programs, range, and where in
 *	struct authrelay_config the value goes.
 */
#ifndef AUTHRELAY_CFG_KEYS_H
#define AUTHRELAY_CFG_KEYS_H

#include "cfg.h"

struct cfg_key;

/* Returns the key called name, or NULL. */
const struct cfg_key *cfg_key_find(const char *name);

/* The position of key in the table (an index of cfg->key_lines). */
size_t cfg_key_index(const struct cfg_key *key);

/* Returns why a key that no longer exists was removed, or NULL. */
const char *cfg_key_removed(const char *name);

/* Returns the name of the known key nearest to name when it is within
   edit distance 2 (a transposition counts 1), or NULL. */
const char *cfg_key_suggest(const char *name);

/* Parses value for key into cfg, replacing (and freeing) the old value.
   Returns 0, or -1 with *error_r (malloc'd, without the key name) and
   cfg unchanged. */
int cfg_key_set(struct authrelay_config *cfg, const struct cfg_key *key, const char *value,
		char **error_r);

/* Sets every key to its default. Returns 0, or -1 with *error_r when a
   default text in the table does not parse (a bug). */
int cfg_keys_set_defaults(struct authrelay_config *cfg, char **error_r);

/* Frees every value the table allocated in cfg (not cfg itself). */
void cfg_keys_free_values(struct authrelay_config *cfg);

#endif

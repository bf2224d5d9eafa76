/*
 * NAME
 *	store_backend 3h
 * SUMMARY
 *	the table of functions a store backend implements (private)
 * SYNOPSIS
 *	#include "store_backend.h"
 * DESCRIPTION
 *	store.c is the only caller: every public store_*() function checks
 *	its arguments and calls the matching entry here. A backend embeds
 *	struct store as the first member of its own state, sets ops, and
 *	casts back in its functions. Argument checks are done by store.c,
 *	so a backend sees non-NULL pointers where store.h requires them.
 *
 *	Included by store.c and the backends only; callers use store.h.
 */
#ifndef AUTHRELAY_STORE_BACKEND_H
#define AUTHRELAY_STORE_BACKEND_H

#include "error_r.h"	/* backends report failures with error_r_set() */
#include "store.h"

struct store_ops {
	const char *name;	/* "sqlite" */

	void (*close)(struct store *store, long long flush_timeout_ms);
	int (*schema_version)(struct store *store, int *version_r);
	enum lookup_result (*check_integrity)(struct store *store, char **detail_r);
	/* May be NULL: no snapshots, every lookup its own transaction. */
	int (*read_begin)(struct store *store);
	void (*read_end)(struct store *store);

	enum lookup_result (*grant_lookup)(struct store *store, const struct ipaddr *ip,
					   int64_t now, struct store_grant *grant_r);
	int (*logins_apply)(struct store *store, const struct store_login *logins, size_t count,
			    const struct store_checkpoint *cp, char **error_r);
	enum lookup_result (*checkpoint_get)(struct store *store, const char *source,
					     struct store_checkpoint *cp_r);
	int (*grant_add)(struct store *store, const struct store_grant *grant, const char *actor,
			 char **error_r);
	int (*grant_revoke)(struct store *store, const struct ipaddr *ip, const char *actor,
			    unsigned *removed_r, char **error_r);
	int (*grant_list)(struct store *store, int64_t now, store_grant_cb *cb, void *ctx,
			  char **error_r);

	enum lookup_result (*user_suspended)(struct store *store, const char *username);
	int (*user_set_suspended)(struct store *store, const char *username, bool suspended,
				  const char *actor, char **error_r);
	int (*user_list)(struct store *store, store_user_cb *cb, void *ctx, char **error_r);

	enum lookup_result (*sender_owned)(struct store *store, const char *username,
					   const char *address);
	int (*sender_allow)(struct store *store, const char *username, const char *pattern,
			    const char *actor, char **error_r);
	int (*sender_deny)(struct store *store, const char *username, const char *pattern,
			   const char *actor, char **error_r);
	int (*sender_list)(struct store *store, const char *username, store_sender_cb *cb,
			   void *ctx, char **error_r);

	enum lookup_result (*cert_lookup)(struct store *store, const char *fingerprint,
					  char *user_r);
	int (*cert_add)(struct store *store, const struct store_cert *cert, const char *actor,
			char **error_r);
	int (*cert_revoke)(struct store *store, const char *fingerprint, const char *actor,
			   char **error_r);
	int (*cert_list)(struct store *store, store_cert_cb *cb, void *ctx, char **error_r);

	int (*decision_queue)(struct store *store, const struct store_decision *d);
	int (*decision_flush)(struct store *store, long long timeout_ms);
	void (*decision_stats)(struct store *store, uint64_t *written_r, uint64_t *dropped_r);
	int (*audit)(struct store *store, const struct store_audit_filter *filter,
		     store_decision_cb *cb, void *ctx, char **error_r);
	int (*prune)(struct store *store, int64_t before, unsigned batch, const char *actor,
		     uint64_t *deleted_r, char **error_r);
	int (*admin_log)(struct store *store, const char *actor, const char *action,
			 const char *subject, const char *detail, char **error_r);
	int (*query)(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
		     char **error_r);

	/* The limit rows of two subjects (a user and its "@domain"; domain
	   may be NULL), both kinds, in one question: LOOKUP_FOUND when
	   there is one, with spec_r[0 user / 1 domain][kind] the text
	   (LIMIT_SPEC_TEXT_MAX bytes, "" for none). Which row wins is
	   store_limits.c's rule. */
	enum lookup_result (*limit_rules_get)(struct store *store, const char *user,
					      const char *domain,
					      char spec_r[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX]);
	int (*limit_set)(struct store *store, const char *subject, const char *kind,
			 const char *spec, const char *actor, char **error_r);
	int (*limit_clear)(struct store *store, const char *subject, const char *actor,
			   char **error_r);
	int (*limit_list)(struct store *store, store_limit_rule_cb *cb, void *ctx,
			  char **error_r);
	/* *state_r arrives zeroed, crossed_kind and crossed_window -1;
	   store.c hands it to the caller only when this returns 0. */
	int (*limit_charge)(struct store *store, const struct store_limit_charge *c,
			    struct store_limit_state *state_r, char **error_r);
	int (*limit_refused)(struct store *store, const struct store_limit_refusal *r,
			     unsigned *refusals_r, bool *suspended_r, bool *notify_r,
			     char **error_r);
};

/* For a backend's limit_charge (store_limits.c holds the arithmetic's
   use, so both backends count alike): */
struct limit_bucket;
/* The kind named in a row ("recipients", "messages"), or -1. */
int store_limit_kind_of(const char *name);
/* Adds one stored bucket (of kind and window seconds) to what c's
   windows hold at state->now (state->used), and marks the windows
   whose oldest buckets have slid out in stale_r (to delete when
   adding). A kind or window c does not limit is ignored. */
void store_limit_tally(const struct store_limit_charge *c, int kind, int64_t window,
		       const struct limit_bucket *b, struct store_limit_state *state,
		       bool stale_r[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX]);
/* After every bucket is tallied: true when c's additions would cross a
   window (the first, by kind then window), set in state->crossed_*. */
bool store_limit_judge(const struct store_limit_charge *c, struct store_limit_state *state);

/* The part of every backend's state that store.c sees. */
struct store {
	const struct store_ops *ops;
};

/* Normalises a certificate fingerprint to Postfix's form: upper-case
   hex pairs joined by ':' ("ab:CD01" -> "AB:CD:01"). Separators ':'
   and white space may appear anywhere in the input. Returns 0, or -1
   for an empty value, a character that is not hex, an odd number of
   digits, or a result that does not fit size. */
int store_fingerprint_normalize(const char *in, char *out, size_t size);

/* The SQLite backend (store_sqlite.c): location is a file path. */
int store_sqlite_open(const char *path, const struct store_options *opts,
		      struct store **store_r, char **error_r);

#endif

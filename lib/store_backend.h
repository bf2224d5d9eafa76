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
 *	so a backend sees non-NULL pointers where store.h requires them,
 *	and so are the business rules (store_rules.h): a backend receives
 *	normalised fingerprints and sender patterns, a sender address
 *	already reduced to its candidates, logins, grants and certificates
 *	already checked. It only stores and finds them.
 *
 *	Included by store.c and the backends only; callers use store.h.
 */
#ifndef AUTHRELAY_STORE_BACKEND_H
#define AUTHRELAY_STORE_BACKEND_H

#include "error_r.h"	/* backends report failures with error_r_set() */
#include "store.h"
#include "store_rules.h"
#include "store_tables.h"

struct store_writer;
struct store_writer_batch;

/* Every entry may be NULL: store.c then answers "the NAME backend cannot
   VERB" (LOOKUP_ERROR for a lookup), never calls it. */
struct store_ops {
	const char *name;	/* "sqlite", "pgsql"; never NULL */
	const char *title;	/* "SQLite", "PostgreSQL" in messages; NULL: name */

	void (*close)(struct store *store, long long flush_timeout_ms);
	int (*schema_latest)(void);	/* the newest schema this build knows */
	int (*schema_version)(struct store *store, int *version_r);
	enum lookup_result (*check_integrity)(struct store *store, char **detail_r);
	/* May be NULL: no snapshots, every lookup its own transaction. */
	int (*read_begin)(struct store *store);
	int (*read_end)(struct store *store);	/* -1: the batch's counts lost */

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

	/* LOOKUP_FOUND when username has the pattern bare, at_domain or
	   "*"; bare and at_domain may each be NULL (no such candidate). */
	enum lookup_result (*sender_owned)(struct store *store, const char *username,
					   const char *bare, const char *at_domain);
	/* pattern is addr_pattern_normalize()d. */
	int (*sender_allow)(struct store *store, const char *username, const char *pattern,
			    const char *actor, char **error_r);
	int (*sender_deny)(struct store *store, const char *username, const char *pattern,
			   const char *actor, char **error_r);
	int (*sender_list)(struct store *store, const char *username, store_sender_cb *cb,
			   void *ctx, char **error_r);

	/* Fingerprints here are store_fingerprint_normalize()d, and a
	   certificate's two are (store_rules_cert()). */
	enum lookup_result (*cert_lookup)(struct store *store, const char *fingerprint,
					  char *user_r);
	int (*cert_add)(struct store *store, const struct store_cert *cert, const char *actor,
			char **error_r);
	int (*cert_revoke)(struct store *store, const char *fingerprint, const char *actor,
			   char **error_r);
	int (*cert_list)(struct store *store, store_cert_cb *cb, void *ctx, char **error_r);

	/* Writes one batch of queued decision rows in one transaction:
	   STORE_WRITE_OK, _BUSY or _FAILED (store_writer.h). Called by the
	   decision writer's thread only, on a connection of the backend's
	   that no other thread uses; the rows' identities are the same on
	   every retry. May be NULL when the backend keeps no decisions. */
	int (*decision_write)(struct store *store, const struct store_writer_batch *batch,
			      char **error_r);
	int (*audit)(struct store *store, const struct store_audit_filter *filter,
		     store_decision_cb *cb, void *ctx, char **error_r);
	/* Deletes up to batch rows of table older than before in one short
	   transaction: rows deleted, or -1. A table the backend does not
	   have yet deletes 0. */
	int (*prune_batch)(struct store *store, enum store_prune_table table, int64_t before,
			   unsigned batch, char **error_r);
	/* May be NULL: how many rows prune_batch will delete, for the
	   progress line only (0 when it cannot be counted). */
	uint64_t (*prune_count)(struct store *store, enum store_prune_table table,
				int64_t before);
	int (*admin_log)(struct store *store, const char *actor, const char *action,
			 const char *subject, const char *detail, char **error_r);
	int (*query)(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
		     char **error_r);
	/* The backend's own text of a set of named queries (sql_blocks.h's
	   form, in its SQL), or NULL when it has none of them. Needs no
	   store: authrelayctl lists the names without opening one. */
	const char *(*query_text)(enum store_query_set set);

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

	/* ---- copy between databases (store_copy.c; store_sqlite_copy.c,
	   store_pgsql_copy.c): every entry may be NULL, which store.c turns
	   into an error. Tables are rows of store_tables[]. ---- */
	/* Opens the transaction the other copy calls run in: write, one
	   write transaction (all or nothing); else a read snapshot, so
	   counts and dumps agree. */
	int (*copy_begin)(struct store *store, bool write, char **error_r);
	/* LOOKUP_FOUND with the rows of t (this host's, for a per_host
	   table), LOOKUP_NOT_FOUND when this database has no such table
	   (t->optional), LOOKUP_ERROR with *error_r. */
	enum lookup_result (*table_count)(struct store *store, const struct store_table *t,
					  uint64_t *count_r, char **error_r);
	/* Every row of t in t->order to cb (values valid during the call);
	   cb returning non-zero stops with -1 (the caller's *error_r). */
	int (*table_dump)(struct store *store, const struct store_table *t, store_row_cb *cb,
			  void *ctx, char **error_r);
	/* Deletes every row of t (this host's, for a per_host table). */
	int (*table_clear)(struct store *store, const struct store_table *t, char **error_r);
	/* Appends nrows rows (nrows * t->ncolumns values, row after row). */
	int (*table_load)(struct store *store, const struct store_table *t,
			  const struct store_value *values, size_t nrows, char **error_r);
	/* Ends the transaction: note NULL rolls back (or ends the read);
	   else the ids' sequences follow the rows, note's admin_log row is
	   written and everything commits. */
	int (*copy_end)(struct store *store, const struct store_copy_note *note, char **error_r);
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
	store_progress_fn *progress;	/* options.progress, set by store_open() */
	void *progress_ctx;
	struct store_writer *writer;	/* store_writer.h; NULL: none started */
};

/* One entry of the table of backends (store_backends.c), in the manner
   of Postfix's dict_open() and OpenSMTPD's table.c: store_open() asks
   each in turn whether it accepts a location and opens the first that
   does. */
struct store_backend {
	const struct store_ops *ops;	/* its name, schema_latest, query_text */
	bool is_server;			/* location names a server, not files */
	bool (*accepts)(const char *location);
	int (*open)(const char *location, const struct store_options *opts,
		    struct store **store_r, char **error_r);
	/* store_location_files(); NULL: no files (a server). */
	int (*files)(const char *location, store_file_cb *cb, void *ctx);
};

/* The backend that accepts location, or NULL with *error_r saying why
   (an unknown "scheme://"). location is not NULL. */
const struct store_backend *store_backend_find(const char *location, char **error_r);

/* The SQLite backend (store_sqlite*.c): location is a file path, that
   is anything but "scheme://...". */
bool store_sqlite_location(const char *location);
int store_sqlite_open(const char *path, const struct store_options *opts,
		      struct store **store_r, char **error_r);
int store_sqlite_schema_latest(void);
int store_sqlite_files(const char *path, store_file_cb *cb, void *ctx);
extern const struct store_ops store_sqlite_ops;

#endif

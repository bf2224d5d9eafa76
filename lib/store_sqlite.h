/*
 * NAME
 *	store_sqlite 3h
 * SUMMARY
 *	the SQLite backend's private declarations
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	Shared by the store_sqlite*.c files only (each one idea: open and
 *	migrate, grants, users/senders/certificates, the decision writer,
 *	audit and prune). <sqlite3.h> itself is included by those .c files
 *	alone; here the handles are opaque.
 *
 *	Every statement text lives in store_sqlite_sql.c, indexed by enum
 *	sq_stmt_id. A connection prepares a statement the first time it is
 *	used and keeps it for its life (SQLITE_PREPARE_PERSISTENT), so the
 *	hot path never parses SQL.
 *
 *	Two connections per store: "main" for lookups and admin calls,
 *	serialised by a (recursive) mutex because the milter calls from
 *	many threads, and the decision writer's own, used by its thread
 *	only. Every function here that takes a struct sq_conn expects the
 *	caller to own it (main: the mutex held).
 */
#ifndef AUTHRELAY_STORE_SQLITE_H
#define AUTHRELAY_STORE_SQLITE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "store_backend.h"

struct sqlite3;
struct sqlite3_stmt;

/* PRAGMA application_id of every authrelay database ("ARLY"), so that
   another program's SQLite file is recognised and left alone. */
#define SQ_APPLICATION_ID 0x41524c59

/* Commits of this process remembered by the write turn, for the
   answers from memory (store_sqlite_turn.c): between two lookups the
   decision writer commits a few times at most; after more than this the
   answers are asked again once. */
#define SQ_OWN_COMMITS 64

/* Prefix lengths a family can have in use: /0 to /128. */
#define PREFIX_LENGTHS_MAX 129

/* Rows per multi-row decision INSERT: one statement step per 16 rows
   costs about 1.8 us a row instead of 2.9 (tests/bench/store.sh). */
#define SQ_DECISION_ROWS_PER_INSERT 16

enum sq_stmt_id {
	SQ_BEGIN_IMMEDIATE,
	SQ_BEGIN_DEFERRED,	/* a read snapshot (store_read_begin) */
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_ADMIN_LOG,
	SQ_DATA_VERSION,	/* store_sqlite_memo.c's change check */

	SQ_GRANT_PREFIX_NEXT,
	SQ_GRANT_GET_LIVE,
	SQ_GRANT_GET_ANY,
	SQ_GRANT_UPSERT,
	SQ_GRANT_UPSERT_MANY,	/* SQ_LOGIN_ROWS rows */
	SQ_GRANT_DELETE,
	SQ_GRANT_LIST,
	SQ_GRANT_LOG,
	SQ_GRANT_LOG_MANY,	/* SQ_LOGIN_ROWS rows */
	SQ_GRANT_LOG_SESSION,
	SQ_CHECKPOINT_GET,
	SQ_CHECKPOINT_PUT,

	SQ_USER_SUSPENDED,
	SQ_USER_SET,
	SQ_USER_ENSURE,
	SQ_USER_LIST,
	SQ_SENDER_OWNED,
	SQ_SENDER_ADD,
	SQ_SENDER_DELETE,
	SQ_SENDER_LIST_ALL,
	SQ_SENDER_LIST_USER,

	SQ_CERT_LOOKUP,
	SQ_CERT_ADD,
	SQ_CERT_FIND,
	SQ_CERT_DELETE,
	SQ_CERT_LIST,

	SQ_DECISION_INSERT,
	SQ_DECISION_INSERT_MANY,	/* SQ_DECISION_ROWS_PER_INSERT rows */
	SQ_PRUNE_DECISIONS,
	SQ_PRUNE_GRANTS,
	SQ_PRUNE_COUNT_DECISIONS,
	SQ_PRUNE_COUNT_GRANTS,

	SQ_PRUNE_LIMIT_REFUSALS,
	SQ_PRUNE_LIMIT_COUNTS,
	SQ_LIMIT_RULE_GET,
	SQ_LIMIT_RULE_SET,
	SQ_LIMIT_RULE_CLEAR,
	SQ_LIMIT_RULE_LIST,
	SQ_LIMIT_COUNTS_GET,
	SQ_LIMIT_COUNT_ADD,	/* up to SQ_LIMIT_ADD_ROWS rows */
	SQ_LIMIT_COUNT_ADD_FEW,	/* up to SQ_LIMIT_ADD_ROWS / 2 rows */
	SQ_LIMIT_COUNT_ADD_MANY,	/* up to SQ_PENDING_STMT_ROWS rows */
	SQ_LIMIT_COUNTS_EXPIRE,
	SQ_LIMIT_REFUSAL_ADD,
	SQ_LIMIT_REFUSALS_RECENT,

	SQ_STMT_COUNT
};

/* Logins per statement of the multi-row grant statements: one statement
   (its cursors, its halt, its reset, and the ephemeral table SQLite
   builds for grant_log's CHECK (event IN (...))) serves this many
   logins; that about halves the store's instructions per login of a
   large batch (callgrind on tests/bench/loginwatch.sh's log). */
#define SQ_LOGIN_ROWS 16

/* Rows of SQ_LIMIT_COUNT_ADD: a bucket per window of both kinds, so a
   message's additions fit one statement (unused rows bind NULL). Up to
   half as many rows (two windows of both kinds, the usual setting) use
   a statement of half the size: SQLite evaluates every row of VALUES,
   unused ones too, and the 8-row statement was 15% of the event loop's
   samples with four rows in use (perf, tests/bench/policyd-limits.sh). */
#define SQ_LIMIT_ADD_ROWS 8

/* Rows of SQ_LIMIT_COUNT_ADD_MANY: a transaction's additions of several
   messages (store_sqlite_pending.c) in one statement. */
#define SQ_PENDING_STMT_ROWS 32

/* The SQL text of each statement. */
extern const char *const sq_sql[SQ_STMT_COUNT];

struct sq_pending;

struct sq_conn {
	struct sqlite3 *db;
	struct sqlite3_stmt *stmt[SQ_STMT_COUNT];
	const char *path;	/* for messages; owned by struct sq_store */
	/* SQLite's WAL index as the connection has it mapped (sq_wal_index());
	   NULL until first asked */
	const volatile unsigned char *wal_index;
	/* limit counter additions its write transaction owes
	   (store_sqlite_pending.c); NULL until the first */
	struct sq_pending *pending;
};

struct sq_memo;
struct sq_counts;

/* Rows a subject may have kept in store_sqlite_counts.c: a bucket per
   sixteenth of each window (limit_window.h) and the bucket sliding out,
   for two windows of both kinds, and a few of windows no longer set. */
#define SQ_COUNTS_ROWS 80

/* One counter row of limit_counts, as store_sqlite_counts.c keeps it. */
struct sq_count_row {
	int kind;		/* enum store_limit_kind */
	int64_t window, bucket;
	uint64_t count;
};

struct sq_store {
	struct store base;
	char *path;
	char *program;			/* options.program, for decision rows */
	long long busy_timeout_ms;
	pthread_mutex_t lock;		/* serialises use of main */
	struct sq_conn main;
	struct sq_conn writer_conn;	/* the decision writer's thread's; closed: no queue */
	bool snapshot;			/* in store_read_begin()'s batch: its read
					   transaction is open on main once joined */
	bool moved;			/* sq_moved()'s last answer, for sq_lookup_moved() */
	long long moved_checked_ms;	/* CLOCK_MONOTONIC of that answer; 0: none yet */
	/* The grant prefix lengths in use per family (0 IPv4, 1 IPv6), as
	   read in a snapshot whose data version was `version`
	   (store_sqlite_grants.c). */
	struct sq_prefixes {
		bool valid;
		unsigned version;
		unsigned count;
		unsigned char len[PREFIX_LENGTHS_MAX];
	} prefixes[2];
	struct sq_memo *memo;		/* answers from memory; NULL until used */
	struct sq_counts *counts;	/* limit counters kept; NULL until used */
	uint64_t counts_hits, counts_misses;	/* counter reads answered from it / not */
	uint64_t memo_hits, memo_misses;	/* lookups answered from it / not */
	store_progress_fn *progress;	/* options.progress, may be NULL */
	void *progress_ctx;
	time_t lookup_warned;		/* last lookup failure logged */
	unsigned lookup_failures;	/* since then */
	/* Whose turn it is to write (store_sqlite_turn.c). */
	struct sq_turn {
		pthread_mutex_t lock;
		pthread_cond_t cond;
		bool held;
		bool writer_waiting;
		/* The holder's transaction (sq_turn_began()): the WAL
		   index's commit count and its connection's changes then. */
		struct sq_conn *conn;
		bool began;
		uint32_t began_count;
		int64_t began_changes;
		/* The commit counts this process's commits started from,
		   newest last (a ring of SQ_OWN_COMMITS). */
		uint32_t own[SQ_OWN_COMMITS];
		unsigned own_next, own_used;
	} turn;
	bool main_turn;			/* main holds the turn: a batch's limit counts */
	int wal_pages;			/* the WAL's size after the writer's last commit */
	int wal_tried_pages;		/* its size at the writer's last checkpoint */
};

static inline struct sq_store *sq_store(struct store *store)
{
	return (struct sq_store *)store;
}

/* Opens path (must exist) as a connection with the per-connection
   settings (busy timeout, synchronous, foreign keys). Returns 0 or -1
   with *error_r. */
int sq_conn_open(struct sq_conn *conn, const char *path, long long busy_timeout_ms,
		 char **error_r);

/* Finalises every prepared statement and closes; safe on a closed one. */
void sq_conn_close(struct sq_conn *conn);

/* Returns the connection's prepared statement id, reset and with no
   bindings, preparing it on first use; NULL on failure (the message is
   in sqlite3_errmsg(conn->db)). The caller resets it after use so no
   read transaction stays open. */
struct sqlite3_stmt *sq_stmt(struct sq_conn *conn, enum sq_stmt_id id);

/* Runs a statement that returns no rows (BEGIN, COMMIT, ...). Returns
   the SQLite result code (SQLITE_DONE on success). */
int sq_run(struct sq_conn *conn, enum sq_stmt_id id);

/* Steps a bound statement that returns no rows and resets it. Returns 0,
   or -1 with *error_r naming what (see sq_fail()). */
int sq_step_done(struct sq_conn *conn, struct sqlite3_stmt *stmt, const char *what,
		 char **error_r);

/* BEGIN IMMEDIATE (waits up to the busy timeout for the write lock;
   a read snapshot still open on the connection is ended first, so a
   write starts from the newest data);
   COMMIT; ROLLBACK (never fails: it is the error path). sq_begin and
   sq_commit return 0 or -1 with *error_r naming what failed. */
int sq_begin(struct sq_conn *conn, char **error_r);
int sq_commit(struct sq_conn *conn, char **error_r);
void sq_rollback(struct sq_conn *conn);

/* Sets *error_r to "database PATH: WHAT: sqlite's message" and returns
   -1. */
int sq_fail(struct sq_conn *conn, char **error_r, const char *what);

/* Logs (at most once a minute, with a count) that a lookup could not be
   answered, and returns LOOKUP_ERROR. */
enum lookup_result sq_lookup_failed(struct sq_store *st, const char *what);

/* True when the database file was removed or replaced (another inode at
   its path) since it was opened: the open descriptor would still answer,
   from a file no other program sees any more. One stat() of the path. */
bool sq_moved(struct sq_store *st);

/* sq_moved() for lookups and read snapshots: the answer of the last
   stat() while it is younger than STORE_FILE_CHECK_MS (store.h), else a
   new one. Inside a read snapshot the check was made when the snapshot
   began (its answers are that old anyway). The caller holds st->lock. */
bool sq_lookup_moved(struct sq_store *st);

/* Inside a batch (store_read_begin()), begins its read transaction if
   none is open yet: called before a lookup's first statement. The
   caller holds st->lock. */
void sq_snapshot_join(struct sq_store *st);

/* Appends one admin_actions row within the caller's transaction.
   Returns 0 or -1 with *error_r. */
int sq_admin_row(struct sq_conn *conn, const char *actor, const char *action,
		 const char *subject, const char *detail, char **error_r);

/* Binds text, or NULL for a NULL pointer (SQLITE_TRANSIENT copy not
   needed: the value outlives the step). */
int sq_bind_text(struct sqlite3_stmt *stmt, int idx, const char *text);

/* Copies column idx as text into buf (size bytes, always terminated,
   "" for NULL), cut at size - 1. */
void sq_column_copy(struct sqlite3_stmt *stmt, int idx, char *buf, size_t size);

/* The change of one write transaction, its admin_log rows included:
   0, or -1 with *error_r. */
typedef int sq_change_fn(struct sq_conn *conn, void *ctx, char **error_r);

/* Runs change in one IMMEDIATE transaction on the main connection,
   under the lock: committed when it returns 0, rolled back when it
   fails. Returns 0, or -1 with *error_r. */
int sq_transact(struct sq_store *st, sq_change_fn *change, void *ctx, char **error_r);

/* A list statement: bind (may be NULL) sets its parameters; row gets
   each row and returns what the caller's callback returned (non-zero
   stops the list early, which is success). */
typedef void sq_bind_fn(struct sqlite3_stmt *stmt, void *ctx);
typedef int sq_row_fn(struct sqlite3_stmt *stmt, void *ctx);

/* Steps list statement id on the main connection, under the lock, and
   hands each row to row. Returns 0, or -1 with *error_r naming what. */
int sq_list(struct sq_store *st, enum sq_stmt_id id, const char *what, sq_bind_fn *bind,
	    sq_row_fn *row, void *ctx, char **error_r);

/* store_sqlite_turn.c: the write turn between main's batch writes and
   the writer's batches, so neither waits in SQLite's busy handler for
   the other. sq_turn_take() waits until the turn is free (writer: the
   writer thread, which goes first when both wait); sq_turn_give() ends
   it. Taken before BEGIN IMMEDIATE, given after COMMIT or ROLLBACK.
   sq_turn_began(), right after BEGIN IMMEDIATE, notes where the holder's
   transaction starts; sq_turn_give(st, committed) then records a commit
   that changed rows as this process's own. sq_turn_own_commits() says
   whether every commit that took the WAL index's commit count from
   `from` to `to` was one of them. */
void sq_turn_init(struct sq_store *st);
void sq_turn_destroy(struct sq_store *st);
void sq_turn_take(struct sq_store *st, bool writer);
void sq_turn_began(struct sq_store *st, struct sq_conn *conn);
void sq_turn_give(struct sq_store *st, bool committed);
bool sq_turn_own_commits(struct sq_store *st, uint32_t from, uint32_t to);

/* Locks and unlocks the main connection. */
void sq_lock(struct sq_store *st);
void sq_unlock(struct sq_store *st);

/* ---- the operations, one file per idea ---- */

/* store_sqlite_grants.c */
enum lookup_result sq_grant_lookup(struct store *store, const struct ipaddr *ip, int64_t now,
				   struct store_grant *grant_r);
int sq_logins_apply(struct store *store, const struct store_login *logins, size_t count,
		    const struct store_checkpoint *cp, char **error_r);
enum lookup_result sq_checkpoint_get(struct store *store, const char *source,
				     struct store_checkpoint *cp_r);
int sq_grant_add(struct store *store, const struct store_grant *grant, const char *actor,
		 char **error_r);
int sq_grant_revoke(struct store *store, const struct ipaddr *ip, const char *actor,
		    unsigned *removed_r, char **error_r);
int sq_grant_list(struct store *store, int64_t now, store_grant_cb *cb, void *ctx,
		  char **error_r);

/* store_sqlite_users.c */
enum lookup_result sq_user_suspended(struct store *store, const char *username);
int sq_user_set_suspended(struct store *store, const char *username, bool suspended,
			  const char *actor, char **error_r);
int sq_user_list(struct store *store, store_user_cb *cb, void *ctx, char **error_r);
enum lookup_result sq_sender_owned(struct store *store, const char *username,
				   const char *bare, const char *at_domain);
int sq_sender_allow(struct store *store, const char *username, const char *pattern,
		    const char *actor, char **error_r);
int sq_sender_deny(struct store *store, const char *username, const char *pattern,
		   const char *actor, char **error_r);
int sq_sender_list(struct store *store, const char *username, store_sender_cb *cb, void *ctx,
		   char **error_r);

/* store_sqlite_certs.c */
enum lookup_result sq_cert_lookup(struct store *store, const char *fingerprint, char *user_r);
int sq_cert_add(struct store *store, const struct store_cert *cert, const char *actor,
		char **error_r);
int sq_cert_revoke(struct store *store, const char *fingerprint, const char *actor,
		   char **error_r);
int sq_cert_list(struct store *store, store_cert_cb *cb, void *ctx, char **error_r);

/* store_sqlite_file.c: before opening, the file and its directory are
   safe to use (created with STORE_OPEN_CREATE); 0 or -1 with *error_r. */
int sq_file_check(const char *path, const struct store_options *opts, char **error_r);
/* On the opened connection: an authrelay database (or an empty one),
   not newer than this build, in WAL mode, migrated; 0 or -1. */
int sq_file_prepare(struct sq_conn *conn, const struct store_options *opts, char **error_r);
/* One integer PRAGMA or count; SQLite result code. */
int sq_pragma_int(struct sqlite3 *db, const char *sql, int *value_r);

/* store_sqlite_writer.c: the decision writer (store_writer.h) on its
   own connection; start opens that connection (none for queue_max 0)
   and the writer, stop stops both. */
int sq_writer_start(struct sq_store *st, unsigned queue_max, char **error_r);
void sq_writer_stop(struct sq_store *st, long long flush_timeout_ms);
int sq_decision_write(struct store *store, const struct store_writer_batch *batch,
		      char **error_r);

/* store_sqlite_limits.c */
enum lookup_result sq_limit_rules_get(struct store *store, const char *user, const char *domain,
				      char spec_r[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX]);
int sq_limit_set(struct store *store, const char *subject, const char *kind, const char *spec,
		 const char *actor, char **error_r);
int sq_limit_clear(struct store *store, const char *subject, const char *actor, char **error_r);
int sq_limit_list(struct store *store, store_limit_rule_cb *cb, void *ctx, char **error_r);
int sq_limit_charge(struct store *store, const struct store_limit_charge *c,
		    struct store_limit_state *state_r, char **error_r);
int sq_limit_refused(struct store *store, const struct store_limit_refusal *r,
		     unsigned *refusals_r, bool *suspended_r, bool *notify_r, char **error_r);

/* store_sqlite_memo.c: the lookups of store_backend.h answered from
   memory while the database is unchanged (the file says how), else by
   the functions above; sq_memo_clear() forgets every answer (a write
   through the main connection, which SQLite's data version does not
   count), sq_memo_free() at close. The caller of the last two holds the
   lock. */
enum lookup_result sq_memo_grant_lookup(struct store *store, const struct ipaddr *ip,
					int64_t now, struct store_grant *grant_r);
enum lookup_result sq_memo_user_suspended(struct store *store, const char *username);
enum lookup_result sq_memo_sender_owned(struct store *store, const char *username,
					const char *bare, const char *at_domain);
enum lookup_result sq_memo_cert_lookup(struct store *store, const char *fingerprint,
				       char *user_r);
enum lookup_result sq_memo_limit_rules_get(struct store *store, const char *user,
					   const char *domain,
					   char spec_r[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX]);
void sq_memo_clear(struct sq_store *st);
void sq_memo_free(struct sq_store *st);
/* FNV-1a of a kind byte and len bytes of key, never 0: the hash of the
   open-addressing tables in memory (answers, limit counters), where 0
   marks a free slot. */
uint32_t sq_key_hash(unsigned char kind, const char *key, size_t len);
/* The connection's WAL index (its first region, as SQLite maps it), or
   NULL when it cannot be had (not in WAL mode, no read yet); kept in
   conn. sq_wal_commit_count() reads the count of commits in its header,
   which every commit by any process increments by one. */
const volatile unsigned char *sq_wal_index(struct sq_conn *conn);
uint32_t sq_wal_commit_count(const volatile unsigned char *wal_index);
/* The lookups answered from memory and those that asked the database,
   since the store was opened (tests). */
void sq_memo_counts(struct store *store, uint64_t *hits_r, uint64_t *misses_r);

/* store_sqlite_counts.c: the limit counters of recent subjects, used
   while every commit since they were read was this process's own (the
   file says how). sq_counts_get() gives a subject's rows, or false when
   they must be read, and the commit count they would be kept with;
   sq_counts_put() keeps rows just read with it (only from a read in a
   transaction of its own, or in the write transaction; not when another
   commit came since the count was read);
   sq_counts_add() and sq_counts_expire() apply a change just made in the
   write transaction; sq_counts_drop() forgets all (a rollback, a failed
   commit); sq_counts_free() at close. The caller holds the lock. The
   rows of sq_counts_get() are valid until the next call here. */
bool sq_counts_get(struct sq_store *st, const char *subject, const struct sq_count_row **rows_r,
		   unsigned *n_r, uint32_t *label_r);
void sq_counts_put(struct sq_store *st, const char *subject, const struct sq_count_row *rows,
		   unsigned n, uint32_t label);
void sq_counts_add(struct sq_store *st, const char *subject, int kind, int64_t window,
		   int64_t bucket, uint64_t add);
void sq_counts_expire(struct sq_store *st, const char *subject, int kind, int64_t window,
		      int64_t before);
void sq_counts_drop(struct sq_store *st);
void sq_counts_free(struct sq_store *st);
/* The counter reads answered from memory and those that asked the
   database, since the store was opened (tests). */
void sq_counts_stats(struct store *store, uint64_t *hits_r, uint64_t *misses_r);

/* store_sqlite_pending.c: the counter additions of conn's write
   transaction, written before it commits (the file says when).
   sq_pending_add() keeps n rows of subject (max[i]: row i's limit, for
   limit_counts.max), merged with those already kept; sq_pending_write()
   writes them all (-1: the transaction must be rolled back);
   sq_pending_drop() forgets them (sq_rollback() calls it);
   sq_pending_committed() after a COMMIT that succeeded;
   sq_pending_ended() true when SQLite itself ended the transaction
   that owed additions (they are lost); sq_pending_lost() whether
   additions were lost since it last asked (and forgets it),
   sq_pending_were_lost() the same without forgetting;
   sq_pending_free() at close. The caller owns conn. */
int sq_pending_add(struct sq_conn *conn, const char *subject, const struct sq_count_row *rows,
		   const uint32_t *max, unsigned n, char **error_r);
int sq_pending_write(struct sq_conn *conn, char **error_r);
void sq_pending_drop(struct sq_conn *conn);
void sq_pending_committed(struct sq_conn *conn);
bool sq_pending_ended(struct sq_conn *conn);
bool sq_pending_lost(struct sq_conn *conn);
bool sq_pending_were_lost(const struct sq_conn *conn);
void sq_pending_free(struct sq_conn *conn);

/* store_sqlite_audit.c */
int sq_audit(struct store *store, const struct store_audit_filter *filter,
	     store_decision_cb *cb, void *ctx, char **error_r);
int sq_prune_batch(struct store *store, enum store_prune_table table, int64_t before,
		   unsigned batch, char **error_r);
uint64_t sq_prune_count(struct store *store, enum store_prune_table table, int64_t before);
int sq_admin_log(struct store *store, const char *actor, const char *action,
		 const char *subject, const char *detail, char **error_r);
const char *sq_query_text(enum store_query_set set);
int sq_query(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
	     char **error_r);

/* ---- store_sqlite_copy.c: authrelayctl copy (store_backend.h) ---- */

int sq_copy_begin(struct store *store, bool write, char **error_r);
enum lookup_result sq_table_count(struct store *store, const struct store_table *t,
				  uint64_t *count_r, char **error_r);
int sq_table_dump(struct store *store, const struct store_table *t, store_row_cb *cb,
		  void *ctx, char **error_r);
int sq_table_clear(struct store *store, const struct store_table *t, char **error_r);
int sq_table_load(struct store *store, const struct store_table *t,
		  const struct store_value *values, size_t nrows, char **error_r);
int sq_copy_end(struct store *store, const struct store_copy_note *note, char **error_r);

#endif

/*
 * NAME
 *	store 3h
 * SUMMARY
 *	the database interface shared by all programs
 * DESCRIPTION
 *	Callers see only this interface. store_open() picks the backend
 *	from the location's form through the table of backends
 *	(store_backends.c): a file path is SQLite (store_sqlite*.c), a
 *	"postgresql://..." URI or a libpq "keyword=value" string is
 *	PostgreSQL (store_pgsql*.c, whose own details are in
 *	store_pgsql.h). The business rules (what makes two spellings of a
 *	sender, a certificate or a grant the same) are applied here, in
 *	store.c and store_rules.c, before a backend is asked, so both
 *	backends give the same answer to the same question.
 *
 *	Every lookup returns LOOKUP_FOUND, LOOKUP_NOT_FOUND or LOOKUP_ERROR.
 *	Every change made on behalf of an admin writes its admin_log row in
 *	the same transaction. Times are Unix seconds (UTC); the SQL views
 *	show them as ISO-8601 text. An operation a backend does not have is
 *	an error ("the NAME backend cannot VERB"; LOOKUP_ERROR for a
 *	lookup), never a crash.
 *
 *	The contract every backend meets:
 *
 *	What blocks. The per-message lookups (store_grant_lookup(),
 *	store_user_suspended(), store_sender_owned(), store_cert_lookup(),
 *	store_limit_rules()) never wait on a network: SQLite answers them
 *	with an indexed read of a local file, which waits for a lock at most
 *	busy_timeout_ms (WAL: writers do not block readers, so in practice
 *	a checkpoint or a migration); PostgreSQL answers them from memory
 *	kept current by the database (LISTEN/NOTIFY), waiting only, once,
 *	for the first load (at most busy_timeout_ms). Either way policyd's
 *	single event loop may call them inline. store_decision_queue()
 *	never blocks: the rows are written in batches by the store's own
 *	thread, and a full queue drops and counts them.
 *	store_limit_charge() and store_limit_refused() are a write
 *	transaction each (on SQLite a local one, waiting for the write lock
 *	at most busy_timeout_ms). Every other call (authrelayctl's verbs,
 *	loginwatch's store_logins_apply(), audit, prune, queries) is
 *	synchronous: a local transaction on SQLite, statements on a second
 *	connection on PostgreSQL (its connect bounded by libpq's
 *	connect_timeout); a change made through a store is seen by that
 *	store's next lookup.
 *
 *	What may be called from a callback. The list, audit and query
 *	callbacks (store_grant_cb, store_sql_cb, ...) run inside the call,
 *	on the caller's thread, with the backend's lock held: they may make
 *	lookups and store_decision_queue(), and no other store call (no
 *	write, no second list). The progress function may not call the
 *	store at all.
 *
 *	What a lost database returns. A database file removed or replaced
 *	while open (SQLite, see STORE_FILE_CHECK_MS), or a connection to
 *	the server lost (PostgreSQL: from the moment its thread sees the
 *	loss until it has reconnected and reloaded every table, unless the
 *	admin set database_stale_grace), makes every lookup LOOKUP_ERROR,
 *	which the daemons answer with on_store_error, never a permit; writes
 *	fail with -1 and a message. Decision rows queued meanwhile are kept
 *	up to the queue's bound (PostgreSQL writes them once the server is
 *	back; SQLite's file does not come back to a running program).
 *	Reconnection needs no restart on PostgreSQL; a replaced SQLite file
 *	needs one.
 *
 *	Thread safety: one struct store may be used from several threads
 *	(the milter); calls are serialised inside.
 */
#ifndef AUTHRELAY_STORE_H
#define AUTHRELAY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ipaddr.h"
#include "limit_spec.h"
#include "lookup.h"

struct store;

enum store_open_mode {
	STORE_OPEN_EXISTING,	/* the database must exist and be initialised */
	STORE_OPEN_CREATE	/* create and migrate when missing (ctl init) */
};

/* Long work reports through this (authrelayctl's progress line): prune
   after each batch with done = rows deleted so far and total = rows it
   found to delete; long statements (migrations, audit reads) every
   STORE_PROGRESS_STEPS steps of the engine with done = total = 0, which
   means "still working". Called on the caller's thread from inside the
   store call: it must not call the store, and it cannot stop the work. */
typedef void store_progress_fn(void *ctx, uint64_t done, uint64_t total);

/* Measured here: a full scan of a 2,000,000-row decision_log (audit
   --user without --since) took 0.10 s and reported 6 times, so about
   17 ms of engine work per report: often enough for a redraw every
   PROGRESS_REDRAW_MS, rare enough to cost nothing measurable. */
#define STORE_PROGRESS_STEPS 1000000

struct store_options {
	enum store_open_mode mode;
	long long busy_timeout_ms;	/* how long a call waits for a lock */
	unsigned decision_queue_max;	/* 0: no decision writer thread */
	const char *program;		/* "policyd", ... for decisions rows */
	store_progress_fn *progress;	/* NULL: no reports (the daemons) */
	void *progress_ctx;
	/* PostgreSQL only (lib/store_pgsql.h): */
	const char *password_file;	/* NULL or "": no password */
	long long stale_grace_ms;	/* answers from memory after a loss */
};

/* Opens location: a file path for SQLite; "postgresql://...",
   "postgres://..." or a libpq "keyword=value ..." string for PostgreSQL
   (lib/store_pgsql.h). With STORE_OPEN_EXISTING a
   missing file, a file that is not an authrelay database, or one whose
   schema is newer than this build is an error (never recreated over);
   an older schema is migrated. A world-writable directory, database,
   -wal or -shm file is refused before anything is opened or created.
   Returns 0, or -1 with *error_r (malloc'd,
   caller frees). The decision writer thread starts here: call after
   fork() and privilege drop. */
int store_open(const char *location, const struct store_options *opts,
	       struct store **store_r, char **error_r);

/* True when location names a database server (PostgreSQL), false for
   a file path: file checks (owners, modes, directories) apply only to
   paths. */
bool store_location_is_server(const char *location);

/* What one path of a database on files is, for an admin's checks. */
enum store_file_kind {
	STORE_FILE_DIR,		/* the directory the backend creates files in */
	STORE_FILE_MAIN,	/* the database file itself */
	STORE_FILE_SIDE		/* a file the backend keeps beside it */
};
struct store_file {
	const char *path;
	enum store_file_kind kind;
	const char *why;	/* why the backend needs it, for messages */
};
typedef int store_file_cb(const struct store_file *file, void *ctx);

/* Calls cb for each directory and file the database at location is made
   of, whether they exist yet or not, so that authrelayctl checks owners
   and modes and hands them to run_user without knowing a backend's
   layout: SQLite's directory, the file, its -wal and -shm files; nothing
   for a server. cb returning non-zero stops, and that value is
   returned. Returns 0, or -1 when no backend accepts location or a path
   does not fit PATH_MAX. */
int store_location_files(const char *location, store_file_cb *cb, void *ctx);

/* Flushes queued decisions (waits up to flush_timeout_ms), stops the
   writer, closes, sets *store to NULL. Rows that could not be written
   in time are counted in the log line, not silently dropped. */
void store_close(struct store **store, long long flush_timeout_ms);

/* A read snapshot shared by a batch of lookups (policyd: one epoll_wait()
   batch of requests). For single-threaded callers: between
   store_read_begin() and store_read_end() every lookup that reads the
   database (a backend may answer from memory what cannot have changed)
   runs in one read transaction, so the database's locking (and the check that the file
   was not removed or replaced) is paid once per batch instead of once
   per lookup (the file check itself: see STORE_FILE_CHECK_MS). The
   data seen is at most one batch old: a grant written by another
   program during the batch is seen from the next batch on.
   Writers are never blocked (WAL: readers do not stop them). On any
   error the calls degrade to per-lookup transactions, never to a wrong
   answer; an admin write through this store ends the snapshot first.
   store_read_begin() returns 0 when a snapshot is open, -1 when lookups
   run one transaction each (no store, an error, or a backend without
   snapshots); store_read_end() is always safe to call.
   A store_limit_charge() that adds, inside a snapshot, turns it into
   the batch's write transaction (see there): store_read_end() then
   commits the batch's counts, and other writers wait for it.
   store_read_end() returns 0, or -1 when counts that charges of the
   batch added (state_r->batched) are not in the database: the batch's
   transaction was rolled back or its commit failed (logged). */
int store_read_begin(struct store *store);
int store_read_end(struct store *store);

/* The backend's name: "sqlite" (a file), or a server backend's. Never
   NULL; "" for a NULL store. */
const char *store_backend_name(const struct store *store);

/* A database file removed or replaced while open (a restore done with
   mv, say) is noticed by a stat() of its path, which lookups and read
   snapshots make at most every STORE_FILE_CHECK_MS milliseconds: for at
   most that long after the change a lookup may still answer from the
   old file; every lookup after that fails (LOOKUP_ERROR: never a
   permit), until the program is restarted. Writes check every time
   (WAL writes to a replaced file would be lost). tests/faults/dbgone.sh
   asks right after the change, from a client process started after it,
   and sees only store errors. Inside a real Postfix policyd's requests
   come one per wake-up, a millisecond or two apart, and a check per
   request was 1.1 stat() per request (strace -c,
   tests/bench/postfix-policyd.sh); 10 ms is far below what a person or
   a test can act in. */
#define STORE_FILE_CHECK_MS 10

/* The schema version found in the database. Returns 0 or -1. */
int store_schema_version(struct store *store, int *version_r);

/* The newest schema version this build knows for the backend that
   location selects (no store needed: authrelayctl status says it when
   the database cannot be opened), or for store's backend; -1 for a
   location no backend accepts or a NULL store. */
int store_schema_latest(const char *location);
int store_schema_newest(const struct store *store);

/* Runs the database's own integrity check. LOOKUP_FOUND = "ok". */
enum lookup_result store_check_integrity(struct store *store, char **detail_r);

/* ---- grants (POP/IMAP-before-SMTP and manual) ---- */

#define STORE_USER_MAX 256
#define STORE_SERVICE_MAX 16
#define STORE_SOURCE_MAX 512
#define STORE_SESSION_MAX 64	/* Dovecot's session ids have 16..22 characters */

struct store_grant {
	struct ipaddr net;	/* masked to prefix_len */
	unsigned prefix_len;	/* 32 for IPv4; grant_ipv6_prefix for IPv6 */
	char username[STORE_USER_MAX];
	char service[STORE_SERVICE_MAX];	/* pop3, imap, manual */
	int64_t first_seen, last_seen, expires_at;
	int64_t logins;
};

/* LOOKUP_FOUND when a grant with expires_at > now covers ip (IPv4
   exact, IPv6 within the grant's prefix); the grant is copied to
   *grant_r when grant_r is not NULL. */
enum lookup_result store_grant_lookup(struct store *store, const struct ipaddr *ip, int64_t now,
				      struct store_grant *grant_r);

/* One successful login seen by loginwatch. */
struct store_login {
	struct ipaddr net;	/* already masked */
	unsigned prefix_len;
	char username[STORE_USER_MAX];
	char service[STORE_SERVICE_MAX];
	int64_t login_time;	/* from the log line */
	int64_t expires_at;	/* login_time + grant_ttl */
	char source[STORE_SOURCE_MAX];	/* file path, "journal", "dovecot-auth-policy" */
	const char *line;	/* the log line (or the report's fields), for grant_history */
	char session[STORE_SESSION_MAX];	/* the server's session id; "" = none */
};

/* Where loginwatch stopped reading one source. */
struct store_checkpoint {
	char source[STORE_SOURCE_MAX];
	uint64_t dev, ino;	/* file identity */
	uint64_t offset;	/* bytes consumed */
	uint64_t line_hash;	/* hash of the last line consumed */
	int64_t updated;
};

/* In one transaction: insert or refresh a grant per login (a live grant
   keeps its first_seen and counts one more login; expires_at never moves
   backwards; an expired one starts anew), append each to grant_history,
   and store the checkpoint when cp is not NULL. A login with a session
   id whose (session, ip) is already in grant_history was counted before
   (the same login reported by Dovecot and read from its log, in either
   order, or twice in one batch): it writes nothing. All or nothing: on -1
   nothing was written (so the checkpoint never runs ahead of the
   grants). */
int store_logins_apply(struct store *store, const struct store_login *logins, size_t count,
		       const struct store_checkpoint *cp, char **error_r);

/* LOOKUP_FOUND and *cp_r filled when a checkpoint exists for source. */
enum lookup_result store_checkpoint_get(struct store *store, const char *source,
					struct store_checkpoint *cp_r);

/* Manual grant (authrelayctl grant add): service "manual", logged. */
int store_grant_add(struct store *store, const struct store_grant *grant, const char *actor,
		    char **error_r);

/* Removes every grant whose network contains ip or equals it; *removed_r
   gets the count. Logged. */
int store_grant_revoke(struct store *store, const struct ipaddr *ip, const char *actor,
		       unsigned *removed_r, char **error_r);

typedef int store_grant_cb(const struct store_grant *grant, void *ctx);

/* Calls cb for every live grant (expires_at > now), oldest first; cb
   returning non-zero stops. Returns 0 or -1. */
int store_grant_list(struct store *store, int64_t now, store_grant_cb *cb, void *ctx,
		     char **error_r);

/* ---- SASL users and their sender addresses ---- */

/* LOOKUP_FOUND when username is suspended. Unknown users are not
   suspended. */
enum lookup_result store_user_suspended(struct store *store, const char *username);

/* Suspends or resumes; creates the user row when missing. Logged. */
int store_user_set_suspended(struct store *store, const char *username, bool suspended,
			     const char *actor, char **error_r);

struct store_user {
	char username[STORE_USER_MAX];
	bool suspended;
	int64_t changed;
	unsigned senders;	/* number of sender patterns */
};
typedef int store_user_cb(const struct store_user *user, void *ctx);
int store_user_list(struct store *store, store_user_cb *cb, void *ctx, char **error_r);

/* LOOKUP_FOUND when one of username's patterns covers address (an
   addr_normalize()d envelope or header address; +tag and domain case
   are handled here, per addr.h). */
enum lookup_result store_sender_owned(struct store *store, const char *username,
				      const char *address);

/* pattern is addr_pattern_normalize()d by the callee; errors say why.
   Logged. deny of a pattern that is not there is an error. */
int store_sender_allow(struct store *store, const char *username, const char *pattern,
		       const char *actor, char **error_r);
int store_sender_deny(struct store *store, const char *username, const char *pattern,
		      const char *actor, char **error_r);

typedef int store_sender_cb(const char *username, const char *pattern, int64_t added, void *ctx);
/* username NULL: everybody's. */
int store_sender_list(struct store *store, const char *username, store_sender_cb *cb, void *ctx,
		      char **error_r);

/* ---- client certificates ---- */

#define STORE_FPR_MAX 160	/* "AB:CD:..." sha256 = 95 characters */

struct store_cert {
	char username[STORE_USER_MAX];
	char fingerprint[STORE_FPR_MAX];	/* ccert_fingerprint form */
	char pubkey_fingerprint[STORE_FPR_MAX];	/* ccert_pubkey_fingerprint form */
	char subject[512];
	int64_t not_after;
	int64_t added;
};

/* LOOKUP_FOUND (and *user_r filled, size STORE_USER_MAX, when not NULL)
   when fingerprint matches a registered certificate's fingerprint or
   public-key fingerprint. Comparison ignores case and ':' placement. */
enum lookup_result store_cert_lookup(struct store *store, const char *fingerprint, char *user_r);

int store_cert_add(struct store *store, const struct store_cert *cert, const char *actor,
		   char **error_r);
/* Removes the certificate whose fingerprint or public-key fingerprint
   is fingerprint. Not there is an error. Logged. */
int store_cert_revoke(struct store *store, const char *fingerprint, const char *actor,
		      char **error_r);
typedef int store_cert_cb(const struct store_cert *cert, void *ctx);
int store_cert_list(struct store *store, store_cert_cb *cb, void *ctx, char **error_r);

/* ---- decisions (audit) ---- */

struct store_decision {
	int64_t ts;
	const char *program;	/* NULL: the store's options.program */
	const char *client_ip, *sasl_username, *sender, *recipient;
	const char *verdict, *rule, *reason, *queue_id;
};

/* Copies d into the queue and returns at once: 0, or -1 when the queue
   is full (the row is counted as dropped and a warning is logged at most
   once a minute). Never blocks on the database. A queued row is written
   once: a failed batch (database locked, server gone) is retried until
   written or until store_close()'s flush deadline, with the same row
   identities, so a backend that cannot tell whether a batch committed
   (PostgreSQL after a broken connection) skips rows it already has. */
int store_decision_queue(struct store *store, const struct store_decision *d);

/* Waits until every row queued so far is written (tests, shutdown).
   Returns 0, or -1 when timeout_ms passed first. */
int store_decision_flush(struct store *store, long long timeout_ms);

/* Rows dropped because the queue was full, and rows written, so far. */
void store_decision_stats(struct store *store, uint64_t *written_r, uint64_t *dropped_r);

struct store_audit_filter {
	int64_t since;		/* 0: no limit */
	const char *username;	/* NULL: any */
	const char *ip;		/* NULL: any; exact text match */
	const char *verdict;	/* NULL: any */
	unsigned limit;		/* 0: no limit */
};
struct store_decision_row {
	int64_t id, ts;
	const char *program, *client_ip, *sasl_username, *sender, *recipient;
	const char *verdict, *rule, *reason, *queue_id;
};
typedef int store_decision_cb(const struct store_decision_row *row, void *ctx);
/* Newest first. */
int store_audit(struct store *store, const struct store_audit_filter *filter,
		store_decision_cb *cb, void *ctx, char **error_r);

/* Deletes decisions older than before, and grant rows expired before
   it, in batches of batch rows, each its own short transaction so the
   daemons are never blocked for long. *deleted_r gets the total. Logged
   as one admin_log row. Reports to the options' progress function after
   each batch. */
int store_prune(struct store *store, int64_t before, unsigned batch, const char *actor,
		uint64_t *deleted_r, char **error_r);

/* Writes one admin_log row (actions that have no other store call,
   e.g. "init"). */
int store_admin_log(struct store *store, const char *actor, const char *action,
		    const char *subject, const char *detail, char **error_r);

/* A query's rows: cb gets the column names and values per row (values
   NULL for SQL NULL); cb returning non-zero stops. */
typedef int store_sql_cb(int ncols, const char *const *names, const char *const *values,
			 void *ctx);

/* The named queries: each backend keeps their text in its own SQL
   (SQLite: sql/audit.sql, sql/report.sql; PostgreSQL: sql/pgsql/audit.sql
   and sql/report.sql, written in SQL both understand), so no program
   holds SQL. Same names, same columns on every backend. */
enum store_query_set {
	STORE_QUERIES_AUDIT,	/* authrelayctl audit --query NAME */
	STORE_QUERIES_REPORT	/* authrelayctl status and report; :since */
};

/* Calls cb with the name and one-line description of each query of set
   that the backend of location has, in file order (location NULL: the
   file backend's, SQLite's, which has them all); cb returning non-zero
   stops. Needs no database. Returns the number seen, or -1 when no
   backend accepts location. */
typedef int store_query_name_cb(const char *name, const char *what, void *ctx);
int store_queries_list(const char *location, enum store_query_set set,
		       store_query_name_cb *cb, void *ctx);

/* Runs the query of set called name, read-only, in the backend's SQL.
   Every :since in its text stands for the time since (Unix seconds, at
   least 1 s) as an ISO-8601 UTC literal ('2026-12-05T08:00:00Z', the
   views' form), formatted from the number: no outside text reaches the
   SQL. Returns 0, or -1 with *error_r: a name the backend does not have
   ("not available with PostgreSQL yet": callers name the query), or the
   database's error. */
int store_query_named(struct store *store, enum store_query_set set, const char *name,
		      int64_t since, store_sql_cb *cb, void *ctx, char **error_r);

/* Runs one read-only SQL text. For the tests and lib's own counters
   only, which know the backend they talk to; programs name their
   queries (store_query_named()). */
int store_query(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
		char **error_r);

/* ---- sending limits (lib/limit_spec.h, lib/limit_window.h) ---- */

enum store_limit_kind { STORE_LIMIT_RECIPIENTS = 0, STORE_LIMIT_MESSAGES, STORE_LIMIT_KINDS };

/* "recipients", "messages". */
const char *store_limit_kind_name(enum store_limit_kind kind);

/* The limit of kind set in the database for username: the user's own
   row, else the row of "@" and the domain part of username (when it has
   one); most specific wins. LOOKUP_FOUND with *spec_r (possibly
   "unlimited"), LOOKUP_NOT_FOUND when neither has one (the config's
   default applies), LOOKUP_ERROR. */
enum lookup_result store_limit_rule(struct store *store, const char *username,
				    enum store_limit_kind kind, struct limit_spec *spec_r);

/* Both kinds at once (two indexed probes at most): found_r[kind] and
   spec_r[kind] as store_limit_rule() would give them. Returns 0, or -1
   when the store could not answer. */
int store_limit_rules(struct store *store, const char *username,
		      enum lookup_result found_r[STORE_LIMIT_KINDS],
		      struct limit_spec spec_r[STORE_LIMIT_KINDS]);

/* Sets (or replaces) the limit of kind for subject (a user, or
   "@domain"). Logged. */
int store_limit_set(struct store *store, const char *subject, enum store_limit_kind kind,
		    const struct limit_spec *spec, const char *actor, char **error_r);

/* Removes every limit of subject; none there is an error. Logged. */
int store_limit_clear(struct store *store, const char *subject, const char *actor,
		      char **error_r);

typedef int store_limit_rule_cb(const char *subject, const char *kind, const char *spec,
				int64_t changed, void *ctx);
/* Every limit row, by subject then kind. */
int store_limit_list(struct store *store, store_limit_rule_cb *cb, void *ctx, char **error_r);

/* One check (and addition) against the counters of subject. */
struct store_limit_charge {
	const char *subject;	/* the user counted, or a client IP */
	const struct limit_spec *spec[STORE_LIMIT_KINDS];	/* NULL or inactive: not limited */
	uint64_t add[STORE_LIMIT_KINDS];	/* what this attempt adds */
	bool commit;		/* add when nothing is crossed; false: only ask */
};

struct store_limit_state {
	int64_t now;			/* the database's clock */
	int crossed_kind;		/* enum store_limit_kind, or -1: within every limit */
	int crossed_window;		/* index into that kind's spec->windows */
	uint64_t used[STORE_LIMIT_KINDS][LIMIT_WINDOWS_MAX];	/* before this attempt */
	bool batched;			/* added in the batch's transaction: holds
					   only when store_read_end() returns 0 */
};

/* Atomically, in one transaction timed by the database's clock: reads
   what subject's windows hold (limit_window.h), finds the first window
   that the additions would cross, and (when none is crossed and
   c->commit) adds them, so concurrent callers can never together get
   past a limit. Nothing is added when a window is crossed. Returns 0
   with *state_r, or -1 with *error_r (then nothing was added).
   Inside a read snapshot (store_read_begin()) the adding charges of the
   batch share one write transaction, held from the first of them to
   store_read_end(), which commits them together: atomic all the same
   (the write lock is taken before the first read), one commit per
   batch instead of one per message. Such a charge sets
   state_r->batched: the caller answers only after store_read_end(),
   and answers as for a store error when it returns -1 (the batch's
   counts were lost: its commit failed, or a later charge of the batch
   failed and rolled it back). Should the process die before the
   commit, the counts are lost with the answers it had not sent. */
int store_limit_charge(struct store *store, const struct store_limit_charge *c,
		       struct store_limit_state *state_r, char **error_r);

/* What a refusal by a limit led to. */
struct store_limit_refusal {
	const char *subject;
	enum store_limit_kind kind;
	int64_t window;			/* seconds of the crossed window */
	unsigned suspend_after;		/* limit_suspend_after; 0: never */
	int64_t suspend_window;		/* limit_suspend_window */
	const char *actor;		/* admin_log actor of a suspension */
	bool notify_wanted;		/* limit_notify_address is set */
};

/* Records one refusal of subject, in one transaction: counts the
   refusals of the last suspend_window (this one included), suspends the
   user (users row and admin_log row) when they reach suspend_after and
   the user is not suspended yet, and, when r->notify_wanted, marks this
   refusal as the one to notify when no refusal of subject in the last
   suspend_window was (one mail per user and window). Returns 0 with *refusals_r,
   *suspended_r (suspended by this call) and *notify_r, or -1. */
int store_limit_refused(struct store *store, const struct store_limit_refusal *r,
			unsigned *refusals_r, bool *suspended_r, bool *notify_r, char **error_r);

/* ---- copy between databases (authrelayctl copy; lib/store_copy.h
   drives these, lib/store_tables.h lists the tables) ---- */

struct store_table;
struct store_value;

/* One row of a table dump: t->ncolumns values. Non-zero stops. */
typedef int store_row_cb(const struct store_value *values, void *ctx);

/* The admin_log row a committed copy writes on its target. */
struct store_copy_note {
	const char *actor, *action, *subject, *detail;
};

/* A copy runs inside one transaction per database, from
   store_copy_begin() to store_copy_end(): on the target (write) every
   change is all or nothing; on the source (read) a snapshot, so that
   counts and rows agree while daemons keep writing. In between, only
   the calls below on that store. Each returns 0, or -1 with *error_r;
   a backend without them returns -1 ("... cannot copy"), never
   crashes. store_copy_end() with note NULL rolls back. */
int store_copy_begin(struct store *store, bool write, char **error_r);
enum lookup_result store_table_count(struct store *store, const struct store_table *t,
				     uint64_t *count_r, char **error_r);
int store_table_dump(struct store *store, const struct store_table *t, store_row_cb *cb,
		     void *ctx, char **error_r);
int store_table_clear(struct store *store, const struct store_table *t, char **error_r);
int store_table_load(struct store *store, const struct store_table *t,
		     const struct store_value *values, size_t nrows, char **error_r);
int store_copy_end(struct store *store, const struct store_copy_note *note, char **error_r);

#endif

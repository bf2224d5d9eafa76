/*
 * NAME
 *	store_pgsql 3h
 * SUMMARY
 *	the PostgreSQL backend: its contract and private declarations
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	One PostgreSQL database shared by many hosts (several IMAP hosts
 *	running loginwatch, several MX hosts running policyd or the milter).
 *	store.c opens it for a location that store_pgsql_location() accepts.
 *	<libpq-fe.h> is included by the store_pgsql*.c files alone.
 *
 *	The model: answers from memory, kept current by the database.
 *	The four lookups the enforcers make per message (grant, suspended
 *	user, sender pattern, certificate) are answered from a copy of those
 *	tables in this process's memory, under the store's mutex, without
 *	any network traffic. One background thread owns a libpq connection
 *	("the view connection"): it LISTENs on the channel "authrelay"
 *	(triggers in sql/pgsql/001-schema.sql notify it with the table's
 *	name after every committed change), loads every table in full after
 *	every (re)connect, reloads a table when told it changed, sends a
 *	ping when the connection has been quiet for PG_PING_MS. The decision
 *	writer (store_writer.c) has a connection of its own ("the writer
 *	connection", store_pgsql_write.c), so a batch of decisions never
 *	waits for a reload or the reverse. A table locked by another session
 *	(lock_timeout) delays reloads (retried every second) and decision
 *	writes (retried with the writer's backoff), but is not a loss: the
 *	connection still answers, lookups go on from memory. Both threads
 *	use libpq's non-blocking calls (store_pgsql_nb.c) with their own
 *	deadlines (PG_QUERY_TIMEOUT_MS at least, or database_busy_timeout
 *	when longer); the view thread reconnects with a backoff from
 *	PG_BACKOFF_MIN_MS doubling to PG_BACKOFF_MAX_MS, the writer with
 *	each retry of its batch.
 *
 *	What blocks:
 *	  lookups: never on the network. They take the store's mutex for a
 *	    binary search. The first lookup of a store whose thread has not
 *	    loaded the tables yet waits for that, at most busy_timeout_ms
 *	    (daemons start the thread in store_open(), so the first load is
 *	    normally done before the first request).
 *	  store_limit_rules(): never on the network (the rules are a table
 *	    of the view, like the grants).
 *	  store_limit_charge() and store_limit_refused(): a transaction on
 *	    a third connection ("the limit connection", store_pgsql_limits.c),
 *	    non-blocking, within PG_LIMIT_TIMEOUT_MS in all (connect
 *	    included); a charge that adds is two round trips holding a
 *	    per-subject lock, one that only asks is one. policyd calls it
 *	    from its event loop, so its other connections wait that long at
 *	    most. While the view thread has lost the server, and for
 *	    PG_LIMIT_RETRY_MS after a failed attempt, they fail at once.
 *	  store_decision_queue(): never; a full queue drops and counts.
 *	  store_decision_flush(): up to its timeout.
 *	  every other call (authrelayctl's verbs, loginwatch's
 *	    store_logins_apply() and checkpoints, audit, prune, query): a
 *	    synchronous libpq round trip on a second connection ("the admin
 *	    connection", opened by store_open() and reopened on the next call
 *	    after it broke), bounded by libpq's connect_timeout for the
 *	    connection. A change made through it is in this store's memory
 *	    before the call returns (the thread reloads what it changed and
 *	    the call waits for that, at most busy_timeout_ms).
 *
 *	What a lost connection returns: from the moment the thread sees
 *	the view connection fail (a failed read or write, or a query or
 *	ping past its deadline) until it has reconnected and reloaded every
 *	table, lookups return LOOKUP_ERROR (the daemons answer
 *	on_store_error, never a permit) -- unless database_stale_grace is
 *	set: then for that long after the loss lookups answer from the last
 *	copy (a revocation made meanwhile is not seen). Decision rows stay
 *	queued while the server is away and are written after it returns,
 *	up to decision_queue_max rows; beyond that they are dropped, counted
 *	and logged. A batch whose INSERT was sent when the connection broke
 *	is sent again (the server cannot say whether it committed); each row
 *	carries its identity at the writer (store_writer.h) into a unique
 *	key of decision_log (sql/pgsql/003-decision-log-identity.sql), which
 *	refuses a copy, and the batch sent again skips rows already there
 *	(store_pgsql_write.c), so within the queue's bound no row is lost
 *	and none is written twice. Admin calls fail with the
 *	libpq message. Limit
 *	charges and refusals fail (-1: on_store_error), never answering
 *	from memory, whatever database_stale_grace says; a charge whose
 *	COMMIT was sent when the deadline passed may have been counted.
 *
 *	What may be called from a callback: list, audit and query
 *	callbacks run with the admin connection's lock held; they may use
 *	the lookups and store_decision_queue() but no other store call.
 *
 *	Thread safety: every public call may come from any thread (the
 *	milter). The view is under st->lock; the admin connection is under
 *	st->admin_lock; the writer connection is the writer thread's alone.
 */
#ifndef AUTHRELAY_STORE_PGSQL_H
#define AUTHRELAY_STORE_PGSQL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipaddr.h"
#include "store_backend.h"

struct pg_conn;		/* libpq's PGconn */
struct pg_result;	/* libpq's PGresult */

/* The view connection sends "SELECT 1" after this long without traffic:
   a server or network that died without closing the TCP connection is
   noticed within PG_PING_MS + the query deadline. */
#define PG_PING_MS 1000
/* The deadline of every query and connect of the view thread, unless
   database_busy_timeout is longer. On the test machine a full reload of
   10,000 grants took about 15 ms, so the second is spare room. */
#define PG_QUERY_TIMEOUT_MS 2000
/* The view connection's lock_timeout: a reload or a decision write that
   waits longer for another session's lock (LOCK TABLE, a long ALTER)
   gives up and is tried again PG_BUSY_RETRY_MS later, without dropping
   the connection; well under PG_QUERY_TIMEOUT_MS so that a lock is never
   mistaken for a dead server. */
#define PG_LOCK_TIMEOUT "'500ms'"
#define PG_BUSY_RETRY_MS 1000
#define PG_BACKOFF_MIN_MS 100
#define PG_BACKOFF_MAX_MS 5000

/* Bits naming the tables the memory view holds. */
enum {
	PG_T_GRANTS = 1,
	PG_T_USERS = 2,
	PG_T_SENDERS = 4,
	PG_T_CERTS = 8,
	PG_T_LIMITS = 16,	/* limit_rules (store_pgsql_limits.c) */
	PG_T_ALL = 31
};

struct pg_view;		/* store_pgsql_view.c */

struct pg_store {
	struct store base;	/* first: store.c sees only this */
	char *conninfo;		/* the database value, as written */
	char *password;		/* from database_password_file, or NULL */
	char host[256];		/* checkpoints are per host and source */
	char program[32];
	long long timeout_ms;	/* max(busy_timeout_ms, PG_QUERY_TIMEOUT_MS) */
	long long stale_grace_ms;
	store_progress_fn *progress;
	void *progress_ctx;

	/* The admin connection (synchronous). */
	pthread_mutex_t admin_lock;
	struct pg_conn *admin;

	/* The limit connection (store_pgsql_limits.c), under limit_lock. */
	pthread_mutex_t limit_lock;
	struct pg_conn *limit;
	long long limit_retry_ms;	/* no new connect before (after a failure) */

	/* Everything below is under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;	/* the thread's progress: loads, writes */
	struct pg_view *view;
	bool loaded;		/* a full load done since the last connect */
	bool ever_loaded;
	bool first_wait_done;	/* a lookup waited for the first load once */
	long long lost_at_ms;	/* when the view stopped being current */
	unsigned dirty;		/* PG_T_* to reload */
	uint64_t reload_asked, reload_done;	/* generations */

	bool thread_started, stopping;
	pthread_t thread;
	int wake[2];		/* a pipe: the thread polls wake[0] */

	/* The decision writer's connection: its thread's alone. */
	struct pg_conn *writer_conn;
	bool writer_busy_logged;	/* a lock held elsewhere was logged */
	bool writer_resend;		/* the last batch may have committed */
};

/* store_backends.c: true when location is for this backend ("postgresql://",
   "postgres://", or a libpq "keyword=value ..." string). */
bool store_pgsql_location(const char *location);

/* store_backends.c: opens location; the password is read from password_file
   (refused when group or others may read it) unless that is NULL or "". */
int store_pgsql_open(const char *location, const struct store_options *opts,
		     struct store **store_r, char **error_r);

/* The newest sql/pgsql/ migration compiled in. */
int store_pgsql_schema_latest(void);

/* The ops table (store_backends.c lists it). */
extern const struct store_ops store_pgsql_ops;

/* ---- store_pgsql.c: connections, schema, the ops table ---- */

static inline struct pg_store *pg_store(struct store *store)
{
	return (struct pg_store *)store;
}

long long pg_now_ms(void);

/* A blocking connection with the store's conninfo and password; NULL
   with *error_r. */
struct pg_conn *pg_connect_blocking(struct pg_store *st, char **error_r);

/* A non-blocking connect started (PQconnectStartParams) for the view
   thread; NULL when out of memory. */
struct pg_conn *pg_connect_start(const struct pg_store *st);

/* The admin connection, (re)opened when needed; call with admin_lock
   held. NULL with *error_r. */
struct pg_conn *pg_admin(struct pg_store *st, char **error_r);

/* Runs sql with n text parameters (NULL: SQL NULL) on the admin
   connection (n == 0: sql may hold several statements; the last one's
   result); the result when its status is ok (caller PQclear()s), or
   NULL with *error_r naming what. */
struct pg_result *pg_exec(struct pg_store *st, const char *what, const char *sql, int n,
			  const char *const *params, char **error_r);

/* BEGIN / COMMIT / ROLLBACK on the admin connection. */
int pg_begin(struct pg_store *st, char **error_r);
int pg_commit(struct pg_store *st, char **error_r);
void pg_rollback(struct pg_store *st);

/* One admin_actions row on the admin connection (in the caller's
   transaction). */
int pg_admin_row(struct pg_store *st, const char *actor, const char *action,
		 const char *subject, const char *detail, char **error_r);

/* ---- store_pgsql_admin.c: the synchronous operations ---- */

typedef int pg_work_fn(struct pg_store *st, void *ctx, char **error_r);
typedef int pg_row_fn(struct pg_result *res, int row, void *ctx);

/* fn inside BEGIN/COMMIT on the admin connection (admin_lock held), all
   or nothing; then the tables named (PG_T_* bits) are brought up to
   date in this process's memory (pg_thread_changed()). */
int pg_transact(struct pg_store *st, pg_work_fn *fn, void *ctx, unsigned tables,
		char **error_r);
/* A query's rows on the admin connection to fn (admin_lock held while
   it runs); fn returning non-zero stops. 0 or -1 with *error_r. */
int pg_rows(struct pg_store *st, const char *what, const char *sql, int n,
	    const char *const *p, pg_row_fn *fn, void *ctx, char **error_r);

int pg_logins_apply(struct store *store, const struct store_login *logins, size_t count,
		    const struct store_checkpoint *cp, char **error_r);
enum lookup_result pg_checkpoint_get(struct store *store, const char *source,
				     struct store_checkpoint *cp_r);
int pg_grant_add(struct store *store, const struct store_grant *grant, const char *actor,
		 char **error_r);
int pg_grant_revoke(struct store *store, const struct ipaddr *ip, const char *actor,
		    unsigned *removed_r, char **error_r);
int pg_grant_list(struct store *store, int64_t now, store_grant_cb *cb, void *ctx,
		  char **error_r);
int pg_user_set_suspended(struct store *store, const char *username, bool suspended,
			  const char *actor, char **error_r);
int pg_user_list(struct store *store, store_user_cb *cb, void *ctx, char **error_r);
int pg_sender_allow(struct store *store, const char *username, const char *pattern,
		    const char *actor, char **error_r);
int pg_sender_deny(struct store *store, const char *username, const char *pattern,
		   const char *actor, char **error_r);
int pg_sender_list(struct store *store, const char *username, store_sender_cb *cb, void *ctx,
		   char **error_r);
int pg_cert_add(struct store *store, const struct store_cert *cert, const char *actor,
		char **error_r);
int pg_cert_revoke(struct store *store, const char *fingerprint, const char *actor,
		   char **error_r);
int pg_cert_list(struct store *store, store_cert_cb *cb, void *ctx, char **error_r);
int pg_audit(struct store *store, const struct store_audit_filter *filter,
	     store_decision_cb *cb, void *ctx, char **error_r);
int pg_prune_batch(struct store *store, enum store_prune_table table, int64_t before,
		   unsigned batch, char **error_r);
uint64_t pg_prune_count(struct store *store, enum store_prune_table table, int64_t before);
int pg_admin_log(struct store *store, const char *actor, const char *action,
		 const char *subject, const char *detail, char **error_r);
const char *pg_query_text(enum store_query_set set);
int pg_query(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
	     char **error_r);

/* ---- store_pgsql_limits.c: sending limits ---- */

/* Each charge or refusal runs on its own connection (the limit
   connection) and gives up after this long: connect included, the
   whole transaction's round trips together. On the test machine
   (loopback, tests/pg.sh's server, 2000 in a row) a charge that only
   asks took 55-60 us, one that adds 195 us; a second is room for a
   loaded server, short enough that a dead one holds a policyd's event
   loop for at most that, once per PG_LIMIT_RETRY_MS. */
#define PG_LIMIT_TIMEOUT_MS 1000
/* After a failed connect or a broken limit connection, charges fail at
   once (on_store_error) for this long before a new connect is tried. */
#define PG_LIMIT_RETRY_MS 1000

int pg_limit_set(struct store *store, const char *subject, const char *kind, const char *spec,
		 const char *actor, char **error_r);
int pg_limit_clear(struct store *store, const char *subject, const char *actor,
		   char **error_r);
int pg_limit_list(struct store *store, store_limit_rule_cb *cb, void *ctx, char **error_r);
int pg_limit_charge(struct store *store, const struct store_limit_charge *c,
		    struct store_limit_state *state_r, char **error_r);
int pg_limit_refused(struct store *store, const struct store_limit_refusal *r,
		     unsigned *refusals_r, bool *suspended_r, bool *notify_r, char **error_r);

/* A grants row in the column order of pg_view_sql(PG_T_GRANTS)
   (family, encode(net, 'hex'), prefix_len, username, service,
   first_seen, last_seen, expires_at, logins); 0, or -1 when it does not
   parse. */
int pg_row_grant(struct pg_result *res, int row, struct store_grant *g);

/* ---- store_pgsql_logins.c: loginwatch's grants in sets ---- */

/* The text form of one grant event's values (store_pgsql_admin.c). */
struct grant_event {
	char family[4], net[2 + 32 + 1], ip[IPADDR_STRLEN], prefix[8];
	char seen[24], expires[24];
	const char *username, *service, *event, *source, *line;
	const char *session;	/* NULL: none */
};

/* What a grant event does to a grant that exists, after "INSERT INTO
   grants (...) VALUES/SELECT ...": a grant still live at the event keeps
   first_seen and counts one more login, and its expiry never moves back;
   an expired one starts anew (store.h, store_logins_apply). */
#define PG_GRANT_UPSERT \
	"ON CONFLICT (net, prefix_len) DO UPDATE SET " \
	"first_seen = CASE WHEN grants.expires_at > excluded.first_seen " \
	"THEN grants.first_seen ELSE excluded.first_seen END, " \
	"last_seen = CASE WHEN grants.expires_at > excluded.first_seen " \
	"THEN greatest(grants.last_seen, excluded.last_seen) ELSE excluded.last_seen END, " \
	"expires_at = CASE WHEN grants.expires_at > excluded.first_seen " \
	"THEN greatest(grants.expires_at, excluded.expires_at) " \
	"ELSE excluded.expires_at END, " \
	"logins = CASE WHEN grants.expires_at > excluded.first_seen " \
	"THEN grants.logins + 1 ELSE 1 END, " \
	"username = excluded.username, service = excluded.service"

/* The grants and grant_log rows of count login events, in the admin
   connection's transaction (admin_lock held), with the same result as
   writing them one by one in order: a login whose (session, ip) is in
   grant_log already (or earlier in the batch) writes nothing. 0, or -1
   with *error_r. */
int pg_logins_write(struct pg_store *st, const struct grant_event *evs, size_t count,
		    char **error_r);

/* ---- store_pgsql_view.c: the tables in memory ---- */

/* Builds the part of a view that table names from a result of the
   matching PG_VIEW_SQL query; 0, or -1 when a row does not parse. */
int pg_view_replace(struct pg_view **view, unsigned table, struct pg_result *res);
void pg_view_free(struct pg_view *view);
/* Swaps the tables named (PG_T_* bits) between *into and from: from
   then holds the old ones, for the caller to free outside the lock. */
void pg_view_move(struct pg_view **into, struct pg_view *from, unsigned tables);

/* The lookups (store_backend.h), answered from st->view. */
enum lookup_result pg_grant_lookup(struct store *store, const struct ipaddr *ip, int64_t now,
				   struct store_grant *grant_r);
enum lookup_result pg_user_suspended(struct store *store, const char *username);
enum lookup_result pg_sender_owned(struct store *store, const char *username,
				   const char *bare, const char *at_domain);
enum lookup_result pg_cert_lookup(struct store *store, const char *fingerprint, char *user_r);
enum lookup_result pg_limit_rules_get(struct store *store, const char *user, const char *domain,
				      char spec_r[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX]);

/* The query that loads table (one PG_T_* bit) into memory. */
const char *pg_view_sql(unsigned table);

/* ---- store_pgsql_thread.c: the view connection's thread ---- */

/* Starts the thread unless running; 0 or -1 with *error_r. */
int pg_thread_start(struct pg_store *st, char **error_r);
/* Stops it. */
void pg_thread_stop(struct pg_store *st);
/* After a change committed through the admin connection: reload tables
   (PG_T_* bits) and wait, at most st->timeout_ms, until that is done. */
void pg_thread_changed(struct pg_store *st, unsigned tables);
/* For a lookup, with st->lock held: true when the view may be
   answered from (current, or within the stale grace), after waiting for
   a first load when none happened yet. */
bool pg_view_usable(struct pg_store *st);

/* ---- store_pgsql_nb.c: non-blocking calls with deadlines ---- */

/* How a statement of a background thread ended. */
enum pg_outcome {
	PG_OK,
	PG_BROKEN,	/* the connection failed or did not answer in time */
	PG_BUSY,	/* a lock or a conflict (lock_timeout): try again later */
	PG_FAILED,	/* the statement failed: the connection is fine */
	PG_DUPLICATE	/* a unique key refused a row (23505): likewise */
};

/* A non-blocking connect that gives up after timeout_ms; NULL with
   *error_r. */
struct pg_conn *pg_connect_nb(struct pg_store *st, long long timeout_ms, char **error_r);
/* Sends sql (n < 0: the simple protocol, several statements allowed,
   no parameters; else n text parameters) on a non-blocking connection
   and waits for the whole answer, at most timeout_ms. Returns the last
   result, or the first failed one (caller PQclear()s and checks its
   status), or NULL with *error_r when the connection failed or the
   deadline passed (the connection's state is then unknown: drop it). */
struct pg_result *pg_nb_exec(struct pg_conn *conn, const char *sql, int n,
			     const char *const *params, long long timeout_ms, char **error_r);
/* One statement with n text parameters, non-blocking, within
   st->timeout_ms: the result (caller PQclear()s), or NULL with *error_r
   and *how_r saying why (PG_BROKEN: the connection is no longer usable). */
struct pg_result *pg_aexec(struct pg_store *st, struct pg_conn *conn, const char *sql, int n,
			   const char *const *params, enum pg_outcome *how_r, char **error_r);
/* Prepares sql (its parameters' types written in it, as $1::bigint)
   as the statement name on conn, within st->timeout_ms: 0, or -1 with
   *error_r (drop the connection). */
int pg_aprepare(struct pg_store *st, struct pg_conn *conn, const char *name, const char *sql,
		char **error_r);
/* pg_aexec() of the statement name that pg_aprepare() made on conn. */
struct pg_result *pg_aexec_prepared(struct pg_store *st, struct pg_conn *conn, const char *name,
				    int n, const char *const *params, enum pg_outcome *how_r,
				    char **error_r);
/* pg_aexec() without parameters or result: 0, or -1 with *error_r. */
int pg_arun(struct pg_store *st, struct pg_conn *conn, const char *sql, char **error_r);

/* ---- store_pgsql_write.c: the decision writer's batch write ---- */

int pg_decision_write(struct store *store, const struct store_writer_batch *batch,
		      char **error_r);
/* Closes the writer's connection (after store_writer_stop()). */
void pg_writer_close(struct pg_store *st);

/* ---- store_pgsql_copy.c: authrelayctl copy (store_backend.h) ---- */

int pg_copy_begin(struct store *store, bool write, char **error_r);
enum lookup_result pg_table_count(struct store *store, const struct store_table *t,
				  uint64_t *count_r, char **error_r);
int pg_table_dump(struct store *store, const struct store_table *t, store_row_cb *cb, void *ctx,
		  char **error_r);
int pg_table_clear(struct store *store, const struct store_table *t, char **error_r);
int pg_table_load(struct store *store, const struct store_table *t,
		  const struct store_value *values, size_t nrows, char **error_r);
int pg_copy_end(struct store *store, const struct store_copy_note *note, char **error_r);

#endif

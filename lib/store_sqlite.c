/*
 * NAME
 *	store_sqlite 3
 * SUMMARY
 *	SQLite backend: open, connection helpers, the operations table
 * SYNOPSIS
 *	#include "store_backend.h"
 *
 *	int store_sqlite_open(path, opts, store_r, error_r)
 * DESCRIPTION
 *	store_sqlite_open() checks the file and its directory, opens the
 *	main connection, makes sure the file is an authrelay database this
 *	build can use and migrates it (store_sqlite_file.c says how), and
 *	starts the decision writer thread with its own connection (when
 *	options.decision_queue_max > 0). WAL mode, synchronous=NORMAL,
 *	foreign_keys=ON and the busy timeout are set on every connection.
 * DIAGNOSTICS
 *	Errors name the file and say what to do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "log.h"
#include "store_sqlite.h"

/* ---- connection helpers ---- */

/* sq_progress_tick - sqlite3_progress_handler: "still working"; 0 lets
   the statement go on */
static int sq_progress_tick(void *ctx)
{
	struct sq_store *st = ctx;

	st->progress(st->progress_ctx, 0, 0);
	return 0;
}

/* sq_conn_open - open an existing file with the per-connection settings */
int sq_conn_open(struct sq_conn *conn, const char *path, long long busy_timeout_ms,
		 char **error_r)
{
	static const char *const pragmas[] = {
		"PRAGMA synchronous = NORMAL",
		"PRAGMA foreign_keys = ON",
	};
	int rc;

	memset(conn, 0, sizeof *conn);
	conn->path = path;
	/* NOMUTEX: each connection is used by one thread at a time (main
	   under sq_store.lock, the writer's by its thread). No CREATE flag:
	   the file was created (0640) by us or must exist. */
	rc = sqlite3_open_v2(path, &conn->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		error_r_set(error_r, "database %s: cannot open: %s", path,
			    conn->db != NULL ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc));
		sq_conn_close(conn);
		return -1;
	}
	sqlite3_extended_result_codes(conn->db, 0);
	if (busy_timeout_ms < 0)
		busy_timeout_ms = 0;
	if (busy_timeout_ms > 600000)
		busy_timeout_ms = 600000;
	sqlite3_busy_timeout(conn->db, (int)busy_timeout_ms);
	for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++) {
		if ((rc = sqlite3_exec(conn->db, pragmas[i], NULL, NULL, NULL)) != SQLITE_OK) {
			if (rc == SQLITE_NOTADB)
				error_r_set(error_r, "database %s: not an SQLite database (%s); "
					    "refusing to use or overwrite it", path,
					    sqlite3_errmsg(conn->db));
			else
				sq_fail(conn, error_r, pragmas[i]);
			sq_conn_close(conn);
			return -1;
		}
	}
	return 0;
}

/* sq_conn_close - finalise the statements and close */
void sq_conn_close(struct sq_conn *conn)
{
	for (int i = 0; i < SQ_STMT_COUNT; i++) {
		sqlite3_finalize(conn->stmt[i]);
		conn->stmt[i] = NULL;
	}
	if (conn->db != NULL)
		sqlite3_close(conn->db);
	conn->db = NULL;
	sq_pending_free(conn);
}

/* sq_stmt - the cached prepared statement, ready to bind */
struct sqlite3_stmt *sq_stmt(struct sq_conn *conn, enum sq_stmt_id id)
{
	sqlite3_stmt *stmt = conn->stmt[id];

	if (stmt == NULL) {
		if (sqlite3_prepare_v3(conn->db, sq_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				       &stmt, NULL) != SQLITE_OK)
			return NULL;
		conn->stmt[id] = stmt;
		return stmt;
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return stmt;
}

/* sq_run - step a statement that returns no rows */
int sq_run(struct sq_conn *conn, enum sq_stmt_id id)
{
	sqlite3_stmt *stmt = sq_stmt(conn, id);
	int rc;

	if (stmt == NULL)
		return sqlite3_errcode(conn->db);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc;
}

int sq_step_done(struct sq_conn *conn, struct sqlite3_stmt *stmt, const char *what,
		 char **error_r)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(conn, error_r, what);
	return 0;
}

int sq_fail(struct sq_conn *conn, char **error_r, const char *what)
{
	return error_r_set(error_r, "database %s: %s: %s", conn->path, what,
			   sqlite3_errmsg(conn->db));
}

int sq_begin(struct sq_conn *conn, char **error_r)
{
	/* Only a read snapshot can be open here (writes always end theirs):
	   end it, so the write sees and builds on the newest data. */
	(void)sq_pending_ended(conn);
	if (!sqlite3_get_autocommit(conn->db))
		(void)sq_commit(conn, NULL);	/* rolls back on failure */
	if (sq_run(conn, SQ_BEGIN_IMMEDIATE) != SQLITE_DONE)
		return sq_fail(conn, error_r, "begin transaction");
	return 0;
}

int sq_commit(struct sq_conn *conn, char **error_r)
{
	if (sq_pending_write(conn, error_r) < 0) {
		sq_rollback(conn);
		return -1;
	}
	if (sq_run(conn, SQ_COMMIT) != SQLITE_DONE) {
		sq_fail(conn, error_r, "commit");
		sq_rollback(conn);
		return -1;
	}
	sq_pending_committed(conn);
	return 0;
}

void sq_rollback(struct sq_conn *conn)
{
	/* What it owed goes with it. */
	sq_pending_drop(conn);
	/* Only when a transaction is open: a failed COMMIT may already have
	   ended it, and ROLLBACK outside one is a (harmless) error. */
	if (!sqlite3_get_autocommit(conn->db))
		(void)sq_run(conn, SQ_ROLLBACK);
}

bool sq_moved(struct sq_store *st)
{
	int moved = 0;

	if (sqlite3_file_control(st->main.db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
		return false;
	return moved != 0;
}

/* monotonic_ms - CLOCK_MONOTONIC in milliseconds (vDSO: no system call) */
static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

/* moved_recently - sq_moved(), asked at most every STORE_FILE_CHECK_MS */
static bool moved_recently(struct sq_store *st)
{
	long long now = monotonic_ms();

	if (st->moved_checked_ms == 0 || now - st->moved_checked_ms >= STORE_FILE_CHECK_MS) {
		st->moved = sq_moved(st);
		st->moved_checked_ms = now;
	}
	return st->moved;
}

bool sq_lookup_moved(struct sq_store *st)
{
	if (st->snapshot && !sqlite3_get_autocommit(st->main.db))
		return false;
	return moved_recently(st);
}

/* sq_read_begin - a batch of lookups: its read transaction is begun by
   the first lookup that reads the database (sq_snapshot_join()); a
   batch answered from memory (store_sqlite_memo.c) begins none. Both
   BEGIN and COMMIT of an unused transaction were 10% of policyd's main
   thread for a lone request answered from memory (perf record, one
   connection paced like Postfix's requests). */
static int sq_read_begin(struct store *store)
{
	struct sq_store *st = sq_store(store);
	int res = -1;

	sq_lock(st);
	/* What an earlier batch, or a write outside one, lost is theirs. */
	(void)sq_pending_lost(&st->main);
	if (st->snapshot) {
		res = 0;
	} else if (!moved_recently(st) && sqlite3_get_autocommit(st->main.db)) {
		/* A moved file opens no snapshot: each lookup then fails
		   on its own check. */
		st->snapshot = true;
		res = 0;
	}
	sq_unlock(st);
	return res;
}

void sq_snapshot_join(struct sq_store *st)
{
	/* DEFERRED: the read lock is taken by the first statement and
	   kept until sq_read_end(), whatever the lookups' resets. */
	if (st->snapshot && sqlite3_get_autocommit(st->main.db) && !moved_recently(st))
		(void)sq_run(&st->main, SQ_BEGIN_DEFERRED);
}

/* sq_read_end - end the batch's transaction: it read, or counted too
   (store_sqlite_limits.c); -1 when counts of the batch were lost */
static int sq_read_end(struct store *store)
{
	struct sq_store *st = sq_store(store);
	bool committed = false, lost;
	char *error = NULL;

	sq_lock(st);
	if (sq_pending_ended(&st->main))
		log_warning("database %s: the batch's limit counts were rolled back: %s", st->path,
			    sqlite3_errmsg(st->main.db));
	if (st->snapshot && !sqlite3_get_autocommit(st->main.db)) {
		if (sq_commit(&st->main, &error) == 0) {
			committed = true;
		} else {
			/* Only a batch's limit counts can be lost here
			   (store_limit_charge() inside a snapshot, written
			   at the batch's end: store_sqlite_pending.c);
			   sq_commit() rolled the batch back. */
			log_warning("end of batch: %s", error);
			free(error);
			sq_counts_drop(st);	/* its counts were applied there */
		}
	}
	if (st->main_turn) {
		st->main_turn = false;
		sq_turn_give(st, committed);
	}
	st->snapshot = false;
	/* Lost here or earlier in the batch (a failed charge rolled it
	   back, or a write of its own ended it): the counts in memory had
	   them applied. */
	lost = sq_pending_lost(&st->main);
	if (lost)
		sq_counts_drop(st);
	sq_unlock(st);
	return lost ? -1 : 0;
}

enum lookup_result sq_lookup_failed(struct sq_store *st, const char *what)
{
	time_t now = time(NULL);

	/* The caller holds st->lock, so the counters need nothing more. */
	st->lookup_failures++;
	if (now - st->lookup_warned >= 60) {
		if (sq_moved(st))
			log_error("database %s: %s failed: the file was removed or replaced while "
				  "open; answering as a store error until it is restored and the "
				  "program restarted (%u lookup failures since the last such "
				  "warning)", st->path, what, st->lookup_failures);
		else
			log_warning("database %s: %s failed: %s (%u lookup failures since the "
				    "last such warning)",
				    st->path, what, sqlite3_errmsg(st->main.db), st->lookup_failures);
		st->lookup_warned = now;
		st->lookup_failures = 0;
	}
	return LOOKUP_ERROR;
}

int sq_admin_row(struct sq_conn *conn, const char *actor, const char *action,
		 const char *subject, const char *detail, char **error_r)
{
	sqlite3_stmt *stmt = sq_stmt(conn, SQ_ADMIN_LOG);
	int rc;

	if (stmt == NULL)
		return sq_fail(conn, error_r, "admin log");
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)time(NULL));
	sq_bind_text(stmt, 2, actor);
	sq_bind_text(stmt, 3, action);
	sq_bind_text(stmt, 4, subject != NULL ? subject : "");
	sq_bind_text(stmt, 5, detail != NULL ? detail : "");
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(conn, error_r, "admin log");
	return 0;
}

int sq_bind_text(struct sqlite3_stmt *stmt, int idx, const char *text)
{
	if (text == NULL)
		return sqlite3_bind_null(stmt, idx);
	return sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC);
}

void sq_column_copy(struct sqlite3_stmt *stmt, int idx, char *buf, size_t size)
{
	const unsigned char *text = sqlite3_column_text(stmt, idx);
	size_t len;

	if (size == 0)
		return;
	if (text == NULL) {
		buf[0] = '\0';
		return;
	}
	len = (size_t)sqlite3_column_bytes(stmt, idx);
	if (len >= size)
		len = size - 1;
	memcpy(buf, text, len);
	buf[len] = '\0';
}

int sq_transact(struct sq_store *st, sq_change_fn *change, void *ctx, char **error_r)
{
	int res = -1;

	sq_lock(st);
	/* WAL writes to a removed or replaced file succeed, and are lost. */
	if (sq_moved(st))
		error_r_set(error_r, "database %s was removed or replaced while open: not writing "
			    "to the old file (restore it and restart)", st->path);
	else if (sq_begin(&st->main, error_r) == 0) {
		if (change(&st->main, ctx, error_r) == 0)
			res = sq_commit(&st->main, error_r);	/* rolls back on failure */
		else
			sq_rollback(&st->main);
	}
	sq_memo_clear(st);	/* its own commits do not change the data version */
	sq_counts_drop(st);	/* it may have ended a batch's transaction */
	sq_unlock(st);
	return res;
}

int sq_list(struct sq_store *st, enum sq_stmt_id id, const char *what, sq_bind_fn *bind,
	    sq_row_fn *row, void *ctx, char **error_r)
{
	sqlite3_stmt *stmt;
	int rc, res = 0;

	sq_lock(st);
	if ((stmt = sq_stmt(&st->main, id)) == NULL) {
		res = sq_fail(&st->main, error_r, what);
		sq_unlock(st);
		return res;
	}
	if (bind != NULL)
		bind(stmt, ctx);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (row(stmt, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		res = sq_fail(&st->main, error_r, what);
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

void sq_lock(struct sq_store *st)
{
	pthread_mutex_lock(&st->lock);
}

void sq_unlock(struct sq_store *st)
{
	pthread_mutex_unlock(&st->lock);
}

/* ---- the operations kept here ---- */

static int sq_schema_version(struct store *store, int *version_r)
{
	struct sq_store *st = sq_store(store);
	int rc;

	sq_lock(st);
	rc = sq_pragma_int(st->main.db, "PRAGMA user_version", version_r);
	sq_unlock(st);
	return rc == SQLITE_OK ? 0 : -1;
}

static enum lookup_result sq_check_integrity(struct store *store, char **detail_r)
{
	struct sq_store *st = sq_store(store);
	enum lookup_result res = LOOKUP_FOUND;
	char buf[4096];
	size_t len = 0;
	sqlite3_stmt *stmt;
	int rc;

	buf[0] = '\0';
	sq_lock(st);
	if (sqlite3_prepare_v2(st->main.db, "PRAGMA integrity_check(100)", -1, &stmt, NULL)
	    != SQLITE_OK) {
		sq_fail(&st->main, detail_r, "integrity check");
		sq_unlock(st);
		return LOOKUP_ERROR;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(stmt, 0);

		if (line == NULL || strcmp(line, "ok") == 0)
			continue;
		res = LOOKUP_NOT_FOUND;
		if (len < sizeof buf - 1) {
			int n = snprintf(buf + len, sizeof buf - len, "%s%s", len ? "\n" : "", line);

			len = n < 0 ? len : len + (size_t)n;
			if (len > sizeof buf - 1)
				len = sizeof buf - 1;
		}
	}
	if (rc != SQLITE_DONE) {
		sq_fail(&st->main, detail_r, "integrity check");
		res = LOOKUP_ERROR;
	} else if (detail_r != NULL) {
		*detail_r = strdup(res == LOOKUP_FOUND ? "ok" : buf);
	}
	sqlite3_finalize(stmt);
	sq_unlock(st);
	return res;
}

static void sq_close(struct store *store, long long flush_timeout_ms)
{
	struct sq_store *st = sq_store(store);

	/* A batch left open would keep the write turn that the writer's
	   last flush waits for: end it (its counts are committed). */
	if (st->snapshot)
		sq_read_end(store);
	sq_writer_stop(st, flush_timeout_ms);
	sq_memo_free(st);
	sq_counts_free(st);
	sq_conn_close(&st->main);
	sq_turn_destroy(st);
	pthread_mutex_destroy(&st->lock);
	free(st->program);
	free(st->path);
	free(st);
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.title = "SQLite",
	.close = sq_close,
	.schema_latest = store_sqlite_schema_latest,
	.schema_version = sq_schema_version,
	.check_integrity = sq_check_integrity,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.grant_lookup = sq_memo_grant_lookup,
	.logins_apply = sq_logins_apply,
	.checkpoint_get = sq_checkpoint_get,
	.grant_add = sq_grant_add,
	.grant_revoke = sq_grant_revoke,
	.grant_list = sq_grant_list,
	.user_suspended = sq_memo_user_suspended,
	.user_set_suspended = sq_user_set_suspended,
	.user_list = sq_user_list,
	.sender_owned = sq_memo_sender_owned,
	.sender_allow = sq_sender_allow,
	.sender_deny = sq_sender_deny,
	.sender_list = sq_sender_list,
	.cert_lookup = sq_memo_cert_lookup,
	.cert_add = sq_cert_add,
	.cert_revoke = sq_cert_revoke,
	.cert_list = sq_cert_list,
	.decision_write = sq_decision_write,
	.audit = sq_audit,
	.prune_batch = sq_prune_batch,
	.prune_count = sq_prune_count,
	.admin_log = sq_admin_log,
	.query = sq_query,
	.query_text = sq_query_text,
	.limit_rules_get = sq_memo_limit_rules_get,
	.limit_set = sq_limit_set,
	.limit_clear = sq_limit_clear,
	.limit_list = sq_limit_list,
	.limit_charge = sq_limit_charge,
	.limit_refused = sq_limit_refused,
	.copy_begin = sq_copy_begin,
	.table_count = sq_table_count,
	.table_dump = sq_table_dump,
	.table_clear = sq_table_clear,
	.table_load = sq_table_load,
	.copy_end = sq_copy_end,
};

/* store_sqlite_open - open, recognise, migrate, start the writer */
int store_sqlite_open(const char *path, const struct store_options *opts,
		      struct store **store_r, char **error_r)
{
	pthread_mutexattr_t attr;
	struct sq_store *st;
	if (sq_file_check(path, opts, error_r) < 0)
		return -1;

	if ((st = calloc(1, sizeof *st)) == NULL
	    || (st->path = strdup(path)) == NULL
	    || (st->program = strdup(opts->program != NULL ? opts->program : "")) == NULL) {
		if (st != NULL)
			free(st->path);
		free(st);
		return error_r_set(error_r, "database %s: out of memory", path);
	}
	st->base.ops = &store_sqlite_ops;
	st->busy_timeout_ms = opts->busy_timeout_ms;
	/* Recursive: a list callback may ask the store a question. */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&st->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	sq_turn_init(st);

	if (sq_conn_open(&st->main, st->path, opts->busy_timeout_ms, error_r) < 0)
		goto fail;
	if (opts->progress != NULL) {
		st->progress = opts->progress;
		st->progress_ctx = opts->progress_ctx;
		sqlite3_progress_handler(st->main.db, STORE_PROGRESS_STEPS, sq_progress_tick, st);
	}
	if (sq_file_prepare(&st->main, opts, error_r) < 0)
		goto fail;
	if (sq_writer_start(st, opts->decision_queue_max, error_r) < 0)
		goto fail;
	/* With a writer thread, the WAL checkpoints are its business (after
	   its commits, store_sqlite_writer.c): the main connection's writes (a batch's limit
	   counts, admin changes) then never stop the caller for one. An
	   fsync'ing checkpoint in policyd's event loop was its p99 with
	   sending limits on (tests/bench/policyd-limits.sh). */
	if (opts->decision_queue_max > 0)
		sqlite3_wal_autocheckpoint(st->main.db, 0);
	*store_r = &st->base;
	return 0;

fail:
	sq_conn_close(&st->main);
	sq_turn_destroy(st);
	pthread_mutex_destroy(&st->lock);
	free(st->program);
	free(st->path);
	free(st);
	return -1;
}

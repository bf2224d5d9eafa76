/*
 * NAME
 *	store_sqlite_writer 3
 * SUMMARY
 *	SQLite backend: the decision writer's connection and batch write
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	The queue, the batching and the retries are store_writer.c's. This
 *	file opens the writer's own connection (used by the writer's thread
 *	only) before the writer starts, and writes one batch of rows in one
 *	transaction on it. A commit's outcome is known here (SQLite is in
 *	this process), so the rows' identities are not stored.
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "store_sqlite.h"
#include "store_writer.h"

/* The writer's own busy wait: short, because the retry loop is ours. */
#define WRITER_BUSY_MS 200
/* The writer's page cache (KiB): it appends rows, touching the last
   pages of decision_log and its indexes; SQLite's default (2 MiB) only
   grows the daemon's memory as the table grows (policyd's RSS target is
   16 MiB with 1000 idle connections). */
#define WRITER_CACHE_KIB 512
#define STR_(x) #x
#define STR(x) STR_(x)

/* The WAL size (pages) at which the writer checkpoints: SQLite's own
   autocheckpoint default. */
#define WRITER_CHECKPOINT_PAGES 1000
/* How much the WAL grows between two attempts once past that size. The
   event loop is nearly always inside a read snapshot under load, so a
   checkpoint often cannot finish and the WAL cannot restart; trying
   again at every commit (as SQLite's autocheckpoint does) made 170 to
   340 fdatasync(2) calls in 4 s in the writer thread with sending limits
   on (tests/bench/policyd-limits.sh, perf stat), against 20 to 40 when
   the writer committed less often. */
#define WRITER_CHECKPOINT_STEP 250

/* wal_size - sqlite3_wal_hook: remember the WAL's size after a commit.
   Setting it turns SQLite's autocheckpoint off on the writer's
   connection, which would run inside COMMIT while the writer holds the
   write turn (10 to 80 ms with its fsyncs, seen as policyd's max
   latency with limits on); checkpoint() runs it after the turn instead. */
static int wal_size(void *ctx, sqlite3 *db, const char *name, int pages)
{
	struct sq_store *st = ctx;

	(void)db;
	(void)name;
	st->wal_pages = pages;
	return SQLITE_OK;
}

/* checkpoint - a PASSIVE checkpoint once the WAL has grown: it copies
   what no reader needs and never waits for a lock, so neither the event
   loop's writes nor its readers wait for it. Tried again when the WAL
   has grown by WRITER_CHECKPOINT_STEP (or restarted). */
static void checkpoint(struct sq_store *st)
{
	if (st->wal_pages < st->wal_tried_pages)
		st->wal_tried_pages = 0;	/* the WAL restarted */
	if (st->wal_pages < WRITER_CHECKPOINT_PAGES
	    || (st->wal_tried_pages > 0 && st->wal_pages - st->wal_tried_pages < WRITER_CHECKPOINT_STEP))
		return;
	st->wal_tried_pages = st->wal_pages;
	(void)sqlite3_wal_checkpoint_v2(st->writer_conn.db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL,
					NULL);
}

/* bind_row - the ten parameters of one row, from parameter first + 1 */
static void bind_row(sqlite3_stmt *stmt, int first, const struct store_writer_row *r,
		     const char *program)
{
	const char *prog = store_writer_field(r, SW_PROGRAM);

	sqlite3_bind_int64(stmt, first + 1, r->ts);
	sq_bind_text(stmt, first + 2, prog != NULL ? prog : program);
	for (int f = SW_CLIENT_IP; f < SW_FIELDS; f++)
		sq_bind_text(stmt, first + f + 2, store_writer_field(r, f));
}

/* write_batch - one transaction for every row of the batch, whole
   groups of SQ_DECISION_ROWS_PER_INSERT rows in one statement and the
   rest one by one; SQLite result code (SQLITE_DONE when written) */
static int write_batch(struct sq_store *st, const struct store_writer_batch *b)
{
	struct sq_conn *conn = &st->writer_conn;
	sqlite3_stmt *stmt;
	int rc, moved = 0;
	unsigned i = 0, n = b->count;

	/* A removed or replaced file takes WAL writes without an error: they
	   would be lost. Keep the rows queued instead (and say why). */
	if (sqlite3_file_control(conn->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) == SQLITE_OK
	    && moved)
		return SQLITE_READONLY_DBMOVED;
	sq_turn_take(st, true);
	if ((rc = sq_run(conn, SQ_BEGIN_IMMEDIATE)) != SQLITE_DONE) {
		sq_turn_give(st, false);
		return rc;
	}
	sq_turn_began(st, conn);
	while (i < n) {
		unsigned rows = n - i >= SQ_DECISION_ROWS_PER_INSERT ? SQ_DECISION_ROWS_PER_INSERT : 1;

		stmt = sq_stmt(conn, rows > 1 ? SQ_DECISION_INSERT_MANY : SQ_DECISION_INSERT);
		if (stmt == NULL) {
			rc = sqlite3_errcode(conn->db);
			goto rollback;
		}
		for (unsigned k = 0; k < rows; k++)
			bind_row(stmt, (int)k * (SW_FIELDS + 1), b->rows[i + k], st->program);
		rc = sqlite3_step(stmt);
		sqlite3_reset(stmt);
		if (rc != SQLITE_DONE)
			goto rollback;
		i += rows;
	}
	if ((rc = sq_run(conn, SQ_COMMIT)) == SQLITE_DONE) {
		sq_turn_give(st, true);
		checkpoint(st);
		return rc;
	}
rollback:
	sq_rollback(conn);
	sq_turn_give(st, false);
	return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
}

int sq_decision_write(struct store *store, const struct store_writer_batch *batch,
		      char **error_r)
{
	struct sq_store *st = sq_store(store);
	int rc = write_batch(st, batch);

	if (rc == SQLITE_DONE)
		return STORE_WRITE_OK;
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return STORE_WRITE_BUSY;
	error_r_set(error_r, "%s", rc == SQLITE_READONLY_DBMOVED
		    ? "the file was removed or replaced while open (restore it and restart)"
		    : sqlite3_errmsg(st->writer_conn.db));
	return STORE_WRITE_FAILED;
}

int sq_writer_start(struct sq_store *st, unsigned queue_max, char **error_r)
{
	long long busy = st->busy_timeout_ms < WRITER_BUSY_MS ? st->busy_timeout_ms : WRITER_BUSY_MS;

	if (queue_max > 0) {
		if (sq_conn_open(&st->writer_conn, st->path, busy, error_r) < 0)
			return -1;
		/* A smaller cache is only slower, never wrong: ignore a failure. */
		(void)sqlite3_exec(st->writer_conn.db, "PRAGMA cache_size = -" STR(WRITER_CACHE_KIB),
				   NULL, NULL, NULL);
		sqlite3_wal_hook(st->writer_conn.db, wal_size, st);
	}
	if (store_writer_start(&st->base, queue_max, st->path, error_r) < 0) {
		sq_conn_close(&st->writer_conn);
		return -1;
	}
	return 0;
}

void sq_writer_stop(struct sq_store *st, long long flush_timeout_ms)
{
	store_writer_stop(&st->base, flush_timeout_ms);
	sq_conn_close(&st->writer_conn);
}

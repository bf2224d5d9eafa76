/*
 * NAME
 *	store_sqlite_pending 3
 * SUMMARY
 *	SQLite backend: the limit counter additions a write transaction
 *	owes, written together before it commits
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	A charge that adds (store_sqlite_limits.c) holds the write lock
 *	from its check to the end of its transaction: its additions are
 *	invisible to every other connection until the COMMIT, so they need
 *	not be in the database before it. They are kept here, merged by
 *	counter row (two messages of one user in a policyd batch add to the
 *	same buckets), and written by sq_pending_write(): by sq_commit(),
 *	by sq_begin() when it ends an open transaction, by policyd's end of
 *	batch, and before any statement of the transaction that reads or
 *	deletes counters, so the connection itself never reads the table
 *	without them. One statement writes up to SQ_PENDING_STMT_ROWS rows
 *	instead of one statement per message.
 *
 *	sq_rollback() drops them: what the transaction added is gone with
 *	it either way. The connection also remembers whether additions were
 *	made since its last COMMIT, and whether such additions were lost
 *	since sq_pending_lost() last asked: by a rollback, a failed commit,
 *	or a transaction SQLite itself ended after an error. policyd holds
 *	the answers of the messages its batch counted until the batch's
 *	commit, and answers as for a store error when they were lost. The
 *	caller owns the connection (the store's lock).
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_sqlite.h"

/* Rows kept before they are written in the transaction anyway: four
   per message for the usual two windows of both kinds, so a policyd
   batch of up to 64 messages is one write at its end. */
#define SQ_PENDING_ROWS 256

struct sq_pending_row {
	uint32_t hash;			/* of the subject, to compare first */
	uint32_t max;			/* the window's limit (limit_counts.max) */
	struct sq_count_row row;
	char subject[STORE_USER_MAX];
};

struct sq_pending {
	bool uncommitted;		/* additions made since the last COMMIT */
	bool lost;			/* such additions lost since last asked */
	unsigned n;
	struct sq_pending_row rows[SQ_PENDING_ROWS];
};

/* pending_gone - the transaction that owed the additions ended
   without committing them */
static void pending_gone(struct sq_pending *p)
{
	if (p->uncommitted)
		p->lost = true;
	p->uncommitted = false;
	p->n = 0;
}

void sq_pending_drop(struct sq_conn *conn)
{
	if (conn->pending != NULL)
		pending_gone(conn->pending);
}

void sq_pending_committed(struct sq_conn *conn)
{
	if (conn->pending != NULL) {
		conn->pending->uncommitted = false;
		conn->pending->n = 0;
	}
}

bool sq_pending_ended(struct sq_conn *conn)
{
	struct sq_pending *p = conn->pending;

	/* SQLite rolls a transaction back itself after some errors (a
	   full disk, an I/O error): no transaction is open any more. */
	if (p == NULL || !p->uncommitted || !sqlite3_get_autocommit(conn->db))
		return false;
	pending_gone(p);
	return true;
}

bool sq_pending_were_lost(const struct sq_conn *conn)
{
	return conn->pending != NULL && conn->pending->lost;
}

bool sq_pending_lost(struct sq_conn *conn)
{
	bool lost = conn->pending != NULL && conn->pending->lost;

	if (lost)
		conn->pending->lost = false;
	return lost;
}

void sq_pending_free(struct sq_conn *conn)
{
	free(conn->pending);
	conn->pending = NULL;
}

/* pending_stmt - the statement for the next rows: the smallest form
   that holds them all, else the largest (SQLite evaluates every VALUES
   row, unbound ones too) */
static enum sq_stmt_id pending_stmt(unsigned left, unsigned *rows_r)
{
	if (left <= SQ_LIMIT_ADD_ROWS / 2) {
		*rows_r = SQ_LIMIT_ADD_ROWS / 2;
		return SQ_LIMIT_COUNT_ADD_FEW;
	}
	if (left <= SQ_LIMIT_ADD_ROWS) {
		*rows_r = SQ_LIMIT_ADD_ROWS;
		return SQ_LIMIT_COUNT_ADD;
	}
	*rows_r = SQ_PENDING_STMT_ROWS;
	return SQ_LIMIT_COUNT_ADD_MANY;
}

int sq_pending_write(struct sq_conn *conn, char **error_r)
{
	struct sq_pending *p = conn->pending;
	unsigned done = 0;

	/* Never outside the transaction that owed them: a statement there
	   would commit on its own. */
	if (sq_pending_ended(conn))
		return error_r_set(error_r, "add to limit counters: the transaction was rolled "
				   "back");
	while (p != NULL && done < p->n) {
		unsigned rows, take;
		enum sq_stmt_id id = pending_stmt(p->n - done, &rows);
		sqlite3_stmt *stmt = sq_stmt(conn, id);
		int param = 1;

		if (stmt == NULL)
			return sq_fail(conn, error_r, "add to limit counters");
		take = p->n - done < rows ? p->n - done : rows;
		for (unsigned i = done; i < done + take; i++) {
			const struct sq_pending_row *r = &p->rows[i];

			sq_bind_text(stmt, param++, r->subject);
			sq_bind_text(stmt, param++, store_limit_kind_name(r->row.kind));
			sqlite3_bind_int64(stmt, param++, r->row.window);
			sqlite3_bind_int64(stmt, param++, r->row.bucket);
			sqlite3_bind_int64(stmt, param++, (sqlite3_int64)r->row.count);
			sqlite3_bind_int64(stmt, param++, r->max);
		}
		/* Rows left unbound are NULL (sq_stmt() cleared them):
		   the statement skips them. */
		if (sq_step_done(conn, stmt, "add to limit counters", error_r) < 0)
			return -1;
		done += take;
	}
	if (p != NULL)
		p->n = 0;	/* written; still owed the COMMIT (uncommitted) */
	return 0;
}

int sq_pending_add(struct sq_conn *conn, const char *subject, const struct sq_count_row *rows,
		   const uint32_t *max, unsigned n, char **error_r)
{
	size_t len = strlen(subject);
	uint32_t h = sq_key_hash(0, subject, len);
	struct sq_pending *p = conn->pending;

	if (len >= STORE_USER_MAX)
		return error_r_set(error_r, "limit subject longer than %d bytes", STORE_USER_MAX - 1);
	if (p == NULL) {
		if ((p = calloc(1, sizeof *p)) == NULL)
			return error_r_set(error_r, "out of memory");
		conn->pending = p;
	}
	for (unsigned i = 0; i < n; i++) {
		struct sq_pending_row *r = NULL;

		for (unsigned j = 0; j < p->n; j++) {
			struct sq_pending_row *o = &p->rows[j];

			if (o->hash == h && o->row.kind == rows[i].kind
			    && o->row.window == rows[i].window && o->row.bucket == rows[i].bucket
			    && strcmp(o->subject, subject) == 0) {
				r = o;
				break;
			}
		}
		if (r != NULL && r->row.count <= (uint64_t)INT64_MAX - rows[i].count) {
			r->row.count += rows[i].count;
			r->max = max[i];
			continue;
		}
		/* Full, or a sum past what SQLite's integer arithmetic
		   takes: write the rows kept so far, then start again. */
		if ((r != NULL || p->n == SQ_PENDING_ROWS) && sq_pending_write(conn, error_r) < 0)
			return -1;
		p->uncommitted = true;
		r = &p->rows[p->n++];
		r->hash = h;
		r->max = max[i];
		r->row = rows[i];
		memcpy(r->subject, subject, len + 1);
	}
	return 0;
}

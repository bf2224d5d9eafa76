/*
 * NAME
 *	store_pgsql_write 3
 * SUMMARY
 *	PostgreSQL backend: the decision writer's connection and batch write
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	pg_decision_write() is store_ops.decision_write: the queue, the
 *	batching and the retries are store_writer.c's. It runs on the
 *	writer's thread only, on a connection of its own (never the view
 *	connection or its lock), opened by the first batch and again by the
 *	first batch after it broke: non-blocking, within the store's
 *	deadline, with the view connection's lock_timeout and the two
 *	statements below prepared on it.
 *
 *	A batch is one INSERT (one implicit transaction) of one array per
 *	column, unnested by the server: the statement's text is the same
 *	for every batch, so the server parses and plans it once per
 *	connection. Each row's identity is stored under a unique key, so a
 *	row is never written twice: the first send of a batch is a plain
 *	INSERT (the key refuses a copy, and the whole batch with it); a batch
 *	sent again after the connection broke (committed or not, the server
 *	could not say), or refused by the key, is sent with ON CONFLICT DO
 *	NOTHING, which skips the rows already there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "store_pgsql.h"
#include "store_writer.h"

/* $1 is the writer; then one array per column: writer_seq, ts, the
   fields in store_writer.h's order. */
#define PARAMS (SW_FIELDS + 3)

/* The server's CPU per row, measured on PostgreSQL 15 with fsync on
   (250-row batches, this table's three indexes): 9.7 us as a multi-row
   VALUES with 2751 parameters (parsed and planned for every batch),
   4.8 us as arrays with ON CONFLICT DO NOTHING, 3.6 us as arrays in a
   plain INSERT (ON CONFLICT probes the unique key once more per row),
   3.25 us with the unnest()s in the select list (zipped in step, rows
   streamed) instead of FROM unnest(a, b, ...) (stored in a tuplestore
   first). Binary arrays saved 0.05 us more: not worth their code.
   1000-row batches instead of the writer's 250 saved 0.27 us (the
   commit's share) but each took the server's process 3 ms: policyd's
   p99 went from 1.4-1.6 to 2.7-3.4 ms in tests/bench/policyd.sh. */
#define UNNEST(n, type) "unnest($" #n "::" type "[])"
#define INSERT_ROWS "INSERT INTO decision_log (writer, writer_seq, ts, program, client_ip, " \
		    "sasl_username, sender, recipient, verdict, rule, reason, queue_id) "     \
		    "SELECT $1::bigint, " UNNEST(2, "bigint") ", " UNNEST(3, "bigint") ", "  \
		    UNNEST(4, "text") ", " UNNEST(5, "text") ", " UNNEST(6, "text") ", "     \
		    UNNEST(7, "text") ", " UNNEST(8, "text") ", " UNNEST(9, "text") ", "     \
		    UNNEST(10, "text") ", " UNNEST(11, "text") ", " UNNEST(12, "text")

static const struct {
	const char *name, *sql;
} statements[] = {
	{ "authrelay_decisions", INSERT_ROWS },
	/* The unique key of sql/pgsql/003-decision-log-identity.sql: a row
	   sent again after a broken connection is not written twice. */
	{ "authrelay_decisions_again", INSERT_ROWS " ON CONFLICT (writer, writer_seq) DO NOTHING" },
};

/* clean_copy - text into out as one quoted array element: each byte that
   is not part of valid UTF-8 replaced by '?' (PostgreSQL refuses such
   text in a UTF8 database, and one bad sender must not hold up a whole
   batch), '"' and '\' escaped; returns the bytes written, at most
   2 * strlen(text) + 2, no NUL */
static size_t clean_copy(char *out, const char *text)
{
	size_t len = strlen(text), o = 0;
	const unsigned char *p = (const unsigned char *)text;

	out[o++] = '"';
	for (size_t i = 0; i < len;) {
		unsigned need = p[i] < 0x80 ? 0 : (p[i] & 0xE0) == 0xC0 ? 1
				 : (p[i] & 0xF0) == 0xE0 ? 2 : (p[i] & 0xF8) == 0xF0 ? 3 : 9;
		bool ok = need != 9 && i + need < len;

		for (unsigned k = 1; ok && k <= need; k++)
			ok = (p[i + k] & 0xC0) == 0x80;
		if (!ok) {
			out[o++] = '?';
			i++;
			continue;
		}
		if (p[i] == '"' || p[i] == '\\')
			out[o++] = '\\';
		memcpy(out + o, p + i, need + 1);
		o += need + 1;
		i += need + 1;
	}
	out[o++] = '"';
	return o;
}

/* writer_connection - the writer's connection, opened when there is none */
static PGconn *writer_connection(struct pg_store *st, char **error_r)
{
	PGconn *conn;

	if (st->writer_conn != NULL)
		return st->writer_conn;
	if ((conn = pg_connect_nb(st, st->timeout_ms, error_r)) == NULL)
		return NULL;
	if (pg_arun(st, conn, "SET lock_timeout = " PG_LOCK_TIMEOUT, error_r) < 0) {
		PQfinish(conn);
		return NULL;
	}
	for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
		if (pg_aprepare(st, conn, statements[i].name, statements[i].sql, error_r) < 0) {
			PQfinish(conn);
			return NULL;
		}
	}
	return st->writer_conn = conn;
}

/* batch_arrays - the statement's parameters: the writer, then each
   column's values as an array in text, all in one allocation (*text_r,
   to free); 0, or -1 out of memory */
static int batch_arrays(const struct pg_store *st, const struct store_writer_batch *b,
			const char *params[PARAMS], char **text_r)
{
	const char *program = st->program + strlen("authrelay-");
	size_t size = 24 + 2 * 24 * (size_t)b->count + (size_t)(PARAMS - 1) * 3, t = 0;
	char *text;

	for (unsigned i = 0; i < b->count; i++) {
		size += 2 * strlen(program) + 3;	/* the default program */
		for (int f = 0; f < SW_FIELDS; f++) {
			const char *v = store_writer_field(b->rows[i], f);

			size += v != NULL ? 2 * strlen(v) + 3 : 5;	/* "..", or NULL, */
		}
	}
	if ((*text_r = text = malloc(size)) == NULL)
		return -1;
	/* bigint is signed: the 64 bits as they are. */
	params[0] = text;
	t += (size_t)snprintf(text, 24, "%lld", (long long)(int64_t)b->writer) + 1;
	for (int col = -2; col < SW_FIELDS; col++) {
		params[col + 3] = text + t;
		text[t++] = '{';
		for (unsigned i = 0; i < b->count; i++) {
			const struct store_writer_row *r = b->rows[i];
			const char *v = col < 0 ? NULL : store_writer_field(r, col);

			if (i > 0)
				text[t++] = ',';
			if (col < 0)
				t += (size_t)snprintf(text + t, 24, "%lld",
						      (long long)(col == -2 ? (int64_t)r->seq : r->ts));
			else if (v == NULL && col != SW_PROGRAM)
				t += (memcpy(text + t, "NULL", 4), 4);
			else
				t += clean_copy(text + t, v != NULL ? v : program);
		}
		text[t++] = '}';
		text[t++] = '\0';
	}
	return 0;
}

int pg_decision_write(struct store *store, const struct store_writer_batch *batch,
		      char **error_r)
{
	struct pg_store *st = pg_store(store);
	const char *params[PARAMS];
	char *text = NULL;
	enum pg_outcome how = PG_BROKEN;
	PGresult *res = NULL;
	PGconn *conn;

	if ((conn = writer_connection(st, error_r)) == NULL)
		return STORE_WRITE_FAILED;
	if (batch_arrays(st, batch, params, &text) < 0) {
		error_r_set(error_r, "out of memory");
	} else {
		res = pg_aexec_prepared(st, conn, statements[st->writer_resend].name, PARAMS, params,
					&how, error_r);
		/* A copy of a row already written: the batch again, skipping it. */
		if (res == NULL && how == PG_DUPLICATE && !st->writer_resend) {
			if (error_r != NULL) {
				free(*error_r);
				*error_r = NULL;
			}
			st->writer_resend = true;
			res = pg_aexec_prepared(st, conn, statements[1].name, PARAMS, params, &how,
						error_r);
		}
	}
	free(text);
	if (res != NULL) {
		PQclear(res);
		st->writer_busy_logged = false;
		st->writer_resend = false;
		return STORE_WRITE_OK;
	}
	if (how == PG_BROKEN) {
		pg_writer_close(st);	/* the next attempt connects again */
		st->writer_resend = true;
	}
	if (how != PG_BUSY)
		return STORE_WRITE_FAILED;
	/* Not a failure (the writer does not log it): said once a lock. */
	if (!st->writer_busy_logged)
		log_warning("database: cannot write decisions: a table is locked by another "
			    "session; they stay queued and are tried again");
	st->writer_busy_logged = true;
	return STORE_WRITE_BUSY;
}

void pg_writer_close(struct pg_store *st)
{
	PQfinish(st->writer_conn);
	st->writer_conn = NULL;
}

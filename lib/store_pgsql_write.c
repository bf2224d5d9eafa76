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
 *	deadline, with the view connection's lock_timeout. A batch is one
 *	INSERT (one implicit transaction) that stores each row's identity
 *	under a unique key and skips a row already there: a batch sent again
 *	after the connection broke (committed or not, the server could not
 *	say) is never written twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "store_pgsql.h"
#include "store_writer.h"

/* $1 is the writer; each row: writer_seq, ts, the fields. */
#define PARAMS_PER_ROW (SW_FIELDS + 2)

static const char insert_head[] = "INSERT INTO decision_log (writer, writer_seq, ts, program, "
				  "client_ip, sasl_username, sender, recipient, verdict, rule, "
				  "reason, queue_id) VALUES ";
/* The unique key of sql/pgsql/003-decision-log-identity.sql: a row sent
   again after a broken connection is not written twice. */
static const char insert_tail[] = " ON CONFLICT (writer, writer_seq) DO NOTHING";

/* clean_copy - text into out, each byte that is not part of valid UTF-8
   replaced by '?' (PostgreSQL refuses such text in a UTF8 database, and
   one bad sender must not hold up a whole batch); returns the bytes
   written with the NUL, at most strlen(text) + 1 */
static size_t clean_copy(char *out, const char *text)
{
	size_t len = strlen(text), o = 0;
	const unsigned char *p = (const unsigned char *)text;

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
		memcpy(out + o, p + i, need + 1);
		o += need + 1;
		i += need + 1;
	}
	out[o] = '\0';
	return o + 1;
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
	return st->writer_conn = conn;
}

/* batch_sql - the INSERT of n rows and its parameters, values copied
   into text; 0, or -1 out of memory (*sql_r, *params_r, *text_r to free) */
static int batch_sql(const struct pg_store *st, const struct store_writer_batch *b,
		     char **sql_r, const char ***params_r, char **text_r)
{
	const char *program = st->program + strlen("authrelay-");
	size_t text_size = 24, len, t = 0;
	size_t size = sizeof insert_head + sizeof insert_tail + (size_t)b->count * 112;
	const char **params;
	char *sql, *text;

	for (unsigned i = 0; i < b->count; i++) {
		text_size += 2 * 24 + strlen(program) + 1;	/* seq, ts, a default program */
		for (int f = 0; f < SW_FIELDS; f++) {
			const char *v = store_writer_field(b->rows[i], f);

			text_size += v != NULL ? strlen(v) + 1 : 0;
		}
	}
	*sql_r = sql = malloc(size);
	*params_r = params = calloc((size_t)b->count * PARAMS_PER_ROW + 1, sizeof *params);
	*text_r = text = malloc(text_size);
	if (sql == NULL || params == NULL || text == NULL)
		return -1;
	len = (size_t)snprintf(sql, size, "%s", insert_head);
	/* bigint is signed: the 64 bits as they are. */
	params[0] = text;
	t += (size_t)snprintf(text, 24, "%lld", (long long)(int64_t)b->writer) + 1;
	for (unsigned i = 0; i < b->count; i++) {
		const struct store_writer_row *r = b->rows[i];
		unsigned p = 1 + i * PARAMS_PER_ROW;

		len += (size_t)snprintf(sql + len, size - len,
					"%s($1,$%u,$%u,$%u,$%u,$%u,$%u,$%u,$%u,$%u,$%u,$%u)",
					i ? "," : "", p + 1, p + 2, p + 3, p + 4, p + 5, p + 6,
					p + 7, p + 8, p + 9, p + 10, p + 11);
		params[p] = text + t;
		t += (size_t)snprintf(text + t, 24, "%lld", (long long)r->seq) + 1;
		params[p + 1] = text + t;
		t += (size_t)snprintf(text + t, 24, "%lld", (long long)r->ts) + 1;
		for (int f = 0; f < SW_FIELDS; f++) {
			const char *v = store_writer_field(r, f);

			if (f == SW_PROGRAM && v == NULL)
				v = program;
			if (v == NULL)
				continue;
			params[p + 2 + (unsigned)f] = text + t;
			t += clean_copy(text + t, v);
		}
	}
	snprintf(sql + len, size - len, "%s", insert_tail);
	return 0;
}

int pg_decision_write(struct store *store, const struct store_writer_batch *batch,
		      char **error_r)
{
	struct pg_store *st = pg_store(store);
	const char **params = NULL;
	char *sql = NULL, *text = NULL;
	enum pg_outcome how = PG_BROKEN;
	PGresult *res = NULL;
	PGconn *conn;

	if ((conn = writer_connection(st, error_r)) == NULL)
		return STORE_WRITE_FAILED;
	if (batch_sql(st, batch, &sql, &params, &text) < 0)
		error_r_set(error_r, "out of memory");
	else
		res = pg_aexec(st, conn, sql, (int)(1 + batch->count * PARAMS_PER_ROW), params,
			       &how, error_r);
	free(sql);
	free(params);
	free(text);
	if (res != NULL) {
		PQclear(res);
		st->writer_busy_logged = false;
		return STORE_WRITE_OK;
	}
	if (how == PG_BROKEN)
		pg_writer_close(st);	/* the next attempt connects again */
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

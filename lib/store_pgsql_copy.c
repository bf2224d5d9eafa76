/*
 * NAME
 *	store_pgsql_copy 3
 * SUMMARY
 *	PostgreSQL backend: tables dumped and loaded for authrelayctl copy
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	The copy entries of struct store_ops, on the admin connection,
 *	inside the transaction pg_copy_begin() opened: a write copy is one
 *	transaction from the first row to the admin_log row, so a failure
 *	anywhere (a lost connection included) leaves the database as it was.
 *	Every call first checks that the admin connection is still the one
 *	in that transaction: pg_exec() would quietly reconnect, and rows
 *	sent on a new connection would commit one statement at a time.
 *
 *	Rows are loaded with the COPY protocol (COPY ... FROM STDIN, text
 *	format, PQputCopyData): one round trip per batch instead of one per
 *	row or per INSERT. Text whose bytes are not valid UTF-8, and NUL,
 *	which PostgreSQL refuses in text, are stored with '?' for each bad
 *	byte (logged with a count), as the decision writer does: one bad
 *	log line must not stop a site's move. Blobs travel as bytea hex.
 *
 *	Checkpoints are keyed by host on PostgreSQL (store_tables.h
 *	per_host): this host's rows are read, cleared and written, with
 *	st->host as their host.
 *
 *	After a load, each bigserial sequence is set past the highest id
 *	copied (setval), so the next row a daemon writes does not collide
 *	with a copied one. That needs UPDATE on the sequences: the schema's
 *	owner (the role of authrelayctl init) has it, the daemons' role
 *	does not, and the copy then fails and changes nothing.
 * DIAGNOSTICS
 *	Errors name the table and PostgreSQL's first message line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "store_pgsql.h"

#define PG_COPY_SQL_MAX 2048

/* Bytes of COPY data gathered before one PQputCopyData(): large enough
   that the per-call cost vanishes, small enough to stay in cache. */
#define PG_COPY_CHUNK (256 * 1024)

/* copy_conn - the admin connection when it is still in the copy's
   transaction; NULL with *error_r when it broke or the transaction is
   gone (call with admin_lock held) */
static PGconn *copy_conn(struct pg_store *st, char **error_r)
{
	if (st->admin == NULL || PQstatus(st->admin) != CONNECTION_OK) {
		error_r_set(error_r, "the connection to PostgreSQL was lost during the copy; "
			    "nothing was committed");
		return NULL;
	}
	if (PQtransactionStatus(st->admin) != PQTRANS_INTRANS) {
		error_r_set(error_r, "the copy's transaction on PostgreSQL was aborted; "
			    "nothing was committed");
		return NULL;
	}
	return st->admin;
}

/* result_error - -1 with *error_r "what: first line of the message" */
static int result_error(PGconn *conn, PGresult *res, const char *what, char **error_r)
{
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (msg == NULL || *msg == '\0')
		msg = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	return error_r_set(error_r, "%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
}

/* exec_params - pg_exec() on the copy's connection, never on a new one */
static PGresult *exec_params(struct pg_store *st, const char *what, const char *sql, int n,
			     const char *const *params, char **error_r)
{
	return copy_conn(st, error_r) != NULL ? pg_exec(st, what, sql, n, params, error_r) : NULL;
}

/* sequence_sql - the statement that asks about (check) or sets the
   sequence of t's id past the highest id in t */
static void sequence_sql(const struct store_table *t, bool check, char *sql, size_t size)
{
	if (check)
		snprintf(sql, size, "SELECT has_sequence_privilege(pg_get_serial_sequence('\"%s\"', "
			 "'%s'), 'UPDATE')", t->name, t->id);
	else
		snprintf(sql, size, "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'), "
			 "coalesce(max(\"%s\"), 0) + 1, false) FROM \"%s\"", t->name, t->id, t->id,
			 t->name);
}

/* sequences - asks whether this role may set every copied id's sequence
   (check: before any row is sent, rather than after the last), or sets
   each past the highest id */
static int sequences(struct pg_store *st, bool check, char **error_r)
{
	char sql[PG_COPY_SQL_MAX];

	for (unsigned i = 0; i < store_tables_count; i++) {
		const struct store_table *t = &store_tables[i];
		const char *p[1] = { t->name };
		PGresult *res;
		bool yes;

		if (t->id == NULL)
			continue;
		if ((res = exec_params(st, "look for a table", "SELECT to_regclass($1) IS NOT NULL",
				       1, p, error_r)) == NULL)
			return -1;
		yes = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (!yes)
			continue;
		sequence_sql(t, check, sql, sizeof sql);
		if ((res = exec_params(st, t->name, sql, 0, NULL, error_r)) == NULL)
			return -1;
		yes = strcmp(PQgetvalue(res, 0, 0), "f") != 0;
		PQclear(res);
		if (!yes)
			return error_r_set(error_r, "role %s may not set the sequence of %s.%s (copy "
					   "keeps ids): run copy as the schema's owner, the role "
					   "of authrelayctl init", PQuser(st->admin), t->name, t->id);
	}
	return 0;
}

int pg_copy_begin(struct store *store, bool write, char **error_r)
{
	struct pg_store *st = pg_store(store);
	PGresult *res;
	int rc = -1;

	pthread_mutex_lock(&st->admin_lock);
	/* A read copy is one snapshot: counts and rows agree while the
	   daemons keep writing. */
	res = pg_exec(st, "begin the copy",
		      write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL,
		      error_r);
	if (res != NULL) {
		PQclear(res);
		rc = 0;
	}
	if (rc == 0 && write && sequences(st, true, error_r) < 0) {
		pg_rollback(st);
		rc = -1;
	}
	pthread_mutex_unlock(&st->admin_lock);
	return rc;
}

/* host_filter - " WHERE host = $1" for a per-host table, else "" */
static const char *host_filter(const struct store_table *t)
{
	return t->per_host ? " WHERE host = $1" : "";
}

enum lookup_result pg_table_count(struct store *store, const struct store_table *t,
				  uint64_t *count_r, char **error_r)
{
	struct pg_store *st = pg_store(store);
	const char *p[1] = { t->name };
	enum lookup_result r = LOOKUP_ERROR;
	char sql[PG_COPY_SQL_MAX];
	PGresult *res;

	pthread_mutex_lock(&st->admin_lock);
	res = exec_params(st, "look for a table", "SELECT to_regclass($1) IS NOT NULL", 1, p,
			  error_r);
	if (res != NULL && strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		r = LOOKUP_NOT_FOUND;
	} else if (res != NULL) {
		PQclear(res);
		snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"%s", t->name, host_filter(t));
		p[0] = st->host;
		res = exec_params(st, "count rows", sql, t->per_host ? 1 : 0, p, error_r);
		if (res != NULL) {
			*count_r = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
			r = LOOKUP_FOUND;
		}
	}
	PQclear(res);
	pthread_mutex_unlock(&st->admin_lock);
	return r;
}

/* dump_sql - SELECT of t's columns (blobs as hex) in t's order, text
   keys byte-wise as SQLite orders them */
static int dump_sql(const struct store_table *t, char *sql, size_t size)
{
	size_t used = (size_t)snprintf(sql, size, "SELECT ");

	for (unsigned i = 0; i < t->ncolumns && used < size; i++)
		used += (size_t)snprintf(sql + used, size - used,
					 t->columns[i].type == STORE_VALUE_BLOB
						 ? "%sencode(\"%s\", 'hex')" : "%s\"%s\"",
					 i ? ", " : "", t->columns[i].name);
	if (used < size)
		used += (size_t)snprintf(sql + used, size - used, " FROM \"%s\"%s ORDER BY", t->name,
					 host_filter(t));
	for (unsigned k = 0; t->order[k] != NULL && used < size; k++) {
		int c = store_table_column(t, t->order[k]);
		bool text = c >= 0 && t->columns[c].type == STORE_VALUE_TEXT;

		used += (size_t)snprintf(sql + used, size - used, "%s \"%s\"%s", k ? "," : "",
					 t->order[k], text ? " COLLATE \"C\"" : "");
	}
	return used < size ? 0 : -1;
}

/* hex_value - a nibble, or -1 */
static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Blobs of one row, decoded from hex (grants.net: 16 bytes at most). */
#define PG_COPY_BLOB_MAX 64

/* row_values - one result row as t's values; 0, or -1 with *error_r */
static int row_values(PGresult *res, const struct store_table *t, struct store_value *v,
		      unsigned char blobs[][PG_COPY_BLOB_MAX], char **error_r)
{
	for (unsigned i = 0; i < t->ncolumns; i++) {
		const char *text = PQgetvalue(res, 0, (int)i);
		size_t len = (size_t)PQgetlength(res, 0, (int)i);

		memset(&v[i], 0, sizeof v[i]);
		if (PQgetisnull(res, 0, (int)i)) {
			v[i].null = true;
			continue;
		}
		switch (t->columns[i].type) {
		case STORE_VALUE_INT:
			v[i].i = strtoll(text, NULL, 10);
			break;
		case STORE_VALUE_TEXT:
			v[i].bytes = text;
			v[i].len = len;
			break;
		case STORE_VALUE_BLOB:
			if (len % 2 != 0 || len / 2 > PG_COPY_BLOB_MAX)
				return error_r_set(error_r, "table %s: column %s: %zu bytes of hex",
						   t->name, t->columns[i].name, len);
			for (size_t k = 0; k < len / 2; k++) {
				int hi = hex_value(text[2 * k]), lo = hex_value(text[2 * k + 1]);

				if (hi < 0 || lo < 0)
					return error_r_set(error_r, "table %s: column %s: bad hex",
							   t->name, t->columns[i].name);
				blobs[i][k] = (unsigned char)(hi << 4 | lo);
			}
			v[i].bytes = (const char *)blobs[i];
			v[i].len = len / 2;
			break;
		}
	}
	return 0;
}

int pg_table_dump(struct store *store, const struct store_table *t, store_row_cb *cb, void *ctx,
		  char **error_r)
{
	struct pg_store *st = pg_store(store);
	struct store_value values[STORE_TABLE_COLUMNS_MAX];
	unsigned char blobs[STORE_TABLE_COLUMNS_MAX][PG_COPY_BLOB_MAX];
	const char *p[1] = { st->host };
	char sql[PG_COPY_SQL_MAX];
	PGresult *res;
	PGconn *conn;
	int rc = 0;

	if (dump_sql(t, sql, sizeof sql) < 0)
		return error_r_set(error_r, "table %s: statement too long", t->name);
	pthread_mutex_lock(&st->admin_lock);
	if ((conn = copy_conn(st, error_r)) == NULL) {
		pthread_mutex_unlock(&st->admin_lock);
		return -1;
	}
	/* Row by row: a year of decisions never sits in memory at once. */
	if (!PQsendQueryParams(conn, sql, t->per_host ? 1 : 0, NULL, p, NULL, NULL, 0)
	    || !PQsetSingleRowMode(conn)) {
		rc = result_error(conn, NULL, t->name, error_r);
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
		pthread_mutex_unlock(&st->admin_lock);
		return rc;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType status = PQresultStatus(res);

		if (rc == 0 && status == PGRES_SINGLE_TUPLE) {
			if ((rc = row_values(res, t, values, blobs, error_r)) == 0 && cb(values, ctx) != 0)
				rc = -1;
		} else if (rc == 0 && status != PGRES_TUPLES_OK) {
			rc = result_error(conn, res, t->name, error_r);
		}
		PQclear(res);
	}
	pthread_mutex_unlock(&st->admin_lock);
	return rc;
}

int pg_table_clear(struct store *store, const struct store_table *t, char **error_r)
{
	struct pg_store *st = pg_store(store);
	const char *p[1] = { st->host };
	char sql[PG_COPY_SQL_MAX], what[128];
	PGresult *res;

	/* DELETE rather than TRUNCATE: the daemons' role may delete rows
	   but not truncate, and DELETE waits for no exclusive lock. */
	snprintf(sql, sizeof sql, "DELETE FROM \"%s\"%s", t->name, host_filter(t));
	snprintf(what, sizeof what, "clear %s", t->name);
	pthread_mutex_lock(&st->admin_lock);
	res = exec_params(st, what, sql, t->per_host ? 1 : 0, p, error_r);
	pthread_mutex_unlock(&st->admin_lock);
	PQclear(res);
	return res != NULL ? 0 : -1;
}

/* A growing buffer of COPY data. */
struct copy_buf {
	char *data;
	size_t len, size;
	unsigned cleaned;	/* text values stored with '?' for bad bytes */
};

static void buf_room(struct copy_buf *b, size_t more)
{
	if (b->len + more <= b->size)
		return;
	while (b->len + more > b->size)
		b->size = b->size ? b->size * 2 : PG_COPY_CHUNK * 2;
	if ((b->data = realloc(b->data, b->size)) == NULL)
		abort();
}

/* utf8_length - bytes of the valid UTF-8 sequence at p (at most n), or
   0 when p does not start one; NUL is not valid here */
static size_t utf8_length(const unsigned char *p, size_t n)
{
	size_t need;

	if (p[0] == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	need = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (need == 0 || need > n)
		return 0;
	for (size_t k = 1; k < need; k++)
		if ((p[k] & 0xC0) != 0x80)
			return 0;
	return need;
}

/* put_text - text in COPY's text format: backslash, tab, newline and
   CR escaped, bytes that are not UTF-8 replaced by '?' */
static void put_text(struct copy_buf *b, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	bool cleaned = false;

	buf_room(b, 2 * len + 1);
	for (size_t i = 0; i < len;) {
		size_t n = utf8_length(p + i, len - i);

		if (n == 0) {
			b->data[b->len++] = '?';
			cleaned = true;
			i++;
			continue;
		}
		if (n == 1 && (p[i] == '\\' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) {
			b->data[b->len++] = '\\';
			b->data[b->len++] = p[i] == '\\' ? '\\' : p[i] == '\t' ? 't'
					    : p[i] == '\n' ? 'n' : 'r';
		} else {
			memcpy(b->data + b->len, p + i, n);
			b->len += n;
		}
		i += n;
	}
	b->cleaned += cleaned;
}

/* put_row - one row as a line of COPY text */
static void put_row(struct copy_buf *b, const struct store_table *t, const struct store_value *v,
		    const char *host)
{
	static const char hex[] = "0123456789abcdef";

	for (unsigned i = 0; i < t->ncolumns; i++) {
		buf_room(b, 32);
		if (i > 0)
			b->data[b->len++] = '\t';
		if (v[i].null) {
			memcpy(b->data + b->len, "\\N", 2);
			b->len += 2;
		} else if (t->columns[i].type == STORE_VALUE_INT) {
			b->len += (size_t)snprintf(b->data + b->len, 24, "%" PRId64, v[i].i);
		} else if (t->columns[i].type == STORE_VALUE_TEXT) {
			put_text(b, v[i].bytes, v[i].len);
		} else {
			/* bytea's hex input "\x0a0b", its backslash doubled for COPY. */
			buf_room(b, 3 + 2 * v[i].len);
			memcpy(b->data + b->len, "\\\\x", 3);
			b->len += 3;
			for (size_t k = 0; k < v[i].len; k++) {
				unsigned char c = (unsigned char)v[i].bytes[k];

				b->data[b->len++] = hex[c >> 4];
				b->data[b->len++] = hex[c & 15];
			}
		}
	}
	if (t->per_host) {
		buf_room(b, 1);
		b->data[b->len++] = '\t';
		put_text(b, host, strlen(host));
	}
	buf_room(b, 1);
	b->data[b->len++] = '\n';
}

/* copy_sql - "COPY "t" (cols[, "host"]) FROM STDIN" */
static int copy_sql(const struct store_table *t, char *sql, size_t size)
{
	char cols[PG_COPY_SQL_MAX];
	int n;

	if (store_table_column_list(t, cols, sizeof cols) < 0)
		return -1;
	n = snprintf(sql, size, "COPY \"%s\" (%s%s) FROM STDIN", t->name, cols,
		     t->per_host ? ", \"host\"" : "");
	return n > 0 && (size_t)n < size ? 0 : -1;
}

int pg_table_load(struct store *store, const struct store_table *t,
		  const struct store_value *values, size_t nrows, char **error_r)
{
	struct pg_store *st = pg_store(store);
	struct copy_buf b = { 0 };
	char sql[PG_COPY_SQL_MAX], what[128];
	PGresult *res;
	PGconn *conn;
	int rc = 0;

	if (copy_sql(t, sql, sizeof sql) < 0)
		return error_r_set(error_r, "table %s: statement too long", t->name);
	snprintf(what, sizeof what, "load %s", t->name);
	pthread_mutex_lock(&st->admin_lock);
	if ((conn = copy_conn(st, error_r)) == NULL) {
		pthread_mutex_unlock(&st->admin_lock);
		return -1;
	}
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		rc = result_error(conn, res, what, error_r);
		PQclear(res);
		pthread_mutex_unlock(&st->admin_lock);
		return rc;
	}
	PQclear(res);
	for (size_t r = 0; r < nrows && rc == 0; r++) {
		put_row(&b, t, values + r * t->ncolumns, st->host);
		if (b.len >= PG_COPY_CHUNK || r + 1 == nrows) {
			if (PQputCopyData(conn, b.data, (int)b.len) != 1)
				rc = result_error(conn, NULL, what, error_r);
			b.len = 0;
		}
	}
	if (PQputCopyEnd(conn, rc == 0 ? NULL : "authrelayctl copy stopped") != 1 && rc == 0)
		rc = result_error(conn, NULL, what, error_r);
	while ((res = PQgetResult(conn)) != NULL) {
		if (rc == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
			rc = result_error(conn, res, what, error_r);
		PQclear(res);
	}
	pthread_mutex_unlock(&st->admin_lock);
	if (b.cleaned > 0)
		log_warning("copy: table %s: %u text values held bytes that are not UTF-8 (or NUL); "
			    "stored with '?' in their place", t->name, b.cleaned);
	free(b.data);
	return rc;
}

int pg_copy_end(struct store *store, const struct store_copy_note *note, char **error_r)
{
	struct pg_store *st = pg_store(store);
	int rc = 0;

	pthread_mutex_lock(&st->admin_lock);
	if (note == NULL) {
		pg_rollback(st);
	} else if (copy_conn(st, error_r) == NULL || sequences(st, false, error_r) < 0
		   || pg_admin_row(st, note->actor, note->action, note->subject, note->detail,
				   error_r) < 0) {
		pg_rollback(st);
		rc = -1;
	} else if (pg_commit(st, error_r) < 0) {
		pg_rollback(st);
		rc = -1;
	}
	pthread_mutex_unlock(&st->admin_lock);
	if (rc == 0 && note != NULL)
		pg_thread_changed(st, PG_T_ALL);
	return rc;
}

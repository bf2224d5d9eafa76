/*
 * NAME
 *	store_pgsql_nb 3
 * SUMMARY
 *	PostgreSQL backend: non-blocking libpq calls with deadlines
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	The connect and the statements of the background threads (the view
 *	thread, the decision writer) and of the limit charges: libpq's
 *	non-blocking calls, each bounded by a deadline (the store's,
 *	st->timeout_ms, or the charge's own), so a server or
 *	network that stops answering is noticed and never holds a thread
 *	for longer.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_pgsql.h"

/* wait_sock - 1 when the socket is ready for events, 0 at deadline */
static int wait_sock(PGconn *conn, short events, long long deadline)
{
	struct pollfd p = { PQsocket(conn), events, 0 };
	long long left = deadline - pg_now_ms();
	int rc;

	if (p.fd < 0)
		return -1;
	if (left <= 0)
		return 0;
	rc = poll(&p, 1, left > 1000 ? 1000 : (int)left);
	if (rc < 0 && errno != EINTR)
		return -1;
	return rc > 0 ? 1 : (pg_now_ms() >= deadline ? 0 : wait_sock(conn, events, deadline));
}

/* busy_state - SQLSTATEs that mean "someone else holds it, try again" */
static bool busy_state(const char *state)
{
	return state != NULL && (strcmp(state, "55P03") == 0	/* lock_not_available */
				 || strcmp(state, "40001") == 0	/* serialization_failure */
				 || strcmp(state, "40P01") == 0);	/* deadlock_detected */
}

/* nb_answer - the answer to what was just sent, within timeout_ms
   (pg_nb_exec's contract); sent 0: the send itself failed */
static PGresult *nb_answer(PGconn *conn, int sent, long long timeout_ms, char **error_r)
{
	long long deadline = pg_now_ms() + timeout_ms;
	PGresult *res, *keep = NULL;
	int rc;

	if (!sent)
		goto conn_fail;
	while ((rc = PQflush(conn)) == 1) {
		if (wait_sock(conn, POLLOUT | POLLIN, deadline) <= 0)
			return error_r_set(error_r, "no answer within %lld ms", timeout_ms), NULL;
		if (!PQconsumeInput(conn))
			goto conn_fail;
	}
	if (rc < 0)
		goto conn_fail;
	for (;;) {
		while (PQisBusy(conn)) {
			if (wait_sock(conn, POLLIN, deadline) <= 0) {
				PQclear(keep);
				error_r_set(error_r, "no answer within %lld ms", timeout_ms);
				return NULL;
			}
			if (!PQconsumeInput(conn)) {
				PQclear(keep);
				goto conn_fail;
			}
		}
		if ((res = PQgetResult(conn)) == NULL)
			break;
		/* Several statements: the first failure is the answer (the
		   server skips the rest). */
		if (keep != NULL && PQresultStatus(keep) != PGRES_COMMAND_OK
		    && PQresultStatus(keep) != PGRES_TUPLES_OK) {
			PQclear(res);
			continue;
		}
		PQclear(keep);
		keep = res;
	}
	if (keep != NULL)
		return keep;
conn_fail:
	error_r_set(error_r, "%.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
		    PQerrorMessage(conn));
	return NULL;
}

/* pg_nb_exec - sql on a non-blocking connection, the whole answer
   within timeout_ms (store_pgsql.h) */
PGresult *pg_nb_exec(PGconn *conn, const char *sql, int n, const char *const *params,
		     long long timeout_ms, char **error_r)
{
	return nb_answer(conn, n < 0 ? PQsendQuery(conn, sql)
				     : PQsendQueryParams(conn, sql, n, NULL, params, NULL, NULL, 0),
			 timeout_ms, error_r);
}

/* outcome - how a background statement ended: keep, or NULL with
   *error_r (keep cleared) and *how_r saying why */
static PGresult *outcome(PGconn *conn, PGresult *keep, enum pg_outcome *how_r, char **error_r)
{
	const char *msg;

	*how_r = PG_BROKEN;
	if (keep == NULL)
		return NULL;
	if (PQresultStatus(keep) == PGRES_COMMAND_OK || PQresultStatus(keep) == PGRES_TUPLES_OK) {
		*how_r = PG_OK;
		return keep;
	}
	if (PQstatus(conn) == CONNECTION_OK) {
		const char *state = PQresultErrorField(keep, PG_DIAG_SQLSTATE);

		*how_r = busy_state(state) ? PG_BUSY
			 : state != NULL && strcmp(state, "23505") == 0 ? PG_DUPLICATE : PG_FAILED;
	}
	msg = PQresultErrorMessage(keep);
	error_r_set(error_r, "%.*s", (int)strcspn(msg, "\n"), msg);
	PQclear(keep);
	return NULL;
}

/* pg_aexec - one statement, non-blocking, within the store's deadline.
   Returns the result (caller clears) or NULL with *error_r; *how_r says
   why (PG_BROKEN: the connection is no longer usable). */
PGresult *pg_aexec(struct pg_store *st, PGconn *conn, const char *sql, int n,
		   const char *const *params, enum pg_outcome *how_r, char **error_r)
{
	return outcome(conn, pg_nb_exec(conn, sql, n < 0 ? 0 : n, params, st->timeout_ms, error_r),
		       how_r, error_r);
}

/* pg_aprepare - a named statement on conn, within the store's deadline */
int pg_aprepare(struct pg_store *st, PGconn *conn, const char *name, const char *sql,
		char **error_r)
{
	enum pg_outcome how;
	PGresult *res = outcome(conn, nb_answer(conn, PQsendPrepare(conn, name, sql, 0, NULL),
					       st->timeout_ms, error_r), &how, error_r);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

/* pg_aexec_prepared - pg_aexec() of a statement that pg_aprepare() made */
PGresult *pg_aexec_prepared(struct pg_store *st, PGconn *conn, const char *name, int n,
			    const char *const *params, enum pg_outcome *how_r, char **error_r)
{
	int sent = PQsendQueryPrepared(conn, name, n, params, NULL, NULL, 0);

	return outcome(conn, nb_answer(conn, sent, st->timeout_ms, error_r), how_r, error_r);
}

/* pg_arun - pg_aexec without a result; 0 or -1 (the connection is broken or
   the statement failed, either way the caller starts over) */
int pg_arun(struct pg_store *st, PGconn *conn, const char *sql, char **error_r)
{
	enum pg_outcome how;
	PGresult *res = pg_aexec(st, conn, sql, 0, NULL, &how, error_r);

	PQclear(res);
	return res != NULL ? 0 : -1;
}

/* pg_connect_nb - a non-blocking connect within timeout_ms */
PGconn *pg_connect_nb(struct pg_store *st, long long timeout_ms, char **error_r)
{
	long long deadline = pg_now_ms() + timeout_ms;
	PGconn *conn = pg_connect_start(st);
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;

	if (conn == NULL) {
		error_r_set(error_r, "out of memory");
		return NULL;
	}
	while (PQstatus(conn) != CONNECTION_BAD) {
		int ready;

		if (ps == PGRES_POLLING_OK) {
			PQsetnonblocking(conn, 1);
			return conn;
		}
		if (ps == PGRES_POLLING_FAILED)
			break;
		ready = wait_sock(conn, ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
		if (ready <= 0) {
			error_r_set(error_r, "no connection within %lld ms", timeout_ms);
			PQfinish(conn);
			return NULL;
		}
		ps = PQconnectPoll(conn);
	}
	error_r_set(error_r, "%.*s", (int)strcspn(PQerrorMessage(conn), "\n"),
		    PQerrorMessage(conn));
	PQfinish(conn);
	return NULL;
}

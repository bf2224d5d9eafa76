/*
 * NAME
 *	store_sqlite_certs 3
 * SUMMARY
 *	SQLite backend: registered TLS client certificates
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	Fingerprints are stored and looked up in Postfix's form (upper-case
 *	hex pairs joined by ':', see store_fingerprint_normalize()), so
 *	"ab:cd:..", "ABCD.." and Postfix's own ccert_fingerprint all find the
 *	same row. A lookup matches the certificate fingerprint (primary key)
 *	or the public-key fingerprint (certs_pubkey), which survives the
 *	certificate's renewal with the same key.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store_sqlite.h"

enum lookup_result sq_cert_lookup(struct store *store, const char *fingerprint, char *user_r)
{
	struct sq_store *st = sq_store(store);
	enum lookup_result res;
	sqlite3_stmt *stmt;
	int rc;

	sq_lock(st);
	if (sq_lookup_moved(st) || (stmt = sq_stmt(&st->main, SQ_CERT_LOOKUP)) == NULL) {
		res = sq_lookup_failed(st, "certificate lookup");
		sq_unlock(st);
		return res;
	}
	sq_bind_text(stmt, 1, fingerprint);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if (user_r != NULL)
			sq_column_copy(stmt, 0, user_r, STORE_USER_MAX);
		res = LOOKUP_FOUND;
	} else if (rc == SQLITE_DONE) {
		res = LOOKUP_NOT_FOUND;
	} else {
		res = sq_lookup_failed(st, "certificate lookup");
	}
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

/* What cert_add writes. */
struct cert_add {
	const struct store_cert *cert;
	const char *fpr, *pubfpr, *actor;
};

/* cert_add - the certs row and its admin_log row */
static int cert_add(struct sq_conn *conn, void *ctx, char **error_r)
{
	const struct cert_add *a = ctx;
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = sq_stmt(conn, SQ_CERT_ADD)) == NULL)
		return sq_fail(conn, error_r, "add certificate");
	sq_bind_text(stmt, 1, a->fpr);
	sq_bind_text(stmt, 2, a->pubfpr);
	sq_bind_text(stmt, 3, a->cert->username);
	sq_bind_text(stmt, 4, a->cert->subject);
	if (a->cert->not_after != 0)
		sqlite3_bind_int64(stmt, 5, a->cert->not_after);
	sqlite3_bind_int64(stmt, 6, a->cert->added != 0 ? a->cert->added : (int64_t)time(NULL));
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc == SQLITE_CONSTRAINT)
		return error_r_set(error_r, "certificate %s is already registered", a->fpr);
	if (rc != SQLITE_DONE)
		return sq_fail(conn, error_r, "add certificate");
	return sq_admin_row(conn, a->actor, "cert add", a->cert->username, a->fpr, error_r);
}

int sq_cert_add(struct store *store, const struct store_cert *cert, const char *actor,
		char **error_r)
{
	struct cert_add a = { cert, cert->fingerprint, cert->pubkey_fingerprint, actor };

	return sq_transact(sq_store(store), cert_add, &a, error_r);
}

/* What cert_revoke removes. */
struct cert_revoke {
	const char *fpr, *actor;
};

/* cert_revoke - every certificate with the fingerprint, either kind */
static int cert_revoke(struct sq_conn *conn, void *ctx, char **error_r)
{
	const struct cert_revoke *r = ctx;
	char found[STORE_FPR_MAX], user[STORE_USER_MAX];
	sqlite3_stmt *stmt;
	unsigned removed = 0;
	int rc;

	/* One certificate per statement round: the matching rows are found
	   first, then deleted by primary key, each with its admin_log row. */
	for (;;) {
		if ((stmt = sq_stmt(conn, SQ_CERT_FIND)) == NULL)
			return sq_fail(conn, error_r, "find certificate");
		sq_bind_text(stmt, 1, r->fpr);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			sq_column_copy(stmt, 0, found, sizeof found);
			sq_column_copy(stmt, 1, user, sizeof user);
		}
		sqlite3_reset(stmt);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW)
			return sq_fail(conn, error_r, "find certificate");
		if ((stmt = sq_stmt(conn, SQ_CERT_DELETE)) == NULL)
			return sq_fail(conn, error_r, "revoke certificate");
		sq_bind_text(stmt, 1, found);
		if (sq_step_done(conn, stmt, "revoke certificate", error_r) < 0
		    || sq_admin_row(conn, r->actor, "cert revoke", user, found, error_r) < 0)
			return -1;
		removed++;
	}
	if (removed == 0)
		return error_r_set(error_r, "no registered certificate has fingerprint %s", r->fpr);
	return 0;
}

int sq_cert_revoke(struct store *store, const char *fingerprint, const char *actor,
		   char **error_r)
{
	struct cert_revoke r = { fingerprint, actor };

	return sq_transact(sq_store(store), cert_revoke, &r, error_r);
}

/* The caller's callback for sq_cert_list(). */
struct cert_list {
	store_cert_cb *cb;
	void *ctx;
};

/* cert_row - one SQ_CERT_LIST row to the callback */
static int cert_row(sqlite3_stmt *stmt, void *ctx)
{
	const struct cert_list *l = ctx;
	struct store_cert c;

	memset(&c, 0, sizeof c);
	sq_column_copy(stmt, 0, c.username, sizeof c.username);
	sq_column_copy(stmt, 1, c.fingerprint, sizeof c.fingerprint);
	sq_column_copy(stmt, 2, c.pubkey_fingerprint, sizeof c.pubkey_fingerprint);
	sq_column_copy(stmt, 3, c.subject, sizeof c.subject);
	c.not_after = sqlite3_column_int64(stmt, 4);
	c.added = sqlite3_column_int64(stmt, 5);
	return l->cb(&c, l->ctx);
}

int sq_cert_list(struct store *store, store_cert_cb *cb, void *ctx, char **error_r)
{
	struct cert_list l = { cb, ctx };

	return sq_list(sq_store(store), SQ_CERT_LIST, "list certificates", NULL, cert_row, &l,
		       error_r);
}

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
	char fpr[STORE_FPR_MAX];
	enum lookup_result res;
	sqlite3_stmt *stmt;
	int rc;

	/* Not a fingerprint at all: no certificate has it. */
	if (store_fingerprint_normalize(fingerprint, fpr, sizeof fpr) < 0)
		return LOOKUP_NOT_FOUND;
	sq_lock(st);
	if ((stmt = sq_stmt(&st->main, SQ_CERT_LOOKUP)) == NULL) {
		res = sq_lookup_failed(st, "certificate lookup");
		sq_unlock(st);
		return res;
	}
	sq_bind_text(stmt, 1, fpr);
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

int sq_cert_add(struct store *store, const struct store_cert *cert, const char *actor,
		char **error_r)
{
	struct sq_store *st = sq_store(store);
	char fpr[STORE_FPR_MAX], pubfpr[STORE_FPR_MAX];
	sqlite3_stmt *stmt;
	int rc;

	if (strnlen(cert->username, sizeof cert->username) == sizeof cert->username
	    || cert->username[0] == '\0')
		return store_error(error_r, "certificate without a valid user name");
	if (strnlen(cert->subject, sizeof cert->subject) == sizeof cert->subject)
		return store_error(error_r, "certificate subject too long");
	if (store_fingerprint_normalize(cert->fingerprint, fpr, sizeof fpr) < 0)
		return store_error(error_r, "bad certificate fingerprint \"%.*s\": want hex pairs "
				   "such as AB:CD:..", STORE_FPR_MAX, cert->fingerprint);
	pubfpr[0] = '\0';
	if (cert->pubkey_fingerprint[0] != '\0'
	    && store_fingerprint_normalize(cert->pubkey_fingerprint, pubfpr, sizeof pubfpr) < 0)
		return store_error(error_r, "bad public-key fingerprint \"%.*s\": want hex "
				   "pairs such as AB:CD:..", STORE_FPR_MAX,
				   cert->pubkey_fingerprint);

	sq_lock(st);
	if (sq_begin(&st->main, error_r) < 0)
		goto fail;
	if ((stmt = sq_stmt(&st->main, SQ_CERT_ADD)) == NULL) {
		sq_fail(&st->main, error_r, "add certificate");
		goto rollback;
	}
	sq_bind_text(stmt, 1, fpr);
	sq_bind_text(stmt, 2, pubfpr);
	sq_bind_text(stmt, 3, cert->username);
	sq_bind_text(stmt, 4, cert->subject);
	if (cert->not_after != 0)
		sqlite3_bind_int64(stmt, 5, cert->not_after);
	sqlite3_bind_int64(stmt, 6, cert->added != 0 ? cert->added : (int64_t)time(NULL));
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc == SQLITE_CONSTRAINT) {
		store_error(error_r, "certificate %s is already registered", fpr);
		goto rollback;
	}
	if (rc != SQLITE_DONE) {
		sq_fail(&st->main, error_r, "add certificate");
		goto rollback;
	}
	if (sq_admin_row(&st->main, actor, "cert add", cert->username, fpr, error_r) < 0)
		goto rollback;
	if (sq_commit(&st->main, error_r) < 0)
		goto fail;
	sq_unlock(st);
	return 0;

rollback:
	sq_rollback(&st->main);
fail:
	sq_unlock(st);
	return -1;
}

int sq_cert_revoke(struct store *store, const char *fingerprint, const char *actor,
		   char **error_r)
{
	struct sq_store *st = sq_store(store);
	char fpr[STORE_FPR_MAX], found[STORE_FPR_MAX], user[STORE_USER_MAX];
	sqlite3_stmt *stmt;
	unsigned removed = 0;
	int rc;

	if (store_fingerprint_normalize(fingerprint, fpr, sizeof fpr) < 0)
		return store_error(error_r, "bad certificate fingerprint \"%.*s\": want hex pairs "
				   "such as AB:CD:..", STORE_FPR_MAX, fingerprint);
	sq_lock(st);
	if (sq_begin(&st->main, error_r) < 0)
		goto fail;
	/* One certificate per statement round: the matching rows are found
	   first, then deleted by primary key, each with its admin_log row. */
	for (;;) {
		if ((stmt = sq_stmt(&st->main, SQ_CERT_FIND)) == NULL) {
			sq_fail(&st->main, error_r, "find certificate");
			goto rollback;
		}
		sq_bind_text(stmt, 1, fpr);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			sq_column_copy(stmt, 0, found, sizeof found);
			sq_column_copy(stmt, 1, user, sizeof user);
		}
		sqlite3_reset(stmt);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			sq_fail(&st->main, error_r, "find certificate");
			goto rollback;
		}
		if ((stmt = sq_stmt(&st->main, SQ_CERT_DELETE)) == NULL) {
			sq_fail(&st->main, error_r, "revoke certificate");
			goto rollback;
		}
		sq_bind_text(stmt, 1, found);
		rc = sqlite3_step(stmt);
		sqlite3_reset(stmt);
		if (rc != SQLITE_DONE) {
			sq_fail(&st->main, error_r, "revoke certificate");
			goto rollback;
		}
		if (sq_admin_row(&st->main, actor, "cert revoke", user, found, error_r) < 0)
			goto rollback;
		removed++;
	}
	if (removed == 0) {
		store_error(error_r, "no registered certificate has fingerprint %s", fpr);
		goto rollback;
	}
	if (sq_commit(&st->main, error_r) < 0)
		goto fail;
	sq_unlock(st);
	return 0;

rollback:
	sq_rollback(&st->main);
fail:
	sq_unlock(st);
	return -1;
}

int sq_cert_list(struct store *store, store_cert_cb *cb, void *ctx, char **error_r)
{
	struct sq_store *st = sq_store(store);
	struct store_cert c;
	sqlite3_stmt *stmt;
	int rc, res = 0;

	sq_lock(st);
	if ((stmt = sq_stmt(&st->main, SQ_CERT_LIST)) == NULL) {
		sq_fail(&st->main, error_r, "list certificates");
		sq_unlock(st);
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&c, 0, sizeof c);
		sq_column_copy(stmt, 0, c.username, sizeof c.username);
		sq_column_copy(stmt, 1, c.fingerprint, sizeof c.fingerprint);
		sq_column_copy(stmt, 2, c.pubkey_fingerprint, sizeof c.pubkey_fingerprint);
		sq_column_copy(stmt, 3, c.subject, sizeof c.subject);
		c.not_after = sqlite3_column_int64(stmt, 4);
		c.added = sqlite3_column_int64(stmt, 5);
		if (cb(&c, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		res = sq_fail(&st->main, error_r, "list certificates");
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

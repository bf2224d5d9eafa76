/*
 * NAME
 *	store_sqlite_users 3
 * SUMMARY
 *	SQLite backend: SASL users and their sender addresses
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	Sender ownership is answered with equality on the candidates a
 *	pattern can be (lib/addr.h): the address without its +tag, "@" and
 *	its domain, and "*", so the (username, pattern) primary key answers
 *	in three probes whatever the number of patterns. Patterns are stored
 *	addr_pattern_normalize()d and addresses are normalised the same way
 *	before the lookup, so the domain's case never matters.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "addr.h"
#include "store_sqlite.h"

enum lookup_result sq_user_suspended(struct store *store, const char *username)
{
	struct sq_store *st = sq_store(store);
	enum lookup_result res;
	sqlite3_stmt *stmt;
	int rc;

	sq_lock(st);
	if ((stmt = sq_stmt(&st->main, SQ_USER_SUSPENDED)) == NULL) {
		res = sq_lookup_failed(st, "user lookup");
		sq_unlock(st);
		return res;
	}
	sq_bind_text(stmt, 1, username);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		res = sqlite3_column_int(stmt, 0) != 0 ? LOOKUP_FOUND : LOOKUP_NOT_FOUND;
	else if (rc == SQLITE_DONE)
		res = LOOKUP_NOT_FOUND;
	else
		res = sq_lookup_failed(st, "user lookup");
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

/* ensure_user - create the user row when missing */
static int ensure_user(struct sq_conn *conn, const char *username, char **error_r)
{
	sqlite3_stmt *stmt = sq_stmt(conn, SQ_USER_ENSURE);

	if (stmt == NULL)
		return sq_fail(conn, error_r, "add user");
	sq_bind_text(stmt, 1, username);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)time(NULL));
	return sq_step_done(conn, stmt, "add user", error_r);
}

int sq_user_set_suspended(struct store *store, const char *username, bool suspended,
			  const char *actor, char **error_r)
{
	struct sq_store *st = sq_store(store);
	sqlite3_stmt *stmt;

	sq_lock(st);
	if (sq_begin(&st->main, error_r) < 0)
		goto fail;
	if ((stmt = sq_stmt(&st->main, SQ_USER_SET)) == NULL) {
		sq_fail(&st->main, error_r, "update user");
		goto rollback;
	}
	sq_bind_text(stmt, 1, username);
	sqlite3_bind_int(stmt, 2, suspended ? 1 : 0);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
	if (sq_step_done(&st->main, stmt, "update user", error_r) < 0
	    || sq_admin_row(&st->main, actor, suspended ? "user suspend" : "user resume",
			    username, "", error_r) < 0)
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

int sq_user_list(struct store *store, store_user_cb *cb, void *ctx, char **error_r)
{
	struct sq_store *st = sq_store(store);
	struct store_user u;
	sqlite3_stmt *stmt;
	int rc, res = 0;

	sq_lock(st);
	if ((stmt = sq_stmt(&st->main, SQ_USER_LIST)) == NULL) {
		sq_fail(&st->main, error_r, "list users");
		sq_unlock(st);
		return -1;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		memset(&u, 0, sizeof u);
		sq_column_copy(stmt, 0, u.username, sizeof u.username);
		u.suspended = sqlite3_column_int(stmt, 1) != 0;
		u.changed = sqlite3_column_int64(stmt, 2);
		u.senders = (unsigned)sqlite3_column_int64(stmt, 3);
		if (cb(&u, ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		res = sq_fail(&st->main, error_r, "list users");
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

enum lookup_result sq_sender_owned(struct store *store, const char *username,
				   const char *address)
{
	struct sq_store *st = sq_store(store);
	char norm[ADDR_MAX], bare[ADDR_MAX], domain[ADDR_MAX + 1];
	const char *dom;
	enum lookup_result res;
	sqlite3_stmt *stmt;
	int rc;

	/* An address that does not normalise is owned by nobody; that is
	   an answer about the address, not a store failure. */
	if (addr_normalize(address, norm, sizeof norm) < 0)
		return LOOKUP_NOT_FOUND;
	addr_strip_tag(norm, bare, sizeof bare);
	dom = addr_domain(bare);
	if (*dom != '\0')
		snprintf(domain, sizeof domain, "@%s", dom);

	sq_lock(st);
	if ((stmt = sq_stmt(&st->main, SQ_SENDER_OWNED)) == NULL) {
		res = sq_lookup_failed(st, "sender lookup");
		sq_unlock(st);
		return res;
	}
	sq_bind_text(stmt, 1, username);
	/* The null sender "" is covered by "*" only: no other candidate. */
	sq_bind_text(stmt, 2, *bare != '\0' ? bare : NULL);
	sq_bind_text(stmt, 3, *dom != '\0' ? domain : NULL);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		res = LOOKUP_FOUND;
	else if (rc == SQLITE_DONE)
		res = LOOKUP_NOT_FOUND;
	else
		res = sq_lookup_failed(st, "sender lookup");
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

/* sender_change - allow (add) or deny (remove) one pattern */
static int sender_change(struct store *store, const char *username, const char *pattern,
			 const char *actor, bool allow, char **error_r)
{
	struct sq_store *st = sq_store(store);
	char norm[ADDR_MAX];
	sqlite3_stmt *stmt;

	if (addr_pattern_normalize(pattern, norm, sizeof norm, error_r) < 0)
		return -1;
	sq_lock(st);
	if (sq_begin(&st->main, error_r) < 0)
		goto fail;
	if (allow && ensure_user(&st->main, username, error_r) < 0)
		goto rollback;
	if ((stmt = sq_stmt(&st->main, allow ? SQ_SENDER_ADD : SQ_SENDER_DELETE)) == NULL) {
		sq_fail(&st->main, error_r, "change sender rights");
		goto rollback;
	}
	sq_bind_text(stmt, 1, username);
	sq_bind_text(stmt, 2, norm);
	if (allow)
		sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
	if (sq_step_done(&st->main, stmt, "change sender rights", error_r) < 0)
		goto rollback;
	if (!allow && sqlite3_changes(st->main.db) == 0) {
		store_error(error_r, "user %s has no sender pattern %s", username, norm);
		goto rollback;
	}
	if (sq_admin_row(&st->main, actor, allow ? "sender allow" : "sender deny", username,
			 norm, error_r) < 0)
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

int sq_sender_allow(struct store *store, const char *username, const char *pattern,
		    const char *actor, char **error_r)
{
	return sender_change(store, username, pattern, actor, true, error_r);
}

int sq_sender_deny(struct store *store, const char *username, const char *pattern,
		   const char *actor, char **error_r)
{
	return sender_change(store, username, pattern, actor, false, error_r);
}

int sq_sender_list(struct store *store, const char *username, store_sender_cb *cb, void *ctx,
		   char **error_r)
{
	struct sq_store *st = sq_store(store);
	sqlite3_stmt *stmt;
	int rc, res = 0;

	sq_lock(st);
	stmt = sq_stmt(&st->main, username != NULL ? SQ_SENDER_LIST_USER : SQ_SENDER_LIST_ALL);
	if (stmt == NULL) {
		sq_fail(&st->main, error_r, "list sender rights");
		sq_unlock(st);
		return -1;
	}
	if (username != NULL)
		sq_bind_text(stmt, 1, username);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *user = (const char *)sqlite3_column_text(stmt, 0);
		const char *pat = (const char *)sqlite3_column_text(stmt, 1);

		if (cb(user != NULL ? user : "", pat != NULL ? pat : "",
		       sqlite3_column_int64(stmt, 2), ctx) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		res = sq_fail(&st->main, error_r, "list sender rights");
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

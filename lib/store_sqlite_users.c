/*
 * NAME
 *	store_sqlite_users 3
 * SUMMARY
 *	SQLite backend: SASL users and their sender addresses
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	Sender ownership is answered with equality on the candidates
 *	store_rules.c derives from the address (without its +tag, "@" and
 *	its domain) and "*", so the (username, pattern) primary key answers
 *	in three probes whatever the number of patterns.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store_sqlite.h"

enum lookup_result sq_user_suspended(struct store *store, const char *username)
{
	struct sq_store *st = sq_store(store);
	enum lookup_result res;
	sqlite3_stmt *stmt;
	int rc;

	sq_lock(st);
	if (sq_lookup_moved(st) || (stmt = sq_stmt(&st->main, SQ_USER_SUSPENDED)) == NULL) {
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

/* What user_set writes. */
struct user_set {
	const char *username, *actor;
	bool suspended;
};

/* user_set - the users row and its admin_log row */
static int user_set(struct sq_conn *conn, void *ctx, char **error_r)
{
	const struct user_set *u = ctx;
	sqlite3_stmt *stmt;

	if ((stmt = sq_stmt(conn, SQ_USER_SET)) == NULL)
		return sq_fail(conn, error_r, "update user");
	sq_bind_text(stmt, 1, u->username);
	sqlite3_bind_int(stmt, 2, u->suspended ? 1 : 0);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
	if (sq_step_done(conn, stmt, "update user", error_r) < 0)
		return -1;
	return sq_admin_row(conn, u->actor, u->suspended ? "user suspend" : "user resume",
			    u->username, "", error_r);
}

int sq_user_set_suspended(struct store *store, const char *username, bool suspended,
			  const char *actor, char **error_r)
{
	struct user_set u = { username, actor, suspended };

	return sq_transact(sq_store(store), user_set, &u, error_r);
}

/* The caller's callback for sq_user_list(). */
struct user_list {
	store_user_cb *cb;
	void *ctx;
};

/* user_row - one SQ_USER_LIST row to the callback */
static int user_row(sqlite3_stmt *stmt, void *ctx)
{
	const struct user_list *l = ctx;
	struct store_user u;

	memset(&u, 0, sizeof u);
	sq_column_copy(stmt, 0, u.username, sizeof u.username);
	u.suspended = sqlite3_column_int(stmt, 1) != 0;
	u.changed = sqlite3_column_int64(stmt, 2);
	u.senders = (unsigned)sqlite3_column_int64(stmt, 3);
	return l->cb(&u, l->ctx);
}

int sq_user_list(struct store *store, store_user_cb *cb, void *ctx, char **error_r)
{
	struct user_list l = { cb, ctx };

	return sq_list(sq_store(store), SQ_USER_LIST, "list users", NULL, user_row, &l, error_r);
}

enum lookup_result sq_sender_owned(struct store *store, const char *username,
				   const char *bare, const char *at_domain)
{
	struct sq_store *st = sq_store(store);
	enum lookup_result res;
	sqlite3_stmt *stmt;
	int rc;

	sq_lock(st);
	if (sq_lookup_moved(st) || (stmt = sq_stmt(&st->main, SQ_SENDER_OWNED)) == NULL) {
		res = sq_lookup_failed(st, "sender lookup");
		sq_unlock(st);
		return res;
	}
	sq_bind_text(stmt, 1, username);
	sq_bind_text(stmt, 2, bare);
	sq_bind_text(stmt, 3, at_domain);
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

/* What sender_change writes. */
struct sender_change {
	const char *username, *norm, *actor;
	bool allow;
};

/* sender_change - allow (add) or deny (remove) one pattern, and log it */
static int sender_change(struct sq_conn *conn, void *ctx, char **error_r)
{
	const struct sender_change *c = ctx;
	sqlite3_stmt *stmt;

	if (c->allow && ensure_user(conn, c->username, error_r) < 0)
		return -1;
	if ((stmt = sq_stmt(conn, c->allow ? SQ_SENDER_ADD : SQ_SENDER_DELETE)) == NULL)
		return sq_fail(conn, error_r, "change sender rights");
	sq_bind_text(stmt, 1, c->username);
	sq_bind_text(stmt, 2, c->norm);
	if (c->allow)
		sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
	if (sq_step_done(conn, stmt, "change sender rights", error_r) < 0)
		return -1;
	if (!c->allow && sqlite3_changes(conn->db) == 0)
		return error_r_set(error_r, "user %s has no sender pattern %s", c->username,
				   c->norm);
	return sq_admin_row(conn, c->actor, c->allow ? "sender allow" : "sender deny",
			    c->username, c->norm, error_r);
}

/* sender_set - change one (normalised) pattern in a transaction */
static int sender_set(struct store *store, const char *username, const char *pattern,
		      const char *actor, bool allow, char **error_r)
{
	struct sender_change c = { username, pattern, actor, allow };

	return sq_transact(sq_store(store), sender_change, &c, error_r);
}

int sq_sender_allow(struct store *store, const char *username, const char *pattern,
		    const char *actor, char **error_r)
{
	return sender_set(store, username, pattern, actor, true, error_r);
}

int sq_sender_deny(struct store *store, const char *username, const char *pattern,
		   const char *actor, char **error_r)
{
	return sender_set(store, username, pattern, actor, false, error_r);
}

/* The caller's callback and filter for sq_sender_list(). */
struct sender_list {
	const char *username;	/* NULL: everybody's */
	store_sender_cb *cb;
	void *ctx;
};

/* sender_bind - the user of SQ_SENDER_LIST_USER */
static void sender_bind(sqlite3_stmt *stmt, void *ctx)
{
	const struct sender_list *l = ctx;

	sq_bind_text(stmt, 1, l->username);
}

/* sender_row - one sender_rights row to the callback */
static int sender_row(sqlite3_stmt *stmt, void *ctx)
{
	const struct sender_list *l = ctx;
	const char *user = (const char *)sqlite3_column_text(stmt, 0);
	const char *pat = (const char *)sqlite3_column_text(stmt, 1);

	return l->cb(user != NULL ? user : "", pat != NULL ? pat : "",
		     sqlite3_column_int64(stmt, 2), l->ctx);
}

int sq_sender_list(struct store *store, const char *username, store_sender_cb *cb, void *ctx,
		   char **error_r)
{
	struct sender_list l = { username, cb, ctx };

	if (username == NULL)
		return sq_list(sq_store(store), SQ_SENDER_LIST_ALL, "list sender rights", NULL,
			       sender_row, &l, error_r);
	return sq_list(sq_store(store), SQ_SENDER_LIST_USER, "list sender rights", sender_bind,
		       sender_row, &l, error_r);
}

/*
 * NAME
 *	store_pgsql_admin 3
 * SUMMARY
 *	PostgreSQL backend: the synchronous operations (admin, loginwatch, audit)
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	Everything that is not a lookup or a decision row: one statement
 *	round trip at a time on the admin connection, under
 *	st->admin_lock, each change in one transaction with its admin_log
 *	row as on SQLite. After a commit that changed a table the daemons
 *	keep in memory, pg_thread_changed() brings this process's copy up to
 *	date before the call returns; other processes learn it through the
 *	tables' NOTIFY triggers.
 *
 *	Text is compared and ordered byte-wise (COLLATE "C"), as SQLite
 *	does, whatever the database's collation. Unsigned 64-bit checkpoint
 *	values are stored bit for bit in bigint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libpq-fe.h>

#include "sql_audit.h"
#include "sql_report.h"
#include "store_pgsql.h"

/* ---- helpers ---- */

/* transact - fn inside BEGIN/COMMIT on the admin connection, all or
   nothing; then refresh the tables it changed in memory */
static int transact(struct pg_store *st, pg_work_fn *fn, void *ctx, unsigned tables,
		    char **error_r)
{
	int rc;

	pthread_mutex_lock(&st->admin_lock);
	rc = pg_begin(st, error_r);
	if (rc == 0 && (rc = fn(st, ctx, error_r)) == 0)
		rc = pg_commit(st, error_r);
	if (rc != 0)
		pg_rollback(st);
	pthread_mutex_unlock(&st->admin_lock);
	if (rc == 0 && tables != 0)
		pg_thread_changed(st, tables);
	return rc;
}

/* run - one statement, result not needed */
static int run(struct pg_store *st, const char *what, const char *sql, int n,
	       const char *const *p, char **error_r)
{
	PGresult *res = pg_exec(st, what, sql, n, p, error_r);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* changed - rows a statement changed (PQcmdTuples) */
static int changed(struct pg_store *st, const char *what, const char *sql, int n,
		   const char *const *p, char **error_r)
{
	PGresult *res = pg_exec(st, what, sql, n, p, error_r);
	int rows;

	if (res == NULL)
		return -1;
	rows = atoi(PQcmdTuples(res));
	PQclear(res);
	return rows;
}

/* rows - a query's rows to fn (admin_lock held while fn runs); fn
   returning non-zero stops */
static int rows(struct pg_store *st, const char *what, const char *sql, int n,
		const char *const *p, pg_row_fn *fn, void *ctx, char **error_r)
{
	PGresult *res;
	int rc = 0;

	pthread_mutex_lock(&st->admin_lock);
	if ((res = pg_exec(st, what, sql, n, p, error_r)) == NULL) {
		pthread_mutex_unlock(&st->admin_lock);
		return -1;
	}
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = fn(res, i, ctx);
	PQclear(res);
	pthread_mutex_unlock(&st->admin_lock);
	return 0;
}

int pg_transact(struct pg_store *st, pg_work_fn *fn, void *ctx, unsigned tables,
		char **error_r)
{
	return transact(st, fn, ctx, tables, error_r);
}

int pg_rows(struct pg_store *st, const char *what, const char *sql, int n,
	    const char *const *p, pg_row_fn *fn, void *ctx, char **error_r)
{
	return rows(st, what, sql, n, p, fn, ctx, error_r);
}

static const char *value(PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int64_t int_value(PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static void event_init(struct grant_event *ev, const struct ipaddr *addr, unsigned prefix_len,
		       int64_t seen, int64_t expires_at)
{
	struct ipaddr net = *addr;
	unsigned bytes = ipaddr_bits(addr) / 8;

	memset(ev, 0, sizeof *ev);
	ipaddr_mask(&net, prefix_len);
	ipaddr_format(&net, ev->ip);
	snprintf(ev->family, sizeof ev->family, "%d", bytes == 4 ? 4 : 6);
	memcpy(ev->net, "\\x", 2);
	for (unsigned i = 0; i < bytes; i++)
		snprintf(ev->net + 2 + 2 * i, 3, "%02x", net.bytes[i]);
	snprintf(ev->prefix, sizeof ev->prefix, "%u", prefix_len);
	snprintf(ev->seen, sizeof ev->seen, "%lld", (long long)seen);
	snprintf(ev->expires, sizeof ev->expires, "%lld", (long long)expires_at);
}

/* write_event - the grant upserted (unless a revoke) and its grant_log row */
static int write_event(struct pg_store *st, const struct grant_event *ev, char **error_r)
{
	bool revoke = strcmp(ev->event, "revoke") == 0;
	const char *up[8] = { ev->family, ev->net, ev->ip, ev->prefix, ev->username,
			      ev->service, ev->seen, ev->expires };
	const char *log[10] = { ev->event, ev->ip, ev->prefix, ev->username, ev->service,
				ev->seen, revoke ? NULL : ev->expires, ev->source, ev->line,
				ev->session };

	/* PG_GRANT_UPSERT: what the event does to a grant that exists. */
	if (!revoke
	    && run(st, "write grant",
		   "INSERT INTO grants (family, net, ip, prefix_len, username, service, "
		   "first_seen, last_seen, expires_at, logins) "
		   "VALUES ($1, $2::bytea, $3, $4, $5, $6, $7, $7, $8, 1) " PG_GRANT_UPSERT,
		   8, up, error_r) < 0)
		return -1;
	return run(st, "write grant history",
		   "INSERT INTO grant_log (event, ip, prefix_len, username, service, login_time, "
		   "expires_at, source, line, session) "
		   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
		   10, log, error_r);
}

/* ---- loginwatch ---- */

struct logins_write {
	const struct store_login *logins;
	size_t count;
	const struct store_checkpoint *cp;
};

static int logins_write(struct pg_store *st, void *ctx, char **error_r)
{
	const struct logins_write *w = ctx;
	char v[5][24];
	const char *p[7] = { st->host, NULL, v[0], v[1], v[2], v[3], v[4] };
	struct grant_event *evs = calloc(w->count + 1, sizeof *evs);
	int rc;

	if (evs == NULL)
		abort();
	for (size_t i = 0; i < w->count; i++) {
		const struct store_login *l = &w->logins[i];
		struct grant_event *ev = &evs[i];

		event_init(ev, &l->net, l->prefix_len, l->login_time, l->expires_at);
		ev->username = l->username;
		ev->service = l->service;
		ev->event = "login";
		ev->source = l->source;
		ev->line = l->line;
		ev->session = l->session[0] != '\0' ? l->session : NULL;
	}
	rc = pg_logins_write(st, evs, w->count, error_r);
	free(evs);
	if (rc < 0)
		return -1;
	if (w->cp == NULL)
		return 0;
	p[1] = w->cp->source;
	snprintf(v[0], sizeof v[0], "%lld", (long long)(int64_t)w->cp->dev);
	snprintf(v[1], sizeof v[1], "%lld", (long long)(int64_t)w->cp->ino);
	snprintf(v[2], sizeof v[2], "%lld", (long long)(int64_t)w->cp->offset);
	snprintf(v[3], sizeof v[3], "%lld", (long long)(int64_t)w->cp->line_hash);
	snprintf(v[4], sizeof v[4], "%lld",
		 (long long)(w->cp->updated != 0 ? w->cp->updated : (int64_t)time(NULL)));
	return run(st, "write checkpoint",
		   "INSERT INTO loginwatch_checkpoints (host, source, dev, ino, \"offset\", "
		   "line_hash, updated) VALUES ($1, $2, $3, $4, $5, $6, $7) "
		   "ON CONFLICT (host, source) DO UPDATE SET dev = excluded.dev, "
		   "ino = excluded.ino, \"offset\" = excluded.\"offset\", "
		   "line_hash = excluded.line_hash, updated = excluded.updated",
		   7, p, error_r);
}

int pg_logins_apply(struct store *store, const struct store_login *logins, size_t count,
		    const struct store_checkpoint *cp, char **error_r)
{
	struct logins_write w = { logins, count, cp };

	return transact(pg_store(store), logins_write, &w, count > 0 ? PG_T_GRANTS : 0,
			error_r);
}

static int checkpoint_row(PGresult *res, int row, void *ctx)
{
	struct store_checkpoint *cp = ctx;

	cp->dev = (uint64_t)int_value(res, row, 0);
	cp->ino = (uint64_t)int_value(res, row, 1);
	cp->offset = (uint64_t)int_value(res, row, 2);
	cp->line_hash = (uint64_t)int_value(res, row, 3);
	cp->updated = int_value(res, row, 4);
	return 1;
}

enum lookup_result pg_checkpoint_get(struct store *store, const char *source,
				     struct store_checkpoint *cp_r)
{
	struct pg_store *st = pg_store(store);
	const char *p[2] = { st->host, source };
	struct store_checkpoint cp;
	char *error = NULL;

	if (strlen(source) >= sizeof cp_r->source)
		return LOOKUP_NOT_FOUND;	/* could never have been stored */
	memset(&cp, 0, sizeof cp);
	cp.updated = -1;
	if (rows(st, "checkpoint lookup",
		 "SELECT dev, ino, \"offset\", line_hash, updated FROM loginwatch_checkpoints "
		 "WHERE host = $1 AND source = $2", 2, p, checkpoint_row, &cp, &error) < 0) {
		free(error);
		return LOOKUP_ERROR;
	}
	if (cp.updated == -1)
		return LOOKUP_NOT_FOUND;
	snprintf(cp.source, sizeof cp.source, "%s", source);
	*cp_r = cp;
	return LOOKUP_FOUND;
}

/* ---- grants ---- */

struct grant_add {
	struct grant_event ev;
	const char *actor;
	char detail[STORE_USER_MAX + 64];
};

static int grant_add(struct pg_store *st, void *ctx, char **error_r)
{
	struct grant_add *a = ctx;

	if (write_event(st, &a->ev, error_r) < 0)
		return -1;
	return pg_admin_row(st, a->actor, "grant add", a->ev.ip, a->detail, error_r);
}

int pg_grant_add(struct store *store, const struct store_grant *grant, const char *actor,
		 char **error_r)
{
	int64_t seen = grant->first_seen != 0 ? grant->first_seen : (int64_t)time(NULL);
	struct grant_add a;

	event_init(&a.ev, &grant->net, grant->prefix_len, seen, grant->expires_at);
	a.ev.username = grant->username;
	a.ev.service = "manual";
	a.ev.event = "manual";
	a.ev.source = actor;
	a.actor = actor;
	snprintf(a.detail, sizeof a.detail, "prefix=%u user=%s expires=%lld", grant->prefix_len,
		 grant->username, (long long)grant->expires_at);
	return transact(pg_store(store), grant_add, &a, PG_T_GRANTS, error_r);
}

/* pg_row_grant - a row in the column order of pg_view_sql(PG_T_GRANTS) */
int pg_row_grant(PGresult *res, int row, struct store_grant *g)
{
	const char *hex = PQgetvalue(res, row, 1);
	size_t len = strlen(hex) / 2;
	int family = atoi(PQgetvalue(res, row, 0));

	memset(g, 0, sizeof *g);
	if ((family != 4 || len != 4) && (family != 6 || len != 16))
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned byte;

		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return -1;
		g->net.bytes[i] = (uint8_t)byte;
	}
	g->net.family = family == 4 ? AF_INET : AF_INET6;
	g->prefix_len = (unsigned)atoi(PQgetvalue(res, row, 2));
	if (g->prefix_len > len * 8)
		return -1;
	snprintf(g->username, sizeof g->username, "%s", PQgetvalue(res, row, 3));
	snprintf(g->service, sizeof g->service, "%s", PQgetvalue(res, row, 4));
	g->first_seen = int_value(res, row, 5);
	g->last_seen = int_value(res, row, 6);
	g->expires_at = int_value(res, row, 7);
	g->logins = int_value(res, row, 8);
	return 0;
}

struct grants_remove {
	const struct ipaddr *ip;
	const char *actor;
	unsigned removed;
};

/* grants_remove - every grant whose network holds ip, live or expired,
   each logged, and one admin_log row */
static int grants_remove(struct pg_store *st, void *ctx, char **error_r)
{
	struct grants_remove *r = ctx;
	char family[4], text[IPADDR_STRLEN], detail[64];
	const char *p[1] = { family };
	PGresult *res;
	int rc = 0;

	snprintf(family, sizeof family, "%d", ipaddr_bits(r->ip) == 32 ? 4 : 6);
	res = pg_exec(st, "find grant",
		      "SELECT family, encode(net, 'hex'), prefix_len, username, service, "
		      "first_seen, last_seen, expires_at, logins, id FROM grants "
		      "WHERE family = $1 ORDER BY prefix_len FOR UPDATE", 1, p, error_r);
	if (res == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		struct store_grant g;
		struct grant_event ev;
		const char *id[1] = { PQgetvalue(res, i, 9) };

		if (pg_row_grant(res, i, &g) < 0 || !ipaddr_in_prefix(r->ip, &g.net, g.prefix_len))
			continue;
		event_init(&ev, &g.net, g.prefix_len, (int64_t)time(NULL), 0);
		ev.username = g.username;
		ev.service = g.service;
		ev.event = "revoke";
		ev.source = r->actor;
		rc = run(st, "revoke grant", "DELETE FROM grants WHERE id = $1", 1, id, error_r);
		if (rc == 0)
			rc = write_event(st, &ev, error_r);
		r->removed++;
	}
	PQclear(res);
	if (rc != 0)
		return -1;
	ipaddr_format(r->ip, text);
	snprintf(detail, sizeof detail, "removed=%u", r->removed);
	return pg_admin_row(st, r->actor, "grant revoke", text, detail, error_r);
}

int pg_grant_revoke(struct store *store, const struct ipaddr *ip, const char *actor,
		    unsigned *removed_r, char **error_r)
{
	struct grants_remove r = { ip, actor, 0 };

	if (transact(pg_store(store), grants_remove, &r, PG_T_GRANTS, error_r) < 0)
		return -1;
	*removed_r = r.removed;
	return 0;
}

struct grant_list {
	store_grant_cb *cb;
	void *ctx;
};

static int grant_row(PGresult *res, int row, void *ctx)
{
	const struct grant_list *l = ctx;
	struct store_grant g;

	if (pg_row_grant(res, row, &g) < 0)
		return 0;
	return l->cb(&g, l->ctx);
}

int pg_grant_list(struct store *store, int64_t now, store_grant_cb *cb, void *ctx,
		  char **error_r)
{
	struct grant_list l = { cb, ctx };
	char t[24];
	const char *p[1] = { t };

	snprintf(t, sizeof t, "%lld", (long long)now);
	return rows(pg_store(store), "list grants",
		    "SELECT family, encode(net, 'hex'), prefix_len, username, service, first_seen, "
		    "last_seen, expires_at, logins FROM grants WHERE expires_at > $1 "
		    "ORDER BY first_seen, id", 1, p, grant_row, &l, error_r);
}

/* ---- users and senders ---- */

struct user_set {
	const char *username, *actor;
	bool suspended;
};

static int user_set(struct pg_store *st, void *ctx, char **error_r)
{
	const struct user_set *u = ctx;
	char now[24];
	const char *p[3] = { u->username, u->suspended ? "1" : "0", now };

	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	if (run(st, "update user",
		"INSERT INTO users (username, suspended, changed) VALUES ($1, $2, $3) "
		"ON CONFLICT (username) DO UPDATE SET suspended = excluded.suspended, "
		"changed = excluded.changed", 3, p, error_r) < 0)
		return -1;
	return pg_admin_row(st, u->actor, u->suspended ? "user suspend" : "user resume",
			    u->username, "", error_r);
}

int pg_user_set_suspended(struct store *store, const char *username, bool suspended,
			  const char *actor, char **error_r)
{
	struct user_set u = { username, actor, suspended };

	return transact(pg_store(store), user_set, &u, PG_T_USERS, error_r);
}

struct user_list {
	store_user_cb *cb;
	void *ctx;
};

static int user_row(PGresult *res, int row, void *ctx)
{
	const struct user_list *l = ctx;
	struct store_user u;

	memset(&u, 0, sizeof u);
	snprintf(u.username, sizeof u.username, "%s", PQgetvalue(res, row, 0));
	u.suspended = int_value(res, row, 1) != 0;
	u.changed = int_value(res, row, 2);
	u.senders = (unsigned)int_value(res, row, 3);
	return l->cb(&u, l->ctx);
}

int pg_user_list(struct store *store, store_user_cb *cb, void *ctx, char **error_r)
{
	struct user_list l = { cb, ctx };

	return rows(pg_store(store), "list users",
		    "SELECT u.username, u.suspended, u.changed, "
		    "(SELECT count(*) FROM sender_rights s WHERE s.username = u.username) "
		    "FROM users u ORDER BY u.username COLLATE \"C\"", 0, NULL, user_row, &l,
		    error_r);
}

struct sender_change {
	const char *username, *norm, *actor;
	bool allow;
};

static int sender_change(struct pg_store *st, void *ctx, char **error_r)
{
	const struct sender_change *c = ctx;
	char now[24];
	const char *p[3] = { c->username, c->norm, now };
	int n;

	snprintf(now, sizeof now, "%lld", (long long)time(NULL));
	if (c->allow) {
		const char *u[2] = { c->username, now };

		if (run(st, "add user", "INSERT INTO users (username, suspended, changed) "
			"VALUES ($1, 0, $2) ON CONFLICT (username) DO NOTHING", 2, u, error_r) < 0
		    || run(st, "change sender rights",
			   "INSERT INTO sender_rights (username, pattern, added) VALUES ($1, $2, $3) "
			   "ON CONFLICT (username, pattern) DO NOTHING", 3, p, error_r) < 0)
			return -1;
	} else {
		n = changed(st, "change sender rights",
			    "DELETE FROM sender_rights WHERE username = $1 AND pattern = $2", 2, p,
			    error_r);
		if (n < 0)
			return -1;
		if (n == 0)
			return error_r_set(error_r, "user %s has no sender pattern %s", c->username,
					   c->norm);
	}
	return pg_admin_row(st, c->actor, c->allow ? "sender allow" : "sender deny",
			    c->username, c->norm, error_r);
}

/* sender_set - change one (normalised) pattern in a transaction */
static int sender_set(struct store *store, const char *username, const char *pattern,
		      const char *actor, bool allow, char **error_r)
{
	struct sender_change c = { username, pattern, actor, allow };

	return transact(pg_store(store), sender_change, &c, PG_T_SENDERS | PG_T_USERS, error_r);
}

int pg_sender_allow(struct store *store, const char *username, const char *pattern,
		    const char *actor, char **error_r)
{
	return sender_set(store, username, pattern, actor, true, error_r);
}

int pg_sender_deny(struct store *store, const char *username, const char *pattern,
		   const char *actor, char **error_r)
{
	return sender_set(store, username, pattern, actor, false, error_r);
}

struct sender_list {
	store_sender_cb *cb;
	void *ctx;
};

static int sender_row(PGresult *res, int row, void *ctx)
{
	const struct sender_list *l = ctx;

	return l->cb(PQgetvalue(res, row, 0), PQgetvalue(res, row, 1), int_value(res, row, 2),
		     l->ctx);
}

int pg_sender_list(struct store *store, const char *username, store_sender_cb *cb, void *ctx,
		   char **error_r)
{
	struct sender_list l = { cb, ctx };
	const char *p[1] = { username };

	if (username == NULL)
		return rows(pg_store(store), "list sender rights",
			    "SELECT username, pattern, added FROM sender_rights "
			    "ORDER BY username COLLATE \"C\", pattern COLLATE \"C\"", 0, NULL,
			    sender_row, &l, error_r);
	return rows(pg_store(store), "list sender rights",
		    "SELECT username, pattern, added FROM sender_rights WHERE username = $1 "
		    "ORDER BY pattern COLLATE \"C\"", 1, p, sender_row, &l, error_r);
}

/* ---- certificates ---- */

struct cert_add {
	const struct store_cert *cert;
	const char *fpr, *pubfpr, *actor;
};

static int cert_add(struct pg_store *st, void *ctx, char **error_r)
{
	const struct cert_add *a = ctx;
	char not_after[24], added[24];
	const char *p[6] = { a->fpr, a->pubfpr, a->cert->username, a->cert->subject,
			     a->cert->not_after != 0 ? not_after : NULL, added };
	int n;

	snprintf(not_after, sizeof not_after, "%lld", (long long)a->cert->not_after);
	snprintf(added, sizeof added, "%lld",
		 (long long)(a->cert->added != 0 ? a->cert->added : (int64_t)time(NULL)));
	n = changed(st, "add certificate",
		    "INSERT INTO certs (fingerprint, pubkey_fingerprint, username, subject, "
		    "not_after, added) VALUES ($1, $2, $3, $4, $5, $6) "
		    "ON CONFLICT (fingerprint) DO NOTHING", 6, p, error_r);
	if (n < 0)
		return -1;
	if (n == 0)
		return error_r_set(error_r, "certificate %s is already registered", a->fpr);
	return pg_admin_row(st, a->actor, "cert add", a->cert->username, a->fpr, error_r);
}

int pg_cert_add(struct store *store, const struct store_cert *cert, const char *actor,
		char **error_r)
{
	struct cert_add a = { cert, cert->fingerprint, cert->pubkey_fingerprint, actor };

	return transact(pg_store(store), cert_add, &a, PG_T_CERTS, error_r);
}

struct cert_revoke {
	const char *fpr, *actor;
};

static int cert_revoke(struct pg_store *st, void *ctx, char **error_r)
{
	const struct cert_revoke *r = ctx;
	const char *p[1] = { r->fpr };
	PGresult *res;
	int rc = 0, n;

	res = pg_exec(st, "find certificate",
		      "DELETE FROM certs WHERE fingerprint = $1 OR pubkey_fingerprint = $1 "
		      "RETURNING fingerprint, username", 1, p, error_r);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n && rc == 0; i++)
		rc = pg_admin_row(st, r->actor, "cert revoke", PQgetvalue(res, i, 1),
				  PQgetvalue(res, i, 0), error_r);
	PQclear(res);
	if (rc == 0 && n == 0)
		return error_r_set(error_r, "no registered certificate has fingerprint %s", r->fpr);
	return rc;
}

int pg_cert_revoke(struct store *store, const char *fingerprint, const char *actor,
		   char **error_r)
{
	struct cert_revoke r = { fingerprint, actor };

	return transact(pg_store(store), cert_revoke, &r, PG_T_CERTS, error_r);
}

struct cert_list {
	store_cert_cb *cb;
	void *ctx;
};

static int cert_row(PGresult *res, int row, void *ctx)
{
	const struct cert_list *l = ctx;
	struct store_cert c;

	memset(&c, 0, sizeof c);
	snprintf(c.username, sizeof c.username, "%s", PQgetvalue(res, row, 0));
	snprintf(c.fingerprint, sizeof c.fingerprint, "%s", PQgetvalue(res, row, 1));
	snprintf(c.pubkey_fingerprint, sizeof c.pubkey_fingerprint, "%s", PQgetvalue(res, row, 2));
	snprintf(c.subject, sizeof c.subject, "%s", PQgetvalue(res, row, 3));
	c.not_after = PQgetisnull(res, row, 4) ? 0 : int_value(res, row, 4);
	c.added = int_value(res, row, 5);
	return l->cb(&c, l->ctx);
}

int pg_cert_list(struct store *store, store_cert_cb *cb, void *ctx, char **error_r)
{
	struct cert_list l = { cb, ctx };

	return rows(pg_store(store), "list certificates",
		    "SELECT username, fingerprint, pubkey_fingerprint, subject, not_after, added "
		    "FROM certs ORDER BY username COLLATE \"C\", added, fingerprint COLLATE \"C\"",
		    0, NULL, cert_row, &l, error_r);
}

/* ---- audit, prune, admin_log, query ---- */

struct audit_rows {
	store_decision_cb *cb;
	void *ctx;
};

static int audit_row(PGresult *res, int i, void *ctx)
{
	const struct audit_rows *a = ctx;
	struct store_decision_row row;

	row.id = int_value(res, i, 0);
	row.ts = int_value(res, i, 1);
	row.program = value(res, i, 2);
	row.client_ip = value(res, i, 3);
	row.sasl_username = value(res, i, 4);
	row.sender = value(res, i, 5);
	row.recipient = value(res, i, 6);
	row.verdict = value(res, i, 7);
	row.rule = value(res, i, 8);
	row.reason = value(res, i, 9);
	row.queue_id = value(res, i, 10);
	return a->cb(&row, a->ctx);
}

int pg_audit(struct store *store, const struct store_audit_filter *filter,
	     store_decision_cb *cb, void *ctx, char **error_r)
{
	struct audit_rows a = { cb, ctx };
	char sql[512], since[24], limit[24];
	const char *p[5];
	int n = 0;
	size_t len;

	len = (size_t)snprintf(sql, sizeof sql,
			       "SELECT id, ts, program, client_ip, sasl_username, sender, "
			       "recipient, verdict, rule, reason, queue_id FROM decision_log "
			       "WHERE true");
	if (filter->since != 0) {
		snprintf(since, sizeof since, "%lld", (long long)filter->since);
		p[n++] = since;
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND ts >= $%d", n);
	}
	if (filter->username != NULL) {
		p[n++] = filter->username;
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND sasl_username = $%d", n);
	}
	if (filter->ip != NULL) {
		p[n++] = filter->ip;
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND client_ip = $%d", n);
	}
	if (filter->verdict != NULL) {
		p[n++] = filter->verdict;
		len += (size_t)snprintf(sql + len, sizeof sql - len, " AND verdict = $%d", n);
	}
	len += (size_t)snprintf(sql + len, sizeof sql - len, " ORDER BY id DESC");
	if (filter->limit != 0) {
		snprintf(limit, sizeof limit, "%u", filter->limit);
		p[n++] = limit;
		snprintf(sql + len, sizeof sql - len, " LIMIT $%d", n);
	}
	return rows(pg_store(store), "audit", sql, n, p, audit_row, &a, error_r);
}

/* pg_prune_batch - one batch of one table in its own transaction; rows
   or -1 */
int pg_prune_batch(struct store *store, enum store_prune_table table, int64_t before,
		   unsigned batch, char **error_r)
{
	static const char *const sql[STORE_PRUNE_TABLES] = {
		[STORE_PRUNE_DECISIONS] = "DELETE FROM decision_log WHERE id IN "
					  "(SELECT id FROM decision_log WHERE ts < $1 LIMIT $2)",
		[STORE_PRUNE_GRANTS] = "DELETE FROM grants WHERE id IN "
				       "(SELECT id FROM grants WHERE expires_at < $1 LIMIT $2)",
		/* Refusals go with the audit; counters with their window: a
		   bucket twice its window old counts for nothing ($1 is not
		   used by that one), as on SQLite. */
		[STORE_PRUNE_LIMIT_REFUSALS] = "DELETE FROM limit_refusals WHERE id IN "
					       "(SELECT id FROM limit_refusals WHERE ts < $1 LIMIT $2)",
		[STORE_PRUNE_LIMIT_COUNTS] =
			"DELETE FROM limit_counts WHERE (subject, kind, window_seconds, bucket) IN "
			"(SELECT subject, kind, window_seconds, bucket FROM limit_counts "
			"WHERE bucket + 2 * window_seconds < extract(epoch FROM now())::bigint "
			"AND $1::bigint IS NOT NULL LIMIT $2)",
	};
	struct pg_store *st = pg_store(store);
	char b[24], lim[24];
	const char *p[2] = { b, lim };
	int n;

	if (sql[table] == NULL)
		return 0;
	snprintf(b, sizeof b, "%lld", (long long)before);
	snprintf(lim, sizeof lim, "%u", batch);
	pthread_mutex_lock(&st->admin_lock);
	n = changed(st, "prune", sql[table], 2, p, error_r);
	pthread_mutex_unlock(&st->admin_lock);
	return n;
}

/* total_row - the one number of a count query */
static int total_row(PGresult *res, int row, void *ctx)
{
	*(uint64_t *)ctx = (uint64_t)int_value(res, row, 0);
	return 0;
}

/* pg_prune_count - rows pg_prune_batch will delete from table, for the
   progress line: 0 when they cannot be counted (the count is only for
   the line) */
uint64_t pg_prune_count(struct store *store, enum store_prune_table table, int64_t before)
{
	static const char *const sql[STORE_PRUNE_TABLES] = {
		[STORE_PRUNE_DECISIONS] = "SELECT count(*) FROM decision_log WHERE ts < $1",
		[STORE_PRUNE_GRANTS] = "SELECT count(*) FROM grants WHERE expires_at < $1",
	};
	char b[24];
	const char *p[1] = { b };
	uint64_t total = 0;
	char *error = NULL;

	if (sql[table] == NULL)
		return 0;
	snprintf(b, sizeof b, "%lld", (long long)before);
	if (rows(pg_store(store), "prune", sql[table], 1, p, total_row, &total, &error) < 0) {
		free(error);
		return 0;
	}
	return total;
}

int pg_admin_log(struct store *store, const char *actor, const char *action,
		 const char *subject, const char *detail, char **error_r)
{
	struct pg_store *st = pg_store(store);
	int rc;

	pthread_mutex_lock(&st->admin_lock);
	rc = pg_admin_row(st, actor, action, subject, detail, error_r);
	pthread_mutex_unlock(&st->admin_lock);
	return rc;
}

int pg_query(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
	     char **error_r)
{
	struct pg_store *st = pg_store(store);
	PGresult *res;
	int rc = 0;

	pthread_mutex_lock(&st->admin_lock);
	/* Read-only, whatever the text says. */
	if (run(st, "query", "BEGIN READ ONLY", 0, NULL, error_r) < 0) {
		pthread_mutex_unlock(&st->admin_lock);
		return -1;
	}
	if ((res = pg_exec(st, "query", sql, 0, NULL, error_r)) == NULL) {
		pg_rollback(st);
		pthread_mutex_unlock(&st->admin_lock);
		return -1;
	}
	int ncols = PQnfields(res);
	const char **names = calloc((size_t)ncols + 1, sizeof *names);
	const char **values = calloc((size_t)ncols + 1, sizeof *values);

	if (names == NULL || values == NULL)
		abort();
	for (int c = 0; c < ncols; c++)
		names[c] = PQfname(res, c);
	for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
		for (int c = 0; c < ncols; c++)
			values[c] = value(res, r, c);
		rc = cb(ncols, names, values, ctx);
	}
	free(names);
	free(values);
	PQclear(res);
	pg_rollback(st);
	pthread_mutex_unlock(&st->admin_lock);
	return 0;
}

/* pg_query_text - the named queries in PostgreSQL's SQL: sql/pgsql/
   audit.sql, and sql/report.sql, which is written in SQL both read */
const char *pg_query_text(enum store_query_set set)
{
	switch (set) {
	case STORE_QUERIES_AUDIT:
		return sql_pg_audit_text;
	case STORE_QUERIES_REPORT:
		return sql_report_text;
	}
	return NULL;
}

/*
 * NAME
 *	store_sqlite_grants 3
 * SUMMARY
 *	SQLite backend: relay grants and loginwatch checkpoints
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	A grant is keyed by its masked network and prefix length. Looking
 *	up a client address walks the prefix lengths in use for its family
 *	(one index seek each; normally one or two lengths, more only while
 *	grant_ipv6_prefix changes are still live), masks the address to each
 *	and probes the unique (net, prefix_len) index. IPv4 grants are /32,
 *	so IPv4 is an exact match; the same walk serves both families.
 *
 *	Every grant written or removed also appends a grant_log row
 *	(grant_history view) in the same transaction.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <sqlite3.h>

#include "store_sqlite.h"

/* The longest text in a grant_log "source" for manual grants. */
#define ACTOR_SOURCE_MAX 300

/* family_code - 4 or 6 for the schema's family column */
static int family_code(const struct ipaddr *ip)
{
	return ipaddr_bits(ip) == 32 ? 4 : 6;
}

/* bind_net - bind the masked network bytes; like sq_bind_text(), not
   copied (net outlives the step: every caller steps and resets before
   it goes), which saves a malloc() and free() per grant lookup */
static void bind_net(sqlite3_stmt *stmt, int idx, const struct ipaddr *net)
{
	sqlite3_bind_blob(stmt, idx, net->bytes, ipaddr_bits(net) / 8, SQLITE_STATIC);
}

/* row_to_grant - copy a grants row (GET/LIST column order) */
static void row_to_grant(sqlite3_stmt *stmt, struct store_grant *g)
{
	const void *blob = sqlite3_column_blob(stmt, 1);
	int len = sqlite3_column_bytes(stmt, 1);

	memset(g, 0, sizeof *g);
	if (blob != NULL && (len == 4 || len == 16)) {
		g->net.family = len == 4 ? AF_INET : AF_INET6;
		memcpy(g->net.bytes, blob, (size_t)len);
	}
	g->prefix_len = (unsigned)sqlite3_column_int(stmt, 2);
	sq_column_copy(stmt, 3, g->username, sizeof g->username);
	sq_column_copy(stmt, 4, g->service, sizeof g->service);
	g->first_seen = sqlite3_column_int64(stmt, 5);
	g->last_seen = sqlite3_column_int64(stmt, 6);
	g->expires_at = sqlite3_column_int64(stmt, 7);
	g->logins = sqlite3_column_int64(stmt, 8);
}

/* next_prefix - the next prefix length in use above after; 1 found,
   0 none, -1 error */
static int next_prefix(struct sq_conn *conn, int family, int after, unsigned *len_r)
{
	sqlite3_stmt *stmt = sq_stmt(conn, SQ_GRANT_PREFIX_NEXT);
	int rc, res = -1;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, family);
	sqlite3_bind_int(stmt, 2, after);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(stmt, 0) == SQLITE_NULL) {
			res = 0;
		} else {
			*len_r = (unsigned)sqlite3_column_int(stmt, 0);
			res = 1;
		}
	}
	sqlite3_reset(stmt);
	return res;
}

/* find_grant - the grant for ip under one prefix length; live_at < 0:
   expired ones too. Returns 1 found, 0 not, -1 error; *id_r its row. */
static int find_grant(struct sq_conn *conn, const struct ipaddr *ip, unsigned len,
		      int64_t live_at, struct store_grant *g, int64_t *id_r)
{
	struct ipaddr net = *ip;
	sqlite3_stmt *stmt;
	int rc, res;

	ipaddr_mask(&net, len);
	stmt = sq_stmt(conn, live_at >= 0 ? SQ_GRANT_GET_LIVE : SQ_GRANT_GET_ANY);
	if (stmt == NULL)
		return -1;
	bind_net(stmt, 1, &net);
	sqlite3_bind_int(stmt, 2, (int)len);
	if (live_at >= 0)
		sqlite3_bind_int64(stmt, 3, live_at);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		row_to_grant(stmt, g);
		*id_r = sqlite3_column_int64(stmt, 9);
		res = 1;
	} else {
		res = rc == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_reset(stmt);
	return res;
}

/* probe - find_grant under each of lens in turn: 1 found, 0 not, -1 */
static int probe(struct sq_conn *conn, const struct ipaddr *ip, const unsigned char *lens,
		 unsigned count, int64_t now, struct store_grant *g)
{
	int64_t id;
	int res = 0;

	for (unsigned i = 0; i < count && res == 0; i++)
		res = find_grant(conn, ip, lens[i], now < 0 ? 0 : now, g, &id);
	return res;
}

/* prefixes_read - the prefix lengths in use for ip's family, ascending
   (at most PREFIX_LENGTHS_MAX); 0 or -1 */
static int prefixes_read(struct sq_conn *conn, const struct ipaddr *ip, unsigned char *lens,
			 unsigned *count_r)
{
	int after = -1;
	unsigned len;

	*count_r = 0;
	while (*count_r < PREFIX_LENGTHS_MAX) {
		int more = next_prefix(conn, family_code(ip), after, &len);

		if (more <= 0)
			return more;
		lens[(*count_r)++] = (unsigned char)len;
		after = (int)len;
	}
	return 0;
}

/* lookup_walk - probe each prefix length in use as it is found, stopping
   at the first grant (prefixes_read would ask for every length first) */
static int lookup_walk(struct sq_conn *conn, const struct ipaddr *ip, int64_t now,
		       struct store_grant *g)
{
	int after = -1, res = 0;
	unsigned len;
	int64_t id;

	/* At most PREFIX_LENGTHS_MAX lengths per family: bounded. */
	while (res == 0) {
		int more = next_prefix(conn, family_code(ip), after, &len);

		if (more <= 0)
			return more;
		res = find_grant(conn, ip, len, now < 0 ? 0 : now, g, &id);
		after = (int)len;
	}
	return res;
}

/* data_version - the connection's SQLite data version: changed by every
   commit, from any connection, seen when a read transaction starts */
static int data_version(struct sq_conn *conn, unsigned *version_r)
{
	return sqlite3_file_control(conn->db, "main", SQLITE_FCNTL_DATA_VERSION, version_r)
		       == SQLITE_OK ? 0 : -1;
}

/* lookup_snapshot - inside a read snapshot, the prefix lengths in use are
   remembered with the data version they were read at: while nothing has
   been written since (any commit changes the version), a lookup is one
   probe per length instead of reading them again first. The version is
   read only after a statement of this lookup ran, so it is the
   snapshot's own. */
static int lookup_snapshot(struct sq_store *st, const struct ipaddr *ip, int64_t now,
			   struct store_grant *g)
{
	struct sq_prefixes *pc = &st->prefixes[family_code(ip) == 4 ? 0 : 1];
	unsigned version;
	int res;

	if (pc->valid && pc->count > 0) {
		res = probe(&st->main, ip, pc->len, pc->count, now, g);
		if (res < 0)
			return -1;
		if (data_version(&st->main, &version) == 0 && version == pc->version)
			return res;
	}
	pc->valid = false;
	if (prefixes_read(&st->main, ip, pc->len, &pc->count) < 0)
		return -1;
	pc->valid = data_version(&st->main, &pc->version) == 0;
	return probe(&st->main, ip, pc->len, pc->count, now, g);
}

enum lookup_result sq_grant_lookup(struct store *store, const struct ipaddr *ip, int64_t now,
				   struct store_grant *grant_r)
{
	struct sq_store *st = sq_store(store);
	struct store_grant g;
	int res;

	sq_lock(st);
	if (sq_lookup_moved(st))
		res = -1;
	else if (st->snapshot && !sqlite3_get_autocommit(st->main.db))
		res = lookup_snapshot(st, ip, now, &g);
	else
		res = lookup_walk(&st->main, ip, now, &g);
	if (res < 0) {
		enum lookup_result err = sq_lookup_failed(st, "grant lookup");

		sq_unlock(st);
		return err;
	}
	sq_unlock(st);
	if (res == 0)
		return LOOKUP_NOT_FOUND;
	if (grant_r != NULL)
		*grant_r = g;
	return LOOKUP_FOUND;
}

/* One grant event: the grants row it upserts (not for a revoke) and its
   grant_log row. Text is bound SQLITE_STATIC: it must outlive the step. */
struct grant_event {
	struct ipaddr net;		/* masked to prefix_len */
	char text[IPADDR_STRLEN];	/* net in RFC 5952 text */
	unsigned prefix_len;
	const char *username, *service;
	int64_t seen, expires_at;	/* a revoke has no expiry (NULL) */
	const char *event, *source, *line;
	const char *session;		/* NULL: none */
};

/* event_init - the masked network and its text for an event */
static void event_init(struct grant_event *ev, const struct ipaddr *addr, unsigned prefix_len)
{
	memset(ev, 0, sizeof *ev);
	ev->net = *addr;
	ev->prefix_len = prefix_len;
	ipaddr_mask(&ev->net, prefix_len);
	ipaddr_format(&ev->net, ev->text);
}

/* bind_grant_row - GRANT_ROW's values from parameter first on */
static void bind_grant_row(sqlite3_stmt *stmt, int first, const struct grant_event *ev)
{
	sqlite3_bind_int(stmt, first, family_code(&ev->net));
	bind_net(stmt, first + 1, &ev->net);
	sq_bind_text(stmt, first + 2, ev->text);
	sqlite3_bind_int(stmt, first + 3, (int)ev->prefix_len);
	sq_bind_text(stmt, first + 4, ev->username);
	sq_bind_text(stmt, first + 5, ev->service);
	sqlite3_bind_int64(stmt, first + 6, ev->seen);
	sqlite3_bind_int64(stmt, first + 7, ev->seen);
	sqlite3_bind_int64(stmt, first + 8, ev->expires_at);
}

/* bind_log_row - GRANT_LOG_ROW's values from parameter first on */
static void bind_log_row(sqlite3_stmt *stmt, int first, const struct grant_event *ev)
{
	sq_bind_text(stmt, first, ev->event);
	sq_bind_text(stmt, first + 1, ev->text);
	sqlite3_bind_int(stmt, first + 2, (int)ev->prefix_len);
	sq_bind_text(stmt, first + 3, ev->username);
	sq_bind_text(stmt, first + 4, ev->service);
	sqlite3_bind_int64(stmt, first + 5, ev->seen);
	if (strcmp(ev->event, "revoke") != 0)
		sqlite3_bind_int64(stmt, first + 6, ev->expires_at);
	sq_bind_text(stmt, first + 7, ev->source);
	sq_bind_text(stmt, first + 8, ev->line);
	if (ev->session != NULL)
		sq_bind_text(stmt, first + 9, ev->session);
	else
		sqlite3_bind_null(stmt, first + 9);
}

/* write_events - n events (1, or SQ_LOGIN_ROWS with the _MANY
   statements): each grant upserted (unless a revoke) and logged */
static int write_events(struct sq_conn *conn, const struct grant_event *ev, int n,
			char **error_r)
{
	bool many = n > 1;
	sqlite3_stmt *stmt;

	if (strcmp(ev->event, "revoke") != 0) {
		if ((stmt = sq_stmt(conn, many ? SQ_GRANT_UPSERT_MANY : SQ_GRANT_UPSERT)) == NULL)
			return sq_fail(conn, error_r, "write grant");
		for (int i = 0; i < n; i++)
			bind_grant_row(stmt, 1 + 9 * i, &ev[i]);
		if (sq_step_done(conn, stmt, "write grant", error_r) < 0)
			return -1;
	}
	if ((stmt = sq_stmt(conn, many ? SQ_GRANT_LOG_MANY : SQ_GRANT_LOG)) == NULL)
		return sq_fail(conn, error_r, "write grant history");
	for (int i = 0; i < n; i++)
		bind_log_row(stmt, 1 + 10 * i, &ev[i]);
	return sq_step_done(conn, stmt, "write grant history", error_r);
}

/* put_checkpoint - store where a source was read up to */
static int put_checkpoint(struct sq_conn *conn, const struct store_checkpoint *cp,
			  char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = sq_stmt(conn, SQ_CHECKPOINT_PUT)) == NULL)
		return sq_fail(conn, error_r, "write checkpoint");
	sq_bind_text(stmt, 1, cp->source);
	/* Unsigned 64-bit values kept bit for bit in a signed column. */
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)cp->dev);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)cp->ino);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)cp->offset);
	sqlite3_bind_int64(stmt, 5, (sqlite3_int64)cp->line_hash);
	sqlite3_bind_int64(stmt, 6, cp->updated != 0 ? cp->updated : (int64_t)time(NULL));
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(conn, error_r, "write checkpoint");
	return 0;
}

/* What logins_write writes. */
struct logins_write {
	const struct store_login *logins;
	size_t count;
	const struct store_checkpoint *cp;
};

/* session_seen - 1 when grant_log holds (session, ip): this login was
   counted before; 0 when not; -1 on error */
static int session_seen(struct sq_conn *conn, const struct grant_event *ev, char **error_r)
{
	sqlite3_stmt *stmt;
	int rc;

	if ((stmt = sq_stmt(conn, SQ_GRANT_LOG_SESSION)) == NULL)
		return sq_fail(conn, error_r, "look up a login's session");
	sq_bind_text(stmt, 1, ev->session);
	sq_bind_text(stmt, 2, ev->text);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return sq_fail(conn, error_r, "look up a login's session");
	return 0;
}

/* same_session - ev repeats the session of one of the n events before it */
static bool same_session(const struct grant_event *ev, const struct grant_event *before, int n)
{
	for (int k = 0; k < n; k++)
		if (before[k].session != NULL && strcmp(before[k].session, ev->session) == 0
		    && strcmp(before[k].text, ev->text) == 0)
			return true;
	return false;
}

/* logins_write - each login's grant and grant_log row, then the checkpoint */
static int logins_write(struct sq_conn *conn, void *ctx, char **error_r)
{
	const struct logins_write *w = ctx;

	/* SQ_LOGIN_ROWS at a time while that many are left, then one by one;
	   a chunk that lost a login already counted is written one by one. */
	for (size_t i = 0; i < w->count;) {
		struct grant_event ev[SQ_LOGIN_ROWS];
		int n = w->count - i >= SQ_LOGIN_ROWS ? SQ_LOGIN_ROWS : 1, kept = 0;

		for (int k = 0; k < n; k++) {
			const struct store_login *l = &w->logins[i + (size_t)k];
			struct grant_event *e = &ev[kept];
			int seen = 0;

			event_init(e, &l->net, l->prefix_len);
			e->username = l->username;
			e->service = l->service;
			e->seen = l->login_time;
			e->expires_at = l->expires_at;
			e->event = "login";
			e->source = l->source;
			e->line = l->line;
			e->session = l->session[0] != 0 ? l->session : NULL;
			if (e->session != NULL
			    && (same_session(e, ev, kept) || (seen = session_seen(conn, e, error_r)) != 0)) {
				if (seen < 0)
					return -1;
				continue;
			}
			kept++;
		}
		if (kept == SQ_LOGIN_ROWS) {
			if (write_events(conn, ev, kept, error_r) < 0)
				return -1;
		} else {
			for (int k = 0; k < kept; k++)
				if (write_events(conn, &ev[k], 1, error_r) < 0)
					return -1;
		}
		i += (size_t)n;
	}
	if (w->cp != NULL)
		return put_checkpoint(conn, w->cp, error_r);
	return 0;
}

int sq_logins_apply(struct store *store, const struct store_login *logins, size_t count,
		    const struct store_checkpoint *cp, char **error_r)
{
	struct logins_write w = { logins, count, cp };

	return sq_transact(sq_store(store), logins_write, &w, error_r);
}

enum lookup_result sq_checkpoint_get(struct store *store, const char *source,
				     struct store_checkpoint *cp_r)
{
	struct sq_store *st = sq_store(store);
	enum lookup_result res;
	sqlite3_stmt *stmt;
	int rc;

	if (strlen(source) >= sizeof cp_r->source)
		return LOOKUP_NOT_FOUND;	/* could never have been stored */
	sq_lock(st);
	if ((stmt = sq_stmt(&st->main, SQ_CHECKPOINT_GET)) == NULL) {
		res = sq_lookup_failed(st, "checkpoint lookup");
		sq_unlock(st);
		return res;
	}
	sq_bind_text(stmt, 1, source);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		memset(cp_r, 0, sizeof *cp_r);
		snprintf(cp_r->source, sizeof cp_r->source, "%s", source);
		cp_r->dev = (uint64_t)sqlite3_column_int64(stmt, 0);
		cp_r->ino = (uint64_t)sqlite3_column_int64(stmt, 1);
		cp_r->offset = (uint64_t)sqlite3_column_int64(stmt, 2);
		cp_r->line_hash = (uint64_t)sqlite3_column_int64(stmt, 3);
		cp_r->updated = sqlite3_column_int64(stmt, 4);
		res = LOOKUP_FOUND;
	} else if (rc == SQLITE_DONE) {
		res = LOOKUP_NOT_FOUND;
	} else {
		res = sq_lookup_failed(st, "checkpoint lookup");
	}
	sqlite3_reset(stmt);
	sq_unlock(st);
	return res;
}

/* What grant_write writes. */
struct grant_write {
	const struct grant_event *ev;
	const char *actor, *detail;
};

/* grant_write - the manual grant, its grant_log and admin_log rows */
static int grant_write(struct sq_conn *conn, void *ctx, char **error_r)
{
	const struct grant_write *w = ctx;

	if (write_events(conn, w->ev, 1, error_r) < 0)
		return -1;
	return sq_admin_row(conn, w->actor, "grant add", w->ev->text, w->detail, error_r);
}

int sq_grant_add(struct store *store, const struct store_grant *grant, const char *actor,
		 char **error_r)
{
	char detail[STORE_USER_MAX + 64], source[ACTOR_SOURCE_MAX];
	int64_t seen = grant->first_seen != 0 ? grant->first_seen : (int64_t)time(NULL);
	struct grant_event ev;
	struct grant_write w = { &ev, actor, detail };

	snprintf(detail, sizeof detail, "prefix=%u user=%s expires=%lld", grant->prefix_len,
		 grant->username, (long long)grant->expires_at);
	snprintf(source, sizeof source, "%s", actor);
	event_init(&ev, &grant->net, grant->prefix_len);
	ev.username = grant->username;
	ev.service = "manual";
	ev.seen = seen;
	ev.expires_at = grant->expires_at;
	ev.event = "manual";
	ev.source = source;
	ev.line = NULL;
	return sq_transact(sq_store(store), grant_write, &w, error_r);
}

/* remove_one - delete a grant row and record the revoke */
static int remove_one(struct sq_conn *conn, const struct store_grant *g, int64_t id,
		      const char *actor, char **error_r)
{
	struct grant_event ev;
	sqlite3_stmt *stmt;

	if ((stmt = sq_stmt(conn, SQ_GRANT_DELETE)) == NULL)
		return sq_fail(conn, error_r, "revoke grant");
	sqlite3_bind_int64(stmt, 1, id);
	if (sq_step_done(conn, stmt, "revoke grant", error_r) < 0)
		return -1;
	event_init(&ev, &g->net, g->prefix_len);
	ev.username = g->username;
	ev.service = g->service;
	ev.seen = (int64_t)time(NULL);
	ev.event = "revoke";
	ev.source = actor;
	ev.line = NULL;
	return write_events(conn, &ev, 1, error_r);
}

/* What grants_remove removes, and how many it did. */
struct grants_remove {
	const struct ipaddr *ip;
	const char *actor;
	unsigned removed;
};

/* grants_remove - every grant whose network holds ip, live or expired,
   each logged, and one admin_log row */
static int grants_remove(struct sq_conn *conn, void *ctx, char **error_r)
{
	struct grants_remove *r = ctx;
	char text[IPADDR_STRLEN], detail[64];
	struct store_grant g;
	unsigned len;
	int after = -1, more;
	int64_t id;

	/* Every prefix length in use. */
	while ((more = next_prefix(conn, family_code(r->ip), after, &len)) > 0) {
		int found = find_grant(conn, r->ip, len, -1, &g, &id);

		if (found < 0)
			return sq_fail(conn, error_r, "find grant");
		if (found > 0) {
			if (remove_one(conn, &g, id, r->actor, error_r) < 0)
				return -1;
			r->removed++;
		}
		after = (int)len;
	}
	if (more < 0)
		return sq_fail(conn, error_r, "find grant");
	ipaddr_format(r->ip, text);
	snprintf(detail, sizeof detail, "removed=%u", r->removed);
	return sq_admin_row(conn, r->actor, "grant revoke", text, detail, error_r);
}

int sq_grant_revoke(struct store *store, const struct ipaddr *ip, const char *actor,
		    unsigned *removed_r, char **error_r)
{
	struct grants_remove r = { ip, actor, 0 };

	if (sq_transact(sq_store(store), grants_remove, &r, error_r) < 0)
		return -1;
	*removed_r = r.removed;
	return 0;
}

/* The caller's callback and time for sq_grant_list(). */
struct grant_list {
	int64_t now;
	store_grant_cb *cb;
	void *ctx;
};

/* grant_bind - live at now */
static void grant_bind(sqlite3_stmt *stmt, void *ctx)
{
	const struct grant_list *l = ctx;

	sqlite3_bind_int64(stmt, 1, l->now);
}

/* grant_row - one SQ_GRANT_LIST row to the callback */
static int grant_row(sqlite3_stmt *stmt, void *ctx)
{
	const struct grant_list *l = ctx;
	struct store_grant g;

	row_to_grant(stmt, &g);
	return l->cb(&g, l->ctx);
}

int sq_grant_list(struct store *store, int64_t now, store_grant_cb *cb, void *ctx,
		  char **error_r)
{
	struct grant_list l = { now, cb, ctx };

	return sq_list(sq_store(store), SQ_GRANT_LIST, "list grants", grant_bind, grant_row, &l,
		       error_r);
}

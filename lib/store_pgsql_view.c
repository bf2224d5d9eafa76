/*
 * NAME
 *	store_pgsql_view 3
 * SUMMARY
 *	PostgreSQL backend: the tables the enforcers ask about, in memory
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	Five sorted arrays, each replaced whole when the view thread
 *	reloads its table (the old one is freed under the store's lock, so
 *	a lookup never sees a half-built one):
 *	  grants   live grants by (family, prefix length, masked network),
 *	           with the prefix lengths in use per family: a lookup
 *	           masks the client address to each length and searches,
 *	           as the SQLite backend probes its unique index;
 *	  users    the suspended user names;
 *	  senders  (user, pattern) pairs: ownership is answered with the
 *	           same three candidates as SQLite's (the address without
 *	           its +tag, "@" and its domain, "*");
 *	  certs    fingerprint -> user, both kinds of fingerprint;
 *	  limits   (subject, kind) -> spec: the limit_rules rows, so that
 *	           the rules of a limited user are found without a round
 *	           trip (the counters are not here: store_pgsql_limits.c).
 *	Every lookup is a binary search under st->lock; none touches the
 *	network. While the view may not be used (store_pgsql.h: a lost
 *	connection past database_stale_grace), a lookup is LOOKUP_ERROR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libpq-fe.h>

#include "store_pgsql.h"

struct vgrant {
	int family;		/* 4 or 6 */
	unsigned prefix;
	uint8_t net[16];
	struct store_grant g;
};

struct vpair {			/* users: b NULL; limits: c the spec */
	char *a, *b, *c;
};

struct vtable {
	size_t n;
	struct vgrant *grants;	/* PG_T_GRANTS */
	struct vpair *pairs;	/* the others */
	unsigned char lens[2][129];	/* PG_T_GRANTS: lengths in use, ascending */
	unsigned nlens[2];
};

struct pg_view {
	struct vtable *t[5];	/* by PG_T_* bit number */
};

static unsigned table_index(unsigned table)
{
	return table == PG_T_GRANTS ? 0 : table == PG_T_USERS ? 1 : table == PG_T_SENDERS ? 2
	       : table == PG_T_CERTS ? 3 : 4;
}

const char *pg_view_sql(unsigned table)
{
	switch (table) {
	case PG_T_GRANTS:
		/* Expired rows are never an answer; prune removes them. */
		return "SELECT family, encode(net, 'hex'), prefix_len, username, service, "
		       "first_seen, last_seen, expires_at, logins FROM grants "
		       "WHERE expires_at > extract(epoch FROM now())::bigint";
	case PG_T_USERS:
		return "SELECT username, NULL FROM users WHERE suspended <> 0";
	case PG_T_SENDERS:
		return "SELECT username, pattern FROM sender_rights";
	case PG_T_LIMITS:
		return "SELECT subject, kind, spec FROM limit_rules";
	default:
		return "SELECT fingerprint, username FROM certs UNION ALL "
		       "SELECT pubkey_fingerprint, username FROM certs WHERE pubkey_fingerprint <> ''";
	}
}

static void vtable_free(struct vtable *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; t->pairs != NULL && i < t->n; i++) {
		free(t->pairs[i].a);
		free(t->pairs[i].b);
		free(t->pairs[i].c);
	}
	free(t->pairs);
	free(t->grants);
	free(t);
}

void pg_view_free(struct pg_view *view)
{
	if (view == NULL)
		return;
	for (int i = 0; i < 5; i++)
		vtable_free(view->t[i]);
	free(view);
}

static int grant_cmp(const void *x, const void *y)
{
	const struct vgrant *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return memcmp(a->net, b->net, 16);
}

static int pair_cmp(const void *x, const void *y)
{
	const struct vpair *a = x, *b = y;
	int c = strcmp(a->a, b->a);

	if (c != 0 || a->b == NULL || b->b == NULL)
		return c;
	return strcmp(a->b, b->b);
}

/* grant_parse - one row of the grants query, with its search key */
static int grant_parse(PGresult *res, int row, struct vgrant *v)
{
	memset(v, 0, sizeof *v);
	if (pg_row_grant(res, row, &v->g) < 0)
		return -1;
	v->family = v->g.net.family == AF_INET ? 4 : 6;
	v->prefix = v->g.prefix_len;
	memcpy(v->net, v->g.net.bytes, v->family == 4 ? 4 : 16);
	return 0;
}

/* grants_build - the sorted grants and the prefix lengths in use */
static int grants_build(struct vtable *t, PGresult *res)
{
	bool seen[2][129];

	memset(seen, 0, sizeof seen);
	if ((t->grants = calloc(t->n + 1, sizeof *t->grants)) == NULL)
		abort();
	for (size_t i = 0; i < t->n; i++) {
		if (grant_parse(res, (int)i, &t->grants[i]) < 0)
			return -1;
		seen[t->grants[i].family == 4 ? 0 : 1][t->grants[i].prefix] = true;
	}
	qsort(t->grants, t->n, sizeof *t->grants, grant_cmp);
	for (int f = 0; f < 2; f++)
		for (unsigned len = 0; len <= 128; len++)
			if (seen[f][len])
				t->lens[f][t->nlens[f]++] = (unsigned char)len;
	return 0;
}

/* pairs_build - sorted (a, b) text pairs; users have no b; a third
   column (limits' spec) is carried along as c */
static void pairs_build(struct vtable *t, PGresult *res, bool second)
{
	bool third = PQnfields(res) > 2;

	if ((t->pairs = calloc(t->n + 1, sizeof *t->pairs)) == NULL)
		abort();
	for (size_t i = 0; i < t->n; i++) {
		t->pairs[i].a = strdup(PQgetvalue(res, (int)i, 0));
		t->pairs[i].b = second ? strdup(PQgetvalue(res, (int)i, 1)) : NULL;
		t->pairs[i].c = third ? strdup(PQgetvalue(res, (int)i, 2)) : NULL;
		if (t->pairs[i].a == NULL || (second && t->pairs[i].b == NULL)
		    || (third && t->pairs[i].c == NULL))
			abort();
	}
	qsort(t->pairs, t->n, sizeof *t->pairs, pair_cmp);
}

int pg_view_replace(struct pg_view **view, unsigned table, PGresult *res)
{
	struct vtable *t = calloc(1, sizeof *t);
	unsigned idx = table_index(table);

	if (t == NULL || (*view == NULL && (*view = calloc(1, sizeof **view)) == NULL))
		abort();
	t->n = (size_t)PQntuples(res);
	if (table == PG_T_GRANTS) {
		if (grants_build(t, res) < 0) {
			vtable_free(t);
			return -1;
		}
	} else {
		pairs_build(t, res, table != PG_T_USERS);
	}
	vtable_free((*view)->t[idx]);
	(*view)->t[idx] = t;
	return 0;
}

void pg_view_move(struct pg_view **into, struct pg_view *from, unsigned tables)
{
	if (from == NULL)
		return;
	if (*into == NULL && (*into = calloc(1, sizeof **into)) == NULL)
		abort();
	for (unsigned t = PG_T_GRANTS; t <= PG_T_LIMITS; t <<= 1) {
		unsigned i = table_index(t);
		struct vtable *old = (*into)->t[i];

		if (!(tables & t))
			continue;
		(*into)->t[i] = from->t[i];
		from->t[i] = old;
	}
}

/* table_of - the loaded table, or NULL */
static const struct vtable *table_of(const struct pg_store *st, unsigned table)
{
	return st->view != NULL ? st->view->t[table_index(table)] : NULL;
}

enum lookup_result pg_grant_lookup(struct store *store, const struct ipaddr *ip, int64_t now,
				   struct store_grant *grant_r)
{
	struct pg_store *st = pg_store(store);
	enum lookup_result res = LOOKUP_NOT_FOUND;
	const struct vtable *t;
	struct vgrant key;
	int f = ipaddr_bits(ip) == 32 ? 0 : 1;

	pthread_mutex_lock(&st->lock);
	if (!pg_view_usable(st) || (t = table_of(st, PG_T_GRANTS)) == NULL) {
		pthread_mutex_unlock(&st->lock);
		return LOOKUP_ERROR;
	}
	/* Ascending lengths, the first live grant: as the SQLite walk. */
	for (unsigned i = 0; i < t->nlens[f] && res == LOOKUP_NOT_FOUND; i++) {
		struct ipaddr net = *ip;
		const struct vgrant *hit;

		ipaddr_mask(&net, t->lens[f][i]);
		memset(&key, 0, sizeof key);
		key.family = f == 0 ? 4 : 6;
		key.prefix = t->lens[f][i];
		memcpy(key.net, net.bytes, f == 0 ? 4 : 16);
		hit = bsearch(&key, t->grants, t->n, sizeof *t->grants, grant_cmp);
		if (hit != NULL && hit->g.expires_at > now) {
			if (grant_r != NULL)
				*grant_r = hit->g;
			res = LOOKUP_FOUND;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return res;
}

/* pair_lookup - is (a, b) in table? */
static enum lookup_result pair_lookup(struct pg_store *st, unsigned table, const char *a,
				      const char *b)
{
	const struct vtable *t;
	struct vpair key = { (char *)a, (char *)b, NULL };
	const struct vpair *hit;

	pthread_mutex_lock(&st->lock);
	if (!pg_view_usable(st) || (t = table_of(st, table)) == NULL) {
		pthread_mutex_unlock(&st->lock);
		return LOOKUP_ERROR;
	}
	hit = bsearch(&key, t->pairs, t->n, sizeof *t->pairs, pair_cmp);
	pthread_mutex_unlock(&st->lock);
	return hit != NULL ? LOOKUP_FOUND : LOOKUP_NOT_FOUND;
}

enum lookup_result pg_user_suspended(struct store *store, const char *username)
{
	return pair_lookup(pg_store(store), PG_T_USERS, username, NULL);
}

enum lookup_result pg_sender_owned(struct store *store, const char *username,
				   const char *bare, const char *at_domain)
{
	const char *cand[3];
	unsigned n = 0;
	enum lookup_result res = LOOKUP_NOT_FOUND;

	if (bare != NULL)
		cand[n++] = bare;
	if (at_domain != NULL)
		cand[n++] = at_domain;
	cand[n++] = "*";
	for (unsigned i = 0; i < n && res == LOOKUP_NOT_FOUND; i++)
		res = pair_lookup(pg_store(store), PG_T_SENDERS, username, cand[i]);
	return res;
}

enum lookup_result pg_cert_lookup(struct store *store, const char *fingerprint, char *user_r)
{
	struct pg_store *st = pg_store(store);
	const struct vtable *t;
	struct vpair key = { (char *)fingerprint, NULL, NULL };
	const struct vpair *hit;

	pthread_mutex_lock(&st->lock);
	if (!pg_view_usable(st) || (t = table_of(st, PG_T_CERTS)) == NULL) {
		pthread_mutex_unlock(&st->lock);
		return LOOKUP_ERROR;
	}
	hit = bsearch(&key, t->pairs, t->n, sizeof *t->pairs, pair_cmp);
	if (hit != NULL && user_r != NULL)
		snprintf(user_r, STORE_USER_MAX, "%s", hit->b);
	pthread_mutex_unlock(&st->lock);
	return hit != NULL ? LOOKUP_FOUND : LOOKUP_NOT_FOUND;
}

enum lookup_result pg_limit_rules_get(struct store *store, const char *user, const char *domain,
				      char spec_r[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX])
{
	struct pg_store *st = pg_store(store);
	enum lookup_result res = LOOKUP_NOT_FOUND;
	const char *subjects[2] = { user, domain };
	const struct vtable *t;

	for (int k = 0; k < STORE_LIMIT_KINDS; k++)
		spec_r[0][k][0] = spec_r[1][k][0] = '\0';
	pthread_mutex_lock(&st->lock);
	if (!pg_view_usable(st) || (t = table_of(st, PG_T_LIMITS)) == NULL) {
		pthread_mutex_unlock(&st->lock);
		return LOOKUP_ERROR;
	}
	/* At most four probes: (user, domain) x (kind). */
	for (int which = 0; which < 2; which++) {
		for (int k = 0; subjects[which] != NULL && k < STORE_LIMIT_KINDS; k++) {
			struct vpair key = { (char *)subjects[which],
					     (char *)store_limit_kind_name(k), NULL };
			const struct vpair *hit =
				bsearch(&key, t->pairs, t->n, sizeof *t->pairs, pair_cmp);

			if (hit == NULL)
				continue;
			snprintf(spec_r[which][k], LIMIT_SPEC_TEXT_MAX, "%s", hit->c);
			res = LOOKUP_FOUND;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return res;
}

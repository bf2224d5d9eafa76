/*
 * NAME
 *	store_pgsql_logins 3
 * SUMMARY
 *	PostgreSQL backend: a batch of logins as a few set statements
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	loginwatch hands over its logins in batches (up to
 *	LOGINWATCH_SCAN_BATCH with --scan). Written one statement per login
 *	each login cost three round trips (the session check, the grant,
 *	its history row): 20,000 logins took 6.5 s where SQLite took 0.3 s
 *	(tests/bench/pgsql.sh). Here a batch is cut into runs in which no
 *	grant (network and prefix) and no (session, address) comes twice,
 *	and each run is one statement over arrays (unnest): the session
 *	check, the grants' upsert and the history rows in one executor run.
 *	Within a run the logins touch distinct rows, so the result is the
 *	one of writing them one by one in order; a repeat starts a new run,
 *	which sees the rows of the runs before it.
 *
 *	The repeats are found by 64-bit hashes of the two keys: a
 *	collision only cuts a run early, never merges two logins.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store_pgsql.h"

/* The columns of a run, in the statement's parameter order. */
enum { C_FAMILY, C_NET, C_IP, C_PREFIX, C_USER, C_SERVICE, C_SEEN, C_EXPIRES, C_SOURCE,
       C_LINE, C_SESSION, C_COUNT };

static const char run_sql[] =
	"WITH input AS (SELECT * FROM unnest($1::integer[], $2::bytea[], $3::text[], "
	"$4::integer[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], "
	"$10::text[], $11::text[]) WITH ORDINALITY AS t(family, net, ip, prefix_len, username, "
	"service, seen, expires, source, line, session, ord)), "
	/* grant_log_session: a login already counted writes nothing. */
	"fresh AS (SELECT * FROM input i WHERE i.session IS NULL OR NOT EXISTS "
	"(SELECT 1 FROM grant_log g WHERE g.session = i.session AND g.ip = i.ip)), "
	"up AS (INSERT INTO grants (family, net, ip, prefix_len, username, service, "
	"first_seen, last_seen, expires_at, logins) "
	"SELECT family, net, ip, prefix_len, username, service, seen, seen, expires, 1 "
	"FROM fresh ORDER BY ord " PG_GRANT_UPSERT ") "
	"INSERT INTO grant_log (event, ip, prefix_len, username, service, login_time, "
	"expires_at, source, line, session) "
	"SELECT 'login', ip, prefix_len, username, service, seen, expires, source, line, session "
	"FROM fresh ORDER BY ord";

/* A set of 64-bit hashes for one run: open addressing, emptied by
   moving to the next generation. */
struct keyset {
	uint64_t *hash;
	unsigned *gen;
	size_t mask;
	unsigned now;
};

static uint64_t fnv(const char *a, const char *b, const char *c)
{
	const char *parts[3] = { a, b, c };
	uint64_t h = 14695981039346656037ULL;

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i]; p && *p; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;	/* the separator */
	}
	return h;
}

/* keyset_has - is h in the current run? */
static bool keyset_has(const struct keyset *k, uint64_t h)
{
	for (size_t i = h & k->mask; k->gen[i] == k->now; i = (i + 1) & k->mask)
		if (k->hash[i] == h)
			return true;
	return false;
}

static void keyset_add(struct keyset *k, uint64_t h)
{
	size_t i = h & k->mask;

	while (k->gen[i] == k->now)
		i = (i + 1) & k->mask;
	k->gen[i] = k->now;
	k->hash[i] = h;
}

/* A growing text: one column's array. */
struct text {
	char *p;
	size_t len, cap;
};

static void text_put(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;

		while (cap < t->len + n + 1)
			cap *= 2;
		if ((t->p = realloc(t->p, cap)) == NULL)
			abort();
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

/* element - one array element in PostgreSQL's array text form ("x",
   with '"' and '\\' escaped; NULL for none); the spans without either
   are copied whole (the log lines are long) */
static void element(struct text *t, bool first, const char *s)
{
	if (!first)
		text_put(t, ",", 1);
	if (s == NULL) {
		text_put(t, "NULL", 4);
		return;
	}
	text_put(t, "\"", 1);
	for (;;) {
		size_t n = strcspn(s, "\"\\");

		text_put(t, s, n);
		if (s[n] == '\0')
			break;
		text_put(t, "\\", 1);
		text_put(t, s + n, 1);
		s += n + 1;
	}
	text_put(t, "\"", 1);
}

/* write_run - evs[0..n) in one statement */
static int write_run(struct pg_store *st, const struct grant_event *evs, size_t n,
		     char **error_r)
{
	struct text col[C_COUNT];
	const char *params[C_COUNT];
	PGresult *res;

	memset(col, 0, sizeof col);
	for (int c = 0; c < C_COUNT; c++)
		text_put(&col[c], "{", 1);
	for (size_t i = 0; i < n; i++) {
		const struct grant_event *ev = &evs[i];
		const char *v[C_COUNT] = { ev->family, ev->net, ev->ip, ev->prefix, ev->username,
					   ev->service, ev->seen, ev->expires, ev->source,
					   ev->line, ev->session };

		for (int c = 0; c < C_COUNT; c++)
			element(&col[c], i == 0, v[c]);
	}
	for (int c = 0; c < C_COUNT; c++) {
		text_put(&col[c], "}", 1);
		params[c] = col[c].p;
	}
	res = pg_exec(st, "write grants", run_sql, C_COUNT, params, error_r);
	for (int c = 0; c < C_COUNT; c++)
		free(col[c].p);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int pg_logins_write(struct pg_store *st, const struct grant_event *evs, size_t count,
		    char **error_r)
{
	struct keyset k = { NULL, NULL, 0, 1 };
	size_t slots = 16, start = 0;
	int rc = 0;

	if (count == 0)
		return 0;
	while (slots < 4 * count)	/* two keys a login, half full at most */
		slots *= 2;
	if ((k.hash = calloc(slots, sizeof *k.hash)) == NULL
	    || (k.gen = calloc(slots, sizeof *k.gen)) == NULL)
		abort();
	k.mask = slots - 1;
	for (size_t i = 0; i < count && rc == 0; i++) {
		uint64_t grant = fnv(evs[i].net, evs[i].prefix, NULL);
		uint64_t session = evs[i].session != NULL ? fnv(evs[i].session, evs[i].ip, "s") : 0;

		if (keyset_has(&k, grant) || (session != 0 && keyset_has(&k, session))) {
			rc = write_run(st, evs + start, i - start, error_r);
			start = i;
			k.now++;	/* a new run: the set is empty */
		}
		keyset_add(&k, grant);
		if (session != 0)
			keyset_add(&k, session);
	}
	if (rc == 0)
		rc = write_run(st, evs + start, count - start, error_r);
	free(k.hash);
	free(k.gen);
	return rc;
}

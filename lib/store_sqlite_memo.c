/*
 * NAME
 *	store_sqlite_memo 3
 * SUMMARY
 *	SQLite backend: the enforcers' lookups answered from memory
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	The four relay questions (grant, suspended user, sender ownership,
 *	certificate) and the limit rules are answered from a table of the
 *	answers the database gave before, for as long as the database has
 *	not changed, so a lookup costs no read transaction (two fcntl()
 *	locks and the statements) when nothing was written.
 *
 *	Unchanged means: the header of SQLite's WAL index (the -shm file,
 *	as SQLite maps it for the connection; every commit by any process
 *	changes it before the commit returns) is the one seen at the last
 *	check. When it
 *	differs, SQLite's data version says whether another connection
 *	committed, and the table is emptied if so. A commit by another
 *	program is therefore seen by the next lookup, as before: there is
 *	no new staleness bound. Commits on the store's own connection do
 *	not change the data version: sq_transact() (every admin write, an
 *	auto-suspend) empties the table itself; the batch's limit counts
 *	are not remembered. The decision writer's commits (another
 *	connection) and the batch's limit counts change no answer kept
 *	here, and the write turn records them (store_sqlite_turn.c): when
 *	every commit since the last check was one of them, the table stays.
 *	(Before, each writer batch emptied it, and with sending limits on
 *	the next lookup of each of the bench's 32 users' keys asked the
 *	database again: 1.5 to 3 us more per request.)
 *
 *	A removed or replaced file is noticed as before (sq_lookup_moved(),
 *	at most STORE_FILE_CHECK_MS old): the table is emptied and not
 *	used. Only answers are kept, never a failed lookup; a table that
 *	could not be checked is not used (the lookup then runs in the
 *	database and fails there as it did before). A grant's answer
 *	depends on the time as well: a remembered grant counts only while
 *	it is live, and no answer is used for an earlier time than it was
 *	given for (the clock stepped back).
 *
 *	The table holds at most SQ_MEMO_SLOTS / 2 answers (different
 *	clients, users, senders); when full it is emptied, so its memory is
 *	bounded and the busiest keys come back at once.
 *
 *	Measured (tests/bench/postfix-policyd.sh, and one connection paced
 *	like Postfix's requests, 1.4 ms apart, with perf record on policyd):
 *	a lone request spent about a quarter of policyd's main thread in
 *	SQLite (the read transaction's two fcntl() locks, the grant probe,
 *	and the limit rule lookup of the grant's client) for an answer that
 *	had not changed.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_sqlite.h"

/* Slots of the open-addressing table; half may be used before it is
   emptied. A key is an IP address, a user, a user and an address, a
   fingerprint: 4096 distinct ones within one unchanged stretch of the
   database is a busy site's worth. */
#define SQ_MEMO_SLOTS 8192

/* The WAL index: its first copy of the header (48 bytes: iVersion,
   iChange, which every commit increments, mxFrame, the salts and
   checksums). */
#define WAL_INDEX_HDR 48
#define WAL_INDEX_REGION 32768	/* the size of each region SQLite maps */

enum memo_kind { MEMO_GRANT = 1, MEMO_USER, MEMO_SENDER, MEMO_CERT, MEMO_LIMIT };

struct memo_entry {
	uint32_t hash;			/* 0: free slot */
	unsigned char kind;
	enum lookup_result res;
	int64_t asked;			/* MEMO_GRANT: the time asked for */
	size_t key_len;
	char *block;			/* the value (aligned: first), then the key */
	char *key;			/* key_len bytes, inside block */
	void *value;			/* inside block; NULL when none */
};

struct sq_memo {
	unsigned used;
	bool valid;			/* the answers are those of version */
	unsigned version;		/* SQLite's data version at the check */
	bool version_known;		/* false: own commits since; not comparable */
	unsigned char hdr[WAL_INDEX_HDR];	/* the WAL index header then */
	struct memo_entry slot[SQ_MEMO_SLOTS];
};

uint32_t sq_key_hash(unsigned char kind, const char *key, size_t len)
{
	uint32_t h = 2166136261u ^ kind;

	h *= 16777619u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	return h != 0 ? h : 1;
}

/* memo_empty - forget every answer; the table stays */
static void memo_empty(struct sq_memo *m)
{
	for (unsigned i = 0; m->used > 0 && i < SQ_MEMO_SLOTS; i++) {
		if (m->slot[i].hash != 0) {
			free(m->slot[i].block);
			m->slot[i].hash = 0;
			m->used--;
		}
	}
	m->used = 0;
}

void sq_memo_clear(struct sq_store *st)
{
	if (st->memo == NULL)
		return;
	memo_empty(st->memo);
	st->memo->valid = false;
}

void sq_memo_free(struct sq_store *st)
{
	if (st->memo == NULL)
		return;
	memo_empty(st->memo);
	free(st->memo);
	st->memo = NULL;
}

void sq_memo_counts(struct store *store, uint64_t *hits_r, uint64_t *misses_r)
{
	struct sq_store *st = sq_store(store);

	sq_lock(st);
	*hits_r = st->memo_hits;
	*misses_r = st->memo_misses;
	sq_unlock(st);
}

/* memo_data_version - the database's data version, read in a read
   transaction (the caller's snapshot when one is open); 0 or -1 */
static int memo_data_version(struct sq_store *st, unsigned *version_r)
{
	sqlite3_stmt *stmt = sq_stmt(&st->main, SQ_DATA_VERSION);
	int rc;

	if (stmt == NULL)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*version_r = (unsigned)sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* sq_wal_index - the WAL index's first region as SQLite itself has it
   mapped for the connection (the VFS's xShmMap on the database file, as
   SQLite's WAL code calls it; the layout is documented in
   https://www.sqlite.org/walformat.html, "The WAL-Index Format"), or
   NULL. Asking SQLite, rather than opening the -shm file again, matters:
   closing any descriptor of a file drops the process's fcntl() locks on
   it, SQLite's own among them. Called after a read or BEGIN went
   through, so the region exists; it stays mapped while the connection
   is open in WAL mode. */
const volatile unsigned char *sq_wal_index(struct sq_conn *conn)
{
	sqlite3_file *file = NULL;
	void volatile *p = NULL;

	if (conn->wal_index != NULL)
		return conn->wal_index;
	if (sqlite3_file_control(conn->db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK
	    || file == NULL || file->pMethods == NULL || file->pMethods->iVersion < 2
	    || file->pMethods->xShmMap == NULL
	    || file->pMethods->xShmMap(file, 0, WAL_INDEX_REGION, 0, &p) != SQLITE_OK || p == NULL)
		return NULL;
	return conn->wal_index = p;
}

/* hdr_commit_count - iChange of a WAL index header: at byte 8, in the
   machine's byte order; walFrames() adds one with each commit */
static uint32_t hdr_commit_count(const unsigned char *hdr)
{
	uint32_t count;

	memcpy(&count, hdr + 8, sizeof count);
	return count;
}

uint32_t sq_wal_commit_count(const volatile unsigned char *wal_index)
{
	unsigned char hdr[12];

	atomic_thread_fence(memory_order_acquire);
	memcpy(hdr, (const void *)wal_index, sizeof hdr);
	return hdr_commit_count(hdr);
}

/* wal_index_read - the WAL index header as it is now (a copy: another
   process may be writing it; a torn copy only differs, and then the
   data version decides) */
static void wal_index_read(const volatile unsigned char *wal_index,
			   unsigned char hdr[WAL_INDEX_HDR])
{
	atomic_thread_fence(memory_order_acquire);
	memcpy(hdr, (const void *)wal_index, WAL_INDEX_HDR);
}

/* memo_usable - the table when its answers are still the database's,
   else NULL (the lookup then asks the database). The caller holds the
   lock.
   Unchanged: the WAL index header is the one seen when the table was
   last checked (every commit, by any process, changes it before the
   commit returns), and the file check (sq_lookup_moved(), at most
   STORE_FILE_CHECK_MS old) finds the file in place. When the header
   changed, SQLite's data version says whether another connection
   committed (the table is then emptied); it is read in a read
   transaction of its own, or in the caller's snapshot before that
   snapshot has read (inside a snapshot that already read, the version
   is the snapshot's: the table is not used until the snapshot ends). */
static struct sq_memo *memo_usable(struct sq_store *st)
{
	struct sq_memo *m = st->memo;
	const volatile unsigned char *wal_index;
	unsigned char hdr[WAL_INDEX_HDR];
	unsigned version;

	if (m == NULL) {
		if ((m = calloc(1, sizeof *m)) == NULL)
			return NULL;
		st->memo = m;
	}
	if (sq_lookup_moved(st) || (wal_index = sq_wal_index(&st->main)) == NULL) {
		sq_memo_clear(st);
		return NULL;
	}
	wal_index_read(wal_index, hdr);
	if (m->valid && memcmp(hdr, m->hdr, WAL_INDEX_HDR) == 0)
		return m;
	/* Only this process's own commits since (the decision writer's
	   rows, a batch's limit counts): none of them changes an answer
	   kept here, so the table stays. The data version moved with the
	   writer's, so it is no longer the table's. */
	if (m->valid && hdr_commit_count(hdr) != hdr_commit_count(m->hdr)
	    && sq_turn_own_commits(st, hdr_commit_count(m->hdr), hdr_commit_count(hdr))) {
		memcpy(m->hdr, hdr, WAL_INDEX_HDR);
		m->version_known = false;
		return m;
	}
	if (sqlite3_txn_state(st->main.db, "main") != SQLITE_TXN_NONE)
		return NULL;
	sq_snapshot_join(st);
	/* The header was read before the version's transaction began: a
	   commit in between shows as a difference next time (one check
	   too many, never one too few). */
	if (memo_data_version(st, &version) < 0) {
		sq_memo_clear(st);
		return NULL;
	}
	if (!m->valid || !m->version_known || version != m->version)
		memo_empty(m);
	memcpy(m->hdr, hdr, WAL_INDEX_HDR);
	m->valid = true;
	m->version = version;
	m->version_known = true;
	return m;
}

/* memo_find - the entry for kind and key, or NULL */
static struct memo_entry *memo_find(struct sq_memo *m, unsigned char kind, const char *key,
				    size_t len)
{
	uint32_t h = sq_key_hash(kind, key, len);

	for (unsigned i = h % SQ_MEMO_SLOTS;; i = (i + 1) % SQ_MEMO_SLOTS) {
		struct memo_entry *e = &m->slot[i];

		if (e->hash == 0)
			return NULL;
		if (e->hash == h && e->kind == kind && e->key_len == len
		    && memcmp(e->key, key, len) == 0)
			return e;
	}
}

/* memo_put - remember an answer (value: size bytes, may be 0), in place
   of the one kept for the key if any; a failure to allocate only means
   it is not remembered */
static void memo_put(struct sq_memo *m, unsigned char kind, const char *key, size_t len,
		     enum lookup_result res, int64_t asked, const void *value, size_t size)
{
	uint32_t h = sq_key_hash(kind, key, len);
	struct memo_entry *e;
	char *block;
	unsigned i;

	if (res == LOOKUP_ERROR)
		return;
	if ((e = memo_find(m, kind, key, len)) == NULL) {
		if (m->used >= SQ_MEMO_SLOTS / 2)
			memo_empty(m);
		for (i = h % SQ_MEMO_SLOTS; m->slot[i].hash != 0; i = (i + 1) % SQ_MEMO_SLOTS)
			;
		e = &m->slot[i];
		if ((block = malloc(size + len + 1)) == NULL)
			return;
		e->hash = h;
		e->kind = kind;
		e->key_len = len;
		m->used++;
	} else if ((block = realloc(e->block, size + len + 1)) == NULL) {
		/* the old answer stays, and is not used past its bounds */
		return;
	}
	e->block = block;
	e->value = size > 0 ? block : NULL;
	if (size > 0)
		memcpy(e->value, value, size);
	e->key = block + size;
	memcpy(e->key, key, len);
	e->res = res;
	e->asked = asked;
}

/* memo_key - the texts in turn into buf, each ended by "\0" (a NULL one
   by "\1": apart from ""); 0, or -1 when they do not fit (the lookup
   is then not remembered) */
static int memo_key(char *buf, size_t size, const char *const *texts, unsigned n, size_t *len_r)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		size_t l = texts[i] != NULL ? strlen(texts[i]) : 0;

		if (len + l + 1 > size)
			return -1;
		memcpy(buf + len, texts[i] != NULL ? texts[i] : "", l);
		buf[len + l] = texts[i] != NULL ? '\0' : '\1';
		len += l + 1;
	}
	*len_r = len;
	return 0;
}

/* A key of up to three texts: a user and an address or a domain. */
#define MEMO_KEY_MAX (2 * STORE_USER_MAX + 1024)

enum lookup_result sq_memo_grant_lookup(struct store *store, const struct ipaddr *ip,
					int64_t now, struct store_grant *grant_r)
{
	struct sq_store *st = sq_store(store);
	char key[1 + sizeof ip->bytes];
	size_t len = 1 + (size_t)ipaddr_bits(ip) / 8;
	struct store_grant g;
	struct sq_memo *m;
	struct memo_entry *e;
	enum lookup_result res;

	sq_lock(st);
	if ((m = memo_usable(st)) == NULL || len > sizeof key) {
		sq_snapshot_join(st);
		st->memo_misses++;
		res = sq_grant_lookup(store, ip, now, grant_r);
		sq_unlock(st);
		return res;
	}
	key[0] = (char)ip->family;
	memcpy(key + 1, ip->bytes, len - 1);
	e = memo_find(m, MEMO_GRANT, key, len);
	/* Live: as the lookup's own "expires_at > now"; never for an
	   earlier time than asked. */
	if (e != NULL && now >= e->asked
	    && (e->res == LOOKUP_NOT_FOUND || ((const struct store_grant *)e->value)->expires_at > now)) {
		st->memo_hits++;
		res = e->res;
		if (res == LOOKUP_FOUND && grant_r != NULL)
			*grant_r = *(const struct store_grant *)e->value;
		sq_unlock(st);
		return res;
	}
	sq_snapshot_join(st);
	st->memo_misses++;
	res = sq_grant_lookup(store, ip, now, &g);
	memo_put(m, MEMO_GRANT, key, len, res, now, &g, res == LOOKUP_FOUND ? sizeof g : 0);
	sq_unlock(st);
	if (res == LOOKUP_FOUND && grant_r != NULL)
		*grant_r = g;
	return res;
}

/* A lookup answered by a result and, for some, a value of fixed size:
   the key it is remembered under (NULL: asked, not remembered), where
   its value goes, and how the database is asked (a and b: the
   lookup's arguments). */
struct memo_question {
	unsigned char kind;
	const char *key;
	size_t key_len;
	void *value;		/* value_size bytes, from the database or memory */
	size_t value_size;
	bool value_always;	/* kept with every answer, not only LOOKUP_FOUND */
	enum lookup_result (*ask)(struct store *store, const struct memo_question *q);
	const char *a, *b, *c;
};

/* memo_answer - q's answer from memory, else from the database (and
   remembered) */
static enum lookup_result memo_answer(struct store *store, const struct memo_question *q)
{
	struct sq_store *st = sq_store(store);
	struct sq_memo *m;
	struct memo_entry *e;
	enum lookup_result res;

	sq_lock(st);
	m = q->key != NULL ? memo_usable(st) : NULL;
	if (m != NULL && (e = memo_find(m, q->kind, q->key, q->key_len)) != NULL) {
		st->memo_hits++;
		res = e->res;
		if (e->value != NULL)
			memcpy(q->value, e->value, q->value_size);
	} else {
		sq_snapshot_join(st);
		st->memo_misses++;
		res = q->ask(store, q);
		if (m != NULL)
			memo_put(m, q->kind, q->key, q->key_len, res, 0, q->value,
				 q->value_always || res == LOOKUP_FOUND ? q->value_size : 0);
	}
	sq_unlock(st);
	return res;
}

static enum lookup_result ask_user(struct store *store, const struct memo_question *q)
{
	return sq_user_suspended(store, q->a);
}

static enum lookup_result ask_sender(struct store *store, const struct memo_question *q)
{
	return sq_sender_owned(store, q->a, q->b, q->c);
}

static enum lookup_result ask_cert(struct store *store, const struct memo_question *q)
{
	return sq_cert_lookup(store, q->a, q->value);
}

static enum lookup_result ask_limit(struct store *store, const struct memo_question *q)
{
	return sq_limit_rules_get(store, q->a, q->b, q->value);
}

enum lookup_result sq_memo_user_suspended(struct store *store, const char *username)
{
	struct memo_question q = {MEMO_USER, username, 0, NULL, 0, false, ask_user, username,
				  NULL, NULL};

	if (username == NULL || (q.key_len = strlen(username)) > STORE_USER_MAX)
		q.key = NULL;
	return memo_answer(store, &q);
}

enum lookup_result sq_memo_sender_owned(struct store *store, const char *username,
					const char *bare, const char *at_domain)
{
	char key[MEMO_KEY_MAX];
	const char *texts[] = {username, bare, at_domain};
	struct memo_question q = {MEMO_SENDER, key, 0, NULL, 0, false, ask_sender, username,
				  bare, at_domain};

	if (username == NULL || memo_key(key, sizeof key, texts, 3, &q.key_len) < 0)
		q.key = NULL;
	return memo_answer(store, &q);
}

enum lookup_result sq_memo_cert_lookup(struct store *store, const char *fingerprint,
				       char *user_r)
{
	char user[STORE_USER_MAX] = "";
	struct memo_question q = {MEMO_CERT, fingerprint, 0, user, sizeof user, false, ask_cert,
				  fingerprint, NULL, NULL};
	enum lookup_result res;

	if (fingerprint == NULL || (q.key_len = strlen(fingerprint)) > STORE_FPR_MAX)
		q.key = NULL;
	res = memo_answer(store, &q);
	if (res == LOOKUP_FOUND && user_r != NULL)
		memcpy(user_r, user, sizeof user);
	return res;
}

enum lookup_result sq_memo_limit_rules_get(struct store *store, const char *user,
					   const char *domain,
					   char spec_r[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX])
{
	char key[MEMO_KEY_MAX];
	const char *texts[] = {user, domain};
	/* not found fills spec_r with "": kept as it is */
	struct memo_question q = {MEMO_LIMIT, key, 0, spec_r,
				  sizeof(char[2][STORE_LIMIT_KINDS][LIMIT_SPEC_TEXT_MAX]), true,
				  ask_limit, user, domain, NULL};

	if (user == NULL || memo_key(key, sizeof key, texts, 2, &q.key_len) < 0)
		q.key = NULL;
	return memo_answer(store, &q);
}

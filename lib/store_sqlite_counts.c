/*
 * NAME
 *	store_sqlite_counts 3
 * SUMMARY
 *	SQLite backend: the limit counters of recent subjects, kept in
 *	memory while only this process writes them
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	Every limited request reads its subject's counter rows (RCPT asks,
 *	DATA checks and adds): one SELECT each, a sixth of policyd's event
 *	loop with every request from a limited user. The rows of a subject
 *	read once are kept here, with the commit count of the WAL index
 *	header (store_sqlite_turn.c) they were read at, and this process's
 *	own additions and expiries are applied to them as they are charged
 *	(the additions reach the database before the transaction commits:
 *	store_sqlite_pending.c). They are used while every commit since was this
 *	process's own (its decision rows, its own batches' counts, which
 *	are applied here as well); any other commit (another daemon's
 *	count, authrelayctl's prune, a main connection write outside the
 *	turn) drops all of them, and the next read asks the database.
 *
 *	A read inside a snapshot older than the newest commit is never kept
 *	(its rows could be older than the count they would be kept with):
 *	rows are kept only from a read in the batch's write transaction
 *	(the write lock held: no commit but ours can come) or in a
 *	transaction of its own. Kept rows may be used in an older snapshot:
 *	they are then newer than it, as a read a moment later would be. A
 *	batch transaction that is rolled back, or whose commit fails, drops
 *	all of them (sq_counts_drop()), since its additions were applied.
 *
 *	Atomicity is unchanged: a charge that adds still runs in the batch's
 *	BEGIN IMMEDIATE transaction, and the rows are checked against the
 *	header while the write lock is held.
 *
 *	At most SQ_COUNTS_SLOTS / 2 subjects and SQ_COUNTS_ROWS rows per
 *	subject are kept: a subject with more rows is read each time, and
 *	a full table, or a subject whose kept rows would grow past that, is
 *	emptied.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_sqlite.h"

/* Slots of the open-addressing table; half may be used. */
#define SQ_COUNTS_SLOTS 4096

struct counts_entry {
	uint32_t hash;			/* 0: free */
	char *subject;
	unsigned n;
	struct sq_count_row *rows;	/* n rows */
};

struct sq_counts {
	bool valid;
	uint32_t commit_count;		/* the rows are the database's at this count */
	unsigned used;
	struct counts_entry slot[SQ_COUNTS_SLOTS];
};

/* counts_hash - the subject's hash (never 0: 0 marks a free slot) */
static uint32_t counts_hash(const char *subject)
{
	return sq_key_hash(0, subject, strlen(subject));
}

static void counts_empty(struct sq_counts *t)
{
	for (unsigned i = 0; t->used > 0 && i < SQ_COUNTS_SLOTS; i++) {
		if (t->slot[i].hash != 0) {
			free(t->slot[i].subject);
			free(t->slot[i].rows);
			t->slot[i].hash = 0;
			t->used--;
		}
	}
	t->used = 0;
}

void sq_counts_drop(struct sq_store *st)
{
	if (st->counts == NULL)
		return;
	counts_empty(st->counts);
	st->counts->valid = false;
}

void sq_counts_free(struct sq_store *st)
{
	sq_counts_drop(st);
	free(st->counts);
	st->counts = NULL;
}

/* counts_current - the table when its rows are still the database's
   (emptied first when they are not), or NULL when the database's commit
   count cannot be read. The caller holds the lock. */
static struct sq_counts *counts_current(struct sq_store *st)
{
	const volatile unsigned char *wal_index = sq_wal_index(&st->main);
	struct sq_counts *t = st->counts;
	uint32_t now;

	if (wal_index == NULL)
		return NULL;
	if (t == NULL) {
		if ((t = calloc(1, sizeof *t)) == NULL)
			return NULL;
		st->counts = t;
	}
	now = sq_wal_commit_count(wal_index);
	if (t->valid && now != t->commit_count
	    && !sq_turn_own_commits(st, t->commit_count, now))
		sq_counts_drop(st);
	t->valid = true;
	t->commit_count = now;
	return t;
}

static struct counts_entry *counts_find(struct sq_counts *t, const char *subject)
{
	uint32_t h = counts_hash(subject);

	for (unsigned i = h % SQ_COUNTS_SLOTS;; i = (i + 1) % SQ_COUNTS_SLOTS) {
		struct counts_entry *e = &t->slot[i];

		if (e->hash == 0)
			return NULL;
		if (e->hash == h && strcmp(e->subject, subject) == 0)
			return e;
	}
}

bool sq_counts_get(struct sq_store *st, const char *subject, const struct sq_count_row **rows_r,
		   unsigned *n_r, uint32_t *label_r)
{
	struct sq_counts *t;
	struct counts_entry *e;

	*label_r = 0;
	if (sq_lookup_moved(st) || (t = counts_current(st)) == NULL) {
		st->counts_misses++;
		return false;
	}
	*label_r = t->commit_count;
	if ((e = counts_find(t, subject)) == NULL) {
		st->counts_misses++;
		return false;
	}
	st->counts_hits++;
	*rows_r = e->rows;
	*n_r = e->n;
	return true;
}

void sq_counts_put(struct sq_store *st, const char *subject, const struct sq_count_row *rows,
		   unsigned n, uint32_t label)
{
	uint32_t h = counts_hash(subject);
	struct sq_counts *t;
	struct counts_entry *e;
	unsigned i;

	/* Only when no commit came between the count read before the rows
	   and now: the rows are then exactly the database's at it. */
	if (n > SQ_COUNTS_ROWS || (t = counts_current(st)) == NULL || t->commit_count != label)
		return;
	if ((e = counts_find(t, subject)) == NULL) {
		if (t->used >= SQ_COUNTS_SLOTS / 2)
			counts_empty(t);
		for (i = h % SQ_COUNTS_SLOTS; t->slot[i].hash != 0; i = (i + 1) % SQ_COUNTS_SLOTS)
			;
		e = &t->slot[i];
		if ((e->subject = strdup(subject)) == NULL)
			return;
		if ((e->rows = malloc(SQ_COUNTS_ROWS * sizeof *e->rows)) == NULL) {
			free(e->subject);
			return;
		}
		e->hash = h;
		t->used++;
	}
	memcpy(e->rows, rows, n * sizeof *rows);
	e->n = n;
}

/* counts_entry_of - the kept rows of subject, or NULL; no check of the
   header: called between a change in the database and its commit */
static struct counts_entry *counts_entry_of(struct sq_store *st, const char *subject)
{
	return st->counts != NULL && st->counts->valid ? counts_find(st->counts, subject) : NULL;
}

void sq_counts_add(struct sq_store *st, const char *subject, int kind, int64_t window,
		   int64_t bucket, uint64_t add)
{
	struct counts_entry *e = counts_entry_of(st, subject);

	if (e == NULL)
		return;
	for (unsigned i = 0; i < e->n; i++) {
		struct sq_count_row *r = &e->rows[i];

		if (r->kind == kind && r->window == window && r->bucket == bucket) {
			/* SQLite's integer arithmetic would fail past this;
			   the database then says what happened. */
			if (r->count > (uint64_t)INT64_MAX - add)
				sq_counts_drop(st);
			else
				r->count += add;
			return;
		}
	}
	if (e->n == SQ_COUNTS_ROWS) {
		sq_counts_drop(st);	/* rare: the next read asks the database */
		return;
	}
	e->rows[e->n++] = (struct sq_count_row){kind, window, bucket, add};
}

void sq_counts_expire(struct sq_store *st, const char *subject, int kind, int64_t window,
		      int64_t before)
{
	struct counts_entry *e = counts_entry_of(st, subject);
	unsigned kept = 0;

	if (e == NULL)
		return;
	for (unsigned i = 0; i < e->n; i++) {
		const struct sq_count_row *r = &e->rows[i];

		if (!(r->kind == kind && r->window == window && r->bucket < before))
			e->rows[kept++] = *r;
	}
	e->n = kept;
}

void sq_counts_stats(struct store *store, uint64_t *hits_r, uint64_t *misses_r)
{
	struct sq_store *st = sq_store(store);

	sq_lock(st);
	*hits_r = st->counts_hits;
	*misses_r = st->counts_misses;
	sq_unlock(st);
}

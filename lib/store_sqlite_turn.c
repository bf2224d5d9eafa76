/*
 * NAME
 *	store_sqlite_turn 3
 * SUMMARY
 *	SQLite backend: whose turn it is to write, between the main
 *	connection's batch and the decision writer, in one process
 * SYNOPSIS
 *	#include "store_sqlite.h"
 *
 *	void sq_turn_init(st)
 *	void sq_turn_take(st, writer)
 *	void sq_turn_began(st, conn)
 *	void sq_turn_give(st, committed)
 *	bool sq_turn_own_commits(st, from, to)
 * DESCRIPTION
 *	SQLite has one write lock per database and makes a connection that
 *	finds it taken sleep and retry (the busy handler: 1, 2, 5, 10 ms...).
 *	Between two connections of one process that is both slow and unfair:
 *	with sending limits on, policyd's event loop holds the lock for each
 *	batch of charges (store_limit_charge() inside a snapshot) and takes
 *	it again a few microseconds after its commit, so the decision
 *	writer's retries missed it until its queue was full and rows were
 *	dropped (tests/bench/policyd-limits.sh at 84-96k requests/s: 303500
 *	of 535253 rows written), and the event loop in turn slept 1 to 3 ms
 *	in BEGIN IMMEDIATE when the writer had it (12 sleeps in 4 s, its p99).
 *
 *	The turn hands the lock over inside the process instead: a side
 *	takes the turn before BEGIN IMMEDIATE and gives it after its COMMIT
 *	or ROLLBACK, and a waiting side is woken at once. The writer goes
 *	first when both wait, so its rows are never starved; it holds the
 *	turn only for its INSERTs and COMMIT (its checkpoint runs after,
 *	see store_sqlite_writer.c). Other processes (authrelayctl, the
 *	milter) still meet SQLite's lock and busy handler: the turn only
 *	orders this process's two connections, and every atomicity rule of
 *	the store still rests on SQLite's lock.
 *
 *	Nothing else waits while a turn is held: the writer does no other
 *	work, and the main connection's holder never waits for the writer.
 *
 *	The turn also remembers which commits were this process's own, for
 *	the answers from memory (store_sqlite_memo.c), which would otherwise
 *	be asked again after each of the writer's batches (another
 *	connection's commit, for SQLite). Every commit, by any process,
 *	adds one to the commit count in the WAL index header (iChange). A
 *	holder notes that count right after its BEGIN IMMEDIATE
 *	(sq_turn_began()): it holds the database's write lock then, so no
 *	other commit can come between that moment and its own COMMIT, which
 *	takes the count from the noted value to the next. A commit that
 *	changed no row may write nothing and leave the count alone, so only
 *	one that changed rows is recorded. A count moved by a commit that is
 *	not recorded here (another process's, or a main connection write
 *	outside the turn) is never taken for an own one.
 */
#include <sqlite3.h>

#include "store_sqlite.h"

void sq_turn_init(struct sq_store *st)
{
	pthread_mutex_init(&st->turn.lock, NULL);
	pthread_cond_init(&st->turn.cond, NULL);
	st->turn.held = false;
	st->turn.writer_waiting = false;
	st->turn.conn = NULL;
	st->turn.began = false;
	st->turn.own_next = st->turn.own_used = 0;
}

void sq_turn_destroy(struct sq_store *st)
{
	pthread_cond_destroy(&st->turn.cond);
	pthread_mutex_destroy(&st->turn.lock);
}

void sq_turn_take(struct sq_store *st, bool writer)
{
	pthread_mutex_lock(&st->turn.lock);
	if (writer) {
		st->turn.writer_waiting = true;
		while (st->turn.held)
			pthread_cond_wait(&st->turn.cond, &st->turn.lock);
		st->turn.writer_waiting = false;
	} else {
		while (st->turn.held || st->turn.writer_waiting)
			pthread_cond_wait(&st->turn.cond, &st->turn.lock);
	}
	st->turn.held = true;
	pthread_mutex_unlock(&st->turn.lock);
}

void sq_turn_began(struct sq_store *st, struct sq_conn *conn)
{
	const volatile unsigned char *wal_index = sq_wal_index(conn);

	pthread_mutex_lock(&st->turn.lock);
	st->turn.conn = conn;
	st->turn.began = wal_index != NULL;
	if (st->turn.began) {
		st->turn.began_count = sq_wal_commit_count(wal_index);
		st->turn.began_changes = sqlite3_total_changes64(conn->db);
	}
	pthread_mutex_unlock(&st->turn.lock);
}

void sq_turn_give(struct sq_store *st, bool committed)
{
	pthread_mutex_lock(&st->turn.lock);
	if (committed && st->turn.began
	    && sqlite3_total_changes64(st->turn.conn->db) != st->turn.began_changes) {
		st->turn.own[st->turn.own_next] = st->turn.began_count;
		st->turn.own_next = (st->turn.own_next + 1) % SQ_OWN_COMMITS;
		if (st->turn.own_used < SQ_OWN_COMMITS)
			st->turn.own_used++;
	}
	st->turn.began = false;
	st->turn.conn = NULL;
	st->turn.held = false;
	pthread_cond_broadcast(&st->turn.cond);
	pthread_mutex_unlock(&st->turn.lock);
}

/* own_from - whether a recorded commit started from count */
static bool own_from(const struct sq_turn *t, uint32_t count)
{
	for (unsigned i = 0; i < t->own_used; i++)
		if (t->own[i] == count)
			return true;
	return false;
}

bool sq_turn_own_commits(struct sq_store *st, uint32_t from, uint32_t to)
{
	bool own = to - from <= SQ_OWN_COMMITS;

	pthread_mutex_lock(&st->turn.lock);
	for (uint32_t c = from; own && c != to; c++)
		own = own_from(&st->turn, c);
	pthread_mutex_unlock(&st->turn.lock);
	return own;
}

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
 *	void sq_turn_give(st)
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
 */
#include "store_sqlite.h"

void sq_turn_init(struct sq_store *st)
{
	pthread_mutex_init(&st->turn.lock, NULL);
	pthread_cond_init(&st->turn.cond, NULL);
	st->turn.held = false;
	st->turn.writer_waiting = false;
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

void sq_turn_give(struct sq_store *st)
{
	pthread_mutex_lock(&st->turn.lock);
	st->turn.held = false;
	pthread_cond_broadcast(&st->turn.cond);
	pthread_mutex_unlock(&st->turn.lock);
}

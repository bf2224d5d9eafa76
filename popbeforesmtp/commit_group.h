/*
 * NAME
 *	commit_group 3h
 * SUMMARY
 *	logins from many threads written together, each caller waiting for its own
 * SYNOPSIS
 *	#include "commit_group.h"
 * DESCRIPTION
 *	Reported logins arrive on several HTTP threads at once, and each
 *	answer must wait until its grant is committed. One transaction per
 *	login costs a commit each (and WAL pages, hence checkpoints with
 *	fsync) and serialises every thread on the database lock. Here the
 *	first caller that finds nobody writing becomes the writer: it takes
 *	every login queued so far, writes them in one store_logins_apply(),
 *	and wakes their callers; logins queued meanwhile go in the next
 *	transaction. A single caller pays one transaction, as before; under
 *	load the transactions grow with the load.
 *
 *	All or nothing per transaction: when a batch fails it is written
 *	again one login at a time, so a bad login (or a passing error) fails
 *	only its own caller.
 */
#ifndef AUTHRELAY_COMMIT_GROUP_H
#define AUTHRELAY_COMMIT_GROUP_H

#include "store.h"

/* Logins per transaction at most; more wait for the next one. Dovecot
   opens at most 100 connections per auth process. */
#define COMMIT_GROUP_MAX 128

struct commit_group;

/* Returns 0, or -1 (out of memory). */
int commit_group_create(struct store *store, struct commit_group **group_r);

/* Queues login (it and its line must stay valid until the return) and
   returns once it is committed: 0, or -1 with *error_r (malloc'd).
   Safe from any number of threads. */
int commit_group_write(struct commit_group *group, const struct store_login *login,
		       char **error_r);

/* Frees the group (no caller may be inside) and sets *group to NULL. */
void commit_group_free(struct commit_group **group);

#endif

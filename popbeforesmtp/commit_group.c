/*
 * NAME
 *	commit_group 3
 * SUMMARY
 *	logins from many threads written together, each caller waiting for its own
 * SYNOPSIS
 *	#include "commit_group.h"
 * DESCRIPTION
 *	See commit_group.h. Each caller queues a waiter on its own stack
 *	(the login, then its result) and sleeps until the waiter is done,
 *	writing the queue itself whenever nobody is. The writer takes the
 *	queue under the lock and writes it without; results are set in
 *	each waiter, and "done" under the lock.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "commit_group.h"

struct waiter {
	const struct store_login *login;
	int result;
	char *error;
	bool done;
};

struct commit_group {
	struct store *store;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct waiter *queue[COMMIT_GROUP_MAX];
	size_t count;
	bool writing;
	/* the writer's own: the batch it writes */
	struct waiter *batch[COMMIT_GROUP_MAX];
	struct store_login logins[COMMIT_GROUP_MAX];
};

/* commit_group_create - see commit_group.h */
int commit_group_create(struct store *store, struct commit_group **group_r)
{
	struct commit_group *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return -1;
	g->store = store;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->changed, NULL);
	*group_r = g;
	return 0;
}

/* write_batch - n waiters' logins in one transaction, else one by one;
   called without the lock */
static void write_batch(struct commit_group *g, size_t n)
{
	char *error = NULL;

	for (size_t i = 0; i < n; i++)
		g->logins[i] = *g->batch[i]->login;
	if (store_logins_apply(g->store, g->logins, n, NULL, &error) == 0) {
		for (size_t i = 0; i < n; i++)
			g->batch[i]->result = 0;
		return;
	}
	if (n == 1) {
		g->batch[0]->result = -1;
		g->batch[0]->error = error;
		return;
	}
	free(error);
	for (size_t i = 0; i < n; i++)
		g->batch[i]->result = store_logins_apply(g->store, &g->logins[i], 1, NULL,
							 &g->batch[i]->error);
}

/* commit_group_write - see commit_group.h */
int commit_group_write(struct commit_group *g, const struct store_login *login, char **error_r)
{
	struct waiter w = { login, -1, NULL, false };

	pthread_mutex_lock(&g->lock);
	while (g->count == COMMIT_GROUP_MAX)
		pthread_cond_wait(&g->changed, &g->lock);
	g->queue[g->count++] = &w;
	while (!w.done) {
		if (g->writing) {
			pthread_cond_wait(&g->changed, &g->lock);
			continue;
		}
		/* Nobody writes: write every login queued so far. */
		size_t n = g->count;

		memcpy(g->batch, g->queue, n * sizeof(g->queue[0]));
		g->count = 0;
		g->writing = true;
		pthread_cond_broadcast(&g->changed);	/* room in the queue */
		pthread_mutex_unlock(&g->lock);
		write_batch(g, n);
		pthread_mutex_lock(&g->lock);
		for (size_t i = 0; i < n; i++)
			g->batch[i]->done = true;
		g->writing = false;
		pthread_cond_broadcast(&g->changed);
	}
	pthread_mutex_unlock(&g->lock);
	if (w.result < 0)
		*error_r = w.error != NULL ? w.error : strdup("not written");
	else
		free(w.error);
	return w.result;
}

/* commit_group_free - see commit_group.h */
void commit_group_free(struct commit_group **group)
{
	struct commit_group *g = *group;

	if (g == NULL)
		return;
	pthread_cond_destroy(&g->changed);
	pthread_mutex_destroy(&g->lock);
	free(g);
	*group = NULL;
}

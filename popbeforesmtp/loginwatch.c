/*
 * NAME
 *	loginwatch 3
 * SUMMARY
 *	the pipeline: lines -> parsers -> grants -> store, with checkpoints
 * SYNOPSIS
 *	#include "loginwatch.h"
 * DESCRIPTION
 *	See loginwatch.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "loginwatch.h"
#include "metrics.h"
#include "progress.h"

/* on_line - one line: parse, and queue a grant for a login */
static void on_line(void *ctx, const char *source, char *line, size_t len)
{
	struct loginwatch *w = ctx;
	struct login_event ev;
	struct store_login login;
	char ip[IPADDR_STRLEN];

	w->stats.candidates++;
	metrics_loginwatch_line(source);
	switch (parsers_parse_line(&w->parsers, line, len, w->now, &ev)) {
	case PARSE_IGNORED:
		return;
	case PARSE_REFUSED:
		w->stats.refused++;
		log_debug("no grant: %s line refused (%s) in %s", ev.format, ev.why, source);
		return;
	case PARSE_LOGIN:
		break;
	}
	w->stats.logins++;
	metrics_loginwatch_login(ev.format, ev.service);
	switch (grants_from_event(&w->policy, &ev, source, line, w->now, &login)) {
	case GRANT_EXCLUDED:
		w->stats.excluded++;
		log_info("no grant: %s login of %s from %s is in grant_exclude_networks",
			 ev.service, ev.user, ipaddr_format(&ev.ip, ip));
		return;
	case GRANT_EXPIRED:
		w->stats.expired++;
		return;
	case GRANT_NEW:
		break;
	}
	/* --scan keeps logins across reads (one transaction per many reads,
	   not per read): the line must outlive the read buffer. */
	if (w->scan && (login.line = strdup(line)) == NULL) {
		w->lost_logins = true;
		log_error("out of memory queueing a grant");
		return;
	}
	if (grant_batch_add(&w->batch, &login) < 0) {
		if (w->scan)
			free((char *)login.line);
		w->lost_logins = true;
		log_error("out of memory queueing a grant");
	}
}

/* batch_clear - empty the batch, freeing the lines --scan copied */
static void batch_clear(struct loginwatch *w)
{
	if (w->scan)
		for (size_t i = 0; i < w->batch.count; i++)
			free((char *)w->batch.logins[i].line);
	grant_batch_clear(&w->batch);
}

/* cp_slot - when the checkpoint of source was last written */
static time_t *cp_slot(struct loginwatch *w, const char *source)
{
	for (size_t i = 0; i < w->cp_count; i++)
		if (strcmp(w->cp[i].source, source) == 0)
			return &w->cp[i].written;
	if (w->cp_count == LOGINWATCH_MAX_SOURCES)
		return NULL;
	w->cp[w->cp_count].source = source;
	w->cp[w->cp_count].written = 0;
	return &w->cp[w->cp_count++].written;
}

/* on_batch - write the read's grants and (when due) its checkpoint */
static int on_batch(void *ctx, const char *source, const struct follow_position *pos,
		    bool important)
{
	struct loginwatch *w = ctx;
	struct store_checkpoint cp, *cpp = NULL;
	time_t *written = NULL;
	char *error = NULL;

	w->now = time(NULL);
	if (pos != NULL)
		metrics_loginwatch_position(source, pos->dev, pos->ino, pos->offset);
	if (w->progress != NULL && pos != NULL)
		progress_update(w->progress, w->progress_base + pos->offset, 0);
	if (w->lost_logins) {
		/* A grant could not be queued: read these lines again. */
		w->lost_logins = false;
		batch_clear(w);
		w->stats.batch_failures++;
		return -1;
	}
	if (w->store == NULL) {
		batch_clear(w);
		return 0;
	}
	if (w->scan && !important && w->batch.count < LOGINWATCH_SCAN_BATCH)
		return 0;
	if (pos != NULL && !w->scan) {
		written = cp_slot(w, source);
		if (w->batch.count == 0 && !important && written != NULL
		    && w->now - *written < LOGINWATCH_CHECKPOINT_IDLE)
			return 0;
		memset(&cp, 0, sizeof(cp));
		snprintf(cp.source, sizeof(cp.source), "%s", source);
		cp.dev = pos->dev;
		cp.ino = pos->ino;
		cp.offset = pos->offset;
		cp.line_hash = pos->line_hash;
		cp.updated = (int64_t)w->now;
		cpp = &cp;
	} else if (w->batch.count == 0) {
		return 0;
	}
	for (unsigned attempt = 0;; attempt++) {
		size_t count = w->batch.count;

		if (grant_batch_apply(&w->batch, w->store, cpp, &error) == 0) {
			struct grant_batch done = { w->batch.logins, count, w->batch.cap };

			w->stats.granted += count;
			if (written != NULL)
				*written = w->now;
			for (size_t i = 0; i < done.count; i++)
				grants_log(&done.logins[i], w->scan ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
			if (w->scan)
				for (size_t i = 0; i < count; i++)
					free((char *)done.logins[i].line);
			return 0;
		}
		log_error("%s: cannot write %zu grant(s): %s", source, count, error ? error : "error");
		free(error);
		error = NULL;
		/* A file is read again from its checkpoint; stdin cannot be,
		   so its batch is retried for a while. */
		if (pos != NULL || attempt + 1 >= LOGINWATCH_STDIN_RETRIES
		    || (w->stop != NULL && *w->stop)) {
			if (pos == NULL)
				log_error("stdin: %zu login(s) lost", count);
			batch_clear(w);
			w->stats.batch_failures++;
			return -1;
		}
		sleep(1);
	}
}

/* needle - what a line must hold to be worth parsing */
static const char *needle(void *ctx)
{
	const struct loginwatch *w = ctx;

	return w->parsers.needle;
}

const struct follow_callbacks loginwatch_callbacks = { on_line, needle, on_batch };

/* loginwatch_position - a stored checkpoint as a follow position */
void loginwatch_position(const struct store_checkpoint *cp, struct follow_position *pos_r)
{
	pos_r->dev = cp->dev;
	pos_r->ino = cp->ino;
	pos_r->offset = cp->offset;
	pos_r->line_hash = cp->line_hash;
}

void loginwatch_done(struct loginwatch *w)
{
	batch_clear(w);
	grant_batch_free(&w->batch);
}

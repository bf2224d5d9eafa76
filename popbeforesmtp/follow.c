/*
 * NAME
 *	follow 3
 * SUMMARY
 *	log sources followed like tail -F, with resumable positions
 * SYNOPSIS
 *	#include "follow.h"
 * DESCRIPTION
 *	See follow.h. One buffer per source; lines are cut in place. The
 *	position (offset) only ever counts complete lines, so it always
 *	points at the start of a line: rewinding to it and resuming from it
 *	are both exact.
 *
 *	follow_check_file() drains a source, then checks it for truncation
 *	and rotation by comparing the open file with what the path names
 *	now; follow_loop.c calls it at every wake-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error_r.h"
#include "follow.h"
#include "follow_private.h"
#include "log.h"
#include "parsers.h"
#include "position.h"

/* follow_find_source - the source of path */
struct source *follow_find_source(struct follow *f, const char *path)
{
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->src[i].path, path) == 0)
			return &f->src[i];
	return NULL;
}

/* source_reset - forget the buffer, start at offset */
static void source_reset(struct source *s, uint64_t offset, uint64_t hash)
{
	s->offset = offset;
	s->hash = hash;
	s->len = 0;
	s->done = 0;
	s->skipped = 0;
	s->skipping = false;
}

/* source_set_fd - make fd the file read, at offset */
static int source_set_fd(struct source *s, int fd, uint64_t offset, uint64_t hash)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || lseek(fd, (off_t)offset, SEEK_SET) < 0)
		return -1;
	if (s->fd >= 0 && s->fd != fd)
		close(s->fd);
	s->fd = fd;
	s->dev = (uint64_t)st.st_dev;
	s->ino = (uint64_t)st.st_ino;
	source_reset(s, offset, hash);
	return 0;
}

/* follow_batch - hand the position to the caller */
int follow_batch(struct follow *f, struct source *s, bool important)
{
	struct follow_position pos = { s->dev, s->ino, s->offset, s->hash };

	return f->cb.batch(f->ctx, s->name, s->is_stdin ? NULL : &pos, important);
}

/* long_line - count (and now and then log) a skipped line */
static void long_line(struct follow *f, struct source *s, uint64_t len)
{
	if (f->long_lines++ % 1000 == 0)
		log_warning("%s: skipped a line of %llu bytes (longer than %d) at offset %llu", s->name,
			    (unsigned long long)len, LOGIN_LINE_MAX, (unsigned long long)s->offset);
}

/* process_lines - hand out the complete lines of buf that hold the
   needle; true when buf held any complete line. The buffer is compacted
   only by compact(), after the batch callback: the lines handed out must
   stay where they are until then. */
static bool process_lines(struct follow *f, struct source *s)
{
	char *p = s->buf, *limit, *nl, *hit, *ls;
	const char *needle = f->cb.needle != NULL ? f->cb.needle(f->ctx) : NULL;
	size_t nlen = needle != NULL ? strlen(needle) : 0;

	if ((nl = memrchr(s->buf, '\n', s->len)) == NULL) {
		s->done = 0;
		return false;
	}
	limit = nl + 1;
	/* The hash of the last complete line, before any newline becomes NUL. */
	ls = memrchr(s->buf, '\n', (size_t)(nl - s->buf));
	ls = ls != NULL ? ls + 1 : s->buf;
	s->hash = follow_line_hash(ls, (size_t)(nl - ls));

	if (s->skipping) {
		/* buf starts with the tail of an overlong line. */
		nl = memchr(p, '\n', (size_t)(limit - p));
		long_line(f, s, s->skipped + (uint64_t)(nl - p));
		s->offset += s->skipped;
		s->skipped = 0;
		s->skipping = false;
		p = nl + 1;
	}
	while (p < limit) {
		size_t len;

		hit = nlen > 0 ? memmem(p, (size_t)(limit - p), needle, nlen) : p;
		if (hit == NULL)
			break;
		ls = hit > p ? memrchr(p, '\n', (size_t)(hit - p)) : NULL;
		ls = ls != NULL ? ls + 1 : p;
		nl = memchr(hit, '\n', (size_t)(limit - hit));
		len = (size_t)(nl - ls);
		if (len > LOGIN_LINE_MAX) {
			long_line(f, s, len);
		} else {
			*nl = '\0';
			f->cb.line(f->ctx, s->name, ls, len);
		}
		p = nl + 1;
	}
	s->offset += (uint64_t)(limit - s->buf);
	s->done = (size_t)(limit - s->buf);
	return true;
}

/* compact - drop the lines handed out; keep the unfinished rest */
static void compact(struct source *s)
{
	char *p = s->buf + s->done;
	size_t rest = s->len - s->done;

	/* An overlong unfinished line: keep only its tail for the hash. */
	if (s->skipping || rest > LOGIN_LINE_MAX) {
		s->skipping = true;
		if (rest > FOLLOW_HASH_SPAN) {
			size_t drop = rest - FOLLOW_HASH_SPAN;

			s->skipped += drop;
			p += drop;
			rest -= drop;
		}
	}
	memmove(s->buf, p, rest);
	s->len = rest;
	s->done = 0;
}

/* follow_finish_partial - the last line of a file that ended without a newline */
void follow_finish_partial(struct follow *f, struct source *s)
{
	if (s->len == 0)
		return;
	if (s->skipping) {
		long_line(f, s, s->skipped + s->len);
	} else {
		const char *needle = f->cb.needle != NULL ? f->cb.needle(f->ctx) : NULL;

		s->buf[s->len] = '\0';
		if (needle == NULL || needle[0] == '\0'
		    || memmem(s->buf, s->len, needle, strlen(needle)) != NULL)
			f->cb.line(f->ctx, s->name, s->buf, s->len);
	}
	s->hash = follow_line_hash(s->buf, s->len);
	s->offset += s->skipped + s->len;
	s->len = 0;
	s->skipped = 0;
	s->skipping = false;
}

/* follow_drain - read fd to its end; 0 at the end, -1 (rewound) when a batch failed
   or the read failed */
int follow_drain(struct follow *f, struct source *s)
{
	for (;;) {
		uint64_t off0 = s->offset, hash0 = s->hash;
		ssize_t n;

		do
			n = read(s->fd, s->buf + s->len, BUF_CAP - s->len);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			log_error("%s: read: %m", s->name);
			return -1;
		}
		if (n == 0) {
			if (s->is_stdin)
				s->stdin_eof = true;
			return 0;
		}
		s->len += (size_t)n;
		if (!process_lines(f, s)) {
			compact(s);
			continue;
		}
		if (follow_batch(f, s, false) < 0) {
			if (s->is_stdin) {
				compact(s);
				return -1;	/* the caller retried already */
			}
			/* Read these lines again later, from where we were. */
			if (lseek(s->fd, (off_t)off0, SEEK_SET) < 0)
				log_error("%s: lseek: %m", s->name);
			source_reset(s, off0, hash0);
			return -1;
		}
		compact(s);
	}
}

/* switch_to - finish the current file and read newfd from its start */
static void switch_to(struct follow *f, struct source *s, int newfd, const char *why)
{
	follow_finish_partial(f, s);
	log_info("%s: %s after %llu bytes; reading the new file", s->name, why,
		 (unsigned long long)s->offset);
	if (source_set_fd(s, newfd, 0, 0) < 0) {
		log_error("%s: %m", s->name);
		close(newfd);
		close(s->fd);
		s->fd = -1;
		return;
	}
	if (follow_drain(f, s) == 0)
		(void)follow_batch(f, s, true);
}

/* is_truncated - copytruncate: the file is shorter than what we read of
   it, or was refilled past our position (the line before our offset is
   not ours any more). *st_r gets the file's status. */
static bool is_truncated(struct source *s, struct stat *st_r)
{
	struct follow_position here = { s->dev, s->ino, s->offset, s->hash };

	if (fstat(s->fd, st_r) < 0)
		return false;
	if ((uint64_t)st_r->st_size < s->offset + s->skipped + s->len)
		return true;
	return s->offset > 0 && !position_matches(s->fd, &here);
}

/* restart_truncated - the file was truncated under us: lines written
   after our last read and before the truncation are in logrotate's copy;
   finish that copy first when it is found, then read the file from 0 */
static void restart_truncated(struct follow *f, struct source *s)
{
	struct follow_position here = { s->dev, s->ino, s->offset, s->hash };
	int copy = s->offset > 0 ? position_find_rotated(s->dir, s->base, s->name, &here) : -1;

	log_info("%s: truncated or rewritten (copytruncate?) after %llu bytes; %s", s->name,
		 (unsigned long long)s->offset,
		 copy >= 0 ? "finishing the copy first" : "reading from 0");
	if (lseek(s->fd, 0, SEEK_SET) < 0) {
		log_error("%s: lseek: %m", s->name);
		if (copy >= 0)
			close(copy);
		return;
	}
	if (copy >= 0 && s->next_fd < 0) {
		s->next_fd = s->fd;
		s->fd = -1;
		if (source_set_fd(s, copy, here.offset, here.line_hash) == 0) {
			s->finishing = true;
			if (follow_drain(f, s) == 0)
				follow_check_file(f, s);	/* switches to the file at 0 */
			return;
		}
		close(copy);
		s->fd = s->next_fd;
		s->next_fd = -1;
	} else if (copy >= 0) {
		close(copy);
	}
	source_reset(s, 0, 0);
	if (follow_drain(f, s) == 0)
		(void)follow_batch(f, s, true);
}

/* follow_check_file - drain a file source, then look for truncation and rotation */
void follow_check_file(struct follow *f, struct source *s)
{
	struct stat st, pst;
	int fd;

	if (s->fd < 0) {
		if ((fd = position_open(s->path)) < 0) {
			if (errno != ENOENT && !s->open_error_logged) {
				log_error("%s: cannot open: %m", s->path);
				s->open_error_logged = true;
			}
			return;
		}
		s->open_error_logged = false;
		if (source_set_fd(s, fd, 0, 0) < 0) {
			close(fd);
			return;
		}
		log_info("%s: appeared; reading from its start", s->name);
	}
	/* Truncation is checked before reading too: reading first would take
	   the refilled file's bytes past our offset for ours. */
	if (is_truncated(s, &st)) {
		restart_truncated(f, s);
		return;
	}
	if (follow_drain(f, s) < 0)
		return;
	if (is_truncated(s, &st)) {
		restart_truncated(f, s);
		return;
	}
	if (s->finishing) {
		/* Rotated more than once while we were down: the next older file
		   (mail.log.1 after mail.log.2) before the current one. */
		if (s->chain
		    && (fd = position_find_successor(s->dir, s->base, &st, s->next_fd, s->path)) >= 0) {
			switch_to(f, s, fd, "rotated file read to its end");
			return;
		}
		s->finishing = false;
		s->chain = false;
		fd = s->next_fd >= 0 ? s->next_fd : position_open(s->path);
		s->next_fd = -1;
		if (fd >= 0)
			switch_to(f, s, fd, "rotated file read to its end");
		return;
	}
	/* Rotation: path names another file. The old one is read to its end
	   first; the switch waits until the writer has written to the new one. */
	if (stat(s->path, &pst) == 0 && ((uint64_t)pst.st_dev != s->dev || (uint64_t)pst.st_ino != s->ino)
	    && pst.st_size > 0) {
		if (follow_drain(f, s) < 0)
			return;
		if ((fd = position_open(s->path)) >= 0)
			switch_to(f, s, fd, "rotated");
	}
}



/* follow_resume - continue from a saved position */
void follow_resume(struct follow *f, const char *path, const struct follow_position *pos)
{
	struct source *s = follow_find_source(f, path);
	int fd;

	if (s == NULL || s->is_stdin)
		return;
	if (pos == NULL) {
		log_info("%s: no checkpoint; reading from the start", path);
		return;
	}
	if (s->fd < 0 && (fd = position_open(path)) >= 0 && source_set_fd(s, fd, 0, 0) < 0)
		close(fd);
	if (s->fd >= 0 && s->dev == pos->dev && s->ino == pos->ino) {
		if (position_matches(s->fd, pos) && source_set_fd(s, s->fd, pos->offset, pos->line_hash) == 0) {
			log_info("%s: resuming at offset %llu", path, (unsigned long long)pos->offset);
			return;
		}
		log_warning("%s: the file changed under the checkpoint (truncated or rewritten)", path);
	}
	if ((fd = position_find_rotated(s->dir, s->base, s->name, pos)) >= 0) {
		s->next_fd = s->fd;
		s->fd = -1;
		if (source_set_fd(s, fd, pos->offset, pos->line_hash) == 0) {
			s->finishing = true;
			s->chain = true;
			log_info("%s: finishing the rotated file from offset %llu first", path,
				 (unsigned long long)pos->offset);
			return;
		}
		close(fd);
		s->fd = s->next_fd;
		s->next_fd = -1;
	}
	log_warning("%s: the checkpoint's file is gone (rotated and compressed or removed); "
		    "reading the current file from its start", path);
	if (s->fd >= 0)
		(void)source_set_fd(s, s->fd, 0, 0);
}

/* follow_create - empty follower */
int follow_create(const struct follow_callbacks *cb, void *ctx, struct follow **follow_r,
		  char **error_r)
{
	struct follow *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return error_r_set(error_r, "out of memory");
	f->cb = *cb;
	f->ctx = ctx;
	f->ino_fd = -1;
	f->input_fd = -1;
	*follow_r = f;
	return 0;
}

/* follow_add_input - one other input (the journal) */
int follow_add_input(struct follow *f, int fd, void (*ready)(void *arg), void *arg,
		     char **error_r)
{
	if (f->input_fd >= 0)
		return error_r_set(error_r, "only one journal source");
	f->input_fd = fd;
	f->input_ready = ready;
	f->input_arg = arg;
	return 0;
}

/* follow_add - one more source, opened now when it exists */
int follow_add(struct follow *f, const char *path, char **error_r)
{
	struct source *s;
	char *tmp;
	int fd;

	if (f->count == MAX_SOURCES)
		return error_r_set(error_r, "%s: too many sources (at most %d)", path, MAX_SOURCES);
	if (follow_find_source(f, path) != NULL)
		return 0;
	s = &f->src[f->count];
	memset(s, 0, sizeof(*s));
	s->fd = s->next_fd = s->wd = -1;
	s->is_stdin = strcmp(path, "-") == 0;
	s->path = strdup(path);
	s->buf = malloc(BUF_CAP + 1);
	if (s->path == NULL || s->buf == NULL) {
		free(s->path);
		free(s->buf);
		return error_r_set(error_r, "out of memory");
	}
	s->name = s->is_stdin ? "stdin" : s->path;
	if (s->is_stdin) {
		int fl = fcntl(0, F_GETFL);

		s->fd = 0;
		/* A pipe must not block the loop; a regular file never does. */
		if (fl >= 0)
			(void)fcntl(0, F_SETFL, fl | O_NONBLOCK);
	} else {
		tmp = strdup(path);
		s->dir = tmp ? strdup(dirname(tmp)) : NULL;
		free(tmp);
		tmp = strdup(path);
		s->base = tmp ? strdup(basename(tmp)) : NULL;
		free(tmp);
		if (s->dir == NULL || s->base == NULL) {
			free(s->dir);
			free(s->base);
			free(s->path);
			free(s->buf);
			return error_r_set(error_r, "out of memory");
		}
		if ((fd = position_open(path)) >= 0) {
			if (source_set_fd(s, fd, 0, 0) < 0)
				close(fd);
		} else if (errno != ENOENT) {
			error_r_set(error_r, "%s: cannot open: %s", path, strerror(errno));
			free(s->dir);
			free(s->base);
			free(s->path);
			free(s->buf);
			return -1;
		}
	}
	f->count++;
	return 0;
}

/* follow_flush - save every file source's position now */
void follow_flush(struct follow *f)
{
	for (size_t i = 0; i < f->count; i++)
		if (!f->src[i].is_stdin && f->src[i].fd >= 0)
			(void)follow_batch(f, &f->src[i], true);
}

/* follow_scan - one file, start to end */
int follow_scan(const char *path, const struct follow_callbacks *cb, void *ctx, char **error_r)
{
	struct follow f = { .cb = *cb, .ctx = ctx, .ino_fd = -1 };
	struct source *s = &f.src[0];
	int fd, rc = 0;

	memset(s, 0, sizeof(*s));
	s->path = (char *)path;
	s->name = path;
	s->fd = s->next_fd = s->wd = -1;
	if ((fd = position_open(path)) < 0)
		return error_r_set(error_r, "%s: cannot open: %s", path, strerror(errno));
	if ((s->buf = malloc(BUF_CAP + 1)) == NULL || source_set_fd(s, fd, 0, 0) < 0) {
		close(fd);
		free(s->buf);
		return error_r_set(error_r, "out of memory");
	}
	if (follow_drain(&f, s) < 0) {
		rc = -1;
	} else {
		follow_finish_partial(&f, s);
		if (follow_batch(&f, s, true) < 0)
			rc = -1;
	}
	if (rc < 0)
		error_r_set(error_r, "%s: stopped at offset %llu", path,
			    (unsigned long long)s->offset);
	close(s->fd);
	free(s->buf);
	return rc;
}

uint64_t follow_long_lines(const struct follow *f)
{
	return f->long_lines;
}

/* follow_free - close and free everything */
void follow_free(struct follow **fp)
{
	struct follow *f = *fp;

	if (f == NULL)
		return;
	for (size_t i = 0; i < f->count; i++) {
		struct source *s = &f->src[i];

		if (s->fd > 0 || (s->fd == 0 && !s->is_stdin))
			close(s->fd);
		if (s->next_fd >= 0)
			close(s->next_fd);
		free(s->path);
		free(s->dir);
		free(s->base);
		free(s->buf);
	}
	if (f->ino_fd >= 0)
		close(f->ino_fd);
	free(f);
	*fp = NULL;
}

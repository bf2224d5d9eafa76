/*
 * NAME
 *	follow_loop 3
 * SUMMARY
 *	waiting for log data: inotify, stdin, the journal, the rescan timer
 * SYNOPSIS
 *	#include "follow.h"
 * DESCRIPTION
 *	One poll() over the inotify descriptor (a watch on each file
 *	source's directory: IN_MODIFY of a file arrives there too, and
 *	creation and renames of the name), standard input and the journal.
 *	Every wake-up that concerns a source's name checks every file source;
 *	so does the rescan every FOLLOW_RESCAN_MS, which also retries
 *	directories that did not exist and catches what inotify cannot see
 *	(network file systems). Without inotify the loop polls every
 *	FOLLOW_POLL_MS.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "error_r.h"
#include "follow.h"
#include "follow_private.h"
#include "log.h"

/* add_watches - inotify on each file source's directory (retried later
   when the directory does not exist yet) */
static void add_watches(struct follow *f)
{
	for (size_t i = 0; f->ino_fd >= 0 && i < f->count; i++) {
		struct source *s = &f->src[i];

		if (s->is_stdin || s->wd >= 0)
			continue;
		s->wd = inotify_add_watch(f->ino_fd, s->dir,
					  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM
						  | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB
						  | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
	}
}

/* read_events - empty the inotify queue; true when one concerns a source */
static bool read_events(struct follow *f)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;
	ssize_t n;

	while ((n = read(f->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
				relevant = true;
				if (ev->mask & IN_IGNORED)
					for (size_t i = 0; i < f->count; i++)
						if (f->src[i].wd == ev->wd)
							f->src[i].wd = -1;
			} else if (ev->len == 0) {
				relevant = true;
			} else {
				for (size_t i = 0; i < f->count && !relevant; i++)
					if (!f->src[i].is_stdin
					    && strncmp(ev->name, f->src[i].base, strlen(f->src[i].base)) == 0)
						relevant = true;
			}
			p += sizeof(struct inotify_event) + ev->len;
		}
	}
	return relevant;
}

/* elapsed_ms - milliseconds from a to b */
static long elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (long)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* follow_run - the loop */
int follow_run(struct follow *f, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload,
	       char **error_r)
{
	struct timespec last_rescan;
	bool files = false;

	for (size_t i = 0; i < f->count; i++)
		files |= !f->src[i].is_stdin;
	if (files && f->ino_fd < 0) {
		f->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (f->ino_fd < 0)
			log_warning("inotify unavailable (%m): polling every %d ms", FOLLOW_POLL_MS);
	}
	add_watches(f);
	for (size_t i = 0; i < f->count; i++)
		if (!f->src[i].is_stdin)
			follow_check_file(f, &f->src[i]);
	if (f->input_fd >= 0)
		f->input_ready(f->input_arg);
	clock_gettime(CLOCK_MONOTONIC, &last_rescan);

	while (!*stop && !*reload) {
		struct pollfd pfd[3];
		nfds_t n = 0;
		int timeout = f->ino_fd >= 0 ? FOLLOW_RESCAN_MS : FOLLOW_POLL_MS, rc;
		bool stdin_open = false, check = false, stdin_ready = false, input_ready = false;
		bool rescan = false;
		struct timespec now;
		struct source *in = follow_find_source(f, "-");

		if (f->ino_fd >= 0) {
			pfd[n].fd = f->ino_fd;
			pfd[n++].events = POLLIN;
		}
		if (in != NULL && !in->stdin_eof) {
			pfd[n].fd = 0;
			pfd[n++].events = POLLIN;
			stdin_open = true;
		}
		if (f->input_fd >= 0) {
			pfd[n].fd = f->input_fd;
			pfd[n++].events = POLLIN;
		}
		if (!files && !stdin_open && f->input_fd < 0)
			return 0;	/* stdin only, and it ended */
		rc = poll(pfd, n, files || f->input_fd >= 0 ? timeout : -1);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return error_r_set(error_r, "poll: %s", strerror(errno));
		}
		/* The rescan also runs when unrelated events in a watched
		   directory keep poll() from ever timing out. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (rc == 0 || elapsed_ms(&last_rescan, &now) >= timeout) {
			rescan = true;
			check = true;
			last_rescan = now;
		}
		for (nfds_t i = 0; i < n; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == f->ino_fd)
				check |= read_events(f);
			else if (pfd[i].fd == f->input_fd)
				input_ready = true;
			else
				stdin_ready = true;
		}
		if (input_ready || (rescan && f->input_fd >= 0))
			f->input_ready(f->input_arg);
		if (stdin_ready) {
			(void)follow_drain(f, in);
			if (in->stdin_eof) {
				follow_finish_partial(f, in);
				(void)follow_batch(f, in, true);
				log_info("stdin: end of input");
			}
		}
		if (check) {
			if (rescan)
				add_watches(f);
			for (size_t i = 0; i < f->count; i++)
				if (!f->src[i].is_stdin)
					follow_check_file(f, &f->src[i]);
		}
	}
	return 0;
}

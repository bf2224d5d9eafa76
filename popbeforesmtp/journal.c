/*
 * NAME
 *	journal 3
 * SUMMARY
 *	the systemd journal as a login source, trusting only journald's fields
 * SYNOPSIS
 *	#include "journal.h"
 * DESCRIPTION
 *	See journal.h. The journal is opened as root, before the privilege
 *	drop; a file journald starts later (rotation) is opened as run_user,
 *	and sd_journal skips one it cannot open without a word. So every
 *	JOURNAL_CHECK_SEC the local journal directories are checked and each
 *	system journal file run_user cannot read is logged once as an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error_r.h"
#include "journal.h"
#include "log.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#define JOURNAL_CHECK_SEC 5	/* how often the files' readability is checked */
#define JOURNAL_WARNED_MAX 64	/* unreadable files remembered (one warning each) */

struct journal {
	sd_journal *j;
	const struct follow_callbacks *cb;
	void *ctx;
	const struct parser_set *parsers;
	uint64_t skip_usec;	/* resume: skip entries up to this realtime ... */
	uint64_t skip_hash;	/* ... and the one whose cursor has this hash */
	char line[LOGIN_LINE_MAX + 128];
	struct timespec checked;	/* last readability check (CLOCK_MONOTONIC) */
	uint64_t warned[JOURNAL_WARNED_MAX];	/* hashes of the paths warned about */
	size_t warned_count;
};

bool journal_available(void)
{
	return true;
}

/* field - the value of name in the current entry, or NULL */
static const char *field(sd_journal *j, const char *name, size_t *len_r)
{
	const void *data;
	size_t len, n = strlen(name);

	if (sd_journal_get_data(j, name, &data, &len) < 0 || len <= n + 1)
		return NULL;
	*len_r = len - n - 1;
	return (const char *)data + n + 1;
}

/* system_file - a name sd_journal reads with SD_JOURNAL_SYSTEM */
static bool system_file(const char *name)
{
	size_t n = strlen(name);

	if (strcmp(name, "system.journal") != 0 && strncmp(name, "system@", 7) != 0)
		return false;
	return (n > 8 && strcmp(name + n - 8, ".journal") == 0)
	       || (n > 9 && strcmp(name + n - 9, ".journal~") == 0);
}

/* warn_once - log an unreadable file, once per path (bounded) */
static void warn_once(struct journal *jn, const char *path, int err)
{
	uint64_t h = follow_line_hash(path, strlen(path));

	for (size_t i = 0; i < jn->warned_count; i++)
		if (jn->warned[i] == h)
			return;
	if (jn->warned_count == JOURNAL_WARNED_MAX)
		return;
	jn->warned[jn->warned_count++] = h;
	log_error("journal: %s: %s: sd_journal skips a file it cannot open (one journald starts "
		  "after a rotation, say) and its logins are missed; give run_user read access "
		  "(group systemd-journal or adm)",
		  path, strerror(err));
	if (jn->warned_count == JOURNAL_WARNED_MAX)
		log_error("journal: %d unreadable journal files; no more are reported",
			  JOURNAL_WARNED_MAX);
}

/* check_readable - sd_journal skips a file it cannot open without telling
   (after the privilege drop: every file journald starts after a rotation
   is one when run_user may not read the journal), so look for such files
   in the local machine's journal directories and report each. */
static void check_readable(struct journal *jn)
{
	static const char *const roots[] = { "/run/log/journal", "/var/log/journal" };
	char id[SD_ID128_STRING_MAX], dir[64], path[512];
	struct timespec now;
	sd_id128_t machine;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (jn->checked.tv_sec != 0 && now.tv_sec - jn->checked.tv_sec < JOURNAL_CHECK_SEC)
		return;
	jn->checked = now;
	if (sd_id128_get_machine(&machine) < 0)
		return;
	sd_id128_to_string(machine, id);
	for (size_t r = 0; r < sizeof(roots) / sizeof(roots[0]); r++) {
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/%s", roots[r], id);
		if ((d = opendir(dir)) == NULL) {
			if (errno != ENOENT)
				warn_once(jn, dir, errno);
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			int n;

			if (!system_file(de->d_name))
				continue;
			n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (n < 0 || (size_t)n >= sizeof(path))
				continue;
			if (faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) < 0 && errno != ENOENT)
				warn_once(jn, path, errno);
		}
		closedir(d);
	}
}

/* unit_trusted - _SYSTEMD_UNIT belongs to an enabled format */
static bool unit_trusted(const struct journal *jn, const char *unit, size_t len)
{
	for (size_t i = 0; i < jn->parsers->count; i++)
		for (const char *const *u = jn->parsers->on[i]->units; *u != NULL; u++)
			if (strlen(*u) == len && memcmp(*u, unit, len) == 0)
				return true;
	return false;
}

int journal_open(const struct parser_set *parsers, const struct follow_callbacks *cb, void *ctx,
		 struct journal **journal_r, char **error_r)
{
	struct journal *jn = calloc(1, sizeof(*jn));
	int rc;

	if (jn == NULL)
		return error_r_set(error_r, "out of memory");
	if ((rc = sd_journal_open(&jn->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM)) < 0) {
		error_r_set(error_r, "journal: %s", strerror(-rc));
		free(jn);
		return -1;
	}
	jn->cb = cb;
	jn->ctx = ctx;
	jn->parsers = parsers;
	/* Only the units of the enabled formats (OR of matches on one field). */
	for (size_t i = 0; i < parsers->count; i++)
		for (const char *const *u = parsers->on[i]->units; *u != NULL; u++) {
			char m[128];

			snprintf(m, sizeof(m), "_SYSTEMD_UNIT=%s", *u);
			(void)sd_journal_add_match(jn->j, m, 0);
		}
	*journal_r = jn;
	return 0;
}

void journal_resume(struct journal *jn, const struct follow_position *pos, int64_t since)
{
	if (pos != NULL) {
		jn->skip_usec = pos->offset;
		jn->skip_hash = pos->line_hash;
		(void)sd_journal_seek_realtime_usec(jn->j, pos->offset);
		log_info("journal: resuming at %llu us", (unsigned long long)pos->offset);
	} else {
		(void)sd_journal_seek_realtime_usec(jn->j, since > 0 ? (uint64_t)since * 1000000 : 0);
	}
}

int journal_fd(struct journal *jn)
{
	return sd_journal_get_fd(jn->j);
}

void journal_ready(void *arg)
{
	struct journal *jn = arg;
	uint64_t usec = 0, hash = 0;
	bool any = false;

	(void)sd_journal_process(jn->j);
	check_readable(jn);
	while (sd_journal_next(jn->j) > 0) {
		const char *unit, *ident, *msg;
		size_t ulen, ilen, mlen;
		char *cursor = NULL, stamp[32];
		time_t secs;
		struct tm tm;
		int n;

		if (sd_journal_get_realtime_usec(jn->j, &usec) < 0)
			continue;
		if (sd_journal_get_cursor(jn->j, &cursor) < 0)
			continue;
		hash = follow_line_hash(cursor, strlen(cursor));
		free(cursor);
		/* Entries up to the checkpoint were read before. */
		if (jn->skip_usec != 0 && usec <= jn->skip_usec) {
			if (usec == jn->skip_usec && hash == jn->skip_hash)
				jn->skip_usec = 0;
			continue;
		}
		jn->skip_usec = 0;
		any = true;
		if ((unit = field(jn->j, "_SYSTEMD_UNIT", &ulen)) == NULL
		    || !unit_trusted(jn, unit, ulen)
		    || (ident = field(jn->j, "SYSLOG_IDENTIFIER", &ilen)) == NULL
		    || (msg = field(jn->j, "MESSAGE", &mlen)) == NULL)
			continue;
		secs = (time_t)(usec / 1000000);
		gmtime_r(&secs, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (ilen + mlen > LOGIN_LINE_MAX)
			continue;
		n = snprintf(jn->line, sizeof(jn->line), "%s journal %.*s: %.*s", stamp, (int)ilen,
			     ident, (int)mlen, msg);
		if (n > 0 && (size_t)n < sizeof(jn->line) && memchr(jn->line, '\n', (size_t)n) == NULL)
			jn->cb->line(jn->ctx, JOURNAL_SOURCE, jn->line, (size_t)n);
	}
	if (any) {
		struct follow_position pos = { 0, 0, usec, hash };

		if (jn->cb->batch(jn->ctx, JOURNAL_SOURCE, &pos, false) < 0)
			log_error("journal: grants not written; they are read again after a restart");
	}
}

void journal_free(struct journal **jp)
{
	if (*jp == NULL)
		return;
	sd_journal_close((*jp)->j);
	free(*jp);
	*jp = NULL;
}

#else /* no libsystemd */

bool journal_available(void)
{
	return false;
}

int journal_open(const struct parser_set *parsers, const struct follow_callbacks *cb, void *ctx,
		 struct journal **journal_r, char **error_r)
{
	(void)parsers;
	(void)cb;
	(void)ctx;
	*journal_r = NULL;
	return error_r_set(error_r,
			   "loginwatch_sources: \"journal\": this build has no libsystemd");
}

void journal_resume(struct journal *journal, const struct follow_position *pos, int64_t since)
{
	(void)journal;
	(void)pos;
	(void)since;
}

int journal_fd(struct journal *journal)
{
	(void)journal;
	return -1;
}

void journal_ready(void *journal)
{
	(void)journal;
}

void journal_free(struct journal **journal)
{
	*journal = NULL;
}

#endif

/*
 * NAME
 *	journal 3
 * SUMMARY
 *	the systemd journal as a login source, trusting only journald's fields
 * SYNOPSIS
 *	#include "journal.h"
 * DESCRIPTION
 *	See journal.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "log.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>

struct journal {
	sd_journal *j;
	const struct follow_callbacks *cb;
	void *ctx;
	const struct parser_set *parsers;
	uint64_t skip_usec;	/* resume: skip entries up to this realtime ... */
	uint64_t skip_hash;	/* ... and the one whose cursor has this hash */
	char line[LOGIN_LINE_MAX + 128];
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

	if (jn == NULL) {
		*error_r = strdup("out of memory");
		return -1;
	}
	if ((rc = sd_journal_open(&jn->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM)) < 0) {
		if (asprintf(error_r, "journal: %s", strerror(-rc)) < 0)
			*error_r = NULL;
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
	*error_r = strdup("loginwatch_sources: \"journal\": this build has no libsystemd");
	return -1;
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

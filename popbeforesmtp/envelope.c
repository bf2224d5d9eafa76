/*
 * NAME
 *	envelope 3
 * SUMMARY
 *	the time stamp and host in front of a log line's program tag
 * SYNOPSIS
 *	#include "envelope.h"
 * DESCRIPTION
 *	See envelope.h. Every position is checked against the line length:
 *	a line can end anywhere.
 */
#include <stdbool.h>
#include <string.h>

#include "envelope.h"

static const char months[12][3] = { { 'J', 'a', 'n' }, { 'F', 'e', 'b' }, { 'M', 'a', 'r' },
				    { 'A', 'p', 'r' }, { 'M', 'a', 'y' }, { 'J', 'u', 'n' },
				    { 'J', 'u', 'l' }, { 'A', 'u', 'g' }, { 'S', 'e', 'p' },
				    { 'O', 'c', 't' }, { 'N', 'o', 'v' }, { 'D', 'e', 'c' } };

#define BSD_STAMP_LEN 15 /* "Nov 26 13:06:41" */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* two_digits - the value of two decimal digits at p, or -1 */
static int two_digits(const char *p)
{
	if (!is_digit(p[0]) || !is_digit(p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* bsd_month - the month (0-11) named by the three letters at p, or -1 */
static int bsd_month(const char *p)
{
	for (int i = 0; i < 12; i++)
		if (memcmp(p, months[i], 3) == 0)
			return i;
	return -1;
}

/* hms_parse - "HH:MM:SS" at p, ranges checked (a leap second allowed) */
static bool hms_parse(const char *p, int *hh, int *mm, int *ss)
{
	if (p[2] != ':' || p[5] != ':')
		return false;
	*hh = two_digits(p);
	*mm = two_digits(p + 3);
	*ss = two_digits(p + 6);
	return *hh >= 0 && *hh <= 23 && *mm >= 0 && *mm <= 59 && *ss >= 0 && *ss <= 60;
}

/* bsd_fields - month, day and time of a BSD stamp (15 bytes at p) */
static bool bsd_fields(const char *p, int *mon, int *mday, int *hh, int *mm, int *ss)
{
	if (p[3] != ' ' || p[6] != ' ')
		return false;
	if ((*mon = bsd_month(p)) < 0)
		return false;
	if (p[4] == ' ' && is_digit(p[5]))
		*mday = p[5] - '0';
	else if ((*mday = two_digits(p + 4)) < 0)
		return false;
	if (*mday < 1 || *mday > 31)
		return false;
	return hms_parse(p + 7, hh, mm, ss);
}

/* rfc3339_length - length of the RFC 3339 stamp at the start of line, or 0 */
static size_t rfc3339_length(const char *line, size_t len)
{
	size_t i = 19;	/* "2026-11-26T12:51:49" */

	if (len < 21 || line[4] != '-' || line[7] != '-' || line[10] != 'T' || line[13] != ':'
	    || line[16] != ':')
		return 0;
	if (line[i] == '.') {
		i++;
		while (i < len && is_digit(line[i]) && i < 40)
			i++;
	}
	if (i < len && line[i] == 'Z')
		return i + 1;
	if (i + 6 <= len && (line[i] == '+' || line[i] == '-') && line[i + 3] == ':'
	    && two_digits(line + i + 1) >= 0 && two_digits(line + i + 4) >= 0)
		return i + 6;
	return 0;
}

/* envelope_parse - locate stamp, host and tag */
int envelope_parse(const char *line, size_t len, struct envelope *env_r)
{
	const char *p, *end = line + len, *sp;
	int mon, mday, hh, mm, ss;

	if (len > BSD_STAMP_LEN && line[0] >= 'A' && line[0] <= 'Z'
	    && bsd_fields(line, &mon, &mday, &hh, &mm, &ss) && line[BSD_STAMP_LEN] == ' ') {
		env_r->kind = ENVELOPE_BSD;
		env_r->stamp_len = BSD_STAMP_LEN;
	} else if (len > 0 && is_digit(line[0]) && (env_r->stamp_len = rfc3339_length(line, len)) > 0
		   && env_r->stamp_len < len && line[env_r->stamp_len] == ' ') {
		env_r->kind = ENVELOPE_RFC3339;
	} else {
		return -1;
	}
	env_r->stamp = line;
	p = line + env_r->stamp_len + 1;
	if (p >= end || *p == ' ')
		return -1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL)
		return -1;
	if (sp[-1] == ':') {
		/* Dovecot's log_path: the first word is the program ("imap-login:"). */
		env_r->host = NULL;
		env_r->host_len = 0;
		env_r->tag = p;
	} else {
		env_r->host = p;
		env_r->host_len = (size_t)(sp - p);
		env_r->tag = sp + 1;
	}
	env_r->tag_len = (size_t)(end - env_r->tag);
	return env_r->tag_len > 0 ? 0 : -1;
}

/* envelope_bsd_time - local time without a year, see envelope.h */
int envelope_bsd_time(int mon, int mday, int hh, int mm, int ss, time_t now, int64_t *time_r)
{
	struct tm now_tm;
	int year;

	if (localtime_r(&now, &now_tm) == NULL)
		return -1;
	/* Next year is only a candidate for a January line read in December. */
	year = (mon == 0 && now_tm.tm_mon == 11) ? now_tm.tm_year + 1 : now_tm.tm_year;
	for (int tries = 0; tries < 3; tries++, year--) {
		struct tm tm = { .tm_sec = ss, .tm_min = mm, .tm_hour = hh, .tm_mday = mday,
				 .tm_mon = mon, .tm_year = year, .tm_isdst = -1 };
		time_t t = mktime(&tm);

		/* mktime moves Feb 29 of a common year to Mar 1: not this year. */
		if (t == (time_t)-1 || tm.tm_mon != mon || tm.tm_mday != mday)
			continue;
		if (t <= now + ENVELOPE_FUTURE_SLACK) {
			*time_r = (int64_t)t;
			return 0;
		}
	}
	return -1;
}

/* rfc3339_time - an RFC 3339 stamp into Unix seconds */
static int rfc3339_time(const char *p, size_t len, int64_t *time_r)
{
	int year, mon, mday, hh, mm, ss, off = 0;
	struct tm tm;
	time_t t;

	if (two_digits(p) < 0 || two_digits(p + 2) < 0)
		return -1;
	year = two_digits(p) * 100 + two_digits(p + 2);
	mon = two_digits(p + 5);
	mday = two_digits(p + 8);
	if (mon < 1 || mon > 12 || mday < 1 || mday > 31 || !hms_parse(p + 11, &hh, &mm, &ss))
		return -1;
	if (p[len - 1] != 'Z') {
		const char *z = p + len - 6;
		int oh = two_digits(z + 1), om = two_digits(z + 4);

		if (oh > 23 || om > 59)
			return -1;
		off = (oh * 60 + om) * 60;
		if (z[0] == '-')
			off = -off;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != mday)
		return -1;
	*time_r = (int64_t)t - off;
	return 0;
}

/* envelope_time - the stamp in Unix seconds */
int envelope_time(const struct envelope *env, time_t now, int64_t *time_r)
{
	int mon, mday, hh, mm, ss;

	if (env->kind == ENVELOPE_RFC3339)
		return rfc3339_time(env->stamp, env->stamp_len, time_r);
	if (!bsd_fields(env->stamp, &mon, &mday, &hh, &mm, &ss))
		return -1;
	return envelope_bsd_time(mon, mday, hh, mm, ss, now, time_r);
}

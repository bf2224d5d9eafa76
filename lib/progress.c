/*
 * NAME
 *	progress 3
 * SUMMARY
 *	one progress line, updated in place, for long work on a terminal
 * SYNOPSIS
 *	#include "progress.h"
 * DESCRIPTION
 *	See progress.h. The line is written as "\r<text>\033[K" and wiped
 *	with "\r\033[K": plain VT100 that every terminal emulator knows.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

/* append - printf at the end of buf, never past size */
static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* append_count - n with thousands separators: "1,234,567" */
static void append_count(char *buf, size_t size, uint64_t n)
{
	char digits[24], out[32];
	size_t len, o = 0;

	snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
	len = strlen(digits);
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
	append(buf, size, "%s", out);
}

/* append_bytes - "812 B", "12.5 KiB", "80.0 MiB", "1.2 GiB" */
static void append_bytes(char *buf, size_t size, double n)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;

	while (n >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
		n /= 1024.0;
		u++;
	}
	if (u == 0)
		append(buf, size, "%.0f B", n);
	else
		append(buf, size, "%.1f %s", n, units[u]);
}

/* append_duration - "45s", "2m05s", "1h02m" (seconds dropped past an hour) */
static void append_duration(char *buf, size_t size, double seconds)
{
	unsigned long long s = seconds < 0 ? 0 : (unsigned long long)(seconds + 0.5);

	if (s < 60)
		append(buf, size, "%llus", s);
	else if (s < 3600)
		append(buf, size, "%llum%02llus", s / 60, s % 60);
	else
		append(buf, size, "%lluh%02llum", s / 3600, s % 3600 / 60);
}

const char *progress_format(char *buf, size_t size, const char *what, enum progress_unit unit,
                            uint64_t done, uint64_t total, double elapsed_s, const char *note)
{
	/* The rate of the first second says little (a cold cache, a first
	   big read): it is shown from one second on. */
	bool have_rate = elapsed_s >= 1.0 && done > 0;
	double rate = have_rate ? (double)done / elapsed_s : 0;

	if (size == 0)
		return buf;
	buf[0] = 0;
	append(buf, size, "%s: ", what);
	switch (unit) {
	case PROGRESS_BUSY:
		append_duration(buf, size, elapsed_s);
		break;
	case PROGRESS_BYTES:
		append_bytes(buf, size, (double)done);
		if (total > 0) {
			append(buf, size, " of ");
			append_bytes(buf, size, (double)total);
		}
		break;
	case PROGRESS_ROWS:
		append_count(buf, size, done);
		if (total > 0) {
			append(buf, size, " of ");
			append_count(buf, size, total);
		}
		append(buf, size, " rows");
		break;
	}
	if (unit != PROGRESS_BUSY && total > 0)
		append(buf, size, " (%u%%)",
		       (unsigned)(done >= total ? 100 : (double)done * 100.0 / (double)total));
	if (unit != PROGRESS_BUSY && have_rate) {
		append(buf, size, ", ");
		if (unit == PROGRESS_BYTES)
			append_bytes(buf, size, rate);
		else
			append_count(buf, size, (uint64_t)(rate + 0.5));
		append(buf, size, unit == PROGRESS_BYTES ? "/s" : " rows/s");
		if (total > done) {
			append(buf, size, ", ");
			append_duration(buf, size, (double)(total - done) / rate);
			append(buf, size, " left");
		}
	}
	if (note != NULL && *note != 0)
		append(buf, size, "; %s", note);
	return buf;
}

/* elapsed - seconds from a to b */
static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void progress_start(struct progress *p, enum progress_mode mode, FILE *stream, const char *what,
                    enum progress_unit unit, uint64_t total)
{
	memset(p, 0, sizeof *p);
	if (stream != NULL &&
	    (mode == PROGRESS_ALWAYS || (mode == PROGRESS_AUTO && isatty(fileno(stream)))))
		p->stream = stream;
	p->what = what;
	p->unit = unit;
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->drawn = p->start;
}

bool progress_is_drawn(const struct progress *p)
{
	return p->stream != NULL;
}

void progress_update(struct progress *p, uint64_t done, uint64_t total)
{
	struct timespec now;
	char line[256];

	p->done = done;
	if (total != 0)
		p->total = total;
	if (p->stream == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Counted work shows its first line at once (the admin sees what runs
	   and how big it is); a busy line only once the work has taken
	   PROGRESS_BUSY_FIRST_MS, so quick queries print nothing. */
	if (!p->visible ? p->unit == PROGRESS_BUSY &&
	                      elapsed(&p->start, &now) * 1000.0 < PROGRESS_BUSY_FIRST_MS
	                : elapsed(&p->drawn, &now) * 1000.0 < PROGRESS_REDRAW_MS)
		return;
	p->drawn = now;
	progress_format(line, sizeof line, p->what, p->unit, p->done, p->total,
	                elapsed(&p->start, &now), p->note);
	fprintf(p->stream, "\r%s\033[K", line);
	fflush(p->stream);
	p->visible = true;
}

void progress_end(struct progress *p)
{
	if (p->stream != NULL && p->visible) {
		fputs("\r\033[K", p->stream);
		fflush(p->stream);
	}
	p->visible = false;
}

/*
 * NAME
 *	cfg 3
 * SUMMARY
 *	the authrelay.conf grammar: lines, comments, continuations, errors
 * SYNOPSIS
 *	#include "cfg.h"
 * DESCRIPTION
 *	The grammar is Postfix main.cf's:
 *
 *	- a logical line starts with a key at column 1: "key = value";
 *	  white space around "=" and at either end of the value is dropped;
 *	- a line that starts with white space continues the logical line
 *	  above (joined with one space);
 *	- a line whose first non-blank character is '#' is a comment, and
 *	  comments and blank lines may sit inside a continued line;
 *	- '#' anywhere else is part of the value (no trailing comments, as in
 *	  Postfix), but a value that fails to parse and holds " #" gets a hint;
 *	- a key given twice: the later one wins, without a warning, as in
 *	  Postfix (an override at the end of the file is a common idiom);
 *	- CR LF line ends are accepted; any other control character but tab,
 *	  and any NUL byte, is an error.
 *
 *	Limits: a physical line of at most 65536 bytes (without its line
 *	end), a logical line of at most 1 MiB, a file of at most 16 MiB;
 *	past them the line or file is reported and skipped.
 *
 *	The file decides who may relay, so one that another account can
 *	change is refused before it is parsed: a world-writable file, or a
 *	file in a world-writable directory without the sticky bit (anyone
 *	could replace it there). The error names the file and the fix.
 *
 *	Every problem is reported, one "FILE:LINE: message" line each (the
 *	line of a continued value is the line of its key), up to 100; then
 *	one line says how many more there were. A config with any problem
 *	is refused as a whole: half a config must not run a relay checker.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "cfg_keys.h"
#include "error_r.h"

#define CFG_LINE_MAX 65536
#define CFG_LOGICAL_MAX (1024 * 1024)
#define CFG_FILE_MAX (16 * 1024 * 1024)
#define CFG_ERRORS_MAX 100

/* A growing text: the error report and the logical line. */
struct cfg_text {
	char *s;
	size_t len, cap;
	bool oom;
};

struct cfg_parser {
	const char *name;		/* file name for messages */
	struct authrelay_config *cfg;
	struct cfg_text errors;
	unsigned nerrors;
	struct cfg_text logical;	/* the logical line being built */
	unsigned logical_line;		/* where it started; 0 = none */
	bool logical_bad;		/* part of it was refused: drop it */
};

/* cfg_text_append - append n bytes; on out of memory, remember it */
static void cfg_text_append(struct cfg_text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t ncap = t->cap ? t->cap : 256;
		char *ns;

		while (ncap < t->len + n + 1)
			ncap *= 2;
		if ((ns = realloc(t->s, ncap)) == NULL) {
			t->oom = true;
			return;
		}
		t->s = ns;
		t->cap = ncap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = 0;
}

/* cfg_problem - record "FILE:LINE: message" (LINE 0: "FILE: message") */
static void cfg_problem(struct cfg_parser *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cfg_problem(struct cfg_parser *p, unsigned line, const char *fmt, ...)
{
	char msg[512], where[64];
	va_list ap;
	int n;

	if (++p->nerrors > CFG_ERRORS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->errors.len > 0)
		cfg_text_append(&p->errors, "\n", 1);
	cfg_text_append(&p->errors, p->name, strlen(p->name));
	n = line ? snprintf(where, sizeof(where), ":%u: ", line)
		 : snprintf(where, sizeof(where), ": ");
	cfg_text_append(&p->errors, where, (size_t)n);
	cfg_text_append(&p->errors, msg, strlen(msg));
}

/* cfg_printable - copy at most 64 bytes of s, control bytes as '?' */
static const char *cfg_printable(const char *s, size_t n, char buf[72])
{
	size_t i, o = 0;

	for (i = 0; i < n && o < 64; i++)
		buf[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (i < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = 0;
	return buf;
}

static bool cfg_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* cfg_apply - parse one logical line "key = value" into the config */
static void cfg_apply(struct cfg_parser *p, char *text, unsigned line)
{
	char shown[72], *key = text, *value, *end;
	const struct cfg_key *k;
	const char *suggestion;
	char *why = NULL;
	size_t klen;

	klen = strcspn(key, " \t=");
	if (klen == 0) {
		cfg_problem(p, line, "missing key before \"=\"");
		return;
	}
	value = key + klen;
	while (cfg_is_blank(*value))
		value++;
	if (*value != '=') {
		cfg_problem(p, line, "missing \"=\" after \"%s\"", cfg_printable(key, klen, shown));
		return;
	}
	key[klen] = 0;
	value++;
	while (cfg_is_blank(*value))
		value++;
	end = value + strlen(value);
	while (end > value && cfg_is_blank(end[-1]))
		*--end = 0;
	if ((k = cfg_key_find(key)) == NULL) {
		const char *removed = cfg_key_removed(key);

		suggestion = cfg_key_suggest(key);
		if (removed != NULL)
			cfg_problem(p, line, "%s %s", key, removed);
		else if (suggestion != NULL)
			cfg_problem(p, line, "unknown key \"%s\"; did you mean \"%s\"?",
				    cfg_printable(key, klen, shown), suggestion);
		else
			cfg_problem(p, line, "unknown key \"%s\"", cfg_printable(key, klen, shown));
		return;
	}
	if (cfg_key_set(p->cfg, k, value, &why) < 0) {
		cfg_problem(p, line, "%s: %s%s", key, why ? why : "out of memory",
			    strstr(value, " #") || strstr(value, "\t#")
				    ? " (comments must be on lines of their own)"
				    : "");
		free(why);
		return;
	}
	p->cfg->key_lines[cfg_key_index(k)] = line;
}

/* cfg_flush - apply the pending logical line, if any */
static void cfg_flush(struct cfg_parser *p)
{
	if (p->logical_line != 0 && !p->logical_bad && !p->logical.oom && p->logical.len > 0)
		cfg_apply(p, p->logical.s, p->logical_line);
	p->logical.len = 0;
	if (p->logical.s)
		p->logical.s[0] = 0;
	p->logical_line = 0;
	p->logical_bad = false;
}

/* cfg_physical - one physical line (without its LF) */
static void cfg_physical(struct cfg_parser *p, const char *s, size_t n, unsigned line)
{
	size_t i, lead = 0;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n > CFG_LINE_MAX) {
		cfg_problem(p, line, "line longer than %d bytes", CFG_LINE_MAX);
		if (n > 0 && cfg_is_blank(s[0]))
			p->logical_bad = true;
		else
			cfg_flush(p), p->logical_bad = true, p->logical_line = line;
		return;
	}
	if (memchr(s, 0, n) != NULL) {
		cfg_problem(p, line, "NUL byte in line");
		if (n > 0 && cfg_is_blank(s[0]))
			p->logical_bad = true;
		else
			cfg_flush(p), p->logical_bad = true, p->logical_line = line;
		return;
	}
	while (lead < n && cfg_is_blank(s[lead]))
		lead++;
	if (lead == n || s[lead] == '#')
		return;		/* blank or comment, even inside a continuation */
	for (i = lead; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			cfg_problem(p, line, "control character 0x%02x in line", c);
			if (lead > 0)
				p->logical_bad = true;
			else
				cfg_flush(p), p->logical_bad = true, p->logical_line = line;
			return;
		}
	}
	if (lead > 0) {
		if (p->logical_line == 0) {
			cfg_problem(p, line, "continuation line without a \"key = value\" line "
					     "above (remove the leading white space?)");
			p->logical_bad = true;
			p->logical_line = line;
			return;
		}
		if (p->logical_bad)
			return;
		if (p->logical.len + 1 + (n - lead) > CFG_LOGICAL_MAX) {
			cfg_problem(p, p->logical_line, "value longer than %d bytes",
				    CFG_LOGICAL_MAX);
			p->logical_bad = true;
			return;
		}
		cfg_text_append(&p->logical, " ", 1);
		cfg_text_append(&p->logical, s + lead, n - lead);
		return;
	}
	cfg_flush(p);
	p->logical_line = line;
	cfg_text_append(&p->logical, s, n);
}

/* cfg_parse - parse text[0..len) as file name on top of cfg */
static int cfg_parse(const char *name, const char *text, size_t len,
		     struct authrelay_config *cfg, char **error_r)
{
	struct cfg_parser p;
	unsigned line = 0;
	size_t pos = 0;

	memset(&p, 0, sizeof(p));
	p.name = name;
	p.cfg = cfg;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		cfg_physical(&p, text + pos, n, ++line);
		pos += n + (nl ? 1 : 0);
	}
	cfg_flush(&p);
	free(p.logical.s);
	if (p.logical.oom)
		cfg_problem(&p, 0, "out of memory");
	if (p.nerrors > CFG_ERRORS_MAX) {
		char more[64];

		snprintf(more, sizeof(more), "%u more problems not shown",
			 p.nerrors - CFG_ERRORS_MAX);
		p.nerrors = 0;	/* let cfg_problem write this one line */
		cfg_problem(&p, 0, "%s", more);
		p.nerrors = CFG_ERRORS_MAX + 1;
	}
	if (p.nerrors == 0) {
		free(p.errors.s);
		return 0;
	}
	if (p.errors.oom) {
		free(p.errors.s);
		error_r_set(error_r, "out of memory while reporting config errors");
	} else {
		*error_r = p.errors.s;
	}
	return -1;
}

struct authrelay_config *cfg_defaults(void)
{
	struct authrelay_config *cfg = calloc(1, sizeof(*cfg));
	char *why = NULL;

	if (cfg == NULL || (cfg->path = strdup("")) == NULL) {
		fprintf(stderr, "authrelay: out of memory\n");
		abort();
	}
	if (cfg_keys_set_defaults(cfg, &why) < 0) {
		/* A default that does not parse is a bug in the key table. */
		fprintf(stderr, "authrelay: %s\n", why ? why : "out of memory");
		abort();
	}
	return cfg;
}

void cfg_free(struct authrelay_config **cfg)
{
	if (cfg == NULL || *cfg == NULL)
		return;
	cfg_keys_free_values(*cfg);
	free((*cfg)->path);
	free(*cfg);
	*cfg = NULL;
}

/* cfg_load_text - defaults, then text; the common part of both loaders */
static int cfg_load_text(const char *name, const char *text, size_t len,
			 struct authrelay_config **cfg_r, char **error_r)
{
	struct authrelay_config *cfg = cfg_defaults();
	char *path;

	if (cfg_parse(name, text, len, cfg, error_r) < 0) {
		cfg_free(&cfg);
		return -1;
	}
	if ((path = strdup(name)) == NULL) {
		cfg_free(&cfg);
		return error_r_set(error_r, "out of memory");
	}
	free(cfg->path);
	cfg->path = path;
	*cfg_r = cfg;
	return 0;
}

int cfg_load_string(const char *name, const char *text, struct authrelay_config **cfg_r,
		    char **error_r)
{
	return cfg_load_text(name, text, strlen(text), cfg_r, error_r);
}

/* cfg_read_fd - read the whole file, at most CFG_FILE_MAX bytes. Reads to
   EOF, not to the size fstat saw: the file may change while we read. */
static int cfg_read_fd(int fd, const char *path, off_t size_hint, char **text_r, size_t *len_r,
		       char **error_r)
{
	size_t cap = (size_t)(size_hint > 0 && size_hint < CFG_FILE_MAX ? size_hint : 0) + 4096;
	size_t len = 0;
	char *text = malloc(cap), *grown;
	ssize_t n;

	if (text == NULL)
		goto oom;
	for (;;) {
		if (len == cap) {
			if (cap > CFG_FILE_MAX)
				break;
			cap *= 2;
			if ((grown = realloc(text, cap)) == NULL)
				goto oom;
			text = grown;
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_r_set(error_r, "%s: cannot read: %s", path, strerror(errno));
			free(text);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CFG_FILE_MAX) {
		free(text);
		return error_r_set(error_r, "%s: file larger than %d bytes", path, CFG_FILE_MAX);
	}
	*text_r = text;
	*len_r = len;
	return 0;
oom:
	free(text);
	return error_r_set(error_r, "out of memory");
}

/* cfg_refuse_writable - the file (st) or its directory can be changed by
   any local account: refuse, naming the fix */
static int cfg_refuse_writable(const char *path, const struct stat *st, char **error_r)
{
	struct stat dst;
	char *copy, *dir;
	int rc = 0;

	if (st->st_mode & S_IWOTH)
		return error_r_set(error_r,
				   "%s: is world-writable: any local user could change the "
				   "relay rules; refusing it (chmod o-w %s)",
				   path, path);
	if ((copy = strdup(path)) == NULL)
		return error_r_set(error_r, "out of memory");
	dir = dirname(copy);
	/* Sticky (like /tmp): others cannot rename or remove our file. */
	if (stat(dir, &dst) == 0 && (dst.st_mode & S_IWOTH) && !(dst.st_mode & S_ISVTX)) {
		error_r_set(error_r,
			    "%s: its directory %s is world-writable without the sticky "
			    "bit: any local user could replace the file; refusing it "
			    "(chmod o-w %s)",
			    path, dir, dir);
		rc = -1;
	}
	free(copy);
	return rc;
}

int cfg_load(const char *path, bool missing_ok, struct authrelay_config **cfg_r, char **error_r)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	if (path == NULL)
		path = CFG_DEFAULT_PATH;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		if (errno == ENOENT && missing_ok) {
			*cfg_r = cfg_defaults();
			return 0;
		}
		return error_r_set(error_r, "%s: cannot open: %s", path, strerror(errno));
	}
	errno = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		error_r_set(error_r, "%s: cannot read: %s", path,
			    errno ? strerror(errno) : "not a regular file");
		close(fd);
		return -1;
	}
	if (cfg_refuse_writable(path, &st, error_r) < 0) {
		close(fd);
		return -1;
	}
	rc = cfg_read_fd(fd, path, st.st_size, &text, &len, error_r);
	close(fd);
	if (rc < 0)
		return -1;
	rc = cfg_load_text(path, text, len, cfg_r, error_r);
	free(text);
	return rc;
}

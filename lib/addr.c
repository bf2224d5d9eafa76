/*
 * NAME
 *	addr 3
 * SUMMARY
 *	envelope address normalisation and sender ownership patterns
 * SYNOPSIS
 *	#include "addr.h"
 * DESCRIPTION
 *	addr_normalize() turns what an MTA hands us ("<Alice+news@Example.ORG>",
 *	"alice", "<>") into one canonical spelling so that a database row and a
 *	request compare with strcmp(): brackets, surrounding white space and an
 *	obsolete source route ("@relay:") removed, the domain lower-cased, a
 *	quoted local part that needs no quoting ("alice"@x) unquoted, any other
 *	local part kept byte for byte (RFC 5321 leaves its case to the
 *	receiving site).
 *
 *	addr_pattern_normalize() checks what an admin types as an ownership
 *	pattern and says what is wrong with it; addr_pattern_match() decides
 *	coverage, ignoring the address's +tag.
 * DIAGNOSTICS
 *	addr_normalize() returns -1 without a message (the caller knows the
 *	context); addr_pattern_normalize() explains itself in *error_r.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "error_r.h"

/* Raw input longer than this cannot normalise to ADDR_MAX; refusing it up
   front bounds every scan below. */
#define ADDR_RAW_MAX (4 * ADDR_MAX)

/* is_ctl - control characters, never part of an address, even quoted */
static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* is_atext - RFC 5322 atext, plus 8-bit bytes (SMTPUTF8 local parts) */
static int is_atext(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL && c != 0;
}

/* is_dot_atom - the text can stand unquoted as a local part */
static int is_dot_atom(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i - 1] == '.')
				return 0;
		} else if (!is_atext((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

/* split_local - finds the '@' that separates local part and domain.
   Returns its offset, len when there is none, or -1 for a second unquoted
   '@', white space or a bracket outside quotes, or an unclosed quote. */
static long split_local(const char *s, size_t len)
{
	size_t i;
	long at = -1;
	int quoted = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (quoted) {
			if (c == '\\') {
				if (++i >= len)
					return -1;
			} else if (c == '"') {
				quoted = 0;
			}
			continue;
		}
		if (c == '"' && at < 0) {
			quoted = 1;
		} else if (c == '@') {
			if (at >= 0)
				return -1;
			at = (long)i;
		} else if (is_wsp(c) || c == '<' || c == '>' || c == '"') {
			return -1;
		}
	}
	if (quoted)
		return -1;
	return at < 0 ? (long)len : at;
}

/* addr_normalize - canonical spelling of an envelope address */
int addr_normalize(const char *in, char *out, size_t size)
{
	const char *s, *e;
	size_t len, i, n;
	long at;
	char local[ADDR_MAX];
	size_t local_len;

	if (in == NULL || out == NULL || size == 0)
		return -1;
	len = strnlen(in, ADDR_RAW_MAX + 1);
	if (len > ADDR_RAW_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)in[i]) && in[i] != '\t')
			return -1;

	/* Surrounding white space, then one pair of angle brackets. */
	s = in;
	e = in + len;
	while (s < e && is_wsp((unsigned char)*s))
		s++;
	while (e > s && is_wsp((unsigned char)e[-1]))
		e--;
	if (s < e && (*s == '<' || e[-1] == '>')) {
		if (e - s < 2 || *s != '<' || e[-1] != '>')
			return -1;
		s++;
		e--;
		while (s < e && is_wsp((unsigned char)*s))
			s++;
		while (e > s && is_wsp((unsigned char)e[-1]))
			e--;
	}
	/* A tab is white space, allowed only around the address (RFC 5321
	   qtext has none either). */
	if (memchr(s, '\t', (size_t)(e - s)) != NULL)
		return -1;

	/* RFC 5321 4.1.2: a source route "@a,@b:user@d" is accepted and ignored. */
	if (s < e && *s == '@') {
		const char *colon = memchr(s, ':', (size_t)(e - s));

		if (colon == NULL)
			return -1;
		s = colon + 1;
		if (s == e)
			return -1;
	}
	n = (size_t)(e - s);
	if (n == 0) {
		out[0] = 0;
		return 0;
	}
	if (n >= ADDR_MAX || n >= size)
		return -1;

	at = split_local(s, n);
	if (at < 0)
		return -1;
	local_len = (size_t)at;
	/* Every caller finds the domain after the last '@' (addr_domain). A
	   bare local part (no domain) with an '@' inside quotes would break
	   that, so it is refused: no real envelope sender looks like that. */
	if ((size_t)at == n && memchr(s, '@', n) != NULL)
		return -1;
	if (local_len == 0 || (local_len == 2 && s[0] == '"'))
		return -1;			/* "" is an empty local part too */
	if ((size_t)at < n && (size_t)at + 1 == n)
		return -1;			/* "user@": empty domain */

	/* "alice"@x is alice@x: unquote when the content is a plain dot-atom,
	   so that two spellings of one mailbox compare equal. */
	memcpy(local, s, local_len);
	if (local_len >= 2 && local[0] == '"' && local[local_len - 1] == '"'
	    && is_dot_atom(local + 1, local_len - 2)) {
		memmove(local, local + 1, local_len - 2);
		local_len -= 2;
	}
	memcpy(out, local, local_len);
	for (i = (size_t)at; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out[local_len + i - (size_t)at] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
	}
	out[local_len + n - (size_t)at] = 0;
	return 0;
}

/* tag_offset - where "+tag" starts in the local part, or 0 when none.
   A quoted local part is taken literally; a leading '+' is not a tag
   (stripping it would leave an empty local part). */
static size_t tag_offset(const char *normalized)
{
	const char *at = strrchr(normalized, '@');
	size_t local_len = at ? (size_t)(at - normalized) : strlen(normalized);
	const char *plus;

	if (local_len == 0 || normalized[0] == '"')
		return 0;
	plus = memchr(normalized + 1, ADDR_TAG_DELIMITER, local_len - 1);
	return plus ? (size_t)(plus - normalized) : 0;
}

/* addr_strip_tag - the address without its +tag extension */
void addr_strip_tag(const char *normalized, char *out, size_t size)
{
	size_t tag;
	const char *at;

	if (size == 0)
		return;
	tag = tag_offset(normalized);
	if (tag == 0) {
		snprintf(out, size, "%s", normalized);
		return;
	}
	/* tag_offset() found the '+' before the '@', if there is one. */
	at = strrchr(normalized, '@');
	snprintf(out, size, "%.*s%s", (int)tag, normalized, at ? at : "");
}

/* addr_domain - the text after the last '@' */
const char *addr_domain(const char *normalized)
{
	const char *at = strrchr(normalized, '@');

	return at ? at + 1 : "";
}

/* domain_check - a host name (labels of letters, digits, '-', '_',
   8-bit) or an address literal "[...]". Returns NULL or why not. */
static const char *domain_check(const char *d)
{
	size_t len = strlen(d), i, label = 0;

	if (len == 0)
		return "the domain is empty";
	if (d[0] == '[')
		return d[len - 1] == ']' && len > 2 ? NULL : "an address literal must be \"[...]\"";
	if (strchr(d, '*'))
		return "wildcards inside a domain are not supported; list each domain as @domain";
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return "the domain has an empty label";
			label = 0;
			continue;
		}
		if (!(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
		      || c == '_'))
			return "the domain holds a character not allowed in a host name";
		if (++label > 63)
			return "a domain label is longer than 63 characters";
	}
	if (label == 0)
		return "the domain ends with a dot; drop it";
	return NULL;
}

/* addr_pattern_normalize - check and normalise an ownership pattern */
int addr_pattern_normalize(const char *in, char *out, size_t size, char **error_r)
{
	char buf[ADDR_MAX];
	const char *s, *e, *why;
	size_t len, i;

	if (error_r != NULL)
		*error_r = NULL;
	if (in == NULL || out == NULL || size == 0)
		return error_r_set(error_r, "no pattern given");
	len = strnlen(in, ADDR_RAW_MAX + 1);
	for (s = in, e = in + len; s < e && is_wsp((unsigned char)*s); s++)
		;
	while (e > s && is_wsp((unsigned char)e[-1]))
		e--;
	if ((size_t)(e - s) >= ADDR_MAX)
		return error_r_set(error_r, "pattern is longer than %d characters", ADDR_MAX - 1);
	if (e == s)
		return error_r_set(error_r, "empty pattern (the null sender cannot be owned); "
					    "write user@domain, @domain or *");

	if (e - s == 1 && *s == '*') {
		strcpy(buf, "*");
	} else if (*s == '@') {
		/* @domain: every address in that domain, not its subdomains. */
		buf[0] = '@';
		for (i = 1; s + i < e; i++) {
			unsigned char c = (unsigned char)s[i];

			if (is_ctl(c) || is_wsp(c))
				return error_r_set(
				    error_r, "pattern holds white space or a control character");
			if (c == '@')
				return error_r_set(error_r,
						   "\"%.*s\" has two '@'; write user@domain, "
						   "@domain or *",
						   (int)(e - s), s);
			buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
		}
		buf[i] = 0;
		if ((why = domain_check(buf + 1)) != NULL)
			return error_r_set(error_r, "\"%s\": %s", buf, why);
	} else {
		char raw[ADDR_MAX];

		memcpy(raw, s, (size_t)(e - s));
		raw[e - s] = 0;
		if (addr_normalize(raw, buf, sizeof buf) < 0)
			return error_r_set(error_r,
					   "\"%s\" is not an address (control character, "
					   "white space, two '@' or an empty part); write "
					   "user@domain, @domain or *",
					   raw);
		if (buf[0] == 0)
			return error_r_set(error_r, "empty pattern (the null sender cannot be "
						    "owned); write user@domain, @domain or *");
		if (strncmp(buf, "*@", 2) == 0)
			return error_r_set(error_r,
					   "\"%s\": for every address in a domain write \"%s\"",
					   buf, buf + 1);
		if (strchr(buf, '@') == NULL)
			return error_r_set(error_r,
					   "\"%s\" has no domain; write user@domain, "
					   "@domain or *",
					   buf);
		if ((why = domain_check(addr_domain(buf))) != NULL)
			return error_r_set(error_r, "\"%s\": %s", buf, why);
		if (tag_offset(buf) != 0) {
			char bare[ADDR_MAX];

			addr_strip_tag(buf, bare, sizeof bare);
			return error_r_set(error_r,
					   "\"%s\" has a %ctag; ownership ignores tags, "
					   "write \"%s\"",
					   buf, ADDR_TAG_DELIMITER, bare);
		}
	}
	if (strlen(buf) >= size)
		return error_r_set(error_r, "pattern does not fit in %zu bytes", size);
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

/* addr_pattern_match - does the pattern cover the address? */
bool addr_pattern_match(const char *pattern, const char *normalized)
{
	char bare[ADDR_MAX];
	const char *pat_at, *bare_at;

	if (pattern == NULL || normalized == NULL)
		return false;
	if (strcmp(pattern, "*") == 0)
		return true;
	if (normalized[0] == 0 || pattern[0] == 0)
		return false;
	if (pattern[0] == '@') {
		const char *d = addr_domain(normalized);

		return d[0] != 0 && strchr(normalized, '@') && strcasecmp(d, pattern + 1) == 0;
	}
	pat_at = strrchr(pattern, '@');
	if (pat_at == NULL)
		return false;
	if (strlen(normalized) >= sizeof bare)
		return false;
	addr_strip_tag(normalized, bare, sizeof bare);
	bare_at = strrchr(bare, '@');
	if (bare_at == NULL)
		return false;
	/* Local parts compare exactly (RFC 5321 2.4), domains ignoring case. */
	return bare_at - bare == pat_at - pattern
	       && memcmp(bare, pattern, (size_t)(pat_at - pattern)) == 0
	       && strcasecmp(bare_at, pat_at) == 0;
}

/*
 * NAME
 *	rfc5322 3
 * SUMMARY
 *	the From: header's address list
 * SYNOPSIS
 *	#include "rfc5322.h"
 * DESCRIPTION
 *	Two passes over a bounded header value. The lexer turns bytes into
 *	tokens (atoms, quoted strings, domain literals, the specials
 *	< > @ , : ;), drops white space, line folding and comments, and
 *	refuses what cannot be tokenised unambiguously (an unbalanced quote,
 *	comment or literal, a bare CR/LF, a NUL or other control byte). The
 *	parser then walks the tokens without recursion: a group is a flag,
 *	nesting of comments is a counter, so hostile input cannot exhaust the
 *	stack.
 *
 *	Only addr-specs are returned. A display name is skipped whole, in
 *	whatever form (atoms, quoted strings, RFC 2047 encoded words), and
 *	comments are dropped by the lexer, so "alice@lab.test" in either
 *	never becomes an address. Encoded words are not decoded: they are
 *	atoms (RFC 2047 allows in a phrase only characters that are), and
 *	the structure is parsed first, as RFC 2047 section 6.1 says a reader
 *	must; one that hides a special (",", "<") is therefore split where a
 *	conforming reader splits it, and usually ends in an error.
 *
 *	Accepted obsolete forms (RFC 5322 section 4.4) that real mail still
 *	carries: a route in an angle-addr ("<@relay:a@x>", dropped), words
 *	and dots separated by white space or comments in an addr-spec
 *	("a . b @ x"), empty list elements ("a@x,,b@y"), and an unquoted '@'
 *	in a display name ("a@x <b@y>", as some mailers write it; only b@y is
 *	the address).
 * DIAGNOSTICS
 *	Every refusal returns -1 with a malloc'd message naming the problem
 *	and its byte offset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "error_r.h"
#include "rfc5322.h"

enum tok_type {
	TOK_END = 0,
	TOK_ATOM,	/* atext and '.', incl. encoded words and 8-bit text */
	TOK_QSTRING,	/* raw, with its quotes and backslashes */
	TOK_DLITERAL,	/* raw, with its brackets */
	TOK_SPECIAL	/* one of < > @ , : ; */
};

struct token {
	enum tok_type type;
	size_t off;
	size_t len;
};

struct lexer {
	const char *text;
	size_t len;
	struct token *toks;
	size_t ntoks;
};

static int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* is_atom_char - atext, '.', and 8-bit bytes (RFC 6532 UTF-8 headers) */
static int is_atom_char(unsigned char c)
{
	if (c >= 0x80)
		return 1;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

/* skip_fold - at a CR or LF: a fold (CRLF or LF followed by WSP) is
   white space; a line end at the very end of the value is its end.
   Returns the offset past the line break, or 0 for a bare line break
   inside the value (a header injection or a broken header). */
static size_t skip_fold(const char *t, size_t len, size_t i)
{
	size_t j = i;

	if (t[j] == '\r')
		j++;
	if (j < len && t[j] == '\n')
		j++;
	else if (j < len)
		return 0;		/* CR alone */
	if (j == len || is_wsp((unsigned char)t[j]))
		return j;
	return 0;
}

/* lex_delimited - scans a quoted string ('"') or domain literal ('[')
   starting at i; backslash quotes the next byte, folds are allowed.
   Returns the offset past the closing delimiter, or 0. */
static size_t lex_delimited(const char *t, size_t len, size_t i, char close)
{
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)t[i];
		size_t j;

		if (c == (unsigned char)close)
			return i + 1;
		if (c == '\\') {
			if (++i >= len || t[i] == '\r' || t[i] == '\n' || t[i] == 0)
				return 0;
		} else if (c == '\r' || c == '\n') {
			if ((j = skip_fold(t, len, i)) == 0 || j == len)
				return 0;
			i = j - 1;
		} else if (close == ']' && c == '[') {
			return 0;
		} else if (c == 0 || (c < 0x20 && c != '\t') || c == 0x7f) {
			return 0;
		}
	}
	return 0;
}

/* lex - tokenises the whole value into lx->toks (ends with TOK_END). */
static int lex(struct lexer *lx, char **error_r)
{
	const char *t = lx->text;
	size_t len = lx->len, i = 0, j;
	size_t depth;

	while (i < len) {
		unsigned char c = (unsigned char)t[i];
		struct token *tok = lx->toks + lx->ntoks;

		if (is_wsp(c)) {
			i++;
		} else if (c == '\r' || c == '\n') {
			if ((j = skip_fold(t, len, i)) == 0)
				return error_r_set(error_r,
						   "line break not followed by white space at "
						   "offset %zu",
						   i);
			i = j;
		} else if (c == '(') {
			/* Comments nest; a counter, not recursion, tracks depth. */
			for (depth = 1, j = i + 1; j < len && depth > 0; j++) {
				if (t[j] == '\\') {
					if (++j >= len)
						break;
				} else if (t[j] == '(') {
					depth++;
				} else if (t[j] == ')') {
					depth--;
				} else if (t[j] == '\r' || t[j] == '\n') {
					size_t k = skip_fold(t, len, j);

					if (k == 0 || k == len)
						break;
					j = k - 1;
				} else if (t[j] == 0) {
					break;
				}
			}
			if (depth > 0)
				return error_r_set(error_r,
						   "unbalanced comment: '(' at offset %zu is not "
						   "closed",
						   i);
			i = j;
		} else if (c == ')') {
			return error_r_set(error_r,
					   "unbalanced comment: ')' at offset %zu without '('", i);
		} else if (c == '"' || c == '[') {
			if ((j = lex_delimited(t, len, i, c == '"' ? '"' : ']')) == 0)
				return error_r_set(error_r, "unbalanced %s starting at offset %zu",
						   c == '"' ? "quoted string" : "domain literal",
						   i);
			tok->type = c == '"' ? TOK_QSTRING : TOK_DLITERAL;
			tok->off = i;
			tok->len = j - i;
			lx->ntoks++;
			i = j;
		} else if (strchr("<>@,:;", c) != NULL && c != 0) {
			tok->type = TOK_SPECIAL;
			tok->off = i;
			tok->len = 1;
			lx->ntoks++;
			i++;
		} else if (is_atom_char(c)) {
			for (j = i; j < len && is_atom_char((unsigned char)t[j]); j++)
				;
			tok->type = TOK_ATOM;
			tok->off = i;
			tok->len = j - i;
			lx->ntoks++;
			i = j;
		} else {
			return error_r_set(
			    error_r, "unexpected %s 0x%02x at offset %zu",
			    c < 0x20 || c == 0x7f ? "control character" : "character", c, i);
		}
	}
	lx->toks[lx->ntoks].type = TOK_END;
	lx->toks[lx->ntoks].off = len;
	lx->toks[lx->ntoks].len = 0;
	return 0;
}

static int is_special(const struct lexer *lx, size_t k, char c)
{
	return lx->toks[k].type == TOK_SPECIAL && lx->text[lx->toks[k].off] == c;
}

static int is_word(const struct token *tok)
{
	return tok->type == TOK_ATOM || tok->type == TOK_QSTRING;
}

/* dot_joined - two adjacent tokens of an addr-spec form one dot-separated
   sequence only when a dot lies between them ("a" . "b", not "a" "b"). */
static int dot_joined(const struct lexer *lx, size_t prev, size_t next)
{
	const struct token *p = lx->toks + prev, *n = lx->toks + next;

	return (p->type == TOK_ATOM && lx->text[p->off + p->len - 1] == '.')
	       || (n->type == TOK_ATOM && lx->text[n->off] == '.');
}

/* append - copies a token's raw text into buf, dropping fold line breaks */
static int append(const struct lexer *lx, size_t k, char *buf, size_t size, size_t *used)
{
	const struct token *tok = lx->toks + k;
	size_t i;

	for (i = 0; i < tok->len; i++) {
		char c = lx->text[tok->off + i];

		if (c == '\r' || c == '\n')
			continue;
		if (*used + 1 >= size)
			return -1;
		buf[(*used)++] = c;
	}
	buf[*used] = 0;
	return 0;
}

/* local_part - the local part's words [from, at) as one canonical string:
   quoted words unquoted and joined, then quoted again (with '"' and '\\'
   escaped) only when the whole is not a plain dot-atom, so that "a"."b"@x
   and a.b@x come out alike. Returns 0, -1 when it does not fit, or -2
   when it is empty (""@x). */
static int local_part(const struct lexer *lx, size_t from, size_t at, char *out, size_t size)
{
	char text[ADDR_MAX];
	size_t n = 0, k, i, o = 0;
	int plain = 1;

	out[0] = 0;	/* a caller never reads an unterminated buffer */
	for (k = from; k < at; k++) {
		const struct token *tok = lx->toks + k;
		const char *p = lx->text + tok->off;
		size_t len = tok->len;

		if (tok->type == TOK_QSTRING) {
			p++;
			len -= 2;
		}
		for (i = 0; i < len; i++) {
			if (p[i] == '\r' || p[i] == '\n')
				continue;	/* unfold */
			if (tok->type == TOK_QSTRING && p[i] == '\\')
				i++;		/* quoted-pair: the byte stands for itself */
			if (n + 1 >= sizeof text)
				return -1;
			text[n++] = p[i];
		}
	}
	if (n == 0)
		return -2;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '.' ? (i == 0 || i + 1 == n || text[i - 1] == '.') : !is_atom_char(c))
			plain = 0;
	}
	if (!plain && o + 1 < size)
		out[o++] = '"';
	for (i = 0; i < n; i++) {
		if (!plain && (text[i] == '"' || text[i] == '\\')) {
			if (o + 1 >= size)
				return -1;
			out[o++] = '\\';
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = text[i];
	}
	if (!plain) {
		if (o + 1 >= size)
			return -1;
		out[o++] = '"';
	}
	out[o] = 0;
	return 0;
}

/* append_address - builds tokens [from, to) into one normalised address and
   appends it to the list. */
static int append_address(const struct lexer *lx, size_t from, size_t to,
			  struct rfc5322_addrlist *list, char **error_r)
{
	char raw[ADDR_MAX], norm[ADDR_MAX], **grown;
	size_t used, k, at = to;
	size_t where = lx->toks[from].off;
	int rc;

	for (k = from; k < to; k++) {
		if (is_special(lx, k, '@')) {
			if (at != to)
				return error_r_set(error_r, "two '@' in one address at offset %zu",
						   lx->toks[k].off);
			at = k;
		}
	}
	if (at == to)
		return error_r_set(error_r, "missing '@' in the address at offset %zu", where);
	if (at == from)
		return error_r_set(error_r, "empty local part at offset %zu", where);
	if (at + 1 == to)
		return error_r_set(error_r, "empty domain at offset %zu", lx->toks[at].off);
	for (k = from; k < to; k++) {
		const struct token *tok = lx->toks + k;
		int ok;

		if (k == at)
			ok = 1;
		else if (k < at)
			ok = is_word(tok) && (k == from || dot_joined(lx, k - 1, k));
		else
			ok = (tok->type == TOK_ATOM || (tok->type == TOK_DLITERAL && k == at + 1
							&& k + 1 == to))
			     && (k == at + 1 || dot_joined(lx, k - 1, k));
		if (!ok)
			return error_r_set(
			    error_r, "not an address: unexpected \"%.*s\" at offset %zu",
			    (int)(tok->len > 40 ? 40 : tok->len), lx->text + tok->off, tok->off);
	}
	if ((rc = local_part(lx, from, at, raw, sizeof raw)) == -2)
		return error_r_set(error_r, "empty local part at offset %zu", where);
	/* Found by fuzz_rfc5322: strlen() of a local part that did not fit
	   read past raw. Only a complete one is measured. */
	used = rc == 0 ? strlen(raw) : 0;
	for (k = at; rc == 0 && k < to; k++)
		rc = append(lx, k, raw, sizeof raw, &used);
	if (rc < 0)
		return error_r_set(error_r, "address at offset %zu is longer than %d bytes", where,
				   ADDR_MAX - 1);
	if (addr_normalize(raw, norm, sizeof norm) < 0)
		return error_r_set(error_r, "\"%.64s\" at offset %zu is not a valid address", raw,
				   where);
	if (list->count >= RFC5322_MAX_ADDRESSES)
		return error_r_set(error_r, "more than %d addresses", RFC5322_MAX_ADDRESSES);
	grown = realloc(list->addrs, (list->count + 1) * sizeof *grown);
	if (grown == NULL)
		return error_r_set(error_r, "out of memory");
	list->addrs = grown;
	if ((list->addrs[list->count] = strdup(norm)) == NULL)
		return error_r_set(error_r, "out of memory");
	list->count++;
	return 0;
}

/* parse - walks the tokens: address *("," address), where an address is
   a group, a name-addr or a bare addr-spec. */
static int parse(const struct lexer *lx, struct rfc5322_addrlist *list, char **error_r)
{
	size_t i = 0, j, k;
	int in_group = 0;

	for (;;) {
		const struct token *tok = lx->toks + i;

		if (tok->type == TOK_END)
			break;
		if (is_special(lx, i, ',')) {
			i++;		/* obs-addr-list: empty elements */
			continue;
		}
		if (is_special(lx, i, ';')) {
			if (!in_group)
				return error_r_set(error_r, "';' outside a group at offset %zu",
						   tok->off);
			in_group = 0;
			i++;
			if (lx->toks[i].type != TOK_END && !is_special(lx, i, ','))
				return error_r_set(error_r,
						   "text after the end of a group at offset %zu",
						   lx->toks[i].off);
			continue;
		}

		/* Find what ends this element's leading run of tokens. */
		for (j = i; lx->toks[j].type != TOK_END; j++)
			if (lx->toks[j].type == TOK_SPECIAL
			    && strchr(",;:<>", lx->text[lx->toks[j].off]) != NULL)
				break;

		if (is_special(lx, j, ':')) {
			/* display-name ":" [mailbox-list] ";" */
			if (in_group)
				return error_r_set(error_r, "group inside a group at offset %zu",
						   lx->toks[j].off);
			if (j == i)
				return error_r_set(error_r, "group without a name at offset %zu",
						   lx->toks[j].off);
			for (k = i; k < j; k++)
				if (!is_word(lx->toks + k))
					return error_r_set(error_r, "bad group name at offset %zu",
							   lx->toks[k].off);
			in_group = 1;
			i = j + 1;
		} else if (is_special(lx, j, '<')) {
			/* [display-name] "<" [obs-route] addr-spec ">". The display
			   name [i, j) is skipped whatever it says. */
			for (k = i; k < j; k++)
				if (!is_word(lx->toks + k) && !is_special(lx, k, '@'))
					return error_r_set(error_r,
							   "bad display name at offset %zu",
							   lx->toks[k].off);
			i = j + 1;
			if (is_special(lx, i, '@')) {
				/* obs-route: "@a,@b:" is dropped (RFC 5322 4.4). */
				while (lx->toks[i].type != TOK_END && !is_special(lx, i, ':')) {
					if (!is_special(lx, i, '@') && !is_special(lx, i, ',')
					    && lx->toks[i].type != TOK_ATOM
					    && lx->toks[i].type != TOK_DLITERAL)
						return error_r_set(error_r,
								   "bad route in '<...>' at "
								   "offset %zu",
								   lx->toks[i].off);
					i++;
				}
				if (lx->toks[i].type == TOK_END)
					return error_r_set(error_r, "unbalanced '<' at offset %zu",
							   lx->toks[j].off);
				i++;
			}
			for (k = i; lx->toks[k].type != TOK_END && !is_special(lx, k, '>'); k++)
				if (lx->toks[k].type == TOK_SPECIAL && !is_special(lx, k, '@'))
					return error_r_set(error_r,
							   "unexpected '%c' inside '<...>' at "
							   "offset %zu (unbalanced '<'?)",
							   lx->text[lx->toks[k].off],
							   lx->toks[k].off);
			if (lx->toks[k].type == TOK_END)
				return error_r_set(error_r, "unbalanced '<' at offset %zu",
						   lx->toks[j].off);
			if (k == i)
				return error_r_set(error_r, "empty '<>' at offset %zu: missing '@'",
						   lx->toks[j].off);
			if (append_address(lx, i, k, list, error_r) < 0)
				return -1;
			i = k + 1;
			if (lx->toks[i].type != TOK_END && !is_special(lx, i, ',')
			    && !(in_group && is_special(lx, i, ';')))
				return error_r_set(error_r,
						   "unexpected text after '>' at offset %zu",
						   lx->toks[i].off);
		} else if (is_special(lx, j, '>')) {
			return error_r_set(error_r, "unbalanced '>' at offset %zu",
					   lx->toks[j].off);
		} else {
			/* A bare addr-spec up to ',', ';' or the end. */
			if (append_address(lx, i, j, list, error_r) < 0)
				return -1;
			i = j;
			if (is_special(lx, i, ';') && !in_group)
				return error_r_set(error_r, "';' outside a group at offset %zu",
						   lx->toks[i].off);
		}
	}
	if (in_group)
		return error_r_set(error_r, "group not closed with ';'");
	if (list->count == 0)
		return error_r_set(error_r, "no address at all");
	return 0;
}

/* rfc5322_parse_address_list - the addr-specs in a From:-like value */
int rfc5322_parse_address_list(const char *value, size_t len,
			       struct rfc5322_addrlist *list_r, char **error_r)
{
	struct lexer lx;
	int rc;

	if (error_r != NULL)
		*error_r = NULL;
	list_r->count = 0;
	list_r->addrs = NULL;
	if (value == NULL)
		return error_r_set(error_r, "no header value");
	if (len > RFC5322_MAX_HEADER)
		return error_r_set(error_r, "header longer than %d bytes", RFC5322_MAX_HEADER);
	lx.text = value;
	lx.len = len;
	lx.ntoks = 0;
	/* At most one token per byte, plus TOK_END. */
	if ((lx.toks = calloc(len + 1, sizeof *lx.toks)) == NULL)
		return error_r_set(error_r, "out of memory");
	rc = lex(&lx, error_r);
	if (rc == 0)
		rc = parse(&lx, list_r, error_r);
	free(lx.toks);
	if (rc < 0)
		rfc5322_addrlist_free(list_r);
	return rc;
}

/* rfc5322_addrlist_free - frees the addresses, leaves an empty list */
void rfc5322_addrlist_free(struct rfc5322_addrlist *list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->count; i++)
		free(list->addrs[i]);
	free(list->addrs);
	list->addrs = NULL;
	list->count = 0;
}

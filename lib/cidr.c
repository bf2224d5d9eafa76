/*
 * NAME
 *	cidr 3
 * SUMMARY
 *	strict network/prefix parsing and lists of networks
 * SYNOPSIS
 *	#include "cidr.h"
 * DESCRIPTION
 *	A network is "address/len" or a bare address (a host). Host bits set
 *	after the prefix are refused rather than silently masked: an admin who
 *	writes "10.1.1.1/24" may have meant the host or the net, and guessing
 *	wrong opens or closes relay for 255 other machines. The error names
 *	the masked form so the fix is one copy and paste.
 *
 *	Two forms beyond the header's are accepted, because admins paste from
 *	Postfix mynetworks: "[2001:db8::]/32" and "[::1]". An IPv4-mapped
 *	network ("::ffff:10.0.0.0/104") becomes the IPv4 one ("10.0.0.0/8"),
 *	as ipaddr_parse turns mapped addresses into IPv4.
 * DIAGNOSTICS
 *	Every error message quotes the offending text (at most 64 bytes,
 *	control characters shown as '?') and says what is wrong with it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "error_r.h"

/* An item longer than this cannot be a network: "[" + 45 + "]/128". */
#define CIDR_TEXT_MAX (IPADDR_STRLEN + 6)

/* Quoted input in messages is cut here so one bad 60 KiB line does not
   become a 60 KiB log line. */
#define CIDR_QUOTE_MAX 64

struct cidr_list {
	struct cidr *items;
	size_t count;
};

/* cidr_quote - printable, bounded copy of input for an error message */
static void cidr_quote(const char *text, size_t len, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 4 < size; i++) {
		unsigned char ch = (unsigned char)text[i];

		buf[n++] = (ch < 0x20 || ch == 0x7f || ch == '"') ? '?' : (char)ch;
	}
	if (i < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = 0;
}

/* cidr_error - set *error_r to a malloc'd message about the quoted item */
static int cidr_error(char **error_r, const char *text, size_t len, const char *what,
		      const char *hint)
{
	char quoted[CIDR_QUOTE_MAX + 4];

	cidr_quote(text, len, quoted, sizeof(quoted));
	return error_r_set(error_r, "%s \"%s\"%s", what, quoted, hint ? hint : "");
}

/* cidr_parse_len - parse the decimal prefix length; digits only, no
   sign, no leading zero, at most three digits */
static int cidr_parse_len(const char *p, size_t n, unsigned *len_r)
{
	unsigned v = 0;
	size_t i;

	if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	*len_r = v;
	return 0;
}

/* cidr_parse_n - parse one network from text[0..n) */
static int cidr_parse_n(const char *text, size_t n, struct cidr *cidr_r, char **error_r)
{
	char addr[CIDR_TEXT_MAX + 1];
	const char *slash, *a = text;
	size_t alen, nlen;
	unsigned len, bits;
	bool has_len, mapped;
	struct cidr c;
	struct ipaddr masked;
	char hint[IPADDR_STRLEN + 40], buf[IPADDR_STRLEN];

	if (n == 0)
		return cidr_error(error_r, text, n, "empty network", NULL);
	if (n > CIDR_TEXT_MAX)
		return cidr_error(error_r, text, n, "network too long:", NULL);
	slash = memchr(text, '/', n);
	has_len = slash != NULL;
	alen = has_len ? (size_t)(slash - text) : n;
	nlen = has_len ? n - alen - 1 : 0;
	if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
		a++;
		alen -= 2;
	}
	memcpy(addr, a, alen);
	addr[alen] = 0;
	if (ipaddr_parse(addr, &c.net) < 0)
		return cidr_error(error_r, text, n, "bad network address in", NULL);
	mapped = c.net.family == AF_INET && strchr(addr, ':') != NULL;
	bits = mapped ? 128 : ipaddr_bits(&c.net);
	if (has_len) {
		if (cidr_parse_len(slash + 1, nlen, &len) < 0 || len > bits) {
			snprintf(hint, sizeof(hint), "; want 0..%u", bits);
			return cidr_error(error_r, text, n, "bad prefix length in", hint);
		}
	} else {
		len = bits;
	}
	if (mapped) {
		if (len < 96)
			return cidr_error(error_r, text, n, "IPv4-mapped prefix shorter than /96 in",
					  NULL);
		len -= 96;
	}
	c.len = len;
	masked = c.net;
	ipaddr_mask(&masked, len);
	if (!ipaddr_equal(&masked, &c.net)) {
		snprintf(hint, sizeof(hint), "; did you mean \"%s/%u\"?",
			 ipaddr_format(&masked, buf), len);
		return cidr_error(error_r, text, n, "host bits set in", hint);
	}
	*cidr_r = c;
	return 0;
}

/* cidr_parse - parse one network */
int cidr_parse(const char *text, struct cidr *cidr_r, char **error_r)
{
	return cidr_parse_n(text, strlen(text), cidr_r, error_r);
}

/* cidr_format - print net/len */
const char *cidr_format(const struct cidr *cidr, char *buf, size_t size)
{
	char addr[IPADDR_STRLEN];

	snprintf(buf, size, "%s/%u", ipaddr_format(&cidr->net, addr), cidr->len);
	return buf;
}

/* cidr_is_separator - commas and white space separate list items */
static bool cidr_is_separator(char ch)
{
	return ch == ',' || isspace((unsigned char)ch);
}

/* cidr_list_parse - parse a comma/white space separated list */
int cidr_list_parse(const char *text, struct cidr_list **list_r, char **error_r)
{
	struct cidr_list *list;
	const char *p = text, *start;
	size_t cap = 0;

	if ((list = calloc(1, sizeof(*list))) == NULL)
		return error_r_set(error_r, "out of memory");
	for (;;) {
		while (*p && cidr_is_separator(*p))
			p++;
		if (*p == 0)
			break;
		start = p;
		while (*p && !cidr_is_separator(*p))
			p++;
		if (list->count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct cidr *n = reallocarray(list->items, ncap, sizeof(*n));

			if (n == NULL) {
				cidr_list_free(&list);
				return error_r_set(error_r, "out of memory");
			}
			list->items = n;
			cap = ncap;
		}
		if (cidr_parse_n(start, (size_t)(p - start), &list->items[list->count], error_r)
		    < 0) {
			cidr_list_free(&list);
			return -1;
		}
		list->count++;
	}
	*list_r = list;
	return 0;
}

/* cidr_list_match - ip inside any network of the list */
bool cidr_list_match(const struct cidr_list *list, const struct ipaddr *ip)
{
	size_t i;

	if (list == NULL || ip->family == 0)
		return false;
	for (i = 0; i < list->count; i++)
		if (ipaddr_in_prefix(ip, &list->items[i].net, list->items[i].len))
			return true;
	return false;
}

/* cidr_list_count - number of networks */
size_t cidr_list_count(const struct cidr_list *list)
{
	return list == NULL ? 0 : list->count;
}

/* cidr_list_get - the i-th network, NULL past the end */
const struct cidr *cidr_list_get(const struct cidr_list *list, size_t i)
{
	return list != NULL && i < list->count ? &list->items[i] : NULL;
}

/* cidr_list_free - free and clear the caller's pointer */
void cidr_list_free(struct cidr_list **list)
{
	if (list == NULL || *list == NULL)
		return;
	free((*list)->items);
	free(*list);
	*list = NULL;
}

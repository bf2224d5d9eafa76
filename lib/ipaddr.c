/*
 * NAME
 *	ipaddr 3
 * SUMMARY
 *	IPv4/IPv6 addresses: parse, normalise, print, prefix match
 * SYNOPSIS
 *	#include "ipaddr.h"
 * DESCRIPTION
 *	Parsing is inet_pton(3) and nothing more, so every front end accepts
 *	the same spellings. IPv4-mapped IPv6 addresses become IPv4 at once:
 *	a grant learned from "::ffff:192.0.2.1" in a Dovecot log must match
 *	a Postfix client_address of "192.0.2.1".
 *
 *	Printing is our own and not inet_ntop(3): glibc 2.36 prints
 *	"::1:2" as "::0.1.0.2" (it treats any address with six leading
 *	zero fields as IPv4-compatible), which is not the RFC 5952 form.
 * DIAGNOSTICS
 *	Parse functions return -1 and clear the output on bad input.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ipaddr.h"

/* The longest text inet_pton can accept for IPv6 (full form with an
   embedded dotted quad is 45 characters); longer input is refused before
   copying so brackets and tags cannot push anything past a buffer. */
#define IPADDR_TEXT_MAX (IPADDR_STRLEN - 1)

static const uint8_t ipaddr_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* ipaddr_parse - inet_pton, then mapped -> IPv4 */
int ipaddr_parse(const char *text, struct ipaddr *ip_r)
{
	memset(ip_r, 0, sizeof(*ip_r));
	if (text == NULL || strlen(text) > IPADDR_TEXT_MAX)
		return -1;
	if (strchr(text, ':') == NULL) {
		if (inet_pton(AF_INET, text, ip_r->bytes) != 1) {
			memset(ip_r, 0, sizeof(*ip_r));
			return -1;
		}
		ip_r->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, ip_r->bytes) != 1) {
		memset(ip_r, 0, sizeof(*ip_r));
		return -1;
	}
	if (memcmp(ip_r->bytes, ipaddr_mapped_prefix, sizeof(ipaddr_mapped_prefix)) == 0) {
		memmove(ip_r->bytes, ip_r->bytes + 12, 4);
		memset(ip_r->bytes + 4, 0, 12);
		ip_r->family = AF_INET;
		return 0;
	}
	ip_r->family = AF_INET6;
	return 0;
}

/* ipaddr_parse_tagged - accept [brackets] and an "IPv6:" tag around an address */
int ipaddr_parse_tagged(const char *text, struct ipaddr *ip_r)
{
	char buf[IPADDR_TEXT_MAX + 1];
	const char *p = text;
	size_t len;
	bool tagged = false;

	memset(ip_r, 0, sizeof(*ip_r));
	if (text == NULL)
		return -1;
	len = strlen(p);
	/* Brackets come as a pair or not at all: "[::1" is a typo, not an address. */
	if (len > 0 && p[0] == '[') {
		if (len < 2 || p[len - 1] != ']')
			return -1;
		p++;
		len -= 2;
	} else if (len > 0 && p[len - 1] == ']') {
		return -1;
	}
	/* Sendmail and Postfix spell the tag "IPv6:"; the case of the tag
	   carries no meaning (RFC 5321 address literals), so ignore it. */
	if (len >= 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		p += 5;
		len -= 5;
		tagged = true;
	}
	if (len > IPADDR_TEXT_MAX)
		return -1;
	memcpy(buf, p, len);
	buf[len] = 0;
	/* "IPv6:192.0.2.1" claims one family and spells the other. */
	if (tagged && strchr(buf, ':') == NULL)
		return -1;
	return ipaddr_parse(buf, ip_r);
}

/* ipaddr_format_v6 - RFC 5952 section 4: lower case, no leading zeros,
   the longest run of two or more zero fields becomes "::", the first
   one on a tie */
static void ipaddr_format_v6(const uint8_t *b, char *buf)
{
	unsigned words[8];
	int best_at = -1, best_len = 0, run_at = -1, run_len = 0;
	char *out = buf;
	int i;

	for (i = 0; i < 8; i++)
		words[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (i = 0; i < 8; i++) {
		if (words[i] == 0) {
			if (run_at < 0)
				run_at = i, run_len = 0;
			run_len++;
			if (run_len > best_len)
				best_at = run_at, best_len = run_len;
		} else {
			run_at = -1;
		}
	}
	if (best_len < 2)
		best_at = -1;
	for (i = 0; i < 8; i++) {
		if (i == best_at) {
			*out++ = ':';
			*out++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best_at + best_len)
			*out++ = ':';
		out += sprintf(out, "%x", words[i]);
	}
	*out = 0;
}

/* ipaddr_format_v4 - dotted quad of b[0..3] at out; returns the end.
   By hand: policyd formats the client of every decision, and
   snprintf() was 14% of its instructions per request (callgrind). */
static char *ipaddr_format_v4(const uint8_t *b, char *out)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (i > 0)
			*out++ = '.';
		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
	}
	*out = '\0';
	return out;
}

/* ipaddr_format - print the RFC 5952 form */
const char *ipaddr_format(const struct ipaddr *ip, char buf[IPADDR_STRLEN])
{
	const uint8_t *b = ip->bytes;

	switch (ip->family) {
	case AF_INET:
		ipaddr_format_v4(b, buf);
		break;
	case AF_INET6:
		/* Only a hand-built struct can hold a mapped address; print it
		   in the mixed form RFC 5952 section 5 asks for. */
		if (memcmp(b, ipaddr_mapped_prefix, sizeof(ipaddr_mapped_prefix)) == 0)
			snprintf(buf, IPADDR_STRLEN, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14],
				 b[15]);
		else
			ipaddr_format_v6(b, buf);
		break;
	default:
		snprintf(buf, IPADDR_STRLEN, "unknown");
		break;
	}
	return buf;
}

/* ipaddr_bits - address width in bits */
unsigned ipaddr_bits(const struct ipaddr *ip)
{
	switch (ip->family) {
	case AF_INET:
		return 32;
	case AF_INET6:
		return 128;
	default:
		return 0;
	}
}

/* ipaddr_mask - clear the host part */
void ipaddr_mask(struct ipaddr *ip, unsigned len)
{
	unsigned bits = ipaddr_bits(ip);
	unsigned i;

	if (len > bits)
		len = bits;
	for (i = len / 8; i < sizeof(ip->bytes); i++) {
		if (i == len / 8 && len % 8 != 0)
			ip->bytes[i] &= (uint8_t)(0xff << (8 - len % 8));
		else
			ip->bytes[i] = 0;
	}
}

/* ipaddr_equal - same family, same bytes */
bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	/* Bytes past an IPv4 address are not part of it; family 0 compares
	   all of them (two cleared structs are equal, as the contract says). */
	size_t n = a->family == 0 ? sizeof(a->bytes) : ipaddr_bits(a) / 8;

	return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

/* ipaddr_in_prefix - addr inside net/len */
bool ipaddr_in_prefix(const struct ipaddr *addr, const struct ipaddr *net, unsigned len)
{
	struct ipaddr a = *addr, n = *net;

	if (addr->family == 0 || addr->family != net->family)
		return false;
	ipaddr_mask(&a, len);
	ipaddr_mask(&n, len);
	return ipaddr_equal(&a, &n);
}

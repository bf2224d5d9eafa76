/*
 * NAME
 *	ipaddr 3h
 * SUMMARY
 *	IPv4/IPv6 addresses: parse, normalise, print, prefix match
 * SYNOPSIS
 *	#include "ipaddr.h"
 * DESCRIPTION
 *	A struct ipaddr holds one address in network byte order. IPv4-mapped
 *	IPv6 addresses (::ffff:a.b.c.d) are normalised to IPv4 when parsed, so
 *	the rest of the suite never sees them. Printing follows RFC 5952.
 */
#ifndef AUTHRELAY_IPADDR_H
#define AUTHRELAY_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Large enough for any printed address, with its NUL. */
#define IPADDR_STRLEN 46

struct ipaddr {
	int family;		/* 0 (unset), AF_INET or AF_INET6 */
	uint8_t bytes[16];	/* IPv4 uses bytes[0..3] */
};

/* Parses text as an IPv4 or IPv6 address (inet_pton rules, nothing else:
   no brackets, no zone, no prefix, no surrounding space). "::ffff:a.b.c.d"
   becomes IPv4. Returns 0, or -1 with *ip_r cleared to family 0. */
int ipaddr_parse(const char *text, struct ipaddr *ip_r);

/* As ipaddr_parse, but also accepts a leading "IPv6:" (milter
   {client_addr}, Sendmail) and surrounding [brackets]. */
int ipaddr_parse_tagged(const char *text, struct ipaddr *ip_r);

/* Writes the RFC 5952 text form (lower case, longest zero run compressed,
   a single zero field never compressed) into buf and returns buf. A family
   0 address prints as "unknown". */
const char *ipaddr_format(const struct ipaddr *ip, char buf[IPADDR_STRLEN]);

/* Number of bits: 32 or 128; 0 for family 0. */
unsigned ipaddr_bits(const struct ipaddr *ip);

/* Clears every bit after the first len bits. len above ipaddr_bits() is
   clamped. */
void ipaddr_mask(struct ipaddr *ip, unsigned len);

/* Returns true when both have the same family and bytes. */
bool ipaddr_equal(const struct ipaddr *a, const struct ipaddr *b);

/* Returns true when addr lies inside net/len. Families must match (an
   IPv4-mapped addr was already turned into IPv4 by ipaddr_parse). An
   unparsed (family 0) addr or net matches nothing. */
bool ipaddr_in_prefix(const struct ipaddr *addr, const struct ipaddr *net, unsigned len);

#endif

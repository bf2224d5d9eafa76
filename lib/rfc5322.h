/*
 * NAME
 *	rfc5322 3h
 * SUMMARY
 *	the From: header's address list
 * DESCRIPTION
 *	Parses a header value (the text after "From:", unfolded or not) into
 *	the addr-specs it names: several mailboxes, display names (quoted,
 *	RFC 2047 encoded words or plain), comments (nested), quoted local
 *	parts, groups ("team: a@x, b@y;") and obsolete forms that real mail
 *	still carries. Only addr-specs are returned: text in a display name
 *	or a comment that looks like an address is never taken for one.
 *	Addresses come out normalised with addr_normalize().
 */
#ifndef AUTHRELAY_RFC5322_H
#define AUTHRELAY_RFC5322_H

#include <stddef.h>

/* Caps on hostile input: longer headers or more addresses are errors. */
#define RFC5322_MAX_HEADER 16384
#define RFC5322_MAX_ADDRESSES 100

struct rfc5322_addrlist {
	size_t count;
	char **addrs;		/* count normalised addresses, malloc'd */
};

/* Parses value (len bytes; NUL not required) into *list_r. Returns 0, or
   -1 with *error_r a malloc'd message (unbalanced quote or comment,
   missing '@', over a limit, no address at all) and *list_r empty. */
int rfc5322_parse_address_list(const char *value, size_t len,
			       struct rfc5322_addrlist *list_r, char **error_r);

/* Frees the addresses and empties the list; an empty list is fine. */
void rfc5322_addrlist_free(struct rfc5322_addrlist *list);

#endif

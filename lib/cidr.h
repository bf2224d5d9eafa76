/*
 * NAME
 *	cidr 3h
 * SUMMARY
 *	strict network/prefix parsing and lists of networks
 * DESCRIPTION
 *	"192.0.2.0/24", "2001:db8::/32", or a bare address (a host: /32 or
 *	/128). Host bits set after the prefix are an error with a hint:
 *	host bits set in "10.1.1.1/24"; did you mean "10.1.1.0/24"?
 */
#ifndef AUTHRELAY_CIDR_H
#define AUTHRELAY_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "ipaddr.h"

struct cidr {
	struct ipaddr net;	/* masked */
	unsigned len;
};

/* Parses one network. Returns 0, or -1 with *error_r a malloc'd message
   that quotes the input (caller frees). */
int cidr_parse(const char *text, struct cidr *cidr_r, char **error_r);

/* Prints "net/len" into buf (size at least IPADDR_STRLEN + 4). */
const char *cidr_format(const struct cidr *cidr, char *buf, size_t size);

struct cidr_list;

/* Parses a list separated by commas and/or white space. An empty text
   gives an empty list. Returns 0, or -1 with *error_r (first bad item),
   and *list_r untouched. */
int cidr_list_parse(const char *text, struct cidr_list **list_r, char **error_r);

/* Returns true when ip is inside any network of the list. A NULL or empty
   list, or a family 0 ip, matches nothing. */
bool cidr_list_match(const struct cidr_list *list, const struct ipaddr *ip);

size_t cidr_list_count(const struct cidr_list *list);
const struct cidr *cidr_list_get(const struct cidr_list *list, size_t i);

/* Frees the list and sets *list to NULL; NULL is fine. */
void cidr_list_free(struct cidr_list **list);

#endif

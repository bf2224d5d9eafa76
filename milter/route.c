/*
 * NAME
 *	route 3
 * SUMMARY
 *	is this recipient relayed or delivered here?
 * DESCRIPTION
 *	See route.h.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "route.h"

/* domain_listed - case-insensitive membership of a domain */
static bool domain_listed(const struct cfg_list *domains, const char *domain)
{
	for (size_t i = 0; i < domains->count; i++) {
		const char *d = domains->items[i];

		/* "@example.org" is accepted as a spelling of the domain. */
		if (d[0] == '@')
			d++;
		if (strcasecmp(d, domain) == 0)
			return true;
	}
	return false;
}

/* route_recipient - relayed or local */
enum route route_recipient(const struct cfg_list *relay_transports,
			   const struct cfg_list *local_domains, const char *rcpt_mailer,
			   const char *rcpt)
{
	if (local_domains != NULL && local_domains->count > 0) {
		char norm[ADDR_MAX];
		const char *domain;

		if (rcpt == NULL || addr_normalize(rcpt, norm, sizeof norm) != 0)
			/* Not an address we can read: the MTA accepted it, but
			   we cannot prove it is local. */
			return ROUTE_RELAY_UNKNOWN;
		domain = addr_domain(norm);
		if (domain[0] == '\0')
			return ROUTE_LOCAL;	/* "postmaster": always local */
		return domain_listed(local_domains, domain) ? ROUTE_LOCAL : ROUTE_RELAY;
	}
	if (rcpt_mailer == NULL || rcpt_mailer[0] == '\0')
		return ROUTE_RELAY_UNKNOWN;
	if (relay_transports != NULL) {
		for (size_t i = 0; i < relay_transports->count; i++)
			if (strcmp(relay_transports->items[i], rcpt_mailer) == 0)
				return ROUTE_RELAY;
	}
	return ROUTE_LOCAL;
}

/* route_name - for logs */
const char *route_name(enum route route)
{
	switch (route) {
	case ROUTE_LOCAL:
		return "local";
	case ROUTE_RELAY:
		return "relay";
	case ROUTE_RELAY_UNKNOWN:
		return "relay-assumed";
	}
	return "unknown";
}

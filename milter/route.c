/*
 * NAME
 *	route 3
 * SUMMARY
 *	is this recipient relayed or delivered here?
 * DESCRIPTION
 *	See route.h.
 */
#include <string.h>

#include "route.h"

/* route_recipient - relayed or local, as the MTA resolved it */
enum route route_recipient(const struct cfg_list *relay_transports, const char *rcpt_mailer)
{
	if (rcpt_mailer == NULL || rcpt_mailer[0] == '\0')
		return ROUTE_RELAY_UNKNOWN;
	return cfg_list_has(relay_transports, rcpt_mailer) ? ROUTE_RELAY : ROUTE_LOCAL;
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

/*
 * NAME
 *	endpoint 3
 * SUMMARY
 *	milter_socket in Postfix notation to libmilter's notation
 * DESCRIPTION
 *	See endpoint.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "error_r.h"

/* endpoint_error - malloc'd error text */
static int endpoint_error(char **error_r, const char *spec, const char *why)
{
	return error_r_set(error_r, "milter_socket \"%s\": %s", spec, why);
}

/* endpoint_translate - Postfix notation to libmilter notation */
int endpoint_translate(const char *spec, char *conn_r, size_t size, struct listen_endpoint *ep_r,
		       char **error_r)
{
	struct listen_endpoint ep;
	char *why = NULL;
	int n;

	if (listen_parse(spec, &ep, &why) != 0) {
		int ret = endpoint_error(error_r, spec,
					 why ? why : "expected inet:HOST:PORT or unix:PATH");

		free(why);
		return ret;
	}
	if (ep.kind == LISTEN_UNIX) {
		if (ep.path[0] != '/')
			return endpoint_error(error_r, spec,
					      "unix socket path must be absolute");
		n = snprintf(conn_r, size, "unix:%s", ep.path);
	} else if (ep.host[0] == '\0' || strcmp(ep.host, "*") == 0) {
		n = snprintf(conn_r, size, "inet:%s", ep.port);
	} else if (strchr(ep.host, ':') != NULL) {
		n = snprintf(conn_r, size, "inet6:%s@%s", ep.port, ep.host);
	} else {
		n = snprintf(conn_r, size, "inet:%s@%s", ep.port, ep.host);
	}
	if (n < 0 || (size_t)n >= size)
		return endpoint_error(error_r, spec, "too long");
	if (ep_r != NULL)
		*ep_r = ep;
	return 0;
}

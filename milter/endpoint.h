/*
 * NAME
 *	endpoint 3h
 * SUMMARY
 *	milter_socket in Postfix notation to libmilter's notation
 * DESCRIPTION
 *	The config speaks Postfix (what smtpd_milters says):
 *	  inet:127.0.0.1:10030   -> inet:10030@127.0.0.1
 *	  inet:[::1]:10030       -> inet6:10030@::1
 *	  inet:localhost:10030   -> inet:10030@localhost (libmilter resolves)
 *	  inet::10030, inet:*:10030 -> inet:10030 (all IPv4 addresses)
 *	  unix:/run/x.sock       -> unix:/run/x.sock
 *	Parsing is lib/listen's; this module only prints libmilter's form.
 */
#ifndef AUTHRELAY_MILTER_ENDPOINT_H
#define AUTHRELAY_MILTER_ENDPOINT_H

#include <stddef.h>

#include "listen.h"

/* Large enough for any translated endpoint. */
#define ENDPOINT_CONN_MAX 320

/* Parses spec (Postfix notation) and writes libmilter's connection
   string into conn_r (size at least ENDPOINT_CONN_MAX). *ep_r gets the
   parsed endpoint (unix socket path for chown/chmod). Returns 0, or -1
   with *error_r (malloc'd) saying what form is expected. */
int endpoint_translate(const char *spec, char *conn_r, size_t size, struct listen_endpoint *ep_r,
		       char **error_r);

#endif

/*
 * NAME
 *	nodelay 3h
 * SUMMARY
 *	TCP_NODELAY on the sockets libmilter accepts
 * DESCRIPTION
 *	libmilter never sets TCP_NODELAY and does not expose its sockets.
 *	On an inet: socket, Nagle's algorithm holds a small write back until
 *	the previous one is acknowledged, and a delayed ACK holds that
 *	acknowledgement back (40 ms on Linux). The stall measured through
 *	Postfix (21 messages/s on one session) was on Postfix's side and is
 *	avoided in the protocol (callbacks.c keeps DATA answered); this
 *	module covers the milter's own writes, e.g. a reply that follows
 *	another without a request in between.
 *
 *	This module defines accept(): the program's own definition comes
 *	first in symbol lookup, so libmilter's listener thread calls it
 *	instead of libc's. It calls the next accept() in lookup order
 *	(libc's, or a sanitizer's interceptor) through dlsym(RTLD_NEXT) and,
 *	when the new socket is TCP, sets TCP_NODELAY and TCP_QUICKACK on it.
 *	Why this is safe:
 *	  - the real accept() runs unchanged; its result and errno are
 *	    returned as they are;
 *	  - only TCP sockets are touched (unix: sockets have no Nagle); a
 *	    failed setsockopt() leaves the socket as libc made it;
 *	  - both options only change when segments are sent or acknowledged,
 *	    never what is sent: the milter protocol is request/reply, with
 *	    one write per reply, so it gains latency and loses nothing;
 *	  - in this program only libmilter accepts connections.
 *	The environment variable AUTHRELAY_MILTER_NODELAY=0 turns it off
 *	(for measuring the difference).
 */
#ifndef AUTHRELAY_MILTER_NODELAY_H
#define AUTHRELAY_MILTER_NODELAY_H

#include <stdbool.h>

/* Reads AUTHRELAY_MILTER_NODELAY once. Call from main() before
   smfi_main(); it also makes sure this module is linked in. */
void nodelay_init(void);

/* Whether tuning is on, and how many accepted sockets were tuned. */
bool nodelay_enabled(void);
unsigned long nodelay_tuned_count(void);

#endif

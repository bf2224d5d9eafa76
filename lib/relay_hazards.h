/*
 * NAME
 *	relay_hazards 3h
 * SUMMARY
 *	valid settings that would let strangers relay
 * DESCRIPTION
 *	A configuration can parse cleanly and still make an open relay.
 *	This module names such settings, for authrelayctl check and the
 *	daemons' -n (the one place the rules live):
 *
 *	- a trusted_networks entry that covers most of the Internet (an
 *	  IPv4 prefix shorter than /8, an IPv6 prefix shorter than /16):
 *	  every client in it may relay (policyd and milter);
 *	- a relaying mailer of the default milter_relay_transports missing
 *	  from the list: the MTA's recipients through it count as local, and
 *	  the milter accepts them from anyone (milter).
 *
 *	They are warnings, not errors: the configuration is still used.
 */
#ifndef AUTHRELAY_RELAY_HAZARDS_H
#define AUTHRELAY_RELAY_HAZARDS_H

#include <stdio.h>

#include "cfg.h"

/* Called once per hazard: where is "FILE:LINE" of the key that causes
   it ("FILE" when the key has its default), text says what and why. */
typedef void relay_hazard_fn(void *ctx, const char *where, const char *text);

/* Reports the hazards of cfg that concern programs (enum cfg_program
   bits) through report. Returns how many. */
unsigned relay_hazards(const struct authrelay_config *cfg, unsigned programs,
		       relay_hazard_fn *report, void *ctx);

/* The same, printed to fp as "FILE:LINE: warning: text" lines (the
   daemons' -n). Returns how many. */
unsigned relay_hazards_print(const struct authrelay_config *cfg, unsigned programs, FILE *fp);

/* The same, logged as warnings "FILE:LINE: text" (a daemon's start).
   Returns how many. */
unsigned relay_hazards_log(const struct authrelay_config *cfg, unsigned programs);

#endif

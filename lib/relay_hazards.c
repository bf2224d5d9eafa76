/*
 * NAME
 *	relay_hazards 3
 * SUMMARY
 *	valid settings that would let strangers relay
 * DESCRIPTION
 *	See relay_hazards.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cidr.h"
#include "log.h"
#include "relay_hazards.h"

/* Shorter prefixes than these are "most of the Internet": no site owns
   more than a /8 of IPv4 (10.0.0.0/8 is the largest private block) or
   anything near a /16 of IPv6 (allocations are /32 and longer). */
#define HAZARD_IPV4_PREFIX_MIN 8
#define HAZARD_IPV6_PREFIX_MIN 16

/* hazard_where - "FILE:LINE" of key, or "FILE" for a default */
static const char *hazard_where(const struct authrelay_config *cfg, const char *key, char *buf,
				size_t size)
{
	const char *file = cfg->path[0] ? cfg->path : CFG_DEFAULT_PATH;
	unsigned line = cfg_key_line(cfg, key);

	if (line > 0)
		snprintf(buf, size, "%s:%u", file, line);
	else
		snprintf(buf, size, "%s", file);
	return buf;
}

/* hazards_trusted - trusted_networks entries that trust strangers */
static unsigned hazards_trusted(const struct authrelay_config *cfg, relay_hazard_fn *report,
				void *ctx)
{
	char where[512], net[IPADDR_STRLEN + 4], text[512];
	unsigned found = 0;

	for (size_t i = 0; i < cidr_list_count(cfg->trusted_networks); i++) {
		const struct cidr *c = cidr_list_get(cfg->trusted_networks, i);
		unsigned min = c->net.family == AF_INET ? HAZARD_IPV4_PREFIX_MIN
							: HAZARD_IPV6_PREFIX_MIN;

		if (c->len >= min)
			continue;
		snprintf(text, sizeof text,
			 "trusted_networks: %s covers most of the Internet: every client in it "
			 "may relay (an open relay); list only your own networks",
			 cidr_format(c, net, sizeof net));
		report(ctx, hazard_where(cfg, "trusted_networks", where, sizeof where), text);
		found++;
	}
	return found;
}

/* hazards_transports - relaying mailers missing from the list */
static unsigned hazards_transports(const struct authrelay_config *cfg, relay_hazard_fn *report,
				   void *ctx)
{
	struct authrelay_config *defaults = cfg_defaults();
	const struct cfg_list *want = &defaults->milter_relay_transports;
	char where[512], missing[512] = "", text[1024];
	size_t used = 0;

	for (size_t i = 0; i < want->count; i++) {
		if (cfg_list_has(&cfg->milter_relay_transports, want->items[i]))
			continue;
		used += (size_t)snprintf(missing + used, used < sizeof missing ? sizeof missing - used : 0,
					 "%s%s", used ? ", " : "", want->items[i]);
		if (used >= sizeof missing)
			used = sizeof missing - 1;
	}
	cfg_free(&defaults);
	if (missing[0] == '\0')
		return 0;
	snprintf(text, sizeof text,
		 "milter_relay_transports lacks %s: recipients the MTA relays through these "
		 "mailers count as local and are accepted from anyone (an open relay); "
		 "add them back",
		 missing);
	report(ctx, hazard_where(cfg, "milter_relay_transports", where, sizeof where), text);
	return 1;
}

/* relay_hazards - every hazard for these programs */
unsigned relay_hazards(const struct authrelay_config *cfg, unsigned programs,
		       relay_hazard_fn *report, void *ctx)
{
	unsigned found = 0;

	if (programs & (CFG_POLICYD | CFG_MILTER))
		found += hazards_trusted(cfg, report, ctx);
	if (programs & CFG_MILTER)
		found += hazards_transports(cfg, report, ctx);
	return found;
}

/* hazard_print - one "FILE:LINE: warning: text" line */
static void hazard_print(void *ctx, const char *where, const char *text)
{
	fprintf(ctx, "%s: warning: %s\n", where, text);
}

/* relay_hazards_print - for -n */
unsigned relay_hazards_print(const struct authrelay_config *cfg, unsigned programs, FILE *fp)
{
	return relay_hazards(cfg, programs, hazard_print, fp);
}

/* hazard_log - one warning in the daemon's log */
static void hazard_log(void *ctx, const char *where, const char *text)
{
	(void)ctx;
	log_warning("%s: %s", where, text);
}

/* relay_hazards_log - at a daemon's start */
unsigned relay_hazards_log(const struct authrelay_config *cfg, unsigned programs)
{
	return relay_hazards(cfg, programs, hazard_log, NULL);
}

/*
 * NAME
 *	postfix_hints 3h
 * SUMMARY
 *	is Postfix wired to authrelay? (authrelayctl check)
 * DESCRIPTION
 *	postfix_conf_read() asks postconf(1) for the few parameters that
 *	decide whether authrelay is consulted at all; postfix_hints()
 *	compares them with authrelay.conf and says what looks wrong. The
 *	hints are warnings: Postfix setups vary, and check never fails
 *	because of them.
 *
 *	What is looked at:
 *	- smtpd_relay_restrictions: check_policy_service for policyd_listen,
 *	  before reject_unauth_destination (else a grant never opens relay)
 *	  and before permit_sasl_authenticated (else the SASL rules are
 *	  never asked);
 *	- mynetworks: networks wider than an IPv4 /24 or an IPv6 /64 (other
 *	  than loopback) relay without anyone asking authrelay;
 *	- smtpd_milters: contains milter_socket when the milter is in use;
 *	- smtpd_data_restrictions: check_policy_service for policyd_listen
 *	  when sending limits are set and policyd is wired in main.cf (a
 *	  message is counted there; without it no limit is ever reached).
 */
#ifndef AUTHRELAY_CTL_POSTFIX_HINTS_H
#define AUTHRELAY_CTL_POSTFIX_HINTS_H

#include <stdbool.h>

/* The parameters as postconf -x prints them ("" when empty). */
struct postfix_conf {
	char *relay_restrictions;	/* smtpd_relay_restrictions */
	char *recipient_restrictions;	/* smtpd_recipient_restrictions */
	char *data_restrictions;	/* smtpd_data_restrictions */
	char *mynetworks;
	char *milters;			/* smtpd_milters */
};

/* Bounds what is read from postconf. */
#define POSTFIX_CONF_OUTPUT_MAX (256 * 1024)

/* Finds postconf (PATH, then /usr/sbin) and runs it, with -c
   config_dir when not NULL. Returns 1 when postconf is not installed
   (no hints, not an error), 0 with *conf_r filled, or -1 with *error_r
   (malloc'd) when it ran and failed. */
int postfix_conf_read(const char *config_dir, struct postfix_conf *conf_r, char **error_r);

/* Parses postconf's "name = value" output (tests). Unknown names are
   ignored. Returns 0 or -1 (out of memory aborts). */
int postfix_conf_parse(const char *text, struct postfix_conf *conf_r);

void postfix_conf_free(struct postfix_conf *conf);

/* What authrelay expects to find. */
struct postfix_expect {
	const char *policy_endpoint;	/* policyd_listen, Postfix notation */
	const char *milter_socket;	/* milter_socket */
	bool milter_in_use;		/* milter_socket set in authrelay.conf */
	/* NULL, or what sets sending limits ("limit_recipients in
	   authrelay.conf", "3 limit rows in the database"): policyd counts
	   a message only when smtpd_data_restrictions asks it. */
	const char *limits_set_by;
};

typedef void postfix_hint_fn(void *ctx, bool ok, const char *text);

/* Calls hint(ctx, false, warning) per problem and hint(ctx, true, note)
   per thing found in order. Returns the number of warnings. */
unsigned postfix_hints(const struct postfix_conf *conf, const struct postfix_expect *expect,
		       postfix_hint_fn *hint, void *ctx);

#endif

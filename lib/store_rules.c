/*
 * NAME
 *	store_rules 3
 * SUMMARY
 *	the business rules every store backend answers by
 * SYNOPSIS
 *	#include "store_rules.h"
 * DESCRIPTION
 *	See store_rules.h. Sender ownership is reduced to equality on at
 *	most three candidates (the address without its +tag, "@domain",
 *	"*"), so a backend answers it with its primary key whatever the
 *	number of patterns; patterns are stored addr_pattern_normalize()d
 *	and addresses normalised the same way, so the domain's case never
 *	matters. Fingerprints are kept in Postfix's ccert_fingerprint form,
 *	so "ab:cd:..", "ABCD.." and Postfix's own text find the same row.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "error_r.h"
#include "store_rules.h"

/* store_rules_sender_key - the candidates that can cover address */
int store_rules_sender_key(const char *address, struct store_sender_key *key_r)
{
	char norm[ADDR_MAX];
	const char *dom;

	key_r->bare[0] = key_r->at_domain[0] = '\0';
	if (address == NULL || addr_normalize(address, norm, sizeof norm) < 0)
		return -1;
	addr_strip_tag(norm, key_r->bare, sizeof key_r->bare);
	dom = addr_domain(key_r->bare);
	if (*dom != '\0')
		snprintf(key_r->at_domain, sizeof key_r->at_domain, "@%s", dom);
	return 0;
}

/* store_fingerprint_normalize - Postfix's fingerprint form */
int store_fingerprint_normalize(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = 0;
	unsigned digits = 0;
	int pending = -1;

	if (in == NULL || size == 0)
		return -1;
	for (const char *p = in; *p != '\0'; p++) {
		int v;
		char c = *p;

		if (c == ':' || c == ' ' || c == '\t')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		digits++;
		if (pending < 0) {
			pending = v;
			continue;
		}
		/* Room for an optional ':', two digits and the NUL. */
		if (len + (len > 0) + 3 > size)
			return -1;
		if (len > 0)
			out[len++] = ':';
		out[len++] = hex[pending];
		out[len++] = hex[v];
		pending = -1;
	}
	if (digits == 0 || pending >= 0)
		return -1;
	out[len] = '\0';
	return 0;
}

/* store_rules_fingerprint - normalised, or an error quoting the input */
int store_rules_fingerprint(const char *in, char out[STORE_FPR_MAX], char **error_r)
{
	if (store_fingerprint_normalize(in, out, STORE_FPR_MAX) < 0)
		return error_r_set(error_r, "bad certificate fingerprint \"%.*s\": want hex pairs "
				   "such as AB:CD:..", STORE_FPR_MAX, in != NULL ? in : "");
	return 0;
}

/* check_text - a fixed-size text field: terminated and, when required,
   not empty */
static int check_text(const char *field, size_t size, bool required, const char *what,
		      char **error_r)
{
	size_t len = strnlen(field, size);

	if (len == size)
		return error_r_set(error_r, "%s is too long", what);
	if (required && len == 0)
		return error_r_set(error_r, "%s is empty", what);
	return 0;
}

/* check_net - an address family and a prefix that fits it */
static int check_net(const struct ipaddr *net, unsigned prefix_len, char **error_r)
{
	if (net->family == 0 || ipaddr_bits(net) == 0)
		return error_r_set(error_r, "grant without an IP address");
	if (prefix_len > ipaddr_bits(net))
		return error_r_set(error_r, "grant prefix /%u is longer than the address", prefix_len);
	return 0;
}

/* store_rules_cert - a certificate in the form every backend stores */
int store_rules_cert(const struct store_cert *cert, struct store_cert *out_r, char **error_r)
{
	if (strnlen(cert->username, sizeof cert->username) == sizeof cert->username
	    || cert->username[0] == '\0')
		return error_r_set(error_r, "certificate without a valid user name");
	if (strnlen(cert->subject, sizeof cert->subject) == sizeof cert->subject)
		return error_r_set(error_r, "certificate subject too long");
	*out_r = *cert;
	if (store_rules_fingerprint(cert->fingerprint, out_r->fingerprint, error_r) < 0)
		return -1;
	out_r->pubkey_fingerprint[0] = '\0';
	if (strnlen(cert->pubkey_fingerprint, sizeof cert->pubkey_fingerprint) > 0
	    && store_fingerprint_normalize(cert->pubkey_fingerprint, out_r->pubkey_fingerprint,
					   sizeof out_r->pubkey_fingerprint) < 0)
		return error_r_set(error_r, "bad public-key fingerprint \"%.*s\": want hex "
				   "pairs such as AB:CD:..", STORE_FPR_MAX,
				   cert->pubkey_fingerprint);
	return 0;
}

/* store_rules_login - one login, checked before its transaction */
int store_rules_login(const struct store_login *l, char **error_r)
{
	if (check_net(&l->net, l->prefix_len, error_r) < 0
	    || check_text(l->username, sizeof l->username, true, "login user name", error_r) < 0
	    || check_text(l->service, sizeof l->service, true, "login service", error_r) < 0
	    || check_text(l->source, sizeof l->source, false, "login source", error_r) < 0
	    || check_text(l->session, sizeof l->session, false, "login session", error_r) < 0)
		return -1;
	if (l->expires_at <= l->login_time)
		return error_r_set(error_r, "login of %s: expiry is not after the login time",
				   l->username);
	return 0;
}

/* store_rules_grant - one manual grant, checked before its transaction */
int store_rules_grant(const struct store_grant *grant, int64_t now, char **error_r)
{
	int64_t seen = grant->first_seen != 0 ? grant->first_seen : now;

	if (check_net(&grant->net, grant->prefix_len, error_r) < 0
	    || check_text(grant->username, sizeof grant->username, false, "grant user name",
			  error_r) < 0)
		return -1;
	if (grant->expires_at <= seen)
		return error_r_set(error_r, "grant expiry is not after its start");
	return 0;
}

/* store_rules_checkpoint - a checkpoint names its source */
int store_rules_checkpoint(const struct store_checkpoint *cp, char **error_r)
{
	return check_text(cp->source, sizeof cp->source, true, "checkpoint source", error_r);
}

/* store_rules_prune_log - the admin_log row of one prune */
void store_rules_prune_log(int64_t before, const uint64_t counts[STORE_PRUNE_TABLES],
			   bool stopped, char subject_r[32], char detail_r[160])
{
	time_t t = (time_t)before;
	struct tm tm;
	size_t len;

	if (gmtime_r(&t, &tm) == NULL
	    || strftime(subject_r, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(subject_r, 32, "%lld", (long long)before);
	len = (size_t)snprintf(detail_r, 160, "decisions=%llu grants=%llu",
			       (unsigned long long)counts[STORE_PRUNE_DECISIONS],
			       (unsigned long long)counts[STORE_PRUNE_GRANTS]);
	if (counts[STORE_PRUNE_LIMIT_REFUSALS] + counts[STORE_PRUNE_LIMIT_COUNTS] > 0)
		len += (size_t)snprintf(detail_r + len, 160 - len,
					" limit_refusals=%llu limit_counts=%llu",
					(unsigned long long)counts[STORE_PRUNE_LIMIT_REFUSALS],
					(unsigned long long)counts[STORE_PRUNE_LIMIT_COUNTS]);
	if (stopped && len < 160)
		snprintf(detail_r + len, 160 - len, " (stopped by an error)");
}

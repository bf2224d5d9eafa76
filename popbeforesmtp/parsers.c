/*
 * NAME
 *	parsers 3
 * SUMMARY
 *	the format table, loginwatch_formats, and helpers for the parsers
 * SYNOPSIS
 *	#include "parsers.h"
 * DESCRIPTION
 *	See parsers.h. parsers_parse_line() is the hot path: the envelope
 *	costs a few comparisons, each parser first compares its program
 *	name, and only a login line pays for the time conversion.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "envelope.h"
#include "error_r.h"
#include "parsers.h"

/* parse_tag - length of "name[pid]: " at the start of msg, or 0 */
size_t parse_tag(const char *msg, size_t len, const char *name)
{
	size_t n = strlen(name), i;

	if (len < n + 2 || memcmp(msg, name, n) != 0)
		return 0;
	i = n;
	if (msg[i] == '[') {
		size_t digits = 0;

		for (i++; i < len && msg[i] >= '0' && msg[i] <= '9' && digits < 10; i++)
			digits++;
		if (digits == 0 || i >= len || msg[i] != ']')
			return 0;
		i++;
	}
	if (i + 2 > len || msg[i] != ':' || msg[i + 1] != ' ')
		return 0;
	return i + 2;
}

/* parse_tag_any - parse_tag for a list of names */
size_t parse_tag_any(const char *msg, size_t len, const char *const *names, size_t *index_r)
{
	for (size_t i = 0; names[i] != NULL; i++) {
		size_t n = parse_tag(msg, len, names[i]);

		if (n > 0) {
			*index_r = i;
			return n;
		}
	}
	return 0;
}

/* parse_has_prefix - s starts with prefix */
bool parse_has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* parse_last - the last occurrence of needle in s */
const char *parse_last(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	const char *found = NULL, *p = s, *end = s + len;

	if (n == 0 || n > len)
		return NULL;
	while ((p = memmem(p, (size_t)(end - p), needle, n)) != NULL) {
		found = p;
		p++;
	}
	return found;
}

/* parse_ip - inet_pton-strict address of bounded length */
int parse_ip(const char *s, size_t len, struct ipaddr *ip_r)
{
	char buf[IPADDR_STRLEN];

	if (len == 0 || len >= sizeof(buf)) {
		ip_r->family = 0;
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return ipaddr_parse(buf, ip_r);
}

/* parse_login_user - bounded, control-free user name; anonymous never grants */
enum parse_result parse_login_user(struct login_event *ev, const char *s, size_t len,
				   bool anonymous)
{
	if (len >= sizeof(ev->user))
		len = sizeof(ev->user) - 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		ev->user[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	ev->user[len] = '\0';
	if (anonymous || ev->user[0] == '\0' || strcasecmp(ev->user, "anonymous") == 0) {
		ev->why = "anonymous login";
		return PARSE_REFUSED;
	}
	return PARSE_LOGIN;
}

/* parse_set_service - a short static service name */
void parse_set_service(struct login_event *ev, const char *service)
{
	snprintf(ev->service, sizeof(ev->service), "%s", service);
}

static const char *const dovecot_units[] = { "dovecot.service", NULL };
static const char *const courier_units[] = { "courier-imap.service", "courier-imap-ssl.service",
					     "courier-pop.service", "courier-pop-ssl.service",
					     "courier-imapd.service", "courier-pop3d.service", NULL };
static const char *const cyrus_units[] = { "cyrus-imapd.service", "cyrus-imap.service", NULL };
static const char *const uw_units[] = { "uw-imapd.service", "inetd.service", "xinetd.service",
					"openbsd-inetd.service", NULL };
static const char *const qpopper_units[] = { "qpopper.service", "inetd.service",
					     "xinetd.service", "openbsd-inetd.service", NULL };

static const struct parser_info table[] = {
	{ "dovecot", parse_dovecot, parse_dovecot_programs, "Login: user=<", dovecot_units },
	{ "courier", parse_courier, parse_courier_programs, "LOGIN, user=", courier_units },
	{ "cyrus", parse_cyrus, parse_cyrus_programs, " User logged in", cyrus_units },
	{ "uw-imap", parse_uw, parse_uw_programs, " user=", uw_units },
	{ "qpopper", parse_qpopper, parse_qpopper_programs, "POP login by user \"", qpopper_units },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* parsers_table - every parser this build has */
const struct parser_info *parsers_table(void)
{
	return table;
}

/* list_has - word is in the list (cfg_list_has, without needing cfg.c) */
static bool list_has(const struct cfg_list *list, const char *word)
{
	for (size_t i = 0; list != NULL && i < list->count; i++)
		if (strcmp(list->items[i], word) == 0)
			return true;
	return false;
}

/* common_needle - the longest substring of needle held by every parser
   of the set (needle = the first parser's) */
static void common_needle(struct parser_set *set)
{
	const char *first = set->on[0]->needle;
	size_t n = strlen(first), best_len = 0, best_at = 0;

	for (size_t at = 0; at < n; at++)
		for (size_t len = n - at; len > best_len; len--) {
			bool everywhere = true;

			for (size_t i = 1; i < set->count && everywhere; i++)
				everywhere = memmem(set->on[i]->needle, strlen(set->on[i]->needle),
						    first + at, len) != NULL;
			if (everywhere) {
				best_len = len;
				best_at = at;
				break;
			}
		}
	if (best_len >= sizeof(set->needle))
		best_len = sizeof(set->needle) - 1;
	memcpy(set->needle, first + best_at, best_len);
	set->needle[best_len] = '\0';
}

/* parsers_select - loginwatch_formats to a parser set */
int parsers_select(const struct cfg_list *formats, struct parser_set *set_r, char **error_r)
{
	struct parser_set set;
	bool all;

	memset(&set, 0, sizeof(set));
	all = formats == NULL || formats->count == 0 || list_has(formats, "all");

	for (size_t i = 0; formats != NULL && i < formats->count; i++) {
		const struct parser_info *p;

		if (strcmp(formats->items[i], "all") == 0)
			continue;
		for (p = table; p->name != NULL; p++)
			if (strcmp(p->name, formats->items[i]) == 0)
				break;
		if (p->name == NULL) {
			error_r_set(error_r,
				    "loginwatch_formats: unknown format \"%s\" (known: all dovecot "
				    "courier cyrus uw-imap qpopper)",
				    formats->items[i]);
			set_r->count = 0;
			return -1;
		}
	}
	for (const struct parser_info *p = table; p->name != NULL; p++) {
		if (!all && !list_has(formats, p->name))
			continue;
		set.on[set.count++] = p;
		for (const char *const *prog = p->programs; *prog != NULL; prog++) {
			assert(set.tag_count < PARSER_PROGRAMS_MAX);
			set.tags[set.tag_count].len = strlen(*prog);
			set.tags[set.tag_count].program = *prog;
			set.tags[set.tag_count++].parser = p;
		}
	}
	common_needle(&set);
	*set_r = set;
	return 0;
}

/* parsers_parse_msg - the first parser that recognises msg */
enum parse_result parsers_parse_msg(const struct parser_set *set, const char *msg, size_t len,
				    struct login_event *ev_r)
{
	size_t n = 0;

	/* The program name ends at '[' (pid) or ':'; a tag is never long. */
	while (n < len && n < 64 && msg[n] != '[' && msg[n] != ':' && msg[n] != ' ')
		n++;
	if (n == 0 || n == len || msg[n] == ' ')
		return PARSE_IGNORED;
	for (size_t i = 0; i < set->tag_count; i++) {
		enum parse_result r;

		if (set->tags[i].len != n || memcmp(set->tags[i].program, msg, n) != 0)
			continue;
		r = set->tags[i].parser->parse(msg, len, ev_r);
		if (r != PARSE_IGNORED) {
			ev_r->format = set->tags[i].parser->name;
			return r;
		}
	}
	return PARSE_IGNORED;
}

/* parsers_parse_line - envelope, parsers, time */
enum parse_result parsers_parse_line(const struct parser_set *set, const char *line, size_t len,
				     time_t now, struct login_event *ev_r)
{
	struct envelope env;
	enum parse_result r;

	if (envelope_parse(line, len, &env) < 0)
		return PARSE_IGNORED;
	r = parsers_parse_msg(set, env.tag, env.tag_len, ev_r);
	if (r == PARSE_LOGIN && envelope_time(&env, now, &ev_r->time) < 0) {
		ev_r->why = "time stamp cannot be converted";
		return PARSE_REFUSED;
	}
	return r;
}

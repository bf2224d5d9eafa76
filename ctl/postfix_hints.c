/*
 * NAME
 *	postfix_hints 3
 * SUMMARY
 *	is Postfix wired to authrelay? (authrelayctl check)
 * SYNOPSIS
 *	#include "postfix_hints.h"
 * DESCRIPTION
 *	postconf is run without a shell (posix_spawn), with -x so that
 *	$parameter references in the values are expanded as smtpd sees
 *	them. A restriction list is split the way Postfix splits it: white
 *	space and commas separate, and "{ ... }" is one element (Postfix
 *	2.11+ per-service options: the endpoint is its first word).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error_r.h"
#include "ipaddr.h"
#include "postfix_hints.h"

extern char **environ;

/* More elements than any real restriction list has; the rest is ignored. */
#define TOKENS_MAX 256
#define HINT_MAX 512

static char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		abort();
	return p;
}

void postfix_conf_free(struct postfix_conf *conf)
{
	free(conf->relay_restrictions);
	free(conf->recipient_restrictions);
	free(conf->data_restrictions);
	free(conf->mynetworks);
	free(conf->milters);
	memset(conf, 0, sizeof *conf);
}

/* postfix_conf_parse - "name = value" lines, continuation lines folded */

int postfix_conf_parse(const char *text, struct postfix_conf *conf_r)
{
	struct {
		const char *name;
		char **value;
	} want[] = {
		{"smtpd_relay_restrictions", &conf_r->relay_restrictions},
		{"smtpd_recipient_restrictions", &conf_r->recipient_restrictions},
		{"smtpd_data_restrictions", &conf_r->data_restrictions},
		{"mynetworks", &conf_r->mynetworks},
		{"smtpd_milters", &conf_r->milters},
	};
	char **current = NULL;

	memset(conf_r, 0, sizeof *conf_r);
	while (*text != 0) {
		size_t len = strcspn(text, "\n");
		const char *line = text;

		text += len + (text[len] == '\n');
		if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
			/* postconf -f folds long values; join them back. */
			if (current != NULL) {
				size_t old = strlen(*current);
				char *joined = realloc(*current, old + len + 2);

				if (joined == NULL)
					abort();
				joined[old] = ' ';
				memcpy(joined + old + 1, line, len);
				joined[old + 1 + len] = 0;
				*current = joined;
			}
			continue;
		}
		current = NULL;
		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
			size_t nlen = strlen(want[i].name);
			const char *v;

			if (strncmp(line, want[i].name, nlen) != 0 || line[nlen] != ' ')
				continue;
			v = line + nlen;
			while (v < line + len && (*v == ' ' || *v == '='))
				v++;
			free(*want[i].value);
			*want[i].value = xstrndup(v, (size_t)(line + len - v));
			current = want[i].value;
		}
	}
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (*want[i].value == NULL)
			*want[i].value = xstrndup("", 0);
	return 0;
}

/* find_postconf - on PATH, else where Debian puts it */

static const char *find_postconf(char *buf, size_t size)
{
	const char *path = getenv("PATH");
	static const char *const fallback[] = {"/usr/sbin/postconf", "/usr/local/sbin/postconf"};

	while (path != NULL && *path != 0) {
		size_t len = strcspn(path, ":");

		if (len > 0 && (size_t)snprintf(buf, size, "%.*s/postconf", (int)len, path) < size &&
		    access(buf, X_OK) == 0)
			return buf;
		path += len + (path[len] == ':');
	}
	for (size_t i = 0; i < sizeof fallback / sizeof fallback[0]; i++)
		if (access(fallback[i], X_OK) == 0)
			return fallback[i];
	return NULL;
}

/* first_line - the first line of what fd (a memfd, at its end) holds,
   without control characters, into buf; "" when empty */
static const char *first_line(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);
	size_t i;

	buf[n > 0 ? n : 0] = 0;
	for (i = 0; buf[i] != 0 && buf[i] != '\n'; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = '?';
	buf[i] = 0;
	return buf;
}

/* postfix_conf_read - runs postconf -x for the parameters we read; its
   stderr is kept (a memfd) so that a failure is one line of ours that
   quotes postconf, not postconf's own line on our terminal */

int postfix_conf_read(const char *config_dir, struct postfix_conf *conf_r, char **error_r)
{
	char pathbuf[4096];
	const char *postconf = find_postconf(pathbuf, sizeof pathbuf);
	char *argv[12];
	int argc = 0, fds[2], errfd, status, err;
	char why[256];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char *out;
	size_t used = 0;
	ssize_t n;

	*error_r = NULL;
	if (postconf == NULL)
		return 1;
	argv[argc++] = (char *)"postconf";
	argv[argc++] = (char *)"-x";
	if (config_dir != NULL) {
		argv[argc++] = (char *)"-c";
		argv[argc++] = (char *)config_dir;
	}
	argv[argc++] = (char *)"smtpd_relay_restrictions";
	argv[argc++] = (char *)"smtpd_recipient_restrictions";
	argv[argc++] = (char *)"smtpd_data_restrictions";
	argv[argc++] = (char *)"mynetworks";
	argv[argc++] = (char *)"smtpd_milters";
	argv[argc] = NULL;

	if ((errfd = memfd_create("postconf-stderr", MFD_CLOEXEC)) < 0)
		return error_r_set(error_r, "memfd_create: %s", strerror(errno));
	if (pipe2(fds, O_CLOEXEC) != 0) {
		close(errfd);
		return error_r_set(error_r, "pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	err = posix_spawn(&pid, postconf, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (err != 0) {
		close(fds[0]);
		close(errfd);
		return error_r_set(error_r, "cannot run %s: %s", postconf, strerror(err));
	}
	out = malloc(POSTFIX_CONF_OUTPUT_MAX + 1);
	if (out == NULL)
		abort();
	/* Read to the end even past the bound, so postconf never blocks. */
	while ((n = read(fds[0], pathbuf, sizeof pathbuf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (used + (size_t)n <= POSTFIX_CONF_OUTPUT_MAX) {
			memcpy(out + used, pathbuf, (size_t)n);
			used += (size_t)n;
		}
	}
	out[used] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		first_line(errfd, why, sizeof why);
		error_r_set(error_r, "%s -x%s%s failed (exit status %d)%s%s", postconf,
			    config_dir ? " -c " : "", config_dir ? config_dir : "",
			    WIFEXITED(status) ? WEXITSTATUS(status) : -1, *why ? ": " : "", why);
		close(errfd);
		free(out);
		return -1;
	}
	close(errfd);
	postfix_conf_parse(out, conf_r);
	free(out);
	return 0;
}

/* ---- restriction lists ---- */

struct tokens {
	size_t n;
	char *item[TOKENS_MAX];
};

/* tokenize - Postfix list elements; a "{...}" group keeps its braces */

static void tokenize(const char *text, struct tokens *t)
{
	const char *p = text;

	t->n = 0;
	while (*p != 0 && t->n < TOKENS_MAX) {
		const char *start;

		p += strspn(p, " \t\r\n,");
		if (*p == 0)
			break;
		start = p;
		if (*p == '{') {
			int depth = 0;

			for (; *p != 0; p++) {
				if (*p == '{')
					depth++;
				else if (*p == '}' && --depth == 0) {
					p++;
					break;
				}
			}
		} else {
			p += strcspn(p, " \t\r\n,{");
		}
		t->item[t->n++] = xstrndup(start, (size_t)(p - start));
	}
}

static void tokens_free(struct tokens *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->item[i]);
	t->n = 0;
}

/* endpoint_of - "inet:x" or the first word of "{ inet:x, opt=y }" */

static void endpoint_of(const char *token, char *buf, size_t size)
{
	size_t len;

	if (*token == '{')
		token++;
	token += strspn(token, " \t\r\n,");
	len = strcspn(token, " \t\r\n,}");
	snprintf(buf, size, "%.*s", (int)len, token);
}

struct wiring {
	long policy;		/* our check_policy_service, or -1 */
	long other_policy;	/* another check_policy_service, or -1 */
	char other[256];
	long unauth;		/* reject_ or defer_unauth_destination, or -1 */
	long sasl;		/* permit_sasl_authenticated, or -1 */
	long permit;		/* a bare "permit", or -1 */
};

static void find_wiring(const char *list, const char *endpoint, struct wiring *w)
{
	struct tokens t;

	w->policy = w->other_policy = w->unauth = w->sasl = w->permit = -1;
	w->other[0] = 0;
	tokenize(list, &t);
	for (size_t i = 0; i < t.n; i++) {
		const char *tok = t.item[i];

		if (strcmp(tok, "check_policy_service") == 0 && i + 1 < t.n) {
			char ep[256];

			endpoint_of(t.item[++i], ep, sizeof ep);
			if (strcmp(ep, endpoint) == 0) {
				if (w->policy < 0)
					w->policy = (long)i;
			} else if (w->other_policy < 0) {
				w->other_policy = (long)i;
				snprintf(w->other, sizeof w->other, "%s", ep);
			}
		} else if ((strcmp(tok, "reject_unauth_destination") == 0 ||
			    strcmp(tok, "defer_unauth_destination") == 0) &&
			   w->unauth < 0) {
			w->unauth = (long)i;
		} else if (strcmp(tok, "permit_sasl_authenticated") == 0 && w->sasl < 0) {
			w->sasl = (long)i;
		} else if (strcmp(tok, "permit") == 0 && w->permit < 0) {
			w->permit = (long)i;
		}
	}
	tokens_free(&t);
}

static bool list_has_endpoint(const char *list, const char *endpoint)
{
	struct tokens t;
	bool found = false;

	tokenize(list, &t);
	for (size_t i = 0; i < t.n && !found; i++) {
		char ep[256];

		endpoint_of(t.item[i], ep, sizeof ep);
		found = strcmp(ep, endpoint) == 0;
	}
	tokens_free(&t);
	return found;
}

struct hinter {
	postfix_hint_fn *fn;
	void *ctx;
	unsigned warnings;
};

static void say(struct hinter *h, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(struct hinter *h, bool ok, const char *fmt, ...)
{
	char text[HINT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (!ok)
		h->warnings++;
	h->fn(h->ctx, ok, text);
}

static void hint_policy(const struct postfix_conf *conf, const struct postfix_expect *e,
			bool milter_wired, struct hinter *h)
{
	struct wiring relay, rcpt;

	find_wiring(conf->relay_restrictions, e->policy_endpoint, &relay);
	find_wiring(conf->recipient_restrictions, e->policy_endpoint, &rcpt);

	if (relay.unauth < 0 && rcpt.unauth < 0)
		say(h, false, "neither smtpd_relay_restrictions nor smtpd_recipient_restrictions "
			      "has reject_unauth_destination: DUNNO would not refuse relay");
	if (relay.policy < 0) {
		if (milter_wired)
			return;
		if (rcpt.policy >= 0)
			say(h, false, "check_policy_service %s is in smtpd_recipient_restrictions, "
				      "which Postfix evaluates after smtpd_relay_restrictions: move "
				      "it to smtpd_relay_restrictions, before "
				      "reject_unauth_destination",
			    e->policy_endpoint);
		else if (relay.other_policy >= 0)
			say(h, false, "smtpd_relay_restrictions asks check_policy_service %s, not "
				      "authrelay's policyd_listen %s",
			    relay.other, e->policy_endpoint);
		else
			say(h, false, "smtpd_relay_restrictions has no check_policy_service %s, and "
				      "smtpd_milters has no %s: Postfix never asks authrelay",
			    e->policy_endpoint, e->milter_socket);
		return;
	}
	if (relay.unauth >= 0 && relay.unauth < relay.policy)
		say(h, false, "smtpd_relay_restrictions: reject_unauth_destination comes before "
			      "check_policy_service %s, so a grant never opens relay; put the "
			      "policy check first",
		    e->policy_endpoint);
	else if (relay.permit >= 0 && relay.permit < relay.policy)
		say(h, false, "smtpd_relay_restrictions: \"permit\" comes before "
			      "check_policy_service %s: everybody relays",
		    e->policy_endpoint);
	else if (relay.sasl >= 0 && relay.sasl < relay.policy)
		say(h, false, "smtpd_relay_restrictions: permit_sasl_authenticated comes before "
			      "check_policy_service %s: authenticated clients relay without the "
			      "SASL rules (suspended users, require_tls_for_auth, "
			      "sender_login_check)",
		    e->policy_endpoint);
	else
		say(h, true, "smtpd_relay_restrictions asks check_policy_service %s%s",
		    e->policy_endpoint,
		    relay.unauth >= 0 ? " before reject_unauth_destination" : "");
}

/* network_width - prefix length of one mynetworks element, or -1 when
   it is not a literal network (a table, a file, a host name, "!x") */

static int network_width(const char *item, struct ipaddr *ip_r)
{
	char addr[IPADDR_STRLEN + 2];
	const char *slash = strchr(item, '/');
	size_t len = slash ? (size_t)(slash - item) : strlen(item);
	long prefix;
	char *end;
	bool mapped;

	if (item[0] == '[' && len >= 2 && item[len - 1] == ']') {
		item++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof addr)
		return -1;
	memcpy(addr, item, len);
	addr[len] = 0;
	if (ipaddr_parse(addr, ip_r) != 0)
		return -1;
	mapped = ip_r->family == AF_INET && strchr(addr, ':') != NULL;
	if (slash == NULL)
		return (int)ipaddr_bits(ip_r);
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (*end != 0 && *end != ']')
		return -1;
	if (mapped)
		prefix -= 96;	/* [::ffff:127.0.0.0]/104 is 127.0.0.0/8 */
	if (prefix < 0 || prefix > (long)ipaddr_bits(ip_r))
		return -1;
	return (int)prefix;
}

static void hint_mynetworks(const struct postfix_conf *conf, struct hinter *h)
{
	struct tokens t;
	unsigned wide = 0;

	tokenize(conf->mynetworks, &t);
	for (size_t i = 0; i < t.n; i++) {
		struct ipaddr ip;
		int width = network_width(t.item[i], &ip);
		bool v4 = ip.family == AF_INET;

		if (width < 0)
			continue;
		if (v4 && ip.bytes[0] == 127 && width >= 8)
			continue;
		if (width == 0) {
			say(h, false, "mynetworks contains %s: the whole %s Internet relays without "
				      "authentication (open relay)",
			    t.item[i], v4 ? "IPv4" : "IPv6");
			wide++;
		} else if ((v4 && width < 24) || (!v4 && width < 64)) {
			say(h, false, "mynetworks contains %s (wider than a /%d): every host there "
				      "relays without authrelay being asked",
			    t.item[i], v4 ? 24 : 64);
			wide++;
		}
	}
	tokens_free(&t);
	if (wide == 0)
		say(h, true, "mynetworks has no network wider than an IPv4 /24 or an IPv6 /64");
}

/* hint_limits - policyd counts a message only when asked at DATA. Only
   for a main.cf wiring: a master.cf "-o" wiring (conf-examples) is not
   what postconf -x shows, and the milter counts without Postfix's help. */
static void hint_limits(const struct postfix_conf *conf, const struct postfix_expect *e,
			struct hinter *h)
{
	struct wiring relay, data;

	if (e->limits_set_by == NULL)
		return;
	find_wiring(conf->relay_restrictions, e->policy_endpoint, &relay);
	if (relay.policy < 0)
		return;
	find_wiring(conf->data_restrictions, e->policy_endpoint, &data);
	if (data.policy < 0)
		say(h, false, "sending limits are set (%s) but smtpd_data_restrictions has no "
			      "check_policy_service %s: policyd counts a message there, so no "
			      "limit is ever reached",
		    e->limits_set_by, e->policy_endpoint);
	else
		say(h, true, "smtpd_data_restrictions asks check_policy_service %s (sending "
			     "limits: %s)",
		    e->policy_endpoint, e->limits_set_by);
}

unsigned postfix_hints(const struct postfix_conf *conf, const struct postfix_expect *expect,
		       postfix_hint_fn *fn, void *ctx)
{
	struct hinter h = {fn, ctx, 0};
	bool milter_wired = list_has_endpoint(conf->milters, expect->milter_socket);

	hint_policy(conf, expect, milter_wired, &h);
	hint_limits(conf, expect, &h);
	hint_mynetworks(conf, &h);
	if (milter_wired)
		say(&h, true, "smtpd_milters contains %s", expect->milter_socket);
	else if (expect->milter_in_use)
		say(&h, false, "milter_socket is set to %s but smtpd_milters does not contain it: "
			       "Postfix never asks authrelay-milter",
		    expect->milter_socket);
	return h.warnings;
}

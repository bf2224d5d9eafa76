/*
 * NAME
 *	selftest 3
 * SUMMARY
 *	authrelayctl selftest: an open-relay self-check over SMTP
 * DESCRIPTION
 *	See selftest.h. Each attempt is its own SMTP session, so one refusal
 *	cannot colour the next. A relay counts as accepted when RCPT TO gets
 *	a 2xx reply; a 4xx or 5xx at MAIL or RCPT counts as refused. The
 *	verdict compares that with what the rules want:
 *
 *	  unauthenticated, any sender         refused (else: OPEN RELAY)
 *	  authenticated, own sender           accepted
 *	  authenticated, foreign sender       refused when sender_login_check
 *	                                      is on, accepted otherwise
 *
 *	An attempt that could not be made (AUTH refused, connection lost)
 *	is reported as such and makes the result a mismatch, never "ok".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"
#include "error_r.h"
#include "selftest.h"
#include "selftest_conn.h"
#include "selftest_sasl.h"

#define PASSWORD_MAX 1024
#define ATTEMPTS_MAX 16

enum want { WANT_REFUSED, WANT_ACCEPTED };

struct attempt {
	char name[64];
	char mech[32];		/* "" for unauthenticated */
	char from[320];
	enum want want;
	bool made;		/* reached RCPT TO */
	bool accepted;
	char reply[512];	/* the deciding reply's first line, or the failure */
	const char *verdict;	/* "ok" "OPEN RELAY" "mismatch" "not tested" */
};

/* Reads the password from the first line of path, refusing a file that
   other users may read (it would already have leaked). */
static char *read_password_file(const char *path, char **error_r)
{
	struct stat st;
	char buf[PASSWORD_MAX + 2];
	size_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		error_r_set(error_r, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || (st.st_mode & 0077) != 0) {
		error_r_set(error_r, "%s: readable by group or others; chmod 600 it", path);
		close(fd);
		return NULL;
	}
	ssize_t r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r < 0) {
		error_r_set(error_r, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf[r] = 0;
	n = strcspn(buf, "\r\n");
	if (n > PASSWORD_MAX) {
		error_r_set(error_r, "%s: password longer than %d bytes", path, PASSWORD_MAX);
		return NULL;
	}
	buf[n] = 0;
	char *pw = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return pw;
}

/* Splits HOST:PORT, [V6]:PORT. */
static int split_server(const char *arg, struct selftest_options *opts, char **error_r)
{
	const char *colon;
	size_t hlen;

	if (arg[0] == '[') {
		const char *end = strchr(arg, ']');
		if (end == NULL || end[1] != ':') {
			error_r_set(error_r, "--server \"%s\": expected [ADDRESS]:PORT", arg);
			return -1;
		}
		hlen = (size_t)(end - arg - 1);
		colon = end + 1;
		arg++;
	} else {
		colon = strrchr(arg, ':');
		if (colon == NULL || strchr(arg, ':') != colon) {
			error_r_set(error_r, "--server \"%s\": expected HOST:PORT (IPv6 as [ADDRESS]:PORT)",
				  arg);
			return -1;
		}
		hlen = (size_t)(colon - arg);
	}
	if (hlen == 0 || hlen >= sizeof opts->host || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= sizeof opts->port ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		error_r_set(error_r, "--server: bad host or port in \"%s\"", arg);
		return -1;
	}
	memcpy(opts->host, arg, hlen);
	opts->host[hlen] = 0;
	snprintf(opts->port, sizeof opts->port, "%s", colon + 1);
	return 0;
}

/* selftest_parse_args - the selftest command line */
int selftest_parse_args(int argc, char **argv, struct selftest_options *opts, char **error_r)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "starttls", no_argument, NULL, 'T' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "from", required_argument, NULL, 'f' },
		{ "foreign-from", required_argument, NULL, 'F' },
		{ "unauth-from", required_argument, NULL, 'U' },
		{ "to", required_argument, NULL, 't' },
		{ "helo", required_argument, NULL, 'H' },
		{ "timeout", required_argument, NULL, 'w' },
		{ "expect-sender-check", required_argument, NULL, 'e' },
		{ "password", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *server = NULL, *pwfile = NULL;
	int c;

	memset(opts, 0, sizeof *opts);
	opts->to = "authrelay-selftest@example.net";
	opts->unauth_from = "stranger@example.org";
	opts->foreign_from = "somebody-else@example.com";
	opts->helo = "authrelay-selftest.invalid";
	opts->timeout_ms = 20000;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'T': opts->starttls = true; break;
		case 'C': opts->cafile = optarg; break;
		case 'k': opts->insecure = true; break;
		case 'u': opts->user = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'f': opts->from = optarg; break;
		case 'F': opts->foreign_from = optarg; break;
		case 'U': opts->unauth_from = optarg; break;
		case 't': opts->to = optarg; break;
		case 'H': opts->helo = optarg; break;
		case 'w': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end != 0 || v < 1 || v > 600) {
				error_r_set(error_r, "--timeout: seconds from 1 to 600, not \"%s\"", optarg);
				return -1;
			}
			opts->timeout_ms = (int)v * 1000;
			break;
		}
		case 'e':
			if (strcmp(optarg, "yes") == 0)
				opts->expect_sender_check = true;
			else if (strcmp(optarg, "no") == 0)
				opts->expect_sender_check = false;
			else {
				error_r_set(error_r, "--expect-sender-check: yes or no");
				return -1;
			}
			break;
		case 'P':
			error_r_set(error_r, "a password on the command line is visible to every "
					   "local user (ps); use --password-file FILE or "
					   "AUTHRELAY_SELFTEST_PASSWORD");
			return -1;
		default:
			error_r_set(error_r, "selftest: unknown option \"%s\"", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		error_r_set(error_r, "selftest: unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	if (server == NULL) {
		error_r_set(error_r, "selftest: --server HOST:PORT is required");
		return -1;
	}
	if (split_server(server, opts, error_r) < 0)
		return -1;
	if (opts->cafile && opts->insecure) {
		error_r_set(error_r, "selftest: --cafile and --insecure exclude each other");
		return -1;
	}
	if (opts->user != NULL) {
		const char *env = getenv("AUTHRELAY_SELFTEST_PASSWORD");
		if (pwfile != NULL)
			opts->password = read_password_file(pwfile, error_r);
		else if (env != NULL)
			opts->password = strdup(env);
		else
			error_r_set(error_r, "selftest: --user needs --password-file FILE or "
					   "AUTHRELAY_SELFTEST_PASSWORD in the environment");
		if (opts->password == NULL)
			return -1;
		if (opts->from == NULL) {
			if (strchr(opts->user, '@') == NULL) {
				error_r_set(error_r, "selftest: --from ADDRESS (the user's own sender) is "
						   "required when the user name is not an address");
				return -1;
			}
			opts->from = opts->user;
		}
	} else if (pwfile != NULL) {
		error_r_set(error_r, "selftest: --password-file without --user");
		return -1;
	}
	const char *words[] = { opts->from, opts->foreign_from, opts->unauth_from, opts->to,
				opts->helo };
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (words[i] != NULL && (strpbrk(words[i], "<>\r\n \t") != NULL ||
					 strlen(words[i]) > 256)) {
			error_r_set(error_r, "selftest: \"%s\" is not a plain address or name", words[i]);
			return -1;
		}
	}
	return 0;
}

void selftest_options_free(struct selftest_options *opts)
{
	if (opts->password != NULL) {
		explicit_bzero(opts->password, strlen(opts->password));
		free(opts->password);
		opts->password = NULL;
	}
}

/* Opens a session: greeting, EHLO, STARTTLS + EHLO when asked. Returns the
   connection with *ehlo_r the last EHLO reply, or NULL with the reason in
   at->reply. */
static struct smtp_conn *session_open(const struct selftest_options *opts, struct attempt *at,
				      struct smtp_reply *ehlo_r, char *tls_r, size_t tls_size)
{
	struct smtp_reply reply;
	struct smtp_conn *conn;
	char line[300], *error = NULL;

	conn = smtp_conn_open(opts->host, opts->port, opts->timeout_ms, &reply, &error);
	if (conn == NULL)
		goto fail;
	if (reply.code != 220) {
		error_r_set(&error, "greeting: %s", reply.first_line);
		goto fail;
	}
	snprintf(line, sizeof line, "EHLO %s", opts->helo);
	if (smtp_conn_command(conn, line, ehlo_r, &error) < 0)
		goto fail;
	if (ehlo_r->code != 250) {
		error_r_set(&error, "EHLO: %s", ehlo_r->first_line);
		goto fail;
	}
	if (opts->starttls) {
		struct smtp_tls_options tls = { opts->cafile, opts->insecure };
		if (!smtp_reply_has_keyword(ehlo_r, "STARTTLS", NULL, 0)) {
			error_r_set(&error, "server does not offer STARTTLS");
			goto fail;
		}
		if (smtp_conn_command(conn, "STARTTLS", &reply, &error) < 0)
			goto fail;
		if (reply.code != 220) {
			error_r_set(&error, "STARTTLS: %s", reply.first_line);
			goto fail;
		}
		if (smtp_conn_starttls(conn, opts->host, &tls, &error) < 0)
			goto fail;
		if (smtp_conn_command(conn, line, ehlo_r, &error) < 0)
			goto fail;
		if (ehlo_r->code != 250) {
			error_r_set(&error, "EHLO after STARTTLS: %s", ehlo_r->first_line);
			goto fail;
		}
		snprintf(tls_r, tls_size, "%s", smtp_conn_tls_summary(conn));
	}
	return conn;
fail:
	snprintf(at->reply, sizeof at->reply, "%s", error ? error : "out of memory");
	free(error);
	smtp_conn_close(&conn);
	return NULL;
}

/* MAIL FROM, RCPT TO, RSET: fills at->made/accepted/reply. */
static void try_relay(struct smtp_conn *conn, const struct selftest_options *opts,
		      struct attempt *at)
{
	struct smtp_reply reply;
	char line[400], *error = NULL;

	snprintf(line, sizeof line, "MAIL FROM:<%s>", at->from);
	if (smtp_conn_command(conn, line, &reply, &error) < 0)
		goto lost;
	if (reply.code / 100 != 2) {
		at->made = true;	/* refused at MAIL: the relay was refused */
		snprintf(at->reply, sizeof at->reply, "MAIL: %.480s", reply.first_line);
		goto rset;
	}
	snprintf(line, sizeof line, "RCPT TO:<%s>", opts->to);
	if (smtp_conn_command(conn, line, &reply, &error) < 0)
		goto lost;
	at->made = true;
	at->accepted = reply.code / 100 == 2;
	snprintf(at->reply, sizeof at->reply, "%s", reply.first_line);
rset:
	if (smtp_conn_command(conn, "RSET", &reply, &error) < 0)
		free(error);
	return;
lost:
	snprintf(at->reply, sizeof at->reply, "%s", error ? error : "connection lost");
	free(error);
}

/* One attempt in its own session; mech NULL means unauthenticated. */
static void run_attempt(const struct selftest_options *opts, const char *mech, struct attempt *at,
			char *tls_r, size_t tls_size, char *mechs_r, size_t mechs_size)
{
	struct smtp_reply ehlo, reply;
	struct smtp_conn *conn = session_open(opts, at, &ehlo, tls_r, tls_size);
	char *error = NULL;

	if (conn == NULL)
		return;
	if (mechs_r != NULL && !smtp_reply_has_keyword(&ehlo, "AUTH", mechs_r, mechs_size))
		mechs_r[0] = 0;
	if (mech != NULL) {
		struct selftest_credentials cred = { opts->user, opts->password };
		if (selftest_sasl_auth(conn, opts->host, mech, &cred, &reply, &error) < 0) {
			snprintf(at->reply, sizeof at->reply, "AUTH %s: %s", mech,
				 error ? error : "failed");
			free(error);
			smtp_conn_close(&conn);
			return;
		}
		if (reply.code != 235) {
			snprintf(at->reply, sizeof at->reply, "AUTH %.20s: %.460s", mech, reply.first_line);
			smtp_conn_close(&conn);
			return;
		}
	}
	try_relay(conn, opts, at);
	smtp_conn_close(&conn);
}

/* Fills name/mech/from/want of the next attempt. */
static struct attempt *add_attempt(struct attempt *list, unsigned *n, const char *name,
				   const char *mech, const char *from, enum want want)
{
	struct attempt *at = &list[(*n)++];

	memset(at, 0, sizeof *at);
	snprintf(at->name, sizeof at->name, "%s", name);
	snprintf(at->mech, sizeof at->mech, "%s", mech ? mech : "");
	snprintf(at->from, sizeof at->from, "%s", from);
	at->want = want;
	return at;
}

static void print_json(FILE *out, const struct selftest_options *opts, const char *tls,
		       const char *mechs, const struct attempt *list, unsigned n, int result)
{
	fputs("{\"server\":", out);
	out_json_string(out, opts->host);
	fprintf(out, ",\"port\":%s,\"tls\":", opts->port);
	out_json_string(out, tls);
	fputs(",\"auth_mechanisms\":", out);
	out_json_string(out, mechs);
	fputs(",\"attempts\":[", out);
	for (unsigned i = 0; i < n; i++) {
		fputs(i ? ",{\"attempt\":" : "{\"attempt\":", out);
		out_json_string(out, list[i].name);
		fputs(",\"mechanism\":", out);
		out_json_string(out, list[i].mech);
		fputs(",\"mail_from\":", out);
		out_json_string(out, list[i].from);
		fputs(",\"rcpt_to\":", out);
		out_json_string(out, opts->to);
		fprintf(out, ",\"want\":\"%s\",\"accepted\":%s,\"reply\":",
			list[i].want == WANT_ACCEPTED ? "accepted" : "refused",
			list[i].made ? (list[i].accepted ? "true" : "false") : "null");
		out_json_string(out, list[i].reply);
		fputs(",\"verdict\":", out);
		out_json_string(out, list[i].verdict);
		fputc('}', out);
	}
	fprintf(out, "],\"open_relay\":%s,\"as_rules_say\":%s}\n",
		result == SELFTEST_OPEN_RELAY ? "true" : "false",
		result == SELFTEST_OK ? "true" : "false");
}

static bool any_made(const struct attempt *list, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i].made)
			return true;
	return false;
}

static void print_table(FILE *out, const struct selftest_options *opts, const char *tls,
			const char *mechs, const struct attempt *list, unsigned n, int result)
{
	fprintf(out, "server %s port %s, %s, AUTH offered: %s\n", opts->host, opts->port,
		*tls ? tls : "no TLS", *mechs ? mechs : "none");
	fprintf(out, "%-34s %-10s %-28s %-9s %-10s %s\n", "ATTEMPT", "AUTH", "MAIL FROM", "WANT",
		"VERDICT", "REPLY");
	/* Replies are the server's text: shown with control characters as '?'. */
	for (unsigned i = 0; i < n; i++) {
		fprintf(out, "%-34s %-10s %-28s %-9s %-10s ", list[i].name,
			*list[i].mech ? list[i].mech : "-", list[i].from,
			list[i].want == WANT_ACCEPTED ? "accepted" : "refused", list[i].verdict);
		out_text_value(out, list[i].reply);
		fputc('\n', out);
	}
	if (!any_made(list, n))
		fprintf(out, "nothing could be tested: the server was not reached or refused the session\n");
	else if (result == SELFTEST_OPEN_RELAY)
		fprintf(out, "OPEN RELAY: the server accepted relay without authentication\n");
	else if (result == SELFTEST_OK)
		fprintf(out, "not an open relay; the server behaves as the rules say\n");
	else
		fprintf(out, "not an open relay, but the server does not behave as the rules say "
			     "(see the rows marked mismatch or not tested)\n");
}

/* selftest_run - run every attempt, print, return the exit status */
int selftest_run(const struct selftest_options *opts, FILE *out)
{
	struct attempt list[ATTEMPTS_MAX];
	char tls[128] = "", mechs[512] = "", usable[512] = "", *error = NULL;
	unsigned n = 0;
	int result = SELFTEST_OK;
	bool reached = false;

	/* A server that closes on us must not kill the self-test. */
	signal(SIGPIPE, SIG_IGN);
	if (opts->user != NULL && selftest_sasl_init(&error) < 0) {
		fprintf(stderr, "authrelayctl: %s\n", error);
		free(error);
		return 70;
	}
	run_attempt(opts, NULL,
		    add_attempt(list, &n, "unauthenticated, stranger sender", NULL,
				opts->unauth_from, WANT_REFUSED),
		    tls, sizeof tls, mechs, sizeof mechs);
	if (opts->from != NULL)
		run_attempt(opts, NULL,
			    add_attempt(list, &n, "unauthenticated, local sender", NULL, opts->from,
					WANT_REFUSED),
			    tls, sizeof tls, NULL, 0);
	if (opts->user != NULL) {
		char copy[512], *save = NULL, *mech;
		const char *first = NULL;

		selftest_sasl_usable(mechs, usable, sizeof usable);
		snprintf(copy, sizeof copy, "%s", usable);
		/* require_tls_for_auth: without STARTTLS an authenticated relay
		   is to be refused, not accepted. */
		bool auth_may_relay = opts->starttls || !opts->expect_tls_for_auth;

		for (mech = strtok_r(copy, " ", &save); mech && n < ATTEMPTS_MAX - 1;
		     mech = strtok_r(NULL, " ", &save)) {
			char name[64];
			snprintf(name, sizeof name, "authenticated, own sender");
			run_attempt(opts, mech,
				    add_attempt(list, &n, name, mech, opts->from,
						auth_may_relay ? WANT_ACCEPTED : WANT_REFUSED),
				    tls, sizeof tls, NULL, 0);
			if (first == NULL && list[n - 1].made)
				first = list[n - 1].mech;
		}
		if (*usable == 0) {
			struct attempt *at = add_attempt(list, &n, "authenticated, own sender", NULL,
							 opts->from, WANT_ACCEPTED);
			snprintf(at->reply, sizeof at->reply,
				 "no AUTH mechanism offered that libsasl2 can do here (offered: %.400s)",
				 *mechs ? mechs : "none");
		} else {
			char mech_copy[32];
			snprintf(mech_copy, sizeof mech_copy, "%s",
				 first ? first : strtok_r(usable, " ", &save));
			run_attempt(opts, mech_copy,
				    add_attempt(list, &n, "authenticated, foreign sender", mech_copy,
						opts->foreign_from,
						opts->expect_sender_check || !auth_may_relay
							? WANT_REFUSED
							: WANT_ACCEPTED),
				    tls, sizeof tls, NULL, 0);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct attempt *at = &list[i];
		if (!at->made) {
			at->verdict = "not tested";
			if (result == SELFTEST_OK)
				result = SELFTEST_MISMATCH;
			continue;
		}
		reached = true;
		if (at->accepted == (at->want == WANT_ACCEPTED)) {
			at->verdict = "ok";
		} else if (at->accepted && at->mech[0] == 0) {
			at->verdict = "OPEN RELAY";
			result = SELFTEST_OPEN_RELAY;
		} else {
			at->verdict = "mismatch";
			if (result == SELFTEST_OK)
				result = SELFTEST_MISMATCH;
		}
	}
	if (opts->user != NULL)
		selftest_sasl_done();
	if (opts->json)
		print_json(out, opts, tls, mechs, list, n, result);
	else
		print_table(out, opts, tls, mechs, list, n, result);
	/* Nothing reached RCPT TO: the server could not be tested at all. */
	return reached ? result : 69;
}

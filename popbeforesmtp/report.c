/*
 * NAME
 *	report 3
 * SUMMARY
 *	Dovecot's auth-policy requests as a login source
 * SYNOPSIS
 *	#include "report.h"
 * DESCRIPTION
 *	See report.h. The handler runs in the HTTP server's threads, several
 *	at once; the settings it reads (grant policy, protocols) are
 *	replaced by SIGHUP from the main thread, and the counts are shared:
 *	both are read and changed under the report's lock, which is never
 *	held across the commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "error_r.h"
#include "log.h"
#include "parsers.h"
#include "report.h"

struct report {
	pthread_mutex_t lock;
	struct grant_policy policy;
	struct cfg_list protocols;	/* owned copies */
	char *key;			/* NULL: none asked for */
	report_commit_fn *commit;
	void *commit_ctx;
	struct report_stats stats;
	struct log_limit key_log;
};

static const char status_ok[] = "{\"status\":0}";

/* reply_set - status and a short static body */
static void reply_set(struct http_reply *r, unsigned status, const char *type, const char *body)
{
	r->status = status;
	r->content_type = type;
	r->body = body;
	r->body_len = strlen(body);
}

/* list_copy - a private copy of a word list; 0 or -1 */
static int list_copy(const struct cfg_list *from, struct cfg_list *to_r)
{
	struct cfg_list to = { 0, NULL };

	if (from->count > 0 && (to.items = calloc(from->count, sizeof(char *))) == NULL)
		return -1;
	for (; to.count < from->count; to.count++) {
		if ((to.items[to.count] = strdup(from->items[to.count])) == NULL) {
			for (size_t i = 0; i < to.count; i++)
				free(to.items[i]);
			free(to.items);
			return -1;
		}
	}
	*to_r = to;
	return 0;
}

/* list_free - a list_copy()'s words and array */
static void list_free(struct cfg_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* key_matches - the header holds the key; the time taken does not
   depend on where they differ */
static bool key_matches(const char *key, const char *given)
{
	size_t kl = strlen(key), gl = given != NULL ? strlen(given) : 0;
	unsigned char diff;

	/* Dovecot sends "X-API-Key: KEY" as the value " KEY"; the library
	   takes off the leading blank, a trailing one is taken off here. */
	while (gl > 0 && (given[gl - 1] == ' ' || given[gl - 1] == '\t'))
		gl--;
	diff = kl != gl;
	for (size_t i = 0; i < kl; i++)
		diff |= (unsigned char)(key[i] ^ (i < gl ? given[i] : 0));
	return diff == 0;
}

/* optional_string - member name of o: NULL when absent; *bad_r when
   present and not a string */
static const char *optional_string(json_t *o, const char *name, bool *bad_r)
{
	json_t *v = json_object_get(o, name);

	if (v == NULL)
		return NULL;
	if (!json_is_string(v)) {
		*bad_r = true;
		return NULL;
	}
	return json_string_value(v);
}

/* is_session_id - Dovecot's session ids: base64, short */
static bool is_session_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= LOGIN_SESSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		      || c == '+' || c == '/' || c == '='))
			return false;
	}
	return true;
}

/* The fields of one report, as the handler reads them. */
struct report_fields {
	bool success, policy_reject, tls;
	const char *login, *remote, *protocol, *session;
};

/* fields_read - the report's members; -1 when one has the wrong type */
static int fields_read(json_t *o, struct report_fields *f_r)
{
	json_t *success = json_object_get(o, "success");
	json_t *reject = json_object_get(o, "policy_reject");
	json_t *tls = json_object_get(o, "tls");
	bool bad = false;

	memset(f_r, 0, sizeof(*f_r));
	if (!json_is_boolean(success) || !json_is_boolean(reject)
	    || (tls != NULL && !json_is_boolean(tls)))
		return -1;
	f_r->success = json_is_true(success);
	f_r->policy_reject = json_is_true(reject);
	f_r->tls = json_is_true(tls);
	f_r->login = optional_string(o, "login", &bad);
	f_r->remote = optional_string(o, "remote", &bad);
	f_r->protocol = optional_string(o, "protocol", &bad);
	f_r->session = optional_string(o, "session_id", &bad);
	return bad ? -1 : 0;
}

/* fields_text - the fields that made a grant, for grant_history */
static void fields_text(const struct report_fields *f, char *buf, size_t size)
{
	buf[0] = '\0';
	log_kv_append(buf, size, "login", f->login);
	log_kv_append(buf, size, "remote", f->remote);
	log_kv_append(buf, size, "protocol", f->protocol);
	log_kv_append(buf, size, "session_id", f->session);
	log_kv_append(buf, size, "success", f->success ? "true" : "false");
	log_kv_append(buf, size, "policy_reject", f->policy_reject ? "true" : "false");
	log_kv_append(buf, size, "tls", f->tls ? "true" : "false");
	memmove(buf, buf + (buf[0] == ' '), strlen(buf + (buf[0] == ' ')) + 1);
}

/* why_not - NULL when the report grants, else the reason it does not;
   fills *ev_r */
static const char *why_not(struct report *r, const struct report_fields *f,
			   struct login_event *ev_r)
{
	memset(ev_r, 0, sizeof(*ev_r));
	if (!f->success)
		return "failed login";
	if (f->policy_reject)
		return "refused by policy";
	if (f->protocol == NULL || !cfg_list_has(&r->protocols, f->protocol))
		return "protocol not in loginwatch_http_protocols";
	if (f->remote == NULL || ipaddr_parse(f->remote, &ev_r->ip) < 0)
		return "remote is not an IP address";
	if (f->login == NULL)
		return "no login name";
	/* The same rule as a log line's (parsers.h): anonymous never grants. */
	if (parse_login_user(ev_r, f->login, strlen(f->login), false) != PARSE_LOGIN)
		return "anonymous login";
	parse_set_service(ev_r, f->protocol);
	if (f->session != NULL && is_session_id(f->session))
		snprintf(ev_r->session, sizeof(ev_r->session), "%s", f->session);
	ev_r->format = REPORT_SOURCE;
	return NULL;
}

/* count - one more in a counter, under the lock */
static void count(struct report *r, uint64_t *counter)
{
	pthread_mutex_lock(&r->lock);
	(*counter)++;
	pthread_mutex_unlock(&r->lock);
}

/* handle_report - one parsed report: grant or not; the HTTP status. The
   settings are read under the lock; the commit runs without it, so that
   other threads' reports join the same transaction. */
static unsigned handle_report(struct report *r, json_t *o, const char *peer)
{
	struct report_fields f;
	struct login_event ev;
	struct store_login login;
	char line[2048], ip[IPADDR_STRLEN], *error = NULL;
	const char *why;
	enum grant_outcome outcome = GRANT_EXPIRED;
	int64_t now = (int64_t)time(NULL);

	if (fields_read(o, &f) < 0) {
		count(r, &r->stats.malformed);
		log_info("auth-policy: report from %s with a field of the wrong type: 400", peer);
		return 400;
	}
	pthread_mutex_lock(&r->lock);
	r->stats.reports++;
	if ((why = why_not(r, &f, &ev)) == NULL) {
		ev.time = now;
		fields_text(&f, line, sizeof(line));
		outcome = grants_from_event(&r->policy, &ev, REPORT_SOURCE, line, now, &login);
	}
	if (why != NULL || outcome != GRANT_NEW)
		r->stats.not_granted++;
	pthread_mutex_unlock(&r->lock);
	if (why != NULL) {
		log_debug("auth-policy: no grant: %s (login %s, remote %s, protocol %s)", why,
			  f.login ? f.login : "-", f.remote ? f.remote : "-",
			  f.protocol ? f.protocol : "-");
		return 200;
	}
	if (outcome == GRANT_EXCLUDED)
		log_info("no grant: %s login of %s from %s is in grant_exclude_networks", ev.service,
			 ev.user, ipaddr_format(&ev.ip, ip));
	if (outcome != GRANT_NEW)	/* GRANT_EXPIRED: not at the time of the report */
		return 200;
	if (r->commit(r->commit_ctx, &login, &error) < 0) {
		count(r, &r->stats.failed);
		log_error("auth-policy: cannot write the grant for %s (%s): %s", f.remote, ev.user,
			  error != NULL ? error : "error");
		free(error);
		return 503;
	}
	count(r, &r->stats.granted);
	grants_log(&login, LOG_LEVEL_INFO);
	return 200;
}

/* key_refused - a request without the right key: counted, and logged
   at most once per REPORT_LOG_INTERVAL */
static void key_refused(struct report *r, const char *peer)
{
	uint64_t held = 0;
	bool pass;

	pthread_mutex_lock(&r->lock);
	r->stats.unauthorized++;
	pass = log_limit_pass(&r->key_log, (int64_t)time(NULL), REPORT_LOG_INTERVAL, &held);
	pthread_mutex_unlock(&r->lock);
	if (pass && held == 0)
		log_warning("auth-policy: request from %s without the right X-API-Key: 401", peer);
	else if (pass)
		log_warning("auth-policy: request from %s without the right X-API-Key: 401 "
			    "(and %llu more such requests since the last such line)", peer,
			    (unsigned long long)held);
}

/* report_handle - see report.h */
void report_handle(void *ctx, const struct http_request *req, struct http_reply *reply_r)
{
	struct report *r = ctx;
	const char *command;
	json_error_t jerr;
	json_t *root;
	unsigned status;

	count(r, &r->stats.requests);
	if (strcmp(req->method, "POST") != 0) {
		reply_set(reply_r, 405, "text/plain", "only POST is served\n");
		return;
	}
	if (r->key != NULL && !key_matches(r->key, req->header(req, "X-API-Key"))) {
		key_refused(r, req->peer);
		reply_set(reply_r, 401, "text/plain", "X-API-Key missing or wrong\n");
		return;
	}
	command = req->query(req, "command");
	if (command == NULL || (strcmp(command, "allow") != 0 && strcmp(command, "report") != 0)) {
		count(r, &r->stats.malformed);
		reply_set(reply_r, 400, "text/plain", "command must be allow or report\n");
		return;
	}
	root = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		count(r, &r->stats.malformed);
		log_info("auth-policy: %s from %s: not one JSON object: %s: 400", command, req->peer,
			 root == NULL ? jerr.text : "another JSON value");
		json_decref(root);
		reply_set(reply_r, 400, "text/plain", "the body must be one JSON object\n");
		return;
	}
	status = strcmp(command, "allow") == 0 ? 200 : handle_report(r, root, req->peer);
	json_decref(root);
	if (status == 200)
		reply_set(reply_r, 200, "application/json", status_ok);
	else if (status == 400)
		reply_set(reply_r, 400, "text/plain", "malformed report\n");
	else
		reply_set(reply_r, 503, "text/plain", "the grant could not be written\n");
}

/* report_create - see report.h */
int report_create(const struct grant_policy *policy, const struct cfg_list *protocols,
		  const char *key, report_commit_fn *commit, void *commit_ctx,
		  struct report **report_r, char **error_r)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r == NULL || list_copy(protocols, &r->protocols) < 0
	    || (key != NULL && key[0] != '\0' && (r->key = strdup(key)) == NULL)) {
		if (r != NULL)
			list_free(&r->protocols);
		free(r);
		*error_r = strdup("out of memory");
		return -1;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->policy = *policy;
	r->commit = commit;
	r->commit_ctx = commit_ctx;
	*report_r = r;
	return 0;
}

/* report_reconfigure - see report.h */
int report_reconfigure(struct report *r, const struct grant_policy *policy,
		       const struct cfg_list *protocols)
{
	struct cfg_list copy;

	if (list_copy(protocols, &copy) < 0)
		return -1;
	pthread_mutex_lock(&r->lock);
	list_free(&r->protocols);
	r->protocols = copy;
	r->policy = *policy;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/* report_get_stats - see report.h */
void report_get_stats(struct report *r, struct report_stats *stats_r)
{
	pthread_mutex_lock(&r->lock);
	*stats_r = r->stats;
	pthread_mutex_unlock(&r->lock);
}

/* report_free - see report.h; the key is wiped before it is freed */
void report_free(struct report **report)
{
	struct report *r = *report;

	if (r == NULL)
		return;
	list_free(&r->protocols);
	if (r->key != NULL) {
		explicit_bzero(r->key, strlen(r->key));
		free(r->key);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
	*report = NULL;
}

/* report_key_read - see report.h */
int report_key_read(const char *path, char **key_r, char **error_r)
{
	char buf[REPORT_KEY_MAX + 2];
	struct stat st;
	size_t n, start = 0;
	ssize_t got;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		return error_r_set(error_r, "loginwatch_http_api_key_file: %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		close(fd);
		return error_r_set(error_r, "loginwatch_http_api_key_file: %s: must be a regular file "
			     "that only its owner may read (chmod 0600 %s)", path, path);
	}
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	n = got > 0 ? (size_t)got : 0;
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	while (buf[start] == ' ' || buf[start] == '\t')
		start++;
	if (got < 0 || buf[start] == '\0' || n >= REPORT_KEY_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return error_r_set(error_r, "loginwatch_http_api_key_file: %s: %s", path,
			     got < 0 ? strerror(errno)
			     : buf[start] == '\0' ? "no key on its first line"
						  : "the key is longer than 511 bytes");
	}
	*key_r = strdup(buf + start);
	explicit_bzero(buf, sizeof(buf));
	if (*key_r == NULL) {
		*error_r = strdup("out of memory");
		return -1;
	}
	return 0;
}

/*
 * NAME
 *	fuzz_report - libFuzzer target for the auth-policy report handler
 * DESCRIPTION
 *	An input is a request without HTTP: "METHOD\nCOMMAND\nKEY\nBODY"
 *	(KEY "-" means no X-API-Key header), handed to report_handle() with
 *	the key FUZZ_KEY configured. The property: a grant is committed
 *	only for a POST ?command=report carrying the right key whose body
 *	is one JSON object (no member twice) with success true,
 *	policy_reject false, protocol imap or pop3, a non-anonymous login
 *	and a remote that is an IP address, and the grant is for that
 *	address; the body is read again here, independently, to check it.
 *	A committed grant is always answered 200, and every answer is one
 *	of 200 400 401 405 503.
 */
#include <jansson.h>
#include <strings.h>

#include "report.h"

#include "fuzz_common.h"

#define FUZZ_KEY "k3y"

static int commits;
static struct store_login committed;

static int record(void *ctx, const struct store_login *l, char **error_r)
{
	(void)ctx;
	(void)error_r;
	commits++;
	committed = *l;
	return 0;
}

struct fuzz_req {
	const char *command, *key;
};

static const char *req_header(const struct http_request *req, const char *name)
{
	const struct fuzz_req *f = req->impl;

	return strcasecmp(name, "X-API-Key") == 0 ? f->key : NULL;
}

static const char *req_query(const struct http_request *req, const char *name)
{
	const struct fuzz_req *f = req->impl;

	return strcmp(name, "command") == 0 ? f->command : NULL;
}

/* next_line - cut *p at the next newline; NULL when there is none */
static char *next_line(char **p)
{
	char *s = *p, *nl = strchr(s, '\n');

	if (nl == NULL)
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return s;
}

/* check_grant - the independent reading of what was committed */
static void check_grant(const char *method, const struct fuzz_req *f, const char *body,
			size_t body_len)
{
	json_t *o = json_loadb(body, body_len, JSON_REJECT_DUPLICATES, NULL);
	const char *login, *remote, *protocol;
	struct ipaddr ip;
	size_t kl;

	FUZZ_ASSERT(strcmp(method, "POST") == 0);
	FUZZ_ASSERT(f->command != NULL && strcmp(f->command, "report") == 0);
	FUZZ_ASSERT(f->key != NULL);
	kl = strlen(f->key);
	while (kl > 0 && (f->key[kl - 1] == ' ' || f->key[kl - 1] == '\t'))
		kl--;
	FUZZ_ASSERT(kl == strlen(FUZZ_KEY) && memcmp(f->key, FUZZ_KEY, kl) == 0);
	FUZZ_ASSERT(json_is_object(o));
	FUZZ_ASSERT(json_is_true(json_object_get(o, "success")));
	FUZZ_ASSERT(json_is_false(json_object_get(o, "policy_reject")));
	protocol = json_string_value(json_object_get(o, "protocol"));
	FUZZ_ASSERT(protocol != NULL && (strcmp(protocol, "imap") == 0 || strcmp(protocol, "pop3") == 0));
	FUZZ_ASSERT(strcmp(committed.service, protocol) == 0);
	login = json_string_value(json_object_get(o, "login"));
	FUZZ_ASSERT(login != NULL && login[0] != '\0' && strcasecmp(login, "anonymous") != 0);
	remote = json_string_value(json_object_get(o, "remote"));
	FUZZ_ASSERT(remote != NULL && ipaddr_parse(remote, &ip) == 0);
	ipaddr_mask(&ip, committed.prefix_len);
	FUZZ_ASSERT(ipaddr_equal(&ip, &committed.net));
	FUZZ_ASSERT(strcmp(committed.source, REPORT_SOURCE) == 0);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct report *r;
	struct fuzz_req f;
	struct http_request req;
	struct http_reply reply = { 0, NULL, NULL, 0 };
	char *copy, *p, *method;

	if (r == NULL) {
		struct cfg_list protocols = { 2, (char *[]){ "imap", "pop3" } };
		struct grant_policy policy = { 1800, 64, NULL };
		char *error = NULL;

		log_set_level(LOG_LEVEL_ERROR);
		FUZZ_ASSERT(report_create(&policy, &protocols, FUZZ_KEY, record, NULL, &r, &error)
			    == 0);
	}
	/* The body may hold NUL bytes (a counted buffer, as over HTTP). */
	if (size > REPORT_MAX_BODY + 256 || (copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	p = copy;
	if ((method = next_line(&p)) == NULL || (f.command = next_line(&p)) == NULL
	    || (f.key = next_line(&p)) == NULL) {
		free(copy);
		return 0;
	}
	if (strcmp(f.key, "-") == 0)
		f.key = NULL;
	req = (struct http_request){ method, "/", "fuzz", p, size - (size_t)(p - copy),
				     req_header, req_query, &f };
	commits = 0;
	report_handle(r, &req, &reply);
	FUZZ_ASSERT(reply.status == 200 || reply.status == 400 || reply.status == 401
		    || reply.status == 405 || reply.status == 503);
	FUZZ_ASSERT(commits <= 1);
	if (commits == 1) {
		FUZZ_ASSERT(reply.status == 200);
		check_grant(method, &f, req.body, req.body_len);
	}
	free(copy);
	return 0;
}

/*
 * NAME
 *	check_store_backend 1
 * SUMMARY
 *	the neutral layer against a fake backend, and the table of backends
 * DESCRIPTION
 *	A backend whose every operation is NULL must make every public
 *	store call an error naming it ("the fake backend cannot ..."), a
 *	lookup LOOKUP_ERROR, never a crash and never "not found". A second
 *	fake backend records what store.c hands it, to show the business
 *	rules (store_rules.c) are applied before a backend is asked. The
 *	table of backends (store_backends.c) is checked on location forms.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipaddr.h"
#include "store.h"
#include "store_backend.h"
#include "test_run.h"
#include "test_store.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct store_ops none_ops = { .name = "fake" };
static struct store none = { .ops = &none_ops };

/* Each case calls one public function on the backend without ops:
   rc is what it returned, error_r its message when it has one. */
typedef int call_fn(char **error_r);

static int call_grant_add(char **error_r)
{
	struct store_grant g;

	memset(&g, 0, sizeof g);
	ipaddr_parse("192.0.2.1", &g.net);
	g.prefix_len = 32;
	g.expires_at = 4000000000LL;
	return store_grant_add(&none, &g, "root", error_r);
}

static int call_grant_revoke(char **error_r)
{
	struct ipaddr ip;

	ipaddr_parse("192.0.2.1", &ip);
	return store_grant_revoke(&none, &ip, "root", NULL, error_r);
}

static int no_grant(const struct store_grant *g, void *ctx)
{
	(void)g, (void)ctx;
	return 0;
}

static int call_grant_list(char **error_r)
{
	return store_grant_list(&none, 0, no_grant, NULL, error_r);
}

static int call_logins_apply(char **error_r)
{
	struct store_login l = test_login("192.0.2.1", 32, "alice", 1, 1);

	return store_logins_apply(&none, &l, 1, NULL, error_r);
}

static int call_user_set(char **error_r)
{
	return store_user_set_suspended(&none, "alice", true, "root", error_r);
}

static int no_user(const struct store_user *u, void *ctx)
{
	(void)u, (void)ctx;
	return 0;
}

static int call_user_list(char **error_r)
{
	return store_user_list(&none, no_user, NULL, error_r);
}

static int call_sender_allow(char **error_r)
{
	return store_sender_allow(&none, "alice", "alice@example.org", "root", error_r);
}

static int call_sender_deny(char **error_r)
{
	return store_sender_deny(&none, "alice", "alice@example.org", "root", error_r);
}

static int no_sender(const char *u, const char *p, int64_t added, void *ctx)
{
	(void)u, (void)p, (void)added, (void)ctx;
	return 0;
}

static int call_sender_list(char **error_r)
{
	return store_sender_list(&none, NULL, no_sender, NULL, error_r);
}

static int call_cert_add(char **error_r)
{
	struct store_cert c;

	memset(&c, 0, sizeof c);
	snprintf(c.username, sizeof c.username, "alice");
	snprintf(c.fingerprint, sizeof c.fingerprint, "AB:CD");
	return store_cert_add(&none, &c, "root", error_r);
}

static int call_cert_revoke(char **error_r)
{
	return store_cert_revoke(&none, "AB:CD", "root", error_r);
}

static int no_cert(const struct store_cert *c, void *ctx)
{
	(void)c, (void)ctx;
	return 0;
}

static int call_cert_list(char **error_r)
{
	return store_cert_list(&none, no_cert, NULL, error_r);
}

static int no_decision(const struct store_decision_row *row, void *ctx)
{
	(void)row, (void)ctx;
	return 0;
}

static int call_audit(char **error_r)
{
	return store_audit(&none, NULL, no_decision, NULL, error_r);
}

static int call_prune(char **error_r)
{
	return store_prune(&none, 0, 10, "root", NULL, error_r);
}

static int call_admin_log(char **error_r)
{
	return store_admin_log(&none, "root", "init", "x", "y", error_r);
}

static int no_row(int n, const char *const *names, const char *const *values, void *ctx)
{
	(void)n, (void)names, (void)values, (void)ctx;
	return 0;
}

static int call_query(char **error_r)
{
	return store_query(&none, "SELECT 1", no_row, NULL, error_r);
}

static int call_check_integrity(char **error_r)
{
	return store_check_integrity(&none, error_r) == LOOKUP_ERROR ? -1 : 0;
}

static const struct {
	const char *label;
	call_fn *fn;
	const char *want;	/* in the error */
} write_cases[] = {
	{ "grant add", call_grant_add, "the fake backend cannot add grants" },
	{ "grant revoke", call_grant_revoke, "the fake backend cannot revoke grants" },
	{ "grant list", call_grant_list, "the fake backend cannot list grants" },
	{ "logins apply", call_logins_apply, "the fake backend cannot record logins" },
	{ "user suspend", call_user_set, "the fake backend cannot suspend users" },
	{ "user list", call_user_list, "the fake backend cannot list users" },
	{ "sender allow", call_sender_allow, "the fake backend cannot allow sender addresses" },
	{ "sender deny", call_sender_deny, "the fake backend cannot deny sender addresses" },
	{ "sender list", call_sender_list, "the fake backend cannot list sender addresses" },
	{ "cert add", call_cert_add, "the fake backend cannot add certificates" },
	{ "cert revoke", call_cert_revoke, "the fake backend cannot revoke certificates" },
	{ "cert list", call_cert_list, "the fake backend cannot list certificates" },
	{ "audit", call_audit, "the fake backend cannot read decisions" },
	{ "prune", call_prune, "the fake backend cannot prune" },
	{ "admin log", call_admin_log, "the fake backend cannot write the admin log" },
	{ "query", call_query, "the fake backend cannot run queries" },
	{ "integrity", call_check_integrity, "the fake backend cannot check its integrity" },
};

START_TEST(test_missing_write)
{
	char *error = NULL;
	int rc = write_cases[_i].fn(&error);

	ck_assert_msg(rc < 0, "%s: got %d, want -1", write_cases[_i].label, rc);
	ck_assert_msg(error != NULL && strstr(error, write_cases[_i].want) != NULL,
		      "%s: got \"%s\", want \"%s\"", write_cases[_i].label,
		      error != NULL ? error : "(null)", write_cases[_i].want);
	free(error);
}
END_TEST

START_TEST(test_missing_lookup)
{
	struct ipaddr ip;
	struct store_checkpoint cp;
	struct limit_spec spec[STORE_LIMIT_KINDS];
	enum lookup_result found[STORE_LIMIT_KINDS];
	int version = 7;
	uint64_t written = 9, dropped = 9;
	struct store *copy = &none;
	const struct store_decision d = { .ts = 1, .verdict = "permit" };

	ipaddr_parse("192.0.2.1", &ip);
	ck_assert_int_eq(store_grant_lookup(&none, &ip, 1, NULL), LOOKUP_ERROR);
	ck_assert_int_eq(store_checkpoint_get(&none, "/var/log/mail.log", &cp), LOOKUP_ERROR);
	ck_assert_int_eq(store_user_suspended(&none, "alice"), LOOKUP_ERROR);
	ck_assert_int_eq(store_sender_owned(&none, "alice", "alice@example.org"), LOOKUP_ERROR);
	ck_assert_int_eq(store_cert_lookup(&none, "AB:CD", NULL), LOOKUP_ERROR);
	/* The rules answer before the backend is asked: no backend needed. */
	ck_assert_int_eq(store_sender_owned(&none, "alice", "a b@x"), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_cert_lookup(&none, "not hex", NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_grant_lookup(&none, &(struct ipaddr){ 0 }, 1, NULL),
			 LOOKUP_NOT_FOUND);

	ck_assert_int_eq(store_schema_version(&none, &version), -1);
	ck_assert_int_eq(store_schema_newest(&none), -1);
	ck_assert_int_eq(store_read_begin(&none), -1);
	store_read_end(&none);
	ck_assert_int_eq(store_decision_queue(&none, &d), -1);
	ck_assert_int_eq(store_decision_flush(&none, 10), -1);
	store_decision_stats(&none, &written, &dropped);
	ck_assert_msg(written == 0 && dropped == 0, "stats: got %llu/%llu, want 0/0",
		      (unsigned long long)written, (unsigned long long)dropped);
	/* Sending limits: store_limits.c's own message, never a crash. */
	ck_assert_int_eq(store_limit_rules(&none, "alice@example.org", found, spec), 0);
	ck_assert_str_eq(store_backend_name(&none), "fake");
	/* close without a close op: the pointer is cleared all the same. */
	store_close(&copy, 0);
	ck_assert_ptr_null(copy);
}
END_TEST

/* ---- what a backend receives ---- */

static char seen[512];

static enum lookup_result rec_sender_owned(struct store *store, const char *username,
					   const char *bare, const char *at_domain)
{
	(void)store;
	snprintf(seen, sizeof seen, "%s|%s|%s", username, bare ? bare : "NULL",
		 at_domain ? at_domain : "NULL");
	return LOOKUP_NOT_FOUND;
}

static int rec_sender_allow(struct store *store, const char *username, const char *pattern,
			    const char *actor, char **error_r)
{
	(void)store, (void)actor, (void)error_r;
	snprintf(seen, sizeof seen, "%s|%s", username, pattern);
	return 0;
}

static enum lookup_result rec_cert_lookup(struct store *store, const char *fpr, char *user_r)
{
	(void)store, (void)user_r;
	snprintf(seen, sizeof seen, "%s", fpr);
	return LOOKUP_NOT_FOUND;
}

static int rec_cert_add(struct store *store, const struct store_cert *c, const char *actor,
			char **error_r)
{
	(void)store, (void)actor, (void)error_r;
	snprintf(seen, sizeof seen, "%s|%s", c->fingerprint, c->pubkey_fingerprint);
	return 0;
}

static int rec_query(struct store *store, const char *sql, store_sql_cb *cb, void *ctx,
		     char **error_r)
{
	(void)store, (void)cb, (void)ctx, (void)error_r;
	snprintf(seen, sizeof seen, "%s", sql);
	return 0;
}

static const char *rec_query_text(enum store_query_set set)
{
	if (set != STORE_QUERIES_REPORT)
		return NULL;
	return "-- name: one\n-- what: the first\nSELECT 1 WHERE x >= :since AND y < :since;\n"
	       "-- name: two\n-- what: the second\nSELECT 2;\n";
}

static const struct store_ops rec_ops = {
	.name = "recorder",
	.query = rec_query,
	.query_text = rec_query_text,
	.sender_owned = rec_sender_owned,
	.sender_allow = rec_sender_allow,
	.cert_lookup = rec_cert_lookup,
	.cert_add = rec_cert_add,
};
static struct store rec = { .ops = &rec_ops };

static const struct {
	const char *label, *address, *want;
} owned_cases[] = {
	{ "tag and case", "<Alice+news@Example.ORG>", "u|Alice@example.org|@example.org" },
	{ "null sender", "<>", "u|NULL|NULL" },
	{ "no domain", "postmaster", "u|postmaster|NULL" },
};

START_TEST(test_backend_receives)
{
	struct store_cert c;

	for (size_t i = 0; i < N(owned_cases); i++) {
		seen[0] = '\0';
		store_sender_owned(&rec, "u", owned_cases[i].address);
		ck_assert_msg(strcmp(seen, owned_cases[i].want) == 0, "%s: got %s, want %s",
			      owned_cases[i].label, seen, owned_cases[i].want);
	}
	ck_assert_int_eq(store_sender_allow(&rec, "u", "@Example.ORG", "root", NULL), 0);
	ck_assert_str_eq(seen, "u|@example.org");
	store_cert_lookup(&rec, "ab cd ef", NULL);
	ck_assert_str_eq(seen, "AB:CD:EF");
	memset(&c, 0, sizeof c);
	snprintf(c.username, sizeof c.username, "u");
	snprintf(c.fingerprint, sizeof c.fingerprint, "abcd");
	snprintf(c.pubkey_fingerprint, sizeof c.pubkey_fingerprint, "0:102");
	ck_assert_int_eq(store_cert_add(&rec, &c, "root", NULL), 0);
	ck_assert_str_eq(seen, "AB:CD|01:02");
}
END_TEST

static const struct {
	const char *label, *name;
	int64_t since;
	int rc;
	const char *want;	/* the SQL run, or a part of the error */
} named_cases[] = {
	{ "since bound twice", "one", 86400, 0,
	  "SELECT 1 WHERE x >= '1970-01-02T00:00:00Z' AND y < '1970-01-02T00:00:00Z';" },
	{ "since 0 is the first second", "one", 0, 0,
	  "SELECT 1 WHERE x >= '1970-01-01T00:00:01Z' AND y < '1970-01-01T00:00:01Z';" },
	{ "no placeholder", "two", 5, 0, "SELECT 2;" },
	{ "unknown name", "three", 0, -1, "not available with recorder yet" },
};

START_TEST(test_query_named)
{
	char *error = NULL;
	int rc;

	seen[0] = '\0';
	rc = store_query_named(&rec, STORE_QUERIES_REPORT, named_cases[_i].name,
			       named_cases[_i].since, no_row, NULL, &error);
	ck_assert_msg(rc == named_cases[_i].rc, "%s: got %d, want %d", named_cases[_i].label, rc,
		      named_cases[_i].rc);
	if (rc == 0)
		ck_assert_msg(strcmp(seen, named_cases[_i].want) == 0, "%s: got %s, want %s",
			      named_cases[_i].label, seen, named_cases[_i].want);
	else
		ck_assert_msg(error != NULL && strstr(error, named_cases[_i].want) != NULL,
			      "%s: got \"%s\", want \"%s\"", named_cases[_i].label,
			      error ? error : "(null)", named_cases[_i].want);
	free(error);
}
END_TEST

static int count_name(const char *name, const char *what, void *ctx)
{
	(void)name, (void)what;
	(*(int *)ctx)++;
	return 0;
}

START_TEST(test_queries_list)
{
	int n = 0;

	/* Both real backends name the same audit queries, and report's. */
	ck_assert_int_gt(store_queries_list(NULL, STORE_QUERIES_AUDIT, count_name, &n), 0);
	ck_assert_int_eq(store_queries_list("postgresql://u@db/x", STORE_QUERIES_REPORT, NULL, NULL),
			 store_queries_list("/x.db", STORE_QUERIES_REPORT, NULL, NULL));
	ck_assert_int_eq(store_queries_list("mysql://db/x", STORE_QUERIES_AUDIT, NULL, NULL), -1);
	ck_assert_int_eq(store_query_named(&none, STORE_QUERIES_AUDIT, "x", 0, no_row, NULL, NULL),
			 -1);
}
END_TEST

/* ---- the table of backends ---- */

static const struct {
	const char *label, *location, *want;	/* want: backend name, or a part of the error */
	bool server;
} location_cases[] = {
	{ "postgresql URL", "postgresql://u@db/authrelay", "pgsql", true },
	{ "postgres URL", "postgres://u@db/authrelay", "pgsql", true },
	{ "libpq keywords", "host=db dbname=authrelay", "pgsql", true },
	{ "absolute path", "/var/lib/authrelay/authrelay.db", "sqlite", false },
	{ "relative path", "authrelay.db", "sqlite", false },
	{ "path with ://", "./a://b", "sqlite", false },
	{ "unknown scheme", "mysql://db/x", "unknown backend \"mysql\"", false },
};

START_TEST(test_backend_find)
{
	char *error = NULL;
	const struct store_backend *b = store_backend_find(location_cases[_i].location, &error);

	if (b != NULL) {
		ck_assert_msg(strcmp(b->ops->name, location_cases[_i].want) == 0,
			      "%s: got %s, want %s", location_cases[_i].label, b->ops->name,
			      location_cases[_i].want);
		ck_assert_int_eq(store_schema_latest(location_cases[_i].location) >= 1, 1);
	} else {
		ck_assert_msg(error != NULL && strstr(error, location_cases[_i].want) != NULL,
			      "%s: got \"%s\", want \"%s\"", location_cases[_i].label,
			      error ? error : "(no backend, no error)", location_cases[_i].want);
		free(error);
	}
	ck_assert_msg(store_location_is_server(location_cases[_i].location) ==
			      location_cases[_i].server,
		      "%s: is_server got %d", location_cases[_i].label, !location_cases[_i].server);
}
END_TEST

static int collect_file(const struct store_file *f, void *ctx)
{
	char *buf = ctx;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%d:%s ", (int)f->kind, f->path);
	return 0;
}

static const struct {
	const char *label, *location;
	int rc;
	const char *want;	/* kind:path ... */
} files_cases[] = {
	{ "SQLite file", "/var/lib/authrelay/a.db", 0,
	  "0:/var/lib/authrelay 1:/var/lib/authrelay/a.db 2:/var/lib/authrelay/a.db-wal "
	  "2:/var/lib/authrelay/a.db-shm " },
	{ "relative file", "a.db", 0, "0:. 1:a.db 2:a.db-wal 2:a.db-shm " },
	{ "server: no files", "postgresql://u@db/x", 0, "" },
	{ "unknown scheme", "mysql://db/x", -1, "" },
};

START_TEST(test_location_files)
{
	char buf[512] = "";
	int rc = store_location_files(files_cases[_i].location, collect_file, buf);

	ck_assert_msg(rc == files_cases[_i].rc, "%s: got %d, want %d", files_cases[_i].label, rc,
		      files_cases[_i].rc);
	ck_assert_msg(strcmp(buf, files_cases[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
		      files_cases[_i].label, buf, files_cases[_i].want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_backend");
	TCase *tc = tcase_create("backend");

	tcase_add_loop_test(tc, test_missing_write, 0, N(write_cases));
	tcase_add_test(tc, test_missing_lookup);
	tcase_add_test(tc, test_backend_receives);
	tcase_add_loop_test(tc, test_query_named, 0, N(named_cases));
	tcase_add_test(tc, test_queries_list);
	tcase_add_loop_test(tc, test_backend_find, 0, N(location_cases));
	tcase_add_loop_test(tc, test_location_files, 0, N(files_cases));
	suite_add_tcase(s, tc);
	return test_run(s);
}

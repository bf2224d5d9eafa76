/*
 * NAME
 *	check_store_contract 1
 * SUMMARY
 *	the store's contract (lib/store.h), run against every backend
 * DESCRIPTION
 *	Each case uses store.h alone and must give the same answer on every
 *	backend: SQLite always (a fresh file per test), PostgreSQL 15 when
 *	it is installed (a private server started with tests/pg.sh, see
 *	tests/unit/common/test_pg.c; its tables are emptied per test). What
 *	one backend alone does (SQLite's files, migrations, snapshots;
 *	PostgreSQL's several hosts and lost connections) is in
 *	check_store.c and check_store_pgsql.c.
 *
 *	Rows are counted through the audit views with store_query(), the
 *	interface both backends share. Times are near now: PostgreSQL's
 *	daemons keep live grants only in memory, and ask with the real time.
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "ipaddr.h"
#include "log.h"
#include "store.h"
#include "store_lookups.h"
#include "test_pg.h"
#include "test_store.h"
#include "test_tmpdir.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- the backend under test ---- */

struct target {
	const char *name;
	const char *(*location)(void);
	const char *password_file;
	enum store_open_mode mode;
};

static char sqlite_path[160];

static const char *sqlite_location(void)
{
	return sqlite_path;
}

static const char *pgsql_location(void)
{
	return test_pg.conninfo;
}

static const struct target sqlite_target = { "sqlite", sqlite_location, NULL, STORE_OPEN_CREATE };
static struct target pgsql_target = { "pgsql", pgsql_location, NULL, STORE_OPEN_EXISTING };
static const struct target *T;

static void sqlite_setup(void)
{
	T = &sqlite_target;
	snprintf(sqlite_path, sizeof sqlite_path, "%s/authrelay.db",
		 test_tmpdir_create("check_store_contract"));
}

static void pgsql_setup(void)
{
	T = &pgsql_target;
	test_pg_empty();
}

/* open_store - as policyd (a decision queue) or as authrelayctl */
static struct store *open_store(bool daemon)
{
	struct store_options opts = { .mode = T->mode, .busy_timeout_ms = 5000,
				     .decision_queue_max = daemon ? 1000 : 0,
				     .program = daemon ? "policyd" : "authrelayctl",
				     .password_file = T->password_file };
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(T->location(), &opts, &store, &error) < 0)
		ck_abort_msg("%s: store_open: got \"%s\", want success", T->name, error);
	ck_assert_str_eq(store_backend_name(store), T->name);
	return store;
}

/* first_value - the first column of the first row, as text */
static int first_value(int ncols, const char *const *names, const char *const *values, void *ctx)
{
	char *out = ctx;

	(void)names;
	if (out[0] == '\0' && ncols > 0)
		snprintf(out, 64, "%s", values[0] != NULL ? values[0] : "NULL");
	return 0;
}

/* count - a number asked through the views */
static long long count(struct store *store, const char *sql)
{
	char value[64] = "", *error = NULL;

	if (store_query(store, sql, first_value, value, &error) < 0)
		ck_abort_msg("%s: %s: %s", T->name, sql, error);
	return atoll(value);
}

/* ---- schema ---- */

START_TEST(test_schema)
{
	struct store *store = open_store(false);
	char *detail = NULL;
	int version = -1;

	ck_assert_int_eq(store_schema_version(store, &version), 0);
	ck_assert_msg(version == store_schema_newest(store) && version >= 1,
		      "%s: schema version got %d, want %d", T->name, version,
		      store_schema_newest(store));
	ck_assert_int_eq(store_schema_latest(T->location()), version);
	ck_assert_int_eq(store_check_integrity(store, &detail), LOOKUP_FOUND);
	free(detail);
	store_close(&store, 0);
}
END_TEST

/* ---- grants ---- */

/* at: seconds after the logins of base, a moment ago. */
static const struct {
	const char *label, *client;
	int64_t at;
	enum lookup_result want;
	unsigned want_prefix;
} grant_cases[] = {
	{ "IPv4 exact", "203.0.113.5", 500, LOOKUP_FOUND, 32 },
	{ "IPv4 neighbour", "203.0.113.6", 500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv4-mapped IPv6 is IPv4", "::ffff:203.0.113.5", 500, LOOKUP_FOUND, 32 },
	{ "IPv4 at expiry", "203.0.113.5", 1800, LOOKUP_NOT_FOUND, 0 },
	{ "IPv4 one second before expiry", "203.0.113.5", 1799, LOOKUP_FOUND, 32 },
	{ "IPv6 the login's address", "2001:db8:1:2::abcd", 500, LOOKUP_FOUND, 64 },
	{ "IPv6 other address in the /64", "2001:db8:1:2:ffff:1:2:3", 500, LOOKUP_FOUND, 64 },
	{ "IPv6 next /64", "2001:db8:1:3::abcd", 500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv6 /128 grant exact", "2001:db8:9::7", 500, LOOKUP_FOUND, 128 },
	{ "IPv6 /128 grant neighbour", "2001:db8:9::8", 500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv6 /48 grant", "2001:db8:77:ffff::1", 500, LOOKUP_FOUND, 48 },
	{ "IPv4 never granted", "198.51.100.1", 500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv6 never granted", "::1", 500, LOOKUP_NOT_FOUND, 0 },
	{ "unknown client address", NULL, 500, LOOKUP_NOT_FOUND, 0 },
};

START_TEST(test_grant_lookup)
{
	struct store *store = open_store(false);
	int64_t base = time(NULL) - 100;
	struct store_login l[] = {
		test_login("203.0.113.5", 32, "alice", base, 1800),
		test_login("2001:db8:1:2::abcd", 64, "bob", base, 1800),
		test_login("2001:db8:9::7", 128, "carol", base, 1800),
		test_login("2001:db8:77::", 48, "dave", base, 1800),
	};

	test_logins_apply(store, l, 4, NULL);
	for (int i = 0; i < N(grant_cases); i++) {
		struct ipaddr client = { 0 };
		struct store_grant g;
		enum lookup_result got;

		if (grant_cases[i].client != NULL)
			client = test_ip(grant_cases[i].client);
		memset(&g, 0, sizeof g);
		got = store_grant_lookup(store, &client, base + grant_cases[i].at, &g);
		ck_assert_msg(got == grant_cases[i].want, "%s, %s: got %d, want %d", T->name,
			      grant_cases[i].label, got, grant_cases[i].want);
		if (got == LOOKUP_FOUND)
			ck_assert_msg(g.prefix_len == grant_cases[i].want_prefix,
				      "%s, %s: prefix got %u, want %u", T->name,
				      grant_cases[i].label, g.prefix_len, grant_cases[i].want_prefix);
	}
	store_close(&store, 0);
}
END_TEST

START_TEST(test_grant_refresh)
{
	static const struct {
		const char *label;
		int64_t t;	/* offsets from base */
		int64_t first, last, expires, logins;
	} steps[] = {
		{ "first login", 0, 0, 0, 1800, 1 },
		{ "refresh keeps first_seen", 500, 0, 500, 2300, 2 },
		{ "older line never moves expiry back", 200, 0, 500, 2300, 3 },
		{ "after expiry starts anew", 4000, 4000, 4000, 5800, 1 },
	};
	struct store *store = open_store(false);
	int64_t base = time(NULL) - 100;
	struct ipaddr client = test_ip("192.0.2.44");

	for (int i = 0; i < N(steps); i++) {
		struct store_login l = test_login("192.0.2.44", 32, "alice", base + steps[i].t, 1800);
		struct store_grant g;

		test_logins_apply(store, &l, 1, NULL);
		ck_assert_int_eq(store_grant_lookup(store, &client, base + steps[i].t, &g),
				 LOOKUP_FOUND);
		ck_assert_msg(g.first_seen - base == steps[i].first
				      && g.last_seen - base == steps[i].last
				      && g.expires_at - base == steps[i].expires
				      && g.logins == steps[i].logins,
			      "%s, %s: got first=%lld last=%lld expires=%lld logins=%lld, want "
			      "%lld %lld %lld %lld", T->name, steps[i].label,
			      (long long)(g.first_seen - base), (long long)(g.last_seen - base),
			      (long long)(g.expires_at - base), (long long)g.logins,
			      (long long)steps[i].first, (long long)steps[i].last,
			      (long long)steps[i].expires, (long long)steps[i].logins);
		ck_assert_str_eq(g.username, "alice");
		ck_assert_str_eq(g.service, "imap");
	}
	ck_assert_int_eq(count(store, "SELECT count(*) FROM grant_history WHERE event = 'login' "
				      "AND ip = '192.0.2.44' AND source = '/var/log/mail.log' "
				      "AND line LIKE '%dovecot%'"), 4);
	store_close(&store, 0);
}
END_TEST

START_TEST(test_checkpoint)
{
	struct store *store = open_store(false);
	struct store_checkpoint cp, got;
	struct store_login l[2];
	char *error = NULL;

	memset(&cp, 0, sizeof cp);
	snprintf(cp.source, sizeof cp.source, "/var/log/mail.log");
	cp.dev = 0xfd01;
	cp.ino = UINT64_MAX;			/* unsigned, kept bit for bit */
	cp.offset = 100;
	cp.line_hash = 0xfedcba9876543210ULL;	/* above INT64_MAX */
	l[0] = test_login("192.0.2.1", 32, "alice", time(NULL), 1800);
	test_logins_apply(store, l, 1, &cp);
	ck_assert_int_eq(store_checkpoint_get(store, "/var/log/mail.log", &got), LOOKUP_FOUND);
	ck_assert_msg(got.dev == cp.dev && got.ino == cp.ino && got.offset == 100
			      && got.line_hash == cp.line_hash,
		      "%s: checkpoint got %llu %llu %llu %llx", T->name,
		      (unsigned long long)got.dev, (unsigned long long)got.ino,
		      (unsigned long long)got.offset, (unsigned long long)got.line_hash);
	ck_assert_int_eq(store_checkpoint_get(store, "/var/log/other.log", &got),
			 LOOKUP_NOT_FOUND);

	/* All or nothing: a refused login leaves grants and checkpoint as
	   they were. */
	cp.offset = 200;
	l[0] = test_login("192.0.2.2", 32, "bob", time(NULL), 1800);
	l[1] = test_login("192.0.2.3", 32, "", time(NULL), 1800);
	ck_assert_int_lt(store_logins_apply(store, l, 2, &cp, &error), 0);
	ck_assert_msg(error && strstr(error, "login user name is empty"), "%s: got \"%s\"", T->name,
		      error);
	free(error);
	ck_assert_int_eq(store_checkpoint_get(store, "/var/log/mail.log", &got), LOOKUP_FOUND);
	ck_assert_uint_eq(got.offset, 100);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM grant_history"), 1);
	store_close(&store, 0);
}
END_TEST

START_TEST(test_login_sessions)
{
	/* The same Dovecot login from its auth-policy report and its log
	   line, in either order or twice in one batch, counts once; the
	   same session id from another address is another login. */
	static const struct {
		const char *label, *ip, *session;
		size_t batch;		/* logins applied together */
		long long want_logins;	/* of 192.0.2.60 after it */
	} steps[] = {
		{ "report", "192.0.2.60", "s1", 1, 1 },
		{ "its log line later", "192.0.2.60", "s1", 1, 1 },
		{ "a new session", "192.0.2.60", "s2", 1, 2 },
		{ "twice in one batch", "192.0.2.60", "s3", 2, 3 },
		{ "no session: always counted", "192.0.2.60", "", 1, 4 },
		{ "the same session from another address", "192.0.2.61", "s1", 1, 4 },
	};
	struct store *store = open_store(false);
	int64_t base = time(NULL) - 100;

	for (int i = 0; i < N(steps); i++) {
		struct store_login l[2];
		long long got;

		for (size_t k = 0; k < steps[i].batch; k++) {
			l[k] = test_login(steps[i].ip, 32, "alice", base + i, 1800);
			snprintf(l[k].session, sizeof l[k].session, "%s", steps[i].session);
		}
		test_logins_apply(store, l, steps[i].batch, NULL);
		got = count(store, "SELECT logins FROM active_grants WHERE ip = '192.0.2.60'");
		ck_assert_msg(got == steps[i].want_logins, "%s, %s: got %lld logins, want %lld",
			      T->name, steps[i].label, got, steps[i].want_logins);
	}
	ck_assert_int_eq(count(store, "SELECT count(*) FROM grant_history WHERE session = 's1'"),
			 2);
	store_close(&store, 0);
}
END_TEST

static int count_grant(const struct store_grant *g, void *ctx)
{
	(void)g;
	++*(int *)ctx;
	return 0;
}

START_TEST(test_grant_add_revoke)
{
	struct store *store = open_store(false);
	int64_t now = time(NULL);
	struct store_grant g;
	struct ipaddr a = test_ip("2001:db8:5:6::99");
	struct store_login l = test_login("2001:db8:5:6::99", 128, "bob", now, 1800);
	unsigned removed = 99;
	char *error = NULL;
	int n = 0;

	memset(&g, 0, sizeof g);
	g.net = test_ip("2001:db8:5:6::");
	g.prefix_len = 64;
	snprintf(g.username, sizeof g.username, "alice");
	g.expires_at = now + 3600;
	ck_assert_int_eq(store_grant_add(store, &g, "root", &error), 0);
	test_logins_apply(store, &l, 1, NULL);
	ck_assert_int_eq(store_grant_lookup(store, &a, now, &g), LOOKUP_FOUND);
	ck_assert_int_eq(store_grant_list(store, now, count_grant, &n, &error), 0);
	ck_assert_int_eq(n, 2);
	/* A grant must end after it starts. */
	g.expires_at = now - 1;
	ck_assert_int_lt(store_grant_add(store, &g, "root", &error), 0);
	ck_assert_msg(error && strstr(error, "expiry is not after its start"), "got \"%s\"", error);
	free(error);
	error = NULL;

	/* Both the /64 and the /128 hold the address. */
	ck_assert_int_eq(store_grant_revoke(store, &a, "root", &removed, &error), 0);
	ck_assert_msg(removed == 2, "%s: removed got %u, want 2", T->name, removed);
	ck_assert_int_eq(store_grant_lookup(store, &a, now, NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_grant_revoke(store, &a, "root", &removed, &error), 0);
	ck_assert_int_eq(removed, 0);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM admin_log WHERE actor = 'root' AND "
				      "action IN ('grant add', 'grant revoke')"), 3);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM grant_history WHERE event = 'manual' "
				      "AND ip = '2001:db8:5:6::' AND prefix_len = 64 "
				      "AND service = 'manual'"), 1);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM grant_history WHERE event = 'revoke'"),
			 2);
	store_close(&store, 0);
}
END_TEST

/* ---- users, senders, certificates ---- */

static int collect_user(const struct store_user *u, void *ctx)
{
	char *buf = ctx;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%s:%d:%u ", u->username, u->suspended, u->senders);
	return 0;
}

START_TEST(test_users)
{
	struct store *store = open_store(false);
	char list[512] = "";
	char *error = NULL;

	ck_assert_int_eq(store_user_suspended(store, "nobody"), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_user_set_suspended(store, "alice", true, "root", &error), 0);
	ck_assert_int_eq(store_user_suspended(store, "alice"), LOOKUP_FOUND);
	ck_assert_int_eq(store_user_suspended(store, "Alice"), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_sender_allow(store, "bob", "bob@example.org", "root", &error), 0);
	ck_assert_int_eq(store_user_set_suspended(store, "alice", false, "root", &error), 0);
	ck_assert_int_eq(store_user_suspended(store, "alice"), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_user_list(store, collect_user, list, &error), 0);
	ck_assert_msg(strcmp(list, "alice:0:0 bob:0:1 ") == 0, "%s: got \"%s\"", T->name, list);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM admin_log WHERE action IN "
				      "('user suspend', 'user resume', 'sender allow')"), 3);
	store_close(&store, 0);
}
END_TEST

static const char *const alice_patterns[] = { "alice@example.org", "@Sales.Example.COM" };

static const struct {
	const char *label, *user, *address;
	enum lookup_result want;
} sender_cases[] = {
	{ "exact", "alice", "alice@example.org", LOOKUP_FOUND },
	{ "brackets", "alice", "<alice@example.org>", LOOKUP_FOUND },
	{ "+tag ignored", "alice", "alice+news@example.org", LOOKUP_FOUND },
	{ "domain case ignored", "alice", "alice@EXAMPLE.Org", LOOKUP_FOUND },
	{ "tag and case", "alice", "<alice+x@Example.ORG>", LOOKUP_FOUND },
	{ "local part case kept", "alice", "Alice@example.org", LOOKUP_NOT_FOUND },
	{ "other local part", "alice", "bob@example.org", LOOKUP_NOT_FOUND },
	{ "@domain pattern", "alice", "anyone@sales.example.com", LOOKUP_FOUND },
	{ "@domain, tag", "alice", "anyone+t@SALES.example.com", LOOKUP_FOUND },
	{ "subdomain not covered", "alice", "x@eu.sales.example.com", LOOKUP_NOT_FOUND },
	{ "null sender", "alice", "", LOOKUP_NOT_FOUND },
	{ "null sender <>", "alice", "<>", LOOKUP_NOT_FOUND },
	{ "bare local part", "alice", "alice", LOOKUP_NOT_FOUND },
	{ "not an address", "alice", "a b@example.org", LOOKUP_NOT_FOUND },
	{ "does not parse", "alice", "a@@b", LOOKUP_NOT_FOUND },
	{ "* covers all", "bob", "whoever@anywhere.test", LOOKUP_FOUND },
	{ "* covers null sender", "bob", "<>", LOOKUP_FOUND },
	{ "unknown user", "carol", "alice@example.org", LOOKUP_NOT_FOUND },
	{ "user name case", "Alice", "alice@example.org", LOOKUP_NOT_FOUND },
};

START_TEST(test_sender_owned)
{
	struct store *store = open_store(false);
	char *error = NULL;

	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(store_sender_allow(store, "alice", alice_patterns[i], "root",
						    &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "bob", "*", "root", &error), 0);
	for (int c = 0; c < N(sender_cases); c++) {
		enum lookup_result got, by_addr = LOOKUP_NOT_FOUND;
		char norm[ADDR_MAX];

		got = store_sender_owned(store, sender_cases[c].user, sender_cases[c].address);
		ck_assert_msg(got == sender_cases[c].want, "%s, %s: got %d, want %d", T->name,
			      sender_cases[c].label, got, sender_cases[c].want);
		/* The backend's equality must agree with lib/addr.h's matcher. */
		if (addr_normalize(sender_cases[c].address, norm, sizeof norm) != 0)
			continue;
		if (strcmp(sender_cases[c].user, "bob") == 0) {
			by_addr = addr_pattern_match("*", norm) ? LOOKUP_FOUND : LOOKUP_NOT_FOUND;
		} else if (strcmp(sender_cases[c].user, "alice") == 0) {
			for (size_t i = 0; i < 2; i++) {
				char pat[ADDR_MAX];

				ck_assert_int_eq(addr_pattern_normalize(alice_patterns[i], pat,
									sizeof pat, &error), 0);
				if (addr_pattern_match(pat, norm))
					by_addr = LOOKUP_FOUND;
			}
		}
		ck_assert_msg(got == by_addr, "%s, %s: store says %d, addr_pattern_match says %d",
			      T->name, sender_cases[c].label, got, by_addr);
	}
	store_close(&store, 0);
}
END_TEST

static int collect_sender(const char *user, const char *pattern, int64_t added, void *ctx)
{
	char *buf = ctx;
	size_t len = strlen(buf);

	(void)added;
	snprintf(buf + len, 512 - len, "%s=%s ", user, pattern);
	return 0;
}

START_TEST(test_sender_admin)
{
	struct store *store = open_store(false);
	char list[512] = "";
	char *error = NULL;

	ck_assert_int_eq(store_sender_allow(store, "alice", "Alice@Example.ORG", "root", &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "alice", "@Example.NET", "root", &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "bob", "*", "root", &error), 0);
	ck_assert_msg(store_sender_allow(store, "alice", "alice+tag@example.org", "root",
					 &error) < 0, "%s: a +tag pattern was accepted", T->name);
	ck_assert_msg(error && strstr(error, "tag"), "got \"%s\", want a tag message", error);
	free(error);
	error = NULL;
	ck_assert_int_eq(store_sender_list(store, NULL, collect_sender, list, &error), 0);
	ck_assert_msg(strcmp(list, "alice=@example.net alice=Alice@example.org bob=* ") == 0,
		      "%s: got \"%s\"", T->name, list);
	list[0] = '\0';
	ck_assert_int_eq(store_sender_list(store, "bob", collect_sender, list, &error), 0);
	ck_assert_str_eq(list, "bob=* ");

	ck_assert_int_eq(store_sender_deny(store, "alice", "@EXAMPLE.net", "root", &error), 0);
	ck_assert_int_eq(store_sender_owned(store, "alice", "x@example.net"), LOOKUP_NOT_FOUND);
	ck_assert_msg(store_sender_deny(store, "alice", "@example.net", "root", &error) < 0,
		      "%s: deny of a missing pattern: got success, want error", T->name);
	ck_assert_msg(error && strstr(error, "no sender pattern"), "got \"%s\"", error);
	free(error);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM admin_log WHERE action = "
				      "'sender allow'"), 3);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM admin_log WHERE action = "
				      "'sender deny'"), 1);
	store_close(&store, 0);
}
END_TEST

static int collect_cert(const struct store_cert *c, void *ctx)
{
	char *buf = ctx;
	size_t len = strlen(buf);

	snprintf(buf + len, 1024 - len, "%s %s %s|", c->username, c->fingerprint, c->subject);
	return 0;
}

START_TEST(test_certs)
{
	struct store *store = open_store(false);
	struct store_cert c;
	char user[STORE_USER_MAX], list[1024] = "";
	char *error = NULL;

	memset(&c, 0, sizeof c);
	snprintf(c.username, sizeof c.username, "alice");
	snprintf(c.fingerprint, sizeof c.fingerprint, "0102030405060708090a0b0c0d0e0f10");
	snprintf(c.pubkey_fingerprint, sizeof c.pubkey_fingerprint, "f0:e0:d0:c0");
	snprintf(c.subject, sizeof c.subject, "CN=alice laptop");
	c.not_after = 1900000000;
	ck_assert_int_eq(store_cert_add(store, &c, "root", &error), 0);
	ck_assert_msg(store_cert_add(store, &c, "root", &error) < 0, "%s: duplicate accepted",
		      T->name);
	ck_assert_msg(error && strstr(error, "already registered"), "got \"%s\"", error);
	free(error);
	error = NULL;

	user[0] = '\0';
	ck_assert_int_eq(store_cert_lookup(store, "01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10",
					   user), LOOKUP_FOUND);
	ck_assert_str_eq(user, "alice");
	ck_assert_int_eq(store_cert_lookup(store, "F0:E0:D0:C0", NULL), LOOKUP_FOUND);
	ck_assert_int_eq(store_cert_lookup(store, "F0:E0:D0:C1", NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_cert_lookup(store, "not a fingerprint", NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_cert_list(store, collect_cert, list, &error), 0);
	ck_assert_str_eq(list, "alice 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10 "
			       "CN=alice laptop|");

	/* Revoked by its public-key fingerprint, in another spelling. */
	ck_assert_int_eq(store_cert_revoke(store, "f0e0d0c0", "root", &error), 0);
	ck_assert_int_eq(store_cert_lookup(store, "0102030405060708090a0b0c0d0e0f10", NULL),
			 LOOKUP_NOT_FOUND);
	ck_assert_msg(store_cert_revoke(store, "f0e0d0c0", "root", &error) < 0,
		      "%s: revoke of a missing certificate: got success", T->name);
	free(error);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM admin_log WHERE action IN "
				      "('cert add', 'cert revoke')"), 2);
	store_close(&store, 0);
}
END_TEST

/* ---- decisions, views, prune, named queries ---- */

static int collect_audit(const struct store_decision_row *row, void *ctx)
{
	char *buf = ctx;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%lld ", (long long)row->ts);
	return 0;
}

START_TEST(test_audit_filters)
{
	static const struct {
		const char *label;
		struct store_audit_filter f;
		const char *want;
	} cases[] = {
		{ "all, newest first", { 0, NULL, NULL, NULL, 0 }, "5 4 3 2 1 " },
		{ "since", { 3, NULL, NULL, NULL, 0 }, "5 4 3 " },
		{ "user", { 0, "alice", NULL, NULL, 0 }, "3 1 " },
		{ "ip", { 0, NULL, "2001:db8::1", NULL, 0 }, "4 " },
		{ "verdict", { 0, NULL, NULL, "reject", 0 }, "5 2 " },
		{ "user and verdict", { 0, "alice", NULL, "permit", 0 }, "3 1 " },
		{ "limit", { 0, NULL, NULL, NULL, 2 }, "5 4 " },
		{ "nothing", { 0, "nobody", NULL, NULL, 0 }, "" },
	};
	static const struct store_decision rows[] = {
		{ 1, NULL, "192.0.2.1", "alice", NULL, NULL, "permit", "sasl", NULL, NULL },
		{ 2, NULL, "192.0.2.2", "bob", NULL, NULL, "reject", "suspended", NULL, NULL },
		{ 3, NULL, "192.0.2.1", "alice", NULL, NULL, "permit", "sasl", NULL, NULL },
		{ 4, "milter", "2001:db8::1", NULL, NULL, NULL, "dunno", "none", NULL, NULL },
		{ 5, NULL, "192.0.2.3", NULL, NULL, NULL, "reject", "none", NULL, NULL },
	};
	struct store *store = open_store(true);
	uint64_t written, dropped;
	char *error = NULL;

	for (int i = 0; i < N(rows); i++)
		ck_assert_int_eq(store_decision_queue(store, &rows[i]), 0);
	ck_assert_int_eq(store_decision_flush(store, 10000), 0);
	store_decision_stats(store, &written, &dropped);
	ck_assert_msg(written == 5 && dropped == 0, "%s: written %llu dropped %llu, want 5 0",
		      T->name, (unsigned long long)written, (unsigned long long)dropped);
	for (int i = 0; i < N(cases); i++) {
		char got[512] = "";

		ck_assert_int_eq(store_audit(store, &cases[i].f, collect_audit, got, &error), 0);
		ck_assert_msg(strcmp(got, cases[i].want) == 0, "%s, %s: got \"%s\", want \"%s\"",
			      T->name, cases[i].label, got, cases[i].want);
	}
	ck_assert_int_eq(count(store, "SELECT count(*) FROM decisions WHERE program = 'policyd'"),
			 4);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM decisions WHERE program = 'milter'"), 1);
	store_close(&store, 1000);
}
END_TEST


START_TEST(test_views)
{
	/* The audit interface of sql/README.md: the four views, column for
	   column, times as ISO-8601 UTC text. */
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{ "SELECT * FROM active_grants",
		  "ip=192.0.2.9,prefix_len=32,username=alice,service=imap,"
		  "first_seen=2026-11-26T13:06:41Z,last_seen=2026-11-26T13:06:41Z,"
		  "expires_at=2096-10-02T07:06:40Z,logins=1;" },
		{ "SELECT * FROM grant_history",
		  "ip=192.0.2.9,prefix_len=32,username=alice,service=imap,"
		  "login_time=2026-11-26T13:06:41Z,expires_at=2096-10-02T07:06:40Z,"
		  "source=/var/log/mail.log,line=Nov 26 13:06:41 lab dovecot: imap-login: "
		  "Login: user=<x>,event=login,session=NULL;" },
		{ "SELECT * FROM decisions",
		  "ts=2026-11-26T13:06:41Z,program=policyd,client_ip=192.0.2.9,sasl_username=NULL,"
		  "sender=NULL,recipient=NULL,verdict=permit,rule=grant,reason=NULL,"
		  "queue_id=NULL;" },
		{ "SELECT actor, action, subject, detail FROM admin_log",
		  "actor=root,action=init,subject=s,detail=d;" },
	};
	struct store *store = open_store(true);
	struct store_login l = test_login("192.0.2.9", 32, "alice", 1795698401, 4000000000LL - 1795698401);
	struct store_decision d = { 1795698401, NULL, "192.0.2.9", NULL, NULL, NULL, "permit",
				    "grant", NULL, NULL };
	regex_t iso;
	char ts[64] = "", *error = NULL;

	test_logins_apply(store, &l, 1, NULL);
	ck_assert_int_eq(store_decision_queue(store, &d), 0);
	ck_assert_int_eq(store_decision_flush(store, 10000), 0);
	ck_assert_int_eq(store_admin_log(store, "root", "init", "s", "d", &error), 0);
	for (int i = 0; i < N(cases); i++) {
		struct test_rows r;

		memset(&r, 0, sizeof r);
		ck_assert_int_eq(store_query(store, cases[i].sql, test_rows_collect, &r, &error), 0);
		ck_assert_msg(strcmp(r.text, cases[i].want) == 0, "%s, %s:\n got %s\nwant %s",
			      T->name, cases[i].sql, r.text, cases[i].want);
	}
	ck_assert_int_eq(regcomp(&iso, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
				 REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_int_eq(store_query(store, "SELECT ts FROM admin_log", first_value, ts, &error), 0);
	ck_assert_msg(regexec(&iso, ts, 0, NULL, 0) == 0,
		      "%s: admin_log.ts got \"%s\", want ISO-8601 UTC", T->name, ts);
	regfree(&iso);
	/* store_query is read-only. */
	ck_assert_int_lt(store_query(store, "DELETE FROM decision_log", test_rows_collect, NULL, &error),
			 0);
	free(error);
	store_close(&store, 1000);
}
END_TEST

START_TEST(test_prune)
{
	struct store *store = open_store(true);
	struct store_login l[] = {
		test_login("192.0.2.1", 32, "old", 100, 50),			/* expired at 150 */
		test_login("192.0.2.2", 32, "new", time(NULL), 100000),	/* live */
	};
	struct store_decision d = { 0, NULL, "192.0.2.1", "alice", "a@x.test", "b@y.test",
				    "permit", "sasl", "", "" };
	uint64_t deleted = 0;
	char *error = NULL;

	test_logins_apply(store, l, 2, NULL);
	for (int64_t ts = 100; ts <= 500; ts += 100) {
		d.ts = ts;
		ck_assert_int_eq(store_decision_queue(store, &d), 0);
	}
	ck_assert_int_eq(store_decision_flush(store, 10000), 0);
	/* batch 1: many short transactions. */
	ck_assert_int_eq(store_prune(store, 350, 1, "root", &deleted, &error), 0);
	ck_assert_msg(deleted == 4, "%s: deleted got %llu, want 3 decisions + 1 grant", T->name,
		      (unsigned long long)deleted);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM decisions"), 2);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM active_grants WHERE username = 'new'"),
			 1);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM grant_history"), 2);
	ck_assert_int_eq(count(store, "SELECT count(*) FROM admin_log WHERE action = 'prune' AND "
				      "detail = 'decisions=3 grants=1' AND "
				      "subject = '1970-01-01T00:05:50Z'"), 1);
	store_close(&store, 1000);
}
END_TEST

/* What named_one() runs, and what it saw. */
struct named {
	struct store *store;
	enum store_query_set set;
	int ran;
};

static int drop_row(int n, const char *const *names, const char *const *values, void *ctx)
{
	(void)n, (void)names, (void)values, (void)ctx;
	return 0;
}

static int named_one(const char *name, const char *what, void *ctx)
{
	struct named *q = ctx;
	char *error = NULL;

	(void)what;
	if (store_query_named(q->store, q->set, name, time(NULL) - 86400, drop_row, NULL,
			      &error) < 0)
		ck_abort_msg("%s: query %s: %s", T->name, name, error);
	q->ran++;
	return 0;
}

START_TEST(test_named_queries)
{
	/* Every ready query this backend has runs on an empty database. */
	struct named q = { open_store(false), STORE_QUERIES_AUDIT, 0 };
	char *error = NULL;

	ck_assert_int_gt(store_queries_list(T->location(), STORE_QUERIES_AUDIT, named_one, &q), 0);
	q.set = STORE_QUERIES_REPORT;
	ck_assert_int_gt(store_queries_list(T->location(), STORE_QUERIES_REPORT, named_one, &q), 0);
	ck_assert_int_gt(q.ran, 10);
	ck_assert_int_lt(store_query_named(q.store, STORE_QUERIES_AUDIT, "no-such-query", 0,
					   drop_row, NULL, &error), 0);
	ck_assert_msg(error && strstr(error, "not available with"), "got \"%s\"", error);
	free(error);
	store_close(&q.store, 0);
}
END_TEST

START_TEST(test_lookups_bound)
{
	struct store *store = open_store(false);
	int64_t now = time(NULL);
	struct store_login l = test_login("192.0.2.7", 32, "alice", now, 1800);
	struct relay_lookups lk;
	struct ipaddr a = test_ip("192.0.2.7"), b = test_ip("192.0.2.8");
	char *error = NULL;

	test_logins_apply(store, &l, 1, NULL);
	ck_assert_int_eq(store_user_set_suspended(store, "mallory", true, "root", &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "alice", "@example.org", "root", &error), 0);
	store_lookups_init(&lk, store);
	ck_assert_int_eq(lk.grant_live(lk.ctx, &a, now + 1), LOOKUP_FOUND);
	ck_assert_int_eq(lk.grant_live(lk.ctx, &b, now + 1), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(lk.user_suspended(lk.ctx, "mallory"), LOOKUP_FOUND);
	ck_assert_int_eq(lk.user_suspended(lk.ctx, "alice"), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(lk.sender_owned(lk.ctx, "alice", "x+y@Example.org"), LOOKUP_FOUND);
	ck_assert_int_eq(lk.cert_known(lk.ctx, "AA:BB"), LOOKUP_NOT_FOUND);
	store_close(&store, 0);
}
END_TEST

/* contract_tcase - every case of the contract, for one backend */
static TCase *contract_tcase(const char *name, void (*setup)(void), void (*teardown)(void))
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_schema);
	tcase_add_test(tc, test_grant_lookup);
	tcase_add_test(tc, test_grant_refresh);
	tcase_add_test(tc, test_checkpoint);
	tcase_add_test(tc, test_login_sessions);
	tcase_add_test(tc, test_grant_add_revoke);
	tcase_add_test(tc, test_users);
	tcase_add_test(tc, test_sender_owned);
	tcase_add_test(tc, test_sender_admin);
	tcase_add_test(tc, test_certs);
	tcase_add_test(tc, test_audit_filters);
	tcase_add_test(tc, test_views);
	tcase_add_test(tc, test_prune);
	tcase_add_test(tc, test_named_queries);
	tcase_add_test(tc, test_lookups_bound);
	return tc;
}

int main(void)
{
	Suite *s = suite_create("store_contract");
	SRunner *sr;
	int failed, pg;

	log_set_level(LOG_LEVEL_ERROR);
	suite_add_tcase(s, contract_tcase("sqlite", sqlite_setup, test_tmpdir_remove));
	pg = test_pg_start("check_store_contract");
	if (pg < 0)
		return EXIT_FAILURE;
	if (pg > 0) {
		printf("store_contract: pgsql skipped: PostgreSQL 15 is not installed "
		       "(make deps installs postgresql-15)\n");
	} else {
		pgsql_target.password_file = test_pg.passfile;
		suite_add_tcase(s, contract_tcase("pgsql", pgsql_setup, NULL));
	}
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (pg == 0)
		test_pg_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

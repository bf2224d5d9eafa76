/*
 * NAME
 *	check_store_pgsql 1
 * SUMMARY
 *	the store's behaviour through store.h against a live PostgreSQL 15
 * DESCRIPTION
 *	main() starts a private server with tests/pg.sh (run from the top
 *	of the tree, as make does) and initialises the schema through
 *	store_open(STORE_OPEN_CREATE); each test starts from empty tables.
 *	A second libpq session stands for another host or an admin's psql.
 *	Stores opened with a decision queue behave as policyd's (lookups from
 *	memory, the view thread started at open); the others as
 *	authrelayctl's. The last test stops and restarts the server.
 *
 *	When the PostgreSQL binaries are missing the suite says so and
 *	passes without running (make deps installs them); any other failure
 *	to start the server fails it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ipaddr.h"
#include "log.h"
#include "store.h"
#include "test_pg.h"

/* ---- the server (test_pg.h) ---- */

static PGconn *session(const char *role, const char *pwfile)
{
	return test_pg_session(role, pwfile);
}

static PGconn *other_session(void)
{
	return session("authrelay", test_pg.passfile);
}

static void sql_as(PGconn *conn, const char *text)
{
	PGresult *res;

	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	res = PQexec(conn, text);
	ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK
			      || PQresultStatus(res) == PGRES_TUPLES_OK,
		      "%s: %s", text, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(conn);
}

static void sql(const char *text)
{
	sql_as(other_session(), text);
}

static long long sql_int(const char *text)
{
	PGconn *conn = other_session();
	PGresult *res = PQexec(conn, text);
	long long v;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", text,
		      PQresultErrorMessage(res));
	v = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(conn);
	return v;
}

static void empty_tables(void)
{
	/* The daemons' role may delete rows, not truncate. */
	sql("DELETE FROM grants; DELETE FROM grant_log; DELETE FROM sender_rights; "
	    "DELETE FROM users; DELETE FROM certs; DELETE FROM decision_log; "
	    "DELETE FROM admin_actions; DELETE FROM loginwatch_checkpoints");
}

/* open_as - a store the way program opens it: "policyd" with a queue
   (lookups from memory), "authrelayctl" without */
static struct store *open_as(const char *program, const char *location, long long grace_ms)
{
	struct store_options opts = {
		.mode = STORE_OPEN_EXISTING, .busy_timeout_ms = 2000,
		.decision_queue_max = strcmp(program, "policyd") == 0 ? 1000 : 0,
		.program = program, .password_file = test_pg.passfile, .stale_grace_ms = grace_ms,
	};
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(location != NULL ? location : test_pg.conninfo, &opts, &store, &error) < 0)
		ck_abort_msg("store_open %s: got \"%s\", want success", program, error);
	return store;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* wait_lookup - ms until the grant lookup of text gives want, or -1
   after limit_ms */
static double wait_lookup(struct store *store, const char *text, enum lookup_result want,
			  double limit_ms)
{
	struct ipaddr ip;
	double start = now_ms();

	ck_assert_int_eq(ipaddr_parse(text, &ip), 0);
	while (now_ms() - start < limit_ms) {
		if (store_grant_lookup(store, &ip, time(NULL), NULL) == want)
			return now_ms() - start;
		usleep(5000);
	}
	return -1;
}

static void login(struct store_login *l, const char *ip, unsigned prefix, const char *user,
		  int64_t t, int64_t ttl)
{
	memset(l, 0, sizeof *l);
	ck_assert_int_eq(ipaddr_parse(ip, &l->net), 0);
	ipaddr_mask(&l->net, prefix);
	l->prefix_len = prefix;
	snprintf(l->username, sizeof l->username, "%s", user);
	snprintf(l->service, sizeof l->service, "imap");
	snprintf(l->source, sizeof l->source, "/var/log/mail.log");
	l->login_time = t;
	l->expires_at = t + ttl;
	l->line = "dovecot: imap-login: Login: user=<x>";
}

static void apply(struct store *store, const struct store_login *l, size_t n,
		  const struct store_checkpoint *cp)
{
	char *error = NULL;

	if (store_logins_apply(store, l, n, cp, &error) < 0)
		ck_abort_msg("store_logins_apply: got \"%s\", want success", error);
}

/* ---- open ---- */

START_TEST(test_open_cases)
{
	char url_empty[600], url_future[600], keywords[256], badpw[160], openpw[160];
	FILE *fp;
	struct {
		const char *label, *location, *password_file, *want;	/* want NULL: opens */
	} cases[] = {
		{ "URI with the password file", test_pg.conninfo, test_pg.passfile, NULL },
		{ "libpq keyword=value string", keywords, test_pg.passfile, NULL },
		{ "a database without the schema", url_empty, test_pg.passfile, "no authrelay schema" },
		{ "a schema newer than this build", url_future, test_pg.passfile, "newer than this build" },
		{ "a wrong password", test_pg.conninfo, badpw, "cannot connect to PostgreSQL" },
		{ "a password file others may read", test_pg.conninfo, openpw, "readable by group or others" },
		{ "a missing password file", test_pg.conninfo, "/nonexistent/pw", "database_password_file" },
		{ "no server on the port", "postgresql://authrelay@127.0.0.1:1/authrelay", test_pg.passfile,
		  "cannot connect to PostgreSQL" },
	};

	snprintf(url_empty, sizeof url_empty, "%s?options=-csearch_path%%3Dempty", test_pg.conninfo);
	snprintf(url_future, sizeof url_future, "%s?options=-csearch_path%%3Dfuture", test_pg.conninfo);
	snprintf(keywords, sizeof keywords, "host=127.0.0.1 port=%d dbname=authrelay user=authrelay",
		 test_pg.port);
	snprintf(badpw, sizeof badpw, "%s/badpw", test_pg.dir);
	snprintf(openpw, sizeof openpw, "%s/openpw", test_pg.dir);
	ck_assert_ptr_nonnull(fp = fopen(badpw, "w"));
	fputs("wrong\n", fp);
	fclose(fp);
	chmod(badpw, 0600);
	ck_assert_ptr_nonnull(fp = fopen(openpw, "w"));
	fputs("wrong\n", fp);
	fclose(fp);
	chmod(openpw, 0644);
	sql_as(session("authrelay_owner", test_pg.owner_passfile),
	       "DROP SCHEMA IF EXISTS empty CASCADE; CREATE SCHEMA empty; "
	    "DROP SCHEMA IF EXISTS future CASCADE; CREATE SCHEMA future; "
	    "CREATE TABLE future.schema_version (version integer NOT NULL); "
	    "INSERT INTO future.schema_version VALUES (99); "
	    "GRANT USAGE ON SCHEMA empty, future TO authrelay; "
	    "GRANT SELECT ON future.schema_version TO authrelay");

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct store_options opts = { .mode = STORE_OPEN_EXISTING, .busy_timeout_ms = 2000,
					     .program = "test",
					     .password_file = cases[i].password_file };
		struct store *store = NULL;
		char *error = NULL;
		int rc = store_open(cases[i].location, &opts, &store, &error);

		if (cases[i].want == NULL) {
			ck_assert_msg(rc == 0, "%s: got \"%s\", want success", cases[i].label, error);
			ck_assert_str_eq(store_backend_name(store), "pgsql");
			store_close(&store, 0);
		} else {
			ck_assert_msg(rc < 0 && error != NULL && strstr(error, cases[i].want),
				      "%s: got \"%s\", want \"%s\"", cases[i].label,
				      rc == 0 ? "success" : error, cases[i].want);
			/* The password never appears in a message. */
			ck_assert_msg(strstr(error, "wrong") == NULL, "%s: message shows the password",
				      cases[i].label);
		}
		free(error);
	}
}
END_TEST

START_TEST(test_schema_and_server)
{
	struct store *store = open_as("authrelayctl", NULL, 0);
	char *detail = NULL;
	int version = 0;

	ck_assert_int_eq(store_schema_version(store, &version), 0);
	ck_assert_int_eq(version, store_schema_newest(store));
	ck_assert_int_ge(version, 1);
	ck_assert_int_eq(store_check_integrity(store, &detail), LOOKUP_FOUND);
	ck_assert_msg(detail != NULL && strstr(detail, "PostgreSQL 15."),
		      "integrity detail: got \"%s\", want the server's version", detail);
	free(detail);
	store_close(&store, 0);
}
END_TEST

/* wait_rule - ms until username's recipients limit reads want (the
   spec's text when found), or -1 after timeout_ms */
static long long wait_rule(struct store *store, const char *username, enum lookup_result want,
			   const char *want_spec, long long timeout_ms)
{
	for (long long ms = 0; ms <= timeout_ms; ms += 10) {
		struct limit_spec spec;
		char text[LIMIT_SPEC_TEXT_MAX];
		enum lookup_result r = store_limit_rule(store, username, STORE_LIMIT_RECIPIENTS, &spec);

		if (r == want && (r != LOOKUP_FOUND ||
				  strcmp(limit_spec_format(&spec, text, sizeof text), want_spec) == 0))
			return ms;
		usleep(10000);
	}
	return -1;
}

START_TEST(test_limit_rules_from_memory)
{
	/* The rules are in policyd's memory: a row written by another host
	   (or psql) is seen within a second through NOTIFY, a domain's row
	   too, and its removal. */
	struct store *pd = open_as("policyd", NULL, 0);
	long long ms;

	ck_assert_int_eq(wait_rule(pd, "alice@example.org", LOOKUP_NOT_FOUND, NULL, 0), 0);
	sql("INSERT INTO limit_rules (subject, kind, spec, changed) "
	    "VALUES ('@example.org', 'recipients', '50/1h', 0)");
	ms = wait_rule(pd, "alice@example.org", LOOKUP_FOUND, "50/1h", 1000);
	ck_assert_msg(ms >= 0, "domain row from another host: not seen within 1 s");
	sql("INSERT INTO limit_rules (subject, kind, spec, changed) "
	    "VALUES ('alice@example.org', 'recipients', '5/1h', 0)");
	ms = wait_rule(pd, "alice@example.org", LOOKUP_FOUND, "5/1h", 1000);
	ck_assert_msg(ms >= 0, "user row from another host: not seen within 1 s");
	sql("DELETE FROM limit_rules");
	ms = wait_rule(pd, "alice@example.org", LOOKUP_NOT_FOUND, NULL, 1000);
	ck_assert_msg(ms >= 0, "rows removed by another host: still seen after 1 s");
	store_close(&pd, 1000);
}
END_TEST

/* ---- grants ---- */

/* Times are offsets from base, a moment ago: the daemons' memory holds
   live grants only, and they ask with the real time. */
static const struct {
	const char *label, *client;
	int64_t at;
	enum lookup_result want;
	unsigned want_prefix;
} grant_cases[] = {
	{ "IPv4 exact", "203.0.113.5", 500, LOOKUP_FOUND, 32 },
	{ "IPv4 neighbour", "203.0.113.6", 500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv4 at expiry", "203.0.113.5", 1800, LOOKUP_NOT_FOUND, 0 },
	{ "IPv4-mapped client", "::ffff:203.0.113.5", 500, LOOKUP_FOUND, 32 },
	{ "IPv6 inside the /64", "2001:db8:1:2::99", 500, LOOKUP_FOUND, 64 },
	{ "IPv6 outside the /64", "2001:db8:1:3::1", 500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv6 /128 grant", "2001:db8::7", 500, LOOKUP_FOUND, 128 },
	{ "unset address", NULL, 500, LOOKUP_NOT_FOUND, 0 },
};

static void grant_table(struct store *store, const char *who, int64_t base)
{
	for (size_t i = 0; i < sizeof grant_cases / sizeof grant_cases[0]; i++) {
		struct ipaddr ip = { 0 };
		struct store_grant g;
		enum lookup_result got;

		if (grant_cases[i].client != NULL)
			ck_assert_int_eq(ipaddr_parse(grant_cases[i].client, &ip), 0);
		got = store_grant_lookup(store, &ip, base + grant_cases[i].at, &g);
		ck_assert_msg(got == grant_cases[i].want, "%s, %s: got %d, want %d", who,
			      grant_cases[i].label, got, grant_cases[i].want);
		if (got == LOOKUP_FOUND)
			ck_assert_msg(g.prefix_len == grant_cases[i].want_prefix,
				      "%s, %s: got prefix %u, want %u", who, grant_cases[i].label,
				      g.prefix_len, grant_cases[i].want_prefix);
	}
}

START_TEST(test_grant_lookups)
{
	struct store *ctl = open_as("authrelayctl", NULL, 0);
	struct store *pd = open_as("policyd", NULL, 0);
	int64_t base = time(NULL) - 100;
	struct store_login l[3];

	login(&l[0], "203.0.113.5", 32, "alice", base, 1800);
	login(&l[1], "2001:db8:1:2::1", 64, "bob", base, 1800);
	login(&l[2], "2001:db8::7", 128, "carol", base, 1800);
	apply(ctl, l, 3, NULL);
	/* policyd learns it through the notification (another connection);
	   authrelayctl's store loads its memory at its first lookup. */
	ck_assert_msg(wait_lookup(pd, "2001:db8::7", LOOKUP_FOUND, 1000) >= 0,
		      "policyd: grants not seen within 1000 ms");
	grant_table(pd, "policyd", base);
	grant_table(ctl, "authrelayctl", base);
	store_close(&pd, 1000);
	store_close(&ctl, 0);
}
END_TEST

START_TEST(test_login_refresh)
{
	static const struct {
		const char *label;
		int64_t t;	/* offsets from base */
		int64_t want_first, want_last, want_expires, want_logins;
	} steps[] = {
		{ "first login", 0, 0, 0, 1800, 1 },
		{ "login while live", 500, 0, 500, 2300, 2 },
		{ "older log line: expiry never moves back", 200, 0, 500, 2300, 3 },
		{ "login after expiry starts anew", 4000, 4000, 4000, 5800, 1 },
	};
	struct store *store = open_as("authrelayctl", NULL, 0);
	int64_t base = time(NULL) - 100;
	struct ipaddr ip;

	ck_assert_int_eq(ipaddr_parse("198.51.100.9", &ip), 0);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		struct store_login l;
		struct store_grant g;

		login(&l, "198.51.100.9", 32, i == 3 ? "dave" : "alice", base + steps[i].t, 1800);
		apply(store, &l, 1, NULL);
		ck_assert_int_eq(store_grant_lookup(store, &ip, base + steps[i].t, &g), LOOKUP_FOUND);
		ck_assert_msg(g.first_seen - base == steps[i].want_first
				      && g.last_seen - base == steps[i].want_last
				      && g.expires_at - base == steps[i].want_expires
				      && g.logins == steps[i].want_logins,
			      "%s: got first %lld last %lld expires %lld logins %lld, want %lld %lld "
			      "%lld %lld", steps[i].label, (long long)(g.first_seen - base),
			      (long long)(g.last_seen - base), (long long)(g.expires_at - base),
			      (long long)g.logins, (long long)steps[i].want_first,
			      (long long)steps[i].want_last, (long long)steps[i].want_expires,
			      (long long)steps[i].want_logins);
	}
	ck_assert_int_eq(sql_int("SELECT count(*) FROM grant_history WHERE event = 'login'"), 4);
	store_close(&store, 0);
}
END_TEST

START_TEST(test_checkpoint_with_grants)
{
	struct store *store = open_as("authrelayctl", NULL, 0);
	struct store_checkpoint cp, got;
	struct store_login l[2];
	char *error = NULL;

	memset(&cp, 0, sizeof cp);
	snprintf(cp.source, sizeof cp.source, "/var/log/mail.log");
	cp.dev = 2049;
	cp.ino = UINT64_MAX;		/* unsigned, bit for bit */
	cp.offset = 123456;
	cp.line_hash = 0x8000000000000001ULL;
	login(&l[0], "192.0.2.20", 32, "alice", 1000, 1800);
	apply(store, l, 1, &cp);
	ck_assert_int_eq(store_checkpoint_get(store, cp.source, &got), LOOKUP_FOUND);
	ck_assert_msg(got.dev == cp.dev && got.ino == cp.ino && got.offset == cp.offset
			      && got.line_hash == cp.line_hash,
		      "checkpoint: got %llu %llu %llu %llx", (unsigned long long)got.dev,
		      (unsigned long long)got.ino, (unsigned long long)got.offset,
		      (unsigned long long)got.line_hash);
	ck_assert_int_eq(store_checkpoint_get(store, "/var/log/other.log", &got),
			 LOOKUP_NOT_FOUND);
	/* Keyed per host: another host's checkpoint of the same file is its own. */
	sql("INSERT INTO loginwatch_checkpoints VALUES ('imap2.example', '/var/log/mail.log', "
	    "1, 1, 999, 1, 1)");
	ck_assert_int_eq(store_checkpoint_get(store, cp.source, &got), LOOKUP_FOUND);
	ck_assert_msg(got.offset == 123456, "got offset %llu, want this host's 123456",
		      (unsigned long long)got.offset);

	/* All or nothing: a bad login leaves grants and checkpoint as they were. */
	cp.offset = 999999;
	login(&l[0], "192.0.2.21", 32, "bob", 2000, 1800);
	login(&l[1], "192.0.2.22", 32, "", 2000, 1800);
	ck_assert_int_lt(store_logins_apply(store, l, 2, &cp, &error), 0);
	free(error);
	ck_assert_int_eq(store_checkpoint_get(store, cp.source, &got), LOOKUP_FOUND);
	ck_assert_uint_eq(got.offset, 123456);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM grants WHERE ip = '192.0.2.21'"), 0);
	store_close(&store, 0);
}
END_TEST

START_TEST(test_login_sessions)
{
	/* The same Dovecot login from its auth-policy report and its log
	   line, in either order or twice in one batch, counts once; the
	   same session id from another address is another login. A batch
	   is written in runs (store_pgsql_logins.c): a grant twice in one
	   batch is two logins, as written one by one. */
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
		{ "no session, twice in one batch: both counted", "192.0.2.60", "", 2, 6 },
		{ "the same session from another address", "192.0.2.61", "s1", 1, 6 },
	};
	struct store *store = open_as("authrelayctl", NULL, 0);
	int64_t base = time(NULL) - 100;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		struct store_login l[2];

		for (size_t k = 0; k < steps[i].batch; k++) {
			login(&l[k], steps[i].ip, 32, "alice", base + (int64_t)i, 1800);
			snprintf(l[k].session, sizeof l[k].session, "%s", steps[i].session);
		}
		apply(store, l, steps[i].batch, NULL);
		ck_assert_msg(sql_int("SELECT logins FROM grants WHERE ip = '192.0.2.60'")
				      == steps[i].want_logins,
			      "%s: got %lld logins, want %lld", steps[i].label,
			      sql_int("SELECT logins FROM grants WHERE ip = '192.0.2.60'"),
			      steps[i].want_logins);
	}
	ck_assert_int_eq(sql_int("SELECT count(*) FROM grant_history WHERE session = 's1'"), 2);
	store_close(&store, 0);
}
END_TEST

/* ---- users, senders, certificates ---- */

static const struct {
	const char *label, *user, *address;
	enum lookup_result want;
} sender_cases[] = {
	{ "own address", "alice", "alice@lab.test", LOOKUP_FOUND },
	{ "+tag and domain case", "alice", "alice+news@LAB.test", LOOKUP_FOUND },
	{ "someone else's address", "alice", "mallory@lab.test", LOOKUP_NOT_FOUND },
	{ "@domain pattern", "bob", "anyone@corp.test", LOOKUP_FOUND },
	{ "@domain pattern, other domain", "bob", "bob@lab.test", LOOKUP_NOT_FOUND },
	{ "* covers the null sender", "carol", "", LOOKUP_FOUND },
	{ "null sender without *", "alice", "", LOOKUP_NOT_FOUND },
	{ "unknown user", "nobody", "nobody@lab.test", LOOKUP_NOT_FOUND },
	{ "address that does not parse", "alice", "a@@b", LOOKUP_NOT_FOUND },
};

START_TEST(test_users_and_senders)
{
	struct store *ctl = open_as("authrelayctl", NULL, 0);
	struct store *pd = open_as("policyd", NULL, 0);
	char *error = NULL;

	ck_assert_int_eq(store_sender_allow(ctl, "alice", "alice@lab.test", "t", &error), 0);
	ck_assert_int_eq(store_sender_allow(ctl, "bob", "@Corp.Test", "t", &error), 0);
	ck_assert_int_eq(store_sender_allow(ctl, "carol", "*", "t", &error), 0);
	ck_assert_int_eq(store_user_set_suspended(ctl, "bob", true, "t", &error), 0);
	ck_assert_int_lt(store_sender_deny(ctl, "alice", "x@lab.test", "t", &error), 0);
	ck_assert_msg(error && strstr(error, "has no sender pattern"), "deny: got \"%s\"", error);
	free(error);
	for (int i = 0; i < 200 && store_user_suspended(pd, "bob") != LOOKUP_FOUND; i++)
		usleep(5000);
	for (size_t i = 0; i < sizeof sender_cases / sizeof sender_cases[0]; i++) {
		enum lookup_result got = store_sender_owned(pd, sender_cases[i].user,
							     sender_cases[i].address);

		ck_assert_msg(got == sender_cases[i].want, "%s: got %d, want %d",
			      sender_cases[i].label, got, sender_cases[i].want);
	}
	ck_assert_int_eq(store_user_suspended(pd, "bob"), LOOKUP_FOUND);
	ck_assert_int_eq(store_user_suspended(pd, "alice"), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_user_set_suspended(ctl, "bob", false, "t", &error), 0);
	ck_assert_int_eq(store_user_suspended(ctl, "bob"), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM admin_log"), 5);
	store_close(&pd, 1000);
	store_close(&ctl, 0);
}
END_TEST

START_TEST(test_certs)
{
	struct store *store = open_as("authrelayctl", NULL, 0);
	struct store_cert c;
	char user[STORE_USER_MAX], *error = NULL;

	memset(&c, 0, sizeof c);
	snprintf(c.username, sizeof c.username, "carol");
	snprintf(c.fingerprint, sizeof c.fingerprint, "ab:cd:ef:01");
	snprintf(c.pubkey_fingerprint, sizeof c.pubkey_fingerprint, "1122 3344");
	ck_assert_int_eq(store_cert_add(store, &c, "t", &error), 0);
	ck_assert_int_lt(store_cert_add(store, &c, "t", &error), 0);
	ck_assert_msg(error && strstr(error, "already registered"), "got \"%s\"", error);
	free(error);
	error = NULL;
	ck_assert_int_eq(store_cert_lookup(store, "ABCDEF01", user), LOOKUP_FOUND);
	ck_assert_str_eq(user, "carol");
	ck_assert_int_eq(store_cert_lookup(store, "11:22:33:44", NULL), LOOKUP_FOUND);
	ck_assert_int_eq(store_cert_lookup(store, "11:22:33:45", NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_cert_lookup(store, "not hex", NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_cert_revoke(store, "11:22:33:44", "t", &error), 0);
	ck_assert_int_eq(store_cert_lookup(store, "AB:CD:EF:01", NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_lt(store_cert_revoke(store, "11:22:33:44", "t", &error), 0);
	free(error);
	store_close(&store, 0);
}
END_TEST

/* ---- several hosts ---- */

START_TEST(test_other_connection_within_a_second)
{
	struct store *pd = open_as("policyd", NULL, 0);
	struct store *ctl = open_as("authrelayctl", NULL, 0);
	struct store_grant g;
	struct ipaddr ip;
	unsigned removed;
	char *error = NULL;
	double ms;

	ck_assert_int_eq(wait_lookup(pd, "192.0.2.50", LOOKUP_NOT_FOUND, 2000) >= 0, 1);
	memset(&g, 0, sizeof g);
	ck_assert_int_eq(ipaddr_parse("192.0.2.50", &g.net), 0);
	g.prefix_len = 32;
	g.expires_at = time(NULL) + 600;
	ck_assert_int_eq(store_grant_add(ctl, &g, "t", &error), 0);
	ms = wait_lookup(pd, "192.0.2.50", LOOKUP_FOUND, 1000);
	ck_assert_msg(ms >= 0, "grant added on another connection: not seen within 1000 ms");
	ip = g.net;
	ck_assert_int_eq(store_grant_revoke(ctl, &ip, "t", &removed, &error), 0);
	ck_assert_uint_eq(removed, 1);
	ms = wait_lookup(pd, "192.0.2.50", LOOKUP_NOT_FOUND, 1000);
	ck_assert_msg(ms >= 0, "grant revoked on another connection: still seen after 1000 ms");
	/* A change made by plain SQL (an admin's psql) too. */
	sql("INSERT INTO users (username, suspended, changed) VALUES ('eve', 1, 0)");
	for (ms = now_ms(); store_user_suspended(pd, "eve") != LOOKUP_FOUND;)
		ck_assert_msg(now_ms() - ms < 1000, "suspension by SQL not seen within 1000 ms");
	store_close(&ctl, 0);
	store_close(&pd, 1000);
}
END_TEST

/* ---- decisions, audit interface, prune ---- */

static int count_row(const struct store_decision_row *row, void *ctx)
{
	(void)row;
	++*(int *)ctx;
	return 0;
}

START_TEST(test_decisions)
{
	struct store *pd = open_as("policyd", NULL, 0);
	struct store *ctl = open_as("authrelayctl", NULL, 0);
	struct store_decision d = { 1795698401, NULL, "192.0.2.1", "alice", "alice@example.org",
				    "bob@example.net", "permit", "sasl", "authenticated", "4XyZ1" };
	struct store_audit_filter f = { .username = "alice", .verdict = "permit" };
	uint64_t written, dropped;
	int n = 0;
	char *error = NULL;

	for (int i = 0; i < 600; i++)
		ck_assert_int_eq(store_decision_queue(pd, &d), 0);
	d.sender = "bad\xff\xfe-utf8@example.org";	/* PostgreSQL refuses invalid UTF-8 */
	d.sasl_username = "mallory";
	ck_assert_int_eq(store_decision_queue(pd, &d), 0);
	ck_assert_int_eq(store_decision_flush(pd, 10000), 0);
	store_decision_stats(pd, &written, &dropped);
	ck_assert_msg(written == 601 && dropped == 0, "got written %llu dropped %llu, want 601 0",
		      (unsigned long long)written, (unsigned long long)dropped);
	ck_assert_int_eq(store_audit(ctl, &f, count_row, &n, &error), 0);
	ck_assert_int_eq(n, 600);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM decisions WHERE sender = "
				 "'bad?" "?-utf8@example.org' AND program = 'policyd'"), 1);
	store_close(&ctl, 0);
	store_close(&pd, 1000);
}
END_TEST

struct columns {
	char got[512];
	int rows;
};

static int view_row(int ncols, const char *const *names, const char *const *values, void *ctx)
{
	struct columns *c = ctx;

	(void)values;
	if (c->rows++ == 0)
		for (int i = 0; i < ncols; i++)
			snprintf(c->got + strlen(c->got), sizeof c->got - strlen(c->got), "%s%s",
				 i ? "," : "", names[i]);
	return 0;
}

START_TEST(test_views)
{
	/* The audit interface of sql/README.md, column for column. */
	static const struct {
		const char *view, *columns;
	} views[] = {
		{ "active_grants", "ip,prefix_len,username,service,first_seen,last_seen,expires_at,"
				   "logins" },
		{ "grant_history", "ip,prefix_len,username,service,login_time,expires_at,source,"
				   "line,event,session" },
		{ "decisions", "ts,program,client_ip,sasl_username,sender,recipient,verdict,rule,"
			       "reason,queue_id" },
		{ "admin_log", "ts,actor,action,subject,detail" },
	};
	struct store *store = open_as("authrelayctl", NULL, 0);
	struct store_login l;
	char *error = NULL;

	login(&l, "192.0.2.77", 32, "alice", time(NULL), 600);
	apply(store, &l, 1, NULL);
	sql("INSERT INTO decision_log (ts, program, verdict) VALUES (1764000000, 'policyd', 'permit')");
	ck_assert_int_eq(store_admin_log(store, "t", "init", "", "", &error), 0);
	for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
		struct columns c = { "", 0 };
		char q[128];

		snprintf(q, sizeof q, "SELECT * FROM %s", views[i].view);
		ck_assert_int_eq(store_query(store, q, view_row, &c, &error), 0);
		ck_assert_msg(strcmp(c.got, views[i].columns) == 0, "%s: got columns %s, want %s",
			      views[i].view, c.got, views[i].columns);
	}
	ck_assert_int_eq(sql_int("SELECT count(*) FROM decisions WHERE ts = '2025-11-24T16:00:00Z'"),
			 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM active_grants WHERE expires_at ~ "
				 "'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'"), 1);
	/* store_query is read-only. */
	ck_assert_int_lt(store_query(store, "DELETE FROM decision_log", view_row, NULL, &error), 0);
	free(error);
	store_close(&store, 0);
}
END_TEST

START_TEST(test_prune)
{
	struct store *store = open_as("authrelayctl", NULL, 0);
	uint64_t deleted = 0;
	char *error = NULL;

	sql("INSERT INTO decision_log (ts, program, verdict) "
	    "SELECT g, 'policyd', 'permit' FROM generate_series(1, 2500) g");
	ck_assert_int_eq(store_prune(store, 2001, 300, "t", &deleted, &error), 0);
	ck_assert_uint_eq(deleted, 2000);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM decision_log"), 500);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM admin_log WHERE action = 'prune'"), 1);
	store_close(&store, 0);
}
END_TEST

/* ---- the server goes away and comes back ---- */

START_TEST(test_server_stopped_and_back)
{
	struct store *pd = open_as("policyd", NULL, 0);
	struct store *grace = open_as("policyd", NULL, 60000);
	struct store *ctl = open_as("authrelayctl", NULL, 0);
	struct store_decision d = { 1795698401, NULL, "192.0.2.1", "alice", "a@example.org",
				    "b@example.net", "tempfail", "store_error", "down", "" };
	struct store_login l;
	struct ipaddr ip;
	double ms;

	login(&l, "192.0.2.90", 32, "alice", time(NULL), 600);
	apply(ctl, &l, 1, NULL);
	store_close(&ctl, 0);
	ck_assert_msg(wait_lookup(pd, "192.0.2.90", LOOKUP_FOUND, 2000) >= 0, "grant not seen");
	ck_assert_msg(wait_lookup(grace, "192.0.2.90", LOOKUP_FOUND, 2000) >= 0, "grant not seen");

	ck_assert_int_eq(test_pg_script("pause"), 0);
	/* A server shut down closes the connections: noticed at once. */
	ms = wait_lookup(pd, "192.0.2.90", LOOKUP_ERROR, 5000);
	ck_assert_msg(ms >= 0, "server stopped: got no LOOKUP_ERROR within 5 s");
	ck_assert_int_eq(store_user_suspended(pd, "alice"), LOOKUP_ERROR);
	ck_assert_int_eq(store_sender_owned(pd, "alice", "alice@lab.test"), LOOKUP_ERROR);
	ck_assert_int_eq(store_cert_lookup(pd, "AB:CD", NULL), LOOKUP_ERROR);
	ck_assert_int_eq(ipaddr_parse("192.0.2.90", &ip), 0);
	ck_assert_msg(store_grant_lookup(grace, &ip, time(NULL), NULL) == LOOKUP_FOUND,
		      "database_stale_grace 60 s: got no answer from memory");
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(store_decision_queue(pd, &d), 0);
	ck_assert_int_lt(store_decision_flush(pd, 300), 0);	/* nowhere to write */

	ck_assert_int_eq(test_pg_script("resume"), 0);
	ms = wait_lookup(pd, "192.0.2.90", LOOKUP_FOUND, 15000);
	ck_assert_msg(ms >= 0, "server back: no LOOKUP_FOUND within 15 s");
	ck_assert_int_eq(store_decision_flush(pd, 10000), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM decision_log WHERE rule = 'store_error'"),
			 20);
	store_close(&grace, 1000);
	store_close(&pd, 1000);
}
END_TEST

static Suite *pgsql_suite(void)
{
	Suite *s = suite_create("store_pgsql");
	TCase *tc = tcase_create("store_pgsql");

	tcase_add_checked_fixture(tc, empty_tables, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_open_cases);
	tcase_add_test(tc, test_schema_and_server);
	tcase_add_test(tc, test_limit_rules_from_memory);
	tcase_add_test(tc, test_grant_lookups);
	tcase_add_test(tc, test_login_refresh);
	tcase_add_test(tc, test_checkpoint_with_grants);
	tcase_add_test(tc, test_login_sessions);
	tcase_add_test(tc, test_users_and_senders);
	tcase_add_test(tc, test_certs);
	tcase_add_test(tc, test_other_connection_within_a_second);
	tcase_add_test(tc, test_decisions);
	tcase_add_test(tc, test_views);
	tcase_add_test(tc, test_prune);
	tcase_add_test(tc, test_server_stopped_and_back);	/* last: restarts the server */
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed, up;

	log_set_level(LOG_LEVEL_ERROR);
	if ((up = test_pg_start("check_store_pgsql")) <= 0)
		return up == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	sr = srunner_create(pgsql_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	test_pg_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * NAME
 *	check_store_pgsql 1
 * SUMMARY
 *	what only the PostgreSQL backend does, against a live PostgreSQL 15
 * DESCRIPTION
 *	What every backend must do is check_store_contract's; here is what
 *	is PostgreSQL's own: opening (URIs, password files, schemas),
 *	the server's version, several hosts (a change made elsewhere seen
 *	within a second, checkpoints per host), text PostgreSQL refuses, and
 *	the server going away and coming back. main() starts a private
 *	server (tests/unit/common/test_pg.c, tests/pg.sh) with the schema;
 *	each test starts from empty tables.
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
#include "test_store.h"
#include "store_backend.h"
#include "store_writer.h"

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
	test_pg_sql_as(test_pg_session("authrelay_owner", test_pg.owner_passfile),
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
	test_pg_sql("INSERT INTO limit_rules (subject, kind, spec, changed) "
	    "VALUES ('@example.org', 'recipients', '50/1h', 0)");
	ms = wait_rule(pd, "alice@example.org", LOOKUP_FOUND, "50/1h", 1000);
	ck_assert_msg(ms >= 0, "domain row from another host: not seen within 1 s");
	test_pg_sql("INSERT INTO limit_rules (subject, kind, spec, changed) "
	    "VALUES ('alice@example.org', 'recipients', '5/1h', 0)");
	ms = wait_rule(pd, "alice@example.org", LOOKUP_FOUND, "5/1h", 1000);
	ck_assert_msg(ms >= 0, "user row from another host: not seen within 1 s");
	test_pg_sql("DELETE FROM limit_rules");
	ms = wait_rule(pd, "alice@example.org", LOOKUP_NOT_FOUND, NULL, 1000);
	ck_assert_msg(ms >= 0, "rows removed by another host: still seen after 1 s");
	store_close(&pd, 1000);
}
END_TEST

/* ---- grants ---- */

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
	l[0] = test_login("192.0.2.20", 32, "alice", 1000, 1800);
	test_logins_apply(store, l, 1, &cp);
	ck_assert_int_eq(store_checkpoint_get(store, cp.source, &got), LOOKUP_FOUND);
	ck_assert_msg(got.dev == cp.dev && got.ino == cp.ino && got.offset == cp.offset
			      && got.line_hash == cp.line_hash,
		      "checkpoint: got %llu %llu %llu %llx", (unsigned long long)got.dev,
		      (unsigned long long)got.ino, (unsigned long long)got.offset,
		      (unsigned long long)got.line_hash);
	ck_assert_int_eq(store_checkpoint_get(store, "/var/log/other.log", &got),
			 LOOKUP_NOT_FOUND);
	/* Keyed per host: another host's checkpoint of the same file is its own. */
	test_pg_sql("INSERT INTO loginwatch_checkpoints VALUES ('imap2.example', '/var/log/mail.log', "
	    "1, 1, 999, 1, 1)");
	ck_assert_int_eq(store_checkpoint_get(store, cp.source, &got), LOOKUP_FOUND);
	ck_assert_msg(got.offset == 123456, "got offset %llu, want this host's 123456",
		      (unsigned long long)got.offset);

	/* All or nothing: a bad login leaves grants and checkpoint as they were. */
	cp.offset = 999999;
	l[0] = test_login("192.0.2.21", 32, "bob", 2000, 1800);
	l[1] = test_login("192.0.2.22", 32, "", 2000, 1800);
	ck_assert_int_lt(store_logins_apply(store, l, 2, &cp, &error), 0);
	free(error);
	ck_assert_int_eq(store_checkpoint_get(store, cp.source, &got), LOOKUP_FOUND);
	ck_assert_uint_eq(got.offset, 123456);
	ck_assert_int_eq(test_pg_int("SELECT count(*) FROM grants WHERE ip = '192.0.2.21'"), 0);
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
	test_pg_sql("INSERT INTO users (username, suspended, changed) VALUES ('eve', 1, 0)");
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
	ck_assert_int_eq(test_pg_int("SELECT count(*) FROM decisions WHERE sender = "
				 "'bad?" "?-utf8@example.org' AND program = 'policyd'"), 1);
	store_close(&ctl, 0);
	store_close(&pd, 1000);
}
END_TEST

/* A batch sent again (the connection broke after the INSERT was sent,
   so the writer cannot know it committed) is stored once: the rows'
   identities are under a unique key. A second writer's rows with the
   same sequence numbers are other rows. */
START_TEST(test_decision_batch_idempotent)
{
	struct store *pd = open_as("policyd", NULL, 0);
	struct store_writer_row *rows[5];
	char *error = NULL;

	for (unsigned i = 0; i < 5; i++) {
		static const char text[] = "carol\0permit";

		ck_assert_ptr_nonnull(rows[i] = calloc(1, sizeof *rows[i] + sizeof text));
		rows[i]->seq = i + 1;
		rows[i]->ts = 1795698401;
		for (int f = 0; f < SW_FIELDS; f++)
			rows[i]->off[f] = STORE_WRITER_ABSENT;
		rows[i]->off[SW_SASL_USERNAME] = 0;
		rows[i]->off[SW_VERDICT] = 6;
		memcpy(rows[i]->text, text, sizeof text);
	}
	static const struct {
		const char *label;
		uint64_t writer;
		unsigned first, count;	/* rows[first..] */
		long long want_rows;
	} sends[] = {
		{ "first send", 0x8000000000000001ULL, 0, 3, 3 },
		{ "the same batch again", 0x8000000000000001ULL, 0, 3, 3 },
		{ "and once more", 0x8000000000000001ULL, 0, 3, 3 },
		{ "another writer, same sequence numbers", 42, 0, 3, 6 },
		{ "a batch of two rows there and two new", 42, 1, 4, 8 },
		{ "a new batch after it", 42, 4, 1, 8 },
	};
	for (size_t k = 0; k < sizeof sends / sizeof sends[0]; k++) {
		struct store_writer_batch b = { sends[k].writer, sends[k].count,
						rows + sends[k].first };
		int rc = pd->ops->decision_write(pd, &b, &error);
		long long got = test_pg_int("SELECT count(*) FROM decisions WHERE sasl_username = 'carol'");

		ck_assert_msg(rc == STORE_WRITE_OK && got == sends[k].want_rows,
			      "%s: got rc %d (%s), %lld rows; want 0, %lld rows", sends[k].label, rc,
			      error != NULL ? error : "-", got, sends[k].want_rows);
	}
	for (unsigned i = 0; i < 5; i++)
		free(rows[i]);
	store_close(&pd, 1000);
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

	l = test_login("192.0.2.90", 32, "alice", time(NULL), 600);
	test_logins_apply(ctl, &l, 1, NULL);
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
	ck_assert_int_eq(test_pg_int("SELECT count(*) FROM decision_log WHERE rule = 'store_error'"),
			 20);
	store_close(&grace, 1000);
	store_close(&pd, 1000);
}
END_TEST

static Suite *pgsql_suite(void)
{
	Suite *s = suite_create("store_pgsql");
	TCase *tc = tcase_create("store_pgsql");

	tcase_add_checked_fixture(tc, test_pg_empty, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_open_cases);
	tcase_add_test(tc, test_schema_and_server);
	tcase_add_test(tc, test_limit_rules_from_memory);
	tcase_add_test(tc, test_checkpoint_with_grants);
	tcase_add_test(tc, test_other_connection_within_a_second);
	tcase_add_test(tc, test_decisions);
	tcase_add_test(tc, test_decision_batch_idempotent);
	tcase_add_test(tc, test_server_stopped_and_back);	/* last: restarts the server */
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed, rc;

	log_set_level(LOG_LEVEL_ERROR);
	if ((rc = test_pg_start("check_store_pgsql")) != 0) {
		if (rc > 0)
			printf("store_pgsql: skipped: PostgreSQL 15 is not installed "
			       "(make deps installs postgresql-15)\n");
		return rc > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	sr = srunner_create(pgsql_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	test_pg_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

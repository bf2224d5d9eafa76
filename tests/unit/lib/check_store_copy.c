/*
 * NAME
 *	check_store_copy 1
 * SUMMARY
 *	unit tests: store_copy() between two real SQLite stores
 * DESCRIPTION
 *	A source with rows in every table of store_tables[] (NULLs, an
 *	IPv6 blob, text with a tab, a newline, a NUL and a byte that is not
 *	UTF-8, a checkpoint past 2^63), copied into targets prepared as the
 *	table of cases says: every table must then hold exactly the source's
 *	rows (SQL EXCEPT both ways, every column), or nothing must have
 *	changed. Also: a backend without the copy operations gives an error,
 *	not a crash, and the progress function sees every row.
 *	(PostgreSQL as the target: tests/ctl/cases_copy.sh.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"
#include "store_copy.h"
#include "test_sqlite.h"
#include "test_tmpdir.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static char source_path[160], target_path[160];

static void setup(void)
{
	const char *dir = test_tmpdir_create("check_store_copy");

	snprintf(source_path, sizeof source_path, "%s/source.db", dir);
	snprintf(target_path, sizeof target_path, "%s/target.db", dir);
}

static struct store *store_new(const char *path)
{
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 10000,
				      .program = "test" };
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(path, &opts, &store, &error) < 0)
		ck_abort_msg("store_open(%s): got error \"%s\", want success", path, error);
	return store;
}

/* Every table, with the values a copy gets wrong first. */
static const char source_rows[] =
	"INSERT INTO grants VALUES (7, 4, x'c0000207', '192.0.2.7', 32, 'alice', 'imap', 100, "
	"  200, 300, 2);"
	"INSERT INTO grants VALUES (9, 6, x'20010db8000100000000000000000000', '2001:db8:1::', "
	"  64, 'bob', 'manual', 100, 100, 400, 1);"
	"INSERT INTO grant_log VALUES (3, 'login', '192.0.2.7', 32, 'alice', 'imap', 100, 300, "
	"  '/var/log/mail.log', 'Login: user=<alice>' || char(9) || 'tab' || char(10) || 'nl', 'S1');"
	"INSERT INTO grant_log VALUES (4, 'revoke', '192.0.2.7', 32, '', '', 150, NULL, 'root', "
	"  NULL, NULL);"
	"INSERT INTO users VALUES ('mallory', 1, 100);"
	"INSERT INTO users VALUES ('alice', 0, 100);"
	"INSERT INTO sender_rights VALUES ('alice', '@example.org', 100);"
	"INSERT INTO sender_rights VALUES ('alice', '*', 101);"
	"INSERT INTO certs VALUES ('AB:CD', 'EF:01', 'alice', '', NULL, 100);"
	"INSERT INTO limit_rules VALUES ('@example.org', 'recipients', '50/1h', 100);"
	"INSERT INTO limit_counts VALUES ('alice', 'recipients', 3600, 225, 4, 50);"
	"INSERT INTO limit_refusals VALUES (5, 100, 'alice', 'recipients', 3600, 1);"
	"INSERT INTO loginwatch_checkpoints VALUES ('/var/log/mail.log', -1, 42, 9000, "
	"  -9223372036854775808, 100);"
	"INSERT INTO decision_log VALUES (11, 100, 'policyd', '192.0.2.7', NULL, 'a@b', 'c@d', "
	"  'permit', 'grant', NULL, 'Q1');"
	"INSERT INTO decision_log VALUES (12, 101, 'milter', NULL, 'zo' || x'eb', "
	"  CAST('nul' || x'00' || 'inside' AS TEXT), NULL, 'reject', NULL, "
	"  'back\\slash ''quote''', NULL);"
	"INSERT INTO admin_actions VALUES (20, 100, 'root', 'grant add', '192.0.2.7', '');"
	"INSERT INTO admin_actions VALUES (21, 101, 'root (sudo: alice)', 'user suspend', "
	"  'mallory', '');";

/* A target prepared by setup_sql, copied into with replace: the result
   and what the target must hold afterwards. */
static const struct {
	const char *label;
	const char *setup_sql;		/* run on the fresh target */
	bool replace;
	int want_rc;
	bool want_refused;
	uint64_t want_kept;		/* admin_actions rows kept from the target */
	uint64_t want_replaced;
} cases[] = {
	{"an empty target gets every row", "", false, 0, false, 0, 0},
	{"a target holding only its admin log (init) keeps it, after the copied rows",
	 "INSERT INTO admin_actions (ts, actor, action, subject, detail) "
	 "VALUES (500, 'root', 'init', 'target', 'created')",
	 false, 0, false, 1, 0},
	{"a target with a grant is refused and left as it was",
	 "INSERT INTO grants VALUES (1, 4, x'c6336401', '198.51.100.1', 32, 'x', 'pop3', 1, 1, "
	 "  999, 1)",
	 false, -1, true, 0, 0},
	{"a target with only a checkpoint is refused",
	 "INSERT INTO loginwatch_checkpoints VALUES ('/x', 1, 2, 3, 4, 5)", false, -1, true, 0, 0},
	{"replace on a target holding only its admin log deletes that too",
	 "INSERT INTO admin_actions VALUES (20, 500, 'root', 'init', 't', '')", true, 0, false, 0,
	 1},
	{"replace deletes the target's rows first, its admin log included",
	 "INSERT INTO grants VALUES (1, 4, x'c6336401', '198.51.100.1', 32, 'x', 'pop3', 1, 1, "
	 "  999, 1); INSERT INTO admin_actions VALUES (1, 500, 'root', 'init', 't', '')",
	 true, 0, false, 0, 2},
};

/* differing_rows - rows of one database's table not in the other's, both ways */
static long long differing_rows(sqlite3 *db, const char *table, const char *where)
{
	char sql[512];

	snprintf(sql, sizeof sql,
		 "SELECT (SELECT count(*) FROM (SELECT * FROM main.%s %s EXCEPT "
		 "SELECT * FROM src.%s)) + (SELECT count(*) FROM (SELECT * FROM src.%s EXCEPT "
		 "SELECT * FROM main.%s %s))",
		 table, where, table, table, table, where);
	return test_sqlite_int(db, sql);
}

static uint64_t progress_done, progress_total;

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	ck_assert_msg(done >= progress_done, "progress went back: got %llu after %llu",
		      (unsigned long long)done, (unsigned long long)progress_done);
	progress_done = done;
	progress_total = total;
}

START_TEST(test_cases)
{
	struct store *source, *target;
	struct store_copy_result r;
	struct store_copy_options opts = { .actor = "test", .source_name = "source.db",
					   .progress = progress };
	sqlite3 *db;
	char *error = NULL, attach[256];
	long long before_grants, max_id;
	int rc;

	source = store_new(source_path);
	db = test_sqlite_open(source_path, 5000);
	test_sqlite_exec(db, source_rows);
	sqlite3_close(db);
	target = store_new(target_path);
	db = test_sqlite_open(target_path, 5000);
	test_sqlite_exec(db, cases[_i].setup_sql);
	before_grants = test_sqlite_int(db, "SELECT count(*) FROM grants");

	opts.replace = cases[_i].replace;
	progress_done = progress_total = 0;
	rc = store_copy(source, target, &opts, &r, &error);
	ck_assert_msg(rc == cases[_i].want_rc, "%s: store_copy got %d (%s), want %d",
		      cases[_i].label, rc, error ? error : "no error", cases[_i].want_rc);
	ck_assert_msg(r.refused == cases[_i].want_refused, "%s: refused got %d, want %d",
		      cases[_i].label, r.refused, cases[_i].want_refused);
	snprintf(attach, sizeof attach, "ATTACH DATABASE '%s' AS src", source_path);
	test_sqlite_exec(db, attach);
	if (rc != 0) {
		ck_assert_msg(error != NULL && *error != '\0', "%s: no message", cases[_i].label);
		ck_assert_msg(test_sqlite_int(db, "SELECT count(*) FROM grants") == before_grants
				      && test_sqlite_int(db, "SELECT count(*) FROM decision_log") == 0,
			      "%s: the target changed", cases[_i].label);
	} else {
		for (unsigned t = 0; t < store_tables_count; t++) {
			const char *name = store_tables[t].name;
			long long n = differing_rows(db, name, store_tables[t].keep_target
							       ? "WHERE id <= 21" : "");

			ck_assert_msg(n == 0, "%s: table %s: got %lld rows that differ, want 0",
				      cases[_i].label, name, n);
		}
		ck_assert_msg(r.rows == progress_total && progress_done == progress_total,
			      "%s: progress got %llu of %llu, want %llu of %llu", cases[_i].label,
			      (unsigned long long)progress_done, (unsigned long long)progress_total,
			      (unsigned long long)r.rows, (unsigned long long)r.rows);
		ck_assert_msg(r.replaced == cases[_i].want_replaced, "%s: replaced got %llu, want %llu",
			      cases[_i].label, (unsigned long long)r.replaced,
			      (unsigned long long)cases[_i].want_replaced);
		/* The admin log: the source's rows, the kept ones, then copy. */
		max_id = test_sqlite_int(db, "SELECT max(id) FROM admin_actions");
		ck_assert_msg(test_sqlite_int(db, "SELECT count(*) FROM admin_actions WHERE id > 21 "
					      "AND action = 'init'") == (long long)cases[_i].want_kept,
			      "%s: kept init rows after the copied ones: got %lld, want %llu",
			      cases[_i].label,
			      test_sqlite_int(db, "SELECT count(*) FROM admin_actions WHERE id > 21 "
					      "AND action = 'init'"),
			      (unsigned long long)cases[_i].want_kept);
		ck_assert_msg(test_sqlite_int(db, "SELECT count(*) FROM admin_actions WHERE "
					      "action = 'copy' AND actor = 'test' AND id = "
					      "(SELECT max(id) FROM admin_actions)") == 1,
			      "%s: the last admin row (id %lld) is not copy's", cases[_i].label, max_id);
	}
	free(error);
	sqlite3_close(db);
	store_close(&target, 0);
	store_close(&source, 0);
}
END_TEST

/* A backend without the copy operations: every entry point errs. */
START_TEST(test_missing_ops)
{
	static const struct store_ops bare = { .name = "bare" };
	struct store fake = { .ops = &bare };
	struct store_value v = { 0 };
	uint64_t count = 1;
	char *error = NULL;

	ck_assert_int_eq(store_copy_begin(&fake, true, &error), -1);
	ck_assert_msg(error != NULL && strstr(error, "bare backend cannot copy") != NULL,
		      "got \"%s\", want \"the bare backend cannot copy tables\"", error);
	free(error);
	ck_assert_int_eq(store_table_count(&fake, &store_tables[0], &count, NULL), LOOKUP_ERROR);
	ck_assert_int_eq(store_table_dump(&fake, &store_tables[0], NULL, NULL, NULL), -1);
	ck_assert_int_eq(store_table_clear(&fake, &store_tables[0], NULL), -1);
	ck_assert_int_eq(store_table_load(&fake, &store_tables[0], &v, 1, NULL), -1);
	ck_assert_int_eq(store_copy_end(&fake, NULL, NULL), -1);
	ck_assert_int_eq(store_copy_begin(NULL, false, NULL), -1);
}
END_TEST

/* The table list: each table's order key and id are its own columns. */
START_TEST(test_table_list)
{
	for (unsigned i = 0; i < store_tables_count; i++) {
		const struct store_table *t = &store_tables[i];

		ck_assert_msg(store_table_find(t->name) == t, "%s: not found by name", t->name);
		ck_assert_msg(t->ncolumns <= STORE_TABLE_COLUMNS_MAX, "%s: too many columns", t->name);
		ck_assert_msg(t->order[0] != NULL, "%s: no order key", t->name);
		for (unsigned k = 0; t->order[k] != NULL; k++)
			ck_assert_msg(store_table_column(t, t->order[k]) >= 0,
				      "%s: order column %s is not a column", t->name, t->order[k]);
		ck_assert_msg(t->id == NULL || store_table_column(t, t->id) >= 0,
			      "%s: id %s is not a column", t->name, t->id);
	}
	ck_assert_ptr_null(store_table_find("schema_version"));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("store_copy");
	TCase *tc = tcase_create("copy");

	tcase_add_checked_fixture(tc, setup, test_tmpdir_remove);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_cases, 0, N(cases));
	tcase_add_test(tc, test_missing_ops);
	tcase_add_test(tc, test_table_list);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

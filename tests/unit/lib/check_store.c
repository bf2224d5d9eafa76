/*
 * NAME
 *	check_store 1
 * SUMMARY
 *	what only the SQLite backend does: its file, migrations, snapshots
 * DESCRIPTION
 *	What every backend must do is check_store_contract's (run on SQLite
 *	too); here is what is SQLite's own: creating, recognising and
 *	migrating the file, refusing foreign, newer, missing or writable
 *	ones, a file removed or replaced while open, read snapshots, a
 *	transaction rolled back by the engine, SQLite's messages for raw
 *	SQL. Each test works on a fresh database in its own temporary
 *	directory. A second, raw sqlite3 handle plays "another program" or
 *	the admin's sqlite3 shell: it inspects what the store wrote, plants
 *	foreign or too-new files, and breaks things on purpose. Decision
 *	queue, lock and concurrency tests are in check_store_writer.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ipaddr.h"
#include "log.h"
#include "store.h"
#include "limit_spec.h"
#include "store_sqlite.h"
#include "test_sqlite.h"
#include "test_store.h"
#include "test_tmpdir.h"

static const char *dir;
static char path[160];

static void setup(void)
{
	dir = test_tmpdir_create("check_store");
	snprintf(path, sizeof path, "%s/authrelay.db", dir);
}

/* open_queue - store_open must succeed; queue: its decision writer's
   queue (0: none) */
static struct store *open_queue(enum store_open_mode mode, unsigned queue)
{
	struct store_options opts = { .mode = mode, .busy_timeout_ms = 2000,
				     .decision_queue_max = queue, .program = "test" };
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(path, &opts, &store, &error) < 0)
		ck_abort_msg("store_open(%s): got error \"%s\", want success", path, error);
	ck_assert_ptr_nonnull(store);
	return store;
}

static struct store *open_ok(enum store_open_mode mode)
{
	return open_queue(mode, 0);
}

/* open_err - store_open must fail with a message containing want */
static void open_err(enum store_open_mode mode, const char *want)
{
	struct store_options opts = { .mode = mode, .busy_timeout_ms = 500,
				     .decision_queue_max = 0, .program = "test" };
	struct store *store = NULL;
	char *error = NULL;

	ck_assert_msg(store_open(path, &opts, &store, &error) < 0,
		      "store_open(%s): got success, want error containing \"%s\"", path, want);
	ck_assert_ptr_null(store);
	ck_assert_msg(error != NULL && strstr(error, want) != NULL,
		      "store_open: got error \"%s\", want one containing \"%s\"",
		      error ? error : "(null)", want);
	free(error);
}

static long long count_rows(const char *sql)
{
	sqlite3 *db = test_sqlite_open(path, 2000);
	long long n = test_sqlite_int(db, sql);

	sqlite3_close(db);
	return n;
}

/* ---- open and migrate ---- */

START_TEST(test_create_migrates)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct stat sb;
	sqlite3 *db;
	int version = -1;

	ck_assert_int_eq(store_schema_version(store, &version), 0);
	ck_assert_msg(version == store_schema_latest(path) && version >= 1,
		      "schema version: got %d, want %d", version, store_schema_latest(path));
	store_close(&store, 1000);
	ck_assert_ptr_null(store);

	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_msg((sb.st_mode & 0777) == 0640, "mode: got %o, want 640", sb.st_mode & 0777);
	db = test_sqlite_open(path, 2000);
	ck_assert_int_eq(test_sqlite_int(db, "PRAGMA application_id"), 0x41524c59);
	ck_assert_int_eq(test_sqlite_int(db, "PRAGMA user_version"), store_schema_latest(path));
	ck_assert_int_eq(
	    test_sqlite_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND "
				"name IN ('active_grants', 'grant_history', 'decisions', "
				"'admin_log')"),
	    4);
	sqlite3_close(db);
	/* WAL is a property of the file: a new handle reports it. */
	db = test_sqlite_open(path, 2000);
	{
		sqlite3_stmt *stmt;

		sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL);
		ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 0), "wal");
		sqlite3_finalize(stmt);
	}
	sqlite3_close(db);
}
END_TEST

START_TEST(test_reopen_idempotent)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	long long objects;
	int version;

	store_close(&store, 1000);
	objects = count_rows("SELECT count(*) FROM sqlite_schema");
	for (int i = 0; i < 3; i++) {
		store = open_ok(i == 0 ? STORE_OPEN_CREATE : STORE_OPEN_EXISTING);
		ck_assert_int_eq(store_schema_version(store, &version), 0);
		ck_assert_int_eq(version, store_schema_latest(path));
		store_close(&store, 1000);
	}
	ck_assert_int_eq(count_rows("SELECT count(*) FROM sqlite_schema"), objects);
}
END_TEST

START_TEST(test_foreign_sqlite_refused)
{
	sqlite3 *db = test_sqlite_open(path, 2000);

	test_sqlite_exec(db, "CREATE TABLE accounts (id INTEGER); INSERT INTO accounts VALUES (7)");
	sqlite3_close(db);
	open_err(STORE_OPEN_EXISTING, "not an authrelay database");
	open_err(STORE_OPEN_CREATE, "not an authrelay database");
	/* Left exactly alone: still a rollback-journal file with its data. */
	db = test_sqlite_open(path, 2000);
	ck_assert_int_eq(test_sqlite_int(db, "SELECT id FROM accounts"), 7);
	ck_assert_int_eq(test_sqlite_int(db, "SELECT count(*) FROM sqlite_schema"), 1);
	ck_assert_int_eq(test_sqlite_int(db, "PRAGMA application_id"), 0);
	sqlite3_close(db);
}
END_TEST

START_TEST(test_other_application_id_refused)
{
	sqlite3 *db = test_sqlite_open(path, 2000);

	test_sqlite_exec(db, "PRAGMA application_id = 1234");
	sqlite3_close(db);
	open_err(STORE_OPEN_CREATE, "not an authrelay database");
}
END_TEST

START_TEST(test_not_a_database_refused)
{
	static const char junk[] = "this is a mail log, not a database\n";
	char back[sizeof junk];
	FILE *fp = fopen(path, "w");

	for (int i = 0; i < 200; i++)
		fputs(junk, fp);
	fclose(fp);
	open_err(STORE_OPEN_EXISTING, "not an SQLite database");
	open_err(STORE_OPEN_CREATE, "not an SQLite database");
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(back, sizeof back, fp));
	fclose(fp);
	ck_assert_str_eq(back, junk);
}
END_TEST

START_TEST(test_newer_schema_refused)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	char sql[64];
	sqlite3 *db;

	store_close(&store, 1000);
	db = test_sqlite_open(path, 2000);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_latest(path) + 1);
	test_sqlite_exec(db, sql);
	sqlite3_close(db);
	open_err(STORE_OPEN_EXISTING, "newer than this build");
	open_err(STORE_OPEN_CREATE, "newer than this build");
}
END_TEST

START_TEST(test_missing_existing_refused)
{
	struct stat sb;

	open_err(STORE_OPEN_EXISTING, "authrelayctl init");
	open_err(STORE_OPEN_EXISTING, path);
	ck_assert_msg(stat(path, &sb) < 0, "the missing database was created");
}
END_TEST

START_TEST(test_empty_existing_refused)
{
	fclose(fopen(path, "w"));
	open_err(STORE_OPEN_EXISTING, "authrelayctl init");
}
END_TEST

/* Who may write the database: { label, directory mode, file, its mode,
   want } where file is "" (the database), "-wal" or "-shm" (planted), and
   want NULL means it opens. */
static const struct {
	const char *label;
	mode_t dir_mode;
	const char *file;
	mode_t file_mode;
	const char *want;
} writable_cases[] = {
	{ "0640 in 0700", 0700, "", 0640, NULL },
	{ "0660 in 0770", 0770, "", 0660, NULL },
	{ "world-readable file", 0755, "", 0644, NULL },
	{ "world-writable file", 0700, "", 0666, "authrelay.db is world-writable" },
	{ "world-writable -wal planted", 0700, "-wal", 0666, "authrelay.db-wal is world-writable" },
	{ "world-writable -shm planted", 0700, "-shm", 0602, "authrelay.db-shm is world-writable" },
	{ "directory 0777", 0777, "", 0640, "is world-writable: any local user could replace" },
	{ "directory 1777 (sticky does not help)", 01777, "", 0640, "is world-writable" },
	{ "directory 0703", 0703, "", 0640, "is world-writable" },
};

START_TEST(test_writable_refused)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	char file[192];
	struct stat before, after;

	store_close(&store, 1000);
	snprintf(file, sizeof file, "%s%s", path, writable_cases[_i].file);
	if (writable_cases[_i].file[0] != 0)
		fclose(fopen(file, "w"));
	ck_assert_int_eq(chmod(file, writable_cases[_i].file_mode), 0);
	ck_assert_int_eq(chmod(dir, writable_cases[_i].dir_mode), 0);
	ck_assert_int_eq(stat(path, &before), 0);
	if (writable_cases[_i].want == NULL) {
		store = open_ok(STORE_OPEN_EXISTING);
		store_close(&store, 1000);
	} else {
		/* Refused in both modes, before the file is opened: it is
		   not even read (atime aside, nothing about it changes). */
		open_err(STORE_OPEN_EXISTING, writable_cases[_i].want);
		open_err(STORE_OPEN_CREATE, writable_cases[_i].want);
		ck_assert_int_eq(stat(path, &after), 0);
		ck_assert_msg(after.st_size == before.st_size && after.st_mtime == before.st_mtime
			      && after.st_ino == before.st_ino, "%s: the database changed",
			      writable_cases[_i].label);
	}
	chmod(dir, 0700);
}
END_TEST

START_TEST(test_writable_dir_not_created)
{
	ck_assert_int_eq(chmod(dir, 0777), 0);
	open_err(STORE_OPEN_CREATE, "directory");
	ck_assert_msg(access(path, F_OK) != 0, "%s was created in a world-writable directory",
		      path);
	chmod(dir, 0700);
}
END_TEST

START_TEST(test_locations)
{
	static const struct {
		const char *label, *location, *want;
	} cases[] = {
		/* PostgreSQL locations reach libpq: nothing listens on port 1. */
		{ "postgresql URL", "postgresql://x@127.0.0.1:1/authrelay",
		  "cannot connect to PostgreSQL" },
		{ "postgres URL", "postgres://x@127.0.0.1:1/authrelay", "cannot connect to PostgreSQL" },
		{ "libpq keywords", "host=127.0.0.1 port=1 dbname=authrelay",
		  "cannot connect to PostgreSQL" },
		{ "unknown scheme", "mysql://db.example/x", "unknown backend" },
		{ "empty", "", "no database location" },
	};
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 100,
				     .decision_queue_max = 0, .program = "test" };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct store *store = NULL;
		char *error = NULL;

		ck_assert_msg(store_open(cases[i].location, &opts, &store, &error) < 0,
			      "%s: got success, want error", cases[i].label);
		ck_assert_msg(error && strstr(error, cases[i].want), "%s: got \"%s\", want \"%s\"",
			      cases[i].label, error, cases[i].want);
		free(error);
	}
}
END_TEST

/* ---- the file under the store ---- */

/* The file removed, or replaced by another (a restore with mv): the
   open descriptor would still answer from the old inode, so every lookup
   is an error instead, from STORE_FILE_CHECK_MS after the change on, and
   stays one. */
START_TEST(test_file_moved)
{
	static const char *const how[] = { "removed", "replaced" };
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct store_login l = test_login("192.0.2.77", 32, "mover", 1000, 100000);
	struct ipaddr ip;
	char cmd[1024];

	test_logins_apply(store, &l, 1, NULL);
	ck_assert_int_eq(ipaddr_parse("192.0.2.77", &ip), 0);
	ck_assert_int_eq(store_grant_lookup(store, &ip, 2000, NULL), LOOKUP_FOUND);
	ck_assert_int_eq(store_user_suspended(store, "mover"), LOOKUP_NOT_FOUND);
	if (_i == 0)
		snprintf(cmd, sizeof cmd, "rm -f %s %s-wal %s-shm", path, path, path);
	else
		snprintf(cmd, sizeof cmd, "cp %s %s.new && mv %s.new %s", path, path, path, path);
	ck_assert_int_eq(system(cmd), 0);
	/* The file is checked at most every STORE_FILE_CHECK_MS (store.h). */
	usleep((STORE_FILE_CHECK_MS + 2) * 1000);
	for (int k = 0; k < 2; k++) {
		/* The second round in a read snapshot: none is opened on a
		   moved file, and the lookups still fail. */
		if (k == 1)
			ck_assert_msg(store_read_begin(store) == -1,
				      "%s: store_read_begin: got 0, want -1", how[_i]);
		ck_assert_msg(store_grant_lookup(store, &ip, 2000, NULL) == LOOKUP_ERROR,
			      "%s: grant lookup: got an answer, want LOOKUP_ERROR", how[_i]);
		ck_assert_msg(store_user_suspended(store, "mover") == LOOKUP_ERROR,
			      "%s: user lookup: got an answer, want LOOKUP_ERROR", how[_i]);
		ck_assert_msg(store_sender_owned(store, "mover", "a@b.example") == LOOKUP_ERROR,
			      "%s: sender lookup: got an answer, want LOOKUP_ERROR", how[_i]);
		ck_assert_msg(store_cert_lookup(store, "AB:CD", NULL) == LOOKUP_ERROR,
			      "%s: certificate lookup: got an answer, want LOOKUP_ERROR", how[_i]);
		store_read_end(store);
	}
	store_close(&store, 1000);
}
END_TEST

/* store_read_begin/end: lookups inside share one read transaction; a
   grant and a suspension written meanwhile by another connection (as
   loginwatch and authrelayctl do) are not seen until store_read_end(),
   then are; a write through the snapshot's own store ends it first. */
START_TEST(test_read_snapshot)
{
	struct store *policyd = open_ok(STORE_OPEN_CREATE);
	struct store *other = open_ok(STORE_OPEN_EXISTING);
	struct store_login l = test_login("192.0.2.50", 32, "eve", 1000, 100000);
	struct ipaddr client = test_ip("192.0.2.50"), client2 = test_ip("192.0.2.51");
	struct store_grant manual;
	char *error = NULL;
	static const struct {
		const char *label;
		bool in_snapshot;
		enum lookup_result grant, suspended;
	} want[] = {
		{ "before the writes", true, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND },
		{ "written during the snapshot", true, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND },
		{ "after store_read_end", false, LOOKUP_FOUND, LOOKUP_FOUND },
		{ "next snapshot", true, LOOKUP_FOUND, LOOKUP_FOUND },
	};

	ck_assert_int_eq(store_read_begin(NULL), -1);
	store_read_end(NULL);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		enum lookup_result g, u;

		if (want[i].in_snapshot && i != 1)
			ck_assert_msg(store_read_begin(policyd) == 0,
				      "%s: store_read_begin: got -1, want 0", want[i].label);
		if (i == 1) {
			test_logins_apply(other, &l, 1, NULL);
			ck_assert_int_eq(store_user_set_suspended(other, "eve", true, "test", &error),
					 0);
		}
		g = store_grant_lookup(policyd, &client, 2000, NULL);
		u = store_user_suspended(policyd, "eve");
		ck_assert_msg(g == want[i].grant && u == want[i].suspended,
			      "%s: grant got %d, want %d; suspended got %d, want %d",
			      want[i].label, g, want[i].grant, u, want[i].suspended);
		if (i == 1)
			store_read_end(policyd);
	}
	/* A write through the same store inside a snapshot: done, and seen. */
	memset(&manual, 0, sizeof manual);
	manual.net = client2;
	manual.prefix_len = 32;
	snprintf(manual.username, sizeof manual.username, "frank");
	manual.first_seen = 1000;
	manual.expires_at = 100000;
	ck_assert_msg(store_grant_add(policyd, &manual, "test", &error) == 0,
		      "grant add in a snapshot: got \"%s\", want success", error);
	ck_assert_int_eq(store_grant_lookup(policyd, &client2, 2000, NULL), LOOKUP_FOUND);
	store_read_end(policyd);
	ck_assert_int_eq(store_grant_lookup(other, &client2, 2000, NULL), LOOKUP_FOUND);
	store_close(&other, 1000);
	store_close(&policyd, 1000);
}
END_TEST

/* Inside snapshots a grant lookup remembers the prefix lengths in use
   (with the database's data version): each step below writes through a
   second connection, as loginwatch and authrelayctl do, between two
   snapshots of the first, and the next snapshot must see it at once -
   a new prefix length, a second family, a revoke, an expiry - while a
   lookup inside the same snapshot keeps the snapshot's view. */
START_TEST(test_snapshot_prefix_cache)
{
	struct store *policyd = open_ok(STORE_OPEN_CREATE);
	struct store *other = open_ok(STORE_OPEN_EXISTING);
	struct ipaddr c4 = test_ip("198.51.100.77"), c6 = test_ip("2001:db8:5::9"), c4b = test_ip("203.0.113.9");
	static const struct {
		const char *label;
		const char *grant;	/* written before the snapshot; NULL: none */
		unsigned prefix;
		const char *revoke;	/* revoked before the snapshot; NULL: none */
		int64_t now;
		enum lookup_result want4, want6;
	} steps[] = {
		{ "no grants", NULL, 0, NULL, 2000, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND },
		{ "a /32 elsewhere", "198.51.100.1", 32, NULL, 2000, LOOKUP_NOT_FOUND,
		  LOOKUP_NOT_FOUND },
		{ "a /24 covering the client: a new length", "198.51.100.0", 24, NULL, 2000,
		  LOOKUP_FOUND, LOOKUP_NOT_FOUND },
		{ "an IPv6 /48: the other family", "2001:db8:5::", 48, NULL, 2000, LOOKUP_FOUND,
		  LOOKUP_FOUND },
		{ "the /24 revoked", NULL, 0, "198.51.100.0", 2000, LOOKUP_NOT_FOUND,
		  LOOKUP_FOUND },
		{ "the /48 expired (it lives 1800 s)", NULL, 0, NULL, 5000, LOOKUP_NOT_FOUND,
		  LOOKUP_NOT_FOUND },
		{ "a /16 after the expiry", "198.51.0.0", 16, NULL, 5000, LOOKUP_FOUND,
		  LOOKUP_NOT_FOUND },
	};
	char *error = NULL;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		enum lookup_result g4, g6, again;
		int64_t t = steps[i].now - 1000;

		if (steps[i].grant != NULL) {
			struct store_login l = test_login(steps[i].grant, steps[i].prefix, "eve", t, 1800);

			test_logins_apply(other, &l, 1, NULL);
		}
		if (steps[i].revoke != NULL) {
			struct ipaddr r = test_ip(steps[i].revoke);
			unsigned removed = 0;

			ck_assert_msg(store_grant_revoke(other, &r, "test", &removed, &error) == 0,
				      "%s: revoke: %s", steps[i].label, error);
		}
		ck_assert_int_eq(store_read_begin(policyd), 0);
		g4 = store_grant_lookup(policyd, &c4, steps[i].now, NULL);
		g6 = store_grant_lookup(policyd, &c6, steps[i].now, NULL);
		/* A grant of a new length for another client, written now, is
		   not seen in this snapshot, whatever the lookup remembers;
		   it is seen once the snapshot ends. */
		{
			struct store_login l = test_login("203.0.113.8", 31, "late", t, 1800);

			test_logins_apply(other, &l, 1, NULL);
			again = store_grant_lookup(policyd, &c4b, steps[i].now, NULL);
		}
		store_read_end(policyd);
		ck_assert_msg(g4 == steps[i].want4 && g6 == steps[i].want6 && again == LOOKUP_NOT_FOUND,
			      "%s: IPv4 got %d, want %d; IPv6 got %d, want %d; a grant written "
			      "during the snapshot got %d, want %d", steps[i].label, g4, steps[i].want4,
			      g6, steps[i].want6, again, LOOKUP_NOT_FOUND);
		ck_assert_int_eq(store_read_begin(policyd), 0);
		again = store_grant_lookup(policyd, &c4b, steps[i].now, NULL);
		store_read_end(policyd);
		ck_assert_msg(again == LOOKUP_FOUND, "%s: the late grant in the next snapshot: got %d, "
			      "want %d", steps[i].label, again, LOOKUP_FOUND);
		ck_assert_int_eq(store_grant_revoke(other, &c4b, "test", NULL, &error), 0);
		/* And outside any snapshot, the same answers. */
		ck_assert_int_eq(store_grant_lookup(policyd, &c4, steps[i].now, NULL),
				 steps[i].want4);
	}
	store_close(&other, 1000);
	store_close(&policyd, 1000);
}
END_TEST

START_TEST(test_logins_rollback)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct store_checkpoint cp, got;
	struct store_login l[2];
	char *error = NULL;
	sqlite3 *db;

	memset(&cp, 0, sizeof cp);
	snprintf(cp.source, sizeof cp.source, "/var/log/mail.log");
	cp.dev = 0xfd01;
	cp.ino = 1234567;
	cp.offset = 100;
	cp.line_hash = 0xfedcba9876543210ULL;	/* above INT64_MAX: kept bit for bit */
	cp.updated = 1000;
	l[0] = test_login("192.0.2.1", 32, "alice", 1000, 1800);
	test_logins_apply(store, l, 1, &cp);

	/* Another program's trigger makes the second row fail inside the
	   transaction, after the first row was written. */
	db = test_sqlite_open(path, 2000);
	test_sqlite_exec(
	    db, "CREATE TRIGGER boom BEFORE INSERT ON grant_log WHEN NEW.username = 'boom' "
		"BEGIN SELECT RAISE(ABORT, 'boom'); END");
	sqlite3_close(db);
	l[0] = test_login("192.0.2.2", 32, "alice", 1100, 1800);
	l[1] = test_login("192.0.2.3", 32, "boom", 1100, 1800);
	cp.offset = 200;
	ck_assert_msg(store_logins_apply(store, l, 2, &cp, &error) < 0,
		      "logins_apply: got success, want the trigger's error");
	ck_assert_msg(error && strstr(error, "boom"), "error: got \"%s\", want \"boom\"", error);
	free(error);

	ck_assert_int_eq(store_checkpoint_get(store, "/var/log/mail.log", &got), LOOKUP_FOUND);
	ck_assert_msg(got.offset == 100, "checkpoint offset: got %llu, want 100",
		      (unsigned long long)got.offset);
	ck_assert(got.dev == 0xfd01 && got.ino == 1234567 && got.updated == 1000);
	ck_assert(got.line_hash == 0xfedcba9876543210ULL);
	{
		struct ipaddr a = test_ip("192.0.2.2");

		ck_assert_int_eq(store_grant_lookup(store, &a, 1200, NULL), LOOKUP_NOT_FOUND);
	}
	ck_assert_int_eq(store_checkpoint_get(store, "/var/log/other.log", &got),
			 LOOKUP_NOT_FOUND);
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grant_log"), 1);
}
END_TEST

/* ---- SQLite's answers to raw SQL ---- */


START_TEST(test_query_read_only)
{
	static const struct {
		const char *label, *sql, *want;
	} cases[] = {
		{ "write", "DELETE FROM decision_log", "read-only" },
		{ "two statements", "SELECT 1; DELETE FROM decision_log", "one SQL statement" },
		{ "syntax", "SELEC 1", "syntax error" },
		{ "empty", "  ", "no SQL statement" },
	};
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct test_rows r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *error = NULL;

		memset(&r, 0, sizeof r);
		ck_assert_msg(store_query(store, cases[i].sql, test_rows_collect, &r, &error) < 0,
			      "%s: got success, want error", cases[i].label);
		ck_assert_msg(error && strstr(error, cases[i].want), "%s: got \"%s\", want \"%s\"",
			      cases[i].label, error, cases[i].want);
		free(error);
	}
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(store_query(store, "SELECT 1 AS one;", test_rows_collect, &r, NULL), 0);
	ck_assert_str_eq(r.text, "one=1;");
	store_close(&store, 1000);
}
END_TEST

/* ---- answers from memory (store_sqlite_memo.c) ---- */

/* Changes made between the steps of test_memo: by another program
   ("other": loginwatch, authrelayctl) or through the store itself. */
static void memo_grant(struct store *st)
{
	struct store_login l = test_login("192.0.2.90", 32, "gina", 1000, 1000);

	test_logins_apply(st, &l, 1, NULL);
}

static void memo_suspend(struct store *st)
{
	char *error = NULL;

	ck_assert_int_eq(store_user_set_suspended(st, "gina", true, "test", &error), 0);
}

static void memo_sender(struct store *st)
{
	char *error = NULL;

	ck_assert_int_eq(store_sender_allow(st, "gina", "gina@lab.example", "test", &error), 0);
}

static void memo_cert(struct store *st)
{
	struct store_cert c;
	char *error = NULL;

	memset(&c, 0, sizeof c);
	snprintf(c.username, sizeof c.username, "gina");
	snprintf(c.fingerprint, sizeof c.fingerprint, "AB:CD:EF");
	ck_assert_msg(store_cert_add(st, &c, "test", &error) == 0, "cert add: %s", error);
}

static void memo_limit(struct store *st)
{
	struct limit_spec spec;
	char *error = NULL;

	ck_assert_int_eq(limit_spec_parse("5/1h", &spec, &error), 0);
	ck_assert_int_eq(store_limit_set(st, "gina", STORE_LIMIT_MESSAGES, &spec, "test", &error),
			 0);
}

static void memo_revoke(struct store *st)
{
	struct ipaddr a = test_ip("192.0.2.90");
	char *error = NULL;

	ck_assert_int_eq(store_grant_revoke(st, &a, "test", NULL, &error), 0);
}

/* The other store of test_memo (another program), for the changes that
   mix its commits with the store's own. */
static struct store *memo_other;

/* Decision rows, written by the store's own writer (another connection
   for SQLite): they change no answer. */
static void memo_rows(struct store *st)
{
	struct store_decision d = { 1500, NULL, "192.0.2.90", "gina", NULL, NULL, "permit",
				    "grant", NULL, NULL };

	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(store_decision_queue(st, &d), 0);
	ck_assert_int_eq(store_decision_flush(st, 5000), 0);
}

/* A message counted in an event loop's batch (its own write transaction
   on the main connection). */
static void memo_charge(struct store *st)
{
	struct limit_spec spec;
	struct store_limit_charge c = { "gina", { NULL, &spec }, { 0, 1 }, true };
	struct store_limit_state state;
	char *error = NULL;

	ck_assert_int_eq(limit_spec_parse("5/1h", &spec, &error), 0);
	ck_assert_int_eq(store_read_begin(st), 0);
	ck_assert_msg(store_limit_charge(st, &c, &state, &error) == 0, "charge: %s", error);
	store_read_end(st);
}

/* Another program's change, then the store's own rows: the own commit
   after it must not hide it. */
static void memo_revoke_rows(struct store *st)
{
	memo_revoke(memo_other);
	memo_rows(st);
}

/* The store's own rows, then another program's change. */
static void memo_rows_grant(struct store *st)
{
	memo_rows(st);
	memo_grant(memo_other);
}

/* The lookups are answered from memory while nothing was written, and
   every change is seen by the next lookup whoever made it: another
   program (its commit changes SQLite's WAL index) or the store itself
   (which empties what it remembers); a remembered grant is not given
   past its expiry, nor for an earlier time than it was asked for. The
   store's own decision rows and limit counts change no answer and keep
   them, but not past another program's change before or after them. */
START_TEST(test_memo)
{
	struct store *policyd = NULL;
	struct store *other;
	struct ipaddr client = test_ip("192.0.2.90");
	static const struct {
		const char *label;
		void (*change)(struct store *st);
		bool by_self;
		int64_t now;
		bool in_batch;
		enum lookup_result grant, user, sender, cert, limit;
		bool from_memory;	/* every lookup of the step */
	} steps[] = {
		{ "first lookups", NULL, false, 1500, false, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND,
		  LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, false },
		{ "nothing written", NULL, false, 1500, false, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND,
		  LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, true },
		{ "nothing written, in a batch", NULL, false, 1500, true, LOOKUP_NOT_FOUND,
		  LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, true },
		{ "a login (another program)", memo_grant, false, 1500, false, LOOKUP_FOUND,
		  LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, false },
		{ "a suspension (another program)", memo_suspend, false, 1500, true, LOOKUP_FOUND,
		  LOOKUP_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND, false },
		{ "a sender right (another program)", memo_sender, false, 1500, false,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_NOT_FOUND, LOOKUP_NOT_FOUND,
		  false },
		{ "a certificate (another program)", memo_cert, false, 1500, false, LOOKUP_FOUND,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_NOT_FOUND, false },
		{ "a limit (another program)", memo_limit, false, 1500, false, LOOKUP_FOUND,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, false },
		{ "the grant's expiry passed", NULL, false, 2500, false, LOOKUP_NOT_FOUND,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, false },
		{ "the clock stepped back", NULL, false, 1500, false, LOOKUP_FOUND, LOOKUP_FOUND,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, false },
		{ "a revoke through the store itself", memo_revoke, true, 1500, false,
		  LOOKUP_NOT_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, false },
		{ "a login through the store itself", memo_grant, true, 1500, true, LOOKUP_FOUND,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, false },
		{ "nothing written again", NULL, false, 1500, false, LOOKUP_FOUND, LOOKUP_FOUND,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, true },
		{ "decision rows by its own writer", memo_rows, true, 1500, false, LOOKUP_FOUND,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, true },
		{ "a message counted in its own batch", memo_charge, true, 1500, false,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, true },
		{ "another program's revoke, then its own rows", memo_revoke_rows, true, 1500,
		  false, LOOKUP_NOT_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND,
		  false },
		{ "its own rows, then another program's login", memo_rows_grant, true, 1500, true,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, false },
		{ "its own rows again", memo_rows, true, 1500, false, LOOKUP_FOUND, LOOKUP_FOUND,
		  LOOKUP_FOUND, LOOKUP_FOUND, LOOKUP_FOUND, true },
	};

	policyd = open_queue(STORE_OPEN_CREATE, 100);
	other = open_ok(STORE_OPEN_EXISTING);
	memo_other = other;

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		enum lookup_result g, u, snd, c, lim, found[STORE_LIMIT_KINDS];
		struct limit_spec spec[STORE_LIMIT_KINDS];
		uint64_t hits0, hits1, misses0, misses1;

		if (steps[i].change != NULL)
			steps[i].change(steps[i].by_self ? policyd : other);
		if (steps[i].in_batch)
			ck_assert_int_eq(store_read_begin(policyd), 0);
		sq_memo_counts(policyd, &hits0, &misses0);
		g = store_grant_lookup(policyd, &client, steps[i].now, NULL);
		u = store_user_suspended(policyd, "gina");
		snd = store_sender_owned(policyd, "gina", "gina@lab.example");
		c = store_cert_lookup(policyd, "AB:CD:EF", NULL);
		ck_assert_int_eq(store_limit_rules(policyd, "gina", found, spec), 0);
		lim = found[STORE_LIMIT_MESSAGES];
		sq_memo_counts(policyd, &hits1, &misses1);
		store_read_end(policyd);
		ck_assert_msg(g == steps[i].grant && u == steps[i].user && snd == steps[i].sender
			      && c == steps[i].cert && lim == steps[i].limit,
			      "%s: grant/user/sender/cert/limit got %d/%d/%d/%d/%d, "
			      "want %d/%d/%d/%d/%d", steps[i].label, g, u, snd, c, lim,
			      steps[i].grant, steps[i].user, steps[i].sender, steps[i].cert,
			      steps[i].limit);
		if (steps[i].from_memory)
			ck_assert_msg(hits1 - hits0 == 5 && misses1 == misses0,
				      "%s: from memory got %llu of 5 lookups, want 5", steps[i].label,
				      (unsigned long long)(hits1 - hits0));
		else
			ck_assert_msg(misses1 > misses0, "%s: from the database got 0 of 5 "
				      "lookups, want at least the changed one", steps[i].label);
	}
	store_close(&other, 1000);
	store_close(&policyd, 1000);
}
END_TEST

/* ---- limit counters kept in memory (store_sqlite_counts.c) ---- */

/* user_charge_in - one message for user under 10/1h (commit: counted;
   else only asked); what the hour window held before it, or -1 when
   the store failed; *batched_r (may be NULL): state.batched */
static long long user_charge_in(struct store *st, const char *user, bool commit,
				bool *batched_r)
{
	struct limit_spec spec;
	struct store_limit_charge c = { user, { NULL, &spec }, { 0, 1 }, commit };
	struct store_limit_state state;
	char *error = NULL;

	ck_assert_int_eq(limit_spec_parse("10/1h", &spec, &error), 0);
	memset(&state, 0, sizeof state);
	if (store_limit_charge(st, &c, &state, &error) != 0) {
		free(error);
		return -1;
	}
	if (batched_r != NULL)
		*batched_r = state.batched;
	return (long long)state.used[STORE_LIMIT_MESSAGES][0];
}

static long long user_charge(struct store *st, const char *user, bool commit)
{
	return user_charge_in(st, user, commit, NULL);
}

/* count_charge - user_charge() for gina, which must not fail */
static uint64_t count_charge(struct store *st, bool commit)
{
	long long used = user_charge(st, "gina", commit);

	ck_assert_msg(used >= 0, "charge for gina: got a store error, want success");
	return (uint64_t)used;
}

/* The changes between the steps of test_counts: by the store itself
   (counts_self) or another program (counts_other_store). */
static struct store *counts_self, *counts_other_store;

static void counts_batch(void)
{
	ck_assert_int_eq(store_read_begin(counts_self), 0);
	(void)count_charge(counts_self, true);
	store_read_end(counts_self);
}

static void counts_rows(void)
{
	memo_rows(counts_self);
}

static void counts_other(void)
{
	(void)count_charge(counts_other_store, true);
}

static void counts_rows_other(void)
{
	counts_rows();
	counts_other();
}

static void counts_other_batch(void)
{
	counts_other();
	counts_batch();
}

/* Another program counts while the store's batch holds a read snapshot
   taken before: the batch's ask reads that snapshot (one message fewer),
   and what it read must not be kept as the newest. */
static void counts_other_in_snapshot(void)
{
	struct ipaddr ip = test_ip("192.0.2.77");

	ck_assert_int_eq(store_read_begin(counts_self), 0);
	(void)store_grant_lookup(counts_self, &ip, 1500, NULL);	/* a read: the snapshot */
	counts_other();
	ck_assert_msg(count_charge(counts_self, false) == 5,
		      "ask in the older snapshot: got %llu, want 5",
		      (unsigned long long)count_charge(counts_self, false));
	store_read_end(counts_self);
}

/* A subject's counters are read once and kept while only the store
   itself commits (its decision rows, its batches' counts, applied to
   what is kept); another program's count, before or after one of the
   store's own commits, is seen by the next ask; rows read in an older
   snapshot are not kept. */
START_TEST(test_counts)
{
	struct store *policyd = NULL, *other;
	static const struct {
		const char *label;
		void (*change)(void);
		uint64_t used;		/* the ask after it: the window's count */
		bool kept;		/* answered from memory */
	} steps[] = {
		{ "first ask", NULL, 0, false },
		{ "asked again", NULL, 0, true },
		{ "a message counted in its own batch", counts_batch, 1, true },
		{ "its own decision rows", counts_rows, 1, true },
		{ "a message counted by another program", counts_other, 2, false },
		{ "asked again after it", NULL, 2, true },
		{ "its own rows, then another program's message", counts_rows_other, 3, false },
		{ "another program's message, then its own batch", counts_other_batch, 5, true },
		{ "another program's message while its batch read an older snapshot",
		  counts_other_in_snapshot, 6, false },
		{ "asked again at the end", NULL, 6, true },
	};

	policyd = open_queue(STORE_OPEN_CREATE, 100);
	other = open_ok(STORE_OPEN_EXISTING);
	counts_self = policyd;
	counts_other_store = other;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		uint64_t hits0, hits1, misses0, misses1, used;

		if (steps[i].change != NULL)
			steps[i].change();
		sq_counts_stats(policyd, &hits0, &misses0);
		used = count_charge(policyd, false);
		sq_counts_stats(policyd, &hits1, &misses1);
		ck_assert_msg(used == steps[i].used, "%s: used got %llu, want %llu",
			      steps[i].label, (unsigned long long)used,
			      (unsigned long long)steps[i].used);
		ck_assert_msg((hits1 - hits0 == 1) == steps[i].kept,
			      "%s: from memory got %s, want %s", steps[i].label,
			      hits1 - hits0 == 1 ? "yes" : "no", steps[i].kept ? "yes" : "no");
	}
	store_close(&other, 1000);
	store_close(&policyd, 1000);
}
END_TEST

/* ---- a transaction's additions written before its commit
   (store_sqlite_pending.c) ---- */

/* What a step of test_pending does inside one batch of the store. */
enum pending_act {
	PENDING_END,
	PENDING_CHARGE,		/* one message for each of `users` users */
	PENDING_ASK,		/* ask for the first user: want `want` */
	PENDING_FORGET,		/* the counters kept in memory dropped */
	PENDING_REFUSAL,	/* a refusal recorded (its own transaction) */
	PENDING_BOOM,		/* one message for "boom": its row cannot be written */
	PENDING_REFUSED,	/* a charge for the first user fails */
};

/* The trigger that makes writing boom's counter row fail, set by
   another connection while PENDING_BOOM steps run. */
#define PENDING_BOOM_TRIGGER                                                             \
	"CREATE TRIGGER boom BEFORE INSERT ON limit_counts WHEN NEW.subject = 'boom' "   \
	"BEGIN SELECT RAISE(ABORT, 'boom'); END"


/* Each step is one batch, then another program reads every user it
   charged: a batch's additions are all in the database after its end,
   merged or not, in one statement or several, and gone with a rolled
   back batch, which store_read_end() then reports (-1: the callers
   answer the messages it counted as for a store error); the store's
   own reads inside the batch see them. Every charge in a batch says it
   was batched; one outside a batch (its own transaction) does not. */
START_TEST(test_pending)
{
	struct store *policyd = NULL, *other;
	static const struct {
		const char *label;
		const char *prefix;	/* users prefix0, prefix1, ... */
		unsigned users;
		struct { enum pending_act act; long long want; } acts[8];
		long long after;	/* each user's count, read by another program */
		int end;		/* store_read_end() */
	} steps[] = {
		{ "one message", "p", 1, { { PENDING_CHARGE, 0 } }, 1, 0 },
		{ "three messages of one user, asked between", "p", 1,
		  { { PENDING_CHARGE, 0 }, { PENDING_CHARGE, 0 }, { PENDING_ASK, 3 },
		    { PENDING_CHARGE, 0 }, { PENDING_ASK, 4 } }, 4, 0 },
		{ "forty users: a 32-row and an 8-row statement", "q", 40,
		  { { PENDING_CHARGE, 0 } }, 1, 0 },
		{ "three hundred users: written before the end too", "r", 300,
		  { { PENDING_CHARGE, 0 }, { PENDING_CHARGE, 0 }, { PENDING_ASK, 2 } }, 2, 0 },
		{ "the counters in memory dropped: read from the database", "p", 1,
		  { { PENDING_CHARGE, 0 }, { PENDING_FORGET, 0 }, { PENDING_ASK, 5 } }, 5, 0 },
		{ "a row that cannot be written rolls the batch back at its end", "p", 1,
		  { { PENDING_CHARGE, 0 }, { PENDING_BOOM, 0 }, { PENDING_ASK, 6 } }, 5, -1 },
		{ "...or at a read in the batch, which fails; nothing more is counted in it",
		  "p", 1,
		  { { PENDING_CHARGE, 0 }, { PENDING_BOOM, 0 }, { PENDING_FORGET, 0 },
		    { PENDING_ASK, -1 }, { PENDING_ASK, 5 }, { PENDING_REFUSED, 0 } }, 5, -1 },
		{ "a refusal recorded in the middle of the batch", "p", 1,
		  { { PENDING_CHARGE, 0 }, { PENDING_REFUSAL, 0 }, { PENDING_CHARGE, 0 },
		    { PENDING_ASK, 7 } }, 7, 0 },
		{ "a batch after a lost one", "p", 1, { { PENDING_CHARGE, 0 } }, 8, 0 },
	};
	sqlite3 *db;

	policyd = open_queue(STORE_OPEN_CREATE, 100);
	other = open_ok(STORE_OPEN_EXISTING);
	db = test_sqlite_open(path, 2000);
	test_sqlite_exec(db, PENDING_BOOM_TRIGGER);
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		char user[32];
		int end;

		ck_assert_int_eq(store_read_begin(policyd), 0);
		for (size_t a = 0; steps[i].acts[a].act != PENDING_END; a++) {
			struct store_limit_refusal r = { "p0", STORE_LIMIT_MESSAGES, 3600, 0, 86400,
							 "test", false };
			unsigned refusals;
			bool suspended, notify;
			char *error = NULL;
			long long got;

			switch (steps[i].acts[a].act) {
			case PENDING_CHARGE:
				for (unsigned u = 0; u < steps[i].users; u++) {
					bool batched = false;

					snprintf(user, sizeof user, "%s%u", steps[i].prefix, u);
					ck_assert_msg(user_charge_in(policyd, user, true, &batched)
						      >= 0, "%s: charge for %s failed",
						      steps[i].label, user);
					ck_assert_msg(batched, "%s: charge for %s: batched got no, "
						      "want yes", steps[i].label, user);
				}
				break;
			case PENDING_ASK:
				snprintf(user, sizeof user, "%s0", steps[i].prefix);
				got = user_charge(policyd, user, false);
				ck_assert_msg(got == steps[i].acts[a].want,
					      "%s: ask %zu in the batch got %lld, want %lld",
					      steps[i].label, a, got, steps[i].acts[a].want);
				break;
			case PENDING_FORGET:
				sq_counts_drop(sq_store(policyd));
				break;
			case PENDING_REFUSAL:
				ck_assert_msg(store_limit_refused(policyd, &r, &refusals, &suspended,
								  &notify, &error) == 0,
					      "%s: refusal: %s", steps[i].label, error);
				break;
			case PENDING_REFUSED:
				snprintf(user, sizeof user, "%s0", steps[i].prefix);
				ck_assert_msg(user_charge(policyd, user, true) < 0,
					      "%s: a charge after the loss got success, want an "
					      "error", steps[i].label);
				break;
			case PENDING_BOOM:
				/* Counted in memory; the row is written later. */
				ck_assert_msg(user_charge(policyd, "boom", true) >= 0,
					      "%s: charge for boom failed", steps[i].label);
				break;
			case PENDING_END:
				break;
			}
		}
		end = store_read_end(policyd);
		ck_assert_msg(end == steps[i].end, "%s: store_read_end got %d, want %d",
			      steps[i].label, end, steps[i].end);
		for (unsigned u = 0; u < steps[i].users; u++) {
			long long got;

			snprintf(user, sizeof user, "%s%u", steps[i].prefix, u);
			got = user_charge(other, user, false);
			ck_assert_msg(got == steps[i].after, "%s: %s after the batch got %lld, "
				      "want %lld", steps[i].label, user, got, steps[i].after);
		}
		ck_assert_msg(test_sqlite_int(db, "SELECT count(*) FROM limit_counts "
					      "WHERE subject = 'boom'") == 0,
			      "%s: boom's rows got some, want none", steps[i].label);
	}
	sqlite3_close(db);
	{
		bool batched = true;

		ck_assert_msg(user_charge_in(policyd, "solo", true, &batched) == 0 && !batched,
			      "a charge outside a batch: batched got %s, want no",
			      batched ? "yes" : "no");
	}
	store_close(&other, 1000);
	store_close(&policyd, 1000);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, test_tmpdir_remove);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_migrates);
	tcase_add_test(tc, test_reopen_idempotent);
	tcase_add_test(tc, test_foreign_sqlite_refused);
	tcase_add_test(tc, test_other_application_id_refused);
	tcase_add_test(tc, test_not_a_database_refused);
	tcase_add_test(tc, test_newer_schema_refused);
	tcase_add_test(tc, test_missing_existing_refused);
	tcase_add_test(tc, test_empty_existing_refused);
	tcase_add_loop_test(tc, test_writable_refused, 0, N(writable_cases));
	tcase_add_test(tc, test_writable_dir_not_created);
	tcase_add_test(tc, test_locations);
	tcase_add_loop_test(tc, test_file_moved, 0, 2);
	tcase_add_test(tc, test_read_snapshot);
	tcase_add_test(tc, test_snapshot_prefix_cache);
	tcase_add_test(tc, test_logins_rollback);
	tcase_add_test(tc, test_query_read_only);
	tcase_add_test(tc, test_memo);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_pending);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	log_set_level(LOG_LEVEL_WARNING);	/* no "applied migration" per test */

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/*
 * NAME
 *	check_store 1
 * SUMMARY
 *	tests for the store: open, migrate, grants, users, senders, certs, views
 * DESCRIPTION
 *	Each test works on a fresh database in its own temporary directory.
 *	A second, raw sqlite3 handle plays "another program" or the admin's
 *	sqlite3 shell: it inspects what the store wrote, plants foreign or
 *	too-new files, and breaks things on purpose. Decision queue, lock
 *	and concurrency tests are in check_store_writer.c.
 */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "addr.h"
#include "ipaddr.h"
#include "log.h"
#include "store.h"
#include "store_lookups.h"
#include "store_sqlite.h"
#include "limit_spec.h"
#include "test_sqlite.h"
#include "test_tmpdir.h"

static const char *dir;
static char path[160];

static void setup(void)
{
	dir = test_tmpdir_create("check_store");
	snprintf(path, sizeof path, "%s/authrelay.db", dir);
}

static struct store *open_ok(enum store_open_mode mode)
{
	struct store_options opts = { .mode = mode, .busy_timeout_ms = 2000,
				     .decision_queue_max = 0, .program = "test" };
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(path, &opts, &store, &error) < 0)
		ck_abort_msg("store_open(%s): got error \"%s\", want success", path, error);
	ck_assert_ptr_nonnull(store);
	return store;
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

static struct ipaddr ip(const char *text)
{
	struct ipaddr a;

	ck_assert_msg(ipaddr_parse(text, &a) == 0, "ipaddr_parse(%s) failed", text);
	return a;
}

static struct store_login login(const char *addr, unsigned prefix, const char *user,
				int64_t t, int64_t ttl)
{
	struct store_login l;

	memset(&l, 0, sizeof l);
	l.net = ip(addr);
	ipaddr_mask(&l.net, prefix);
	l.prefix_len = prefix;
	snprintf(l.username, sizeof l.username, "%s", user);
	snprintf(l.service, sizeof l.service, "imap");
	l.login_time = t;
	l.expires_at = t + ttl;
	snprintf(l.source, sizeof l.source, "/var/log/mail.log");
	l.line = "Nov 26 13:06:41 lab dovecot: imap-login: Login: user=<x>";
	return l;
}

static void apply_ok(struct store *store, const struct store_login *l, size_t n,
		     const struct store_checkpoint *cp)
{
	char *error = NULL;

	if (store_logins_apply(store, l, n, cp, &error) < 0)
		ck_abort_msg("store_logins_apply: got error \"%s\", want success", error);
}

/* ---- open and migrate ---- */

START_TEST(test_create_migrates)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct stat sb;
	sqlite3 *db;
	int version = -1;

	ck_assert_int_eq(store_schema_version(store, &version), 0);
	ck_assert_msg(version == store_schema_latest() && version >= 1,
		      "schema version: got %d, want %d", version, store_schema_latest());
	store_close(&store, 1000);
	ck_assert_ptr_null(store);

	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_msg((sb.st_mode & 0777) == 0640, "mode: got %o, want 640", sb.st_mode & 0777);
	db = test_sqlite_open(path, 2000);
	ck_assert_int_eq(test_sqlite_int(db, "PRAGMA application_id"), 0x41524c59);
	ck_assert_int_eq(test_sqlite_int(db, "PRAGMA user_version"), store_schema_latest());
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
		ck_assert_int_eq(version, store_schema_latest());
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
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_schema_latest() + 1);
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

/* ---- grants ---- */

static const struct {
	const char *label, *client;
	int64_t now;
	enum lookup_result want;
	unsigned want_prefix;
} grant_cases[] = {
	{ "IPv4 exact", "203.0.113.5", 1500, LOOKUP_FOUND, 32 },
	{ "IPv4 neighbour", "203.0.113.6", 1500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv4-mapped IPv6 is IPv4", "::ffff:203.0.113.5", 1500, LOOKUP_FOUND, 32 },
	{ "IPv4 at expiry", "203.0.113.5", 2800, LOOKUP_NOT_FOUND, 0 },
	{ "IPv4 one second before expiry", "203.0.113.5", 2799, LOOKUP_FOUND, 32 },
	{ "IPv6 the login's address", "2001:db8:1:2::abcd", 1500, LOOKUP_FOUND, 64 },
	{ "IPv6 other address in the /64", "2001:db8:1:2:ffff:1:2:3", 1500, LOOKUP_FOUND, 64 },
	{ "IPv6 next /64", "2001:db8:1:3::abcd", 1500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv6 /128 grant exact", "2001:db8:9::7", 1500, LOOKUP_FOUND, 128 },
	{ "IPv6 /128 grant neighbour", "2001:db8:9::8", 1500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv6 /48 grant", "2001:db8:77:ffff::1", 1500, LOOKUP_FOUND, 48 },
	{ "IPv6 expired", "2001:db8:1:2::1", 9000, LOOKUP_NOT_FOUND, 0 },
	{ "IPv4 never granted", "198.51.100.1", 1500, LOOKUP_NOT_FOUND, 0 },
	{ "IPv6 never granted", "::1", 1500, LOOKUP_NOT_FOUND, 0 },
};

START_TEST(test_grant_lookup)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct store_login l[] = {
		login("203.0.113.5", 32, "alice", 1000, 1800),
		login("2001:db8:1:2::abcd", 64, "bob", 1000, 1800),
		login("2001:db8:9::7", 128, "carol", 1000, 1800),
		login("2001:db8:77::", 48, "dave", 1000, 1800),
	};
	struct ipaddr client = ip(grant_cases[_i].client);
	struct store_grant g;
	enum lookup_result got;

	apply_ok(store, l, 4, NULL);
	memset(&g, 0, sizeof g);
	got = store_grant_lookup(store, &client, grant_cases[_i].now, &g);
	ck_assert_msg(got == grant_cases[_i].want, "%s: got %d, want %d", grant_cases[_i].label,
		      got, grant_cases[_i].want);
	if (got == LOOKUP_FOUND)
		ck_assert_msg(g.prefix_len == grant_cases[_i].want_prefix,
			      "%s: prefix got %u, want %u", grant_cases[_i].label, g.prefix_len,
			      grant_cases[_i].want_prefix);
	store_close(&store, 1000);
}
END_TEST

START_TEST(test_grant_refresh)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	static const struct {
		const char *label;
		int64_t t, ttl;
		int64_t first, last, expires, logins;
	} steps[] = {
		{ "first login", 1000, 1800, 1000, 1000, 2800, 1 },
		{ "refresh keeps first_seen", 1500, 1800, 1000, 1500, 3300, 2 },
		{ "older line never moves expiry back", 1200, 1800, 1000, 1500, 3300, 3 },
		{ "after expiry starts anew", 5000, 1800, 5000, 5000, 6800, 1 },
	};
	struct ipaddr client = ip("192.0.2.44");

	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		struct store_login l = login("192.0.2.44", 32, "alice", steps[i].t, steps[i].ttl);
		struct store_grant g;

		apply_ok(store, &l, 1, NULL);
		ck_assert_int_eq(store_grant_lookup(store, &client, steps[i].t, &g), LOOKUP_FOUND);
		ck_assert_msg(g.first_seen == steps[i].first && g.last_seen == steps[i].last
				      && g.expires_at == steps[i].expires
				      && g.logins == steps[i].logins,
			      "%s: got first=%lld last=%lld expires=%lld logins=%lld, want "
			      "%lld %lld %lld %lld", steps[i].label, (long long)g.first_seen,
			      (long long)g.last_seen, (long long)g.expires_at, (long long)g.logins,
			      (long long)steps[i].first, (long long)steps[i].last,
			      (long long)steps[i].expires, (long long)steps[i].logins);
		ck_assert_str_eq(g.username, "alice");
		ck_assert_str_eq(g.service, "imap");
	}
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grants"), 1);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grant_history WHERE event = 'login' "
				    "AND ip = '192.0.2.44' AND source = '/var/log/mail.log' "
				    "AND line LIKE '%dovecot%'"), 4);
}
END_TEST

/* The file removed, or replaced by another (a restore with mv): the
   open descriptor would still answer from the old inode, so every lookup
   is an error instead, from STORE_FILE_CHECK_MS after the change on, and
   stays one. */
START_TEST(test_file_moved)
{
	static const char *const how[] = { "removed", "replaced" };
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct store_login l = login("192.0.2.77", 32, "mover", 1000, 100000);
	struct ipaddr ip;
	char cmd[1024];

	apply_ok(store, &l, 1, NULL);
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
	struct store_login l = login("192.0.2.50", 32, "eve", 1000, 100000);
	struct ipaddr client = ip("192.0.2.50"), client2 = ip("192.0.2.51");
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
			apply_ok(other, &l, 1, NULL);
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
	struct ipaddr c4 = ip("198.51.100.77"), c6 = ip("2001:db8:5::9"), c4b = ip("203.0.113.9");
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
			struct store_login l = login(steps[i].grant, steps[i].prefix, "eve", t, 1800);

			apply_ok(other, &l, 1, NULL);
		}
		if (steps[i].revoke != NULL) {
			struct ipaddr r = ip(steps[i].revoke);
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
			struct store_login l = login("203.0.113.8", 31, "late", t, 1800);

			apply_ok(other, &l, 1, NULL);
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
	l[0] = login("192.0.2.1", 32, "alice", 1000, 1800);
	apply_ok(store, l, 1, &cp);

	/* Another program's trigger makes the second row fail inside the
	   transaction, after the first row was written. */
	db = test_sqlite_open(path, 2000);
	test_sqlite_exec(
	    db, "CREATE TRIGGER boom BEFORE INSERT ON grant_log WHEN NEW.username = 'boom' "
		"BEGIN SELECT RAISE(ABORT, 'boom'); END");
	sqlite3_close(db);
	l[0] = login("192.0.2.2", 32, "alice", 1100, 1800);
	l[1] = login("192.0.2.3", 32, "boom", 1100, 1800);
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
		struct ipaddr a = ip("192.0.2.2");

		ck_assert_int_eq(store_grant_lookup(store, &a, 1200, NULL), LOOKUP_NOT_FOUND);
	}
	ck_assert_int_eq(store_checkpoint_get(store, "/var/log/other.log", &got),
			 LOOKUP_NOT_FOUND);
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grant_log"), 1);
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
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct store_grant g;
	struct ipaddr a = ip("2001:db8:5:6::99");
	struct store_login l = login("2001:db8:5:6::99", 128, "bob", 1000, 1800);
	unsigned removed = 99;
	char *error = NULL;
	int n = 0;

	memset(&g, 0, sizeof g);
	g.net = ip("2001:db8:5:6::");
	g.prefix_len = 64;
	snprintf(g.username, sizeof g.username, "alice");
	g.first_seen = 1000;
	g.expires_at = 5000;
	ck_assert_int_eq(store_grant_add(store, &g, "root", &error), 0);
	apply_ok(store, &l, 1, NULL);
	ck_assert_int_eq(store_grant_lookup(store, &a, 2000, &g), LOOKUP_FOUND);
	ck_assert_int_eq(store_grant_list(store, 2000, count_grant, &n, &error), 0);
	ck_assert_int_eq(n, 2);

	/* Both the /64 and the /128 hold the address. */
	ck_assert_int_eq(store_grant_revoke(store, &a, "root", &removed, &error), 0);
	ck_assert_msg(removed == 2, "removed: got %u, want 2", removed);
	ck_assert_int_eq(store_grant_lookup(store, &a, 2000, NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_grant_revoke(store, &a, "root", &removed, &error), 0);
	ck_assert_int_eq(removed, 0);
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM admin_log WHERE actor = 'root' AND "
				    "action IN ('grant add', 'grant revoke')"), 3);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grant_history WHERE event = 'manual' "
				    "AND ip = '2001:db8:5:6::' AND prefix_len = 64 "
				    "AND service = 'manual'"), 1);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grant_history WHERE event = 'revoke'"),
			 2);
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
	struct store *store = open_ok(STORE_OPEN_CREATE);
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
	ck_assert_str_eq(list, "alice:0:0 bob:0:1 ");
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM admin_log WHERE action IN "
				    "('user suspend', 'user resume', 'sender allow')"), 3);
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
	{ "* covers all", "bob", "whoever@anywhere.test", LOOKUP_FOUND },
	{ "* covers null sender", "bob", "<>", LOOKUP_FOUND },
	{ "unknown user", "carol", "alice@example.org", LOOKUP_NOT_FOUND },
	{ "user name case", "Alice", "alice@example.org", LOOKUP_NOT_FOUND },
};

START_TEST(test_sender_owned)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	char *error = NULL;
	enum lookup_result got, by_addr = LOOKUP_NOT_FOUND;
	char norm[ADDR_MAX];

	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(store_sender_allow(store, "alice", alice_patterns[i], "root",
						    &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "bob", "*", "root", &error), 0);
	got = store_sender_owned(store, sender_cases[_i].user, sender_cases[_i].address);
	ck_assert_msg(got == sender_cases[_i].want, "%s: got %d, want %d", sender_cases[_i].label,
		      got, sender_cases[_i].want);

	/* The SQL equality must agree with lib/addr.h's own matcher. */
	if (addr_normalize(sender_cases[_i].address, norm, sizeof norm) == 0) {
		if (strcmp(sender_cases[_i].user, "bob") == 0) {
			by_addr = addr_pattern_match("*", norm) ? LOOKUP_FOUND : LOOKUP_NOT_FOUND;
		} else if (strcmp(sender_cases[_i].user, "alice") == 0) {
			for (size_t i = 0; i < 2; i++) {
				char pat[ADDR_MAX];

				ck_assert_int_eq(addr_pattern_normalize(alice_patterns[i], pat,
									sizeof pat, &error), 0);
				if (addr_pattern_match(pat, norm))
					by_addr = LOOKUP_FOUND;
			}
		}
		ck_assert_msg(got == by_addr, "%s: store says %d, addr_pattern_match says %d",
			      sender_cases[_i].label, got, by_addr);
	}
	store_close(&store, 1000);
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
	struct store *store = open_ok(STORE_OPEN_CREATE);
	char list[512] = "";
	char *error = NULL;

	ck_assert_int_eq(store_sender_allow(store, "alice", "Alice@Example.ORG", "root", &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "alice", "@Example.NET", "root", &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "bob", "*", "root", &error), 0);
	ck_assert_msg(store_sender_allow(store, "alice", "alice+tag@example.org", "root",
					 &error) < 0, "a +tag pattern was accepted");
	ck_assert_msg(error && strstr(error, "tag"), "got \"%s\", want a tag message", error);
	free(error);
	error = NULL;
	ck_assert_int_eq(store_sender_list(store, NULL, collect_sender, list, &error), 0);
	ck_assert_str_eq(list, "alice=@example.net alice=Alice@example.org bob=* ");
	list[0] = '\0';
	ck_assert_int_eq(store_sender_list(store, "bob", collect_sender, list, &error), 0);
	ck_assert_str_eq(list, "bob=* ");

	ck_assert_int_eq(store_sender_deny(store, "alice", "@EXAMPLE.net", "root", &error), 0);
	ck_assert_int_eq(store_sender_owned(store, "alice", "x@example.net"), LOOKUP_NOT_FOUND);
	ck_assert_msg(store_sender_deny(store, "alice", "@example.net", "root", &error) < 0,
		      "deny of a missing pattern: got success, want error");
	ck_assert_msg(error && strstr(error, "no sender pattern"), "got \"%s\"", error);
	free(error);
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM admin_log WHERE action = "
				    "'sender allow'"), 3);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM admin_log WHERE action = "
				    "'sender deny'"), 1);
}
END_TEST

static const struct {
	const char *label, *in, *want;
} fpr_cases[] = {
	{ "Postfix form", "AB:CD:01:EF", "AB:CD:01:EF" },
	{ "lower case", "ab:cd:01:ef", "AB:CD:01:EF" },
	{ "no colons", "abcd01ef", "AB:CD:01:EF" },
	{ "odd colons", "a:bcd:01ef", "AB:CD:01:EF" },
	{ "spaces", "ab cd 01 ef", "AB:CD:01:EF" },
	{ "odd digits", "abc", NULL },
	{ "not hex", "zz:11", NULL },
	{ "empty", "", NULL },
	{ "only colons", ":::", NULL },
};

static int collect_cert(const struct store_cert *c, void *ctx)
{
	char *buf = ctx;
	size_t len = strlen(buf);

	snprintf(buf + len, 1024 - len, "%s %s %s|", c->username, c->fingerprint, c->subject);
	return 0;
}

START_TEST(test_certs)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
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
	ck_assert_msg(store_cert_add(store, &c, "root", &error) < 0, "duplicate was accepted");
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
		      "revoke of a missing certificate: got success");
	free(error);
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM admin_log WHERE action IN "
				    "('cert add', 'cert revoke')"), 2);
}
END_TEST

START_TEST(test_fingerprint_normalize)
{
	char out[STORE_FPR_MAX];
	int rc = store_cert_lookup(NULL, "x", NULL);

	ck_assert_int_eq(rc, LOOKUP_ERROR);
	for (size_t i = 0; i < sizeof fpr_cases / sizeof fpr_cases[0]; i++) {
		struct store *store;
		struct store_cert c;
		char *error = NULL;
		char user[STORE_USER_MAX];

		/* Through the public interface: add, then look up in Postfix form. */
		store = open_ok(STORE_OPEN_CREATE);
		memset(&c, 0, sizeof c);
		snprintf(c.username, sizeof c.username, "u%zu", i);
		snprintf(c.fingerprint, sizeof c.fingerprint, "%s", fpr_cases[i].in);
		rc = store_cert_add(store, &c, "root", &error);
		if (fpr_cases[i].want == NULL) {
			ck_assert_msg(rc < 0, "%s: add got success, want refusal", fpr_cases[i].label);
			free(error);
		} else {
			ck_assert_msg(rc == 0, "%s: add got \"%s\"", fpr_cases[i].label, error);
			ck_assert_msg(store_cert_lookup(store, fpr_cases[i].want, user) == LOOKUP_FOUND,
				      "%s: lookup of %s not found", fpr_cases[i].label,
				      fpr_cases[i].want);
			ck_assert_int_eq(store_cert_revoke(store, fpr_cases[i].want, "root", &error), 0);
		}
		store_close(&store, 1000);
	}
	(void)out;
}
END_TEST

/* ---- views, audit, prune ---- */

struct rows {
	int n;
	char text[2048];
};

static int collect_sql(int ncols, const char *const *names, const char *const *values, void *ctx)
{
	struct rows *r = ctx;

	for (int i = 0; i < ncols; i++) {
		size_t len = strlen(r->text);

		snprintf(r->text + len, sizeof r->text - len, "%s=%s%s", names[i],
			 values[i] ? values[i] : "NULL", i + 1 < ncols ? "," : ";");
	}
	r->n++;
	return 0;
}

START_TEST(test_views_iso8601)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct store_login l = login("192.0.2.9", 32, "alice", 1795698401, 4000000000LL - 1795698401);
	struct rows r;
	char *error = NULL;
	regex_t iso;

	ck_assert_int_eq(regcomp(&iso, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
				 REG_EXTENDED | REG_NOSUB), 0);
	apply_ok(store, &l, 1, NULL);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(store_query(store, "SELECT first_seen, last_seen, expires_at FROM "
				     "active_grants", collect_sql, &r, &error), 0);
	ck_assert_str_eq(r.text, "first_seen=2026-11-26T13:06:41Z,last_seen=2026-11-26T13:06:41Z,"
				 "expires_at=2096-10-02T07:06:40Z;");

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(store_query(store, "SELECT ip, prefix_len, username, service, login_time, "
				     "expires_at, source, event FROM grant_history",
				     collect_sql, &r, &error), 0);
	ck_assert_str_eq(r.text, "ip=192.0.2.9,prefix_len=32,username=alice,service=imap,"
				 "login_time=2026-11-26T13:06:41Z,expires_at=2096-10-02T07:06:40Z,"
				 "source=/var/log/mail.log,event=login;");

	ck_assert_int_eq(store_admin_log(store, "root", "init", "", "", &error), 0);
	{
		sqlite3 *db = test_sqlite_open(path, 2000);
		sqlite3_stmt *stmt;

		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT ts FROM admin_log", -1, &stmt, NULL),
				 SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
		ck_assert_msg(regexec(&iso, (const char *)sqlite3_column_text(stmt, 0), 0, NULL, 0)
				      == 0, "admin_log.ts: got \"%s\", want ISO-8601 UTC",
			      sqlite3_column_text(stmt, 0));
		sqlite3_finalize(stmt);
		/* The decisions view's columns, in sql/README.md's order. */
		test_sqlite_exec(db, "INSERT INTO decision_log (ts, program, client_ip, verdict) "
				     "VALUES (1795698401, 'policyd', '192.0.2.9', 'permit')");
		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT * FROM decisions", -1, &stmt, NULL),
				 SQLITE_OK);
		ck_assert_int_eq(sqlite3_column_count(stmt), 10);
		ck_assert_str_eq(sqlite3_column_name(stmt, 0), "ts");
		ck_assert_str_eq(sqlite3_column_name(stmt, 9), "queue_id");
		ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 0), "2026-11-26T13:06:41Z");
		sqlite3_finalize(stmt);
		sqlite3_close(db);
	}
	regfree(&iso);
	store_close(&store, 1000);
}
END_TEST

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
	struct rows r;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *error = NULL;

		memset(&r, 0, sizeof r);
		ck_assert_msg(store_query(store, cases[i].sql, collect_sql, &r, &error) < 0,
			      "%s: got success, want error", cases[i].label);
		ck_assert_msg(error && strstr(error, cases[i].want), "%s: got \"%s\", want \"%s\"",
			      cases[i].label, error, cases[i].want);
		free(error);
	}
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(store_query(store, "SELECT 1 AS one;", collect_sql, &r, NULL), 0);
	ck_assert_str_eq(r.text, "one=1;");
	store_close(&store, 1000);
}
END_TEST

START_TEST(test_prune)
{
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 2000,
				     .decision_queue_max = 100, .program = "policyd" };
	struct store *store = NULL;
	struct store_login l[] = {
		login("192.0.2.1", 32, "old", 100, 50),		/* expired at 150 */
		login("192.0.2.2", 32, "new", 100, 100000),	/* live */
	};
	struct store_decision d = { 0, NULL, "192.0.2.1", "alice", "a@x.test", "b@y.test",
				    "permit", "sasl", "", "" };
	uint64_t deleted = 0;
	char *error = NULL;

	ck_assert_int_eq(store_open(path, &opts, &store, &error), 0);
	apply_ok(store, l, 2, NULL);
	for (int64_t ts = 100; ts <= 500; ts += 100) {
		d.ts = ts;
		ck_assert_int_eq(store_decision_queue(store, &d), 0);
	}
	ck_assert_int_eq(store_decision_flush(store, 5000), 0);
	ck_assert_int_eq(store_admin_log(store, "root", "init", "", "", &error), 0);

	/* batch 1: many short transactions. */
	ck_assert_int_eq(store_prune(store, 350, 1, "root", &deleted, &error), 0);
	ck_assert_msg(deleted == 4, "deleted: got %llu, want 3 decisions + 1 grant",
		      (unsigned long long)deleted);
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM decision_log"), 2);
	ck_assert_int_eq(count_rows("SELECT min(ts) FROM decision_log"), 400);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grants"), 1);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grants WHERE username = 'new'"), 1);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM grant_log"), 2);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM admin_log"), 2);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM admin_log WHERE action = 'prune' AND "
				    "detail = 'decisions=3 grants=1'"), 1);
}
END_TEST

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
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 2000,
				     .decision_queue_max = 16, .program = "policyd" };
	struct store *store = NULL;
	char *error = NULL;

	ck_assert_int_eq(store_open(path, &opts, &store, &error), 0);
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(store_decision_queue(store, &rows[i]), 0);
	ck_assert_int_eq(store_decision_flush(store, 5000), 0);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char got[512] = "";

		ck_assert_int_eq(store_audit(store, &cases[i].f, collect_audit, got, &error), 0);
		ck_assert_msg(strcmp(got, cases[i].want) == 0, "%s: got \"%s\", want \"%s\"",
			      cases[i].label, got, cases[i].want);
	}
	store_close(&store, 1000);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM decisions WHERE program = 'policyd'"), 4);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM decisions WHERE program = 'milter'"), 1);
}
END_TEST

/* ---- answers from memory (store_sqlite_memo.c) ---- */

/* Changes made between the steps of test_memo: by another program
   ("other": loginwatch, authrelayctl) or through the store itself. */
static void memo_grant(struct store *st)
{
	struct store_login l = login("192.0.2.90", 32, "gina", 1000, 1000);

	apply_ok(st, &l, 1, NULL);
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
	struct ipaddr a = ip("192.0.2.90");
	char *error = NULL;

	ck_assert_int_eq(store_grant_revoke(st, &a, "test", NULL, &error), 0);
}

/* The lookups are answered from memory while nothing was written, and
   every change is seen by the next lookup whoever made it: another
   program (its commit changes SQLite's WAL index) or the store itself
   (which empties what it remembers); a remembered grant is not given
   past its expiry, nor for an earlier time than it was asked for. */
START_TEST(test_memo)
{
	struct store *policyd = open_ok(STORE_OPEN_CREATE);
	struct store *other = open_ok(STORE_OPEN_EXISTING);
	struct ipaddr client = ip("192.0.2.90");
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
	};

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

START_TEST(test_lookups_bound)
{
	struct store *store = open_ok(STORE_OPEN_CREATE);
	struct store_login l = login("192.0.2.7", 32, "alice", 1000, 1800);
	struct relay_lookups lk;
	struct ipaddr a = ip("192.0.2.7"), b = ip("192.0.2.8");
	char *error = NULL;

	apply_ok(store, &l, 1, NULL);
	ck_assert_int_eq(store_user_set_suspended(store, "mallory", true, "root", &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "alice", "@example.org", "root", &error), 0);
	store_lookups_init(&lk, store);
	ck_assert_int_eq(lk.grant_live(lk.ctx, &a, 1500), LOOKUP_FOUND);
	ck_assert_int_eq(lk.grant_live(lk.ctx, &b, 1500), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(lk.user_suspended(lk.ctx, "mallory"), LOOKUP_FOUND);
	ck_assert_int_eq(lk.user_suspended(lk.ctx, "alice"), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(lk.sender_owned(lk.ctx, "alice", "x+y@Example.org"), LOOKUP_FOUND);
	ck_assert_int_eq(lk.cert_known(lk.ctx, "AA:BB"), LOOKUP_NOT_FOUND);
	store_close(&store, 1000);
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
	tcase_add_loop_test(tc, test_grant_lookup, 0, N(grant_cases));
	tcase_add_test(tc, test_grant_refresh);
	tcase_add_loop_test(tc, test_file_moved, 0, 2);
	tcase_add_test(tc, test_read_snapshot);
	tcase_add_test(tc, test_snapshot_prefix_cache);
	tcase_add_test(tc, test_logins_rollback);
	tcase_add_test(tc, test_grant_add_revoke);
	tcase_add_test(tc, test_users);
	tcase_add_loop_test(tc, test_sender_owned, 0, N(sender_cases));
	tcase_add_test(tc, test_sender_admin);
	tcase_add_test(tc, test_certs);
	tcase_add_test(tc, test_fingerprint_normalize);
	tcase_add_test(tc, test_views_iso8601);
	tcase_add_test(tc, test_query_read_only);
	tcase_add_test(tc, test_prune);
	tcase_add_test(tc, test_audit_filters);
	tcase_add_test(tc, test_lookups_bound);
	tcase_add_test(tc, test_memo);
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

/*
 * NAME
 *	check_store_writer 1
 * SUMMARY
 *	tests for the store's decision queue, writer thread and locking
 * DESCRIPTION
 *	A second sqlite3 handle takes the write lock (BEGIN EXCLUSIVE) the
 *	way another program or an admin's shell would: admin writes must
 *	fail within the busy timeout, lookups must still answer (WAL lets
 *	readers past a writer), decisions queued meanwhile must all be
 *	written once the lock is gone. LOOKUP_ERROR is provoked by taking
 *	the table away under the store. Bounds are generous: the machine
 *	may be busy.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ipaddr.h"
#include "log.h"
#include "store.h"
#include "test_sqlite.h"
#include "test_tmpdir.h"

static const char *dir;
static char path[160];

static void setup(void)
{
	dir = test_tmpdir_create("check_store_writer");
	snprintf(path, sizeof path, "%s/authrelay.db", dir);
}

static struct store *open_store(long long busy_ms, unsigned queue_max)
{
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = busy_ms,
				     .decision_queue_max = queue_max, .program = "policyd" };
	struct store *store = NULL;
	char *error = NULL;

	if (store_open(path, &opts, &store, &error) < 0)
		ck_abort_msg("store_open: got \"%s\", want success", error);
	return store;
}

static long long count_decisions(void)
{
	sqlite3 *db = test_sqlite_open(path, 5000);
	long long n = test_sqlite_int(db, "SELECT count(*) FROM decision_log");

	sqlite3_close(db);
	return n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static const struct store_decision sample = {
	1795698401, NULL, "192.0.2.1", "alice", "alice@example.org", "bob@example.net",
	"permit", "sasl", "authenticated", "4XyZ1"
};

START_TEST(test_locked_writes_and_queue)
{
	struct store *store = open_store(300, 1000);
	struct store_login l;
	struct store_grant g;
	struct ipaddr a;
	uint64_t written, dropped;
	char *error = NULL;
	double t0, took;
	sqlite3 *other;

	memset(&l, 0, sizeof l);
	ipaddr_parse("192.0.2.50", &l.net);
	l.prefix_len = 32;
	snprintf(l.username, sizeof l.username, "alice");
	snprintf(l.service, sizeof l.service, "pop3");
	l.login_time = 1000;
	l.expires_at = 1000000;
	ck_assert_int_eq(store_logins_apply(store, &l, 1, NULL, &error), 0);

	other = test_sqlite_open(path, 10);
	test_sqlite_exec(other, "BEGIN EXCLUSIVE");
	test_sqlite_exec(other,
			 "INSERT INTO admin_actions (ts, actor, action) VALUES (1, 'x', 'lock')");

	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(store_decision_queue(store, &sample), 0);
	/* Locked: nothing can be written, so a flush must time out. */
	ck_assert_int_eq(store_decision_flush(store, 300), -1);
	store_decision_stats(store, &written, &dropped);
	ck_assert_msg(written == 0 && dropped == 0, "stats under lock: got %llu/%llu, want 0/0",
		      (unsigned long long)written, (unsigned long long)dropped);

	/* Admin writes give up after the busy timeout, with a message. */
	memset(&g, 0, sizeof g);
	ipaddr_parse("192.0.2.60", &g.net);
	g.prefix_len = 32;
	g.expires_at = 2000000000;
	t0 = now_ms();
	ck_assert_msg(store_grant_add(store, &g, "root", &error) < 0,
		      "grant add under an exclusive lock: got success");
	took = now_ms() - t0;
	ck_assert_msg(error && strstr(error, "locked"), "got \"%s\", want \"locked\"", error);
	ck_assert_msg(took >= 250 && took < 5000, "grant add waited %.0f ms, want about 300",
		      took);
	free(error);
	error = NULL;
	l.login_time = 2000;
	ck_assert_int_eq(store_logins_apply(store, &l, 1, NULL, &error), -1);
	free(error);
	error = NULL;

	/* WAL: readers are not blocked by another program's write lock. */
	ipaddr_parse("192.0.2.50", &a);
	ck_assert_int_eq(store_grant_lookup(store, &a, 1500, NULL), LOOKUP_FOUND);
	ck_assert_int_eq(store_user_suspended(store, "alice"), LOOKUP_NOT_FOUND);

	test_sqlite_exec(other, "COMMIT");
	sqlite3_close(other);
	ck_assert_int_eq(store_decision_flush(store, 10000), 0);
	store_decision_stats(store, &written, &dropped);
	ck_assert_msg(written == 50 && dropped == 0, "stats after unlock: got %llu/%llu, want 50/0",
		      (unsigned long long)written, (unsigned long long)dropped);
	store_close(&store, 5000);
	ck_assert_int_eq(count_decisions(), 50);
}
END_TEST

START_TEST(test_lookup_error)
{
	struct store *store = open_store(100, 0);
	sqlite3 *other;
	struct ipaddr a;
	char *error = NULL;

	ipaddr_parse("2001:db8::1", &a);
	ck_assert_int_eq(store_sender_allow(store, "alice", "*", "root", &error), 0);
	ck_assert_int_eq(store_grant_lookup(store, &a, 1, NULL), LOOKUP_NOT_FOUND);

	/* Take the tables away under the store's cached statements: every
	   lookup must say "error", never "not found". */
	other = test_sqlite_open(path, 1000);
	test_sqlite_exec(other, "ALTER TABLE grants RENAME TO grants_away;"
				"ALTER TABLE users RENAME TO users_away;"
				"ALTER TABLE sender_rights RENAME TO sender_rights_away;"
				"ALTER TABLE certs RENAME TO certs_away");
	ck_assert_int_eq(store_grant_lookup(store, &a, 1, NULL), LOOKUP_ERROR);
	ck_assert_int_eq(store_user_suspended(store, "alice"), LOOKUP_ERROR);
	ck_assert_int_eq(store_sender_owned(store, "alice", "a@b.test"), LOOKUP_ERROR);
	ck_assert_int_eq(store_cert_lookup(store, "AA:BB", NULL), LOOKUP_ERROR);

	test_sqlite_exec(other, "ALTER TABLE grants_away RENAME TO grants;"
				"ALTER TABLE users_away RENAME TO users;"
				"ALTER TABLE sender_rights_away RENAME TO sender_rights;"
				"ALTER TABLE certs_away RENAME TO certs");
	sqlite3_close(other);
	ck_assert_int_eq(store_grant_lookup(store, &a, 1, NULL), LOOKUP_NOT_FOUND);
	ck_assert_int_eq(store_sender_owned(store, "alice", "a@b.test"), LOOKUP_FOUND);
	store_close(&store, 1000);
}
END_TEST

START_TEST(test_queue_full_drops)
{
	struct store *store = open_store(100, 4);
	uint64_t written, dropped;
	int accepted = 0;
	sqlite3 *other = test_sqlite_open(path, 10);

	test_sqlite_exec(other, "BEGIN EXCLUSIVE");
	test_sqlite_exec(other,
			 "INSERT INTO admin_actions (ts, actor, action) VALUES (1, 'x', 'lock')");
	/* At most 4 in the ring plus one batch (<= 4) taken by the writer. */
	for (int i = 0; i < 20; i++)
		if (store_decision_queue(store, &sample) == 0)
			accepted++;
	ck_assert_msg(accepted >= 4 && accepted <= 8, "accepted: got %d, want 4..8", accepted);
	test_sqlite_exec(other, "COMMIT");
	sqlite3_close(other);
	ck_assert_int_eq(store_decision_flush(store, 10000), 0);
	store_decision_stats(store, &written, &dropped);
	ck_assert_msg(written == (uint64_t)accepted && dropped == (uint64_t)(20 - accepted),
		      "stats: got written %llu dropped %llu, want %d and %d",
		      (unsigned long long)written, (unsigned long long)dropped, accepted,
		      20 - accepted);
	store_close(&store, 5000);
	ck_assert_int_eq(count_decisions(), accepted);
}
END_TEST

START_TEST(test_no_writer)
{
	struct store *store = open_store(100, 0);
	uint64_t written, dropped;

	ck_assert_int_eq(store_decision_queue(store, &sample), -1);
	ck_assert_int_eq(store_decision_flush(store, 10), 0);
	store_decision_stats(store, &written, &dropped);
	ck_assert(written == 0 && dropped == 1);
	store_close(&store, 100);
}
END_TEST

START_TEST(test_close_flushes)
{
	struct store *store = open_store(2000, 5000);

	for (int i = 0; i < 3000; i++)
		ck_assert_int_eq(store_decision_queue(store, &sample), 0);
	store_close(&store, 10000);
	ck_assert_ptr_null(store);
	ck_assert_int_eq(count_decisions(), 3000);
}
END_TEST

/* The writer is signalled only when the queue stops being empty or a
   batch is full; rows in between must still be written, by its own
   timer, without anyone calling flush. */
START_TEST(test_written_without_flush)
{
	static const struct {
		const char *label;
		int rows;
	} cases[] = {
		{ "one row", 1 },
		{ "a few rows", 7 },
		{ "one batch and some", 1003 },
		{ "several batches", 2500 },
	};
	long long total = 0;
	struct store *store = open_store(2000, 5000);

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		double deadline;
		long long got = -1;

		for (int i = 0; i < cases[c].rows; i++)
			ck_assert_int_eq(store_decision_queue(store, &sample), 0);
		total += cases[c].rows;
		/* Generous: the writer's timer is 20 ms, the machine is shared. */
		deadline = now_ms() + 10000;
		while (now_ms() < deadline && (got = count_decisions()) < total)
			usleep(5000);
		ck_assert_msg(got == total, "%s: rows written without flush: got %lld, want %lld",
			      cases[c].label, got, total);
	}
	store_close(&store, 5000);
	ck_assert_int_eq(count_decisions(), total);
}
END_TEST

START_TEST(test_close_gives_up_when_locked)
{
	struct store *store = open_store(50, 100);
	sqlite3 *other = test_sqlite_open(path, 10);
	double t0;

	test_sqlite_exec(other, "BEGIN EXCLUSIVE");
	test_sqlite_exec(other,
			 "INSERT INTO admin_actions (ts, actor, action) VALUES (1, 'x', 'lock')");
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(store_decision_queue(store, &sample), 0);
	t0 = now_ms();
	store_close(&store, 200);
	ck_assert_msg(now_ms() - t0 < 5000, "close took %.0f ms with a 200 ms flush limit",
		      now_ms() - t0);
	test_sqlite_exec(other, "COMMIT");
	sqlite3_close(other);
	ck_assert_int_eq(count_decisions(), 0);
}
END_TEST

struct field_row {
	size_t reason_len, sender_len;
	int valid_utf8;
	char program[32];
	int null_queue_id;
};

static int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : 3;

		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

static int collect_fields(const struct store_decision_row *row, void *ctx)
{
	struct field_row *f = ctx;

	f->reason_len = row->reason ? strlen(row->reason) : 0;
	f->sender_len = row->sender ? strlen(row->sender) : 0;
	f->valid_utf8 = row->sender ? utf8_valid(row->sender) : 1;
	snprintf(f->program, sizeof f->program, "%s", row->program ? row->program : "(null)");
	f->null_queue_id = row->queue_id == NULL;
	return 0;
}

START_TEST(test_fields_capped)
{
	static const struct {
		const char *label;
		size_t reason_in, sender_chars;
		size_t want_reason, want_sender;
	} cases[] = {
		{ "short kept", 10, 5, 10, 10 },
		{ "exactly 1024 kept", 1024, 512, 1024, 1024 },
		{ "long reason cut", 5000, 5, 1024, 10 },
		{ "2-byte chars cut on a boundary", 1, 600, 1, 1024 },
	};
	struct store *store = open_store(2000, 16);
	char *reason = malloc(8192), *sender = malloc(8192);
	struct store_audit_filter f = { 0, NULL, NULL, NULL, 1 };
	struct store_decision d = sample;
	char *error = NULL;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct field_row got;

		memset(reason, 'r', cases[i].reason_in);
		reason[cases[i].reason_in] = '\0';
		/* "é" twice-byte characters, after one ASCII byte so that the
		   1024-byte cut falls inside a character. */
		sender[0] = 'x';
		for (size_t c = 0; c < cases[i].sender_chars; c++)
			memcpy(sender + 1 + 2 * c, "\xc3\xa9", 2);
		sender[1 + 2 * cases[i].sender_chars] = '\0';
		d.reason = reason;
		d.sender = sender + 1;
		if (cases[i].sender_chars == 600)
			d.sender = sender;
		d.queue_id = NULL;
		ck_assert_int_eq(store_decision_queue(store, &d), 0);
		ck_assert_int_eq(store_decision_flush(store, 5000), 0);
		memset(&got, 0, sizeof got);
		ck_assert_int_eq(store_audit(store, &f, collect_fields, &got, &error), 0);
		ck_assert_msg(got.reason_len == cases[i].want_reason,
			      "%s: reason length got %zu, want %zu", cases[i].label, got.reason_len,
			      cases[i].want_reason);
		if (cases[i].sender_chars == 600)
			ck_assert_msg(got.sender_len == 1023 && got.valid_utf8,
				      "%s: sender got %zu bytes (valid %d), want 1023 valid",
				      cases[i].label, got.sender_len, got.valid_utf8);
		else
			ck_assert_msg(got.sender_len == cases[i].want_sender,
				      "%s: sender length got %zu, want %zu", cases[i].label,
				      got.sender_len, cases[i].want_sender);
		ck_assert_str_eq(got.program, "policyd");
		ck_assert(got.null_queue_id);
	}
	free(reason);
	free(sender);
	store_close(&store, 1000);
}
END_TEST

/* ---- many threads at once (the milter) ---- */

#define THREADS 6
#define PER_THREAD 400

static void *hammer(void *arg)
{
	struct store *store = arg;
	struct ipaddr a;
	long bad = 0;

	ipaddr_parse("198.51.100.7", &a);
	for (int i = 0; i < PER_THREAD; i++) {
		if (store_grant_lookup(store, &a, 1500, NULL) != LOOKUP_FOUND)
			bad++;
		if (store_sender_owned(store, "alice", "alice@example.org") != LOOKUP_FOUND)
			bad++;
		if (store_decision_queue(store, &sample) != 0)
			bad++;
	}
	return (void *)bad;
}

/* Rows are written 16 to a statement and the rest one by one: every
   field of every row must land in its own row, in queue order, for
   batch sizes around the group size. */
START_TEST(test_rows_exact)
{
	static const int cases[] = { 1, 15, 16, 17, 33, 48, 1000, 1001 };
	struct store *store = open_store(2000, 5000);
	long long first = 1;

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		sqlite3 *db;
		sqlite3_stmt *stmt;
		long long got_rows = 0;

		for (int i = 0; i < cases[c]; i++) {
			char ip[32], user[32], rcpt[48], qid[16];
			struct store_decision d = sample;

			snprintf(ip, sizeof ip, "192.0.2.%d", i % 256);
			snprintf(user, sizeof user, "user%d", i);
			snprintf(rcpt, sizeof rcpt, "rcpt%d@example.net", i);
			snprintf(qid, sizeof qid, "Q%d", i);
			d.ts = 1795698401 + i;
			d.client_ip = ip;
			d.sasl_username = i % 3 == 0 ? NULL : user;
			d.recipient = rcpt;
			d.verdict = i % 2 ? "reject" : "permit";
			d.queue_id = qid;
			ck_assert_int_eq(store_decision_queue(store, &d), 0);
		}
		ck_assert_int_eq(store_decision_flush(store, 20000), 0);
		db = test_sqlite_open(path, 5000);
		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT id, ts, program, client_ip, "
						    "sasl_username, recipient, verdict, queue_id "
						    "FROM decision_log WHERE id >= ?1 ORDER BY id",
						    -1, &stmt, NULL), SQLITE_OK);
		sqlite3_bind_int64(stmt, 1, first);
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			int i = (int)got_rows++;
			char want[48];
			const char *got;

			ck_assert_int_eq(sqlite3_column_int64(stmt, 1), 1795698401 + i);
			ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 2), "policyd");
			snprintf(want, sizeof want, "192.0.2.%d", i % 256);
			ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 3), want);
			got = (const char *)sqlite3_column_text(stmt, 4);
			if (i % 3 == 0) {
				ck_assert_msg(got == NULL, "batch %d row %d: sasl_username: got \"%s\", "
					      "want NULL", cases[c], i, got);
			} else {
				snprintf(want, sizeof want, "user%d", i);
				ck_assert_str_eq(got, want);
			}
			snprintf(want, sizeof want, "rcpt%d@example.net", i);
			ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 5), want);
			ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 6),
					 i % 2 ? "reject" : "permit");
			snprintf(want, sizeof want, "Q%d", i);
			ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 7), want);
		}
		sqlite3_finalize(stmt);
		sqlite3_close(db);
		ck_assert_msg(got_rows == cases[c], "batch of %d: rows: got %lld, want %d", cases[c],
			      got_rows, cases[c]);
		first += cases[c];
	}
	store_close(&store, 5000);
}
END_TEST

START_TEST(test_threads)
{
	struct store *store = open_store(5000, THREADS * PER_THREAD);
	struct store_login l;
	pthread_t t[THREADS];
	char *error = NULL;
	uint64_t written, dropped;

	memset(&l, 0, sizeof l);
	ipaddr_parse("198.51.100.7", &l.net);
	l.prefix_len = 32;
	snprintf(l.username, sizeof l.username, "alice");
	snprintf(l.service, sizeof l.service, "imap");
	l.login_time = 1000;
	l.expires_at = 2000;
	ck_assert_int_eq(store_logins_apply(store, &l, 1, NULL, &error), 0);
	ck_assert_int_eq(store_sender_allow(store, "alice", "alice@example.org", "root", &error), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, store), 0);
	for (int i = 0; i < THREADS; i++) {
		void *bad;

		pthread_join(t[i], &bad);
		ck_assert_msg(bad == NULL, "thread %d: %ld wrong answers", i, (long)bad);
	}
	ck_assert_int_eq(store_decision_flush(store, 20000), 0);
	store_decision_stats(store, &written, &dropped);
	ck_assert_int_eq(written, THREADS * PER_THREAD);
	ck_assert_int_eq(dropped, 0);
	store_close(&store, 5000);
	ck_assert_int_eq(count_decisions(), THREADS * PER_THREAD);
}
END_TEST

static Suite *writer_suite(void)
{
	Suite *s = suite_create("store_writer");
	TCase *tc = tcase_create("store_writer");

	tcase_add_checked_fixture(tc, setup, test_tmpdir_remove);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_locked_writes_and_queue);
	tcase_add_test(tc, test_lookup_error);
	tcase_add_test(tc, test_queue_full_drops);
	tcase_add_test(tc, test_no_writer);
	tcase_add_test(tc, test_close_flushes);
	tcase_add_test(tc, test_written_without_flush);
	tcase_add_test(tc, test_close_gives_up_when_locked);
	tcase_add_test(tc, test_fields_capped);
	tcase_add_test(tc, test_rows_exact);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(writer_suite());
	int failed;

	log_set_level(LOG_LEVEL_ERROR);	/* the drop and lock warnings are expected here */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

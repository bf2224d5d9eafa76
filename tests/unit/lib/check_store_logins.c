/*
 * NAME
 *	check_store_logins 1
 * SUMMARY
 *	tests for store_logins_apply() batches: one call stores what one call per login would
 * DESCRIPTION
 *	store_logins_apply() writes a batch SQ_LOGIN_ROWS (16) logins per
 *	statement and the rest one by one. Each case applies a list of logins
 *	in one call to one database and one login per call to another, then
 *	compares every column of grants and grant_log (ids included) and the
 *	checkpoint; it also checks the grants the list must leave, so that
 *	two equal wrong answers cannot pass. The lists repeat addresses within
 *	the first 16 rows, across the 16-row boundary and in the single-row
 *	tail, with refreshes, older lines, expiry and IPv6 prefixes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ipaddr.h"
#include "log.h"
#include "store.h"
#include "test_tmpdir.h"
#include "test_run.h"

#define MAX_LOGINS 80

static const char *dir;

static void setup(void)
{
	dir = test_tmpdir_create("check_store_logins");
}

static struct store *open_db(const char *name, char *path, size_t size)
{
	struct store_options opts = { .mode = STORE_OPEN_CREATE, .busy_timeout_ms = 2000,
				     .decision_queue_max = 0, .program = "test" };
	struct store *store = NULL;
	char *error = NULL;

	snprintf(path, size, "%s/%s.db", dir, name);
	if (store_open(path, &opts, &store, &error) < 0)
		ck_abort_msg("store_open(%s): got error \"%s\", want success", path, error);
	return store;
}

/* The i-th login of a generated list: address, prefix, user, time. */
struct login_spec {
	const char *addr;
	unsigned prefix;
	const char *user;
	int64_t t, ttl;
};

static struct store_login make_login(const struct login_spec *s, int i)
{
	static char lines[MAX_LOGINS][96];
	struct store_login l;

	memset(&l, 0, sizeof l);
	ck_assert_msg(ipaddr_parse(s->addr, &l.net) == 0, "ipaddr_parse(%s)", s->addr);
	ipaddr_mask(&l.net, s->prefix);
	l.prefix_len = s->prefix;
	snprintf(l.username, sizeof l.username, "%s", s->user);
	snprintf(l.service, sizeof l.service, "%s", i % 3 ? "imap" : "pop3");
	l.login_time = s->t;
	l.expires_at = s->t + s->ttl;
	snprintf(l.source, sizeof l.source, "/var/log/mail%d.log", i % 2);
	snprintf(lines[i], sizeof lines[i], "line %d: Login: user=<%s>, rip=%s", i, s->user,
		 s->addr);
	l.line = lines[i];
	return l;
}

/* dump - every row the logins wrote, as one text */
static char *dump(const char *path)
{
	static const char *const sql =
		"SELECT group_concat(r, char(10)) FROM ("
		"SELECT 'g' || id || '|' || family || '|' || hex(net) || '|' || ip || '|' || "
		"prefix_len || '|' || username || '|' || service || '|' || first_seen || '|' || "
		"last_seen || '|' || expires_at || '|' || logins AS r FROM grants "
		"UNION ALL SELECT 'l' || id || '|' || event || '|' || ip || '|' || prefix_len || "
		"'|' || username || '|' || service || '|' || login_time || '|' || "
		"ifnull(expires_at, 'NULL') || '|' || source || '|' || ifnull(line, 'NULL') "
		"FROM grant_log "
		"UNION ALL SELECT 'c' || source || '|' || dev || '|' || ino || '|' || offset || "
		"'|' || line_hash || '|' || updated FROM loginwatch_checkpoints)";
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt;
	char *text = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s",
		      sqlite3_errmsg(db));
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *rows = (const char *)sqlite3_column_text(stmt, 0);

		text = strdup(rows != NULL ? rows : "");	/* NULL: no rows */
	}
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	ck_assert_ptr_nonnull(text);
	return text;
}

static const struct login_spec repeat[] = {
	/* rows 0-15: the first multi-row statement */
	{ "192.0.2.1", 32, "alice", 1000, 1800 },
	{ "192.0.2.2", 32, "bob", 1001, 1800 },
	{ "192.0.2.1", 32, "alice", 1100, 1800 },	/* refresh inside the statement */
	{ "2001:db8:1::5", 64, "carol", 1002, 1800 },
	{ "2001:db8:1::6", 64, "dave", 1003, 1800 },	/* same /64: refresh, new user */
	{ "192.0.2.1", 32, "alice", 1050, 1800 },	/* older line: expiry stays */
	{ "192.0.2.3", 32, "erin", 1004, 10 },
	{ "192.0.2.3", 32, "erin", 2000, 1800 },	/* after its expiry: anew */
	{ "192.0.2.4", 32, "frank", 1005, 1800 },
	{ "192.0.2.5", 32, "grace", 1006, 1800 },
	{ "192.0.2.6", 32, "heidi", 1007, 1800 },
	{ "192.0.2.7", 32, "ivan", 1008, 1800 },
	{ "192.0.2.8", 32, "judy", 1009, 1800 },
	{ "192.0.2.9", 32, "mallory", 1010, 1800 },
	{ "192.0.2.10", 32, "niaj", 1011, 1800 },
	{ "192.0.2.2", 32, "bob", 1200, 1800 },
	/* rows 16-31: the second */
	{ "192.0.2.2", 32, "bob", 1300, 1800 },		/* across the boundary */
	{ "192.0.2.11", 32, "olivia", 1012, 1800 },
	{ "192.0.2.12", 32, "peggy", 1013, 1800 },
	{ "192.0.2.13", 32, "rupert", 1014, 1800 },
	{ "192.0.2.14", 32, "sybil", 1015, 1800 },
	{ "192.0.2.15", 32, "trent", 1016, 1800 },
	{ "192.0.2.16", 32, "victor", 1017, 1800 },
	{ "192.0.2.17", 32, "walter", 1018, 1800 },
	{ "192.0.2.18", 32, "alice", 1019, 1800 },
	{ "192.0.2.19", 32, "bob", 1020, 1800 },
	{ "192.0.2.20", 32, "carol", 1021, 1800 },
	{ "192.0.2.21", 32, "dave", 1022, 1800 },
	{ "192.0.2.22", 32, "erin", 1023, 1800 },
	{ "192.0.2.23", 32, "frank", 1024, 1800 },
	{ "192.0.2.24", 32, "grace", 1025, 1800 },
	{ "2001:db8:1::7", 64, "carol", 1400, 1800 },
	/* rows 32-36: one by one */
	{ "192.0.2.1", 32, "alice", 1500, 1800 },	/* across into the tail */
	{ "192.0.2.25", 32, "heidi", 1026, 1800 },
	{ "192.0.2.25", 32, "heidi", 1027, 1800 },	/* inside the tail */
	{ "2001:db8:2::1", 48, "ivan", 1028, 1800 },
	{ "192.0.2.2", 32, "bob", 1250, 1800 },
};

/* The grants the repeat list must leave: ip, first, last, expires, logins. */
static const struct {
	const char *ip;
	unsigned prefix;
	int64_t first, last, expires, logins;
} repeat_want[] = {
	{ "192.0.2.1", 32, 1000, 1500, 3300, 4 },
	{ "192.0.2.2", 32, 1001, 1300, 3100, 4 },
	{ "2001:db8:1::", 64, 1002, 1400, 3200, 3 },
	{ "192.0.2.3", 32, 2000, 2000, 3800, 1 },
	{ "192.0.2.25", 32, 1026, 1027, 2827, 2 },
};

/* Lengths around the 16-row statement: under, at, over, two and a tail. */
static const size_t lengths[] = { 1, 5, 15, 16, 17, 31, 32, 33, 37 };

START_TEST(test_one_call_equals_one_per_login)
{
	size_t n = lengths[_i];
	char path_one[128], path_each[128], *error = NULL, *one, *each;
	struct store *a = open_db("one", path_one, sizeof path_one);
	struct store *b = open_db("each", path_each, sizeof path_each);
	struct store_login l[MAX_LOGINS];
	struct store_checkpoint cp;

	ck_assert(n <= sizeof repeat / sizeof repeat[0]);
	for (size_t i = 0; i < n; i++)
		l[i] = make_login(&repeat[i], (int)i);
	memset(&cp, 0, sizeof cp);
	snprintf(cp.source, sizeof cp.source, "/var/log/mail0.log");
	cp.offset = 4242;
	cp.line_hash = 0xfedcba9876543210ULL;
	cp.updated = 5000;

	if (store_logins_apply(a, l, n, &cp, &error) < 0)
		ck_abort_msg("%zu logins in one call: got error \"%s\", want success", n, error);
	for (size_t i = 0; i < n; i++)
		if (store_logins_apply(b, &l[i], 1, i + 1 == n ? &cp : NULL, &error) < 0)
			ck_abort_msg("login %zu alone: got error \"%s\", want success", i, error);
	if (n == sizeof repeat / sizeof repeat[0]) {
		for (size_t k = 0; k < sizeof repeat_want / sizeof repeat_want[0]; k++) {
			struct store_grant g;
			struct ipaddr ip;

			ck_assert(ipaddr_parse(repeat_want[k].ip, &ip) == 0);
			ck_assert_msg(store_grant_lookup(a, &ip, 2000, &g) == LOOKUP_FOUND,
				      "%s: got no grant, want one", repeat_want[k].ip);
			ck_assert_msg(g.prefix_len == repeat_want[k].prefix
					      && g.first_seen == repeat_want[k].first
					      && g.last_seen == repeat_want[k].last
					      && g.expires_at == repeat_want[k].expires
					      && g.logins == repeat_want[k].logins,
				      "%s: got /%u first=%lld last=%lld expires=%lld logins=%lld, "
				      "want /%u %lld %lld %lld %lld", repeat_want[k].ip, g.prefix_len,
				      (long long)g.first_seen, (long long)g.last_seen,
				      (long long)g.expires_at, (long long)g.logins,
				      repeat_want[k].prefix, (long long)repeat_want[k].first,
				      (long long)repeat_want[k].last,
				      (long long)repeat_want[k].expires,
				      (long long)repeat_want[k].logins);
		}
	}
	store_close(&a, 1000);
	store_close(&b, 1000);

	one = dump(path_one);
	each = dump(path_each);
	if (strcmp(one, each) != 0) {
		size_t k = 0, start = 0;

		while (one[k] == each[k]) {
			if (one[k] == '\n')
				start = k + 1;
			k++;
		}
		ck_abort_msg("%zu logins in one call: got row \"%.*s\", want \"%.*s\" (as one "
			     "call per login wrote)", n, (int)strcspn(one + start, "\n"),
			     one + start, (int)strcspn(each + start, "\n"), each + start);
	}
	ck_assert_msg(strstr(one, "|NULL") == NULL, "%zu logins: got a NULL column, want none",
		      n);
	free(one);
	free(each);
}
END_TEST

/* A bad row anywhere refuses the whole batch before anything is written. */
START_TEST(test_bad_row_refuses_batch)
{
	char path[128], *error = NULL, *rows;
	struct store *a = open_db("one", path, sizeof path);
	struct store_login l[20];

	for (size_t i = 0; i < 20; i++)
		l[i] = make_login(&repeat[i], (int)i);
	l[17].expires_at = l[17].login_time;
	ck_assert_msg(store_logins_apply(a, l, 20, NULL, &error) < 0,
		      "20 logins, row 17 expiring at its login: got success, want an error");
	ck_assert_msg(error != NULL && strstr(error, "expiry") != NULL,
		      "error: got \"%s\", want one naming the expiry", error ? error : "(null)");
	free(error);
	store_close(&a, 1000);
	rows = dump(path);
	ck_assert_msg(rows[0] == '\0', "got rows\n%s\nwant none", rows);
	free(rows);
}
END_TEST


/* Sessions: the same login from two sources (a Dovecot report and its
   log line share the session id) is counted once, in one call or in
   two, in a 16-row statement or the tail; another session or another
   address is another login. Each string lists "ip session" pairs; want
   is the grants' logins and the grant_log rows left. */
static const struct {
	const char *label;
	const char *const logins[20];
	const char *one_call_ip;	/* the grant whose logins are checked */
	int64_t want_logins;
	int want_rows;
} session_cases[] = {
	{ "same session twice", { "192.0.2.1 S1", "192.0.2.1 S1" }, "192.0.2.1", 1, 1 },
	{ "two sessions", { "192.0.2.1 S1", "192.0.2.1 S2" }, "192.0.2.1", 2, 2 },
	{ "no session twice", { "192.0.2.1 -", "192.0.2.1 -" }, "192.0.2.1", 2, 2 },
	{ "same session, another address", { "192.0.2.1 S1", "192.0.2.2 S1" }, "192.0.2.2", 1, 2 },
	{ "repeat inside and across a 16-row statement",
	  { "192.0.2.1 S1", "192.0.2.2 S2", "192.0.2.1 S1", "192.0.2.3 S3", "192.0.2.4 S4",
	    "192.0.2.5 S5", "192.0.2.6 S6", "192.0.2.7 S7", "192.0.2.8 S8", "192.0.2.9 S9",
	    "192.0.2.10 S10", "192.0.2.11 S11", "192.0.2.12 S12", "192.0.2.13 S13",
	    "192.0.2.14 S14", "192.0.2.15 S15", "192.0.2.16 S16", "192.0.2.1 S1",
	    "192.0.2.1 S17", "192.0.2.2 S2" },
	  "192.0.2.1", 2, 17 },
};

START_TEST(test_session_counted_once)
{
	static struct login_spec spec[20];
	char path[128], *error = NULL;
	struct store_login l[20];
	size_t n = 0;
	int split = _i & 1, c = _i >> 1;

	memset(spec, 0, sizeof spec);
	for (n = 0; n < 20 && session_cases[c].logins[n] != NULL; n++) {
		static char ips[20][64];
		const char *sp = strchr(session_cases[c].logins[n], ' ');

		snprintf(ips[n], sizeof ips[n], "%.*s", (int)(sp - session_cases[c].logins[n]),
			 session_cases[c].logins[n]);
		spec[n] = (struct login_spec){ ips[n], 32, "alice", 1000 + (int64_t)n, 1800 };
		l[n] = make_login(&spec[n], (int)n);
		if (strcmp(sp + 1, "-") != 0)
			snprintf(l[n].session, sizeof l[n].session, "%s", sp + 1);
	}
	struct store *a = open_db("one", path, sizeof path);

	if (!split) {
		if (store_logins_apply(a, l, n, NULL, &error) < 0)
			ck_abort_msg("%s: got error \"%s\", want success", session_cases[c].label, error);
	} else {
		for (size_t i = 0; i < n; i++)
			if (store_logins_apply(a, &l[i], 1, NULL, &error) < 0)
				ck_abort_msg("%s: got error \"%s\", want success",
					     session_cases[c].label, error);
	}
	struct store_grant g;
	struct ipaddr ip;

	ck_assert(ipaddr_parse(session_cases[c].one_call_ip, &ip) == 0);
	ck_assert_msg(store_grant_lookup(a, &ip, 1500, &g) == LOOKUP_FOUND, "%s: no grant for %s",
		      session_cases[c].label, session_cases[c].one_call_ip);
	ck_assert_msg(g.logins == session_cases[c].want_logins,
		      "%s (%s): logins of %s: got %lld, want %lld", session_cases[c].label,
		      split ? "one call each" : "one call", session_cases[c].one_call_ip,
		      (long long)g.logins, (long long)session_cases[c].want_logins);
	store_close(&a, 1000);

	char *rows = dump(path);
	int count = 0;

	/* grant_log rows are the lines starting with 'l' */
	for (const char *p = rows; *p != '\0'; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "")
		count += *p == 'l';
	ck_assert_msg(count == session_cases[c].want_rows,
		      "%s (%s): grant_log rows: got %d, want %d", session_cases[c].label,
		      split ? "one call each" : "one call", count, session_cases[c].want_rows);
	free(rows);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_logins");
	TCase *tc = tcase_create("batches");

	log_set_level(LOG_LEVEL_WARNING);
	tcase_add_checked_fixture(tc, setup, test_tmpdir_remove);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_one_call_equals_one_per_login, 0,
			    (int)(sizeof lengths / sizeof lengths[0]));
	tcase_add_test(tc, test_bad_row_refuses_batch);
	tcase_add_loop_test(tc, test_session_counted_once, 0,
			    (int)(2 * sizeof session_cases / sizeof session_cases[0]));
	suite_add_tcase(s, tc);
	return test_run(s);
}

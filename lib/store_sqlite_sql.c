/*
 * NAME
 *	store_sqlite_sql 3
 * SUMMARY
 *	every SQL statement of the SQLite backend, in one table
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	One place to read the backend's SQL against sql/NNN-*.sql. Each
 *	connection prepares an entry on first use and keeps it (see
 *	sq_stmt()). Comments name the index a statement relies on.
 */
#include "store_sqlite.h"

#define DECISION_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define DECISION_ROWS_4 DECISION_ROW ", " DECISION_ROW ", " DECISION_ROW ", " DECISION_ROW
#define DECISION_ROWS_16 \
	DECISION_ROWS_4 ", " DECISION_ROWS_4 ", " DECISION_ROWS_4 ", " DECISION_ROWS_4
_Static_assert(SQ_DECISION_ROWS_PER_INSERT == 16, "DECISION_ROWS_16 has 16 rows");

/* One grants row of an upsert, in bind order: family, net, ip,
   prefix_len, username, service, first_seen, last_seen, expires_at
   (logins starts at 1). */
#define GRANT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"
#define GRANT_UPSERT_HEAD                                                                   \
	"INSERT INTO grants (family, net, ip, prefix_len, username, service, first_seen, "   \
	"last_seen, expires_at, logins) VALUES "
#define GRANT_UPSERT_TAIL                                                                   \
	" ON CONFLICT (net, prefix_len) DO UPDATE SET "                                      \
	"first_seen = CASE WHEN expires_at > excluded.first_seen "                           \
	"THEN first_seen ELSE excluded.first_seen END, "                                     \
	"last_seen = CASE WHEN expires_at > excluded.first_seen "                            \
	"THEN max(last_seen, excluded.last_seen) ELSE excluded.last_seen END, "              \
	"expires_at = CASE WHEN expires_at > excluded.first_seen "                           \
	"THEN max(expires_at, excluded.expires_at) ELSE excluded.expires_at END, "           \
	"logins = CASE WHEN expires_at > excluded.first_seen "                               \
	"THEN logins + 1 ELSE 1 END, "                                                       \
	"username = excluded.username, service = excluded.service"

/* One grant_log row, in bind order: event, ip, prefix_len, username,
   service, login_time, expires_at, source, line, session. */
#define GRANT_LOG_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define GRANT_LOG_HEAD                                                                      \
	"INSERT INTO grant_log (event, ip, prefix_len, username, service, login_time, "      \
	"expires_at, source, line, session) VALUES "

/* SQ_LOGIN_ROWS copies of a row, for the _MANY statements. */
#define SQ_ROWS4(r) r ", " r ", " r ", " r
#define SQ_ROWS(r) SQ_ROWS4(r) ", " SQ_ROWS4(r) ", " SQ_ROWS4(r) ", " SQ_ROWS4(r)
_Static_assert(sizeof(SQ_ROWS(GRANT_ROW)) == SQ_LOGIN_ROWS * (sizeof(GRANT_ROW) + 1) - 1,
	       "SQ_ROWS() must repeat a row SQ_LOGIN_ROWS times");

#define LIMIT_ADD_ROW "(?, ?, ?, ?, ?, ?)"
#define LIMIT_ADD_ROWS_8 SQ_ROWS4(LIMIT_ADD_ROW) ", " SQ_ROWS4(LIMIT_ADD_ROW)
_Static_assert(SQ_LIMIT_ADD_ROWS == 8, "LIMIT_ADD_ROWS_8 has 8 rows");
_Static_assert(SQ_PENDING_STMT_ROWS == 2 * SQ_LOGIN_ROWS, "SQ_LIMIT_COUNT_ADD_MANY: SQ_ROWS() twice");
/* The rows of six parameters (subject, kind, window_seconds, bucket,
   count, max) are added to the counters; rows left unbound are NULL and
   filtered out. "WHERE" also keeps SQLite from reading ON as a join's
   (the upsert-with-SELECT parsing rule). */
#define LIMIT_COUNT_ADD(rows) \
	"INSERT INTO limit_counts (subject, kind, window_seconds, bucket, count, max) " \
	"SELECT * FROM (VALUES " rows ") WHERE column1 IS NOT NULL " \
	"ON CONFLICT (subject, kind, window_seconds, bucket) DO UPDATE " \
	"SET count = count + excluded.count, max = excluded.max"
_Static_assert(SQ_LIMIT_ADD_ROWS == STORE_LIMIT_KINDS * LIMIT_WINDOWS_MAX,
	       "a row per window of each kind");

const char *const sq_sql[SQ_STMT_COUNT] = {
	[SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[SQ_BEGIN_DEFERRED] = "BEGIN DEFERRED",
	[SQ_DATA_VERSION] = "PRAGMA data_version",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
	[SQ_ADMIN_LOG] = "INSERT INTO admin_actions (ts, actor, action, subject, detail) "
			 "VALUES (?1, ?2, ?3, ?4, ?5)",

	/* The next prefix length in use above ?2 (grants_family_prefix: a
	   single index seek; expired rows count too, which only costs a
	   probe). */
	[SQ_GRANT_PREFIX_NEXT] = "SELECT min(prefix_len) FROM grants "
				 "WHERE family = ?1 AND prefix_len > ?2",
	/* The unique (net, prefix_len) index. */
	[SQ_GRANT_GET_LIVE] = "SELECT family, net, prefix_len, username, service, first_seen, "
			      "last_seen, expires_at, logins, id FROM grants "
			      "WHERE net = ?1 AND prefix_len = ?2 AND expires_at > ?3",
	[SQ_GRANT_GET_ANY] = "SELECT family, net, prefix_len, username, service, first_seen, "
			     "last_seen, expires_at, logins, id FROM grants "
			     "WHERE net = ?1 AND prefix_len = ?2",
	/* A grant still live at the login's time keeps first_seen and counts
	   one more login, and its expiry never moves backwards; an expired one
	   starts anew. SET expressions see the old row. The rows of the
	   multi-row form are inserted in order, each seeing those before it,
	   so it stores what as many single-row statements would. */
	[SQ_GRANT_UPSERT] = GRANT_UPSERT_HEAD GRANT_ROW GRANT_UPSERT_TAIL,
	[SQ_GRANT_UPSERT_MANY] = GRANT_UPSERT_HEAD SQ_ROWS(GRANT_ROW) GRANT_UPSERT_TAIL,
	[SQ_GRANT_DELETE] = "DELETE FROM grants WHERE id = ?1",
	[SQ_GRANT_LIST] = "SELECT family, net, prefix_len, username, service, first_seen, "
			  "last_seen, expires_at, logins, id FROM grants "
			  "WHERE expires_at > ?1 ORDER BY first_seen, id",
	[SQ_GRANT_LOG] = GRANT_LOG_HEAD GRANT_LOG_ROW,
	[SQ_GRANT_LOG_MANY] = GRANT_LOG_HEAD SQ_ROWS(GRANT_LOG_ROW),
	/* The partial index grant_log_session (session = ?1 implies NOT NULL). */
	[SQ_GRANT_LOG_SESSION] = "SELECT 1 FROM grant_log WHERE session = ?1 AND ip = ?2 LIMIT 1",
	[SQ_CHECKPOINT_GET] = "SELECT dev, ino, offset, line_hash, updated "
			      "FROM loginwatch_checkpoints WHERE source = ?1",
	[SQ_CHECKPOINT_PUT] = "INSERT INTO loginwatch_checkpoints "
			      "(source, dev, ino, offset, line_hash, updated) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
			      "ON CONFLICT (source) DO UPDATE SET dev = excluded.dev, "
			      "ino = excluded.ino, offset = excluded.offset, "
			      "line_hash = excluded.line_hash, updated = excluded.updated",

	[SQ_USER_SUSPENDED] = "SELECT suspended FROM users WHERE username = ?1",
	[SQ_USER_SET] = "INSERT INTO users (username, suspended, changed) VALUES (?1, ?2, ?3) "
			"ON CONFLICT (username) DO UPDATE SET "
			"suspended = excluded.suspended, changed = excluded.changed",
	[SQ_USER_ENSURE] = "INSERT INTO users (username, suspended, changed) VALUES (?1, 0, ?2) "
			   "ON CONFLICT (username) DO NOTHING",
	[SQ_USER_LIST] = "SELECT u.username, u.suspended, u.changed, "
			 "(SELECT count(*) FROM sender_rights s WHERE s.username = u.username) "
			 "FROM users u ORDER BY u.username",
	/* The primary key (username, pattern): three equality probes. */
	[SQ_SENDER_OWNED] = "SELECT 1 FROM sender_rights "
			    "WHERE username = ?1 AND pattern IN (?2, ?3, '*') LIMIT 1",
	[SQ_SENDER_ADD] = "INSERT INTO sender_rights (username, pattern, added) "
			  "VALUES (?1, ?2, ?3) ON CONFLICT (username, pattern) DO NOTHING",
	[SQ_SENDER_DELETE] = "DELETE FROM sender_rights WHERE username = ?1 AND pattern = ?2",
	[SQ_SENDER_LIST_ALL] = "SELECT username, pattern, added FROM sender_rights "
			       "ORDER BY username, pattern",
	[SQ_SENDER_LIST_USER] = "SELECT username, pattern, added FROM sender_rights "
				"WHERE username = ?1 ORDER BY pattern",

	/* The primary key, then certs_pubkey. */
	[SQ_CERT_LOOKUP] = "SELECT username FROM certs WHERE fingerprint = ?1 "
			   "UNION ALL "
			   "SELECT username FROM certs WHERE pubkey_fingerprint = ?1 LIMIT 1",
	[SQ_CERT_ADD] = "INSERT INTO certs (fingerprint, pubkey_fingerprint, username, subject, "
			"not_after, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[SQ_CERT_FIND] = "SELECT fingerprint, username FROM certs WHERE fingerprint = ?1 "
			 "UNION ALL "
			 "SELECT fingerprint, username FROM certs WHERE pubkey_fingerprint = ?1",
	[SQ_CERT_DELETE] = "DELETE FROM certs WHERE fingerprint = ?1",
	[SQ_CERT_LIST] = "SELECT username, fingerprint, pubkey_fingerprint, subject, "
			 "not_after, added FROM certs ORDER BY username, added, fingerprint",

	[SQ_DECISION_INSERT] = "INSERT INTO decision_log (ts, program, client_ip, sasl_username, "
			       "sender, recipient, verdict, rule, reason, queue_id) "
			       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	/* SQ_DECISION_ROWS_PER_INSERT rows of ten parameters, numbered in
	   order (an unnumbered ? is the previous number plus one). */
	[SQ_DECISION_INSERT_MANY] = "INSERT INTO decision_log (ts, program, client_ip, "
				    "sasl_username, sender, recipient, verdict, rule, reason, "
				    "queue_id) VALUES " DECISION_ROWS_16,
	/* Batches by rowid so each transaction stays short (decision_log_ts
	   finds them). */
	[SQ_PRUNE_DECISIONS] = "DELETE FROM decision_log WHERE id IN "
			       "(SELECT id FROM decision_log WHERE ts < ?1 LIMIT ?2)",
	[SQ_PRUNE_GRANTS] = "DELETE FROM grants WHERE id IN "
			    "(SELECT id FROM grants WHERE expires_at < ?1 LIMIT ?2)",
	/* What prune will delete, for its progress line: decision_log_ts
	   counts the range without reading rows; grants is small. */
	[SQ_PRUNE_COUNT_DECISIONS] = "SELECT count(*) FROM decision_log WHERE ts < ?1",
	[SQ_PRUNE_COUNT_GRANTS] = "SELECT count(*) FROM grants WHERE expires_at < ?1",

	/* Refusals go with the audit (audit_retention); counters with
	   their window: a bucket twice its window old counts for nothing
	   (?1, prune's time, is not used by this one). */
	[SQ_PRUNE_LIMIT_REFUSALS] = "DELETE FROM limit_refusals WHERE id IN "
				    "(SELECT id FROM limit_refusals WHERE ts < ?1 LIMIT ?2)",
	[SQ_PRUNE_LIMIT_COUNTS] = "DELETE FROM limit_counts WHERE (subject, kind, window_seconds, "
				  "bucket) IN (SELECT subject, kind, window_seconds, bucket "
				  "FROM limit_counts WHERE bucket + 2 * window_seconds < "
				  "CAST(strftime('%s', 'now') AS INTEGER) LIMIT ?2)",
	/* The primary key's prefix, twice: a user's rows and its domain's. */
	[SQ_LIMIT_RULE_GET] = "SELECT subject, kind, spec FROM limit_rules "
			      "WHERE subject IN (?1, ?2)",
	[SQ_LIMIT_RULE_SET] = "INSERT INTO limit_rules (subject, kind, spec, changed) "
			      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (subject, kind) DO UPDATE "
			      "SET spec = excluded.spec, changed = excluded.changed",
	[SQ_LIMIT_RULE_CLEAR] = "DELETE FROM limit_rules WHERE subject = ?1",
	[SQ_LIMIT_RULE_LIST] = "SELECT subject, kind, spec, changed FROM limit_rules "
			       "ORDER BY subject, kind",
	/* The primary key's prefix: a subject's buckets, a few dozen rows. */
	[SQ_LIMIT_COUNTS_GET] = "SELECT kind, window_seconds, bucket, count FROM limit_counts "
				"WHERE subject = ?1",
	/* LIMIT_COUNT_ADD above: 8 rows, 4, and 32 */
	[SQ_LIMIT_COUNT_ADD] = LIMIT_COUNT_ADD(LIMIT_ADD_ROWS_8),
	[SQ_LIMIT_COUNT_ADD_FEW] = LIMIT_COUNT_ADD(SQ_ROWS4(LIMIT_ADD_ROW)),
	[SQ_LIMIT_COUNT_ADD_MANY] = LIMIT_COUNT_ADD(SQ_ROWS(LIMIT_ADD_ROW) ", "
						    SQ_ROWS(LIMIT_ADD_ROW)),
	[SQ_LIMIT_COUNTS_EXPIRE] = "DELETE FROM limit_counts WHERE subject = ?1 AND kind = ?2 "
				   "AND window_seconds = ?3 AND bucket < ?4",
	[SQ_LIMIT_REFUSAL_ADD] = "INSERT INTO limit_refusals (ts, subject, kind, window_seconds, "
				 "notified) VALUES (?1, ?2, ?3, ?4, ?5)",
	/* limit_refusals_subject_ts. */
	[SQ_LIMIT_REFUSALS_RECENT] = "SELECT count(*), coalesce(max(notified), 0) "
				     "FROM limit_refusals WHERE subject = ?1 AND ts > ?2",
};

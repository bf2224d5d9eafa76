-- 004-limits.sql -- sending limits per user (authrelay.conf(5) "Limits").
--
-- As sql/004-limits.sql for SQLite (which says what each table holds),
-- with the same tables, columns and meaning, in PostgreSQL's types.
-- What PostgreSQL adds: limit_rules notifies the daemons like the other
-- tables they answer from (they keep the rules in memory); the counters
-- and refusals are never in memory: a charge asks the database, under a
-- per-subject advisory lock, in one transaction timed by the server's
-- clock, so several MX hosts share them (lib/store_pgsql_limits.c).
CREATE TABLE limit_rules (
	subject text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('recipients', 'messages')),
	spec text NOT NULL,
	changed bigint NOT NULL,
	PRIMARY KEY (subject, kind)
);

CREATE TABLE limit_counts (
	subject text NOT NULL,
	kind text NOT NULL CHECK (kind IN ('recipients', 'messages')),
	window_seconds bigint NOT NULL CHECK (window_seconds > 0),
	bucket bigint NOT NULL,
	count bigint NOT NULL CHECK (count >= 0),
	max bigint NOT NULL,
	PRIMARY KEY (subject, kind, window_seconds, bucket)
);

CREATE TABLE limit_refusals (
	id bigserial PRIMARY KEY,
	ts bigint NOT NULL,
	subject text NOT NULL,
	kind text NOT NULL,
	window_seconds bigint NOT NULL,
	notified integer NOT NULL DEFAULT 0 CHECK (notified IN (0, 1))
);
CREATE INDEX limit_refusals_subject_ts ON limit_refusals (subject, ts);
CREATE INDEX limit_refusals_ts ON limit_refusals (ts);

CREATE TRIGGER limit_rules_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON limit_rules FOR EACH STATEMENT EXECUTE FUNCTION authrelay_notify();

-- Each limited subject's windows, as SQLite's limit_usage: the limit and
-- what counts now (the buckets from the one that holds now - window + 1
-- on; lib/limit_window.c computes the same). window is in seconds.
CREATE VIEW limit_usage AS
SELECT c.subject AS username, c.kind AS kind, c.window_seconds AS "window",
       (SELECT l.max FROM limit_counts l
         WHERE l.subject = c.subject AND l.kind = c.kind
           AND l.window_seconds = c.window_seconds
         ORDER BY l.bucket DESC LIMIT 1) AS max,
       sum(CASE WHEN c.bucket >= (floor(extract(epoch FROM now()))::bigint - c.window_seconds + 1)
                    - mod(floor(extract(epoch FROM now()))::bigint - c.window_seconds + 1,
                          CASE WHEN c.window_seconds <= 16 THEN 1
                               ELSE (c.window_seconds + 15) / 16 END)
                THEN c.count ELSE 0 END)::bigint AS used
FROM limit_counts c
GROUP BY c.subject, c.kind, c.window_seconds
ORDER BY c.subject COLLATE "C", c.kind, c.window_seconds;

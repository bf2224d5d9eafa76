-- 004-limits.sql -- sending limits per user (authrelay.conf(5) "Limits").
--
-- limit_rules: the per-user and per-domain limits set with
-- `authrelayctl limit set`. subject is a user name as Postfix reports it
-- (sasl_username, a grant's or a certificate's user) or '@domain' for
-- every user of that domain; spec is the canonical text of
-- lib/limit_spec.h ("100/1h, 1000/1d", or "unlimited"). A kind without
-- a row falls through: user, then domain, then the config's default.
CREATE TABLE limit_rules (
	subject TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('recipients', 'messages')),
	spec TEXT NOT NULL,
	changed INTEGER NOT NULL,
	PRIMARY KEY (subject, kind)
) WITHOUT ROWID;

-- limit_counts: what each counted subject sent, per window length, in
-- buckets of ceil(window / 16) seconds starting at multiples of that
-- length (lib/limit_window.h: the sliding window and its worst case).
-- subject is the user counted, or the client IP of a grant without a
-- user. max is the limit that applied at the last addition (for the
-- limit_usage view). Rows older than their window are deleted when the
-- subject sends again; authrelayctl prune deletes the rest.
CREATE TABLE limit_counts (
	subject TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('recipients', 'messages')),
	window_seconds INTEGER NOT NULL CHECK (window_seconds > 0),
	bucket INTEGER NOT NULL,
	count INTEGER NOT NULL CHECK (count >= 0),
	max INTEGER NOT NULL,
	PRIMARY KEY (subject, kind, window_seconds, bucket)
) WITHOUT ROWID;

-- limit_refusals: one row per attempt a limit refused, for
-- limit_suspend_after; notified says whether this row sent the one mail
-- to limit_notify_address of its user and window.
CREATE TABLE limit_refusals (
	id INTEGER PRIMARY KEY,
	ts INTEGER NOT NULL,
	subject TEXT NOT NULL,
	kind TEXT NOT NULL,
	window_seconds INTEGER NOT NULL,
	notified INTEGER NOT NULL DEFAULT 0 CHECK (notified IN (0, 1))
);
CREATE INDEX limit_refusals_subject_ts ON limit_refusals (subject, ts);

-- Each limited subject's windows: the limit and what counts now (the
-- sum of the buckets from the one that holds now - window + 1 on;
-- lib/limit_window.c computes the same). window is in seconds.
CREATE VIEW limit_usage AS
SELECT c.subject AS username, c.kind AS kind, c.window_seconds AS "window",
       (SELECT l.max FROM limit_counts l
         WHERE l.subject = c.subject AND l.kind = c.kind
           AND l.window_seconds = c.window_seconds
         ORDER BY l.bucket DESC LIMIT 1) AS max,
       sum(CASE WHEN c.bucket >= (CAST(strftime('%s', 'now') AS INTEGER) - c.window_seconds + 1)
                    - ((CAST(strftime('%s', 'now') AS INTEGER) - c.window_seconds + 1)
                       % (CASE WHEN c.window_seconds <= 16 THEN 1
                               ELSE (c.window_seconds + 15) / 16 END))
                THEN c.count ELSE 0 END) AS used
FROM limit_counts c
GROUP BY c.subject, c.kind, c.window_seconds
ORDER BY c.subject, c.kind, c.window_seconds;

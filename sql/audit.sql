-- audit.sql -- ready queries for authrelay's database.
--
-- Run them all:     sqlite3 -header -column /var/lib/authrelay/authrelay.db < audit.sql
-- Run one by name:  authrelayctl audit --query who-relayed
--
-- Each query starts with a "-- name:" line (the name authrelayctl knows
-- it by) and a "-- what:" line. Times are shown as ISO-8601 UTC text.
-- The queries read the base tables (decision_log, grant_log,
-- admin_actions), whose integer timestamps are indexed, rather than the
-- views, whose text timestamps are not: that is what keeps them well under
-- a second on a year of decisions (tests/bench/audit.sh measures it on
-- 10 million rows). Change the '-1 day' / '-7 days' windows to taste.
--
-- Verdicts: permit (relay allowed), reject, tempfail (store error), and
-- dunno: authrelay had no opinion and Postfix's reject_unauth_destination
-- decided (a refusal when the recipient was not local).

-- name: who-relayed
-- what: who relayed through which client IP in the last 24 hours, and by which rule
SELECT client_ip,
       coalesce(nullif(sasl_username, ''), '-') AS sasl_username,
       rule,
       count(*) AS relayed,
       strftime('%Y-%m-%dT%H:%M:%SZ', min(ts), 'unixepoch') AS first,
       strftime('%Y-%m-%dT%H:%M:%SZ', max(ts), 'unixepoch') AS last
FROM decision_log
WHERE ts >= CAST(strftime('%s', 'now', '-1 day') AS INTEGER)
  AND verdict = 'permit'
GROUP BY client_ip, sasl_username, rule
ORDER BY relayed DESC
LIMIT 100;

-- name: grant-origins
-- what: which user opened which grant, from which login line, in the last 7 days
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', login_time, 'unixepoch') AS login_time,
       username, service, ip, prefix_len,
       strftime('%Y-%m-%dT%H:%M:%SZ', expires_at, 'unixepoch') AS expires_at,
       source, line
FROM grant_log
WHERE login_time >= CAST(strftime('%s', 'now', '-7 days') AS INTEGER)
  AND event IN ('login', 'manual')
ORDER BY login_time DESC
LIMIT 200;

-- name: top-refused
-- what: clients refused most often in the last 24 hours (reject, tempfail, and no-opinion relay attempts)
SELECT client_ip,
       sum(verdict = 'reject') AS rejected,
       sum(verdict = 'tempfail') AS tempfailed,
       sum(verdict = 'dunno') AS no_opinion,
       count(*) AS total,
       strftime('%Y-%m-%dT%H:%M:%SZ', max(ts), 'unixepoch') AS last
FROM decision_log
WHERE ts >= CAST(strftime('%s', 'now', '-1 day') AS INTEGER)
  AND verdict IN ('reject', 'tempfail', 'dunno')
GROUP BY client_ip
ORDER BY total DESC
LIMIT 25;

-- name: sender-mismatches
-- what: authenticated users who tried to send as addresses not granted to them, last 7 days
SELECT sasl_username,
       count(*) AS attempts,
       count(DISTINCT sender) AS senders,
       group_concat(DISTINCT sender) AS sample_senders,
       strftime('%Y-%m-%dT%H:%M:%SZ', max(ts), 'unixepoch') AS last
FROM decision_log
WHERE ts >= CAST(strftime('%s', 'now', '-7 days') AS INTEGER)
  AND rule = 'sender_mismatch'
GROUP BY sasl_username
ORDER BY attempts DESC
LIMIT 100;

-- name: admin-changes
-- what: every change made with authrelayctl, newest first
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch') AS ts,
       actor, action, subject, detail
FROM admin_actions
ORDER BY ts DESC, id DESC
LIMIT 500;

-- name: store-errors
-- what: decisions the database could not answer (on_store_error applied), last 24 hours, per hour
SELECT strftime('%Y-%m-%dT%H:00:00Z', ts, 'unixepoch') AS hour,
       program,
       count(*) AS errors
FROM decision_log
WHERE ts >= CAST(strftime('%s', 'now', '-1 day') AS INTEGER)
  AND rule = 'store_error'
GROUP BY hour, program
ORDER BY hour;

-- name: active-grants
-- what: every live POP/IMAP-before-SMTP or manual grant, soonest to expire first
SELECT ip, prefix_len, username, service,
       strftime('%Y-%m-%dT%H:%M:%SZ', first_seen, 'unixepoch') AS first_seen,
       strftime('%Y-%m-%dT%H:%M:%SZ', expires_at, 'unixepoch') AS expires_at,
       logins
FROM grants
WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER)
ORDER BY expires_at;

-- name: rejects-last-hour
-- what: every rejection in the last hour, with the rule and reason
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch') AS ts,
       program, client_ip, sasl_username, sender, recipient, rule, reason
FROM decision_log
WHERE verdict = 'reject'
  AND ts >= CAST(strftime('%s', 'now', '-1 hour') AS INTEGER)
ORDER BY ts DESC
LIMIT 500;

-- name: limit-breaches
-- what: users a sending limit refused in the last 7 days: how often, which limits, whether suspended
SELECT r.subject AS username,
       count(*) AS refused,
       (SELECT group_concat(l, ',') FROM
          (SELECT DISTINCT x.kind || '/' || x.window_seconds || 's' AS l
           FROM limit_refusals x
           WHERE x.subject = r.subject
             AND x.ts >= CAST(strftime('%s', 'now', '-7 days') AS INTEGER)
           ORDER BY l)) AS limits,
       strftime('%Y-%m-%dT%H:%M:%SZ', min(r.ts), 'unixepoch') AS first,
       strftime('%Y-%m-%dT%H:%M:%SZ', max(r.ts), 'unixepoch') AS last,
       CASE WHEN coalesce(u.suspended, 0) = 1 THEN 'yes' ELSE 'no' END AS suspended
FROM limit_refusals r
LEFT JOIN users u ON u.username = r.subject
WHERE r.ts >= CAST(strftime('%s', 'now', '-7 days') AS INTEGER)
GROUP BY r.subject
ORDER BY refused DESC, username
LIMIT 100;

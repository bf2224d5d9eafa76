-- audit.sql -- the ready queries of sql/audit.sql in PostgreSQL's SQL.
--
-- Run one by name:  authrelayctl audit --query who-relayed
-- Run them all:     psql "postgresql://authrelay_audit@db1/authrelay" -f audit.sql
--                   (as authrelay_audit: grant it SELECT on the base tables
--                   first, or use the views; conf-examples/postgresql)
--
-- Same names, columns and meaning as sql/audit.sql (the SQLite text); only
-- the SQL differs: authrelay_iso() (sql/pgsql/001-schema.sql) for
-- SQLite's strftime(..., 'unixepoch'), count(*) FILTER for sum(condition),
-- string_agg for group_concat. Like them, they read the base tables,
-- whose integer times are indexed.

-- name: who-relayed
-- what: who relayed through which client IP in the last 24 hours, and by which rule
SELECT client_ip,
       coalesce(nullif(sasl_username, ''), '-') AS sasl_username,
       rule,
       count(*) AS relayed,
       authrelay_iso(min(ts)) AS first,
       authrelay_iso(max(ts)) AS last
FROM decision_log
WHERE ts >= extract(epoch FROM now() - interval '1 day')::bigint
  AND verdict = 'permit'
GROUP BY client_ip, sasl_username, rule
ORDER BY relayed DESC
LIMIT 100;

-- name: grant-origins
-- what: which user opened which grant, from which login line, in the last 7 days
SELECT authrelay_iso(login_time) AS login_time,
       username, service, ip, prefix_len,
       authrelay_iso(expires_at) AS expires_at,
       source, line
FROM grant_log
WHERE grant_log.login_time >= extract(epoch FROM now() - interval '7 days')::bigint
  AND event IN ('login', 'manual')
ORDER BY grant_log.login_time DESC
LIMIT 200;

-- name: top-refused
-- what: clients refused most often in the last 24 hours (reject, tempfail, and no-opinion relay attempts)
SELECT client_ip,
       count(*) FILTER (WHERE verdict = 'reject') AS rejected,
       count(*) FILTER (WHERE verdict = 'tempfail') AS tempfailed,
       count(*) FILTER (WHERE verdict = 'dunno') AS no_opinion,
       count(*) AS total,
       authrelay_iso(max(ts)) AS last
FROM decision_log
WHERE ts >= extract(epoch FROM now() - interval '1 day')::bigint
  AND verdict IN ('reject', 'tempfail', 'dunno')
GROUP BY client_ip
ORDER BY total DESC
LIMIT 25;

-- name: sender-mismatches
-- what: authenticated users who tried to send as addresses not granted to them, last 7 days
SELECT sasl_username,
       count(*) AS attempts,
       count(DISTINCT sender) AS senders,
       string_agg(DISTINCT sender, ',') AS sample_senders,
       authrelay_iso(max(ts)) AS last
FROM decision_log
WHERE ts >= extract(epoch FROM now() - interval '7 days')::bigint
  AND rule = 'sender_mismatch'
GROUP BY sasl_username
ORDER BY attempts DESC
LIMIT 100;

-- name: admin-changes
-- what: every change made with authrelayctl, newest first
SELECT authrelay_iso(ts) AS ts,
       actor, action, subject, detail
FROM admin_actions
ORDER BY admin_actions.ts DESC, id DESC
LIMIT 500;

-- name: store-errors
-- what: decisions the database could not answer (on_store_error applied), last 24 hours, per hour
SELECT to_char(timestamp 'epoch' + (ts - ts % 3600) * interval '1 second',
               'YYYY-MM-DD"T"HH24:00:00"Z"') AS hour,
       program,
       count(*) AS errors
FROM decision_log
WHERE ts >= extract(epoch FROM now() - interval '1 day')::bigint
  AND rule = 'store_error'
GROUP BY hour, program
ORDER BY hour;

-- name: active-grants
-- what: every live POP/IMAP-before-SMTP or manual grant, soonest to expire first
SELECT ip, prefix_len, username, service,
       authrelay_iso(first_seen) AS first_seen,
       authrelay_iso(expires_at) AS expires_at,
       logins
FROM grants
WHERE grants.expires_at > extract(epoch FROM now())::bigint
ORDER BY grants.expires_at;

-- name: rejects-last-hour
-- what: every rejection in the last hour, with the rule and reason
SELECT authrelay_iso(ts) AS ts,
       program, client_ip, sasl_username, sender, recipient, rule, reason
FROM decision_log
WHERE verdict = 'reject'
  AND decision_log.ts >= extract(epoch FROM now() - interval '1 hour')::bigint
ORDER BY decision_log.ts DESC
LIMIT 500;

-- name: limit-breaches
-- what: users a sending limit refused in the last 7 days: how often, which limits, whether suspended
SELECT r.subject AS username,
       count(*) AS refused,
       string_agg(DISTINCT r.kind || '/' || r.window_seconds || 's', ','
                  ORDER BY r.kind || '/' || r.window_seconds || 's') AS limits,
       authrelay_iso(min(r.ts)) AS first,
       authrelay_iso(max(r.ts)) AS last,
       CASE WHEN coalesce(max(u.suspended), 0) = 1 THEN 'yes' ELSE 'no' END AS suspended
FROM limit_refusals r
LEFT JOIN users u ON u.username = r.subject
WHERE r.ts >= extract(epoch FROM now() - interval '7 days')::bigint
GROUP BY r.subject
ORDER BY refused DESC, username
LIMIT 100;

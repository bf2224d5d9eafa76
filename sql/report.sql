-- report.sql -- the questions authrelayctl status and authrelayctl report ask.
--
-- Same block form as audit.sql ("-- name:", "-- what:", one statement),
-- compiled into authrelayctl. Unlike audit.sql these read the audit views
-- only (decisions, grant_history, active_grants, admin_log) in SQL that
-- SQLite and PostgreSQL both accept, so status and report work on every
-- backend. The price: the views' times are text, which no index serves,
-- so each query reads the whole view (a report on 10 million decisions
-- takes seconds; `authrelayctl prune` keeps the table to audit_retention).
--
-- authrelayctl status counts the last hour's decisions through the store's
-- own audit call instead (indexed by time on every backend): a status
-- screen must stay quick on a large table.
--
-- :since is the start of the window. authrelayctl replaces it with an
-- ISO-8601 UTC literal it formatted itself ('2026-12-05T08:00:00Z'); the
-- views' text times compare correctly with it. Hours are the first 13
-- characters of a time ('2026-12-05T08').
--
-- Verdicts: permit (relayed), reject, tempfail (store error or sending
-- limit), dunno (no opinion: Postfix's reject_unauth_destination refused
-- the relay unless the recipient was local).

-- name: last-write
-- what: the newest grant event and admin change
SELECT (SELECT max(login_time) FROM grant_history) AS grant_event,
       (SELECT max(ts) FROM admin_log) AS admin_change;

-- name: active-grants
-- what: live grants
SELECT count(*) AS grants FROM active_grants;

-- name: last-login
-- what: the newest login each loginwatch source granted
SELECT source, max(login_time) AS last_login, count(*) AS logins
FROM grant_history
WHERE event = 'login'
GROUP BY source
ORDER BY source;

-- name: totals
-- what: decisions since :since by verdict, distinct clients and users
SELECT count(*) AS decisions,
       sum(CASE WHEN verdict = 'permit' THEN 1 ELSE 0 END) AS relayed,
       sum(CASE WHEN verdict = 'reject' THEN 1 ELSE 0 END) AS rejected,
       sum(CASE WHEN verdict = 'tempfail' THEN 1 ELSE 0 END) AS tempfailed,
       sum(CASE WHEN verdict = 'dunno' THEN 1 ELSE 0 END) AS no_opinion,
       count(DISTINCT client_ip) AS clients,
       count(DISTINCT nullif(sasl_username, '')) AS users
FROM decisions
WHERE ts >= :since;

-- name: relayed-by-rule
-- what: relayed recipients since :since by the rule that permitted them
SELECT coalesce(rule, '') AS rule, count(*) AS relayed
FROM decisions
WHERE ts >= :since AND verdict = 'permit'
GROUP BY rule
ORDER BY relayed DESC, rule;

-- name: refused-by-rule
-- what: refused recipients since :since by verdict and rule
SELECT verdict, coalesce(rule, '') AS rule, count(*) AS refused
FROM decisions
WHERE ts >= :since AND verdict IN ('reject', 'tempfail', 'dunno')
GROUP BY verdict, rule
ORDER BY refused DESC, verdict, rule;

-- name: top-refused-clients
-- what: the clients refused most often since :since
SELECT client_ip,
       count(*) AS refused,
       sum(CASE WHEN verdict = 'reject' THEN 1 ELSE 0 END) AS rejected,
       sum(CASE WHEN verdict = 'tempfail' THEN 1 ELSE 0 END) AS tempfailed,
       sum(CASE WHEN verdict = 'dunno' THEN 1 ELSE 0 END) AS no_opinion,
       max(ts) AS last
FROM decisions
WHERE ts >= :since AND verdict IN ('reject', 'tempfail', 'dunno')
GROUP BY client_ip
ORDER BY refused DESC, client_ip
LIMIT 10;

-- name: top-senders
-- what: the envelope senders of the most relayed recipients since :since
SELECT coalesce(nullif(sender, ''), '<>') AS sender, count(*) AS relayed
FROM decisions
WHERE ts >= :since AND verdict = 'permit'
GROUP BY sender
ORDER BY relayed DESC, sender
LIMIT 10;

-- name: top-users
-- what: the SASL users with the most decisions since :since
SELECT sasl_username,
       count(*) AS decisions,
       sum(CASE WHEN verdict = 'permit' THEN 1 ELSE 0 END) AS relayed,
       sum(CASE WHEN verdict <> 'permit' THEN 1 ELSE 0 END) AS refused
FROM decisions
WHERE ts >= :since AND sasl_username IS NOT NULL AND sasl_username <> ''
GROUP BY sasl_username
ORDER BY decisions DESC, sasl_username
LIMIT 10;

-- name: grants-by-source
-- what: grants made since :since by where they came from (log file, journal, auth-policy report, admin)
SELECT event, source, service,
       count(*) AS grants,
       count(DISTINCT username) AS users,
       count(DISTINCT ip) AS addresses
FROM grant_history
WHERE login_time >= :since AND event IN ('login', 'manual')
GROUP BY event, source, service
ORDER BY grants DESC, source, service;

-- name: limit-breaches
-- what: recipients refused by a sending limit since :since, per user
SELECT coalesce(nullif(sasl_username, ''), client_ip) AS who,
       count(*) AS refused,
       max(ts) AS last
FROM decisions
WHERE ts >= :since AND rule = 'rate_limit'
GROUP BY coalesce(nullif(sasl_username, ''), client_ip)
ORDER BY refused DESC, who
LIMIT 25;

-- name: admin-changes
-- what: changes made with authrelayctl since :since, oldest first
SELECT ts, actor, action, subject, detail
FROM admin_log
WHERE ts >= :since
ORDER BY ts
LIMIT 100;

-- name: decisions-per-hour
-- what: decisions since :since per hour and verdict
SELECT substr(ts, 1, 13) AS hour, verdict, count(*) AS decisions
FROM decisions
WHERE ts >= :since
GROUP BY substr(ts, 1, 13), verdict
ORDER BY hour, verdict;

-- name: grants-per-hour
-- what: grants made since :since per hour
SELECT substr(login_time, 1, 13) AS hour, count(*) AS grants
FROM grant_history
WHERE login_time >= :since AND event IN ('login', 'manual')
GROUP BY substr(login_time, 1, 13)
ORDER BY hour;

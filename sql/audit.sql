-- audit.sql: ready audit queries over the views (see README.md).
-- Each query follows a "-- name: NAME" line and ends with ';'.

-- name: grant-relays-today
SELECT sasl_username, client_ip, count(*) AS n FROM decisions
WHERE rule = 'grant' AND ts >= strftime('%Y-%m-%dT00:00:00Z', 'now')
GROUP BY 1, 2 ORDER BY n DESC;

-- name: rejects-last-hour
SELECT ts, client_ip, sasl_username, sender, recipient, rule, reason
FROM decisions
WHERE verdict = 'reject' AND ts >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 hour')
ORDER BY ts DESC;

-- name: store-errors
SELECT ts, program, client_ip, reason FROM decisions
WHERE rule = 'store_error' ORDER BY ts DESC LIMIT 50;

-- name: active-grants
SELECT * FROM active_grants ORDER BY expires_at;

-- name: grant-history-recent
SELECT * FROM grant_history
WHERE login_time >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day')
ORDER BY login_time DESC;

-- name: admin-changes-week
SELECT * FROM admin_log
WHERE ts >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days') ORDER BY ts;

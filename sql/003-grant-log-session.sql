-- 003-grant-log-session.sql -- the POP/IMAP server's session id of a login.
--
-- Dovecot names each login with a session id that is in both of the
-- places a login can be learned from: the log line (session=<...>) and
-- the auth-policy report (session_id). A site may run both sources at
-- once (reports, and the log for the time loginwatch was down); the same
-- login seen twice must refresh its grant once. The store looks a
-- login's (session, ip) up here before writing it: found means this
-- login was already counted, and nothing is written again.
-- NULL for logins without a session id (other servers, manual grants,
-- revokes, and every row written before this migration).
ALTER TABLE grant_log ADD COLUMN session TEXT;
CREATE INDEX grant_log_session ON grant_log (session) WHERE session IS NOT NULL;

DROP VIEW grant_history;
CREATE VIEW grant_history AS
SELECT ip, prefix_len, username, service,
       strftime('%Y-%m-%dT%H:%M:%SZ', login_time, 'unixepoch') AS login_time,
       strftime('%Y-%m-%dT%H:%M:%SZ', expires_at, 'unixepoch') AS expires_at,
       source, line, event, session
FROM grant_log
ORDER BY grant_log.id;

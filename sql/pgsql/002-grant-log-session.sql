-- 002-grant-log-session.sql -- the POP/IMAP server's session id of a login.
--
-- As sql/003-grant-log-session.sql for SQLite (which says why): a login
-- whose (session, ip) is already in grant_log was counted before and is
-- not written again. NULL for logins without a session id.
ALTER TABLE grant_log ADD COLUMN session text;
CREATE INDEX grant_log_session ON grant_log (session, ip) WHERE session IS NOT NULL;

DROP VIEW grant_history;
CREATE VIEW grant_history AS
SELECT ip, prefix_len, username, service,
       authrelay_iso(login_time) AS login_time,
       authrelay_iso(expires_at) AS expires_at,
       source, line, event, session
FROM grant_log
ORDER BY grant_log.id;

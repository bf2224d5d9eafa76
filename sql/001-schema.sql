-- 001-schema: the first authrelay schema.
--
-- Base tables hold Unix seconds (INTEGER, UTC); the views at the end are
-- the audit interface and show times as ISO-8601 UTC text. The base
-- tables are named differently from the views (grant_log, decision_log,
-- admin_actions) so that the views can carry the stable names of the
-- audit interface (sql/README.md).
-- store_sqlite.c runs this file in one transaction and then sets
-- PRAGMA user_version = 1.

-- Relay grants: one row per network and prefix length. net is the masked
-- network in network byte order (4 bytes IPv4, 16 bytes IPv6); a lookup
-- masks the client address to each prefix length in use (found through
-- grants_family_prefix, usually one or two) and probes the unique index:
-- never a table scan, whatever grant_ipv6_prefix was over time.
CREATE TABLE grants (
	id INTEGER PRIMARY KEY,
	family INTEGER NOT NULL CHECK (family IN (4, 6)),
	net BLOB NOT NULL CHECK (length(net) = CASE family WHEN 4 THEN 4 ELSE 16 END),
	ip TEXT NOT NULL,			-- net in RFC 5952 text
	prefix_len INTEGER NOT NULL
		CHECK (prefix_len BETWEEN 0 AND CASE family WHEN 4 THEN 32 ELSE 128 END),
	username TEXT NOT NULL,
	service TEXT NOT NULL,			-- pop3, imap, manual
	first_seen INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	logins INTEGER NOT NULL DEFAULT 1,
	UNIQUE (net, prefix_len)
);
CREATE INDEX grants_family_prefix ON grants (family, prefix_len);
CREATE INDEX grants_expires ON grants (expires_at);

-- Every grant event ever: a login seen by loginwatch, a manual grant, a
-- revoke. Kept by prune (it is the history admins ask about).
CREATE TABLE grant_log (
	id INTEGER PRIMARY KEY,
	event TEXT NOT NULL CHECK (event IN ('login', 'manual', 'revoke')),
	ip TEXT NOT NULL,
	prefix_len INTEGER NOT NULL,
	username TEXT NOT NULL DEFAULT '',
	service TEXT NOT NULL DEFAULT '',
	login_time INTEGER NOT NULL,		-- the event's time
	expires_at INTEGER,			-- NULL for revoke
	source TEXT NOT NULL DEFAULT '',	-- log file path, "journal", or the admin
	line TEXT				-- the log line (logins)
);
CREATE INDEX grant_log_time ON grant_log (login_time);
CREATE INDEX grant_log_ip ON grant_log (ip, login_time);
CREATE INDEX grant_log_user ON grant_log (username, login_time);

-- SASL users the admin has said something about.
CREATE TABLE users (
	username TEXT PRIMARY KEY,
	suspended INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
	changed INTEGER NOT NULL
);

-- Sender addresses a user may use: user@domain, @domain or * (lib/addr.h).
-- The primary key serves the ownership lookup (username = ? AND pattern IN
-- (address, @domain, *)).
CREATE TABLE sender_rights (
	username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	pattern TEXT NOT NULL,
	added INTEGER NOT NULL,
	PRIMARY KEY (username, pattern)
) WITHOUT ROWID;

-- Registered TLS client certificates, fingerprints in Postfix's form
-- (upper-case hex pairs joined by ':').
CREATE TABLE certs (
	fingerprint TEXT PRIMARY KEY,
	pubkey_fingerprint TEXT NOT NULL,
	username TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	not_after INTEGER,
	added INTEGER NOT NULL
);
CREATE INDEX certs_pubkey ON certs (pubkey_fingerprint);

-- One row per relay decision (written in batches by the daemons).
CREATE TABLE decision_log (
	id INTEGER PRIMARY KEY,
	ts INTEGER NOT NULL,
	program TEXT NOT NULL,
	client_ip TEXT,
	sasl_username TEXT,
	sender TEXT,
	recipient TEXT,
	verdict TEXT NOT NULL,
	rule TEXT,
	reason TEXT,
	queue_id TEXT
);
CREATE INDEX decision_log_ts ON decision_log (ts);
CREATE INDEX decision_log_ip ON decision_log (client_ip, ts);
CREATE INDEX decision_log_user ON decision_log (sasl_username, ts);
CREATE INDEX decision_log_verdict ON decision_log (verdict, ts);

-- Every change made on an admin's behalf, written in the same transaction
-- as the change itself.
CREATE TABLE admin_actions (
	id INTEGER PRIMARY KEY,
	ts INTEGER NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX admin_actions_ts ON admin_actions (ts);

-- Where loginwatch stopped reading each source (file identity, offset,
-- hash of the last line). 64-bit unsigned values are stored bit for bit
-- in SQLite's signed INTEGER.
CREATE TABLE loginwatch_checkpoints (
	source TEXT PRIMARY KEY,
	dev INTEGER NOT NULL,
	ino INTEGER NOT NULL,
	offset INTEGER NOT NULL,
	line_hash INTEGER NOT NULL,
	updated INTEGER NOT NULL
);

-- ---- the audit interface (sql/README.md "Views") ----

CREATE VIEW active_grants AS
SELECT ip, prefix_len, username, service,
       strftime('%Y-%m-%dT%H:%M:%SZ', first_seen, 'unixepoch') AS first_seen,
       strftime('%Y-%m-%dT%H:%M:%SZ', last_seen, 'unixepoch') AS last_seen,
       strftime('%Y-%m-%dT%H:%M:%SZ', expires_at, 'unixepoch') AS expires_at,
       logins
FROM grants
WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER)
ORDER BY first_seen;

CREATE VIEW grant_history AS
SELECT ip, prefix_len, username, service,
       strftime('%Y-%m-%dT%H:%M:%SZ', login_time, 'unixepoch') AS login_time,
       strftime('%Y-%m-%dT%H:%M:%SZ', expires_at, 'unixepoch') AS expires_at,
       source, line, event
FROM grant_log
ORDER BY grant_log.id;

CREATE VIEW decisions AS
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch') AS ts,
       program, client_ip, sasl_username, sender, recipient,
       verdict, rule, reason, queue_id
FROM decision_log
ORDER BY decision_log.id;

CREATE VIEW admin_log AS
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', ts, 'unixepoch') AS ts,
       actor, action, subject, detail
FROM admin_actions
ORDER BY admin_actions.id;

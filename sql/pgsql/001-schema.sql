-- 001-schema: the authrelay schema for PostgreSQL (several hosts).
--
-- The same tables, columns and meaning as sql/001-schema.sql and
-- sql/002-decision-log-time-index.sql together (SQLite), in PostgreSQL's
-- types: Unix seconds are bigint, addresses bytea. The views at the end
-- are the audit interface with the same columns and the same ISO-8601
-- UTC text times as the SQLite ones, so sql/README.md holds for both.
-- lib/store_pgsql_schema.c runs each file in one transaction together
-- with the update of schema_version.
--
-- What PostgreSQL adds: schema_version (SQLite keeps it in
-- PRAGMA user_version), checkpoints keyed by host as well as source
-- (two loginwatch hosts never share one), and triggers that NOTIFY the
-- channel "authrelay" with the table's name after every change to the
-- tables the daemons answer from (lib/store_pgsql.h: the daemons keep
-- those tables in memory and reload what changed).

CREATE TABLE schema_version (
	version integer NOT NULL
);
INSERT INTO schema_version (version) VALUES (0);

-- Relay grants: one row per network and prefix length; net is the masked
-- network in network byte order (4 bytes IPv4, 16 bytes IPv6).
CREATE TABLE grants (
	id bigserial PRIMARY KEY,
	family integer NOT NULL CHECK (family IN (4, 6)),
	net bytea NOT NULL CHECK (length(net) = CASE family WHEN 4 THEN 4 ELSE 16 END),
	ip text NOT NULL,			-- net in RFC 5952 text
	prefix_len integer NOT NULL
		CHECK (prefix_len BETWEEN 0 AND CASE family WHEN 4 THEN 32 ELSE 128 END),
	username text NOT NULL,
	service text NOT NULL,			-- pop3, imap, manual
	first_seen bigint NOT NULL,
	last_seen bigint NOT NULL,
	expires_at bigint NOT NULL,
	logins bigint NOT NULL DEFAULT 1,
	UNIQUE (net, prefix_len)
);
CREATE INDEX grants_expires ON grants (expires_at);

CREATE TABLE grant_log (
	id bigserial PRIMARY KEY,
	event text NOT NULL CHECK (event IN ('login', 'manual', 'revoke')),
	ip text NOT NULL,
	prefix_len integer NOT NULL,
	username text NOT NULL DEFAULT '',
	service text NOT NULL DEFAULT '',
	login_time bigint NOT NULL,
	expires_at bigint,			-- NULL for revoke
	source text NOT NULL DEFAULT '',
	line text
);
CREATE INDEX grant_log_time ON grant_log (login_time);
CREATE INDEX grant_log_ip ON grant_log (ip, login_time);
CREATE INDEX grant_log_user ON grant_log (username, login_time);

CREATE TABLE users (
	username text PRIMARY KEY,
	suspended integer NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
	changed bigint NOT NULL
);

CREATE TABLE sender_rights (
	username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
	pattern text NOT NULL,
	added bigint NOT NULL,
	PRIMARY KEY (username, pattern)
);

CREATE TABLE certs (
	fingerprint text PRIMARY KEY,
	pubkey_fingerprint text NOT NULL,
	username text NOT NULL,
	subject text NOT NULL DEFAULT '',
	not_after bigint,
	added bigint NOT NULL
);
CREATE INDEX certs_pubkey ON certs (pubkey_fingerprint);

-- Decisions: indexed by time only (sql/002-decision-log-time-index.sql
-- says why).
CREATE TABLE decision_log (
	id bigserial PRIMARY KEY,
	ts bigint NOT NULL,
	program text NOT NULL,
	client_ip text,
	sasl_username text,
	sender text,
	recipient text,
	verdict text NOT NULL,
	rule text,
	reason text,
	queue_id text
);
CREATE INDEX decision_log_ts ON decision_log (ts);

CREATE TABLE admin_actions (
	id bigserial PRIMARY KEY,
	ts bigint NOT NULL,
	actor text NOT NULL,
	action text NOT NULL,
	subject text NOT NULL DEFAULT '',
	detail text NOT NULL DEFAULT ''
);
CREATE INDEX admin_actions_ts ON admin_actions (ts);

-- Where loginwatch stopped reading one source on one host. 64-bit
-- unsigned values are stored bit for bit in bigint.
CREATE TABLE loginwatch_checkpoints (
	host text NOT NULL,
	source text NOT NULL,
	dev bigint NOT NULL,
	ino bigint NOT NULL,
	"offset" bigint NOT NULL,
	line_hash bigint NOT NULL,
	updated bigint NOT NULL,
	PRIMARY KEY (host, source)
);

-- ---- change notices for the daemons' memory ----

CREATE FUNCTION authrelay_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('authrelay', TG_TABLE_NAME);
	RETURN NULL;
END;
$$;

CREATE TRIGGER grants_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
	FOR EACH STATEMENT EXECUTE FUNCTION authrelay_notify();
CREATE TRIGGER users_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION authrelay_notify();
CREATE TRIGGER sender_rights_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON sender_rights FOR EACH STATEMENT EXECUTE FUNCTION authrelay_notify();
CREATE TRIGGER certs_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON certs
	FOR EACH STATEMENT EXECUTE FUNCTION authrelay_notify();

-- ---- the audit interface (sql/README.md "Views") ----

-- Unix seconds as ISO-8601 UTC text, as SQLite's
-- strftime('%Y-%m-%dT%H:%M:%SZ', t, 'unixepoch') shows them.
CREATE FUNCTION authrelay_iso(t bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(timestamp 'epoch' + t * interval '1 second',
		       'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE VIEW active_grants AS
SELECT ip, prefix_len, username, service,
       authrelay_iso(first_seen) AS first_seen,
       authrelay_iso(last_seen) AS last_seen,
       authrelay_iso(expires_at) AS expires_at,
       logins
FROM grants
WHERE expires_at > extract(epoch FROM now())::bigint
ORDER BY grants.first_seen;

CREATE VIEW grant_history AS
SELECT ip, prefix_len, username, service,
       authrelay_iso(login_time) AS login_time,
       authrelay_iso(expires_at) AS expires_at,
       source, line, event
FROM grant_log
ORDER BY grant_log.id;

CREATE VIEW decisions AS
SELECT authrelay_iso(ts) AS ts,
       program, client_ip, sasl_username, sender, recipient,
       verdict, rule, reason, queue_id
FROM decision_log
ORDER BY decision_log.id;

CREATE VIEW admin_log AS
SELECT authrelay_iso(ts) AS ts,
       actor, action, subject, detail
FROM admin_actions
ORDER BY admin_actions.id;

-- roles.sql -- the PostgreSQL side of a multi-host authrelay (run once).
--
-- Three roles, least privilege each:
--   authrelay_owner  owns the schema: only `authrelayctl init` (create and
--                    migrate) logs in with it, from an admin's machine;
--   authrelay        the daemons and the day-to-day authrelayctl verbs on
--                    every host: read and write rows, never change the
--                    schema;
--   authrelay_audit  auditors: the four audit views, read only
--                    (after-init.sql grants them).
--
-- As a PostgreSQL superuser, with the three passwords given on the command
-- line (they never sit in this file):
--   psql -v owner_password=... -v daemon_password=... -v audit_password=... \
--        -f roles.sql
-- then `authrelayctl -c owner.conf init`, then after-init.sql.
\set ON_ERROR_STOP on

CREATE ROLE authrelay_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE authrelay LOGIN PASSWORD :'daemon_password';
CREATE ROLE authrelay_audit LOGIN PASSWORD :'audit_password';
CREATE DATABASE authrelay OWNER authrelay_owner;

\connect authrelay
-- PostgreSQL 15: only the database owner may create in schema public.
GRANT USAGE ON SCHEMA public TO authrelay, authrelay_audit;
-- Every table and sequence authrelay_owner creates, now and in later
-- migrations, is usable by the daemons' role.
ALTER DEFAULT PRIVILEGES FOR ROLE authrelay_owner IN SCHEMA public
	GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO authrelay;
ALTER DEFAULT PRIVILEGES FOR ROLE authrelay_owner IN SCHEMA public
	GRANT USAGE ON SEQUENCES TO authrelay;

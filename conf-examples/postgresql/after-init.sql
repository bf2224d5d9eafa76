-- after-init.sql -- auditors read the audit views and nothing else.
--
-- Run as authrelay_owner (or a superuser) after the first
-- `authrelayctl init`:
--   psql "postgresql://authrelay_owner@db1.example.org/authrelay" -f after-init.sql
-- The views show the tables' rows with the owner's rights, so
-- authrelay_audit needs no right on the tables themselves.
\set ON_ERROR_STOP on

GRANT SELECT ON active_grants, grant_history, decisions, admin_log, limit_usage
	TO authrelay_audit;

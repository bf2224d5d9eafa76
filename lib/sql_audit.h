/*
 * NAME
 *	sql_audit 3h
 * SUMMARY
 *	sql/audit.sql, compiled in
 * DESCRIPTION
 *	The ready audit queries as one text, generated at build time by
 *	tools/embed-sql.sh --text from sql/audit.sql. Each query follows a
 *	"-- name: NAME" line and a "-- what: text" line and ends with ';'.
 */
#ifndef AUTHRELAY_SQL_AUDIT_H
#define AUTHRELAY_SQL_AUDIT_H

extern const char sql_audit_text[];

/* sql/pgsql/audit.sql: the same names and columns in PostgreSQL's SQL. */
extern const char sql_pg_audit_text[];

#endif

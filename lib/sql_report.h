/*
 * NAME
 *	sql_report 3h
 * SUMMARY
 *	sql/report.sql, compiled in
 * DESCRIPTION
 *	The questions of authrelayctl status and report as one text,
 *	generated at build time by tools/embed-sql.sh --text from
 *	sql/report.sql, in the block form of sql/audit.sql ("-- name:",
 *	"-- what:", one statement ending with ';'). The statements hold the
 *	placeholder :since (see ctl/report_sql.h).
 */
#ifndef AUTHRELAY_SQL_REPORT_H
#define AUTHRELAY_SQL_REPORT_H

extern const char sql_report_text[];

#endif

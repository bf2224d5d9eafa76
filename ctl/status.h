/*
 * NAME
 *	status 3h
 * SUMMARY
 *	what authrelayctl status found, and its two writers
 * DESCRIPTION
 *	cmd_status.c fills a struct status from the pidfiles, /proc and the
 *	database; status_print.c writes it as one screen for a person or as
 *	one JSON object for a script. Nothing is printed while collecting,
 *	so both forms show the same facts.
 */
#ifndef AUTHRELAY_CTL_STATUS_H
#define AUTHRELAY_CTL_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report_sql.h"
#include "status_daemon.h"

#define STATUS_NDAEMONS 3
#define STATUS_SOURCES_MAX 32
#define STATUS_ERROR_MAX 512

/* The exit status when a configured daemon is down or the database did
   not answer. */
#define STATUS_EXIT_TROUBLE 1

/* Decisions and store errors are counted over the last hour: a
   status is about now (authrelayctl report covers days). */
#define STATUS_WINDOW 3600

/* One loginwatch source: a loginwatch_sources entry, or a source that
   only grant_history still names. */
struct status_source {
	const char *name;		/* points into the config or rows */
	bool in_config;
	const char *last_login;		/* ISO text, NULL: none seen */
	long long logins;		/* in grant_history */
	bool has_checkpoint;
	uint64_t offset;		/* checkpoint: bytes read */
	int64_t checkpoint_time;	/* 0: none */
	bool has_size;
	uint64_t size;			/* the file now */
	bool same_file;			/* checkpoint's dev/ino = the file's */
	bool has_lag;
	uint64_t lag;			/* bytes not read yet */
	char note[128];			/* "not a file", "cannot stat: ..." */
};

struct status {
	int64_t now;
	const char *config_path;
	struct status_daemon daemons[STATUS_NDAEMONS];

	/* database: db_ok false means it could not be opened (db_error) */
	bool db_ok;
	char db_error[STATUS_ERROR_MAX];
	const char *location, *backend;
	bool has_size;
	uint64_t size, wal_size;	/* SQLite: the file and its -wal */
	int64_t file_mtime;		/* SQLite: the newest of both; 0 unknown */
	int schema, schema_latest;	/* schema -1: unknown */
	char newest_decision[32];	/* ISO time; "" when none */

	/* answers; NULL when the question failed (query_error says why) */
	struct report_rows *last_write, *grants, *decisions, *logins, *store_errors;
	char query_error[STATUS_ERROR_MAX];

	size_t nsources;
	struct status_source sources[STATUS_SOURCES_MAX];
};

/* Fills st->decisions (verdict, rule, decisions), st->store_errors
   (program, errors, last) and st->newest_decision from the decisions
   of the last STATUS_WINDOW seconds before st->now; on failure they
   stay NULL and st->query_error says why. */
void status_decisions_collect(struct store *store, struct status *st);

/* Returns true when something configured is down or the database could
   not answer: authrelayctl status then exits 1. */
bool status_has_trouble(const struct status *st);

/* The screen for a person; colour only when colour is true. */
void status_print_text(FILE *fp, const struct status *st, bool colour);

/* One JSON object. */
void status_print_json(FILE *fp, const struct status *st);

#endif

/*
 * NAME
 *	store_tables 3h
 * SUMMARY
 *	the tables that hold an admin's data, column by column
 * SYNOPSIS
 *	#include "store_tables.h"
 * DESCRIPTION
 *	store_tables[] is the one list of what authrelayctl copy moves from
 *	one database to another: every table whose rows an admin would lose
 *	(grants and their history, users, sender rights, certificates,
 *	sending limits and their counters, loginwatch checkpoints, decisions,
 *	the admin log), each with its columns and their types. The backends
 *	(store_sqlite_copy.c, store_pgsql_copy.c) build their statements from
 *	it; nothing else names these columns for copying.
 *
 *	A row travels as an array of struct store_value, one per column in
 *	the table's order. Text and blobs are (pointer, length), not
 *	NUL-terminated; their bytes belong to whoever handed the row over and
 *	live only as long as that call says.
 */
#ifndef AUTHRELAY_STORE_TABLES_H
#define AUTHRELAY_STORE_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_value_type {
	STORE_VALUE_INT,	/* 64-bit signed; unsigned checkpoint values bit for bit */
	STORE_VALUE_TEXT,
	STORE_VALUE_BLOB	/* grants.net: 4 or 16 bytes */
};

struct store_column {
	const char *name;
	enum store_value_type type;
	bool nullable;
};

struct store_value {
	bool null;
	int64_t i;		/* STORE_VALUE_INT */
	const char *bytes;	/* TEXT, BLOB: not NUL-terminated */
	size_t len;
};

/* The most columns a table has, and the most in its order key. */
#define STORE_TABLE_COLUMNS_MAX 12
#define STORE_TABLE_ORDER_MAX 4

struct store_table {
	const char *name;			/* the SQL table */
	const struct store_column *columns;
	unsigned ncolumns;
	/* Both sides return rows in this order (a unique key; text
	   compared byte-wise), so a dump of either compares row by row.
	   NULL-terminated column names. */
	const char *order[STORE_TABLE_ORDER_MAX + 1];
	/* The integer key a sequence hands out on PostgreSQL (bigserial),
	   set to the highest copied value + 1 after a load; NULL: none. */
	const char *id;
	/* A backend may lack this table (PostgreSQL keeps no sending
	   limits yet): counting it there answers LOOKUP_NOT_FOUND. */
	bool optional;
	/* Rows are this host's on a shared database (PostgreSQL keys
	   loginwatch checkpoints by host and source): a backend that
	   keeps such a key reads and writes only the current host's rows. */
	bool per_host;
	/* The target's own rows are kept by a copy (appended after the
	   copied ones, with ids past theirs) and do not make it "not
	   empty": the admin log, where init wrote its row before there was
	   anything to copy. */
	bool keep_target;
};

/* In load order: a table comes after the tables it refers to (users
   before sender_rights), so a backend that checks foreign keys on each
   row accepts the load. Clearing goes the other way. */
extern const struct store_table store_tables[];
extern const unsigned store_tables_count;

/* The table named name, or NULL. */
const struct store_table *store_table_find(const char *name);

/* The index of column name in t, or -1. */
int store_table_column(const struct store_table *t, const char *name);

/* Writes the column list of t, each name in double quotes and
   separated by ", " ("\"id\", \"ts\"", valid in SQLite and PostgreSQL
   alike; "offset" is a reserved word in PostgreSQL) into buf. Returns
   0, or -1 when it does not fit size. */
int store_table_column_list(const struct store_table *t, char *buf, size_t size);

#endif

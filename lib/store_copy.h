/*
 * NAME
 *	store_copy 3h
 * SUMMARY
 *	every table of one database into another (authrelayctl copy)
 * SYNOPSIS
 *	#include "store_copy.h"
 * DESCRIPTION
 *	store_copy() moves the rows of every table in store_tables[] from
 *	an open source store to an open target store of any backend (an
 *	existing SQLite site into PostgreSQL, or back), keeping ids and
 *	times, so the audit trail reads the same on both.
 *
 *	All or nothing: the target's rows are written in one transaction
 *	(store_copy_begin(), store.h) with the admin_log row "copy" at its
 *	end; a failure anywhere, a lost connection included, rolls it back
 *	and leaves the target as it was, so the copy can simply be run
 *	again. The source is read in one snapshot: daemons may keep writing
 *	to it, and what was copied is what was counted.
 *
 *	Rules, in this order:
 *	  - both databases at the newest schema version of their backend
 *	    (authrelayctl init), else an error naming the side and the fix;
 *	  - a table the target lacks (store_tables.h optional: PostgreSQL has
 *	    no sending limits yet) is skipped when the source's is empty and
 *	    an error when it holds rows (they would be lost);
 *	  - the target must be empty: no rows but those of a keep_target
 *	    table (the admin log, where init wrote its row). Those are kept
 *	    and appended after the copied rows with ids past theirs, so the
 *	    admin_log view reads: the source's history, the target's init,
 *	    the copy. With replace, every row of the target's tables
 *	    (keep_target ones included) is deleted first instead;
 *	  - after loading, each table's rows on the target are counted in
 *	    the same transaction: they must equal the source's (plus the
 *	    kept ones), else it rolls back and the counts say where.
 */
#ifndef AUTHRELAY_STORE_COPY_H
#define AUTHRELAY_STORE_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "store_tables.h"

/* Rows per store_table_load(): one COPY (PostgreSQL) or one prepared
   INSERT's run (SQLite) each. Copying 1,000,000 decision rows from
   SQLite into a local PostgreSQL 15 (2 shared cores, three runs each,
   interleaved): 1,000 rows 2.7-3.3 s, 5,000 rows 2.2-3.0 s, 20,000
   rows 2.2-2.5 s. 5,000 gets nearly all of it while a batch holds
   about 3 MiB, and the progress line moves several times a second. */
#define STORE_COPY_BATCH 5000

#define STORE_COPY_TABLES_MAX 16

struct store_copy_options {
	bool replace;			/* delete the target's rows first */
	const char *actor;		/* admin_log actor on the target */
	const char *source_name;	/* for the admin_log row: where from */
	/* Rows copied so far of the total counted on the source (called
	   after each batch), as store_progress_fn; may be NULL. */
	store_progress_fn *progress;
	void *progress_ctx;
};

struct store_copy_table {
	const struct store_table *table;
	bool source_has, target_has;	/* the database has the table */
	uint64_t source;		/* rows on the source */
	uint64_t target_before;		/* rows on the target before the copy */
	uint64_t kept;			/* of those, kept (keep_target) */
	uint64_t target;		/* rows on the target after loading */
};

struct store_copy_result {
	struct store_copy_table tables[STORE_COPY_TABLES_MAX];
	unsigned ntables;
	bool counted;			/* tables[].source and target_before are set */
	bool loaded;			/* tables[].target is set */
	bool committed;
	bool refused;			/* failed by a rule above, not an error of a database */
	uint64_t rows;			/* rows copied (source rows of every table) */
	uint64_t replaced;		/* target rows deleted (replace) */
};

/* Copies from into to as described above; r is filled as far as the
   copy got (r->counted, r->loaded say which figures are valid), also on
   failure. Returns 0 once committed, or -1 with *error_r; then nothing
   changed on the target. Neither store may be used by another thread
   meanwhile. */
int store_copy(struct store *from, struct store *to, const struct store_copy_options *opts,
	       struct store_copy_result *r, char **error_r);

#endif

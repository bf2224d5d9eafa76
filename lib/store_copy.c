/*
 * NAME
 *	store_copy 3
 * SUMMARY
 *	every table of one database into another (authrelayctl copy)
 * SYNOPSIS
 *	#include "store_copy.h"
 * DESCRIPTION
 *	The rules are in store_copy.h. This file only drives the backends'
 *	copy entries (store.h): count both sides, dump each source table
 *	into batches of STORE_COPY_BATCH rows, load each batch, count again,
 *	commit. A batch owns copies of its rows' bytes (a dump's values live
 *	only for its callback).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_r.h"
#include "store_copy.h"

/* A batch of rows with their own bytes. Text and blob values are
   recorded as offsets into bytes (which moves as it grows) and turned
   into pointers just before the load. */
struct copy_batch {
	const struct store_table *table;
	struct store_value *values;	/* rows * ncolumns */
	size_t *offsets;		/* per value, into bytes */
	size_t rows;
	char *bytes;
	size_t used, size;
};

/* The state of one store_copy() call. */
struct copy_run {
	struct store *from, *to;
	const struct store_copy_options *opts;
	struct store_copy_result *r;
	struct copy_batch batch;
	uint64_t done, total;
	int64_t max_id;			/* the highest id copied into the table */
	int id_column;			/* its index, or -1 */
	char **error_r;
};

static void batch_init(struct copy_batch *b)
{
	memset(b, 0, sizeof *b);
	if ((b->values = calloc(STORE_COPY_BATCH * STORE_TABLE_COLUMNS_MAX, sizeof *b->values))
		    == NULL
	    || (b->offsets = calloc(STORE_COPY_BATCH * STORE_TABLE_COLUMNS_MAX,
				    sizeof *b->offsets)) == NULL)
		abort();
}

static void batch_free(struct copy_batch *b)
{
	free(b->values);
	free(b->offsets);
	free(b->bytes);
}

/* batch_add - a copy of one row */
static void batch_add(struct copy_batch *b, const struct store_value *v)
{
	unsigned n = b->table->ncolumns;
	struct store_value *to = b->values + b->rows * n;
	size_t *off = b->offsets + b->rows * n;

	for (unsigned i = 0; i < n; i++) {
		to[i] = v[i];
		if (v[i].null || b->table->columns[i].type == STORE_VALUE_INT)
			continue;
		if (b->used + v[i].len > b->size) {
			while (b->used + v[i].len > b->size)
				b->size = b->size ? b->size * 2 : 1 << 20;
			if ((b->bytes = realloc(b->bytes, b->size)) == NULL)
				abort();
		}
		if (v[i].len > 0)
			memcpy(b->bytes + b->used, v[i].bytes, v[i].len);
		off[i] = b->used;
		b->used += v[i].len;
	}
	b->rows++;
}

/* batch_load - loads b into the target and empties it */
static int batch_load(struct copy_run *run, struct copy_batch *b)
{
	unsigned n = b->table->ncolumns;
	int rc;

	if (b->rows == 0)
		return 0;
	for (size_t k = 0; k < b->rows * n; k++)
		if (!b->values[k].null && b->table->columns[k % n].type != STORE_VALUE_INT)
			b->values[k].bytes = b->bytes + b->offsets[k];
	rc = store_table_load(run->to, b->table, b->values, b->rows, run->error_r);
	b->rows = 0;
	b->used = 0;
	return rc;
}

/* batch_flush - loads the batch of copied rows, reports progress */
static int batch_flush(struct copy_run *run)
{
	size_t rows = run->batch.rows;

	if (batch_load(run, &run->batch) < 0)
		return -1;
	run->done += rows;
	if (rows > 0 && run->opts->progress != NULL)
		run->opts->progress(run->opts->progress_ctx, run->done, run->total);
	return 0;
}

/* copy_row - the dump's callback: batch the row, load a full batch */
static int copy_row(const struct store_value *values, void *ctx)
{
	struct copy_run *run = ctx;

	if (run->id_column >= 0 && values[run->id_column].i > run->max_id)
		run->max_id = values[run->id_column].i;
	batch_add(&run->batch, values);
	return run->batch.rows == STORE_COPY_BATCH ? batch_flush(run) : 0;
}

/* keep_row - the dump's callback for the target's kept rows */
static int keep_row(const struct store_value *values, void *ctx)
{
	batch_add(ctx, values);
	return 0;
}

/* schema_current - the store is at its backend's newest schema */
static int schema_current(struct store *store, const char *side, bool *refused_r,
			  char **error_r)
{
	int version = 0, newest = store_schema_newest(store);

	if (store_schema_version(store, &version) < 0)
		return error_r_set(error_r, "%s: cannot read the schema version", side);
	*refused_r = version != newest;
	if (version != newest)
		return error_r_set(error_r, "%s: schema version %d, this build's is %d: run "
				   "authrelayctl init on it (with this version of authrelay) first",
				   side, version, newest);
	return 0;
}

/* count_both - the rows of every table on both sides, and whether the
   target is empty (keep_target tables aside) */
static int count_both(struct copy_run *run, bool *empty_r)
{
	struct store_copy_result *r = run->r;
	char *error = NULL;

	*empty_r = true;
	if (store_tables_count > STORE_COPY_TABLES_MAX)
		return error_r_set(run->error_r, "store_copy: %u tables, room for %d",
				   store_tables_count, STORE_COPY_TABLES_MAX);
	for (unsigned i = 0; i < store_tables_count; i++) {
		struct store_copy_table *c = &r->tables[i];
		enum lookup_result s, t;

		c->table = &store_tables[i];
		s = store_table_count(run->from, c->table, &c->source, &error);
		if (s == LOOKUP_ERROR) {
			error_r_set(run->error_r, "source: %s", error ? error : "cannot count rows");
			free(error);
			return -1;
		}
		t = store_table_count(run->to, c->table, &c->target_before, &error);
		if (t == LOOKUP_ERROR) {
			error_r_set(run->error_r, "target: %s", error ? error : "cannot count rows");
			free(error);
			return -1;
		}
		c->source_has = s == LOOKUP_FOUND;
		c->target_has = t == LOOKUP_FOUND;
		r->ntables = i + 1;
		run->total += c->source;
		if (c->target_before > 0 && !c->table->keep_target)
			*empty_r = false;
	}
	r->counted = true;
	return 0;
}

/* check_tables - every source row has a table to go to */
static int check_tables(struct copy_run *run)
{
	for (unsigned i = 0; i < run->r->ntables; i++) {
		const struct store_copy_table *c = &run->r->tables[i];

		if (!c->target_has && c->source > 0) {
			run->r->refused = true;
			return error_r_set(run->error_r, "the target has no table %s (its backend "
					   "does not keep it yet): the source's %" PRIu64 " rows "
					   "would be lost; nothing was copied", c->table->name,
					   c->source);
		}
	}
	return 0;
}

/* not_empty - the error of a target that holds rows */
static int not_empty(struct copy_run *run)
{
	char list[512] = "";
	size_t used = 0;

	for (unsigned i = 0; i < run->r->ntables && used < sizeof list; i++) {
		const struct store_copy_table *c = &run->r->tables[i];

		if (c->target_before > 0 && !c->table->keep_target)
			used += (size_t)snprintf(list + used, sizeof list - used, "%s%s %" PRIu64,
						 used ? ", " : "", c->table->name, c->target_before);
	}
	run->r->refused = true;
	return error_r_set(run->error_r, "the target is not empty (rows: %s): copy only fills an "
			   "empty database; --replace deletes every row there first", list);
}

/* clear_target - every row of the target's tables, children first */
static int clear_target(struct copy_run *run)
{
	for (unsigned i = run->r->ntables; i-- > 0;) {
		const struct store_copy_table *c = &run->r->tables[i];

		if (!c->target_has || c->target_before == 0)
			continue;
		if (store_table_clear(run->to, c->table, run->error_r) < 0)
			return -1;
		run->r->replaced += c->target_before;
	}
	return 0;
}

/* copy_table - one table: keep the target's rows aside when the table
   says so, load the source's rows, append the kept ones after them */
static int copy_table(struct copy_run *run, struct store_copy_table *c)
{
	const struct store_table *t = c->table;
	struct copy_batch kept;
	int rc = 0;

	if (!c->target_has)
		return 0;
	run->batch.table = t;
	run->id_column = t->id != NULL ? store_table_column(t, t->id) : -1;
	run->max_id = 0;
	batch_init(&kept);
	kept.table = t;
	if (t->keep_target && c->target_before > 0 && !run->opts->replace) {
		/* The kept rows are few (init's); more than a batch is a
		   target that is not what init leaves. */
		if (c->target_before > STORE_COPY_BATCH) {
			rc = not_empty(run);
			goto done;
		}
		if (store_table_dump(run->to, t, keep_row, &kept, run->error_r) < 0
		    || store_table_clear(run->to, t, run->error_r) < 0) {
			rc = -1;
			goto done;
		}
		c->kept = kept.rows;
	}
	if (c->source > 0
	    && (store_table_dump(run->from, t, copy_row, run, run->error_r) < 0
		|| batch_flush(run) < 0)) {
		rc = -1;
		goto done;
	}
	/* The kept rows after the copied ones, in their order, with new ids. */
	for (size_t k = 0; run->id_column >= 0 && k < kept.rows; k++)
		kept.values[k * t->ncolumns + (unsigned)run->id_column].i = run->max_id + 1 + (int64_t)k;
	rc = batch_load(run, &kept);
done:
	batch_free(&kept);
	return rc;
}

/* count_after - the target's rows, in the copy's transaction, against
   what was loaded; 0 when every table matches */
static int count_after(struct copy_run *run)
{
	char *error = NULL;
	const struct store_copy_table *bad = NULL;

	for (unsigned i = 0; i < run->r->ntables; i++) {
		struct store_copy_table *c = &run->r->tables[i];

		if (!c->target_has)
			continue;
		if (store_table_count(run->to, c->table, &c->target, &error) != LOOKUP_FOUND) {
			error_r_set(run->error_r, "target: %s", error ? error : "cannot count rows");
			free(error);
			return -1;
		}
		if (c->target != c->source + c->kept && bad == NULL)
			bad = c;
	}
	run->r->loaded = true;
	run->r->refused = bad != NULL;
	if (bad != NULL)
		return error_r_set(run->error_r, "table %s: got %" PRIu64 " rows on the target, "
				   "want %" PRIu64 "; nothing was committed", bad->table->name,
				   bad->target, bad->source + bad->kept);
	return 0;
}

/* copy_note - the admin_log row of the copy */
static void copy_note(const struct copy_run *run, char *detail, size_t size,
		      struct store_copy_note *note)
{
	int n = snprintf(detail, size, "%" PRIu64 " rows copied", run->r->rows);

	if (run->r->replaced > 0 && n > 0 && (size_t)n < size)
		snprintf(detail + n, size - (size_t)n, ", %" PRIu64 " rows replaced",
			 run->r->replaced);
	note->actor = run->opts->actor != NULL ? run->opts->actor : "";
	note->action = "copy";
	note->subject = run->opts->source_name != NULL ? run->opts->source_name : "";
	note->detail = detail;
}

/* store_copy - every table of from into to, all or nothing */
int store_copy(struct store *from, struct store *to, const struct store_copy_options *opts,
	       struct store_copy_result *r, char **error_r)
{
	struct copy_run run = { .from = from, .to = to, .opts = opts, .r = r,
				.error_r = error_r };
	struct store_copy_note note;
	char detail[128];
	bool empty;
	int rc;

	if (error_r != NULL)
		*error_r = NULL;
	if (r == NULL || opts == NULL || from == NULL || to == NULL)
		return error_r_set(error_r, "store_copy: bad arguments");
	memset(r, 0, sizeof *r);
	if (schema_current(from, "source", &r->refused, error_r) < 0
	    || schema_current(to, "target", &r->refused, error_r) < 0)
		return -1;
	if (store_copy_begin(from, false, error_r) < 0)
		return -1;
	if (store_copy_begin(to, true, error_r) < 0) {
		store_copy_end(from, NULL, NULL);
		return -1;
	}
	batch_init(&run.batch);
	rc = count_both(&run, &empty);
	if (rc == 0)
		rc = check_tables(&run);
	/* With replace even an "empty" target's admin log goes: the copied
	   rows bring their own ids. */
	if (rc == 0 && opts->replace)
		rc = clear_target(&run);
	else if (rc == 0 && !empty)
		rc = not_empty(&run);
	for (unsigned i = 0; rc == 0 && i < r->ntables; i++)
		rc = copy_table(&run, &r->tables[i]);
	r->rows = run.done;
	if (rc == 0)
		rc = count_after(&run);
	if (rc == 0) {
		copy_note(&run, detail, sizeof detail, &note);
		rc = store_copy_end(to, &note, error_r);
		r->committed = rc == 0;
	} else {
		store_copy_end(to, NULL, NULL);
	}
	store_copy_end(from, NULL, NULL);
	batch_free(&run.batch);
	return rc;
}

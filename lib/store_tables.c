/*
 * NAME
 *	store_tables 3
 * SUMMARY
 *	the tables that hold an admin's data, column by column
 * SYNOPSIS
 *	#include "store_tables.h"
 * DESCRIPTION
 *	The columns below are those of sql/NNN-*.sql and sql/pgsql/NNN-*.sql
 *	at their newest version, in the order of the CREATE TABLE. A column
 *	added by a migration is added here in the same commit, or copy
 *	would drop it (tests/ctl/cases_copy.sh compares every column).
 *	Not listed: schema_version (each database keeps its own) and the
 *	views (computed from these tables).
 */
#include <stdio.h>
#include <string.h>

#include "store_tables.h"

#define INT(n) { n, STORE_VALUE_INT, false }
#define INT_NULL(n) { n, STORE_VALUE_INT, true }
#define TEXT(n) { n, STORE_VALUE_TEXT, false }
#define TEXT_NULL(n) { n, STORE_VALUE_TEXT, true }
#define COLUMNS(a) a, (unsigned)(sizeof a / sizeof a[0])

static const struct store_column grants[] = {
	INT("id"), INT("family"), { "net", STORE_VALUE_BLOB, false }, TEXT("ip"),
	INT("prefix_len"), TEXT("username"), TEXT("service"), INT("first_seen"),
	INT("last_seen"), INT("expires_at"), INT("logins"),
};
static const struct store_column grant_log[] = {
	INT("id"), TEXT("event"), TEXT("ip"), INT("prefix_len"), TEXT("username"),
	TEXT("service"), INT("login_time"), INT_NULL("expires_at"), TEXT("source"),
	TEXT_NULL("line"), TEXT_NULL("session"),
};
static const struct store_column users[] = {
	TEXT("username"), INT("suspended"), INT("changed"),
};
static const struct store_column sender_rights[] = {
	TEXT("username"), TEXT("pattern"), INT("added"),
};
static const struct store_column certs[] = {
	TEXT("fingerprint"), TEXT("pubkey_fingerprint"), TEXT("username"), TEXT("subject"),
	INT_NULL("not_after"), INT("added"),
};
static const struct store_column limit_rules[] = {
	TEXT("subject"), TEXT("kind"), TEXT("spec"), INT("changed"),
};
static const struct store_column limit_counts[] = {
	TEXT("subject"), TEXT("kind"), INT("window_seconds"), INT("bucket"), INT("count"),
	INT("max"),
};
static const struct store_column limit_refusals[] = {
	INT("id"), INT("ts"), TEXT("subject"), TEXT("kind"), INT("window_seconds"),
	INT("notified"),
};
static const struct store_column checkpoints[] = {
	TEXT("source"), INT("dev"), INT("ino"), INT("offset"), INT("line_hash"), INT("updated"),
};
static const struct store_column decision_log[] = {
	INT("id"), INT("ts"), TEXT("program"), TEXT_NULL("client_ip"),
	TEXT_NULL("sasl_username"), TEXT_NULL("sender"), TEXT_NULL("recipient"),
	TEXT("verdict"), TEXT_NULL("rule"), TEXT_NULL("reason"), TEXT_NULL("queue_id"),
};
static const struct store_column admin_actions[] = {
	INT("id"), INT("ts"), TEXT("actor"), TEXT("action"), TEXT("subject"), TEXT("detail"),
};

#define TABLE(n, c) .name = n, .columns = COLUMNS(c)

const struct store_table store_tables[] = {
	{ TABLE("grants", grants), .order = { "id" }, .id = "id" },
	{ TABLE("grant_log", grant_log), .order = { "id" }, .id = "id" },
	{ TABLE("users", users), .order = { "username" } },
	{ TABLE("sender_rights", sender_rights), .order = { "username", "pattern" } },
	{ TABLE("certs", certs), .order = { "fingerprint" } },
	{ TABLE("limit_rules", limit_rules), .order = { "subject", "kind" }, .optional = true },
	{ TABLE("limit_counts", limit_counts),
	  .order = { "subject", "kind", "window_seconds", "bucket" }, .optional = true },
	{ TABLE("limit_refusals", limit_refusals), .order = { "id" }, .id = "id",
	  .optional = true },
	{ TABLE("loginwatch_checkpoints", checkpoints), .order = { "source" }, .per_host = true },
	{ TABLE("decision_log", decision_log), .order = { "id" }, .id = "id" },
	{ TABLE("admin_actions", admin_actions), .order = { "id" }, .id = "id",
	  .keep_target = true },
};
const unsigned store_tables_count = sizeof store_tables / sizeof store_tables[0];

_Static_assert(sizeof grants / sizeof grants[0] <= STORE_TABLE_COLUMNS_MAX,
	       "STORE_TABLE_COLUMNS_MAX holds the widest table");
_Static_assert(sizeof grant_log / sizeof grant_log[0] <= STORE_TABLE_COLUMNS_MAX,
	       "STORE_TABLE_COLUMNS_MAX holds the widest table");
_Static_assert(sizeof decision_log / sizeof decision_log[0] <= STORE_TABLE_COLUMNS_MAX,
	       "STORE_TABLE_COLUMNS_MAX holds the widest table");

/* store_table_find - a table by its SQL name */
const struct store_table *store_table_find(const char *name)
{
	for (unsigned i = 0; name != NULL && i < store_tables_count; i++)
		if (strcmp(store_tables[i].name, name) == 0)
			return &store_tables[i];
	return NULL;
}

/* store_table_column - a column's index */
int store_table_column(const struct store_table *t, const char *name)
{
	for (unsigned i = 0; i < t->ncolumns; i++)
		if (strcmp(t->columns[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* store_table_column_list - "\"a\", \"b\"" */
int store_table_column_list(const struct store_table *t, char *buf, size_t size)
{
	size_t used = 0;

	if (size == 0)
		return -1;
	buf[0] = '\0';
	for (unsigned i = 0; i < t->ncolumns; i++) {
		int n = snprintf(buf + used, size - used, "%s\"%s\"", i > 0 ? ", " : "",
				 t->columns[i].name);

		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
	}
	return 0;
}

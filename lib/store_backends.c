/*
 * NAME
 *	store_backends 3
 * SUMMARY
 *	the table of store backends
 * SYNOPSIS
 *	#include "store_backend.h"
 * DESCRIPTION
 *	store_open() walks this table, as Postfix's dict_open() walks its
 *	dictionary types and OpenSMTPD's table.c its backends: the first
 *	backend that accepts the location opens it. Server backends come
 *	first, their locations have a recognisable form
 *	("postgresql://..."); SQLite, last, takes any file path. Adding a
 *	backend is one line here and its own files; no caller changes.
 */
#include <string.h>

#include "store_backend.h"
#include "store_pgsql.h"

static const struct store_backend backends[] = {
	{ &store_pgsql_ops, true, store_pgsql_location, store_pgsql_open, NULL },
	{ &store_sqlite_ops, false, store_sqlite_location, store_sqlite_open,
	  store_sqlite_files },
};

/* store_backend_find - the first backend that accepts location */
const struct store_backend *store_backend_find(const char *location, char **error_r)
{
	const char *sep;

	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (backends[i].accepts(location))
			return &backends[i];
	/* Only a "scheme://" that no backend knows gets here. */
	sep = strstr(location, "://");
	error_r_set(error_r, "database \"%s\": unknown backend \"%.*s\"; use a file path for "
		    "SQLite or postgresql://... for PostgreSQL", location,
		    sep != NULL ? (int)(sep - location) : 0, location);
	return NULL;
}

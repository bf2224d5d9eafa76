/*
 * NAME
 *	sql_migrations 3h
 * SUMMARY
 *	the schema migrations, compiled in from sql/NNN-name.sql
 * DESCRIPTION
 *	tools/embed-sql.sh generates the table at build time, in file-name
 *	order; a migration's version is its number. store_sqlite applies every
 *	migration whose version is above PRAGMA user_version, each in its own
 *	transaction that also sets user_version.
 */
#ifndef AUTHRELAY_SQL_MIGRATIONS_H
#define AUTHRELAY_SQL_MIGRATIONS_H

struct sql_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct sql_migration sql_migrations[];
extern const unsigned sql_migrations_count;

/* PostgreSQL's schema (sql/pgsql/NNN-name.sql), the same way: the
   store_pgsql backend applies every one above schema_version. */
extern const struct sql_migration sql_pg_migrations[];
extern const unsigned sql_pg_migrations_count;

/* The highest version in a table of count migrations; 0 for none. */
static inline int sql_migrations_latest(const struct sql_migration *m, unsigned count)
{
	int latest = 0;

	for (unsigned i = 0; i < count; i++)
		if (m[i].version > latest)
			latest = m[i].version;
	return latest;
}

#endif

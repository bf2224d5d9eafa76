/*
 * NAME
 *	store_sqlite_file 3
 * SUMMARY
 *	SQLite backend: the database file checked, created, recognised
 *	and migrated
 * SYNOPSIS
 *	#include "store_sqlite.h"
 * DESCRIPTION
 *	sq_file_check() runs before anything is opened. Whoever can write
 *	the database can open relay, so a world-writable directory (sticky
 *	or not: anyone could plant the -wal file SQLite would then replay),
 *	or a world-writable database, -wal or -shm file is refused. A
 *	missing file is an error with STORE_OPEN_EXISTING (the message says
 *	to run "authrelayctl init"); with STORE_OPEN_CREATE it is created
 *	with mode 0640 (SQLite gives its -wal and -shm files the same mode).
 *
 *	sq_file_prepare() runs on the opened main connection:
 *	- A file that is not SQLite, or an SQLite file whose application_id
 *	is not authrelay's (and that is not empty), is refused and never
 *	written to: no PRAGMA that changes the file runs before this check.
 *	- A schema newer than this build is refused; an older one is migrated
 *	with sql_migrations[], each migration in its own IMMEDIATE
 *	transaction that also sets user_version (re-read inside the
 *	transaction, so two programs starting together migrate once).
 *	- The file is switched to WAL (persistent).
 * DIAGNOSTICS
 *	Errors name the file and say what to do.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "sql_migrations.h"
#include "store_sqlite.h"

int sq_pragma_int(sqlite3 *db, const char *sql, int *value_r)
{
	sqlite3_stmt *stmt;
	int rc;

	*value_r = 0;
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL)) != SQLITE_OK)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*value_r = sqlite3_column_int(stmt, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(stmt);
	return rc;
}

/* store_sqlite_schema_latest - the newest migration compiled in */
int store_sqlite_schema_latest(void)
{
	return sql_migrations_latest(sql_migrations, sql_migrations_count);
}

/* store_sqlite_location - a file path: anything but "scheme://..." */
bool store_sqlite_location(const char *location)
{
	const char *sep = strstr(location, "://");

	/* "scheme://..." names a server; a file path never needs "://" (a
	   path that really contains it can be written as ./path). */
	return sep == NULL || strchr(location, '/') < sep;
}

/* recognise - refuse foreign, corrupt and too new files; *fresh_r for an
   empty database */
static int recognise(struct sq_conn *conn, const struct store_options *opts, int *version_r,
		     char **error_r)
{
	int app_id, version, objects, rc;

	rc = sq_pragma_int(conn->db, "PRAGMA application_id", &app_id);
	if (rc == SQLITE_OK)
		rc = sq_pragma_int(conn->db, "PRAGMA user_version", &version);
	if (rc == SQLITE_OK)
		rc = sq_pragma_int(conn->db, "SELECT count(*) FROM sqlite_schema", &objects);
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
		return error_r_set(error_r, "database %s: not an SQLite database (%s); refusing to "
				   "use or overwrite it", conn->path, sqlite3_errmsg(conn->db));
	if (rc != SQLITE_OK)
		return sq_fail(conn, error_r, "read the schema version");
	*version_r = version;
	if ((uint32_t)app_id == SQ_APPLICATION_ID) {
		if (version > store_sqlite_schema_latest())
			return error_r_set(error_r, "database %s: schema version %d is newer than "
					   "this build of authrelay knows (%d); upgrade authrelay",
					   conn->path, version, store_sqlite_schema_latest());
		return 0;
	}
	if (app_id == 0 && version == 0 && objects == 0) {
		if (opts->mode == STORE_OPEN_EXISTING)
			return error_r_set(error_r, "database %s is empty (not initialised); run "
					   "'authrelayctl init' first", conn->path);
		return 0;
	}
	return error_r_set(error_r, "database %s: not an authrelay database (application_id "
			   "0x%08x, user_version %d); refusing to use it", conn->path,
			   (unsigned)app_id, version);
}

/* migrate - apply every migration above the file's version */
static int migrate(struct sq_conn *conn, char **error_r)
{
	for (unsigned i = 0; i < sql_migrations_count; i++) {
		const struct sql_migration *m = &sql_migrations[i];
		char *errmsg = NULL;
		char pragma[96];
		int version;

		if (sq_begin(conn, error_r) < 0)
			return -1;
		/* Re-read under the write lock: another program may have
		   migrated while we waited. */
		if (sq_pragma_int(conn->db, "PRAGMA user_version", &version) != SQLITE_OK) {
			sq_fail(conn, error_r, "read the schema version");
			sq_rollback(conn);
			return -1;
		}
		if (version >= m->version) {
			sq_rollback(conn);
			continue;
		}
		snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d; PRAGMA user_version = %d",
			 SQ_APPLICATION_ID, m->version);
		if (sqlite3_exec(conn->db, m->sql, NULL, NULL, &errmsg) != SQLITE_OK
		    || sqlite3_exec(conn->db, pragma, NULL, NULL, &errmsg) != SQLITE_OK) {
			error_r_set(error_r, "database %s: migration %s failed: %s", conn->path,
				    m->name, errmsg != NULL ? errmsg : sqlite3_errmsg(conn->db));
			sqlite3_free(errmsg);
			sq_rollback(conn);
			return -1;
		}
		if (sq_commit(conn, error_r) < 0)
			return -1;
		log_info("database %s: applied migration %s", conn->path, m->name);
	}
	return 0;
}

/* set_wal - switch the file to WAL (persistent; a no-op once done) */
static int set_wal(struct sq_conn *conn, char **error_r)
{
	sqlite3_stmt *stmt;
	int rc, ok = 0;

	if (sqlite3_prepare_v2(conn->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK)
		return sq_fail(conn, error_r, "set WAL mode");
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(stmt, 0);

		ok = mode != NULL && strcmp(mode, "wal") == 0;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW)
		return sq_fail(conn, error_r, "set WAL mode");
	if (!ok)
		return error_r_set(error_r, "database %s: cannot use WAL mode (is the file on a "
				   "network file system?)", conn->path);
	return 0;
}

/* create_file - make a missing database file with mode 0640 */
static int create_file(const char *path, char **error_r)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);

	if (fd < 0) {
		if (errno == EEXIST)	/* created by another program meanwhile */
			return 0;
		return error_r_set(error_r, "database %s: cannot create: %s", path,
				   strerror(errno));
	}
	/* Exactly 0640 whatever the umask: the group is how the daemons'
	   user reads a root-created file. */
	if (fchmod(fd, 0640) < 0) {
		error_r_set(error_r, "database %s: chmod: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* store_sqlite_files - the directory, the file, its -wal and -shm */
int store_sqlite_files(const char *path, store_file_cb *cb, void *ctx)
{
	static const char *const suffix[] = {"", "-wal", "-shm"};
	char *copy, file[4096];
	struct store_file f;
	int rc;

	if ((copy = strdup(path)) == NULL)
		return -1;
	f.path = dirname(copy);
	f.kind = STORE_FILE_DIR;
	f.why = "SQLite cannot create the -wal and -shm files there";
	rc = cb(&f, ctx);
	free(copy);
	for (size_t i = 0; rc == 0 && i < sizeof suffix / sizeof suffix[0]; i++) {
		if ((size_t)snprintf(file, sizeof file, "%s%s", path, suffix[i]) >= sizeof file)
			return -1;
		f.path = file;
		f.kind = i == 0 ? STORE_FILE_MAIN : STORE_FILE_SIDE;
		f.why = i == 0 ? "the database" : "SQLite's write-ahead log beside it";
		rc = cb(&f, ctx);
	}
	return rc;
}

/* What refuse_one() refuses, for its message. */
struct refuse {
	const char *path;
	char **error_r;
};

/* refuse_one - one path writable by any local account */
static int refuse_one(const struct store_file *f, void *ctx)
{
	const struct refuse *r = ctx;
	struct stat sb;

	if (stat(f->path, &sb) != 0 || !(sb.st_mode & S_IWOTH))
		return 0;
	if (f->kind == STORE_FILE_DIR)
		return error_r_set(r->error_r, "database %s: directory %s is world-writable: any "
				   "local user could replace the database or plant its -wal file; "
				   "refusing it (move the database to a directory of its own, e.g. "
				   "/var/lib/authrelay, mode 0750, owned by run_user)", r->path,
				   f->path);
	return error_r_set(r->error_r, "database %s: %s is world-writable: any local user could "
			   "change the relay rules; refusing it (chmod o-w %s, and check its "
			   "contents)", r->path, f->path, f->path);
}

/* refuse_writable - the directory or a database file is writable by any
   local account */
static int refuse_writable(const char *path, char **error_r)
{
	struct refuse r = { path, error_r };
	int rc = store_sqlite_files(path, refuse_one, &r);

	if (rc < 0 && error_r != NULL && *error_r == NULL)
		return error_r_set(error_r, "database %s: path too long", path);
	return rc < 0 ? -1 : 0;
}

int sq_file_check(const char *path, const struct store_options *opts, char **error_r)
{
	struct stat sb;

	if (refuse_writable(path, error_r) < 0)
		return -1;
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT)
			return error_r_set(error_r, "database %s: %s", path, strerror(errno));
		if (opts->mode == STORE_OPEN_EXISTING)
			return error_r_set(error_r, "database %s does not exist; run 'authrelayctl "
					   "init' to create it", path);
		return create_file(path, error_r);
	}
	if (!S_ISREG(sb.st_mode))
		return error_r_set(error_r, "database %s: not a regular file", path);
	return 0;
}

int sq_file_prepare(struct sq_conn *conn, const struct store_options *opts, char **error_r)
{
	int version;

	if (recognise(conn, opts, &version, error_r) < 0 || set_wal(conn, error_r) < 0)
		return -1;
	return migrate(conn, error_r);
}

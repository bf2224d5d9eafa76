/*
 * NAME
 *	store_pgsql 3
 * SUMMARY
 *	PostgreSQL backend: open, connections, schema, the ops table
 * SYNOPSIS
 *	#include "store_pgsql.h"
 * DESCRIPTION
 *	store_pgsql_open() reads the password file, opens the admin
 *	connection, creates or migrates the schema (sql/pgsql/, each
 *	migration in one transaction under an advisory lock, so that two
 *	hosts starting at once do not both apply it), and, for a daemon
 *	(a decision queue), starts the view thread and the decision writer
 *	(store_writer.c). The contract is in
 *	store_pgsql.h.
 * DIAGNOSTICS
 *	Errors name the libpq message; a password never appears in one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"
#include "sql_migrations.h"
#include "store_pgsql.h"
#include "store_writer.h"

/* The advisory lock key of schema changes: "ARLY", as SQLite's
   application_id. */
#define PG_SCHEMA_LOCK "1095912537"

long long pg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* store_pgsql_location - a URI or a libpq keyword=value string */
bool store_pgsql_location(const char *location)
{
	const char *p = location;

	if (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0)
		return true;
	/* "host=db1 dbname=authrelay": a keyword, optional blanks, '='. A
	   path ("/var/lib/...", "./x=y", "data.db") never starts so. */
	while (*p == ' ' || *p == '\t')
		p++;
	if (!islower((unsigned char)*p))
		return false;
	while (islower((unsigned char)*p) || *p == '_')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '=';
}

/* read_password - the first line of path; the file must be private */
static int read_password(const char *path, char **password_r, char **error_r)
{
	char buf[1024];
	struct stat sb;
	ssize_t n;
	int fd;

	*password_r = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return error_r_set(error_r, "database_password_file %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return error_r_set(error_r, "database_password_file %s: not a regular file", path);
	}
	if ((sb.st_mode & 077) != 0) {
		close(fd);
		return error_r_set(error_r, "database_password_file %s: readable by group or others "
				   "(mode %04o); chmod 0600 it", path, (unsigned)(sb.st_mode & 07777));
	}
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return error_r_set(error_r, "database_password_file %s: %s", path, strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		return error_r_set(error_r, "database_password_file %s: empty", path);
	if ((*password_r = strdup(buf)) == NULL)
		abort();
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/* notice_log - the server's notices and libpq's warnings go to our log,
   not to stderr ("terminating connection due to administrator command"
   is followed by our own message about the lost connection) */
static void notice_log(void *ctx, const char *message)
{
	(void)ctx;
	log_debug("database: PostgreSQL says: %.*s", (int)strcspn(message, "\n"), message);
}

/* conn_params - libpq's keywords: the location expanded as dbname */
static void conn_params(const struct pg_store *st, const char **keys, const char **vals,
		       char *timeout, size_t size)
{
	int n = 0;

	snprintf(timeout, size, "%lld", (st->timeout_ms + 999) / 1000);
	keys[n] = "dbname", vals[n++] = st->conninfo;
	keys[n] = "fallback_application_name", vals[n++] = st->program;
	keys[n] = "connect_timeout", vals[n++] = timeout;
	if (st->password != NULL)
		keys[n] = "password", vals[n++] = st->password;
	keys[n] = NULL, vals[n] = NULL;
}

PGconn *pg_connect_start(const struct pg_store *st)
{
	const char *keys[6], *vals[6];
	char timeout[32];

	PGconn *conn;

	conn_params(st, keys, vals, timeout, sizeof timeout);
	conn = PQconnectStartParams(keys, vals, 1);
	if (conn != NULL)
		PQsetNoticeProcessor(conn, notice_log, NULL);
	return conn;
}

/* conn_error - libpq's message, one line */
static int conn_error(PGconn *conn, const char *what, char **error_r)
{
	const char *msg = conn != NULL ? PQerrorMessage(conn) : "out of memory";
	int len = (int)strcspn(msg, "\n");

	return error_r_set(error_r, "%s: %.*s", what, len, msg);
}

PGconn *pg_connect_blocking(struct pg_store *st, char **error_r)
{
	const char *keys[6], *vals[6];
	char timeout[32];
	PGconn *conn;

	conn_params(st, keys, vals, timeout, sizeof timeout);
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		conn_error(conn, "cannot connect to PostgreSQL", error_r);
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeProcessor(conn, notice_log, NULL);
	/* Times in the database are Unix seconds; sessions stay in UTC so
	   that nothing else depends on the server's zone. */
	PQclear(PQexec(conn, "SET TIME ZONE 'UTC'"));
	return conn;
}

PGconn *pg_admin(struct pg_store *st, char **error_r)
{
	if (st->admin != NULL && PQstatus(st->admin) == CONNECTION_OK)
		return st->admin;
	PQfinish(st->admin);
	st->admin = pg_connect_blocking(st, error_r);
	return st->admin;
}

PGresult *pg_exec(struct pg_store *st, const char *what, const char *sql, int n,
		  const char *const *params, char **error_r)
{
	PGconn *conn = pg_admin(st, error_r);
	PGresult *res;
	ExecStatusType status;

	if (conn == NULL)
		return NULL;
	/* Without parameters the simple protocol: a text of several
	   statements (a migration) runs as one. */
	res = n == 0 ? PQexec(conn, sql) : PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	status = PQresultStatus(res);
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
		return res;
	if (res != NULL) {
		const char *msg = PQresultErrorMessage(res);
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* 42501 insufficient_privilege: most often init or a schema
		   change run as the daemons' role, which may only read and
		   write rows (conf-examples/postgresql/roles.sql). */
		error_r_set(error_r, "%s: %.*s%s", what, (int)strcspn(msg, "\n"), msg,
			    state != NULL && strcmp(state, "42501") == 0
				    ? " (this role may not do that: run it as the role that owns "
				      "the schema, as for authrelayctl init; see "
				      "conf-examples/postgresql/roles.sql)"
				    : "");
	} else {
		conn_error(conn, what, error_r);
	}
	PQclear(res);
	return NULL;
}

/* exec_ok - run a statement whose result is not needed */
static int exec_ok(struct pg_store *st, const char *what, const char *sql, char **error_r)
{
	PGresult *res = pg_exec(st, what, sql, 0, NULL, error_r);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int pg_begin(struct pg_store *st, char **error_r)
{
	return exec_ok(st, "begin", "BEGIN", error_r);
}

int pg_commit(struct pg_store *st, char **error_r)
{
	return exec_ok(st, "commit", "COMMIT", error_r);
}

void pg_rollback(struct pg_store *st)
{
	if (st->admin != NULL && PQstatus(st->admin) == CONNECTION_OK)
		PQclear(PQexec(st->admin, "ROLLBACK"));
}

int pg_admin_row(struct pg_store *st, const char *actor, const char *action,
		 const char *subject, const char *detail, char **error_r)
{
	char ts[32];
	const char *p[5] = { ts, actor, action, subject != NULL ? subject : "",
			     detail != NULL ? detail : "" };
	PGresult *res;

	snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
	res = pg_exec(st, "write admin_log",
		      "INSERT INTO admin_actions (ts, actor, action, subject, detail) "
		      "VALUES ($1, $2, $3, $4, $5)", 5, p, error_r);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* ---- schema ---- */

int store_pgsql_schema_latest(void)
{
	return sql_migrations_latest(sql_pg_migrations, sql_pg_migrations_count);
}

/* read_version - schema_version's value; 0 when the table is missing
   (a database authrelay never initialised) */
static int read_version(struct pg_store *st, int *version_r, char **error_r)
{
	PGresult *res = pg_exec(st, "look for the schema",
				"SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL, error_r);
	bool exists;

	if (res == NULL)
		return -1;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	*version_r = 0;
	if (!exists)
		return 0;
	res = pg_exec(st, "read the schema version", "SELECT max(version) FROM schema_version", 0,
		      NULL, error_r);
	if (res == NULL)
		return -1;
	if (!PQgetisnull(res, 0, 0))
		*version_r = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* migrate_one - apply one migration unless another host already did */
static int migrate_one(struct pg_store *st, const struct sql_migration *m, char **error_r)
{
	char what[128], v[16];
	const char *p[1] = { v };
	int version;
	PGresult *res;

	snprintf(what, sizeof what, "schema migration %s", m->name);
	if (pg_begin(st, error_r) < 0)
		return -1;
	if (exec_ok(st, what, "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ")", error_r) < 0
	    || read_version(st, &version, error_r) < 0)
		goto fail;
	if (version >= m->version) {
		pg_rollback(st);
		return 0;
	}
	if (exec_ok(st, what, m->sql, error_r) < 0)
		goto fail;
	snprintf(v, sizeof v, "%d", m->version);
	if ((res = pg_exec(st, what, "UPDATE schema_version SET version = $1", 1, p, error_r))
	    == NULL)
		goto fail;
	PQclear(res);
	if (pg_commit(st, error_r) < 0)
		goto fail;
	log_info("database: applied schema migration %s", m->name);
	return 0;
fail:
	pg_rollback(st);
	return -1;
}

/* schema_ready - create, migrate or refuse, as the open mode says */
static int schema_ready(struct pg_store *st, enum store_open_mode mode, char **error_r)
{
	int version, latest = store_pgsql_schema_latest();
	PGresult *res;
	bool exists;

	res = pg_exec(st, "look for the schema",
		      "SELECT to_regclass('schema_version') IS NOT NULL", 0, NULL, error_r);
	if (res == NULL)
		return -1;
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (!exists && mode != STORE_OPEN_CREATE)
		return error_r_set(error_r, "database %s has no authrelay schema (run "
				   "authrelayctl init)", st->conninfo);
	if (read_version(st, &version, error_r) < 0)
		return -1;
	if (version > latest)
		return error_r_set(error_r, "database schema version %d is newer than this "
				   "build's %d: upgrade authrelay", version, latest);
	for (unsigned i = 0; i < sql_pg_migrations_count; i++)
		if (sql_pg_migrations[i].version > version
		    && migrate_one(st, &sql_pg_migrations[i], error_r) < 0)
			return -1;
	return 0;
}

static int pg_schema_version(struct store *store, int *version_r)
{
	struct pg_store *st = pg_store(store);
	char *error = NULL;
	int rc;

	pthread_mutex_lock(&st->admin_lock);
	rc = read_version(st, version_r, &error);
	pthread_mutex_unlock(&st->admin_lock);
	free(error);
	return rc;
}

/* pg_check_integrity - the server answers and every table is there;
   *detail_r names the server (PostgreSQL's own checks are its admin's) */
static enum lookup_result pg_check_integrity(struct store *store, char **detail_r)
{
	static const char *const tables[] = { "grants", "grant_log", "users", "sender_rights",
					      "certs", "decision_log", "admin_actions",
					      "loginwatch_checkpoints", "schema_version",
					      "limit_rules", "limit_counts", "limit_refusals",
					      "active_grants", "grant_history", "decisions",
					      "admin_log", "limit_usage" };
	struct pg_store *st = pg_store(store);
	enum lookup_result r = LOOKUP_FOUND;
	PGresult *res;
	char *error = NULL;

	pthread_mutex_lock(&st->admin_lock);
	for (size_t i = 0; i < sizeof tables / sizeof tables[0] && r == LOOKUP_FOUND; i++) {
		const char *p[1] = { tables[i] };

		res = pg_exec(st, "integrity check", "SELECT to_regclass($1) IS NOT NULL", 1, p,
			      &error);
		if (res == NULL) {
			r = LOOKUP_ERROR;
		} else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
			error_r_set(&error, "table or view %s is missing", tables[i]);
			r = LOOKUP_NOT_FOUND;
		}
		PQclear(res);
	}
	if (r == LOOKUP_FOUND) {
		int v = PQserverVersion(st->admin);

		error_r_set(&error, "PostgreSQL %d.%d on %s:%s", v / 10000, v % 10000,
			    PQhost(st->admin), PQport(st->admin));
	}
	pthread_mutex_unlock(&st->admin_lock);
	if (detail_r != NULL)
		*detail_r = error;
	else
		free(error);
	return r;
}

/* ---- open and close ---- */

static void pg_close(struct store *store, long long flush_timeout_ms)
{
	struct pg_store *st = pg_store(store);

	store_writer_stop(&st->base, flush_timeout_ms);
	pg_writer_close(st);
	pg_thread_stop(st);
	PQfinish(st->admin);
	PQfinish(st->limit);
	pthread_mutex_destroy(&st->limit_lock);
	pg_view_free(st->view);
	pthread_mutex_destroy(&st->admin_lock);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	if (st->password != NULL) {
		explicit_bzero(st->password, strlen(st->password));
		free(st->password);
	}
	free(st->conninfo);
	free(st);
}

const struct store_ops store_pgsql_ops = {
	.name = "pgsql",
	.title = "PostgreSQL",
	.close = pg_close,
	.schema_latest = store_pgsql_schema_latest,
	.schema_version = pg_schema_version,
	.check_integrity = pg_check_integrity,
	.read_begin = NULL,	/* answers come from memory: nothing to pin */
	.read_end = NULL,
	.grant_lookup = pg_grant_lookup,
	.logins_apply = pg_logins_apply,
	.checkpoint_get = pg_checkpoint_get,
	.grant_add = pg_grant_add,
	.grant_revoke = pg_grant_revoke,
	.grant_list = pg_grant_list,
	.user_suspended = pg_user_suspended,
	.user_set_suspended = pg_user_set_suspended,
	.user_list = pg_user_list,
	.sender_owned = pg_sender_owned,
	.sender_allow = pg_sender_allow,
	.sender_deny = pg_sender_deny,
	.sender_list = pg_sender_list,
	.cert_lookup = pg_cert_lookup,
	.cert_add = pg_cert_add,
	.cert_revoke = pg_cert_revoke,
	.cert_list = pg_cert_list,
	.decision_write = pg_decision_write,
	.audit = pg_audit,
	.prune_batch = pg_prune_batch,
	.prune_count = pg_prune_count,
	.admin_log = pg_admin_log,
	.query = pg_query,
	.query_text = pg_query_text,
	.copy_begin = pg_copy_begin,
	.table_count = pg_table_count,
	.table_dump = pg_table_dump,
	.table_clear = pg_table_clear,
	.table_load = pg_table_load,
	.copy_end = pg_copy_end,
	.limit_rules_get = pg_limit_rules_get,
	.limit_set = pg_limit_set,
	.limit_clear = pg_limit_clear,
	.limit_list = pg_limit_list,
	.limit_charge = pg_limit_charge,
	.limit_refused = pg_limit_refused,
};

int store_pgsql_open(const char *location, const struct store_options *opts,
		     struct store **store_r, char **error_r)
{
	struct pg_store *st = calloc(1, sizeof *st);
	pthread_condattr_t cattr;
	int rc;

	if (st == NULL)
		abort();
	st->base.ops = &store_pgsql_ops;
	if ((st->conninfo = strdup(location)) == NULL)
		abort();
	snprintf(st->program, sizeof st->program, "authrelay-%s",
		 opts->program != NULL ? opts->program : "store");
	if (gethostname(st->host, sizeof st->host) != 0 || st->host[0] == '\0')
		snprintf(st->host, sizeof st->host, "localhost");
	st->host[sizeof st->host - 1] = '\0';
	st->timeout_ms = opts->busy_timeout_ms > PG_QUERY_TIMEOUT_MS ? opts->busy_timeout_ms
								     : PG_QUERY_TIMEOUT_MS;
	st->stale_grace_ms = opts->stale_grace_ms;
	st->progress = opts->progress;
	st->progress_ctx = opts->progress_ctx;
	st->wake[0] = st->wake[1] = -1;
	pthread_mutex_init(&st->admin_lock, NULL);
	pthread_mutex_init(&st->limit_lock, NULL);
	pthread_mutex_init(&st->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cond, &cattr);
	pthread_condattr_destroy(&cattr);

	if (opts->password_file != NULL && opts->password_file[0] != '\0'
	    && read_password(opts->password_file, &st->password, error_r) < 0)
		goto fail;
	pthread_mutex_lock(&st->admin_lock);
	rc = pg_admin(st, error_r) == NULL ? -1 : schema_ready(st, opts->mode, error_r);
	pthread_mutex_unlock(&st->admin_lock);
	if (rc < 0)
		goto fail;
	/* A daemon (it queues decisions) loads the tables now, so the first
	   request finds them in memory. */
	if (opts->decision_queue_max > 0 && pg_thread_start(st, error_r) < 0)
		goto fail;
	/* Its connection is opened by its first batch, on its thread. */
	if (store_writer_start(&st->base, opts->decision_queue_max, "PostgreSQL", error_r) < 0)
		goto fail;
	*store_r = &st->base;
	return 0;
fail:
	pg_close(&st->base, 0);
	return -1;
}

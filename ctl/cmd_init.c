/*
 * NAME
 *	cmd_init 3
 * SUMMARY
 *	authrelayctl init | check | prune
 * SYNOPSIS
 *	#include "ctl.h"
 * DESCRIPTION
 *	init creates the database (or migrates an older one) and, when run
 *	as root, hands its files (store_location_files(): SQLite's file and
 *	the -wal and -shm files it creates beside it; none for a server) to
 *	run_user: the daemons open them after dropping root.
 *
 *	check reports, in order: the config (every problem as FILE:LINE,
 *	exit 78), the database (opens, schema version, integrity; exit 69),
 *	and Postfix wiring hints when postconf is installed (warnings only).
 *
 *	prune deletes decisions older than audit_retention and grant rows
 *	that expired before then, in short transactions (store_prune).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "ctl.h"
#include "output.h"
#include "limit_spec.h"
#include "postfix_hints.h"
#include "relay_hazards.h"

#define PRUNE_BATCH 5000

/* give_file - one file of the database to run_user (not its directory) */

static int give_file(const struct store_file *f, void *ctx)
{
	const struct passwd *pw = ctx;

	if (f->kind != STORE_FILE_DIR && chown(f->path, pw->pw_uid, pw->pw_gid) != 0 &&
	    errno != ENOENT)
		ctl_warning("chown %s %s: %s", pw->pw_name, f->path, strerror(errno));
	return 0;
}

/* give_to_run_user - root's init: the database belongs to run_user */

static void give_to_run_user(struct ctl *ctl)
{
	struct passwd *pw;

	/* A server's database has no files to hand over. */
	if (geteuid() != 0 || store_location_is_server(ctl->cfg->database))
		return;
	pw = getpwnam(ctl->cfg->run_user);
	if (pw == NULL) {
		ctl_warning("run_user %s does not exist: the daemons cannot use %s until it "
			    "does (chown it then)",
			    ctl->cfg->run_user, ctl->cfg->database);
		return;
	}
	store_location_files(ctl->cfg->database, give_file, pw);
}

/* main_exists - the database's own file is there */

static int main_exists(const struct store_file *f, void *ctx)
{
	struct stat st;

	if (f->kind == STORE_FILE_MAIN)
		*(bool *)ctx = stat(f->path, &st) == 0;
	return 0;
}

/* cmd_init - create or migrate the database */

int cmd_init(struct ctl *ctl, int argc, char **argv)
{
	bool existed = false;
	int version = 0;
	char *error = NULL;
	char detail[64];
	int status;

	if (ctl_args(ctl, argc, argv, NULL, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	if ((status = ctl_config(ctl)) != EX_OK)
		return status;
	store_location_files(ctl->cfg->database, main_exists, &existed);
	if ((status = ctl_store(ctl, true)) != EX_OK)
		return status;
	if (store_schema_version(ctl->store, &version) != 0) {
		ctl_error("database %s: cannot read the schema version", ctl->cfg->database);
		return EX_UNAVAILABLE;
	}
	/* A server's database exists before init (its admin creates it);
	   init creates or migrates the schema in it. */
	if (store_location_is_server(ctl->cfg->database))
		snprintf(detail, sizeof detail, "PostgreSQL schema version %d", version);
	else
		snprintf(detail, sizeof detail, "%s, schema version %d",
			 existed ? "existing database checked" : "created", version);
	if (store_admin_log(ctl->store, ctl->actor, "init", ctl->cfg->database, detail, &error) !=
	    0) {
		ctl_error("database %s: %s", ctl->cfg->database, error ? error : "cannot write");
		free(error);
		return EX_UNAVAILABLE;
	}
	give_to_run_user(ctl);
	ctl_report_change(ctl, "database ready", ctl->cfg->database, detail);
	return EX_OK;
}

/* ---- check ---- */

struct finding {
	const char *area;	/* "config", "database", "postfix" */
	bool ok;
	char *text;
};

struct report {
	struct finding items[64];
	size_t n;
	unsigned warnings;
};

static void report_add(struct report *r, const char *area, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report_add(struct report *r, const char *area, bool ok, const char *fmt, ...)
{
	va_list ap;
	char *text = NULL;

	if (r->n >= sizeof r->items / sizeof r->items[0])
		return;
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	r->items[r->n].area = area;
	r->items[r->n].ok = ok;
	r->items[r->n].text = text;
	r->n++;
	if (!ok)
		r->warnings++;
}

static void postfix_hint(void *ctx, bool ok, const char *text)
{
	report_add(ctx, "postfix", ok, "%s", text);
}

static void relay_hazard(void *ctx, const char *where, const char *text)
{
	report_add(ctx, "config", false, "%s: %s", where, text);
}

static void report_print(struct ctl *ctl, struct report *r, int status)
{
	FILE *fp = ctl->out;

	if (ctl->json) {
		fprintf(fp, "{\"ok\": %s, \"exit\": %d, \"warnings\": %u, \"findings\": [",
			status == EX_OK ? "true" : "false", status, r->warnings);
		for (size_t i = 0; i < r->n; i++) {
			fprintf(fp, "%s\n  {\"area\": ", i ? "," : "");
			out_json_string(fp, r->items[i].area);
			fprintf(fp, ", \"level\": \"%s\", \"text\": ", r->items[i].ok ? "ok" : "warning");
			out_json_string(fp, r->items[i].text);
			fputc('}', fp);
		}
		fputs(r->n ? "\n]}\n" : "]}\n", fp);
	} else {
		for (size_t i = 0; i < r->n; i++) {
			fprintf(fp, "%s: %s: ", r->items[i].ok ? "ok" : "warning", r->items[i].area);
			out_text_value(fp, r->items[i].text);
			fputc('\n', fp);
		}
	}
	for (size_t i = 0; i < r->n; i++)
		free(r->items[i].text);
	r->n = 0;
}

/* What owner_check() checks against. */
struct owner_check {
	struct ctl *ctl;
	struct report *r;
	const struct passwd *pw;
};

/* owner_check - can run_user write one path of the database? */

static int owner_check(const struct store_file *f, void *ctx)
{
	const struct owner_check *c = ctx;
	const char *run_user = c->ctl->cfg->run_user;
	struct stat st;

	if (f->kind == STORE_FILE_SIDE || c->pw->pw_uid == 0 || stat(f->path, &st) != 0 ||
	    st.st_uid == c->pw->pw_uid || (st.st_gid == c->pw->pw_gid && (st.st_mode & S_IWGRP)))
		return 0;
	if (f->kind == STORE_FILE_MAIN)
		report_add(c->r, "database", false, "%s is not writable by run_user %s (chown %s %s)",
			   f->path, run_user, run_user, f->path);
	else if (!(st.st_mode & S_IWOTH))
		report_add(c->r, "database", false, "directory %s is not writable by run_user %s: %s",
			   f->path, run_user, f->why);
	return 0;
}

/* check_db_owner - can run_user write the database and its directory? */

static void check_db_owner(struct ctl *ctl, struct report *r)
{
	struct owner_check c = { ctl, r, getpwnam(ctl->cfg->run_user) };

	if (c.pw == NULL) {
		report_add(r, "database", false, "run_user %s does not exist", ctl->cfg->run_user);
		return;
	}
	store_location_files(ctl->cfg->database, owner_check, &c);
}

/* limit_row - counts the database's limit rows that limit someone */
static int limit_row(const char *subject, const char *kind, const char *spec, int64_t changed,
		     void *ctx)
{
	unsigned *n = ctx;

	(void)subject, (void)kind, (void)changed;
	if (strcmp(spec, "unlimited") != 0)
		(*n)++;
	return 0;
}

/* limits_set_by - what makes policyd count messages, for the hint; NULL
   when no limit is set anywhere (a database that cannot list its limit
   rows counts as having none: check has said what is wrong with it) */
static const char *limits_set_by(struct ctl *ctl, char *buf, size_t size)
{
	unsigned rows = 0;
	char *error = NULL;

	if (limit_spec_is_active(&ctl->cfg->limit_recipients))
		return "limit_recipients in authrelay.conf";
	if (limit_spec_is_active(&ctl->cfg->limit_messages))
		return "limit_messages in authrelay.conf";
	if (store_limit_list(ctl->store, limit_row, &rows, &error) < 0) {
		free(error);
		return NULL;
	}
	if (rows == 0)
		return NULL;
	snprintf(buf, size, "%u limit row%s in the database", rows, rows == 1 ? "" : "s");
	return buf;
}

/* cmd_check - config, database, Postfix wiring */

int cmd_check(struct ctl *ctl, int argc, char **argv)
{
	const char *postfix_dir = NULL;
	const struct ctl_option opts[] = {{"--postfix-config", &postfix_dir}, {NULL, NULL}};
	struct report r;
	struct authrelay_config *defaults;
	struct postfix_conf pc;
	struct postfix_expect expect;
	char limits_buf[64];
	int version = 0, status, got;
	char *detail = NULL, *error = NULL;
	enum lookup_result integrity;

	if (ctl_args(ctl, argc, argv, opts, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	memset(&r, 0, sizeof r);

	/* 1. The config: ctl_config() prints every FILE:LINE problem. */
	if ((status = ctl_config(ctl)) != EX_OK) {
		report_add(&r, "config", false, "%s has errors (above)",
			   ctl->config_path ? ctl->config_path : CFG_DEFAULT_PATH);
		report_print(ctl, &r, status);
		return status;
	}
	if (ctl->cfg->path[0] == 0)
		report_add(&r, "config", false, "%s not found: using the defaults",
			   CFG_DEFAULT_PATH);
	else
		report_add(&r, "config", true, "%s", ctl->cfg->path);
	relay_hazards(ctl->cfg, CFG_POLICYD | CFG_MILTER, relay_hazard, &r);

	/* 2. The database. */
	if ((status = ctl_store(ctl, false)) != EX_OK) {
		report_add(&r, "database", false, "%s cannot be opened (above)",
			   ctl->cfg->database);
		report_print(ctl, &r, status);
		return status;
	}
	if (store_schema_version(ctl->store, &version) != 0) {
		report_add(&r, "database", false, "%s: cannot read the schema version",
			   ctl->cfg->database);
		report_print(ctl, &r, EX_UNAVAILABLE);
		return EX_UNAVAILABLE;
	}
	report_add(&r, "database", version == store_schema_newest(ctl->store),
		   "%s: schema version %d (this build: %d)", ctl->cfg->database, version,
		   store_schema_newest(ctl->store));
	integrity = store_check_integrity(ctl->store, &detail);
	if (integrity != LOOKUP_FOUND) {
		report_add(&r, "database", false, "%s: integrity check failed: %s",
			   ctl->cfg->database, detail ? detail : "cannot run it");
		free(detail);
		report_print(ctl, &r, EX_UNAVAILABLE);
		return EX_UNAVAILABLE;
	}
	/* A server names itself here ("PostgreSQL 15.18 on HOST:PORT"). */
	if (detail != NULL && strcmp(detail, "ok") != 0)
		report_add(&r, "database", true, "%s: integrity ok, %s", ctl->cfg->database, detail);
	else
		report_add(&r, "database", true, "%s: integrity ok", ctl->cfg->database);
	free(detail);
	check_db_owner(ctl, &r);

	/* 3. Postfix: hints only. */
	got = postfix_conf_read(postfix_dir, &pc, &error);
	if (got == 1) {
		report_add(&r, "postfix", true, "postconf not installed: wiring not checked");
	} else if (got < 0) {
		report_add(&r, "postfix", false, "%s", error ? error : "postconf failed");
		free(error);
	} else {
		defaults = cfg_defaults();
		expect.policy_endpoint = ctl->cfg->policyd_listen;
		expect.milter_socket = ctl->cfg->milter_socket;
		/* The default socket is always "set"; a changed one means the
		   admin configured the milter. */
		expect.milter_in_use = strcmp(ctl->cfg->milter_socket, defaults->milter_socket) != 0;
		expect.limits_set_by = limits_set_by(ctl, limits_buf, sizeof limits_buf);
		cfg_free(&defaults);
		postfix_hints(&pc, &expect, postfix_hint, &r);
		postfix_conf_free(&pc);
	}
	report_print(ctl, &r, EX_OK);
	return EX_OK;
}

/* ---- prune ---- */

/* cmd_prune - what audit_retention says may go */

int cmd_prune(struct ctl *ctl, int argc, char **argv)
{
	uint64_t deleted = 0;
	char *error = NULL;
	char before_text[CTL_TIME_MAX], detail[128];
	int64_t before;
	int status, rc;

	if (ctl_args(ctl, argc, argv, NULL, NULL, 0, 0, NULL) != 0)
		return EX_USAGE;
	if ((status = ctl_store(ctl, false)) != EX_OK)
		return status;
	before = ctl->now - ctl->cfg->audit_retention;
	ctl_progress_begin(ctl, "prune", PROGRESS_ROWS, NULL);
	rc = store_prune(ctl->store, before, PRUNE_BATCH, ctl->actor, &deleted, &error);
	ctl_progress_end(ctl);
	if (rc != 0) {
		ctl_error("prune: %s (rows deleted so far: %llu)", error ? error : "database error",
			  (unsigned long long)deleted);
		free(error);
		return EX_UNAVAILABLE;
	}
	snprintf(detail, sizeof detail, "%llu rows older than %s deleted",
		 (unsigned long long)deleted, ctl_time_format(before, before_text, sizeof before_text));
	ctl_report_change(ctl, "pruned", ctl->cfg->database, detail);
	return EX_OK;
}

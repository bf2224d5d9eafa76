/*
 * NAME
 *	authrelay-policyd 8
 * SUMMARY
 *	Postfix SMTPD access policy delegation server
 * SYNOPSIS
 *	authrelay-policyd [-c FILE] [-f | -S | -n] [-V] [-h]
 * DESCRIPTION
 *	Start-up: configuration, socket (as root), detach and pidfile,
 *	privilege drop, then the database, then the event loop. The
 *	database comes last so that its files belong to run_user, and a
 *	database that cannot be opened does not stop the daemon: it answers
 *	with on_store_error and tries again every few seconds
 *	(frontend_store.h, shared with the milter).
 *
 *	Spawn mode (-S, for a master.cf spawn(8) service) serves the one
 *	connection on stdin/stdout. spawn(8) connects stderr to the same
 *	socket as stdout, so stderr is sent to /dev/null before anything
 *	else happens and logging goes to syslog only.
 *
 *	See authrelay-policyd(8) for the user-visible behaviour.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "daemon.h"
#include "decide.h"
#include "frontend.h"
#include "frontend_store.h"
#include "listen.h"
#include "log.h"
#include "metrics_http.h"
#include "relay_hazards.h"
#include "request.h"
#include "server.h"
#include "store.h"
#include "store_lookups.h"

#define PROG "authrelay-policyd"
#define STORE_FLUSH_MS 5000

struct policyd {
	const char *config_path;	/* NULL: the default */
	bool foreground, spawn;
	struct authrelay_config *cfg;
	struct relay_policy policy;
	struct frontend_store *fstore;	/* opened at start or later */
	struct store *store;		/* the open store of this batch, or NULL */
	struct relay_lookups lookups;	/* bound to store (NULL: all fail) */
	struct metrics_http *metrics;	/* NULL: policyd_metrics_listen empty */
};

/* settings_from_config - what the event loop needs */
static void settings_from_config(const struct authrelay_config *cfg, struct server_settings *s)
{
	s->limits.max_line = cfg->policyd_max_line;
	s->limits.max_attributes = cfg->policyd_max_attributes;
	s->limits.max_request = cfg->policyd_max_request;
	s->idle_timeout = cfg->policyd_idle_timeout > 0 ? cfg->policyd_idle_timeout : 1;
	s->max_connections = cfg->policyd_max_connections > 0 ? cfg->policyd_max_connections : 1;
}

/* policyd_log_lines - log a multi-line text one line at a time */
static void policyd_log_lines(enum log_level level, const char *prefix, const char *text)
{
	const char *s = text;

	while (*s) {
		size_t n = strcspn(s, "\n");

		log_msg(level, "%s%.*s", prefix, (int)n, s);
		s += n;
		if (*s == '\n')
			s++;
	}
}

/* load_config - read the configuration file */
static int load_config(const char *path, struct authrelay_config **cfg_r, char **error_r)
{
	/* Without -c a missing default file means "all defaults"; a file
	   named with -c must exist. */
	return cfg_load(path, path == NULL, cfg_r, error_r);
}

/* store_refresh - the store for the next requests; tries to open it
   again when it is missing and an attempt is due */
static void store_refresh(struct policyd *pd)
{
	struct store *store = frontend_store_get(pd->fstore);

	if (store != pd->store || pd->lookups.user_suspended == NULL) {
		pd->store = store;
		store_lookups_init(&pd->lookups, store);
		metrics_http_set_store(pd->metrics, store, true, false);
	}
}

/* frontend_env_of - what the front end has now */
static struct frontend_env frontend_env_of(struct policyd *pd, struct frontend_limits *limits)
{
	*limits = (struct frontend_limits){pd->cfg, PROG};
	return (struct frontend_env){
		.policy = &pd->policy,
		.lookups = &pd->lookups,
		.store = pd->store,
		.audit = pd->cfg->audit_decisions,
		.dunno_refuses = false,	/* reject_unauth_destination follows */
		.limits = limits,
	};
}

/* cb_answer - one complete request */
static size_t cb_answer(void *ctx, const struct policy_request *req, char *reply, size_t size,
			const char **error_r, bool *held_r)
{
	struct policyd *pd = ctx;
	struct frontend_limits limits;
	struct frontend_env env;

	store_refresh(pd);	/* one atomic load while the store is open */
	env = frontend_env_of(pd, &limits);
	return request_answer(req, &env, (int64_t)time(NULL), reply, size, error_r, held_r);
}

/* cb_uncounted - a held DATA request whose batch lost its count */
static size_t cb_uncounted(void *ctx, const struct policy_request *req, char *reply,
			   size_t size)
{
	struct policyd *pd = ctx;
	struct frontend_limits limits;
	struct frontend_env env = frontend_env_of(pd, &limits);

	return request_uncounted(req, &env, (int64_t)time(NULL), reply, size);
}

/* changed - a key that only a restart applies */
static void warn_if_changed(const char *key, const char *old, const char *new)
{
	if (strcmp(old, new) != 0)
		log_warning("reload: %s changed from \"%s\" to \"%s\"; restart to apply it", key,
			    old, new);
}

/* cb_reload - SIGHUP: a broken file keeps the running configuration */
static int cb_reload(void *ctx, struct server_settings *settings_r)
{
	struct policyd *pd = ctx;
	struct authrelay_config *cfg = NULL;
	char *error = NULL;

	if (load_config(pd->config_path, &cfg, &error) < 0) {
		policyd_log_lines(LOG_LEVEL_ERROR,
				  "reload failed, keeping the running configuration: ",
				  error ? error : "unknown error");
		free(error);
		return -1;
	}
	warn_if_changed("policyd_listen", pd->cfg->policyd_listen, cfg->policyd_listen);
	warn_if_changed("run_user", pd->cfg->run_user, cfg->run_user);
	warn_if_changed("database", pd->cfg->database, cfg->database);
	warn_if_changed("policyd_metrics_listen", pd->cfg->policyd_metrics_listen,
			cfg->policyd_metrics_listen);
	if (cfg->audit_decisions && !pd->cfg->audit_decisions && pd->store != NULL)
		/* The decision writer starts with the store, at start-up. */
		log_warning("reload: audit_decisions turned on; restart to start writing "
			    "decision rows");
	if (cfg->log_facility != pd->cfg->log_facility)
		log_open(PROG, cfg->log_facility, pd->foreground && !pd->spawn);
	log_set_level(cfg->log_level);
	/* The database stays the one opened at start (see above); its
	   options that matter per call come from the new file. */
	free(cfg->database);
	cfg->database = strdup(pd->cfg->database);
	if (cfg->database == NULL)
		abort();
	cfg_free(&pd->cfg);
	pd->cfg = cfg;
	relay_policy_from_config(&pd->policy, pd->cfg, false);
	settings_from_config(pd->cfg, settings_r);
	log_info("configuration %s reloaded", pd->cfg->path[0] ? pd->cfg->path : "(defaults)");
	return 0;
}

/* cb_tick - retry the database */
static void cb_tick(void *ctx)
{
	struct policyd *pd = ctx;

	store_refresh(pd);
}

/* cb_batch_begin - one read snapshot for the requests of one event
   batch: the database's locking is paid once per batch, not per lookup;
   a grant written meanwhile is seen by the next batch (microseconds to
   a millisecond later) */
static void cb_batch_begin(void *ctx)
{
	struct policyd *pd = ctx;

	store_refresh(pd);
	(void)store_read_begin(pd->store);	/* -1: per-lookup transactions */
}

/* cb_batch_end - the batch's snapshot ends; its counts are committed
   (-1: they were lost, and the replies held for them change) */
static int cb_batch_end(void *ctx)
{
	struct policyd *pd = ctx;

	return store_read_end(pd->store);
}

/* raise_fd_limit - room for policyd_max_connections descriptors */
static void raise_fd_limit(unsigned max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		log_warning("descriptor limit %llu is below policyd_max_connections + 64 (%llu); "
			    "connections beyond it are refused",
			    (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

/* check_only - -n: configuration, endpoint, user, database */
static int check_only(const char *path)
{
	struct authrelay_config *cfg = NULL;
	struct listen_endpoint ep;
	struct store *store = NULL;
	char *error = NULL;
	const char *where;
	int rc = 0;

	if (load_config(path, &cfg, &error) < 0) {
		fprintf(stderr, "%s%s", error, error[0] && error[strlen(error) - 1] == '\n' ? "" : "\n");
		free(error);
		return EXIT_CONFIG;
	}
	where = cfg->path[0] ? cfg->path : CFG_DEFAULT_PATH;
	/* warnings only: the configuration is valid */
	relay_hazards_print(cfg, CFG_POLICYD, stderr);
	if (listen_parse(cfg->policyd_listen, &ep, &error) < 0) {
		fprintf(stderr, "%s: policyd_listen: %s\n", where, error);
		free(error);
		rc = EXIT_CONFIG;
	}
	if (getuid() == 0) {
		uid_t uid;
		gid_t gid;

		if (daemon_user_ids(cfg->run_user, &uid, &gid, &error) < 0) {
			fprintf(stderr, "%s: run_user: %s\n", where, error);
			free(error);
			rc = EXIT_CONFIG;
		} else if (daemon_drop_privileges(cfg->run_user, &error) < 0) {
			/* Opening the database as root could leave root-owned
			   -wal/-shm files that the daemon cannot use. */
			fprintf(stderr, "%s: run_user: %s\n", where, error);
			free(error);
			cfg_free(&cfg);
			return EXIT_CONFIG;
		}
	}
	struct store_options opts = { .mode = STORE_OPEN_EXISTING, .busy_timeout_ms = cfg->database_busy_timeout * 1000,
				     .decision_queue_max = 0, .program = "policyd",
				     .password_file = cfg->database_password_file };

	if (store_open(cfg->database, &opts, &store, &error) < 0) {
		fprintf(stderr, "%s: %s\n", cfg->database, error ? error : "cannot open");
		free(error);
		rc = EXIT_CONFIG;
	} else {
		char *detail = NULL;

		if (store_check_integrity(store, &detail) != LOOKUP_FOUND) {
			fprintf(stderr, "%s: integrity check: %s\n", cfg->database,
				detail ? detail : "failed");
			rc = EXIT_CONFIG;
		}
		free(detail);
		store_close(&store, 1000);
	}
	if (rc == 0)
		printf("%s: configuration %s and database %s are usable\n", PROG, where,
		       cfg->database);
	cfg_free(&cfg);
	return rc;
}

/* open_listener - the listening socket, as root, before the drop */
static int open_listener(const struct authrelay_config *cfg, int *fd_r)
{
	struct listen_endpoint ep;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	char *error = NULL;
	char name[400];

	if (listen_parse(cfg->policyd_listen, &ep, &error) < 0) {
		log_error("policyd_listen: %s", error);
		free(error);
		return EXIT_CONFIG;
	}
	if (ep.kind == LISTEN_UNIX && getuid() == 0) {
		const char *owner = cfg->policyd_socket_owner[0] ? cfg->policyd_socket_owner
								 : cfg->run_user;

		if (daemon_user_ids(owner, &uid, &gid, &error) < 0) {
			log_error("policyd_socket_owner: %s", error);
			free(error);
			return EXIT_CONFIG;
		}
	}
	if (listen_open(&ep, true, uid, gid, cfg->policyd_socket_mode, fd_r, &error) < 0) {
		log_error("%s", error);
		free(error);
		return EXIT_UNAVAILABLE;
	}
	log_info("listening on %s", listen_format(&ep, name, sizeof(name)));
	return 0;
}

/* spawn_requested - look for -S before parsing, to silence stderr first */
static bool spawn_requested(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (argv[i][0] == '-' && argv[i][1] != '-' && strchr(argv[i] + 1, 'S') != NULL)
			return true;
	}
	return false;
}

/* quiet_stderr - spawn(8) wired stderr to the client: never write there */
static void quiet_stderr(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		if (fd != STDERR_FILENO)
			close(fd);
	} else {
		close(STDERR_FILENO);
	}
}

int main(int argc, char **argv)
{
	struct policyd pd = {0};
	struct daemon_args args;
	struct server *srv = NULL;
	struct server_settings settings;
	struct server_callbacks cb = {&pd, cb_answer, cb_uncounted, cb_reload, cb_tick,
				      cb_batch_begin, cb_batch_end};
	char *error = NULL;
	int listen_fd = -1, metrics_fd = -1;
	int rc;

	if (spawn_requested(argc, argv))
		quiet_stderr();
	if (daemon_args_parse(argc, argv, PROG, true, &args) != argc) {
		if (!spawn_requested(argc, argv))
			fprintf(stderr, "usage: %s [-c FILE] [-f | -S | -n] [-V] [-h]\n", PROG);
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	pd.config_path = args.config_path;
	pd.foreground = args.foreground;
	pd.spawn = args.spawn;
	if (args.check_only)
		return check_only(args.config_path);

	log_open(PROG, LOG_MAIL, pd.foreground && !pd.spawn);
	if (load_config(pd.config_path, &pd.cfg, &error) < 0) {
		policyd_log_lines(LOG_LEVEL_ERROR, "", error ? error : "configuration error");
		if (!pd.foreground && !pd.spawn)
			fprintf(stderr, "%s", error ? error : "configuration error\n");
		free(error);
		return EXIT_CONFIG;
	}
	log_open(PROG, pd.cfg->log_facility, pd.foreground && !pd.spawn);
	log_set_level(pd.cfg->log_level);
	/* not per spawned connection: -n and authrelayctl check tell */
	if (!pd.spawn)
		relay_hazards_log(pd.cfg, CFG_POLICYD);
	relay_policy_from_config(&pd.policy, pd.cfg, false);
	settings_from_config(pd.cfg, &settings);
	raise_fd_limit(pd.spawn ? 16 : pd.cfg->policyd_max_connections);

	if (!pd.spawn) {
		if ((rc = open_listener(pd.cfg, &listen_fd)) != 0) {
			if (!pd.foreground)
				fprintf(stderr, "%s: cannot listen; see the mail log\n", PROG);
			cfg_free(&pd.cfg);
			return rc;
		}
		/* Not in spawn mode: each spawned process is one connection. */
		if (pd.cfg->policyd_metrics_listen[0] != '\0'
		    && metrics_http_open("policyd_metrics_listen", pd.cfg->policyd_metrics_listen,
					 pd.cfg->run_user, &metrics_fd, &rc, &error) < 0) {
			log_error("%s", error ? error : "policyd_metrics_listen: error");
			return rc;
		}
		if (!pd.foreground) {
			uid_t uid = (uid_t)-1;
			gid_t gid = (gid_t)-1;

			if (getuid() == 0 &&
			    daemon_user_ids(pd.cfg->run_user, &uid, &gid, &error) < 0) {
				log_error("run_user: %s", error);
				return EXIT_CONFIG;
			}
			if (daemon_detach(&error) < 0) {
				log_error("cannot detach: %s", error);
				return EXIT_INTERNAL;
			}
			if (daemon_pidfile_open(pd.cfg->policyd_pidfile, uid, gid, &error) < 0) {
				log_error("pidfile: %s", error);
				return EXIT_UNAVAILABLE;
			}
		}
	}
	if (daemon_drop_privileges(pd.cfg->run_user, &error) < 0) {
		log_error("cannot drop privileges to %s: %s", pd.cfg->run_user, error);
		if (!pd.spawn && !pd.foreground)
			daemon_pidfile_remove(pd.cfg->policyd_pidfile);
		return EXIT_CONFIG;
	}
	daemon_signals_install(SIGHUP);
	/* After the detach: a fork keeps no thread. */
	if (metrics_fd >= 0) {
		metrics_http_enable("policyd");
		if (metrics_http_start(metrics_fd, &pd.metrics, &error) < 0) {
			log_error("metrics: %s", error ? error : "cannot start");
			return EXIT_UNAVAILABLE;
		}
		log_info("metrics: serving %s", pd.cfg->policyd_metrics_listen);
	}
	{
		struct store_options opts = {
			.mode = STORE_OPEN_EXISTING,
			.busy_timeout_ms = pd.cfg->database_busy_timeout * 1000,
			.decision_queue_max =
				pd.cfg->audit_decisions ? pd.cfg->decision_queue_max : 0,
			.program = "policyd",
			.password_file = pd.cfg->database_password_file,
			.stale_grace_ms = pd.cfg->database_stale_grace * 1000,
		};

		if (frontend_store_new(pd.cfg->database, &opts, &pd.fstore) < 0) {
			log_error("out of memory");
			return EXIT_INTERNAL;
		}
		store_refresh(&pd);
	}

	if (server_create(&settings, &cb, &srv, &error) < 0 ||
	    (listen_fd >= 0 && server_add_listener(srv, listen_fd, &error) < 0) ||
	    (pd.spawn &&
	     server_add_connection(srv, STDIN_FILENO, STDOUT_FILENO, "spawn", &error) < 0)) {
		log_error("cannot start the event loop: %s", error ? error : "unknown error");
		rc = EXIT_INTERNAL;
	} else {
		log_info("started%s (version %s)", pd.spawn ? " in spawn mode" : "",
			 AUTHRELAY_VERSION);
		rc = server_run(srv, pd.spawn) == 0 ? 0 : EXIT_INTERNAL;
	}
	free(error);
	server_free(&srv);
	metrics_http_stop(&pd.metrics);	/* it reads the store */
	pd.store = NULL;
	frontend_store_close(&pd.fstore, STORE_FLUSH_MS);
	if (!pd.spawn && !pd.foreground)
		daemon_pidfile_remove(pd.cfg->policyd_pidfile);
	log_info("stopped");
	cfg_free(&pd.cfg);
	log_close();
	return rc;
}

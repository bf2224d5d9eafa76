/*
 * NAME
 *	authrelay-milter 8
 * SUMMARY
 *	relay and sender rules inside the SMTP transaction
 * DESCRIPTION
 *	Start-up: configuration, libmilter socket (as root), detach,
 *	pidfile, privilege drop, database, then smfi_main() until SIGTERM.
 *	libmilter owns SIGHUP, SIGTERM and SIGINT (its own thread waits for
 *	them); SIGUSR1 reloads the configuration in a thread of ours.
 *	See authrelay-milter(8).
 */
#include <errno.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "callbacks.h"
#include "cfg.h"
#include "daemon.h"
#include "endpoint.h"
#include "error_r.h"
#include "log.h"
#include "metrics_http.h"
#include "nodelay.h"
#include "relay_hazards.h"
#include "settings.h"
#include "store.h"

#define PROG "authrelay-milter"

static const char *config_path;
static pthread_t reload_thread;
static volatile sig_atomic_t reload_thread_stop;

/* socket_owner_ids - milter_socket_owner "user" or "user:group" */
static int socket_owner_ids(const struct authrelay_config *cfg, uid_t *uid_r, gid_t *gid_r,
			    char **error_r)
{
	const char *spec = cfg->milter_socket_owner[0] ? cfg->milter_socket_owner : cfg->run_user;
	char user[256];
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

	if (len >= sizeof user)
		return error_r_set(error_r, "milter_socket_owner \"%s\": too long", spec);
	memcpy(user, spec, len);
	user[len] = '\0';
	if (daemon_user_ids(user, uid_r, gid_r, error_r) != 0)
		return -1;
	if (colon != NULL && colon[1] != '\0') {
		struct group *gr = getgrnam(colon + 1);

		if (gr == NULL)
			return error_r_set(error_r,
					   "milter_socket_owner \"%s\": unknown group \"%s\"", spec,
					   colon + 1);
		*gid_r = gr->gr_gid;
	}
	return 0;
}

/* check_only - -n: configuration and database, problems on stderr */
static int check_only(const char *path)
{
	struct authrelay_config *cfg = NULL;
	struct store *store = NULL;
	struct store_options opts = { .mode = STORE_OPEN_EXISTING, .program = "milter" };
	struct listen_endpoint ep;
	char conn[ENDPOINT_CONN_MAX];
	char *error = NULL;
	int status = 0;

	if (cfg_load(path, false, &cfg, &error) != 0) {
		fprintf(stderr, "%s", error ? error : "configuration cannot be read\n");
		free(error);
		return EXIT_CONFIG;
	}
	if (endpoint_translate(cfg->milter_socket, conn, sizeof conn, &ep, &error) != 0) {
		fprintf(stderr, "%s: %s\n", cfg->path, error ? error : "bad milter_socket");
		free(error);
		status = EXIT_CONFIG;
	}
	/* warnings only: the configuration is valid */
	relay_hazards_print(cfg, CFG_MILTER, stderr);
	opts.busy_timeout_ms = cfg->database_busy_timeout * 1000;
	opts.password_file = cfg->database_password_file;
	if (store_open(cfg->database, &opts, &store, &error) != 0) {
		fprintf(stderr, "%s: database %s: %s\n", cfg->path, cfg->database,
			error ? error : "cannot be opened");
		free(error);
		status = EXIT_CONFIG;
	} else {
		store_close(&store, 0);
	}
	cfg_free(&cfg);
	return status;
}

/* reload - SIGUSR1: read the file again, keep what needs a restart */
static void reload(void)
{
	struct authrelay_config *cfg = NULL;
	const struct milter_settings *old = settings_acquire();
	char *error = NULL;

	if (cfg_load(config_path, false, &cfg, &error) != 0) {
		log_error("reload: configuration kept: %s", error ? error : "cannot be read");
		free(error);
		settings_release(&old);
		return;
	}
	if (old != NULL) {
		if (strcmp(old->cfg->milter_socket, cfg->milter_socket) != 0 ||
		    strcmp(old->cfg->database, cfg->database) != 0 ||
		    strcmp(old->cfg->run_user, cfg->run_user) != 0 ||
		    strcmp(old->cfg->milter_pidfile, cfg->milter_pidfile) != 0 ||
		    strcmp(old->cfg->milter_metrics_listen, cfg->milter_metrics_listen) != 0)
			log_warning("reload: milter_socket, database, run_user, milter_pidfile "
				    "and milter_metrics_listen take effect at restart only");
		if (old->cfg->log_facility != cfg->log_facility)
			log_open(PROG, cfg->log_facility, false);
	}
	log_set_level(cfg->log_level);
	settings_release(&old);
	if (settings_install(cfg) != 0) {
		log_error("reload: out of memory: configuration kept");
		return;
	}
	log_info("reload: configuration %s read", config_path ? config_path : CFG_DEFAULT_PATH);
}

/* reload_main - the thread that waits for SIGUSR1 */
static void *reload_main(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (sigwait(&set, &sig) == 0) {
		if (reload_thread_stop)
			break;
		reload();
	}
	return NULL;
}

/* signals_block - before any thread: every thread inherits the mask */
static void signals_block(void)
{
	sigset_t set;

	/* libmilter sigwait()s for HUP/TERM/INT in its own thread, and we
	   for USR1 in ours; a thread that did not block them (say the
	   store's writer, started before smfi_main()) would take the
	   default action instead and kill the process without a flush. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* open_socket - libmilter's listener, then owner and mode of a unix: one */
static int open_socket(const struct authrelay_config *cfg)
{
	struct listen_endpoint ep;
	char conn[ENDPOINT_CONN_MAX];
	char *error = NULL;
	uid_t uid;
	gid_t gid;

	if (endpoint_translate(cfg->milter_socket, conn, sizeof conn, &ep, &error) != 0) {
		log_error("%s", error ? error : "bad milter_socket");
		free(error);
		return EXIT_CONFIG;
	}
	if (ep.kind == LISTEN_UNIX && socket_owner_ids(cfg, &uid, &gid, &error) != 0) {
		log_error("%s", error ? error : "bad milter_socket_owner");
		free(error);
		return EXIT_CONFIG;
	}
	if (smfi_setconn(conn) != MI_SUCCESS || smfi_register(*callbacks_desc()) != MI_SUCCESS ||
	    smfi_settimeout((int)cfg->milter_timeout) != MI_SUCCESS) {
		log_error("libmilter refused the filter description or \"%s\"", conn);
		return EXIT_INTERNAL;
	}
	/* true: remove a stale unix socket (libmilter removes only sockets). */
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_error("cannot listen on %s (%s): in use, or no permission", cfg->milter_socket,
			  conn);
		return EXIT_UNAVAILABLE;
	}
	if (ep.kind == LISTEN_UNIX) {
		if (geteuid() == 0 && chown(ep.path, uid, gid) != 0) {
			log_error("chown %s: %s", ep.path, strerror(errno));
			return EXIT_UNAVAILABLE;
		}
		if (chmod(ep.path, cfg->milter_socket_mode) != 0) {
			log_error("chmod %s: %s", ep.path, strerror(errno));
			return EXIT_UNAVAILABLE;
		}
	}
	log_debug("listening on %s (libmilter %s)", cfg->milter_socket, conn);
	return 0;
}

/* metrics_store_open - the scrape reads the store once it is open */
static void metrics_store_open(void *ctx, struct store *store)
{
	metrics_http_set_store(ctx, store, true, false);
}

int main(int argc, char **argv)
{
	struct daemon_args args;
	struct authrelay_config *cfg = NULL;
	struct frontend_store *fstore = NULL;
	struct store_options opts = { .mode = STORE_OPEN_EXISTING, .program = "milter" };
	char *error = NULL;
	char *pidfile = NULL;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	struct metrics_http *metrics = NULL;
	int metrics_fd = -1;
	int status;

	daemon_args_parse(argc, argv, PROG, false, &args);
	config_path = args.config_path;
	if (args.check_only)
		return check_only(config_path);
	if (cfg_load(config_path, false, &cfg, &error) != 0) {
		fprintf(stderr, "%s", error ? error : "configuration cannot be read\n");
		free(error);
		return EXIT_CONFIG;
	}
	log_open(PROG, cfg->log_facility, args.foreground);
	log_set_level(cfg->log_level);
	relay_hazards_log(cfg, CFG_MILTER);
	nodelay_init();
	if (daemon_user_ids(cfg->run_user, &uid, &gid, &error) != 0) {
		log_error("run_user: %s", error ? error : "unknown user");
		free(error);
		cfg_free(&cfg);
		return EXIT_CONFIG;
	}
	if ((status = open_socket(cfg)) != 0) {
		cfg_free(&cfg);
		return status;
	}
	if (cfg->milter_metrics_listen[0] != '\0'
	    && metrics_http_open("milter_metrics_listen", cfg->milter_metrics_listen, cfg->run_user,
				 &metrics_fd, &status, &error) < 0) {
		log_error("%s", error ? error : "milter_metrics_listen: error");
		free(error);
		cfg_free(&cfg);
		return status;
	}
	if (!args.foreground && daemon_detach(&error) != 0) {
		log_error("detach: %s", error ? error : "failed");
		free(error);
		return EXIT_UNAVAILABLE;
	}
	signals_block();
	if (daemon_pidfile_open(cfg->milter_pidfile, uid, gid, &error) != 0) {
		log_error("pidfile: %s", error ? error : "failed");
		free(error);
		return EXIT_UNAVAILABLE;
	}
	pidfile = strdup(cfg->milter_pidfile);
	if (daemon_drop_privileges(cfg->run_user, &error) != 0) {
		log_error("privilege drop: %s", error ? error : "failed");
		free(error);
		status = EXIT_UNAVAILABLE;
		goto out;
	}
	/* After the drop: the database's -wal/-shm files belong to run_user. */
	opts.busy_timeout_ms = cfg->database_busy_timeout * 1000;
	opts.decision_queue_max = cfg->audit_decisions ? cfg->decision_queue_max : 0;
	opts.password_file = cfg->database_password_file;
	opts.stale_grace_ms = cfg->database_stale_grace * 1000;
	/* A database that cannot be opened does not stop the milter: it
	   answers relayed recipients with on_store_error and tries again,
	   as policyd does (frontend_store.h). */
	if (frontend_store_new(cfg->database, &opts, &fstore) != 0) {
		log_error("out of memory");
		status = EXIT_INTERNAL;
		goto out;
	}
	callbacks_set_store(fstore);
	/* After the detach (a fork keeps no thread) and signals_block()
	   (the server's thread inherits the mask). */
	if (metrics_fd >= 0) {
		metrics_http_enable("milter");
		if (metrics_http_start(metrics_fd, &metrics, &error) < 0) {
			metrics_fd = -1;
			log_error("metrics: %s", error ? error : "cannot start");
			free(error);
			status = EXIT_UNAVAILABLE;
			goto out;
		}
		metrics_fd = -1;
		/* Now, or when a retry opens it later. */
		frontend_store_on_open(fstore, metrics_store_open, metrics);
		log_info("metrics: serving %s", cfg->milter_metrics_listen);
	}
	if (settings_install(cfg) != 0) {
		cfg = NULL;
		log_error("out of memory");
		status = EXIT_INTERNAL;
		goto out;
	}
	cfg = NULL;	/* owned by the settings now */
	if (pthread_create(&reload_thread, NULL, reload_main, NULL) != 0) {
		log_error("cannot start the reload thread");
		status = EXIT_INTERNAL;
		goto out;
	}
	{
		const struct milter_settings *s = settings_acquire();

		log_info("started: socket %s, TCP_NODELAY %s", s->cfg->milter_socket,
			 nodelay_enabled() ? "on" : "off");
		settings_release(&s);
	}
	status = smfi_main() == MI_SUCCESS ? 0 : EXIT_UNAVAILABLE;
	log_info("stopping (%lu inet connections tuned with TCP_NODELAY)",
		 nodelay_tuned_count());
	reload_thread_stop = 1;
	pthread_kill(reload_thread, SIGUSR1);
	pthread_join(reload_thread, NULL);
out:
	metrics_http_stop(&metrics);	/* it reads the store */
	if (metrics_fd >= 0)
		close(metrics_fd);
	callbacks_set_store(NULL);
	frontend_store_close(&fstore, 5000);
	settings_shutdown();
	cfg_free(&cfg);
	if (pidfile != NULL)
		daemon_pidfile_remove(pidfile);
	free(pidfile);
	log_close();
	return status;
}

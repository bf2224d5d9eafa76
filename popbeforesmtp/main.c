/*
 * NAME
 *	authrelay-loginwatch 8
 * SUMMARY
 *	POP/IMAP-before-SMTP: relay grants from POP/IMAP login logs
 * SYNOPSIS
 *	authrelay-loginwatch [-c FILE] [-f] [-n] [-V] [-h]
 *	authrelay-loginwatch [-c FILE] --scan FILE...
 *	authrelay-loginwatch [-c FILE] --parse-only FILE...
 * DESCRIPTION
 *	Start-up and the main loop; see authrelay-loginwatch.8. The order
 *	matters: detach, pidfile, open the sources (as root: mail logs are
 *	often root:adm 0640), drop privileges, then open the database (its
 *	WAL files must belong to run_user), then resume every file source
 *	from its checkpoint.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "commit_group.h"
#include "daemon.h"
#include "error_r.h"
#include "follow.h"
#include "http_server.h"
#include "journal.h"
#include "listen.h"
#include "log.h"
#include "loginwatch.h"
#include "metrics.h"
#include "metrics_http.h"
#include "progress.h"
#include "report.h"

#define PROG "authrelay-loginwatch"

enum mode { MODE_FOLLOW, MODE_SCAN, MODE_PARSE_ONLY };

/* -v: kept here because every (re)load of the config sets the log level */
static bool opt_verbose;

/* The long options, which the common short-option parser does not know. */
struct long_options {
	enum mode mode;
	enum progress_mode progress;	/* --quiet / --progress */
	bool verbose;			/* -v / --verbose: log_level debug */
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: " PROG " [-c FILE] [-f] [-n] [-v] [-V] [-h]\n"
		"       " PROG " [-c FILE] [-v] [--quiet | --progress] --scan FILE...\n"
		"       " PROG " [-c FILE] [--quiet | --progress] --parse-only FILE...\n"
		"  -c FILE       configuration file (default " CFG_DEFAULT_PATH ")\n"
		"  -f            stay in the foreground, log to stderr as well\n"
		"  -n            check the configuration, sources and database, then exit\n"
		"  -v            log at debug level (with --scan: one line per grant)\n"
		"  -V            print the version\n"
		"  -h            this help\n"
		"  --scan        read FILEs from their start, record the grants that have\n"
		"                not expired yet, print counts, exit (no checkpoints)\n"
		"  --parse-only  as --scan, without the database (benchmarks, format checks)\n"
		"  --quiet       --scan/--parse-only: no progress line, no summary\n"
		"  --progress    --scan/--parse-only: a progress line even when stderr is\n"
		"                not a terminal\n");
}

/* strip_long_options - take out --scan, --parse-only, --quiet,
   --progress and -v (the common parser knows the daemons' short options
   only) */
static struct long_options strip_long_options(int *argc, char **argv)
{
	struct long_options o = { MODE_FOLLOW, PROGRESS_AUTO, false };
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--scan") == 0) {
			o.mode = MODE_SCAN;
		} else if (strcmp(argv[i], "--parse-only") == 0) {
			o.mode = MODE_PARSE_ONLY;
		} else if (strcmp(argv[i], "--quiet") == 0) {
			o.progress = PROGRESS_QUIET;
		} else if (strcmp(argv[i], "--progress") == 0) {
			o.progress = PROGRESS_ALWAYS;
		} else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
			o.verbose = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			exit(0);
		} else {
			argv[out++] = argv[i];
		}
	}
	argv[out] = NULL;
	*argc = out;
	return o;
}

/* apply_config - parsers and grant policy from cfg; 0 or -1 with *error_r */
static int apply_config(struct loginwatch *w, const struct authrelay_config *cfg, char **error_r)
{
	struct parser_set set;

	if (parsers_select(&cfg->loginwatch_formats, &set, error_r) < 0)
		return -1;
	if (cfg->grant_ttl <= 0)
		return error_r_set(error_r, "grant_ttl must be positive");
	w->parsers = set;
	w->policy.ttl = cfg->grant_ttl;
	w->policy.ipv6_prefix = cfg->grant_ipv6_prefix;
	w->policy.exclude = cfg->grant_exclude_networks;
	log_set_level(opt_verbose ? LOG_LEVEL_DEBUG : cfg->log_level);
	return 0;
}

/* open_store - the database, existing and initialised */
static int open_store(const struct authrelay_config *cfg, struct store **store_r, char **error_r)
{
	struct store_options opts = {
		.mode = STORE_OPEN_EXISTING,
		.busy_timeout_ms = cfg->database_busy_timeout * 1000,
		.decision_queue_max = 0,
		.program = "loginwatch",
		.password_file = cfg->database_password_file,
	};

	return store_open(cfg->database, &opts, store_r, error_r);
}

/* http_is_local - -n: 1 when the listener would be this host's only, 0
   when not, by the rule the start applies (listen_is_local() on a socket
   bound to the same address, port 0: the daemon may hold the real one);
   -1 with *error_r when the address cannot be bound */
static int http_is_local(const struct listen_endpoint *ep, char **error_r)
{
	struct listen_endpoint probe = *ep;
	int fd, local;

	if (probe.kind == LISTEN_UNIX)
		return 1;
	snprintf(probe.port, sizeof(probe.port), "0");
	if (listen_open(&probe, true, (uid_t)-1, (gid_t)-1, 0, &fd, error_r) < 0)
		return -1;
	local = listen_is_local(fd);
	close(fd);
	return local;
}

/* check_mode - -n: configuration, sources, database; exit status */
static int check_mode(const struct authrelay_config *cfg)
{
	struct loginwatch w;
	struct store *store = NULL;
	char *error = NULL;
	int problems = 0;

	memset(&w, 0, sizeof(w));
	if (apply_config(&w, cfg, &error) < 0) {
		fprintf(stderr, "%s: %s\n", cfg->path, error ? error : "error");
		free(error);
		problems++;
	}
	if (cfg->loginwatch_sources.count == 0 && cfg->loginwatch_http_listen[0] == '\0') {
		fprintf(stderr, "%s: loginwatch_sources and loginwatch_http_listen are empty: "
			"nothing to follow\n", cfg->path);
		problems++;
	}
	if (cfg->loginwatch_http_listen[0] != '\0') {
		struct listen_endpoint ep;
		char *key = NULL;

		if (listen_parse(cfg->loginwatch_http_listen, &ep, &error) < 0) {
			fprintf(stderr, "%s: loginwatch_http_listen: %s\n", cfg->path, error);
			free(error);
			error = NULL;
			problems++;
		} else if (cfg->loginwatch_http_api_key_file[0] == '\0') {
			switch (http_is_local(&ep, &error)) {
			case -1:
				fprintf(stderr, "%s: loginwatch_http_listen: %s\n", cfg->path,
					error ? error : "error");
				free(error);
				error = NULL;
				problems++;
				break;
			case 0:
				fprintf(stderr, "%s: loginwatch_http_listen = %s is reachable from other "
					"hosts: set loginwatch_http_api_key_file, or listen on "
					"loopback\n", cfg->path, cfg->loginwatch_http_listen);
				problems++;
				break;
			}
		}
		if (cfg->loginwatch_http_api_key_file[0] != '\0') {
			if (report_key_read(cfg->loginwatch_http_api_key_file, &key, &error) < 0) {
				fprintf(stderr, "%s: %s\n", cfg->path, error ? error : "error");
				free(error);
				error = NULL;
				problems++;
			}
			free(key);
		}
	}
	for (size_t i = 0; i < cfg->loginwatch_sources.count; i++) {
		const char *src = cfg->loginwatch_sources.items[i];

		if (strcmp(src, "-") == 0)
			continue;
		if (strcmp(src, "journal") == 0) {
			if (!journal_available()) {
				fprintf(stderr, "%s: loginwatch_sources: \"journal\": this build has "
					"no libsystemd\n", cfg->path);
				problems++;
			}
			continue;
		}
		if (src[0] != '/') {
			fprintf(stderr, "%s: loginwatch_sources: \"%s\" is not an absolute path\n",
				cfg->path, src);
			problems++;
		} else if (access(src, R_OK) < 0 && errno != ENOENT) {
			fprintf(stderr, "%s: loginwatch_sources: %s: %s\n", cfg->path, src,
				strerror(errno));
			problems++;
		}
	}
	if (open_store(cfg, &store, &error) < 0) {
		fprintf(stderr, "%s: database: %s\n", cfg->path, error ? error : "error");
		free(error);
		problems++;
	} else {
		store_close(&store, 1000);
	}
	return problems == 0 ? 0 : EXIT_CONFIG;
}

/* scan_total - the bytes of every FILE, for the progress line; 0 when one
   cannot be sized (a pipe): the line then shows no time left */
static uint64_t scan_total(char **files, int nfiles)
{
	uint64_t total = 0;
	struct stat st;

	for (int i = 0; i < nfiles; i++) {
		if (stat(files[i], &st) < 0 || !S_ISREG(st.st_mode))
			return 0;
		total += (uint64_t)st.st_size;
	}
	return total;
}

/* scan_mode - --scan / --parse-only FILE...: a progress line on a
   terminal, one summary line on stdout, nothing with --quiet */
static int scan_mode(const struct authrelay_config *cfg, const struct long_options *o, char **files,
		     int nfiles)
{
	struct loginwatch w;
	struct progress progress;
	char *error = NULL;
	int status = 0;

	memset(&w, 0, sizeof(w));
	w.scan = true;
	w.now = time(NULL);
	if (apply_config(&w, cfg, &error) < 0) {
		fprintf(stderr, PROG ": %s: %s\n", cfg->path, error ? error : "error");
		free(error);
		return EXIT_CONFIG;
	}
	if (o->mode == MODE_SCAN && open_store(cfg, &w.store, &error) < 0) {
		fprintf(stderr, PROG ": %s\n", error ? error : "cannot open the database");
		free(error);
		return EXIT_UNAVAILABLE;
	}
	progress_start(&progress, o->progress, stderr, o->mode == MODE_SCAN ? "scan" : "parse",
		       PROGRESS_BYTES, scan_total(files, nfiles));
	w.progress = &progress;
	for (int i = 0; i < nfiles; i++) {
		struct stat st;

		if (follow_scan(files[i], &loginwatch_callbacks, &w, &error) < 0) {
			progress_end(&progress);
			fprintf(stderr, PROG ": %s\n", error ? error : "scan failed");
			free(error);
			error = NULL;
			status = EXIT_UNAVAILABLE;
			break;
		}
		if (stat(files[i], &st) == 0)
			w.progress_base += (uint64_t)st.st_size;
	}
	progress_end(&progress);
	if (o->progress != PROGRESS_QUIET || status != 0)
		printf("candidates=%llu logins=%llu granted=%llu refused=%llu excluded=%llu "
		       "expired=%llu\n",
		       (unsigned long long)w.stats.candidates, (unsigned long long)w.stats.logins,
		       (unsigned long long)w.stats.granted, (unsigned long long)w.stats.refused,
		       (unsigned long long)w.stats.excluded, (unsigned long long)w.stats.expired);
	if (w.store != NULL)
		store_close(&w.store, 5000);
	loginwatch_done(&w);
	return status;
}

/* reload - SIGHUP: the config again; the sources and the listener need a
   restart */
static void reload(struct loginwatch *w, struct report *report, const char *path,
		   struct authrelay_config **cfg)
{
	struct authrelay_config *n = NULL;
	struct loginwatch probe = *w;
	char *error = NULL;
	bool same = true;

	if (cfg_load(path, false, &n, &error) < 0 || apply_config(&probe, n, &error) < 0) {
		log_error("reload: keeping the running configuration: %s", error ? error : "error");
		free(error);
		cfg_free(&n);
		return;
	}
	if (n->loginwatch_sources.count != (*cfg)->loginwatch_sources.count)
		same = false;
	for (size_t i = 0; same && i < n->loginwatch_sources.count; i++)
		same = strcmp(n->loginwatch_sources.items[i],
			      (*cfg)->loginwatch_sources.items[i]) == 0;
	if (!same)
		log_warning("reload: loginwatch_sources changed; restart to follow the new list "
			    "(sources are opened before the privilege drop)");
	if (strcmp(n->database, (*cfg)->database) != 0)
		log_warning("reload: database changed; restart to use it");
	if (strcmp(n->loginwatch_http_listen, (*cfg)->loginwatch_http_listen) != 0
	    || strcmp(n->loginwatch_http_api_key_file, (*cfg)->loginwatch_http_api_key_file) != 0)
		log_warning("reload: loginwatch_http_listen or its key file changed; restart to "
			    "use them (both are opened before the privilege drop)");
	if (strcmp(n->loginwatch_metrics_listen, (*cfg)->loginwatch_metrics_listen) != 0)
		log_warning("reload: loginwatch_metrics_listen changed; restart to use it");
	if (report != NULL
	    && report_reconfigure(report, &probe.policy, &n->loginwatch_http_protocols) < 0) {
		log_error("reload: out of memory; keeping the running configuration");
		cfg_free(&n);
		return;
	}
	w->parsers = probe.parsers;
	w->policy = probe.policy;
	cfg_free(cfg);
	*cfg = n;
	log_info("reloaded %s", path ? path : CFG_DEFAULT_PATH);
}

/* commit_login - one reported login's grant, written with the others
   reported meanwhile */
static int commit_login(void *ctx, const struct store_login *login, char **error_r)
{
	return commit_group_write(ctx, login, error_r);
}

/* http_open - the auth-policy listener and its key, as root; 0 or -1
   with *error_r and *status_r */
static int http_open(const struct authrelay_config *cfg, uid_t uid, gid_t gid, int *fd_r,
		     char **key_r, int *status_r, char **error_r)
{
	struct listen_endpoint ep;

	*status_r = EXIT_CONFIG;
	if (listen_parse(cfg->loginwatch_http_listen, &ep, error_r) < 0)
		return -1;
	if (cfg->loginwatch_http_api_key_file[0] != '\0'
	    && report_key_read(cfg->loginwatch_http_api_key_file, key_r, error_r) < 0)
		return -1;
	*status_r = EXIT_UNAVAILABLE;
	if (listen_open(&ep, true, uid, gid, 0660, fd_r, error_r) < 0)
		return -1;
	if (*key_r == NULL && !listen_is_local(*fd_r)) {
		close(*fd_r);
		*fd_r = -1;
		*status_r = EXIT_CONFIG;
		return error_r_set(error_r, "loginwatch_http_listen = %s is reachable from other hosts: "
			     "set loginwatch_http_api_key_file (Dovecot's "
			     "auth_policy_server_api_header), or listen on loopback",
			     cfg->loginwatch_http_listen);
	}
	return 0;
}

/* wait_signals - no log source: sleep until a signal asks for something */
static void wait_signals(void)
{
	while (!daemon_stop_requested && !daemon_reload_requested)
		(void)poll(NULL, 0, 1000);
}

/* run_follow_mode - the daemon */
static int run_follow_mode(struct authrelay_config *cfg, const struct daemon_args *args)
{
	struct loginwatch w;
	struct follow *f = NULL;
	struct journal *j = NULL;
	struct report *report = NULL;
	struct http_server *http = NULL;
	struct metrics_http *metrics = NULL;
	struct commit_group *group = NULL;
	struct report_stats rs;
	char *error = NULL, *key = NULL;
	int http_fd = -1, http_status = 0, metrics_fd = -1;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int status = 0;

	memset(&w, 0, sizeof(w));
	w.stop = &daemon_stop_requested;
	w.now = time(NULL);
	if (apply_config(&w, cfg, &error) < 0) {
		log_error("%s: %s", cfg->path, error ? error : "error");
		free(error);
		return EXIT_CONFIG;
	}
	if (cfg->loginwatch_sources.count == 0 && cfg->loginwatch_http_listen[0] == '\0') {
		log_error("%s: loginwatch_sources and loginwatch_http_listen are empty: nothing to "
			  "follow", cfg->path);
		return EXIT_CONFIG;
	}
	for (size_t i = 0; i < cfg->loginwatch_sources.count; i++) {
		const char *src = cfg->loginwatch_sources.items[i];

		/* The daemon runs in "/" after detaching: a relative path would
		   name another file. */
		if (src[0] != '/' && strcmp(src, "-") != 0 && strcmp(src, "journal") != 0) {
			log_error("%s: loginwatch_sources: \"%s\" is not an absolute path", cfg->path,
				  src);
			return EXIT_CONFIG;
		}
	}
	daemon_signals_install(SIGHUP);
	if (!args->foreground && daemon_detach(&error) < 0)
		goto fail_unavailable;
	if (geteuid() == 0 && daemon_user_ids(cfg->run_user, &uid, &gid, &error) < 0)
		goto fail_config;
	if (daemon_pidfile_open(cfg->loginwatch_pidfile, uid, gid, &error) < 0)
		goto fail_unavailable;
	if (follow_create(&loginwatch_callbacks, &w, &f, &error) < 0)
		goto fail_unavailable;
	for (size_t i = 0; i < cfg->loginwatch_sources.count; i++) {
		const char *src = cfg->loginwatch_sources.items[i];

		if (strcmp(src, "journal") == 0) {
			if (journal_open(&w.parsers, &loginwatch_callbacks, &w, &j, &error) < 0
			    || follow_add_input(f, journal_fd(j), journal_ready, j, &error) < 0)
				goto fail_unavailable;
		} else if (follow_add(f, src, &error) < 0) {
			goto fail_unavailable;
		}
	}
	if (cfg->loginwatch_http_listen[0] != '\0'
	    && http_open(cfg, uid, gid, &http_fd, &key, &http_status, &error) < 0) {
		if (http_status == EXIT_CONFIG)
			goto fail_config;
		goto fail_unavailable;
	}
	if (cfg->loginwatch_metrics_listen[0] != '\0'
	    && metrics_http_open("loginwatch_metrics_listen", cfg->loginwatch_metrics_listen,
				 cfg->run_user, &metrics_fd, &http_status, &error) < 0) {
		if (http_status == EXIT_CONFIG)
			goto fail_config;
		goto fail_unavailable;
	}
	if (daemon_drop_privileges(cfg->run_user, &error) < 0)
		goto fail_unavailable;
	if (open_store(cfg, &w.store, &error) < 0)
		goto fail_unavailable;
	if (metrics_fd >= 0) {
		const struct parser_info *p;
		int fd = metrics_fd;

		metrics_fd = -1;	/* the server's now, also on failure */
		metrics_http_enable("loginwatch");
		metrics_loginwatch_sources((const char *const *)cfg->loginwatch_sources.items,
					   cfg->loginwatch_sources.count);
		for (p = parsers_table(); p->name != NULL; p++)
			metrics_loginwatch_format(p->name);
		if (metrics_http_start(fd, &metrics, &error) < 0)
			goto fail_unavailable;
		metrics_http_set_store(metrics, w.store, false, true);
		log_info("metrics: serving %s", cfg->loginwatch_metrics_listen);
	}
	if (http_fd >= 0) {
		struct http_server_options ho = { cfg->loginwatch_http_max_connections,
						  (unsigned)cfg->loginwatch_http_timeout, REPORT_MAX_BODY,
						  REPORT_THREADS, "auth-policy" };

		if (commit_group_create(w.store, &group) < 0) {
			error = strdup("out of memory");
			goto fail_unavailable;
		}
		if (report_create(&w.policy, &cfg->loginwatch_http_protocols, key, commit_login,
				  group, &report, &error) < 0
		    || http_server_start(http_fd, &ho, report_handle, report, &http, &error) < 0)
			goto fail_unavailable;
		http_fd = -1;	/* the server's now */
		if (key != NULL)
			log_info("auth-policy: serving %s (X-API-Key required)",
				 cfg->loginwatch_http_listen);
		else
			log_warning("auth-policy: serving %s without a key: any local process "
				    "that can connect can report a login (set "
				    "loginwatch_http_api_key_file)", cfg->loginwatch_http_listen);
	}
	for (size_t i = 0; i < cfg->loginwatch_sources.count; i++) {
		const char *src = cfg->loginwatch_sources.items[i];
		struct store_checkpoint cp;
		struct follow_position pos;

		if (strcmp(src, "-") == 0)
			continue;
		switch (store_checkpoint_get(w.store, strcmp(src, "journal") == 0 ? JOURNAL_SOURCE : src,
					     &cp)) {
		case LOOKUP_ERROR:
			error = strdup("cannot read the checkpoints");
			goto fail_unavailable;
		case LOOKUP_NOT_FOUND:
			if (strcmp(src, "journal") == 0)
				journal_resume(j, NULL, (int64_t)w.now - w.policy.ttl);
			else
				follow_resume(f, src, NULL);
			break;
		case LOOKUP_FOUND:
			loginwatch_position(&cp, &pos);
			if (strcmp(src, "journal") == 0)
				journal_resume(j, &pos, 0);
			else
				follow_resume(f, src, &pos);
			break;
		}
	}
	log_info("started: %zu source(s), formats %zu, grant_ttl %llds", cfg->loginwatch_sources.count,
		 w.parsers.count, (long long)w.policy.ttl);
	while (!daemon_stop_requested) {
		if (cfg->loginwatch_sources.count == 0)
			wait_signals();
		else if (follow_run(f, &daemon_stop_requested, &daemon_reload_requested, &error) < 0)
			goto fail_unavailable;
		if (daemon_reload_requested) {
			daemon_reload_requested = 0;
			reload(&w, report, args->config_path, &cfg);
			continue;
		}
		break;	/* stdin ended, or stop */
	}
	/* No report is answered after this: Dovecot's next one fails fast. */
	http_server_stop(&http);
	metrics_http_stop(&metrics);
	follow_flush(f);
	log_info("stopping: candidates=%llu logins=%llu granted=%llu refused=%llu excluded=%llu "
		 "expired=%llu long_lines=%llu",
		 (unsigned long long)w.stats.candidates, (unsigned long long)w.stats.logins,
		 (unsigned long long)w.stats.granted, (unsigned long long)w.stats.refused,
		 (unsigned long long)w.stats.excluded, (unsigned long long)w.stats.expired,
		 (unsigned long long)follow_long_lines(f));
	if (report != NULL) {
		report_get_stats(report, &rs);
		log_info("auth-policy: requests=%llu reports=%llu granted=%llu not_granted=%llu "
			 "unauthorized=%llu malformed=%llu failed=%llu",
			 (unsigned long long)rs.requests, (unsigned long long)rs.reports,
			 (unsigned long long)rs.granted, (unsigned long long)rs.not_granted,
			 (unsigned long long)rs.unauthorized, (unsigned long long)rs.malformed,
			 (unsigned long long)rs.failed);
	}
	goto out;

fail_config:
	status = EXIT_CONFIG;
	goto fail_log;
fail_unavailable:
	status = EXIT_UNAVAILABLE;
fail_log:
	log_error("%s", error ? error : "error");
	free(error);
out:
	http_server_stop(&http);
	metrics_http_stop(&metrics);	/* it reads the store */
	if (metrics_fd >= 0)
		close(metrics_fd);
	report_free(&report);
	commit_group_free(&group);
	if (http_fd >= 0)
		close(http_fd);
	if (key != NULL) {
		explicit_bzero(key, strlen(key));
		free(key);
	}
	follow_free(&f);
	journal_free(&j);
	if (w.store != NULL)
		store_close(&w.store, 5000);
	loginwatch_done(&w);
	daemon_pidfile_remove(cfg->loginwatch_pidfile);
	cfg_free(&cfg);
	return status;
}

int main(int argc, char **argv)
{
	struct daemon_args args;
	struct authrelay_config *cfg = NULL;
	char *error = NULL;
	struct long_options lo = strip_long_options(&argc, argv);
	enum mode mode = lo.mode;
	int first = daemon_args_parse(argc, argv, PROG, false, &args);
	int status;

	if ((mode == MODE_FOLLOW) != (first == argc)) {
		fprintf(stderr, mode == MODE_FOLLOW ? PROG ": unexpected argument \"%s\"\n"
						    : PROG ": --scan needs FILE arguments%s\n",
			mode == MODE_FOLLOW ? argv[first] : "");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cfg_load(args.config_path, false, &cfg, &error) < 0) {
		fprintf(stderr, "%s", error ? error : PROG ": cannot load the configuration\n");
		if (error != NULL && error[0] != '\0' && error[strlen(error) - 1] != '\n')
			fputc('\n', stderr);
		free(error);
		return EXIT_CONFIG;
	}
	log_open(PROG, cfg->log_facility, args.foreground || args.check_only || mode != MODE_FOLLOW);
	opt_verbose = lo.verbose;
	log_set_level(opt_verbose ? LOG_LEVEL_DEBUG : cfg->log_level);
	if (args.check_only) {
		status = check_mode(cfg);
		cfg_free(&cfg);
		return status;
	}
	if (mode != MODE_FOLLOW) {
		status = scan_mode(cfg, &lo, argv + first, argc - first);
		cfg_free(&cfg);
		return status;
	}
	return run_follow_mode(cfg, &args);
}

/*
 * NAME
 *	check_cfg 1
 * SUMMARY
 *	unit tests for lib/cfg
 * DESCRIPTION
 *	The config is rendered field by field as "key=value" lines by
 *	cfg_dump() below, written independently of lib/cfg, so every case is
 *	"this text gives this line" or "this text gives exactly these
 *	errors". Also: the defaults against authrelay.conf(5), the key table against
 *	the manual page and conf-examples/authrelay.conf (read from the
 *	source tree: AUTHRELAY_SRCDIR, default the current directory).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "cfg.h"
#include "test_tmpdir.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every field of struct authrelay_config, in the order of cfg.h. */
#define CFG_FIELDS 50

static void dump_add(char *buf, size_t size, const char *key, const char *value)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s=%s\n", key, value);
}

static void dump_num(char *buf, size_t size, const char *key, long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", v);
	dump_add(buf, size, key, tmp);
}

static void dump_cidrs(char *buf, size_t size, const char *key, const struct cidr_list *l)
{
	char tmp[4096] = "", one[IPADDR_STRLEN + 4];
	size_t i;

	for (i = 0; i < cidr_list_count(l); i++) {
		if (i)
			strcat(tmp, ",");
		strcat(tmp, cidr_format(cidr_list_get(l, i), one, sizeof(one)));
	}
	dump_add(buf, size, key, tmp);
}

static void dump_list(char *buf, size_t size, const char *key, const struct cfg_list *l)
{
	char tmp[4096] = "";
	size_t i;

	for (i = 0; i < l->count; i++) {
		if (i)
			strcat(tmp, ",");
		strcat(tmp, l->items[i]);
	}
	dump_add(buf, size, key, tmp);
}

/* cfg_dump - every field but path, one "key=value" line each */
static void cfg_dump(const struct authrelay_config *c, char *buf, size_t size)
{
	char mode[LIMIT_SPEC_TEXT_MAX];

	buf[0] = 0;
	dump_add(buf, size, "database", c->database);
	dump_add(buf, size, "database_password_file", c->database_password_file);
	dump_num(buf, size, "database_stale_grace", c->database_stale_grace);
	dump_num(buf, size, "database_busy_timeout", c->database_busy_timeout);
	dump_add(buf, size, "run_user", c->run_user);
	dump_add(buf, size, "log_level", log_level_name(c->log_level));
	dump_num(buf, size, "log_facility", c->log_facility);
	dump_num(buf, size, "grant_ttl", c->grant_ttl);
	dump_num(buf, size, "grant_ipv6_prefix", c->grant_ipv6_prefix);
	dump_cidrs(buf, size, "grant_exclude_networks", c->grant_exclude_networks);
	dump_cidrs(buf, size, "trusted_networks", c->trusted_networks);
	dump_num(buf, size, "require_tls_for_auth", c->require_tls_for_auth);
	dump_add(buf, size, "sender_login_check", sender_login_check_name(c->sender_login_check));
	dump_add(buf, size, "on_store_error", on_store_error_name(c->on_store_error));
	dump_num(buf, size, "audit_retention", c->audit_retention);
	dump_num(buf, size, "audit_decisions", c->audit_decisions);
	dump_num(buf, size, "decision_queue_max", c->decision_queue_max);
	dump_add(buf, size, "limit_recipients",
		 limit_spec_format(&c->limit_recipients, mode, sizeof(mode)));
	dump_add(buf, size, "limit_messages",
		 limit_spec_format(&c->limit_messages, mode, sizeof(mode)));
	dump_num(buf, size, "limit_suspend_after", c->limit_suspend_after);
	dump_num(buf, size, "limit_suspend_window", c->limit_suspend_window);
	dump_add(buf, size, "limit_notify_address", c->limit_notify_address);
	dump_add(buf, size, "limit_notify_sendmail", c->limit_notify_sendmail);
	dump_add(buf, size, "policyd_listen", c->policyd_listen);
	dump_add(buf, size, "policyd_socket_owner", c->policyd_socket_owner);
	snprintf(mode, sizeof(mode), "%04o", c->policyd_socket_mode);
	dump_add(buf, size, "policyd_socket_mode", mode);
	dump_add(buf, size, "policyd_pidfile", c->policyd_pidfile);
	dump_num(buf, size, "policyd_idle_timeout", c->policyd_idle_timeout);
	dump_num(buf, size, "policyd_max_connections", c->policyd_max_connections);
	dump_num(buf, size, "policyd_max_line", c->policyd_max_line);
	dump_num(buf, size, "policyd_max_attributes", c->policyd_max_attributes);
	dump_num(buf, size, "policyd_max_request", c->policyd_max_request);
	dump_add(buf, size, "policyd_metrics_listen", c->policyd_metrics_listen);
	dump_add(buf, size, "milter_socket", c->milter_socket);
	dump_add(buf, size, "milter_socket_owner", c->milter_socket_owner);
	snprintf(mode, sizeof(mode), "%04o", c->milter_socket_mode);
	dump_add(buf, size, "milter_socket_mode", mode);
	dump_add(buf, size, "milter_pidfile", c->milter_pidfile);
	dump_list(buf, size, "milter_relay_transports", &c->milter_relay_transports);
	dump_num(buf, size, "milter_timeout", c->milter_timeout);
	dump_add(buf, size, "milter_metrics_listen", c->milter_metrics_listen);
	dump_num(buf, size, "milter_relay_check", c->milter_relay_check);
	dump_list(buf, size, "loginwatch_sources", &c->loginwatch_sources);
	dump_list(buf, size, "loginwatch_formats", &c->loginwatch_formats);
	dump_add(buf, size, "loginwatch_pidfile", c->loginwatch_pidfile);
	dump_add(buf, size, "loginwatch_http_listen", c->loginwatch_http_listen);
	dump_add(buf, size, "loginwatch_http_api_key_file", c->loginwatch_http_api_key_file);
	dump_list(buf, size, "loginwatch_http_protocols", &c->loginwatch_http_protocols);
	dump_num(buf, size, "loginwatch_http_timeout", c->loginwatch_http_timeout);
	dump_num(buf, size, "loginwatch_http_max_connections", c->loginwatch_http_max_connections);
	dump_add(buf, size, "loginwatch_metrics_listen", c->loginwatch_metrics_listen);
}

/* The defaults, as authrelay.conf(5) and cfg.h state them. */
static const char defaults_dump[] = "database=/var/lib/authrelay/authrelay.db\n"
				    "database_password_file=\n"
				    "database_stale_grace=0\n"
				    "database_busy_timeout=2\n"
				    "run_user=authrelay\n"
				    "log_level=info\n"
				    "log_facility=16\n"
				    "grant_ttl=1800\n"
				    "grant_ipv6_prefix=128\n"
				    "grant_exclude_networks=\n"
				    "trusted_networks=\n"
				    "require_tls_for_auth=0\n"
				    "sender_login_check=no\n"
				    "on_store_error=tempfail\n"
				    "audit_retention=7776000\n"
				    "audit_decisions=1\n"
				    "decision_queue_max=100000\n"
				    "limit_recipients=none\n"
				    "limit_messages=none\n"
				    "limit_suspend_after=0\n"
				    "limit_suspend_window=86400\n"
				    "limit_notify_address=\n"
				    "limit_notify_sendmail=/usr/sbin/sendmail\n"
				    "policyd_listen=inet:127.0.0.1:10040\n"
				    "policyd_socket_owner=\n"
				    "policyd_socket_mode=0660\n"
				    "policyd_pidfile=/run/authrelay/policyd.pid\n"
				    "policyd_idle_timeout=330\n"
				    "policyd_max_connections=4096\n"
				    "policyd_max_line=4096\n"
				    "policyd_max_attributes=100\n"
				    "policyd_max_request=65536\n"
				    "policyd_metrics_listen=\n"
				    "milter_socket=inet:127.0.0.1:10030\n"
				    "milter_socket_owner=\n"
				    "milter_socket_mode=0660\n"
				    "milter_pidfile=/run/authrelay/milter.pid\n"
				    "milter_relay_transports=smtp,esmtp,smtp8,dsmtp,relay,uucp,uucp-old,"
				    "uucp-new,suucp,uucp-dom,uucp-uudom\n"
				    "milter_timeout=30\n"
				    "milter_metrics_listen=\n"
				    "milter_relay_check=1\n"
				    "loginwatch_sources=\n"
				    "loginwatch_formats=all\n"
				    "loginwatch_pidfile=/run/authrelay/loginwatch.pid\n"
				    "loginwatch_http_listen=\n"
				    "loginwatch_http_api_key_file=\n"
				    "loginwatch_http_protocols=imap,pop3\n"
				    "loginwatch_http_timeout=30\n"
				    "loginwatch_http_max_connections=256\n"
				    "loginwatch_metrics_listen=\n";

START_TEST(test_defaults)
{
	struct authrelay_config *cfg = cfg_defaults();
	char got[8192];

	ck_assert_int_eq(LOG_MAIL, 16);
	cfg_dump(cfg, got, sizeof(got));
	ck_assert_msg(strcmp(got, defaults_dump) == 0, "got:\n%s\nwant:\n%s", got, defaults_dump);
	ck_assert_str_eq(cfg->path, "");
	cfg_free(&cfg);
	ck_assert_ptr_null(cfg);
	cfg_free(&cfg);
	cfg_free(NULL);
}
END_TEST

/* An empty file and one made only of comments give the defaults too. */
START_TEST(test_empty_gives_defaults)
{
	static const char *const texts[] = {"", "\n\n", "# nothing\n   # indented comment\n\n",
					    "\r\n# crlf\r\n"};
	struct authrelay_config *cfg = NULL;
	char *error = NULL, got[8192];
	size_t i;

	for (i = 0; i < N(texts); i++) {
		ck_assert_msg(cfg_load_string("t.conf", texts[i], &cfg, &error) == 0, "%zu: %s", i,
			      error);
		cfg_dump(cfg, got, sizeof(got));
		ck_assert_msg(strcmp(got, defaults_dump) == 0, "%zu: got:\n%s", i, got);
		ck_assert_str_eq(cfg->path, "t.conf");
		cfg_free(&cfg);
	}
}
END_TEST

/* input is loaded; want is one line that must appear in the dump. */
struct set_case {
	const char *label;
	const char *input;
	const char *want;
};

static const struct set_case set_cases[] = {
	/* every key set */
	{"database", "database = /tmp/x.db", "database=/tmp/x.db\n"},
	{"database_busy_timeout", "database_busy_timeout = 1m", "database_busy_timeout=60\n"},
	{"run_user", "run_user = nobody", "run_user=nobody\n"},
	{"log_level debug", "log_level = debug", "log_level=debug\n"},
	{"log_level error", "log_level = error", "log_level=error\n"},
	{"log_facility local3", "log_facility = local3", "log_facility=152\n"},
	{"log_facility daemon", "log_facility = daemon", "log_facility=24\n"},
	{"grant_ttl", "grant_ttl = 2h", "grant_ttl=7200\n"},
	{"grant_ttl sum", "grant_ttl = 1h30m", "grant_ttl=5400\n"},
	{"grant_ttl bare seconds", "grant_ttl = 600", "grant_ttl=600\n"},
	{"grant_ipv6_prefix 64", "grant_ipv6_prefix = 64", "grant_ipv6_prefix=64\n"},
	{"grant_ipv6_prefix 1", "grant_ipv6_prefix = 1", "grant_ipv6_prefix=1\n"},
	{"grant_exclude_networks", "grant_exclude_networks = 10.0.0.0/8, 2001:db8::/32",
	 "grant_exclude_networks=10.0.0.0/8,2001:db8::/32\n"},
	{"trusted_networks", "trusted_networks = 127.0.0.0/8 [::1]/128",
	 "trusted_networks=127.0.0.0/8,::1/128\n"},
	{"require_tls_for_auth yes", "require_tls_for_auth = yes", "require_tls_for_auth=1\n"},
	{"require_tls_for_auth true", "require_tls_for_auth = true", "require_tls_for_auth=1\n"},
	{"require_tls_for_auth 1", "require_tls_for_auth = 1", "require_tls_for_auth=1\n"},
	{"require_tls_for_auth YES", "require_tls_for_auth = YES", "require_tls_for_auth=1\n"},
	{"audit_decisions no", "audit_decisions = no", "audit_decisions=0\n"},
	{"audit_decisions false", "audit_decisions = false", "audit_decisions=0\n"},
	{"audit_decisions 0", "audit_decisions = 0", "audit_decisions=0\n"},
	{"sender_login_check envelope", "sender_login_check = envelope",
	 "sender_login_check=envelope\n"},
	{"sender_login_check header", "sender_login_check = header",
	 "sender_login_check=header\n"},
	{"sender_login_check both", "sender_login_check = both", "sender_login_check=both\n"},
	{"on_store_error dunno", "on_store_error = dunno", "on_store_error=dunno\n"},
	{"audit_retention", "audit_retention = 1w", "audit_retention=604800\n"},
	{"decision_queue_max", "decision_queue_max = 5000", "decision_queue_max=5000\n"},
	{"limit_recipients", "limit_recipients = 1000/1d, 100/1h",
	 "limit_recipients=100/1h, 1000/1d\n"},
	{"limit_messages", "limit_messages = 20/10m", "limit_messages=20/10m\n"},
	{"limit_messages none", "limit_messages = none", "limit_messages=none\n"},
	{"limit_suspend_after", "limit_suspend_after = 50", "limit_suspend_after=50\n"},
	{"limit_suspend_window", "limit_suspend_window = 2h", "limit_suspend_window=7200\n"},
	{"limit_notify_address", "limit_notify_address = postmaster@example.org",
	 "limit_notify_address=postmaster@example.org\n"},
	{"policyd_listen unix", "policyd_listen = unix:/run/authrelay/policyd.sock",
	 "policyd_listen=unix:/run/authrelay/policyd.sock\n"},
	{"policyd_listen ipv6", "policyd_listen = inet:[::1]:10040",
	 "policyd_listen=inet:[::1]:10040\n"},
	{"policyd_listen bare", "policyd_listen = 127.0.0.1:9999",
	 "policyd_listen=127.0.0.1:9999\n"},
	{"policyd_socket_owner", "policyd_socket_owner = postfix", "policyd_socket_owner=postfix\n"},
	{"policyd_socket_mode", "policyd_socket_mode = 0666", "policyd_socket_mode=0666\n"},
	{"policyd_socket_mode no zero", "policyd_socket_mode = 640", "policyd_socket_mode=0640\n"},
	{"policyd_pidfile", "policyd_pidfile = /tmp/p.pid", "policyd_pidfile=/tmp/p.pid\n"},
	{"policyd_pidfile empty", "policyd_pidfile =", "policyd_pidfile=\n"},
	{"policyd_idle_timeout", "policyd_idle_timeout = 10m", "policyd_idle_timeout=600\n"},
	{"policyd_max_connections", "policyd_max_connections = 10",
	 "policyd_max_connections=10\n"},
	{"policyd_max_line", "policyd_max_line = 2048", "policyd_max_line=2048\n"},
	{"policyd_max_attributes", "policyd_max_attributes = 50", "policyd_max_attributes=50\n"},
	{"policyd_max_request", "policyd_max_request = 100000", "policyd_max_request=100000\n"},
	{"milter_socket", "milter_socket = unix:/var/spool/postfix/authrelay/milter",
	 "milter_socket=unix:/var/spool/postfix/authrelay/milter\n"},
	{"milter_socket_owner", "milter_socket_owner = postfix", "milter_socket_owner=postfix\n"},
	{"milter_socket_mode", "milter_socket_mode = 0600", "milter_socket_mode=0600\n"},
	{"milter_pidfile", "milter_pidfile = /tmp/m.pid", "milter_pidfile=/tmp/m.pid\n"},
	{"milter_relay_transports", "milter_relay_transports = smtp relay esmtp",
	 "milter_relay_transports=smtp,relay,esmtp\n"},
	{"milter_timeout", "milter_timeout = 1m", "milter_timeout=60\n"},
	{"milter_metrics_listen", "milter_metrics_listen = unix:/run/authrelay/milter-metrics",
	 "milter_metrics_listen=unix:/run/authrelay/milter-metrics\n"},
	{"policyd_metrics_listen", "policyd_metrics_listen = inet:127.0.0.1:9341",
	 "policyd_metrics_listen=inet:127.0.0.1:9341\n"},
	{"loginwatch_metrics_listen", "loginwatch_metrics_listen = inet:[::1]:9343",
	 "loginwatch_metrics_listen=inet:[::1]:9343\n"},
	{"milter_relay_check off", "milter_relay_check = no", "milter_relay_check=0\n"},
	{"loginwatch_sources", "loginwatch_sources = /var/log/mail.log, -, journal",
	 "loginwatch_sources=/var/log/mail.log,-,journal\n"},
	{"loginwatch_formats", "loginwatch_formats = dovecot courier cyrus uw-imap qpopper",
	 "loginwatch_formats=dovecot,courier,cyrus,uw-imap,qpopper\n"},
	{"loginwatch_pidfile", "loginwatch_pidfile = /tmp/l.pid", "loginwatch_pidfile=/tmp/l.pid\n"},
	/* grammar */
	{"no spaces around =", "grant_ttl=5m", "grant_ttl=300\n"},
	{"tabs around =", "grant_ttl\t=\t5m\t", "grant_ttl=300\n"},
	{"trailing blanks dropped", "run_user = bob   ", "run_user=bob\n"},
	{"continuation", "trusted_networks = 127.0.0.0/8,\n  192.0.2.0/24\n\t::1",
	 "trusted_networks=127.0.0.0/8,192.0.2.0/24,::1/128\n"},
	{"continuation across comment and blank",
	 "milter_relay_transports = smtp\n# a comment\n\n    relay\n",
	 "milter_relay_transports=smtp,relay\n"},
	{"continued string joined with one space", "run_user = a\n   b", "run_user=a b\n"},
	{"CRLF", "grant_ttl = 5m\r\nrun_user = bob\r\n", "run_user=bob\n"},
	{"CRLF value", "grant_ttl = 5m\r\n", "grant_ttl=300\n"},
	{"no final newline", "run_user = bob", "run_user=bob\n"},
	{"duplicate: later wins", "grant_ttl = 5m\ngrant_ttl = 10m\n", "grant_ttl=600\n"},
	{"hash inside value kept", "database = /tmp/a#b.db", "database=/tmp/a#b.db\n"},
	{"= inside value", "run_user = a=b", "run_user=a=b\n"},
	{"empty list", "trusted_networks =", "trusted_networks=\n"},
};

START_TEST(test_set)
{
	const struct set_case *c = &set_cases[_i];
	struct authrelay_config *cfg = NULL;
	char *error = NULL, got[8192];

	ck_assert_msg(cfg_load_string("t.conf", c->input, &cfg, &error) == 0, "%s: error %s",
		      c->label, error);
	cfg_dump(cfg, got, sizeof(got));
	ck_assert_msg(strstr(got, c->want) != NULL, "%s: got:\n%s\nwant the line %s", c->label,
		      got, c->want);
	cfg_free(&cfg);
}
END_TEST

/* want is the whole error text. */
struct bad_case {
	const char *label;
	const char *input;
	const char *want;
};

static const struct bad_case bad_cases[] = {
	{"unknown key", "frobnicate = 1", "t.conf:1: unknown key \"frobnicate\""},
	{"typo: one letter", "grant_tll = 30m",
	 "t.conf:1: unknown key \"grant_tll\"; did you mean \"grant_ttl\"?"},
	{"typo: missing letter", "databse = /x",
	 "t.conf:1: unknown key \"databse\"; did you mean \"database\"?"},
	{"typo: two edits", "trusted_network = 127.0.0.1",
	 "t.conf:1: unknown key \"trusted_network\"; did you mean \"trusted_networks\"?"},
	{"typo: upper case", "Grant_TTL = 30m", "t.conf:1: unknown key \"Grant_TTL\""},
	{"postfix key", "mynetworks = 127.0.0.0/8", "t.conf:1: unknown key \"mynetworks\""},
	{"missing =", "grant_ttl 30m", "t.conf:1: missing \"=\" after \"grant_ttl\""},
	{"colon instead of =", "grant_ttl: 30m", "t.conf:1: missing \"=\" after \"grant_ttl:\""},
	{"missing key", "= 30m", "t.conf:1: missing key before \"=\""},
	{"continuation first", "  grant_ttl = 30m",
	 "t.conf:1: continuation line without a \"key = value\" line above (remove the leading "
	 "white space?)"},
	{"control character", "run_user = a\x01", "t.conf:1: control character 0x01 in line"},
	{"bare CR inside", "run_user = a\rb", "t.conf:1: control character 0x0d in line"},
	{"escape", "run_user = \x1b[2J", "t.conf:1: control character 0x1b in line"},
	{"database empty", "database =", "t.conf:1: database: empty value; this key needs one"},
	{"run_user empty", "run_user =", "t.conf:1: run_user: empty value; this key needs one"},
	{"busy timeout zero", "database_busy_timeout = 0",
	 "t.conf:1: database_busy_timeout: 0 is out of range; want 1s..1h"},
	{"log_level", "log_level = verbose",
	 "t.conf:1: log_level: bad log level \"verbose\"; want error, warning, info or debug"},
	{"log_level case", "log_level = INFO",
	 "t.conf:1: log_level: bad log level \"INFO\"; want error, warning, info or debug"},
	{"log_facility", "log_facility = kern",
	 "t.conf:1: log_facility: bad syslog facility \"kern\"; want mail, daemon, user, auth, "
	 "authpriv or local0..local7"},
	{"grant_ttl junk", "grant_ttl = 30x",
	 "t.conf:1: grant_ttl: bad duration \"30x\": unknown unit 'x'; use s, m, h, d or w"},
	{"grant_ttl zero", "grant_ttl = 0", "t.conf:1: grant_ttl: 0 is out of range; want 1s..36525d"},
	{"grant_ttl negative", "grant_ttl = -5m",
	 "t.conf:1: grant_ttl: bad duration \"-5m\": no sign allowed"},
	{"grant_ttl empty", "grant_ttl =",
	 "t.conf:1: grant_ttl: bad duration \"\": empty; want a number with s, m, h, d or w"},
	{"grant_ttl overflow", "grant_ttl = 99999999999999999999d",
	 "t.conf:1: grant_ttl: bad duration \"99999999999999999999d\": longer than 100 years "
	 "(36525d)"},
	{"trailing comment hint", "grant_ttl = 30m # half an hour",
	 "t.conf:1: grant_ttl: bad duration \"30m # half an hour\": unexpected ' ' after a unit; "
	 "sums read like 1h30m (comments must be on lines of their own)"},
	{"grant_ipv6_prefix 0", "grant_ipv6_prefix = 0",
	 "t.conf:1: grant_ipv6_prefix: 0 is out of range; want 1..128"},
	{"grant_ipv6_prefix 129", "grant_ipv6_prefix = 129",
	 "t.conf:1: grant_ipv6_prefix: 129 is out of range; want 1..128"},
	{"grant_ipv6_prefix slash", "grant_ipv6_prefix = /64",
	 "t.conf:1: grant_ipv6_prefix: \"/64\" is not a number; want 1..128"},
	{"grant_ipv6_prefix huge", "grant_ipv6_prefix = 99999999999999999999999",
	 "t.conf:1: grant_ipv6_prefix: 99999999999999999999999 is out of range; want 1..128"},
	{"grant_exclude_networks host bits", "grant_exclude_networks = 10.1.1.1/24",
	 "t.conf:1: grant_exclude_networks: host bits set in \"10.1.1.1/24\"; did you mean "
	 "\"10.1.1.0/24\"?"},
	{"trusted_networks word", "trusted_networks = 127.0.0.1, localhost",
	 "t.conf:1: trusted_networks: bad network address in \"localhost\""},
	{"require_tls_for_auth", "require_tls_for_auth = maybe",
	 "t.conf:1: require_tls_for_auth: bad boolean \"maybe\"; want yes or no"},
	{"audit_decisions on", "audit_decisions = on",
	 "t.conf:1: audit_decisions: bad boolean \"on\"; want yes or no"},
	{"sender_login_check", "sender_login_check = yes",
	 "t.conf:1: sender_login_check: bad value \"yes\"; want no, envelope, header or both"},
	{"on_store_error", "on_store_error = reject",
	 "t.conf:1: on_store_error: bad value \"reject\"; want tempfail or dunno"},
	{"audit_retention", "audit_retention = 0s",
	 "t.conf:1: audit_retention: 0s is out of range; want 1s..36525d"},
	{"limit_recipients without a window", "limit_recipients = 100",
	 "t.conf:1: limit_recipients: bad limit \"100\": no '/'; want N/DURATION as in 100/1h, "
	 "or none"},
	{"limit_messages unlimited", "limit_messages = unlimited",
	 "t.conf:1: limit_messages: unlimited is for one user or domain (authrelayctl limit set); "
	 "the default's word is none"},
	{"limit_suspend_window 0", "limit_suspend_window = 0",
	 "t.conf:1: limit_suspend_window: 0 is out of range; want 1s..366d"},
	{"decision_queue_max 0", "decision_queue_max = 0",
	 "t.conf:1: decision_queue_max: 0 is out of range; want 1..10000000"},
	{"decision_queue_max negative", "decision_queue_max = -1",
	 "t.conf:1: decision_queue_max: \"-1\" is not a number; want 1..10000000"},
	{"policyd_listen no port", "policyd_listen = inet:127.0.0.1",
	 "t.conf:1: policyd_listen: bad endpoint \"inet:127.0.0.1\"; want inet:HOST:PORT (port "
	 "1..65535) or unix:PATH"},
	{"policyd_listen port 0", "policyd_listen = inet:127.0.0.1:0",
	 "t.conf:1: policyd_listen: bad endpoint \"inet:127.0.0.1:0\"; want inet:HOST:PORT (port "
	 "1..65535) or unix:PATH"},
	{"policyd_listen port 65536", "policyd_listen = 127.0.0.1:65536",
	 "t.conf:1: policyd_listen: bad endpoint \"127.0.0.1:65536\"; want inet:HOST:PORT (port "
	 "1..65535) or unix:PATH"},
	{"policyd_listen ipv6 without brackets", "policyd_listen = inet:::1:10040",
	 "t.conf:1: policyd_listen: bad endpoint \"inet:::1:10040\"; write an IPv6 host in "
	 "brackets: inet:[::1]:PORT"},
	{"policyd_listen empty unix", "policyd_listen = unix:",
	 "t.conf:1: policyd_listen: bad endpoint \"unix:\"; want unix:PATH (at most 107 bytes)"},
	{"policyd_listen empty", "policyd_listen =",
	 "t.conf:1: policyd_listen: bad endpoint \"\"; want inet:HOST:PORT (port 1..65535) or "
	 "unix:PATH"},
	{"policyd_socket_mode 8", "policyd_socket_mode = 0680",
	 "t.conf:1: policyd_socket_mode: bad mode \"0680\"; want octal such as 0660"},
	{"policyd_socket_mode big", "policyd_socket_mode = 17777",
	 "t.conf:1: policyd_socket_mode: bad mode \"17777\"; want octal such as 0660"},
	{"policyd_socket_mode words", "policyd_socket_mode = rw-rw----",
	 "t.conf:1: policyd_socket_mode: bad mode \"rw-rw----\"; want octal such as 0660"},
	{"policyd_idle_timeout 0", "policyd_idle_timeout = 0",
	 "t.conf:1: policyd_idle_timeout: 0 is out of range; want 1s..1d"},
	{"policyd_max_connections 0", "policyd_max_connections = 0",
	 "t.conf:1: policyd_max_connections: 0 is out of range; want 1..1000000"},
	{"policyd_max_line 0", "policyd_max_line = 0",
	 "t.conf:1: policyd_max_line: 0 is out of range; want 1..1048576"},
	{"policyd_max_attributes 0", "policyd_max_attributes = 0",
	 "t.conf:1: policyd_max_attributes: 0 is out of range; want 1..100000"},
	{"policyd_max_request 4k", "policyd_max_request = 4k",
	 "t.conf:1: policyd_max_request: \"4k\" is not a number; want 1..16777216"},
	{"milter_socket", "milter_socket = local:/x",
	 "t.conf:1: milter_socket: bad endpoint \"local:/x\"; want inet:HOST:PORT (port "
	 "1..65535) or unix:PATH"},
	{"milter_socket_mode", "milter_socket_mode = 9",
	 "t.conf:1: milter_socket_mode: bad mode \"9\"; want octal such as 0660"},
	{"milter_relay_transports empty", "milter_relay_transports = ,",
	 "t.conf:1: milter_relay_transports: empty list; name at least one"},
	{"milter_local_domains removed: the reason, not \"unknown key\"",
	 "# old config\nmilter_local_domains = example.org",
	 "t.conf:2: milter_local_domains no longer exists: a recipient is local only when the "
	 "MTA's {rcpt_mailer} says so (a domain list let percent-hack and bang-path recipients "
	 "relay); delete this line and see milter_relay_transports in authrelay.conf(5)"},
	{"milter_timeout", "milter_timeout = 2h",
	 "t.conf:1: milter_timeout: 2h is out of range; want 1s..1h"},
	{"loginwatch_formats unknown", "loginwatch_formats = dovecot, exim",
	 "t.conf:1: loginwatch_formats: unknown word \"exim\"; want words from: all dovecot "
	 "courier cyrus uw-imap qpopper"},
	{"loginwatch_formats empty", "loginwatch_formats =",
	 "t.conf:1: loginwatch_formats: empty list; name at least one"},
	{"loginwatch_formats case", "loginwatch_formats = Dovecot",
	 "t.conf:1: loginwatch_formats: unknown word \"Dovecot\"; want words from: all dovecot "
	 "courier cyrus uw-imap qpopper"},
	/* all problems, one per line, with their own line numbers */
	{"every problem reported",
	 "# header\n"
	 "grant_ttl = 30x\n"
	 "grant_tll = 30m\n"
	 "run_user = ok\n"
	 "trusted_networks = 127.0.0.1,\n"
	 "   10.1.1.1/24\n"
	 "on_store_error = never\n",
	 "t.conf:2: grant_ttl: bad duration \"30x\": unknown unit 'x'; use s, m, h, d or w\n"
	 "t.conf:3: unknown key \"grant_tll\"; did you mean \"grant_ttl\"?\n"
	 "t.conf:5: trusted_networks: host bits set in \"10.1.1.1/24\"; did you mean "
	 "\"10.1.1.0/24\"?\n"
	 "t.conf:7: on_store_error: bad value \"never\"; want tempfail or dunno"},
	{"bad continuation is not reported twice", "  a = 1\n  b = 2\nrun_user = \n",
	 "t.conf:1: continuation line without a \"key = value\" line above (remove the leading "
	 "white space?)\n"
	 "t.conf:3: run_user: empty value; this key needs one"},
	{"bad line inside continuation drops the value",
	 "trusted_networks = 127.0.0.1\n  \x02\n  bogus\n",
	 "t.conf:2: control character 0x02 in line"},
	{"unknown key quoted safely", "\x7f\x7fkey = 1", "t.conf:1: control character 0x7f in line"},
};

START_TEST(test_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	struct authrelay_config *cfg = (struct authrelay_config *)&cfg;
	char *error = NULL;

	ck_assert_msg(cfg_load_string("t.conf", c->input, &cfg, &error) == -1, "%s: loaded",
		      c->label);
	ck_assert_msg(cfg == (struct authrelay_config *)&cfg, "%s: *cfg_r changed", c->label);
	ck_assert_msg(error != NULL && strcmp(error, c->want) == 0, "%s:\n got [%s]\nwant [%s]",
		      c->label, error, c->want);
	free(error);
}
END_TEST

/* Writes a temporary file; returns its malloc'd path. */
static char *write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/check_cfg.XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(test_file_nul)
{
	static const char text[] = "run_user = bob\ngrant_ttl = 5m\0junk\nlog_level = info\n";
	struct authrelay_config *cfg = NULL;
	char *path = write_temp(text, sizeof(text) - 1), *error = NULL, want[256];

	ck_assert_int_eq(cfg_load(path, false, &cfg, &error), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	ck_assert_msg(error && strcmp(error, want) == 0, "got [%s], want [%s]", error, want);
	free(error);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_file_long_line)
{
	size_t n = 3 * 65536, i;
	char *text = malloc(n + 64), *path, *error = NULL, want[256];
	struct authrelay_config *cfg = NULL;

	/* line 1: 64 KiB exactly is fine (a long list); line 3: over. */
	strcpy(text, "run_user = ");
	for (i = strlen(text); i < 65536; i++)
		text[i] = 'u';
	text[i++] = '\n';
	memcpy(text + i, "# ok\nrun_user = ", 16);
	i += 16;
	for (; i < 65537 + 5 + 65537 + 1; i++)
		text[i] = 'v';
	text[i++] = '\n';
	path = write_temp(text, i);
	ck_assert_int_eq(cfg_load(path, false, &cfg, &error), -1);
	snprintf(want, sizeof(want), "%s:3: line longer than 65536 bytes", path);
	ck_assert_msg(error && strcmp(error, want) == 0, "got [%s], want [%s]", error, want);
	free(error);
	unlink(path);
	free(path);
	free(text);
}
END_TEST

START_TEST(test_file_load)
{
	static const char text[] = "# test\r\nrun_user = carol\r\ngrant_ttl = 45m\r\n";
	struct authrelay_config *cfg = NULL;
	char *path = write_temp(text, sizeof(text) - 1), *error = NULL;

	ck_assert_msg(cfg_load(path, false, &cfg, &error) == 0, "%s", error);
	ck_assert_str_eq(cfg->run_user, "carol");
	ck_assert_int_eq(cfg->grant_ttl, 2700);
	ck_assert_str_eq(cfg->path, path);
	cfg_free(&cfg);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_file_missing)
{
	struct authrelay_config *cfg = NULL;
	char *error = NULL, got[8192];

	ck_assert_int_eq(cfg_load("/nonexistent/authrelay.conf", false, &cfg, &error), -1);
	ck_assert_str_eq(error,
			 "/nonexistent/authrelay.conf: cannot open: No such file or directory");
	free(error);
	error = NULL;
	ck_assert_int_eq(cfg_load("/nonexistent/authrelay.conf", true, &cfg, &error), 0);
	ck_assert_str_eq(cfg->path, "");
	cfg_dump(cfg, got, sizeof(got));
	ck_assert_str_eq(got, defaults_dump);
	cfg_free(&cfg);
	/* missing_ok covers "absent", not "unreadable": a directory is an error. */
	ck_assert_int_eq(cfg_load("/tmp", true, &cfg, &error), -1);
	ck_assert_str_eq(error, "/tmp: cannot read: not a regular file");
	free(error);
}
END_TEST

/* Who may change the file: { label, file mode, directory mode, want }.
   The directory is a fresh one, so its mode is ours. */
enum writable_want { LOADS, FILE_REFUSED, DIR_REFUSED };
static const struct {
	const char *label;
	mode_t file_mode, dir_mode;
	enum writable_want want;
} writable_cases[] = {
	{"0600 in 0700", 0600, 0700, LOADS},
	{"0644 in 0755", 0644, 0755, LOADS},
	{"group-writable file", 0664, 0755, LOADS},
	{"world-writable file", 0666, 0755, FILE_REFUSED},
	{"world-writable, not readable by others", 0602, 0700, FILE_REFUSED},
	{"directory 0777", 0644, 0777, DIR_REFUSED},
	{"directory 1777 (sticky, like /tmp)", 0644, 01777, LOADS},
	{"directory 0773", 0600, 0773, DIR_REFUSED},
	{"both: the file is named first", 0666, 0777, FILE_REFUSED},
};

START_TEST(test_file_writable)
{
	const char *dir = test_tmpdir_create("check_cfg_dir");
	char path[128], want[512];
	struct authrelay_config *cfg = NULL;
	char *error = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/authrelay.conf", dir);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs("run_user = dave\n", fp);
	fclose(fp);
	ck_assert_int_eq(chmod(path, writable_cases[_i].file_mode), 0);
	ck_assert_int_eq(chmod(dir, writable_cases[_i].dir_mode), 0);
	if (writable_cases[_i].want == FILE_REFUSED)
		snprintf(want, sizeof(want), "%s: is world-writable: any local user could change "
			 "the relay rules; refusing it (chmod o-w %s)", path, path);
	else
		snprintf(want, sizeof(want), "%s: its directory %s is world-writable without the "
			 "sticky bit: any local user could replace the file; refusing it "
			 "(chmod o-w %s)", path, dir, dir);
	if (writable_cases[_i].want == LOADS) {
		ck_assert_msg(cfg_load(path, false, &cfg, &error) == 0, "%s: got \"%s\", want success",
			      writable_cases[_i].label, error);
		ck_assert_str_eq(cfg->run_user, "dave");
		cfg_free(&cfg);
	} else {
		ck_assert_msg(cfg_load(path, false, &cfg, &error) == -1, "%s: got success, want [%s]",
			      writable_cases[_i].label, want);
		ck_assert_msg(error && strcmp(error, want) == 0, "%s: got [%s], want [%s]",
			      writable_cases[_i].label, error, want);
		ck_assert_ptr_null(cfg);
		free(error);
	}
	test_tmpdir_remove();
}
END_TEST

START_TEST(test_many_errors_capped)
{
	size_t size = 200 * 16 + 1, i;
	char *text = malloc(size), *error = NULL, *last;
	struct authrelay_config *cfg = NULL;
	unsigned lines = 1;

	text[0] = 0;
	for (i = 0; i < 150; i++)
		strcat(text, "bogus_key = 1\n");
	ck_assert_int_eq(cfg_load_string("t.conf", text, &cfg, &error), -1);
	for (last = error; *last; last++)
		lines += *last == '\n';
	ck_assert_uint_eq(lines, 101);
	last = strrchr(error, '\n') + 1;
	ck_assert_str_eq(last, "t.conf: 50 more problems not shown");
	ck_assert_ptr_nonnull(strstr(error, "t.conf:100: unknown key \"bogus_key\""));
	ck_assert_ptr_null(strstr(error, "t.conf:101:"));
	free(error);
	free(text);
}
END_TEST

START_TEST(test_key_table)
{
	const struct cfg_key_info *k = cfg_keys();
	size_t n = 0;
	char got[8192], *p;
	struct authrelay_config *cfg = cfg_defaults();

	cfg_dump(cfg, got, sizeof(got));
	for (; k->name != NULL; k++, n++) {
		char line[128];

		ck_assert_msg(k->type && *k->type, "%s: no type", k->name);
		ck_assert_msg(k->default_value != NULL, "%s: no default", k->name);
		ck_assert_msg(k->programs != 0 && (k->programs & ~(unsigned)CFG_ALL) == 0,
			      "%s: programs %#x", k->name, k->programs);
		ck_assert_msg(k->summary && *k->summary, "%s: no summary", k->name);
		/* every table key is a field the dump knows, with the same name */
		snprintf(line, sizeof(line), "\n%s=", k->name);
		ck_assert_msg(strncmp(got, line + 1, strlen(line + 1)) == 0
				      || strstr(got, line) != NULL,
			      "%s: not a field of struct authrelay_config", k->name);
	}
	ck_assert_uint_eq(n, CFG_FIELDS);
	for (n = 0, p = got; *p; p++)
		n += *p == '\n';
	ck_assert_uint_eq(n, CFG_FIELDS);
	cfg_free(&cfg);
	ck_assert(cfg_list_has(&(struct cfg_list){2, (char *[]){"a", "b"}}, "b"));
	ck_assert(!cfg_list_has(&(struct cfg_list){2, (char *[]){"a", "b"}}, "B"));
	ck_assert(!cfg_list_has(&(struct cfg_list){0, NULL}, "a"));
}
END_TEST

/* Reads a source-tree file into a malloc'd string. */
static char *read_source(const char *rel)
{
	const char *dir = getenv("AUTHRELAY_SRCDIR");
	char path[1024];
	struct stat st;
	FILE *fp;
	char *text;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", rel);
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s (set AUTHRELAY_SRCDIR)", path);
	ck_assert_int_eq(fstat(fileno(fp), &st), 0);
	text = malloc((size_t)st.st_size + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)st.st_size, fp), (size_t)st.st_size);
	text[st.st_size] = 0;
	fclose(fp);
	return text;
}

/* conf-examples/authrelay.conf loads, yields the defaults, and names
   every key with its default in a commented line "#key = default". */
START_TEST(test_example_file)
{
	const char *dir = getenv("AUTHRELAY_SRCDIR");
	const struct cfg_key_info *k;
	struct authrelay_config *cfg = NULL;
	char path[1024], got[8192], *error = NULL, *text;

	snprintf(path, sizeof(path), "%s/conf-examples/authrelay.conf", dir ? dir : ".");
	ck_assert_msg(cfg_load(path, false, &cfg, &error) == 0, "%s", error);
	cfg_dump(cfg, got, sizeof(got));
	ck_assert_msg(strcmp(got, defaults_dump) == 0, "example differs from defaults:\n%s", got);
	cfg_free(&cfg);
	text = read_source("conf-examples/authrelay.conf");
	for (k = cfg_keys(); k->name; k++) {
		char want[256];

		snprintf(want, sizeof(want), "\n#%s = %s\n", k->name, k->default_value);
		if (*k->default_value == 0)
			snprintf(want, sizeof(want), "\n#%s =\n", k->name);
		ck_assert_msg(strstr(text, want) != NULL, "example lacks the line [%s]", want + 1);
	}
	free(text);
}
END_TEST

/* The manual page documents every key (".IP \fBkey\fR"-style entry). */
START_TEST(test_manual_page)
{
	const struct cfg_key_info *k;
	char *text = read_source("lib/authrelay.conf.5");

	for (k = cfg_keys(); k->name; k++) {
		char want[128];

		snprintf(want, sizeof(want), ".SS %s\n", k->name);
		ck_assert_msg(strstr(text, want) != NULL, "manual lacks the section [%s]", want);
	}
	free(text);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(sender_login_check_name(SENDER_CHECK_NO), "no");
	ck_assert_str_eq(sender_login_check_name(SENDER_CHECK_ENVELOPE), "envelope");
	ck_assert_str_eq(sender_login_check_name(SENDER_CHECK_HEADER), "header");
	ck_assert_str_eq(sender_login_check_name(SENDER_CHECK_BOTH), "both");
	ck_assert_str_eq(on_store_error_name(ON_STORE_ERROR_TEMPFAIL), "tempfail");
	ck_assert_str_eq(on_store_error_name(ON_STORE_ERROR_DUNNO), "dunno");
}
END_TEST

static Suite *cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_empty_gives_defaults);
	tcase_add_loop_test(tc, test_set, 0, N(set_cases));
	tcase_add_loop_test(tc, test_bad, 0, N(bad_cases));
	tcase_add_test(tc, test_file_nul);
	tcase_add_test(tc, test_file_long_line);
	tcase_add_test(tc, test_file_load);
	tcase_add_test(tc, test_file_missing);
	tcase_add_loop_test(tc, test_file_writable, 0, N(writable_cases));
	tcase_add_test(tc, test_many_errors_capped);
	tcase_add_test(tc, test_key_table);
	tcase_add_test(tc, test_example_file);
	tcase_add_test(tc, test_manual_page);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cfg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

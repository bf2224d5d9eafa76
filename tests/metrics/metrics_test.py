#!/usr/bin/python3
"""metrics_test.py -- the daemons' GET /metrics, checked against the audit.

usage: metrics_test.py BUILD_DIR SRC_DIR WORK_DIR

Starts the real authrelay-policyd, authrelay-milter and authrelay-loginwatch
with *_metrics_listen on loopback ports chosen at run time, makes decisions
(policy requests, miltertest scripts) and logins (Dovecot lines), then:
each scrape passes `promtool check metrics`; the counters equal the rows
of the decisions table and the grants; a policyd without its database
counts its store errors; a real Prometheus server (private data dir, free
port) scrapes all three and its query API returns the same numbers, with
the example alert rules loaded. Prints one line per case and
"N passed, M failed" last. Every process is stopped by PID, also on failure.

With AUTHRELAY_BACKEND=pgsql (tests/metrics/run.sh starts the server with
tests/pg.sh, creates the schema and exports PG_CONNINFO, PG_PASSFILE,
PG_PORT and PGPASSWORD) the same cases run against PostgreSQL, the rows
read and written with psql(1); the policyd without its database names a
PostgreSQL database that does not exist.
"""

import json
import os
import re
import pwd
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# tests/cases.py, without a __pycache__ in the checkout
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cases  # noqa: E402
from cases import check_eq, free_port, result  # noqa: E402

BUILD, SRC, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
RUN_USER = "nobody" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
PGSQL = os.environ.get("AUTHRELAY_BACKEND", "sqlite") == "pgsql"
DB = os.environ["PG_CONNINFO"] if PGSQL else os.path.join(WORK, "db", "authrelay.db")
MISSING_DB = (DB.rsplit("/", 1)[0] + "/authrelay_missing" if PGSQL
              else os.path.join(WORK, "db", "missing.db"))
MAILLOG = os.path.join(WORK, "mail.log")
procs = []


def pg_sql(text, args):
    """sql() on PostgreSQL: psql as the daemons' role; the ? parameters
    (numbers here) inlined, X'..' blobs as bytea, numbers back as int."""
    for a in args:
        text = text.replace("?", str(int(a)), 1)
    text = re.sub(r"X'([0-9A-Fa-f]*)'", r"'\\x\1'", text)
    out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                          "-h", "127.0.0.1", "-p", os.environ["PG_PORT"], "-U", "authrelay",
                          "-d", "authrelay", "-c", text],
                         capture_output=True, text=True, check=True).stdout
    return [tuple(int(v) if re.fullmatch(r"-?[0-9]+", v) else v for v in line.split("\t"))
            for line in out.splitlines()]


def sql(text, args=()):
    if PGSQL:
        return pg_sql(text, args)
    con = sqlite3.connect(DB, timeout=5)
    rows = con.execute(text, args).fetchall()
    con.commit()
    con.close()
    return rows


def wait_for(what, predicate, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.1)
    print("# timed out waiting for %s" % what)
    return False


# ---------------------------------------------------------------- daemons

def start(name, argv):
    log = open(os.path.join(WORK, name + ".log"), "w")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def write_config(name, lines, db=None):
    """WORK/NAME.conf: the suite's database (or db), then lines."""
    path = os.path.join(WORK, name + ".conf")
    with open(path, "w") as f:
        f.write("database = %s\nrun_user = %s\nlog_level = debug\n" % (db or DB, RUN_USER))
        if PGSQL:
            f.write("database_password_file = %s\n" % os.environ["PG_PASSFILE"])
        f.write("".join(l + "\n" for l in lines))
    return path


def http_get(url, timeout=5):
    """(status, body text); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def scrape(port):
    return http_get("http://127.0.0.1:%d/metrics" % port)[1]


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, value = line.rsplit(" ", 1)
        name, labels = series, frozenset()
        if "{" in series:
            name, rest = series.split("{", 1)
            pairs = []
            for item in rest.rstrip("}").split('",'):
                k, v = item.split("=", 1)
                pairs.append((k, v.strip('"')))
            labels = frozenset(pairs)
        out[(name, labels)] = float(value)
    return out


def family(text, name):
    """{labels dict as sorted tuple: value} of one metric name."""
    return {tuple(sorted(l)): v for (n, l), v in samples(text).items() if n == name}


def promtool_metrics(label, text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True)
    result(label, r.returncode == 0 and text != "",
           "promtool said %s%s" % (r.stdout.strip(), r.stderr.strip()))


# ---------------------------------------------------------------- policy

def policy_request(**attrs):
    base = {"request": "smtpd_access_policy", "protocol_state": "RCPT",
            "client_address": "127.0.0.1", "sender": "x@lab.test",
            "recipient": "someone@example.org", "sasl_username": "", "queue_id": ""}
    base.update(attrs)
    return "".join("%s=%s\n" % kv for kv in base.items()).encode() + b"\n"


def ask(sock, data):
    sock.sendall(data)
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode().strip()


def wait_port(port, p, timeout=10):
    def up():
        if p.poll() is not None:
            return True
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return True
        except OSError:
            return False
    wait_for("port %d" % port, up, timeout)
    return p.poll() is None


def db_decisions():
    return {(p, v, r): n for p, v, r, n in
            sql("SELECT program, verdict, rule, count(*) FROM decisions GROUP BY 1, 2, 3")}


def metric_decisions(text):
    out = {}
    for labels, v in family(text, "authrelay_decisions_total").items():
        d = dict(labels)
        out[(d["program"], d["verdict"], d["rule"])] = int(v)
    return out


# ---------------------------------------------------------------- the run

def main():
    now = int(time.time())
    os.makedirs(os.path.join(WORK, "db"))
    ctl_conf = write_config("ctl", [])
    # (PostgreSQL: run.sh made the schema as its owner)
    r = subprocess.run([os.path.join(BUILD, "authrelayctl"), "-c", ctl_conf,
                        "check" if PGSQL else "init"], capture_output=True, text=True)
    if r.returncode != 0:
        result("authrelayctl init", False, r.stderr)
        return
    sql("INSERT INTO grants (family, net, ip, prefix_len, username, service, first_seen,"
        " last_seen, expires_at, logins) VALUES (4, X'7F000014', '127.0.0.20', 32, 'popuser',"
        " 'pop3', ?, ?, ?, 1)", (now, now, now + 3600))
    sql("INSERT INTO users (username, suspended, changed) VALUES ('carol@lab.test', 1, ?)",
        (now,))
    for path in [os.path.join(WORK, "db")] + [DB + s for s in ("", "-wal", "-shm")]:
        if os.path.exists(path) and os.getuid() == 0:
            os.chown(path, pwd.getpwnam(RUN_USER).pw_uid, -1)
    open(MAILLOG, "w").close()

    ports = {k: free_port() for k in ("policyd", "policyd_m", "milter", "milter_m",
                                      "loginwatch_m", "broken", "broken_m", "late", "late_m",
                                      "prom")}
    pd_conf = write_config("policyd", [
        "policyd_listen = inet:127.0.0.1:%d" % ports["policyd"],
        "policyd_metrics_listen = inet:127.0.0.1:%d" % ports["policyd_m"],
        "policyd_pidfile ="])
    ml_conf = write_config("milter", [
        "milter_socket = inet:127.0.0.1:%d" % ports["milter"],
        "milter_metrics_listen = inet:127.0.0.1:%d" % ports["milter_m"],
        "milter_pidfile ="])
    lw_conf = write_config("loginwatch", [
        "loginwatch_sources = %s" % MAILLOG,
        "loginwatch_metrics_listen = inet:127.0.0.1:%d" % ports["loginwatch_m"],
        "loginwatch_pidfile ="])
    pd = start("policyd", [os.path.join(BUILD, "authrelay-policyd"), "-f", "-c", pd_conf])
    ml = start("milter", [os.path.join(BUILD, "authrelay-milter"), "-f", "-c", ml_conf])
    lw = start("loginwatch", [os.path.join(BUILD, "authrelay-loginwatch"), "-f", "-c", lw_conf])
    for name, p, port in (("policyd", pd, ports["policyd_m"]), ("milter", ml, ports["milter_m"]),
                          ("loginwatch", lw, ports["loginwatch_m"])):
        if not wait_port(port, p):
            result("%s serves /metrics" % name, False,
                   open(os.path.join(WORK, name + ".log")).read()[-2000:])
            return

    # Off the path: another path and another method.
    status, _ = http_get("http://127.0.0.1:%d/" % ports["policyd_m"])
    check_eq("GET / is 404", status, 404)
    req = urllib.request.Request("http://127.0.0.1:%d/metrics" % ports["policyd_m"], data=b"",
                                 method="POST")
    try:
        status = urllib.request.urlopen(req, timeout=5).status
    except urllib.error.HTTPError as e:
        status = e.code
    check_eq("POST /metrics is 405", status, 405)

    # ---- policyd: a table of requests, one held connection ----
    requests = [
        ("unauthenticated: dunno none", {"client_address": "192.0.2.9"}, "action=DUNNO"),
        ("grant: permit grant", {"client_address": "127.0.0.20"}, "action=OK"),
        ("sasl: permit sasl", {"client_address": "192.0.2.9", "sasl_username": "bob@lab.test"},
         "action=OK"),
        ("suspended: reject suspended", {"client_address": "192.0.2.9",
                                         "sasl_username": "carol@lab.test"}, "action=REJECT"),
    ]
    held = socket.create_connection(("127.0.0.1", ports["policyd"]), 5)
    per_kind = 3
    for label, attrs, want in requests:
        for _ in range(per_kind):
            got = ask(held, policy_request(**attrs))
            if not got.startswith(want):
                result("policyd " + label, False, "got %r, want %s..." % (got, want))
                break
        else:
            result("policyd " + label, True)
    text = scrape(ports["policyd_m"])
    check_eq("policyd: one connection open",
             family(text, "authrelay_connections"), {(("program", "policyd"),): 1.0})
    held.close()

    # ---- milter: miltertest scripts of tests/milter ----
    lib = os.path.join(SRC, "tests", "milter", "lib.lua")
    for script, n in (("unauth_relay_refused", 2), ("grant_ip_accepted", None)):
        r = subprocess.run(["miltertest", "-D", "socket=inet:%d@127.0.0.1" % ports["milter"],
                            "-D", "lib=" + lib, "-s",
                            os.path.join(SRC, "tests", "milter", script + ".lua")],
                           capture_output=True, text=True, timeout=60)
        result("miltertest " + script, r.returncode == 0, r.stdout + r.stderr)

    # ---- loginwatch: Dovecot login lines ----
    stamp = time.strftime("%b %e %H:%M:%S")
    with open(MAILLOG, "a") as f:
        for i, (svc, ip) in enumerate((("imap", "198.51.100.1"), ("imap", "198.51.100.2"),
                                       ("pop3", "198.51.100.3"))):
            f.write("%s mail dovecot: %s-login: Login: user=<u%d>, method=PLAIN, rip=%s, "
                    "lip=127.0.0.1, mpid=%d, TLS, session=<s%d>\n" % (stamp, svc, i, ip, i, i))
        f.write("%s mail dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): "
                "user=<bad>, method=PLAIN, rip=198.51.100.9, lip=127.0.0.1, TLS, session=<f>\n"
                % stamp)
        f.write("%s mail postfix/smtpd[1]: connect from unknown[192.0.2.99]\n" % stamp)
    wait_for("three grants from the log", lambda: sql(
        "SELECT count(*) FROM grants WHERE ip LIKE '198.51.100.%'")[0][0] == 3)

    # ---- the scrapes against the audit ----
    want_rows = len(requests) * per_kind
    wait_for("decision rows written", lambda: sql(
        "SELECT count(*) FROM decisions WHERE program = 'policyd'")[0][0] == want_rows)
    # The milter's rows too: its writer may still hold the last ones.
    wait_for("both decision queues empty", lambda: all(
        family(scrape(ports[k]), "authrelay_decision_queue_rows") == {(): 0.0}
        for k in ("policyd_m", "milter_m")))
    pd_text, ml_text, lw_text = (scrape(ports[k]) for k in ("policyd_m", "milter_m",
                                                              "loginwatch_m"))
    for name, text in (("policyd", pd_text), ("milter", ml_text), ("loginwatch", lw_text)):
        promtool_metrics("promtool check metrics: %s" % name, text)
        with open(os.path.join(WORK, name + ".metrics"), "w") as f:
            f.write(text)
    rows = db_decisions()
    got = metric_decisions(pd_text)
    got.update(metric_decisions(ml_text))
    check_eq("decisions_total equals the decisions rows", got, rows)
    check_eq("policyd rows: one per request", sum(n for (p, _, _), n in rows.items()
                                                  if p == "policyd"), want_rows)
    hist = family(pd_text, "authrelay_request_duration_seconds_count")
    check_eq("policyd histogram counts every decision", hist,
             {(("program", "policyd"),): float(want_rows)})
    check_eq("policyd: connection closed", family(scrape(ports["policyd_m"]),
                                                 "authrelay_connections"),
             {(("program", "policyd"),): 0.0})
    check_eq("policyd: queue empty, nothing dropped",
             (family(pd_text, "authrelay_decision_queue_rows"),
              family(pd_text, "authrelay_decision_rows_dropped_total")),
             ({(): 0.0}, {(): 0.0}))
    check_eq("policyd: no store error", family(pd_text, "authrelay_store_errors_total"),
             {(("program", "policyd"),): 0.0})
    check_eq("build_info names the version", family(ml_text, "authrelay_build_info"),
             {(("program", "milter"), ("version", "0.1.0")): 1.0})
    start_time = list(family(lw_text, "process_start_time_seconds").values())
    result("process_start_time_seconds is this run's",
           len(start_time) == 1 and now - 60 < start_time[0] <= time.time(), repr(start_time))
    logins = {tuple(dict(l)[k] for k in ("format", "service")): v
              for l, v in family(lw_text, "authrelay_loginwatch_logins_total").items()}
    check_eq("loginwatch logins by format and service", logins,
             {("dovecot", "imap"): 2.0, ("dovecot", "pop3"): 1.0})
    check_eq("loginwatch: candidate lines (4 hold a login message's text)",
             family(lw_text, "authrelay_loginwatch_lines_total"),
             {(("source", MAILLOG),): 4.0})
    check_eq("loginwatch: nothing left to read",
             family(lw_text, "authrelay_loginwatch_lag_bytes"), {(("source", MAILLOG),): 0.0})
    active = sql("SELECT count(*) FROM active_grants")[0][0]
    check_eq("grants_active equals the active_grants view",
             family(lw_text, "authrelay_grants_active"), {(): float(active)})
    check_eq("no user, address or IP in any label",
             [t for t in (pd_text, ml_text, lw_text)
              if any(s in t for s in ("198.51.100", "192.0.2", "127.0.0.20", "carol", "u0"))],
             [])

    # ---- a policyd whose database is missing: store errors ----
    br_conf = write_config("broken", [
        "policyd_listen = inet:127.0.0.1:%d" % ports["broken"],
        "policyd_metrics_listen = inet:127.0.0.1:%d" % ports["broken_m"],
        "policyd_pidfile ="], MISSING_DB)
    br = start("broken", [os.path.join(BUILD, "authrelay-policyd"), "-f", "-c", br_conf])
    if wait_port(ports["broken"], br):
        s = socket.create_connection(("127.0.0.1", ports["broken"]), 5)
        replies = [ask(s, policy_request(client_address="192.0.2.%d" % i)) for i in range(5)]
        s.close()
        text = scrape(ports["broken_m"])
        check_eq("no database: every reply defers",
                 [r.split(" ")[0] for r in replies], ["action=DEFER_IF_PERMIT"] * 5)
        check_eq("no database: store errors counted",
                 family(text, "authrelay_store_errors_total"), {(("program", "policyd"),): 5.0})
        check_eq("no database: tempfail store_error decisions", metric_decisions(text),
                 {("policyd", "tempfail", "store_error"): 5})
        check_eq("no database: no queue family", family(text, "authrelay_decision_queue_rows"),
                 {})
    else:
        result("broken policyd starts", False, open(os.path.join(WORK, "broken.log")).read())
    stop(br)

    late_milter(ports)
    prometheus(ports, rows, active)


def late_milter(ports):
    """A milter started before its database exists: once a message makes
    it open the database (FRONTEND_STORE_RETRY, 5 s), the scrape has the
    queue gauges too, without a restart."""
    if PGSQL:
        cases.skip("milter whose database appeared later",
                   "a file that appears later is SQLite's case; PostgreSQL coming back "
                   "is tests/faults/pg_stopped.sh")
        return
    late_db = os.path.join(WORK, "db", "late.db")
    conf = write_config("late", [
        "milter_socket = inet:127.0.0.1:%d" % ports["late"],
        "milter_metrics_listen = inet:127.0.0.1:%d" % ports["late_m"],
        "milter_pidfile ="], late_db)
    ml = start("late", [os.path.join(BUILD, "authrelay-milter"), "-f", "-c", conf])
    if not wait_port(ports["late_m"], ml):
        result("late milter starts", False, open(os.path.join(WORK, "late.log")).read())
        stop(ml)
        return
    check_eq("milter without its database: no queue family",
             family(scrape(ports["late_m"]), "authrelay_decision_queue_rows"), {})
    src = sqlite3.connect(DB)
    dst = sqlite3.connect(late_db)
    src.backup(dst)
    src.close()
    dst.close()
    if os.getuid() == 0:
        os.chown(late_db, pwd.getpwnam(RUN_USER).pw_uid, -1)
    lib = os.path.join(SRC, "tests", "milter", "lib.lua")

    def opened():
        subprocess.run(["miltertest", "-D", "socket=inet:%d@127.0.0.1" % ports["late"],
                        "-D", "lib=" + lib, "-s",
                        os.path.join(SRC, "tests", "milter", "unauth_relay_refused.lua")],
                       capture_output=True, text=True, timeout=60)
        return family(scrape(ports["late_m"]), "authrelay_decision_queue_rows") != {}
    wait_for("the late milter opens its database", opened, timeout=20)
    check_eq("milter whose database appeared later: queue family scraped",
             sorted(family(scrape(ports["late_m"]), "authrelay_decision_queue_rows")), [()])
    stop(ml)


def prom_query(port, query):
    status, body = http_get("http://127.0.0.1:%d/api/v1/query?%s" % (
        port, urllib.parse.urlencode({"query": query})))
    if status != 200:
        return None
    data = json.loads(body)
    return {tuple(sorted(r["metric"].items())): float(r["value"][1])
            for r in data["data"]["result"]}


def prometheus(ports, rows, active):
    """A real Prometheus scrapes the three daemons; its API answers."""
    port = ports["prom"]
    rules = os.path.join(SRC, "conf-examples", "prometheus", "authrelay-rules.yml")
    example = os.path.join(SRC, "conf-examples", "prometheus", "authrelay.yml")
    r = subprocess.run(["promtool", "check", "config", example], capture_output=True, text=True)
    result("promtool check config: conf-examples/prometheus/authrelay.yml", r.returncode == 0,
           r.stdout + r.stderr)
    r = subprocess.run(["promtool", "check", "rules", rules], capture_output=True, text=True)
    result("promtool check rules: conf-examples/prometheus/authrelay-rules.yml",
           r.returncode == 0, r.stdout + r.stderr)
    with open(os.path.join(SRC, "tests", "metrics", "rules-test.yml")) as f:
        test = f.read().replace("RULES", rules)
    with open(os.path.join(WORK, "rules-test.yml"), "w") as f:
        f.write(test)
    r = subprocess.run(["promtool", "test", "rules", os.path.join(WORK, "rules-test.yml")],
                       capture_output=True, text=True)
    result("promtool test rules: every alert fires when it should", r.returncode == 0,
           r.stdout + r.stderr)

    # The example job with this run's targets and a fast interval.
    with open(example) as f:
        cfg = f.read()
    cfg = cfg.replace("scrape_interval: 30s", "scrape_interval: 1s")
    cfg = cfg.replace("evaluation_interval: 30s", "evaluation_interval: 1s")
    cfg = cfg.replace("- authrelay-rules.yml", "- " + rules)
    for default, key in (("9341", "policyd_m"), ("9342", "milter_m"), ("9343", "loginwatch_m")):
        cfg = cfg.replace("127.0.0.1:" + default, "127.0.0.1:%d" % ports[key])
    conf = os.path.join(WORK, "prometheus.yml")
    with open(conf, "w") as f:
        f.write(cfg)
    prom = start("prometheus", ["prometheus", "--config.file=" + conf,
                                "--storage.tsdb.path=" + os.path.join(WORK, "prometheus-data"),
                                "--web.listen-address=127.0.0.1:%d" % port,
                                "--log.level=warn"])
    try:
        up = {}
        wait_for("prometheus: three targets up", lambda: (
            up.update({"v": prom_query(port, 'up{job="authrelay"}')}) or
            (up["v"] is not None and len(up["v"]) == 3 and all(x == 1 for x in up["v"].values()))),
            timeout=60)
        check_eq("prometheus: up of the three targets", sorted((up.get("v") or {}).values()),
                 [1.0, 1.0, 1.0])
        got = prom_query(port, "sum by (program, verdict, rule) (authrelay_decisions_total)")
        got = {(dict(k)["program"], dict(k)["verdict"], dict(k)["rule"]): int(v)
               for k, v in (got or {}).items()}
        check_eq("prometheus: decisions by program, verdict, rule = the decisions rows",
                 got, rows)
        got = prom_query(port, "sum(authrelay_loginwatch_logins_total)")
        check_eq("prometheus: logins", list((got or {}).values()), [3.0])
        got = prom_query(port, "authrelay_grants_active")
        check_eq("prometheus: grants_active", [v for v in (got or {}).values()], [float(active)])
        got = prom_query(port, 'sum(authrelay_request_duration_seconds_count{program="policyd"})')
        check_eq("prometheus: policyd histogram count", list((got or {}).values()),
                 [float(sum(n for (p, _, _), n in rows.items() if p == "policyd"))])
        names = []

        def rules_health():
            status, body = http_get("http://127.0.0.1:%d/api/v1/rules" % port)
            names.clear()
            if status == 200:
                for g in json.loads(body)["data"]["groups"]:
                    names.extend((r["name"], r["health"]) for r in g["rules"])
            return names and all(h != "unknown" for _, h in names)
        wait_for("the rules evaluated", rules_health, timeout=30)
        check_eq("prometheus: the example alert rules are loaded and healthy", sorted(names),
                 sorted((n, "ok") for n in ("AuthrelayDaemonDown", "AuthrelayStoreErrors",
                                            "AuthrelayDecisionRowsDropped",
                                            "AuthrelayRateLimitSpike",
                                            "AuthrelayLoginwatchLag")))
        with open(os.path.join(WORK, "prometheus-queries.txt"), "w") as f:
            for q in ('up{job="authrelay"}',
                      "sum by (program, verdict, rule) (authrelay_decisions_total)",
                      "sum by (format, service) (authrelay_loginwatch_logins_total)",
                      "authrelay_grants_active", "authrelay_loginwatch_lag_bytes",
                      "authrelay_store_errors_total"):
                f.write("%s\n  %s\n" % (q, json.dumps(
                    {" ".join("%s=%s" % kv for kv in k if kv[0] != "__name__"): v
                     for k, v in (prom_query(port, q) or {}).items()}, sort_keys=True)))
    finally:
        stop(prom)


try:
    main()
except Exception as e:  # a crash of the harness is a failure, never a pass
    import traceback
    traceback.print_exc()
    result("harness", False, repr(e))
finally:
    for p in procs:
        stop(p)
# Under make SAN=1 a sanitizer report in a daemon's log is a failure.
reports = [n for n in sorted(os.listdir(WORK)) if n.endswith(".log") and n != "prometheus.log"
           and any(s in open(os.path.join(WORK, n), errors="replace").read()
                   for s in ("AddressSanitizer", "LeakSanitizer", "runtime error:"))]
result("no sanitizer report in the daemons' logs", not reports, ", ".join(reports))
print("%d passed, %d failed" % (cases.passed, cases.failed))
sys.exit(1 if cases.failed or cases.passed == 0 else 0)

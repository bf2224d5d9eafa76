#!/usr/bin/python3
"""policy_test.py -- socket-level tests of authrelay-policyd.

usage: policy_test.py BUILD_DIR SQL_DIR WORK_DIR

Starts the real binary with temporary configs and databases on loopback
ports chosen at run time, talks the Postfix policy protocol to it over
real sockets, prints one line per case and "N passed, M failed" last.
Every process started here is stopped by PID (also on failure).

With AUTHRELAY_BACKEND=pgsql (tests/protocol/run.sh starts the server
with tests/pg.sh and exports PG_CONNINFO, PG_PASSFILE, PG_DIR and
PGPASSWORD) the same cases run against PostgreSQL: the database is
PG_CONNINFO, test data is written with psql(1) as another host would,
and the PostgreSQL cases run (a grant from another connection seen
within a second, the auditors' role, the ready audit queries; a locked
table and the server stopped are tests/faults/pg_*.sh); the case about
an SQLite file that appears after the start and the sending-limit cases
skip with their reason."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

# tests/cases.py, without a __pycache__ in the checkout
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import cases  # noqa: E402
from cases import free_port, result, skip  # noqa: E402

BUILD, SQLDIR, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
POLICYD = os.path.join(BUILD, "authrelay-policyd")
CTL = os.path.join(BUILD, "authrelayctl")
procs = []
NOW = int(time.time())
RUN_USER = "nobody" if os.getuid() == 0 else ""
# VALGRIND=1: every policyd started here runs under valgrind (memcheck,
# full leak check); the logs are checked at the end.
VALGRIND = os.environ.get("VALGRIND") == "1"
PGSQL = os.environ.get("AUTHRELAY_BACKEND") == "pgsql"
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wrap(argv):
    if not VALGRIND:
        return argv
    return ["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--track-fds=no", "--vgdb=no",
            "--log-file=%s/valgrind.%%p.log" % WORK] + argv


# ---------------------------------------------------------------- database

def make_db(path):
    """A fresh database: authrelayctl init when built, else the migrations."""
    if PGSQL:
        cfg = os.path.join(WORK, "init.ctl.conf")
        with open(cfg, "w") as f:
            f.write("database = %s\ndatabase_password_file = %s\n"
                    % (path, os.environ["PG_PASSFILE"]))
        r = subprocess.run([CTL, "-c", cfg, "init"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("authrelayctl init on PostgreSQL: %s" % r.stderr.strip())
        return
    if os.path.exists(CTL):
        cfg = path + ".ctl.conf"
        with open(cfg, "w") as f:
            f.write("database = %s\n" % path)
            if RUN_USER:
                f.write("run_user = %s\n" % RUN_USER)
        r = subprocess.run([CTL, "-c", cfg, "init"], capture_output=True, text=True)
        if r.returncode == 0:
            return
        print("# authrelayctl init failed (%s); using the migrations" % r.stderr.strip())
    con = sqlite3.connect(path)
    version = 0
    for name in sorted(os.listdir(SQLDIR)):
        if name[:3].isdigit() and name.endswith(".sql"):
            con.executescript(open(os.path.join(SQLDIR, name)).read())
            version = int(name[:3])
    # what store_sqlite.c sets: "ARLY", then the schema version
    con.execute("PRAGMA application_id = %d" % 0x41524c59)
    con.execute("PRAGMA user_version = %d" % version)
    con.execute("PRAGMA journal_mode = WAL")
    con.commit()
    con.close()


def ip_blob(ip):
    fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
    return (6 if fam == socket.AF_INET6 else 4), socket.inet_pton(fam, ip)


def psql(text, role="authrelay", password=None, check=True):
    """Rows of text (each a tuple of strings) from psql as role (the daemons' by
    default); with check=False, None when psql fails."""
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = password
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                        "-h", "127.0.0.1", "-p", os.environ["PG_PORT"], "-U", role,
                        "-d", "authrelay", "-c", text], capture_output=True, text=True, env=env)
    if r.returncode != 0 and not check:
        return None
    if r.returncode != 0:
        raise RuntimeError("psql %r: %s" % (text, r.stderr.strip()))
    return [tuple(line.split("\x1f")) for line in r.stdout.splitlines() if line]


def literal(v):
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def add_grant(db, ip, prefix, expires):
    fam, net = ip_blob(ip)
    if PGSQL:
        psql("INSERT INTO grants (family, net, ip, prefix_len, username, service, first_seen,"
             " last_seen, expires_at, logins) VALUES (%d, '\\x%s', '%s', %d, 'tester', 'imap',"
             " %d, %d, %d, 1)" % (fam, net.hex(), ip, prefix, NOW - 60, NOW - 60, expires))
        return
    con = sqlite3.connect(db, timeout=5)
    con.execute("INSERT INTO grants (family, net, ip, prefix_len, username, service, first_seen,"
                " last_seen, expires_at, logins) VALUES (?,?,?,?,?,?,?,?,?,1)",
                (fam, net, ip, prefix, "tester", "imap", NOW - 60, NOW - 60, expires))
    con.commit()
    con.close()


def sql(db, text, args=()):
    if PGSQL:
        parts = text.split("?")
        text = parts[0] + "".join(literal(a) + p for a, p in zip(args, parts[1:]))
        return psql(text)
    con = sqlite3.connect(db, timeout=5)
    rows = con.execute(text, args).fetchall()
    con.commit()
    con.close()
    return rows


# ---------------------------------------------------------------- daemon

def write_config(path, db, listen, extra=""):
    with open(path, "w") as f:
        f.write("# policyd protocol test\n")
        f.write("database = %s\n" % db)
        if PGSQL:
            f.write("database_password_file = %s\n" % os.environ["PG_PASSFILE"])
        if RUN_USER:
            f.write("run_user = %s\n" % RUN_USER)
        f.write("log_level = debug\n")
        f.write("policyd_listen = %s\n" % listen)
        f.write("policyd_pidfile = %s\n" % os.path.join(WORK, "policyd.pid"))
        f.write("policyd_idle_timeout = 4s\n")
        f.write("sender_login_check = envelope\n")
        f.write("trusted_networks = 127.0.0.64/26\n")
        f.write(extra)


class Daemon:
    def __init__(self, name, config, args=("-f",)):
        self.log = os.path.join(WORK, name + ".log")
        self.config = config
        self.proc = subprocess.Popen(wrap([POLICYD, "-c", config] + list(args)),
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        procs.append(self.proc)

    def wait_listening(self, addr, family=socket.AF_INET, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("policyd exited %s: %s" % (self.proc.returncode, self.logtext()))
            try:
                s = socket.socket(family, socket.SOCK_STREAM)
                s.connect(addr)
                s.close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("policyd not listening on %s" % (addr,))

    def logtext(self):
        return open(self.log, errors="replace").read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


# ---------------------------------------------------------------- protocol

def request(**attrs):
    base = {
        "request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
        "helo_name": "client.lab.test", "queue_id": "", "sender": "x@lab.test",
        "recipient": "someone@example.org", "recipient_count": "0",
        "client_address": "127.0.0.1", "client_name": "unknown",
        "reverse_client_name": "unknown", "client_port": "45260",
        "server_address": "127.0.0.1", "server_port": "10025",
        "instance": "1976.6b082edf.101e8.0", "sasl_method": "", "sasl_username": "",
        "sasl_sender": "", "size": "0", "ccert_subject": "", "ccert_issuer": "",
        "ccert_fingerprint": "", "ccert_pubkey_fingerprint": "", "encryption_protocol": "",
        "encryption_cipher": "", "encryption_keysize": "0", "etrn_domain": "", "stress": "",
        "policy_context": "lab",
    }
    base.update(attrs)
    return "".join("%s=%s\n" % kv for kv in base.items()).encode() + b"\n"


class Conn:
    def __init__(self, addr, family=socket.AF_INET, timeout=10):
        self.s = socket.socket(family, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(addr)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        """One reply (without its blank line), or None when the server closed."""
        while b"\n\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        r, self.buf = self.buf.split(b"\n\n", 1)
        return r.decode()

    def ask(self, data):
        self.send(data)
        return self.reply()

    def closed_without_reply(self):
        try:
            data = self.s.recv(65536)
        except ConnectionResetError:
            return True, b""
        return data == b"", data

    def close(self):
        self.s.close()


# ---------------------------------------------------------------- cases

FPR = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
PKFPR = "11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF:11:22:33:44:55:66:77:88:99:00:AA:BB:CC:DD:EE:FF"


def setup_data(db):
    add_grant(db, "127.0.0.10", 32, NOW + 3600)
    add_grant(db, "127.0.0.11", 32, NOW - 10)          # expired
    add_grant(db, "::1", 128, NOW + 3600)
    sql(db, "INSERT INTO users (username, suspended, changed) VALUES ('alice', 0, ?)", (NOW,))
    sql(db, "INSERT INTO users (username, suspended, changed) VALUES ('bob', 1, ?)", (NOW,))
    sql(db, "INSERT INTO sender_rights (username, pattern, added) VALUES ('alice', 'alice@lab.test', ?)", (NOW,))
    sql(db, "INSERT INTO sender_rights (username, pattern, added) VALUES ('bob', '*', ?)", (NOW,))
    sql(db, "INSERT INTO certs (fingerprint, pubkey_fingerprint, username, added) VALUES (?, ?, 'carol', ?)",
        (FPR, PKFPR, NOW))


# The rules of authrelay.conf(5) RELAY DECISION, as policyd answers them.
RULE_CASES = [
    # label, attributes, wanted reply (prefix match for texts)
    ("no auth, no grant: no opinion", {}, "action=DUNNO"),
    ("live grant for the client IP", {"client_address": "127.0.0.10"}, "action=OK"),
    ("IPv4-mapped client compared as IPv4", {"client_address": "::ffff:127.0.0.10"}, "action=OK"),
    ("IPv6 grant", {"client_address": "::1"}, "action=OK"),
    ("expired grant", {"client_address": "127.0.0.11"}, "action=DUNNO"),
    ("SASL user sending as herself", {"sasl_username": "alice", "sasl_method": "PLAIN",
                                      "sender": "alice@lab.test"}, "action=OK"),
    ("SASL user with +tag and domain case", {"sasl_username": "alice",
                                             "sender": "alice+news@LAB.test"}, "action=OK"),
    ("SASL sender mismatch", {"sasl_username": "alice", "sender": "mallory@evil.test"},
     "action=REJECT 5.7.1 "),
    ("suspended SASL user", {"sasl_username": "bob", "sender": "bob@lab.test"},
     "action=REJECT 5.7.1 "),
    ("suspended SASL user not rescued by a grant", {"sasl_username": "bob",
                                                    "client_address": "127.0.0.10"},
     "action=REJECT 5.7.1 "),
    ("registered certificate fingerprint", {"ccert_fingerprint": FPR,
                                            "encryption_protocol": "TLSv1.3"}, "action=OK"),
    ("registered public-key fingerprint", {"ccert_pubkey_fingerprint": PKFPR,
                                           "encryption_protocol": "TLSv1.3"}, "action=OK"),
    ("unknown certificate", {"ccert_fingerprint": FPR.replace("AB", "00"),
                             "encryption_protocol": "TLSv1.3"}, "action=DUNNO"),
    ("trusted_networks", {"client_address": "127.0.0.70"}, "action=OK"),
    ("MAIL state: DUNNO (decided at RCPT)", {"protocol_state": "MAIL",
                                             "client_address": "127.0.0.10"}, "action=DUNNO"),
    ("END-OF-MESSAGE state: DUNNO", {"protocol_state": "END-OF-MESSAGE",
                                     "sasl_username": "bob"}, "action=DUNNO"),
    ("unknown attributes ignored", {"future_attribute": "x", "client_address": "127.0.0.10"},
     "action=OK"),
    ("over-long sasl_username: DUNNO, never cut", {"sasl_username": "a" * 300,
                                                    "client_address": "127.0.0.10"},
     "action=DUNNO"),
]


def check_reply(label, got, want):
    ok = got is not None and got.startswith(want)
    if ok and " 5." in want or (ok and " 4." in want):
        # always text after an enhanced status code
        ok = len(got) > len(want.rstrip()) + 1
    result(label, ok, "got %r, want %r" % (got, want))


def run_rule_cases(addr):
    c = Conn(addr)
    for label, attrs, want in RULE_CASES:
        check_reply(label, c.ask(request(**attrs)), want)
    c.close()


def case_keepalive(addr):
    c = Conn(addr)
    bad = None
    for i in range(500):
        ip, want = ("127.0.0.10", "action=OK") if i % 2 else ("127.0.0.20", "action=DUNNO")
        got = c.ask(request(client_address=ip, instance="k.%d" % i))
        if got != want:
            bad = "request %d: got %r, want %r" % (i, got, want)
            break
    c.close()
    result("keep-alive: 500 requests on one connection", bad is None, bad)


def case_pipelined(addr):
    c = Conn(addr)
    n = 200
    c.send(b"".join(request(client_address="127.0.0.10" if i % 3 == 0 else "127.0.0.21")
                    for i in range(n)))
    got = [c.reply() for _ in range(n)]
    want = ["action=OK" if i % 3 == 0 else "action=DUNNO" for i in range(n)]
    c.close()
    result("pipelining: 200 requests in one write answered in order", got == want,
           "first difference at %s" % next((i for i in range(n) if got[i] != want[i]), None))


def case_slow_reader(addr):
    """A client that writes 3000 requests before reading any reply."""
    c = Conn(addr, timeout=30)
    n = 3000
    data = b"".join(request(client_address="127.0.0.10" if i % 2 else "127.0.0.22") for i in range(n))
    import threading
    t = threading.Thread(target=c.send, args=(data,))
    t.start()
    time.sleep(0.5)
    got = [c.reply() for _ in range(n)]
    t.join()
    want = ["action=OK" if i % 2 else "action=DUNNO" for i in range(n)]
    c.close()
    result("back-pressure: 3000 requests before reading, all answered in order", got == want,
           "replies differ")


def case_malformed(addr, daemon):
    cases = [
        ("line without '='", request()[:-1] + b"garbage\n\n"),
        ("empty attribute name", b"=x\n\n"),
        ("NUL byte", b"request=smtpd_access_policy\nsender=a\0b\n\n"),
        ("line over policyd_max_line", b"request=smtpd_access_policy\nsender=" + b"x" * 5000 + b"\n\n"),
        ("over policyd_max_attributes", b"".join(b"a%d=1\n" % i for i in range(150)) + b"\n"),
        ("over policyd_max_request", b"".join(b"a%d=%s\n" % (i, b"y" * 1000) for i in range(80)) + b"\n"),
        ("request type other than smtpd_access_policy", b"request=junk\n\n"),
        ("no request attribute", b"protocol_state=RCPT\n\n"),
    ]
    for label, data in cases:
        before = daemon.logtext().count("closing connection")
        c = Conn(addr)
        # a good request first: the connection works until the bad one
        first = c.ask(request(client_address="127.0.0.10"))
        try:
            c.send(data)
        except OSError:
            pass
        closed, extra = c.closed_without_reply()
        c.close()
        time.sleep(0.1)
        after = daemon.logtext().count("closing connection")
        c2 = Conn(addr)
        still = c2.ask(request(client_address="127.0.0.10"))
        c2.close()
        ok = first == "action=OK" and closed and after - before == 1 and still == "action=OK"
        result("malformed: %s closes that connection with one log line" % label, ok,
               "first=%r closed=%r extra=%r log lines=%d next=%r" % (first, closed, extra[:40],
                                                                  after - before, still))


def case_stall(addr):
    a = Conn(addr)
    a.send(request(client_address="127.0.0.10")[:200])   # half a request, then nothing
    b = Conn(addr)
    t0 = time.time()
    answers = [b.ask(request(client_address="127.0.0.10")) for _ in range(100)]
    elapsed = time.time() - t0
    a.send(request(client_address="127.0.0.10")[200:])
    late = a.reply()
    a.close()
    b.close()
    result("a stalled half request does not stall others", all(x == "action=OK" for x in answers)
           and elapsed < 2.5 and late == "action=OK",
           "answers ok=%s elapsed=%.2fs late=%r" % (all(x == "action=OK" for x in answers), elapsed, late))


def case_idle_timeout(addr):
    a = Conn(addr, timeout=15)
    a.send(b"request=smtpd_access_policy\n")
    t0 = time.time()
    closed, _ = a.closed_without_reply()
    waited = time.time() - t0
    a.close()
    result("idle timeout closes a stalled connection", closed and 3 <= waited <= 10,
           "closed=%s after %.1fs (timeout 4s)" % (closed, waited))


def case_trickle(addr):
    """A client that keeps sending one byte every 0.5 s never completes a
    request: it is closed idle_timeout (4 s) after it connected, although
    bytes keep arriving (slowloris)."""
    a = Conn(addr, timeout=15)
    t0 = time.time()
    closed = False
    for ch in b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.1\n":
        try:
            a.send(bytes([ch]))
        except OSError:
            closed = True
            break
        time.sleep(0.5)
        if time.time() - t0 > 12:
            break
    if not closed:
        closed, _ = a.closed_without_reply()
    waited = time.time() - t0
    a.close()
    result("a request trickled in byte by byte is closed after the idle timeout",
           closed and 3 <= waited <= 10, "closed=%s after %.1fs (timeout 4s)" % (closed, waited))


def case_many(addr, n=1000):
    conns = []
    try:
        for _ in range(n):
            conns.append(Conn(addr, timeout=30))
        for i, c in enumerate(conns):
            c.send(request(client_address="127.0.0.10" if i % 2 else "127.0.0.23"))
        bad = 0
        for i, c in enumerate(conns):
            if c.reply() != ("action=OK" if i % 2 else "action=DUNNO"):
                bad += 1
        # and once more on every connection: all are still served
        for c in conns:
            c.send(request(client_address="127.0.0.10"))
        bad += sum(1 for c in conns if c.reply() != "action=OK")
        result("%d simultaneous connections, two requests each" % n, bad == 0,
               "%d wrong or missing replies" % bad)
    finally:
        for c in conns:
            c.close()


def case_decision_rows(db):
    end = time.time() + 8
    rows = []
    while time.time() < end:
        rows = sql(db, "SELECT verdict, rule, client_ip, sasl_username FROM decisions")
        if any(r[1] == "suspended" for r in rows) and any(r[1] == "cert" for r in rows):
            break
        time.sleep(0.2)
    rules = {r[1] for r in rows}
    want = {"none", "grant", "sasl", "sender_mismatch", "suspended", "cert", "trusted", "bad_request"}
    result("decision rows carry verdict and rule", want <= rules,
           "rules seen %s, missing %s" % (sorted(rules), sorted(want - rules)))
    mapped = [r for r in rows if r[1] == "grant" and r[2] == "127.0.0.10"]
    result("decision rows show mapped IPv4 clients as IPv4", len(mapped) >= 2,
           "grant rows for 127.0.0.10: %d" % len(mapped))


def case_reload(addr, daemon, config, db, listen):
    # require_tls_for_auth on: alice without TLS is refused, with TLS allowed
    write_config(config, db, listen, "require_tls_for_auth = yes\n")
    daemon.proc.send_signal(signal.SIGHUP)
    end = time.time() + 5
    got = None
    while time.time() < end:
        got = Conn(addr).ask(request(sasl_username="alice", sender="alice@lab.test"))
        if got.startswith("action=REJECT"):
            break
        time.sleep(0.1)
    check_reply("SIGHUP applies require_tls_for_auth: no TLS", got, "action=REJECT 5.7.1 ")
    got = Conn(addr).ask(request(sasl_username="alice", sender="alice@lab.test",
                                 encryption_protocol="TLSv1.3"))
    check_reply("require_tls_for_auth: TLS session", got, "action=OK")

    # a broken file keeps the running configuration
    with open(config, "a") as f:
        f.write("no_such_key = 1\nthis line is broken\n")
    daemon.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    got = Conn(addr).ask(request(sasl_username="alice", sender="alice@lab.test"))
    log = daemon.logtext()
    result("SIGHUP with a broken config keeps serving the old one",
           daemon.proc.poll() is None and got is not None and got.startswith("action=REJECT")
           and "reload failed" in log, "alive=%s got=%r" % (daemon.proc.poll() is None, got))
    write_config(config, db, listen)
    daemon.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)


def case_sigterm(addr, daemon):
    c = Conn(addr)
    first = c.ask(request(client_address="127.0.0.10"))
    # 50 pipelined requests, then SIGTERM at once: every reply due is written
    c.send(b"".join(request(client_address="127.0.0.10") for _ in range(50)))
    daemon.proc.send_signal(signal.SIGTERM)
    got = [c.reply() for _ in range(50)]
    try:
        rc = daemon.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    c.close()
    result("SIGTERM: replies due are written, exit 0", first == "action=OK" and rc == 0 and
           all(g == "action=OK" for g in got), "rc=%r replies ok=%d/50" % (rc, sum(g == "action=OK" for g in got)))


def case_store_unavailable(config_dir):
    for mode, want in (("tempfail", "action=DEFER_IF_PERMIT 4.3.0 "), ("dunno", "action=DUNNO")):
        port = free_port()
        cfg = os.path.join(config_dir, "missingdb-%s.conf" % mode)
        write_config(cfg, missing_db("does-not-exist"), "inet:127.0.0.1:%d" % port,
                     "on_store_error = %s\npolicyd_max_connections = 5\n" % mode)
        d = Daemon("missingdb-" + mode, cfg)
        try:
            d.wait_listening(("127.0.0.1", port))
            c = Conn(("127.0.0.1", port))
            got_grant = c.ask(request(client_address="127.0.0.10"))
            got_sasl = c.ask(request(sasl_username="alice", sender="alice@lab.test"))
            check_reply("database missing, on_store_error=%s: granted IP" % mode, got_grant, want)
            check_reply("database missing, on_store_error=%s: SASL user" % mode, got_sasl, want)
            if mode == "tempfail":
                extra = [Conn(("127.0.0.1", port)) for _ in range(4)]
                sixth = Conn(("127.0.0.1", port))
                closed, _ = sixth.closed_without_reply()
                result("policyd_max_connections: the connection over the limit is closed", closed,
                       "sixth connection stayed open")
                for e in extra + [sixth]:
                    e.close()
                result("database missing is logged", "cannot open database" in d.logtext(),
                       "no log line")
            c.close()
        finally:
            d.stop()
        # the database appears later: the daemon picks it up (retry)
    return


def case_store_retry(config_dir):
    port = free_port()
    db = os.path.join(WORK, "late.db")
    cfg = os.path.join(config_dir, "late.conf")
    write_config(cfg, db, "inet:127.0.0.1:%d" % port)
    d = Daemon("late", cfg)
    try:
        d.wait_listening(("127.0.0.1", port))
        first = Conn(("127.0.0.1", port)).ask(request(client_address="127.0.0.10"))
        make_db(db)
        add_grant(db, "127.0.0.10", 32, NOW + 3600)
        if RUN_USER:
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.chown(db + suffix, 65534, 65534)
        end = time.time() + 15
        got = None
        while time.time() < end:
            got = Conn(("127.0.0.1", port)).ask(request(client_address="127.0.0.10"))
            if got == "action=OK":
                break
            time.sleep(0.5)
        result("database created after start is opened by the retry",
               first.startswith("action=DEFER_IF_PERMIT") and got == "action=OK",
               "first=%r later=%r" % (first, got))
    finally:
        d.stop()


def case_spawn(config, socketpair):
    reqs = [request(client_address="127.0.0.10"), request(client_address="127.0.0.30"),
            request(sasl_username="bob")]
    want = ["action=OK", "action=DUNNO", "action=REJECT 5.7.1"]
    if socketpair:
        ours, theirs = socket.socketpair()
        p = subprocess.Popen(wrap([POLICYD, "-c", config, "-S"]), stdin=theirs, stdout=theirs,
                             stderr=theirs)   # as spawn(8) does: stderr on the socket too
        procs.append(p)
        theirs.close()
        ours.settimeout(10)
        ours.sendall(b"".join(reqs))
        buf = b""
        while buf.count(b"\n\n") < 3:
            chunk = ours.recv(65536)
            if not chunk:
                break
            buf += chunk
        ours.shutdown(socket.SHUT_WR)
        rest = b""
        try:
            while True:
                chunk = ours.recv(65536)
                if not chunk:
                    break
                rest += chunk
        except socket.timeout:
            pass
        rc = p.wait(10)
        ours.close()
        out = (buf + rest).decode(errors="replace")
        err = ""
    else:
        p = subprocess.Popen(wrap([POLICYD, "-c", config, "-S"]), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(p)
        out, err = p.communicate(b"".join(reqs), timeout=10)
        rc = p.returncode
        out, err = out.decode(errors="replace"), err.decode(errors="replace")
    got = out.split("\n\n")[:-1]
    ok = rc == 0 and len(got) == 3 and all(g.startswith(w) for g, w in zip(got, want)) and \
        out.endswith("\n\n") and err == ""
    how = "socketpair (stderr on the socket)" if socketpair else "pipes"
    result("spawn mode -S over %s: replies only, nothing else, exit 0" % how, ok,
           "rc=%r out=%r err=%r" % (rc, out[:300], err[:300]))


def case_check_mode(config, db):
    r = subprocess.run([POLICYD, "-c", config, "-n"], capture_output=True, text=True)
    result("-n with a good config and database exits 0", r.returncode == 0,
           "rc=%d out=%r err=%r" % (r.returncode, r.stdout, r.stderr))
    bad = os.path.join(WORK, "bad.conf")
    with open(bad, "w") as f:
        f.write("database = %s\nno_such_key = 1\n" % db)
    r = subprocess.run([POLICYD, "-c", bad, "-n"], capture_output=True, text=True)
    result("-n with a bad config exits 78 naming FILE:LINE", r.returncode == 78 and
           ("%s:2:" % bad) in r.stderr, "rc=%d err=%r" % (r.returncode, r.stderr))
    missing = os.path.join(WORK, "missingdb-check.conf")
    write_config(missing, missing_db("nope"), "inet:127.0.0.1:1")
    r = subprocess.run([POLICYD, "-c", missing, "-n"], capture_output=True, text=True)
    result("-n with a missing database exits 78", r.returncode == 78 and "nope" in r.stderr,
           "rc=%d err=%r" % (r.returncode, r.stderr))


def missing_db(name):
    """A database that is not there: a file, or a PostgreSQL database."""
    if PGSQL:
        return "postgresql://authrelay@127.0.0.1:%s/%s" % (os.environ["PG_PORT"], name)
    return os.path.join(WORK, name + ".db")


def ask_until(addr, attrs, want, limit):
    """Seconds until the reply starts with want (-1: not within limit) and the last reply."""
    start = time.time()
    got = None
    while time.time() - start < limit:
        try:
            got = Conn(addr).ask(request(**attrs))
        except OSError as e:
            got = repr(e)
        if got is not None and got.startswith(want):
            return time.time() - start, got
        time.sleep(0.02)
    return -1, got


def case_pg_other_host(addr):
    """A grant written by another host (a psql session) is enforced within a second;
    a revocation too."""
    ip = "127.0.0.40"
    add_grant(None, ip, 32, NOW + 3600)
    took, got = ask_until(addr, {"client_address": ip}, "action=OK", 1.0)
    result("PostgreSQL: a grant written on another connection permits within 1 s (%.0f ms)"
           % (took * 1000), took >= 0, "got %r, want action=OK within 1 s" % got)
    psql("DELETE FROM grants WHERE ip = '%s'" % ip)
    took, got = ask_until(addr, {"client_address": ip}, "action=DUNNO", 1.0)
    result("PostgreSQL: a grant revoked on another connection stops within 1 s (%.0f ms)"
           % (took * 1000), took >= 0, "got %r, want action=DUNNO within 1 s" % got)


def case_pg_auditor():
    """conf-examples/postgresql: the auditors' role reads the five views, nothing else."""
    pw = os.environ["PG_AUDIT_PASSWORD"]
    views = [psql("SELECT count(*) FROM %s" % v, "authrelay_audit", pw, False)
             for v in ("active_grants", "grant_history", "decisions", "admin_log",
                       "limit_usage")]
    table = psql("SELECT count(*) FROM grants", "authrelay_audit", pw, False)
    write = psql("INSERT INTO decision_log (ts, program, verdict) VALUES (1, 'x', 'permit')",
                 "authrelay_audit", pw, False)
    result("PostgreSQL roles of conf-examples: the auditor reads the views, not the tables, "
           "and writes nothing", all(v is not None for v in views) and table is None
           and write is None, "views=%r table=%r insert=%r" % (views, table, write))


def case_pg_audit_queries():
    """authrelayctl audit --query NAME: every ready query runs on PostgreSQL
    (sql/pgsql/audit.sql), on the decisions this suite made."""
    cfg = os.path.join(WORK, "audit.ctl.conf")
    with open(cfg, "w") as f:
        f.write("database = %s\ndatabase_password_file = %s\n"
                % (os.environ["PG_CONNINFO"], os.environ["PG_PASSFILE"]))
    def names_in(path):
        return [l.split(":", 1)[1].strip() for l in open(path) if l.startswith("-- name:")]
    names = names_in(os.path.join(TOP, "sql", "pgsql", "audit.sql"))
    # Every query of sql/audit.sql has its PostgreSQL text.
    missing = sorted(set(names_in(os.path.join(TOP, "sql", "audit.sql"))) - set(names))
    bad = []
    if missing:
        bad.append("queries without a PostgreSQL text: %r, want none" % missing)
    for name in names:
        r = subprocess.run([CTL, "-c", cfg, "audit", "--query", name], capture_output=True,
                           text=True)
        if r.returncode != 0 or r.stderr:
            bad.append("%s: rc=%d %s" % (name, r.returncode, r.stderr.strip()))
    r = subprocess.run([CTL, "-c", cfg, "audit", "--query", "who-relayed"], capture_output=True,
                       text=True)
    result("PostgreSQL: every ready audit query runs (%d)" % len(names),
           names and not bad and "127.0.0.10" in r.stdout,
           "; ".join(bad) or "who-relayed shows no 127.0.0.10: %r" % r.stdout[:300])
    st = subprocess.run([CTL, "-c", cfg, "status"], capture_output=True, text=True)
    ck = subprocess.run([CTL, "-c", cfg, "check"], capture_output=True, text=True)
    result("PostgreSQL: status and check name the server and a current schema",
           "pgsql" in st.stdout and "(current)" in st.stdout and "integrity ok, PostgreSQL 15."
           in ck.stdout, "status=%r check=%r" % (st.stdout[:600], ck.stdout[:600]))


def case_daemon_mode(config_dir, db):
    port = free_port()
    cfg = os.path.join(config_dir, "daemon.conf")
    write_config(cfg, db, "inet:127.0.0.1:%d" % port)
    pidfile = os.path.join(WORK, "policyd.pid")
    r = subprocess.run([POLICYD, "-c", cfg], capture_output=True, text=True, timeout=20)
    pid = None
    end = time.time() + 10
    while time.time() < end and pid is None:
        try:
            pid = int(open(pidfile).read().strip())
        except (OSError, ValueError):
            time.sleep(0.05)
    ok = r.returncode == 0 and pid is not None
    got = None
    if ok:
        try:
            got = Conn(("127.0.0.1", port)).ask(request(client_address="127.0.0.10"))
            status = open("/proc/%d/status" % pid).read()
            uid_line = [l for l in status.splitlines() if l.startswith("Uid:")][0]
            dropped = not RUN_USER or uid_line.split()[1] == "65534"
        finally:
            os.kill(pid, signal.SIGTERM)
        end = time.time() + 10
        while time.time() < end and os.path.exists("/proc/%d" % pid):
            time.sleep(0.05)
        gone = not os.path.exists("/proc/%d" % pid)
        ok = got == "action=OK" and dropped and gone and not os.path.exists(pidfile)
        result("daemon mode: detach, pidfile, privilege drop, SIGTERM removes the pidfile", ok,
               "got=%r dropped=%s gone=%s pidfile left=%s" % (got, dropped, gone, os.path.exists(pidfile)))
    else:
        result("daemon mode: detach, pidfile, privilege drop, SIGTERM removes the pidfile", False,
               "rc=%d pid=%r err=%r" % (r.returncode, pid, r.stderr))


def case_unix_and_ipv6(config_dir, db):
    sock = os.path.join(WORK, "policy.sock")
    cfg = os.path.join(config_dir, "unix.conf")
    write_config(cfg, db, "unix:%s" % sock, "policyd_socket_mode = 0660\n")
    d = Daemon("unix", cfg)
    try:
        d.wait_listening(sock, socket.AF_UNIX)
        got = Conn(sock, socket.AF_UNIX).ask(request(client_address="127.0.0.10"))
        mode = os.stat(sock).st_mode & 0o777
        result("unix:PATH listener (mode 0660)", got == "action=OK" and mode == 0o660,
               "got=%r mode=%o" % (got, mode))
    finally:
        d.stop()
    try:
        port = free_port(socket.AF_INET6, "::1")
    except OSError:
        result("inet:[::1]:PORT listener (skipped: no IPv6 loopback)", True)
        return
    cfg = os.path.join(config_dir, "v6.conf")
    write_config(cfg, db, "inet:[::1]:%d" % port)
    d = Daemon("v6", cfg)
    try:
        d.wait_listening(("::1", port), socket.AF_INET6)
        got = Conn(("::1", port), socket.AF_INET6).ask(request(client_address="::1"))
        result("inet:[::1]:PORT listener", got == "action=OK", "got=%r" % got)
    finally:
        d.stop()


def main():
    if RUN_USER:
        os.chown(WORK, 65534, 65534)
    db = os.environ["PG_CONNINFO"] if PGSQL else os.path.join(WORK, "authrelay.db")
    make_db(db)
    setup_data(db)
    if RUN_USER:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.chown(db + suffix, 65534, 65534)
    port = free_port()
    listen = "inet:127.0.0.1:%d" % port
    addr = ("127.0.0.1", port)
    config = os.path.join(WORK, "policyd.conf")
    write_config(config, db, listen)
    d = Daemon("main", config)
    try:
        d.wait_listening(addr)
        run_rule_cases(addr)
        case_keepalive(addr)
        case_pipelined(addr)
        case_slow_reader(addr)
        case_malformed(addr, d)
        case_stall(addr)
        case_many(addr)
        case_idle_timeout(addr)
        case_trickle(addr)
        case_decision_rows(db)
        case_reload(addr, d, config, db, listen)
        if PGSQL:
            case_pg_other_host(addr)
            case_pg_auditor()
            case_pg_audit_queries()
            # a table locked 10 s and the server stopped, then started:
            # tests/faults/pg_locked.sh and pg_stopped.sh (policyd and milter)
        case_sigterm(addr, d)
    finally:
        d.stop()
    case_spawn(config, socketpair=False)
    case_spawn(config, socketpair=True)
    case_check_mode(config, db)
    case_store_unavailable(WORK)
    if PGSQL:
        skip("a database created after the start", "SQLite only (a file that appears)")
    else:
        case_store_retry(WORK)      # an SQLite file created after the start
    case_daemon_mode(WORK, db)
    case_unix_and_ipv6(WORK, db)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import limits_cases
    limits_cases.case_limits(sys.modules[__name__])
    if VALGRIND:
        logs = [n for n in os.listdir(WORK) if n.startswith("valgrind.")]
        bad = [n for n in logs if open(os.path.join(WORK, n)).read().strip()]
        result("valgrind: %d policyd processes without errors or leaks" % len(logs),
               logs and not bad, "".join(open(os.path.join(WORK, n)).read() for n in bad)[:3000])


try:
    main()
except Exception as e:  # a crash of the harness is a failure, not a silent pass
    import traceback
    traceback.print_exc()
    result("harness completed", False, repr(e))
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    print("%d passed, %d failed" % (cases.passed, cases.failed))
    sys.exit(1 if cases.failed else 0)

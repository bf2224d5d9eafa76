"""limits_cases.py -- sending limits through authrelay-policyd (issue 15).

Imported by policy_test.py, which passes itself as `t` (its helpers:
Daemon, Conn, request, result, check_reply, sql, make_db, add_grant,
write_config, free_port). Each case is a step of one story against one
database, so the order is part of the table: counters carry over.

    limit_recipients = 5/1h, limit_messages = 3/1h (the defaults)
    limit_suspend_after = 3 within limit_suspend_window = 1d

Then 50 connections at once for one user, split over two policyd
processes on the same database: never more than the limit through.

With AUTHRELAY_BACKEND=pgsql the same story runs against the suite's
PostgreSQL (the two policyd processes then stand for two MX hosts sharing
it); the rows that psql returns are text, hence num()."""

import os
import subprocess
import threading
import time

FPR = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"


def data(**attrs):
    return dict(attrs, protocol_state="DATA", recipient="")


SASL = {"sasl_username": "alice", "sasl_method": "PLAIN", "sender": "alice@lab.test"}
EVE = {"sasl_username": "eve", "sasl_method": "PLAIN", "sender": "eve@lab.test"}
POPUSER = {"client_address": "127.0.0.10"}    # grant with user popuser
NOUSER = {"client_address": "127.0.0.12"}     # grant without a user
CERT = {"ccert_fingerprint": FPR, "encryption_protocol": "TLSv1.3"}
TRUSTED = {"client_address": "127.0.0.70"}
DAVE = {"sasl_username": "dave", "sender": "dave@lab.test"}

# label, attributes, wanted reply prefix
STORY = [
    ("RCPT of a user under her limits", dict(SASL), "action=OK"),
    ("DATA with 3 recipients: counted, no opinion", data(recipient_count="3", **SASL),
     "action=DUNNO"),
    ("DATA with 3 more: would cross 5/1h, refused before the body",
     data(recipient_count="3", **SASL), "action=450 4.7.1 sending limit: this message's 3 recipients"),
    ("the refused message counted nothing: RCPT still OK", dict(SASL), "action=OK"),
    ("DATA with 2: exactly reaching 5/1h is allowed", data(recipient_count="2", **SASL),
     "action=DUNNO"),
    ("RCPT of a user at her limit: 450 4.7.1 naming it", dict(SASL),
     "action=450 4.7.1 sending limit reached: alice may send to 5 recipients per 1h (5 used)"),
    ("a grant's user is counted by the grant's user", data(recipient_count="5", **POPUSER),
     "action=DUNNO"),
    ("RCPT names the grant's user", dict(POPUSER),
     "action=450 4.7.1 sending limit reached: popuser may send to 5 recipients"),
    ("a grant without a user is counted by its IP", data(recipient_count="6", **NOUSER),
     "action=450 4.7.1 sending limit: this message's 6 recipients would pass 127.0.0.12's"),
    ("a certificate's user is counted", data(recipient_count="6", **CERT),
     "action=450 4.7.1 sending limit: this message's 6 recipients would pass carol's"),
    ("trusted networks are not limited", data(recipient_count="100", **TRUSTED), "action=DUNNO"),
    ("an unauthenticated client is not counted", data(recipient_count="100",
                                                       client_address="127.0.0.30"), "action=DUNNO"),
    ("messages: 3/1h, three one-recipient messages", data(recipient_count="1", **DAVE),
     "action=DUNNO"),
    ("messages: second", data(recipient_count="1", **DAVE), "action=DUNNO"),
    ("messages: third", data(recipient_count="1", **DAVE), "action=DUNNO"),
    ("messages: the fourth RCPT is refused, naming the message limit", dict(DAVE),
     "action=450 4.7.1 sending limit reached: dave may send 3 messages per 1h (3 used)"),
]

# eve: 6 recipients cross 5/1h; limit_suspend_after = 3
SUSPEND = [
    ("eve's first refusal", data(recipient_count="6", **EVE), "action=450 4.7.1 "),
    ("eve's second refusal", data(recipient_count="6", **EVE), "action=450 4.7.1 "),
    ("eve's third refusal suspends her", data(recipient_count="6", **EVE), "action=450 4.7.1 "),
    ("eve suspended: 5.7.1 from now on", dict(EVE), "action=REJECT 5.7.1 user eve is"),
    ("eve suspended: DATA has nothing to add (relay is refused per RCPT)",
     data(recipient_count="1", **EVE), "action=DUNNO"),
]


def num(rows):
    """The first column of the first row as a number (SQLite gives ints,
    psql text); None when there is no row."""
    return int(rows[0][0]) if rows and rows[0][0] not in (None, "") else None


def ctl(t, cfg, *args):
    r = subprocess.run([t.CTL, "-c", cfg] + list(args), capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def soon(t, label, addr, attrs, want):
    """A change made by authrelayctl: at once on SQLite (one file); on
    PostgreSQL the daemon learns it by NOTIFY, within a second. Asked once
    after that second, not polled: each refused attempt would count
    towards limit_suspend_after."""
    if t.PGSQL:
        time.sleep(1.0)
        label += " (PostgreSQL: asked 1 s later)"
    t.check_reply(label, t.Conn(addr).ask(t.request(**attrs)), want)


def ask_all(t, addr, steps):
    c = t.Conn(addr)
    for label, attrs, want in steps:
        t.check_reply("limits: " + label, c.ask(t.request(**attrs)), want)
    c.close()


def concurrency(t, addrs, db, cfg, conns=50, tries=10, limit=100):
    """conns connections at once, split over the daemons, each sending
    tries one-recipient messages for mallory (limit recipients)."""
    rc, out = ctl(t, cfg, "limit", "set", "mallory", "--recipients", "%d/1h" % limit,
                  "--messages", "100000/1h")
    t.result("limits: limit set mallory (no restart)", rc == 0, out)
    through = []
    errors = []
    barrier = threading.Barrier(conns)

    def worker(i):
        n = 0
        try:
            c = t.Conn(addrs[i % len(addrs)])
            barrier.wait(10)
            for _ in range(tries):
                got = c.ask(t.request(sasl_username="mallory", recipient_count="1",
                                      protocol_state="DATA", sender="m@lab.test"))
                if got == "action=DUNNO":
                    n += 1
                elif not (got or "").startswith("action=450 4.7.1 "):
                    errors.append(got)
            c.close()
        except Exception as e:  # counted as a failure below
            errors.append(repr(e))
        through.append(n)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(conns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    total = sum(through)
    used = t.sql(db, "SELECT used FROM limit_usage WHERE username = 'mallory' AND kind = 'recipients'")
    print("# concurrency: %d connections over %d policyd processes, %d messages tried, "
          "%d let through, limit %d, limit_usage.used %s, other replies %d"
          % (conns, len(addrs), conns * tries, total, limit, used, len(errors)))
    t.result("limits: %d connections x %d messages for one user over %d daemons: exactly "
             "%d through" % (conns, tries, len(addrs), limit),
             total == limit and not errors and num(used) == limit,
             "through=%d errors=%r used=%r" % (total, errors[:3], used))


def uncounted(t, addr, db):
    """SQLite: policyd writes a batch's counts at its end and answers the
    DATA requests it counted only then. A count the batch cannot write
    (a trigger refuses alice's rows) turns the held DUNNO into
    on_store_error, with its decision row; nothing is counted. Without
    the trigger the next message is counted and gets DUNNO."""
    def used():
        return num(t.sql(db, "SELECT used FROM limit_usage WHERE username = 'alice' "
                             "AND kind = 'messages'")) or 0
    before = used()
    t.sql(db, "CREATE TRIGGER boom BEFORE INSERT ON limit_counts "
              "WHEN NEW.subject = 'alice' BEGIN SELECT RAISE(ABORT, 'boom'); END")
    try:
        t.check_reply("limits: a count its batch could not write: on_store_error, not DUNNO",
                      t.Conn(addr).ask(t.request(**data(recipient_count="1", **SASL))),
                      "action=DEFER_IF_PERMIT 4.3.0 relay database lookup failed (limit "
                      "counters not committed)")
    finally:
        t.sql(db, "DROP TRIGGER boom")
    t.result("limits: ...and nothing was counted", used() == before,
             "used %r, want %r" % (used(), before))
    t.check_reply("limits: the next message is counted: DUNNO",
                  t.Conn(addr).ask(t.request(**data(recipient_count="1", **SASL))),
                  "action=DUNNO")
    t.result("limits: ...and counted", used() == before + 1,
             "used %r, want %r" % (used(), before + 1))
    end = time.time() + 8
    rows = []
    while time.time() < end:
        rows = t.sql(db, "SELECT verdict, recipient, reason FROM decisions "
                         "WHERE sasl_username = 'alice' AND rule = 'store_error' "
                         "AND reason LIKE '%not committed%'")
        if rows:
            break
        time.sleep(0.2)
    t.result("limits: the uncounted message is a decisions row (tempfail store_error)",
             len(rows) == 1 and rows[0][0] == "tempfail" and rows[0][1] == "", repr(rows))


def owner_sql(t, text):
    """A schema change the daemons' role may not make: as the owner."""
    if t.PGSQL:
        return t.psql(text, "authrelay_owner",
                      open(os.environ["PG_OWNER_PASSFILE"]).read().strip())
    return t.sql(os.path.join(t.WORK, "limits.db"), text)


def case_limits(t):
    db = os.environ["PG_CONNINFO"] if t.PGSQL else os.path.join(t.WORK, "limits.db")
    t.make_db(db)
    # PostgreSQL: the suite's one database, where earlier cases left grants.
    t.sql(db, "DELETE FROM grants WHERE ip IN ('127.0.0.10', '127.0.0.12')")
    t.add_grant(db, "127.0.0.10", 32, t.NOW + 3600)
    t.add_grant(db, "127.0.0.12", 32, t.NOW + 3600)
    t.sql(db, "UPDATE grants SET username = 'popuser' WHERE ip = '127.0.0.10'")
    t.sql(db, "UPDATE grants SET username = '' WHERE ip = '127.0.0.12'")
    for user in ("alice", "eve", "dave", "mallory"):
        # PostgreSQL's sender_rights refers to users (the SQLite schema
        # does not enforce it); the earlier cases may have made either.
        t.sql(db, "INSERT INTO users (username, suspended, changed) VALUES (?, 0, ?) "
                  "ON CONFLICT (username) DO NOTHING", (user, t.NOW))
        t.sql(db, "INSERT INTO sender_rights (username, pattern, added) VALUES (?, '*', ?) "
                  "ON CONFLICT (username, pattern) DO NOTHING", (user, t.NOW))
    t.sql(db, "INSERT INTO certs (fingerprint, pubkey_fingerprint, username, added) "
              "VALUES (?, '00', 'carol', ?) ON CONFLICT (fingerprint) DO NOTHING", (FPR, t.NOW))
    if t.RUN_USER:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.chown(db + suffix, 65534, 65534)
    extra = ("limit_recipients = 5/1h\nlimit_messages = 3/1h\nlimit_suspend_after = 3\n"
             "limit_suspend_window = 1d\n")
    ports = [t.free_port(), t.free_port()]
    cfgs = []
    daemons = []
    try:
        for i, port in enumerate(ports):
            cfg = os.path.join(t.WORK, "limits-%d.conf" % i)
            t.write_config(cfg, db, "inet:127.0.0.1:%d" % port, extra)
            cfgs.append(cfg)
            d = t.Daemon("limits-%d" % i, cfg)
            daemons.append(d)
            d.wait_listening(("127.0.0.1", port))
        addr = ("127.0.0.1", ports[0])
        ask_all(t, addr, STORY)
        ask_all(t, addr, SUSPEND)
        time.sleep(0.5)
        rows = t.sql(db, "SELECT actor, action, detail FROM admin_log WHERE subject = 'eve'")
        t.result("limits: the suspension is in admin_log with the daemon as actor",
                 len(rows) == 1 and rows[0][0] == "authrelay-policyd"
                 and rows[0][1] == "user suspend" and "limit_suspend_after = 3" in rows[0][2],
                 repr(rows))
        t.result("limits: a syslog warning names the suspended user",
                 "warning: user eve suspended" in daemons[0].logtext(),
                 daemons[0].logtext()[-500:])
        # run-time changes, no restart: most specific wins
        rc, out = ctl(t, cfgs[0], "limit", "set", "alice", "--recipients", "100/1h")
        t.result("limits: limit set alice 100/1h", rc == 0, out)
        soon(t, "limits: alice's own limit applies at once", addr, SASL, "action=OK")
        rc, out = ctl(t, cfgs[0], "limit", "set", "dave", "--messages", "unlimited")
        soon(t, "limits: unlimited exempts dave at once", addr, DAVE, "action=OK")
        # a store error on the limit path follows on_store_error
        owner_sql(t, "ALTER TABLE limit_counts RENAME TO limit_counts_broken")
        t.check_reply("limits: a store error on the limit path gives on_store_error",
                      t.Conn(addr).ask(t.request(**data(recipient_count="1", **SASL))),
                      "action=DEFER_IF_PERMIT 4.3.0 ")
        owner_sql(t, "ALTER TABLE limit_counts_broken RENAME TO limit_counts")
        if not t.PGSQL:
            uncounted(t, addr, db)
        # the decision rows
        end = time.time() + 8
        rows = []
        while time.time() < end:
            rows = t.sql(db, "SELECT count(*) FROM decisions WHERE verdict = 'tempfail' "
                             "AND rule = 'rate_limit'")
            if num(rows) >= 9:
                break
            time.sleep(0.2)
        t.result("limits: every refusal is a decisions row, verdict tempfail rule rate_limit",
                 num(rows) == 9, "rows %r, want 9" % rows)
        # Concurrency: the same database, two fresh daemons without
        # limit_suspend_after (a suspension would end the race early).
        for d in daemons:
            d.stop()
        daemons = []
        for i, port in enumerate(ports):
            t.write_config(cfgs[i], db, "inet:127.0.0.1:%d" % port, "limit_recipients = 5/1h\n")
            d = t.Daemon("limits-race-%d" % i, cfgs[i])
            daemons.append(d)
            d.wait_listening(("127.0.0.1", port))
        concurrency(t, [("127.0.0.1", p) for p in ports], db, cfgs[0])
    finally:
        for d in daemons:
            d.stop()

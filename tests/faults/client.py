#!/usr/bin/python3
"""client.py - the fault tests' load and probe client (policy and milter).

NAME
    client.py - speak the Postfix policy protocol or the milter protocol
SUMMARY
    client.py policy PORT --ip IP [--n N] [--conns C] [--rcpt-prefix P] [--pace MS]
    client.py milter PORT --ip IP [--n N] [--conns C] [--rcpt-prefix P] [--pace MS]
    client.py storm PORT --ip IP [--idle 1000] [--seconds S] [--garbage G]
DESCRIPTION
    policy and milter send N relay requests (RCPT of a remote recipient
    from client IP), spread over C concurrent connections, and print one
    summary line (--pace MS: each connection waits MS milliseconds after
    each reply, so a run can span a fault of known length; the times
    measured are the replies' only):

        sent=N answered=A errors=E max_ms=X p50_ms=Y p99_ms=Z verdicts=V:n,...

    (max_ms a whole number of milliseconds, p50 and p99 with two decimals)

    A verdict is the policy action word (OK, DUNNO, DEFER_IF_PERMIT,
    REJECT) or the milter reply ("continue", "451", "554", "tempfail",
    ...). An error is a connection refused, closed or timed out (each is
    counted, the run goes on), so a dead daemon shows up as errors, never
    as a hang. Recipients are numbered (P0@example.org ...) so the test
    can count decision rows.

    storm holds IDLE connections open, runs a slowloris client (one byte
    a second, never finishing a request) and G garbage-flooding clients
    for S seconds, while one legitimate client sends a request every
    0.1 s and measures each reply; it prints the summary line of the
    legitimate client plus idle_accepted=K and idle_still_open=K' (idle
    connections connected, and still open at the end) garbage_closed=G (how many garbage connections the
    server closed), garbage_answered (a request that parsed by chance
    was answered and the connection kept) and garbage_not_closed=H (no
    answer and still open 2 s after the garbage was sent).

    Only loopback addresses: the daemon is reached on 127.0.0.1.
"""
import argparse
import os
import random
import socket
import struct
import threading
import time

HOST = "127.0.0.1"
TIMEOUT = 15.0


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = 0
        self.errors = 0
        self.lat = []
        self.verdicts = {}
        self.error_kinds = {}

    def add(self, verdict, ms):
        with self.lock:
            self.lat.append(ms)
            self.verdicts[verdict] = self.verdicts.get(verdict, 0) + 1

    def error(self, why):
        with self.lock:
            self.errors += 1
            self.error_kinds[why] = self.error_kinds.get(why, 0) + 1

    def line(self):
        lat = sorted(self.lat)

        def pct(p):
            if not lat:
                return 0
            return lat[min(len(lat) - 1, int(len(lat) * p))]

        v = ",".join("%s:%d" % (k, self.verdicts[k]) for k in sorted(self.verdicts))
        e = ",".join("%s:%d" % (k, self.error_kinds[k]) for k in sorted(self.error_kinds))
        return "sent=%d answered=%d errors=%d max_ms=%d p50_ms=%.2f p99_ms=%.2f verdicts=%s%s" % (
            self.sent, len(lat), self.errors, lat[-1] if lat else 0, pct(0.5), pct(0.99),
            v or "-", (" error_kinds=" + e) if e else "")


# ---- policy protocol ----

def policy_request(ip, rcpt, n):
    return ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
            "client_address=%s\nclient_name=unknown\nhelo_name=client.test\n"
            "sender=someone@client.test\nrecipient=%s\nqueue_id=\n"
            "instance=fault.%d\nsize=0\n\n" % (ip, rcpt, n)).encode()


def read_until(sock, end, buf=b""):
    while end not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
        if len(buf) > 65536:
            raise ConnectionError("reply too long")
    return buf


def policy_one(sock, ip, rcpt, n):
    sock.sendall(policy_request(ip, rcpt, n))
    reply = read_until(sock, b"\n\n").decode(errors="replace")
    action = reply.split("\n", 1)[0]
    if not action.startswith("action="):
        raise ConnectionError("bad reply")
    return action[len("action="):].split(" ", 1)[0]


def connect(port):
    s = socket.create_connection((HOST, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    # several small writes per request: without this, Nagle and the
    # peer's delayed ACK add ~40 ms to the measured latency
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def run_policy(args, stats, worker, count):
    sock = None
    for i in range(count):
        n = worker * 1000000 + i
        rcpt = "%s%d@example.org" % (args.rcpt_prefix, n)
        with stats.lock:
            stats.sent += 1
        t0 = time.monotonic()
        try:
            if sock is None:
                sock = connect(args.port)
            verdict = policy_one(sock, args.ip, rcpt, n)
            stats.add(verdict, (time.monotonic() - t0) * 1000)
            if args.pace:
                time.sleep(args.pace / 1000)
        except (OSError, ConnectionError) as e:
            stats.error(type(e).__name__ if not isinstance(e, ConnectionError) or not e.args
                        else str(e.args[0]).replace(" ", "_"))
            if sock is not None:
                sock.close()
            sock = None
            time.sleep(0.01)
    if sock is not None:
        sock.close()


# ---- milter protocol (version 6) ----

SMFIP_NR_CONN, SMFIP_NR_MAIL, SMFIP_NR_RCPT = 0x1000, 0x4000, 0x8000
SMFIP_NOCONNECT, SMFIP_NOMAIL, SMFIP_NORCPT = 0x1, 0x4, 0x8


def mpacket(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def mread(sock):
    hdr = b""
    while len(hdr) < 4:
        c = sock.recv(4 - len(hdr))
        if not c:
            raise ConnectionError("closed")
        hdr += c
    (length,) = struct.unpack(">I", hdr)
    if length < 1 or length > 1 << 20:
        raise ConnectionError("bad_length")
    data = b""
    while len(data) < length:
        c = sock.recv(length - len(data))
        if not c:
            raise ConnectionError("closed")
        data += c
    return data[:1], data[1:]


def mreply(sock):
    while True:
        cmd, data = mread(sock)
        if cmd != b"p":  # progress: keep waiting
            return cmd, data


def mverdict(cmd, data):
    names = {b"c": "continue", b"a": "accept", b"r": "reject", b"t": "tempfail",
             b"d": "discard"}
    if cmd == b"y":
        return data[:3].decode(errors="replace")
    return names.get(cmd, "cmd_" + cmd.decode(errors="replace"))


def milter_session(port, ip, rcpt):
    sock = connect(port)
    try:
        sock.sendall(mpacket(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF)))
        cmd, data = mread(sock)
        if cmd != b"O" or len(data) < 12:
            raise ConnectionError("bad_optneg")
        _, _, pflags = struct.unpack(">III", data[:12])
        if not pflags & SMFIP_NOCONNECT:
            sock.sendall(mpacket(b"D", b"C" + b"j\0mx.test\0_\0client.test [%s]\0" % ip.encode()))
            sock.sendall(mpacket(b"C", b"client.test\0" + b"4" + struct.pack(">H", 40000)
                                 + ip.encode() + b"\0"))
            if not pflags & SMFIP_NR_CONN:
                cmd, data = mreply(sock)
                if cmd != b"c":
                    return "connect_" + mverdict(cmd, data)
        if not pflags & SMFIP_NOMAIL:
            sock.sendall(mpacket(b"M", b"<someone@client.test>\0"))
            if not pflags & SMFIP_NR_MAIL:
                cmd, data = mreply(sock)
                if cmd != b"c":
                    return "mail_" + mverdict(cmd, data)
        sock.sendall(mpacket(b"D", b"R{rcpt_mailer}\0smtp\0{rcpt_addr}\0" + rcpt.encode() + b"\0"))
        sock.sendall(mpacket(b"R", b"<" + rcpt.encode() + b">\0"))
        if pflags & SMFIP_NR_RCPT:
            return "noreply"
        cmd, data = mreply(sock)
        sock.sendall(mpacket(b"A"))
        sock.sendall(mpacket(b"Q"))
        return mverdict(cmd, data)
    finally:
        sock.close()


def run_milter(args, stats, worker, count):
    for i in range(count):
        n = worker * 1000000 + i
        rcpt = "%s%d@example.org" % (args.rcpt_prefix, n)
        with stats.lock:
            stats.sent += 1
        t0 = time.monotonic()
        try:
            verdict = milter_session(args.port, args.ip, rcpt)
            stats.add(verdict, (time.monotonic() - t0) * 1000)
            if args.pace:
                time.sleep(args.pace / 1000)
        except (OSError, ConnectionError) as e:
            stats.error(type(e).__name__ if not isinstance(e, ConnectionError) or not e.args
                        else str(e.args[0]).replace(" ", "_"))
            time.sleep(0.01)


def run_load(args, fn):
    stats = Stats()
    per = [args.n // args.conns + (1 if w < args.n % args.conns else 0)
           for w in range(args.conns)]
    threads = [threading.Thread(target=fn, args=(args, stats, w, per[w]))
               for w in range(args.conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(stats.line(), flush=True)


# ---- storm: idle connections, slowloris, garbage, one legit client ----

def storm(args):
    stop = threading.Event()
    idle = []
    garbage_closed = [0]
    garbage_timeout = [0]
    garbage_answered = [0]
    lock = threading.Lock()

    for _ in range(args.idle):
        try:
            s = socket.create_connection((HOST, args.port), timeout=5)
            idle.append(s)
        except OSError:
            break

    def slowloris():
        try:
            s = connect(args.port)
            req = policy_request(args.ip, "slow@example.org", 0)
            i = 0
            while not stop.is_set() and i < len(req) - 1:  # never the final LF
                s.send(req[i:i + 1])
                i += 1
                stop.wait(1.0)
            s.close()
        except OSError:
            pass

    def garbage(seed):
        rnd = random.Random(seed)
        while not stop.is_set():
            try:
                s = connect(args.port)
                s.settimeout(2)
                kind = rnd.randrange(4)
                if kind == 0:  # random bytes, ended like a request
                    blob = os.urandom(rnd.randrange(1, 65536)) + b"\n\n"
                elif kind == 1:
                    blob = b"x" * 200000 + b"\n\n"  # an overlong line
                elif kind == 2:
                    blob = b"".join(b"a%d=b\n" % k for k in range(5000)) + b"\n"
                else:
                    blob = b"request=smtpd_access_policy\nclient_address=\0\n\n" * 50
                got = b""
                try:
                    s.sendall(blob)
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += chunk
                    with lock:
                        garbage_closed[0] += 1
                except socket.timeout:
                    # answered (a request that happened to parse) and
                    # kept open, as for any client: fine; silent: not
                    with lock:
                        if got:
                            garbage_answered[0] += 1
                        else:
                            garbage_timeout[0] += 1
                except OSError:  # reset by the server: closed too
                    with lock:
                        garbage_closed[0] += 1
                s.close()
            except OSError:
                stop.wait(0.01)

    threads = [threading.Thread(target=slowloris)]
    threads += [threading.Thread(target=garbage, args=(k,)) for k in range(args.garbage)]
    for t in threads:
        t.start()
    stats = Stats()
    sock = None
    end = time.monotonic() + args.seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        with stats.lock:
            stats.sent += 1
        t0 = time.monotonic()
        try:
            if sock is None:
                sock = connect(args.port)
            verdict = policy_one(sock, args.ip, "%s%d@example.org" % (args.rcpt_prefix, n), n)
            stats.add(verdict, (time.monotonic() - t0) * 1000)
        except (OSError, ConnectionError) as e:
            stats.error(type(e).__name__)
            if sock is not None:
                sock.close()
            sock = None
        time.sleep(0.1)
    # the idle connections: still open (the server has not closed them)?
    still = 0
    for s in idle:
        s.setblocking(False)
        try:
            s.recv(1)  # b"" or data: closed, or the server spoke
        except BlockingIOError:
            still += 1
        except OSError:
            pass
    stop.set()
    for t in threads:
        t.join()
    for s in idle:
        s.close()
    if sock is not None:
        sock.close()
    print("%s idle_accepted=%d idle_still_open=%d garbage_closed=%d garbage_answered=%d "
          "garbage_not_closed=%d" % (stats.line(), len(idle), still, garbage_closed[0],
                                     garbage_answered[0], garbage_timeout[0]),
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["policy", "milter", "storm"])
    ap.add_argument("port", type=int)
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--n", type=int, default=1)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--rcpt-prefix", default="r")
    ap.add_argument("--pace", type=float, default=0)
    ap.add_argument("--idle", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--garbage", type=int, default=4)
    args = ap.parse_args()
    if args.mode == "policy":
        run_load(args, run_policy)
    elif args.mode == "milter":
        run_load(args, run_milter)
    else:
        storm(args)


if __name__ == "__main__":
    main()

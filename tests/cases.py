"""cases.py -- what the Python test scripts share (tests/protocol,
tests/metrics): one line per case ("ok - LABEL" or "FAIL - LABEL: got X,
want Y", or "skip - LABEL: WHY" for one that does not apply), the counts behind the closing "N passed, M failed" line, and a
free loopback port.
"""
import socket
import sys

passed = 0
failed = 0


def result(label, ok, detail=""):
    """One case's line; counted in passed or failed."""
    global passed, failed
    if ok:
        passed += 1
        print("ok - %s" % label)
    else:
        failed += 1
        print("FAIL - %s: %s" % (label, detail))
    sys.stdout.flush()


def skip(label, why):
    """A case that does not apply here, and why; counted in neither."""
    print("skip - %s: %s" % (label, why))
    sys.stdout.flush()


def check_eq(label, got, want):
    result(label, got == want, "got %r, want %r" % (got, want))


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A port free on host now (the kernel's choice, released again)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port

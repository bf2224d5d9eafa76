#!/bin/sh
# deps.sh -- install the Debian packages that the build, the tests, the
# benchmarks and the demo use.  A no-op when every package is present;
# otherwise `apt-get update` once, then `apt-get install -y`.  As root it
# also makes sure Sendmail is unpacked for tests/sendmail
# (tools/sendmail-cache.sh: downloaded once, never installed).
# Package services are kept from starting system-wide (policy-rc.d), since
# the tests start their own private Postfix and Dovecot.
#
# deps.sh --deb installs only what `make deb` and `make deb-check` need:
# the build dependencies of debian/control, debhelper, lintian and blhc
# (the build-log hardening check), sqlite3 (the test reads the database
# the package leaves). It installs no mail server and leaves policy-rc.d
# alone: it may run on a real server.
set -eu
BUILD_PKGS="build-essential pkg-config check libsqlite3-dev libssl-dev
      libmilter-dev libsasl2-dev libsystemd-dev libmicrohttpd-dev libjansson-dev libpq-dev"
if [ "${1:-}" = --deb ]; then
    PKGS="$BUILD_PKGS dpkg-dev debhelper lintian blhc sqlite3"
    mode=deb
else
    PKGS="$BUILD_PKGS sqlite3 openssl miltertest libsasl2-modules sasl2-bin
      postfix dovecot-imapd dovecot-pop3d swaks curl
      clang libclang-rt-14-dev valgrind python3 iproute2 procps bc logrotate systemd-journal-remote
      postgresql-15 prometheus chromium m4 libdb5.3 libldap-2.5-0 libnsl2 libwrap0 libsasl2-2 libssl3"
    mode=tests
fi
# tests/sendmail runs Debian's Sendmail unpacked, never installed (that would
# remove Postfix): sendmail-cache.sh fetches it once, as root; not for --deb.
sendmail_cache() {
    [ "$mode" = tests ] && [ "$(id -u)" = 0 ] || return 0
    sh "$(dirname "$0")/sendmail-cache.sh" >/dev/null
}
missing=""
for p in $PKGS; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -z "$missing" ]; then
    sendmail_cache
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$missing (run 'make deps' as root)" >&2
    exit 1
fi
echo "deps: installing$missing"
if [ "$mode" = tests ]; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
    fi
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing
sendmail_cache

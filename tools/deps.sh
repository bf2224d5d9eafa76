#!/bin/sh
# deps.sh -- install the Debian packages that the build, the tests, the
# benchmarks and the demo use.  A no-op when every package is present;
# otherwise `apt-get update` once, then `apt-get install -y`.
# Package services are kept from starting system-wide (policy-rc.d), since
# the tests start their own private Postfix and Dovecot.
set -eu
PKGS="build-essential pkg-config check libsqlite3-dev sqlite3 libssl-dev openssl
      libmilter-dev miltertest libsasl2-dev libsasl2-modules sasl2-bin
      libsystemd-dev libmicrohttpd-dev libjansson-dev postfix dovecot-imapd dovecot-pop3d swaks curl
      clang libclang-rt-14-dev valgrind python3 iproute2 procps bc logrotate systemd-journal-remote"
missing=""
for p in $PKGS; do
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps: missing Debian packages:$missing (run 'make deps' as root)" >&2
    exit 1
fi
echo "deps: installing$missing"
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing

#!/bin/sh
# sendmail-cache.sh -- Debian 12's Sendmail, unpacked (not installed), for
# tests/sendmail.  Installing the sendmail package would remove Postfix; the
# unpacked binary and cf macros run beside it from a private directory.
#
#   sh tools/sendmail-cache.sh        prints the cache directory (ROOT/usr/...)
#
# The cache is AUTHRELAY_SENDMAIL_CACHE (default
# /var/cache/authrelay-tests/sendmail).  When it is missing, root fetches
# sendmail-bin, sendmail-cf and sendmail-base with `apt-get download` (after
# `apt-get update` if apt has no lists yet) and unpacks them with
# `dpkg-deb -x`.  A half-made cache is never seen: it is built under a
# temporary name and renamed into place; a concurrent run that lost the race
# drops its copy.
set -eu
dir=${AUTHRELAY_SENDMAIL_CACHE:-/var/cache/authrelay-tests/sendmail}
ready() {
    [ -x "$dir/root/usr/libexec/sendmail/sendmail" ] &&
        [ -f "$dir/root/usr/share/sendmail/cf/m4/cf.m4" ]
}
if ready; then
    echo "$dir"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "sendmail-cache: $dir is missing (run 'make deps' as root)" >&2
    exit 1
fi
mkdir -p "$(dirname "$dir")"
tmp=$(mktemp -d "$dir.new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt's sandbox user _apt must be able to write the downloads
chmod 0755 "$tmp"
mkdir "$tmp/debs" "$tmp/root"
chown _apt "$tmp/debs" 2>/dev/null || true
fetch() { (cd "$tmp/debs" && apt-get download -q sendmail-bin sendmail-cf sendmail-base) >&2; }
if ! fetch; then
    apt-get update -q >&2
    fetch
fi
for deb in "$tmp"/debs/*.deb; do
    dpkg-deb -x "$deb" "$tmp/root"
done
rm -rf "$tmp/debs"
if ! mv -T "$tmp" "$dir" 2>/dev/null; then
    ready || { echo "sendmail-cache: cannot create $dir" >&2; exit 1; }
fi
trap - EXIT
echo "$dir"

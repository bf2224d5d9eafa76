#!/bin/bash
# tests/deb/run.sh -- the Debian package, from build to purge, on this machine.
#
# Builds build/authrelay_VERSION_ARCH.deb (tools/deb-build.sh) and checks:
# the version agrees with the Makefile; lintian reports no error and no
# warning, and every informational tag it keeps is explained in
# debian/README.Debian; blhc finds every hardening flag on every compile
# and link line; readelf finds them in the programs. Then, as root, with
# apt-get: install (files, owners, modes, conffile, the user, the state
# directory, the database, the units and which are enabled, authrelayctl
# check, the postconf lines printed, Postfix's files untouched); upgrade to
# a rebuilt package with a higher version and one more migration (the
# database is migrated and keeps its rows, an edited conffile survives, the
# milter the admin enabled stays enabled); remove (configuration and
# database stay); purge (nothing of authrelay is left but the user, no
# unit stays enabled). At the end the machine is as it was: the user is
# deleted if this test created it, kept if it existed before.
#
# Refuses to run (exit 2) when authrelay is installed, or /etc/authrelay or
# /var/lib/authrelay exist: it would purge a real installation.
# Prints one line per check, the lintian output and the apt transcripts,
# and "N passed, M failed"; exits non-zero on any failure.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${AUTHRELAY_BUILD:-$ROOT/build}
APT=(apt-get -y -q -o DPkg::Lock::Timeout=300)
export DEBIAN_FRONTEND=noninteractive

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1: $2"; }
# want LABEL GOT WANT
want() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "got '$2', want '$3'"; fi; }
# transcript TITLE FILE: show what a step printed (without dpkg's progress)
transcript() {
	echo "---- $1"
	sed -E -e 's/\(Reading database \.\.\. ([0-9]+%)?//g' -e 's/^/     | /' "$2"
}
pkg_status() { dpkg-query -W -f '${Status}' authrelay 2>/dev/null || echo "not-installed"; }
# stat_of PATH: "owner:group mode type", or "absent"
stat_of() { stat -c '%U:%G %a %F' "$1" 2>/dev/null || echo absent; }
# traces: every path named *authrelay* in the system directories (in /run
# only the daemons' own directory: other test suites keep theirs there)
traces() {
	{
		find /etc /usr /var \( -path /var/tmp -o -path /var/log -o -path /var/cache \) \
			-prune -o -name '*authrelay*' -print 2>/dev/null
		find /run/authrelay 2>/dev/null
	} | sort
}
# drop_user: delete the authrelay user and group this test created. A test
# suite running beside this one may have started daemons as authrelay
# while the user existed: wait until none runs (never kill one), and try
# again when another starts between the look and userdel. Gives up after
# 5 minutes.
drop_user() {
	local i
	for ((i = 0; i < 300; i++)); do
		getent passwd authrelay >/dev/null || break
		if pgrep -u authrelay >/dev/null; then
			[ $((i % 30)) = 0 ] &&
				echo "     waiting for processes running as authrelay: $(pgrep -u authrelay | xargs)"
		elif userdel authrelay 2>"$T/userdel"; then
			break
		fi
		sleep 1
	done
	if getent group authrelay >/dev/null; then
		groupdel authrelay
	fi
}
postfix_sums() { md5sum /etc/postfix/main.cf /etc/postfix/master.cf 2>/dev/null; }

if [ "$(id -u)" != 0 ]; then
	echo "tests/deb: must run as root (it installs and purges the package)" >&2
	exit 2
fi
for p in /etc/authrelay /var/lib/authrelay; do
	if [ -e "$p" ]; then
		echo "tests/deb: $p exists; refusing to install and purge the package over it" >&2
		exit 2
	fi
done
if [ "$(pkg_status)" != not-installed ]; then
	echo "tests/deb: authrelay is installed ($(pkg_status)); refusing" >&2
	exit 2
fi

T=$(mktemp -d /tmp/authrelay-deb.XXXXXX)
chmod 0755 "$T" # apt's _apt user reads the .deb files from here
user_before=$(getent passwd authrelay || true)
group_before=$(getent group authrelay || true)
traces >"$T/traces.before"
postfix_sums >"$T/postfix.before"

cleanup() {
	if [ "$(pkg_status)" != not-installed ]; then
		"${APT[@]}" purge authrelay >/dev/null 2>&1
	fi
	if [ -z "$user_before$group_before" ]; then
		drop_user
	fi
	rm -rf "$T"
}
trap cleanup EXIT

VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
ARCH=$(dpkg --print-architecture)
DEB_VERSION=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
want "debian/changelog agrees with the Makefile VERSION" "$DEB_VERSION" "$VERSION"

# ---- build
git -C "$ROOT" status --porcelain >"$T/git.before" 2>&1
start=$(date +%s)
if bash "$ROOT/tools/deb-build.sh" "$ROOT" "$BUILD" >"$T/build.out" 2>&1; then
	ok "make deb built in $(($(date +%s) - start)) s"
else
	bad "make deb" "tools/deb-build.sh failed"
	tail -30 "$T/build.out"
	echo "$pass passed, $((fail)) failed"
	exit 1
fi
DEB=$BUILD/authrelay_${VERSION}_$ARCH.deb
want "the package is $DEB" "$(ls "$DEB" 2>/dev/null)" "$DEB"
want "the build changed nothing in the source tree (git status)" \
	"$(git -C "$ROOT" status --porcelain 2>&1)" "$(cat "$T/git.before")"

# ---- lintian and blhc
# as nobody, as lintian asks, on a copy that nobody can read
mkdir "$T/lint"
cp "$BUILD"/authrelay*_"${VERSION}_$ARCH".{deb,buildinfo,changes} "$T/lint/"
chmod -R a+rX "$T/lint"
# (from the copy's directory: a checkout under a 0700 directory, such as
# /root, is no working directory that nobody may stay in)
(cd "$T/lint" && runuser -u nobody -- lintian -i -I -E --pedantic --fail-on error,warning \
	"$T/lint/authrelay_${VERSION}_$ARCH.changes") >"$T/lintian" 2>&1
rc=$?
transcript "lintian -i -I -E --pedantic (the tags; -i adds their explanations)" \
	<(grep -v '^N:' "$T/lintian")
want "lintian: no error, no warning (exit status, tags)" "$rc $(grep -cE '^[EW]: ' "$T/lintian")" "0 0"
sed -n 's/^[IPX]: [^ ]* \([a-z0-9.+-]*\).*/\1/p' "$T/lintian" | sort -u >"$T/tags"
while read -r tag; do
	if grep -q -- "$tag" "$ROOT/debian/README.Debian"; then
		ok "lintian info tag $tag is explained in debian/README.Debian"
	else
		bad "lintian info tag $tag" "not explained in debian/README.Debian"
	fi
done <"$T/tags"
if blhc --debian --all "$BUILD/authrelay_${VERSION}_$ARCH.build" >"$T/blhc" 2>&1; then
	ok "blhc: every compile and link line has the hardening flags"
else
	bad "blhc" "$(head -3 "$T/blhc")"
fi
mkdir "$T/x"
dpkg-deb -x "$DEB" "$T/x"
for prog in authrelay-policyd authrelay-milter authrelay-loginwatch authrelayctl; do
	f=$T/x/usr/sbin/$prog
	got=""
	readelf -h "$f" | grep -q 'Type:.*DYN' && got="$got pie"
	readelf -lW "$f" | grep -q GNU_RELRO && got="$got relro"
	readelf -d "$f" | grep -q BIND_NOW && got="$got bindnow"
	readelf --dyn-syms -W "$f" | grep -q __stack_chk_fail && got="$got stack-protector"
	readelf --dyn-syms -W "$f" | grep -qE '__[a-z0-9_]+_chk@' && got="$got fortify"
	want "$prog hardened (readelf)" "$got" " pie relro bindnow stack-protector fortify"
done

# ---- the upgrade's package, built before anything is installed so that
# the authrelay user exists for as short a time as possible: the same
# tree, a higher version, one more migration
latest=$((10#$(find "$ROOT/sql" -name '[0-9][0-9][0-9]-*.sql' -printf '%f\n' | sort | tail -1 | cut -c1-3)))
next=$(printf '%03d' $((latest + 1)))
V2=$VERSION+debtest1
mkdir "$T/src"
tar -C "$ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$T/src" -xf -
cat >"$T/src/sql/$next-deb-upgrade-test.sql" <<'EOF'
-- A migration that only the upgrade test's package has.
CREATE TABLE deb_upgrade_test (id INTEGER PRIMARY KEY);
EOF
{
	printf 'authrelay (%s) unstable; urgency=medium\n\n' "$V2"
	printf '  * Rebuilt by tests/deb/run.sh with one more migration: the upgrade test.\n\n'
	printf ' -- authrelay developers <dev@authrelay.invalid>  %s\n\n' "$(date -R)"
	cat "$ROOT/debian/changelog"
} >"$T/src/debian/changelog"
if DEB_BUILD_OPTIONS=nocheck bash "$ROOT/tools/deb-build.sh" "$T/src" "$T/out2" >"$T/build2.out" 2>&1; then
	ok "rebuilt as $V2"
else
	bad "rebuild as $V2" "$(tail -5 "$T/build2.out")"
fi

# ---- install
cp "$DEB" "$T/"
"${APT[@]}" install "$T/$(basename "$DEB")" >"$T/install.out" 2>&1
transcript "apt-get install ./$(basename "$DEB")" "$T/install.out"
want "installed" "$(dpkg-query -W -f '${Status} ${Version}' authrelay)" \
	"install ok installed $VERSION"
# the postconf lines printed are the README's, word for word
for key in smtpd_relay_restrictions smtpd_policy_service_timeout; do
	line=$(grep -m1 "postconf -e '$key" "$ROOT/README.md" | sed 's/^ *//')
	if [ -n "$line" ] && grep -qF -- "$line" "$T/install.out" &&
		grep -qF -- "$line" "$ROOT/debian/README.Debian"; then
		ok "install printed the README's postconf line for $key"
	else
		bad "postconf line for $key" "not printed as in README.md and README.Debian: $line"
	fi
done
want "Postfix's main.cf and master.cf untouched" "$(postfix_sums)" "$(cat "$T/postfix.before")"

# path, owner:group mode type
while read -r path want_stat; do
	want "$path" "$(stat_of "$path")" "$want_stat"
done <<EOF
/usr/sbin/authrelay-policyd root:root 755 regular file
/usr/sbin/authrelay-milter root:root 755 regular file
/usr/sbin/authrelay-loginwatch root:root 755 regular file
/usr/sbin/authrelayctl root:root 755 regular file
/usr/share/man/man8/authrelay-policyd.8.gz root:root 644 regular file
/usr/share/man/man8/authrelay-milter.8.gz root:root 644 regular file
/usr/share/man/man8/authrelay-loginwatch.8.gz root:root 644 regular file
/usr/share/man/man8/authrelayctl.8.gz root:root 644 regular file
/usr/share/man/man5/authrelay.conf.5.gz root:root 644 regular file
/etc/authrelay/authrelay.conf root:root 644 regular file
/usr/share/doc/authrelay/examples/authrelay.conf root:root 644 regular file
/usr/share/doc/authrelay/examples/postfix/main.cf.policyd root:root 644 regular file
/usr/share/doc/authrelay/examples/systemd/authrelay-policyd.service root:root 644 regular file
/lib/systemd/system/authrelay-policyd.service root:root 644 regular file
/lib/systemd/system/authrelay-milter.service root:root 644 regular file
/lib/systemd/system/authrelay-loginwatch.service root:root 644 regular file
/var/lib/authrelay authrelay:authrelay 750 directory
/var/lib/authrelay/authrelay.db authrelay:authrelay 640 regular file
EOF
for f in "$ROOT"/sql/*.sql; do
	want "/usr/share/authrelay/sql/${f##*/}" "$(cmp -s "$f" "/usr/share/authrelay/sql/${f##*/}" && echo same)" same
done
want "/etc/authrelay/authrelay.conf is the example" \
	"$(cmp -s "$ROOT/conf-examples/authrelay.conf" /etc/authrelay/authrelay.conf && echo same)" same
want "README.Debian installed" "$(find /usr/share/doc/authrelay -name 'README.Debian*' | wc -l)" 1
want "conffiles" "$(dpkg-query -W -f '${Conffiles}' authrelay | awk 'NF {print $1}')" \
	"/etc/authrelay/authrelay.conf"

IFS=: read -r _ _ uid gid _ home shell <<<"$(getent passwd authrelay)"
want "user authrelay: a system account" "$([ "${uid:-99999}" -lt 1000 ] && echo system)" system
want "user authrelay: home and shell" "$home $shell" "/var/lib/authrelay /usr/sbin/nologin"
want "user authrelay: group authrelay" "$(getent group "$gid" | cut -d: -f1)" authrelay

for unit in authrelay-policyd authrelay-milter authrelay-loginwatch; do
	f=/lib/systemd/system/$unit.service
	want "$unit.service runs /usr/sbin/$unit" \
		"$(sed -n 's/^Exec\(Start\|StartPre\)=\([^ ]*\).*/\2/p' "$f" | sort -u)" "/usr/sbin/$unit"
	want "$unit.service names no /usr/local path" "$(grep -c /usr/local "$f")" 0
	# the package installs the manual pages of Documentation= too
	out=$(systemd-analyze verify "$f" 2>&1)
	want "$unit.service: systemd-analyze verify" "$out" ""
done
link=/etc/systemd/system/multi-user.target.wants
want "authrelay-policyd enabled" "$(readlink "$link/authrelay-policyd.service")" \
	/lib/systemd/system/authrelay-policyd.service
want "authrelay-milter left disabled" "$(stat_of "$link/authrelay-milter.service")" absent
want "authrelay-loginwatch left disabled" "$(stat_of "$link/authrelay-loginwatch.service")" absent
UNITS="authrelay-policyd authrelay-milter authrelay-loginwatch"
# shellcheck disable=SC2086
want "systemctl is-enabled $UNITS" "$(systemctl is-enabled $UNITS 2>&1 | xargs)" \
	"enabled disabled disabled"

authrelayctl check >"$T/check" 2>&1
rc=$?
transcript "authrelayctl check" "$T/check"
want "authrelayctl check exits 0" "$rc" 0
grep -q "schema version $latest (this build: $latest)" "$T/check"
want "database at schema version $latest" "$?" 0
# What the unit's ExecStartPre does, as root: must leave nothing owned by root
authrelay-policyd -n >"$T/n" 2>&1
want "authrelay-policyd -n exits 0" "$?" 0
want "nothing in /var/lib/authrelay owned by root" \
	"$(find /var/lib/authrelay ! -user authrelay | head -3)" ""
authrelayctl sender allow deb-check@example.org deb-check@example.org >/dev/null 2>&1
want "a rule written before the upgrade" "$(authrelayctl sender list deb-check@example.org 2>&1 | grep -c deb-check@example.org)" 1

# ---- upgrade, after the admin enabled the milter
systemctl enable authrelay-milter >/dev/null 2>&1
printf '# edited by tests/deb\nlog_level = debug\n' >>/etc/authrelay/authrelay.conf
conf_sum=$(md5sum </etc/authrelay/authrelay.conf)
cp "$T/out2/authrelay_${V2}_$ARCH.deb" "$T/"
"${APT[@]}" install "$T/authrelay_${V2}_$ARCH.deb" >"$T/upgrade.out" 2>&1
transcript "apt-get install ./authrelay_${V2}_$ARCH.deb (upgrade)" "$T/upgrade.out"
want "upgraded" "$(dpkg-query -W -f '${Status} ${Version}' authrelay)" "install ok installed $V2"
want "the edited conffile survived" "$(md5sum </etc/authrelay/authrelay.conf)" "$conf_sum"
want "no .dpkg-dist or .dpkg-new beside it" "$(ls /etc/authrelay)" authrelay.conf
want "no postconf notice on upgrade" "$(grep -c 'postconf -e' "$T/upgrade.out")" 0
authrelayctl check >"$T/check2" 2>&1
want "authrelayctl check exits 0 after the upgrade" "$?" 0
grep -q "schema version $((10#$next)) (this build: $((10#$next)))" "$T/check2"
want "database migrated to schema version $((10#$next))" "$?" 0
want "the new migration's table" "$(sqlite3 /var/lib/authrelay/authrelay.db \
	"SELECT count(*) FROM sqlite_master WHERE name = 'deb_upgrade_test'")" 1
want "the rule survived the upgrade" "$(authrelayctl sender list deb-check@example.org 2>&1 | grep -c deb-check@example.org)" 1
want "init ran on install and on upgrade" "$(sqlite3 /var/lib/authrelay/authrelay.db \
	"SELECT count(*) FROM admin_log WHERE action = 'init'")" 2
want "authrelay-policyd still enabled" "$(stat_of "$link/authrelay-policyd.service" | cut -d' ' -f3-)" "symbolic link"
# shellcheck disable=SC2086
want "after the upgrade, systemctl is-enabled $UNITS" "$(systemctl is-enabled $UNITS 2>&1 | xargs)" \
	"enabled enabled disabled"

# ---- remove: configuration and database stay
"${APT[@]}" remove authrelay >"$T/remove.out" 2>&1
transcript "apt-get remove authrelay" "$T/remove.out"
want "removed, configuration kept" "$(pkg_status)" "deinstall ok config-files"
want "programs gone" "$(find /usr/sbin -name '*authrelay*' | wc -l)" 0
want "units gone" "$(find /lib/systemd/system/ -name '*authrelay*' | wc -l)" 0
want "conffile kept, with the edit" "$(md5sum </etc/authrelay/authrelay.conf 2>&1)" "$conf_sum"
want "database kept" "$(stat_of /var/lib/authrelay/authrelay.db)" "authrelay:authrelay 640 regular file"
want "its rows too" "$(sqlite3 /var/lib/authrelay/authrelay.db \
	"SELECT count(*) FROM sender_rights WHERE pattern = 'deb-check@example.org'" 2>&1)" 1

# ---- purge: nothing left but the user
"${APT[@]}" purge authrelay >"$T/purge.out" 2>&1
transcript "apt-get purge authrelay" "$T/purge.out"
want "purged" "$(pkg_status)" not-installed
want "/etc/authrelay gone" "$(stat_of /etc/authrelay)" absent
want "/var/lib/authrelay gone" "$(stat_of /var/lib/authrelay)" absent
want "no unit enabled any more" "$(find /etc/systemd/system -name 'authrelay*')" ""
traces >"$T/traces.after"
want "the paths named *authrelay* are those before the install" \
	"$(cat "$T/traces.after")" "$(cat "$T/traces.before")"
want "the user stays after purge" "$(getent passwd authrelay | cut -d: -f1)" authrelay
want "Postfix's main.cf and master.cf still untouched" "$(postfix_sums)" "$(cat "$T/postfix.before")"

# ---- the machine as it was
if [ -z "$user_before$group_before" ]; then
	drop_user
fi
want "user authrelay as before the test" "$(getent passwd authrelay || true)" "$user_before"
want "group authrelay as before the test" "$(getent group authrelay || true)" "$group_before"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

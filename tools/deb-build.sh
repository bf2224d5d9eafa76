#!/bin/bash
# deb-build.sh -- build the Debian package of a source tree, in a copy.
#
#   tools/deb-build.sh SRCDIR OUTDIR
#
# Copies the files of SRCDIR that git knows (tracked, and new files not
# ignored; the whole tree but build/ and .git where there is no git) to a
# work directory under OUTDIR, runs `dpkg-buildpackage -us -uc -b` there,
# and moves the results to OUTDIR: authrelay_VERSION_ARCH.deb, the -dbgsym
# package, .buildinfo, .changes, and the build log (.build). SRCDIR is
# never written to. Refuses when debian/changelog's version does not
# start with the Makefile's VERSION (a "+suffix" is allowed: rebuilds).
set -euo pipefail

src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
makever=$(sed -n 's/^VERSION *:= *//p' "$src/Makefile")
case "$version" in
"$makever" | "$makever"+*) ;;
*)
	echo "deb-build: debian/changelog says $version, the Makefile VERSION is $makever:" \
		"add a debian/changelog entry for $makever" >&2
	exit 1
	;;
esac
arch=$(dpkg --print-architecture)

work=$(mktemp -d "$out/deb-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/authrelay-$version
mkdir "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		tar --null --ignore-failed-read -T - -cf -) | tar -C "$tree" -xf -
else
	tar -C "$src" --exclude=./build --exclude=./.git -cf - . | tar -C "$tree" -xf -
fi

# A make that runs us passes its command-line variables and jobserver in
# MAKEFLAGS: they would override debian/rules' own. Flags from the
# environment would replace dpkg-buildflags' hardening flags (dh only sets
# what is unset): add to them with DEB_CFLAGS_APPEND and friends instead.
unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS CPPFLAGS LDFLAGS CXXFLAGS
log=$out/authrelay_${version}_$arch.build
echo "deb-build: dpkg-buildpackage -us -uc -b in $tree (log: $log)"
(cd "$tree" && dpkg-buildpackage -us -uc -b -Jauto) 2>&1 | tee "$log"

for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
	mv -f "$f" "$out/"
done
echo "deb-build: $out/authrelay_${version}_$arch.deb"

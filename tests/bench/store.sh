#!/bin/bash
# store.sh -- store lookup latency and decision writer throughput
# (tests/bench/bench_store.c, built here against $AUTHRELAY_BUILD/libauthrelay.a).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${AUTHRELAY_BUILD:-$PWD/build}
tmp=$(mktemp -d /tmp/bench_store.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -Ilib -o "$tmp/bench_store" tests/bench/bench_store.c \
    "$build/libauthrelay.a" $(pkg-config --libs sqlite3 libpq) -pthread
"$tmp/bench_store" "$tmp"

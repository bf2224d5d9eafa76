#!/usr/bin/env bash
# tests/fuzz/run.sh -- build and run the libFuzzer targets.
#
#   bash tests/fuzz/run.sh            smoke: each target FUZZ_SMOKE_SECONDS (10)
#                                     after replaying its corpus (make check)
#   bash tests/fuzz/run.sh --long     each target FUZZ_SECONDS (600) (make fuzz)
#   bash tests/fuzz/run.sh --long fuzz_cfg   one target
#
# Targets are tests/fuzz/fuzz_*.c, built with clang and
# -fsanitize=fuzzer,address,undefined against every lib/*.c and every
# program folder's modules (main.c excepted). Seeds live in
# tests/fuzz/corpus/<target>/; every crash ever found is kept there as a
# regression input, so the replay step re-checks it on every run.
# A finding is written to build/fuzz/crash-* and fails the run.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/build/fuzz
MODE=smoke
[ "${1:-}" = "--long" ] && { MODE=long; shift; }
ONLY=("$@")
SECONDS_EACH=${FUZZ_SMOKE_SECONDS:-10}
[ "$MODE" = long ] && SECONDS_EACH=${FUZZ_SECONDS:-600}

CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (make deps installs clang)"; exit 1; }
PKGS="sqlite3 libssl libcrypto libsasl2 libmicrohttpd jansson libpq"
DEFS="-D_GNU_SOURCE -DAUTHRELAY_VERSION=\"fuzz\" -DAUTHRELAY_SYSCONFDIR=\"/etc\" $(pkg-config --cflags libpq)"
CFLAGS="-g -O1 -std=c11 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
mkdir -p "$OUT/obj/gen"

# Objects, rebuilt only when their source is newer.
sh tools/embed-sql.sh $(ls sql/[0-9][0-9][0-9]-*.sql 2>/dev/null | sort) > "$OUT/obj/gen/sql_migrations.c.tmp"
cmp -s "$OUT/obj/gen/sql_migrations.c.tmp" "$OUT/obj/gen/sql_migrations.c" 2>/dev/null ||
    mv "$OUT/obj/gen/sql_migrations.c.tmp" "$OUT/obj/gen/sql_migrations.c"
sh tools/embed-sql.sh --table sql_pg_migrations $(ls sql/pgsql/[0-9][0-9][0-9]-*.sql | sort) \
    > "$OUT/obj/gen/sql_pg_migrations.c.tmp"
cmp -s "$OUT/obj/gen/sql_pg_migrations.c.tmp" "$OUT/obj/gen/sql_pg_migrations.c" 2>/dev/null ||
    mv "$OUT/obj/gen/sql_pg_migrations.c.tmp" "$OUT/obj/gen/sql_pg_migrations.c"
# The named queries' texts, which each store backend holds (store_query_named()).
for t in sql_audit_text:sql/audit.sql sql_pg_audit_text:sql/pgsql/audit.sql \
         sql_report_text:sql/report.sql; do
    sh tools/embed-sql.sh --text "${t%%:*}" "${t#*:}" > "$OUT/obj/gen/${t%%:*}.c.tmp"
    cmp -s "$OUT/obj/gen/${t%%:*}.c.tmp" "$OUT/obj/gen/${t%%:*}.c" 2>/dev/null ||
        mv "$OUT/obj/gen/${t%%:*}.c.tmp" "$OUT/obj/gen/${t%%:*}.c"
done
build_archive() {	# name sources...
    local name=$1 objs=() src obj; shift
    for src in "$@"; do
        obj=$OUT/obj/${src%.c}.o
        mkdir -p "$(dirname "$obj")"
        if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find lib "$(dirname "$src")" -name '*.h' -newer "$obj" 2>/dev/null | head -1)" ]; then
            # shellcheck disable=SC2086
            $CC $DEFS -Ilib -I"$(dirname "$src")" $CFLAGS -c -o "$obj" "$src" || return 1
        fi
        objs+=("$obj")
    done
    rm -f "$OUT/$name.a"
    [ ${#objs[@]} -gt 0 ] && ar rcs "$OUT/$name.a" "${objs[@]}"
    return 0
}
build_archive lib lib/*.c "$OUT/obj/gen/sql_migrations.c" "$OUT/obj/gen/sql_pg_migrations.c" \
    "$OUT/obj/gen/sql_audit_text.c" "$OUT/obj/gen/sql_pg_audit_text.c" \
    "$OUT/obj/gen/sql_report_text.c" || { echo "fuzz: building lib failed"; exit 1; }
ARCHIVES=()
INCS="-Ilib"
for d in policyd milter popbeforesmtp ctl; do
    srcs=()
    for f in "$d"/*.c; do [ -e "$f" ] && [ "$(basename "$f")" != main.c ] && srcs+=("$f"); done
    [ ${#srcs[@]} -gt 0 ] || continue
    build_archive "$d" "${srcs[@]}" || { echo "fuzz: building $d failed"; exit 1; }
    ARCHIVES+=("$OUT/$d.a")
    INCS="$INCS -I$d"
done

pass=0; fail=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    if [ ${#ONLY[@]} -gt 0 ] && [[ ! " ${ONLY[*]} " == *" $name "* ]]; then continue; fi
    bin=$OUT/$name
    # shellcheck disable=SC2086
    if ! $CC $DEFS $INCS -Itests/fuzz $CFLAGS -fsanitize=fuzzer -o "$bin" "$src" \
            "${ARCHIVES[@]}" "$OUT/lib.a" $(pkg-config --libs $PKGS) -lmilter -pthread 2> "$OUT/$name.build.log"; then
        echo "FAIL $name: does not build"; tail -20 "$OUT/$name.build.log"
        fail=$((fail + 1)); continue
    fi
    seeds=tests/fuzz/corpus/$name
    work=$OUT/corpus-$name
    mkdir -p "$seeds" "$work"
    # 1. Replay every kept input (seeds and past crashes) once.
    if ls "$seeds"/* >/dev/null 2>&1; then
        if ! "$bin" -runs=0 "$seeds" > "$OUT/$name.replay.log" 2>&1; then
            echo "FAIL $name: a corpus input fails"; tail -30 "$OUT/$name.replay.log"
            fail=$((fail + 1)); continue
        fi
    fi
    # 2. Fuzz for a while from the seeds.
    "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$OUT/crash-$name-" "$work" "$seeds" \
        > "$OUT/$name.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 execs in \2 s/p' "$OUT/$name.log" | tail -1)
    if [ $rc = 0 ]; then
        echo "ok   $name: ${runs:-?}"
        pass=$((pass + 1))
    else
        echo "FAIL $name (exit $rc): finding in $OUT/crash-$name-*"; grep -m5 -E 'ERROR|property failed|SUMMARY' "$OUT/$name.log"
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

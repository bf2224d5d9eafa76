#!/bin/sh
# run-unit.sh -- run every Check unit binary given; print each suite's
# summary and a closing "N passed, N failed" line (suites, not cases).
# Exit 1 if any suite failed.
pass=0; fail=0; failed=""
for t in "$@"; do
    if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); failed="$failed $t"; fi
done
[ -n "$failed" ] && echo "unit suites failed:$failed"
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ]

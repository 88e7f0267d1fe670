#!/usr/bin/env bash
# run.sh -- run every test: the unit binary, then each tests/cli/*.sh.
# Every test prints one line "PASS name", "FAIL name" or "SKIP name: why";
# a script that exits non-zero without printing FAIL counts as one failure.
# Ends with "N passed, N failed, N skipped"; exits 1 when anything failed.
# Usage: tests/run.sh [FILTER]   (FILTER is passed to the unit binary and
# selects CLI scripts whose name contains it)
set -u
cd "$(dirname "$0")/.."
export MULLAMA_BIN=${MULLAMA_BIN:-$PWD/mullama}
export MULLAMA_TESTBIN=${MULLAMA_TESTBIN:-$PWD/tests/mullama-test}
export LC_ALL=C.UTF-8
filter=${1:-}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
extra_fail=0

run_one() { # label, command...
        local label=$1; shift
        local rc=0
        "$@" 2>&1 | tee -a "$out" || true
        rc=${PIPESTATUS[0]}
        if [ "$rc" -ne 0 ] && ! grep -q "^FAIL " <(tail -n 200 "$out"); then
                echo "FAIL $label (exit $rc)" | tee -a "$out"
        fi
}

if [ -n "$filter" ]; then run_one unit "$MULLAMA_TESTBIN" "$filter"
else run_one unit "$MULLAMA_TESTBIN"; fi

for t in tests/cli/*.sh; do
        [ -e "$t" ] || continue
        case "$t" in *lib.sh) continue ;; esac
        if [ -n "$filter" ] && [[ "$t" != *"$filter"* ]]; then continue; fi
        run_one "$t" bash "$t"
done

pass=$(grep -c '^PASS ' "$out")
fail=$(grep -c '^FAIL ' "$out")
skip=$(grep -c '^SKIP ' "$out")
if [ "$fail" -gt 0 ]; then echo; echo "failures:"; grep '^FAIL ' "$out"; fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

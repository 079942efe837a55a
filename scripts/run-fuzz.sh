#!/bin/bash
# Build the libFuzzer targets with clang (+ASan/UBSan) and run each for a
# bounded time from the committed seed corpus.  TAP output.
set -u
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
B=build-fuzz
if [ ! -f $B/build.ninja ]; then
        CC=clang meson setup $B -Dfuzz=true -Dtests=false -Dfortify=false \
                -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || { echo "not ok 1 - fuzz build (meson)"; exit 1; }
fi
ninja -C $B >/dev/null || { echo "not ok 1 - fuzz build"; exit 1; }
n=0 rc=0
for target in $B/tests/fuzz/fuzz-*; do
        [ -f "$target" ] && [ -x "$target" ] || continue
        name=$(basename "$target")
        corpus=tests/fuzz/corpus/${name#fuzz-}
        work=$(mktemp -d "${TMPDIR:-/tmp}/rempart-fuzz.XXXXXX")
        cp -r "$corpus"/. "$work"/ 2>/dev/null || true
        n=$((n + 1))
        if "$target" -max_total_time="$SECONDS_PER_TARGET" -max_len=8192 -timeout=10 -print_final_stats=1 "$work" >"$work.log" 2>&1; then
                echo "ok $n - fuzz/$name ($(grep -a -o 'stat::number_of_executed_units: [0-9]*' "$work.log" | tail -1 | awk '{print $2}') runs, coverage $(grep -a -o 'cov: [0-9]*' "$work.log" | tail -1 | awk '{print $2}') edges, $(ls "$work" | wc -l) corpus entries)"
        else
                echo "not ok $n - fuzz/$name"
                tail -n 40 "$work.log"
                rc=1
        fi
        rm -rf "$work" "$work.log"
done
[ $n -gt 0 ] || { echo "not ok 1 - no fuzz targets built"; exit 1; }
exit $rc

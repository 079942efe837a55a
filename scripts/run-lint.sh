#!/bin/bash
# Static analysis of the project's C sources: clang-tidy (checks in
# .clang-tidy, compile flags from the build's compile_commands.json) and
# cppcheck.  TAP output, one line per tool.
set -u
cd "$(dirname "$0")/.."
BUILD=${1:-build}
mapfile -t SRCS < <(git ls-files 'src/*.c' 'tests/*.c' 'bench/*.c' 2>/dev/null || find src tests bench -name '*.c')
# clang-tidy needs compile flags: take the files the build compiles.
mapfile -t TIDY_SRCS < <(python3 -c 'import json,os,sys; print("\n".join(sorted({os.path.relpath(os.path.join(e["directory"], e["file"])) for e in json.load(open(sys.argv[1]))})))' "$BUILD/compile_commands.json")
n=0 rc=0
n=$((n + 1))
# gcc's -ftrivial-auto-var-init=zero needs an opt-in flag in clang 14.
if clang-tidy -p "$BUILD" --quiet --extra-arg=-enable-trivial-auto-var-init-zero-knowing-it-will-be-removed-from-clang \
        "${TIDY_SRCS[@]}" >"$BUILD/clang-tidy.log" 2>&1; then
        echo "ok $n - lint/clang-tidy (${#TIDY_SRCS[@]} files)"
else
        echo "not ok $n - lint/clang-tidy"
        grep -E 'warning:|error:' "$BUILD/clang-tidy.log" | head -40
        rc=1
fi
n=$((n + 1))
if cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance --inline-suppr \
        --std=c11 -D_GNU_SOURCE -Isrc/lib -Isrc/jail --suppress=missingIncludeSystem \
        "${SRCS[@]}" >"$BUILD/cppcheck.log" 2>&1; then
        echo "ok $n - lint/cppcheck (${#SRCS[@]} files)"
else
        echo "not ok $n - lint/cppcheck"
        head -40 "$BUILD/cppcheck.log"
        rc=1
fi
exit $rc

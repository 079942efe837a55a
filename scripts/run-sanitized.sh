#!/bin/bash
# ASan+UBSan build of everything; run the unit and host integration tiers
# with it.  _FORTIFY_SOURCE is off here (it conflicts with ASan's interceptors).
set -u -o pipefail
cd "$(dirname "$0")/.."
B=build-asan
if [ ! -f $B/build.ninja ]; then
        meson setup $B -Db_sanitize=address,undefined -Dfortify=false -Dbuildtype=debug >/dev/null ||
                { echo "not ok 1 - sanitizer build (meson)"; exit 1; }
fi
ninja -C $B >/dev/null || { echo "not ok 1 - sanitizer build"; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
rc=0
./scripts/run-unit.sh $B | sed -E 's/^((not )?ok [0-9]+) - /\1 - asan\//' || rc=1
./tests/host/run-host-tests.sh $B | sed -E 's/^((not )?ok [0-9]+) - /\1 - asan\//' || rc=1
exit $rc

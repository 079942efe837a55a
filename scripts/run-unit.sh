#!/bin/bash
# Run every cmocka unit test of a build directory, as TAP.
set -u
BUILD=${1:-build}
export CMOCKA_MESSAGE_OUTPUT=TAP
rc=0
for t in "$BUILD"/tests/unit/test-*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        echo "# $(basename "$t")"
        # cmocka numbers from 1 in every binary; prefix names with the binary.
        "$t" 2>&1 | sed -E "s/^((not )?ok [0-9]+) - /\1 - $(basename "$t")\//" || rc=1
done
exit $rc

#!/bin/bash
# Host tier: the levels' isolation matrix (tests/levels/run-level-matrix.sh),
# run as a process of its own (it starts levels, servers and their cleanup
# trap) with its TAP lines renumbered into this tier's as host/levels/...
# Sourced by run-host-tests.sh; can also run alone: test-levels.sh BUILD_DIR.
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_LEVELS=1
fi

lv_run() {
        local line rest seen=0 rc

        while IFS= read -r line; do
                case "$line" in
                "ok "[0-9]*" # SKIP"* | "ok "[0-9]*" # skip"*)
                        rest=${line#ok * - }
                        rh_skip "${rest%% # *}" "${line#* # SKIP }"
                        seen=1
                        ;;
                "ok "[0-9]*)
                        rh_ok "${line#ok * - }"
                        seen=1
                        ;;
                "not ok "[0-9]*" # TODO"*)
                        # A known gap, on record but not counted as a failure.
                        RH_N=$((RH_N + 1))
                        echo "not ok $RH_N - host/${line#not ok * - }"
                        seen=1
                        ;;
                "not ok "[0-9]*)
                        rest=${line#not ok * - }
                        rh_fail "${rest%% *}" "${rest#* }"
                        seen=1
                        ;;
                "#"*) echo "$line" ;;
                "Bail out!"*) rh_fail levels/run "$line" ;;
                esac
        done < <(timeout -k 5 900 "$(dirname "${BASH_SOURCE[0]}")/../levels/run-level-matrix.sh" "$BUILD" 2>&1)
        rc=$?
        [ "$seen" = 1 ] || rh_fail levels/run "the matrix printed no result"
        return "$rc"
}
lv_run

if [ -n "${RH_STANDALONE_LEVELS:-}" ]; then
        rh_finish
fi

#!/bin/bash
# The whole Rempart test suite: every tier, one summary line at the end.
#   unit (cmocka) -> host integration (root) -> escape battery (host)
#   -> VM tiers (QEMU, Debian trixie kernel: jail, rempart-init)
#   -> e2e (the system image under OVMF Secure Boot) -> image build errors
#   -> ASan+UBSan build of unit+host
#   -> clang-tidy, cppcheck -> libFuzzer targets (bounded time)
# Every tier prints TAP ("ok N - name" / "not ok N - name"); this script
# counts them and ends with "N passed, N failed, N skipped".
# Environment: REMPART_CACHE (downloads, default ~/.cache/rempart),
# FUZZ_SECONDS (default 30 per target), SKIP_VM=1, SKIP_E2E=1, SKIP_SANITIZE=1, SKIP_LINT=1.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGDIR=${LOGDIR:-$ROOT/build-logs}
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"
PASSED=0 FAILED=0 SKIPPED=0
FAILED_NAMES=()

# Count TAP lines of one tier's log.
count_tap() {
        local tier=$1 log=$2 line
        while IFS= read -r line; do
                case "$line" in
                "ok "*"# SKIP"* | "ok "*"# skip"*) SKIPPED=$((SKIPPED + 1)) ;;
                "ok "*) PASSED=$((PASSED + 1)) ;;
                "not ok "*"# TODO"* | "not ok "*"# SKIP"*) SKIPPED=$((SKIPPED + 1)) ;; # cmocka writes skips so
                "not ok "*) FAILED=$((FAILED + 1)); FAILED_NAMES+=("$tier: ${line#not ok }") ;;
                esac
        done < <(grep -aE '^(not )?ok [0-9]+' "$log")
}

# run_tier NAME CMD... : run, keep the log, count its TAP lines.  A tier
# that exits non-zero without any "not ok" line counts as one failure.
run_tier() {
        local name=$1; shift
        local log="$LOGDIR/$name.log" start=$SECONDS before=$FAILED rc
        echo "== $name"
        "$@" >"$log" 2>&1
        rc=$?
        count_tap "$name" "$log"
        if [ $rc -ne 0 ] && [ "$FAILED" -eq "$before" ]; then
                FAILED=$((FAILED + 1))
                FAILED_NAMES+=("$name: exited with status $rc (see $log)")
                tail -n 20 "$log" | sed 's/^/   | /'
        fi
        echo "   $(grep -acE '^ok [0-9]+' "$log") ok, $(grep -aE '^not ok [0-9]+' "$log" | grep -vcE '# (SKIP|TODO)') not ok, $((SECONDS - start)) s"
}

./scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

# ---- build (hardened, gcc) ----
if ! { [ -f build/build.ninja ] || meson setup build >"$LOGDIR/build.log" 2>&1; } ||
   ! ninja -C build >>"$LOGDIR/build.log" 2>&1; then
        cat "$LOGDIR/build.log" | tail -n 40
        echo "build failed"
        echo "0 passed, 1 failed"
        exit 1
fi
export REMPART_BUILD=$ROOT/build

run_tier unit ./scripts/run-unit.sh build
run_tier hardening ./tests/host/check-hardening.sh build
run_tier host ./tests/host/run-host-tests.sh build
run_tier escape-host ./tests/escape/run-escape.sh --jail build/src/jail/rempart-jail --probe build/tests/escape/rempart-probe
if [ "${SKIP_VM:-0}" != 1 ]; then
        run_tier vm ./tests/vm/run-jail-vm-tests.sh build
        run_tier vm-init ./tests/vm/init/run-init-vm-tests.sh build
        run_tier vm-audit ./tests/vm/audit/run-audit-vm-tests.sh build
fi
if [ "${SKIP_E2E:-0}" != 1 ]; then
        # The system image under OVMF Secure Boot + swtpm, then the build's
        # refusals of bad input (which reuse the image's cached root tree).
        run_tier e2e ./scripts/run-e2e-tier.sh
        run_tier image-errors env TEST=1 ./tests/image/run-build-errors.sh
fi
if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
        run_tier sanitize ./scripts/run-sanitized.sh
fi
if [ "${SKIP_LINT:-0}" != 1 ]; then
        run_tier lint ./scripts/run-lint.sh build
fi
run_tier fuzz ./scripts/run-fuzz.sh "${FUZZ_SECONDS:-30}"

echo
if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
        echo "Failures:"
        printf '  %s\n' "${FAILED_NAMES[@]}"
fi
echo "logs: $LOGDIR"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]

#!/bin/bash
# The levels' isolation matrix on this host (development mode, as root):
# two levels, high and low, every check for every ordered pair of high, low
# and the core, each with its control within the target side.  TAP on
# stdout; exit 1 if a check failed.  See matrix.sh for what is checked.
#   run-level-matrix.sh BUILD_DIR      (MX_KEEP=1: keep the scratch directory)
# The fork bomb and memory hog checks need a cgroup hierarchy of our own:
# they run in the VM tier (tests/vm/run-jail-vm-tests.sh), never here, since
# this host's cgroups belong to the machine.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-}" 2>/dev/null && pwd) || { echo "Bail out! usage: run-level-matrix.sh BUILD_DIR"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "Bail out! the levels' matrix must run as root"; exit 1; }
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

# Read by matrix.sh.  The probe's directory becomes a system path of the
# levels, which may not be under /tmp (each level has a /tmp of its own): a
# copy outside it, wherever the checkout is.
MX_PROBE_DIR=$(mktemp -d /var/tmp/rempart-mxprobe.XXXXXX) || { echo "Bail out! mktemp failed"; exit 1; }
chmod 0755 "$MX_PROBE_DIR"
cp "$BUILD/tests/levels/level-probe" "$MX_PROBE_DIR/" 2>/dev/null
# shellcheck disable=SC2034
MX_PROBE=$MX_PROBE_DIR/level-probe
MX_CTL=$BUILD/src/ctl/rempartctl
MX_LEVEL_BIN=$BUILD/src/ctl/rempart-level
MX_BROKER=$BUILD/src/broker/rempart-broker
for b in "$MX_PROBE" "$MX_CTL" "$MX_LEVEL_BIN" "$MX_BROKER"; do
        [ -x "$b" ] || { echo "Bail out! $b is missing (ninja -C $BUILD)"; exit 1; }
done
# shellcheck disable=SC2034
MX_HOST_ADDR=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub("/.*", "", $4); print $4; exit }')
# shellcheck disable=SC2034
MX_CGROUP=0
MX_TIMEOUT=${MX_TIMEOUT:-60}

N=0
FAILED=0
mx_report() {
        N=$((N + 1))
        case "$2" in
        PASS) echo "ok $N - $1 $3" ;;
        SKIP) echo "ok $N - $1 # SKIP $3" ;;
        TODO) echo "not ok $N - $1 # TODO $3" ;;
        *)
                FAILED=$((FAILED + 1))
                echo "not ok $N - $1 $3"
                ;;
        esac
}

# shellcheck source=matrix.sh
. "$HERE/matrix.sh"

MX_WORK=$(mktemp -d /tmp/rempart-levels.XXXXXX) || { echo "Bail out! mktemp failed"; exit 1; }
chmod 0755 "$MX_WORK"
cleanup() {
        mx_teardown
        rm -rf "$MX_PROBE_DIR"
        # MX_KEEP=1: keep the scratch directory (configurations, batches, results).
        if [ "${MX_KEEP:-0}" = 1 ]; then
                echo "# kept $MX_WORK"
        else
                rm -rf "$MX_WORK"
        fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
if mx_setup; then
        mx_matrix
else
        mx_report "levels/setup" FAIL "the levels or their fixtures did not start (see the comments above)"
fi
mx_cgroup
echo "# levels matrix: $((SECONDS - start)) s"
echo "1..$N"
[ "$FAILED" -eq 0 ]

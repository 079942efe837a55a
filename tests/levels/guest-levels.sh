# The levels' isolation matrix inside the VM (busybox sh; Debian trixie
# kernel, pure cgroup v2), then the fork bomb and memory hog checks that
# the host tier skips.  Run by tests/vm/jail/guest.sh in a subshell;
# $MX_DIR (default /payload/levels) holds level-probe, rempartctl,
# rempart-level, rempart-broker and matrix.sh (MX_CTL, MX_LEVEL_BIN and
# MX_BROKER may point elsewhere: the test image runs this script too, with
# its installed programs, through its root-side test agent).
# shellcheck shell=sh
MX_DIR=${MX_DIR:-/payload/levels}
# shellcheck source=../vm/initramfs/vmtest.sh
. "${VMTEST_LIB:-/lib/vmtest.sh}"
# Read by matrix.sh:
# shellcheck disable=SC2034
MX_PROBE=$MX_DIR/level-probe
MX_CTL=${MX_CTL:-$MX_DIR/rempartctl}
MX_LEVEL_BIN=${MX_LEVEL_BIN:-$MX_DIR/rempart-level}
MX_BROKER=${MX_BROKER:-$MX_DIR/rempart-broker}
MX_CGROUP=${MX_CGROUP:-1}
MX_TIMEOUT=${MX_TIMEOUT:-300}

mx_report() {
        case "$2" in
        PASS) vmtest_pass "$1" "$3" ;;
        SKIP) vmtest_skip "$1" "$3" ;;
        TODO) vmtest_skip "$1" "TODO, not isolated: $3" ;;
        *) vmtest_fail "$1" "$3" ;;
        esac
}
# shellcheck source=matrix.sh
. "$MX_DIR/matrix.sh"

# An address of the core besides 127.0.0.1, for the network path checks.
mx_added_addr=""
if [ -z "${MX_HOST_ADDR+set}" ]; then
        MX_HOST_ADDR=""
        if ip addr add 10.0.99.1/32 dev lo 2>/dev/null; then
                MX_HOST_ADDR=10.0.99.1 mx_added_addr=1
        fi
fi

MX_WORK=$(mktemp -d /tmp/rempart-levels.XXXXXX) || exit 1
chmod 0755 "$MX_WORK"
mx_guest_cleanup() {
        mx_teardown
        rm -rf "$MX_WORK"
        [ -z "$mx_added_addr" ] || ip addr del 10.0.99.1/32 dev lo 2>/dev/null
}
trap mx_guest_cleanup EXIT
mx_t0=$(date +%s)
if mx_setup; then
        mx_matrix
        mx_cgroup
else
        mx_report levels/setup FAIL "the levels or their fixtures did not start"
fi
echo "# levels: $(($(date +%s) - mx_t0)) s"

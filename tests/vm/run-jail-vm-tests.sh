#!/bin/bash
# Host side of the jail's VM tier: put rempart-jail, the escape probe and
# the kernel-facing unit tests in an initramfs, boot the Debian trixie
# kernel under QEMU, and turn the guest's @@VMTEST lines into TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=$(cd "${1:-$root/build}" && pwd)
. "$here/lib.sh"

vm_check_deps || { echo "not ok 1 - vm/dependencies"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/rempart-jailvm.XXXXXX")
trap 'rm -rf "$work"' EXIT
p=$work/payload
mkdir -p "$p/unit"
cp "$BUILD/src/jail/rempart-jail" "$p/"
for t in test-seccomp test-landlock test-cgroup-bpf test-creds; do
        [ -x "$BUILD/tests/unit/$t" ] && cp "$BUILD/tests/unit/$t" "$p/unit/"
done
[ -x "$BUILD/tests/escape/rempart-probe" ] && cp "$BUILD/tests/escape/rempart-probe" "$p/"
cp "$root/tests/escape/vm-escape.sh" "$root/tests/escape/escape-lib.sh" "$root/profiles/default.profile" "$p/"
cp "$here/jail/guest-cgroup.sh" "$p/"
# The levels' isolation matrix (tests/levels/guest-levels.sh), when built.
if [ -x "$BUILD/tests/levels/level-probe" ]; then
        mkdir -p "$p/levels"
        cp "$BUILD/tests/levels/level-probe" "$BUILD/src/ctl/rempartctl" "$BUILD/src/ctl/rempart-level" \
                "$BUILD/src/broker/rempart-broker" "$root/tests/levels/matrix.sh" "$root/tests/levels/guest-levels.sh" "$p/levels/"
fi

out=$work/vm.out
vm_run_test --payload "$p" --script "$here/jail/guest.sh" -- --timeout "${VM_TIMEOUT:-600}" --mem 2048 >"$out"
rc=$?
n=0 failed=0
while read -r tag name res detail; do
        if [ "$tag" = "@@VMCRASH" ]; then
                echo "# guest kernel crashed, run again: $name $res $detail"
                continue
        fi
        [ "$tag" = "@@VMTEST" ] || continue
        n=$((n + 1))
        case "$res" in
        PASS) echo "ok $n - vm/$name${detail:+ ($detail)}" ;;
        SKIP) echo "ok $n - vm/$name # SKIP $detail" ;;
        *) echo "not ok $n - vm/$name $detail"; failed=1 ;;
        esac
done <"$out"
if [ "$n" -eq 0 ] || { [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
        echo "not ok $((n + 1)) - vm/boot (run-vm.sh status $rc)"
        exit 1
fi
exit "$failed"

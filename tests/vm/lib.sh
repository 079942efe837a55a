# shellcheck shell=bash
# Library for VM tests (bash): . tests/vm/lib.sh
#
#   vm_check_deps            status 1 (and a reason on stderr) if the host
#                            lacks qemu, busybox-static, cpio or the keyring
#   vm_kernel                print the cached vmlinuz (fetching it once)
#   vm_kernel_dir            print the cached kernel tree (vmlinuz, modules/,
#                            boot/config-*, version)
#   vm_build OUT ARGS...     mkinitramfs.sh OUT ARGS...
#   vm_boot ARGS...          run-vm.sh ARGS...
#   vm_run_test BUILD-ARGS... [-- BOOT-ARGS...]
#                            build a temporary initramfs, boot it, delete it;
#                            returns run-vm.sh's status (0 = all passed)
# The library sets no shell options and no traps of its own.

VM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

vm_check_deps() {
    local t
    for t in qemu-system-x86_64 cpio gzip xz apt-get dpkg-deb flock timeout; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "vm: '$t' not found (run scripts/install-deps.sh)" >&2
            return 1
        fi
    done
    if [ ! -x /bin/busybox ] && [ ! -x /usr/bin/busybox ]; then
        echo "vm: busybox not found (run scripts/install-deps.sh)" >&2
        return 1
    fi
    return 0
}

vm_kernel() { "$VM_LIB_DIR/fetch-kernel.sh"; }
vm_kernel_dir() { "$VM_LIB_DIR/fetch-kernel.sh" --print-dir; }
vm_build() { "$VM_LIB_DIR/mkinitramfs.sh" "$@"; }
vm_boot() { "$VM_LIB_DIR/run-vm.sh" "$@"; }

vm_run_test() {
    local build=() boot=() tmp rc=0 attempt
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        build+=("$1")
        shift
    done
    [ $# -eq 0 ] || shift
    boot=("$@")
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/rempart-vm.XXXXXX") || return 2
    if ! vm_build "$tmp/initrd.cpio.gz" "${build[@]}"; then
        rm -rf "$tmp"
        return 2
    fi
    # A guest kernel crash (oops or panic before @@VMDONE) under TCG is
    # retried once: its trace goes to stderr and to a "@@VMCRASH" line on
    # stdout, so that the crash stays on record. A failed test is never
    # retried.
    for attempt in 1 2; do
        rc=0
        vm_boot --initrd "$tmp/initrd.cpio.gz" --log "$tmp/console.log" "${boot[@]}" \
            >"$tmp/out" 2>"$tmp/err" || rc=$?
        if [ "$rc" = 1 ] && [ "$attempt" = 1 ] && vm_crashed "$tmp/console.log"; then
            cat "$tmp/err" >&2
            echo "@@VMCRASH $(vm_crash_summary "$tmp/console.log")"
            echo "vm: guest kernel crashed (attempt 1); trace:" >&2
            tr -d '\r' <"$tmp/console.log" | grep -a -A 30 -m 1 -E 'BUG:|Oops|general protection|Kernel panic' >&2
            echo "vm: retrying once" >&2
            continue
        fi
        break
    done
    cat "$tmp/out"
    cat "$tmp/err" >&2
    rm -rf "$tmp"
    return "$rc"
}

# vm_crashed LOG: status 0 if the console shows a kernel crash and no @@VMDONE.
vm_crashed() {
    ! grep -aq '@@VMDONE' "$1" &&
        grep -aqE 'BUG:|Oops|general protection fault|Kernel panic' "$1"
}

# vm_crash_summary LOG: the first crash line and the faulting function, on one line.
vm_crash_summary() {
    tr -d '\r' <"$1" | grep -a -m 2 -E 'BUG:|Oops|general protection fault|RIP:|Kernel panic' |
        tr '\n' ' ' | cut -c1-200
}

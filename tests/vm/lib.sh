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
    local build=() boot=() tmp rc=0
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        build+=("$1")
        shift
    done
    [ $# -eq 0 ] || shift
    boot=("$@")
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/rempart-vm.XXXXXX") || return 2
    if vm_build "$tmp/initrd.cpio.gz" "${build[@]}"; then
        vm_boot --initrd "$tmp/initrd.cpio.gz" "${boot[@]}" || rc=$?
    else
        rc=2
    fi
    rm -rf "$tmp"
    return "$rc"
}

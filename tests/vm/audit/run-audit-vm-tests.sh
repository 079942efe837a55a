#!/bin/bash
# Kernel integrity errors into the audit log, on a real kernel (the trixie
# kernel under QEMU, as in tests/vm/init): a small GPT disk (squashfs root
# with dm-verity and Reed-Solomon FEC, an ext4 state partition), activated
# and mounted by `rempart-init --check`; then `rempart-audit watch-kernel
# --once` reads /dev/kmsg in the guest.
#   clean    nothing damaged: nothing recorded
#   damaged  16 bytes in two data blocks of the root (repaired by FEC) and a
#            directory block of the state partition overwritten: an
#            INTEGRITY_ERROR for the FEC repair (dm-verity-fec corrected) and
#            for the ext4 error on the state partition; the cursor keeps a
#            second run from recording them again
# In both: lines with the texts of integrity errors written into /dev/kmsg
# by a process are never recorded, and the log verifies.
# Not covered: damage beyond FEC restarts the machine at once
# (restart_on_corruption); the watcher has no time to record it.
# Usage: run-audit-vm-tests.sh [BUILD_DIR]   (default: build)
# Needs: qemu, mksquashfs, veritysetup, sfdisk, mkfs.ext4, debugfs, depmod.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
BUILD=$(cd "${1:-$root/build}" && pwd)
. "$here/../lib.sh"

n=0 failed=0
tap() { # ok|not-ok name [detail]
        n=$((n + 1))
        if [ "$1" = ok ]; then echo "ok $n - vm/audit/$2${3:+ ($3)}"; else echo "not ok $n - vm/audit/$2${3:+ $3}"; failed=1; fi
}
bail() { tap not-ok "$1" "$2"; echo "1..$n"; exit 1; }

vm_check_deps || bail dependencies "VM harness dependencies missing"
export PATH=$PATH:/sbin:/usr/sbin
for t in mksquashfs veritysetup sfdisk mkfs.ext4 debugfs dumpe2fs depmod modinfo python3; do
        command -v "$t" >/dev/null 2>&1 || bail dependencies "'$t' not found (run scripts/install-deps.sh)"
done
for b in src/init/rempart-init src/audit/rempart-audit; do
        [ -x "$BUILD/$b" ] || bail build "no $BUILD/$b"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/rempart-auditvm.XXXXXX")
trap 'rm -rf "$work"' EXIT
kdir=$(vm_kernel_dir) || bail kernel "fetch-kernel.sh failed"
mdir=$(readlink -f "$kdir/modules")
kver=$(basename "$mdir")

# --- payload: rempart-init, rempart-audit and a depmod'ed module tree
# (as tests/vm/init/run-init-vm-tests.sh) ----------------------------------
p=$work/payload
mkdir -p "$p/modules"
cp "$BUILD/src/init/rempart-init" "$BUILD/src/audit/rempart-audit" "$p/"
declare -A seen=()
add_module() { # name: the module and its dependencies (depends=, crypto soft dependencies)
        local name=${1//-/_} f dep
        [ -z "${seen[$name]:-}" ] || return 0
        seen[$name]=1
        grep -q "/${name//_/[-_]}\.ko" "$mdir/modules.builtin" && return 0
        f=$(cd "$mdir" && find kernel -regextype posix-extended -regex ".*/${name//_/[-_]}\.ko(\.xz|\.zst|\.gz)?" | head -n1)
        [ -n "$f" ] || { echo "module $name not found" >&2; return 1; }
        mkdir -p "$p/modules/lib/modules/$kver/$(dirname "$f")"
        cp "$mdir/$f" "$p/modules/lib/modules/$kver/$f"
        for dep in $(modinfo -F depends "$mdir/$f" | tr ',' ' '); do add_module "$dep" || return 1; done
        for dep in $(modinfo -F softdep "$mdir/$f" | tr ' ' '\n' | sed -n 's/^crypto-//p'); do
                for f in $(cd "$mdir" && find kernel -regextype posix-extended -regex ".*/${dep}([-_][a-z0-9]+)?\.ko(\.xz|\.zst|\.gz)?"); do
                        add_module "$(basename "${f%%.ko*}")" || return 1
                done
        done
}
for m in dm_verity squashfs ext4 virtio_blk; do add_module "$m" || bail modules "cannot collect $m"; done
cp "$mdir"/modules.builtin "$mdir"/modules.builtin.modinfo "$mdir"/modules.order "$p/modules/lib/modules/$kver/"
depmod -b "$p/modules" "$kver" || bail modules "depmod failed"
mv "$p/modules/lib/modules/$kver" "$p/modules/$kver" && rm -rf "$p/modules/lib"

# --- disk ------------------------------------------------------------------
d=$work/disk
mkdir -p "$d/tree"/{var,run,tmp,dev,proc,sys,etc,usr} "$d/state/dir"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(8192):
        f.write("rempart-known-line-%06d\n" % i)' "$d/tree/known.txt"
# A directory with enough entries to fill a block of its own.
for i in $(seq 1 64); do echo "$i" >"$d/state/dir/file-with-a-long-name-$i"; done
mksquashfs "$d/tree" "$d/root.sqfs" -noappend -noI -noD -noF -noX -no-fragments -no-xattrs -all-root -quiet \
        >/dev/null || bail image "mksquashfs failed"
veritysetup format "$d/root.sqfs" "$d/hash-only.img" >/dev/null || bail image "veritysetup format failed"
fec_offset=$(stat -c %s "$d/hash-only.img")
truncate -s "$fec_offset" "$d/verity.img"
vout=$(veritysetup format "$d/root.sqfs" "$d/verity.img" --fec-device "$d/verity.img" \
        --fec-offset "$fec_offset" --fec-roots 2) || bail image "veritysetup format with FEC failed"
roothash=$(printf '%s\n' "$vout" | sed -n 's/^Root hash:[[:space:]]*//p')
[ ${#roothash} = 64 ] || bail image "no root hash in veritysetup output"
mkfs.ext4 -q -F -d "$d/state" "$d/state.img" 4M >/dev/null 2>&1 || bail image "mkfs.ext4 failed"
bs=$(dumpe2fs -h "$d/state.img" 2>/dev/null | awk -F: '/^Block size/ { gsub(/ /, "", $2); print $2 }')
dblk=$(debugfs -R "bmap /dir 0" "$d/state.img" 2>/dev/null | tail -n1)
case "$bs:$dblk" in
[0-9]*:[0-9]*) ;;
*) bail image "cannot find the directory block of /dir in the state file system (block size '$bs', block '$dblk')" ;;
esac

RU=0b7e9c41-5a2f-4c1e-9d3a-2f6b8e1a0d01 VU=0b7e9c41-5a2f-4c1e-9d3a-2f6b8e1a0d02 SU=0b7e9c41-5a2f-4c1e-9d3a-2f6b8e1a0d03
truncate -s 8M "$d/disk.img"
sfdisk -q "$d/disk.img" >/dev/null <<SF || bail image "sfdisk failed"
label: gpt
start=2048, size=2048, type=4f68bce3-e8cd-4db1-96e7-fbcaf984b709, uuid=$RU, name=root-a
start=4096, size=2048, type=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5, uuid=$VU, name=verity-a
start=6144, size=8192, type=4d21b016-b534-45c2-a9fb-5c16e091fd2d, uuid=$SU, name=state
SF
dd if="$d/root.sqfs" of="$d/disk.img" bs=512 seek=2048 conv=notrunc status=none
dd if="$d/verity.img" of="$d/disk.img" bs=512 seek=4096 conv=notrunc status=none
dd if="$d/state.img" of="$d/disk.img" bs=512 seek=6144 conv=notrunc status=none
part1=$((2048 * 512)) part3=$((6144 * 512))
tap ok image "root hash ${roothash:0:16}..., state block size $bs, /dir in block $dblk"

corrupt() { # image byte-offset length: overwrite with 0x5a
        python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(b"\x5a"*int(sys.argv[3]))' "$@"
}

initrd=$work/initrd.cpio.gz
vm_build "$initrd" --payload "$p" --script "$here/guest.sh" || bail initramfs "mkinitramfs.sh failed"
params="rempart.root=$RU rempart.verity=$VU rempart.state=$SU rempart.slot=a rempart.fec_offset=$fec_offset rempart.roothash=$roothash"

run_case() { # case [corruption...]
        local c=$1 img=$work/$1.img rc=0 tag name res detail
        cp --reflink=auto "$d/disk.img" "$img"
        shift
        while [ $# -ge 2 ]; do corrupt "$img" "$1" "$2"; shift 2; done
        vm_boot --initrd "$initrd" --timeout "${VM_TIMEOUT:-120}" --log "$work/$c.log" \
                --qemu-arg -drive --qemu-arg "file=$img,format=raw,if=virtio" \
                --append "$params vmtest.case=$c" >"$work/$c.out" 2>"$work/$c.err" || rc=$?
        while read -r tag name res detail; do
                [ "$tag" = "@@VMTEST" ] || continue
                case "$res" in
                PASS) tap ok "$c/$name" "$detail" ;;
                SKIP) n=$((n + 1)); echo "ok $n - vm/audit/$c/$name # SKIP $detail" ;;
                *) tap not-ok "$c/$name" "$detail" ;;
                esac
        done <"$work/$c.out"
        if ! grep -q '@@VMTEST' "$work/$c.out"; then
                tap not-ok "$c/boot" "no result (run-vm.sh status $rc): $(tail -n 8 "$work/$c.err" | tr '\n' ' ')"
        fi
        if [ "${VM_VERBOSE:-0}" = 1 ]; then tr -d '\r' <"$work/$c.log" | grep -a '^    ' >&2; fi
}

run_case clean
# Root: 16 bytes in data blocks 5 and 20 (within FEC capacity, as in
# tests/vm/init); state: the first bytes of /dir's block.
run_case damaged $((part1 + 5 * 4096 + 100)) 16 $((part1 + 20 * 4096 + 2000)) 16 $((part3 + dblk * bs)) 64
echo "1..$n"
exit "$failed"

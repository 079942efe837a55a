#!/bin/bash
# Host side of rempart-init's VM tests: build a small GPT disk (squashfs root
# with a dm-verity hash tree and Reed-Solomon FEC in a companion partition, an
# ext4 state partition), boot the trixie kernel once per case with a copy of
# the disk, run `rempart-init --check` in the guest and print TAP.
#   good     verified activation, W^X layout, the known file reads right
#   fec      a few corrupted bytes in two data blocks: repaired by FEC, logged
#   beyond   whole blocks corrupted past FEC capacity: reading restarts the VM
#   badhash  wrong rempart.roothash: FATAL, no root device
#   dup      rempart.slot given twice: FATAL
#   unknown  rempart.debug=1: FATAL
# Usage: run-init-vm-tests.sh [BUILD_DIR]   (default: build)
# Needs: qemu, mksquashfs, veritysetup, sfdisk, mkfs.ext4, depmod (kmod).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
BUILD=$(cd "${1:-$root/build}" && pwd)
. "$here/../lib.sh"

n=0 failed=0
tap() { # ok|not-ok name [detail]
        n=$((n + 1))
        if [ "$1" = ok ]; then echo "ok $n - vm/init/$2${3:+ ($3)}"; else echo "not ok $n - vm/init/$2${3:+ $3}"; failed=1; fi
}
bail() { tap not-ok "$1" "$2"; exit 1; }

vm_check_deps || bail dependencies "VM harness dependencies missing"
for t in mksquashfs veritysetup sfdisk mkfs.ext4 depmod modinfo python3; do
        command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/sbin:/usr/sbin command -v "$t" >/dev/null 2>&1 ||
                bail dependencies "'$t' not found (run scripts/install-deps.sh)"
done
export PATH=$PATH:/sbin:/usr/sbin
[ -x "$BUILD/src/init/rempart-init" ] || bail build "no $BUILD/src/init/rempart-init"

work=$(mktemp -d "${TMPDIR:-/tmp}/rempart-initvm.XXXXXX")
trap 'rm -rf "$work"' EXIT
kdir=$(vm_kernel_dir) || bail kernel "fetch-kernel.sh failed"
mdir=$(readlink -f "$kdir/modules")
kver=$(basename "$mdir")

# --- payload: rempart-init and a depmod'ed module tree ----------------------
p=$work/payload
mkdir -p "$p/modules"
cp "$BUILD/src/init/rempart-init" "$p/"
declare -A seen=()
add_module() { # name: copy the module and its dependencies (modinfo depends=)
        local name=${1//-/_} f dep
        [ -z "${seen[$name]:-}" ] || return 0
        seen[$name]=1
        grep -q "/${name//_/[-_]}\.ko" "$mdir/modules.builtin" && return 0
        f=$(cd "$mdir" && find kernel -regextype posix-extended -regex ".*/${name//_/[-_]}\.ko(\.xz|\.zst|\.gz)?" | head -n1)
        [ -n "$f" ] || { echo "module $name not found" >&2; return 1; }
        mkdir -p "$p/modules/lib/modules/$kver/$(dirname "$f")"
        cp "$mdir/$f" "$p/modules/lib/modules/$kver/$f"
        for dep in $(modinfo -F depends "$mdir/$f" | tr ',' ' '); do add_module "$dep" || return 1; done
        # Soft dependencies (ext4 and jbd2: "pre: crypto-crc32c") name crypto
        # aliases; libkmod loads them through depmod's modules.softdep, so
        # the modules that provide the algorithm must be in the tree.
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

# --- disk image --------------------------------------------------------------
d=$work/disk
mkdir -p "$d/tree"/{var,run,tmp,dev,proc,sys,etc,usr} "$d/state"
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(8192):
        f.write("rempart-known-line-%06d\n" % i)' "$d/tree/known.txt"
sha=$(sha256sum "$d/tree/known.txt" | cut -d' ' -f1)
echo state-ok >"$d/state/hello"
# Uncompressed, no fragments: the file's bytes sit verbatim in the image, so
# the corruption cases can aim at them.
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

RU=0b7e9c41-5a2f-4c1e-9d3a-2f6b8e1a0c01 VU=0b7e9c41-5a2f-4c1e-9d3a-2f6b8e1a0c02 SU=0b7e9c41-5a2f-4c1e-9d3a-2f6b8e1a0c03
# Discoverable Partitions types: root x86-64, root verity x86-64, var.
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
part1=$((2048 * 512))
# Offset of the known file's data in the squashfs (block aligned here: the
# file starts right after the 96-byte superblock, so block 1 onwards is file).
foff=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); print(d.index(b"rempart-known-line-000000"))' "$d/root.sqfs")
tap ok image "squashfs $(stat -c %s "$d/root.sqfs") bytes, root hash ${roothash:0:16}..., fec_offset $fec_offset"

corrupt() { # image byte-offset length: overwrite with 0x5a (differs from the ASCII text)
        python3 -c 'import sys; f=open(sys.argv[1],"r+b"); f.seek(int(sys.argv[2])); f.write(b"\x5a"*int(sys.argv[3]))' "$@"
}

params="rempart.root=$RU rempart.verity=$VU rempart.state=$SU rempart.slot=a rempart.fec_offset=$fec_offset"
initrd=$work/initrd.cpio.gz
vm_build "$initrd" --payload "$p" --script "$here/guest.sh" || bail initramfs "mkinitramfs.sh failed"

boot() { # case disk append log
        vm_boot --initrd "$initrd" --timeout "${VM_TIMEOUT:-120}" --log "$4" \
                --qemu-arg -drive --qemu-arg "file=$2,format=raw,if=virtio" \
                --append "$3 vmtest.case=$1 vmtest.sha=$sha" >"$work/$1.out" 2>"$work/$1.err"
}
collect() { # case: turn @@VMTEST lines into TAP
        local tag name res detail
        while read -r tag name res detail; do
                [ "$tag" = "@@VMTEST" ] || continue
                case "$res" in
                PASS) tap ok "$name" "$detail" ;;
                SKIP) n=$((n + 1)); echo "ok $n - vm/init/$name # SKIP $detail" ;;
                *) tap not-ok "$name" "$detail" ;;
                esac
        done <"$work/$1.out"
}

run_case() { # case append [corruption...]
        local c=$1 append=$2 img=$work/$1.img rc=0
        cp --reflink=auto "$d/disk.img" "$img"
        shift 2
        while [ $# -ge 2 ]; do corrupt "$img" "$1" "$2"; shift 2; done
        boot "$c" "$img" "$append" "$work/$c.log" || rc=$?
        collect "$c"
        if [ "$c" = beyond ]; then
                # Expected end: the guest reached the read, and dm-verity
                # restarted the machine (-no-reboot turns that into QEMU's exit).
                local log
                log=$(tr -d '\r' <"$work/$c.log")
                if printf '%s\n' "$log" | grep -q '@@VMINIT reading-corrupted-file' &&
                        printf '%s\n' "$log" | grep -q "Restarting system with command 'dm-verity device corrupted'"; then
                        tap ok beyond-restart "$(printf '%s\n' "$log" | grep -m1 'is corrupted' | sed 's/^\[[^]]*\] //')"
                else
                        tap not-ok beyond-restart "no dm-verity restart (run-vm status $rc): $(printf '%s\n' "$log" | tail -n 5 | tr '\n' ' ')"
                fi
        elif [ "$rc" != 0 ] && ! grep -q FAIL "$work/$c.out"; then
                tap not-ok "$c-boot" "run-vm.sh status $rc: $(tail -n 8 "$work/$c.err" | tr '\n' ' ')"
        fi
}

good="$params rempart.roothash=$roothash"
bad=$(printf '%s' "$roothash" | sed 's/^./0/;t'); [ "$bad" != "$roothash" ] || bad=1${roothash:1}
run_case good "$good"
# Within FEC capacity: 16 bytes in data block 5 and 16 other bytes in block 20
# (each RS(255,253) codeword sees at most one bad byte).
run_case fec "$good" $((part1 + 5 * 4096 + 100)) 16 $((part1 + 20 * 4096 + 2000)) 16
# Beyond it: blocks 2..40 entirely (the squashfs superblock in block 0 and the
# metadata at the end stay intact, so activation and mount succeed).
run_case beyond "$good" $((part1 + 2 * 4096)) $((39 * 4096))
run_case badhash "$params rempart.roothash=$bad"
run_case dup "$good rempart.slot=b"
run_case unknown "$good rempart.debug=1"
[ "$foff" -lt 4096 ] || tap not-ok layout "known file at offset $foff, the corruption offsets assume block 0"
exit "$failed"

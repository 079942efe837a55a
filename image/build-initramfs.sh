#!/bin/sh
# Build the Rempart initramfs (the .initrd of the UKIs): a small cpio whose /init
# is rempart-init, with the shared libraries it needs and the kernel modules of
# the image's kernel it loads (plus their dependencies, and modules.dep etc. so
# that libkmod finds them by name).
#
#   image/build-initramfs.sh ROOTFS KVER OUT.cpio.zst [INIT_BINARY]
#
# INIT_BINARY defaults to build/src/init/rempart-init. Modules come from the
# image's own root (ROOTFS/usr/lib/modules/KVER), decompressed at build time so
# the kernel gets plain signed .ko files (module.sig_enforce=1 checks them).
# Libraries come from the build host (rempart-init is built and linked there).
set -eu
. "$(dirname "$0")/lib.sh"
need cpio zstd xz ldd awk

[ $# -ge 3 ] || die "usage: $0 ROOTFS KVER OUT.cpio.zst [INIT_BINARY]"
ROOT=$1 KVER=$2 DEST=$3
INIT=${4:-$REPO/build/src/init/rempart-init}
MODDIR=$ROOT/usr/lib/modules/$KVER
[ -d "$MODDIR" ] || die "no modules for kernel $KVER in $ROOT"
# Modules rempart-init loads (names as modprobe knows them); built-in ones are skipped.
# crc32c_*: soft dependency of ext4/jbd2 (crypto-crc32c), which libkmod resolves by alias.
MODULES=${REMPART_INITRD_MODULES:-"virtio_pci virtio_blk virtio_scsi sd_mod dm_mod dm_bufio reed_solomon dm_verity squashfs ext4 crc32c_generic crc32c_intel efivarfs"}
# Storage drivers rempart-init loads in addition to its own dm_verity squashfs ext4
# (src/init/modules.h: /etc/rempart/initrd-modules).
STORAGE_MODULES=${REMPART_INITRD_STORAGE:-"virtio_blk virtio_scsi sd_mod"}

TMP=$(mktemp -d "${DEST}.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
T=$TMP/tree
mkdir -p "$T/usr/lib/modules/$KVER" "$T/dev" "$T/proc" "$T/sys" "$T/run" "$T/sysroot" "$T/tmp"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$T/$d"; done
mkdir -p "$T/usr/bin" "$T/usr/sbin" "$T/usr/lib" "$T/usr/lib64" "$T/etc"

# --- /init ---
if [ -x "$INIT" ]; then
	install -m 0755 "$INIT" "$T/init"
	# Shared libraries (and the dynamic loader) at the paths ldd reports.
	if out=$(ldd "$INIT" 2>/dev/null); then
		echo "$out" | while read -r a b c _; do
			case "$a $b $c" in
			*"not found"*) die "$INIT needs $a, which ldd cannot find" ;;
			*" => /"*) lib=$c ;;
			/*) lib=$a ;;
			*) continue ;;
			esac
			mkdir -p "$T$(dirname "$lib")"
			cp -L "$lib" "$T$lib"
		done
	fi
	have_init=1
else
	# TODO(rempart-init): src/init/ is being written in parallel. Until
	# build/src/init/rempart-init exists, the initramfs has no /init: the UKI is
	# still built and signed, the firmware and systemd-boot still check it and the
	# kernel starts, then stops with "No working init found" (no shell, by design).
	msg "WARNING: $INIT not found - initramfs WITHOUT /init (the kernel will stop after starting)"
	have_init=0
fi

# --- modules ---
mkdir -p "$T/etc/rempart"
for m in $STORAGE_MODULES; do echo "$m"; done > "$T/etc/rempart/initrd-modules"
# Dependencies are resolved from the kernel's modules.dep (text form), so the
# host needs no kmod tools; depmod is the image's own (run from the root tree
# with its dynamic loader when the host has none), which also matches the
# kernel's module directory conventions.
: > "$TMP/mods"
for m in $MODULES; do
	pat=$(echo "$m" | sed 's/[_-]/[_-]/g')
	grep -q "/$pat\.ko" "$MODDIR/modules.builtin" && continue
	# Line "path/name.ko.xz: dep1 dep2 ..." of the module, then its dependencies' lines.
	line=$(grep -E "(^|/)$pat\.ko(\.xz|\.zst)?:" "$MODDIR/modules.dep") ||
		die "module $m not found for $KVER"
	echo "$line" | tr -d ':' | tr ' ' '\n' | grep . >> "$TMP/mods"
done
sort -u "$TMP/mods" | while read -r rel; do
	src=$MODDIR/$rel
	rel=/usr/lib/modules/$KVER/$rel
	case "$rel" in
	*.ko.xz) dst=$T${rel%.xz}; mkdir -p "$(dirname "$dst")"; xz -dc "$src" > "$dst" ;;
	*.ko.zst) dst=$T${rel%.zst}; mkdir -p "$(dirname "$dst")"; zstd -qdc "$src" > "$dst" ;;
	*.ko) dst=$T$rel; mkdir -p "$(dirname "$dst")"; cp "$src" "$dst" ;;
	*) die "unexpected module file $src" ;;
	esac
done
cp "$MODDIR/modules.builtin" "$MODDIR/modules.builtin.modinfo" "$MODDIR/modules.order" \
	"$T/usr/lib/modules/$KVER/" 2>/dev/null || true
# depmod -b DIR looks in DIR/lib/modules, which is usr/lib/modules here (merged /usr).
if command -v depmod >/dev/null 2>&1; then
	depmod -b "$T" "$KVER" || die "depmod failed"
else
	"$ROOT/usr/lib64/ld-linux-x86-64.so.2" --library-path "$ROOT/usr/lib/x86_64-linux-gnu" \
		--argv0 depmod "$ROOT/usr/bin/kmod" -b "$T" "$KVER" || die "depmod (from the image) failed"
fi

# --- pack (reproducible order and times) ---
find "$T" -exec touch -h -d @0 {} +
(cd "$T" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | zstd -q -19 -T0 > "$TMP/out"
mv "$TMP/out" "$DEST"
nmods=$(find "$T/usr/lib/modules" -name '*.ko' | wc -l)
msg "initramfs $DEST: $(du -h "$DEST" | cut -f1), $nmods modules, init=$([ $have_init = 1 ] && echo rempart-init || echo MISSING)"

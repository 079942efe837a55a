#!/bin/sh
# Stage-1 time of rempart-init against a conventional initramfs that sets up
# the same dm-verity root: Debian trixie's dracut with systemd and
# systemd-veritysetup (benchmark, not a test; no thresholds).
#
#   bench/stage1-compare.sh         (root: chroot, mount namespace)
#
# Needs the test image (TEST=1 image/build.sh -> build-image/test/); it is never
# modified. Steps:
#   1. dracut initramfs images, cached in build-image/stage1-compare/ (rebuilt
#      when the test root or a variant's configuration changes; FORCE=1 forces
#      it): a copy of the test root tree, dracut + dracut-core +
#      systemd-cryptsetup (systemd-veritysetup) + zstd installed into it with apt
#      (downloads kept in $REMPART_CACHE/apt-archives, as image/build-rootfs.sh
#      does), then dracut run in a chroot for the image's kernel, once per
#      variant (STAGE1_DRACUT_VARIANTS):
#        uki-virt  dracut's own configuration for UKIs of virtual machines
#                  (uki-virt/50-uki-virt.conf under /usr/lib/dracut/dracut.conf.d
#                  in the package) minus i18n and lvm (the root has neither kbd
#                  nor lvm2, dracut refuses them), plus squashfs;
#        lean      only base, rootfs-block, dracut-systemd, systemd-veritysetup
#                  (and what they pull in) and the kernel modules rempart's
#                  initramfs carries (virtio, sd_mod, dm-verity, squashfs,
#                  ext4): the smallest systemd-based dracut for this disk;
#        generic   Debian's default (no-hostonly, every dracut module whose
#                  tools are there) plus systemd-veritysetup and squashfs.
#   2. per variant, a UKI from the same kernel, systemd-stub, os-release as the
#      image's, with the dracut initramfs and a command line that makes systemd
#      in the initramfs open the same verity root (systemd-veritysetup-generator:
#      roothash=, systemd.verity_root_data/_hash= by PARTUUID, FEC options as in
#      disk.json) plus the image's cmdline.conf minus its rempart.* items; signed
#      with keys/db.key; written over EFI/Linux/rempart-a.efi on a copy of the
#      test disk (mtools on the ESP at its offset). Secure Boot stays on.
#   3. bench/stage1-compare.py boots every disk BENCH_BOOTS times (default 3),
#      interleaved, and prints the stage-1 medians, the ratios and the
#      initramfs sizes. Results in $BENCH_OUT/stage1-compare.{txt,json}.
#
# Settings: BENCH_BOOTS (3), STAGE1_DRACUT_VARIANTS ("uki-virt lean"),
# BENCH_OUT (/tmp/rempart-bench), FORCE=1 (rebuild the dracut images),
# KEEP=1 (keep the disks, UKIs and serial logs), STAGE1_DRACUT_CMDLINE_EXTRA
# (appended to the dracut UKIs' command line, for diagnosis, e.g.
# "systemd.log_level=debug systemd.log_target=kmsg"), REMPART_IMAGE_OUT, REMPART_KEYS,
# REMPART_CACHE. Time (QEMU TCG, 2 CPUs): ~1.5 min to build the dracut images,
# then ~30 s per rempart-init boot and ~60 s per dracut boot, plus one key
# enrollment boot per disk: ~10 min for the defaults.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BASE=${REMPART_IMAGE_OUT:-$REPO/build-image}
SRC=$BASE/test
CACHED=$BASE/stage1-compare
KEYS=${REMPART_KEYS:-$REPO/keys}
ARCHIVES=${REMPART_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rempart}/apt-archives
BENCH_OUT=${BENCH_OUT:-/tmp/rempart-bench}
BOOTS=${BENCH_BOOTS:-3}
VARIANTS=${STAGE1_DRACUT_VARIANTS:-uki-virt lean}
PY=/usr/bin/python3
# Installed into the copy of the root (trixie: systemd-veritysetup is in systemd-cryptsetup).
DRACUT_PKGS="dracut dracut-core systemd-cryptsetup zstd"

msg() { printf 'stage1-compare.sh: %s\n' "$*" >&2; }
die() { printf 'stage1-compare.sh: error: %s\n' "$*" >&2; exit 1; }
for t in cp cpio chroot unshare mount objcopy objdump sbsign sbverify mcopy mdir zstd sha256sum \
	qemu-system-x86_64 swtpm "$PY"; do
	command -v "$t" >/dev/null 2>&1 || die "missing tool '$t' (run: make deps)"
done
[ "$(id -u)" = 0 ] || die "needs root (chroot into a copy of the root tree, mount namespace)"
case $BOOTS in '' | *[!0-9]* | 0) die "BENCH_BOOTS must be a positive number, not '$BOOTS'" ;; esac
for f in disk.img disk.json rootfs.inputs packages.txt initrd.cpio.zst efi/linuxx64.efi.stub; do
	[ -f "$SRC/$f" ] || die "no $SRC/$f: build the test image first (TEST=1 image/build.sh)"
done
[ -d "$SRC/rootfs" ] || die "no root tree $SRC/rootfs: build the test image first (TEST=1 image/build.sh)"
for f in db.key db.crt; do
	[ -r "$KEYS/$f" ] || die "missing Secure Boot key $KEYS/$f (make keys)"
done
# shellcheck disable=SC2086 # word count of the list
[ "$(set -- $VARIANTS; echo $#)" -gt 0 ] || die "STAGE1_DRACUT_VARIANTS is empty"
for v in $VARIANTS; do
	case $v in uki-virt | lean | generic) ;; *) die "unknown dracut variant '$v' (uki-virt, lean, generic)" ;; esac
done

# ---------------------------------------------------------------- the test image
json() { "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$SRC/disk.json" "$1"; }
KVER=$(json 'd["kernel"]')
ROOTHASH=$(json 'd["roothash"]')
FEC_OFFSET=$(json 'd["fec_offset"]')
FEC_ROOTS=$(json 'd["fec_roots"]')
part() { json "[p for p in d['partitions'] if p['name'] == '$1'][0]['$2']"; }
ROOT_UUID=$(part root-a uuid)
VERITY_UUID=$(part root-a-verity uuid)
ESP_OFFSET=$(( $(part esp start_mib) * 1048576 ))
VMLINUZ=$SRC/rootfs/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "no kernel $VMLINUZ in the test root"
[ -d "$SRC/rootfs/usr/lib/modules/$KVER" ] || die "no modules for $KVER in the test root"

mkdir -p "$CACHED" "$BENCH_OUT" "$ARCHIVES"
WORK=$(mktemp -d "$BASE/stage1-compare.tmp.XXXXXX")
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then msg "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- dracut configurations
# Written into the chroot and used alone (--conf /dev/null --confdir DIR).
dracut_conf() { # variant
	echo 'hostonly="no"'
	echo 'early_microcode="no"'
	case $1 in
	uki-virt)
		# dracut 106's uki-virt/50-uki-virt.conf, without i18n (needs kbd) and
		# lvm (needs lvm2), without uefi="yes" (the UKI is built here), plus squashfs.
		echo 'dracutmodules+=" dracut-systemd shutdown "'
		echo 'dracutmodules+=" systemd-cryptsetup crypt-loop "'
		echo 'dracutmodules+=" systemd-pcrphase "'
		echo 'dracutmodules+=" virtiofs "'
		echo 'dracutmodules+=" systemd-sysext "'
		echo 'dracutmodules+=" systemd-veritysetup "'
		echo 'drivers+=" virtio-pci virtio-mmio hv-vmbus pci-hyperv xen-pcifront "'
		echo 'drivers+=" ahci nvme sd_mod sr_mod virtio-blk virtio-scsi hv-storvsc xen-blkfront "'
		echo 'drivers+=" dm_crypt dm_verity overlay "'
		echo 'filesystems+=" vfat ext4 xfs overlay squashfs "'
		;;
	lean)
		# base: dracut-lib.sh, which the dracut-systemd hooks source;
		# rootfs-block: dracut's handling of root= (its generator).
		echo 'dracutmodules=" base rootfs-block dracut-systemd systemd-veritysetup "'
		echo 'drivers=" virtio_pci virtio_blk virtio_scsi sd_mod dm_mod dm_verity "'
		echo 'filesystems=" squashfs ext4 "'
		;;
	generic)
		echo 'add_dracutmodules+=" systemd-veritysetup "'
		echo 'filesystems+=" squashfs "'
		;;
	esac
}
# Everything that makes a cached image stale (FORCE=1 after changing how they are built).
stamp_of() { # variant
	{ cat "$SRC/rootfs.inputs" "$SRC/packages.txt"; echo "$KVER $DRACUT_PKGS"; dracut_conf "$1"; } |
		sha256sum | cut -d' ' -f1
}
todo=
for v in $VARIANTS; do
	if [ "${FORCE:-0}" != 1 ] && [ -f "$CACHED/dracut-$v.img" ] &&
		[ "$(cat "$CACHED/dracut-$v.stamp" 2>/dev/null)" = "$(stamp_of "$v")" ]; then
		msg "dracut $v: cached ($CACHED/dracut-$v.img)"
	else
		todo="$todo $v"
	fi
done

if [ -n "$todo" ]; then
	t0=$(date +%s)
	T=$WORK/tree
	msg "copying the test root tree"
	cp -a --reflink=auto "$SRC/rootfs" "$T" || die "cannot copy $SRC/rootfs to $T"
	# apt in the chroot: host DNS, the cached .debs in (hard links when possible).
	rm -f "$T/etc/resolv.conf"
	cp /etc/resolv.conf "$T/etc/resolv.conf" || die "cannot copy /etc/resolv.conf"
	mkdir -p "$T/var/cache/apt/archives"
	for deb in "$ARCHIVES"/*.deb; do
		[ -f "$deb" ] || continue
		ln "$deb" "$T/var/cache/apt/archives/" 2>/dev/null || cp "$deb" "$T/var/cache/apt/archives/"
	done
	for v in $todo; do
		mkdir -p "$T/tmp/dracut-$v"
		dracut_conf "$v" > "$T/tmp/dracut-$v/90-bench.conf"
	done
	# One private mount namespace: /proc, /sys and /dev of the chroot vanish with it.
	# INITRD=No: the kernel hook of the dracut package does not build the
	# default initrd on installation (the variants are built right after).
	msg "installing $DRACUT_PKGS into the copy; building:$todo"
	# shellcheck disable=SC2016,SC2086 # the inner script expands its own arguments; $todo is a list
	unshare --mount --propagation private sh -eu -c '
		T=$1 KVER=$2 PKGS=$3; shift 3
		mount -t proc proc "$T/proc"
		mount -t sysfs sysfs "$T/sys"
		mount --rbind /dev "$T/dev"
		chroot "$T" apt-get -q update >&2
		DEBIAN_FRONTEND=noninteractive INITRD=No chroot "$T" apt-get -q -y install \
			--no-install-recommends $PKGS >&2
		for v in "$@"; do
			echo "stage1-compare.sh: dracut $v" >&2
			chroot "$T" dracut --quiet --conf /dev/null --confdir "/tmp/dracut-$v" --kver "$KVER" \
				--force --compress zstd "/tmp/dracut-$v.img" >&2
			chroot "$T" lsinitrd "/tmp/dracut-$v.img" > "$T/tmp/dracut-$v.list"
		done
		chroot "$T" dpkg-query -W -f "\${Package} \${Version}\n" $PKGS systemd > "$T/tmp/versions"
	' sh "$T" "$KVER" "$DRACUT_PKGS" $todo > "$WORK/install.log" 2>&1 ||
		{ tail -n 40 "$WORK/install.log" >&2; die "installing or running dracut in the copy of the root failed (log above)"; }
	# New downloads back into the cache.
	for deb in "$T"/var/cache/apt/archives/*.deb; do
		[ -f "$deb" ] || continue
		[ -e "$ARCHIVES/${deb##*/}" ] || cp "$deb" "$ARCHIVES/" || die "cannot write to $ARCHIVES"
	done
	for v in $todo; do
		mv "$T/tmp/dracut-$v.img" "$CACHED/dracut-$v.img"
		mv "$T/tmp/dracut-$v.list" "$CACHED/dracut-$v.list"
		dracut_conf "$v" > "$CACHED/dracut-$v.conf"
		stamp_of "$v" > "$CACHED/dracut-$v.stamp"
	done
	mv "$T/tmp/versions" "$CACHED/versions.txt"
	rm -rf "$T"
	msg "dracut images built in $(( $(date +%s) - t0 )) s"
fi

# ---------------------------------------------------------------- command line
# The image's cmdline.conf without the rempart.* items (same console, same
# hardening, ro, systemd.gpt_auto=0), after the verity root for systemd.
HARDENING=$(sed -e 's/#.*//' "$REPO/image/cmdline.conf" | tr -s ' \t\n' '\n' | grep -v '^rempart\.' | grep . | tr '\n' ' ')
VERITY_OPTS="fec-device=PARTUUID=$VERITY_UUID,fec-offset=$FEC_OFFSET,fec-roots=$FEC_ROOTS,restart-on-corruption"
CMDLINE="root=/dev/mapper/root rootfstype=squashfs systemd.verity=1 roothash=$ROOTHASH \
systemd.verity_root_data=PARTUUID=$ROOT_UUID systemd.verity_root_hash=PARTUUID=$VERITY_UUID \
systemd.verity_root_options=$VERITY_OPTS ${HARDENING% }${STAGE1_DRACUT_CMDLINE_EXTRA:+ $STAGE1_DRACUT_CMDLINE_EXTRA}"
printf '%s\n' "$CMDLINE" > "$BENCH_OUT/stage1-compare.cmdline"

# ---------------------------------------------------------------- UKIs and disks
# UKI layout: systemd-stub, then the sections one after the other at the
# stub's SectionAlignment past its last section (as image/build-image.sh does).
STUB=$SRC/efi/linuxx64.efi.stub
make_uki() { # initrd out
	initrd=$1 out=$2 d=$WORK/uki
	mkdir -p "$d"
	printf '%s' "$CMDLINE" > "$d/cmdline"
	printf '%s' "$KVER" > "$d/uname"
	{ cat "$SRC/rootfs/usr/lib/os-release"; echo "IMAGE_ID=rempart-dracut-bench"; } > "$d/osrel"
	base=$((0x$(objdump -p "$STUB" | awk '$1 == "ImageBase" { print $2 }')))
	align=$((0x$(objdump -p "$STUB" | awk '$1 == "SectionAlignment" { print $2 }')))
	end=0
	for sec in $(objdump -h -w "$STUB" | awk '$1 ~ /^[0-9]+$/ { print $3 ":" $4 }'); do
		e=$(( 0x${sec#*:} + 0x${sec%%:*} - base ))
		if [ "$e" -gt "$end" ]; then end=$e; fi
	done
	off=$(( (end + align - 1) / align * align ))
	set --
	for s in "osrel:$d/osrel" "cmdline:$d/cmdline" "uname:$d/uname" "initrd:$initrd" "linux:$VMLINUZ"; do
		set -- "$@" --add-section ".${s%%:*}=${s#*:}" --change-section-vma ".${s%%:*}=$(printf '0x%x' $((base + off)))"
		off=$(( (off + $(stat -L -c %s "${s#*:}") + align - 1) / align * align ))
	done
	objcopy "$@" "$STUB" "$d/uki.efi" || die "objcopy failed building the UKI"
	sbsign --key "$KEYS/db.key" --cert "$KEYS/db.crt" --output "$out" "$d/uki.efi" 2>"$d/sbsign.log" ||
		{ cat "$d/sbsign.log" >&2; die "sbsign failed"; }
	sbverify --cert "$KEYS/db.crt" "$out" >/dev/null 2>&1 || die "the signed UKI does not verify"
}
export MTOOLS_SKIP_CHECK=1
set -- --disk "rempart-init:1:$SRC/disk.img:$SRC/initrd.cpio.zst"
for v in $VARIANTS; do
	make_uki "$CACHED/dracut-$v.img" "$WORK/dracut-$v.efi"
	disk=$WORK/dracut-$v.disk.img
	cp --sparse=always --reflink=auto "$SRC/disk.img" "$disk" || die "cannot copy $SRC/disk.img"
	mcopy -o -i "$disk@@$ESP_OFFSET" "$WORK/dracut-$v.efi" ::/EFI/Linux/rempart-a.efi ||
		die "cannot write the UKI to the ESP of $disk"
	mdir -i "$disk@@$ESP_OFFSET" ::/EFI/Linux >/dev/null || die "cannot read the ESP of $disk back"
	set -- "$@" --disk "dracut-$v:2:$disk:$CACHED/dracut-$v.img"
done

# ---------------------------------------------------------------- boots
{
	echo "stage-1: rempart-init vs dracut ($(date -u +%Y-%m-%d), kernel $KVER, $BOOTS boots each)"
	sed 's/^/  /' "$CACHED/versions.txt" 2>/dev/null || true
	echo "dracut command line: $CMDLINE"
	for v in $VARIANTS; do
		echo "dracut $v: $(sed -n '/^dracut modules:/,/^====/p' "$CACHED/dracut-$v.list" | sed '1d;$d' | tr '\n' ' ')"
		echo "   $(grep -c '\.ko' "$CACHED/dracut-$v.list") kernel modules"
	done
	echo "rempart-init: $(zstd -dc "$SRC/initrd.cpio.zst" | cpio -t --quiet 2>/dev/null | grep -c '\.ko$') kernel modules"
} | tee "$BENCH_OUT/stage1-compare.txt"
if [ "${KEEP:-0}" = 1 ]; then set -- "$@" --keep; fi
{
	rc=0
	"$PY" "$REPO/bench/stage1-compare.py" "$@" --boots "$BOOTS" --json "$BENCH_OUT/stage1-compare.json" || rc=$?
	echo "$rc" > "$WORK/rc"
} | tee -a "$BENCH_OUT/stage1-compare.txt"
rc=$(cat "$WORK/rc")
msg "results in $BENCH_OUT/stage1-compare.txt and .json"
exit "$rc"

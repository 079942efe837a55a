#!/bin/sh
# Assemble the Rempart disk image from the root built by build-rootfs.sh:
#   root.squashfs -> verity (hash tree + Reed-Solomon FEC) -> initramfs -> one
#   signed UKI per slot -> signed systemd-boot -> ESP (vfat, mtools) -> GPT disk.
#
#   image/build-image.sh        (TEST=1 for the test variant)
#
# Output in build-image/<variant>/: disk.img (sparse), disk.json (layout, root
# hash, offsets), the UKIs, root.squashfs and verity.img. The disk is written to
# a temporary file and renamed at the end; a failed build leaves the previous
# image in place. The squashfs and the verity data are reused when the root did
# not change (the FEC computation is the slow part).
set -eu
. "$(dirname "$0")/lib.sh"
need mksquashfs veritysetup sfdisk mkfs.vfat mmd mcopy mkfs.ext4 sbsign sbverify \
	objcopy objdump dd sha256sum truncate

# ---------------------------------------------------------------- inputs
check_keys
[ -d "$OUT/rootfs" ] && [ -f "$OUT/rootfs.inputs" ] ||
	die "no root in $OUT/rootfs: run image/build-rootfs.sh first (or make image)"
ROOT=$OUT/rootfs
EFI=$OUT/efi
KVER=$(ls "$ROOT/usr/lib/modules" | sort -V | tail -n1)
[ -n "$KVER" ] && [ -f "$ROOT/boot/vmlinuz-$KVER" ] || die "no kernel image in $ROOT/boot"
[ -r "$IMG_SRC/cmdline.conf" ] || die "cannot read $IMG_SRC/cmdline.conf"

FEC_ROOTS=${REMPART_FEC_ROOTS:-2}
ESP_MIB=${REMPART_ESP_MIB:-256}
STATE_MIB=${REMPART_STATE_MIB:-512}
# SOURCE_DATE_EPOCH makes mksquashfs output reproducible (file and fs times).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(stat -c %Y "$OUT/rootfs.inputs")}
export SOURCE_DATE_EPOCH

# Discoverable Partitions Specification type GUIDs (x86-64).
T_ESP=c12a7328-f81f-11d2-ba4b-00a0c93ec93b
T_ROOT=4f68bce3-e8cd-4db1-96e7-fbcaf984b709
T_VERITY=2c7357ed-ebd2-46d9-aec1-23d437ec2bf5
T_VAR=4d21b016-b534-45c2-a9fb-5c16e091fd2d

start=$(now)
WORK=$(mktemp -d "$OUT/work.tmp.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# Rempart's own files added to the squashfs (pseudo files: the cached root tree
# is never modified). Each entry: path-in-image mode source.
extra=
add_extra() {
	if [ -f "$3" ]; then extra="$extra$1 $2 $3
"; fi
}
add_extra usr/bin/rempart-jail 755 "$REPO/build/src/jail/rempart-jail"
add_extra usr/bin/rempartctl 755 "$REPO/build/src/ctl/rempartctl"
add_extra usr/libexec/rempart/rempart-level 755 "$REPO/build/src/ctl/rempart-level"
add_extra usr/libexec/rempart/rempart-broker 755 "$REPO/build/src/broker/rempart-broker"
add_extra usr/lib/systemd/system/rempart-level@.service 644 "$REPO/src/ctl/rempart-level@.service"
# The transfer service (rempart-xferd, enabled below by the link that
# "systemctl enable" would make) and its client, run inside the levels (/usr
# is their system path).
add_extra usr/libexec/rempart/rempart-xferd 755 "$REPO/build/src/xfer/rempart-xferd"
add_extra usr/bin/rempart-xfer 755 "$REPO/build/src/xfer/rempart-xfer"
add_extra usr/lib/systemd/system/rempart-xferd.service 644 "$REPO/src/xfer/rempart-xferd.service"
# Test images only: the levels' isolation matrix (tests/levels), run in the
# booted image by the test agent of image/overlay-test.
if [ "$VARIANT" = test ]; then
	add_extra usr/libexec/rempart-test/levels/level-probe 755 "$REPO/build/tests/levels/level-probe"
	for f in matrix.sh guest-levels.sh; do
		add_extra "usr/libexec/rempart-test/levels/$f" 644 "$REPO/tests/levels/$f"
	done
	add_extra usr/libexec/rempart-test/levels/vmtest.sh 644 "$REPO/tests/vm/initramfs/vmtest.sh"
	# Hostile transfer streams, sent from inside a level (tests/e2e/xfer.py).
	add_extra usr/libexec/rempart-test/xfer-rawsend 755 "$REPO/build/tests/levels/xfer-rawsend"
fi
# Symbolic links (pseudo files too): path-in-image target.
links="usr/lib/systemd/system-generators/rempart-level-generator ../../../libexec/rempart/rempart-level
usr/bin/rempart-login rempartctl
etc/systemd/system/multi-user.target.wants/rempart-xferd.service /usr/lib/systemd/system/rempart-xferd.service
"
# The audit log (src/audit/README.md): the command, the directory (tmpfiles.d),
# the log verified at boot and the kernel's integrity errors recorded (units
# enabled by their wants links).
add_extra usr/bin/rempart-audit 755 "$REPO/build/src/audit/rempart-audit"
add_extra usr/lib/tmpfiles.d/rempart-audit.conf 644 "$REPO/src/audit/rempart-audit.tmpfiles"
for u in rempart-audit-boot.service rempart-audit-kernel.service; do
	add_extra "usr/lib/systemd/system/$u" 644 "$REPO/src/audit/$u"
	links="${links}usr/lib/systemd/system/multi-user.target.wants/$u ../$u
"
done
for p in "$REPO"/profiles/*; do
	[ ! -f "$p" ] || add_extra "usr/share/rempart/profiles/${p##*/}" 644 "$p"
done

# Every library Rempart's programs need must be in the root (a missing one
# would only show at run time, on the booted machine).
echo "$extra" | while read -r path _ src; do
	[ -n "$src" ] || continue
	case $(head -c 4 "$src" | od -An -c | tr -d ' ') in
	*177ELF*) ;;
	*) continue ;;
	esac
	for lib in $(objdump -p "$src" | awk '$1 == "NEEDED" { print $2 }'); do
		found=
		for d in usr/lib/x86_64-linux-gnu lib/x86_64-linux-gnu usr/lib lib; do
			if [ -e "$ROOT/$d/$lib" ]; then found=1; break; fi
		done
		[ -n "$found" ] || die "/$path needs $lib, which is not in the root: add its package to $PKGLIST"
	done
done

# ---------------------------------------------------------------- squashfs
sq_inputs=$( { cat "$OUT/rootfs.inputs"; echo "$extra"; echo "$links"; echo "$extra" | while read -r _ _ s; do
	if [ -n "$s" ]; then sha256sum "$s"; fi; done; sha256sum "$0"; } | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/root.squashfs" ] && [ "$(cat "$OUT/root.squashfs.inputs" 2>/dev/null)" = "$sq_inputs" ]; then
	msg "squashfs up to date"
else
	t=$(now)
	pf=$WORK/pseudo
	: > "$pf"
	echo "$extra" | while read -r path mode src; do
		[ -n "$path" ] || continue
		d=$(dirname "$path")
		# Create every missing parent directory first, as pseudo directories.
		acc=
		for c in $(echo "$d" | tr / ' '); do
			acc=${acc:+$acc/}$c
			[ -e "$ROOT/$acc" ] || echo "$acc d 755 0 0" >> "$pf"
		done
		echo "$path f $mode 0 0 cat $src" >> "$pf"
	done
	echo "$links" | while read -r path target; do
		[ -n "$path" ] || continue
		acc=
		for c in $(dirname "$path" | tr / ' '); do
			acc=${acc:+$acc/}$c
			[ -e "$ROOT/$acc" ] || echo "$acc d 755 0 0" >> "$pf"
		done
		echo "$path s 777 0 0 $target" >> "$pf"
	done
	sort -u -o "$pf" "$pf"
	# /boot stays empty: the kernel lives in the UKIs. (-e must come last: every
	# following word is an exclude.)
	# Its messages are read through a pipe (command substitution: complete only
	# once every writer is gone; mksquashfs reports a write error from a second
	# process after the main one has exited), kept in memory: the disk may be full.
	sq_out=$(
		if mksquashfs "$ROOT" "$WORK/root.squashfs" -noappend -quiet -no-progress -no-xattrs \
			-comp zstd -Xcompression-level 15 -b 128K -processors "$(nproc)" \
			-pf "$pf" -wildcards -e 'boot/*' 2>&1; then
			echo "mksquashfs-status=0"
		else
			echo "mksquashfs-status=$?"
		fi
	)
	case $sq_out in
	*mksquashfs-status=0) ;;
	*)
		printf '%s\n' "$sq_out" >&2
		case $sq_out in
		*"No space left"*) die "mksquashfs failed: no space left on device in $OUT; the previous image is unchanged" ;;
		*) die_write "mksquashfs failed" "$OUT" ;;
		esac
		;;
	esac
	mv "$WORK/root.squashfs" "$OUT/root.squashfs"
	echo "$sq_inputs" > "$OUT/root.squashfs.inputs"
	rm -f "$OUT/verity.img" "$OUT/verity.env"
	msg "squashfs: $(du -h "$OUT/root.squashfs" | cut -f1) in $(elapsed "$t") s"
fi
SQ=$OUT/root.squashfs
SQ_SIZE=$(stat -c %s "$SQ")
[ $((SQ_SIZE % 4096)) = 0 ] || die "squashfs size $SQ_SIZE is not a multiple of 4096"
DATA_BLOCKS=$((SQ_SIZE / 4096))

# ---------------------------------------------------------------- verity + FEC
# Hash tree layout (veritysetup format 1, sha256, 4096-byte blocks): one
# superblock block, then the levels; 128 digests per hash block. The FEC parity
# follows the hash tree in the same file (--fec-device = the hash file).
hash_blocks() {
	n=$1 total=1
	while [ "$n" -gt 1 ]; do n=$(( (n + 127) / 128 )); total=$((total + n)); done
	echo "$total"
}
FEC_OFFSET=$(( $(hash_blocks "$DATA_BLOCKS") * 4096 ))
if [ -f "$OUT/verity.img" ] && [ -f "$OUT/verity.env" ]; then
	msg "verity up to date"
else
	t=$(now)
	veritysetup format "$SQ" "$WORK/verity.img" --data-block-size=4096 --hash-block-size=4096 \
		--hash=sha256 --fec-device="$WORK/verity.img" --fec-offset="$FEC_OFFSET" \
		--fec-roots="$FEC_ROOTS" > "$WORK/verity.out" 2>"$WORK/verity.log" ||
		{ cat "$WORK/verity.log" >&2; die_write "veritysetup format failed" "$OUT" "$WORK/verity.log"; }
	roothash=$(awk '/^Root hash:/ { print $3 }' "$WORK/verity.out")
	salt=$(awk '/^Salt:/ { print $2 }' "$WORK/verity.out")
	[ ${#roothash} = 64 ] || die "cannot read the root hash from veritysetup"
	vsize=$(stat -c %s "$WORK/verity.img")
	[ "$vsize" -gt "$FEC_OFFSET" ] || die "no FEC data after the hash tree ($vsize <= $FEC_OFFSET)"
	veritysetup verify "$SQ" "$WORK/verity.img" "$roothash" \
		--fec-device="$WORK/verity.img" --fec-offset="$FEC_OFFSET" --fec-roots="$FEC_ROOTS" ||
		die "veritysetup verify failed right after format"
	cat > "$WORK/verity.env" <<EOV
ROOTHASH=$roothash
SALT=$salt
DATA_BLOCKS=$DATA_BLOCKS
DATA_SIZE=$SQ_SIZE
HASH_OFFSET=0
FEC_OFFSET=$FEC_OFFSET
FEC_ROOTS=$FEC_ROOTS
VERITY_SIZE=$vsize
EOV
	mv "$WORK/verity.img" "$OUT/verity.img"
	mv "$WORK/verity.env" "$OUT/verity.env"
	msg "verity+FEC: $(du -h "$OUT/verity.img" | cut -f1) in $(elapsed "$t") s"
fi
. "$OUT/verity.env"
[ "$DATA_BLOCKS" = $((SQ_SIZE / 4096)) ] || die "verity.env does not match root.squashfs"

# ---------------------------------------------------------------- layout
MIB=1048576
roundup_mib() { echo $(( ($1 + MIB - 1) / MIB )); }
# Root slots: squashfs + 25 % room for updates, at least 512 MiB (REMPART_ROOT_MIB overrides).
ROOT_MIB=${REMPART_ROOT_MIB:-$(roundup_mib $((SQ_SIZE + SQ_SIZE / 4)))}
[ "$ROOT_MIB" -ge 512 ] || ROOT_MIB=512
[ $((ROOT_MIB * MIB)) -ge "$SQ_SIZE" ] || die "REMPART_ROOT_MIB=$ROOT_MIB is smaller than the squashfs"
# Verity slots: enough for the hash tree + FEC of a full root slot (~1/128 + ~1/127).
VERITY_MIB=$(roundup_mib $(( (ROOT_MIB * MIB) / 32 )))
[ "$VERITY_MIB" -ge 8 ] || VERITY_MIB=8
[ $((VERITY_MIB * MIB)) -ge "$VERITY_SIZE" ] || die "verity data ($VERITY_SIZE) exceeds its partition"

# UUIDs: DPS derivation from the root hash (first/last 128 bits) for slot A;
# random for the empty slot B, the ESP and the state partition.
as_uuid() { echo "$1" | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12})$/\1-\2-\3-\4-\5/'; }
ROOT_A_UUID=$(as_uuid "$(echo "$ROOTHASH" | cut -c1-32)")
VERITY_A_UUID=$(as_uuid "$(echo "$ROOTHASH" | cut -c33-64)")
rnd() { cat /proc/sys/kernel/random/uuid; }
ESP_UUID=$(rnd) ROOT_B_UUID=$(rnd) VERITY_B_UUID=$(rnd) STATE_UUID=$(rnd)

# Partition starts (MiB); 1 MiB for the primary GPT, 1 MiB at the end for the backup.
P1=1
P2=$((P1 + ESP_MIB)) P3=$((P2 + ROOT_MIB)) P4=$((P3 + VERITY_MIB))
P5=$((P4 + ROOT_MIB)) P6=$((P5 + VERITY_MIB)) END=$((P6 + STATE_MIB))
DISK_MIB=$((END + 1))

# ---------------------------------------------------------------- cmdline, initramfs, UKIs
cmdline_for() { # slot root_uuid verity_uuid roothash
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$IMG_SRC/cmdline.conf" | tr -s ' \t\n' ' ' |
		sed -e 's/ $//' \
		-e "s/@SLOT@/$1/g" -e "s/@ROOT_PARTUUID@/$2/g" -e "s/@VERITY_PARTUUID@/$3/g" \
		-e "s/@ROOTHASH@/$4/g" -e "s/@STATE_PARTUUID@/$STATE_UUID/g" \
		-e "s/@FEC_OFFSET@/$FEC_OFFSET/g" -e "s/@FEC_ROOTS@/$FEC_ROOTS/g"
}
CMDLINE_A=$(cmdline_for a "$ROOT_A_UUID" "$VERITY_A_UUID" "$ROOTHASH")
case "$CMDLINE_A" in *@*@*) die "unfilled placeholder in cmdline: $CMDLINE_A" ;; esac

# Space for the rest, up front: the disk is sparse but holds the squashfs, the
# verity data and the file systems' metadata; the UKI, ESP and initramfs copies
# add about 60 MiB.
need_space "$OUT" $(( (SQ_SIZE + VERITY_SIZE) / 1024 + 128 * 1024 )) "the disk image"

# REMPART_INIT: another stage-1 binary (default build/src/init/rempart-init).
"$IMG_SRC/build-initramfs.sh" "$ROOT" "$KVER" "$WORK/initrd.cpio.zst" ${REMPART_INIT:+"$REMPART_INIT"} ||
	die_write "initramfs build failed" "$OUT"

# UKI = systemd-stub + sections, laid out after the stub's last section at the
# stub's SectionAlignment (the UKI specification's layout, what ukify computes).
# objcopy sets the virtual addresses; the result is checked with objdump.
STUB=$EFI/linuxx64.efi.stub
make_uki() { # out cmdline
	printf '%s' "$2" > "$WORK/cmdline.txt"
	printf '%s' "$KVER" > "$WORK/uname.txt"
	{ cat "$ROOT/usr/lib/os-release"; echo "IMAGE_ID=rempart"; echo "IMAGE_VERSION=$(echo "$ROOTHASH" | cut -c1-12)"; } > "$WORK/osrel.txt"
	base=$(objdump -p "$STUB" | awk '$1 == "ImageBase" { print $2 }')
	align=$(objdump -p "$STUB" | awk '$1 == "SectionAlignment" { print $2 }')
	base=$((0x$base)) align=$((0x$align))
	# End of the stub's last section (VMA + size), relative to the image base.
	end=0
	for v in $(objdump -h -w "$STUB" | awk '$1 ~ /^[0-9]+$/ { print $3 ":" $4 }'); do
		e=$(( 0x${v#*:} + 0x${v%%:*} - base ))
		if [ "$e" -gt "$end" ]; then end=$e; fi
	done
	args=
	off=$(( (end + align - 1) / align * align ))
	for s in osrel:osrel.txt cmdline:cmdline.txt uname:uname.txt initrd:initrd.cpio.zst \
		linux:vmlinuz; do
		name=${s%%:*} file=$WORK/${s#*:}
		if [ "$name" = linux ]; then file=$ROOT/boot/vmlinuz-$KVER; fi
		args="$args --add-section .$name=$file --change-section-vma .$name=$(printf '0x%x' $((base + off)))"
		size=$(stat -c %s "$file")
		off=$(( (off + size + align - 1) / align * align ))
	done
	# shellcheck disable=SC2086 # args is a list of options built above
	objcopy $args "$STUB" "$WORK/uki.unsigned.efi" || die_write "objcopy failed building the UKI" "$OUT"
	sbsign --key "$KEYS/db.key" --cert "$KEYS/db.crt" --output "$1" "$WORK/uki.unsigned.efi" \
		2>"$WORK/sbsign.log" || { cat "$WORK/sbsign.log" >&2; die "sbsign failed for the UKI"; }
	sbverify --cert "$KEYS/db.crt" "$1" >/dev/null 2>&1 || die "signed UKI does not verify"
}
make_uki "$WORK/rempart-a.efi" "$CMDLINE_A"
# Slot B is empty: no UKI until the update component installs one with B's root hash.

sbsign --key "$KEYS/db.key" --cert "$KEYS/db.crt" --output "$WORK/systemd-bootx64.efi" \
	"$EFI/systemd-bootx64.efi" 2>"$WORK/sbsign.log" ||
	{ cat "$WORK/sbsign.log" >&2; die "sbsign failed for systemd-boot"; }
sbverify --cert "$KEYS/db.crt" "$WORK/systemd-bootx64.efi" >/dev/null 2>&1 || die "signed systemd-boot does not verify"

# ---------------------------------------------------------------- ESP
cat > "$WORK/loader.conf" <<EOL
# Rempart: boot the newest slot at once; no menu editing; enroll our keys in setup mode.
timeout 0
editor no
auto-entries no
auto-firmware no
default rempart-*
secure-boot-enroll force
EOL
ESP=$WORK/esp.img
truncate -s $((ESP_MIB * MIB)) "$ESP"
mkfs.vfat -F 32 -n REMPART-ESP -i "$(echo "$ESP_UUID" | cut -c1-8)" "$ESP" >/dev/null || die_write "mkfs.vfat failed" "$OUT"
export MTOOLS_SKIP_CHECK=1
mmd -i "$ESP" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/EFI/Linux ::/loader ::/loader/keys \
	::/loader/keys/auto || die_write "mmd failed on the ESP" "$OUT"
esp_put() { mcopy -i "$ESP" "$1" "$2" || die_write "mcopy $1 to the ESP failed" "$OUT"; }
esp_put "$WORK/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
esp_put "$WORK/systemd-bootx64.efi" ::/EFI/systemd/systemd-bootx64.efi
esp_put "$WORK/rempart-a.efi" ::/EFI/Linux/rempart-a.efi
esp_put "$WORK/loader.conf" ::/loader/loader.conf
# systemd-boot enrolls automatically (secure-boot-enroll force, setup mode) only
# the key set in a directory literally named "auto"; other names only get a menu entry.
for k in PK KEK db; do esp_put "$KEYS/$k.auth" "::/loader/keys/auto/$k.auth"; done

# ---------------------------------------------------------------- GPT disk
DISK=$WORK/disk.img
truncate -s $((DISK_MIB * MIB)) "$DISK"
sfdisk --quiet --no-reread --no-tell-kernel "$DISK" <<EOS || die "sfdisk failed"
label: gpt
unit: sectors
first-lba: 2048
start=$((P1 * 2048)), size=$((ESP_MIB * 2048)), type=$T_ESP, uuid=$ESP_UUID, name="esp"
start=$((P2 * 2048)), size=$((ROOT_MIB * 2048)), type=$T_ROOT, uuid=$ROOT_A_UUID, name="root-a"
start=$((P3 * 2048)), size=$((VERITY_MIB * 2048)), type=$T_VERITY, uuid=$VERITY_A_UUID, name="root-a-verity"
start=$((P4 * 2048)), size=$((ROOT_MIB * 2048)), type=$T_ROOT, uuid=$ROOT_B_UUID, name="_empty"
start=$((P5 * 2048)), size=$((VERITY_MIB * 2048)), type=$T_VERITY, uuid=$VERITY_B_UUID, name="_empty"
start=$((P6 * 2048)), size=$((STATE_MIB * 2048)), type=$T_VAR, uuid=$STATE_UUID, name="state"
EOS
put() { # file start_mib
	dd if="$1" of="$DISK" bs=1M seek="$2" conv=notrunc,sparse status=none 2>"$WORK/dd.log" ||
		{ cat "$WORK/dd.log" >&2; die_write "writing $1 into the disk failed" "$OUT" "$WORK/dd.log"; }
}
put "$ESP" $P1
put "$SQ" $P2
put "$OUT/verity.img" $P3
# State: empty ext4 written in place (mke2fs offset option: no loop device).
mkfs.ext4 -q -F -L rempart-state -E offset=$((P6 * MIB)) "$DISK" "$((STATE_MIB * 1024))k" ||
	die_write "mkfs.ext4 failed for the state partition" "$OUT"
sfdisk --verify "$DISK" >/dev/null 2>&1 || die "GPT verification failed"

cat > "$WORK/disk.json" <<EOJ
{
  "variant": "$VARIANT",
  "kernel": "$KVER",
  "roothash": "$ROOTHASH",
  "salt": "$SALT",
  "data_blocks": $DATA_BLOCKS,
  "data_size": $DATA_SIZE,
  "hash_offset": 0,
  "fec_offset": $FEC_OFFSET,
  "fec_roots": $FEC_ROOTS,
  "verity_size": $VERITY_SIZE,
  "cmdline_a": "$CMDLINE_A",
  "partitions": [
    { "name": "esp", "start_mib": $P1, "size_mib": $ESP_MIB, "type": "$T_ESP", "uuid": "$ESP_UUID" },
    { "name": "root-a", "start_mib": $P2, "size_mib": $ROOT_MIB, "type": "$T_ROOT", "uuid": "$ROOT_A_UUID" },
    { "name": "root-a-verity", "start_mib": $P3, "size_mib": $VERITY_MIB, "type": "$T_VERITY", "uuid": "$VERITY_A_UUID" },
    { "name": "root-b", "start_mib": $P4, "size_mib": $ROOT_MIB, "type": "$T_ROOT", "uuid": "$ROOT_B_UUID" },
    { "name": "root-b-verity", "start_mib": $P5, "size_mib": $VERITY_MIB, "type": "$T_VERITY", "uuid": "$VERITY_B_UUID" },
    { "name": "state", "start_mib": $P6, "size_mib": $STATE_MIB, "type": "$T_VAR", "uuid": "$STATE_UUID" }
  ]
}
EOJ
[ -s "$WORK/disk.json" ] || die_write "cannot write disk.json" "$OUT"
# Everything is complete and on disk before the first rename (a crash then
# leaves either the old or the new image, never a partial one).
sync -f "$WORK/disk.img" || die_write "sync failed" "$OUT"

# ---------------------------------------------------------------- install (rename last)
mv "$WORK/rempart-a.efi" "$OUT/rempart-a.efi"
mv "$WORK/systemd-bootx64.efi" "$OUT/systemd-bootx64.efi"
mv "$WORK/initrd.cpio.zst" "$OUT/initrd.cpio.zst"
mv "$WORK/disk.json" "$OUT/disk.json"
mv "$DISK" "$OUT/disk.img"
msg "image $OUT/disk.img: ${DISK_MIB} MiB apparent, $(du -h "$OUT/disk.img" | cut -f1) allocated, root hash $ROOTHASH ($(elapsed "$start") s)"

#!/bin/sh
# Build the Debian trixie root of the Rempart image (a directory tree), then
# harden it: locked root, no setuid/setgid bits, no file capabilities.
#
#   image/build-rootfs.sh            -> build-image/prod/rootfs
#   TEST=1 image/build-rootfs.sh     -> build-image/test/rootfs (+ image/overlay-test)
#   FORCE=1 ...                      rebuild even when the inputs did not change
#
# Incremental: the tree is rebuilt only when packages.list, the overlays or this
# script change (hash kept in rootfs.inputs). Downloaded .debs are kept in
# $REMPART_CACHE/apt-archives (synchronised in and out of the chroot with
# mmdebstrap's sync-in/sync-out hooks, as its manual recommends), so a rebuild
# only downloads what changed. The tree is built under a temporary name and
# renamed into place at the end: an interrupted build leaves the old tree.
set -eu
. "$(dirname "$0")/lib.sh"

need mmdebstrap getcap setcap sha256sum
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap root mode, chroot)"

check_pkglist
PKGS=$(sed -e 's/#.*//' "$PKGLIST" | tr -s ' \t\n' ',' | sed -e 's/^,//' -e 's/,$//')
[ -n "$PKGS" ] || die "package list $PKGLIST is empty"
[ -r "$REMPART_KEYRING" ] || die "cannot read keyring $REMPART_KEYRING (install debian-archive-keyring)"

# Hash of every input: the package list, both overlays (names, modes, contents) and this script.
inputs_hash() {
	{
		cat "$PKGLIST" "$0" "$IMG_SRC/lib.sh"
		echo "variant=$VARIANT suite=$SUITE mirror=$MIRROR"
		for d in overlay overlay-test; do
			[ "$d" = overlay-test ] && [ "$VARIANT" != test ] && continue
			(cd "$IMG_SRC/$d" && find . -print0 | LC_ALL=C sort -z |
				xargs -0 stat -c '%n %a %F %N' && find . -type f -print0 |
				LC_ALL=C sort -z | xargs -0 -r sha256sum)
		done
	} | sha256sum | cut -d' ' -f1
}

mkdir -p "$OUT"
HASH=$(inputs_hash)
if [ "${FORCE:-0}" != 1 ] && [ -d "$OUT/rootfs" ] && [ -f "$OUT/rootfs.inputs" ] &&
	[ "$(cat "$OUT/rootfs.inputs")" = "$HASH" ]; then
	msg "rootfs up to date ($OUT/rootfs)"
	exit 0
fi

ARCHIVES=$CACHE/apt-archives
mkdir -p "$ARCHIVES"
TMP=$OUT/rootfs.tmp.$$
EFI_TMP=$OUT/efi.tmp.$$
cleanup() {
	rm -rf "$TMP" "$EFI_TMP"
	for f in setid-removed caps-removed packages; do rm -f "$OUT/$f.txt.tmp"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$EFI_TMP"
# The tree is about 250 MiB (plus the old one until the swap).
need_space "$OUT" $((400 * 1024)) "the root tree"

start=$(now)
msg "mmdebstrap $SUITE ($PKGS) -> $TMP"
# --skip=essential/unlink keeps the .debs that were synced in, so sync-out
# writes the complete set back to the cache. systemd-boot-efi is installed only
# to copy its EFI binaries out; it is purged from the root afterwards.
mmdebstrap --mode=root --variant=apt --format=directory \
	--keyring="$REMPART_KEYRING" \
	--include="$PKGS" \
	--aptopt='APT::Install-Recommends "false"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-include=/usr/share/locale/locale.alias' \
	--skip=essential/unlink \
	--setup-hook='mkdir -p "$1/var/cache/apt/archives"' \
	--setup-hook="sync-in '$ARCHIVES' /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives '$ARCHIVES'" \
	--customize-hook="cp -a \"\$1/usr/lib/systemd/boot/efi/.\" '$EFI_TMP/'" \
	--customize-hook='chroot "$1" dpkg --purge systemd-boot-efi' \
	"$SUITE" "$TMP" "$MIRROR" || die_write "mmdebstrap failed" "$OUT"

msg "configuring the root"
# Configuration overlay (owned by root, modes as in the repository).
cp -a --no-preserve=ownership "$IMG_SRC/overlay/." "$TMP/"
# The user of the levels (see /etc/rempart/levels): no password until the
# machine is provisioned; the login shell is the level menu
# (/usr/bin/rempart-login, added with Rempart's binaries): a session is
# always inside a level, never in the core.
chroot "$TMP" useradd --no-create-home --home-dir / --shell /usr/bin/rempart-login \
	--comment 'Rempart level user' rempart-user
chroot "$TMP" passwd -q -l rempart-user
# The audit role: members read the audit log (/var/lib/rempart/audit, made by
# tmpfiles.d with this group; src/audit/README.md). /etc is read-only at run
# time, so the group is made here, not by sysusers.d.
chroot "$TMP" groupadd --system rempart-audit
if [ "$VARIANT" = test ]; then
	msg "TEST=1: applying image/overlay-test (test images only)"
	"$IMG_SRC/overlay-test/apply.sh" "$TMP"
fi
# No root password and no way to get one: locked account, no rescue shell.
chroot "$TMP" passwd -q -l root
chroot "$TMP" systemctl -q mask debug-shell.service
# /tmp is a noexec tmpfs mounted by rempart-init: keep systemd's exec-able one away.
chroot "$TMP" systemctl -q mask tmp.mount
# Writable or executable mount points nothing in Rempart uses (W^X: every
# writable mount must be noexec,nosuid,nodev; the e2e tests check it).
chroot "$TMP" systemctl -q mask proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount \
	dev-hugepages.mount
# Machine id: the image ships an empty file; rempart-init bind-mounts (read-only)
# the machine's own id, kept on the state partition in /var/lib/rempart/machine-id
# and created there on first boot, over it.
: > "$TMP/etc/machine-id"
rm -f "$TMP/var/lib/dbus/machine-id"
# The initramfs-tools image is never used (the UKI carries rempart's initramfs).
rm -f "$TMP"/boot/initrd.img*

# No setuid/setgid files and no file capabilities, recorded for the report.
find "$TMP" -xdev -type f -perm /6000 -printf '/%P %m\n' | LC_ALL=C sort > "$OUT/setid-removed.txt.tmp"
find "$TMP" -xdev -type f -perm /6000 -exec chmod u-s,g-s {} +
getcap -r "$TMP" 2>/dev/null | sed "s|^$TMP||" | LC_ALL=C sort > "$OUT/caps-removed.txt.tmp"
sed 's/ .*//' "$OUT/caps-removed.txt.tmp" | while read -r f; do
	setcap -r "$TMP$f"
done
left=$(find "$TMP" -xdev -type f -perm /6000 | wc -l)
[ "$left" = 0 ] || die "$left setuid/setgid files left"
[ -z "$(getcap -r "$TMP" 2>/dev/null)" ] || die "file capabilities left"
# Forbidden tools (compilers, debuggers, privilege raisers) must not sneak in via dependencies.
for f in gcc cc c++ tcc clang gdb strace ltrace sudo doas pkexec; do
	if [ -e "$TMP/usr/bin/$f" ]; then die "forbidden program /usr/bin/$f in the root"; fi
done
ls "$TMP"/boot/vmlinuz-* >/dev/null 2>&1 || die "no kernel in the root (linux-image-amd64 missing?)"
[ -f "$EFI_TMP/systemd-bootx64.efi" ] && [ -f "$EFI_TMP/linuxx64.efi.stub" ] ||
	die "systemd-boot-efi binaries missing"
chroot "$TMP" dpkg-query -W -f '${Package} ${Version}\n' | LC_ALL=C sort > "$OUT/packages.txt.tmp"

# Swap into place (old tree removed only after the new one is complete).
rm -rf "$OUT/rootfs.old" "$OUT/efi.old"
if [ -d "$OUT/rootfs" ]; then mv "$OUT/rootfs" "$OUT/rootfs.old"; fi
if [ -d "$OUT/efi" ]; then mv "$OUT/efi" "$OUT/efi.old"; fi
mv "$TMP" "$OUT/rootfs"
mv "$EFI_TMP" "$OUT/efi"
for f in setid-removed caps-removed packages; do mv "$OUT/$f.txt.tmp" "$OUT/$f.txt"; done
echo "$HASH" > "$OUT/rootfs.inputs"
rm -rf "$OUT/rootfs.old" "$OUT/efi.old"
msg "rootfs done in $(elapsed "$start") s: $(du -sh "$OUT/rootfs" | cut -f1), $(wc -l < "$OUT/packages.txt") packages, $(wc -l < "$OUT/setid-removed.txt") setid bits and $(wc -l < "$OUT/caps-removed.txt") capabilities removed"

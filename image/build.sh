#!/bin/sh
# make image: the whole pipeline, each step incremental.
#   1. keys present?  (make keys creates them; never created implicitly here)
#   2. build-rootfs.sh   Debian trixie root (skipped when its inputs did not change)
#   3. build-image.sh    squashfs, verity+FEC, initramfs, signed UKI + systemd-boot, GPT disk
# TEST=1 builds the test variant (build-image/test/), with image/overlay-test.
set -eu
. "$(dirname "$0")/lib.sh"
# Every input is checked before anything is written (no half-done build).
check_keys
check_pkglist
start=$(now)
"$IMG_SRC/build-rootfs.sh"
"$IMG_SRC/build-image.sh"
msg "done in $(elapsed "$start") s: $OUT/disk.img"

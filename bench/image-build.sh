#!/bin/sh
# Image build time and image sizes (benchmark, not a test).
#
#   bench/image-build.sh            (root; TEST=1 for the test variant)
#
# Builds into ${REMPART_IMAGE_OUT:-build-image}/<variant>/ (set REMPART_IMAGE_OUT
# to keep your real build untouched):
#   cold     the root tree, squashfs and verity data removed first (the apt
#            download cache is kept: no network time is measured), then a full
#            `image/build.sh`;
#   cached   `image/build.sh` again with nothing changed (what `make run` pays
#            on every run), BENCH_ROUNDS times (default 3, median).
# Then the sizes: squashfs, verity (hash tree / FEC), initramfs, UKI, ESP
# content, disk apparent and allocated. Results also in $BENCH_OUT/image-build.txt.
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "image-build.sh: needs root (mmdebstrap, chroot)" >&2; exit 1; }
if [ "${TEST:-0}" = 1 ]; then V="test"; else V="prod"; fi
OUT=${REMPART_IMAGE_OUT:-$REPO/build-image}/$V
BENCH_OUT=${BENCH_OUT:-/tmp/rempart-bench}
ROUNDS=${BENCH_ROUNDS:-3}
mkdir -p "$BENCH_OUT"
LOG=$BENCH_OUT/image-build.log
: > "$LOG"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f\n", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
step() { # label: time from the "<label> ... in N s" lines of the build's messages
	grep -o "$1.* in [0-9.]* s" "$LOG.cur" | tail -n1 | sed 's/.* in \([0-9.]*\) s/\1/'
}

if [ "${BENCH_SKIP_COLD:-0}" != 1 ]; then
	rm -rf "$OUT/rootfs" "$OUT/rootfs.inputs" "$OUT/root.squashfs" "$OUT/root.squashfs.inputs" \
		"$OUT/verity.img" "$OUT/verity.env"
	t=$(now)
	"$REPO/image/build.sh" > "$LOG.cur" 2>&1 || { cat "$LOG.cur" >&2; exit 1; }
	cold=$(since "$t")
	cat "$LOG.cur" >> "$LOG"
	cold_rootfs=$(step "rootfs done") cold_sq=$(step "squashfs:") cold_verity=$(step "verity+FEC:")
else
	cold=skipped cold_rootfs=- cold_sq=- cold_verity=-
fi
: > "$BENCH_OUT/image-build.cached"
i=0
while [ $i -lt "$ROUNDS" ]; do
	t=$(now)
	"$REPO/image/build.sh" > "$LOG.cur" 2>&1 || { cat "$LOG.cur" >&2; exit 1; }
	since "$t" >> "$BENCH_OUT/image-build.cached"
	cat "$LOG.cur" >> "$LOG"
	i=$((i + 1))
done
cached=$(median < "$BENCH_OUT/image-build.cached")
rm -f "$LOG.cur"

# shellcheck disable=SC1091 # written by build-image.sh
. "$OUT/verity.env"
size() { stat -L -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
{
	echo "image build ($V variant, $(nproc) CPUs, apt cache warm)"
	echo "  cold (root tree rebuilt)   $cold s  (rootfs $cold_rootfs s, squashfs $cold_sq s, verity+FEC $cold_verity s)"
	echo "  cached (nothing changed)   $cached s  (median of $ROUNDS: $(tr '\n' ' ' < "$BENCH_OUT/image-build.cached"))"
	echo "sizes"
	echo "  root tree                  $(du -sh "$OUT/rootfs" | cut -f1) ($(wc -l < "$OUT/packages.txt") packages)"
	echo "  squashfs                   $(mib "$(size "$OUT/root.squashfs")")"
	echo "  verity hash tree           $(mib "$FEC_OFFSET")"
	echo "  verity FEC (roots $FEC_ROOTS)       $(mib $((VERITY_SIZE - FEC_OFFSET)))"
	echo "  initramfs (zstd cpio)      $(mib "$(size "$OUT/initrd.cpio.zst")")"
	echo "  UKI (signed)               $(mib "$(size "$OUT/rempart-a.efi")")"
	echo "  systemd-boot (signed)      $(mib "$(size "$OUT/systemd-bootx64.efi")")"
	echo "  disk apparent              $(mib "$(size "$OUT/disk.img")")"
	echo "  disk allocated             $(mib $(($(stat -c %b "$OUT/disk.img") * $(stat -c %B "$OUT/disk.img"))))"
} | tee "$BENCH_OUT/image-build.txt"

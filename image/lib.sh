# Shared settings for the image scripts (sourced, not run).
# Everything the build downloads is cached outside the repository; everything it
# produces goes to build-image/<variant>/ (ignored by git, removed by make clean).

IMG_SRC=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$IMG_SRC/.." && pwd)
CACHE=${REMPART_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rempart}
KEYS=${REMPART_KEYS:-$REPO/keys}
MIRROR=${REMPART_MIRROR:-http://deb.debian.org/debian}
SUITE=${REMPART_SUITE:-trixie}
if [ -z "${REMPART_KEYRING:-}" ]; then
	REMPART_KEYRING=/usr/share/keyrings/debian-archive-trixie-stable.gpg
	[ -r "$REMPART_KEYRING" ] || REMPART_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
fi
# TEST=1 selects the test variant (adds image/overlay-test); never ship it.
if [ "${TEST:-0}" = 1 ]; then VARIANT=test; else VARIANT=prod; fi
OUT=${REMPART_IMAGE_OUT:-$REPO/build-image}/$VARIANT

msg() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }
need() {
	for _t in "$@"; do
		command -v "$_t" >/dev/null 2>&1 || die "missing tool '$_t' (run: make deps)"
	done
}
# Seconds since the epoch with decimals, for timings.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

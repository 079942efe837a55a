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
# Package list of the root (REMPART_PACKAGES: another list, e.g. for tests).
PKGLIST=${REMPART_PACKAGES:-$IMG_SRC/packages.list}

msg() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }
need() {
	for _t in "$@"; do
		command -v "$_t" >/dev/null 2>&1 || die "missing tool '$_t' (run: make deps)"
	done
}
# The inputs every build needs, checked before anything is written.
check_keys() {
	for _f in db.key db.crt PK.auth KEK.auth db.auth; do
		[ -f "$KEYS/$_f" ] && [ -r "$KEYS/$_f" ] ||
			die "missing Secure Boot key file $KEYS/$_f: run 'make keys' first (or set REMPART_KEYS)"
	done
}
check_pkglist() {
	[ -e "$PKGLIST" ] || die "package list $PKGLIST does not exist"
	[ -f "$PKGLIST" ] || die "package list $PKGLIST is not a regular file"
	[ -r "$PKGLIST" ] && cat "$PKGLIST" >/dev/null 2>&1 || die "cannot read package list $PKGLIST"
	[ -n "$(sed -e 's/#.*//' "$PKGLIST" | tr -d ' \t\n')" ] || die "package list $PKGLIST is empty"
}
# Free space (KiB) of the file system holding $1.
free_kib() { df -Pk "$1" | awk 'NR == 2 { print $4 }'; }
# die for a failed step that writes, naming a full file system when that is
# the cause (ENOSPC in the step's log, or almost no space left).
die_write() { # what dir [log]
	_free=$(free_kib "$2" 2>/dev/null) || _free=
	if { [ -n "${3:-}" ] && grep -qi 'no space left' "$3" 2>/dev/null; } ||
		{ [ -n "$_free" ] && [ "$_free" -lt 4096 ]; }; then
		die "$1: no space left on device ($2: ${_free:-?} KiB free); the previous image is unchanged"
	fi
	die "$1; the previous image is unchanged"
}
# Fail early when the file system of $1 has less than $2 KiB free.
need_space() { # dir kib what
	_free=$(free_kib "$1") || die "cannot read the free space of $1"
	[ "$_free" -ge "$2" ] ||
		die "not enough space for $3 in $1: $((_free / 1024)) MiB free, $(($2 / 1024)) MiB needed (no space left on device); nothing was replaced"
}
# Seconds since the epoch with decimals, for timings.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

#!/bin/sh
# Bad inputs to the image build fail with a clear message and leave the previous
# image untouched, with no temporary file left behind (issue 3, point 6).
#
#   tests/image/run-build-errors.sh        (root; TAP on stdout: ok N - image/<name>)
#
# Every case starts from a fresh output directory (REMPART_IMAGE_OUT) holding a
# "good" disk.img (random bytes, known sha256) and checks, after the failed
# build: exit status non-zero, the expected words in the message, disk.img
# unchanged, and the directory listing unchanged (no temporary file left).
# The full-disk cases run the build on a 64 MiB tmpfs mounted in a private
# mount namespace; the ones that get past the root step need a cached root tree
# ($REMPART_IMAGE_OUT/<variant>/rootfs, default build-image/, made by
# `make image`), bind-mounted read-only into the tmpfs (so the cache cannot be
# changed); without it they are skipped.
# TEST=1 uses the test variant's cache. About 30 s with the cache.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root (mount namespace, tmpfs)"; exit 0; }
if [ -z "${REMPART_ERRTEST_NS:-}" ]; then
	command -v unshare >/dev/null || { echo "1..0 # SKIP no unshare"; exit 0; }
	REMPART_ERRTEST_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
if [ "${TEST:-0}" = 1 ]; then V="test"; else V="prod"; fi
CACHED=${REMPART_IMAGE_OUT:-$REPO/build-image}/$V
unset REMPART_IMAGE_OUT REMPART_PACKAGES

T=$(mktemp -d /tmp/rempart-build-errors.XXXXXX)
cleanup() {
	umount -q -R "$T/full" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Real keys are not needed by the failing cases that stop before signing, but
# the build checks for them first: a throw-away set of files that pass the check.
mkdir "$T/keys"
for f in db.key db.crt PK.auth KEK.auth db.auth; do echo dummy > "$T/keys/$f"; done
KEYS_OK=${REMPART_KEYS:-$REPO/keys}
[ -r "$KEYS_OK/db.key" ] || KEYS_OK=$T/keys

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - image/$1${2:+ # $2}"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - image/$1"; shift; for l in "$@"; do echo "# $l"; done; }

# new_out DIR: DIR/<variant>/disk.img = 1 MiB of random bytes; prints nothing.
new_out() {
	mkdir -p "$1/$V"
	head -c 1048576 /dev/urandom > "$1/$V/disk.img"
	echo '{"fake": "previous good image"}' > "$1/$V/disk.json"
	sha256sum "$1/$V/disk.img" "$1/$V/disk.json" > "$T/good.sha"
	(cd "$1" && find . | LC_ALL=C sort) > "$T/before.ls"
}

# check NAME OUT LOG RC WORD...: non-zero status, every WORD in the log (grep -i),
# previous image unchanged, nothing added or removed.
check() {
	name=$1 out=$2 log=$3 rc=$4
	shift 4
	why=
	[ "$rc" != 0 ] || why="$why build succeeded;"
	for w in "$@"; do
		grep -qi -- "$w" "$log" || why="$why message lacks '$w';"
	done
	sha256sum --quiet -c "$T/good.sha" >/dev/null 2>&1 || why="$why previous image changed;"
	(cd "$out" && find . | LC_ALL=C sort) > "$T/after.ls"
	if ! cmp -s "$T/before.ls" "$T/after.ls"; then
		why="$why files left: $(diff "$T/before.ls" "$T/after.ls" | grep '^[<>]' | tr '\n' ' ');"
	fi
	if [ -z "$why" ]; then
		ok "$name"
		echo "#   $(grep -i 'error' "$log" | tail -n1)"
	else
		notok "$name" "$why" "$(tail -n 5 "$log")"
	fi
}

build() { # OUT LOG [VAR=VALUE...] -- runs image/build.sh, returns its status
	_out=$1 _log=$2
	shift 2
	env REMPART_IMAGE_OUT="$_out" REMPART_KEYS="$KEYS_OK" "$@" "$REPO/image/build.sh" > "$_log" 2>&1
}

echo "1..7"

# 1. Missing keys: refused before anything is written, naming the file and `make keys`.
O=$T/o1; new_out "$O"
build "$O" "$T/1.log" REMPART_KEYS=/nonexistent/keys; rc=$?
check missing-keys "$O" "$T/1.log" $rc "/nonexistent/keys/db.key" "make keys"

# 2. Package list that does not exist.
O=$T/o2; new_out "$O"
build "$O" "$T/2.log" REMPART_PACKAGES="$T/no-such.list"; rc=$?
check pkglist-missing "$O" "$T/2.log" $rc "package list $T/no-such.list" "does not exist"

# 3. Package list that cannot be read as a file (a directory: chmod 000 does not stop root).
O=$T/o3; new_out "$O"; mkdir "$T/list-dir"
build "$O" "$T/3.log" REMPART_PACKAGES="$T/list-dir"; rc=$?
check pkglist-unreadable "$O" "$T/3.log" $rc "package list $T/list-dir" "not a regular file"

# 4. Package list without a package (comments only), and the root step run alone.
O=$T/o4; new_out "$O"; printf '# nothing\n\n' > "$T/empty.list"
env REMPART_IMAGE_OUT="$O" REMPART_PACKAGES="$T/empty.list" "$REPO/image/build-rootfs.sh" > "$T/4.log" 2>&1; rc=$?
check pkglist-empty "$O" "$T/4.log" $rc "package list $T/empty.list" "is empty"

# 5-7: a full disk. The output directory is a 64 MiB tmpfs.
F=$T/full
mkdir "$F"
if ! mount -t tmpfs -o size=64M,mode=0755 rempart-full "$F"; then
	for c in full-disk-rootfs full-disk-squashfs full-disk-image; do ok "$c" "SKIP cannot mount tmpfs"; done
	exit 0
fi

# 5. No root tree yet: the root step refuses up front (ENOSPC would come
#    after minutes of mmdebstrap), before downloading anything.
new_out "$F"
build "$F" "$T/5.log"; rc=$?
check full-disk-rootfs "$F" "$T/5.log" $rc "no space left on device" "previous image is unchanged\|nothing was replaced"
rm -rf "${F:?}/$V"

# bind_ro NAME...: $CACHED/NAME appears read-only as $F/$V/NAME.
bind_ro() {
	for _b in "$@"; do
		if [ -d "$CACHED/$_b" ]; then mkdir "$F/$V/$_b"; else : > "$F/$V/$_b"; fi
		mount --bind "$CACHED/$_b" "$F/$V/$_b" && mount -o remount,bind,ro "$F/$V/$_b" || return 1
	done
}
unbind() { umount -q -R "$F/$V" 2>/dev/null; for _b in rootfs efi root.squashfs verity.img; do umount -q "$F/$V/$_b" 2>/dev/null; done; rm -rf "${F:?}/$V"; }

# 6. Cached root tree, no squashfs: mksquashfs runs out of space half-way.
if [ -d "$CACHED/rootfs" ] && [ -f "$CACHED/rootfs.inputs" ] && [ -d "$CACHED/efi" ]; then
	mkdir -p "$F/$V"
	bind_ro rootfs efi
	cp "$CACHED/rootfs.inputs" "$F/$V/"
	new_out "$F"
	build "$F" "$T/6.log"; rc=$?
	if grep -q 'mmdebstrap\|not enough space for the root tree' "$T/6.log"; then
		# The cache is older than the build scripts: the root step would rebuild it.
		check full-disk-squashfs "$F" "$T/6.log" $rc "no space left on device"
		echo "#   (cached root is stale: failed in the root step, not in mksquashfs; run make image)"
	else
		check full-disk-squashfs "$F" "$T/6.log" $rc "mksquashfs failed: no space left on device" \
			"previous image is unchanged"
	fi
	unbind
else
	ok full-disk-squashfs "SKIP no cached root in $CACHED (make image first)"
fi

# 7. Cached root and squashfs + verity (linked): the disk does not fit, refused
#    before it is written.
if [ -f "$CACHED/root.squashfs" ] && [ -f "$CACHED/verity.img" ] && [ -f "$CACHED/verity.env" ]; then
	mkdir -p "$F/$V"
	bind_ro rootfs efi root.squashfs verity.img
	cp "$CACHED/rootfs.inputs" "$CACHED/root.squashfs.inputs" "$CACHED/verity.env" "$F/$V/"
	new_out "$F"
	build "$F" "$T/7.log"; rc=$?
	check full-disk-image "$F" "$T/7.log" $rc "no space left on device" "nothing was replaced\|previous image is unchanged"
	unbind
else
	ok full-disk-image "SKIP no cached squashfs in $CACHED (make image first)"
fi
[ -z "${KEEP_LOGS:-}" ] || cp "$T"/*.log "$KEEP_LOGS"/
[ "$failed" = 0 ]

#!/bin/sh
# Install the Debian packages Rempart needs to build and test, idempotently.
# Only missing packages are installed; the host's apt sources are never changed.
set -eu

BUILD_PKGS="build-essential meson ninja-build pkg-config clang lld llvm libclang-rt-14-dev
 libseccomp-dev libcmocka-dev libinih-dev linux-libc-dev libcryptsetup-dev libblkid-dev libkmod-dev libssl-dev"
IMAGE_PKGS="mmdebstrap squashfs-tools cryptsetup-bin sbsigntool efitools ovmf swtpm swtpm-tools
 dosfstools mtools fdisk openssl xxd kmod"
CHECK_PKGS="clang-tidy cppcheck"
VM_PKGS="qemu-system-x86 qemu-utils cpio zstd xz-utils busybox-static dpkg-dev"
BENCH_PKGS="bubblewrap firejail crun hyperfine systemd-container util-linux"
TOOL_PKGS="python3 jq iproute2 curl ca-certificates"

want="$BUILD_PKGS $CHECK_PKGS $VM_PKGS $BENCH_PKGS $TOOL_PKGS $IMAGE_PKGS"
missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

#!/bin/bash
# Fetch the Debian trixie amd64 kernel used by the VM tests, once, into a cache
# outside the repository, and print the path of its vmlinuz.
#
# apt runs with a configuration of its own (APT_CONFIG plus Dir::* under the
# cache), so the host's sources, lists, dpkg status and apt.conf.d are never
# read or written.  A cached kernel is reused without touching the network.
#
# Usage: fetch-kernel.sh [--update] [--print-dir]
#   --update     re-resolve linux-image-amd64 on the mirror (fetch a newer ABI)
#   --print-dir  print the extracted kernel tree instead of the vmlinuz path
# Environment:
#   REMPART_CACHE        cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/rempart)
#   REMPART_VM_MIRROR    Debian mirror (default http://deb.debian.org/debian)
#   REMPART_VM_SUITE     suite (default trixie)
#   REMPART_VM_KEYRING   archive keyring (default /usr/share/keyrings/debian-archive-keyring.gpg)
set -eu

die() { echo "fetch-kernel: error: $*" >&2; exit 1; }
note() { echo "fetch-kernel: $*" >&2; }

update=0
print_dir=0
while [ $# -gt 0 ]; do
    case "$1" in
        --update) update=1 ;;
        --print-dir) print_dir=1 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done

cache_root=${REMPART_CACHE:-${XDG_CACHE_HOME:-${HOME:?HOME is unset}/.cache}/rempart}
kdir="$cache_root/kernel"
mirror=${REMPART_VM_MIRROR:-http://deb.debian.org/debian}
suite=${REMPART_VM_SUITE:-trixie}
keyring=${REMPART_VM_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# "current" points at the extracted tree of the kernel in use; it is only
# (re)pointed after a complete extraction, so its presence means "usable".
emit() {
    local tree
    tree=$(readlink -f "$kdir/current")
    if [ "$print_dir" = 1 ]; then
        echo "$tree"
    else
        echo "$tree/vmlinuz"
    fi
}

if [ "$update" = 0 ] && [ -e "$kdir/current/vmlinuz" ]; then
    emit
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb flock; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run scripts/install-deps.sh)"
done
[ -r "$keyring" ] || die "archive keyring '$keyring' not readable (install debian-archive-keyring)"

mkdir -p "$kdir"
# Two test scripts may fetch at the same time: serialise them.
exec 9>"$kdir/.lock"
flock 9
if [ "$update" = 0 ] && [ -e "$kdir/current/vmlinuz" ]; then
    emit
    exit 0
fi

apt_root="$kdir/apt"
mkdir -p "$apt_root/etc/apt.conf.d" "$apt_root/etc/preferences.d" \
    "$apt_root/etc/sources.list.d" "$apt_root/etc/trusted.gpg.d" \
    "$apt_root/state/lists/partial" "$apt_root/cache/archives/partial" "$apt_root/log"
: >"$apt_root/state/status"
cat >"$apt_root/etc/sources.list" <<SRC
deb [arch=amd64 signed-by=$keyring] $mirror $suite main
SRC
# APT_CONFIG is read before Dir::Etc::parts, so pointing Dir::Etc here keeps
# the host's /etc/apt (sources, apt.conf.d, preferences) out of the picture.
cat >"$apt_root/apt.conf" <<CONF
Dir::Etc "$apt_root/etc";
Dir::Etc::sourcelist "sources.list";
Dir::Etc::sourceparts "sources.list.d";
Dir::Etc::parts "apt.conf.d";
Dir::Etc::preferencesparts "preferences.d";
Dir::Etc::trustedparts "trusted.gpg.d";
Dir::State "$apt_root/state";
Dir::State::status "$apt_root/state/status";
Dir::Cache "$apt_root/cache";
Dir::Log "$apt_root/log";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
Acquire::Retries "2";
Acquire::http::Timeout "30";
Debug::NoLocking "true";
APT::Sandbox::User "$(id -un)";
CONF
export APT_CONFIG="$apt_root/apt.conf"
export LC_ALL=C

note "updating package index for $suite from $mirror"
if ! apt-get -q update >"$apt_root/log/update.log" 2>&1 ||
    grep -Eq '^(W|E): (Failed to fetch|Some index files failed)' "$apt_root/log/update.log"; then
    sed 's/^/    /' "$apt_root/log/update.log" >&2
    die "could not fetch the $suite index from $mirror (mirror unreachable?)"
fi

# linux-image-amd64 is a metapackage depending on the real versioned image.
pkg=$(apt-cache show linux-image-amd64 2>/dev/null |
    sed -n 's/^Depends: //p' | tr ',' '\n' |
    sed -n 's/^ *\(linux-image-[0-9][^ ]*-amd64\(-unsigned\)\{0,1\}\).*/\1/p' | head -n1)
[ -n "$pkg" ] || die "could not resolve linux-image-amd64 in $suite"
case "$pkg" in
    linux-image-6.12.*) ;;
    *) note "warning: $suite kernel is $pkg, not 6.12.x" ;;
esac
ver=${pkg#linux-image-}
ver=${ver%-unsigned}

if [ -e "$kdir/$ver/vmlinuz" ]; then
    note "$ver already extracted"
else
    dl="$kdir/download"
    rm -rf "$dl" "$kdir/$ver.tmp"
    mkdir -p "$dl"
    note "downloading $pkg (about 100 MB, once)"
    if ! (cd "$dl" && apt-get -q download "$pkg") >"$apt_root/log/download.log" 2>&1; then
        sed 's/^/    /' "$apt_root/log/download.log" >&2
        die "download of $pkg from $mirror failed"
    fi
    deb=$(find "$dl" -maxdepth 1 -name '*.deb' | head -n1)
    [ -n "$deb" ] || die "apt-get download produced no .deb"
    note "extracting $(basename "$deb")"
    mkdir -p "$kdir/$ver.tmp"
    dpkg-deb -x "$deb" "$kdir/$ver.tmp" || die "dpkg-deb -x failed on $deb"
    [ -f "$kdir/$ver.tmp/boot/vmlinuz-$ver" ] || die "no boot/vmlinuz-$ver in $pkg"
    [ -d "$kdir/$ver.tmp/lib/modules/$ver" ] || [ -d "$kdir/$ver.tmp/usr/lib/modules/$ver" ] ||
        die "no modules for $ver in $pkg"
    # Stable names so consumers need not know the version.
    ln -s "boot/vmlinuz-$ver" "$kdir/$ver.tmp/vmlinuz"
    if [ -d "$kdir/$ver.tmp/usr/lib/modules/$ver" ]; then
        ln -s "usr/lib/modules/$ver" "$kdir/$ver.tmp/modules"
    else
        ln -s "lib/modules/$ver" "$kdir/$ver.tmp/modules"
    fi
    echo "$ver" >"$kdir/$ver.tmp/version"
    echo "$pkg $(dpkg-deb -f "$deb" Version)" >"$kdir/$ver.tmp/package"
    mv "$kdir/$ver.tmp" "$kdir/$ver"
    rm -rf "$dl"
fi
ln -sfn "$ver" "$kdir/current.tmp"
mv -T "$kdir/current.tmp" "$kdir/current"
# Only the kernel in use is kept; the index lists are re-fetched by --update.
for old in "$kdir"/*/vmlinuz; do
    old=${old%/vmlinuz}
    case "${old##*/}" in "$ver"|current) ;; *) rm -rf "$old" ;; esac
done
rm -rf "$apt_root/state/lists" "$apt_root/cache"
emit

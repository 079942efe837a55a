#!/bin/bash
# Build a test initramfs (newc cpio, gzip) for run-vm.sh.
#
# Usage: mkinitramfs.sh OUT.cpio.gz --payload DIR [--script TEST.sh]
#                       [--modules "mod1 mod2"] [--host-bin PATH]...
#                       [--kernel-dir DIR] [--compress gzip|none]
#   --payload DIR    copied to /payload in the VM (the test script's cwd)
#   --script FILE    the test script, run by busybox sh as /test.sh
#                    (default: DIR/test.sh)
#   --modules LIST   kernel modules (names) to insmod at boot, with their
#                    dependencies, taken from the cached kernel
#   --host-bin PATH  also copy this host executable to the same path in the VM
#   --kernel-dir D   kernel tree (default: fetch-kernel.sh --print-dir)
#   --compress C     gzip (default) or none
# Dynamic ELF files in the payload and --host-bin files get their shared
# libraries and the dynamic loader copied from the host (resolved with ldd).
set -eu

die() { echo "mkinitramfs: error: $*" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)

out=""
payload=""
script=""
modules=""
kernel_dir=""
compress=gzip
host_bins=()
while [ $# -gt 0 ]; do
    case "$1" in
        --payload) [ $# -ge 2 ] || die "--payload needs a directory"; payload=$2; shift ;;
        --script) [ $# -ge 2 ] || die "--script needs a file"; script=$2; shift ;;
        --modules) [ $# -ge 2 ] || die "--modules needs a list"; modules="$modules $2"; shift ;;
        --host-bin) [ $# -ge 2 ] || die "--host-bin needs a path"; host_bins+=("$2"); shift ;;
        --kernel-dir) [ $# -ge 2 ] || die "--kernel-dir needs a directory"; kernel_dir=$2; shift ;;
        --compress) [ $# -ge 2 ] || die "--compress needs gzip or none"; compress=$2; shift ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option '$1' (see --help)" ;;
        *) [ -z "$out" ] || die "more than one output file given"; out=$1 ;;
    esac
    shift
done
[ -n "$out" ] || die "no output file given (see --help)"
[ -n "$payload" ] || die "--payload DIR is required"
[ -d "$payload" ] || die "payload '$payload' is not a directory"
[ -n "$script" ] || script="$payload/test.sh"
[ -f "$script" ] || die "test script '$script' not found"
case "$compress" in gzip|none) ;; *) die "--compress must be gzip or none" ;; esac

busybox=""
for b in /bin/busybox /usr/bin/busybox; do
    [ -x "$b" ] && busybox=$b && break
done
[ -n "$busybox" ] || die "busybox not found (run scripts/install-deps.sh: busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is dynamically linked; install busybox-static"
fi
command -v cpio >/dev/null || die "cpio not found (run scripts/install-deps.sh)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/rempart-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Merged /usr, like Debian: programs and libraries live under /usr only, so
# that a jail binding /usr (and symlinking /bin, /lib, /lib64) finds them.
mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc/vmtest,dev,proc,sys,tmp,run,root,payload}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$stage/$d"; done
cp "$busybox" "$stage/usr/bin/busybox"
"$busybox" --list-full | while read -r applet; do
    [ -L "$stage/$applet" ] || [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done
install -m 0755 "$here/initramfs/init" "$stage/init"
install -m 0644 "$here/initramfs/vmtest.sh" "$stage/lib/vmtest.sh"
install -m 0755 "$script" "$stage/test.sh"
cp -a "$payload/." "$stage/payload/"

cat >"$stage/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$stage/etc/group" <<'G'
root:x:0:
tty:x:5:
nobody:x:65534:
nogroup:x:65534:
G
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$stage/etc/nsswitch.conf"
printf '127.0.0.1 localhost vmtest\n::1 localhost\n' >"$stage/etc/hosts"
echo vmtest >"$stage/etc/hostname"

# --- shared libraries -----------------------------------------------------
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

copy_host_file() { # copy host path $1 to the same path in the image, dereferenced
    local dst="$stage$1"
    # Image symlinks point into the image, so test them with -L, not -e.
    if [ -L "$dst" ] || [ -e "$dst" ]; then
        [ "${2:-}" = replace ] || return 0
        rm -f "$dst"    # a host binary replaces the busybox applet of that name
    fi
    mkdir -p "$(dirname "$dst")"
    cp -L "$1" "$dst" || die "cannot copy $1"
}

add_libs() { # add the shared libraries (and loader) ELF file $1 needs
    local line lib out
    # ldd fails on static binaries and non-x86-64 files: nothing to add then.
    out=$(ldd "$1" 2>/dev/null) || return 0
    while read -r line; do
        case "$line" in
            *"=> not found"*) die "$1 needs ${line%% *}, which ldd cannot find" ;;
            *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
            /*) lib=${line%% (*} ;;   # the dynamic loader
            *) continue ;;
        esac
        # Libraries shipped inside the payload are found there (RUNPATH).
        case "$(readlink -f "$lib")" in
            "$payload_real"/*|"$stage_real"/*) continue ;;
        esac
        copy_host_file "$lib"
    done <<<"$out"
}

payload_real=$(readlink -f "$payload")
stage_real=$(readlink -f "$stage")
while IFS= read -r -d '' f; do
    if is_elf "$f"; then add_libs "$f"; fi
done < <(find "$stage/payload" -type f -print0)
for b in "${host_bins[@]}"; do
    case "$b" in /*) ;; *) die "--host-bin needs an absolute path: $b" ;; esac
    if [ ! -f "$b" ] || [ ! -x "$b" ]; then die "--host-bin $b is not an executable file"; fi
    copy_host_file "$b" replace
    if is_elf "$b"; then add_libs "$b"; fi
done

# --- kernel modules -------------------------------------------------------
declare -A mod_index=() mod_builtin=() mod_seen=()
mod_order=()
norm() { # module file or name $1 -> canonical name in $norm_name (no fork)
    norm_name=${1##*/}
    norm_name=${norm_name%%.ko*}
    norm_name=${norm_name//-/_}
}

resolve_module() { # add module $1 after its dependencies
    local name rel src dst deps d
    norm "$1"
    name=$norm_name
    [ -z "${mod_seen[$name]:-}" ] || return 0
    mod_seen[$name]=1
    if [ -n "${mod_builtin[$name]:-}" ]; then
        echo "mkinitramfs: $name is built into the kernel" >&2
        return 0
    fi
    rel=${mod_index[$name]:-}
    [ -n "$rel" ] || die "kernel module '$1' not found in $mdir"
    src="$mdir/$rel"
    dst="$stage/lib/modules/$kver/${rel%%.ko*}.ko"
    mkdir -p "$(dirname "$dst")"
    # Decompress now: busybox insmod passes the file to init_module as is.
    case "$rel" in
        *.ko.xz) xz -dc "$src" >"$dst" ;;
        *.ko.zst) zstd -qdc "$src" >"$dst" ;;
        *.ko.gz) gzip -dc "$src" >"$dst" ;;
        *.ko) cp "$src" "$dst" ;;
    esac || die "cannot decompress $src"
    deps=$(tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p' | head -n1)
    for d in ${deps//,/ }; do
        resolve_module "$d"
    done
    mod_order+=("/lib/modules/$kver/${rel%%.ko*}.ko")
}

if [ -n "${modules// /}" ]; then
    [ -n "$kernel_dir" ] || kernel_dir=$("$here/fetch-kernel.sh" --print-dir) ||
        die "no kernel tree (fetch-kernel.sh failed)"
    mdir="$kernel_dir/modules"
    [ -d "$mdir" ] || die "no modules directory in $kernel_dir"
    mdir=$(readlink -f "$mdir")
    kver=$(basename "$mdir")
    while read -r rel; do
        norm "$rel"
        mod_index[$norm_name]=$rel
    done < <(cd "$mdir" && find kernel -name '*.ko*')
    if [ -f "$mdir/modules.builtin" ]; then
        while read -r rel; do
            norm "$rel"
            mod_builtin[$norm_name]=1
        done <"$mdir/modules.builtin"
    fi
    for m in $modules; do
        resolve_module "$m"
    done
    [ ${#mod_order[@]} -eq 0 ] || printf '%s\n' "${mod_order[@]}" >"$stage/etc/vmtest/modules"
fi

# --- archive ----------------------------------------------------------------
mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
(
    cd "$stage"
    find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet
) | if [ "$compress" = gzip ]; then gzip -6 -n; else cat; fi >"$tmp_out" ||
    { rm -f "$tmp_out"; die "cannot write $out"; }
mv "$tmp_out" "$out"

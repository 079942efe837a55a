#!/bin/bash
# VM smoke test: boots the trixie kernel and checks what the jail tests need
# (kernel 6.12, pure cgroup v2 with memory/pids/cpu/io, Landlock ABI >= 6,
# unprivileged user namespaces, pivot_root).  Usage: tests/vm/smoke.sh [run-vm args]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/rempart-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/payload"
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "smoke: error: no C compiler ($cc)" >&2; exit 2; }
"$cc" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Wformat=2 -Werror -o "$work/payload/vmcheck" \
    "$here/smoke/vmcheck.c"

vm_run_test --payload "$work/payload" --script "$here/smoke/guest.sh" -- "$@"

#!/bin/bash
# Host integration tier: rempart-jail run as root on this host's kernel,
# checked from outside (exit status, messages, files, cgroups) and from
# inside (what the confined command sees).  TAP on stdout; exit 1 if any
# check failed.
#   run-host-tests.sh BUILD_DIR     (a meson build dir: build, build-asan...)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
rh_init "${1:-}"
for t in cli isolation badinput lifecycle level-config broker levels audit audit-events xfer; do
        # shellcheck source=/dev/null
        . "$HERE/test-$t.sh"
done
rh_finish

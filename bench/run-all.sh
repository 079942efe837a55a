#!/bin/bash
# SPDX-License-Identifier: MIT
# Every benchmark, one after the other: start latency against the peers,
# the per-syscall cost of the seccomp filter, then transfers between
# levels against cp (bench/xfer.sh).  Settings are passed
# through the environment (see each script's header); results land in
# ${BENCH_OUT:-/tmp/rempart-bench}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD:-$repo/build}

if command -v ninja >/dev/null && [ -f "$build/build.ninja" ]; then
        ninja -C "$build" src/jail/rempart-jail bench/bench-syscall-loop bench/bench-static-true >/dev/null ||
                ninja -C "$build" src/jail/rempart-jail bench/bench-syscall-loop
        ninja -C "$build" src/xfer/rempart-xfer src/xfer/rempart-xferd src/ctl/rempartctl src/ctl/rempart-level \
                src/broker/rempart-broker >/dev/null
fi

echo "== start latency"
"$here/start-latency.sh"
echo
echo "== seccomp per-syscall overhead"
"$here/seccomp-overhead.sh"
echo
echo "== transfers between levels"
"$here/xfer.sh"

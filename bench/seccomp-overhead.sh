#!/bin/bash
# SPDX-License-Identifier: MIT
# Per-syscall cost of rempart-jail's default seccomp filter, on a
# syscall-heavy loop (bench-syscall-loop), and of the whole default jail.
# Variants run alternately, in a rotated order, for several rounds, so that
# a slow phase of the machine hits every variant alike; the report gives
# median ns per system call and the overhead relative to no filter.  No
# threshold is checked here (see bench/README.md).
#
# Variants:
#   none      no filter
#   trivial   a one-instruction allow-all filter: what any filter costs
#   default   the default filter, loaded by the loop itself (seccomp alone)
#   jail      the loop inside rempart-jail with the default profile
#             (seccomp + Landlock + namespaces + cgroup ...)
#   jail-nosc the same jail with seccomp turned off, to tell the filter's
#             share of the jail's cost from the rest
# Modes: "mix" (getppid, clock_gettime without the vDSO, 1-byte read of
# /dev/zero: calls the kernel's filter cache answers without running the
# filter) and "ioctl" (argument checks in the filter: the program runs on
# every call, the filter's slow path).
#
# Environment:
#   BUILD             meson build directory (default: <repo>/build)
#   BENCH_OUT         results directory (default: /tmp/rempart-bench)
#   BENCH_SC_ROUNDS   rounds (default: 7)
#   BENCH_SC_ITER     loop iterations per run (default: 1000000)
#   BENCH_SC_MODES    modes (default: "mix ioctl")
#   BENCH_CPU         pin every run to this CPU with taskset (default: none)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD:-$repo/build}
out=${BENCH_OUT:-/tmp/rempart-bench}
rounds=${BENCH_SC_ROUNDS:-7}
iter=${BENCH_SC_ITER:-1000000}
modes=${BENCH_SC_MODES:-mix ioctl}
cpu=${BENCH_CPU:-}

jail=$build/src/jail/rempart-jail
loop=$build/bench/bench-syscall-loop

die() { echo "seccomp-overhead: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the jail variants need it)"
command -v python3 >/dev/null || die "python3 is needed for the statistics"
[ -x "$loop" ] || die "$loop not found: build first (ninja -C $build)"
have_jail=1
[ -x "$jail" ] || { have_jail=0; echo "seccomp-overhead: $jail not found, jail variants skipped"; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
# The jail runs as uid 65534 and sees only what is bound into it: give the
# loop a world-readable directory of its own, bound at /opt.
payload=$out/payload-syscall
rm -rf "$payload"
mkdir -p "$payload"
cp "$loop" "$payload/bench-syscall-loop"
chmod 755 "$out" "$payload" "$payload/bench-syscall-loop"

pin=()
[ -n "$cpu" ] && pin=(taskset -c "$cpu")

variants=(none trivial default)
[ $have_jail = 1 ] && variants+=(jail jail-nosc)

run_variant() { # run_variant VARIANT MODE -> prints the loop's output line
        local v=$1 m=$2
        local args=(--mode "$m" --iterations "$iter")
        case $v in
        none) "${pin[@]}" "$loop" "${args[@]}" ;;
        trivial) "${pin[@]}" "$loop" --seccomp-trivial "${args[@]}" ;;
        default) "${pin[@]}" "$loop" --seccomp "${args[@]}" ;;
        jail) "${pin[@]}" "$jail" --ro "$payload:/opt" -- /opt/bench-syscall-loop "${args[@]}" ;;
        jail-nosc) "${pin[@]}" "$jail" --set seccomp.enabled=no --ro "$payload:/opt" -- /opt/bench-syscall-loop "${args[@]}" ;;
        esac
}

raw=$out/seccomp-overhead.tsv
: >"$raw"
nv=${#variants[@]}
for ((r = 0; r < rounds; r++)); do
        echo "seccomp-overhead: round $((r + 1))/$rounds" >&2
        for m in $modes; do
                for ((k = 0; k < nv; k++)); do
                        v=${variants[$(((k + r) % nv))]}
                        line=$(run_variant "$v" "$m") || die "variant $v, mode $m failed"
                        ns=${line##*ns_per_syscall=}
                        printf '%s\t%s\t%s\t%s\n' "$r" "$m" "$v" "$ns" >>"$raw"
                done
        done
done

python3 - "$raw" "${variants[@]}" <<'EOF' | tee "$out/seccomp-overhead.txt"
import statistics, sys
path, variants = sys.argv[1], sys.argv[2:]
data = {}  # (mode, variant) -> {round: ns}
modes = []
with open(path) as f:
    for line in f:
        r, m, v, ns = line.split("\t")
        data.setdefault((m, v), {})[int(r)] = float(ns)
        if m not in modes:
            modes.append(m)
print(f"{'mode':<6} {'variant':<10} {'rounds':>6} {'median':>9} {'min':>9} {'overhead':>9} {'paired':>8} {'overhead':>9}")
print(f"{'':<6} {'':<10} {'':>6} {'ns/call':>9} {'ns/call':>9} {'medians':>9} {'median':>8} {'minima':>9}")
print("-" * 73)
for m in modes:
    base = data.get((m, "none"), {})
    bmed = statistics.median(base.values()) if base else None
    bmin = min(base.values()) if base else None
    for v in variants:
        xs = data.get((m, v))
        if not xs:
            continue
        med = statistics.median(xs.values())
        over = f"{(med / bmed - 1) * 100:+.1f}%" if bmed else "-"
        over_min = f"{(min(xs.values()) / bmin - 1) * 100:+.1f}%" if bmin else "-"
        # The ratio to "none" within each round, then its median: less
        # sensitive to the machine drifting between rounds.
        pairs = [xs[r] / base[r] for r in xs if r in base]
        paired = f"{(statistics.median(pairs) - 1) * 100:+.1f}%" if pairs and v != "none" else "-"
        print(f"{m:<6} {v:<10} {len(xs):>6} {med:>9.1f} {min(xs.values()):>9.1f} {over:>9} {paired:>8} {over_min:>9}")
print()
print("overhead medians: median of the variant over median of 'none', minus 1; paired median:")
print("median over rounds of the per-round ratio; overhead minima: the same with the fastest run")
print("of each (noise only ever adds time, so minima are the least disturbed).  Negative values")
print("are noise: a filter cannot make a call faster.")
EOF

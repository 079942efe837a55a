#!/bin/bash
# SPDX-License-Identifier: MIT
# Per-syscall cost of rempart-jail's default seccomp filter, on a
# syscall-heavy loop (bench-syscall-loop), and of the whole default jail.
# No threshold is checked here (see bench/README.md).
#
# Part 1, the filter alone: "bench-syscall-loop --compare" measures, in one
# run, no filter / a one-instruction allow-all filter ("trivial": what any
# filter costs, the kernel's seccomp entry path) / the default filter,
# alternating, each measurement in a fresh child process, and reports
# the medians and the median of the per-round ratios to "no filter".
#
# Part 2, the whole jail: separate runs of the loop, alternating, in a
# rotated order, for the same number of rounds:
#   none      the loop alone
#   jail      the loop inside rempart-jail with the default profile
#             (seccomp + Landlock + namespaces + cgroup ...)
#   jail-nosc the same jail with seccomp turned off, to tell the filter's
#             share of the jail's cost from the rest
#
# Modes: "mix" (getppid, clock_gettime without the vDSO, 1-byte read of
# /dev/zero: calls the kernel's per-syscall cache of "always allowed"
# answers without running the filter), "ioctl" (the filter checks ioctl's
# arguments, so its program runs on every call: the slow path).
#
# Environment:
#   BUILD             meson build directory (default: <repo>/build)
#   BENCH_OUT         results directory (default: /tmp/rempart-bench)
#   BENCH_SC_ROUNDS   rounds (default: 15)
#   BENCH_SC_ITER     loop iterations per measurement (default: 200000)
#   BENCH_SC_MODES    modes (default: "mix ioctl")
#   BENCH_CPU         pin every run to this CPU with taskset (default: none)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD:-$repo/build}
out=${BENCH_OUT:-/tmp/rempart-bench}
rounds=${BENCH_SC_ROUNDS:-15}
iter=${BENCH_SC_ITER:-200000}
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

{
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "kernel: $(uname -r), cpus: $(nproc), rounds: $rounds, iterations: $iter"
        echo
        echo "Part 1: the default filter alone (bench-syscall-loop --compare)"
        printf '%-6s %9s %9s %9s %9s %9s\n' mode none trivial default trivial default
        printf '%-6s %9s %9s %9s %9s %9s\n' "" ns/call ns/call ns/call overhead overhead
        echo "------------------------------------------------------------"
} | tee "$out/seccomp-overhead.txt"
: >"$out/seccomp-overhead.raw"
for m in $modes; do
        line=$("${pin[@]}" "$loop" --compare "$rounds" --iterations "$iter" --mode "$m") ||
                die "bench-syscall-loop --compare failed (mode $m)"
        echo "$line" >>"$out/seccomp-overhead.raw"
        python3 - "$line" <<'EOF2' | tee -a "$out/seccomp-overhead.txt"
import sys
kv = dict(w.split("=", 1) for w in sys.argv[1].split())
print(f"{kv['mode']:<6} {float(kv['none']):>9.1f} {float(kv['trivial']):>9.1f} {float(kv['default']):>9.1f}"
      f" {float(kv['trivial_overhead_pct']):>+8.1f}% {float(kv['default_overhead_pct']):>+8.1f}%")
EOF2
done
cat <<'EOF2' | tee -a "$out/seccomp-overhead.txt"

overhead: median over rounds of (variant / none) - 1, measured a fraction of a second apart.
"trivial" is what any seccomp filter costs; "default" minus "trivial" is the default
filter's own program.  Negative values are noise: a filter cannot make a call faster.

Part 2: the whole default jail (separate runs)
EOF2

[ $have_jail = 1 ] || exit 0
variants=(none jail jail-nosc)
run_variant() { # run_variant VARIANT MODE -> prints the loop's output line
        local v=$1 m=$2
        local args=(--mode "$m" --iterations "$iter")
        case $v in
        none) "${pin[@]}" "$loop" "${args[@]}" ;;
        jail) "${pin[@]}" "$jail" --ro "$payload:/opt" -- /opt/bench-syscall-loop "${args[@]}" ;;
        jail-nosc) "${pin[@]}" "$jail" --set seccomp.enabled=no --ro "$payload:/opt" -- /opt/bench-syscall-loop "${args[@]}" ;;
        esac
}

raw=$out/seccomp-overhead.tsv
: >"$raw"
nv=${#variants[@]}
for ((r = 0; r < rounds; r++)); do
        echo "seccomp-overhead: jail round $((r + 1))/$rounds" >&2
        for m in $modes; do
                for ((k = 0; k < nv; k++)); do
                        v=${variants[$(((k + r) % nv))]}
                        line=$(run_variant "$v" "$m") || die "variant $v, mode $m failed"
                        ns=${line##*ns_per_syscall=}
                        printf '%s\t%s\t%s\t%s\n' "$r" "$m" "$v" "$ns" >>"$raw"
                done
        done
done

python3 - "$raw" "${variants[@]}" <<'EOF' | tee -a "$out/seccomp-overhead.txt"
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
print("of each (noise only ever adds time, so minima are the least disturbed).  jail - jail-nosc")
print("is the filter's share inside the jail.")
EOF

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Table of start latencies from hyperfine JSON exports.

usage: report-latency.py META.tsv ROUND.json...

META.tsv has one line per command: name, payload kind ("true" or
"static"), command line.  The times of a command are pooled over every
round (hyperfine invocation).  Ratios compare medians of the same payload:
to the bare payload, and to bubblewrap running it."""
import json
import sys


def percentile(sorted_xs, q):
    """Linear interpolation between closest ranks, q in [0, 1]."""
    if not sorted_xs:
        return float("nan")
    pos = (len(sorted_xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    order, kind = [], {}
    with open(argv[1]) as f:
        for line in f:
            name, k, _cmd = line.rstrip("\n").split("\t", 2)
            order.append(name)
            kind[name] = k
    times = {name: [] for name in order}
    round_medians = []  # one {name: median} per round
    user = {name: [] for name in order}
    system = {name: [] for name in order}
    for path in argv[2:]:
        with open(path) as f:
            round_medians.append({})
            for res in json.load(f)["results"]:
                name = res["command"]
                round_medians[-1][name] = percentile(sorted(res["times"]), 0.5)
                if name in times:
                    times[name].extend(res["times"])
                    user[name].append(res["user"])
                    system[name].append(res["system"])

    stats = {}
    for name in order:
        xs = sorted(times[name])
        if xs:
            stats[name] = {
                "n": len(xs),
                "median": percentile(xs, 0.5),
                "p10": percentile(xs, 0.1),
                "p90": percentile(xs, 0.9),
                "user": sum(user[name]) / len(user[name]),
                "system": sum(system[name]) / len(system[name]),
            }

    def ref(prefix, k):
        for name in order:
            if name.startswith(prefix) and kind[name] == k and name in stats:
                return stats[name]["median"]
        return None

    hdr = f"{'command':<30} {'runs':>5} {'median':>8} {'p10':>8} {'p90':>8} {'user':>6} {'sys':>6} {'/bwrap':>7} {'/bare':>7}"
    print(hdr)
    print(f"{'':<30} {'':>5} {'(ms)':>8} {'(ms)':>8} {'(ms)':>8} {'(ms)':>6} {'(ms)':>6} {'':>7} {'':>7}")
    print("-" * len(hdr))
    for name in order:
        if name not in stats:
            continue
        s = stats[name]
        k = kind[name]
        bw, bare = ref("bwrap", k), ref("bare", k)
        rb = f"{s['median'] / bw:.2f}" if bw else "-"
        ra = f"{s['median'] / bare:.2f}" if bare else "-"
        print(f"{name:<30} {s['n']:>5} {s['median'] * 1e3:>8.2f} {s['p10'] * 1e3:>8.2f} {s['p90'] * 1e3:>8.2f}"
              f" {s['user'] * 1e3:>6.2f} {s['system'] * 1e3:>6.2f} {rb:>7} {ra:>7}")
    print()
    print("/bwrap, /bare: ratio of medians to bubblewrap and to the bare command, same payload.")
    print("user, sys: mean CPU time per run as reported by hyperfine: only the processes the launcher")
    print("  reaps.  bwrap's sandbox-side processes (and so the command) outlive the launcher and are")
    print("  not counted: do not compare these columns across tools.")
    for k, label in (("true", "/bin/true"), ("static", "static binary")):
        rj, bw = ref("rempart-jail", k), ref("bwrap", k)
        if rj and bw:
            verdict = "not slower" if rj <= bw else "slower"
            print(f"rempart-jail vs bwrap, {label}: {rj / bw:.2f}x ({rj * 1e3:.2f} ms vs {bw * 1e3:.2f} ms median): {verdict}")
            # With several rounds, the ratio within each round compares runs
            # made minutes apart at most: a steadier figure on a busy machine.
            rname = next((n for n in order if n.startswith("rempart-jail") and kind[n] == k), None)
            bname = next((n for n in order if n.startswith("bwrap") and kind[n] == k), None)
            ratios = sorted(rm[rname] / rm[bname] for rm in round_medians if rname in rm and bname in rm)
            if len(ratios) > 1:
                print(f"  per-round ratio over {len(ratios)} rounds: median {percentile(ratios, 0.5):.2f}x,"
                      f" p10 {percentile(ratios, 0.1):.2f}x, p90 {percentile(ratios, 0.9):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Timers and tables of bench/levels.sh.

usage:
  levels-helper.py start --rounds N --raw OUT.tsv --socket PATH --start CMD
                         --probe CMD --stop CMD [--ref NAME=CMD]...
  levels-helper.py tty --rounds N --raw OUT.tsv --cmd NAME=CMD...
  levels-helper.py start-report RAW.tsv
  levels-helper.py tty-report RAW.tsv
  levels-helper.py session-report TARGET ROUND.json...
  levels-helper.py work-report RAW.tsv

Commands (CMD) are single strings in shell syntax (as bash's printf %q
writes them), split with shlex; no shell runs them.

start: per round, in an order rotated from one round to the next, the
  level (START is launched; then the level's broker socket is polled every
  0.5 ms; once it exists PROBE, a session running /bin/true, is repeated
  until it succeeds; then STOP) and every reference (run once, start ->
  exit).  Times: "socket" (the broker socket exists), "ready" (the first
  session succeeded: the level answers), "ctl" (START returned; rempartctl
  polls every 50 ms, so this one is coarse), "stop" (STOP returned).
tty: per round, every command in a new pseudo-terminal (24x80, made the
  controlling terminal of a new session); time until the first prompt
  ("$ " or "# ") is read from it, then "exit" is typed.
The reports print medians, p10, p90 and the median of per-round ratios."""
import fcntl
import json
import os
import select
import shlex
import statistics
import struct
import subprocess
import sys
import termios
import time


def percentile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def parse_args(argv, multi):
    opts = {k: [] for k in multi}
    i = 0
    while i < len(argv):
        k = argv[i]
        if not k.startswith("--") or i + 1 >= len(argv):
            raise SystemExit(f"levels-helper: bad argument {k!r}\n{__doc__}")
        k = k[2:]
        if k in multi:
            opts[k].append(argv[i + 1])
        else:
            opts[k] = argv[i + 1]
        i += 2
    return opts


def named(spec):
    name, _, cmd = spec.partition("=")
    if not name or not cmd:
        raise SystemExit(f"levels-helper: expected NAME=CMD, got {spec!r}")
    return name, shlex.split(cmd)


def run_quiet(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE).returncode


def level_round(o):
    sock = o["socket"]
    start, probe, stop = shlex.split(o["start"]), shlex.split(o["probe"]), shlex.split(o["stop"])
    if os.path.exists(sock):
        raise SystemExit(f"levels-helper: {sock} exists before the start: is the level running?")
    t0 = time.perf_counter()
    p = subprocess.Popen(start, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    t_ctl = None
    while not os.path.exists(sock):
        if t_ctl is None and p.poll() is not None:
            t_ctl = time.perf_counter() - t0
            if p.returncode != 0:
                raise SystemExit(f"levels-helper: start failed with status {p.returncode}")
        if time.perf_counter() - t0 > 20:
            raise SystemExit("levels-helper: no broker socket after 20 s")
        time.sleep(0.0005)
    t_sock = time.perf_counter() - t0
    tries = 0
    while True:
        tries += 1
        if run_quiet(probe) == 0:
            break
        if time.perf_counter() - t0 > 20:
            raise SystemExit("levels-helper: the level did not answer within 20 s")
        time.sleep(0.001)
    t_ready = time.perf_counter() - t0
    p.wait()
    if t_ctl is None:
        t_ctl = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"levels-helper: start failed with status {p.returncode}")
    t1 = time.perf_counter()
    if run_quiet(stop) != 0:
        raise SystemExit("levels-helper: stop failed")
    t_stop = time.perf_counter() - t1
    return {"socket": t_sock, "ready": t_ready, "ctl": t_ctl, "stop": t_stop, "tries": tries}


def cmd_start(argv):
    o = parse_args(argv, ["ref"])
    rounds = int(o["rounds"])
    refs = [named(s) for s in o["ref"]]
    items = ["level"] + [n for n, _ in refs]
    cmds = dict(refs)
    with open(o["raw"], "w") as out:
        for r in range(rounds):
            print(f"levels: start round {r + 1}/{rounds}", file=sys.stderr)
            for k in range(len(items)):
                name = items[(k + r) % len(items)]
                if name == "level":
                    t = level_round(o)
                    for key in ("socket", "ready", "ctl", "stop"):
                        out.write(f"{r}\tlevel {key}\t{t[key]:.6f}\n")
                    out.write(f"{r}\tlevel probes\t{t['tries']}\n")
                else:
                    t0 = time.perf_counter()
                    rc = run_quiet(cmds[name])
                    dt = time.perf_counter() - t0
                    if rc != 0:
                        raise SystemExit(f"levels-helper: {name} failed with status {rc}")
                    out.write(f"{r}\t{name}\t{dt:.6f}\n")
                out.flush()
                time.sleep(0.05)
    return 0


def read_raw(path):
    data, order = {}, []
    with open(path) as f:
        for line in f:
            r, name, v = line.rstrip("\n").split("\t")
            if name not in data:
                data[name] = {}
                order.append(name)
            data[name][int(r)] = float(v)
    return data, order


def paired(a, b):
    """Median over rounds of a[r] / b[r]."""
    xs = [a[r] / b[r] for r in a if r in b and b[r] > 0]
    return (percentile(xs, 0.5), percentile(xs, 0.1), percentile(xs, 0.9)) if xs else None


def cmd_start_report(argv):
    data, order = read_raw(argv[0])
    ref = next((n for n in order if n.startswith("rempart-jail")), None)
    print(f"{'what':<28} {'rounds':>6} {'median':>8} {'p10':>8} {'p90':>8} {'/jail':>7} {'paired':>7}")
    print(f"{'':<28} {'':>6} {'(ms)':>8} {'(ms)':>8} {'(ms)':>8} {'':>7} {'/jail':>7}")
    print("-" * 78)
    for n in order:
        xs = list(data[n].values())
        if n == "level probes":
            print(f"{n:<28} {len(xs):>6} {statistics.median(xs):>8.1f}   (sessions tried until one succeeded)")
            continue
        med = percentile(xs, 0.5)
        rj = f"{med / percentile(list(data[ref].values()), 0.5):.2f}" if ref else "-"
        pr = paired(data[n], data[ref]) if ref and n != ref else None
        ps = f"{pr[0]:.2f}" if pr else "-"
        print(f"{n:<28} {len(xs):>6} {med * 1e3:>8.2f} {percentile(xs, 0.1) * 1e3:>8.2f}"
              f" {percentile(xs, 0.9) * 1e3:>8.2f} {rj:>7} {ps:>7}")
    print()
    print("level socket: rempartctl --dev start launched -> the broker's socket exists;")
    print("level ready: -> the first 'rempartctl run LEVEL -- /bin/true' succeeded (one session included);")
    print("level ctl: -> 'rempartctl start' returned (it polls every 50 ms); level stop: 'rempartctl stop'.")
    print("references: start -> exit of /bin/true.  /jail: ratio of medians to bare rempart-jail;")
    print("paired /jail: median over rounds of the ratio within a round.")
    return 0


def tty_once(argv, timeout=10.0):
    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))

    def ctty():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, preexec_fn=ctty, close_fds=True)
    os.close(slave)
    buf, t_prompt = b"", None
    try:
        while t_prompt is None:
            left = timeout - (time.perf_counter() - t0)
            if left <= 0 or not select.select([master], [], [], left)[0]:
                break
            try:
                d = os.read(master, 65536)
            except OSError:
                break
            if not d:
                break
            buf += d
            if b"$ " in buf or b"# " in buf:
                t_prompt = time.perf_counter() - t0
        if t_prompt is not None:
            os.write(master, b"exit\n")
        # Drain until the far end closes, so that the command can exit.
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if not select.select([master], [], [], 0.5)[0]:
                if p.poll() is not None:
                    break
                continue
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    finally:
        os.close(master)
    if t_prompt is None:
        raise SystemExit(f"levels-helper: no prompt from {argv}: {buf[-300:]!r}")
    return t_prompt


def cmd_tty(argv):
    o = parse_args(argv, ["cmd"])
    rounds = int(o["rounds"])
    cmds = [named(s) for s in o["cmd"]]
    with open(o["raw"], "w") as out:
        for r in range(rounds):
            for k in range(len(cmds)):
                name, c = cmds[(k + r) % len(cmds)]
                out.write(f"{r}\t{name}\t{tty_once(c):.6f}\n")
    return 0


def cmd_tty_report(argv):
    data, order = read_raw(argv[0])
    base = order[0]
    print(f"{'command':<34} {'runs':>5} {'median':>8} {'p10':>8} {'p90':>8} {'paired':>7}")
    print(f"{'':<34} {'':>5} {'(ms)':>8} {'(ms)':>8} {'(ms)':>8} {'/floor':>7}")
    print("-" * 75)
    for n in order:
        xs = list(data[n].values())
        pr = paired(data[n], data[base]) if n != base else None
        print(f"{n:<34} {len(xs):>5} {percentile(xs, 0.5) * 1e3:>8.2f} {percentile(xs, 0.1) * 1e3:>8.2f}"
              f" {percentile(xs, 0.9) * 1e3:>8.2f} {(f'{pr[0]:.2f}' if pr else '-'):>7}")
    print()
    print("time from starting the command in a new pseudo-terminal to the first prompt of sh -i;")
    print(f"paired /floor: median over rounds of the ratio to '{base}' in the same round.")
    return 0


def cmd_session_report(argv):
    target, paths = argv[0], argv[1:]
    rounds = []
    for p in paths:
        with open(p) as f:
            rounds.append({res["command"]: percentile(res["times"], 0.5) for res in json.load(f)["results"]})
    names = [n for n in rounds[0] if n != target] if rounds else []
    print(f"per-round ratio of '{target}' (median of the round) to each other line, over {len(rounds)} rounds:")
    for n in names:
        xs = [rm[target] / rm[n] for rm in rounds if target in rm and n in rm]
        ds = [(rm[target] - rm[n]) * 1e3 for rm in rounds if target in rm and n in rm]
        if xs:
            print(f"  vs {n:<32} median {percentile(xs, 0.5):5.2f}x (p10 {percentile(xs, 0.1):.2f}x,"
                  f" p90 {percentile(xs, 0.9):.2f}x), difference {percentile(ds, 0.5):+.2f} ms")
    return 0


def work_table(data, order, units, sides, title, unit_of):
    print(title)
    print(f"{'workload':<14} {'unit':<8} {'side':<16} {'rounds':>6} {'median':>10} {'min':>10}"
          f" {'overhead':>9} {'paired':>8} {'overhead':>9}")
    print(f"{'':<14} {'':<8} {'':<16} {'':>6} {'':>10} {'':>10} {'medians':>9} {'median':>8} {'minima':>9}")
    print("-" * 97)
    for w in order:
        base = data.get((w, "core"), {})
        bmed = statistics.median(base.values()) if base else None
        for s in sides:
            xs = data.get((w, s))
            if not xs:
                continue
            med = statistics.median(xs.values())
            over = f"{(med / bmed - 1) * 100:+.1f}%" if bmed and s != "core" else "-"
            omin = f"{(min(xs.values()) / min(base.values()) - 1) * 100:+.1f}%" if bmed and s != "core" else "-"
            pr = paired(xs, base) if s != "core" else None
            ps = f"{(pr[0] - 1) * 100:+.1f}%" if pr else "-"
            print(f"{w:<14} {unit_of(w):<8} {s:<16} {len(xs):>6} {med:>10.3f} {min(xs.values()):>10.3f}"
                  f" {over:>9} {ps:>8} {omin:>9}")
    print()


def cmd_work_report(argv):
    # RAW: round, work, unit, side (core|level|...), wall value, CPU seconds; lower is better.
    wall, cpu, order, units, sides = {}, {}, [], {}, []
    with open(argv[0]) as f:
        for line in f:
            r, w, unit, side, v, c = line.rstrip("\n").split("\t")
            wall.setdefault((w, side), {})[int(r)] = float(v)
            cpu.setdefault((w, side), {})[int(r)] = float(c)
            units[w] = unit
            if w not in order:
                order.append(w)
            if side not in sides:
                sides.append(side)
    sides.sort(key=lambda s: (s != "core", s != "level", s))
    work_table(cpu, order, units, sides, "CPU time of the workload (user + system, its own and its children's):",
               lambda w: "s")
    work_table(wall, order, units, sides, "Wall-clock time:", lambda w: units[w])
    print("overhead medians: median of the side over the core's median, minus 1; paired median: median")
    print("over rounds of the ratio to the core within the round, minus 1 (the steadier figure on a busy")
    print("machine); overhead minima: the same with the fastest run of each (noise only adds time).")
    print("CPU time is the figure to read on a loaded machine: wall-clock time there mostly measures")
    print("waiting for a CPU, while every cost of the sandbox is spent on the workload's own CPU time.")
    return 0


def main(argv):
    cmds = {"start": cmd_start, "tty": cmd_tty, "start-report": cmd_start_report,
            "tty-report": cmd_tty_report, "session-report": cmd_session_report,
            "work-report": cmd_work_report}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))

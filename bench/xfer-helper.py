#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Timer, driver and tables of bench/xfer.sh.

usage:
  xfer-helper.py timer HOME
  xfer-helper.py drive --timer CMD --raw OUT.tsv --parts "big small lat"
                       --reps N --lat-runs N --xfer PATH --target LEVEL
                       --lv-home DIR --home DIR --incoming DIR --trash DIR
                       --big NAME --small NAME --tiny NAME [--prof NAME]
  xfer-helper.py report RAW.tsv
  xfer-helper.py perf-report TRACE.txt

timer: runs inside the source level.  Reads one JSON list of commands (each
  a list of strings) per line on its standard input, runs them one after
  the other from HOME (os.posix_spawn, output to a scratch file, no shell)
  and answers one JSON line: {"s": seconds from before the first spawn to
  after the last exit} or {"rc": N, "err": "..."} when one failed.  The
  level's entry (rempartctl run) happens once, before any measurement.
drive: runs in the core, as root.  Starts the timer (CMD, shell syntax as
  bash's printf %q writes it) and, for each part and repetition, runs the
  ways of copying in an order rotated from one repetition to the next:
  xfer (rempart-xfer send -q TARGET NAME: ends once the service said DONE),
  cp (cp --preserve=mode,timestamps -r NAME into DIR/cp-dest), cp+sync (the
  same cp, then sync -f: the peer with the transfer's durability, whose
  receiver syncs the file system before the arrival) and, for lat only,
  true (/usr/bin/true: the floor of starting any command) and xfer-start
  (rempart-xfer --help: the floor of starting the sender).  Before every
  run, untimed: the arrivals and the copies are moved into the trash
  directory --trash (same file system; emptied at the end of the part),
  the big file's removed, and the whole system is synced (sync(2)), so
  that no run pays for the dirty pages of another.  Moving instead of
  removing: ext4 avoids reusing inodes freed in the last minute, and
  creating thousands of files just after removing as many gets several
  times slower (recently_deleted() in fs/ext4/ialloc.c).  After a run the
  result is checked to exist and to have the source's size and number of
  entries.
  Parts: big (the file --big), small (the directory --small), lat (the
  file --tiny, --lat-runs runs per way), prof (xfer alone, --lat-runs runs,
  for a trace; --prof NAME: another file).  --lv-home/--home: the user's home as the level and as the
  core see it; --incoming: the target's Incoming/SOURCE, core side.
report: the tables (median, p10, p90, MB/s = 10^6 bytes per second, the
  ratio of medians to cp, and the median of the per-repetition ratios).
perf-report: the phases of each transfer in the output of perf trace (live
  or perf trace -i of a perf trace record -a), from the sender's execve to
  its exit, through the daemon's worker and parser; the worker's fsyncs."""
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

WAYS = ("xfer", "cp", "cp+sync")


def percentile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


# --- inside the level ------------------------------------------------------
def cmd_timer(argv):
    if len(argv) != 1:
        raise SystemExit(__doc__)
    os.chdir(argv[0])
    scratch = os.open("/tmp/xfer-helper.out", os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    null = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
    actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, scratch, 1),
               (os.POSIX_SPAWN_DUP2, scratch, 2)]
    env = dict(os.environ)
    for line in sys.stdin:
        cmds = json.loads(line)
        os.ftruncate(scratch, 0)
        os.lseek(scratch, 0, os.SEEK_SET)
        answer = None
        t0 = time.perf_counter()
        for c in cmds:
            pid = os.posix_spawn(c[0], c, env, file_actions=actions)
            _, status = os.waitpid(pid, 0)
            rc = os.waitstatus_to_exitcode(status)
            if rc != 0:
                os.lseek(scratch, 0, os.SEEK_SET)
                answer = {"rc": rc, "err": os.read(scratch, 4096).decode(errors="replace"), "cmd": c}
                break
        dt = time.perf_counter() - t0
        if answer is None:
            answer = {"s": dt}
        print(json.dumps(answer), flush=True)
    return 0


# --- in the core -----------------------------------------------------------
def parse_opts(argv):
    o = {}
    i = 0
    while i < len(argv):
        k = argv[i]
        if not k.startswith("--") or i + 1 >= len(argv):
            raise SystemExit(f"xfer-helper: bad argument {k!r}\n{__doc__}")
        o[k[2:]] = argv[i + 1]
        i += 2
    for k in ("timer", "raw", "parts", "reps", "lat-runs", "xfer", "target", "lv-home", "home",
              "incoming", "trash", "big", "small", "tiny"):
        if k not in o:
            raise SystemExit(f"xfer-helper: --{k} is missing\n{__doc__}")
    return o


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def tree_size(path):
    if not os.path.isdir(path):
        return os.stat(path).st_size, 1
    size = count = 0
    for d, dirs, files in os.walk(path):
        count += len(dirs) + len(files)
        for f in files:
            size += os.stat(os.path.join(d, f)).st_size
    return size, count + 1


class Driver:
    def __init__(self, o):
        self.o = o
        self.proc = subprocess.Popen(shlex.split(o["timer"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.trashed = 0
        os.makedirs(o["trash"], mode=0o700, exist_ok=True)
        self.cpdest = os.path.join(o["home"], "cp-dest")
        os.makedirs(self.cpdest, exist_ok=True)
        st = os.stat(o["home"])
        os.chown(self.cpdest, st.st_uid, st.st_gid)

    def ask(self, cmds):
        self.proc.stdin.write(json.dumps(cmds) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("xfer-helper: the timer in the level stopped")
        a = json.loads(line)
        if "s" not in a:
            raise SystemExit(f"xfer-helper: {' '.join(a['cmd'])} failed with status {a['rc']}: {a['err'].strip()}")
        return a["s"]

    def clean(self, keep=False):
        """Empty the arrivals and the copies, then sync(2).  keep: move them
        into the trash directory instead (a rename, on the same file
        system), emptied by empty_trash()."""
        olds = []
        if os.path.isdir(self.o["incoming"]):
            olds += [os.path.join(self.o["incoming"], n) for n in os.listdir(self.o["incoming"])]
        olds += [os.path.join(self.cpdest, n) for n in os.listdir(self.cpdest)]
        for path in olds:
            if keep:
                self.trashed += 1
                os.rename(path, os.path.join(self.o["trash"], str(self.trashed)))
            else:
                remove(path)
        os.sync()

    def empty_trash(self):
        for n in os.listdir(self.o["trash"]):
            remove(os.path.join(self.o["trash"], n))
        os.sync()

    def run(self, way, name, expect, keep):
        o = self.o
        cp = ["/usr/bin/cp", "--preserve=mode,timestamps", "-r", name, "cp-dest/" + name]
        if way == "xfer":
            cmds, result = [[o["xfer"], "send", "-q", o["target"], name]], os.path.join(o["incoming"], name)
        elif way == "cp":
            cmds, result = [cp], os.path.join(self.cpdest, name)
        elif way == "cp+sync":
            cmds, result = [cp, ["/usr/bin/sync", "-f", "cp-dest"]], os.path.join(self.cpdest, name)
        elif way == "true":
            cmds, result = [["/usr/bin/true"]], None
        elif way == "xfer-start":
            cmds, result = [[o["xfer"], "--help"]], None
        else:
            raise SystemExit(f"xfer-helper: unknown way {way}")
        self.clean(keep)
        dt = self.ask(cmds)
        if result is not None and not os.path.lexists(result):
            raise SystemExit(f"xfer-helper: {way}: {result} is missing after the run")
        if result is not None and expect is not None and tree_size(result) != expect:
            raise SystemExit(f"xfer-helper: {way}: {result} is not a full copy")
        return dt

    def part(self, out, part, name, ways, runs, check_every, keep=True):
        path = os.path.join(self.o["home"], name)
        size, count = tree_size(path)
        out.write(f"# {part}\t{name}\t{size}\t{count}\n")
        for r in range(runs):
            if runs <= 10 or r % 10 == 0:
                print(f"xfer: part {part}: round {r + 1}/{runs}", file=sys.stderr)
            for k in range(len(ways)):
                way = ways[(k + r) % len(ways)]
                expect = (size, count) if (r % check_every == 0) else None
                dt = self.run(way, name, expect, keep)
                out.write(f"{part}\t{r}\t{way}\t{dt:.6f}\t{size}\t{count}\n")
                out.flush()
        self.clean(keep)
        self.empty_trash()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def cmd_drive(argv):
    o = parse_opts(argv)
    reps, lat_runs = int(o["reps"]), int(o["lat-runs"])
    parts = o["parts"].split()
    d = Driver(o)
    try:
        with open(o["raw"], "w") as out:
            # The big file is removed between runs (its copies would fill
            # the page cache); everything else goes to the trash until the
            # end of the part: see clean().
            if "big" in parts:
                d.part(out, "big", o["big"], WAYS, reps, 1, keep=False)
            if "small" in parts:
                d.part(out, "small", o["small"], WAYS, reps, 1)
            if "lat" in parts:
                d.part(out, "lat", o["tiny"], WAYS + ("true", "xfer-start"), lat_runs, 10)
            if "prof" in parts:
                d.part(out, "prof", o.get("prof", o["tiny"]), ("xfer",), lat_runs, 10)
    finally:
        d.close()
    return 0


# --- tables ----------------------------------------------------------------
def read_raw(path):
    data, meta = {}, {}
    with open(path) as f:
        for line in f:
            if line.startswith("# "):
                part, name, size, count = line[2:].rstrip("\n").split("\t")
                meta[part] = (name, int(size), int(count))
                continue
            part, r, way, s, _, _ = line.rstrip("\n").split("\t")
            data.setdefault(part, {}).setdefault(way, {})[int(r)] = float(s)
    return data, meta


def cmd_report(argv):
    data, meta = read_raw(argv[0])
    titles = {"big": "throughput, one file", "small": "throughput, many small files",
              "lat": "latency, one small file", "prof": "under perf trace record -a"}
    for part in ("big", "small", "lat", "prof"):
        if part not in data:
            continue
        name, size, count = meta[part]
        ways = data[part]
        runs = len(ways.get("xfer", {}))
        print(f"-- {titles[part]}: {name}, {size} bytes, {count} entries, {runs} runs of each, interleaved")
        lat = part in ("lat", "prof")
        if lat:
            print(f"{'way':<10} {'median':>8} {'p10':>8} {'p90':>8} {'min':>8} {'/cp':>6} {'paired':>7}")
            print(f"{'':<10} {'(ms)':>8} {'(ms)':>8} {'(ms)':>8} {'(ms)':>8}")
        else:
            print(f"{'way':<10} {'median':>8} {'min':>8} {'max':>8} {'MB/s':>8} {'/cp':>6} {'paired':>7}")
            print(f"{'':<10} {'(s)':>8} {'(s)':>8} {'(s)':>8} {'median':>8} {'thrpt':>6} {'thrpt':>7}")
        cp = ways.get("cp", {})
        cpmed = statistics.median(cp.values()) if cp else float("nan")
        for way in WAYS + ("true", "xfer-start"):
            xs = ways.get(way, {})
            if not xs:
                continue
            v = list(xs.values())
            med = statistics.median(v)
            paired = [cp[r] / xs[r] for r in xs if r in cp]
            pr = statistics.median(paired) if paired else float("nan")
            if lat:
                # For latency: time ratio (this / cp), >1 is slower.
                pt = [xs[r] / cp[r] for r in xs if r in cp]
                ratios = f"{med / cpmed:6.2f} {statistics.median(pt):7.2f}" if pt else f"{'-':>6} {'-':>7}"
                print(f"{way:<10} {med * 1e3:8.2f} {percentile(v, 0.1) * 1e3:8.2f} "
                      f"{percentile(v, 0.9) * 1e3:8.2f} {min(v) * 1e3:8.2f} {ratios}")
            else:
                print(f"{way:<10} {med:8.3f} {min(v):8.3f} {max(v):8.3f} {size / med / 1e6:8.1f} "
                      f"{cpmed / med:6.2f} {pr:7.2f}")
        if part == "lat":
            print("(true: /usr/bin/true started the same way, the floor of any command in the level;")
            print(" xfer-start: rempart-xfer --help, the floor of starting the sender)")
            print("(/cp, paired: time ratios to cp, >1 is slower; paired = median of the per-run ratios)")
        elif not lat:
            print("(/cp thrpt: throughput relative to cp, ratio of medians; paired: median of the "
                  "per-repetition ratios)")
        if not lat and "cp+sync" in ways and "xfer" in ways:
            cs = statistics.median(ways["cp+sync"].values())
            print(f"xfer vs cp+sync: {cs / statistics.median(ways['xfer'].values()):.2f}x the throughput")
        print()
    return 0


# --- where the time goes (perf trace) -----------------------------------------
PT_LINE = re.compile(r"^\s*([\d.]+) \(\s*(?:([\d.]+) ms)?\s*\): (\S+?)/(\d+) (.*)$")
PT_CONT = re.compile(r"^\s*\.\.\. \[continued\]: ([a-z0-9_]+)\(\)\)\s*=\s*(.*)$")
PT_CALL = re.compile(r"^([a-z0-9_]+)\((.*)$")


def read_perf_trace(path):
    """Events of perf trace -a's text output: dicts with t (ms), dur (ms or
    None), comm, pid, name, text (the arguments and the result)."""
    events, open_calls = [], {}
    with open(path, errors="replace") as f:
        for line in f:
            m = PT_LINE.match(line.rstrip("\n"))
            if not m:
                continue
            t, dur, comm, pid, rest = float(m.group(1)), m.group(2), m.group(3), int(m.group(4)), m.group(5)
            c = PT_CONT.match(rest)
            if c:
                e = open_calls.pop((pid, c.group(1)), None)
                if e is not None:
                    e["dur"] = float(dur) if dur else None
                    e["text"] += " = " + c.group(2)
                    e["comm"] = comm
                continue
            c = PT_CALL.match(rest)
            if not c:
                continue
            e = {"t": t, "dur": float(dur) if dur else None, "comm": comm, "pid": pid, "name": c.group(1),
                 "text": c.group(2)}
            events.append(e)
            if rest.rstrip().endswith("...") and dur is None:
                open_calls[(pid, e["name"])] = e
    return events


def child_of(e):
    m = re.search(r"= (\d+)", e["text"])
    return int(m.group(1)) if m else None


def cmd_perf_report(argv):
    """Split each transfer into phases, from perf trace -a: the sender
    (comm rempart-xfer), the daemon's main process (the rempart-xferd that
    accept4()s the connection), the worker it forks and the worker's
    parser.  Transfers must not overlap (the driver runs one at a time)."""
    events = read_perf_trace(argv[0])
    by_pid = {}
    for e in events:
        by_pid.setdefault(e["pid"], []).append(e)
    # The sender: its execve (shown under the comm before or after it,
    # depending on perf's mode), else its first system call.
    senders = []
    for pid, evs in by_pid.items():
        if any(e["comm"] == "rempart-xfer" for e in evs):
            ok = [e for e in evs if e["name"] == "execve" and e["text"].rstrip().endswith("= 0")]
            senders.append(ok[-1] if ok else evs[0])
    senders.sort(key=lambda e: e["t"])
    phases_all, fsyncs_all = [], []
    for k, ex in enumerate(senders):
        s = by_pid[ex["pid"]]
        try:
            conn = next(e for e in s if e["name"] == "connect" and e["t"] >= ex["t"])
            s_exit = next(e for e in s if e["name"] == "exit_group")
            acc = next(e for e in events if e["name"] == "accept4" and e["comm"] == "rempart-xferd"
                       and e["t"] >= conn["t"] - 0.5 and not re.search(r"= -1", e["text"]))
            fork_w = next(e for e in by_pid[acc["pid"]] if e["name"] == "clone" and e["t"] >= acc["t"])
            w = by_pid[child_of(fork_w)]
            w0 = next(e for e in w if e["t"] > fork_w["t"])
            # The connection: the descriptor of the first socket option
            # (perf shows descriptors' paths only when tracing live).
            so = next(e for e in w if e["name"] in ("setsockopt", "getsockopt"))
            sock = re.match(r"fd: (\d+)", so["text"]).group(1)
            on_sock = re.compile(rf"fd: {sock}\b")
            req = next(e for e in w if e["name"] == "read" and on_sock.match(e["text"]))
            writes = [e for e in w if e["name"] == "write" and on_sock.match(e["text"])]
            go, done = writes[0], writes[-1]
            fork_p = next(e for e in w if e["name"] == "clone" and e["t"] > go["t"])
            p = by_pid[child_of(fork_p)]
            p0 = next(e for e in p if e["t"] > fork_p["t"])
            first_in = next(e for e in p if e["name"] == "read" and re.match(r"fd: 0\b|buf:", e["text"]))
            p_exit = next(e for e in p if e["name"] == "exit_group")
        except (StopIteration, KeyError, AttributeError):
            print(f"transfer {k + 1}: incomplete in the trace, skipped", file=sys.stderr)
            continue
        # The parser's flushes: one syncfs, or fsyncs interleaved with the
        # writes; the receive phase is the rest of the time until the last.
        p_syncs = [e for e in p if e["name"] in ("syncfs", "fsync", "fdatasync")]
        syncfs_ms = sum(e["dur"] or 0 for e in p_syncs)
        sync_end = max((e["t"] + (e["dur"] or 0) for e in p_syncs), default=first_in["t"])
        receive = max(max(sync_end, first_in["t"]) - first_in["t"] - syncfs_ms, 0.0)
        if not p_syncs:
            receive = p_exit["t"] - first_in["t"]
            sync_end = p_exit["t"]
        sync_names = "+".join(sorted(set(e["name"] for e in p_syncs))) or "no sync"
        wf = [e for e in w if e["name"] in ("fsync", "fdatasync", "syncfs")]
        phases = [
            ("sender start: exec, dynamic linking (libcrypto), to connect()", conn["t"] - ex["t"]),
            ("accept and fork of the worker", w0["t"] - conn["t"]),
            ("worker: peer credentials, user name lookup (NSS)", req["t"] - w0["t"]),
            ("worker: levels, policy, decision, GO sent", go["t"] - req["t"]),
            ("staging directory, fork of the parser", p0["t"] - go["t"]),
            ("parser: drop to the user, rlimits, Landlock, seccomp, OpenSSL", first_in["t"] - p0["t"]),
            ("parser: receive and write the data (flushes excluded)", receive),
            (f"parser: {sync_names} ({len(p_syncs)} call(s))", syncfs_ms),
            ("parser: manifest out, exit", p_exit["t"] - sync_end),
            ("worker: check the tree, audit, commit (see the fsyncs)", done["t"] - p_exit["t"]),
            ("sender: DONE read, exit", s_exit["t"] - done["t"]),
        ]
        phases_all.append((phases, s_exit["t"] - ex["t"]))
        fsyncs_all.append([(re.sub(r"^fd: (\d+)(?:<([^>]*)>)?.*$", lambda m: m.group(2) or f"fd {m.group(1)}",
                                   e["text"]), e["dur"] or 0.0) for e in wf])
    if not phases_all:
        raise SystemExit("xfer-helper: no complete transfer in the trace")
    n = len(phases_all)
    print(f"{n} transfers; median ms per phase (p10-p90), from the sender's execve to its exit:")
    for i, (label, _) in enumerate(phases_all[0][0]):
        xs = [ph[i][1] for ph, _ in phases_all]
        print(f"  {statistics.median(xs):8.2f}  ({percentile(xs, 0.1):6.2f}-{percentile(xs, 0.9):6.2f})  {label}")
    tot = [t for _, t in phases_all]
    print(f"  {statistics.median(tot):8.2f}  ({percentile(tot, 0.1):6.2f}-{percentile(tot, 0.9):6.2f})  "
          f"total (sum of the medians: {sum(statistics.median([ph[i][1] for ph, _ in phases_all]) for i in range(len(phases_all[0][0]))):.2f})")
    counts = [len(f) for f in fsyncs_all]
    sums = [sum(d for _, d in f) for f in fsyncs_all]
    hist = ", ".join(f"{c} in {counts.count(c)}" for c in sorted(set(counts)))
    print(f"worker fsyncs per transfer: {hist} transfer(s); total per transfer: median "
          f"{statistics.median(sums):.2f} ms (p10 {percentile(sums, 0.1):.2f}, p90 {percentile(sums, 0.9):.2f})")
    # One by one, over the transfers with the usual number of them (an
    # audit anchor that falls due adds some now and then).
    usual = statistics.mode(counts)
    per = {}
    for f in fsyncs_all:
        if len(f) != usual:
            continue
        for j, (what, d) in enumerate(f):
            per.setdefault((j, re.sub(r"[0-9a-f]{12}", "ID", what)), []).append(d)
    for (j, what), ds in sorted(per.items()):
        print(f"  {statistics.median(ds):8.2f}  (p90 {percentile(ds, 0.9):6.2f})  fsync #{j + 1}: {what}")
    return 0


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd, argv = sys.argv[1], sys.argv[2:]
    if cmd == "timer":
        return cmd_timer(argv)
    if cmd == "drive":
        return cmd_drive(argv)
    if cmd == "report":
        return cmd_report(argv)
    if cmd == "perf-report":
        return cmd_perf_report(argv)
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""One timed workload, run the same way inside a level and in the core.

usage: levels-work.py [--reps K] syscall LOOP MODE ITERATIONS
       levels-work.py [--reps K] fs DIR [FILES]
       levels-work.py [--reps K] compute [MIB]
       levels-work.py [--reps K] cpu [MIB]

Only the work itself is timed, from inside the process, so that starting
the process or opening a session is not part of the figures.  The work is
done K times (default 5) and the fastest repetition is kept: on a busy
machine, noise only ever adds time, and a short repetition has a fair
chance to run undisturbed.  Output, one line, key=value, lower is better:
    work=fs unit=us/file value=X cpu_s=Y reps=K
value is wall-clock time in the given unit, cpu_s the CPU time (user +
system, seconds, of this process and of the children it waited for) of
one repetition, each the minimum over the repetitions.  On a machine with
other work going on, wall-clock time mostly measures how often the
workload was left waiting for a CPU; CPU time does not, and it still
counts every cost a sandbox adds (the seccomp filter, Landlock's checks
and the like are spent on the process's own CPU time, in the kernel).

syscall  runs LOOP (bench-syscall-loop) --mode MODE --iterations N, once
         per repetition; value is its own ns per system call.
fs       in DIR/levels-bench (created, emptied, removed): per repetition,
         FILES small files (1 KiB, default 1000) created and written, then
         all stat()ed, then all unlinked: per file, open(O_CREAT|O_EXCL) +
         write + close + stat + unlink.  Path lookups and inode creation
         are what Landlock and a mount namespace could slow down.
compute  per repetition, "head -c MIB M /dev/zero | sha256sum" (default
         12): three processes, a pipe, hashing.
cpu      per repetition, SHA-256 of MIB MiB (default 64) hashed from a
         1 MiB buffer in this process: computation alone, almost no
         system call."""
import hashlib
import os
import resource
import subprocess
import sys
import time


class Timer:
    """Wall-clock and CPU time (self + waited-for children) of a block."""

    @staticmethod
    def _cpu():
        s = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def __enter__(self):
        self.c0, self.t0 = self._cpu(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.cpu = self._cpu() - self.c0


def best(reps, one):
    """Run one() reps times; the minimum wall-clock and CPU time (each on its own)."""
    walls, cpus = [], []
    for _ in range(reps):
        with Timer() as t:
            extra = one()
        walls.append(t.wall if extra is None else extra)
        cpus.append(t.cpu)
    return min(walls), min(cpus)


def syscall(reps, loop, mode, iterations):
    def one():
        out = subprocess.run([loop, "--mode", mode, "--iterations", str(iterations)],
                             stdout=subprocess.PIPE, check=True, text=True).stdout
        return float(out.split("ns_per_syscall=")[1].split()[0])
    ns, c = best(reps, one)
    print(f"work=syscall-{mode} unit=ns/call value={ns:.2f} cpu_s={c:.5f} reps={reps}")


def fs(reps, base, files):
    top = os.path.join(base, "levels-bench")
    os.makedirs(top, exist_ok=True)
    for name in os.listdir(top):  # left over by an interrupted run
        os.unlink(os.path.join(top, name))
    data = b"x" * 1024
    names = [os.path.join(top, f"f{i:06d}") for i in range(files)]

    def one():
        for n in names:
            fd = os.open(n, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        for n in names:
            os.stat(n)
        for n in names:
            os.unlink(n)
    w, c = best(reps, one)
    os.rmdir(top)
    print(f"work=fs unit=us/file value={w / files * 1e6:.3f} cpu_s={c:.5f} reps={reps}")


def compute(reps, mib):
    cmd = f"head -c {mib}M /dev/zero | sha256sum"
    w, c = best(reps, lambda: subprocess.run(["/bin/sh", "-c", cmd], stdout=subprocess.DEVNULL,
                                             check=True) and None)
    print(f"work=compute unit=s value={w:.5f} cpu_s={c:.5f} reps={reps}")


def cpu(reps, mib):
    buf = bytes(1 << 20)

    def one():
        h = hashlib.sha256()
        for _ in range(mib):
            h.update(buf)
        h.digest()
    w, c = best(reps, one)
    print(f"work=cpu unit=s value={w:.5f} cpu_s={c:.5f} reps={reps}")


def main(argv):
    args = argv[1:]
    reps = 5
    if len(args) >= 2 and args[0] == "--reps":
        reps = int(args[1])
        args = args[2:]
    w, args = (args[0], args[1:]) if args and reps >= 1 else ("", [])
    if w == "syscall" and len(args) == 3:
        syscall(reps, args[0], args[1], int(args[2]))
    elif w == "fs" and 1 <= len(args) <= 2:
        fs(reps, args[0], int(args[1]) if len(args) > 1 else 1000)
    elif w == "compute" and len(args) <= 1:
        compute(reps, int(args[0]) if args else 12)
    elif w == "cpu" and len(args) <= 1:
        cpu(reps, int(args[0]) if args else 64)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

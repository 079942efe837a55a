#!/usr/bin/env python3
"""Stage-1 time of several disks of the same image, side by side (benchmark,
not a test). Driven by bench/stage1-compare.sh, which builds the disks.

  bench/stage1-compare.py --disk NAME:BANNERS:DISK:INITRD [--disk ...]
                          [--boots 3] [--json FILE] [--keep]

Every disk gets its own UEFI variable store: one boot to enroll the keys
(setup mode, not measured), then --boots boots with Secure Boot enforced. The
boots are interleaved (one of each disk per round, the order rotating from one
round to the next) so that a busy minute on the host does not land on one
disk only. Each boot stops as soon as systemd announces itself in the real
root, i.e. at the BANNERS-th line "systemd[1]: systemd N ... running in system
mode": 1 for rempart-init (no systemd before the real root), 2 for an
initramfs that runs systemd itself (the first banner is the initrd's, the
second the one after switch-root).

  stage-1 = kernel time stamp of that banner - kernel time stamp of
            "Run /init as init process"

(the same definition as bench/image-boot-time.py), also on the host clock
(serial arrival times) as a cross-check. The serial helpers and the QEMU
driver are image-boot-time.py's, imported.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location("image_boot_time", os.path.join(HERE, "image-boot-time.py"))
ibt = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ibt)

BANNER = r"systemd\[1\]: systemd \d+\S* running in system mode"
FAIL = (r"Kernel panic|Access Denied|FATAL|Entering emergency mode|"
        r"Timed out waiting for device|Failed to start systemd-veritysetup|"
        r"Security Violation|No working init found")


# Steps of stage 1, for the breakdown (seconds after "Run /init", host clock:
# systemd's status lines carry no kernel time stamp). Each: name, regex matching
# rempart-init's line or the dracut boot's.
STEPS = [
    ("disk", r"\bvda: vda1"),
    ("verity", r"rempart-init: verity: /dev/mapper/root active|Finished systemd-veritysetup@root"),
    ("mounted", r"rempart-init: root mounted|Mounted sysroot\.mount"),
    ("handoff", r"rempart-init: (WARNING: )?machine id|Starting initrd-switch-root\.service"),
]


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def kts(line):
    m = re.search(ibt.KTS, line)
    return float(m.group(1)) if m else None


def measure(ser, banners):
    r = {}
    th, kt, _ = ibt.line_with(ser, r"Run /init as init process")
    seen = [(t, line) for t, line in ser.lines if re.search(BANNER, line)]
    if th is None or kt is None:
        r["error"] = "no 'Run /init' line"
        return r
    if len(seen) < banners:
        r["error"] = f"{len(seen)} systemd banner(s), {banners} expected"
        return r
    bt, bline = seen[banners - 1]
    bk = kts(bline)
    if bk is None:
        r["error"] = "systemd banner without a kernel time stamp"
        return r
    r["stage1"] = bk - kt
    r["stage1_host"] = bt - th
    r["kernel_start"] = kt
    if banners > 1:
        # Time until systemd runs in the initramfs (its own banner).
        ik = kts(seen[0][1])
        if ik is not None:
            r["initrd_systemd_start"] = ik - kt
    start = next(i for i, (_, line) in enumerate(ser.lines) if "Run /init as init process" in line)
    for name, regex in STEPS:
        for t, line in ser.lines[start:]:
            # systemd's status lines highlight unit names (ANSI escapes).
            if re.search(regex, ANSI.sub("", line)):
                r["step_" + name] = t - th
                break
    _, _, mi = ibt.line_with(ser, r"rempart-init: root mounted .*\((\d+) ms\)")
    if mi:
        r["rempart_init_ms"] = int(mi.group(1))
    return r


def sock_dir(tmp):
    """A fresh directory for QEMU's serial socket: the previous QEMU may still be
    removing its own socket while the next boot starts."""
    return tempfile.mkdtemp(prefix="boot.", dir=tmp)


def one_boot(tmp, disk, banners, timeout):
    log = os.path.join(tmp, disk["name"] + ".serial.log")
    proc, ser = ibt.boot(sock_dir(tmp), disk["copy"], disk["vars"], log, ["-no-reboot"], timeout)
    err = None
    try:
        for n in range(banners):
            i, m = ser.expect([BANNER, FAIL], timeout)
            if i is None:
                err = f"no systemd banner #{n + 1} within {timeout} s"
                break
            if i == 1:
                err = f"boot failed: '{m.group(0)}' on the console"
                break
        ser.drain(1.5)  # the rest of the banner line, for its time stamp
    finally:
        ibt.stop(proc)
        ser.drain(0.5)
        ser.close()
    r = measure(ser, banners)
    if err:
        r["error"] = err
    return r


def enroll(tmp, disk):
    log = os.path.join(tmp, disk["name"] + ".serial.log")
    proc, ser = ibt.boot(sock_dir(tmp), disk["copy"], disk["vars"], log, ["-no-reboot"], 300)
    try:
        i, _ = ser.expect([r"Custom Secure Boot keys successfully enrolled", r"Linux version"], 240)
        ser.drain(5)
    finally:
        ibt.stop(proc)
        ser.close()
    if i != 0:
        print(f"{disk['name']}: key enrollment not seen; measuring anyway", file=sys.stderr)


def fmt(v, unit=" s"):
    return "-" if v is None else f"{v:.2f}{unit}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--disk", action="append", required=True, help="NAME:BANNERS:DISK:INITRD")
    ap.add_argument("--boots", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--timeout", type=int, default=300, help="per boot, seconds")
    args = ap.parse_args()
    disks = []
    for spec in args.disk:
        parts = spec.split(":", 3)
        if len(parts) != 4 or not parts[1].isdigit():
            ap.error(f"--disk {spec}: expected NAME:BANNERS:DISK:INITRD")
        name, banners, path, initrd = parts
        for f in (path, initrd):
            if not os.path.isfile(f):
                print(f"stage1-compare.py: no such file {f}", file=sys.stderr)
                return 2
        disks.append({"name": name, "banners": int(banners), "disk": path,
                      "initrd": initrd, "initrd_size": os.path.getsize(initrd), "boots": []})
    tmp = tempfile.mkdtemp(prefix="rempart-stage1.")
    try:
        for d in disks:
            # The disks are written to (rempart-init mounts the state partition):
            # always boot a copy.
            d["copy"] = os.path.join(tmp, d["name"] + ".img")
            subprocess.run(["cp", "--sparse=always", "--reflink=auto", d["disk"], d["copy"]], check=True)
            d["vars"] = os.path.join(tmp, d["name"] + ".vars.fd")
            enroll(tmp, d)
        for n in range(args.boots):
            order = disks[n % len(disks):] + disks[:n % len(disks)]
            for d in order:
                r = one_boot(tmp, d, d["banners"], args.timeout)
                r["round"] = n + 1
                d["boots"].append(r)
                extra = ""
                if "initrd_systemd_start" in r:
                    extra += f", initrd systemd up at {r['initrd_systemd_start']:.2f} s"
                if "rempart_init_ms" in r:
                    extra += f", rempart-init {r['rempart_init_ms']} ms"
                if "error" in r:
                    extra += f", ERROR: {r['error']}"
                print(f"round {n + 1} {d['name']:18} stage-1 {fmt(r.get('stage1'))} "
                      f"(host clock {fmt(r.get('stage1_host'))}){extra}", flush=True)
        print()
        print("stage 1, step by step (median seconds after /init, host clock):")
        print(f"{'initramfs':18} " + " ".join(f"{n:>8}" for n, _ in STEPS) + f" {'systemd':>8}")
        for d in disks:
            cols = []
            for n in [n for n, _ in STEPS] + ["systemd"]:
                key = "stage1_host" if n == "systemd" else "step_" + n
                vals = [r[key] for r in d["boots"] if key in r]
                cols.append(f"{statistics.median(vals):8.2f}" if vals else f"{'-':>8}")
            print(f"{d['name']:18} " + " ".join(cols))
        print()
        # Ratios: the first disk's (rempart-init's) figure over this one's. The
        # minimum is the boot least disturbed by other work on the host.
        print(f"{'initramfs':18} {'size':>6} {'boots':>5} {'stage-1':>8} {'stage-1':>8} {'ratio':>7} {'ratio':>7}")
        print(f"{'':18} {'MiB':>6} {'':>5} {'median':>8} {'min':>8} {'median':>7} {'min':>7}")
        for d in disks:
            vals = [r["stage1"] for r in d["boots"] if "stage1" in r]
            d["median_stage1"] = statistics.median(vals) if vals else None
            d["min_stage1"] = min(vals) if vals else None
        first = disks[0]
        for d in disks:
            rmed = rmin = ""
            if d is not first and first["median_stage1"] and d["median_stage1"]:
                rmed = f"{first['median_stage1'] / d['median_stage1']:.2f}"
                rmin = f"{first['min_stage1'] / d['min_stage1']:.2f}"
            print(f"{d['name']:18} {d['initrd_size'] / 1048576:6.1f} {len(d['boots']):5} "
                  f"{fmt(d['median_stage1'], ' s'):>8} {fmt(d['min_stage1'], ' s'):>8} {rmed:>7} {rmin:>7}")
        for d in disks[1:]:
            if first["median_stage1"] and d["median_stage1"]:
                print(f"{first['name']} / {d['name']}: stage-1 ratio "
                      f"{first['median_stage1'] / d['median_stage1']:.2f} (medians, kernel time stamps)")
        if args.json:
            with open(args.json, "w") as f:
                json.dump([{k: v for k, v in d.items() if k not in ("copy", "vars")} for d in disks], f, indent=1)
            # A failed boot's serial log outlives the temporary directory.
            for d in disks:
                if any("error" in r for r in d["boots"]):
                    kept = os.path.splitext(args.json)[0] + f".{d['name']}.serial.log"
                    shutil.copyfile(os.path.join(tmp, d["name"] + ".serial.log"), kept)
                    print(f"{d['name']}: a boot failed, serial log in {kept}")
        if args.keep:
            print(f"serial logs: {tmp}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    ok = all(d["boots"] and all("error" not in r for r in d["boots"]) for d in disks)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

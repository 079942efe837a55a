#!/usr/bin/env python3
"""Boot time of the Rempart image, split by stage (benchmark, not a test).

Boots a copy of a TEST=1 image (it needs the serial-console test user) in QEMU
through image/run.sh: once to enroll the keys (not measured), then --boots
times with Secure Boot enforced, one UEFI variable store and one disk for all
(the state partition persists, as on a real machine). For every measured boot:

  firmware     QEMU start -> OVMF starts the boot loader ("BdsDxe: starting")
  loader       -> kernel start (systemd-boot, systemd-stub, loading the UKI);
               kernel start on the host clock = host time of the live line
               "Run /init as init process" minus its kernel time stamp
  kernel       kernel start -> /init (kernel time stamps)
  stage-1      /init -> systemd's first message in the real root (kernel time
               stamps: rempart-init verifies, mounts and switches root)
  userspace    systemd -> multi-user.target ("systemd-analyze", read by the test
               user after logging in on the serial console)

also rempart-init's own "(N ms)" and systemd-analyze's whole line. Medians are
printed at the end; --json FILE writes every number. Everything runs under
QEMU TCG (no KVM): absolute times are those of an emulated CPU, the split and
ratios are what matter. It also prints the machine id and the journal's boot
list of each boot (persistent state check).

  bench/image-boot-time.py [--disk IMG] [--boots 3] [--json FILE] [--keep]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from e2e_serial import Serial  # noqa: E402

KTS = r"\[\s*(\d+\.\d+)\]"


def boot(tmp, disk, vars_path, log, extra, timeout):
    sock = os.path.join(tmp, "serial.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    cmd = [os.path.join(REPO, "image", "run.sh"), "--disk", disk, "--vars", vars_path,
           "--serial", f"unix:{sock},server=on,wait=on", "--timeout", str(timeout), "--"] + extra
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(log + ".qemu", "a"), start_new_session=True)
    return proc, Serial(sock, log, t0)


def stop(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def line_with(ser, regex):
    """(host seconds, kernel seconds or None, match) of the first line matching regex."""
    r = re.compile(regex)
    for t, line in ser.lines:
        m = r.search(line)
        if m:
            k = re.search(KTS, line)
            return t, (float(k.group(1)) if k else None), m
    return None, None, None


def run(ser, command, timeout=60):
    """Run a shell command as the logged-in user; returns its output (between markers)."""
    ser.send(f"echo @@B''EGIN; {command}; echo @@E''ND\n")
    i, _ = ser.expect([r"@@BEGIN\r?\n"], timeout)
    if i is None:
        return None
    i, m = ser.expect([r"(?s)(.*?)@@END"], timeout)
    return m.group(1).replace("\r", "").strip() if m else None


def userspace_time(ser):
    """systemd-analyze, retried until the boot is finished."""
    for _ in range(60):
        out = run(ser, "systemd-analyze 2>&1")
        if out and "Startup finished" in out:
            return out
        time.sleep(2)
    return out


def secs(text, label):
    """Seconds of '1min 2.345s' / '2.345s' / '345ms' right before '(label)'."""
    m = re.search(r"((?:\d+min )?\d+(?:\.\d+)?m?s) \(" + label + r"\)", text or "")
    return parse_span(m.group(1)) if m else None


def parse_span(s):
    total = 0.0
    for v, u in re.findall(r"(\d+(?:\.\d+)?)(min|ms|s)", s):
        total += float(v) * {"min": 60, "s": 1, "ms": 0.001}[u]
    return total


def measure(ser):
    r = {}
    fw, _, _ = line_with(ser, r"BdsDxe: starting Boot")
    th, kt, _ = line_with(ser, r"Run /init as init process")
    _, st, _ = line_with(ser, r"systemd\[1\]: systemd \d+.* running in system mode")
    _, _, mi = line_with(ser, r"rempart-init: root mounted .*\((\d+) ms\)")
    if fw is not None:
        r["firmware"] = fw
    if th is not None and kt is not None:
        kstart = th - kt
        r["kernel"] = kt
        if fw is not None:
            r["loader"] = kstart - fw
        if st is not None:
            r["stage1"] = st - kt
    if mi:
        r["rempart_init_ms"] = int(mi.group(1))
    return r


def main():
    out_base = os.environ.get("REMPART_IMAGE_OUT", os.path.join(REPO, "build-image"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--disk", default=os.path.join(out_base, "test", "disk.img"))
    ap.add_argument("--boots", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--timeout", type=int, default=900, help="per boot, seconds")
    args = ap.parse_args()
    if not os.path.isfile(args.disk):
        print(f"no image {args.disk}: run 'TEST=1 make image' first", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="rempart-boottime.")
    results = []
    try:
        disk = os.path.join(tmp, "disk.img")
        subprocess.run(["cp", "--sparse=always", args.disk, disk], check=True)
        vars_path = os.path.join(tmp, "OVMF_VARS.fd")
        log = os.path.join(tmp, "serial.log")
        proc, ser = boot(tmp, disk, vars_path, log, ["-no-reboot"], 300)
        i, _ = ser.expect([r"Custom Secure Boot keys successfully enrolled", r"Linux version"], 240)
        ser.drain(10)
        stop(proc)
        ser.close()
        if i != 0:
            print("key enrollment did not happen; measuring anyway", file=sys.stderr)
        for n in range(1, args.boots + 1):
            proc, ser = boot(tmp, disk, vars_path, log, ["-no-reboot"], args.timeout)
            i, _ = ser.expect([r"login: ", r"FATAL|Kernel panic|Access Denied"], args.timeout)
            r = {"boot": n}
            if i == 0:
                ser.send("rempart-test\n")
                ser.expect([r"Password: "], 60)
                ser.send("rempart-test\n")
                j, _ = ser.expect([r"\$ $|\$ ", r"Login incorrect"], 120)
                if j == 0:
                    sa = userspace_time(ser)
                    r["systemd_analyze"] = sa
                    r["userspace"] = secs(sa, "userspace")
                    r["sa_kernel"] = secs(sa, "kernel")
                    r["sa_firmware"] = secs(sa, "firmware")
                    r["sa_loader"] = secs(sa, "loader")
                    r["machine_id"] = run(ser, "cat /etc/machine-id")
                    r["machine_id_mount"] = run(ser, "findmnt -no SOURCE,OPTIONS /etc/machine-id")
                    r["boot_id"] = run(ser, "cat /proc/sys/kernel/random/boot_id")
                    # The test user is not in systemd-journal: it cannot read the
                    # system journal (journalctl --list-boots), only list its files.
                    r["journal_files"] = run(ser, "ls -l /var/log/journal/*/ 2>&1 | tail -n +2")
                    run(ser, "sync")
            else:
                r["error"] = "no login prompt"
            stop(proc)
            ser.drain(1)
            r.update(measure(ser))
            ser.close()
            results.append(r)
            print(f"boot {n}: " + ", ".join(
                f"{k} {r[k]:.2f}s" for k in ("firmware", "loader", "kernel", "stage1", "userspace")
                if isinstance(r.get(k), float)) +
                (f", rempart-init {r['rempart_init_ms']} ms" if "rempart_init_ms" in r else ""), flush=True)
            for k in ("systemd_analyze", "machine_id", "machine_id_mount", "boot_id", "journal_files", "error"):
                if r.get(k):
                    print(f"   {k}: " + str(r[k]).replace("\n", "\n      "), flush=True)
        print("medians over %d boots:" % len(results))
        for k in ("firmware", "loader", "kernel", "stage1", "rempart_init_ms", "userspace"):
            vals = [r[k] for r in results if isinstance(r.get(k), (int, float))]
            if vals:
                print(f"   {k:16} {statistics.median(vals):.3f}" + ("" if k.endswith("ms") else " s"))
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
        if args.keep:
            print(f"serial log: {log}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if results and all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

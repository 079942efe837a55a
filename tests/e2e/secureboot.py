#!/usr/bin/env python3
"""End-to-end test: Secure Boot enrollment and enforcement of the Rempart image.

Boots a copy of the test image (TEST=1 make image) twice in QEMU through
image/run.sh, with one UEFI variable store that starts empty (setup mode):

  boot 1  systemd-boot finds loader/keys/auto on the ESP, enrolls PK/KEK/db
          and resets (-no-reboot turns the reset into the end of the run);
  boot 2  the firmware now enforces Secure Boot: it must accept our signed
          systemd-boot and UKI, and the kernel must report Secure Boot on.
          When the system reaches a login prompt (needs rempart-init), the
          test logs in as the test user on the serial console and reads the
          SecureBoot EFI variable from inside the system.

Prints "@@E2E <name> PASS|FAIL|SKIP [detail]" lines and boot timings; the exit
status is 1 when any check failed. Usage: tests/e2e/secureboot.py [--disk IMG]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_serial import Serial  # noqa: E402  (local module, after the path tweak)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SB_VAR = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
results = []


def report(name, status, detail=""):
    results.append(status)
    print(f"@@E2E {name} {status}{(' ' + detail) if detail else ''}", flush=True)


def boot(tmp, disk, vars_path, log, extra, timeout):
    sock = os.path.join(tmp, "serial.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    cmd = [os.path.join(REPO, "image", "run.sh"), "--disk", disk, "--vars", vars_path,
           "--serial", f"unix:{sock},server=on,wait=on", "--timeout", str(timeout), "--"] + extra
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(log + ".qemu", "w"), start_new_session=True)
    ser = Serial(sock, log, t0)
    return proc, ser


def stop(proc):
    """Stop run.sh and everything it started (own session: swtpm, timeout, QEMU)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # leftovers of an already finished run.sh
    except ProcessLookupError:
        pass


def timings(name, ser):
    fw = ser.first_time(r"BdsDxe: starting Boot")
    kern = ser.first_time(r"Linux version")
    init = ser.first_time(r"Run /init|rempart-init")
    parts = [f"firmware->systemd-boot {fw:.1f}s" if fw is not None else "firmware->systemd-boot ?",
             f"->kernel {kern - fw:.1f}s" if kern is not None and fw is not None else "->kernel ?"]
    if init is not None and kern is not None:
        parts.append(f"->init {init - kern:.1f}s")
    print(f"   {name}: " + ", ".join(parts), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--disk", default=os.path.join(REPO, "build-image", "test", "disk.img"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if not os.path.isfile(args.disk):
        print(f"no image {args.disk}: run 'TEST=1 make image' first", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="rempart-e2e.")
    try:
        disk = os.path.join(tmp, "disk.img")
        subprocess.run(["cp", "--sparse=always", args.disk, disk], check=True)
        vars_path = os.path.join(tmp, "OVMF_VARS.fd")  # created empty by run.sh
        log = os.path.join(tmp, "serial.log")

        # ---- boot 1: enrollment
        proc, ser = boot(tmp, disk, vars_path, log, ["-no-reboot"], 300)
        i, _ = ser.expect([r"Custom Secure Boot keys successfully enrolled",
                           r"Linux version", r"Access Denied"], 240)
        ser.drain(20)
        stop(proc)
        timings("boot 1", ser)
        ser.close()
        report("enroll-keys", "PASS" if i == 0 else "FAIL",
               "" if i == 0 else "no enrollment message from systemd-boot")

        # ---- boot 2: Secure Boot enforced
        proc, ser = boot(tmp, disk, vars_path, log, ["-no-reboot"], 600)
        i, _ = ser.expect([r"secureboot: Secure boot enabled",
                           r"secureboot: Secure boot disabled", r"Access Denied"], 300)
        report("kernel-secureboot-enabled", "PASS" if i == 0 else "FAIL",
               {1: "kernel says disabled", 2: "firmware refused an image"}.get(i, "") if i else "")
        i, _ = ser.expect([r"login: ", r"No working init found|Kernel panic|rempart-init: .*(fail|error)"], 300)
        if i == 0:
            ser.send("rempart-test\n")
            ser.expect([r"Password: "], 30)
            ser.send("rempart-test\n")
            j, _ = ser.expect([r"\$ $|\$ ", r"Login incorrect"], 60)
            if j != 0:
                report("efivar-secureboot", "FAIL", "test user could not log in")
            else:
                ser.send(f"echo @@SB $(od -An -tu1 {SB_VAR} | tr -s ' ') @@END\n")
                k, m = ser.expect([r"@@SB ([0-9 ]*) @@END"], 60)
                vals = m.group(1).split() if m else []
                ok = k == 0 and len(vals) == 5 and vals[4] == "1"
                report("efivar-secureboot", "PASS" if ok else "FAIL", f"SecureBoot variable bytes: {vals}")
        else:
            report("efivar-secureboot", "SKIP",
                   "no login prompt (rempart-init not in the initramfs yet?)")
        stop(proc)
        ser.drain(1)
        timings("boot 2", ser)
        ser.close()
        print(f"   serial log: {log}" if args.keep else "", end="", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if "FAIL" in results else 0


if __name__ == "__main__":
    sys.exit(main())

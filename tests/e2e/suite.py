#!/usr/bin/env python3
"""End-to-end suite of the Rempart image (points 1-5 of the image issue).

Boots copies of the test image (TEST=1 make image) in QEMU through
image/run.sh and prints "@@E2E <name> PASS|FAIL|SKIP detail" lines; the
runner tests/e2e/run-e2e.sh turns them into TAP. Boots are shared:

  enroll    empty variable store: systemd-boot enrolls PK/KEK/db, resets;
            the store is then copied for every later boot (user mode)
  main      unaltered disk copy: Secure Boot on (kernel, SecureBoot
            variable), root login refused, every in-system check (inside.py),
            a file written on the state partition; levels (levels.py),
            transfers between them (xfer.py), the audit log (audit.py)
  persist   same disk copy, second boot: the file is still there; the root
            partitions are bit-identical to the image before any boot
  refuse    one boot per altered UKI / boot loader (sb_refusal.py)
  root      FEC repair, damage beyond FEC, wrong root hash (root_integrity.py)
  audit     a root repaired by FEC at boot: recorded in the audit log (audit.py;
            the audit checks of the main boot run with the levels')

Usage: tests/e2e/suite.py [--disk IMG] [--keep] [--only enroll,main,persist,refuse,root,audit]
(--only needs enroll, which always runs.) Python 3 standard library only.
"""
import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audit  # noqa: E402
import inside  # noqa: E402
import levels  # noqa: E402
import root_integrity  # noqa: E402
import sb_refusal  # noqa: E402
import xfer  # noqa: E402
from e2e_lib import REPO, Image, Shell, Vm, boot_kernel, log, report, results, sha256_range  # noqa: E402

STATE_FILE = "/var/tmp/rempart-e2e-state"
ROOT_PARTS = ("root-a", "root-a-verity")


def timings(vm):
    s = vm.ser
    fw = s.first_time(r"BdsDxe: starting Boot")
    kern = s.first_time(r"Linux version")
    init = s.first_time(r"rempart-init|Run /init")
    sysd = s.first_time(r"systemd\[1\]: systemd |Welcome to ")
    login = s.first_time(r"login: ")
    pts = [("firmware->systemd-boot", fw), ("->kernel", kern), ("->rempart-init", init),
           ("->systemd", sysd), ("->login prompt", login)]
    out, prev = [], 0.0
    for label, t in pts:
        if t is None:
            continue
        out.append(f"{label} {t - prev:.1f}s")
        prev = t
    log(f"{vm.name}: " + ", ".join(out))


def boot_enroll(img, tmp, disk):
    vars_path = os.path.join(tmp, "enroll.fd")  # created empty by run.sh
    vm = Vm(tmp, disk, vars_path, "enroll", timeout=300)
    i, _ = vm.expect([r"Custom Secure Boot keys successfully enrolled", r"Linux version", r"Access Denied"], 240)
    if i == 0:
        vm.wait_exit(60)  # reset: QEMU ends (-no-reboot)
    t = vm.stop()
    timings(vm)
    report("sb-enroll-keys", "PASS" if i == 0 else "FAIL",
           f"systemd-boot enrolled the keys from an empty store ({t:.0f} s)" if i == 0 else
           "no enrollment message from systemd-boot")
    if i != 0:
        return None
    enrolled = os.path.join(tmp, "enrolled.fd")
    shutil.copy(vars_path, enrolled)
    return enrolled


def boot_main(img, tmp, disk, enrolled, token):
    vm, i, m = boot_kernel(tmp, disk, enrolled, "main",
                           [r"login: ", root_integrity.FATAL, r"Access Denied|Security Violation"], 400)
    try:
        text = vm.text()
        on = "secureboot: Secure boot enabled" in text
        report("sb-kernel-secureboot-enabled", "PASS" if on else "FAIL",
               "kernel: 'secureboot: Secure boot enabled'" if on else
               "kernel says disabled" if "secureboot: Secure boot disabled" in text else
               "firmware refused the unaltered image" if i == 2 else "no kernel message")
        report("boot-unaltered", "PASS" if i == 0 else "FAIL",
               f"unaltered image with the enrolled store reaches the login prompt in {vm.elapsed():.0f} s "
               "(control for the refusals)" if i == 0 else f"no login prompt: {m.group(0) if m else 'timeout'}")
        if i != 0:
            return False
        sh = Shell(vm)
        inside.login_root_refused(vm, sh)
        if sh.login() != "shell":
            report("inside-login-test-user", "FAIL", "test user could not log in")
            return False
        mounts = inside.run_checks(vm, sh, img)
        # ---- point 5: a file on the state partition
        m, dev = inside.state_partition_of(sh, mounts, img)
        on_state = m is not None and m["point"] == "/var" and m["source"] == dev and dev
        rc, _ = sh.run(f"echo {token} > {STATE_FILE} && sync && cat {STATE_FILE}")
        report("state-on-state-partition", "PASS" if on_state and rc == 0 else "FAIL",
               f"{STATE_FILE} on {m['point']} ({m['fstype']} {m['source']}); state PARTUUID -> {dev}; write rc={rc}"
               if m else "no mount for /var/tmp")
        # ---- levels
        if levels.run_main(vm, sh, token):
            sh.run("sync")
            xfer.run_main(sh)
            audit.run_main(sh)
            levels.run_matrix(sh)
            levels.run_login_menu(vm, sh)
        return rc == 0
    finally:
        vm.stop()
        timings(vm)
        log(f"main: console log {vm.log_path}")


def boot_persist(img, tmp, disk, enrolled, token):
    vm, i, m = boot_kernel(tmp, disk, enrolled, "persist", [r"login: ", root_integrity.FATAL], 400)
    try:
        sh = Shell(vm)
        if i != 0 or sh.login() != "shell":
            report("state-persists-reboot", "FAIL", "second boot: no login")
            return
        rc, out = sh.run(f"cat {STATE_FILE}")
        got = out[-1].strip() if out else ""
        report("state-persists-reboot", "PASS" if got == token else "FAIL",
               f"after reboot {STATE_FILE} = {got!r} (written {token!r})")
        levels.run_persist(sh, token)
    finally:
        vm.stop()
        timings(vm)


def offline_root_scan(img, disk):
    """Complement of the in-system scan, which cannot enter directories the
    test user may not read: list the root partition's squashfs on the host."""
    off, _ = img.part_range("root-a")
    r = subprocess.run(["unsquashfs", "-lln", "-o", str(off), disk], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    entries = [x for x in r.stdout.splitlines() if x[:1] in "-dlcbps"]
    setid = [x.split()[-1] for x in entries if x[0] == "-" and (x[3] in "sS" or x[6] in "sS")]
    sb = root_integrity.squashfs_sb(disk, off)
    no_xattrs = sb["xattr_table"] == 0xFFFFFFFFFFFFFFFF
    ok = r.returncode == 0 and entries and not setid and no_xattrs
    report("root-image-no-setid-no-xattr", "PASS" if ok else "FAIL",
           f"unsquashfs of root-a: {len(entries)} entries, setuid/setgid regular files: {setid[:10]}, "
           f"xattr table: {'none (no file capabilities possible)' if no_xattrs else 'PRESENT'}"
           + ("" if r.returncode == 0 else f"; unsquashfs failed: {r.stderr.strip()[:200]}"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--disk", default=os.path.join(REPO, "build-image", "test", "disk.img"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    ap.add_argument("--only", default="", help="comma list of: main,persist,refuse,root,audit or a case name")
    args = ap.parse_args()
    if not os.path.isfile(args.disk):
        print(f"no image {args.disk}: run 'TEST=1 make image' first", file=sys.stderr)
        return 2
    img = Image(args.disk)
    if img.layout.get("variant") != "test":
        print(f"{args.disk} is not a test image (TEST=1 make image)", file=sys.stderr)
        return 2
    only = set(filter(None, args.only.split(",")))
    want = lambda x: not only or x in only  # noqa: E731
    tmp = tempfile.mkdtemp(prefix="rempart-e2e.")
    t0 = time.monotonic()
    try:
        disk = img.copy(os.path.join(tmp, "main.img"))
        before = {p: sha256_range(disk, *img.part_range(p)) for p in ROOT_PARTS}
        enrolled = boot_enroll(img, tmp, disk)
        if enrolled:
            token = secrets.token_hex(8)
            if want("main") or want("persist"):
                wrote = boot_main(img, tmp, disk, enrolled, token)
                if want("persist") and wrote:
                    boot_persist(img, tmp, disk, enrolled, token)
                after = {p: sha256_range(disk, *img.part_range(p)) for p in ROOT_PARTS}
                same = [p for p in ROOT_PARTS if before[p] == after[p]]
                report("state-root-bit-identical", "PASS" if len(same) == len(ROOT_PARTS) else "FAIL",
                       f"sha256 of {', '.join(ROOT_PARTS)} unchanged after the boots: {same}; "
                       f"root-a {after['root-a'][:16]}...")
            offline_root_scan(img, disk)
            os.unlink(disk)
            cases = {c for c in only if c.startswith("sb-") or c in ("fec", "block0", "wronghash")}
            if want("refuse") or any(c.startswith("sb-") for c in cases):
                sb_refusal.run(img, tmp, enrolled, {c for c in cases if c.startswith("sb-")} or None)
            if want("root") or cases & {"fec", "block0", "wronghash"}:
                root_integrity.run(img, tmp, enrolled, cases & {"fec", "block0", "wronghash"} or None)
            if want("audit"):
                audit.run_fec(img, tmp, enrolled)
    except Exception as e:  # noqa: BLE001 - any crash of the harness is one failed result
        report("suite-harness", "FAIL", f"{type(e).__name__}: {e}")
        raise
    finally:
        failed = any(s == "FAIL" for _, s, _ in results)
        if failed and not args.keep:
            # Keep the console logs (small) for the post-mortem, drop the rest.
            for f in os.listdir(tmp):
                p = os.path.join(tmp, f)
                if not f.endswith(".log") and not f.endswith(".qemu"):
                    shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
        keep = args.keep or failed
        log(f"total {time.monotonic() - t0:.0f} s" + (f"; console logs in {tmp}" if keep else ""))
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if any(s == "FAIL" for _, s, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())

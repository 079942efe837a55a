"""The audit log in the booted image: the security events other than
transfers (level restarts, kernel integrity errors) and the log's place in
the image, checked by the test user, a member of the audit role
(group rempart-audit) in the test image only.

In the main boot, after levels.py killed the init of level high:
  audit-dir-role         /var/lib/rempart/audit on the state partition (/var),
                         root:rempart-audit 0750, audit.log 0640 of that
                         group, audit.key not readable by the auditor
  audit-services         rempart-audit-boot.service verified the log at boot,
                         rempart-audit-kernel.service is reading /dev/kmsg
  audit-level-restart    a LEVEL_RESTART record for high with systemd's
                         result, exit code and status (ExecStopPost= of
                         rempart-level@high.service)
  audit-verify-role      rempart-audit verify --no-key as the auditor: intact
  audit-verify-key       rempart-audit verify with the key, run as root by
                         the test image's agent: intact, MACs checked
In a boot of its own (suite.py, "audit"):
  audit-fec-recorded     16 bytes changed in two root blocks read at boot,
                         repaired by FEC: an INTEGRITY_ERROR record
                         (dm-verity-fec corrected) written by the watcher
"""
import os
import re
import time

import root_integrity
from e2e_lib import Shell, boot_kernel, log, report, xor_bytes

DIR = "/var/lib/rempart/audit"
BS = 4096


def _show(sh, rtype):
    rc, out = sh.run(f"rempart-audit show --type {rtype} 2>&1", timeout=120)
    return rc, [x for x in out if rtype in x or "error" in x]


def run_main(sh):
    # ---- the directory and the role
    rc, out = sh.run(f"stat -c '%n %U:%G %a' {DIR} {DIR}/audit.log; df --output=target {DIR} | tail -n 1; "
                     f"cat {DIR}/audit.key >/dev/null 2>&1 && echo KEY-READABLE || echo key-refused; id -nG")
    text = " | ".join(out)
    good = (f"{DIR} root:rempart-audit 750" in out and f"{DIR}/audit.log root:rempart-audit 640" in out
            and "/var" in [x.strip() for x in out] and "key-refused" in out
            and any("rempart-audit" in x.split() for x in out))
    report("audit-dir-role", "PASS" if good else "FAIL", text[:400])

    # ---- the boot check and the kernel watcher
    rc, out = sh.run("systemctl is-active rempart-audit-boot.service rempart-audit-kernel.service; "
                     "journalctl -q --no-pager -b -u rempart-audit-kernel.service -u rempart-audit-boot.service | "
                     "grep -E 'watching /dev/kmsg|intact|TAMPERED|error' | tail -n 4")
    good = len(out) >= 2 and out[0].strip() == "active" and out[1].strip() == "active" and \
        any("watching /dev/kmsg" in x for x in out)
    report("audit-services", "PASS" if good else "FAIL", " | ".join(x.strip() for x in out)[:400])

    # ---- the restart of high (levels.py killed its init)
    found = []
    for _ in range(10):
        rc, out = _show(sh, "LEVEL_RESTART")
        found = [x for x in out if re.search(r"LEVEL_RESTART +level=high result=(?!success)\S+ exit_code=\S+", x)]
        if found:
            break
        time.sleep(3)
    report("audit-level-restart", "PASS" if found else "FAIL",
           (found[-1].strip() if found else "no LEVEL_RESTART record for high: " + " / ".join(out[-3:]))[:400])

    # ---- the log verifies, for the auditor (chain only) and with the key (root)
    rc, out = sh.run("rempart-audit verify --no-key 2>&1", timeout=120)
    good = rc == 0 and any("intact" in x for x in out)
    report("audit-verify-role", "PASS" if good else "FAIL", f"rc={rc}: " + " | ".join(out)[:300])
    sh.run("rm -f /run/rempart-test/audit-verify.out 2>/dev/null; echo verify-audit > /run/rempart-test/agent")
    out = []
    for _ in range(20):
        time.sleep(3)
        rc, out = sh.run("cat /run/rempart-test/audit-verify.out 2>/dev/null")
        if out and out[-1].startswith("rc="):
            break
    good = out and out[-1].strip() == "rc=0" and any("intact" in x and "MACs checked" in x for x in out)
    report("audit-verify-key", "PASS" if good else "FAIL", " | ".join(out)[:300] or "no answer from the test agent")
    log("audit: main boot checked")


def run_fec(img, tmp, enrolled):
    """A root repaired by FEC at boot: the watcher records it."""
    name = "audit-fec"
    disk = img.copy(os.path.join(tmp, f"{name}.img"))
    root_off, _ = img.part_range("root-a")
    n = img.fec_rounds()
    sb = root_integrity.squashfs_sb(disk, root_off)
    # Two blocks read at mount (root inode, id table), of different FEC
    # codewords: repairable (as root_integrity.case_fec).
    m1 = (sb["inode_table"] + (sb["root_inode"] >> 16)) // BS
    m2 = sb["id_table"] // BS
    if m2 % n == m1 % n:
        m2 = sb["dir_table"] // BS
    for b in (m1, m2):
        xor_bytes(disk, root_off + b * BS + 2048, 16)
    vm, i, m = boot_kernel(tmp, disk, enrolled, name, [r"login: ", root_integrity.FATAL, root_integrity.RESTART], 300)
    try:
        sh = Shell(vm)
        if i != 0 or sh.login() != "shell":
            report("audit-fec-recorded", "FAIL", f"no login after a repairable root damage (outcome {i})")
            return
        found, out = [], []
        for _ in range(20):
            rc, out = _show(sh, "INTEGRITY_ERROR")
            found = [x for x in out if "source=kernel subsystem=dm-verity-fec event=corrected" in x]
            if found:
                break
            time.sleep(3)
        report("audit-fec-recorded", "PASS" if found else "FAIL",
               (f"{len(found)} record(s), first: {found[0].strip()}" if found else
                "no dm-verity-fec record: " + " / ".join(out[-3:]))[:400])
    finally:
        vm.stop()
        os.unlink(disk)
        log(f"{name}: console log {vm.log_path}")

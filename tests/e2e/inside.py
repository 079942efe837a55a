"""Point 4 of the image issue, checked from inside the running system by the
unprivileged test user logged in on the serial console: read-only / and /usr,
every writable mount noexec,nosuid,nodev, no setuid/setgid or file-capability
binaries, the sysctl and command-line hardening profile in force, module
loading disabled once boot is complete, no way to become root.
"""
import os
import time

from e2e_lib import REPO, Shell, log, report

SB_VAR = "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
SYSCTL_CONF = os.path.join(REPO, "image", "overlay", "etc", "sysctl.d", "90-rempart-hardening.conf")
CMDLINE_CONF = os.path.join(REPO, "image", "cmdline.conf")
# File systems whose purpose is to hold device nodes: nodev cannot apply.
DEVICE_FS = {"devtmpfs", "devpts"}

# Walk every mounted file system except /proc and /sys; report regular files
# that carry security.capability (lgetxattr, x86-64 syscall 192: perl-base has
# no xattr module and the image has no getcap). A user.* xattr set on a tmpfs
# file first proves that the syscall path works (non-vacuous).
CAPS_SCAN = r'''
use strict; use warnings;
my ($n, $errs, @caps) = (0, 0);
sub getx { my ($p, $name) = @_; my $buf = "\0" x 256;
  my $r = syscall(192, $p, $name, $buf, 256); return $r; }
my $ctl = "/tmp/e2e-xattr-ctl"; open(my $fh, ">", $ctl) or die; close $fh;
my ($xn, $xv) = ("user.e2e", "1");
my $set = syscall(188, $ctl, $xn, $xv, 1, 0);
my $ctlget = getx($ctl, $xn); unlink $ctl;
sub walk { my ($d) = @_; my $dh;
  unless (opendir($dh, $d)) { $errs++; return; }
  for my $e (readdir $dh) {
    next if $e eq "." || $e eq "..";
    my $p = $d eq "/" ? "/$e" : "$d/$e";
    next if $p eq "/proc" || $p eq "/sys";
    lstat($p) or next;
    if (-d _) { walk($p); }
    elsif (-f _) { $n++; push @caps, $p if getx($p, "security.capability") > 0; }
  }
  closedir $dh; }
walk("/");
print "control set=$set get=$ctlget\n";
print "files=$n unreadable_dirs=$errs\n";
print "cap $_\n" for @caps;
'''


def parse_mountinfo(lines):
    mounts = []
    for line in lines:
        f = line.split()
        if "-" not in f or len(f) < 10:
            continue
        sep = f.index("-")
        mounts.append({"point": f[4].replace("\\040", " "), "opts": set(f[5].split(",")),
                       "fstype": f[sep + 1], "source": f[sep + 2], "super": set(f[sep + 3].split(","))})
    return mounts


def mount_of(mounts, path):
    best = None
    for m in mounts:
        p = m["point"]
        if path == p or path.startswith(p.rstrip("/") + "/") or p == "/":
            if best is None or len(p) >= len(best["point"]):
                best = m
    return best


def sysctl_expected():
    want = {}
    with open(SYSCTL_CONF) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                k, v = (x.strip() for x in line.split("=", 1))
                want[k] = v
    return want


def cmdline_expected(img):
    """Items of the image's command line: cmdline.conf, placeholders as filled
    in by the build (disk.json cmdline_a)."""
    built = img.layout["cmdline_a"].split()
    items = []
    with open(CMDLINE_CONF) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            for it in line.split():
                if "@" in it:
                    key = it.split("=", 1)[0]
                    it = next((b for b in built if b.split("=", 1)[0] == key), it)
                items.append(it)
    return items


def check_mounts(name, mounts, when):
    ro_root = mount_of(mounts, "/")
    ro_usr = mount_of(mounts, "/usr")
    bad, device, listing = [], [], []
    for m in mounts:
        if "ro" in m["opts"]:
            continue
        miss = [o for o in ("noexec", "nosuid", "nodev") if o not in m["opts"]]
        listing.append(f"{m['point']}({m['fstype']})")
        if not miss:
            continue
        if m["fstype"] in DEVICE_FS and miss == ["nodev"]:
            device.append(f"{m['point']}({m['fstype']}: no nodev)")
        else:
            bad.append(f"{m['point']}({m['fstype']}) lacks {','.join(miss)}")
    log(f"{when}: writable mounts: {' '.join(listing)}")
    if bad:
        report(f"{name}-writable-mounts-wx", "FAIL", f"{when}: {len(bad)} of {len(listing)} writable mounts lack "
               f"W^X flags: {'; '.join(bad)} (device fs without nodev, allowed: {device})")
    else:
        report(f"{name}-writable-mounts-wx", "PASS", f"{when}: all {len(listing)} writable mounts noexec,nosuid,nodev"
               f" (device fs without nodev, allowed: {device}): {' '.join(listing)}")
    return ro_root, ro_usr


def run_checks(vm, sh, img, name="inside"):
    """Checks of point 1 (SecureBoot variable) and 4, on a logged-in Shell."""
    rc, out = sh.run(f"od -An -tu1 {SB_VAR}")
    vals = " ".join(out).split()
    report("sb-efivar-secureboot", "PASS" if rc == 0 and vals[-1:] == ["1"] else "FAIL",
           f"SecureBoot variable bytes (attributes + value): {vals}")

    rc, out = sh.run("id")
    log(f"id: {' '.join(out)}")

    # ---- read-only / and /usr, W^X mounts
    rc, info = sh.run("cat /proc/self/mountinfo")
    mounts = parse_mountinfo(info)
    root, usr = check_mounts(name, mounts, "at login")
    ok = root and "ro" in root["opts"] and root["point"] == "/"
    report(f"{name}-root-ro", "PASS" if ok else "FAIL",
           f"/ is {root['fstype']} from {root['source']} opts {','.join(sorted(root['opts']))}" if root else "no / mount")
    rc_touch, out_touch = sh.run("touch /usr/e2e-probe 2>&1; touch /e2e-probe 2>&1")
    ok = usr and "ro" in usr["opts"] and rc_touch != 0
    report(f"{name}-usr-ro", "PASS" if ok else "FAIL",
           f"/usr on mount {usr['point']} ({usr['fstype']}, {'ro' if 'ro' in usr['opts'] else 'RW'}); "
           f"touch: {' / '.join(out_touch)}" if usr else "no mount for /usr")

    # Behaviour, not only flags: a copy of a system binary cannot run from any
    # writable place the user can reach.
    script = ("for d in /tmp /var/tmp /dev/shm /run/user/$(id -u); do [ -d $d ] && [ -w $d ] || continue; "
              "cp /usr/bin/true $d/e2e-true && { if $d/e2e-true 2>/dev/null; then echo EXEC-OK $d; "
              "else echo EXEC-REFUSED $d; fi; rm -f $d/e2e-true; }; done")
    rc, out = sh.run(script)
    ran = [x.split()[1] for x in out if x.startswith("EXEC-OK")]
    refused = [x.split()[1] for x in out if x.startswith("EXEC-REFUSED")]
    report(f"{name}-noexec-enforced", "FAIL" if ran or not refused else "PASS",
           f"copied /usr/bin/true ran from {ran}" if ran else f"exec refused in {refused}")

    # ---- no setuid/setgid, no file capabilities
    rc, out = sh.run("find / \\( -path /proc -o -path /sys \\) -prune -o -type f \\( -perm -4000 -o -perm -2000 \\) "
                     "-print 2>/tmp/e2e-find.err; echo errors=$(wc -l < /tmp/e2e-find.err); "
                     "head -n 3 /tmp/e2e-find.err; rm -f /tmp/e2e-find.err", 300)
    found = [x for x in out if x.startswith("/")]
    errs = next((x for x in out if x.startswith("errors=")), "errors=?")
    report(f"{name}-no-setid", "FAIL" if found or rc is None else "PASS",
           f"setuid/setgid files: {found}" if found else f"none found by find over all mounts except /proc,/sys ({errs} unreadable)")
    rc, out = sh.run_script(CAPS_SCAN, "perl", 300)
    caps = [x[4:] for x in out if x.startswith("cap ")]
    ctl = next((x for x in out if x.startswith("control")), "")
    stats = next((x for x in out if x.startswith("files=")), "")
    ok = rc == 0 and not caps and "get=1" in ctl
    report(f"{name}-no-file-caps", "PASS" if ok else "FAIL",
           f"capability files: {caps}" if caps else f"no security.capability xattr; {stats}; xattr {ctl}"
           + ("" if rc == 0 else f" (scan failed rc={rc}: {out[-3:]})"))
    # Trigger the automount points (as any user can) so that what they mount is checked too.
    autos = " ".join(m["point"] for m in mounts if m["fstype"] == "autofs")
    rc, info2 = sh.run(f"ls {autos} >/dev/null 2>&1; cat /proc/self/mountinfo" if autos else "cat /proc/self/mountinfo")
    seen = {(x["point"], x["fstype"], x["source"]) for x in mounts}
    new = [m for m in parse_mountinfo(info2) if (m["point"], m["fstype"], m["source"]) not in seen]
    if new:
        log("mounts triggered by the scan: " + " ".join(f"{m['point']}({m['fstype']},{','.join(sorted(m['opts']))})" for m in new))
        check_mounts(f"{name}-automount", new, "mounted on access during the scan")

    # ---- sysctls
    want = sysctl_expected()
    script = "".join(f"printf '%s=' {k}; cat /proc/sys/{k.replace('.', '/')} 2>&1 | head -n1; " for k in want)
    rc, out = sh.run(script)
    got = {}
    for line in out:
        if "=" in line:
            k, v = line.split("=", 1)
            got[k.strip()] = v.strip()
    wrong, unreadable = [], []
    for k, v in want.items():
        g = got.get(k)
        if g is not None and "Permission denied" in g:
            unreadable.append(k)
        elif g is None:
            wrong.append(f"{k} not printed")
        elif g.split() != v.split():
            wrong.append(f"{k}={g} (want {v})")
    report(f"{name}-sysctls", "FAIL" if wrong or rc != 0 else "PASS",
           f"rc={rc}; wrong: {wrong}" if wrong or rc != 0 else f"{len(want) - len(unreadable)}/{len(want)} readable values as configured")
    if unreadable:
        # Root-only keys (mode 0600): read from the snapshot the test image's
        # rempart-test-sysctl-snapshot.service (root, after systemd-sysctl) writes.
        rc, out = sh.run("cat /run/rempart-test/sysctl.txt")
        snap = {}
        for line in out:
            if "=" in line:
                k, v = line.split("=", 1)
                snap[k.strip()] = v.strip()
        bad = []
        for k in unreadable:
            g = snap.get(k)
            if g is None:
                bad.append(f"{k} not in the snapshot")
            elif g.split() != want[k].split():
                bad.append(f"{k}={g} (want {want[k]})")
        report(f"{name}-sysctls-root-only", "FAIL" if bad or rc != 0 else "PASS",
               f"rc={rc}; {bad}" if bad or rc != 0 else
               f"{len(unreadable)} root-only keys as configured (root-side snapshot): {unreadable}")

    # ---- kernel command line
    rc, out = sh.run("cat /proc/cmdline")
    have = " ".join(out).split()
    items = cmdline_expected(img)
    missing = [x for x in items if x not in have]
    report(f"{name}-cmdline", "FAIL" if missing or not have else "PASS",
           f"missing from /proc/cmdline: {missing}" if missing else f"all {len(items)} items of cmdline.conf present")

    # ---- modules locked once boot is complete
    val = None
    for _ in range(20):
        rc, out = sh.run("cat /proc/sys/kernel/modules_disabled")
        val = out[-1].strip() if out else None
        if val == "1":
            break
        time.sleep(3)
    report(f"{name}-modules-disabled", "PASS" if val == "1" else "FAIL", f"kernel.modules_disabled={val}")

    rc, out = sh.run("dmesg 2>&1 | head -n 2")
    denied = any("Operation not permitted" in x or "Permission denied" in x for x in out)
    report(f"{name}-dmesg-restricted", "PASS" if denied else "FAIL", " / ".join(out)[:160])

    # ---- no way to become root from the user session
    vm.send("su -\n")
    i, m = vm.expect([r"Password: ", r"su: [^\r\n]*\r?\n", r"# $"], 20)
    su_msg = m.group(0) if m else "timeout"
    if i == 0:
        vm.send("root\n")
        j, m2 = vm.expect([r"su: [^\r\n]*\r?\n", r"# $"], 30)
        su_msg += " -> " + (m2.group(0).strip() if m2 else "timeout")
        i = 2 if j == 1 else i
    vm.expect([Shell.PROMPT], 10)
    rc, out = sh.run("id -u")
    uid = out[-1].strip() if out else "?"
    report(f"{name}-su-refused", "PASS" if i != 2 and uid not in ("0", "?") else "FAIL",
           f"su -: '{su_msg.strip()}'; id -u afterwards: {uid}")
    return mounts


def login_root_refused(vm, sh, name="inside"):
    """At a login prompt: root (locked) must not get a shell."""
    res = sh.login("root", "root")
    if res == "incorrect":
        i, _ = vm.expect([r"login: "], 60)
        report(f"{name}-root-login-refused", "PASS", "login as root: 'Login incorrect'")
        return i is not None
    report(f"{name}-root-login-refused", "FAIL", f"login as root: {res}")
    return False


def state_partition_of(sh, mounts, img, path="/var/tmp"):
    uuid = img.parts["state"]["uuid"]
    rc, out = sh.run(f"readlink -f /dev/disk/by-partuuid/{uuid}")
    dev = out[-1].strip() if out else ""
    m = mount_of(mounts, path)
    return m, dev

"""Point 2 of the image issue: the firmware refuses a UKI or a boot loader that
is unsigned, signed by another key, or altered by one byte.

Each case is one boot of a disk copy whose ESP carries the altered file, with
a copy of the variable store in which the project's keys are enrolled (user
mode, Secure Boot enforced). Pass = a refusal on the console (OVMF's
"Access Denied" / systemd-boot's load error) and no kernel start within the
timeout. The unaltered image booting with the same store (suite "main" boot)
is what makes these refusals meaningful.
"""
import os
import shutil
import subprocess

from e2e_lib import REPO, Vm, esp_get, esp_put, log, report, run_quiet

UKI = "/EFI/Linux/rempart-a.efi"
LOADERS = ["/EFI/BOOT/BOOTX64.EFI", "/EFI/systemd/systemd-bootx64.efi"]
# OVMF (image verification) and systemd-boot (LoadImage error) messages.
REFUSED = r"Access Denied|Security Violation|[Ss]ecurity [Vv]iolation|Error loading|Failed to load image|Failed to start"
STARTED = r"EFI stub: |Linux version "
EXHAUSTED = r"No bootable option or device was found"


def keys_dir():
    return os.environ.get("REMPART_KEYS", os.path.join(REPO, "keys"))


def flip_in(path, needle, new):
    """Replace one byte: the first occurrence of needle becomes new (same length)."""
    with open(path, "r+b") as f:
        data = f.read()
        i = data.find(needle)
        if i < 0:
            raise RuntimeError(f"{needle!r} not found in {path}")
        assert len(needle) == len(new) and sum(a != b for a, b in zip(needle, new)) == 1
        f.seek(i)
        f.write(new)
    return i


def prepare(img, tmp, disk):
    """Build the altered files; returns [(name, {esp path: local file}, description)]."""
    d = os.path.join(tmp, "sb")
    os.makedirs(d, exist_ok=True)
    uki = os.path.join(d, "uki.signed.efi")
    esp_get(img, disk, UKI, uki)
    loader = os.path.join(d, "loader.signed.efi")
    esp_get(img, disk, LOADERS[0], loader)
    db_crt = os.path.join(keys_dir(), "db.crt")

    unsigned = os.path.join(d, "uki.unsigned.efi")
    shutil.copy(uki, unsigned)
    run_quiet(["sbattach", "--remove", unsigned])
    other_key, other_crt = os.path.join(d, "other.key"), os.path.join(d, "other.crt")
    run_quiet(["openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
               "-days", "1", "-subj", "/CN=Rempart e2e throwaway key/", "-keyout", other_key,
               "-out", other_crt])
    other = os.path.join(d, "uki.otherkey.efi")
    run_quiet(["sbsign", "--key", other_key, "--cert", other_crt, "--output", other, unsigned])
    flipped = os.path.join(d, "uki.flipped.efi")
    shutil.copy(uki, flipped)
    # One byte of the signed command line: slot a -> slot b.
    off = flip_in(flipped, b"rempart.slot=a", b"rempart.slot=b")
    lflipped = os.path.join(d, "loader.flipped.efi")
    shutil.copy(loader, lflipped)
    # One byte in the middle of the boot loader (code/data, far from the
    # signature table at the end).
    with open(lflipped, "r+b") as f:
        f.seek(0, 2)
        mid = f.tell() // 2
        f.seek(mid)
        b = f.read(1)
        f.seek(mid)
        f.write(bytes([b[0] ^ 0x01]))

    # Non-vacuity on the host: the originals verify with the project's db
    # certificate, the altered files do not (and the other-key one does
    # verify with its own certificate, so it is a well-formed signed image).
    def verifies(path, crt):
        return subprocess.run(["sbverify", "--cert", crt, path], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
    host = {
        "uki-original": verifies(uki, db_crt), "loader-original": verifies(loader, db_crt),
        "uki-unsigned": verifies(unsigned, db_crt), "uki-otherkey": verifies(other, db_crt),
        "uki-otherkey-own-cert": verifies(other, other_crt), "uki-flipped": verifies(flipped, db_crt),
        "loader-flipped": verifies(lflipped, db_crt),
    }
    expected = {"uki-original": True, "loader-original": True, "uki-otherkey-own-cert": True}
    bad = [k for k, v in host.items() if v != expected.get(k, False)]
    report("sb-host-sbverify", "FAIL" if bad else "PASS",
           f"unexpected sbverify results: {bad}" if bad else
           "originals verify with db.crt; unsigned/other-key/flipped do not; other-key verifies with its own cert")
    originals = {UKI: uki, LOADERS[0]: loader, LOADERS[1]: loader}
    return [
        ("sb-refuse-uki-unsigned", {UKI: unsigned}, "UKI with its signature removed (sbattach --remove)"),
        ("sb-refuse-uki-otherkey", {UKI: other}, "UKI signed by a throwaway key"),
        ("sb-refuse-uki-flipped", {UKI: flipped}, f"signed UKI, one byte of .cmdline changed at {off:#x}"),
        ("sb-refuse-loader-flipped", {p: lflipped for p in LOADERS},
         f"signed systemd-boot, one byte changed at {mid:#x}"),
    ], originals


def run_case(img, tmp, disk, enrolled_vars, name, files, desc, originals, timeout=90):
    for esp_path, local in files.items():
        esp_put(img, disk, local, esp_path)
    vars_path = os.path.join(tmp, f"{name}.fd")
    shutil.copy(enrolled_vars, vars_path)
    vm = Vm(tmp, disk, vars_path, name, timeout=timeout + 30)
    try:
        i, m = vm.expect([REFUSED, STARTED], timeout)
        refusal = m.group(0) if i == 0 else None
        # After a refusal, nothing else may start a kernel: wait until the
        # firmware has tried (and refused) every boot option.
        j = None
        if i == 0:
            j, _ = vm.expect([STARTED, EXHAUSTED], 60)
    finally:
        t = vm.stop()
        for esp_path in files:
            esp_put(img, disk, originals[esp_path], esp_path)
    lines = [x for x in vm.text().splitlines() if x.strip()]
    msg = next((x.strip() for x in lines if refusal and refusal in x), "")
    if i == 0 and j == 1:
        report(name, "PASS", f"{desc}: refused: '{msg[:160]}', then no bootable option left ({t:.0f} s)")
    elif i == 1 or j == 0:
        report(name, "FAIL", f"{desc}: a kernel was started")
    elif i == 0:
        report(name, "FAIL", f"{desc}: refused ('{msg[:100]}') but the firmware did not finish its boot options")
    else:
        report(name, "FAIL", f"{desc}: no refusal message in {timeout} s; last: {lines[-1:] if lines else ''}")
    log(f"{name}: console log {vm.log_path}")


def run(img, tmp, enrolled_vars, only=None):
    """One disk copy; each case puts its altered files on the ESP, boots, then
    puts the originals back."""
    disk = img.copy(os.path.join(tmp, "sb.img"))
    try:
        cases, originals = prepare(img, tmp, disk)
        for name, files, desc in cases:
            if only and name not in only:
                continue
            run_case(img, tmp, disk, enrolled_vars, name, files, desc, originals)
    finally:
        os.unlink(disk)

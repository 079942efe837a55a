"""Point 3 of the image issue: integrity of the root partition (dm-verity with
Reed-Solomon FEC, restart on corruption) and of its root hash.

FEC geometry (dm-verity with the FEC area in the hash device, roots R=2):
codeword (c, o) holds byte o of the blocks c, c+N, c+2N, ... where N (the
interleaving period, "rounds") = ceil((data blocks + hash area blocks) / (255-R)).
One wrong byte per codeword is corrected (two with erasures: blocks whose hash
fails are known bad). So:
  * a few bytes changed in 1-2 blocks of different residues mod N: repaired;
  * the same bytes changed in blocks b, b+N, b+2N: 3 bad symbols per codeword,
    beyond capacity for those three blocks, and only for them.

Boots (each with the enrolled variable store, each on its own disk copy):
  fec     repairable damage in two blocks read at mount (root inode, id
          table), plus irreparable damage in a file read only after boot
          (a GPU module never loaded in QEMU): must reach the login prompt
          with "corrected N errors" on the console, then reading that file
          must restart the machine and never print its hash;
  block0  irreparable damage in the first data block (read by rempart-init's
          probe mapping): rempart-init must refuse with its FATAL message;
  hash    a UKI whose command line carries a wrong root hash, signed with the
          project's db key (the owner signs): rempart-init must refuse.
"""
import hashlib
import os
import re
import shutil
import struct
import subprocess

from e2e_lib import (Shell, boot_kernel, esp_get, esp_put, log, read_at, report, run_quiet, xor_bytes)
from sb_refusal import UKI, keys_dir

BS = 4096
FATAL = r"rempart-init: FATAL: [^\r\n]*\r?\n"
RESTART = r"Restarting system[^\r\n]*|dm-verity device corrupted"
CORRECTED = r"FEC [0-9]+: corrected [0-9]+ errors"
SQ_FMT = "<IIIIIHHHHHHQQQQQQQQ"
BIG_FILE = "kernel/drivers/gpu/drm/amd/amdgpu/amdgpu.ko.xz"


def squashfs_sb(disk, root_off):
    f = struct.unpack_from(SQ_FMT, read_at(disk, root_off, 96))
    keys = ("magic inodes mkfs_time block_size fragments compression block_log flags no_ids major minor "
            "root_inode bytes_used id_table xattr_table inode_table dir_table frag_table lookup_table").split()
    return dict(zip(keys, f))


def locate_big_file(img, disk, tmp):
    """Block range (in the root partition) holding the big file's bytes as
    stored (xz data does not compress: squashfs keeps it raw)."""
    root_off, _ = img.part_range("root-a")
    path = f"usr/lib/modules/{img.layout['kernel']}/{BIG_FILE}"
    r = subprocess.run(["unsquashfs", "-o", str(root_off), "-cat", disk, path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    data = r.stdout
    if r.returncode != 0 or len(data) < 64 * BS:
        return None
    first = data[:BS]
    with open(disk, "rb") as f:
        f.seek(root_off)
        part = f.read(img.layout["data_size"])
    off = part.find(first)
    if off < 0:
        return None
    n = 0
    while n + BS <= len(data) and part[off + n:off + n + BS] == data[n:n + BS]:
        n += BS
    first_blk = (off + BS - 1) // BS
    last_blk = (off + n) // BS - 1
    return "/" + path, hashlib.sha256(data).hexdigest(), first_blk, last_blk


def pick_triple(first, last, period, avoid):
    for b in range(first, last - 2 * period + 1):
        if b % period not in avoid:
            return [b, b + period, b + 2 * period]
    return None


def case_fec(img, tmp, enrolled):
    name = "root-fec"
    disk = img.copy(os.path.join(tmp, f"{name}.img"))
    root_off, _ = img.part_range("root-a")
    n = img.fec_rounds()
    sb = squashfs_sb(disk, root_off)
    if sb["magic"] != 0x73717368:
        report("root-fec-repaired-boot", "FAIL", "no squashfs at the root-a offset of disk.json")
        return
    m1 = (sb["inode_table"] + (sb["root_inode"] >> 16)) // BS   # root inode: read at mount
    m2 = sb["id_table"] // BS                                     # uid/gid table: read at mount
    if m2 % n == m1 % n:  # same codewords: two bad symbols each, not repairable
        m2 = sb["dir_table"] // BS                                # root directory: read at boot
    big = locate_big_file(img, disk, tmp)
    triple = pick_triple(big[2], big[3], n, {0, m1 % n, m2 % n}) if big else None
    for b in (m1, m2):
        xor_bytes(disk, root_off + b * BS + 2048, 16)
    if triple:
        for b in triple:
            xor_bytes(disk, root_off + b * BS + 512, 1024)
    log(f"{name}: FEC period {n} blocks; repairable: 16 bytes in blocks {m1}, {m2}; "
        f"irreparable: 1024 bytes in blocks {triple} of {big[0] if big else '?'}")
    vm, i, m = boot_kernel(tmp, disk, enrolled, name, [r"login: ", FATAL, RESTART], 300)
    try:
        text = vm.text()
        corr = re.findall(CORRECTED, text)
        if i == 0 and corr:
            report("root-fec-repaired-boot", "PASS",
                   f"booted to the login prompt; console: '{corr[0]}' ({len(corr)} FEC messages)")
        else:
            what = {None: "timeout", 0: "login prompt", 2: "restart"}.get(i, m.group(0).strip() if m else "")
            report("root-fec-repaired-boot", "FAIL", f"outcome: {what}; FEC messages: {corr[:2]}")
        if i != 0 or not triple:
            report("root-uncorrectable-after-boot-restarts", "SKIP" if not triple else "FAIL",
                   "no suitable file" if not triple else "system did not come up")
            return
        sh = Shell(vm)
        if sh.login() != "shell":
            report("root-uncorrectable-after-boot-restarts", "FAIL", "test user could not log in")
            return
        vm.send(f"sha256sum {big[0]}; echo @@DONE\"\"\n")
        j, m = vm.expect([RESTART, r"([0-9a-f]{64})  /", r"@@DONE\r?\n"], 180)
        if j == 0:
            vm.wait_exit(30)
            report("root-uncorrectable-after-boot-restarts", "PASS",
                   f"reading {big[0]}: '{m.group(0)}', no hash printed, VM {'exited' if vm.exited() else 'reset'}")
        elif j == 1:
            served = m.group(1)
            report("root-uncorrectable-after-boot-restarts", "FAIL",
                   "file served " + ("CORRECTED by FEC (damage not beyond capacity: test geometry wrong)"
                                     if served == big[1] else f"CORRUPTED (sha256 {served})"))
        else:
            report("root-uncorrectable-after-boot-restarts", "FAIL", f"no restart, read ended: {j}")
    finally:
        vm.stop()
        os.unlink(disk)
        log(f"{name}: console log {vm.log_path}")


def case_block0(img, tmp, enrolled):
    name = "root-block0"
    disk = img.copy(os.path.join(tmp, f"{name}.img"))
    root_off, _ = img.part_range("root-a")
    n = img.fec_rounds()
    for b in (0, n, 2 * n):
        xor_bytes(disk, root_off + b * BS + 1024, 256)
    vm, i, m = boot_kernel(tmp, disk, enrolled, name, [FATAL, RESTART, r"Welcome to |login: "], 240)
    try:
        if i == 0:
            report("root-uncorrectable-at-boot-refused", "PASS",
                   f"blocks 0,{n},{2 * n} damaged beyond FEC: '{m.group(0).strip()}'")
        elif i == 1:
            report("root-uncorrectable-at-boot-refused", "PASS",
                   f"blocks 0,{n},{2 * n} damaged beyond FEC: machine restarted ('{m.group(0)}'), no FATAL message")
        else:
            report("root-uncorrectable-at-boot-refused", "FAIL",
                   "systemd started on a root damaged beyond FEC" if i == 2 else
                   f"kernel crashed: {m.group(0).strip()}" if m else "no outcome (timeout)")
    finally:
        vm.stop()
        os.unlink(disk)
        log(f"{name}: console log {vm.log_path}")


def case_wrong_hash(img, tmp, enrolled):
    name = "root-wronghash"
    disk = img.copy(os.path.join(tmp, f"{name}.img"))
    d = os.path.join(tmp, name)
    os.makedirs(d, exist_ok=True)
    signed, unsigned, out = (os.path.join(d, x) for x in ("uki.efi", "uki.unsigned.efi", "uki.wrong.efi"))
    esp_get(img, disk, UKI, signed)
    shutil.copy(signed, unsigned)
    run_quiet(["sbattach", "--remove", unsigned])
    good = img.layout["roothash"]
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with open(unsigned, "r+b") as f:
        data = f.read()
        needle = f"rempart.roothash={good}".encode()
        at = data.find(needle)
        if at < 0:
            report("root-wrong-roothash-refused", "FAIL", "root hash not found in the UKI command line")
            return
        f.seek(at)
        f.write(f"rempart.roothash={bad}".encode())
    keys = keys_dir()
    run_quiet(["sbsign", "--key", os.path.join(keys, "db.key"), "--cert", os.path.join(keys, "db.crt"),
               "--output", out, unsigned])
    esp_put(img, disk, out, UKI)
    vm, i, m = boot_kernel(tmp, disk, enrolled, name,
                          [FATAL, RESTART, r"Welcome to |login: ", r"Access Denied|Security Violation"], 240)
    try:
        kernel = "rempart.roothash=" + bad in vm.text()
        if i == 0 and kernel:
            report("root-wrong-roothash-refused", "PASS", f"UKI re-signed with roothash ...{bad[-6:]}: "
                   f"'{m.group(0).strip()}'")
        else:
            what = {None: "timeout", 1: "restart (no message)", 2: "systemd started", 3: "firmware refused the UKI",
                    4: "kernel crashed"}
            report("root-wrong-roothash-refused", "FAIL", f"{what.get(i, '?')}; kernel saw the wrong hash: {kernel}")
    finally:
        vm.stop()
        os.unlink(disk)
        log(f"{name}: console log {vm.log_path}")


def run(img, tmp, enrolled, only=None):
    for case in (case_fec, case_block0, case_wrong_hash):
        if only and case.__name__[5:].replace("_", "") not in only:
            continue
        if case is case_wrong_hash and not os.access(os.path.join(keys_dir(), "db.key"), os.R_OK):
            report("root-wrong-roothash-refused", "SKIP", f"no {keys_dir()}/db.key to sign the test UKI")
            continue
        case(img, tmp, enrolled)

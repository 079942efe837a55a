"""Shared helpers of the end-to-end tests (Python 3 standard library only).

* Results: report() prints "@@E2E <name> PASS|FAIL|SKIP [detail]".
* Vm: one QEMU run of image/run.sh on a disk copy, serial console on a Unix
  socket (e2e_serial.Serial), stopped with its whole process group.
* Shell: log in on the serial console as the test user and run commands,
  output delimited by markers that the terminal echo cannot produce.
* Disk: copies of the image (sparse), partition offsets from disk.json,
  byte patches, ESP file replacement with mtools, range hashes.
"""
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_serial import Serial  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MIB = 1024 * 1024
TEST_USER = "rempart-test"
TEST_PASSWORD = "rempart-test"
# Kernel log lines and systemd status lines interleave with command output on
# the console; they are removed from what a command printed.
NOISE = re.compile(r"^\s*\[\s*\d+\.\d+\]|^\s*\[\s*(OK|FAILED|\*+\s*)\s*\]|^\s*(Starting|Stopping|Mounting) ")
ANSI = re.compile(r"\x1b\[[0-9;?=]*[A-Za-z]|\x1b[()][A-Z0-9]")
# A kernel message printed on the console in the middle of a command's
# output line ("key=[   55.8] clocksource: ...\r\n0"): cut out, so that
# the line it interrupted is whole again.
KMSG = re.compile(r"\[\s*\d+\.\d{6}\] [^\n]*\n")

results = []


def report(name, status, detail=""):
    results.append((name, status, detail))
    detail = " ".join(str(detail).split())  # one line
    print(f"@@E2E {name} {status}{(' ' + detail) if detail else ''}", flush=True)


def log(msg):
    print(f"   {msg}", flush=True)


class Vm:
    """One boot of a disk copy with a given UEFI variable store."""

    def __init__(self, tmp, disk, vars_path, name, timeout=600, no_reboot=True):
        self.name = name
        self.sock = os.path.join(tmp, f"{name}.sock")
        self.log_path = os.path.join(tmp, f"{name}.log")
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        extra = ["-no-reboot"] if no_reboot else []
        cmd = [os.path.join(REPO, "image", "run.sh"), "--disk", disk, "--vars", vars_path,
               "--serial", f"unix:{self.sock},server=on,wait=on", "--timeout", str(timeout), "--"] + extra
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path + ".qemu", "w"), start_new_session=True)
        try:
            self.ser = Serial(self.sock, self.log_path, self.t0)
        except TimeoutError:
            self.stop()
            raise

    def expect(self, patterns, timeout):
        return self.ser.expect(patterns, timeout)

    def send(self, text):
        self.ser.send(text)

    def exited(self):
        return self.proc.poll() is not None

    def wait_exit(self, timeout):
        """Wait for QEMU to end by itself (guest reset with -no-reboot)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ser.drain(0.5)
            if self.ser.closed:
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
                return True
        return False

    def text(self):
        """Whole console output so far, escape sequences removed."""
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return ANSI.sub("", f.read())

    def stop(self):
        """Stop run.sh and everything it started (own session: swtpm, timeout, QEMU)."""
        proc = self.proc
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
        if hasattr(self, "ser"):
            self.ser.drain(0.2)
            self.ser.close()
        return time.monotonic() - self.t0

    def elapsed(self):
        return time.monotonic() - self.t0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


PANIC = r"Kernel panic - not syncing[^\r\n]*|Oops: [^\r\n]*"
STAGE1 = "rempart-init: "


def boot_kernel(tmp, disk, vars_src, name, patterns, timeout, vm_timeout=900):
    """Boot a copy of the variable store vars_src until the first of patterns;
    returns (vm, index, match), index len(patterns) for a kernel panic.

    Multi-threaded TCG occasionally crashes the guest kernel while it patches
    its own code ("Oops: int3" in a static-key/alternatives update, seen at
    3 s into boot, before any disk access). Such a panic, or any panic before
    stage 1 (rempart-init) has started, cannot come from what a test altered on
    the disk: the boot is tried once more (both attempts stay in the log)."""
    for attempt in (1, 2):
        vars_path = os.path.join(tmp, f"{name}.fd")
        shutil.copy(vars_src, vars_path)
        vm = Vm(tmp, disk, vars_path, name, timeout=vm_timeout)
        i, m = vm.expect(patterns + [PANIC], timeout)
        if i == len(patterns) and attempt == 1:
            vm.ser.drain(2)
            text = vm.text()
            if "Oops: int3" in text or STAGE1 not in text:
                vm.stop()
                log(f"{name}: guest kernel crashed before the tested stage ('{m.group(0).strip()}'), "
                    "emulator flake: booting again")
                continue
        return vm, i, m


class Shell:
    """Commands run by the test user logged in on the serial console."""

    PROMPT = r"\$ $|\$ "

    def __init__(self, vm):
        self.vm = vm

    def login(self, user=TEST_USER, password=TEST_PASSWORD, timeout=60):
        """At a 'login:' prompt: returns 'shell', 'incorrect' or 'timeout'."""
        self.vm.send(user + "\n")
        i, _ = self.vm.expect([r"Password: ", r"Login incorrect"], timeout)
        if i is None:
            return "timeout"
        if i == 0:
            self.vm.send(password + "\n")
        j, _ = self.vm.expect([self.PROMPT, r"Login incorrect", r"# $"], timeout)
        if i == 1 or j == 1:
            return "incorrect"
        if j == 2:
            return "root-shell"
        return "shell" if j == 0 else "timeout"

    def run(self, cmd, timeout=60):
        """Run one shell line; returns (exit status or None on timeout, output lines)."""
        tok = secrets.token_hex(4)
        cmd = cmd.rstrip().rstrip(";")
        # The echo of the typed line shows '@@B<tok>""', the output '@@B<tok>'.
        self.vm.send(f'echo @@B{tok}""; {cmd}; echo @@E{tok}"" $?\n')
        i, _ = self.vm.expect([rf"@@B{tok}\r?\n"], timeout)
        if i is None:
            return None, []
        i, m = self.vm.expect([rf"@@E{tok} (\d+)"], timeout)
        if i is None:
            return None, []
        # expect() consumed the output together with the end marker: take it
        # from the text before the match (kept in match.string).
        out = KMSG.sub("", m.string[:m.start()])
        lines = [ANSI.sub("", x).rstrip("\r") for x in out.split("\n")]
        lines = [x for x in lines if not NOISE.search(x)]
        while lines and not lines[-1].strip():
            lines.pop()
        return int(m.group(1)), lines

    def run_script(self, script, interp="sh", timeout=120):
        """Send a script base64-encoded on one line (no quoting issues), run it."""
        b64 = base64.b64encode(script.encode()).decode()
        name = f"/tmp/e2e-{secrets.token_hex(3)}"
        rc, _ = self.run(f"echo {b64} | base64 -d > {name}", 30)
        if rc != 0:
            return None, [f"cannot write {name}"]
        return self.run(f"{interp} {name}; r=$?; rm -f {name}; (exit $r)", timeout)


# ---------------------------------------------------------------- disk helpers

class Image:
    """The built test image and its layout (disk.json)."""

    def __init__(self, disk):
        self.disk = os.path.abspath(disk)
        self.dir = os.path.dirname(self.disk)
        with open(os.path.join(self.dir, "disk.json")) as f:
            self.layout = json.load(f)
        self.parts = {p["name"]: p for p in self.layout["partitions"]}

    def part_range(self, name):
        p = self.parts[name]
        return p["start_mib"] * MIB, p["size_mib"] * MIB

    def fec_rounds(self):
        """RS interleaving period in blocks (dm-verity FEC with the FEC area in
        the hash device: covered blocks = data blocks + hash area blocks)."""
        rsn = 255 - self.layout["fec_roots"]
        blocks = self.layout["data_blocks"] + self.layout["fec_offset"] // 4096
        return (blocks + rsn - 1) // rsn

    def copy(self, dest):
        subprocess.run(["cp", "--sparse=always", self.disk, dest], check=True)
        return dest


def sha256_range(path, offset, size):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(offset)
        left = size
        while left > 0:
            b = f.read(min(left, 4 * MIB))
            if not b:
                break
            h.update(b)
            left -= len(b)
    return h.hexdigest()


def read_at(path, offset, size):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(size)


def xor_bytes(path, offset, size, mask=0xFF):
    """Invert bytes in place (every byte changes whatever its value)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        b = bytearray(f.read(size))
        for i in range(len(b)):
            b[i] ^= mask
        f.seek(offset)
        f.write(b)


def mtools_env():
    env = dict(os.environ)
    env["MTOOLS_SKIP_CHECK"] = "1"
    return env


def esp_get(img, disk, esp_path, dest):
    off, _ = img.part_range("esp")
    subprocess.run(["mcopy", "-n", "-o", "-i", f"{disk}@@{off}", f"::{esp_path}", dest],
                   check=True, env=mtools_env())


def esp_put(img, disk, src, esp_path):
    off, _ = img.part_range("esp")
    subprocess.run(["mcopy", "-o", "-i", f"{disk}@@{off}", src, f"::{esp_path}"],
                   check=True, env=mtools_env())


def run_quiet(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stdout.strip()}")
    return r.stdout

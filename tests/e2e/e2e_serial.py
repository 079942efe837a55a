"""Serial-console driver for the end-to-end tests (Python 3 standard library only).

QEMU exposes the guest's serial port as a Unix socket (server=on,wait=on: the
guest starts only once we are connected, so nothing is lost). Every byte is
appended to a log file; each complete line is stamped with the time since the
VM was started, for the boot-time split.
"""
import os
import re
import socket
import time


class Serial:
    def __init__(self, path, log_path, t0, connect_timeout=30.0):
        self.t0 = t0
        self.buf = ""          # text not yet consumed by expect()
        self.lines = []        # (seconds since t0, line) of every complete line
        self._partial = ""
        self.log = open(log_path, "a", encoding="utf-8", errors="replace")
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"cannot connect to {path}")
                time.sleep(0.05)
        self.sock.settimeout(0.2)
        self.closed = False

    def _read(self):
        """Read what is available; returns False once QEMU closed the socket."""
        if self.closed:
            return False
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        text = data.decode("utf-8", errors="replace")
        self.log.write(text)
        self.log.flush()
        self.buf += text
        now = time.monotonic() - self.t0
        self._partial += text
        *done, self._partial = re.split(r"\r?\n", self._partial)
        for line in done:
            self.lines.append((now, line))
        return True

    def expect(self, patterns, timeout):
        """Wait for the first of several regexes; returns (index, match) or
        (None, None) on timeout or end of output. Consumes text up to the match."""
        regs = [re.compile(p) for p in patterns]
        deadline = time.monotonic() + timeout
        while True:
            best = None
            for i, r in enumerate(regs):
                m = r.search(self.buf)
                if m and (best is None or m.start() < best[1].start()):
                    best = (i, m)
            if best:
                self.buf = self.buf[best[1].end():]
                return best
            if time.monotonic() > deadline or not self._read():
                if not self.closed or time.monotonic() > deadline:
                    return None, None
                # Socket closed: one last look at the buffer happened above.
                return None, None

    def send(self, text):
        self.sock.sendall(text.encode())

    def first_time(self, regex):
        """Seconds since t0 of the first complete line matching regex, or None."""
        r = re.compile(regex)
        for t, line in self.lines:
            if r.search(line):
                return t
        return None

    def drain(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read():
            pass

    def close(self):
        try:
            self.sock.close()
        finally:
            self.log.close()

"""Levels in the booted image (the levels issue), run by suite.py in the main
and persist boots, as the test user logged in on the serial console:

  levels-running         systemd started rempart-level@high and @low
                         (rempart-level-generator enabled them from
                         /etc/rempart/levels)
  levels-vt-gettys       a login prompt on each level's own virtual terminal
  levels-run-*           rempartctl run LEVEL -- CMD: the test user's uid,
                         no capability, the level's hostname
  levels-service-restart kill -9 of a level service (inside the level):
                         systemd restarts it, the journal says so
  levels-init-restart    kill -9 of a level's init (by the test image's
                         root-side test agent): the level comes back, its
                         data is still there, the journal says so
  levels-login-menu      rempart-lvl logs in on the console: its shell is
                         the level menu; the session is inside the level,
                         with the core's indicator on the last row
  levels-data-persists   (persist boot) the file written in high's home
  levels-matrix/*        the isolation matrix of tests/levels (every ordered
                         pair of high, low and the core; fork bomb and memory
                         hog in low), run in the booted image by the test
                         image's root-side agent (it plays several users)
"""
import re
import secrets
import time

from e2e_lib import log, report

PERSIST = "e2e-persist"


def _levels(sh):
    rc, out = sh.run("rempartctl list")
    state = {}
    for line in out:
        f = line.split()
        if len(f) >= 3 and f[0] in ("high", "low"):
            state[f[0]] = f[2]
    return rc, state, out


def wait_running(sh, timeout=120):
    t0 = time.monotonic()
    while True:
        rc, state, out = _levels(sh)
        if state.get("high") == "running" and state.get("low") == "running":
            return True, out
        if time.monotonic() - t0 > timeout:
            return False, out
        time.sleep(3)


def runner_of(sh, name):
    rc, out = sh.run(f"sed -n 's/^runner=//p' /run/rempart/levels/{name}/state 2>/dev/null || true")
    return out[-1].strip() if out and out[-1].strip().isdigit() else None


def run_main(vm, sh, token):
    ok, out = wait_running(sh)
    report("levels-running", "PASS" if ok else "FAIL",
           "rempartctl list: " + " / ".join(" ".join(x.split()) for x in out[-3:]))
    if not ok:
        sh.run("systemctl status 'rempart-level@*' --no-pager -n 20 2>&1 | tail -n 40")
        return False

    # Each level's own virtual terminal (vt = 2 / 3): a login prompt there.
    rc, out = sh.run("systemctl is-active getty@tty2.service getty@tty3.service; rempartctl status high | grep ^vt")
    good = len(out) >= 3 and out[0].strip() == "active" and out[1].strip() == "active" and "tty2" in out[2]
    report("levels-vt-gettys", "PASS" if good else "FAIL",
           "getty@tty2/tty3 (levels high/low, rempart-level-generator): " + " / ".join(x.strip() for x in out))

    rc, uid = sh.run("id -u")
    me = uid[-1].strip() if uid else "?"
    for level in ("high", "low"):
        rc, out = sh.run(f"rempartctl run {level} -- sh -c 'id -u; hostname; grep ^CapEff /proc/self/status; "
                         f"cat /proc/1/comm 2>&1 | head -n1'")
        text = " | ".join(out)
        good = rc == 0 and len(out) >= 3 and out[0].strip() == me and out[1].strip() == level and \
            out[2].split()[-1] == "0000000000000000"
        report(f"levels-run-{level}", "PASS" if good else "FAIL",
               f"rc={rc}: {text} (core uid {me})")

    # Data in high's home, kept across restarts and reboots.
    rc, out = sh.run(f"rempartctl run high -- sh -c 'echo {token} > $HOME/{PERSIST} && cat $HOME/{PERSIST}'")
    wrote = rc == 0 and out and out[-1].strip() == token

    # A service of low, killed: systemd restarts it.
    rc, out = sh.run("pgrep -u $(id -u) -f -x '/usr/bin/sleep infinity|sleep infinity' | head -n1")
    pid = out[-1].strip() if out and out[-1].strip().isdigit() else None
    if pid:
        sh.run(f"kill -9 {pid}")
        new = None
        for _ in range(30):
            time.sleep(2)
            rc, out = sh.run("pgrep -u $(id -u) -f -x '/usr/bin/sleep infinity|sleep infinity' | head -n1")
            cand = out[-1].strip() if out and out[-1].strip().isdigit() else None
            if cand and cand != pid:
                new = cand
                break
        rc, j = sh.run("journalctl -q --no-pager -u rempart-service-low-ticker.service | "
                       "grep -E 'Scheduled restart|restart counter|status=9/KILL|status 137' | tail -n 3")
        report("levels-service-restart", "PASS" if new and j else "FAIL",
               f"service pid {pid} killed -9, new pid {new}; journal: {' / '.join(j)[:300]}")
    else:
        report("levels-service-restart", "FAIL", "no running 'sleep infinity' service of the test user in low")

    # The init of high, killed by the root-side test agent.
    before = runner_of(sh, "high")
    sh.run("echo kill-level-init high > /run/rempart-test/agent")
    back, after = False, None
    for _ in range(40):
        time.sleep(3)
        after = runner_of(sh, "high")
        rc, state, _ = _levels(sh)
        if after and after != before and state.get("high") == "running":
            rc, out = sh.run("rempartctl run high -- hostname")
            if rc == 0:
                back = True
                break
    rc, data = sh.run(f"rempartctl run high -- sh -c 'cat $HOME/{PERSIST}'")
    kept = rc == 0 and data and data[-1].strip() == token
    rc, j = sh.run("journalctl -q --no-pager -u rempart-level@high.service | "
                   "grep -E 'Scheduled restart|restart counter|Main process exited' | tail -n 3")
    report("levels-init-restart", "PASS" if back and kept and wrote and j else "FAIL",
           f"runner {before} -> {after}, back={back}, data kept={kept} (written={wrote}); journal: "
           f"{' / '.join(j)[:300]}")
    return True


def run_matrix(sh, timeout=1200):
    """Ask the test agent for the isolation matrix; report its lines."""
    sh.run("rm -f /run/rempart-test/matrix.out 2>/dev/null; echo run-level-matrix > /run/rempart-test/agent")
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        time.sleep(10)
        rc, out = sh.run("test -f /run/rempart-test/matrix.out && echo done")
        if out and out[-1].strip() == "done":
            break
    else:
        report("levels-matrix", "FAIL", f"no result from the test agent after {timeout} s")
        return
    rc, out = sh.run("grep -a '^@@VMTEST ' /run/rempart-test/matrix.out", timeout=120)
    n = 0
    for line in out:
        f = line.split(" ", 3)
        if len(f) >= 3 and f[0] == "@@VMTEST" and f[2] in ("PASS", "FAIL", "SKIP"):
            report(f"levels-matrix/{f[1]}", f[2], f[3] if len(f) > 3 else "")
            n += 1
    if n == 0:
        rc, tail = sh.run("tail -n 20 /run/rempart-test/matrix.out")
        report("levels-matrix", "FAIL", "no result lines: " + " / ".join(tail)[:400])
    log(f"levels: matrix of {n} checks in {time.monotonic() - t0:.0f} s")


def run_login_menu(vm, sh):
    """Log out the test user, log in as rempart-lvl: the level menu."""
    vm.send("exit\n")
    i, _ = vm.expect([r"login: "], 60)
    if i is None:
        report("levels-login-menu", "FAIL", "no login prompt after logging out the test user")
        return
    vm.send("rempart-lvl\n")
    vm.expect([r"Password: "], 60)
    vm.send("rempart-lvl\n")
    i, m = vm.expect([r"Choice \(1-\d+, q to quit\): ", r"Login incorrect", r"\$ $"], 90)
    if i != 0:
        report("levels-login-menu", "FAIL", f"no level menu after login ({'incorrect' if i == 1 else 'core shell' if i == 2 else 'timeout'})")
        return
    menu = m.string[max(0, m.start() - 400):m.end()]
    high = re.search(r"(\d)\) \S*high", menu)
    vm.send((high.group(1) if high else "1") + "\n")
    # The indicator: reverse video on the last row with the level's name.
    i, m = vm.expect([r"level high \| [^|]+\| rempart"], 60)
    tok = secrets.token_hex(3)
    vm.send(f"echo in-$(hostname)-{tok}\n")
    j, m2 = vm.expect([rf"in-(\w+)-{tok}"], 60)
    where = m2.group(1) if m2 else None
    vm.send("exit\n")
    k, _ = vm.expect([r"Choice \(1-\d+, q to quit\): "], 60)
    vm.send("q\n")
    vm.expect([r"login: "], 60)
    report("levels-login-menu", "PASS" if i == 0 and where == "high" and k == 0 else "FAIL",
           f"menu shown; indicator drawn={i == 0}; shell ran in {where!r}; back to the menu={k == 0}")


def run_persist(sh, token):
    ok, _ = wait_running(sh)
    rc, out = sh.run(f"rempartctl run high -- sh -c 'cat $HOME/{PERSIST}'")
    got = out[-1].strip() if out else ""
    report("levels-data-persists", "PASS" if ok and got == token else "FAIL",
           f"after reboot high's ~/{PERSIST} = {got!r} (written {token!r}); levels running={ok}")
    log("levels: persist checked")

"""Transfers between levels in the booted image (rempart-xferd), run by
suite.py in the main boot after the levels are up, as the test user (a
user of both levels) on the serial console:

  xfer-service            rempart-xferd.service enabled and active, its main process
                          with exactly the unit's capability bounding set,
                          no_new_privs and a seccomp filter; a socket per
                          level, seen inside the level at /run/rempart/xfer
  xfer-up-allowed         in low: a file and a directory tree sent to high
                          (policy: allow) -> DONE; in high, under
                          ~/Incoming/low/, the same names, modes, sizes,
                          modification times and SHA-256, owned by the user
  xfer-down-held          from high to low (policy: confirm) -> held with an
                          id; nothing in low's ~/Incoming/high; listed by
                          rempartctl xfer list/show in the core
  xfer-confirm-from-level rempart-xfer confirm ID inside high -> exit 3, and
                          still nothing in low
  xfer-down-confirmed     rempartctl xfer confirm --yes ID in the core (same
                          user) -> the file arrives in low, same SHA-256
  xfer-down-denied        a second held transfer refused with rempartctl
                          xfer deny: nothing arrives, it cannot be confirmed
                          afterwards
  xfer-denied-*           to an unknown level, high -> high (no rule), and
                          a core process on low's socket posing as low:
                          exit 3, nothing arrives
  xfer-hostile-*          hand-made streams sent from inside low by the test
                          image's xfer-rawsend ("../" and absolute names,
                          newlines, invalid UTF-8, bidi controls, symbolic
                          link and device entries, setuid modes, lying sizes
                          and counts, duplicates, truncation, over quota,
                          garbage): each FAILED, nothing new in high
  xfer-parser-killed      the parser killed (by the root test agent) in the
                          middle of a slow transfer: FAILED "the parser was
                          killed", nothing in high, XFER_FAILED recorded
  xfer-disk-full          high's file system (the state partition) filled by
                          the user from inside high, up to what users may
                          use; a 2 MiB file sent from low: FAILED (no space),
                          nothing in high; root's reserve keeps the audit log
                          writable, so the failure is recorded; once the
                          space is freed, the same file arrives
  xfer-audit              rempart-audit verify with the key (root, through
                          the test agent): intact; rempart-audit show (the
                          test user is in rempart-audit): XFER_ALLOWED,
                          XFER_HELD, XFER_CONFIRM_REFUSED, XFER_CONFIRMED,
                          XFER_DENIED records of these transfers, with the
                          files' SHA-256
"""
import base64
import os
import re
import secrets
import time

from e2e_lib import REPO, log, report

UNIT = os.path.join(REPO, "src", "xfer", "rempart-xferd.service")
XFER_ID = r"[0-9a-f]{12}"

# linux/capability.h
CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
        "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
        "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE"]

# Printed by a script for every entry below a directory, sorted:
#   D MODE NAME  /  F MODE SIZE MTIME SHA256 NAME
LISTING = r"""
listing() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
		if [ -d "$p" ]; then echo "@@L D $(stat -c %a "$p") $p"
		else echo "@@L F $(stat -c '%a %s %Y' "$p") $(sha256sum < "$p" | cut -c1-64) $p"; fi
	done)
}
"""


def unit_bounding_set(path=UNIT):
    """The capability mask of the unit's CapabilityBoundingSet= lines."""
    mask = 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("CapabilityBoundingSet="):
                for name in line.split("=", 1)[1].split():
                    mask |= 1 << CAPS.index(name)
    return mask


def in_level(sh, level, script, timeout=120):
    """Run a sh script inside a level as the test user (base64 on one line:
    no quoting issues, no file in the core's /tmp, which the level cannot see)."""
    b64 = base64.b64encode(script.encode()).decode()
    return sh.run(f"rempartctl run {level} -- sh -c 'echo {b64} | base64 -d | sh'", timeout)


def rc_of(out):
    for line in reversed(out):
        m = re.search(r"@@rc=(\d+)", line)
        if m:
            return int(m.group(1))
    return None


def listing_of(out):
    return sorted(x[x.index("@@L ") + 4:].strip() for x in out if "@@L " in x)


def short(out, n=400):
    return " / ".join(x.strip() for x in out if x.strip())[:n]


def journal(sh):
    rc, j = sh.run("journalctl -q --no-pager -o cat -u rempart-xferd.service | tail -n 15")
    return short(j, 900)


def check_service(sh):
    rc, out = sh.run("systemctl show rempart-xferd.service -p ActiveState -p SubState -p MainPID -p NRestarts "
                     "-p UnitFileState")
    props = dict(x.strip().split("=", 1) for x in out if "=" in x)
    pid = props.get("MainPID", "0")
    status = {}
    if pid.isdigit() and pid != "0":
        rc, st = sh.run(f"grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' /proc/{pid}/status")
        status = dict((x.split(":", 1)[0].strip(), x.split(":", 1)[1].strip()) for x in st if ":" in x)
    want = unit_bounding_set()
    got = int(status.get("CapBnd", "0"), 16) if status.get("CapBnd") else None
    extra = [CAPS[i] for i in range(64) if got is not None and got >> i & 1 and not want >> i & 1]
    missing = [CAPS[i] for i in range(len(CAPS)) if got is not None and want >> i & 1 and not got >> i & 1]
    rc, socks = sh.run("for l in high low; do test -S /run/rempart/levels/$l/xfer/xfer.sock && echo sock-$l; done; "
                       "test -S /run/rempart/xferd.sock && echo sock-control")
    rc, inside = sh.run("rempartctl run low -- sh -c 'test -S /run/rempart/xfer/xfer.sock && echo in-level; "
                        "ls /run/rempart/xfer; test -e /run/rempart/xferd.sock || echo no-control'")
    socks_ok = {"sock-high", "sock-low", "sock-control"} <= {x.strip() for x in socks} and \
        {"in-level", "no-control"} <= {x.strip() for x in inside}
    good = props.get("ActiveState") == "active" and props.get("UnitFileState") == "enabled" and got == want and \
        status.get("NoNewPrivs") == "1" and status.get("Seccomp") == "2" and socks_ok
    report("xfer-service", "PASS" if good else "FAIL",
           f"rempart-xferd {props.get('UnitFileState')}, {props.get('ActiveState')}/{props.get('SubState')} pid {pid} "
           f"restarts "
           f"{props.get('NRestarts')}; CapBnd {status.get('CapBnd')} (unit: {want:016x}; extra {extra}, "
           f"missing {missing}), CapEff {status.get('CapEff')}, NoNewPrivs {status.get('NoNewPrivs')}, "
           f"Seccomp {status.get('Seccomp')}; sockets {[x.strip() for x in socks]}, in low: {short(inside, 120)}")
    if props.get("ActiveState") != "active":
        log("xfer: journal of rempart-xferd: " + journal(sh))
    return props.get("ActiveState") == "active"


def up_allowed(sh, tok):
    """low -> high, allowed at once: a file and a tree, compared entry by entry."""
    script = LISTING + f"""
set -u
d=$HOME/xfer-up-{tok}
rm -rf "$d"
mkdir -p "$d/tree/sub/deep" "$d/tree/empty"
printf 'note %s\\n' {tok} > "$d/note.txt"
seq 1 40000 | sed 's/$/ {tok}/' > "$d/tree/sub/data.bin"
printf '#!/bin/sh\\necho hi\\n' > "$d/tree/run.sh"
: > "$d/tree/sub/deep/zero"
chmod 640 "$d/note.txt"; chmod 755 "$d/tree/run.sh"; chmod 600 "$d/tree/sub/data.bin"
chmod 444 "$d/tree/sub/deep/zero"; chmod 750 "$d/tree/sub"; chmod 700 "$d/tree/empty"
touch -d '2001-02-03 04:05:06' "$d/note.txt"
cd "$d" && rempart-xfer send high note.txt tree; echo "@@rc=$?"
listing "$d"
"""
    rc, out = in_level(sh, "low", script)
    src = listing_of(out)
    m = next((re.search(r"sent to high: (/home/\S+)", x) for x in out if "sent to high:" in x), None)
    where = m.group(1) if m else None
    if rc_of(out) != 0 or not where:
        report("xfer-up-allowed", "FAIL", f"rempart-xfer send high: rc={rc_of(out)}: {short(out)}; "
               f"journal: {journal(sh)}")
        return None, None
    rc, out2 = in_level(sh, "high", LISTING + f"""
listing '{where}'
stat -c '@@O %U %a' '{where}' "$HOME/Incoming" "$HOME/Incoming/low"
""")
    dst = listing_of(out2)
    owners = [x.split("@@O ", 1)[1].strip() for x in out2 if "@@O " in x]
    me = "rempart-test"
    good = where.startswith(f"/home/{me}/Incoming/low/transfer-") and src and src == dst and \
        len(src) == 8 and all(o.split()[0] == me for o in owners) and len(owners) == 3
    diff = sorted(set(src) ^ set(dst))
    report("xfer-up-allowed", "PASS" if good else "FAIL",
           f"low -> high: DONE at {where}; {len(src)} entries identical in names, modes, sizes, mtimes and "
           f"SHA-256 (e.g. {src[1] if len(src) > 1 else '-'}); owners/modes of arrival, Incoming, Incoming/low: "
           f"{owners}" + (f"; DIFFERENT: {diff[:6]}" if diff else ""))
    tid = re.search(rf"transfer-({XFER_ID})", where)
    note = next((x.split()[4] for x in src if x.endswith(" ./note.txt")), None)
    return (tid.group(1) if tid else None), note


def send_down(sh, tok, name):
    """high -> low (policy: confirm): returns (id, output)."""
    rc, out = in_level(sh, "high", f"""
d=$HOME/xfer-down-{tok}
mkdir -p "$d" && printf 'down %s %s\\n' {tok} {name} > "$d/{name}" && chmod 604 "$d/{name}"
cd "$d" && rempart-xfer send low {name}; echo "@@rc=$?"
sha256sum < "$d/{name}" | sed 's/^/@@S /'
""")
    m = next((re.search(rf"held: transfer ({XFER_ID}) to low", x) for x in out if "held: transfer" in x), None)
    sha = next((x.split("@@S ", 1)[1].split()[0] for x in out if "@@S " in x), None)
    return (m.group(1) if m and rc_of(out) == 0 else None), sha, out


def low_incoming(sh, name):
    rc, out = in_level(sh, "low", f"""
f="$HOME/Incoming/high/{name}"
if [ -e "$f" ]; then echo "@@P present $(sha256sum < "$f" | cut -c1-64) $(stat -c '%U %a' "$f")"
else echo "@@P absent"; fi
""")
    line = next((x.split("@@P ", 1)[1].strip() for x in out if "@@P " in x), "?")
    return line


def down_held_confirmed(sh, tok):
    name = f"down-{tok}.txt"
    tid, sha, out = send_down(sh, tok, name)
    if not tid:
        report("xfer-down-held", "FAIL", f"rempart-xfer send low from high: rc={rc_of(out)}: {short(out)}; "
               f"journal: {journal(sh)}")
        return None
    before = low_incoming(sh, name)
    rc, lst = sh.run("rempartctl xfer list")
    rc2, shw = sh.run(f"rempartctl xfer show {tid}")
    listed = any(x.split()[:3] == [tid, "high", "low"] for x in lst if x.split())
    shown = rc2 == 0 and any(x.startswith("F 0604 ") and x.endswith(name) and sha and sha in x for x in shw)
    report("xfer-down-held", "PASS" if before == "absent" and listed and shown else "FAIL",
           f"high -> low: held as {tid}; low's ~/Incoming/high/{name}: {before}; rempartctl xfer list lists it: "
           f"{listed}; show gives its mode, size and SHA-256: {shown} ({short(shw, 200)})")

    # A confirmation from inside a level (even the source level, by the same
    # user) is refused.
    rc, out = in_level(sh, "high", f'rempart-xfer confirm {tid}; echo "@@rc=$?"')
    after = low_incoming(sh, name)
    rc, lst2 = sh.run("rempartctl xfer list")
    still = any(x.split()[:1] == [tid] for x in lst2 if x.split())
    report("xfer-confirm-from-level", "PASS" if rc_of(out) == 3 and after == "absent" and still else "FAIL",
           f"rempart-xfer confirm {tid} inside high: exit {rc_of(out)} ({short(out, 200)}); low: {after}; "
           f"still waiting: {still}")

    # The confirmation in the core, by the user who sent it.
    rc, out = sh.run(f"rempartctl xfer confirm --yes {tid}")
    arrived = low_incoming(sh, name)
    good = rc == 0 and arrived.startswith(f"present {sha} rempart-test 604")
    report("xfer-down-confirmed", "PASS" if good else "FAIL",
           f"rempartctl xfer confirm --yes {tid} in the core: rc={rc} ({short(out, 200)}); low's "
           f"~/Incoming/high/{name}: {arrived} (sent SHA-256 {sha})")
    return tid


def down_denied(sh, tok):
    name = f"refused-{tok}.txt"
    tid, sha, out = send_down(sh, tok, name)
    if not tid:
        report("xfer-down-denied", "FAIL", f"second transfer high -> low not held: {short(out)}")
        return None
    rc, out = sh.run(f"rempartctl xfer deny {tid}")
    rc2, out2 = sh.run(f"rempartctl xfer confirm --yes {tid}")
    there = low_incoming(sh, name)
    report("xfer-down-denied", "PASS" if rc == 0 and rc2 != 0 and there == "absent" else "FAIL",
           f"rempartctl xfer deny {tid}: rc={rc} ({short(out, 100)}); confirm afterwards: rc={rc2} "
           f"({short(out2, 120)}); low: {there}")
    return tid


def denied(sh, tok):
    # To a level that does not exist, from low.
    rc, out = in_level(sh, "low", f"""
cd $HOME && printf 'x\\n' > deny-{tok}.txt && rempart-xfer send nosuchlevel deny-{tok}.txt; echo "@@rc=$?"
""")
    report("xfer-denied-unknown-level", "PASS" if rc_of(out) == 3 else "FAIL",
           f"rempart-xfer send nosuchlevel (in low): exit {rc_of(out)}: {short(out, 200)}")
    # high -> high: no rule of the policy matches.
    rc, out = in_level(sh, "high", f"""
cd $HOME && printf 'x\\n' > same-{tok}.txt && rempart-xfer send high same-{tok}.txt; echo "@@rc=$?"
test -e "$HOME/Incoming/high/same-{tok}.txt" && echo "@@P present" || echo "@@P absent"
""")
    absent = any("@@P absent" in x for x in out)
    report("xfer-denied-no-rule", "PASS" if rc_of(out) == 3 and absent else "FAIL",
           f"rempart-xfer send high (in high): exit {rc_of(out)}: {short(out, 200)}; nothing arrived: {absent}")
    # A core process on low's socket, posing as low (the socket is reachable
    # from the core: the pid namespace decides).  Control: the same send from
    # inside low is allowed (xfer-up-allowed).
    rc, out = sh.run(f"cd /tmp && printf 'x\\n' > core-{tok}.txt && "
                     f"rempart-xfer -S /run/rempart/levels/low/xfer/xfer.sock send high core-{tok}.txt; "
                     f"echo \"@@rc=$?\"; rm -f core-{tok}.txt")
    rc2, out2 = in_level(sh, "high", f'test -e "$HOME/Incoming/low/core-{tok}.txt" && echo "@@P present" || '
                         f'echo "@@P absent"')
    absent = any("@@P absent" in x for x in out2)
    report("xfer-denied-core-as-level", "PASS" if rc_of(out) == 3 and absent else "FAIL",
           f"core process on low's socket: exit {rc_of(out)}: {short(out, 200)}; nothing in high: {absent}")


RAWSEND = "/usr/libexec/rempart-test/xfer-rawsend"


def high_incoming_low(sh):
    """Every entry below high's ~/Incoming/low, sorted."""
    rc, out = in_level(sh, "high", 'find "$HOME/Incoming/low" -mindepth 1 2>/dev/null | LC_ALL=C sort | '
                       'sed "s/^/@@E /"; echo "@@rc=0"')
    return [x.split("@@E ", 1)[1].strip() for x in out if "@@E " in x]


def hostile(sh):
    """Streams that rempart-xfer would never produce, from inside low."""
    rc, cases = sh.run(f"{RAWSEND} --list")
    cases = [x.strip() for x in cases if re.fullmatch(r"[a-z0-9-]+", x.strip())]
    if not cases:
        report("xfer-hostile", "FAIL", f"{RAWSEND} --list gave nothing")
        return
    before = high_incoming_low(sh)
    script = "".join(f'echo "@@H {c} $({RAWSEND} {c} high 2>&1 | tail -n 1)"\n' for c in cases)
    rc, out = in_level(sh, "low", script, timeout=300)
    after = high_incoming_low(sh)
    got = dict((x.split("@@H ", 1)[1].split(" ", 1) + [""])[:2] for x in out if "@@H " in x)
    for c in cases:
        answer = got.get(c, "").strip()
        good = answer.startswith("FAILED") or (c == "garbage" and answer.startswith(("FAILED", "EOF")))
        report(f"xfer-hostile-{c}", "PASS" if good and after == before else "FAIL",
               f"stream {c} from low to high: {answer[:160] or 'no answer'}; high's Incoming/low "
               f"{'unchanged' if after == before else 'CHANGED: ' + str(sorted(set(after) - set(before)))[:200]}")


def parser_killed(sh, timeout=60):
    """The parser killed by root in the middle of a transfer (a slow one)."""
    before = high_incoming_low(sh)
    sh.run(f"rm -f /tmp/xfer-slow.out; (rempartctl run low -- {RAWSEND} slow high > /tmp/xfer-slow.out 2>&1 &)")
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        rc, out = sh.run("grep -c SENDING /tmp/xfer-slow.out 2>/dev/null")
        if out and out[-1].strip() == "1":
            break
        time.sleep(0.5)
    time.sleep(1)
    sh.run("echo kill-xfer-parser > /run/rempart-test/agent")
    answer = ""
    while time.monotonic() - t0 < timeout:
        rc, out = sh.run("grep -E '^(FAILED|DONE|EOF)' /tmp/xfer-slow.out 2>/dev/null")
        if out and out[-1].strip():
            answer = out[-1].strip()
            break
        time.sleep(1)
    after = high_incoming_low(sh)
    good = "the parser was killed (signal 9)" in answer and after == before
    report("xfer-parser-killed", "PASS" if good else "FAIL",
           f"slow transfer low -> high, parser killed by root: {answer[:200] or 'no answer'}; high's Incoming/low "
           f"{'unchanged' if after == before else 'CHANGED'}")
    sh.run("rm -f /tmp/xfer-slow.out")


def disk_full(sh, tok):
    """The target's disk full: filled by the user (ext4 keeps root's 5 %,
    so the audit log, root's, can still record what happens)."""
    name = f"full-{tok}.bin"
    rc, out = in_level(sh, "low", f'cd $HOME && head -c 2097152 /dev/urandom > {name}; echo "@@rc=$?"')
    rc, fill = in_level(sh, "high", """
cd $HOME && rm -f filler
avail=$(df --output=avail -B1 . | tail -n 1)
fallocate -l $((avail - 65536)) filler; echo "@@F $? $(df --output=avail -B1 . | tail -n 1)"
""")
    filled = next((x.split("@@F ", 1)[1].strip() for x in fill if "@@F " in x), "?")
    before = high_incoming_low(sh)
    rc, out = in_level(sh, "low", f'cd $HOME && rempart-xfer send high {name}; echo "@@rc=$?"')
    after = high_incoming_low(sh)
    failed = rc_of(out) == 1 and any("space" in x for x in out)
    in_level(sh, "high", "rm -f $HOME/filler")
    rc, out2 = in_level(sh, "low", f'cd $HOME && rempart-xfer send high {name}; echo "@@rc=$?"')
    again = rc_of(out2) == 0 and any(f"Incoming/low/{name}" in x for x in out2)
    report("xfer-disk-full", "PASS" if failed and after == before and again else "FAIL",
           f"high filled by the user (fallocate rc, bytes left: {filled}); 2 MiB from low: exit {rc_of(out)} "
           f"({short(out, 160)}); high's Incoming/low {'unchanged' if after == before else 'CHANGED'}; "
           f"after freeing the space: exit {rc_of(out2)} ({short(out2, 120)})")


def audit(sh, up_id, note_sha, down_id, deny_id, timeout=120):
    """rempart-audit verify with the key (root, by the test image's agent),
    then the records, read by the test user (a member of rempart-audit)."""
    sh.run("rm -f /run/rempart-test/audit-verify.out 2>/dev/null; echo verify-audit > /run/rempart-test/agent")
    t0 = time.monotonic()
    out = []
    while time.monotonic() - t0 < timeout:
        rc, out = sh.run("cat /run/rempart-test/audit-verify.out 2>/dev/null")
        if out and out[-1].startswith("rc="):
            break
        time.sleep(2)
    else:
        report("xfer-audit", "FAIL", f"no answer from the test agent (verify-audit) after {timeout} s")
        return
    vrc = int(out[-1].strip()[3:]) if out[-1].strip()[3:].isdigit() else None
    intact = any("intact" in x and "MACs checked" in x for x in out)
    verdict = next((x.strip() for x in out if "intact" in x or "TAMPERED" in x), "?")
    rc, out = sh.run("rempart-audit show --type XFER_ALLOWED --type XFER_HELD --type XFER_CONFIRM_REFUSED "
                     "--type XFER_CONFIRMED --type XFER_DENIED --type XFER_FAILED 2>&1 | grep -a ' XFER_'",
                     timeout=120)
    recs = [x for x in out if " XFER_" in x]

    def has(typ, *needles):
        return any(f" {typ} " in x and all(n in x for n in needles) for x in recs)

    checks = {
        "XFER_ALLOWED": up_id and note_sha and has("XFER_ALLOWED", f"id={up_id}", f"sha256={note_sha}",
                                                   "src_level=low", "dst_level=high"),
        "XFER_HELD": down_id and has("XFER_HELD", f"id={down_id}", "src_level=high", "dst_level=low"),
        "XFER_CONFIRM_REFUSED": has("XFER_CONFIRM_REFUSED", "src_level=high"),
        "XFER_CONFIRMED": down_id and has("XFER_CONFIRMED", f"id={down_id}", "confirmer=rempart-test"),
        "XFER_DENIED": has("XFER_DENIED", "dst_level=nosuchlevel") and
        (deny_id is None or has("XFER_DENIED", f"id={deny_id}")),
        "XFER_FAILED": has("XFER_FAILED", "src_level=low", "parser was killed") and
        has("XFER_FAILED", "src_level=low", "space"),
    }
    good = vrc == 0 and intact and all(checks.values())
    report("xfer-audit", "PASS" if good else "FAIL",
           f"rempart-audit verify (root): exit {vrc}, {verdict}; "
           f"{len(recs)} XFER records; found: {', '.join(k for k, v in checks.items() if v)}; "
           f"missing: {', '.join(k for k, v in checks.items() if not v) or 'none'}")
    if not good:
        log("xfer: audit records: " + short(recs, 1500))


def run_main(sh):
    tok = secrets.token_hex(4)
    t0 = time.monotonic()
    if not check_service(sh):
        return
    up_id, note_sha = up_allowed(sh, tok)
    down_id = down_held_confirmed(sh, tok)
    deny_id = down_denied(sh, tok)
    denied(sh, tok)
    hostile(sh)
    parser_killed(sh)
    disk_full(sh, tok)
    audit(sh, up_id, note_sha, down_id, deny_id)
    log(f"xfer: checks done in {time.monotonic() - t0:.0f} s")

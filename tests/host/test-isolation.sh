#!/bin/bash
# Host tier: what the confined command sees from inside.  Every denial is
# paired with a control run (outside the jail, or with the relevant option)
# where the same action succeeds, so that no check passes vacuously.
# Sourced by run-host-tests.sh; can also run alone: test-isolation.sh BUILD_DIR.
# Conditions are single-quoted strings that rh_expect evaluates: the variables
# they read are set here on purpose.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_ISO=1
fi

# Python snippets run inside the jail (/usr is bound, so python3 is there).
ISO_PY_LO='import socket, fcntl, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, struct.pack("16sH", b"lo", 0))[:18])[1]
names = [l.split(":")[0].strip() for l in open("/proc/self/net/dev").read().splitlines()[2:]]
print(" ".join(names), "up" if flags & 1 else "down")'

# argv: BIND_PORT CONNECT_PORT -> "ok" or "bind:ERRNO" / "connect:ERRNO"
ISO_PY_TCP='import socket, sys
b, c = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", b)); s.listen(1)
except OSError as e:
    print("bind:%d" % e.errno); sys.exit(0)
k = socket.socket()
try:
    k.connect(("127.0.0.1", c))
except OSError as e:
    print("connect:%d" % e.errno); sys.exit(0)
print("ok")'

ISO_PY_UNSHARE='import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.unshare(0x10000000)  # CLONE_NEWUSER: allowed to nobody without seccomp
print(r, ctypes.get_errno())'

ISO_PY_GETPPID='import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(110)  # getppid, raw: the libc wrapper cannot fail
print(r, ctypes.get_errno())'

ISO_PY_PRCTL='import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print(libc.prctl(27, 0, 0, 0, 0), libc.prctl(66, 0, 0, 0, 0))  # securebits, MDWE'

iso_tests() {
        local d d2 rc out want names host_n host_boot inside_boot ns ino veth fs

        # ---- credentials ----
        jrun -- /bin/sh -c 'id -u; id -g; id -G; grep ^Groups: /proc/self/status'
        rh_expect iso/ids-nobody '[[ $RC -eq 0 && $OUT == $'"'"'65534\n65534\n65534\nGroups:'"'"'* && $(sed -n 4p <<<"$OUT") =~ ^Groups:[[:space:]]*$ ]]' \
                "expected uid/gid 65534 and no supplementary group: $OUT"
        jrun --uid 1234 --gid 4321 -- /bin/sh -c 'id -u; id -g'
        rh_expect iso/ids-option '[[ $RC -eq 0 && $OUT == $'"'"'1234\n4321'"'"' ]]' "--uid 1234 --gid 4321 gave: $OUT"

        jrun -- /bin/hostname
        rh_expect iso/hostname-default '[[ $RC -eq 0 && $OUT == rempart ]]' "hostname inside: '$OUT'"
        jrun --hostname box-7 -- /bin/hostname
        rh_expect iso/hostname-option '[[ $RC -eq 0 && $OUT == box-7 && $(hostname) != box-7 ]]' "--hostname box-7 gave '$OUT'"

        # Capabilities: all five sets empty; --cap keeps exactly the one asked
        # for (so the check reads real values, not a constant).
        jrun -- /bin/grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
        out=$(awk '{printf "%s%s ", $1, $2}' <<<"$OUT")
        want="CapInh:0000000000000000 CapPrm:0000000000000000 CapEff:0000000000000000 CapBnd:0000000000000000 CapAmb:0000000000000000 NoNewPrivs:1 Seccomp:2 "
        rh_expect iso/caps-nnp-seccomp '[[ $RC -eq 0 && $out == "$want" ]]' "got: $out"
        rh_expect iso/caps-control '[[ $(awk "/^CapEff:/{print \$2}" /proc/self/status) != 0000000000000000 ]]' \
                "the test itself should run with capabilities"
        jrun --cap CAP_NET_BIND_SERVICE -- /bin/grep -E '^Cap(Eff|Bnd|Amb):' /proc/self/status
        out=$(awk '{printf "%s%s ", $1, $2}' <<<"$OUT")
        rh_expect iso/caps-keep-one '[[ $out == "CapEff:0000000000000400 CapBnd:0000000000000400 CapAmb:0000000000000400 " ]]' \
                "--cap CAP_NET_BIND_SERVICE gave: $out"
        jrun --set seccomp.enabled=no -- /bin/grep '^Seccomp:' /proc/self/status
        rh_expect iso/seccomp-status-control '[[ $OUT =~ ^Seccomp:[[:space:]]+0$ ]]' "seccomp.enabled=no: $OUT"

        # Securebits 0xef = NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED,
        # NO_CAP_AMBIENT_RAISE and their locks; 0xf00 = EXEC_RESTRICT_FILE,
        # EXEC_DENY_INTERACTIVE and their locks.  MDWE: 1 = refuse exec gain.
        jrun -- python3 -c "$ISO_PY_PRCTL"
        rh_expect iso/securebits-mdwe '[[ $RC -eq 0 && $OUT == "$((0xfef)) 1" ]]' "securebits and MDWE inside: '$OUT' (want '$((0xfef)) 1')"
        jrun --set credentials.exec_securebits=no --no-mdwe -- python3 -c "$ISO_PY_PRCTL"
        rh_expect iso/securebits-mdwe-options '[[ $RC -eq 0 && $OUT == "$((0xef)) 0" ]]' \
                "exec_securebits=no --no-mdwe: '$OUT' (want '$((0xef)) 0')"

        # ---- pid namespace ----
        host_n=$(compgen -G "/proc/[0-9]*" | wc -l)
        # The shell lists /proc itself (a glob, no child process).
        jrun -- /bin/sh -c 'echo $$; for p in /proc/[0-9]*; do printf "%s " "${p#/proc/}"; done'
        names=$(sed -n 2p <<<"$OUT")
        rh_expect iso/pid-namespace '[[ $RC -eq 0 && $(head -n1 <<<"$OUT") == 2 && $names =~ ^(1\ )?2\ $ && $host_n -gt 3 ]]' \
                "own pid $(head -n1 <<<"$OUT"), pids visible: '$names' (host has $host_n)"
        rh_expect iso/pid-namespace-no-host-pid '[[ " $names" != *" $$ "* || $$ -le 3 ]]' "the test's own pid $$ is visible inside"

        # ---- network ----
        jrun -- python3 -c "$ISO_PY_LO"
        rh_expect iso/net-only-lo-down '[[ $RC -eq 0 && $OUT == "lo down" ]]' "interfaces inside: '$OUT'"
        jrun --loopback -- python3 -c "$ISO_PY_LO"
        rh_expect iso/net-loopback-up '[[ $RC -eq 0 && $OUT == "lo up" ]]' "--loopback: '$OUT'"
        # Without Landlock's TCP rules, only the state of lo decides.
        jrun --set landlock.network=no -- python3 -c "$ISO_PY_TCP" 8080 8080
        rh_expect iso/net-lo-down-unreachable '[[ $OUT == connect:101 ]]' "lo down: connect gave '$OUT' (want ENETUNREACH)"
        jrun --loopback --set landlock.network=no -- python3 -c "$ISO_PY_TCP" 8080 8080
        rh_expect iso/net-loopback-tcp '[[ $OUT == ok ]]' "--loopback, Landlock network off: '$OUT'"

        # Landlock TCP: only the listed ports (EACCES = 13 otherwise).
        jrun --loopback --tcp-bind 8080 --tcp-connect 8080 -- python3 -c "$ISO_PY_TCP" 8080 8080
        rh_expect iso/landlock-tcp-allowed '[[ $OUT == ok ]]' "bind+connect 8080 allowed: '$OUT'"
        jrun --loopback --tcp-bind 8080 --tcp-connect 8080 -- python3 -c "$ISO_PY_TCP" 8081 8081
        rh_expect iso/landlock-tcp-bind-denied '[[ $OUT == bind:13 ]]' "bind 8081 (not listed): '$OUT'"
        jrun --loopback --tcp-bind 8080 --tcp-bind 8081 --tcp-connect 8080 -- python3 -c "$ISO_PY_TCP" 8081 8081
        rh_expect iso/landlock-tcp-connect-denied '[[ $OUT == connect:13 ]]' "connect 8081 (bind listed only): '$OUT'"
        jrun --loopback -- python3 -c "$ISO_PY_TCP" 8080 8080
        rh_expect iso/landlock-tcp-default-denied '[[ $OUT == bind:13 ]]' "default profile, no port listed: '$OUT'"

        # Joining a named namespace (ip netns): a veth end with an address.
        ns=rempart-host-$$
        veth=rjh$$
        if ! ip netns add "$ns" 2>/dev/null; then
                rh_skip iso/net-join "cannot create a network namespace here"
        else
                RH_NETNS+=("$ns")
                # Both ends inside the namespace: deleting it removes them.
                if ip -n "$ns" link add "${veth}a" type veth peer name "${veth}b" 2>/dev/null; then
                        ip -n "$ns" addr add 10.213.7.1/24 dev "${veth}b"
                        ip -n "$ns" link set "${veth}b" up
                        ip -n "$ns" link set "${veth}a" up
                        want=${veth}b
                else
                        ip -n "$ns" addr add 10.213.7.1/8 dev lo
                        ip -n "$ns" link set lo up
                        want=lo
                fi
                ino=$(stat -L -c %i "/run/netns/$ns")
                jrun --net "$ns" -- /bin/sh -c 'readlink /proc/self/ns/net; grep -c "10.213.7.1" /proc/self/net/fib_trie; cat /proc/self/net/dev'
                rh_expect iso/net-join '[[ $RC -eq 0 && $(head -n1 <<<"$OUT") == "net:[$ino]" && $(sed -n 2p <<<"$OUT") -ge 1 && $OUT == *"$want:"* ]]' \
                        "--net $ns: namespace or address not seen inside"
                ip netns del "$ns"
                rh_expect iso/net-join-cleanup '[[ ! -e /run/netns/$ns ]]' "netns $ns still present"
        fi

        # ---- file system ----
        jrun -- /bin/sh -c 'test -e /sys && echo present || echo absent'
        rh_expect iso/sys-absent '[[ $RC -eq 0 && $OUT == absent && -d /sys/kernel ]]' "/sys inside: $OUT"
        jrun --sys -- /bin/sh -c 'test -d /sys/kernel && echo present; grep " /sys " /proc/self/mountinfo'
        rh_expect iso/sys-option-ro '[[ $OUT == present* && $(sed -n 2p <<<"$OUT" | cut -d" " -f6) == ro,* ]]' "--sys: $OUT"

        jrun -- /bin/sh -c 'touch /newfile 2>/dev/null && echo root-writable; touch /usr/newfile 2>/dev/null && echo usr-writable
                echo data >/tmp/w && cat /tmp/w; grep -E " / | /usr " /proc/self/mountinfo | cut -d" " -f5,6'
        rh_expect iso/root-usr-readonly '[[ $RC -eq 0 && $OUT != *writable* && $OUT == data* && $OUT == *"/ ro,"* && $OUT == *"/usr ro,"* ]]' \
                "/ and /usr must be read-only, /tmp writable: $OUT"

        # /tmp is noexec: a copy of true fails there; the same copy runs
        # from an executable bind (cli/command-executable-control) and here.
        d=$(rh_dir noexec)
        cp /bin/true "$d/true"
        rc=0; "$d/true" || rc=$?
        jrun -- /bin/sh -c 'cp /bin/true /tmp/t && chmod 755 /tmp/t && /tmp/t; echo "status=$?"; grep " /tmp " /proc/self/mountinfo | cut -d" " -f6'
        rh_expect iso/tmp-noexec '[[ $ERR == *"/tmp/t: Permission denied"* && $OUT == *status=126* && $(tail -n1 <<<"$OUT") == *noexec* && $rc -eq 0 ]]' \
                "exec from /tmp: $OUT (outside: $rc)"

        # /dev: exactly the allowlist (character devices), which still work.
        jrun -- /bin/sh -c 'for f in /dev/*; do [ -c "$f" ] && [ ! -L "$f" ] && printf "%s " "${f#/dev/}"; done; echo; echo x >/dev/null && head -c 5 /dev/zero | wc -c'
        out=$(head -n1 <<<"$OUT")
        want="full null random "; [ -c /dev/tty ] && want+="tty "; want+="urandom zero "
        rh_expect iso/dev-allowlist '[[ $RC -eq 0 && $out == "$want" && $(sed -n 2p <<<"$OUT") == 5 ]]' \
                "devices inside: '$out' (want '$want'), null/zero usable: $(sed -n 2p <<<"$OUT")"
        if [ -c /dev/kmsg ]; then
                jrun --dev /dev/kmsg -- /bin/sh -c 'test -c /dev/kmsg && echo present'
                rh_expect iso/dev-option '[[ $OUT == present ]]' "--dev /dev/kmsg not present inside"
        else
                rh_skip iso/dev-option "no /dev/kmsg on this host"
        fi

        jrun -- /bin/grep " /proc " /proc/self/mountinfo
        rh_expect iso/proc-hidepid-subset '[[ $OUT == *hidepid=invisible* && $OUT == *subset=pid* ]]' "/proc mount: $OUT"

        # ---- environment ----
        FOO=bar-outside jrun -- /usr/bin/env
        names=$(cut -d= -f1 <<<"$OUT" | sort | tr '\n' ' ')
        rh_expect iso/env-clean '[[ $RC -eq 0 && -z $(tr " " "\n" <<<"$names" | grep -vxE "PATH|HOME|TERM|LANG|LC_ALL|") && $OUT == *PATH=/usr/bin:/bin* && $OUT == *HOME=/tmp* && $OUT != *FOO* ]]' \
                "variables inside: $names"
        FOO=bar-outside jrun --env-keep FOO --setenv BAZ=qux -- /usr/bin/env
        rh_expect iso/env-keep-setenv '[[ $OUT == *FOO=bar-outside* && $OUT == *BAZ=qux* ]]' "--env-keep FOO --setenv BAZ=qux: $(tr '\n' ' ' <<<"$OUT")"

        # ---- file descriptors ----
        jrun -- /bin/sh -c '[ -e /proc/self/fd/5 ] && echo open || echo closed' 5</dev/null
        rh_expect iso/fds-closed '[[ $RC -eq 0 && $OUT == closed ]]' "fd 5 inside: $OUT"
        jrun --keep-fd 5 -- /bin/sh -c '[ -e /proc/self/fd/5 ] && echo open || echo closed' 5</dev/null
        rh_expect iso/fds-keep '[[ $RC -eq 0 && $OUT == open ]]' "--keep-fd 5: $OUT"

        # ---- rlimits ----
        jrun --set rlimits.nofile=64 -- /bin/sh -c 'ulimit -n; ulimit -Hn'
        rh_expect iso/rlimit-nofile '[[ $RC -eq 0 && $OUT == $'"'"'64\n64'"'"' ]]' "nofile inside: $OUT"
        jrun -- /bin/sh -c 'ulimit -n; ulimit -c'
        rh_expect iso/rlimit-defaults '[[ $RC -eq 0 && $(head -n1 <<<"$OUT") != 64 && $(tail -n1 <<<"$OUT") == 0 ]]' \
                "default nofile should not be 64 and core must be 0: $OUT"

        # ---- binds ----
        d=$(rh_dir bind)
        echo content >"$d/file"
        cp /bin/true "$d/true"
        chmod 755 "$d/true"
        jrun --ro "$d:/data" -- /bin/sh -c 'cat /data/file; touch /data/new 2>/dev/null && echo writable; /data/true && echo exec-ok
                grep " /data " /proc/self/mountinfo | cut -d" " -f6'
        rh_expect iso/bind-ro '[[ $RC -eq 0 && $OUT == content* && $OUT != *writable* && $OUT == *exec-ok* && $(tail -n1 <<<"$OUT") == ro,* && $(tail -n1 <<<"$OUT") != *noexec* && ! -e $d/new ]]' \
                "--ro: $(tr '\n' ' ' <<<"$OUT")"
        jrun --ro-noexec "$d:/data" -- /bin/sh -c 'cat /data/file; touch /data/new 2>/dev/null && echo writable; /data/true 2>/dev/null && echo exec-ok
                grep " /data " /proc/self/mountinfo | cut -d" " -f6'
        rh_expect iso/bind-ro-noexec '[[ $RC -eq 0 && $OUT == content* && $OUT != *writable* && $OUT != *exec-ok* && $(tail -n1 <<<"$OUT") == ro,*noexec* ]]' \
                "--ro-noexec: $(tr '\n' ' ' <<<"$OUT")"
        d2=$(rh_dir bindrw)
        cp /bin/true "$d2/true"
        chmod 755 "$d2/true"
        jrun --rw "$d2:/data" -- /bin/sh -c 'echo written >/data/new && echo write-ok; /data/true 2>/dev/null && echo exec-ok
                grep " /data " /proc/self/mountinfo | cut -d" " -f6'
        fs=$(tail -n1 <<<"$OUT")
        rh_expect iso/bind-rw '[[ $RC -eq 0 && $OUT == write-ok* && $OUT != *exec-ok* && $fs == rw,* && $fs == *nosuid* && $fs == *nodev* && $fs == *noexec* && $(cat "$d2/new" 2>/dev/null) == written && $(stat -c %u:%g "$d2/new" 2>/dev/null) == 65534:65534 ]]' \
                "--rw: $(tr '\n' ' ' <<<"$OUT"), host file: $(stat -c %u:%g "$d2/new" 2>&1)"

        jrun --tmpfs /scratch:1M -- /bin/sh -c 'echo x >/scratch/f && echo write-ok; grep " /scratch " /proc/self/mountinfo | cut -d" " -f6-'
        fs=$(tail -n1 <<<"$OUT")
        rh_expect iso/tmpfs '[[ $RC -eq 0 && $OUT == write-ok* && $fs == rw,*noexec* && $fs == *" tmpfs "* && $fs == *size=1024k* ]]' "--tmpfs /scratch:1M: $fs"

        jrun --chdir /usr/share -- /bin/pwd
        rh_expect iso/chdir '[[ $RC -eq 0 && $OUT == /usr/share ]]' "--chdir /usr/share: $OUT"
        jrun -- /bin/pwd
        rh_expect iso/chdir-default '[[ $RC -eq 0 && $OUT == / ]]' "default cwd: $OUT"

        # ---- time namespace ----
        if [ ! -e /proc/self/ns/time ]; then
                rh_skip iso/timens "this kernel has no time namespace"
        else
                jrun --timens --set namespaces.time_offset_boottime=86400 --report "$WORK/timens.json" -- python3 -c 'import time; print(int(time.clock_gettime(time.CLOCK_BOOTTIME)))'
                host_boot=$(cut -d. -f1 /proc/uptime)
                inside_boot=${OUT:-0}
                rh_expect iso/timens '[[ $RC -eq 0 && $inside_boot =~ ^[0-9]+$ && $inside_boot -ge 86400 && $((inside_boot - host_boot)) -ge 86000 ]]' \
                        "boottime inside $OUT, outside $host_boot; report: namespaces.time=$(json_get "$WORK/timens.json" 'j["namespaces"]["time"]')"
                # Without offsets: the namespace alone must be reported enforced.
                jrun --timens --report "$WORK/timens0.json" -- /bin/true
                out=$(json_get "$WORK/timens0.json" 'j["namespaces"]["time"]')
                rh_expect iso/timens-reported '[[ $RC -eq 0 && $out == enforced ]]' "--timens: status $RC, report namespaces.time=$out"
        fi

        # ---- user namespace ----
        d=$(rh_dir userns)
        jrun --userns --uid-map '0 100000 65536' --gid-map '0 100000 65536' --rw "$d:/data" -- \
                /bin/sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /data/f'
        out=$(awk 'NF == 3 {printf "%s %s %s;", $1, $2, $3} NF == 1 {printf "%s", $1}' <<<"$OUT")
        rh_expect iso/userns-maps '[[ $RC -eq 0 && $out == "0 100000 65536;0 100000 65536;65534" ]]' "maps inside: $out"
        rh_expect iso/userns-file-owner '[[ $(stat -c %u:%g "$d/f" 2>/dev/null) == 165534:165534 ]]' \
                "file created inside is owned by $(stat -c %u:%g "$d/f" 2>&1) on the host (want 165534:165534)"

        # ---- seccomp ----
        # unshare(CLONE_NEWUSER) needs no capability: without the filter it
        # succeeds, so EPERM proves the filter (and errno= is honoured).
        jrun -- python3 -c "$ISO_PY_UNSHARE"
        rh_expect iso/seccomp-unshare-denied '[[ $RC -eq 0 && $OUT == "-1 1" ]]' "unshare inside: '$OUT' (want -1 EPERM)"
        jrun --set seccomp.errno=ENOSYS -- python3 -c "$ISO_PY_UNSHARE"
        rh_expect iso/seccomp-errno-option '[[ $RC -eq 0 && $OUT == "-1 38" ]]' "seccomp.errno=ENOSYS: '$OUT'"
        jrun --set seccomp.enabled=no -- python3 -c "$ISO_PY_UNSHARE"
        rh_expect iso/seccomp-unshare-control '[[ $RC -eq 0 && $OUT == "0 0" ]]' "without seccomp: '$OUT' (want success)"
        jrun -- python3 -c "$ISO_PY_GETPPID"
        rh_expect iso/seccomp-getppid-default '[[ $RC -eq 0 && $OUT == "1 0" ]]' "getppid inside: '$OUT'"
        jrun --seccomp-deny getppid -- python3 -c "$ISO_PY_GETPPID"
        rh_expect iso/seccomp-deny-option '[[ $RC -eq 0 && $OUT == "-1 1" ]]' "--seccomp-deny getppid: '$OUT'"
}

iso_tests
[ -n "${RH_STANDALONE_ISO:-}" ] && rh_finish

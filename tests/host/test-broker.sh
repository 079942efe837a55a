#!/bin/bash
# Host tier: the level session broker (rempart-broker), run directly on the
# host as root, in its own pid namespace (unshare --pid --fork) as it is
# inside a level, without the rest of the jail.  A test client
# (tests/host/broker-client-cli.c, built as rempart-broker-test-client)
# plays the core.  The level's users are numeric (61001, 61002): no host
# account is created.
# Sourced by run-host-tests.sh; can also run alone: test-broker.sh BUILD_DIR.
# Conditions are single-quoted strings that rh_expect evaluates: the variables
# they read are set here on purpose.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_BROKER=1
fi

BK_BIN=$BUILD/src/broker/rempart-broker
BK_CLI=$BUILD/tests/host/rempart-broker-test-client
BK_DIR=""
BK_SOCK=""
BK_LOG=""
BK_NS_PID=""
BK_PID=""

bk_start() {
        BK_DIR=$(mktemp -d "$WORK/broker.XXXXXX") || rh_bail "mktemp failed"
        chmod 755 "$BK_DIR"
        BK_SOCK=$BK_DIR/broker.sock
        BK_LOG=$BK_DIR/broker.log
        cat >"$BK_DIR/test.conf" <<'EOF'
[level]
users = 61001 61002

[service whoami]
exec = /usr/bin/id -u
user = 61002
EOF
        # --kill-child: the broker (pid 1 of the namespace) dies with unshare.
        unshare --pid --fork --kill-child -- "$BK_BIN" --config "$BK_DIR/test.conf" --socket "$BK_SOCK" \
                </dev/null 2>"$BK_LOG" &
        BK_NS_PID=$!
        RH_BG_PIDS+=("$BK_NS_PID")
        wait_for 10 test -S "$BK_SOCK" || return 1
        BK_PID=$(pgrep -P "$BK_NS_PID" | head -n 1)
        [ -n "$BK_PID" ]
}

# bk_client UID ARGS...: the test client as UID (0: as root), stdin
# ${BIN:-/dev/null}, bounded time; sets RC, OUT, ERR.
bk_client() {
        local uid=$1
        shift
        if [ "$uid" = 0 ]; then
                timeout -k 2 "$RH_TIMEOUT" "$BK_CLI" "$BK_SOCK" "$@" \
                        <"${BIN:-/dev/null}" >"$WORK/.out" 2>"$WORK/.err"
        else
                timeout -k 2 "$RH_TIMEOUT" setpriv --reuid="$uid" --regid="$uid" --clear-groups \
                        "$BK_CLI" "$BK_SOCK" "$@" <"${BIN:-/dev/null}" >"$WORK/.out" 2>"$WORK/.err"
        fi
        RC=$?
        OUT=$(cat "$WORK/.out")
        ERR=$(cat "$WORK/.err")
}

bk_no_process() {
        ! pgrep -f "^$1\$" >/dev/null
}

# Raw requests, built byte by byte (little-endian, see broker-proto.h).
bk_make_raw() {
        mkdir -p "$BK_DIR/raw"
        /usr/bin/python3 - "$BK_DIR/raw" <<'EOF'
import os, struct, sys
d = sys.argv[1]
def msg(t, payload, ver=1, magic=0x4b425052, length=None):
    return struct.pack("<IHHI", magic, ver, t, len(payload) if length is None else length) + payload
def s(b):
    return struct.pack("<I", len(b)) + b
def run(argv, env=()):
    return (struct.pack("<II", 0, len(argv)) + b"".join(s(a) for a in argv)
            + struct.pack("<I", len(env)) + b"".join(s(e) for e in env))
ok = run([b"/bin/true"])
msgs = {
    "run-ok": msg(1, ok),
    "garbage": b"hello, broker",
    "short-header": b"RPBK",
    "bad-magic": msg(1, ok, magic=0x4b425053),
    "bad-version": msg(1, ok, ver=2),
    "bad-type": msg(9, ok),
    "length-lie": msg(1, ok, length=len(ok) + 4),
    "trailing-byte": msg(1, ok + b"\0"),
    "env-ld-preload": msg(1, run([b"/bin/true"], [b"LD_PRELOAD=/tmp/x.so"])),
    "env-path": msg(1, run([b"/bin/true"], [b"PATH=/tmp"])),
    "nul-in-arg": msg(1, run([b"/bin/tr\0ue"])),
    "argc-huge": msg(1, struct.pack("<II", 0, 0xffffffff)),
    "unknown-flag": msg(1, struct.pack("<I", 2) + ok[4:]),
    "signal-first": msg(3, struct.pack("<I", 2)),
    "signal-kill": msg(3, struct.pack("<I", 9)),
    "oversized": msg(1, ok + b"x" * 70000),
}
for name, data in msgs.items():
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
EOF
}

# bk_raw NAME FDS: send raw/NAME with FDS descriptors attached, as 61001.
bk_raw() {
        bk_client 61001 --raw "$BK_DIR/raw/$1" --fds "$2"
}

bk_tests() {
        if ! command -v setpriv >/dev/null || ! command -v nsenter >/dev/null || ! command -v unshare >/dev/null; then
                rh_skip broker/all "setpriv, nsenter or unshare missing"
                return
        fi
        if [ ! -x "$BK_BIN" ] || [ ! -x "$BK_CLI" ]; then
                rh_fail broker/build "rempart-broker or rempart-broker-test-client not built"
                return
        fi
        if ! bk_start; then
                rh_fail broker/start "the broker did not start"
                rh_diag "$(cat "$BK_LOG" 2>/dev/null)"
                return
        fi
        local mode
        mode=$(stat -c %a "$BK_SOCK")
        rh_expect broker/socket '[[ $mode == 666 && $(cat "$BK_LOG") == *"listening on $BK_SOCK"* ]]' \
                "socket mode $mode (want 666), log: $(cat "$BK_LOG")"

        # ---- who the command runs as, with what ----
        local want=$'61001\n61001\n61001\n/'
        bk_client 61001 -- /bin/sh -c 'id -u; id -g; id -G; pwd'
        rh_expect broker/identity '[[ $RC -eq 0 && $OUT == "$want" ]]' \
                "want uid, gid, groups 61001 and cwd / (no home), got: $OUT"

        bk_client 61001 -- /bin/sh -c 'grep -E "^(CapInh|CapPrm|CapEff|CapAmb|NoNewPrivs):" /proc/self/status'
        local caps
        caps=$(printf '%s\n' "$OUT" | tr -s ' \t' ' ' | sort | tr '\n' ';')
        rh_expect broker/capabilities \
                '[[ $RC -eq 0 && $caps == "CapAmb: 0000000000000000;CapEff: 0000000000000000;CapInh: 0000000000000000;CapPrm: 0000000000000000;NoNewPrivs: 1;" ]]' \
                "want every capability set empty and no_new_privs, got: $caps"

        FOO=bar bk_client 61001 --env TERM=xterm-256color --env LANG=C.UTF-8 -- /usr/bin/env
        local env
        env=$(printf '%s\n' "$OUT" | sort | tr '\n' ';')
        rh_expect broker/environment \
                '[[ $RC -eq 0 && $env == "HOME=/home/61001;LANG=C.UTF-8;LOGNAME=61001;PATH=/usr/local/bin:/usr/bin:/bin;SHELL=/bin/sh;TERM=xterm-256color;USER=61001;" ]]' \
                "want exactly the fixed variables and the two allowed ones, got: $env"

        BIN=$WORK/.script
        printf 'echo "$0"\nexit 3\n' >"$BIN"
        bk_client 61001
        unset BIN
        rh_expect broker/login-shell '[[ $RC -eq 3 && $OUT == "-sh" ]]' \
                "empty argv: want a login shell (\$0 = -sh) reading stdin, status 3"

        bk_client 61001 --pty -- /bin/sh -c 'exec 3</dev/tty && echo ctty-ok'
        rh_expect broker/pty '[[ $RC -eq 0 && $OUT == *ctty-ok* ]]' \
                "with a pseudo-terminal and the TTY flag the session must have a controlling terminal"
        bk_client 61001 --tty -- /bin/true
        rh_expect broker/tty-not-terminal '[[ $RC -eq 120 && $ERR == *"not a terminal"* ]]' \
                "TTY flag with /dev/null as stdin must be refused"

        # ---- exit status and signals ----
        bk_client 61001 -- /bin/sh -c 'exit 7'
        rh_expect broker/exit-status '[[ $RC -eq 7 ]]' "want status 7"
        bk_client 61001 -- /bin/sh -c 'kill -TERM $$'
        rh_expect broker/killed-by-signal '[[ $RC -eq 143 ]]' "want 128 + SIGTERM"
        bk_client 61001 -- no-such-command-61001
        rh_expect broker/exec-failure '[[ $RC -eq 120 && $ERR == *"execve"* && $ERR == *"No such file"* ]]' \
                "a missing command must be reported as an ERROR naming execve"

        local out=$WORK/broker-forward.out rc
        rc=$(
                set -m
                setpriv --reuid=61001 --regid=61001 --clear-groups "$BK_CLI" "$BK_SOCK" --forward -- \
                        /bin/sh -c 'trap "exit 9" INT; echo ready; while :; do sleep 0.05; done' >"$out" 2>&1 </dev/null &
                cp=$!
                if wait_for 10 grep -q ready "$out"; then
                        kill -INT "$cp"
                else
                        kill -KILL "$cp"
                fi
                wait "$cp"
                echo $?
        )
        RC=$rc OUT=$(cat "$out") ERR=""
        rh_expect broker/signal-forwarded '[[ $RC -eq 9 ]]' \
                "SIGINT to the client must reach the command (its trap exits 9)"

        # ---- who may start sessions ----
        bk_client 61003 -- /bin/true
        rh_expect broker/uid-refused '[[ $RC -eq 120 && $ERR == *"uid 61003 is not a user of level test"* ]]' \
                "a uid outside the level must be refused with a clear message"
        bk_client 0 -- /bin/true
        rh_expect broker/root-run-refused '[[ $RC -eq 120 && $ERR == *"uid 0 is not a user of level test"* ]]' \
                "root gets no session in a level"

        # The same connection, from inside the broker's pid namespace (a
        # process of the level) and from outside (the core).
        RC=0 OUT="" ERR=""
        timeout -k 2 "$RH_TIMEOUT" nsenter --target "$BK_PID" --pid -- \
                setpriv --reuid=61001 --regid=61001 --clear-groups "$BK_CLI" "$BK_SOCK" -- /bin/true \
                </dev/null >"$WORK/.out" 2>"$WORK/.err"
        RC=$? OUT=$(cat "$WORK/.out") ERR=$(cat "$WORK/.err")
        rh_expect broker/same-pidns-refused '[[ $RC -eq 120 && $ERR == *"runs inside level test"* ]]' \
                "a peer in the broker's pid namespace must be refused"
        bk_client 61001 -- /bin/true
        rh_expect broker/other-pidns-accepted '[[ $RC -eq 0 ]]' \
                "the same request from outside the namespace must succeed"

        # ---- services ----
        bk_client 0 --service whoami
        rh_expect broker/service-root '[[ $RC -eq 0 && $OUT == 61002 ]]' "root starts the service, which runs as 61002"
        bk_client 61002 --service whoami
        rh_expect broker/service-own-user '[[ $RC -eq 0 && $OUT == 61002 ]]' "the service's user may start it"
        bk_client 61001 --service whoami
        rh_expect broker/service-other-user '[[ $RC -eq 120 && $ERR == *"only that user or root"* ]]' \
                "another level user may not start it"
        bk_client 0 --service nope
        rh_expect broker/service-unknown '[[ $RC -eq 120 && $ERR == *"has no service nope"* ]]' \
                "an unknown service must be named in the refusal"

        # ---- malformed requests: refused, and the broker keeps serving ----
        bk_make_raw
        bk_raw run-ok 3
        rh_expect broker/raw-control '[[ $OUT == *STARTED*EXIT* ]]' "the raw path must work with a valid RUN"
        local name fds bad=""
        for name in garbage short-header bad-magic bad-version bad-type length-lie trailing-byte env-ld-preload \
                env-path nul-in-arg argc-huge unknown-flag oversized signal-kill; do
                bk_raw "$name" 3
                [[ $OUT == *"ERROR -"* && $OUT != *STARTED* ]] || bad="$bad $name(3 fds: $OUT)"
        done
        for fds in 0 1 2 4; do
                bk_raw run-ok "$fds"
                [[ $OUT == *"ERROR -"* && $OUT != *STARTED* ]] || bad="$bad run-ok($fds fds: $OUT)"
        done
        bk_raw signal-first 0
        [[ $OUT == *"ERROR -"*"unexpected SIGNAL"* ]] || bad="$bad signal-first($OUT)"
        RC=0 OUT=$bad ERR=""
        rh_expect broker/malformed-refused '[[ -z $bad ]]' "not refused:$bad"
        bk_client 61001 -- /bin/sh -c 'echo alive'
        rh_expect broker/survives-malformed '[[ $RC -eq 0 && $OUT == alive ]] && kill -0 "$BK_PID"' \
                "the broker must keep serving after malformed requests"

        # ---- sessions never outlive their client ----
        local cp
        setpriv --reuid=61001 --regid=61001 --clear-groups "$BK_CLI" "$BK_SOCK" -- /bin/sleep 987651 \
                </dev/null >/dev/null 2>&1 &
        cp=$!
        wait_for 10 pgrep -f '^/bin/sleep 987651$' >/dev/null
        kill -KILL "$cp"
        wait "$cp" 2>/dev/null
        RC=0 OUT="" ERR=""
        rh_expect broker/disconnect-hangup 'wait_for 15 bk_no_process "/bin/sleep 987651"' \
                "the session must end (SIGHUP) when its client goes away"

        setpriv --reuid=61001 --regid=61001 --clear-groups "$BK_CLI" "$BK_SOCK" -- \
                /bin/sh -c 'trap "" HUP; exec /bin/sleep 987652' </dev/null >/dev/null 2>&1 &
        cp=$!
        wait_for 10 pgrep -f '^/bin/sleep 987652$' >/dev/null
        kill -KILL "$cp"
        wait "$cp" 2>/dev/null
        rh_expect broker/disconnect-kill 'wait_for 15 bk_no_process "/bin/sleep 987652"' \
                "a session that ignores SIGHUP must be killed after its client went away"

        bk_client 61001 -- /bin/sh -c '/bin/sleep 987653 & exit 0'
        rh_expect broker/leftovers-killed '[[ $RC -eq 0 ]] && wait_for 15 bk_no_process "/bin/sleep 987653"' \
                "what the command left in its process group must be killed when it exits"

        # ---- SIGTERM: every session ends, then the broker ----
        local bout=$WORK/broker-term.out brc
        setpriv --reuid=61001 --regid=61001 --clear-groups "$BK_CLI" "$BK_SOCK" -- /bin/sleep 987654 \
                </dev/null >"$bout" 2>&1 &
        cp=$!
        wait_for 10 pgrep -f '^/bin/sleep 987654$' >/dev/null
        kill -TERM "$BK_PID"
        wait "$cp"
        RC=$?
        wait "$BK_NS_PID"
        brc=$?
        OUT=$(cat "$bout") ERR=$(tail -n 3 "$BK_LOG")
        rh_expect broker/sigterm '[[ $RC -eq 143 && $brc -eq 0 && ! -e $BK_SOCK ]] && bk_no_process "/bin/sleep 987654"' \
                "SIGTERM: the session's client must see 143, the broker exit 0 and remove its socket (broker $brc)"
}

bk_tests
[ -n "${RH_STANDALONE_BROKER:-}" ] && rh_finish

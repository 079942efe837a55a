#!/bin/bash
# Host tier: transfers between levels (rempart-xferd, rempart-xfer,
# rempartctl xfer), with two development-mode levels (high, low) on this
# host, numeric users 61001 and 61002 in both, a test policy (low -> high
# allowed with quotas of 8 MiB and 1000 entries, high -> low confirmed),
# and the target level's data on a 6 MiB tmpfs (the disk-full case).
# Sourced by run-host-tests.sh; can also run alone: test-xfer.sh BUILD_DIR.
# Conditions are single-quoted strings that rh_expect evaluates.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_XFER=1
fi

XF_CTL=$BUILD/src/ctl/rempartctl
XF_D=$BUILD/src/xfer/rempart-xferd
XF_PROBE=$BUILD/tests/host/xfer-parser-probe
XF_AUDIT=$BUILD/src/audit/rempart-audit
XF_W=""
XF_DPID=""
XF_U=61001
XF_U2=61002

# The service runs with the capabilities its unit gives it (the bounding
# set of src/xfer/rempart-xferd.service), not all of root's.
XF_CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$(dirname "${BASH_SOURCE[0]}")/../../src/xfer/rempart-xferd.service" |
        tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')

xf_daemon() { # [EXPIRY]
        setpriv --bounding-set "-all,$XF_CAPS" -- "$XF_D" -c "$XF_W/conf" -p "$XF_W/policy.d" -r "$XF_W/run" -a "$XF_W/audit" -s "$XF_W/xferd" \
                -C "$XF_W/xferd.sock" -e "${1:-120}" -i 10 </dev/null >>"$XF_W/xferd.log" 2>&1 &
        XF_DPID=$!
        RH_BG_PIDS+=("$XF_DPID")
        wait_for 10 test -S "$XF_W/xferd.sock"
}

xf_daemon_stop() {
        [ -n "$XF_DPID" ] || return 0
        kill -TERM "$XF_DPID" 2>/dev/null
        wait "$XF_DPID" 2>/dev/null
        XF_DPID=""
        rm -f "$XF_W/xferd.sock"
}

xf_admin() {
        timeout 120 "$XF_CTL" -c "$XF_W/conf" -r "$XF_W/run" --dev --level-bin "$BUILD/src/ctl/rempart-level" \
                --broker "$BUILD/src/broker/rempart-broker" "$@"
}

# xf_in LEVEL [UID] -- CMD...: run CMD in LEVEL as UID; sets RC, OUT, ERR.
xf_in() {
        local level=$1 uid=$XF_U
        shift
        if [ "$1" != "--" ]; then
                uid=$1
                shift
        fi
        shift
        timeout -k 2 60 setpriv --reuid="$uid" --regid="$uid" --clear-groups \
                "$XF_CTL" -c "$XF_W/conf" -r "$XF_W/run" -T run "$level" -- "$@" \
                </dev/null >"$XF_W/.out" 2>"$XF_W/.err"
        RC=$?
        OUT=$(cat "$XF_W/.out")
        ERR=$(cat "$XF_W/.err")
}

# xf_core UID ARGS...: rempartctl xfer ARGS in the core as UID.
xf_core() {
        local uid=$1
        shift
        timeout -k 2 30 setpriv --reuid="$uid" --regid="$uid" --clear-groups env REMPART_XFERD_SOCKET="$XF_W/xferd.sock" \
                "$XF_CTL" xfer "$@" </dev/null >"$XF_W/.out" 2>"$XF_W/.err"
        RC=$?
        OUT=$(cat "$XF_W/.out")
        ERR=$(cat "$XF_W/.err")
}

xf_home() { # LEVEL
        printf '%s\n' "$XF_W/state/$1/home/$XF_U"
}

# Nothing of any transfer is left in the staging area of LEVEL.
xf_staging_empty() {
        [ -z "$(ls -A "$XF_W/state/$1/xfer" 2>/dev/null)" ]
}

xf_audit_has() { # TYPE PATTERN
        "$XF_AUDIT" --dir "$XF_W/audit" show 2>/dev/null | grep " $1 " | grep -q -- "$2"
}

xf_setup() {
        XF_W=$(mktemp -d /var/tmp/rempart-xfer-test.XXXXXX) || return 1
        chmod 0755 "$XF_W"
        mkdir -p "$XF_W/conf" "$XF_W/bin" "$XF_W/policy.d" "$XF_W/run" "$XF_W/state/high" "$XF_W/state/low" \
                "$XF_W/probe/staging" || return 1
        chmod 0755 "$XF_W/conf" "$XF_W/bin" "$XF_W/state" || return 1
        cp "$BUILD/src/xfer/rempart-xfer" "$BUILD/tests/levels/xfer-rawsend" "$XF_W/bin/" || return 1
        chmod 0755 "$XF_W/bin/"*
        # The target of the disk-full case: high's data on a small file system.
        mount -t tmpfs -o size=6m,mode=0700 rempart-xfer-test "$XF_W/state/high" || return 1
        for l in high low; do
                printf '[level]\nusers = %s %s\n[filesystem]\nsystem = /usr /etc %s\ndata = %s\n' \
                        "$XF_U" "$XF_U2" "$XF_W/bin" "$XF_W/state/$l" >"$XF_W/conf/$l.conf"
        done
        printf '%s\n' "allow low high op=copy max_bytes=8M max_files=1000" "confirm high low op=copy" \
                >"$XF_W/policy.d/10-test.policy"
        xf_daemon || return 1
        for l in high low; do
                xf_admin start "$l" >"$XF_W/start-$l" 2>&1 || return 1
                wait_for 30 test -S "$XF_W/run/$l/broker/broker.sock" || return 1
        done
}

xf_teardown() {
        [ -n "$XF_W" ] && [ -d "$XF_W" ] || return 0
        for l in high low; do
                xf_admin stop "$l" >/dev/null 2>&1
        done
        xf_daemon_stop
        umount "$XF_W/state/high" 2>/dev/null
        rm -rf "$XF_W"
        XF_W=""
}

xf_tests() {
        local id h l mode t0

        # ---- setup: the sockets ----
        mode=$(stat -c %a "$XF_W/run/low/xfer/xfer.sock" 2>/dev/null)
        rh_expect xfer/socket '[[ $mode == 666 && -S $XF_W/xferd.sock ]]' "level socket mode '$mode', log: $(cat "$XF_W/xferd.log")"
        xf_in low -- /bin/ls -l /run/rempart/xfer
        rh_expect xfer/socket-in-level '[[ $RC -eq 0 && $OUT == *xfer.sock* ]]' "the level does not see its socket"
        xf_in low -- /bin/sh -c 'echo x > /run/rempart/xfer/f'
        rh_expect xfer/socket-dir-readonly '[[ $RC -ne 0 ]]' "the level could write into its socket directory"

        # ---- upward: allowed ----
        xf_in low -- /bin/sh -c 'cd && umask 022 && printf "report\n" > report.txt && chmod 4640 report.txt &&
                touch -d "2001-02-03 04:05:06.123456789" report.txt && mkdir -p tree/sub && echo one > tree/a &&
                echo two > tree/sub/b && chmod 0750 tree/sub && sha256sum report.txt tree/a tree/sub/b > sums &&
                '"$XF_W"'/bin/rempart-xfer send high report.txt && '"$XF_W"'/bin/rempart-xfer send high tree'
        h=$(xf_home high)/Incoming/low
        rh_expect xfer/upward '[[ $RC -eq 0 && $OUT == *"sent to high: /home/$XF_U/Incoming/low/report.txt"* && -f $h/report.txt && -f $h/tree/sub/b ]]' \
                "upward transfer failed"
        l=$(xf_home low)
        rh_expect xfer/upward-content '( cd "$h" && sed "s#tree/#tree/#" "$l/sums" | sha256sum -c --quiet - )' "contents differ"
        rh_expect xfer/upward-metadata '[[ $(stat -c "%a %u %Y" "$h/report.txt") == "640 $XF_U 981173106" && $(stat -c %y "$h/report.txt") == *.123456789* && $(stat -c %a "$h/tree/sub") == 750 ]]' \
                "modes/times/owner: $(stat -c "%a %u %Y %y" "$h/report.txt") $(stat -c %a "$h/tree/sub")"
        rh_expect xfer/source-intact '[[ $(stat -c %a "$l/report.txt") == 4640 ]] && ( cd "$l" && sha256sum -c --quiet sums )' "the source changed"
        xf_in low -- "$XF_W/bin/rempart-xfer" send high report.txt
        rh_expect xfer/upward-name-taken '[[ $RC -eq 0 && $OUT == *Incoming/low/report.txt.1 && -f $h/report.txt.1 ]]' "second copy: $OUT"
        rh_expect xfer/audit-allowed 'xf_audit_has XFER_ALLOWED "name=report.txt size=7 sha256=$(sha256sum <"$h/report.txt" | cut -c1-64)"' \
                "no XFER_ALLOWED record with name, size and hash"
        rh_expect xfer/staging-clean 'xf_staging_empty high' "staging not empty: $(ls -A "$XF_W/state/high/xfer")"

        # ---- the policy is read again when it changes (no restart) ----
        printf 'deny low high op=copy\n' >"$XF_W/policy.d/05-site.policy"
        xf_in low -- "$XF_W/bin/rempart-xfer" send high /etc/hostname
        rh_expect xfer/policy-reloaded '[[ $RC -eq 3 && $ERR == *"05-site.policy:1"* ]]' "a new deny rule was not applied: rc=$RC $ERR"
        printf 'allow low high op=copy frobnicate\n' >"$XF_W/policy.d/05-site.policy"
        xf_in low -- "$XF_W/bin/rempart-xfer" send high /etc/hostname
        rh_expect xfer/policy-broken-denies '[[ $RC -eq 3 && $ERR == *"05-site.policy:1"* ]]' "a broken policy did not deny: rc=$RC $ERR"
        rm -f "$XF_W/policy.d/05-site.policy"
        xf_in low -- "$XF_W/bin/rempart-xfer" send high /etc/hostname
        rh_expect xfer/policy-restored '[[ $RC -eq 0 && -f $h/hostname ]]' "allowed again: rc=$RC $ERR"

        # ---- denied by the policy, or by the levels ----
        xf_in high -- /bin/sh -c 'cd && echo h > h.txt && '"$XF_W"'/bin/rempart-xfer send high h.txt'
        rh_expect xfer/deny-same-level '[[ $RC -eq 3 && $ERR == *denied* ]]' "high -> high was not denied"
        xf_in low -- "$XF_W/bin/rempart-xfer" send nosuch /etc/hostname
        rh_expect xfer/deny-unknown-level '[[ $RC -eq 3 && $ERR == *"no usable level nosuch"* ]]' "unknown level"
        rh_expect xfer/audit-denied 'xf_audit_has XFER_DENIED "src_level=high dst_level=high"' "no XFER_DENIED record"
        # A core process is not a level, whatever socket it finds.
        RC=0
        OUT=$(REMPART_XFER_SOCKET=$XF_W/run/low/xfer/xfer.sock setpriv --reuid=$XF_U --regid=$XF_U --clear-groups \
                "$XF_W/bin/rempart-xfer" send high /etc/hostname 2>&1) || RC=$?
        rh_expect xfer/deny-core-process '[[ $RC -eq 3 && $OUT == *"not a process of the level"* ]]' "a core process sent as low: $OUT"

        # ---- what the sender refuses (symbolic links, devices, fifos, hard links, quotas, changes) ----
        xf_in low -- /bin/sh -c 'cd && ln -sf /etc/passwd link && '"$XF_W"'/bin/rempart-xfer send high link'
        rh_expect xfer/refuse-symlink '[[ $RC -eq 1 && $ERR == *"symbolic link"* && ! -e $h/link ]]' "symlink: $ERR"
        xf_in low -- "$XF_W/bin/rempart-xfer" send high /dev/null
        rh_expect xfer/refuse-device '[[ $RC -eq 1 && ! -e $h/null ]]' "device: $ERR"
        xf_in low -- /bin/sh -c 'cd && rm -f fifo && mkfifo fifo && '"$XF_W"'/bin/rempart-xfer send high fifo'
        rh_expect xfer/refuse-fifo '[[ $RC -eq 1 && ! -e $h/fifo ]]' "fifo: $ERR"
        xf_in low -- /bin/sh -c 'cd && echo h > hl1 && ln -f hl1 hl2 && '"$XF_W"'/bin/rempart-xfer send high hl1'
        rh_expect xfer/refuse-hardlink '[[ $RC -eq 1 && ! -e $h/hl1 ]]' "hard link: $ERR"
        xf_in low -- /bin/sh -c 'cd && head -c 9M /dev/zero > big9 && '"$XF_W"'/bin/rempart-xfer send high big9'
        rh_expect xfer/refuse-over-quota '[[ $RC -eq 1 && ! -e $h/big9 ]]' "over quota: $ERR"
        xf_in low -- /bin/sh -c 'cd && mkdir -p many && i=0; while [ $i -lt 1001 ]; do : > many/f$i; i=$((i+1)); done;
                '"$XF_W"'/bin/rempart-xfer send high many'
        rh_expect xfer/refuse-too-many-files '[[ $RC -eq 1 && ! -e $h/many ]]' "too many files: $ERR"
        # A file that grows while it is sent (a writer appends a byte at a
        # time without pause, checked to be running before the send).  A send that happens to
        # fall between two writes is a consistent copy, not a failure: up to
        # three tries, one of which must be refused.
        local try
        for try in 1 2 3; do
                xf_in low -- /bin/sh -c 'cd && rm -f growing && head -c 4M /dev/zero > growing || exit 9
                        /usr/bin/python3 -c "import time
f = open(\"growing\", \"ab\", buffering=0)
end = time.monotonic() + 30
while time.monotonic() < end:
    f.write(b\"m\")" &
                        w=$!; s=$(stat -c %s growing); while [ "$(stat -c %s growing)" = "$s" ]; do sleep 0.01; done
                        '"$XF_W"'/bin/rempart-xfer send high growing; rc=$?; kill $w; exit $rc'
                [ "$RC" -eq 0 ] || break
                rm -f "$h/growing"
        done
        rh_expect xfer/refuse-growing '[[ $RC -eq 1 && $ERR == *"while being sent"* && ! -e $h/growing ]] && xf_staging_empty high' \
                "growing file: rc=$RC $ERR (try $try)"

        # ---- hostile streams, sent by hand from the level ----
        for t in $("$BUILD/tests/levels/xfer-rawsend" --list); do
                xf_in low -- "$XF_W/bin/xfer-rawsend" "$t" high
                rh_expect "xfer/hostile-$t" '[[ $OUT == FAILED* || ( $t == garbage && $OUT == EOF* ) ]] && xf_staging_empty high && [[ -z $(find "$h" -newer "$XF_W/.err" -print -quit) ]]' \
                        "stream $t: $OUT"
        done
        rh_expect xfer/audit-failed 'xf_audit_has XFER_FAILED "src_level=low"' "no XFER_FAILED record"

        # ---- the parser killed in the middle of a transfer ----
        setpriv --reuid=$XF_U --regid=$XF_U --clear-groups "$XF_CTL" -c "$XF_W/conf" -r "$XF_W/run" -T run low -- \
                "$XF_W/bin/xfer-rawsend" slow high </dev/null >"$XF_W/slow.out" 2>&1 &
        local sp=$!
        wait_for 20 grep -q SENDING "$XF_W/slow.out"
        wait_for 10 pgrep -x xfer-parser >/dev/null
        local staged_mid
        staged_mid=$(ls -A "$XF_W/state/high/xfer" 2>/dev/null)
        pkill -KILL -x xfer-parser
        wait "$sp"
        rh_expect xfer/parser-killed '[[ -n $staged_mid && $(cat "$XF_W/slow.out") == *"FAILED the parser was killed (signal 9)"* && ! -e $h/slow ]] && xf_staging_empty high' \
                "killed parser: $(cat "$XF_W/slow.out"), staged before: '$staged_mid'"
        rh_expect xfer/audit-parser-killed 'xf_audit_has XFER_FAILED "parser was killed"' "no record of the killed parser"

        # ---- the target's disk fills up (high's data: 6 MiB) ----
        xf_in low -- /bin/sh -c 'cd && head -c 7M /dev/urandom > full7 && '"$XF_W"'/bin/rempart-xfer send high full7'
        rh_expect xfer/disk-full '[[ $RC -eq 1 && $ERR == *"space"* && ! -e $h/full7 ]] && xf_staging_empty high' "disk full: rc=$RC $ERR"
        xf_in low -- /bin/sh -c 'cd && echo after > after.txt && '"$XF_W"'/bin/rempart-xfer send high after.txt'
        rh_expect xfer/after-disk-full '[[ $RC -eq 0 && $(cat "$h/after.txt") == after && -f $h/report.txt ]]' "after the full disk: $ERR"

        # ---- downward: held, refused from the level, confirmed in the core ----
        xf_in high -- /bin/sh -c 'cd && echo secret > s.txt && chmod 0644 s.txt && '"$XF_W"'/bin/rempart-xfer send low s.txt'
        id=$(printf '%s\n' "$OUT" | sed -n 's/^held: transfer \([0-9a-f]*\) .*/\1/p')
        l=$(xf_home low)/Incoming/high
        rh_expect xfer/downward-held '[[ $RC -eq 0 && -n $id && ! -e $l/s.txt ]]' "not held: $OUT $ERR"
        xf_core $XF_U list
        rh_expect xfer/list '[[ $RC -eq 0 && $OUT == *"$id high"*"low"* ]]' "list: $OUT"
        xf_core $XF_U2 list
        rh_expect xfer/list-other-user '[[ $RC -eq 0 && $OUT != *$id* ]]' "another user sees the request: $OUT"
        xf_in high -- "$XF_W/bin/rempart-xfer" confirm "$id"
        rh_expect xfer/self-confirm-refused '[[ $RC -eq 3 && $ERR == *"cannot confirm"* && ! -e $l/s.txt ]]' "confirm from the level: $ERR"
        rh_expect xfer/audit-self-confirm 'xf_audit_has XFER_CONFIRM_REFUSED "src_level=high"' "no record of the refused confirmation"
        RC=0
        OUT=$(unshare --pid --fork setpriv --reuid=$XF_U --regid=$XF_U --clear-groups env REMPART_XFERD_SOCKET="$XF_W/xferd.sock" \
                "$XF_CTL" xfer confirm --yes "$id" 2>&1) || RC=$?
        rh_expect xfer/confirm-other-pidns-refused '[[ $RC -eq 1 && $OUT == *"from the core only"* && ! -e $l/s.txt ]]' "confirm from another pid namespace: $OUT"
        xf_core $XF_U2 confirm --yes "$id"
        rh_expect xfer/confirm-other-user-refused '[[ $RC -eq 1 && ! -e $l/s.txt ]]' "another user confirmed: $OUT"
        xf_core 0 confirm --yes "$id"
        rh_expect xfer/confirm-root-refused '[[ $RC -eq 1 && ! -e $l/s.txt ]]' "root confirmed for the user: $OUT"
        xf_core $XF_U show "$id"
        rh_expect xfer/show '[[ $RC -eq 0 && $OUT == *"from high"* && $OUT == *"F 0644 7 $(printf "secret\n" | sha256sum | cut -c1-64) s.txt"* ]]' "show: $OUT"
        xf_core $XF_U confirm "$id"
        rh_expect xfer/confirm-needs-yes '[[ $RC -ne 0 && ! -e $l/s.txt ]]' "confirmed without a terminal or --yes"
        xf_core $XF_U confirm --yes "$id"
        rh_expect xfer/confirmed '[[ $RC -eq 0 && $(cat "$l/s.txt" 2>/dev/null) == secret ]] && xf_staging_empty low' "confirm: $OUT $ERR"
        xf_core $XF_U confirm --yes "$id"
        rh_expect xfer/confirm-twice '[[ $RC -eq 1 ]]' "confirmed twice"
        rh_expect xfer/audit-confirmed 'xf_audit_has XFER_CONFIRMED "id=$id.*confirmer=$XF_U"' "no XFER_CONFIRMED record with its confirmer"

        # ---- what was confirmed is what arrives: staged data changed after the manifest ----
        xf_in high -- /bin/sh -c 'cd && echo tamper > t.txt && '"$XF_W"'/bin/rempart-xfer send low t.txt'
        id=$(printf '%s\n' "$OUT" | sed -n 's/^held: transfer \([0-9a-f]*\) .*/\1/p')
        printf 'TAMPER\n' >"$XF_W/state/low/xfer/$id/t.txt" 2>/dev/null
        xf_core $XF_U confirm --yes "$id"
        rh_expect xfer/confirm-rehash '[[ -n $id && $RC -eq 1 && $ERR == *"does not match its SHA-256"* && ! -e $l/t.txt ]] && xf_staging_empty low' \
                "tampered staging: rc=$RC $OUT $ERR"

        # ---- the login menu (the trusted path on the console): review, confirm ----
        xf_in high -- /bin/sh -c 'cd && echo menu > m.txt && '"$XF_W"'/bin/rempart-xfer send low m.txt'
        id=$(printf '%s\n' "$OUT" | sed -n 's/^held: transfer \([0-9a-f]*\) .*/\1/p')
        RC=0
        OUT=$(printf 't\nyes\nq\n' | timeout 30 setpriv --reuid=$XF_U --regid=$XF_U --clear-groups \
                env REMPART_XFERD_SOCKET="$XF_W/xferd.sock" "$XF_CTL" -c "$XF_W/conf" -r "$XF_W/run" login 2>&1) || RC=$?
        rh_expect xfer/login-menu-confirm '[[ -n $id && $OUT == *"transfers waiting for your confirmation: 1"* && $OUT == *"request $id"* && $OUT == *"Confirmed: /home/$XF_U/Incoming/high/m.txt"* && $(cat "$l/m.txt" 2>/dev/null) == menu ]]' \
                "login menu: $OUT"

        # ---- waiting senders: denied by the user ----
        setpriv --reuid=$XF_U --regid=$XF_U --clear-groups "$XF_CTL" -c "$XF_W/conf" -r "$XF_W/run" -T run high -- \
                /bin/sh -c 'cd && echo no > no.txt && '"$XF_W"'/bin/rempart-xfer send --wait low no.txt' </dev/null >"$XF_W/wait.out" 2>&1 &
        local wp=$!
        wait_for 20 grep -q "waiting for a confirmation" "$XF_W/wait.out"
        id=$(sed -n 's/.*confirmation of transfer \([0-9a-f]*\) .*/\1/p' "$XF_W/wait.out")
        xf_core $XF_U deny "$id"
        wait "$wp"
        local wrc=$?
        rh_expect xfer/denied-by-user '[[ $wrc -eq 4 && $(cat "$XF_W/wait.out") == *"refused by the user"* && ! -e $l/no.txt ]] && xf_staging_empty low' \
                "wait/deny: rc=$wrc $(cat "$XF_W/wait.out")"

        # ---- expiry (the service restarted with 2 s) ----
        xf_daemon_stop
        xf_daemon 2
        xf_in high -- /bin/sh -c 'cd && echo late > late.txt && '"$XF_W"'/bin/rempart-xfer send --wait low late.txt'
        rh_expect xfer/expired '[[ $RC -eq 4 && $ERR == *expired* && ! -e $l/late.txt ]] && xf_staging_empty low' "expiry: rc=$RC $ERR"
        rh_expect xfer/audit-expired 'xf_audit_has XFER_EXPIRED "src_level=high"' "no XFER_EXPIRED record"

        # ---- the audit log as a whole ----
        RC=0
        OUT=$("$XF_AUDIT" --dir "$XF_W/audit" verify 2>&1) || RC=$?
        rh_expect xfer/audit-verify '[[ $RC -eq 0 && $OUT == *intact* ]]' "verify: $OUT"
        rh_expect xfer/audit-manifests '[[ -n $(ls "$XF_W/audit/manifests") && $(stat -c %a "$XF_W/audit/manifests") == 750 ]] && grep -q "^D 0750 - - tree/sub$" "$XF_W"/audit/manifests/*.manifest' "manifest files"
}

# ---- the parser's jail: each probe outside (as the same user) and inside ----
xf_probe_tests() {
        local p want out rc_out out_in rc_in staging=$XF_W/probe/staging sanitized
        sanitized=$("$XF_PROBE" --sanitized)
        chown -R $XF_U:$XF_U "$XF_W/probe"
        chmod 0755 "$XF_W/probe"
        for p in write-staging read-etc write-tmp escape-dotdot socket-inet socket-unix exec fork mmap-exec kill ptrace \
                symlink-staging mknod-fifo rename-out; do
                rm -rf "${staging:?}"/* "$XF_W/probe/probe-escape" /var/tmp/probe-renamed
                if [ "$p" = rename-out ]; then
                        : >"$staging/probe-file"
                        chown $XF_U "$staging/probe-file"
                fi
                out=$(PROBE_SOCKET=$XF_W/xferd.sock "$XF_PROBE" --no-jail $XF_U $XF_U "$staging" "$p" 2>&1)
                rc_out=$?
                rm -rf "${staging:?}"/* "$XF_W/probe/probe-escape" /var/tmp/probe-renamed
                [ "$p" != rename-out ] || { : >"$staging/probe-file"; chown $XF_U "$staging/probe-file"; }
                out_in=$(PROBE_SOCKET=$XF_W/xferd.sock "$XF_PROBE" $XF_U $XF_U "$staging" "$p" 2>&1)
                rc_in=$?
                if [ "$sanitized" = 1 ] && [[ $p == @(fork|ptrace|kill) ]]; then
                        rh_skip "xfer/parser-jail-$p" "AddressSanitizer build: its runtime needs this system call"
                elif [ "$p" = write-staging ]; then
                        rh_expect "xfer/parser-jail-$p" '[[ $out == OK && $out_in == OK ]]' "outside: $out, inside: $out_in"
                elif [ "$p" = socket-unix ] && [ "$out" != OK ]; then
                        rh_skip "xfer/parser-jail-$p" "no journal socket to connect to outside: $out"
                else
                        rh_expect "xfer/parser-jail-$p" '[[ $out == OK && $rc_out -eq 0 && ( $rc_in -eq 159 || $out_in == DENIED* ) ]]' \
                                "outside: rc=$rc_out $out; inside: rc=$rc_in $out_in"
                fi
        done
        rm -f /var/tmp/probe-renamed
}

if [ ! -x "$XF_D" ] || [ ! -x "$XF_PROBE" ]; then
        rh_fail xfer/build "rempart-xferd or xfer-parser-probe not built"
elif ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
        rh_skip xfer/all "setpriv or unshare missing"
elif ! { trap 'xf_teardown; rh_cleanup' EXIT; xf_setup; }; then
        rh_fail xfer/setup "the transfer service or the levels did not start"
        rh_diag "$(cat "$XF_W"/xferd.log "$XF_W"/start-* 2>/dev/null)"
        xf_teardown
else
        xf_tests
        xf_probe_tests
        xf_teardown
fi
trap rh_cleanup EXIT

if [ -n "${RH_STANDALONE_XFER:-}" ]; then
        rh_finish
fi

#!/bin/bash
# Host tier: levels in development mode — bad level files are refused with
# a message naming file, line and key while the other levels still start;
# users outside a level are refused; a level's data survives a restart;
# rempartctl's usage errors.  Numeric users (61001...) only: no host account
# is created.
# Sourced by run-host-tests.sh; can also run alone: test-level-config.sh BUILD_DIR.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_LVCONF=1
fi

LV=$BUILD/src/ctl/rempart-level
CTL=$BUILD/src/ctl/rempartctl
BROKER=$BUILD/src/broker/rempart-broker
LD=$WORK/levels
mkdir -p "$LD/conf" "$LD/data"
chmod 755 "$LD" "$LD/data"

lv_ctl() { # lv_ctl UID ARGS...: rempartctl as UID (0: root), bounded; sets RC OUT ERR
        local uid=$1
        shift
        if [ "$uid" = 0 ]; then
                timeout -k 2 60 "$CTL" -c "$LD/conf" -r "$LD/run" --dev --level-bin "$LV" --broker "$BROKER" \
                        "$@" </dev/null >"$WORK/.out" 2>"$WORK/.err"
        else
                timeout -k 2 60 setpriv --reuid "$uid" --regid "$uid" --clear-groups \
                        "$CTL" -c "$LD/conf" -r "$LD/run" "$@" </dev/null >"$WORK/.out" 2>"$WORK/.err"
        fi
        RC=$?
        OUT=$(cat "$WORK/.out")
        ERR=$(cat "$WORK/.err")
}

lv_cleanup() {
        local f
        for f in "$LD"/conf/*.conf; do
                [ -e "$f" ] || continue
                f=${f##*/}
                lv_ctl 0 stop "${f%.conf}" >/dev/null 2>&1
        done
}

if [ ! -x "$LV" ] || [ ! -x "$CTL" ] || [ ! -x "$BROKER" ]; then
        rh_skip level-config "rempart-level, rempartctl or rempart-broker not built"
else
        cat >"$LD/conf/good.conf" <<EOF
[level]
label = Good
colour = blue
users = 61001
[filesystem]
data = $LD/data/good
EOF
        # Line 3: an unknown key.
        cat >"$LD/conf/badkey.conf" <<EOF
[level]
label = Bad key
colour_scheme = red
users = 61001
EOF
        # Line 2: a user that does not exist.
        cat >"$LD/conf/nouser.conf" <<EOF
[level]
users = 61001 rempart-no-such-user
EOF
        # Line 4: data inside an executable system path (W^X).
        cat >"$LD/conf/wx.conf" <<EOF
[level]
users = 61001
[filesystem]
data = /usr/lib/rempart-wx
EOF
        # Two levels on one data directory: both refused.
        printf '[level]\nusers = 61001\n[filesystem]\ndata = %s/data/shared\n' "$LD" >"$LD/conf/sharea.conf"
        printf '[level]\nusers = 61002\n[filesystem]\ndata = %s/data/shared/sub\n' "$LD" >"$LD/conf/shareb.conf"

        RC=0
        OUT=$("$LV" -c "$LD/conf" check 2>&1) || RC=$?
        rh_expect level-config/check-exit '[[ $RC = 1 ]]' "rempart-level check: status $RC, want 1"
        rh_expect level-config/check-good '[[ $OUT == *"good: ok"* ]]' "the good level is not ok"
        rh_expect level-config/unknown-key \
                '[[ $OUT == *"badkey: refused: $LD/conf/badkey.conf:3: [level] colour_scheme: "* ]]' \
                "unknown key not refused with file:line:key"
        rh_expect level-config/unknown-user \
                '[[ $OUT == *"nouser: refused: $LD/conf/nouser.conf:2: [level] users: "*"rempart-no-such-user"* ]]' \
                "unknown user not refused with file:line:key and the name"
        rh_expect level-config/writable-exec \
                '[[ $OUT == *"wx: refused: $LD/conf/wx.conf:4: [filesystem] data: "* && $OUT == *"writable"* ]]' \
                "data inside /usr not refused as writable+exec at file:line:key"
        rh_expect level-config/shared-data \
                '[[ $OUT == *"sharea: refused: "*"shareb.conf"* && $OUT == *"shareb: refused: "*"sharea.conf"* ]]' \
                "two levels on one data directory: both must be refused, each naming the other"
        rh_diag "$OUT"

        # Start every level: the bad ones fail with their reason, the good one runs.
        for l in badkey nouser wx sharea shareb; do
                lv_ctl 0 start "$l"
                rh_expect "level-config/start-refused-$l" '[[ $RC != 0 && $ERR == *"level $l"*"refused"* ]]' \
                        "bad level $l: start status $RC"
                [ ! -e "$LD/run/$l/state" ] || rh_fail "level-config/no-state-$l" "a refused level left a state file"
        done
        lv_ctl 0 start good
        rh_expect level-config/good-starts '[[ $RC = 0 ]]' "the good level did not start next to the bad ones"
        lv_ctl 0 list
        rh_expect level-config/list '[[ $OUT == *"good "*"running"* && $OUT == *"badkey "*"invalid"* ]]' \
                "list does not show good running and badkey invalid"

        lv_ctl 61001 run good -- /bin/sh -c 'hostname; id -u'
        rh_expect level-config/run-good '[[ $RC = 0 && $OUT == "good"$'"'"'\n'"'"'"61001" ]]' \
                "run in the good level: rc=$RC"
        # Users outside the level.
        lv_ctl 61002 run good -- /bin/true
        rh_expect level-config/user-not-in-level '[[ $RC = 1 && $ERR == *"not a user of level good"* ]]' \
                "uid 61002 entered level good"
        lv_ctl 61009 login
        rh_expect level-config/user-in-no-level '[[ $RC = 1 && $ERR == *"not a user of any level"* ]]' \
                "uid 61009 (in no level) was not refused by login"
        # Exit status and data across a restart.
        lv_ctl 61001 run good -- /bin/sh -c 'echo kept > $HOME/f; exit 7'
        rh_expect level-config/exit-status '[[ $RC = 7 ]]' "exit status $RC, want 7"
        lv_ctl 0 restart good
        lv_ctl 61001 run good -- /bin/cat /home/61001/f
        rh_expect level-config/data-survives-restart '[[ $RC = 0 && $OUT = kept ]]' "after restart: rc=$RC out=$OUT"
        # Usage errors.
        lv_ctl 61001 run good /bin/true
        rh_expect level-config/usage-missing-dashes '[[ $RC = 2 && $ERR == *"missing '"'"'--'"'"'"* ]]' "rc=$RC"
        lv_ctl 61001 run nosuch -- /bin/true
        rh_expect level-config/unknown-level '[[ $RC = 1 && $ERR == *"no level '"'"'nosuch'"'"'"* ]]' "rc=$RC"
        lv_ctl 61001
        rh_expect level-config/usage-no-command '[[ $RC = 2 ]]' "rc=$RC"
        RC=0
        "$CTL" --help >/dev/null || RC=$?
        rh_expect level-config/help '[[ $RC = 0 ]]' "--help status $RC"
        # Virtual terminals: one per level, never shared, tty2..tty63; the
        # generator puts a getty on each.
        printf '[level]\nusers = 61001\nvt = 5\n[filesystem]\ndata = %s/data/vta\n' "$LD" >"$LD/conf/vta.conf"
        printf '[level]\nusers = 61001\nvt = 5\n[filesystem]\ndata = %s/data/vtb\n' "$LD" >"$LD/conf/vtb.conf"
        printf '[level]\nusers = 61001\nvt = 1\n[filesystem]\ndata = %s/data/vtc\n' "$LD" >"$LD/conf/vtc.conf"
        RC=0
        OUT=$("$LV" -c "$LD/conf" check vta vtb vtc 2>&1) || RC=$?
        rh_expect level-config/vt-shared-refused \
                '[[ $OUT == *"vta: refused: $LD/conf/vta.conf:3: [level] vt: virtual terminal tty5 is also the one of level '"'"'vtb'"'"'"* && $OUT == *"vtb: refused: "* ]]' \
                "two levels on one virtual terminal not both refused"
        rh_expect level-config/vt-range '[[ $OUT == *"vtc: refused: $LD/conf/vtc.conf:3: [level] vt: expected a virtual terminal number from 2 to 63"* ]]' \
                "vt = 1 (the core's) not refused"
        rm -f "$LD/conf/vtb.conf" "$LD/conf/vtc.conf"
        gen=$WORK/generator
        mkdir -p "$gen"
        ln -sf "$LV" "$WORK/rempart-level-generator"
        RC=0
        REMPART_LEVEL_DIR=$LD/conf "$WORK/rempart-level-generator" "$gen" "$gen" "$gen" || RC=$?
        rh_expect level-config/generator \
                '[[ $RC = 0 && -L $gen/multi-user.target.wants/rempart-level@good.service && -L $gen/getty.target.wants/getty@tty5.service && ! -e $gen/multi-user.target.wants/rempart-level@vtb.service ]]' \
                "generator: rc=$RC, $(cd "$gen" 2>/dev/null && find . | tr '\n' ' ')"
        rm -f "$LD/conf/vta.conf"

        # Network: an administrator's namespace (netns:NAME) is joined; two
        # levels on one namespace are both refused; other modes are refused.
        ns=rmp-lvcfg-$$
        if ip netns add "$ns" 2>/dev/null; then
                RH_NETNS+=("$ns")
                # An address on a veth pair inside it ('hostname -I' lists
                # addresses through netlink and leaves lo out).
                ip -n "$ns" link add v0 type veth peer name v1 &&
                        ip -n "$ns" addr add 10.77.0.1/24 dev v0 &&
                        ip -n "$ns" link set v0 up && ip -n "$ns" link set v1 up
                printf '[level]\nusers = 61001\n[filesystem]\ndata = %s/data/net1\n[network]\nmode = netns:%s\n' \
                        "$LD" "$ns" >"$LD/conf/neta.conf"
                lv_ctl 0 start neta
                lv_ctl 61001 run neta -- /bin/hostname -I
                rh_expect level-config/netns-joined '[[ $RC = 0 && $OUT == *10.77.0.1* ]]' \
                        "level neta does not see the address of namespace $ns: rc=$RC out=$OUT"
                lv_ctl 61001 run good -- /bin/hostname -I
                rh_expect level-config/netns-not-elsewhere '[[ $RC = 0 && $OUT != *10.77.0.1* ]]' \
                        "level good sees $ns's address: rc=$RC $OUT"
                lv_ctl 0 stop neta
                printf '[level]\nusers = 61001\n[filesystem]\ndata = %s/data/net2\n[network]\nmode = netns:%s\n' \
                        "$LD" "$ns" >"$LD/conf/netb.conf"
                printf '[level]\nusers = 61001\n[filesystem]\ndata = %s/data/net3\n[network]\nmode = veth\n' \
                        "$LD" >"$LD/conf/netc.conf"
                RC=0
                OUT=$("$LV" -c "$LD/conf" check neta netb netc 2>&1) || RC=$?
                rh_expect level-config/netns-shared-refused \
                        '[[ $OUT == *"neta: refused: "*"[network] mode: network namespace $ns is also the network of level '"'"'netb'"'"'"* && $OUT == *"netb: refused: "* ]]' \
                        "two levels on one network namespace not both refused"
                rh_expect level-config/network-mode-unknown \
                        '[[ $OUT == *"netc: refused: $LD/conf/netc.conf:6: [network] mode: network mode '"'"'veth'"'"' is not supported"* ]]' \
                        "unknown network mode not refused with file:line:key"
                rm -f "$LD/conf/neta.conf" "$LD/conf/netb.conf" "$LD/conf/netc.conf"
        else
                rh_skip level-config/netns "ip netns add failed"
        fi
        lv_cleanup
fi

if [ -n "${RH_STANDALONE_LVCONF:-}" ]; then
        rh_finish
fi

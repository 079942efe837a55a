#!/bin/bash
# Host tier: the rempart-audit command on a scratch audit directory —
# append/init/show/verify, exit statuses (0 intact, 1 tampered, 2 usage or
# I/O), a tampered record named by line, the audit role (a member of the
# directory's group reads the log but not the key), and a writer refusing
# a cut log.  Uid/gid 61001 (numeric, no host account) plays the auditor.
# Sourced by run-host-tests.sh; can also run alone: test-audit.sh BUILD_DIR.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_AUDIT=1
fi

AU=$BUILD/src/audit/rempart-audit
AD=$WORK/audit/log

au() { # au ARGS...: rempart-audit as root, bounded; sets RC OUT ERR
        timeout -k 2 60 "$AU" "$@" </dev/null >"$WORK/.out" 2>"$WORK/.err"
        RC=$?
        OUT=$(cat "$WORK/.out")
        ERR=$(cat "$WORK/.err")
}

au_as() { # au_as UID GID ARGS...: as another user, in the group GID
        local uid=$1 gid=$2
        shift 2
        timeout -k 2 60 setpriv --reuid "$uid" --regid "$gid" --clear-groups "$AU" "$@" \
                </dev/null >"$WORK/.out" 2>"$WORK/.err"
        RC=$?
        OUT=$(cat "$WORK/.out")
        ERR=$(cat "$WORK/.err")
}

if [ ! -x "$AU" ]; then
        rh_skip audit/all "$AU not built"
else
        mkdir -p "$WORK/audit"
        chmod 755 "$WORK/audit"

        au --dir "$AD" append XFER_ALLOWED user=alice src_level=high dst_level=low "name=rapport final.pdf" \
                size=52311 sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 confirmer=bob
        rh_expect audit/append-creates '[ "$RC" = 0 ] && [ -f "$AD/audit.log" ] && [ "$(stat -c %a "$AD/audit.key")" = 400 ] && [ "$(stat -c %a "$AD/audit.log")" = 640 ] && [ "$(stat -c %a "$AD")" = 750 ]' \
                "first append creates the directory, the key (0400) and the log (0640)"
        for i in 1 2 3 4 5; do
                au -d "$AD" append LEVEL_RESTART level=low "reason=restart $i"
        done
        au -d "$AD" append JAIL_REFUSED level=high reason=landlock
        au -d "$AD" verify
        rh_expect audit/verify-intact '[ "$RC" = 0 ] && [[ "$OUT" == *"intact"*"MACs checked"* ]]' \
                "verify of an untouched log"
        au -d "$AD" show
        rh_expect audit/show '[ "$RC" = 0 ] && [[ "$OUT" == *XFER_ALLOWED*'"'"'name="rapport final.pdf"'"'"'*confirmer=bob* ]] && [[ "$OUT" != *ANCHOR* ]]' \
                "show lists the events with their fields, without anchors"
        au -d "$AD" show --type LEVEL_RESTART
        rh_expect audit/show-type '[ "$RC" = 0 ] && [ "$(printf "%s\n" "$OUT" | grep -c LEVEL_RESTART)" = 5 ] && [[ "$OUT" != *XFER* ]]' \
                "show --type filters"
        au -d "$AD" show --all --since 1970-01-01 --until 9999-12-31T23:59
        rh_expect audit/show-all '[ "$RC" = 0 ] && [[ "$OUT" == *ANCHOR* ]] && [[ "$OUT" == *HEADER* ]]' \
                "show --all lists anchors too"
        au -d "$AD" show --since 9999-01-01
        rh_expect audit/show-since '[ "$RC" = 0 ] && [ -z "$OUT" ]' "show --since in the future lists nothing"

        # the audit role: the directory's group reads the log, not the key
        chgrp -R 61001 "$AD" && chgrp 0 "$AD/audit.key"
        au_as 61001 61001 -d "$AD" verify
        rh_expect audit/role-no-key '[ "$RC" = 2 ] && [[ "$ERR" == *"cannot read the key"* ]]' \
                "the auditor cannot read the key"
        au_as 61001 61001 -d "$AD" verify --no-key
        rh_expect audit/role-verify-chain '[ "$RC" = 0 ] && [[ "$OUT" == *"MACs NOT checked"* ]]' \
                "the auditor checks the chain without the key"
        au_as 61001 61001 -d "$AD" show --type JAIL_REFUSED
        rh_expect audit/role-show '[ "$RC" = 0 ] && [[ "$OUT" == *JAIL_REFUSED* ]]' "the auditor reads the log"
        au_as 61002 61002 -d "$AD" show
        rh_expect audit/others-refused '[ "$RC" = 2 ]' "others cannot read the log"
        au_as 61001 61001 -d "$AD" append XFER_DENIED user=x
        rh_expect audit/role-no-append '[ "$RC" = 1 ]' "the auditor cannot append"

        # tampering: one changed value, named by line
        cp "$AD/audit.log" "$WORK/audit/saved.log"
        sed -i '3s/user=alice/user=alicf/' "$AD/audit.log"
        au -d "$AD" verify
        rh_expect audit/verify-modified '[ "$RC" = 1 ] && [[ "$OUT" == *"audit.log:3: modified:"* ]] && [[ "$OUT" == *TAMPERED* ]]' \
                "a changed value is reported with its line"
        au -d "$AD" append XFER_DENIED user=x
        rh_expect audit/append-after-middle-change '[ "$RC" = 0 ]' \
                "a writer only checks the end of the log (verify finds the rest)"
        cp "$WORK/audit/saved.log" "$AD/audit.log"
        au -d "$AD" verify -q
        rh_expect audit/verify-head-ahead '[ "$RC" = 1 ] && [[ "$OUT" == *"removed from the end"* ]]' \
                "the log put back without the records appended since"
        # the last record removed: the writer refuses to go on
        head -n -1 "$WORK/audit/saved.log" >"$AD/audit.log"
        au -d "$AD" append XFER_DENIED user=y
        rh_expect audit/append-refuses-cut-log '[ "$RC" = 1 ] && [[ "$ERR" == *"audit.head names record"* ]]' \
                "append refuses a log that does not end where the head says"

        # a new log after an administrator's decision
        mv "$AD/audit.log" "$WORK/audit/damaged.log"
        mv "$AD/audit.head" "$WORK/audit/damaged.head"
        au -d "$AD" append XFER_DENIED user=y
        rh_expect audit/no-silent-new-log '[ "$RC" = 1 ] && [[ "$ERR" == *"the log was removed"* ]]' \
                "a missing log is not silently replaced"
        au -d "$AD" init --anchor-every 4
        rh_expect audit/init '[ "$RC" = 0 ]' "init starts a new log"
        au -d "$AD" init
        rh_expect audit/init-twice '[ "$RC" = 1 ] && [[ "$ERR" == *"already holds a log"* ]]' "init refuses to overwrite"
        au -d "$AD" verify
        rh_expect audit/verify-new '[ "$RC" = 0 ]' "the new log verifies"

        # usage errors
        au -d "$AD" append NOT_A_TYPE a=b
        rh_expect audit/usage-type '[ "$RC" = 2 ]' "unknown type"
        au -d "$AD" append ANCHOR reason=x
        rh_expect audit/usage-internal-type '[ "$RC" = 2 ]' "internal type refused"
        au -d "$AD" append XFER_DENIED Bad=x
        rh_expect audit/usage-key '[ "$RC" = 2 ]' "bad key"
        au -d "$AD" append XFER_DENIED novalue
        rh_expect audit/usage-kv '[ "$RC" = 2 ]' "not KEY=VALUE"
        au -d "$AD" show --key x
        rh_expect audit/usage-option '[ "$RC" = 2 ]' "option of another command"
        au -d "$AD" show --since yesterday
        rh_expect audit/usage-time '[ "$RC" = 2 ]' "bad time"
        au -d "$AD" frobnicate
        rh_expect audit/usage-command '[ "$RC" = 2 ]' "unknown command"
        au -d "$WORK/audit/none" verify
        rh_expect audit/verify-no-log '[ "$RC" = 2 ] && [[ "$ERR" == *"no audit log"* ]]' "no log"
        au --help
        rh_expect audit/help '[ "$RC" = 0 ] && [[ "$OUT" == *verify*show*append*init* ]]' "--help"
fi

if [ -n "${RH_STANDALONE_AUDIT:-}" ]; then
        rh_finish
fi

#!/bin/bash
# Host tier: the security events other than transfers, on a scratch audit
# directory —
#   JAIL_REFUSED   rempart-level run refusing a level file (FILE:LINE:
#                  [section] key: why), an unknown level, a data directory
#                  the host cannot make, a jail that cannot start its
#                  broker; a broker that merely exits 125 is not one
#   LEVEL_RESTART  rempart-level audit-exit (ExecStopPost= of the level's
#                  unit) from systemd's $SERVICE_RESULT/$EXIT_CODE/$EXIT_STATUS:
#                  abnormal ends recorded, clean ends and 78 not, bad values
#                  refused
#   INTEGRITY_ERROR rempart-audit watch-kernel on a dump of kernel records
#                  (each kind; other facilities, other devices and ordinary
#                  messages not recorded; the cursor), on the real /dev/kmsg
#                  with lines injected from user space (never recorded: the
#                  kernel gives them a user facility); rempart-audit
#                  boot-check on an intact, a modified and a cut log
# Numeric users only; no host account is created.
# Sourced by run-host-tests.sh; can also run alone: test-audit-events.sh BUILD_DIR.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_AUDIT_EVENTS=1
fi

AU=$BUILD/src/audit/rempart-audit
LV=$BUILD/src/ctl/rempart-level
EV=$WORK/audit-events
AD=$EV/log

ev_run() { # ev_run PROGRAM ARGS...: bounded; sets RC OUT ERR
        timeout -k 2 60 "$@" </dev/null >"$WORK/.out" 2>"$WORK/.err"
        RC=$?
        OUT=$(cat "$WORK/.out")
        ERR=$(cat "$WORK/.err")
}

# ev_count TYPE PATTERN: records of TYPE in the log whose line matches PATTERN (grep -E).
ev_count() {
        "$AU" -d "$AD" show --type "$1" 2>/dev/null | grep -cE -- "$2"
}

# audit-exit with a given environment (env -i: nothing else leaks in).
ev_exit() { # ev_exit LEVEL VAR=VALUE...
        local level=$1
        shift
        ev_run env -i "$@" "$LV" --audit-dir "$AD" audit-exit "$level"
}

if [ ! -x "$AU" ] || [ ! -x "$LV" ] || [ ! -x "$BUILD/src/broker/rempart-broker" ]; then
        rh_skip audit-events/all "rempart-audit, rempart-level or rempart-broker not built"
else
        mkdir -p "$EV/conf" "$EV/data"
        chmod 755 "$EV" "$EV/data"

        # ---------------------------------------------------------- JAIL_REFUSED
        printf '[level]\nlabel = Bad\ncolour_scheme = red\nusers = 61001\n' >"$EV/conf/badkey.conf"
        printf '[level]\nusers = 61001\n[filesystem]\ndata = %s/data/good\n' "$EV" >"$EV/conf/good.conf"
        ev_run "$LV" --dev -c "$EV/conf" -r "$EV/run" --audit-dir "$AD" run badkey
        rh_expect audit-events/refused-config-exit '[ "$RC" = 78 ]' "rempart-level run of a bad level: status $RC, want 78"
        n=$(ev_count JAIL_REFUSED "level=badkey step=config reason=\"$EV/conf/badkey.conf:3: \\[level\\] colour_scheme: .*status=78")
        rh_expect audit-events/refused-config-recorded '[ "$n" = 1 ]' \
                "no JAIL_REFUSED record naming FILE:LINE: [section] key (found $n): $("$AU" -d "$AD" show 2>&1 | tail -n 3)"
        ev_run "$LV" --dev -c "$EV/conf" -r "$EV/run" --audit-dir "$AD" run nosuch
        n=$(ev_count JAIL_REFUSED "level=nosuch step=config reason=\"no level 'nosuch': .*nosuch.conf does not exist\"")
        rh_expect audit-events/refused-unknown-level '[ "$RC" = 78 ] && [ "$n" = 1 ]' "status $RC, records $n"

        # The host cannot give the level its data directory (a file in the way).
        printf 'a file\n' >"$EV/afile"
        printf '[level]\nusers = 61001\n[filesystem]\ndata = %s/afile/data\n' "$EV" >"$EV/conf/nodata.conf"
        ev_run "$LV" --dev -c "$EV/conf" -r "$EV/run" --audit-dir "$AD" run nodata
        n=$(ev_count JAIL_REFUSED "level=nodata step=setup reason=\"cannot prepare its data directory $EV/afile/data: Not a directory\" status=1")
        rh_expect audit-events/refused-setup '[ "$RC" = 1 ] && [ "$n" = 1 ]' "status $RC, records $n"

        # The jail itself refuses: the broker cannot be executed.
        printf 'not a program\n' >"$EV/notexec"
        chmod 644 "$EV/notexec"
        ev_run "$LV" --dev -c "$EV/conf" -r "$EV/run" --audit-dir "$AD" --broker "$EV/notexec" run good
        n=$(ev_count JAIL_REFUSED 'level=good step=jail reason="cannot execute /run/rempart/rempart-broker: Permission denied" status=126')
        rh_expect audit-events/refused-jail '[ "$RC" = 126 ] && [ "$n" = 1 ]' \
                "a jail that cannot start the broker: status $RC, records $n"
        # A broker that starts and exits 125 (jail_run's own 'setup failed'
        # status) is a level that ended, not a refusal.
        printf '#!/bin/sh\nexit 125\n' >"$EV/broker125"
        chmod 755 "$EV/broker125"
        before=$(ev_count JAIL_REFUSED .)
        ev_run "$LV" --dev -c "$EV/conf" -r "$EV/run" --audit-dir "$AD" --broker "$EV/broker125" run good
        after=$(ev_count JAIL_REFUSED .)
        rh_expect audit-events/broker-status-not-refusal '[ "$RC" = 125 ] && [ "$before" = "$after" ]' \
                "broker exiting 125: status $RC, JAIL_REFUSED records $before -> $after"
        # Development mode without --audit-dir: no audit log anywhere (the
        # system's default directory is not created on this host).
        if [ -e /var/lib/rempart/audit ]; then
                rh_skip audit-events/dev-no-audit "this host has a /var/lib/rempart/audit already"
        else
                ev_run "$LV" --dev -c "$EV/conf" -r "$EV/run" run badkey
                rh_expect audit-events/dev-no-audit \
                        '[ "$RC" = 78 ] && [ ! -e /var/lib/rempart/audit ] && [[ "$ERR" != *"audit log"* ]]' \
                        "--dev without --audit-dir tried to record: $ERR"
        fi

        # ---------------------------------------------------------- LEVEL_RESTART
        inv=0123456789abcdef0123456789abcdef
        ev_exit high SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=137 INVOCATION_ID=$inv
        n=$(ev_count LEVEL_RESTART "level=high result=exit-code exit_code=exited exit_status=137 invocation=$inv\$")
        rh_expect audit-events/restart-exit-code '[ "$RC" = 0 ] && [ "$n" = 1 ]' \
                "init killed (runner exits 137): status $RC, records $n"
        ev_exit low SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL
        n=$(ev_count LEVEL_RESTART 'level=low result=signal exit_code=killed exit_status=KILL$')
        rh_expect audit-events/restart-signal '[ "$RC" = 0 ] && [ "$n" = 1 ]' "runner killed: status $RC, records $n"
        ev_exit low SERVICE_RESULT=core-dump EXIT_CODE=dumped EXIT_STATUS=SEGV
        n=$(ev_count LEVEL_RESTART 'level=low result=core-dump exit_code=dumped exit_status=SEGV$')
        rh_expect audit-events/restart-core-dump '[ "$RC" = 0 ] && [ "$n" = 1 ]' "status $RC, records $n"
        ev_exit low SERVICE_RESULT=timeout
        n=$(ev_count LEVEL_RESTART 'level=low result=timeout exit_code=none$')
        rh_expect audit-events/restart-no-process '[ "$RC" = 0 ] && [ "$n" = 1 ]' \
                "a failure without a main process exit: status $RC, records $n"
        total=$(ev_count LEVEL_RESTART .)
        ev_exit high SERVICE_RESULT=success EXIT_CODE=exited EXIT_STATUS=0
        rh_expect audit-events/clean-stop-not-recorded '[ "$RC" = 0 ] && [ "$(ev_count LEVEL_RESTART .)" = "$total" ]' \
                "a clean stop was recorded as a restart"
        ev_exit high SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=78
        rh_expect audit-events/refused-config-not-restart '[ "$RC" = 0 ] && [ "$(ev_count LEVEL_RESTART .)" = "$total" ]' \
                "exit status 78 (refused, not restarted) was recorded as a restart"
        for bad in "SERVICE_RESULT=exit%20code" "SERVICE_RESULT=" "SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=0137" \
                "SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=256" \
                "SERVICE_RESULT=exit-code EXIT_CODE=exited EXIT_STATUS=-1" \
                "SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=NOTASIG" \
                "SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=9" \
                "SERVICE_RESULT=signal EXIT_CODE=bitten EXIT_STATUS=KILL" \
                "SERVICE_RESULT=signal EXIT_STATUS=KILL" \
                "SERVICE_RESULT=signal EXIT_CODE=killed" \
                "SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL INVOCATION_ID=xyz"; do
                # shellcheck disable=SC2086 # one word per variable
                ev_exit high $bad
                rh_expect "audit-events/exit-env-refused/${bad// /,}" \
                        '[ "$RC" = 2 ] && [ "$(ev_count LEVEL_RESTART .)" = "$total" ]' \
                        "bad environment ($bad) not refused with status 2: $RC $ERR"
        done
        ev_exit high
        rh_expect audit-events/exit-not-under-systemd '[ "$RC" = 2 ] && [[ "$ERR" == *"SERVICE_RESULT is not set"* ]]' \
                "audit-exit outside ExecStopPost=: $RC $ERR"
        ev_exit 'no/such' SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL
        rh_expect audit-events/exit-bad-level '[ "$RC" = 2 ]' "a bad level name: $RC"
        # The log refuses the record (a directory others may write): status 1.
        mkdir -p "$EV/open"
        chmod 777 "$EV/open"
        ev_run env -i SERVICE_RESULT=signal EXIT_CODE=killed EXIT_STATUS=KILL "$LV" --audit-dir "$EV/open" audit-exit high
        rh_expect audit-events/exit-log-refused '[ "$RC" = 1 ] && [[ "$ERR" == *"cannot open the audit log"* ]]' \
                "a record the log refused: $RC $ERR"

        # ---------------------------------------------------------- watch-kernel
        # A dump of /dev/kmsg ("PRIO,SEQ,USEC,FLAG;TEXT", facility = PRIO >> 3).
        cat >"$EV/kmsg" <<'EOF'
6,100,1000000,-;device-mapper: verity: sha256 using implementation "sha256-ni"
4,101,2000000,-,caller=T42;device-mapper: verity-fec: 254:0: FEC 1234: corrected 16 errors
 SUBSYSTEM=block
3,102,2500000,-;device-mapper: verity: 254:0: data block 99 is corrupted
11,103,2600000,-;device-mapper: verity: 254:0: data block 7 is corrupted (user facility)
2,104,3000000,-;EXT4-fs error (device vdz6): ext4_lookup:1855: inode #2: comm ls: iget: checksum invalid
2,105,3000001,-;EXT4-fs error (device sdq1): ext4_lookup:1855: inode #2: comm ls: another disk
2,106,3000002,-;EXT4-fs (vdz6): Remounting filesystem read-only
6,107,3000003,-;EXT4-fs (vdz6): mounted filesystem with ordered data mode
3,108,3000004,-;Aborting journal on device vdz6-8.
3,109,3000005,-;SQUASHFS error: Unable to read data cache entry [1234]
3,110,3000006,-;device-mapper: integrity: dm-3: Checksum failed at sector 0x1234
3,111,3000007,-;device-mapper: crypt: dm-4: INTEGRITY AEAD ERROR, sector 5
4,112,3000008,-;device-mapper: verity-fec: 254:0: FEC 77: failed to correct: -74
26,113,3000009,-;EXT4-fs error (device vdz6): daemon facility
not a kernel record
EOF
        ev_run "$AU" -d "$AD" watch-kernel --once --kmsg "$EV/kmsg" --state-device vdz6 --cursor "$EV/cursor"
        rh_expect audit-events/watch-once '[ "$RC" = 0 ] && [[ "$ERR" == *"9 integrity error(s) recorded"* ]]' \
                "watch-kernel --once on a dump: $RC $ERR"
        for want in 'subsystem=dm-verity-fec event=corrected device=254:0 .*kmsg_seq=101 ' \
                'subsystem=dm-verity event=corrupted device=254:0 .*kmsg_seq=102 ktime=2.500000 message="device-mapper: verity: 254:0: data block 99 is corrupted"' \
                'subsystem=ext4 event=error device=vdz6 .*kmsg_seq=104 ' \
                'subsystem=ext4 event=remount-ro device=vdz6 ' \
                'subsystem=jbd2 event=journal-aborted device=vdz6 ' \
                'subsystem=squashfs event=error boot=' \
                'subsystem=dm-integrity event=checksum device=dm-3 ' \
                'subsystem=dm-crypt event=checksum device=dm-4 ' \
                'subsystem=dm-verity-fec event=uncorrectable device=254:0 '; do
                n=$(ev_count INTEGRITY_ERROR "source=kernel $want")
                rh_expect "audit-events/kernel-recorded/$(printf '%s' "$want" | cut -d' ' -f1-2 | tr ' =' ',:')" \
                        '[ "$n" = 1 ]' "expected one record matching '$want', found $n"
        done
        for not in 'kmsg_seq=100 ' 'kmsg_seq=103 ' 'kmsg_seq=105 ' 'kmsg_seq=107 ' 'kmsg_seq=113 '; do
                n=$(ev_count INTEGRITY_ERROR "$not")
                rh_expect "audit-events/kernel-not-recorded/${not% }" '[ "$n" = 0 ]' \
                        "message $not recorded (ordinary message, user/daemon facility or another disk)"
        done
        ev_run "$AU" -d "$AD" watch-kernel --once --kmsg "$EV/kmsg" --state-device vdz6 --cursor "$EV/cursor"
        rh_expect audit-events/watch-cursor '[ "$RC" = 0 ] && [ "$(ev_count INTEGRITY_ERROR .)" = 9 ]' \
                "a second run with the cursor recorded again: $(ev_count INTEGRITY_ERROR .) records"

        # A log that refuses records (a directory others may write): status 1.
        ev_run "$AU" -d "$EV/open" watch-kernel --once --kmsg "$EV/kmsg" --state-device vdz6 --no-cursor
        rh_expect audit-events/watch-log-refused '[ "$RC" = 1 ] && [[ "$ERR" == *"some could NOT be"* ]]' \
                "watch-kernel with a log that refuses records: $RC $ERR"

        # The real kernel log: lines written into /dev/kmsg by a process (root
        # here), with kernel priorities and the exact texts of integrity
        # errors, get a user facility from the kernel and are never recorded.
        # Control: the same texts with facility 0 in a dump are.
        tok=rempart-host-test-$$-$RANDOM
        dev=vdz6
        lines=("<2>EXT4-fs error (device $dev): ext4_lookup:1: injected $tok"
                "<3>device-mapper: verity: 254:0: data block 1 is corrupted injected $tok"
                "<4>device-mapper: verity-fec: 254:0: FEC 1: corrected 1 errors injected $tok"
                "<0>SQUASHFS error: injected $tok")
        injected=0
        for l in "${lines[@]}"; do
                printf '%s\n' "$l" >/dev/kmsg 2>/dev/null && injected=$((injected + 1))
        done
        if [ "$injected" != 4 ]; then
                rh_skip audit-events/kmsg-injection "cannot write /dev/kmsg ($injected of 4 lines)"
        else
                RC=0
                timeout -k 2 60 "$AU" -d "$AD" watch-kernel --once --no-cursor --state-device "$dev" \
                        >"$WORK/.out" 2>"$WORK/.err" || RC=$?
                ERR=$(cat "$WORK/.err")
                n=$("$AU" -d "$AD" show --type INTEGRITY_ERROR | grep -c "$tok")
                rh_expect audit-events/kmsg-injected-not-recorded '[ "$RC" = 0 ] && [ "$n" = 0 ]' \
                        "lines injected into /dev/kmsg from user space were recorded ($n), status $RC: $ERR"
                # The lines are in the kernel log (the test is not vacuous).
                raw=$(timeout 5 dd if=/dev/kmsg iflag=nonblock bs=16k 2>/dev/null | grep -a "$tok")
                raw_n=$(printf '%s\n' "$raw" | grep -c "$tok")
                raw_fac=$(printf '%s\n' "$raw" | awk -F, '$1 != "" { if (int($1 / 8) == 0) k++ } END { print k + 0 }')
                rh_expect audit-events/kmsg-injected-present '[ "$raw_n" = 4 ] && [ "$raw_fac" = 0 ]' \
                        "the injected lines: $raw_n in /dev/kmsg (want 4), $raw_fac with the kernel facility (want 0)"
                i=0
                for l in "${lines[@]}"; do
                        prio=${l#<}
                        prio=${prio%%>*}
                        printf '%s,%s,1,-;%s\n' "$prio" "$((900000 + i))" "${l#<*>}"
                        i=$((i + 1))
                done >"$EV/kmsg-facility0"
                ev_run "$AU" -d "$EV/control" watch-kernel --once --no-cursor --kmsg "$EV/kmsg-facility0" --state-device "$dev"
                n=$("$AU" -d "$EV/control" show --type INTEGRITY_ERROR 2>/dev/null | grep -c "$tok")
                rh_expect audit-events/kmsg-control-facility0 '[ "$n" = 4 ]' \
                        "the same texts as kernel records were not all recorded ($n of 4): $ERR"
        fi

        # ---------------------------------------------------------- boot-check
        BD=$EV/boot
        ev_run "$AU" -d "$BD" boot-check
        rh_expect audit-events/boot-check-first-use '[ "$RC" = 0 ] && [ -f "$BD/audit.log" ] && [[ "$OUT" == *intact* ]]' \
                "first boot: $RC $OUT $ERR"
        "$AU" -d "$BD" append LEVEL_RESTART level=high result=signal >/dev/null 2>&1
        "$AU" -d "$BD" append LEVEL_RESTART level=low result=signal >/dev/null 2>&1
        ev_run "$AU" -d "$BD" boot-check -q
        rh_expect audit-events/boot-check-intact '[ "$RC" = 0 ] && [ -z "$OUT" ]' "intact log: $RC $OUT $ERR"
        line=$(grep -n 'level=high' "$BD/audit.log" | cut -d: -f1)
        sed -i "${line}s/level=high/level=hig1/" "$BD/audit.log"
        ev_run "$AU" -d "$BD" boot-check
        n=$("$AU" -d "$BD" show --type INTEGRITY_ERROR | grep -c "source=audit-verify problem=modified line=$line problems=1 ")
        rh_expect audit-events/boot-check-modified \
                '[ "$RC" = 1 ] && [ "$n" = 1 ] && [[ "$OUT" == *"audit.log:$line: modified"* ]]' \
                "a record modified in the middle: status $RC, INTEGRITY_ERROR records $n: $OUT"
        head -n -1 "$BD/audit.log" >"$EV/cut" && cat "$EV/cut" >"$BD/audit.log"
        before=$(grep -c . "$BD/audit.log")
        ev_run "$AU" -d "$BD" boot-check
        rh_expect audit-events/boot-check-cut \
                '[ "$RC" = 1 ] && [ "$(grep -c . "$BD/audit.log")" = "$before" ] && [[ "$ERR" == *"takes no records"* ]] && [[ "$OUT" == *truncated* ]]' \
                "a cut log: status $RC (want 1), nothing appended, the problem printed: $OUT $ERR"

        # Usage.
        ev_run "$AU" -d "$AD" verify --once
        rh_expect audit-events/usage-watch-option '[ "$RC" = 2 ]' "a watch-kernel option for verify: $RC"
        ev_run "$AU" -d "$AD" watch-kernel --once --kmsg "$EV/no-such-file"
        rh_expect audit-events/usage-watch-no-kmsg '[ "$RC" = 2 ] && [[ "$ERR" == *"cannot open"* ]]' "$RC $ERR"
        ev_run "$AU" -d "$AD" boot-check --no-key
        rh_expect audit-events/usage-boot-check-key '[ "$RC" = 2 ]' "boot-check --no-key: $RC"
        ev_run "$AU" -d "$AD" verify
        rh_expect audit-events/log-intact-at-end '[ "$RC" = 0 ]' "the events' log does not verify: $OUT"
fi

if [ -n "${RH_STANDALONE_AUDIT_EVENTS:-}" ]; then
        rh_finish
fi

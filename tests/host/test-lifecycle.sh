#!/bin/bash
# Host tier: the jail's life cycle: signal forwarding, death of the parent,
# removal of the cgroup (also with orphans left behind), strict mode,
# zombie reaping by the jail's init.
# Sourced by run-host-tests.sh; can also run alone: test-lifecycle.sh BUILD_DIR.
# Conditions are single-quoted strings that rh_expect evaluates: the variables
# they read are set here on purpose.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_LIFE=1
fi

# life_signal SIG CODE: start a jail whose command exits CODE on SIG, send
# SIG to rempart-jail, print rempart-jail's exit status.  Job control gives
# the background job its own process group and, unlike a plain `&` in a
# script, leaves SIGINT/SIGQUIT at their default (an ignored signal is
# never delivered, so it could not be forwarded).
life_signal() {
        local sig=$1 code=$2 ready=$WORK/ready.$1
        (
                set -m
                "$J" -- /bin/sh -c "trap 'exit $code' $sig; echo ready; while :; do sleep 0.05; done" >"$ready" 2>&1 &
                jp=$!
                (sleep 10; kill -KILL "$jp") &
                wd=$!
                if wait_for 5 grep -q ready "$ready"; then
                        kill -"$sig" "$jp"
                else
                        kill -KILL "$jp"
                fi
                wait "$jp"
                echo $?
                kill -- -"$wd"
        ) 2>/dev/null
}

# The processes (host pids) whose command line starts with $1.
life_pgrep() {
        pgrep -f "^$1( |\$)"
}

life_no_process() {
        ! life_pgrep "$1" >/dev/null
}

life_cg_empty() {
        [ ! -e "$1/cgroup.procs" ] || [ -z "$(cat "$1/cgroup.procs" 2>/dev/null)" ]
}

# Kill what a test left in a jail cgroup on purpose, then remove the cgroup.
life_cg_reap() {
        local cg=$1 pid

        [ -n "$cg" ] && [ -d "$cg" ] || return 0
        if [ -w "$cg/cgroup.kill" ]; then
                echo 1 >"$cg/cgroup.kill"
        else
                while read -r pid; do
                        kill -KILL "$pid" 2>/dev/null
                done <"$cg/cgroup.procs"
        fi
        wait_for 5 life_cg_empty "$cg"
        rmdir "$cg" 2>/dev/null
}

life_tests() {
        local rc jp cg tag report out start missing d n variant

        # ---- signals ----
        rc=$(life_signal TERM 42)
        rh_expect life/sigterm-forwarded '[[ $rc == 42 ]]' "SIGTERM to rempart-jail: the command's trap should exit 42, got '$rc'"
        rc=$(life_signal INT 43)
        rh_expect life/sigint-forwarded '[[ $rc == 43 ]]' "SIGINT to rempart-jail: the command's trap should exit 43, got '$rc'"
        rc=$(life_signal HUP 44)
        rh_expect life/sighup-forwarded '[[ $rc == 44 ]]' "SIGHUP to rempart-jail: the command's trap should exit 44, got '$rc'"

        # ---- death of rempart-jail (SIGKILL): the jail goes with it ----
        tag="/bin/sleep 1000.$$1"
        report=$WORK/dwp.json
        "$J" --report "$report" -- /bin/sleep "${tag#/bin/sleep }" >/dev/null 2>&1 &
        jp=$!
        RH_BG_PIDS+=("$jp")
        if ! wait_for 5 life_pgrep "$tag" >/dev/null; then
                rh_fail life/die-with-parent "the command never started"
                kill -KILL "$jp" 2>/dev/null
        else
                cg=$(json_get "$report" 'j["cgroup_path"]')
                [ -n "$cg" ] && RH_CGROUPS+=("$cg")
                kill -KILL "$jp"
                wait "$jp" 2>/dev/null
                if wait_for 5 life_no_process "$tag"; then
                        rh_ok life/die-with-parent
                else
                        rh_fail life/die-with-parent "'$tag' still runs 5 s after rempart-jail was killed: $(life_pgrep "$tag" | tr '\n' ' ')"
                fi
                if [ -z "$cg" ]; then
                        rh_skip life/die-with-parent-cgroup-empty "no cgroup on this host"
                else
                        if wait_for 5 life_cg_empty "$cg"; then
                                rh_ok life/die-with-parent-cgroup-empty
                        else
                                rh_fail life/die-with-parent-cgroup-empty \
                                        "$cg still holds processes: $(tr '\n' ' ' <"$cg/cgroup.procs" 2>/dev/null)"
                        fi
                fi
                life_cg_reap "$cg"
        fi

        # Control: with die_with_parent = no, the jail outlives rempart-jail
        # (so the check above measures the option, not an accident).
        tag="/bin/sleep 1000.$$2"
        report=$WORK/dwp-off.json
        "$J" --set credentials.die_with_parent=no --report "$report" -- /bin/sleep "${tag#/bin/sleep }" >/dev/null 2>&1 &
        jp=$!
        RH_BG_PIDS+=("$jp")
        if ! wait_for 5 life_pgrep "$tag" >/dev/null; then
                rh_fail life/die-with-parent-control "the command never started"
                kill -KILL "$jp" 2>/dev/null
        else
                cg=$(json_get "$report" 'j["cgroup_path"]')
                [ -n "$cg" ] && RH_CGROUPS+=("$cg")
                kill -KILL "$jp"
                wait "$jp" 2>/dev/null
                sleep 0.5
                rh_expect life/die-with-parent-control 'life_pgrep "$tag" >/dev/null' \
                        "with die_with_parent = no the command should survive rempart-jail"
                if [ -n "$cg" ]; then
                        life_cg_reap "$cg"
                else
                        for n in $(life_pgrep "$tag"); do kill -KILL "$n"; done
                fi
                rh_expect life/die-with-parent-control-cleanup 'wait_for 5 life_no_process "$tag"' "could not stop '$tag'"
        fi

        # ---- the jail's cgroup exists while it runs, and is removed ----
        report=$WORK/cg.json
        "$J" --report "$report" -- /bin/sleep 1 >/dev/null 2>&1 &
        jp=$!
        RH_BG_PIDS+=("$jp")
        wait_for 5 grep -qs '"complete"' "$report"
        cg=$(json_get "$report" 'j["cgroup_path"]')
        if [ -z "$cg" ]; then
                wait "$jp"
                rh_skip life/cgroup-while-running "no cgroup on this host"
                rh_skip life/cgroup-removed "no cgroup on this host"
        else
                RH_CGROUPS+=("$cg")
                n=$(wc -l <"$cg/cgroup.procs" 2>/dev/null || echo 0)
                rh_expect life/cgroup-while-running '[[ $cg == */jail-$jp && $n -ge 2 ]]' \
                        "cgroup '$cg' should be jail-$jp and hold init + command (holds $n)"
                wait "$jp"
                rc=$?
                rh_expect life/cgroup-removed '[[ $rc -eq 0 && ! -e $cg ]]' "status $rc; $cg still exists after exit"
        fi

        # An orphan left behind by the command is killed, the cgroup removed,
        # and rempart-jail does not wait for the orphan.
        tag="/bin/sleep 1000.$$3"
        report=$WORK/orphan.json
        start=$SECONDS
        jrun --report "$report" -- /bin/sh -c "$tag & echo \$!; exit 0"
        cg=$(json_get "$report" 'j["cgroup_path"]')
        rh_expect life/orphan-killed '[[ $RC -eq 0 && $OUT =~ ^[0-9]+$ && $((SECONDS - start)) -lt 10 ]] && wait_for 3 life_no_process "$tag"' \
                "status $RC, orphan pid '$OUT', still running: $(life_pgrep "$tag" | tr '\n' ' ')"
        if [ -n "$cg" ]; then
                rh_expect life/orphan-cgroup-removed '[[ ! -e $cg ]]' "$cg still exists"
        else
                rh_skip life/orphan-cgroup-removed "no cgroup on this host"
        fi
        for n in $(life_pgrep "$tag"); do kill -KILL "$n"; done

        # ---- strict mode ----
        # What this host cannot provide, read from a best-effort report:
        # strict must refuse exactly then, naming each missing feature.
        d=$(rh_dir strict)
        for variant in default no-cgroup no-cgroup-no-devpolicy; do
                case $variant in
                default) set -- ;;
                no-cgroup) set -- --no-cgroup ;;
                no-cgroup-no-devpolicy) set -- --no-cgroup --set devices.policy=no ;;
                esac
                jrun "$@" --report "$WORK/strict.json" -- /bin/true
                missing=$(json_get "$WORK/strict.json" '" ".join(j["unavailable"])')
                rm -f "$d/marker"
                jrun --strict "$@" --rw "$d:/data" -- /bin/touch /data/marker
                if [ -n "$missing" ]; then
                        out=""
                        for n in $missing; do [[ $ERR == *"$n"* ]] || out="$out $n"; done
                        rh_expect "life/strict-refused-$variant" '[[ $RC -ne 0 && $ERR == *strict* && -z $out && ! -e $d/marker ]]' \
                                "unavailable here: $missing; strict gave status $RC, not named:$out, marker $([ -e "$d/marker" ] && echo created || echo absent)"
                else
                        rh_expect "life/strict-runs-$variant" '[[ $RC -eq 0 && -e $d/marker ]]' \
                                "everything is available with '$*', strict should run (status $RC)"
                fi
        done

        # ---- zombie reaping by the jail's init ----
        # Control: an unreaped child of the command is visible as a zombie.
        jrun -- python3 -c 'import os, time
pid = os.fork()
if pid == 0:
    os._exit(0)
time.sleep(0.3)
print(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0])'
        rh_expect life/zombie-visible-control '[[ $RC -eq 0 && $OUT == Z ]]' "an unreaped child should be Z, got '$OUT'"
        # An orphan (grandchild) is re-parented to init and reaped by it.
        jrun -- python3 -c 'import os, time
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    gc = os.fork()
    if gc == 0:
        time.sleep(0.3)
        os._exit(0)
    os.write(w, str(gc).encode())
    os._exit(0)
os.waitpid(pid, 0)
gc = int(os.read(r, 16))
time.sleep(0.1)
stat = lambda p: open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
ppid = stat(gc)[1]
time.sleep(0.6)
zombies = [p for p in os.listdir("/proc") if p.isdigit() and stat(p)[0] == "Z"]
print(ppid, "gone" if not os.path.exists("/proc/%d" % gc) else stat(gc)[0], len(zombies))'
        rh_expect life/zombie-reaped '[[ $RC -eq 0 && $OUT == "1 gone 0" ]]' \
                "orphan: 'PPID STATE ZOMBIES' = '$OUT' (want '1 gone 0')"
}

life_tests
[ -n "${RH_STANDALONE_LIFE:-}" ] && rh_finish

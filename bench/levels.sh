#!/bin/bash
# SPDX-License-Identifier: MIT
# Levels: what an isolated user environment costs.  A throw-away level
# (one user, a numeric uid: no host account is created) is run on this
# host in development mode (rempartctl --dev), side by side with its peers
# in the same run; medians and ratios are reported, no threshold is
# checked (see bench/README.md).
#
# Parts (BENCH_LV_PARTS, in this order):
#   start    level start: "rempartctl --dev start" until the level answers
#            (the first "rempartctl run LEVEL -- /bin/true" that succeeds),
#            stop in between; references in the same rounds: a bare
#            rempart-jail and bubblewrap, start -> exit of /bin/true
#   session  opening a session, non-interactive ("login to prompt" without
#            a terminal): one hyperfine run per round of "rempartctl run
#            LEVEL -- /bin/true" as the user, against setpriv alone (the
#            floor), nsenter into the level's namespaces (no broker),
#            su, bubblewrap
#   tty      interactive: from "rempartctl run LEVEL -t -- /bin/sh -i" in a
#            new pseudo-terminal to the shell's first prompt, against the
#            same shell started with setpriv and with bubblewrap
#   work     the same workloads inside the level and in the core,
#            alternating: a syscall-heavy loop (bench-syscall-loop), small
#            files created, written, stat()ed and unlinked in the same host
#            directory (the user's home in the level), a pipeline
#            (head | sha256sum) and pure computation; each workload times
#            itself (wall-clock and CPU time, see levels-work.py), so
#            session start-up is not counted
# Every workload and session runs as uid BENCH_LV_UID on both sides.
#
# Environment:
#   BUILD                 meson build directory (default: <repo>/build)
#   BENCH_OUT             results directory (default: /tmp/rempart-bench)
#   BENCH_LV_PARTS        parts to run (default: "start session tty work")
#   BENCH_LV_UID          the level's user, a number (default: 61001)
#   BENCH_LV_START_ROUNDS start/stop cycles (default: 20)
#   BENCH_LV_RUNS         session runs per command, in all (default: 200)
#   BENCH_LV_ROUNDS       hyperfine invocations for the sessions, order of
#                         the commands rotated (default: 10)
#   BENCH_WARMUP          warm-up runs per command and round (default: 3)
#   BENCH_LV_TTY_ROUNDS   interactive rounds (default: 20)
#   BENCH_LV_WORK_ROUNDS  workload rounds (default: 24)
#   BENCH_LV_WORKS        workloads (default: "syscall-mix syscall-ioctl fs
#                         compute cpu"; syscall-MODE: any bench-syscall-loop mode)
#   BENCH_LV_REPS         repetitions inside one workload run, the fastest
#                         is kept (default: 5)
#   BENCH_LV_ITER         bench-syscall-loop iterations per repetition
#                         (default: 12000)
#   BENCH_LV_FILES        files per repetition of the file workload (default: 1000)
#   BENCH_LV_MIB          MiB through head | sha256sum per repetition (default: 12)
#   BENCH_LV_CPU_MIB      MiB hashed in process per repetition (default: 64)
#   BENCH_BREAKDOWN       1: the workloads also run in a bare rempart-jail
#                         as the same user, with all protections, without
#                         seccomp and without Landlock (default: 0)
#   BENCH_CPU             pin every workload to this CPU with taskset, on
#                         both sides (default: none)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD:-$repo/build}
out=${BENCH_OUT:-/tmp/rempart-bench}
parts=${BENCH_LV_PARTS:-start session tty work}
uid=${BENCH_LV_UID:-61001}
start_rounds=${BENCH_LV_START_ROUNDS:-20}
runs=${BENCH_LV_RUNS:-200}
rounds=${BENCH_LV_ROUNDS:-10}
warmup=${BENCH_WARMUP:-3}
tty_rounds=${BENCH_LV_TTY_ROUNDS:-20}
work_rounds=${BENCH_LV_WORK_ROUNDS:-24}
works=${BENCH_LV_WORKS:-syscall-mix syscall-ioctl fs compute cpu}
wreps=${BENCH_LV_REPS:-5}
iter=${BENCH_LV_ITER:-12000}
files=${BENCH_LV_FILES:-1000}
mib=${BENCH_LV_MIB:-12}
cpu_mib=${BENCH_LV_CPU_MIB:-64}
breakdown=${BENCH_BREAKDOWN:-0}
cpu=${BENCH_CPU:-}
# The workloads run inside the level, which sees /usr but not the caller's
# PATH: both sides use the system interpreter, and so do the statistics
# (a python3 earlier on PATH may be a slow wrapper).
py=/usr/bin/python3

die() { echo "levels: $*" >&2; exit 1; }
note() { echo "levels: $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (levels are started in development mode, which needs root)"
[[ $uid =~ ^[1-9][0-9]*$ ]] || die "BENCH_LV_UID must be a number (no account is created)"
[ -x "$py" ] || die "$py is needed (workloads and statistics)"
build=$(cd "$build" && pwd) || die "no build directory $build"
ctl_bin=$build/src/ctl/rempartctl
level_bin=$build/src/ctl/rempart-level
broker_bin=$build/src/broker/rempart-broker
jail=$build/src/jail/rempart-jail
loop=$build/bench/bench-syscall-loop
for f in "$ctl_bin" "$level_bin" "$broker_bin" "$jail" "$loop"; do
        [ -x "$f" ] || die "$f not found: build first (ninja -C $build)"
done
command -v setpriv >/dev/null || die "setpriv (util-linux) is needed"
[ "$rounds" -ge 1 ] 2>/dev/null || die "BENCH_LV_ROUNDS must be a positive integer"
per_round=$(((runs + rounds - 1) / rounds))
[ "$per_round" -ge 2 ] || die "BENCH_LV_RUNS/BENCH_LV_ROUNDS must be at least 2"

# --- a throw-away level -----------------------------------------------------
# Everything lives under $out/levels, world-traversable so that the user
# can reach the level files and its home from the core too.  The two
# directories of the workloads, <build>/bench (the syscall loop) and this
# one (levels-work.py), are system paths of the level: shown read-only and
# executable at the same place.  They cannot be under /tmp, which the
# level replaces with its own.
mkdir -p "$out"
out=$(cd "$out" && pwd)
name=bench
top=$out/levels
conf=$top/conf
run=$top/run
data=$top/data/$name
payload=("$build/bench" "$here")
home=$data/home/$uid
ctl=("$ctl_bin" -c "$conf" -r "$run")
admin=("${ctl[@]}" --dev --level-bin "$level_bin" --broker "$broker_bin")
asuser=(setpriv --reuid "$uid" --regid "$uid" --clear-groups)
sock=$run/$name/broker/broker.sock

if [ -d "$run/$name" ]; then "${admin[@]}" stop "$name" >/dev/null 2>&1 || true; fi
rm -rf "$top"
# The programs run from a copy: a rebuild in the build directory during
# the run (relinking makes execve() fail for a moment) must not break it
# nor mix two versions.  The syscall loop and levels-work.py stay where
# they are: they must be in a system path of the level, never under /tmp.
mkdir -p "$top/bin"
cp "$ctl_bin" "$level_bin" "$broker_bin" "$jail" "$top/bin/"
ctl_bin=$top/bin/rempartctl level_bin=$top/bin/rempart-level
broker_bin=$top/bin/rempart-broker jail=$top/bin/rempart-jail
ctl=("$ctl_bin" -c "$conf" -r "$run")
admin=("${ctl[@]}" --dev --level-bin "$level_bin" --broker "$broker_bin")
for d in "${payload[@]}"; do
        case $d/ in /tmp/*) die "$d is under /tmp, which a level cannot show: use a build and a checkout elsewhere" ;; esac
done
mkdir -p "$conf"
chmod 755 "$out" "$top" "$conf" "$top/bin"
cat >"$conf/$name.conf" <<EOF
[level]
label = Bench
colour = blue
users = $uid

[filesystem]
system = /usr /etc ${payload[*]}
data = $data
EOF

cleanup() {
        if [ -d "$run/$name" ]; then "${admin[@]}" stop "$name" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

level_start() {
        "${admin[@]}" start "$name" || die "cannot start the level (log: $run/$name/log)"
        # The session's environment, for the core side of the workloads.
        mapfile -t lvenv < <("${asuser[@]}" "${ctl[@]}" run "$name" -- /usr/bin/env) ||
                die "cannot open a session in the level (log: $run/$name/log)"
        [ ${#lvenv[@]} -gt 0 ] || die "empty environment from the level"
}
level_stop() { "${admin[@]}" stop "$name" >/dev/null; }
broker_pid() { # the level's broker: child of the jail's init, child of the runner
        local runner init
        runner=$(sed -n 's/^runner=//p' "$run/$name/state")
        init=$(pgrep -P "$runner" | head -n 1)
        pgrep -P "$init" | head -n 1
}

# bubblewrap as the user (an unprivileged user namespace), the setup of
# start-latency.sh: every namespace, /usr read-only, the merged-/usr
# links, /proc, a minimal /dev, a tmpfs /tmp.
bwrap_args=(--unshare-all --die-with-parent --hostname rempart
            --ro-bind /usr /usr --ro-bind-try /etc/ld.so.cache /etc/ld.so.cache
            --symlink usr/bin /bin --symlink usr/sbin /sbin
            --symlink usr/lib /lib --symlink usr/lib64 /lib64
            --proc /proc --dev /dev --tmpfs /tmp --chdir /)
have_bwrap=0
command -v bwrap >/dev/null && have_bwrap=1
q() { printf '%q ' "$@"; }

{
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "kernel: $(uname -r), cpus: $(nproc)"
        echo "model: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
        echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "level: $name, user $uid, system paths /usr /etc ${payload[*]}"
        for t in bwrap hyperfine; do
                command -v "$t" >/dev/null && echo "$t: $("$t" --version 2>&1 | head -n 1)"
        done
        echo "rempart-jail: $("$jail" --version 2>&1 | head -n 1)"
} >"$out/levels.env"
report=$out/levels.txt
cat "$out/levels.env" >"$report"
say() { tee -a "$report"; }

# --- 1. level start -------------------------------------------------------
if [[ " $parts " == *" start "* ]]; then
        note "part start: $start_rounds rounds"
        refs=(--ref "rempart-jail /bin/true=$(q "$jail" -- /bin/true)")
        if [ $have_bwrap = 1 ]; then
                # As root dropping to 65534, exactly the line of start-latency.sh.
                refs+=(--ref "bwrap /bin/true=$(q bwrap "${bwrap_args[@]}" --new-session --uid 65534 --gid 65534 -- /bin/true)")
        fi
        "$py" "$here/levels-helper.py" start --rounds "$start_rounds" --raw "$out/levels-start.tsv" \
                --socket "$sock" --start "$(q "${admin[@]}" start "$name")" \
                --probe "$(q "${asuser[@]}" "${ctl[@]}" run "$name" -- /bin/true)" \
                --stop "$(q "${admin[@]}" stop "$name")" "${refs[@]}" || die "part start failed"
        {
                echo
                echo "== 1. level start ($start_rounds rounds)"
                [ $have_bwrap = 1 ] || echo "skipped: bwrap: not installed"
                "$py" "$here/levels-helper.py" start-report "$out/levels-start.tsv"
        } | say
fi

# --- 2. session open, non-interactive ------------------------------------------
names=() cmds=() kinds=() skipped=()
add() { # add NAME COMMAND...: checked once, like start-latency.sh
        local n=$1 err
        shift
        if ! err=$("$@" 2>&1 >/dev/null </dev/null); then
                skipped+=("$n: failed to run ($(echo "$err" | tail -n 2 | tr '\n' ' '))")
                return 0
        fi
        names+=("$n")
        cmds+=("$(q "$@")")
        kinds+=(true)
}
if [[ " $parts " == *" session "* ]]; then
        command -v hyperfine >/dev/null || die "hyperfine is not installed (scripts/install-deps.sh lists it)"
        level_start
        bpid=$(broker_pid) || die "cannot find the level's broker"
        [ -n "$bpid" ] || die "cannot find the level's broker"
        add "bare setpriv /bin/true" "${asuser[@]}" /bin/true
        add "level run /bin/true" "${asuser[@]}" "${ctl[@]}" run "$name" -- /bin/true
        # The level's namespaces entered directly, then the same setpriv:
        # what is left when the broker, the socket and the descriptor
        # passing are taken away.
        add "nsenter level + setpriv" nsenter -t "$bpid" -a "${asuser[@]}" /bin/true
        # su starts a PAM session; it needs an account: nobody.
        if command -v su >/dev/null && getent passwd nobody >/dev/null; then
                add "su -s /bin/true nobody" su -s /bin/true nobody
        else
                skipped+=("su: no su or no user nobody")
        fi
        if [ $have_bwrap = 1 ]; then
                add "bwrap /bin/true" "${asuser[@]}" bwrap "${bwrap_args[@]}" --new-session -- /bin/true
        else
                skipped+=("bwrap: not installed")
        fi
        meta=$out/levels-session.meta.tsv
        : >"$meta"
        for i in "${!names[@]}"; do printf '%s\t%s\t%s\n' "${names[$i]}" "${kinds[$i]}" "${cmds[$i]}" >>"$meta"; done
        n=${#names[@]}
        rm -f "$out"/levels-session.round*.json
        : >"$out/levels-session.log"
        for ((r = 0; r < rounds; r++)); do
                args=()
                for ((k = 0; k < n; k++)); do
                        i=$(((k + r) % n))
                        args+=(-n "${names[$i]}" "${cmds[$i]}")
                done
                note "part session: round $((r + 1))/$rounds, $n commands x $per_round runs"
                hyperfine -N --style basic --warmup "$warmup" --runs "$per_round" \
                        --export-json "$out/levels-session.round$r.json" "${args[@]}" \
                        >>"$out/levels-session.log" 2>&1 || die "hyperfine failed, see $out/levels-session.log"
        done
        {
                echo
                echo "== 2. session open, non-interactive ($per_round runs x $rounds rounds)"
                for s in "${skipped[@]}"; do echo "skipped: $s"; done
                "$py" "$here/report-latency.py" "$meta" "$out"/levels-session.round*.json | sed '/^rempart-jail vs/d'
                "$py" "$here/levels-helper.py" session-report "level run /bin/true" "$out"/levels-session.round*.json
        } | say
        level_stop
fi

# --- 3. session open, interactive ------------------------------------------
if [[ " $parts " == *" tty "* ]]; then
        level_start
        note "part tty: $tty_rounds rounds"
        tcmds=(--cmd "setpriv sh -i=$(q "${asuser[@]}" env -i "${lvenv[@]}" /bin/sh -i)"
               --cmd "level run -t -- sh -i=$(q "${asuser[@]}" env -i "${lvenv[@]}" "${ctl[@]}" run "$name" -t -- /bin/sh -i)")
        [ $have_bwrap = 1 ] &&
                tcmds+=(--cmd "bwrap sh -i=$(q "${asuser[@]}" env -i "${lvenv[@]}" bwrap "${bwrap_args[@]}" -- /bin/sh -i)")
        "$py" "$here/levels-helper.py" tty --rounds "$tty_rounds" --raw "$out/levels-tty.tsv" "${tcmds[@]}" ||
                die "part tty failed"
        {
                echo
                echo "== 3. session open, interactive, to the first prompt ($tty_rounds rounds)"
                "$py" "$here/levels-helper.py" tty-report "$out/levels-tty.tsv"
        } | say
        level_stop
fi

# --- 4. workloads -----------------------------------------------------------------
if [[ " $parts " == *" work "* ]]; then
        level_start
        pin=()
        [ -n "$cpu" ] && pin=(taskset -c "$cpu") # inside the command: the level's session is not our child
        sides=(core level)
        if [ "$breakdown" = 1 ]; then sides+=(jail jail-noseccomp jail-nolandlock); fi
        work_cmd() { # work_cmd WORK HOME: sets wc, the workload's command line
                local w=$1 h=$2
                wc=("$py" "$here/levels-work.py" --reps "$wreps")
                case $w in
                syscall-*) wc+=(syscall "$loop" "${w#syscall-}" "$iter") ;;
                fs) wc+=(fs "$h" "$files") ;;
                compute) wc+=(compute "$mib") ;;
                cpu) wc+=(cpu "$cpu_mib") ;;
                *) die "unknown workload $w" ;;
                esac
        }
        # The core side gets the session's environment, with the home as
        # the core sees it.
        coreenv=()
        for e in "${lvenv[@]}"; do
                case $e in HOME=*) coreenv+=("HOME=$home") ;; *) coreenv+=("$e") ;; esac
        done
        # The bare jail binds the home where the level shows it (the jail, like
        # the level, has a private /tmp and cannot bind a path under /tmp in place).
        jail_args=(--uid "$uid" --gid "$uid" --ro "$build/bench" --ro "$here" --rw "$home:/home/$uid"
                   --chdir "/home/$uid")
        for e in "${lvenv[@]}"; do jail_args+=(--setenv "$e"); done
        run_side() { # run_side SIDE WORK -> the workload's output line
                local s=$1 w=$2 wc=()
                case $s in
                core)
                        work_cmd "$w" "$home"
                        (cd "$home" && "${asuser[@]}" env -i "${coreenv[@]}" "${pin[@]}" "${wc[@]}") ;;
                level)
                        work_cmd "$w" "/home/$uid"
                        "${asuser[@]}" "${ctl[@]}" run "$name" -- "${pin[@]}" "${wc[@]}" </dev/null ;;
                jail*)
                        local extra=()
                        [ "$s" = jail-noseccomp ] && extra=(--set seccomp.enabled=no)
                        [ "$s" = jail-nolandlock ] && extra=(--set landlock.enabled=no)
                        work_cmd "$w" "/home/$uid"
                        "$jail" "${jail_args[@]}" "${extra[@]}" -- "${pin[@]}" "${wc[@]}" </dev/null ;;
                esac
        }
        raw=$out/levels-work.tsv
        : >"$raw"
        ns=${#sides[@]}
        for ((r = 0; r < work_rounds; r++)); do
                note "part work: round $((r + 1))/$work_rounds"
                for w in $works; do
                        for ((k = 0; k < ns; k++)); do
                                s=${sides[$(((k + r) % ns))]} # alternate which side goes first
                                line=$(run_side "$s" "$w") || die "workload $w failed on side $s"
                                unit=${line#*unit=} unit=${unit%% *}
                                v=${line#*value=} v=${v%% *}
                                c=${line#*cpu_s=} c=${c%% *}
                                printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$w" "$unit" "$s" "$v" "$c" >>"$raw"
                        done
                done
        done
        {
                echo
                echo "== 4. workloads, core vs level ($work_rounds rounds, each the fastest of $wreps repetitions of:"
                echo "   $iter syscall loop iterations, $files files, $mib MiB through sha256sum, $cpu_mib MiB hashed)"
                "$py" "$here/levels-helper.py" work-report "$raw"
        } | say
        level_stop
fi
note "results: $report"

# shellcheck shell=sh
# Single quotes around $ on purpose: text of scripts run elsewhere, awk.
# shellcheck disable=SC2016
# The levels' isolation matrix, shared by the host tier
# (run-level-matrix.sh, bash) and the VM tier (guest-levels.sh, busybox sh):
# POSIX sh only.
#
# Two levels, high and low, run in development mode from a scratch
# directory.  For every ordered pair of sides among high, low and the core,
# each check tries to reach the target side from the attacking one (which
# must fail with an errno of isolation), and the same action is run within
# the target side itself (which must work), so that no check passes
# vacuously: "ok N - levels/high->low/signal (ESRCH) | within low: ok".
#
# Who is who (numeric ids, no accounts are created):
#   61001  user of both levels: the attacker in a level (so that uids never
#          protect one level from the other) and the owner of every fixture
#          inside the levels
#   61002  user of low only (the broker must refuse it in high)
#   61003  a core user in no level: the attacker in the core and the owner
#          of the core's fixtures.  (A core user who is a user of a level
#          may enter it through rempartctl by design: there is nothing to
#          isolate there.)
# Fixtures are open to everyone where the kernel has modes (IPC 0666,
# sockets 0666), so that only the isolation stops a peer.
#
# The caller sets
#   MX_PROBE      level-probe (its directory is shown read-only in the levels)
#   MX_CTL MX_LEVEL_BIN MX_BROKER   rempartctl, rempart-level, rempart-broker
#   MX_WORK       an empty directory, mode 0755, that this file fills
#   MX_HOST_ADDR  a non-loopback IPv4 address of the core, or empty
#   MX_CGROUP     1: run the fork bomb and memory hog checks (a machine of
#                 our own, the VM); else they are reported as skipped
#   MX_TIMEOUT    seconds for one session (default 120)
# and defines  mx_report NAME PASS|FAIL|SKIP|TODO DETAIL.
# Then: mx_setup && mx_matrix; mx_cgroup; and mx_teardown always (a trap).

MX_U=61001
MX_U_LOW=61002
MX_U_CORE=61003
MX_SIDES="high low core"
MX_CHECKS="procs signal ptrace proc-root home data tmp sysv-shm sysv-msg sysv-sem posix-shm posix-mq unix abstract tcp udp net ctlsock hostname"
MX_BG_PIDS=""
# Limits of low when MX_CGROUP=1 (the fork bomb and memory hog run there).
MX_LOW_LIMITS=$(printf 'memory_max = 64M\nmemory_swap_max = 0\npids_max = 48\ncpu_max = 50%%')

mx_log() { echo "# [$(($(date +%s) - ${MX_T0:-0}))s] $*"; }

# mx_set SIDE KEY VALUE / mx_get SIDE KEY: per-side variables (SIDE and
# KEY are words of [a-z_]).
mx_set() { eval "MX_V_$1_$2=\$3"; }
mx_get() { eval "printf '%s' \"\${MX_V_$1_$2:-}\""; }

# Run a command as uid, with a time limit (runas: setgroups, setresgid, setresuid).
mx_as() {
        _u=$1
        shift
        timeout "${MX_TIMEOUT:-120}" "$MX_PROBE" runas "$_u" -- "$@"
}

mx_ctl_as() {
        _u=$1
        shift
        mx_as "$_u" "$MX_CTL" -c "$MX_WORK/conf" -r "$MX_WORK/run" "$@"
}

mx_admin() {
        timeout "${MX_TIMEOUT:-120}" "$MX_CTL" -c "$MX_WORK/conf" -r "$MX_WORK/run" --dev \
                --level-bin "$MX_LEVEL_BIN" --broker "$MX_BROKER" "$@"
}

# mx_wait_lines SECONDS FILE PATTERN COUNT [PID]: until FILE has COUNT lines
# matching PATTERN (status 1 after SECONDS, or as soon as PID is gone).
mx_wait_lines() {
        _end=$(($(date +%s) + $1))
        while [ "$(grep -c -- "$3" "$2" 2>/dev/null)" -lt "$4" ]; do
                [ "$(date +%s)" -ge "$_end" ] && return 1
                [ -z "${5:-}" ] || kill -0 "$5" 2>/dev/null || return 1
                sleep 0.1
        done
        return 0
}

mx_level_conf() { # NAME USERS [LIMITS]
        {
                printf '# isolation matrix, level %s\n[level]\nusers = %s\n' "$1" "$2"
                printf '[filesystem]\nsystem = /usr /etc %s\ndata = %s\n' "$(dirname "$MX_PROBE")" "$MX_WORK/state/levels/$1"
                [ -z "${3:-}" ] || printf '[limits]\n%s\n' "$3"
        } >"$MX_WORK/conf/$1.conf"
}

# ------------------------------------------------------------------ setup

# Names of every fixture, per side.
mx_names() {
        _id=$MX_ID
        _i=0
        for s in $MX_SIDES; do
                _i=$((_i + 1))
                mx_set "$s" mark "mx-$_id-hold-$s"
                mx_set "$s" shm $((1297612800 + MX_NUM * 16 + _i * 4 + 1))
                mx_set "$s" msg $((1297612800 + MX_NUM * 16 + _i * 4 + 2))
                mx_set "$s" sem $((1297612800 + MX_NUM * 16 + _i * 4 + 3))
                mx_set "$s" pshm "/mx-$_id-shm-$s"
                mx_set "$s" pmq "/mx-$_id-mq-$s"
                mx_set "$s" abs "mx-$_id-abstract-$s"
                mx_set "$s" tcp $((MX_PORT + _i * 2))
                mx_set "$s" udp $((MX_PORT + _i * 2 + 1))
                if [ "$s" = core ]; then
                        _c=$MX_WORK/core
                        mx_set core home "$_c/home/$MX_U_CORE/mx-home-core"
                        mx_set core home_host "$_c/home/$MX_U_CORE/mx-home-core"
                        mx_set core data "$_c/data/mx-data-core"
                        mx_set core data_host "$_c/data/mx-data-core"
                        mx_set core tmp "$_c/tmp/mx-tmp-core"
                        mx_set core sock "$_c/run/mx-core.sock"
                else
                        _d=$MX_WORK/state/levels/$s
                        mx_set "$s" home "/home/$MX_U/mx-home-$s"
                        mx_set "$s" home_host "$_d/home/$MX_U/mx-home-$s"
                        mx_set "$s" data "/var/lib/level/mx-data-$s"
                        mx_set "$s" data_host "$_d/var/mx-data-$s"
                        mx_set "$s" tmp "/tmp/mx-tmp-$s"
                        mx_set "$s" sock "/tmp/mx-$s.sock"
                fi
        done
}

# The servers of one side, as a script for sh: files first, then every
# listener in the background; each prints READY.  SIGTERM to the shell
# ends them all (they remove what they created).
mx_server_script() {
        s=$1
        echo "P='$MX_PROBE'"
        echo "pids=''"
        echo "trap 'kill \$pids 2>/dev/null; wait; exit 0' TERM HUP INT"
        echo "\"\$P\" write '$(mx_get "$s" home)' || exit 1"
        echo "\"\$P\" write '$(mx_get "$s" tmp)' || exit 1"
        echo "\"\$P\" hold 1800 '$(mx_get "$s" mark)' & pids=\"\$pids \$!\""
        echo "\"\$P\" sysv-shm create $(mx_get "$s" shm) & pids=\"\$pids \$!\""
        echo "\"\$P\" sysv-msg create $(mx_get "$s" msg) & pids=\"\$pids \$!\""
        echo "\"\$P\" sysv-sem create $(mx_get "$s" sem) & pids=\"\$pids \$!\""
        echo "\"\$P\" posix-shm create '$(mx_get "$s" pshm)' & pids=\"\$pids \$!\""
        echo "\"\$P\" posix-mq create '$(mx_get "$s" pmq)' & pids=\"\$pids \$!\""
        echo "\"\$P\" unix-listen '$(mx_get "$s" sock)' & pids=\"\$pids \$!\""
        echo "\"\$P\" abstract-listen '$(mx_get "$s" abs)' & pids=\"\$pids \$!\""
        if [ "$s" = core ]; then
                # All addresses: the levels try the core's own address too.
                echo "\"\$P\" tcp-listen $(mx_get "$s" tcp) 0.0.0.0 & pids=\"\$pids \$!\""
        else
                echo "\"\$P\" tcp-listen $(mx_get "$s" tcp) & pids=\"\$pids \$!\""
        fi
        echo "\"\$P\" udp-listen $(mx_get "$s" udp) & pids=\"\$pids \$!\""
        echo "wait"
}

MX_N_SERVERS=10

mx_setup() {
        MX_T0=$(date +%s)
        MX_NUM=$(($$ % 4096))
        MX_ID=$(basename "$MX_WORK" | sed 's/.*[.]//' | tr -cd 'a-zA-Z0-9' | cut -c1-12)
        [ -n "$MX_ID" ] || MX_ID=$$
        # Below the ephemeral range (32768-60999): no outgoing connection holds them.
        MX_PORT=$((20000 + ($$ % 1400) * 8))
        mx_names
        mkdir -p "$MX_WORK/conf" "$MX_WORK/out" "$MX_WORK/core/home/$MX_U_CORE" "$MX_WORK/core/data" \
                "$MX_WORK/core/tmp" "$MX_WORK/core/run" || return 1
        chmod 0755 "$MX_WORK" "$MX_WORK/conf" "$MX_WORK/core" "$MX_WORK/core/home" "$MX_WORK/core/data" || return 1
        chown "$MX_U_CORE:$MX_U_CORE" "$MX_WORK/core/home/$MX_U_CORE" "$MX_WORK/core/tmp" "$MX_WORK/core/run" &&
                chmod 0700 "$MX_WORK/core/home/$MX_U_CORE" && chmod 0755 "$MX_WORK/core/tmp" "$MX_WORK/core/run" || return 1

        mx_level_conf high "$MX_U"
        if [ "${MX_CGROUP:-0}" = 1 ]; then
                mx_level_conf low "$MX_U $MX_U_LOW" "$MX_LOW_LIMITS"
        else
                mx_level_conf low "$MX_U $MX_U_LOW"
        fi
        # rempart-level leaves its cgroup (rempart/level-NAME) behind in
        # development mode: remove those this run creates (rmdir: only if empty).
        MX_CG_MADE=""
        _v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
        for l in high low; do
                [ -z "$_v2" ] || [ -d "$_v2/rempart/level-$l" ] || MX_CG_MADE="$MX_CG_MADE $_v2/rempart/level-$l"
        done
        for l in high low; do
                if ! mx_admin start "$l" >"$MX_WORK/out/start-$l" 2>&1; then
                        mx_log "cannot start level $l: $(cat "$MX_WORK/out/start-$l")"
                        return 1
                fi
                if ! mx_wait_sock 30 "$MX_WORK/run/$l/broker/broker.sock"; then
                        mx_log "level $l: no broker socket"
                        return 1
                fi
                # The level's data as its administrator leaves it (root, umask 022).
                printf 'data of %s\n' "$l" >"$(mx_get "$l" data_host)" && chmod 0644 "$(mx_get "$l" data_host)" || return 1
        done
        printf 'data of core\n' >"$(mx_get core data_host)" && chmod 0644 "$(mx_get core data_host)" || return 1

        mx_log "levels started"
        # The servers: one session per level, plain processes in the core.
        for s in $MX_SIDES; do
                mx_server_script "$s" >"$MX_WORK/out/servers-$s.sh"
                if [ "$s" = core ]; then
                        "$MX_PROBE" runas "$MX_U_CORE" -- /bin/sh -s <"$MX_WORK/out/servers-$s.sh" \
                                >"$MX_WORK/out/servers-$s" 2>&1 &
                else
                        "$MX_PROBE" runas "$MX_U" -- "$MX_CTL" -c "$MX_WORK/conf" -r "$MX_WORK/run" -T run "$s" -- \
                                /bin/sh -s <"$MX_WORK/out/servers-$s.sh" >"$MX_WORK/out/servers-$s" 2>&1 &
                fi
                MX_BG_PIDS="$MX_BG_PIDS $!"
                mx_set "$s" server_pid "$!"
        done
        for s in $MX_SIDES; do
                if ! mx_wait_lines 60 "$MX_WORK/out/servers-$s" '^READY' "$MX_N_SERVERS" "$(mx_get "$s" server_pid)"; then
                        mx_log "side $s: servers not ready:"
                        sed 's/^/#   /' "$MX_WORK/out/servers-$s"
                        return 1
                fi
                mx_set "$s" pin "$(sed -n 's/^READY pid=\([0-9]*\) .*/\1/p' "$MX_WORK/out/servers-$s")"
                # The host's name of the holder (root sees every process).
                mx_set "$s" phost "$("$MX_PROBE" find "$(mx_get "$s" mark)" | sed -n 's/^OK pid=\([0-9]*\) .*/\1/p')"
                if [ -z "$(mx_get "$s" pin)" ] || [ -z "$(mx_get "$s" phost)" ]; then
                        mx_log "side $s: holder's pids not found"
                        return 1
                fi
                mx_log "side $s: holder pid $(mx_get "$s" pin) inside, $(mx_get "$s" phost) on the host"
        done
        return 0
}

mx_wait_sock() {
        _end=$(($(date +%s) + $1))
        while [ ! -S "$2" ]; do
                [ "$(date +%s)" -ge "$_end" ] && return 1
                sleep 0.1
        done
}

mx_teardown() {
        for p in $MX_BG_PIDS; do
                kill -TERM "$p" 2>/dev/null
        done
        # The servers remove what they created (IPC objects, sockets) on SIGTERM.
        for p in $MX_BG_PIDS; do
                _n=0
                while kill -0 "$p" 2>/dev/null && [ $_n -lt 50 ]; do
                        sleep 0.1
                        _n=$((_n + 1))
                done
                kill -KILL "$p" 2>/dev/null
        done
        MX_BG_PIDS=""
        for l in high low; do
                [ -d "${MX_WORK:-/nonexistent}/run/$l" ] || continue
                mx_admin stop "$l" >/dev/null 2>&1 && continue
                # rempartctl could not stop it: end its runner ourselves.
                _r=$(sed -n 's/^runner=//p' "$MX_WORK/run/$l/state" 2>/dev/null)
                [ -n "$_r" ] || continue
                kill -TERM "$_r" 2>/dev/null
                _n=0
                while kill -0 "$_r" 2>/dev/null && [ $_n -lt 100 ]; do
                        sleep 0.1
                        _n=$((_n + 1))
                done
                kill -KILL "$_r" 2>/dev/null
        done
        for d in ${MX_CG_MADE:-}; do
                rmdir "$d" 2>/dev/null
        done
        MX_CG_MADE=""
        return 0
}

# ------------------------------------------------------------- the batch

# mx_cmds ATTACKER TARGET: the probe calls of every check, one per line,
# as "TAG COMMAND ARGS..." (TAG = CHECK.TARGET.N) for level-probe batch.  ATTACKER = TARGET: the
# control run within the side, with the side's own names.
mx_cmds() {
        a=$1 t=$2
        pin=$(mx_get "$t" pin) ph=$(mx_get "$t" phost)
        tmp=$(mx_get "$t" tmp) sock=$(mx_get "$t" sock)
        if [ "$a" = "$t" ]; then
                pid=$pin
        else
                pid=$ph # the only name another side could know
        fi
        echo "procs.$t.1 find $(mx_get "$t" mark)"
        echo "signal.$t.1 signal $pid"
        echo "ptrace.$t.1 ptrace $pid"
        echo "proc-root.$t.1 proc-root $pid ${tmp#/}"
        echo "home.$t.1 read $(mx_get "$t" home)"
        if [ "$a" = "$t" ]; then
                echo "home.$t.2 write $(dirname "$(mx_get "$t" home)")/mx-written-$a"
        else
                [ "$(mx_get "$t" home)" = "$(mx_get "$t" home_host)" ] ||
                        echo "home.$t.2 read $(mx_get "$t" home_host)"
                echo "home.$t.3 write $(dirname "$(mx_get "$t" home_host)")/mx-written-$a"
        fi
        echo "data.$t.1 read $(mx_get "$t" data)"
        [ "$a" = "$t" ] || [ "$(mx_get "$t" data)" = "$(mx_get "$t" data_host)" ] ||
                echo "data.$t.2 read $(mx_get "$t" data_host)"
        echo "tmp.$t.1 read $tmp"
        echo "sysv-shm.$t.1 sysv-shm open $(mx_get "$t" shm)"
        echo "sysv-msg.$t.1 sysv-msg open $(mx_get "$t" msg)"
        echo "sysv-sem.$t.1 sysv-sem open $(mx_get "$t" sem)"
        echo "posix-shm.$t.1 posix-shm open $(mx_get "$t" pshm)"
        echo "posix-mq.$t.1 posix-mq open $(mx_get "$t" pmq)"
        echo "unix.$t.1 unix-connect $sock"
        # The path through the holder's root: /proc/PID/root/...
        [ "$a" = "$t" ] || echo "unix.$t.2 unix-connect /proc/$ph/root$sock"
        echo "abstract.$t.1 abstract-connect $(mx_get "$t" abs)"
        echo "tcp.$t.1 tcp-connect 127.0.0.1 $(mx_get "$t" tcp)"
        echo "udp.$t.1 udp-connect 127.0.0.1 $(mx_get "$t" udp)"
        # Network: a level has nothing but lo (its control: its own lo);
        # the core listens on all its addresses.
        if [ "$a" = "$t" ] && [ "$t" != core ]; then
                echo "net.$t.1 tcp-connect 127.0.0.1 $(mx_get "$t" tcp)"
        elif [ -n "${MX_HOST_ADDR:-}" ]; then
                echo "net.$t.1 tcp-connect $MX_HOST_ADDR $(mx_get "$t" tcp)"
        fi
        # Control sockets: a level's own broker socket is the one meant for
        # it; the core's run-time directory and the other brokers are not.
        if [ "$t" = core ]; then
                echo "ctlsock.$t.1 stat $MX_WORK/run"
                for l in high low; do
                        echo "ctlsock.$t.$l unix-connect $MX_WORK/run/$l/broker/broker.sock"
                done
                if [ "$a" != core ]; then
                        _k=0
                        for h in $MX_HOST_SOCKETS; do
                                _k=$((_k + 1))
                                echo "ctlsock.$t.h$_k unix-connect $h"
                        done
                fi
        elif [ "$a" = "$t" ]; then
                echo "ctlsock.$t.1 unix-connect /run/rempart/broker/broker.sock"
        elif [ "$a" != core ]; then
                echo "ctlsock.$t.1 unix-connect $MX_WORK/run/$t/broker/broker.sock"
                echo "ctlsock.$t.2 stat $MX_WORK/run"
        fi
        echo "hostname.$t.1 hostname"
}

# Run side a's batch: every check against every side, in one session and
# one level-probe; results ("@@MX TAG STATUS OUTPUT") in out/res-a.
mx_batch() {
        a=$1
        f=$MX_WORK/out/batch-$a
        for t in $MX_SIDES; do
                mx_cmds "$a" "$t"
        done >"$f"
        if [ "$a" = core ]; then
                mx_as "$MX_U_CORE" "$MX_PROBE" batch <"$f" >"$MX_WORK/out/res-$a" 2>&1
        else
                mx_ctl_as "$MX_U" -T run "$a" -- "$MX_PROBE" batch <"$f" >"$MX_WORK/out/res-$a" 2>&1
        fi
}

# ------------------------------------------------------------ evaluation

# The core's /proc: are other users' processes hidden?
mx_core_hidepid() {
        grep -E '^[^ ]+ /proc proc ' /proc/mounts | grep -qE 'hidepid=(1|2|invisible|noaccess)'
}

# One awk program judges every pair from the three result files (a fork
# per check would cost minutes under emulation).  Input lines:
#   @@MX CHECK.TARGET.N STATUS OK|DENIED|ERROR [ERRNO] DETAIL
# Output, one line per pair and check: NAME<TAB>PASS|FAIL|SKIP|TODO|BROKER<TAB>DETAIL
# (BROKER: the shell runs mx_check_broker_refuses for that pair).
MX_JUDGE='
function accepts(a, c, e) {
        if (e == "ENOENT" || e == "ESRCH" || e == "ECONNREFUSED" || e == "ENETUNREACH") return 1
        # Landlock scopes abstract sockets before the network namespace is looked at.
        if (c == "abstract" && e == "EPERM") return 1
        if (c == "udp" && e == "ETIMEDOUT") return 1
        # ptrace(2) is in every level seccomp deny-list: refused before the
        # kernel even looks the pid up (the signal check shows it is not there).
        if (c == "ptrace" && e == "EPERM" && a != "core") return 1
        # An unprivileged core user meets the levels file modes and uids.
        if (a == "core" && (e == "EPERM" || e == "EACCES")) return 1
        return 0
}
function ok_line(k, i) { return st[k, i] == 0 && word[k, i] == "OK" }
# Within side t: every call of check c must work; sets CW.
function control(t, c,    k, i, good) {
        k = t SUBSEP c SUBSEP t
        CW = ""
        if (!(k in n)) { CW = "no result"; return 0 }
        good = 1
        for (i = 1; i <= n[k]; i++) {
                if (ok_line(k, i)) continue
                # ptrace(2): seccomp in a level, Yama maybe in the core; the
                # control is then that the holder is visible and signalled.
                if (c == "ptrace" && err[k, i] == "EPERM" && ok_line(t SUBSEP "signal" SUBSEP t, 1) && ok_line(t SUBSEP "procs" SUBSEP t, 1)) {
                        CW = "ptrace EPERM (seccomp or Yama); holder visible and signalled"
                        continue
                }
                # Landlock refuses opening any file of the mqueue file system,
                # a queue of ones own included: it exists (EACCES, not ENOENT).
                if (c == "posix-mq" && err[k, i] == "EACCES" && t != "core") {
                        CW = "queue found, opening refused by Landlock (EACCES)"
                        continue
                }
                good = 0
                CW = CW " " st[k, i] " " word[k, i] " " err[k, i] " " det[k, i] ";"
        }
        return good
}
# Side a against side t: sets RES (isolated, reached, error) and WHY.
function attack(a, t, c,    k, i, seen) {
        k = a SUBSEP c SUBSEP t
        RES = "isolated"; WHY = ""
        if (!(k in n)) { RES = "error"; WHY = " no result (did the session of " a " fail?)"; return }
        for (i = 1; i <= n[k]; i++) {
                if (ok_line(k, i)) {
                        RES = "reached"; WHY = WHY " reached: " err[k, i] " " det[k, i] ";"
                } else if (st[k, i] == 1 && word[k, i] == "DENIED" && accepts(a, c, err[k, i])) {
                        if (index(" " seen " ", " " err[k, i] " ") == 0) seen = seen (seen == "" ? "" : " ") err[k, i]
                } else {
                        if (RES != "reached") RES = "error"
                        WHY = WHY " " st[k, i] " " word[k, i] " " err[k, i] " " det[k, i] ";"
                }
        }
        if (RES == "isolated") {
                WHY = seen; gsub(/ /, ",", WHY)
                if (c == "ptrace" && a != "core") WHY = WHY ": seccomp, before any pid lookup; see signal"
        }
}
function value(s, c,    k) {
        k = s SUBSEP c SUBSEP s
        return ok_line(k, 1) ? err[k, 1] : ""
}
function out(name, res, detail) { printf "%s\t%s\t%s\n", name, res, detail }
FNR == 1 { side = FILENAME; sub(/.*res-/, "", side) }
$1 == "@@MX" {
        split($2, p, ".")
        k = side SUBSEP p[1] SUBSEP p[2]
        i = ++n[k]
        st[k, i] = $3; word[k, i] = $4; err[k, i] = $5
        d = ""
        for (j = 6; j <= NF; j++) d = d (j > 6 ? " " : "") $j
        det[k, i] = d
}
END {
        ns = split(sides, S, " "); nc = split(checks, C, " ")
        for (ci = 1; ci <= nc; ci++) for (ai = 1; ai <= ns; ai++) for (ti = 1; ti <= ns; ti++) {
                c = C[ci]; a = S[ai]; t = S[ti]
                if (a == t) continue
                name = "levels/" a "->" t "/" c
                within = "within " t
                cok = control(t, c)
                ctl = cok ? "ok" (CW == "" ? "" : " (" CW ")") : "FAILED:" CW
                if (c == "hostname") {
                        ha = value(a, c); ht = value(t, c)
                        wa = (a == "core") ? ha : a; wt = (t == "core") ? ht : t
                        if (ha != "" && ht != "" && ha != ht && ha == wa && ht == wt && cok)
                                out(name, "PASS", "(" a " sees \047" ha "\047, " t " sees \047" ht "\047) | " within ": ok")
                        else
                                out(name, "FAIL", a " sees \047" ha "\047, " t " sees \047" ht "\047 | " within ": " ctl)
                        continue
                }
                if (c == "net" && hostaddr == "") { out(name, "SKIP", "the core has no non-loopback IPv4 address to try"); continue }
                if (c == "ctlsock" && a == "core") { out(name, "BROKER", t); continue }
                attack(a, t, c)
                if (c == "procs" && a == "core" && RES == "reached" && !hidepid) {
                        out(name, "TODO", "visible: the core /proc has no hidepid, so every core user sees every level process (uids and modes still apply: see signal, ptrace, proc-root) | " within ": " ctl)
                        continue
                }
                if (RES == "isolated")
                        out(name, cok ? "PASS" : "FAIL", "(" WHY ")" (cok ? "" : " but vacuous") " | " within ": " ctl)
                else if (RES == "reached")
                        out(name, "FAIL", "NOT ISOLATED:" WHY " | " within ": " ctl)
                else
                        out(name, "FAIL", "error:" WHY " | " within ": " ctl)
        }
}'

mx_judge() {
        _hp=0
        mx_core_hidepid && _hp=1
        awk -v sides="$MX_SIDES" -v checks="$MX_CHECKS" -v hidepid="$_hp" -v hostaddr="${MX_HOST_ADDR:-}" \
                "$MX_JUDGE" "$MX_WORK/out/res-high" "$MX_WORK/out/res-low" "$MX_WORK/out/res-core" >"$MX_WORK/out/judged"
        _tab=$(printf '\t')
        while IFS="$_tab" read -r _name _res _detail; do
                if [ "$_res" = BROKER ]; then
                        mx_check_broker_refuses "$_detail" "$_name"
                else
                        mx_report "$_name" "$_res" "$_detail"
                fi
        done <"$MX_WORK/out/judged"
}

# The core reaching a level's broker: any core user can connect to its
# socket (the core's rempartctl must), the broker refuses who is not a user
# of the level.
mx_check_broker_refuses() { # LEVEL NAME
        out=$(mx_ctl_as "$MX_U_CORE" -T run "$1" -- "$MX_PROBE" hostname 2>&1)
        rc=$?
        if [ $rc -ne 0 ] && echo "$out" | grep -q "not a user"; then
                mx_report "$2" PASS "(uid $MX_U_CORE refused by the broker of $1: $(echo "$out" | head -n 1)) | within $1: ok (uid $MX_U enters)"
        else
                mx_report "$2" FAIL "uid $MX_U_CORE, no user of $1, got status $rc: $(echo "$out" | head -n 2 | tr '\n' ' ')"
        fi
}

# Users: one not listed in a level is refused, one listed enters.
mx_check_users() {
        out=$(mx_ctl_as "$MX_U_LOW" -T run high -- "$MX_PROBE" hostname 2>&1)
        rc=$?
        ctl=$(mx_ctl_as "$MX_U_LOW" -T run low -- "$MX_PROBE" hostname 2>&1)
        crc=$?
        if [ $rc -ne 0 ] && echo "$out" | grep -q "not a user" && [ $crc -eq 0 ] && [ "$ctl" = "OK low" ]; then
                mx_report "levels/users/refused" PASS "(uid $MX_U_LOW, a user of low only: high refuses it) | within low: ok"
        else
                mx_report "levels/users/refused" FAIL "uid $MX_U_LOW in high: status $rc '$out'; in low: status $crc '$ctl'"
        fi
}

mx_matrix() {
        # Unix sockets of the host itself, if any: none must be reachable
        # from a level (the brief's "core control sockets").
        MX_HOST_SOCKETS=$(find /run -maxdepth 3 -type s 2>/dev/null | grep -v "^$MX_WORK" | head -n 3 | tr '\n' ' ')
        for s in $MX_SIDES; do
                _t0=$(date +%s)
                mx_batch "$s"
                _rc=$?
                mx_log "side $s: batch of $(grep -c '^@@MX' "$MX_WORK/out/res-$s") calls in $(($(date +%s) - _t0)) s"
                if [ $_rc -ne 0 ]; then
                        mx_log "side $s: batch ended with an error:"
                        tail -n 5 "$MX_WORK/out/res-$s" | sed 's/^/#   /'
                fi
        done
        mx_judge
        mx_check_users
        mx_log "matrix done"
}

# ------------------------------------------------------ cgroup limits

# A fork bomb and a memory hog in low (pids.max, memory.max, cpu.max set
# there) must leave high and the core responsive: a command in each must
# complete (within MX_STRESS_WAIT seconds, a generous bound: this is about
# starvation, not speed).  Only on a machine of our own: the host's
# cgroups belong to the machine and are never loaded or reconfigured.
MX_STRESS_WAIT=${MX_STRESS_WAIT:-60}
mx_cgroup() {
        if [ "${MX_CGROUP:-0}" != 1 ] || ! grep -qE '^[^ ]+ /sys/fs/cgroup cgroup2 ' /proc/mounts; then
                for p in 'low->high/forkbomb' 'low->high/memhog' 'low->core/stress' 'low/after-stress'; do
                        mx_report "levels/$p" SKIP "only in the VM tier: this host's cgroups belong to the machine and are never loaded or reconfigured"
                done
                return 0
        fi
        _cg=/sys/fs/cgroup/$(sed -n 's/^cgroup=//p' "$MX_WORK/run/low/state" 2>/dev/null)
        _j=$_cg
        for _d in "$_cg"/jail-*; do
                [ -d "$_d" ] && _j=$_d && break
        done
        if [ ! -f "$_j/pids.max" ] || [ ! -f "$_j/memory.events" ]; then
                mx_report "levels/low->high/forkbomb" FAIL "no cgroup of level low with pids and memory controllers (looked at $_j)"
                return 1
        fi
        _limits="memory.max=$(cat "$_j/memory.max") pids.max=$(cat "$_j/pids.max") cpu.max=$(tr ' ' / <"$_j/cpu.max")"
        _oom0=$(sed -n 's/^oom_kill //p' "$_j/memory.events")
        _pmax0=$(sed -n 's/^max //p' "$_j/pids.events")
        _kills0=$(dmesg | grep -c 'Memory cgroup out of memory: Killed process')
        {
                echo "P='$MX_PROBE'"
                # The hog first (the bomb's spinning children would slow it).
                echo '"$P" memhog 1024 & m=$!'
                echo '"$P" forkbomb 300 & b=$!'
                echo 'wait $m; echo "MEMHOG-STATUS $?"'
                # Builtins only from here: low has no pid left.
                echo "trap 'kill \$b 2>/dev/null; wait \$b; echo \"BOMB-STATUS \$?\"; exit 0' TERM HUP INT"
                echo 'wait $b; echo "BOMB-STATUS $?"'
        } >"$MX_WORK/out/stress.sh"
        "$MX_PROBE" runas "$MX_U" -- "$MX_CTL" -c "$MX_WORK/conf" -r "$MX_WORK/run" -T run low -- \
                /bin/sh -s <"$MX_WORK/out/stress.sh" >"$MX_WORK/out/stress" 2>&1 &
        _spid=$!
        MX_BG_PIDS="$MX_BG_PIDS $_spid"
        if ! mx_wait_lines 300 "$MX_WORK/out/stress" '^READY forked' 1 "$_spid"; then
                mx_report "levels/low->high/forkbomb" FAIL "the bomb did not start: $(tr '\n' ' ' <"$MX_WORK/out/stress")"
                return 1
        fi
        _bomb=$(grep '^READY forked' "$MX_WORK/out/stress" | sed 's/^READY //')
        _pmax1=$(sed -n 's/^max //p' "$_j/pids.events" 2>/dev/null)
        _pcur=$(cat "$_j/pids.current" 2>/dev/null)
        mx_log "stress: low's bomb $_bomb, pids.current $_pcur"
        # While low is full: a command in high, one in the core.
        _t0=$(date +%s)
        _hout=$(MX_TIMEOUT=$MX_STRESS_WAIT mx_ctl_as "$MX_U" -T run high -- "$MX_PROBE" hostname 2>&1)
        _hrc=$?
        _t1=$(date +%s)
        _cout=$(timeout "$MX_STRESS_WAIT" "$MX_PROBE" hostname 2>&1)
        _crc=$?
        _t2=$(date +%s)
        _hs=$((_t1 - _t0)) _cs=$((_t2 - _t1))
        mx_log "stress: high answered in ${_hs}s, the core in ${_cs}s"
        mx_wait_lines 300 "$MX_WORK/out/stress" '^MEMHOG-STATUS' 1 "$_spid"
        _mst=$(sed -n 's/^MEMHOG-STATUS //p' "$MX_WORK/out/stress")
        _oom1=$(sed -n 's/^oom_kill //p' "$_j/memory.events" 2>/dev/null)
        mx_log "stress: memhog ended (status '$_mst')"
        kill -TERM "$_spid" 2>/dev/null
        mx_wait_lines 60 "$MX_WORK/out/stress" '^BOMB-STATUS' 1 "$_spid"
        _bend=$(grep -E '^(OK|DENIED) ' "$MX_WORK/out/stress" | grep -E 'fork|children' | head -n 1)
        # Who the OOM killer chose: the memory hog, and nothing else.
        _victims=$(dmesg | grep 'Memory cgroup out of memory: Killed process' | tail -n +$((_kills0 + 1)) |
                sed 's/.*Killed process \([0-9]*\) (\([^)]*\)).*UID:\([0-9]*\).*/\2[pid=\1,uid=\3]/' | tr '\n' ' ')
        _others=$(echo "$_victims" | tr ' ' '\n' | grep -v "^level-probe\[pid=[0-9]*,uid=$MX_U\]" | grep -v '^$' | tr '\n' ' ')
        mx_log "stress: OOM victims: ${_victims:-none}; the bomb ended with: $_bend"

        if [ "$_hrc" -eq 0 ] && [ "$_hout" = "OK high" ] && echo "$_bomb" | grep -q 'fork: EAGAIN' &&
           [ "${_pmax1:-0}" -gt "${_pmax0:-0}" ]; then
                mx_report "levels/low->high/forkbomb" PASS "(high answered in ${_hs}s while low's bomb had ${_bomb#forked }, pids.current $_pcur) | within low: the bomb hit pids.max ($_limits)"
        else
                mx_report "levels/low->high/forkbomb" FAIL "high: status $_hrc '$_hout' after ${_hs}s; bomb: $_bomb; pids.events max $_pmax0 -> $_pmax1 ($_limits)"
        fi
        if { [ "$_mst" = 137 ] || echo "$_victims" | grep -q "level-probe\[pid=[0-9]*,uid=$MX_U\]"; } && [ "$_hrc" -eq 0 ]; then
                mx_report "levels/low->high/memhog" PASS "(OOM-killed in low's cgroup: status ${_mst:-unknown, the level died}, oom_kill $_oom0 -> ${_oom1:-?}; high answered in ${_hs}s) | within low: $_limits"
        else
                mx_report "levels/low->high/memhog" FAIL "memhog status '$_mst' (137 = SIGKILL), oom_kill $_oom0 -> $_oom1, OOM victims: $_victims; high status $_hrc"
        fi
        if [ "$_crc" -eq 0 ]; then
                mx_report "levels/low->core/stress" PASS "(a core command answered in ${_cs}s: $_cout)"
        else
                mx_report "levels/low->core/stress" FAIL "core command: status $_crc after ${_cs}s: $_cout"
        fi
        # Low itself survives: the OOM killer took the hog, not the level's
        # own processes (its init, its broker, other sessions).
        _lout=$(mx_ctl_as "$MX_U" -T run low -- "$MX_PROBE" hostname 2>&1)
        if [ "$_lout" = "OK low" ] && [ -z "$_others" ]; then
                mx_report "levels/low/after-stress" PASS "(low still serves sessions; OOM victims: $_victims)"
        else
                mx_report "levels/low/after-stress" FAIL "low after the stress: '$_lout'; the OOM killer also killed: ${_others:-nothing else}"
        fi
}

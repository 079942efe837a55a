# Host integration tier, shared part (bash).  Sourced by run-host-tests.sh
# and by each test-*.sh when that one is run on its own.
#
#   rh_init BUILD_DIR   find rempart-jail, make the work directory, set traps
#   rh_finish           print the TAP plan, exit 1 if anything failed
#   rh_ok NAME / rh_fail NAME WHY / rh_skip NAME REASON
#   rh_expect NAME COND WHY   ok if the shell condition string COND holds
#   jrun ARGS...        run rempart-jail ARGS (stdin /dev/null, bounded
#                       time); sets RC, OUT, ERR
#   rh_diag TEXT        TAP comment lines (shown for failures)
#
# Every jail this tier starts is bounded by `timeout`, so a hang costs one
# failed check, not the whole run.

# shellcheck disable=SC2034 # read by the test-*.sh files
RH_LIB_LOADED=1
RH_N=0
RH_FAILED=0
RH_NETNS=()
RH_BG_PIDS=()
RH_CGROUPS=()
RH_TIMEOUT=${RH_TIMEOUT:-20}

rh_bail() {
        echo "Bail out! $*"
        exit 1
}

rh_init() {
        local build=${1:-}

        [ -n "$build" ] || rh_bail "usage: run-host-tests.sh BUILD_DIR"
        BUILD=$(cd "$build" 2>/dev/null && pwd) || rh_bail "no build directory '$build'"
        J=$BUILD/src/jail/rempart-jail
        [ -x "$J" ] || rh_bail "$J is missing (build it with: ninja -C $build)"
        [ "$(id -u)" = 0 ] || rh_bail "the host tier must run as root"
        # The distribution's tools, not whatever shims the caller's PATH has
        # (the jail's own PATH is /usr/bin:/bin anyway).
        export PATH=/usr/sbin:/usr/bin:/sbin:/bin
        WORK=$(mktemp -d /tmp/rempart-host.XXXXXX) || rh_bail "mktemp failed"
        chmod 755 "$WORK"
        # Namespaces, background jails and directories go on any exit.
        trap rh_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
}

rh_cleanup() {
        local pid ns cg

        for pid in "${RH_BG_PIDS[@]}"; do
                kill -KILL "$pid" 2>/dev/null
        done
        for ns in "${RH_NETNS[@]}"; do
                ip netns del "$ns" 2>/dev/null
        done
        # Empty cgroups left by a rempart-jail that was SIGKILLed on purpose.
        for cg in "${RH_CGROUPS[@]}"; do
                [ -d "$cg" ] && rmdir "$cg" 2>/dev/null
        done
        [ -n "${WORK:-}" ] && rm -rf "$WORK"
}

rh_finish() {
        echo "1..$RH_N"
        [ "$RH_FAILED" -eq 0 ]
        exit $?
}

rh_ok() {
        RH_N=$((RH_N + 1))
        echo "ok $RH_N - host/$1"
}

rh_fail() {
        RH_N=$((RH_N + 1))
        RH_FAILED=$((RH_FAILED + 1))
        echo "not ok $RH_N - host/$1 $(printf '%s' "$2" | tr '\n' ' ' | cut -c1-300)"
}

rh_skip() {
        RH_N=$((RH_N + 1))
        echo "ok $RH_N - host/$1 # SKIP $2"
}

rh_diag() {
        printf '%s\n' "$*" | head -n 15 | sed 's/^/#   /'
}

# rh_expect NAME COND WHY: COND is evaluated by the shell ([[ ]] syntax).
rh_expect() {
        if eval "$2"; then
                rh_ok "$1"
        else
                rh_fail "$1" "$3"
                rh_diag "rc=${RC:-} out: ${OUT:-}"
                rh_diag "err: ${ERR:-}"
        fi
}

jrun() {
        timeout -k 2 "$RH_TIMEOUT" "$J" "$@" <"${JIN:-/dev/null}" >"$WORK/.out" 2>"$WORK/.err"
        RC=$?
        OUT=$(cat "$WORK/.out")
        ERR=$(cat "$WORK/.err")
}

# A fresh directory under the work directory, writable by the jail's user.
rh_dir() {
        local d

        d=$(mktemp -d "$WORK/$1.XXXXXX") || rh_bail "mktemp failed"
        chmod 777 "$d"
        printf '%s\n' "$d"
}

# json_get FILE EXPR: print a Python expression over the parsed JSON `j`.
json_get() {
        python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) else v)' "$1" "$2" 2>/dev/null
}

# wait_for SECONDS COMMAND...: poll every 0.05 s until COMMAND succeeds.
wait_for() {
        local deadline=$((SECONDS + $1))
        shift
        while ! "$@"; do
                [ "$SECONDS" -ge "$deadline" ] && return 1
                sleep 0.05
        done
        return 0
}

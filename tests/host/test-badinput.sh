#!/bin/bash
# Host tier: bad profiles and options.  Each must be refused with status 2
# before anything starts (the command would create a marker file through a
# --rw bind: it must stay absent), with a message naming the profile file,
# the line and the key.
# Sourced by run-host-tests.sh; can also run alone: test-badinput.sh BUILD_DIR.
# Conditions are single-quoted strings that rh_expect evaluates: the variables
# they read are set here on purpose.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_BAD=1
fi

BAD_MARK=""
BAD_PROFILE=""

# bad_run ARGS...: rempart-jail ARGS --rw MARK:/mark -- touch /mark/marker
bad_run() {
        rm -f "$BAD_MARK/marker"
        jrun "$@" --rw "$BAD_MARK:/mark" -- /bin/touch /mark/marker
}

# bad_profile NAME LINE KEY TEXT [EXTRA-ARGS...]: TEXT (printf %b) is the
# profile; the error must be at LINE and name KEY.
bad_profile() {
        local name=$1 line=$2 key=$3 text=$4
        shift 4
        printf '%b' "$text" >"$BAD_PROFILE"
        bad_run --profile "$BAD_PROFILE" "$@"
        rh_expect "bad/$name" \
                '[[ $RC -eq 2 && ! -e $BAD_MARK/marker && $ERR == *"$BAD_PROFILE:$line:"* && $ERR == *"$key"* ]]' \
                "want status 2, '$BAD_PROFILE:$line:' and '$key' in the message, no marker; got status $RC, marker $([ -e "$BAD_MARK/marker" ] && echo created || echo absent)"
}

# bad_option NAME WANT ARGS...: a bad command line; WANT must be in the message.
bad_option() {
        local name=$1 want=$2
        shift 2
        bad_run "$@"
        rh_expect "bad/$name" '[[ $RC -eq 2 && ! -e $BAD_MARK/marker && $ERR == *"$want"* ]]' \
                "want status 2 and '$want' in the message, no marker; got status $RC"
}

bad_tests() {
        local d blk hdr

        BAD_MARK=$(rh_dir mark)
        BAD_PROFILE=$WORK/bad.profile
        d=$(rh_dir wx)
        mkdir -p "$d/sub"
        # A comment and a blank line first, so that line numbers are not 1-2.
        hdr='# rempart host tier\n\n'

        # Control: a valid profile and the same command create the marker.
        printf '%b' "${hdr}[namespaces]\nhostname = fine\n" >"$BAD_PROFILE"
        bad_run --profile "$BAD_PROFILE"
        rh_expect bad/control-valid-profile '[[ $RC -eq 0 && -e $BAD_MARK/marker ]]' \
                "a valid profile must run the command (status $RC)"

        bad_profile unknown-key 4 "foo" "${hdr}[filesystem]\nfoo = 1\n"
        bad_profile unknown-section 4 "bogus" "${hdr}[bogus]\nx = 1\n"
        bad_profile key-outside-section 3 "hostname" "${hdr}hostname = x\n"
        bad_profile syntax-error 4 "syntax" "${hdr}[namespaces]\nthis line is not ini\n"
        bad_profile malformed-bool 4 "loopback" "${hdr}[namespaces]\nloopback = maybe\n"
        bad_profile malformed-rlimit 5 "nofile" "${hdr}[rlimits]\ncore = 0\nnofile = lots\n"
        bad_profile malformed-hostname 4 "hostname" "${hdr}[namespaces]\nhostname = not valid!\n"
        bad_profile malformed-port 4 "tcp_bind" "${hdr}[landlock]\ntcp_bind = 70000\n"
        bad_profile relative-path 4 "ro" "${hdr}[filesystem]\nro = usr/lib\n"
        bad_profile duplicate-key 5 "hostname" "${hdr}[namespaces]\nhostname = a\nhostname = b\n"
        bad_profile missing-bind-source 4 "/nonexistent-rempart-src" "${hdr}[filesystem]\nro = /nonexistent-rempart-src:/x\n"

        # W^X requests.
        bad_profile wx-rw-exec 4 "rw" "${hdr}[filesystem]\nrw = $d:/x:exec\n"
        bad_profile wx-rw_exec 4 "rw_exec" "${hdr}[filesystem]\nrw_exec = $d:/x\n"
        bad_profile wx-exec-key 4 "exec" "${hdr}[filesystem]\nexec = $d:/x\n"
        bad_profile wx-tmpfs-exec 4 "tmpfs" "${hdr}[filesystem]\ntmpfs = /x:exec\n"
        bad_profile wx-tmp-exec 4 "tmp" "${hdr}[filesystem]\ntmp = exec\n"
        # An executable bind of a directory that contains a writable one
        # (and the other way round): the message names the ro line.
        bad_profile wx-overlap-parent 5 "ro" "${hdr}[filesystem]\nrw = $d/sub:/w\nro = $d:/e\n"
        bad_profile wx-overlap-child 5 "ro" "${hdr}[filesystem]\nrw = $d:/w\nro = $d/sub:/e\n"
        # ... while the same pair made non-executable is accepted.
        printf '%b' "${hdr}[filesystem]\nrw = $d/sub:/w\nro_noexec = $d:/e\n" >"$BAD_PROFILE"
        bad_run --profile "$BAD_PROFILE"
        rh_expect bad/wx-overlap-noexec-control '[[ $RC -eq 0 && -e $BAD_MARK/marker ]]' \
                "ro_noexec over a writable bind must be accepted (status $RC)"

        # Conflicting settings.
        bad_profile conflict-uid-map-without-userns 4 "uid_map" "${hdr}[namespaces]\nuid_map = 0 100000 65536\n"
        bad_profile conflict-ports-landlock-net-off 5 "tcp_bind" "${hdr}[landlock]\nnetwork = no\ntcp_bind = 80\n"
        bad_profile conflict-net-with-userns 7 "net" \
                "${hdr}[namespaces]\nuser = yes\nuid_map = 0 100000 65536\ngid_map = 0 100000 65536\nnet = somewhere\n"
        bad_profile conflict-time-offset-without-timens 4 "time_offset_boottime" "${hdr}[namespaces]\ntime_offset_boottime = 10\n"
        bad_profile conflict-seccomp-allowlist-empty 4 "mode" "${hdr}[seccomp]\nmode = allowlist\n"
        bad_profile conflict-mount-over-proc 4 "tmpfs" "${hdr}[filesystem]\ntmpfs = /proc/x\n"

        # Devices: only character devices.
        bad_profile device-not-char 4 "/dev/shm" "${hdr}[devices]\nallow = /dev/shm\n"
        blk=$(find /dev -maxdepth 1 -type b 2>/dev/null | head -n1)
        if [ -n "$blk" ]; then
                bad_profile device-block 4 "block device" "${hdr}[devices]\nallow = $blk\n"
        else
                rh_skip bad/device-block "no block device under /dev"
        fi
        bad_profile device-missing 4 "/dev/no-such-device" "${hdr}[devices]\nallow = /dev/no-such-device\n"

        # A missing --profile file: path and reason.
        bad_run --profile "$WORK/no-such.profile"
        rh_expect bad/missing-profile-file \
                '[[ $RC -eq 2 && ! -e $BAD_MARK/marker && $ERR == *"$WORK/no-such.profile"* && $ERR == *"No such file"* ]]' \
                "want status 2 and the path in the message; got status $RC"

        # Command line: --set and options say "command line" and the option.
        bad_option set-no-dot "SECTION.KEY=VALUE" --set foo
        bad_option set-no-value "SECTION.KEY=VALUE" --set namespaces.hostname
        bad_option set-unknown-section "command line: --set foo.bar" --set foo.bar=1
        bad_option set-unknown-key "unknown key 'nope'" --set namespaces.nope=1
        bad_option set-malformed-value "command line: --set namespaces.loopback" --set namespaces.loopback=maybe
        bad_option option-malformed "command line: --hostname" --hostname 'bad name!'
        bad_option option-unknown "--help" --no-such-option
        bad_option option-net-with-userns "net" --net somewhere --userns --uid-map '0 100000 65536' --gid-map '0 100000 65536'
        bad_option option-rw-exec "W^X" --rw "$d:/x:exec"
        bad_option option-missing-netns "/run/netns/rempart-no-such-ns" --net rempart-no-such-ns
}

bad_tests
[ -n "${RH_STANDALONE_BAD:-}" ] && rh_finish

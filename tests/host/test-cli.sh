#!/bin/bash
# Host tier: the command-line interface seen from outside (exit statuses,
# standard streams, exports, reports, refusal to run unprivileged).
# Sourced by run-host-tests.sh; can also run alone: test-cli.sh BUILD_DIR.
# Conditions are single-quoted strings that rh_expect evaluates: the variables
# they read are set here on purpose.
# shellcheck disable=SC2016,SC2034
if [ -z "${RH_LIB_LOADED:-}" ]; then
        set -u
        . "$(dirname "$0")/lib.sh"
        rh_init "${1:-}"
        RH_STANDALONE_CLI=1
fi

cli_tests() {
        local d f rc n bad s1 s2 sec missing lines

        jrun --help
        rh_expect cli/help '[[ $RC -eq 0 && $OUT == *--profile* && $OUT == *Usage:* ]]' \
                "--help: status $RC or no --profile in the text"
        jrun --version
        rh_expect cli/version '[[ $RC -eq 0 && $OUT =~ ^rempart-jail\ [0-9]+\.[0-9]+ ]]' \
                "--version: status $RC, output '$OUT'"

        for n in 0 7 255; do
                jrun -- /bin/sh -c "exit $n"
                rh_expect "cli/exit-status-$n" '[[ $RC -eq $n ]]' "expected status $n, got $RC"
        done
        # Killed by a signal: 128 + N, like a shell.
        jrun -- /bin/sh -c 'kill -TERM $$'
        rh_expect cli/exit-signal-term '[[ $RC -eq 143 ]]' "command killed by SIGTERM: expected 143, got $RC"
        jrun -- /bin/sh -c 'kill -KILL $$'
        rh_expect cli/exit-signal-kill '[[ $RC -eq 137 ]]' "command killed by SIGKILL: expected 137, got $RC"

        echo "piped-through-stdin" >"$WORK/stdin.txt"
        JIN=$WORK/stdin.txt jrun -- /bin/cat
        rh_expect cli/stdin '[[ $RC -eq 0 && $OUT == piped-through-stdin ]]' "cat in the jail printed '$OUT' (status $RC)"
        OUT=$(echo "from-a-pipe" | timeout 10 "$J" -- /bin/cat 2>/dev/null)
        rh_expect cli/stdin-pipe '[[ $OUT == from-a-pipe ]]' "echo | rempart-jail -- cat printed '$OUT'"

        jrun -- /bin/sh -c 'echo to-stdout; echo to-stderr >&2'
        rh_expect cli/stdout-stderr '[[ $RC -eq 0 && $OUT == to-stdout && $ERR == *to-stderr* && $ERR != *to-stdout* ]]' \
                "streams mixed up: out='$OUT' err='$ERR'"

        jrun -- no-such-command-rempart
        rh_expect cli/command-not-found \
                '[[ $RC -eq 127 && $ERR == *no-such-command-rempart* && $ERR == *"No such file"* ]]' \
                "expected 127 and a message naming the command, got $RC '$ERR'"
        jrun -- /usr/no/such/file
        rh_expect cli/command-path-not-found '[[ $RC -eq 127 && $ERR == */usr/no/such/file* ]]' \
                "expected 127 and a message, got $RC '$ERR'"

        # Not executable: a 0644 copy of true on an executable (ro) bind; the
        # 0755 copy next to it runs, so the bind itself is not the reason.
        d=$(rh_dir exec)
        cp /bin/true "$d/noexec-true" && chmod 644 "$d/noexec-true"
        cp /bin/true "$d/true" && chmod 755 "$d/true"
        jrun --ro "$d:/x" -- /x/noexec-true
        rh_expect cli/command-not-executable '[[ $RC -eq 126 && $ERR == */x/noexec-true* && $ERR == *"Permission denied"* ]]' \
                "expected 126 and 'Permission denied', got $RC '$ERR'"
        jrun --ro "$d:/x" -- /x/true
        rh_expect cli/command-executable-control '[[ $RC -eq 0 ]]' "the 0755 copy should run: status $RC"
        jrun -- /usr
        rh_expect cli/command-is-directory '[[ $RC -eq 126 ]]' "executing a directory: expected 126, got $RC"

        # --print-profile: INI with every section, reflecting the options.
        jrun --hostname printed-host --print-profile
        bad=$(printf '%s\n' "$OUT" | grep -vE '^$|^#|^\[[a-z]+\]$|^[a-z_]+ = ?.*$|^[a-z_]+ =$' | head -n 3)
        missing=""
        for sec in profile namespaces filesystem devices credentials environment fds rlimits landlock seccomp cgroup; do
                printf '%s\n' "$OUT" | grep -qx "\[$sec\]" || missing="$missing $sec"
        done
        rh_expect cli/print-profile \
                '[[ $RC -eq 0 && -z $bad && -z $missing && $OUT == *"hostname = printed-host"* ]]' \
                "status $RC, non-INI lines '$bad', missing sections '$missing'"

        # --export-seccomp: raw sock_filter array (8 bytes per instruction).
        f=$WORK/filter.bpf
        jrun --dry-run --export-seccomp "$f"
        s1=$(stat -c %s "$f" 2>/dev/null || echo 0)
        rh_expect cli/export-seccomp '[[ $RC -eq 0 && $s1 -gt 0 && $((s1 % 8)) -eq 0 ]]' \
                "status $RC, size $s1 (must be > 0 and a multiple of 8)"
        jrun --dry-run --seccomp-deny getppid --export-seccomp "$f.2"
        s2=$(stat -c %s "$f.2" 2>/dev/null || echo 0)
        rh_expect cli/export-seccomp-follows-profile '[[ $RC -eq 0 && $s2 -gt $s1 ]]' \
                "one more denied call should grow the filter: $s1 -> $s2 bytes"

        jrun --export-seccomp-pfc "$WORK/filter.pfc"
        rh_expect cli/export-seccomp-pfc '[[ $RC -eq 0 && -s $WORK/filter.pfc ]] && grep -qw ptrace "$WORK/filter.pfc" && ! grep -qw getppid "$WORK/filter.pfc"' \
                "status $RC; the pseudo-code must name ptrace (and not getppid by default)"
        jrun --seccomp-deny getppid --export-seccomp-pfc -
        rh_expect cli/export-seccomp-pfc-stdout '[[ $RC -eq 0 && $OUT == *getppid* ]]' \
                "--export-seccomp-pfc - with --seccomp-deny getppid: status $RC, no getppid"

        # --dry-run validates and starts nothing; the same run without it
        # creates the marker (so the marker proves execution).
        d=$(rh_dir dry)
        jrun --dry-run --rw "$d:/data" -- /bin/touch /data/marker
        rh_expect cli/dry-run '[[ $RC -eq 0 && ! -e $d/marker ]]' "status $RC, marker present: $([ -e "$d/marker" ] && echo yes || echo no)"
        jrun --rw "$d:/data" -- /bin/touch /data/marker
        rh_expect cli/dry-run-control '[[ $RC -eq 0 && -e $d/marker ]]' "a real run should create the marker (status $RC)"
        jrun --dry-run --rw /nonexistent-rempart-src:/data -- /bin/true
        rh_expect cli/dry-run-validates '[[ $RC -eq 2 ]]' "--dry-run with a missing bind source: expected 2, got $RC"

        # --report: JSON with one object per section.
        f=$WORK/report.json
        jrun --report "$f" -- /bin/true
        # One Python run: line 1 "json" if it parses, line 2 the missing or
        # inconsistent sections, line 3 what is not enforced on this host.
        mapfile -t lines < <(python3 - "$f" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("invalid: %s" % e); sys.exit(0)
print("json")
bad = [k for k in ("namespaces", "filesystem", "privileges", "landlock", "seccomp", "cgroup")
       if not isinstance(j.get(k), dict)]
if not isinstance(j.get("complete"), bool): bad.append("complete")
if not isinstance(j.get("unavailable"), list): bad.append("unavailable")
elif j.get("complete") != (len(j["unavailable"]) == 0): bad.append("complete-vs-unavailable")
print(" ".join(bad))
want = {"namespaces": ["mount", "pid", "net", "ipc", "uts", "cgroup"],
        "landlock": ["filesystem", "network", "scope_abstract_unix", "scope_signal"],
        "seccomp": ["filter"],
        "privileges": ["no_new_privs", "capabilities_dropped", "securebits_locked",
                       "exec_securebits", "mdwe", "fds_closed"]}
print(" ".join("%s.%s=%s" % (s, k, j.get(s, {}).get(k)) for s, ks in want.items() for k in ks
               if j.get(s, {}).get(k) != "enforced"))
PY
)
        rh_expect cli/report-json '[[ $RC -eq 0 && ${lines[0]:-} == json ]]' "status $RC, ${lines[0]:-no output}"
        rh_expect cli/report-sections '[[ ${lines[0]:-} == json && -z ${lines[1]:-} ]]' "missing or inconsistent: ${lines[1]:-}"
        rh_expect cli/report-enforced '[[ ${lines[0]:-} == json && -z ${lines[2]:-} ]]' "not enforced on this host: ${lines[2]:-}"
        jrun --report - -- /bin/true
        rh_expect cli/report-stderr '[[ $RC -eq 0 && $ERR == *\"complete\"* && -z $OUT ]]' \
                "--report - should write the JSON to stderr"

        # Not root: refused before anything starts.  The marker directory is
        # world-writable, so only the refusal keeps the command from running.
        d=$(rh_dir nonroot)
        timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$J" --rw "$d:/data" -- /bin/touch /data/marker >"$WORK/.out" 2>"$WORK/.err"
        rc=$?
        ERR=$(cat "$WORK/.err") RC=$rc OUT=""
        rh_expect cli/non-root-refused '[[ $rc -ne 0 && $ERR == *root* && ! -e $d/marker ]]' \
                "status $rc, marker: $([ -e "$d/marker" ] && echo created || echo absent)"
}

cli_tests
[ -n "${RH_STANDALONE_CLI:-}" ] && rh_finish

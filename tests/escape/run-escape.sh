#!/bin/bash
# Escape battery on the host: run rempart-probe outside (as root), where
# each probe should succeed, then inside `rempart-jail` with the default
# profile, where each must fail.  Compares the two per probe.
#
# Usage: tests/escape/run-escape.sh [--jail PATH] [--probe PATH] [--keep]
#   --jail   rempart-jail to test (default: build/src/jail/rempart-jail)
#   --probe  rempart-probe (default: build/tests/escape/rempart-probe)
#   --keep   keep the raw outputs (printed path) instead of deleting them
# Output (TAP-like): "ok N - escape/<probe> ..." or "not ok N - escape/<probe>
# <why>", "# SKIP" for what this host cannot test (cgroup v2 limits are
# tested in the VM: tests/escape/vm-escape.sh), then "N passed, N failed".
# Exit status: 0 all passed (or skipped: not root), 1 a probe failed, 2 setup error.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
jail=$repo/build/src/jail/rempart-jail
probe=$repo/build/tests/escape/rempart-probe
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --jail) [ $# -ge 2 ] || { echo "run-escape: --jail needs a path" >&2; exit 2; }; jail=$2; shift ;;
        --probe) [ $# -ge 2 ] || { echo "run-escape: --probe needs a path" >&2; exit 2; }; probe=$2; shift ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-escape: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ "$(id -u)" != 0 ]; then
    echo "1..1"
    echo "ok 1 - escape/battery # SKIP the escape battery needs root"
    echo "0 passed, 0 failed"
    exit 0
fi
[ -x "$jail" ] || { echo "run-escape: jail '$jail' not found (build first)" >&2; exit 2; }
probe=$(cd "$(dirname "$probe")" 2>/dev/null && pwd)/$(basename "$probe")
. "$here/escape-lib.sh"

results=$(mktemp -d "${TMPDIR:-/tmp}/rempart-escape-results.XXXXXX") || exit 2
finish() {
    esc_cleanup
    if [ "$keep" = 1 ]; then
        echo "# raw outputs kept in $results"
    else
        rm -rf "$results"
    fi
}
trap finish EXIT
trap 'exit 2' INT TERM

esc_setup "$probe"

# Outside: as root, in the host's namespaces.
esc_run_outside "$results/outside" || echo "# outside run exited with status $?"
# Inside: the default profile, plus cgroup limits below what the resource
# probes try (--pids 200, --mem-mib 256), so that containment shows.
esc_run_inside "$jail" "$results/inside" "$results/report.json" \
    --set cgroup.pids_max=64 --set cgroup.memory_max=64M --set cgroup.memory_swap_max=0
status=$?
[ "$status" = 0 ] || echo "# inside run exited with status $status: $(tail -n 3 "$results/inside.err" | tr '\n' ' ')"

names=$(esc_names)
total=$(printf '%s\n' "$names" | wc -l)
echo "1..$total"
n=0 passed=0 failed=0 skipped=0
for name in $names; do
    n=$((n + 1))
    v=$(esc_verdict "$name" "$results/outside" "$results/inside" "$results/report.json")
    verdict=${v%% *}
    detail=${v#"$verdict"}
    detail=${detail# }
    case "$verdict" in
        PASS) echo "ok $n - escape/$name # $detail"; passed=$((passed + 1)) ;;
        SKIP) echo "ok $n - escape/$name # SKIP $detail"; skipped=$((skipped + 1)) ;;
        *) echo "not ok $n - escape/$name $detail"; failed=$((failed + 1)) ;;
    esac
done
echo "# $skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

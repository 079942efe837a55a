# Escape battery inside the test VM (busybox sh, run as /test.sh by
# tests/vm/initramfs/init, cwd /payload).  The payload must hold
# rempart-jail, rempart-probe and escape-lib.sh (this directory's), and may
# hold default.profile (then used as --profile).  Same comparison as
# run-escape.sh, but here the kernel offers pure cgroup v2, so the resource
# probes (fork_bomb: --pids 200 against pids.max 64; memory_hog: 256 MiB
# against memory.max 64M, no swap) and the device program must contain.
# Prints "@@VMTEST escape/<probe> PASS|FAIL|SKIP detail" per probe.
. /lib/vmtest.sh
payload=/payload
. "$payload/escape-lib.sh"

# Report setup errors as a result line, not only as an exit status.
esc_die() {
    vmtest_fail escape/setup "$*"
    exit 2
}

[ "$(id -u)" = 0 ] || esc_die "not root"
[ -x "$payload/rempart-jail" ] || esc_die "no rempart-jail in the payload"
# The VM's /tmp is nosuid: the setuid copy goes to /var/tmp on the root tmpfs.
mkdir -p /var/tmp && chmod 1777 /var/tmp
results=$(mktemp -d /tmp/rempart-escape-results.XXXXXX) || esc_die "mktemp failed"
trap 'esc_cleanup; rm -rf "$results"' EXIT

esc_setup "$payload/rempart-probe"
esc_run_outside "$results/outside" || vmtest_result escape/outside-run SKIP "probe exited with status $?"
# The shipped default profile states the built-in defaults: use it when it
# loads, else say why and fall back to the built-in profile.
set --
if [ -f "$payload/default.profile" ]; then
    if out=$("$payload/rempart-jail" --profile "$payload/default.profile" --dry-run -- /bin/true 2>&1); then
        set -- --profile "$payload/default.profile"
    else
        vmtest_fail escape/default-profile "$(printf '%s' "$out" | tail -n 2); using the built-in profile"
    fi
fi
esc_run_inside "$payload/rempart-jail" "$results/inside" "$results/report.json" "$@" \
    --set cgroup.pids_max=64 --set cgroup.memory_max=64M --set cgroup.memory_swap_max=0
status=$?
if [ "$status" != 0 ]; then
    vmtest_fail escape/jail-run "exit $status: $(tail -n 3 "$results/inside.err")"
fi

for name in $(esc_names); do
    v=$(esc_verdict "$name" "$results/outside" "$results/inside" "$results/report.json")
    verdict=${v%% *}
    detail=${v#"$verdict"}
    vmtest_result "escape/$name" "$verdict" "${detail# }"
done

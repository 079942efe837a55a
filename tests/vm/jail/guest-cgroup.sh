# Jail tests that need a clean cgroup v2 system (run inside the VM, busybox
# sh, sourced by tests/vm/jail/guest.sh).  $JAIL is the rempart-jail binary.

cg_root=/sys/fs/cgroup

# 1. Limits are written, the child is born inside its cgroup, and the
#    jail sees its own cgroup as the root of its cgroup namespace.
$JAIL --report /tmp/report.json --memory-max 64M --set cgroup.memory_swap_max=0 --pids-max 32 \
        --cpu-max 50% --set cgroup.cpu_weight=200 --set cgroup.io_weight=300 -- /bin/sh -c '
        cat /proc/self/cgroup
        sleep 3' >/tmp/cgroup.out 2>&1 &
jpid=$!
sleep 1.5
jcg=$(ls -d $cg_root/rempart/jail-* 2>/dev/null | head -n 1)
if [ -n "$jcg" ]; then
        vals="$(cat $jcg/memory.max) $(cat $jcg/memory.swap.max) $(cat $jcg/pids.max) $(cat $jcg/cpu.max) $(cat $jcg/cpu.weight) $(cat $jcg/io.weight)"
        if [ "$vals" = "67108864 0 32 50000 100000 200 default 300" ]; then
                vmtest_pass jail-cgroup-limits "$vals"
        else
                vmtest_fail jail-cgroup-limits "got: $vals"
        fi
        n=$(wc -l <$jcg/cgroup.procs)
        [ "$n" -ge 2 ] && vmtest_pass jail-cgroup-holds-jail "$n processes" ||
                vmtest_fail jail-cgroup-holds-jail "cgroup.procs has $n entries"
        # The supervisor itself stays outside (it must be able to kill the jail).
        if grep -qx "$jpid" $jcg/cgroup.procs; then
                vmtest_fail jail-cgroup-supervisor-outside "supervisor $jpid is inside"
        else
                vmtest_pass jail-cgroup-supervisor-outside
        fi
else
        vmtest_fail jail-cgroup-limits "no jail cgroup under $cg_root/rempart"
fi
wait $jpid
out=$(cat /tmp/cgroup.out)
case "$out" in
        0::/*) vmtest_pass jail-cgroupns-root "inside: $(echo $out | head -c 40)" ;;
        *) vmtest_fail jail-cgroupns-root "inside /proc/self/cgroup: $out" ;;
esac
if grep -q '"clone_into_cgroup": "enforced"' /tmp/report.json && grep -q '"memory_max": "enforced"' /tmp/report.json &&
        grep -q '"device_policy": "enforced"' /tmp/report.json; then
        vmtest_pass jail-report-cgroup "clone_into_cgroup, memory, devices enforced"
else
        vmtest_fail jail-report-cgroup "$(tr -d '\n' </tmp/report.json | head -c 300)"
fi

# 2. Removed on exit, even when the command leaves a child behind.
$JAIL -- /bin/sh -c 'sleep 1000.777 & exit 0'
sleep 0.5
if pgrep -f 'sleep 1000.777' >/dev/null 2>&1 || ps | grep -v grep | grep -q 'sleep 1000.777'; then
        vmtest_fail jail-cgroup-kill "an orphan survived the jail"
else
        vmtest_pass jail-cgroup-kill
fi
left=$(ls -d $cg_root/rempart/jail-* 2>/dev/null | wc -l)
[ "$left" -eq 0 ] && vmtest_pass jail-cgroup-removed || vmtest_fail jail-cgroup-removed "$left jail cgroups left"

# 3. Strict mode.  The trixie kernel (6.12) predates the exec-control
#    securebits (6.14): a strict jail asking for them must refuse to start
#    and say so; without them, everything else is available and it runs.
rm -f /tmp/strict-marker
if $JAIL --strict --rw /tmp:/data -- /bin/sh -c 'echo x >/data/strict-marker' 2>/tmp/strict.err; then
        vmtest_fail jail-strict-refuses "started although exec securebits are missing"
elif grep -q 'privileges.exec_securebits' /tmp/strict.err && [ ! -e /tmp/strict-marker ]; then
        vmtest_pass jail-strict-refuses "$(cat /tmp/strict.err)"
else
        vmtest_fail jail-strict-refuses "$(cat /tmp/strict.err)"
fi
if $JAIL --strict --set credentials.exec_securebits=no --report /tmp/strict.json -- /bin/true &&
        grep -q '"complete": true' /tmp/strict.json; then
        vmtest_pass jail-strict-complete "everything else enforced on $(uname -r)"
else
        vmtest_fail jail-strict-complete "$(grep -A8 unavailable /tmp/strict.json | tr -d '\n' | head -c 300)"
fi

# 4. pids.max and memory.max contain a fork bomb and a memory hog (the
#    same commands run outside to show they would otherwise succeed).
bomb='i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i+1)); done; echo forked $i'
if $JAIL --pids-max 64 -- /bin/sh -c "$bomb" 2>/dev/null | grep -q 'forked 200'; then
        vmtest_fail jail-pids-max "200 processes started with pids.max=64"
else
        vmtest_pass jail-pids-max "fork failed before 200 with pids.max=64"
fi
if sh -c "$bomb" | grep -q 'forked 200'; then
        vmtest_pass jail-pids-max-outside "200 processes start outside the jail"
        pkill -f 'sleep 5' 2>/dev/null
else
        vmtest_fail jail-pids-max-outside "even outside, 200 processes could not start"
fi

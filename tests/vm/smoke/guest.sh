# Smoke test run inside the VM by tests/vm/smoke.sh: the VM offers what the
# jail tests rely on.
# shellcheck source=SCRIPTDIR/../initramfs/vmtest.sh
. /lib/vmtest.sh

kver=$(uname -r)
case "$kver" in
    6.12.*) vmtest_pass kernel-6.12 "$kver" ;;
    *) vmtest_fail kernel-6.12 "running $kver" ;;
esac

# Pure cgroup v2: only the unified hierarchy is mounted and it has the
# controllers the jail delegates.
v1=$(awk '$3 == "cgroup" { print $2 }' /proc/mounts)
self=$(cat /proc/self/cgroup)
ctrl=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)
missing=""
for c in memory pids cpu io; do
    case " $ctrl " in *" $c "*) ;; *) missing="$missing $c" ;; esac
done
if [ -n "$v1" ] || [ "$self" != "0::/" ]; then
    vmtest_fail cgroup2-only "v1 mounts: ${v1:-none}; /proc/self/cgroup: $self"
elif [ -n "$missing" ]; then
    vmtest_fail cgroup2-only "controllers missing:$missing (have: $ctrl)"
else
    vmtest_pass cgroup2-only "$ctrl"
fi

# Controllers can be delegated to a child group.
if echo "+memory +pids +cpu +io" >/sys/fs/cgroup/cgroup.subtree_control &&
    mkdir /sys/fs/cgroup/smoke && echo 64M >/sys/fs/cgroup/smoke/memory.max &&
    echo 32 >/sys/fs/cgroup/smoke/pids.max; then
    vmtest_pass cgroup2-delegate
else
    vmtest_fail cgroup2-delegate "cannot enable controllers in a child group"
fi

lsms=$(cat /sys/kernel/security/lsm 2>/dev/null)
abi=$(./vmcheck landlock-abi 2>&1)
case "$abi" in
    ''|*[!0-9]*) vmtest_fail landlock-abi "$abi (lsm: $lsms)" ;;
    *) if [ "$abi" -ge 6 ]; then
           vmtest_pass landlock-abi "ABI $abi (lsm: $lsms)"
       else
           vmtest_fail landlock-abi "ABI $abi < 6"
       fi ;;
esac

out=$(./vmcheck userns-nobody 2>&1)
if [ "$out" = 0 ]; then
    vmtest_pass userns-unprivileged "nobody is root in its user namespace"
else
    vmtest_fail userns-unprivileged "$out"
fi

# The root is a tmpfs mount, not rootfs, so pivot_root works in a new mount
# namespace.
if out=$(unshare -m sh -c 'mkdir -p /tmp/nr && mount -t tmpfs nr /tmp/nr &&
        mkdir /tmp/nr/old && cd /tmp/nr && pivot_root . old && [ -d /old/proc ]' 2>&1); then
    vmtest_pass pivot_root
else
    vmtest_fail pivot_root "$out"
fi

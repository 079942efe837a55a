# Audit log in the VM: kernel integrity errors recorded by
# `rempart-audit watch-kernel`.  Run by tests/vm/audit/run-audit-vm-tests.sh:
# the disk (virtio) carries a verity+FEC root and an ext4 state partition,
# activated and mounted by `rempart-init --check` as at boot; vmtest.case
# says whether bytes of the root's data blocks and a directory block of the
# state partition were damaged (damaged) or not (clean).
. /lib/vmtest.sh
AU=/payload/rempart-audit
AD=/tmp/audit
case_=$(vmtest_param case)

mkdir -p /lib/modules /etc/rempart
cp -a /payload/modules/. /lib/modules/ || vmtest_fail audit-setup "cannot install the module tree"
echo virtio_blk >/etc/rempart/initrd-modules
out=$(/payload/rempart-init --check 2>&1) || { vmtest_fail audit-init "rempart-init --check: $(printf '%s' "$out" | tail -n 2)"; exit 0; }

# What a running system does: read the root (FEC repairs what it can) and
# list a directory of the state partition.
cat /sysroot/known.txt >/dev/null 2>&1
ls /sysroot/var/dir >/dev/null 2>&1
# Lines with the texts of integrity errors, written by a process.
printf '<2>EXT4-fs error (device vda3): ext4_lookup:1: injected-by-a-process\n' >/dev/kmsg
printf '<4>device-mapper: verity-fec: 254:0: FEC 1: corrected 1 errors injected-by-a-process\n' >/dev/kmsg

wk=$("$AU" -d "$AD" watch-kernel --once --state /sysroot/var --cursor /tmp/kmsg.cursor 2>&1)
rc=$?
printf '%s\n' "$wk" | sed 's/^/    | /'
log=
[ ! -e "$AD/audit.log" ] || log=$("$AU" -d "$AD" show --type INTEGRITY_ERROR 2>&1)
printf '%s\n' "$log" | sed 's/^/    | /'
dmesg | grep -E 'verity|EXT4-fs (error|\()' | sed 's/^/    k /'

has() { printf '%s\n' "$log" | grep -qE -- "$1"; }
if [ "$rc" = 0 ]; then vmtest_pass audit-watch-status; else vmtest_fail audit-watch-status "watch-kernel --once: status $rc"; fi
if has injected-by-a-process; then
        vmtest_fail audit-injected-not-recorded "a line written into /dev/kmsg by a process was recorded"
else
        vmtest_pass audit-injected-not-recorded
fi
case "$case_" in
clean)
        if [ -z "$log" ] && [ ! -e "$AD/audit.log" ]; then
                vmtest_pass audit-clean-nothing
        else
                vmtest_fail audit-clean-nothing "records on an intact disk: $log"
        fi
        ;;
damaged)
        if has 'source=kernel subsystem=dm-verity-fec event=corrected device=[0-9]+:[0-9]+ .*message="device-mapper: verity-fec: '; then
                vmtest_pass audit-fec-recorded "$(printf '%s\n' "$log" | grep -m1 dm-verity-fec | cut -c1-200)"
        else
                vmtest_fail audit-fec-recorded "no dm-verity-fec record: $log"
        fi
        if has 'source=kernel subsystem=ext4 event=error device=vda3 .*message="EXT4-fs error \(device vda3\): '; then
                vmtest_pass audit-ext4-recorded "$(printf '%s\n' "$log" | grep -m1 'subsystem=ext4' | cut -c1-200)"
        else
                vmtest_fail audit-ext4-recorded "no ext4 record for the state partition: $log"
        fi
        # Run again with the cursor: nothing recorded twice.
        n1=$(printf '%s\n' "$log" | grep -c INTEGRITY_ERROR)
        "$AU" -d "$AD" watch-kernel --once --state /sysroot/var --cursor /tmp/kmsg.cursor >/dev/null 2>&1
        n2=$("$AU" -d "$AD" show --type INTEGRITY_ERROR 2>/dev/null | grep -c INTEGRITY_ERROR)
        if [ "$n1" = "$n2" ] && [ "$n1" -gt 0 ]; then vmtest_pass audit-cursor "$n1 record(s)"; else vmtest_fail audit-cursor "$n1 then $n2 records"; fi
        if v=$("$AU" -d "$AD" verify 2>&1); then
                vmtest_pass audit-log-verifies "$(printf '%s' "$v" | head -n1)"
        else
                vmtest_fail audit-log-verifies "$v"
        fi
        ;;
*) vmtest_fail audit-case "unknown case '$case_'" ;;
esac
exit 0

# rempart-init checks inside the VM.  Run by tests/vm/init/run-init-vm-tests.sh:
# the disk (virtio) carries the root, verity and state partitions, the kernel
# command line the rempart.* parameters, vmtest.case which case this boot is
# and vmtest.sha the expected sha256 of /known.txt in the root image.
. /lib/vmtest.sh
INIT=/payload/rempart-init
case_=$(vmtest_param case)
sha=$(vmtest_param sha)

# The initramfs stage 1 would carry these: the module tree (with libkmod's
# indexes, made by depmod on the host) and the list of storage drivers.
mkdir -p /lib/modules /etc/rempart
cp -a /payload/modules/. /lib/modules/ || vmtest_fail init-setup "cannot install the module tree"
echo virtio_blk >/etc/rempart/initrd-modules

out=$("$INIT" --check 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/    | /'

expect_fatal() { # name, expected message
        if [ "$rc" = 1 ] && printf '%s\n' "$out" | grep -q "rempart-init: FATAL: $2"; then
                vmtest_pass "$1" "$(printf '%s\n' "$out" | grep FATAL | head -n1)"
        else
                vmtest_fail "$1" "status $rc, expected FATAL '$2': $(printf '%s' "$out" | tail -n 2)"
        fi
        if [ -e /dev/mapper/root ]; then
                vmtest_fail "$1-no-root" "/dev/mapper/root exists after a refusal"
        else
                vmtest_pass "$1-no-root"
        fi
}

read_known() { # name
        got=$(sha256sum /sysroot/known.txt 2>&1)
        if [ "${got%% *}" = "$sha" ]; then
                vmtest_pass "$1"
        else
                vmtest_fail "$1" "expected $sha, got: $got"
        fi
}

activated() { # name
        if [ "$rc" = 0 ] && printf '%s\n' "$out" | grep -q "active, verified, restart on corruption"; then
                vmtest_pass "$1"
        else
                vmtest_fail "$1" "status $rc: $(printf '%s' "$out" | tail -n 2)"
        fi
}

mount_has() { # mountpoint option...
        opts=$(awk -v m="$1" '$5 == m { print $6 }' /proc/self/mountinfo | tail -n 1)
        shift
        [ -n "$opts" ] || return 1
        for o in "$@"; do
                case ",$opts," in *",$o,"*) ;; *) echo "missing $o in $opts"; return 1 ;; esac
        done
}

case "$case_" in
good)
        activated init-activate
        read_known init-read
        vmtest_check init-root-ro mount_has /sysroot ro nosuid nodev
        vmtest_check init-var-wx mount_has /sysroot/var rw nosuid nodev noexec
        vmtest_check init-run-wx mount_has /sysroot/run rw nosuid nodev noexec
        vmtest_check init-tmp-wx mount_has /sysroot/tmp rw nosuid nodev noexec
        vmtest_check init-slot grep -qx a /sysroot/run/rempart/slot
        if touch /sysroot/evil 2>/dev/null; then vmtest_fail init-root-write "wrote into the root"; else vmtest_pass init-root-write; fi
        cp /bin/busybox /sysroot/var/bb && chmod 755 /sysroot/var/bb
        if /sysroot/var/bb true 2>/dev/null; then vmtest_fail init-var-noexec "executed from /var"; else vmtest_pass init-var-noexec; fi
        vmtest_check init-state-data grep -q state-ok /sysroot/var/hello
        vmtest_check init-dm-readonly grep -qx 1 /sys/block/dm-0/ro
        ;;
fec)
        activated fec-activate
        read_known fec-read
        if dmesg | grep -qi 'verity-fec.*corrected'; then
                vmtest_pass fec-log "$(dmesg | grep -i 'verity-fec.*corrected' | head -n1 | sed 's/^\[[^]]*\] //')"
        else
                vmtest_fail fec-log "no FEC correction in the kernel log: $(dmesg | grep -i verity | tail -n 2)"
        fi
        ;;
beyond)
        activated beyond-activate
        # dm-verity must restart the machine here (the host checks the
        # console): reaching the next line means corrupted data was served
        # or the read failed without a restart.
        echo "@@VMINIT reading-corrupted-file"
        cat /sysroot/known.txt >/dev/null 2>/tmp/read.err
        vmtest_fail beyond-restart "read returned (status $?) without a restart: $(cat /tmp/read.err)"
        ;;
badhash) expect_fatal badhash-refused "verity: first block of .* does not verify against rempart.roothash" ;;
dup) expect_fatal dup-refused "command line: parameter rempart.slot given more than once" ;;
unknown) expect_fatal unknown-refused "command line: unknown parameter rempart.debug" ;;
*) vmtest_fail init-case "unknown case '$case_'" ;;
esac
exit 0

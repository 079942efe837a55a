#!/bin/sh
# Boot the Rempart image in QEMU (TCG): OVMF with Secure Boot support and SMM,
# starting from an EMPTY variable store (setup mode: systemd-boot enrolls the
# project's keys from the ESP, resets, and every later boot enforces Secure
# Boot), a software TPM 2.0 (swtpm, state in a temporary directory), and the
# serial console on this terminal (Ctrl-A X quits QEMU).
#
#   image/run.sh [--disk FILE] [--vars FILE] [--serial SPEC] [--timeout SEC] [-- QEMU ARGS]
#
#   --disk FILE     disk image (default build-image/<variant>/disk.img; it is
#                   written to: the state partition persists across runs)
#   --vars FILE     keep the UEFI variable store in FILE (created from the empty
#                   template when missing) instead of a fresh temporary copy
#   --serial SPEC   QEMU -serial argument instead of the terminal (e.g. file:log,
#                   or unix:/path/sock,server=on,wait=off for the e2e tests)
#   --timeout SEC   stop QEMU after SEC seconds (exit status 124)
set -eu
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 swtpm

CODE=${REMPART_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.secboot.fd}
VARS_TEMPLATE=${REMPART_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
DISK=$OUT/disk.img VARS= SERIAL=mon:stdio TIMEOUT=
while [ $# -gt 0 ]; do
	case $1 in
	--disk) DISK=$2; shift 2 ;;
	--vars) VARS=$2; shift 2 ;;
	--serial) SERIAL=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--) shift; break ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
done
[ -r "$CODE" ] || die "no OVMF firmware $CODE (install ovmf)"
[ -r "$VARS_TEMPLATE" ] || die "no OVMF variable template $VARS_TEMPLATE"
[ -f "$DISK" ] || die "no disk image $DISK: run 'make image' first"

TMP=$(mktemp -d /tmp/rempart-run.XXXXXX)
SWTPM_PID= QEMU_PID=
cleanup() {
	if [ -n "$QEMU_PID" ]; then kill "$QEMU_PID" 2>/dev/null || true; fi
	if [ -n "$SWTPM_PID" ]; then kill "$SWTPM_PID" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$VARS" ]; then
	VARS=$TMP/OVMF_VARS.fd
	cp "$VARS_TEMPLATE" "$VARS"
elif [ ! -f "$VARS" ]; then
	cp "$VARS_TEMPLATE" "$VARS"
fi

# swtpm exits when QEMU disconnects (--terminate): one per VM run.
mkdir "$TMP/tpm"
swtpm socket --tpm2 --tpmstate dir="$TMP/tpm" --ctrl type=unixio,path="$TMP/tpm.sock" \
	--terminate --log file="$TMP/swtpm.log" &
SWTPM_PID=$!
i=0
while [ ! -S "$TMP/tpm.sock" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || die "swtpm did not start (see $TMP/swtpm.log)"
	sleep 0.05
done

set -- -machine q35,smm=on -m 1024 -smp 2 -nographic -no-user-config -nodefaults \
	-global driver=cfi.pflash01,property=secure,value=on \
	-global ICH9-LPC.disable_s3=1 \
	-drive if=pflash,format=raw,unit=0,readonly=on,file="$CODE" \
	-drive if=pflash,format=raw,unit=1,file="$VARS" \
	-drive if=none,id=disk0,format=raw,file="$DISK" -device virtio-blk-pci,drive=disk0 \
	-chardev socket,id=chrtpm,path="$TMP/tpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
	-device tpm-tis,tpmdev=tpm0 \
	-serial "$SERIAL" -net none "$@"
# QEMU runs in the background (stdin kept) so that a signal to this script
# also stops it (the trap kills QEMU and swtpm, then removes the temporary files).
if [ -n "$TIMEOUT" ]; then
	timeout --foreground "$TIMEOUT" qemu-system-x86_64 "$@" <&0 &
else
	qemu-system-x86_64 "$@" <&0 &
fi
QEMU_PID=$!
rc=0
wait "$QEMU_PID" || rc=$?
QEMU_PID=
exit "$rc"

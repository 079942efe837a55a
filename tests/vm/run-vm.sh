#!/bin/bash
# Boot the cached trixie kernel with a test initramfs under QEMU (TCG) and
# collect the results from the serial console.
#
# Usage: run-vm.sh --initrd FILE [--timeout 300] [--mem 1024] [--smp 2]
#                  [--append "ARGS"] [--log FILE] [--kernel VMLINUZ]
#                  [--qemu-arg ARG]... [--verbose] [--interactive]
#   --append    extra kernel parameters (vmtest.KEY=VALUE reach the script)
#   --log       keep the whole console log here (default: a temporary file,
#               kept and named only when the run fails)
#   --kernel    boot this kernel instead of the cached one
#   --qemu-arg  one extra QEMU argument (repeat for more)
#   --verbose   stream the console to stderr while the VM runs
#   --interactive  debug: console on this terminal, no timeout, and a shell
#               after the test script (vmtest.shell=1); ^A x quits QEMU
# Prints every "@@VMTEST <name> PASS|FAIL|SKIP [detail]" line on stdout, a
# summary on stderr, and exits 0 only if @@VMDONE was seen and no test failed.
# Exit status: 0 ok, 1 a test failed or the VM stopped early, 2 usage or setup
# error, 124 timeout.
set -eu

die() { echo "run-vm: error: $*" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)

initrd=""
timeout=300
mem=1024
smp=2
append=""
log=""
kernel=""
verbose=0
interactive=0
qemu_extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --initrd|--timeout|--mem|--smp|--append|--log|--kernel|--qemu-arg)
            [ $# -ge 2 ] || die "$1 needs a value" ;;
    esac
    case "$1" in
        --initrd) initrd=$2; shift ;;
        --timeout) timeout=$2; shift ;;
        --mem) mem=$2; shift ;;
        --smp) smp=$2; shift ;;
        --append) append="$append $2"; shift ;;
        --log) log=$2; shift ;;
        --kernel) kernel=$2; shift ;;
        --qemu-arg) qemu_extra+=("$2"); shift ;;
        --verbose) verbose=1 ;;
        --interactive) interactive=1 ;;
        -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
[ -n "$initrd" ] || die "--initrd FILE is required"
[ -f "$initrd" ] || die "initrd '$initrd' not found"
for n in "$timeout" "$mem" "$smp"; do
    case "$n" in ''|*[!0-9]*) die "'$n' is not a number" ;; esac
done
qemu=${REMPART_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu not found (run scripts/install-deps.sh)"
if [ -z "$kernel" ]; then
    kernel=$("$here/fetch-kernel.sh") || die "no kernel (fetch-kernel.sh failed)"
fi
[ -f "$kernel" ] || die "kernel '$kernel' not found"

keep_log=1
if [ -z "$log" ]; then
    log=$(mktemp "${TMPDIR:-/tmp}/rempart-vm.XXXXXX.log")
    keep_log=0
fi
: >"$log"

# panic=-1 with -no-reboot: a panic (or PID 1 dying) ends QEMU at once.
# cgroup_no_v1=all: the VM offers only the unified hierarchy.
cmdline="console=ttyS0 panic=-1 oops=panic lsm=landlock,lockdown,yama,integrity,apparmor"
cmdline="$cmdline cgroup_no_v1=all quiet loglevel=4 i8042.noaux i8042.nokbd$append"

# -nodefaults drops the VGA card and NIC (nothing to probe); the serial port
# is the only console.  TCG runs single-threaded by default: multi-threaded
# TCG (VM_TCG_THREAD=multi) is no faster here and, on a busy host, now and
# then crashes the guest while the kernel patches its own code ("Oops: int3"
# in a static-key update, a cross-modifying-code race in the emulator).
qemu_cmd=("$qemu" -M q35 -cpu max -accel "tcg,thread=${VM_TCG_THREAD:-single}" -m "$mem" -smp "$smp"
    -nodefaults -nographic -no-reboot -serial stdio -monitor none
    -kernel "$kernel" -initrd "$initrd" -append "$cmdline" "${qemu_extra[@]}")

if [ "$interactive" = 1 ]; then
    qemu_cmd=("$qemu" -M q35 -cpu max -accel "tcg,thread=${VM_TCG_THREAD:-single}" -m "$mem" -smp "$smp"
        -nodefaults -nographic -no-reboot -serial mon:stdio
        -kernel "$kernel" -initrd "$initrd" -append "$cmdline vmtest.shell=1" "${qemu_extra[@]}")
    exec "${qemu_cmd[@]}"
fi

start=$(date +%s.%N)
if [ "$verbose" = 1 ]; then
    tail -n +1 -f "$log" >&2 &
    tail_pid=$!
fi
rc=0
# timeout(1) puts itself in a process group of its own, out of reach of the
# terminal's ^C: forward INT/TERM to it (it passes them on to QEMU).
timeout -k 5 "$timeout" "${qemu_cmd[@]}" </dev/null >"$log" 2>&1 &
qemu_pid=$!
trap 'kill -TERM "$qemu_pid" 2>/dev/null; wait "$qemu_pid"; echo "run-vm: interrupted" >&2; exit 130' INT TERM
wait "$qemu_pid" || rc=$?
trap - INT TERM
end=$(date +%s.%N)
if [ "$verbose" = 1 ]; then
    sleep 0.2
    kill "$tail_pid" 2>/dev/null || true
    wait "$tail_pid" 2>/dev/null || true
fi
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

# The serial console ends lines with \r\n and kernel messages may land in the
# middle of a line: match the markers anywhere.
console=$(tr -d '\r' <"$log")
results=$(printf '%s\n' "$console" | grep -a -o '@@VMTEST [^ ]* \(PASS\|FAIL\|SKIP\).*' || true)
[ -z "$results" ] || printf '%s\n' "$results"
npass=$(printf '%s\n' "$results" | grep -c '^@@VMTEST [^ ]* PASS' || true)
nfail=$(printf '%s\n' "$results" | grep -c '^@@VMTEST [^ ]* FAIL' || true)
nskip=$(printf '%s\n' "$results" | grep -c '^@@VMTEST [^ ]* SKIP' || true)
boot=$(printf '%s\n' "$console" | sed -n 's/.*@@VMBOOT \([0-9.]*\).*/\1/p' | head -n1)
done_seen=0
printf '%s\n' "$console" | grep -aq '@@VMDONE' && done_seen=1

echo "run-vm: PASS=$npass FAIL=$nfail SKIP=$nskip, userspace after ${boot:-?}s, run ${elapsed}s" >&2
status=0
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "run-vm: TIMEOUT after ${timeout}s: QEMU killed" >&2
    status=124
elif [ "$done_seen" = 0 ]; then
    echo "run-vm: the VM stopped without @@VMDONE (QEMU status $rc; panic or init failure?)" >&2
    status=1
elif [ "$nfail" != 0 ]; then
    status=1
elif [ "$rc" != 0 ]; then
    echo "run-vm: QEMU exited with status $rc" >&2
    status=1
fi
if [ "$status" != 0 ]; then
    echo "run-vm: last console lines:" >&2
    printf '%s\n' "$console" | tail -n 25 | sed 's/^/    /' >&2
    echo "run-vm: full console log: $log" >&2
elif [ "$keep_log" = 0 ]; then
    rm -f "$log"
fi
exit "$status"

# Escape battery, shared part (POSIX sh: bash on the host, busybox ash in the
# VM).  Sourced by run-escape.sh and vm-escape.sh; sets no options, no traps.
#
#   esc_setup PROBE         fixtures on this side: a marker file in a fresh
#                           directory, a setuid-root copy of the probe, and
#                           `PROBE --serve-fixtures` (abstract + path UNIX
#                           sockets, TCP on 127.0.0.1/[::1], UDP; its pid is
#                           the "host process")
#   esc_cleanup             stop the fixture server, remove the directories
#   esc_run_outside OUT     run the battery here (as root) into OUT
#   esc_run_inside JAIL OUT REPORT [JAIL-ARGS...]
#                           run it under JAIL (its JSON report into REPORT)
#   esc_names               every probe name (from PROBE --list)
#   esc_verdict NAME OUT IN REPORT
#                           print "PASS|FAIL|SKIP detail" for one probe:
#                           inside it must be DENIED; outside it must be
#                           ALLOWED unless this host forbids it for a reason
#                           read here (printed with the verdict)
#
# The probe gets the host's root as an inherited fd 3, and a host device
# outside any default allowlist (/dev/kmsg, else /dev/ptmx) as its stdin,
# which it reopens through /proc/self/fd/0: that path leads to the host's
# /dev (no nodev, no jail mount), so inside only the cgroup device program
# can refuse it, with EPERM (it is checked before Landlock's open hook).

# A world-readable character device that no default allowlist holds.
ESC_DEVICE_SRC=/dev/null
for _dev in /dev/kmsg /dev/ptmx; do
    if [ -c "$_dev" ]; then
        ESC_DEVICE_SRC=$_dev
        break
    fi
done

esc_die() {
    echo "escape: error: $*" >&2
    exit 2
}

# esc_nosuid DIR: status 0 if DIR lies on a nosuid mount (longest matching
# mount point in mountinfo).
esc_nosuid() {
    awk -v d="$1/" '
        { mp = $5; gsub(/\\040/, " ", mp); p = (mp == "/") ? "/" : mp "/"
          if (index(d, p) == 1 && length(p) >= best) { best = length(p); opts = $6 } }
        END { exit (opts ~ /(^|,)nosuid(,|$)/) ? 0 : 1 }' /proc/self/mountinfo
}

esc_setup() {
    ESC_PROBE=$1
    [ -x "$ESC_PROBE" ] || esc_die "probe '$ESC_PROBE' not found or not executable"
    ESC_WORK=$(mktemp -d /tmp/rempart-escape.XXXXXX) || esc_die "mktemp failed"
    ESC_MARKER=$ESC_WORK/marker
    echo "rempart escape battery: host marker" >"$ESC_MARKER" || esc_die "cannot write the marker"
    # The setuid copy must sit on a mount without nosuid, in a root-owned
    # 0755 directory that nobody else can write.
    ESC_SUID_DIR=""
    for parent in /var/tmp /tmp; do
        [ -d "$parent" ] || continue
        esc_nosuid "$parent" && continue
        ESC_SUID_DIR=$(mktemp -d "$parent/rempart-escape-suid.XXXXXX") && break
    done
    if [ -n "$ESC_SUID_DIR" ]; then
        if ! { chmod 0755 "$ESC_SUID_DIR" && cp "$ESC_PROBE" "$ESC_SUID_DIR/rempart-probe" &&
            chown 0:0 "$ESC_SUID_DIR/rempart-probe" && chmod 4755 "$ESC_SUID_DIR/rempart-probe"; }; then
            esc_die "cannot prepare the setuid copy"
        fi
    fi
    ESC_ABSTRACT=rempart-escape-$$-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    "$ESC_PROBE" --serve-fixtures --abstract "$ESC_ABSTRACT" --unix-path "$ESC_WORK/sock" \
        >"$ESC_WORK/fixtures" 2>&1 </dev/null &
    ESC_SRV_PID=$!
    i=0
    while ! grep -q '^FIXTURES ' "$ESC_WORK/fixtures" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -le 50 ] || esc_die "fixture server did not start: $(cat "$ESC_WORK/fixtures")"
        sleep 0.1 2>/dev/null || sleep 1
    done
    # FIXTURES pid=P tcp=N udp=N tcp6=0|1
    read -r _ ESC_HOST_PID ESC_TCP ESC_UDP ESC_TCP6 <"$ESC_WORK/fixtures"
    ESC_HOST_PID=${ESC_HOST_PID#pid=}
    ESC_TCP=${ESC_TCP#tcp=}
    ESC_UDP=${ESC_UDP#udp=}
    ESC_TCP6=${ESC_TCP6#tcp6=}
    case "$ESC_WORK$ESC_SUID_DIR$ESC_PROBE" in
        *[[:space:]]*) esc_die "paths with blanks are not supported" ;;
    esac
}

esc_cleanup() {
    if [ -n "${ESC_SRV_PID:-}" ]; then
        kill "$ESC_SRV_PID" 2>/dev/null
        wait "$ESC_SRV_PID" 2>/dev/null
        ESC_SRV_PID=""
    fi
    [ -z "${ESC_WORK:-}" ] || rm -rf "$ESC_WORK"
    [ -z "${ESC_SUID_DIR:-}" ] || rm -rf "$ESC_SUID_DIR"
}

# esc_args SUID-PATH: the fixture options (word-split by the caller).
esc_args() {
    echo "--host-pid $ESC_HOST_PID --marker $ESC_MARKER --abstract $ESC_ABSTRACT" \
        "--unix-path $ESC_WORK/sock --tcp-port $ESC_TCP --udp-port $ESC_UDP" \
        "${ESC_SUID_DIR:+--suid $1} --device /proc/self/fd/0 --pids 200 --mem-mib 256"
}

esc_timeout() {
    if command -v timeout >/dev/null 2>&1; then
        timeout 600 "$@"
    else
        "$@"
    fi
}

esc_run_outside() {
    # shellcheck disable=SC2046 # word splitting of the fixture options is intended
    esc_timeout "$ESC_PROBE" $(esc_args "$ESC_SUID_DIR/rempart-probe") \
        3</ <"$ESC_DEVICE_SRC" >"$1" 2>"$1.err"
}

esc_run_inside() {
    _jail=$1 _out=$2 _report=$3
    shift 3
    _dir=$(cd "$(dirname "$ESC_PROBE")" && pwd)
    _name=$(basename "$ESC_PROBE")
    if [ -n "$ESC_SUID_DIR" ]; then
        set -- --ro "$ESC_SUID_DIR:/opt/suid" "$@"
    fi
    # shellcheck disable=SC2046 # word splitting of the fixture options is intended
    esc_timeout "$_jail" --report "$_report" --ro "$_dir:/opt/probe" "$@" -- \
        "/opt/probe/$_name" $(esc_args /opt/suid/rempart-probe) \
        3</ <"$ESC_DEVICE_SRC" >"$_out" 2>"$_out.err"
}

esc_names() {
    "$ESC_PROBE" --list | awk '{ print $1 }'
}

# ---- reading this host ----

# esc_kconfig NAME: "y", "m", "n" (not set) or "" (no config readable).
esc_kconfig() {
    _cfg=""
    if [ -r /proc/config.gz ]; then
        _cfg=$(zcat /proc/config.gz 2>/dev/null)
    elif [ -r "/boot/config-$(uname -r)" ]; then
        _cfg=$(cat "/boot/config-$(uname -r)")
    fi
    [ -n "$_cfg" ] || return 0
    _v=$(printf '%s\n' "$_cfg" | sed -n "s/^$1=//p")
    echo "${_v:-n}"
}

# esc_capbnd BIT: status 0 if our bounding set holds capability BIT.
esc_capbnd() {
    _hex=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
    [ -n "$_hex" ] || return 0
    [ $(((0x$_hex >> $1) & 1)) = 1 ]
}

esc_has_route4() {
    awk 'NR > 1 && $2 == "00000000" { found = 1 } END { exit !found }' /proc/net/route 2>/dev/null
}

esc_has_route6() {
    awk '$1 == "00000000000000000000000000000000" && $2 == "00" && $10 != "lo" { found = 1 }
         END { exit !found }' /proc/net/ipv6_route 2>/dev/null
}

esc_has_iface() {
    for _if in /sys/class/net/*; do
        [ -e "$_if" ] && [ "${_if##*/}" != lo ] && return 0
    done
    return 1
}

# esc_host_reason NAME STATUS DETAIL: why this host cannot show the probe
# succeeding outside; prints nothing when it should have.
esc_host_reason() {
    _n=$1 _s=$2 _d=$3
    case "$_n:$_d" in
        finit_module:ENOSYS* | delete_module:ENOSYS*)
            [ -e /proc/modules ] || echo "kernel without loadable modules (no /proc/modules)" ;;
        kexec_load:ENOSYS* | kexec_file_load:ENOSYS*)
            [ -e /sys/kernel/kexec_loaded ] || echo "kernel without kexec (no /sys/kernel/kexec_loaded)" ;;
        iopl:ENOSYS* | ioperm:ENOSYS*)
            case $(esc_kconfig CONFIG_X86_IOPL_IOPERM) in
                n) echo "kernel without CONFIG_X86_IOPL_IOPERM" ;;
                "") echo "kernel without I/O port syscalls (ENOSYS; no config to confirm)" ;;
            esac ;;
        x32_syscall:ENOSYS*)
            case $(esc_kconfig CONFIG_X86_X32_ABI) in
                n) echo "kernel without CONFIG_X86_X32_ABI" ;;
                "") echo "kernel without the x32 ABI (ENOSYS; no config to confirm)" ;;
            esac ;;
        i386_int80:"killed by SIGSEGV"* | i386_int80:"killed by SEGV"*)
            echo "int \$0x80 faults (#GP) on this kernel: no IA32 syscall entry" \
                "(CONFIG_IA32_EMULATION=$(esc_kconfig CONFIG_IA32_EMULATION), hypervisor or ia32_emulation=0)" ;;
        write_sysrq:ENOENT*)
            [ -e /proc/sysrq-trigger ] || echo "no /proc/sysrq-trigger (CONFIG_MAGIC_SYSRQ off)" ;;
        marker_via_proc1_root:EACCES* | marker_via_proc1_root:EPERM*)
            readlink /proc/1/root >/dev/null 2>&1 ||
                echo "PID 1 is shielded from this root (readlink /proc/1/root fails)" ;;
        rlimit_raise:EPERM*)
            esc_capbnd 24 || echo "CAP_SYS_RESOURCE is not in this root's bounding set" ;;
        io_uring_setup:EPERM*)
            [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null)" != 2 ] ||
                echo "kernel.io_uring_disabled=2" ;;
        vsock_socket:EAFNOSUPPORT*)
            echo "no AF_VSOCK transport in this kernel or machine" ;;
        tioclinux:ENOTTY* | tioclinux:"no terminal"*)
            [ -e /dev/tty0 ] || echo "no virtual console (/dev/tty0)" ;;
        tiocsti:ENOTTY* | tiocsti:"no terminal"*)
            [ -e /dev/ptmx ] || echo "no /dev/ptmx" ;;
        tcp6_connect_host:*)
            [ "$ESC_TCP6" = 1 ] || echo "no IPv6 loopback to listen on" ;;
        route_external:ENETUNREACH*)
            esc_has_route4 || echo "no IPv4 default route" ;;
        route_external6:ENETUNREACH* | route_external6:EADDRNOTAVAIL*)
            esc_has_route6 || echo "no IPv6 default route" ;;
        net_interfaces:*)
            esc_has_iface || echo "no network interface other than lo" ;;
        setuid_binary:*)
            [ -n "$ESC_SUID_DIR" ] || echo "no scratch directory on a mount without nosuid" ;;
        dev_outside_allowlist:none*)
            echo "none of the listed device nodes exists here" ;;
    esac
}

# esc_kernel_before MAJOR MINOR: status 0 if the running kernel is older.
esc_kernel_before() {
    _rel=$(uname -r)
    _maj=${_rel%%.*}
    _min=${_rel#*.}
    _min=${_min%%[!0-9]*}
    [ "$_maj" -lt "$1" ] || { [ "$_maj" -eq "$1" ] && [ "${_min:-0}" -lt "$2" ]; }
}

# The jail's report says whether a protection or limit is enforced.
esc_enforced() {
    grep -q "\"$1\": \"enforced\"" "$2" 2>/dev/null
}

esc_field() { # esc_field FILE NAME -> "STATUS DETAIL" of that probe
    sed -n "s/^PROBE $2 //p" "$1" | head -n 1
}

esc_verdict() {
    _name=$1 _outf=$2 _inf=$3 _rep=$4
    _o=$(esc_field "$_outf" "$_name")
    _i=$(esc_field "$_inf" "$_name")
    _os=${_o%% *} _is=${_i%% *}
    _od=${_o#"$_os"} _id=${_i#"$_is"}
    _od=${_od# } _id=${_id# }
    [ -n "$_o" ] || { echo "FAIL no outside result"; return; }
    [ -n "$_i" ] || { echo "FAIL no inside result (jail failed? see the log)"; return; }
    case "$_name" in
        execve_check_script | deny_interactive)
            if ! esc_enforced exec_securebits "$_rep" && esc_kernel_before 6 14; then
                echo "SKIP kernel $(uname -r) has no exec securebits (Linux 6.14+)"
                return
            fi ;;
        fork_bomb | memory_hog)
            _key=pids_max
            [ "$_name" = memory_hog ] && _key=memory_max
            if ! esc_enforced "$_key" "$_rep"; then
                echo "SKIP cgroup v2 controllers unavailable on this host ($_key not enforced): tested in VM"
                return
            fi ;;
        device_cgroup)
            if ! esc_enforced device_policy "$_rep"; then
                echo "SKIP cgroup device program not enforced on this host: tested in VM"
                return
            fi
            case "$_id" in
                "EPERM (cgroup device program)"*) ;;
                *) echo "FAIL inside: $_is $_id (only EPERM from the device program proves the allowlist)"
                   return ;;
            esac ;;
    esac
    _reason=""
    [ "$_os" = ALLOWED ] || _reason=$(esc_host_reason "$_name" "$_os" "$_od")
    if [ "$_is" != DENIED ]; then
        # Untestable here: it fails the same way outside for a host reason.
        if [ -n "$_reason" ] && [ "$_i" = "$_o" ]; then
            echo "SKIP same result outside and inside ($_is $_id): $_reason"
        else
            echo "FAIL inside: $_is $_id"
        fi
        return
    fi
    if [ "$_os" = ALLOWED ]; then
        echo "PASS inside: $_id | outside: $_od"
    elif [ -n "$_reason" ]; then
        echo "PASS inside: $_id | outside: $_os $_od, as this host forbids it: $_reason"
    else
        echo "FAIL outside: $_os $_od (the probe shows nothing here)"
    fi
}

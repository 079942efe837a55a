# Helpers for test scripts running inside the VM: `. /lib/vmtest.sh`.
# Results go to the console as the lines run-vm.sh collects:
#   @@VMTEST <name> PASS|FAIL|SKIP [detail]
# Names are one word; details are free text on one line.

vmtest_result() {
    _vt_name=$1 _vt_res=$2
    shift 2
    _vt_detail=$(printf '%s' "$*" | tr '\n' ' ')
    echo "@@VMTEST $_vt_name $_vt_res${_vt_detail:+ $_vt_detail}"
}
vmtest_pass() { vmtest_result "$1" PASS "$(shift; echo "$*")"; }
vmtest_fail() { vmtest_result "$1" FAIL "$(shift; echo "$*")"; }
vmtest_skip() { vmtest_result "$1" SKIP "$(shift; echo "$*")"; }

# vmtest_check NAME CMD [ARGS...]: PASS if CMD exits 0, else FAIL with the
# last lines of its output as detail.
vmtest_check() {
    _vt_name=$1
    shift
    if _vt_out=$("$@" 2>&1); then
        vmtest_pass "$_vt_name"
    else
        vmtest_fail "$_vt_name" "exit $?: $(printf '%s' "$_vt_out" | tail -n 3)"
    fi
}

# vmtest_param KEY: value of vmtest.KEY=VALUE on the kernel command line
# (run-vm.sh --append "vmtest.KEY=VALUE"); empty and status 1 if absent.
vmtest_param() {
    # The command line is one line of words: split it on purpose.
    # shellcheck disable=SC2013
    for _vt_arg in $(cat /proc/cmdline); do
        case "$_vt_arg" in
            "vmtest.$1="*) echo "${_vt_arg#*=}"; return 0 ;;
        esac
    done
    return 1
}

# rempart-jail tests inside the VM (Debian trixie kernel, pure cgroup v2).
# Run by tests/vm/run-jail-vm-tests.sh; /payload holds the binaries.
. /lib/vmtest.sh
JAIL=/payload/rempart-jail
export JAIL
cd /payload || exit 1

# The unit tests that touch the kernel (seccomp, Landlock at ABI 6, cgroup
# BPF device programs on a real v2 hierarchy, credentials) run here too.
for t in /payload/unit/test-*; do
        [ -x "$t" ] || continue
        name=$(basename "$t")
        CMOCKA_MESSAGE_OUTPUT=TAP "$t" >/tmp/unit.out 2>&1
        while IFS= read -r line; do
                case "$line" in
                "ok "*"# SKIP"*) n=${line#ok * - }; vmtest_skip "unit/$name/${n%% *}" "${line#*# SKIP}" ;;
                "not ok "*"# SKIP"*) vmtest_skip "unit/$name/${line##* }" "skipped" ;; # cmocka's form
                "ok "*) n=${line#ok * - }; vmtest_pass "unit/$name/${n%% *}" ;;
                "not ok "*) n=${line#not ok * - }; vmtest_fail "unit/$name/${n%% *}" "$(tail -n 5 /tmp/unit.out)" ;;
                esac
        done </tmp/unit.out
done

. /payload/guest-cgroup.sh

if [ -f /payload/vm-escape.sh ]; then
        . /payload/vm-escape.sh
fi

# The levels' isolation matrix: a subshell of its own (variables, traps).
if [ -f /payload/levels/guest-levels.sh ]; then
        (. /payload/levels/guest-levels.sh)
fi

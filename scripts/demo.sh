#!/bin/bash
# The main job until the system image exists: show rempart-jail at work on
# this machine.  Every step runs the real binary; nothing here is canned.
set -u
BUILD=${1:-build}
JAIL=$BUILD/src/jail/rempart-jail
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

if [ "$(id -u)" -ne 0 ]; then
        echo "demo: rempart-jail creates namespaces and cgroups: run as root" >&2
        exit 1
fi
step "A program from /usr, confined by the built-in default profile" \
     "rempart-jail -- /bin/sh -c 'id; hostname; ls /; ls /dev; grep -E \"^(Cap|NoNewPrivs|Seccomp)\" /proc/self/status'"
"$JAIL" -- /bin/sh -c 'id; hostname; ls /; ls /dev; grep -E "^(Cap|NoNewPrivs|Seccomp)" /proc/self/status'

step "What was enforced, as reported by the jail" "rempart-jail --report - -- /bin/true"
"$JAIL" --report - -- /bin/true

step "Writable places are never executable (W^X)" "rempart-jail -- /bin/sh -c 'cp /bin/true /tmp/t && /tmp/t'"
"$JAIL" -- /bin/sh -c 'cp /bin/true /tmp/t && /tmp/t'; echo "exit status: $?"

step "A profile asking for a writable+executable mount is refused" "rempart-jail --rw /var/tmp:/data:exec -- /bin/true"
"$JAIL" --rw /var/tmp:/data:exec -- /bin/true; echo "exit status: $?"

step "Bad profile input names file, line and key" "rempart-jail --profile bad.profile -- /bin/true"
bad=$(mktemp --suffix=.profile)
printf '[filesystem]\nro = /usr\n[cgroup]\nmemory_max = lots\n' >"$bad"
"$JAIL" --profile "$bad" -- /bin/true; echo "exit status: $?"
rm -f "$bad"

step "Dangerous system calls are denied" "rempart-jail -- /usr/bin/unshare -U true"
"$JAIL" -- /usr/bin/unshare -U true; echo "exit status: $?"

if [ -x "$BUILD/tests/escape/rempart-probe" ]; then
        step "The escape battery: outside (as root) and inside the jail" "tests/escape/run-escape.sh"
        ./tests/escape/run-escape.sh --jail "$JAIL" --probe "$BUILD/tests/escape/rempart-probe" | tail -n 3
fi
echo
echo "Next: 'make test' runs every test tier (unit, host, escape, VM, sanitizers, lint, fuzz)."

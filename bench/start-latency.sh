#!/bin/bash
# SPDX-License-Identifier: MIT
# Start latency: the time from launching a sandbox to the exit of a trivial
# command inside it (start -> exec -> exit), rempart-jail side by side with
# its peers in one hyperfine invocation, so that every line of the table was
# measured under the same conditions.  Reports medians and ratios; no
# threshold is checked here (see bench/README.md).
#
# Environment:
#   BUILD            meson build directory (default: <repo>/build)
#   BENCH_OUT        results directory (default: /tmp/rempart-bench)
#   BENCH_RUNS       timed runs per command, in all (default: 200)
#   BENCH_WARMUP     warm-up runs per command and round (default: 20 with
#                    one round, 3 with more)
#   BENCH_ROUNDS     hyperfine invocations, each with BENCH_RUNS/BENCH_ROUNDS
#                    runs per command, the order of the commands rotated
#                    from one to the next, times pooled (default: 1).
#                    hyperfine runs one command after the other: on a
#                    machine whose load changes, several rounds spread the
#                    slow phases over every command; e.g. 20 rounds of 10.
#   BENCH_BREAKDOWN  1: add rempart-jail lines with Landlock, seccomp,
#                    the cgroup, or all three turned off (default: 0)
#   BENCH_CPU        pin every command to this CPU with taskset (default: none)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD:-$repo/build}
out=${BENCH_OUT:-/tmp/rempart-bench}
runs=${BENCH_RUNS:-200}
rounds=${BENCH_ROUNDS:-1}
if [ "$rounds" = 1 ]; then warmup=${BENCH_WARMUP:-20}; else warmup=${BENCH_WARMUP:-3}; fi
breakdown=${BENCH_BREAKDOWN:-0}
cpu=${BENCH_CPU:-}

jail=$build/src/jail/rempart-jail
static_true=$build/bench/bench-static-true

die() { echo "start-latency: $*" >&2; exit 1; }
note() { echo "start-latency: $*"; }

[ "$rounds" -ge 1 ] 2>/dev/null || die "BENCH_ROUNDS must be a positive integer"
per_round=$(((runs + rounds - 1) / rounds))
[ "$per_round" -ge 2 ] || die "BENCH_RUNS/BENCH_ROUNDS must be at least 2"

[ "$(id -u)" = 0 ] || die "run as root: rempart-jail is a root-run launcher, and the peers are compared as root too"
command -v hyperfine >/dev/null || die "hyperfine is not installed (scripts/install-deps.sh lists it)"
command -v python3 >/dev/null || die "python3 is needed for the statistics"
[ -x "$jail" ] || die "$jail not found: build first (ninja -C $build)"

# --- crun on a hybrid cgroup host -------------------------------------------
# crun refuses to start when cgroup v1 and v2 are both mounted and the v2
# hierarchy has any controller ("cgroups in hybrid mode not supported").
# Rather than touching the host's hierarchy, the whole benchmark re-runs in
# a private mount namespace where an empty file hides the v2 root's
# cgroup.controllers from crun.  Every command then runs in that same
# namespace, so the comparison stays fair; nothing outside it changes.
# (rempart-jail reads that file only to delegate controllers to its parent
# cgroup; with the default profile it wants pids, which this v2 root cannot
# give anyway, so its behaviour is unchanged: check with --report.)
v2ctl=/sys/fs/cgroup/unified/cgroup.controllers
if [ -z "${_REMPART_BENCH_NS:-}" ] && command -v crun >/dev/null &&
   [ -n "$(cat "$v2ctl" 2>/dev/null)" ] && [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] &&
   command -v unshare >/dev/null; then
        export _REMPART_BENCH_NS=1
        exec unshare --mount --propagation private -- "$0" "$@"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
crun_note=""
if [ "${_REMPART_BENCH_NS:-}" = 1 ]; then
        : >"$out/empty"
        if mount --bind "$out/empty" "$v2ctl"; then
                crun_note="crun: hybrid cgroup host; ran in a private mount namespace that hides $v2ctl (see the script)"
        else
                crun_note="crun: could not hide $v2ctl; crun will likely refuse to start"
        fi
fi

# --- payloads -----------------------------------------------------------------
# The static payload is copied into a directory of its own, which every
# sandbox exposes read-only at /opt (or, for firejail, whitelists in place).
payload=$out/payload
rm -rf "$payload"
mkdir -p "$payload"
chmod 755 "$out" "$payload"
have_static=0
if [ -x "$static_true" ]; then
        cp "$static_true" "$payload/bench-static-true"
        chmod 755 "$payload/bench-static-true"
        have_static=1
else
        note "bench-static-true not built (no static libc?): static lines skipped"
fi

# --- the commands -------------------------------------------------------------
names=() cmds=() kinds=() skipped=()
add() { # add NAME KIND(true|static) COMMAND...
        local name=$1 kind=$2
        shift 2
        local cmd
        cmd=$(printf '%q ' "$@")
        # Every command is run once first: hyperfine stops the whole
        # invocation at the first command that fails, and a failure here
        # should say why, not hide the other lines.
        local err
        if ! err=$("$@" 2>&1 >/dev/null); then
                skipped+=("$name: failed to run ($(echo "$err" | tail -n 2 | tr '\n' ' '))")
                return 0
        fi
        names+=("$name")
        cmds+=("${cmd% }")
        kinds+=("$kind")
}

add "bare /bin/true" true /bin/true
[ $have_static = 1 ] && add "bare static" static "$payload/bench-static-true"

# The built-in default profile: mount, pid, net, ipc, uts and cgroup
# namespaces, pivot_root onto a tmpfs root with /usr read-only, uid 65534,
# no capabilities, locked securebits, MDWE, Landlock (fs + net + scopes),
# the seccomp deny-list, its own cgroup with a device policy.
add "rempart-jail /bin/true" true "$jail" -- /bin/true
[ $have_static = 1 ] && add "rempart-jail static" static "$jail" --ro "$payload:/opt" -- /opt/bench-static-true
if [ "$breakdown" = 1 ]; then
        add "rempart-jail -landlock" true "$jail" --set landlock.enabled=no -- /bin/true
        add "rempart-jail -seccomp" true "$jail" --set seccomp.enabled=no -- /bin/true
        add "rempart-jail -cgroup" true "$jail" --no-cgroup -- /bin/true
        add "rempart-jail -all3" true "$jail" --set landlock.enabled=no --set seccomp.enabled=no --no-cgroup -- /bin/true
fi

# bubblewrap, as close to the default profile as it goes when run by root:
# every namespace (--unshare-all, which includes a user namespace: bwrap
# can only change uid inside one), uid/gid 65534 (so no capabilities),
# the same binds and symlinks, /proc, a minimal /dev, a tmpfs /tmp, a new
# session, die-with-parent.  No seccomp, Landlock or cgroup: bwrap has no
# Landlock or cgroup support, and its --seccomp takes a descriptor that
# hyperfine -N cannot open.
bwrap_args=(--unshare-all --die-with-parent --new-session --hostname rempart
            --uid 65534 --gid 65534
            --ro-bind /usr /usr --ro-bind-try /etc/ld.so.cache /etc/ld.so.cache
            --symlink usr/bin /bin --symlink usr/sbin /sbin
            --symlink usr/lib /lib --symlink usr/lib64 /lib64
            --proc /proc --dev /dev --tmpfs /tmp --chdir /)
if command -v bwrap >/dev/null; then
        add "bwrap /bin/true" true bwrap "${bwrap_args[@]}" -- /bin/true
        [ $have_static = 1 ] && add "bwrap static" static bwrap "${bwrap_args[@]}" --ro-bind "$payload" /opt -- /opt/bench-static-true
else
        skipped+=("bwrap: not installed")
fi

# firejail without a profile, with its options closest to ours.  As root
# it keeps uid 0 (with every capability dropped): it has no option to
# switch to another user.  Its own files (/etc/firejail) are read on every
# start, which is part of its cost.
fj_args=(--quiet --noprofile --private --private-dev --private-tmp --net=none
         --ipc-namespace --caps.drop=all --nonewprivs --seccomp)
if command -v firejail >/dev/null; then
        add "firejail /bin/true" true firejail "${fj_args[@]}" /bin/true
        [ $have_static = 1 ] && add "firejail static" static firejail "${fj_args[@]}" "--whitelist=$payload" "$payload/bench-static-true"
else
        skipped+=("firejail: not installed")
fi

# crun: an OCI bundle per payload, root file system read-only with /usr
# (and /opt) bind-mounted, the same symlinks, namespaces pid, net, ipc,
# uts, mount and cgroup, uid 65534, no capabilities, no_new_privs, crun's
# own cgroup (created and removed on every run: "crun run" deletes the
# container when it exits, so one id serves every run).  No seccomp (the
# spec's "seccomp" section is left out, as "crun spec" does).
make_bundle() { # make_bundle DIR ARGV0 [OPT_DIR]
        local dir=$1 arg0=$2 optdir=${3:-}
        rm -rf "$dir"
        mkdir -p "$dir/rootfs/usr" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/tmp" \
                 "$dir/rootfs/opt" "$dir/rootfs/etc"
        : >"$dir/rootfs/etc/ld.so.cache"
        for l in bin sbin lib lib64; do ln -s "usr/$l" "$dir/rootfs/$l"; done
        (cd "$dir" && crun spec) || return 1
        python3 - "$dir/config.json" "$arg0" "$optdir" <<'EOF'
import json, sys
path, arg0, optdir = sys.argv[1:4]
with open(path) as f:
    c = json.load(f)
p = c["process"]
p["terminal"] = False
p["args"] = [arg0]
p["user"] = {"uid": 65534, "gid": 65534}
p["capabilities"] = {k: [] for k in p.get("capabilities", {})}
p["noNewPrivileges"] = True
p["env"] = ["PATH=/usr/bin:/bin", "HOME=/tmp"]
c["hostname"] = "rempart"
c["root"] = {"path": "rootfs", "readonly": True}
ns = c["linux"]["namespaces"]
if not any(n["type"] == "cgroup" for n in ns):
    ns.append({"type": "cgroup"})
keep = {"/proc", "/dev", "/dev/shm"}
mounts = [m for m in c["mounts"] if m["destination"] in keep]
mounts.append({"destination": "/usr", "type": "bind", "source": "/usr",
               "options": ["rbind", "ro", "nosuid", "nodev"]})
mounts.append({"destination": "/etc/ld.so.cache", "type": "bind", "source": "/etc/ld.so.cache",
               "options": ["bind", "ro", "nosuid", "nodev"]})
mounts.append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "nodev", "noexec"]})
if optdir:
    mounts.append({"destination": "/opt", "type": "bind", "source": optdir,
                   "options": ["rbind", "ro", "nosuid", "nodev"]})
c["mounts"] = mounts
with open(path, "w") as f:
    json.dump(c, f, indent=1)
EOF
}
crun_ids=()
if command -v crun >/dev/null; then
        if make_bundle "$out/crun-true" /bin/true; then
                id="rempart-bench-$$-true"
                crun_ids+=("$id")
                add "crun /bin/true" true crun run --bundle "$out/crun-true" "$id"
        fi
        if [ $have_static = 1 ] && make_bundle "$out/crun-static" /opt/bench-static-true "$payload"; then
                id="rempart-bench-$$-static"
                crun_ids+=("$id")
                add "crun static" static crun run --bundle "$out/crun-static" "$id"
        fi
else
        skipped+=("crun: not installed")
fi
cleanup() {
        local id
        for id in "${crun_ids[@]}"; do crun delete --force "$id" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# systemd-run --scope only puts the command in a transient cgroup (a scope
# cannot sandbox); it needs systemd as PID 1 to talk to.
if ! command -v systemd-run >/dev/null; then
        skipped+=("systemd-run: not installed")
elif [ ! -d /run/systemd/system ]; then
        skipped+=("systemd-run: not runnable here (PID 1 is not systemd, it is '$(cat /proc/1/comm)')")
else
        add "systemd-run --scope /bin/true" true systemd-run --quiet --scope /bin/true
        [ $have_static = 1 ] && add "systemd-run --scope static" static systemd-run --quiet --scope "$payload/bench-static-true"
fi

[ ${#names[@]} -gt 0 ] || die "nothing to run"

# --- run ------------------------------------------------------------------------
meta=$out/start-latency.meta.tsv
: >"$meta"
for i in "${!names[@]}"; do
        printf '%s\t%s\t%s\n' "${names[$i]}" "${kinds[$i]}" "${cmds[$i]}" >>"$meta"
done
{
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "kernel: $(uname -r)"
        echo "cpus: $(nproc)"
        echo "model: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
        echo "runs: $per_round x $rounds round(s), warmup $warmup"
        for t in bwrap firejail crun hyperfine; do
                command -v "$t" >/dev/null && echo "$t: $("$t" --version 2>&1 | head -n 1)"
        done
        echo "rempart-jail: $("$jail" --version 2>&1 | head -n 1)"
} >"$out/start-latency.env"

# Pinning hyperfine pins every command it starts (affinity is inherited).
pin=()
[ -n "$cpu" ] && pin=(taskset -c "$cpu")
n=${#names[@]}
rm -f "$out"/start-latency.round*.json
: >"$out/start-latency.log"
for ((r = 0; r < rounds; r++)); do
        args=()
        for ((k = 0; k < n; k++)); do
                i=$(((k + r) % n)) # rotate the order from one round to the next
                args+=(-n "${names[$i]}" "${cmds[$i]}")
        done
        note "round $((r + 1))/$rounds: $n commands x $per_round runs (log: $out/start-latency.log)"
        "${pin[@]}" hyperfine -N --style basic --warmup "$warmup" --runs "$per_round" \
                --export-json "$out/start-latency.round$r.json" "${args[@]}" \
                >>"$out/start-latency.log" 2>&1 ||
                die "hyperfine failed, see $out/start-latency.log"
done

# --- report ---------------------------------------------------------------------
{
        cat "$out/start-latency.env"
        echo
        for s in "${skipped[@]}"; do echo "skipped: $s"; done
        if [ -n "$crun_note" ]; then echo "$crun_note"; fi
        echo
        python3 "$here/report-latency.py" "$meta" "$out"/start-latency.round*.json
} | tee "$out/start-latency.txt"

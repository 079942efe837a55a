#!/bin/bash
# SPDX-License-Identifier: MIT
# Transfers between levels: rempart-xfer send (low -> high, through
# rempart-xferd) against cp, and cp followed by sync -f, side by side in
# the same run.  See bench/README.md ("Transfers between levels").
#
# Runs as root: the levels are started in development mode (rempartctl
# --dev) and rempart-xferd runs on the host, all from copies of the
# programs in a throw-away directory under BENCH_XFER_TMP.  The user is a
# bare uid (no account is created).
#
# Settings (environment):
#   BUILD                 meson build directory (default <repo>/build)
#   BENCH_OUT             results directory (default /tmp/rempart-bench)
#   BENCH_XFER_PARTS      which parts: big small lat (default all three)
#   BENCH_XFER_REPS       repetitions of big and small (default 5)
#   BENCH_XFER_LAT_RUNS   runs of each way for lat (default 50)
#   BENCH_XFER_MIB        size of the big file, MiB (default 1024)
#   BENCH_XFER_FILES      small files (default 10000) ...
#   BENCH_XFER_DIRS       ... spread over that many directories (default 100)
#   BENCH_XFER_KIB        size of each small file and of the latency file,
#                         KiB (default 4)
#   BENCH_XFER_UID        the user (default 61001)
#   BENCH_XFER_TMP        where the throw-away directory goes (default
#                         /var/tmp; not under /tmp: a level's system path
#                         cannot be under its private /tmp).  Source and
#                         target are on that file system.
#   BENCH_XFER_PROFILE    afterwards, that many more sends of the small
#                         file under perf trace record -a (every system
#                         call of the machine, with its duration), split
#                         into phases: where the latency goes (default 20;
#                         0: skip; skipped without perf).  Tracing slows
#                         every system call: never part of the measurement
#   BENCH_XFER_PROFILE_BIG  the same for the big file (default 1)
#   KEEP                  1: keep the throw-away directory and the decoded
#                         traces ($BENCH_OUT/xfer-perf-{tiny,big}.txt)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=${BUILD:-$repo/build}
out=${BENCH_OUT:-/tmp/rempart-bench}
parts=${BENCH_XFER_PARTS:-big small lat}
reps=${BENCH_XFER_REPS:-5}
lat_runs=${BENCH_XFER_LAT_RUNS:-50}
mib=${BENCH_XFER_MIB:-1024}
nfiles=${BENCH_XFER_FILES:-10000}
ndirs=${BENCH_XFER_DIRS:-100}
kib=${BENCH_XFER_KIB:-4}
uid=${BENCH_XFER_UID:-61001}
tmpbase=${BENCH_XFER_TMP:-/var/tmp}
prof_runs=${BENCH_XFER_PROFILE:-20}
prof_big=${BENCH_XFER_PROFILE_BIG:-1}
keep=${KEEP:-0}
py=/usr/bin/python3

die() { echo "xfer: $*" >&2; exit 1; }
note() { echo "xfer: $*" >&2; }

[ "$(id -u)" = 0 ] || die "run as root (levels are started in development mode, which needs root)"
[ -x "$py" ] || die "$py is needed"
for v in reps lat_runs mib nfiles ndirs kib uid prof_runs prof_big; do
        [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number: '${!v}'"
done
if [ "$reps" -lt 1 ] || [ "$lat_runs" -lt 1 ] || [ "$ndirs" -lt 1 ] || [ "$uid" -lt 1 ]; then
        die "repetitions, runs, directories and the uid must be at least 1"
fi
build=$(cd "$build" && pwd) || die "no build directory $build"
progs=("$build/src/ctl/rempartctl" "$build/src/ctl/rempart-level" "$build/src/broker/rempart-broker"
       "$build/src/xfer/rempart-xferd" "$build/src/xfer/rempart-xfer")
for f in "${progs[@]}"; do [ -x "$f" ] || die "$f not found: build first (meson compile -C $build)"; done
command -v setpriv >/dev/null || die "setpriv (util-linux) is needed"
case $tmpbase/ in /tmp/*) die "BENCH_XFER_TMP must not be under /tmp (a level cannot show it)" ;; esac

mkdir -p "$out"
out=$(cd "$out" && pwd)
W=$(mktemp -d "$tmpbase/rempart-xfer-bench.XXXXXX")
conf=$W/conf run=$W/run pol=$W/policy.d
lbin=$W/bin # shown in both levels (a system path): rempart-xfer and the timer
mkdir -p "$conf" "$run" "$pol" "$lbin" "$W/prog"
chmod 755 "$W" "$conf" "$lbin" "$pol"
# Copies: a rebuild during the run must neither break it nor mix versions.
cp "${progs[@]:0:4}" "$W/prog/"
cp "$build/src/xfer/rempart-xfer" "$here/xfer-helper.py" "$lbin/"
ctl=("$W/prog/rempartctl" -c "$conf" -r "$run")
admin=("${ctl[@]}" --dev --level-bin "$W/prog/rempart-level" --broker "$W/prog/rempart-broker")
asuser=(setpriv --reuid "$uid" --regid "$uid" --clear-groups)
for l in high low; do
        printf '[level]\nusers = %s\n[filesystem]\nsystem = /usr /etc %s\ndata = %s\n' \
                "$uid" "$lbin" "$W/state/$l" >"$conf/$l.conf"
done
# low -> high without a confirmation; quotas well above what is sent.
printf 'allow low high op=copy max_bytes=64G max_files=1000000\nconfirm high low op=copy\n' \
        >"$pol/10-bench.policy"
chmod 644 "$pol/10-bench.policy"

xferd_pid='' perf_pid='' shm=''
cleanup() {
        if [ -n "$perf_pid" ]; then
                kill -INT "$perf_pid" 2>/dev/null || true
                wait "$perf_pid" 2>/dev/null || true
        fi
        if [ -n "$shm" ]; then rm -rf "$shm"; fi
        for l in low high; do
                if [ -d "$run/$l" ]; then "${admin[@]}" stop "$l" >/dev/null 2>&1 || true; fi
        done
        if [ -n "$xferd_pid" ]; then
                kill "$xferd_pid" 2>/dev/null || true
                wait "$xferd_pid" 2>/dev/null || true
        fi
        if [ "$keep" = 1 ]; then note "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

"$W/prog/rempart-xferd" -c "$conf" -p "$pol" -r "$run" -a "$W/audit" -s "$W/xferd" -C "$W/xferd.sock" \
        >"$W/xferd.log" 2>&1 &
xferd_pid=$!
for ((i = 0; i < 100; i++)); do
        [ -S "$W/xferd.sock" ] && break
        kill -0 "$xferd_pid" 2>/dev/null || die "rempart-xferd stopped: $(cat "$W/xferd.log")"
        sleep 0.05
done
[ -S "$W/xferd.sock" ] || die "rempart-xferd is not ready: $(cat "$W/xferd.log")"
for l in high low; do
        "${admin[@]}" start "$l" >/dev/null || die "cannot start level $l (log: $run/$l/log)"
done

# --- the data, in the user's home in level low -------------------------------
lhome=$W/state/low/home/$uid
incoming=$W/state/high/home/$uid/Incoming/low
[ -d "$lhome" ] || die "no home $lhome after the level's start"
note "creating the data: $mib MiB, $nfiles files of $kib KiB in $ndirs directories"
head -c "$((mib * 1024 * 1024))" /dev/urandom >"$lhome/big.bin"
head -c "$((kib * 1024))" /dev/urandom >"$lhome/tiny.bin"
"$py" - "$lhome/small" "$nfiles" "$ndirs" "$((kib * 1024))" <<'EOF'
import os, sys
top, n, nd, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
os.mkdir(top)
for d in range(nd):
    os.mkdir(os.path.join(top, f"d{d:03d}"))
for i in range(n):
    with open(os.path.join(top, f"d{i % nd:03d}", f"f{i:05d}"), "wb") as f:
        f.write(os.urandom(size))
EOF
chown -R "$uid:$uid" "$lhome"
sync
# Warm caches: read everything once (no cache is ever dropped).
cat "$lhome/big.bin" >/dev/null
find "$lhome/small" -type f -exec cat {} + >/dev/null

{
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "kernel: $(uname -r), cpus: $(nproc), memory: $(free -m | awk '/^Mem:/ {print $2}') MiB"
        echo "model: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
        echo "file system: $(df -T "$W" | awk 'NR == 2 {print $2 " on " $1}'), $W"
        echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "caches: warm for every run (the sources were read beforehand; nothing is dropped)"
} >"$out/xfer.env"

# --- the measurement ---------------------------------------------------------------
raw=$out/xfer.tsv
timer=("${asuser[@]}" "${ctl[@]}" -T run low -- "$py" "$lbin/xfer-helper.py" timer "/home/$uid")
"$py" "$here/xfer-helper.py" drive --timer "$(printf '%q ' "${timer[@]}")" --raw "$raw" \
        --parts "$parts" --reps "$reps" --lat-runs "$lat_runs" --xfer "$lbin/rempart-xfer" --target high \
        --lv-home "/home/$uid" --home "$lhome" --incoming "$incoming" --trash "$W/trash" \
        --big big.bin --small small --tiny tiny.bin || die "the measurement failed (service log: $W/xferd.log)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/xfer.env"

report=$out/xfer.txt
{
        cat "$out/xfer.env"
        echo
        "$py" "$here/xfer-helper.py" report "$raw"
} | tee "$report"

# --- where the time goes (not a measurement: tracing slows everything) ----------
# perf trace record -a: every system call of the machine, with its
# duration, into a tmpfs (the file system under test must not get the
# trace's writes); decoded afterwards and split into the phases of each
# transfer.
profile() { # profile NAME RUNS TITLE
        local name=$1 runs=$2 title=$3 tag
        tag=${name%%.*}
        [ "$runs" -gt 0 ] || return 0
        if ! command -v perf >/dev/null; then
                echo "skipped: where the time goes: perf is not installed" | tee -a "$report"
                return 0
        fi
        shm=$(mktemp -d /dev/shm/rempart-xfer-perf.XXXXXX)
        perf trace record -a -o "$shm/trace.data" >"$shm/record.log" 2>&1 &
        perf_pid=$!
        sleep 2
        kill -0 "$perf_pid" 2>/dev/null || die "perf trace record failed: $(cat "$shm/record.log")"
        "$py" "$here/xfer-helper.py" drive --timer "$(printf '%q ' "${timer[@]}")" --raw "$out/xfer-prof-$tag.tsv" \
                --parts prof --prof "$name" --reps 1 --lat-runs "$runs" --xfer "$lbin/rempart-xfer" --target high \
                --lv-home "/home/$uid" --home "$lhome" --incoming "$incoming" --trash "$W/trash" \
                --big big.bin --small small --tiny tiny.bin || die "the traced sends failed"
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
        perf_pid=''
        perf trace -i "$shm/trace.data" -o "$shm/trace.txt" >/dev/null 2>&1 || die "perf trace -i failed"
        if [ "$keep" = 1 ]; then cp "$shm/trace.txt" "$out/xfer-perf-$tag.txt"; fi
        {
                echo
                echo "== where the time goes: $title, $runs send(s) under perf trace record -a"
                "$py" "$here/xfer-helper.py" report "$out/xfer-prof-$tag.tsv" | sed '/^$/d'
                "$py" "$here/xfer-helper.py" perf-report "$shm/trace.txt" ||
                        echo "(no breakdown: the trace could not be split into transfers)"
        } 2>&1 | tee -a "$report"
        rm -rf "$shm"
        shm=''
}
profile tiny.bin "$prof_runs" "the small file"
profile big.bin "$prof_big" "the big file"
note "results: $report"

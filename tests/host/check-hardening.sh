#!/bin/bash
# Check that the built programs carry the hardening the project requires,
# read from the ELF files themselves (not from the build flags).
set -u
BUILD=${1:-build}
n=0 rc=0
check() {
        local name=$1; shift
        n=$((n + 1))
        if "$@"; then echo "ok $n - hardening/$name"; else echo "not ok $n - hardening/$name"; rc=1; fi
}
for bin in "$BUILD/src/jail/rempart-jail" "$BUILD/src/init/rempart-init"; do
        b=$(basename "$bin")
        h=$(readelf -h "$bin"); d=$(readelf -d "$bin"); l=$(readelf -lW "$bin"); s=$(readelf -sW --dyn-syms "$bin"); nt=$(readelf -n "$bin")
        check "$b/pie" grep -q 'Type:.*DYN' <<<"$h"
        check "$b/relro" grep -q 'GNU_RELRO' <<<"$l"
        check "$b/bind-now" grep -Eq 'BIND_NOW|FLAGS_1.*NOW' <<<"$d"
        check "$b/noexec-stack" bash -c "grep GNU_STACK <<<'$(grep GNU_STACK <<<"$l")' | grep -vq RWE"
        check "$b/stack-protector" grep -q '__stack_chk_fail' <<<"$s"
        check "$b/fortify" grep -Eq '__[a-z_]+_chk@' <<<"$s"
        check "$b/cet-ibt-shstk" grep -q 'IBT, SHSTK' <<<"$nt"
done
exit $rc

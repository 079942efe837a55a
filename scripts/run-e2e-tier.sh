#!/bin/bash
# End-to-end tier: make the project's Secure Boot keys if there are none,
# build the test variant of the image (cached, incremental), boot it under
# OVMF Secure Boot + swtpm and check it from the serial console (TAP).
set -u
cd "$(dirname "$0")/.."
if [ ! -f keys/db.key ]; then
        ./image/keys.sh >/dev/null || { echo "not ok 1 - e2e/keys"; exit 1; }
fi
start=$SECONDS
if ! TEST=1 ./image/build.sh >build-logs/image-build.log 2>&1; then
        echo "not ok 1 - e2e/image-build (see build-logs/image-build.log)"
        tail -n 20 build-logs/image-build.log
        exit 1
fi
echo "# image built in $((SECONDS - start)) s"
exec ./tests/e2e/run-e2e.sh build-image/test/disk.img

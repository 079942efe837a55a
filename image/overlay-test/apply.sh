#!/bin/sh
# TEST OVERLAY - applied only by `TEST=1 image/build-rootfs.sh`, never to
# production images. It adds the login path the end-to-end tests use to run
# commands inside the booted image: an unprivileged user `rempart-test`
# (password `rempart-test`) that can log in on the serial console (ttyS0,
# where systemd starts serial-getty because of console=ttyS0). The user gets no
# extra group and no privilege: the tests check what an ordinary user sees.
# Root stays locked in the test image too (the tests check that root cannot log in).
set -eu
root=$1
[ -d "$root/etc" ] || { echo "apply.sh: $root is not a root tree" >&2; exit 1; }
chroot "$root" useradd --no-create-home --home-dir / --shell /bin/sh \
	--comment 'Rempart e2e test user (TEST IMAGE ONLY)' rempart-test
# Fixed, public password: the account exists only in test images.
hash=$(openssl passwd -6 -salt rempartTEST rempart-test)
chroot "$root" usermod -p "$hash" rempart-test
echo "TEST IMAGE - not for production" > "$root/etc/rempart-test-image"

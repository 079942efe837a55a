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

# Root-only sysctls (net.core.bpf_jit_harden and the like are mode 0600): a
# oneshot unit, after systemd-sysctl, copies the values of every key of the
# hardening profile to /run/rempart-test/sysctl.txt, world-readable, so the
# unprivileged test user can check them. It reads; it changes nothing.
mkdir -p "$root/usr/libexec/rempart-test"
cat > "$root/usr/libexec/rempart-test/sysctl-snapshot" <<'EOS'
#!/bin/sh
# TEST IMAGE ONLY: copy the values of the hardening profile's sysctls to a
# world-readable file for the e2e tests (some keys are mode 0600).
set -u
umask 022
mkdir -p /run/rempart-test
sed -n 's/^[[:space:]]*\([a-z0-9_.]*\)[[:space:]]*=.*/\1/p' /etc/sysctl.d/90-rempart-hardening.conf |
while read -r k; do
	printf '%s=%s\n' "$k" "$(head -n1 "/proc/sys/$(echo "$k" | tr . /)" 2>&1)"
done > /run/rempart-test/sysctl.txt.tmp && mv /run/rempart-test/sysctl.txt.tmp /run/rempart-test/sysctl.txt
EOS
chmod 755 "$root/usr/libexec/rempart-test/sysctl-snapshot"
cat > "$root/etc/systemd/system/rempart-test-sysctl-snapshot.service" <<'EOU'
[Unit]
Description=Rempart TEST IMAGE: snapshot of the hardening sysctls for the e2e tests
After=systemd-sysctl.service
DefaultDependencies=no
Before=sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/libexec/rempart-test/sysctl-snapshot

[Install]
WantedBy=sysinit.target
EOU
chroot "$root" systemctl enable rempart-test-sysctl-snapshot.service >/dev/null 2>&1 ||
	{ echo "apply.sh: cannot enable rempart-test-sysctl-snapshot.service" >&2; exit 1; }

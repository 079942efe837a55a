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

# Levels (TEST IMAGE ONLY): the test user may enter both levels (the e2e
# tests use `rempartctl run`), and may read the journal (restarts are
# checked there). A second user, rempart-lvl, has the production login shell
# (the level menu) to test the login path on the serial console.
chroot "$root" usermod -a -G systemd-journal rempart-test
# The audit role too (TEST IMAGE ONLY): the e2e tests read the audit log
# (rempart-audit show, verify --no-key) as a member of rempart-audit.
chroot "$root" usermod -a -G rempart-audit rempart-test
chroot "$root" useradd --no-create-home --home-dir / --shell /usr/bin/rempart-login \
	--comment 'Rempart e2e level login user (TEST IMAGE ONLY)' rempart-lvl
hash=$(openssl passwd -6 -salt rempartLVL rempart-lvl)
chroot "$root" usermod -p "$hash" rempart-lvl
for f in "$root"/etc/rempart/levels/*.conf; do
	sed -i 's/^users = .*/& rempart-test rempart-lvl/' "$f"
done
# A service in "low" run as the test user, for the restart tests.
cat >> "$root/etc/rempart/levels/low.conf" <<'EOL'

# TEST IMAGE ONLY: a service the e2e tests kill to see systemd restart it.
[service ticker]
exec = /usr/bin/sleep infinity
user = rempart-test
EOL
# Root-side test agent: kills a level's init on request of the test user
# (a level's init is root's: the test user cannot signal it). It accepts
# only "kill-level-init NAME", "run-level-matrix" (the isolation matrix of
# tests/levels, which needs root to play several users), "verify-audit"
# (the audit log verified with its key) and "kill-xfer-parser" (the
# transfer parser killed mid-transfer) on a FIFO writable by group
# rempart-test.
cat > "$root/usr/libexec/rempart-test/test-agent" <<'EOS'
#!/bin/sh
# TEST IMAGE ONLY: see image/overlay-test/apply.sh.
set -u
fifo=/run/rempart-test/agent
mkdir -p /run/rempart-test
rm -f "$fifo"
mkfifo -m 0620 "$fifo"
chgrp rempart-test "$fifo"
while :; do
	while read -r cmd name; do
		case "$cmd:$name" in
		kill-level-init:[a-z]*)
			case $name in *[!a-z0-9_-]*) echo "test-agent: bad name" >&2; continue ;; esac
			runner=$(sed -n 's/^runner=//p' "/run/rempart/levels/$name/state" 2>/dev/null)
			init=$(ps -o pid= --ppid "${runner:-0}" 2>/dev/null | head -n1 | tr -d ' ')
			if [ -n "$init" ]; then
				echo "test-agent: kill -9 $init (init of level $name, runner $runner)"
				kill -9 "$init"
			else
				echo "test-agent: level $name has no init" >&2
			fi
			;;
		run-level-matrix:)
			# The levels' isolation matrix (tests/levels/matrix.sh), as in
			# the VM tier, on this image's kernel and programs; results
			# (@@VMTEST lines) in /run/rempart-test/matrix.out.
			d=/usr/libexec/rempart-test/levels
			rm -f /run/rempart-test/matrix.out
			( VMTEST_LIB=$d/vmtest.sh MX_DIR=$d MX_CTL=/usr/bin/rempartctl \
				MX_LEVEL_BIN=/usr/libexec/rempart/rempart-level \
				MX_BROKER=/usr/libexec/rempart/rempart-broker \
				sh "$d/guest-levels.sh" > /run/rempart-test/matrix.tmp 2>&1
			  chmod 644 /run/rempart-test/matrix.tmp
			  mv /run/rempart-test/matrix.tmp /run/rempart-test/matrix.out ) &
			;;
		verify-audit:)
			# The audit log verified with its key (root's), for the
			# auditor test user: /run/rempart-test/audit-verify.out.
			{ /usr/bin/rempart-audit verify 2>&1; echo "rc=$?"; } > /run/rempart-test/audit-verify.tmp
			chmod 644 /run/rempart-test/audit-verify.tmp
			mv /run/rempart-test/audit-verify.tmp /run/rempart-test/audit-verify.out
			;;
		kill-xfer-parser:)
			# The transfer service's parser (it runs as the sending
			# user, but a level cannot see it): killed in the middle of
			# a transfer, for tests/e2e/xfer.py.
			n=$(pgrep -c -x xfer-parser)
			pkill -KILL -x xfer-parser
			echo "test-agent: killed $n xfer-parser process(es)"
			;;
		*) echo "test-agent: refused: $cmd" >&2 ;;
		esac
	done < "$fifo"
done
EOS
chmod 755 "$root/usr/libexec/rempart-test/test-agent"
cat > "$root/etc/systemd/system/rempart-test-agent.service" <<'EOU'
[Unit]
Description=Rempart TEST IMAGE: test agent (kills a level's init on request)

[Service]
ExecStart=/usr/libexec/rempart-test/test-agent

[Install]
WantedBy=multi-user.target
EOU
chroot "$root" systemctl enable rempart-test-agent.service >/dev/null 2>&1 ||
	{ echo "apply.sh: cannot enable rempart-test-agent.service" >&2; exit 1; }

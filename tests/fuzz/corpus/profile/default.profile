# rempart-jail: the built-in default profile, written out.
# rempart-jail applies exactly these settings when run without --profile;
# a profile file is read on top of them, so it only states differences.
# Every key is documented in rempart-jail.profile(5).

[profile]
name = default
mode = best-effort

[namespaces]
# mount, pid, ipc, uts and cgroup namespaces are always private.
user = no
net = none
loopback = no
time = no
hostname = rempart

[filesystem]
ro = /usr
ro = ?/etc/ld.so.cache
symlink = usr/bin:/bin
symlink = usr/sbin:/sbin
symlink = usr/lib:/lib
symlink = usr/lib64:/lib64
tmp = yes
proc = yes
sys = none
dev_shm = yes
dev_pts = no
chdir = /

[devices]
allow = /dev/null
allow = /dev/zero
allow = /dev/full
allow = /dev/random
allow = /dev/urandom
allow = ?/dev/tty
policy = yes

[credentials]
user = 65534
group = 65534
caps =
mdwe = yes
exec_securebits = yes
new_session = yes
memfd_noexec = yes
die_with_parent = yes

[environment]
keep = TERM LANG LC_ALL
set = PATH=/usr/bin:/bin
set = HOME=/tmp

[rlimits]
core = 0

[landlock]
enabled = yes
filesystem = yes
# No port listed: no TCP bind or connect at all.
network = yes
scope_abstract_unix = yes
scope_signal = yes

[seccomp]
enabled = yes
mode = denylist
errno = EPERM

[cgroup]
enabled = yes
parent = rempart
pids_max = 1024

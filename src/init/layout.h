/* SPDX-License-Identifier: MIT */
/* The mount layout stage 1 builds under the new root (W^X):
 *
 *   /          squashfs on /dev/mapper/root   ro,nosuid,nodev        (exec: the system)
 *   /var       ext4 state partition            rw,nosuid,nodev,noexec
 *   /run       tmpfs                           rw,nosuid,nodev,noexec
 *   /tmp       tmpfs                           rw,nosuid,nodev,noexec
 *   /dev       devtmpfs (moved)                rw,nosuid,noexec       (device nodes: no nodev)
 *   /dev/shm   tmpfs                           rw,nosuid,nodev,noexec
 *   /proc /sys (moved)                         nosuid,nodev,noexec
 *
 * Nothing writable is executable and nothing executable is writable. */
#pragma once

#include <stdbool.h>

#define SYSROOT "/sysroot"

struct layout_error {
        char msg[256];
};

/* Mount devtmpfs, proc and sysfs where they are not mounted yet (stage 1 as
 * PID 1 starts with nothing). */
int layout_mount_api(struct layout_error *err);

/* Mount the verified root (read-only) at sysroot, the state partition on
 * sysroot/var, tmpfs on sysroot/run and sysroot/tmp, and record the slot in
 * sysroot/run/rempart/slot.  The mount points must exist in the image. */
int layout_mount_root(const char *sysroot, const char *root_dev, const char *state_dev, char slot,
                      struct layout_error *err);

/* Check the flags of every mount made above (statvfs): the root read-only,
 * every writable mount noexec,nosuid,nodev.  with_dev: also check sysroot/dev
 * and sysroot/dev/shm (after switch_root preparation). */
int layout_verify(const char *sysroot, bool with_dev, struct layout_error *err);

/* Length of a machine id: 32 lowercase hex digits (systemd's format). */
#define MACHINE_ID_LEN 32

enum {
        MACHINE_ID_KEPT = 0,    /* the state partition's id is in use */
        MACHINE_ID_CREATED = 1, /* first boot: a new random id was stored */
        MACHINE_ID_NO_TARGET = 2, /* the image has no /etc/machine-id: nothing done */
};

/* Give the machine a persistent identity: read sysroot/var/lib/rempart/machine-id
 * (the state partition), create it with a random v4 id when missing or not a
 * valid id, and bind-mount it read-only over sysroot/etc/machine-id (an empty
 * file in the read-only image), so systemd uses it instead of a transient id.
 * The state partition is untrusted: no symbolic link is followed below /var
 * and only 32 hex digits are accepted.  id receives the id.  Returns one of
 * the MACHINE_ID_* values or -errno. */
int layout_machine_id(const char *sysroot, char id[static MACHINE_ID_LEN + 1], struct layout_error *err);

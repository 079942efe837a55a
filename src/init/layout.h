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

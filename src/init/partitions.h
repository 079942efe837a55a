/* SPDX-License-Identifier: MIT */
/* Find GPT partitions by PARTUUID (libblkid), without udev: stage 1 scans
 * /sys/class/block itself and probes every partition's table entry. */
#pragma once

#include <stddef.h>

struct partition {
        char devnode[64]; /* /dev/vda3 */
        char disk[32];    /* kernel name of the whole disk: vda */
};

/* Wait up to timeout_ms for a partition whose GPT entry UUID is uuid
 * (lowercase canonical form) to appear.  Returns 0, -ETIMEDOUT when none
 * appeared, -ENOTUNIQ when two partitions carry it (a cloned disk plugged
 * in: refuse rather than pick one), or -errno. */
int partition_find(const char *sysfs_block, const char *uuid, unsigned timeout_ms, struct partition *ret);

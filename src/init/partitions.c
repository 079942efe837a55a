/* SPDX-License-Identifier: MIT */
#include "partitions.h"

#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "macro.h"

#define POLL_INTERVAL_MS 20

static void blkid_free_probep(blkid_probe *pr) {
        if (*pr)
                blkid_free_probe(*pr);
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

/* 1 if /dev/<name> is a partition whose GPT entry UUID is uuid, 0 if not. */
static int probe_partition(const char *devnode, const char *uuid) {
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        const char *v = NULL;
        int r;

        pr = blkid_new_probe_from_filename(devnode);
        if (!pr)
                return errno == ENOENT || errno == ENXIO || errno == ENOMEDIUM ? 0 : negative_errno();
        /* Only the partition entry: no filesystem content is parsed (it is
         * not trusted and not needed). */
        if (blkid_probe_enable_superblocks(pr, 0) < 0 || blkid_probe_enable_partitions(pr, 1) < 0 ||
            blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS) < 0)
                return -EIO;
        r = blkid_do_safeprobe(pr);
        if (r < 0)
                return -EIO;
        if (r == 1)
                return 0; /* nothing found */
        if (blkid_probe_lookup_value(pr, "PART_ENTRY_SCHEME", &v, NULL) < 0 || strcmp(v, "gpt") != 0)
                return 0;
        if (blkid_probe_lookup_value(pr, "PART_ENTRY_UUID", &v, NULL) < 0)
                return 0;
        return strcasecmp(v, uuid) == 0;
}

/* One scan of the sysfs block class.  Returns the number of matches (0, 1,
 * 2 = "more than one") or -errno. */
static int scan(const char *sysfs_block, const char *uuid, struct partition *ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int found = 0;

        d = opendir(sysfs_block);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                char path[512], target[512], devnode[64];
                const char *slash;
                ssize_t l;
                int r;

                if (de->d_name[0] == '.' || strlen(de->d_name) > 31)
                        continue;
                /* Only partitions carry a "partition" attribute. */
                if (snprintf(path, sizeof path, "%s/%s/partition", sysfs_block, de->d_name) >= (int) sizeof path)
                        continue;
                if (access(path, F_OK) < 0)
                        continue;
                (void) snprintf(devnode, sizeof devnode, "/dev/%.31s", de->d_name);
                r = probe_partition(devnode, uuid);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                if (++found > 1)
                        return 2;
                /* The class entry links to .../block/<disk>/<partition>. */
                (void) snprintf(path, sizeof path, "%s/%s", sysfs_block, de->d_name);
                l = readlink(path, target, sizeof target - 1);
                if (l < 0)
                        return negative_errno();
                target[l] = '\0';
                slash = strrchr(target, '/');
                if (!slash || slash == target)
                        return -EIO;
                target[slash - target] = '\0';
                slash = strrchr(target, '/');
                slash = slash ? slash + 1 : target;
                if (strlen(slash) >= sizeof ret->disk)
                        return -ENAMETOOLONG;
                (void) snprintf(ret->disk, sizeof ret->disk, "%.31s", slash);
                (void) snprintf(ret->devnode, sizeof ret->devnode, "%.63s", devnode);
        }
        return found;
}

static unsigned long long now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * 1000ULL + (unsigned long long) ts.tv_nsec / 1000000ULL;
}

int partition_find(const char *sysfs_block, const char *uuid, unsigned timeout_ms, struct partition *ret) {
        unsigned long long deadline = now_ms() + timeout_ms;
        struct partition p = {};

        for (;;) {
                int r = scan(sysfs_block, uuid, &p);
                if (r < 0)
                        return r;
                if (r > 1)
                        return -ENOTUNIQ;
                if (r == 1) {
                        /* Scan again: a clone may have been enumerated while
                         * we were probing. */
                        r = scan(sysfs_block, uuid, &p);
                        if (r < 0)
                                return r;
                        if (r != 1)
                                return r > 1 ? -ENOTUNIQ : -EIO;
                        *ret = p;
                        return 0;
                }
                if (now_ms() >= deadline)
                        return -ETIMEDOUT;
                (void) nanosleep(&(struct timespec){ .tv_nsec = POLL_INTERVAL_MS * 1000000L }, NULL);
        }
}

/* SPDX-License-Identifier: MIT */
#include "layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fileio.h"
#include "macro.h"

#define W_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)

_printf_(3, 4) static int fail(struct layout_error *err, int r, const char *fmt, ...) {
        char msg[200];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        (void) snprintf(err->msg, sizeof err->msg, "%s: %s", msg, strerror(r < 0 ? -r : EINVAL));
        return r < 0 ? r : -EINVAL;
}

/* 1 if path is a mount point below "/" (its own st_dev), 0 if not or
 * missing.  The filesystem magic is no help here: devtmpfs and the initramfs
 * rootfs both report TMPFS_MAGIC. */
static int is_mount_point(const char *path) {
        struct stat st, root;

        if (stat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (stat("/", &root) < 0)
                return negative_errno();
        return st.st_dev != root.st_dev;
}

static int mount_api_one(const char *what, const char *where, const char *type, unsigned long flags,
                         const char *data, struct layout_error *err) {
        int r = is_mount_point(where);

        if (r < 0)
                return fail(err, r, "cannot stat %s", where);
        if (r > 0)
                return 0;
        if (mkdir(where, 0755) < 0 && errno != EEXIST)
                return fail(err, negative_errno(), "cannot create %s", where);
        if (mount(what, where, type, flags, data) < 0)
                return fail(err, negative_errno(), "cannot mount %s on %s", type, where);
        return 0;
}

int layout_mount_api(struct layout_error *err) {
        int r;

        r = mount_api_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755", err);
        if (r < 0)
                return r;
        r = mount_api_one("proc", "/proc", "proc", W_FLAGS, NULL, err);
        if (r < 0)
                return r;
        r = mount_api_one("sysfs", "/sys", "sysfs", W_FLAGS, NULL, err);
        if (r < 0)
                return r;
        /* libcryptsetup keeps its lock files here; /run is part of the
         * initramfs and disappears with it. */
        if (mkdir("/run", 0755) < 0 && errno != EEXIST)
                return fail(err, negative_errno(), "cannot create /run");
        if (mkdir("/run/cryptsetup", 0700) < 0 && errno != EEXIST)
                return fail(err, negative_errno(), "cannot create /run/cryptsetup");
        return 0;
}

static int sub(char *buf, size_t size, const char *sysroot, const char *rel) {
        if (snprintf(buf, size, "%s%s", sysroot, rel) >= (int) size)
                return -ENAMETOOLONG;
        return 0;
}

static int write_slot(const char *sysroot, char slot, struct layout_error *err) {
        char path[256], content[3] = { slot, '\n', '\0' };
        _cleanup_close_ int fd = -1;
        int r;

        if (sub(path, sizeof path, sysroot, "/run/rempart") < 0)
                return fail(err, -ENAMETOOLONG, "path");
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return fail(err, negative_errno(), "cannot create %s", path);
        if (sub(path, sizeof path, sysroot, "/run/rempart/slot") < 0)
                return fail(err, -ENAMETOOLONG, "path");
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return fail(err, negative_errno(), "cannot create %s", path);
        r = write_all(fd, content, 2);
        if (r < 0)
                return fail(err, r, "cannot write %s", path);
        return 0;
}

int layout_mount_root(const char *sysroot, const char *root_dev, const char *state_dev, char slot,
                      struct layout_error *err) {
        static const struct {
                const char *rel, *data;
        } tmpfs[] = {
                { "/run", "mode=0755" },
                { "/tmp", "mode=1777" },
        };
        char path[256];

        if (mkdir(sysroot, 0755) < 0 && errno != EEXIST)
                return fail(err, negative_errno(), "cannot create %s", sysroot);
        /* nosuid and nodev on the system too: Rempart ships no setuid
         * binary and no device node outside /dev. */
        if (mount(root_dev, sysroot, "squashfs", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
                return fail(err, negative_errno(), "cannot mount the verified root %s (squashfs) on %s", root_dev,
                            sysroot);
        if (sub(path, sizeof path, sysroot, "/var") < 0)
                return fail(err, -ENAMETOOLONG, "path");
        if (mount(state_dev, path, "ext4", W_FLAGS, "errors=remount-ro") < 0)
                return fail(err, negative_errno(), "cannot mount the state partition %s (ext4) on %s", state_dev,
                            path);
        for (size_t i = 0; i < ELEMENTSOF(tmpfs); i++) {
                if (sub(path, sizeof path, sysroot, tmpfs[i].rel) < 0)
                        return fail(err, -ENAMETOOLONG, "path");
                if (mount("tmpfs", path, "tmpfs", W_FLAGS, tmpfs[i].data) < 0)
                        return fail(err, negative_errno(), "cannot mount tmpfs on %s", path);
        }
        return write_slot(sysroot, slot, err);
}

static int check(const char *sysroot, const char *rel, unsigned long must, struct layout_error *err) {
        char path[256];
        struct statvfs sv;

        if (sub(path, sizeof path, sysroot, rel) < 0)
                return fail(err, -ENAMETOOLONG, "path");
        if (statvfs(path, &sv) < 0)
                return fail(err, negative_errno(), "cannot statvfs %s", path);
        if ((sv.f_flag & must) != must)
                return fail(err, -EPERM, "%s is mounted with flags 0x%lx, needs 0x%lx", path, sv.f_flag, must);
        return 0;
}

int layout_verify(const char *sysroot, bool with_dev, struct layout_error *err) {
        static const struct {
                const char *rel;
                unsigned long must;
                bool dev;
        } table[] = {
                { "", ST_RDONLY | ST_NOSUID | ST_NODEV, false },
                { "/var", ST_NOSUID | ST_NODEV | ST_NOEXEC, false },
                { "/run", ST_NOSUID | ST_NODEV | ST_NOEXEC, false },
                { "/tmp", ST_NOSUID | ST_NODEV | ST_NOEXEC, false },
                { "/dev", ST_NOSUID | ST_NOEXEC, true },
                { "/dev/shm", ST_NOSUID | ST_NODEV | ST_NOEXEC, true },
                { "/proc", ST_NOSUID | ST_NODEV | ST_NOEXEC, true },
                { "/sys", ST_NOSUID | ST_NODEV | ST_NOEXEC, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                if (table[i].dev && !with_dev)
                        continue;
                int r = check(sysroot, table[i].rel, table[i].must, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

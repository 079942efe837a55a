/* SPDX-License-Identifier: MIT */
#include "layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/random.h>
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

static bool machine_id_valid(const char *s, size_t len) {
        bool nonzero = false;

        if (len != MACHINE_ID_LEN)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
                nonzero |= s[i] != '0';
        }
        return nonzero; /* all zeros is systemd's "null" id */
}

/* Open (creating if needed) the directory name below dirfd, never through a
 * symbolic link. */
static int open_subdir(int dirfd, const char *name) {
        int fd;

        if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

/* Read the stored id: 0 and id filled, -ENOENT when missing, -EINVAL when
 * not an id (then it is replaced). */
static int read_machine_id(int dirfd, char id[static MACHINE_ID_LEN + 1]) {
        char buf[MACHINE_ID_LEN + 2];
        _cleanup_close_ int fd = openat(dirfd, "machine-id", O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        ssize_t n;

        if (fd < 0)
                return errno == ELOOP ? -EINVAL : negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_size > (off_t) sizeof buf)
                return -EINVAL;
        n = read(fd, buf, sizeof buf);
        if (n < 0)
                return negative_errno();
        if (n > 0 && buf[n - 1] == '\n')
                n--;
        if (!machine_id_valid(buf, (size_t) n))
                return -EINVAL;
        memcpy(id, buf, MACHINE_ID_LEN);
        id[MACHINE_ID_LEN] = '\0';
        return 0;
}

/* A random id with the RFC 4122 version 4 / variant 1 bits, as systemd makes. */
static int new_machine_id(char id[static MACHINE_ID_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        unsigned char b[MACHINE_ID_LEN / 2];

        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return errno ? negative_errno() : -EIO;
        b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
        b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
        for (size_t i = 0; i < sizeof b; i++) {
                id[2 * i] = hex[b[i] >> 4];
                id[2 * i + 1] = hex[b[i] & 0x0f];
        }
        id[MACHINE_ID_LEN] = '\0';
        return 0;
}

/* Store id atomically (temporary file, fsync, rename, fsync of the directory):
 * a crash leaves the old file or the new one. */
static int store_machine_id(int dirfd, const char *id) {
        char line[MACHINE_ID_LEN + 1];
        _cleanup_close_ int fd = -1;
        int r;

        memcpy(line, id, MACHINE_ID_LEN);
        line[MACHINE_ID_LEN] = '\n';
        if (unlinkat(dirfd, "machine-id.tmp", 0) < 0 && errno != ENOENT)
                return negative_errno();
        fd = openat(dirfd, "machine-id.tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return negative_errno();
        r = write_all(fd, line, sizeof line);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return negative_errno();
        if (renameat(dirfd, "machine-id.tmp", dirfd, "machine-id") < 0)
                return negative_errno();
        return fsync(dirfd) < 0 ? negative_errno() : 0;
}

int layout_machine_id(const char *sysroot, char id[static MACHINE_ID_LEN + 1], struct layout_error *err) {
        _cleanup_close_ int var = -1, lib = -1, dir = -1, src = -1;
        char target[256], var_path[256], src_path[64];
        struct stat st;
        int r, created = 0;

        if (sub(target, sizeof target, sysroot, "/etc/machine-id") < 0 ||
            sub(var_path, sizeof var_path, sysroot, "/var") < 0)
                return fail(err, -ENAMETOOLONG, "path");
        /* The target is a file of the verified image: only check it is one. */
        if (lstat(target, &st) < 0) {
                if (errno == ENOENT)
                        return MACHINE_ID_NO_TARGET;
                return fail(err, negative_errno(), "cannot stat %s", target);
        }
        if (!S_ISREG(st.st_mode))
                return fail(err, -EINVAL, "%s is not a regular file", target);

        var = open(var_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (var < 0)
                return fail(err, negative_errno(), "cannot open %s", var_path);
        lib = open_subdir(var, "lib");
        if (lib < 0)
                return fail(err, lib, "cannot open %s/lib", var_path);
        dir = open_subdir(lib, "rempart");
        if (dir < 0)
                return fail(err, dir, "cannot open %s/lib/rempart", var_path);

        r = read_machine_id(dir, id);
        if (r == -ENOENT || r == -EINVAL) {
                /* First boot, or a damaged file: a new identity beats no boot. */
                r = new_machine_id(id);
                if (r < 0)
                        return fail(err, r, "cannot generate a machine id");
                r = store_machine_id(dir, id);
                if (r < 0)
                        return fail(err, r, "cannot store %s/lib/rempart/machine-id", var_path);
                created = 1;
        } else if (r < 0)
                return fail(err, r, "cannot read %s/lib/rempart/machine-id", var_path);

        /* Bind the file just checked (by descriptor, not by path again). */
        src = openat(dir, "machine-id", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (src < 0)
                return fail(err, negative_errno(), "cannot open %s/lib/rempart/machine-id", var_path);
        (void) snprintf(src_path, sizeof src_path, "/proc/self/fd/%d", src);
        if (mount(src_path, target, NULL, MS_BIND, NULL) < 0)
                return fail(err, negative_errno(), "cannot bind the machine id onto %s", target);
        if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | W_FLAGS, NULL) < 0) {
                r = negative_errno();
                (void) umount2(target, MNT_DETACH); /* best effort: leave no writable bind behind */
                return fail(err, r, "cannot make the machine id bind mount read-only");
        }
        return created ? MACHINE_ID_CREATED : MACHINE_ID_KEPT;
}

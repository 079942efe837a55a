/* SPDX-License-Identifier: MIT */
#include "switchroot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "macro.h"

_printf_(3, 4) static int fail(struct layout_error *err, int r, const char *fmt, ...) {
        char msg[200];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        (void) snprintf(err->msg, sizeof err->msg, "%s: %s", msg, strerror(r < 0 ? -r : EINVAL));
        return r < 0 ? r : -EINVAL;
}

/* Best effort: the initramfs only costs memory once we have left it, so a
 * file that cannot be removed is not worth failing the boot for.  Never
 * crosses into another file system (dev). */
static void remove_children(int dfd, dev_t dev) {
        DIR *d = fdopendir(dfd);
        struct dirent *de;

        if (!d) {
                (void) close(dfd);
                return;
        }
        while ((de = readdir(d))) {
                struct stat st;
                bool is_dir;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
                        continue;
                is_dir = S_ISDIR(st.st_mode);
                if (is_dir) {
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                continue;
                        remove_children(sub, dev);
                }
                (void) unlinkat(dirfd(d), de->d_name, is_dir ? AT_REMOVEDIR : 0); /* best effort, see above */
        }
        (void) closedir(d);
}

int switch_root_exec(const char *sysroot, const char *const *candidates, struct layout_error *err) {
        static const char *const api[] = { "/dev", "/proc", "/sys" };
        static const char *const envp[] = { "HOME=/", "TERM=linux", NULL };
        _cleanup_close_ int old_root = -1;
        struct statfs sf;
        struct stat st;
        char path[256];
        int r;

        old_root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (old_root < 0)
                return fail(err, negative_errno(), "cannot open /");
        for (size_t i = 0; i < ELEMENTSOF(api); i++) {
                (void) snprintf(path, sizeof path, "%s%s", sysroot, api[i]);
                if (mount(api[i], path, NULL, MS_MOVE, NULL) < 0)
                        return fail(err, negative_errno(), "cannot move %s to %s", api[i], path);
        }
        (void) snprintf(path, sizeof path, "%s/dev/shm", sysroot);
        if (mkdir(path, 01777) < 0 && errno != EEXIST)
                return fail(err, negative_errno(), "cannot create %s", path);
        if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777") < 0)
                return fail(err, negative_errno(), "cannot mount tmpfs on %s", path);
        r = layout_verify(sysroot, true, err);
        if (r < 0)
                return r;

        if (chdir(sysroot) < 0)
                return fail(err, negative_errno(), "cannot enter %s", sysroot);
        if (mount(sysroot, "/", NULL, MS_MOVE, NULL) < 0)
                return fail(err, negative_errno(), "cannot move %s to /", sysroot);
        if (chroot(".") < 0 || chdir("/") < 0)
                return fail(err, negative_errno(), "cannot chroot into the new root");

        /* Free the initramfs, but only if it really is the initial rootfs. */
        if (fstatfs(old_root, &sf) == 0 && (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC) &&
            fstat(old_root, &st) == 0)
                remove_children(take_fd(&old_root), st.st_dev);

        for (const char *const *c = candidates; *c; c++) {
                if (access(*c, X_OK) < 0)
                        continue;
                /* execve's prototype predates const; the strings are not
                 * modified. */
                (void) execve(*c, (char *const[]){ (char *) *c, NULL }, (char *const *) envp);
                return fail(err, negative_errno(), "cannot execute %s", *c);
        }
        return fail(err, -ENOENT, "no init found in the new root");
}

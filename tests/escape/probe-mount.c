/* SPDX-License-Identifier: MIT */
/* Probes on mounts and roots: mounting (old and new API), chroot and fd
 * escapes to the host root, the host marker file through every route,
 * kernel tunables in /proc/sys and /sys, cgroup membership, mknod.
 *
 * Mount calls use targets for which the kernel checks the permission
 * (may_mount: CAP_SYS_ADMIN over the mount namespace) first and then fails
 * on the argument, so that nothing is ever mounted on the host. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

/* New mount API flags (kernel ABI), kept local to avoid the glibc 2.36
 * <sys/mount.h> / <linux/mount.h> clash. */
#define P_FSOPEN_CLOEXEC 0x1U
#define P_FSPICK_CLOEXEC 0x1U
#define P_OPEN_TREE_CLONE 0x1U
#define P_OPEN_TREE_CLOEXEC O_CLOEXEC
#define P_INVALID_FLAG 0x80000000U

static bool need_workdir(const struct probe_ctx *ctx, struct probe_result *r) {
        if (ctx->workdir[0])
                return true;
        set_result(r, PROBE_ERROR, "no scratch directory");
        return false;
}

/* tmpfs with an option it does not know: EINVAL comes after may_mount(). */
static void probe_mount_tmpfs(const struct probe_ctx *ctx, struct probe_result *r) {
        int rc;

        if (!need_workdir(ctx, r))
                return;
        rc = mount("rempart-probe", ctx->workdir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "rempart_probe_no_such_option");
        if (rc == 0) /* should not happen: undo at once */
                (void) umount2(ctx->workdir, MNT_DETACH);
        judge(r, rc, EINVAL, "mounted a tmpfs");
}

/* Remount of a path that is not a mount root: EINVAL after may_mount(). */
static void probe_remount_rw(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!need_workdir(ctx, r))
                return;
        judge(r, mount(NULL, ctx->workdir, NULL, MS_REMOUNT | MS_BIND, NULL), EINVAL, "remounted");
}

/* Bind mount of a source that does not exist: ENOENT after may_mount(). */
static void probe_bind_mount(const struct probe_ctx *ctx, struct probe_result *r) {
        char src[PATH_MAX];
        int rc;

        if (!need_workdir(ctx, r))
                return;
        (void) snprintf(src, sizeof(src), "%s/no-such-source", ctx->workdir);
        rc = mount(src, ctx->workdir, NULL, MS_BIND, NULL);
        if (rc == 0)
                (void) umount2(ctx->workdir, MNT_DETACH);
        judge(r, rc, ENOENT, "bind-mounted");
}

static void probe_fsopen(const struct probe_ctx *ctx, struct probe_result *r) {
        long fd = syscall(SYS_fsopen, "tmpfs", P_FSOPEN_CLOEXEC);

        if (fd >= 0)
                (void) close((int) fd); /* an unconfigured context: nothing mounted */
        judge(r, fd, 0, "fsopen(tmpfs) returned a context");
}

/* fspick on a path that is not a mount root: EINVAL after may_mount(). */
static void probe_fspick(const struct probe_ctx *ctx, struct probe_result *r) {
        long fd;

        if (!need_workdir(ctx, r))
                return;
        fd = syscall(SYS_fspick, AT_FDCWD, ctx->workdir, P_FSPICK_CLOEXEC);
        if (fd >= 0)
                (void) close((int) fd);
        judge(r, fd, EINVAL, "fspick returned a context");
}

/* fsmount with an invalid flag: EINVAL after may_mount(). */
static void probe_fsmount(const struct probe_ctx *ctx, struct probe_result *r) {
        long fd = syscall(SYS_fsmount, -1, P_INVALID_FLAG, 0);

        if (fd >= 0)
                (void) close((int) fd);
        judge(r, fd, EINVAL, "fsmount");
}

/* A detached clone of our scratch directory: freed on close. */
static void probe_open_tree_clone(const struct probe_ctx *ctx, struct probe_result *r) {
        long fd;

        if (!need_workdir(ctx, r))
                return;
        fd = syscall(SYS_open_tree, AT_FDCWD, ctx->workdir, P_OPEN_TREE_CLONE | P_OPEN_TREE_CLOEXEC);
        if (fd >= 0)
                (void) close((int) fd);
        judge(r, fd, 0, "open_tree(OPEN_TREE_CLONE) cloned a mount");
}

/* move_mount with an invalid flag: EINVAL after may_mount(). */
static void probe_move_mount(const struct probe_ctx *ctx, struct probe_result *r) {
        long rc = syscall(SYS_move_mount, -1, "", -1, "", P_INVALID_FLAG);
        judge(r, rc, EINVAL, "move_mount");
}

/* umount of a path that is not a mount point: EINVAL after may_mount(). */
static void probe_umount(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!need_workdir(ctx, r))
                return;
        judge(r, umount2(ctx->workdir, 0), EINVAL, "unmounted");
}

/* pivot_root to a path that does not exist: ENOENT after may_mount(). */
static void probe_pivot_root(const struct probe_ctx *ctx, struct probe_result *r) {
        char p[PATH_MAX];

        if (!need_workdir(ctx, r))
                return;
        (void) snprintf(p, sizeof(p), "%s/no-such-root", ctx->workdir);
        judge(r, syscall(SYS_pivot_root, p, p), ENOENT, "pivot_root");
}

/* The probe runs in a disposable child: a chroot dies with it. */
static void probe_chroot(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!need_workdir(ctx, r))
                return;
        judge(r, chroot(ctx->workdir), 0, "chroot succeeded");
}

/* The classic: keep a descriptor on the old root, chroot below it, fchdir
 * back out and walk up with "..", then chroot there. */
static void probe_chroot_fd_escape(const struct probe_ctx *ctx, struct probe_result *r) {
        int root;

        if (!ctx->marker) {
                set_result(r, PROBE_SKIP, "no --marker");
                return;
        }
        if (!need_workdir(ctx, r))
                return;
        root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0) {
                set_result(r, PROBE_ERROR, "open /: %s", errname(errno));
                return;
        }
        if (chroot(ctx->workdir) < 0) {
                judge(r, -1, 0, "");
                return;
        }
        if (fchdir(root) < 0) {
                set_result(r, PROBE_ERROR, "fchdir: %s", errname(errno));
                return;
        }
        for (int i = 0; i < 64; i++)
                if (chdir("..") < 0)
                        break;
        if (chroot(".") < 0) {
                set_result(r, PROBE_ERROR, "chroot(.): %s", errname(errno));
                return;
        }
        judge_visible(r, access(ctx->marker, F_OK), "out of the chroot: host marker visible");
}

/* Without chroot: walk ".." from "/" and look for the host marker. */
static void probe_dotdot_walk(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!ctx->marker) {
                set_result(r, PROBE_SKIP, "no --marker");
                return;
        }
        if (chdir("/") < 0) {
                set_result(r, PROBE_ERROR, "chdir /: %s", errname(errno));
                return;
        }
        for (int i = 0; i < 64; i++)
                if (chdir("..") < 0)
                        break;
        judge_visible(r, access(ctx->marker + strspn(ctx->marker, "/"), F_OK),
                      "host marker reachable by walking ..");
}

static void probe_marker_direct(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!ctx->marker) {
                set_result(r, PROBE_SKIP, "no --marker");
                return;
        }
        judge_visible(r, access(ctx->marker, F_OK), "host marker visible");
}

static void marker_via(const char *root, const struct probe_ctx *ctx, struct probe_result *r) {
        char p[PATH_MAX];

        (void) snprintf(p, sizeof(p), "%s%s", root, ctx->marker);
        judge_visible(r, access(p, F_OK), "");
        if (r->status == PROBE_ALLOWED)
                set_result(r, PROBE_ALLOWED, "host marker visible as %s", p);
}

static void probe_marker_via_proc1_root(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!ctx->marker) {
                set_result(r, PROBE_SKIP, "no --marker");
                return;
        }
        marker_via("/proc/1/root", ctx, r);
}

static void probe_marker_via_hostpid_root(const struct probe_ctx *ctx, struct probe_result *r) {
        char root[64];

        if (!ctx->marker || !ctx->host_pid) {
                set_result(r, PROBE_SKIP, "no --marker or --host-pid");
                return;
        }
        (void) snprintf(root, sizeof(root), "/proc/%d/root", (int) ctx->host_pid);
        marker_via(root, ctx, r);
}

/* Descriptors >= 3 leaked into the jail (the driver passes a directory fd
 * on the host root as fd 3): through a directory fd, the host is open. */
static void probe_inherited_fd(const struct probe_ctx *ctx, struct probe_result *r) {
        if (ctx->n_inherited == 0) {
                set_result(r, PROBE_DENIED, "no descriptor >= 3 inherited");
                return;
        }
        set_result(r, PROBE_ALLOWED, "inherited fds:");
        for (unsigned i = 0; i < ctx->n_inherited; i++) {
                int fd = ctx->inherited[i];
                struct stat st;
                bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
                bool marker = dir && ctx->marker && faccessat(fd, ctx->marker + strspn(ctx->marker, "/"), F_OK, 0) == 0;
                append_detail(r, " %d%s%s", fd, dir ? "(directory)" : "", marker ? "(host marker reachable)" : "");
        }
}

static void probe_mknod_char(const struct probe_ctx *ctx, struct probe_result *r) {
        char p[PATH_MAX];
        int rc;

        if (!need_workdir(ctx, r))
                return;
        (void) snprintf(p, sizeof(p), "%s/null-node", ctx->workdir);
        rc = mknod(p, S_IFCHR | 0600, makedev(1, 3));
        if (rc == 0)
                (void) unlink(p);
        judge(r, rc, 0, "created a character device node (1,3)");
}

/* Open for writing, never write. */
static void open_wr_visible(const char *const *paths, struct probe_result *r) {
        int err = ENOENT;

        for (; *paths; paths++) {
                int fd = open(*paths, O_WRONLY | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0) {
                        (void) close(fd);
                        set_result(r, PROBE_ALLOWED, "opened %s for writing", *paths);
                        return;
                }
                if (errno != ENOENT)
                        err = errno;
        }
        judge_visible_err(r, -1, err, "");
}

static void probe_write_proc_sys(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char *const p[] = { "/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", NULL };
        open_wr_visible(p, r);
}

static void probe_write_sysrq(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char *const p[] = { "/proc/sysrq-trigger", NULL };
        open_wr_visible(p, r);
}

static void probe_write_sys(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char *const p[] = { "/sys/kernel/uevent_helper", "/sys/kernel/mm/ksm/run",
                                         "/sys/class/net/lo/mtu", "/sys/kernel/profiling", NULL };
        open_wr_visible(p, r);
}

/* Joining another cgroup (cgroup.procs) is how a process would leave its
 * limits; look for every cgroup mount we can see. */
static void probe_cgroup_escape(const struct probe_ctx *ctx, struct probe_result *r) {
        char line[4096], p[PATH_MAX + 32];
        FILE *f = fopen("/proc/self/mountinfo", "re");
        const char *paths[3] = { NULL };
        bool found = false;

        if (f) {
                while (!found && fgets(line, sizeof(line), f)) {
                        char mnt[PATH_MAX], type[64];
                        const char *sep = strstr(line, " - ");
                        if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
                            sscanf(sep + 3, "%63s", type) != 1)
                                continue;
                        if (strcmp(type, "cgroup2") == 0 || strcmp(type, "cgroup") == 0) {
                                (void) snprintf(p, sizeof(p), "%s/cgroup.procs", mnt);
                                found = true;
                        }
                }
                (void) fclose(f);
        }
        paths[0] = found ? p : "/sys/fs/cgroup/cgroup.procs";
        open_wr_visible(paths, r);
}

/* open_by_handle_at needs CAP_DAC_READ_SEARCH: with a real handle of "/"
 * it opens a file without any path walk (the "shocker" escape). */
static void probe_open_by_handle_at(const struct probe_ctx *ctx, struct probe_result *r) {
        struct {
                struct file_handle fh;
                unsigned char buf[128];
        } h;
        int mount_id, mfd, fd;

        memset(&h, 0, sizeof(h));
        h.fh.handle_bytes = sizeof(h.buf);
        if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) < 0) {
                /* No handle for this file system: a made-up one still
                 * reaches the capability check. */
                h.fh.handle_bytes = 8;
                h.fh.handle_type = 1;
        }
        mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (mfd < 0) {
                set_result(r, PROBE_ERROR, "open /: %s", errname(errno));
                return;
        }
        fd = open_by_handle_at(mfd, &h.fh, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                (void) close(fd);
        judge(r, fd, ESTALE, "opened / by file handle");
        (void) close(mfd);
}

const struct probe probes_mount[] = {
        { "mount_tmpfs", probe_mount_tmpfs, "mount(2) a tmpfs (bad option: EINVAL past the check)", 0, false },
        { "remount_rw", probe_remount_rw, "MS_REMOUNT|MS_BIND (non-root path: EINVAL past the check)", 0, false },
        { "bind_mount", probe_bind_mount, "MS_BIND (missing source: ENOENT past the check)", 0, false },
        { "fsopen", probe_fsopen, "fsopen(\"tmpfs\")", 0, false },
        { "fspick", probe_fspick, "fspick (non-root path: EINVAL past the check)", 0, false },
        { "fsmount", probe_fsmount, "fsmount (bad flag: EINVAL past the check)", 0, false },
        { "open_tree_clone", probe_open_tree_clone, "open_tree(OPEN_TREE_CLONE)", 0, false },
        { "move_mount", probe_move_mount, "move_mount (bad flag: EINVAL past the check)", 0, false },
        { "umount", probe_umount, "umount2 (not a mount point: EINVAL past the check)", 0, false },
        { "pivot_root", probe_pivot_root, "pivot_root (missing path: ENOENT past the check)", 0, false },
        { "chroot", probe_chroot, "chroot into a scratch directory", 0, false },
        { "chroot_fd_escape", probe_chroot_fd_escape, "chroot + fchdir(old root fd) + .. walk to the host root",
          0, false },
        { "dotdot_walk", probe_dotdot_walk, "walk .. from / and look for the host marker", 0, false },
        { "marker_direct", probe_marker_direct, "see the host marker file by its path", 0, false },
        { "marker_via_proc1_root", probe_marker_via_proc1_root, "see the host marker via /proc/1/root", 0,
          false },
        { "marker_via_hostpid_root", probe_marker_via_hostpid_root,
          "see the host marker via /proc/<host-pid>/root", 0, false },
        { "inherited_fd", probe_inherited_fd, "use a descriptor >= 3 inherited from outside", 0, false },
        { "mknod_char", probe_mknod_char, "mknod a character device", 0, false },
        { "write_proc_sys", probe_write_proc_sys, "open /proc/sys/kernel/hostname for writing", 0, false },
        { "write_sysrq", probe_write_sysrq, "open /proc/sysrq-trigger for writing", 0, false },
        { "write_sys", probe_write_sys, "open a /sys attribute for writing", 0, false },
        { "cgroup_escape", probe_cgroup_escape, "open a cgroup.procs for writing (move to another cgroup)", 0,
          false },
        { "open_by_handle_at", probe_open_by_handle_at, "open / by file handle (CAP_DAC_READ_SEARCH)", 0, false },
        { NULL, NULL, NULL, 0, false },
};

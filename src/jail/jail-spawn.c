/* SPDX-License-Identifier: MIT */
#include "jail-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "missing.h"

uint64_t spawn_namespace_flags(const struct jail_profile *p) {
        uint64_t f = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;

        if (p->net == JAIL_NET_NONE)
                f |= CLONE_NEWNET;
        if (p->userns)
                f |= CLONE_NEWUSER;
        /* The time namespace is created later by the jail's init with
         * unshare(), because offsets must be written before any process
         * lives in it. */
        return f;
}

static long raw_clone3(struct clone_args *args) {
        return syscall(__NR_clone3, args, sizeof *args);
}

int spawn_clone(uint64_t ns_flags, int cgroup_fd, struct spawn_result *res) {
        int pidfd = -1;
        struct clone_args args = {
                .flags = CLONE_PIDFD | ns_flags,
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
        };
        long pid;

        res->into_cgroup = false;
        if (cgroup_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t) cgroup_fd;
        }
        pid = raw_clone3(&args);
        if (pid < 0 && cgroup_fd >= 0 && (errno == EINVAL || errno == EOPNOTSUPP || errno == EBUSY)) {
                /* Older kernel or a cgroup that cannot take processes
                 * directly: the caller moves the child before letting it run. */
                args.flags &= ~(uint64_t) CLONE_INTO_CGROUP;
                args.cgroup = 0;
                pid = raw_clone3(&args);
        } else if (pid >= 0 && cgroup_fd >= 0)
                res->into_cgroup = true;
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                return 0;
        res->pid = (pid_t) pid;
        res->pidfd = pidfd;
        return 1;
}

static int write_map(int dirfd, const char *file, const struct jail_idmap *m, unsigned n) {
        char buf[8 * 40] = "";
        size_t used = 0;

        for (unsigned i = 0; i < n; i++) {
                int w = snprintf(buf + used, sizeof buf - used, "%u %u %u\n", m[i].inside, m[i].outside, m[i].count);
                if (w < 0 || (size_t) w >= sizeof buf - used)
                        return -E2BIG;
                used += (size_t) w;
        }
        return write_string_at(dirfd, file, buf);
}

int spawn_write_idmaps(const struct jail_profile *p, const struct spawn_result *res) {
        char path[64];
        _cleanup_close_ int dirfd = -1;
        int r;

        (void) snprintf(path, sizeof path, "/proc/%d", (int) res->pid);
        dirfd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        if (dirfd < 0)
                return negative_errno();
        /* The child cannot exit before we tell it to go, but verify through
         * the pidfd that /proc/PID is still our child (pid not recycled). */
        if (rp_pidfd_send_signal(res->pidfd, 0, NULL, 0) < 0)
                return negative_errno();
        if (p->n_groups == 0) {
                r = write_string_at(dirfd, "setgroups", "deny");
                if (r < 0)
                        return r;
        }
        r = write_map(dirfd, "uid_map", p->uid_map, p->n_uid_map);
        if (r < 0)
                return r;
        return write_map(dirfd, "gid_map", p->gid_map, p->n_gid_map);
}

/* SPDX-License-Identifier: MIT */
/* clone3() with a pidfd, namespaces and (optionally) a target cgroup, and
 * the parent's side of user-namespace setup. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h"

struct spawn_result {
        pid_t pid;
        int pidfd;
        bool into_cgroup; /* CLONE_INTO_CGROUP was honoured */
};

/* Namespace flags (CLONE_NEW*) the profile asks for. */
uint64_t spawn_namespace_flags(const struct jail_profile *p);
/* fork-like clone3: returns 0 in the child, 1 in the parent (res filled),
 * or -errno.  cgroup_fd < 0 means no CLONE_INTO_CGROUP; if the kernel
 * refuses it (EINVAL/EOPNOTSUPP/ENOSYS path), retries without and reports
 * res->into_cgroup = false. */
int spawn_clone(uint64_t ns_flags, int cgroup_fd, struct spawn_result *res);
/* Write setgroups/uid_map/gid_map of the child (parent side), pinning the
 * process through its pidfd so that a recycled pid cannot be written to. */
int spawn_write_idmaps(const struct jail_profile *p, const struct spawn_result *res);

/* SPDX-License-Identifier: MIT */
/* One cgroup v2 per jail: created by the parent under the configured parent
 * cgroup, limits written, the child cloned straight into it
 * (CLONE_INTO_CGROUP), the BPF device program attached while the child sets
 * up.  On exit the whole cgroup is killed (cgroup.kill) and removed. */
#pragma once

#include "enforced.h"
#include "profile.h"

struct jail_cgroup {
        int dir_fd;          /* the jail's cgroup directory, -1 if none */
        int bpf_prog_fd;     /* device program, -1 if none */
        char path[256];      /* absolute path of the jail's cgroup */
};

#define JAIL_CGROUP_INIT { .dir_fd = -1, .bpf_prog_fd = -1, .path = "" }

/* Locate the cgroup2 mount (from /proc/self/mountinfo). */
int cgroup_find_mount(char *buf, size_t size);
/* Create the cgroup and apply limits; records outcomes in e (what could not
 * be enforced is FEATURE_UNAVAILABLE). Returns 0 or -errno (e.g. no cgroup2
 * at all: -ENOENT). */
int cgroup_create(const struct jail_profile *p, const char *jail_name, struct jail_cgroup *cg,
                  struct jail_enforced *e);
/* Load the BPF device program for the profile's devices (plus the pty
 * devices with dev_pts) and attach it.  Separate from cgroup_create() so
 * that the caller can do it while the jail's child builds its mounts: no
 * device is opened in the jail before the command runs.  Records the
 * outcome in e; returns 0 (a failure is reported, strict mode decides). */
int cgroup_attach_devices(const struct jail_profile *p, struct jail_cgroup *cg, struct jail_enforced *e);
/* Kill every process in the cgroup, wait until it is empty, remove it,
 * close fds.  Safe to call on a JAIL_CGROUP_INIT value. */
int cgroup_destroy(struct jail_cgroup *cg);

/* The device program: build the BPF instructions for the allowed devices
 * (exposed for unit tests).  Returns the number of instructions or -errno. */
struct bpf_insn;
int cgroup_device_prog_build(const struct jail_device *devs, unsigned n, struct bpf_insn *out, size_t max);

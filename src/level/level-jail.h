/* SPDX-License-Identifier: MIT */
/* From a level's configuration to the rempart-jail profile it runs in. */
#pragma once

#include <stdbool.h>

#include "level.h"
#include "profile.h"

struct level_jail_paths {
        const char *runtime;       /* RUNTIME (see level-runtime.h) */
        const char *broker_bin;    /* host path of rempart-broker */
        const char *cgroup_parent; /* relative to the cgroup v2 mount */
        bool dev;                  /* development mode: best-effort, not strict */
        bool check_host;           /* stat bind sources and devices (profile_validate) */
};

/* Fill p: the built-in default profile, then the level's view of the
 * system (read-only system paths, its data as /home and /var/lib/level,
 * noexec), its network, devices, limits, and the broker's credentials (uid
 * 0 with CAP_SETUID, CAP_SETGID and CAP_KILL only).  Validated with host
 * checks.  Returns 0 or -errno with err naming the cause. */
int level_build_profile(const struct level_config *l, const struct level_jail_paths *paths,
                        struct jail_profile *p, struct jail_error *err);

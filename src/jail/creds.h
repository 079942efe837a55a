/* SPDX-License-Identifier: MIT */
/* Privileges: rlimits, capabilities (bounding, inheritable, ambient),
 * locked securebits including the exec-control bits, uid/gid/groups,
 * no_new_privs, memory-deny-write-execute, fds, environment. */
#pragma once

#include "enforced.h"
#include "profile.h"

int creds_apply_rlimits(const struct jail_profile *p);
/* Drop everything not kept, lock securebits, switch ids, set no_new_privs
 * and MDWE.  Records outcomes in e.  Returns 0 or -errno; *step names the
 * failing step. */
int creds_drop(const struct jail_profile *p, struct jail_enforced *e, const char **step);
/* Mark every fd >= 3 close-on-exec, except those in the keep list and
 * except fd `except` (may be -1). */
int fds_close_on_exec(const struct jail_profile *p, int except);
/* Build the jail's environment from the allowlist and explicit settings.
 * Returns a NULL-terminated malloc'd array (strings point into environ or p). */
char **env_build(const struct jail_profile *p, char *const *host_env);

/* Capability names <-> numbers ("CAP_NET_BIND_SERVICE" or "net_bind_service"). */
int cap_from_name(const char *name);
const char *cap_to_name(int cap);

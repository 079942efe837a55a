/* SPDX-License-Identifier: MIT */
/* Build the jail's file system from an empty tmpfs root with the new mount
 * API, then pivot_root into it.  Called in the child, inside the new mount
 * namespace, while still privileged. */
#pragma once

#include "enforced.h"
#include "profile.h"

/* Does everything from "make / private" up to and including pivot_root and
 * detaching the old root; on return the process's root and cwd are the
 * jail root, which is read-only.  Returns 0 or -errno; on failure *step
 * names the failing step (static string) for the error message. */
int mounts_setup(const struct jail_profile *p, struct jail_enforced *e, const char **step);

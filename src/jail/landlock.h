/* SPDX-License-Identifier: MIT */
/* Landlock at the highest ABI the kernel offers.  File-system rules are
 * derived from the mount plan: read-only binds may be read and executed,
 * writable places may be written but never executed.  Called in the child
 * after pivot_root and after no_new_privs. */
#pragma once

#include "enforced.h"
#include "profile.h"

/* Highest Landlock ABI of the running kernel, 0 if Landlock is absent or
 * disabled. */
int landlock_abi_version(void);

/* Build and apply the ruleset; records what was enforced in e.  In best
 * effort mode missing features are only recorded; the caller decides about
 * strict mode from e.  Returns 0 or -errno. */
int landlock_apply(const struct jail_profile *p, struct jail_enforced *e);

/* SPDX-License-Identifier: MIT */
/* librempart-jail: run a command confined as described by a profile.
 *
 * Process layout:
 *   rempart-jail (parent, root, outside)  -- supervises via pidfd, forwards signals,
 *     |                                      owns the cgroup, writes the report
 *     +-- jail init (PID 1 of new pid ns) -- builds the mounts, drops privileges,
 *           |                                Landlock; then reaps and forwards signals
 *           +-- command                    -- seccomp loaded last, then execve
 */
#pragma once

#include <stdio.h>

#include "enforced.h"
#include "profile.h"

struct jail_run_options {
        const char *report_path;   /* write the JSON report here ("-" = stderr), or NULL */
        const char *seccomp_export; /* write the raw BPF filter here, or NULL */
        bool dry_run;               /* validate and build everything, start nothing */
};

/* Exit codes of rempart-jail itself (the command's status is propagated). */
#define JAIL_EXIT_USAGE 2    /* bad command line or profile: nothing started */
#define JAIL_EXIT_SETUP 125  /* the jail could not be set up: command not started */
#define JAIL_EXIT_NOEXEC 126 /* command found but not executable */
#define JAIL_EXIT_NOENT 127  /* command not found */

/* Run argv confined by p.  Returns the exit status to use (0..255). */
int jail_run(struct jail_profile *p, char *const argv[], const struct jail_run_options *opts);

/* Write the JSON report of what was enforced. */
int report_write_json(FILE *f, const struct jail_profile *p, const struct jail_enforced *e, int landlock_abi);

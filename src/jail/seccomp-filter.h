/* SPDX-License-Identifier: MIT */
/* The seccomp filter, built with libseccomp.  Compiled in the parent before
 * anything starts (so that a bad syscall name is a profile error), exported
 * as a BPF program, and loaded in the child as the very last step before
 * execve. */
#pragma once

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>

#include "profile.h"

struct jail_error;

struct seccomp_program {
        struct sock_filter *insns; /* malloc'd */
        size_t len;                /* number of instructions */
};

/* Build the filter described by p.  Returns 0 or -errno with err filled
 * (unknown syscall name, libseccomp failure). */
int seccomp_build(const struct jail_profile *p, struct seccomp_program *out, struct jail_error *err);
/* Export a libseccomp filter as a program (for filters built elsewhere,
 * e.g. the transfer parser's allowlist).  Returns 0 or -errno with err. */
int seccomp_ctx_export(scmp_filter_ctx ctx, struct seccomp_program *out, struct jail_error *err);
/* (Names avoid libseccomp's own seccomp_load/seccomp_export_pfc.)
 * Write the filter as readable pseudo-filter-code (libseccomp PFC) to fd. */
int seccomp_write_pfc(const struct jail_profile *p, int fd, struct jail_error *err);
/* Load a built program into the calling thread (requires no_new_privs). */
int seccomp_program_load(const struct seccomp_program *prog);
void seccomp_program_free(struct seccomp_program *prog);

/* Number of a system call on this architecture, including the ones newer
 * than libseccomp's tables; -ENOENT: known but absent on this architecture;
 * -EINVAL: unknown name. */
int seccomp_syscall_number(const char *name);

/* Names of the syscalls denied by default (NULL-terminated), for docs/tests. */
extern const char *const seccomp_default_denylist[];

/* SPDX-License-Identifier: MIT */
/* What was actually enforced.  Each setup step records the outcome of what
 * it asked the kernel for; the jail's PID 1 sends this record to the
 * supervising parent, which turns it into the --report JSON and, in strict
 * mode, refuses to run when something requested is missing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENFORCED_MAX_NOTES 24
#define ENFORCED_NOTE_MAX 160

enum feature_state {
        FEATURE_OFF = 0,         /* not requested by the profile */
        FEATURE_ENFORCED = 1,    /* requested and in force */
        FEATURE_UNAVAILABLE = 2, /* requested, the kernel cannot provide it */
        FEATURE_PARTIAL = 3,     /* requested, in force with reduced coverage (see notes) */
};

struct jail_enforced {
        /* namespaces */
        enum feature_state ns_mount, ns_pid, ns_net, ns_ipc, ns_uts, ns_cgroup, ns_user, ns_time;
        /* filesystem */
        enum feature_state pivot_root, new_mount_api, proc_subset_pid, memfd_noexec;
        /* privileges */
        enum feature_state no_new_privs, caps_dropped, securebits_locked, exec_securebits, mdwe, fds_closed;
        /* landlock */
        enum feature_state landlock_fs, landlock_net, landlock_scope_unix, landlock_scope_signal;
        int landlock_abi; /* highest ABI offered by the kernel, 0 = none */
        /* seccomp */
        enum feature_state seccomp;
        /* cgroup (filled by the parent) */
        enum feature_state cgroup, cg_memory, cg_swap, cg_pids, cg_cpu, cg_io, cg_devices, clone_into_cgroup;
        char cgroup_path[256];

        unsigned n_notes;
        char notes[ENFORCED_MAX_NOTES][ENFORCED_NOTE_MAX];
};

/* Record a note ("landlock: ABI 7, TCP rules active", "cgroup: memory
 * controller not available in .../rempart"), silently dropped when full. */
void enforced_note(struct jail_enforced *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *feature_state_to_string(enum feature_state s);

/* Table of every feature field, for the report and for strict mode. */
struct enforced_feature {
        const char *section, *name;
        size_t offset;
};
extern const struct enforced_feature enforced_features[];
extern const size_t enforced_features_count;
enum feature_state enforced_get(const struct jail_enforced *e, size_t i);
/* Count the requested-but-missing features; list them as "section.name, ..." in buf. */
size_t enforced_missing(const struct jail_enforced *e, char *buf, size_t size);

/* SPDX-License-Identifier: MIT */
#include "enforced.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define ROW(sec, name, field) { sec, name, offsetof(struct jail_enforced, field) }
const struct enforced_feature enforced_features[] = {
        ROW("namespaces", "mount", ns_mount),
        ROW("namespaces", "pid", ns_pid),
        ROW("namespaces", "net", ns_net),
        ROW("namespaces", "ipc", ns_ipc),
        ROW("namespaces", "uts", ns_uts),
        ROW("namespaces", "cgroup", ns_cgroup),
        ROW("namespaces", "user", ns_user),
        ROW("namespaces", "time", ns_time),
        ROW("filesystem", "pivot_root", pivot_root),
        ROW("filesystem", "new_mount_api", new_mount_api),
        ROW("filesystem", "proc_subset_pid", proc_subset_pid),
        ROW("filesystem", "memfd_noexec", memfd_noexec),
        ROW("privileges", "no_new_privs", no_new_privs),
        ROW("privileges", "capabilities_dropped", caps_dropped),
        ROW("privileges", "securebits_locked", securebits_locked),
        ROW("privileges", "exec_securebits", exec_securebits),
        ROW("privileges", "mdwe", mdwe),
        ROW("privileges", "fds_closed", fds_closed),
        ROW("landlock", "filesystem", landlock_fs),
        ROW("landlock", "network", landlock_net),
        ROW("landlock", "scope_abstract_unix", landlock_scope_unix),
        ROW("landlock", "scope_signal", landlock_scope_signal),
        ROW("seccomp", "filter", seccomp),
        ROW("cgroup", "cgroup", cgroup),
        ROW("cgroup", "clone_into_cgroup", clone_into_cgroup),
        ROW("cgroup", "memory_max", cg_memory),
        ROW("cgroup", "memory_swap_max", cg_swap),
        ROW("cgroup", "pids_max", cg_pids),
        ROW("cgroup", "cpu", cg_cpu),
        ROW("cgroup", "io_weight", cg_io),
        ROW("cgroup", "device_policy", cg_devices),
};
#undef ROW
const size_t enforced_features_count = sizeof enforced_features / sizeof enforced_features[0];

enum feature_state enforced_get(const struct jail_enforced *e, size_t i) {
        enum feature_state s;

        memcpy(&s, (const char *) e + enforced_features[i].offset, sizeof s);
        return s;
}

size_t enforced_missing(const struct jail_enforced *e, char *buf, size_t size) {
        size_t n = 0, used = 0;

        if (size > 0)
                buf[0] = '\0';
        for (size_t i = 0; i < enforced_features_count; i++) {
                enum feature_state s = enforced_get(e, i);
                if (s != FEATURE_UNAVAILABLE && s != FEATURE_PARTIAL)
                        continue;
                n++;
                if (used < size) {
                        int w = snprintf(buf + used, size - used, "%s%s.%s", used ? ", " : "",
                                         enforced_features[i].section, enforced_features[i].name);
                        if (w > 0)
                                used += (size_t) w;
                }
        }
        return n;
}

void enforced_note(struct jail_enforced *e, const char *fmt, ...) {
        va_list ap;

        if (e->n_notes >= ENFORCED_MAX_NOTES)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(e->notes[e->n_notes], ENFORCED_NOTE_MAX, fmt, ap);
        va_end(ap);
        e->n_notes++;
}

const char *feature_state_to_string(enum feature_state s) {
        switch (s) {
        case FEATURE_OFF: return "off";
        case FEATURE_ENFORCED: return "enforced";
        case FEATURE_UNAVAILABLE: return "unavailable";
        case FEATURE_PARTIAL: return "partial";
        }
        return "unknown";
}

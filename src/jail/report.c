/* SPDX-License-Identifier: MIT */
/* The --report JSON: what the profile asked for and what the kernel
 * actually enforced, feature by feature. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jail.h"
#include "json.h"
#include "macro.h"

int report_write_json(FILE *f, const struct jail_profile *p, const struct jail_enforced *e, int landlock_abi) {
        struct json_writer w = { .f = f };
        const char *section = NULL;
        char missing[1024];
        size_t n_missing = enforced_missing(e, missing, sizeof missing);

        json_begin_object(&w, NULL);
        json_string(&w, "profile", p->name);
        json_string(&w, "mode", p->mode == JAIL_MODE_STRICT ? "strict" : "best-effort");
        json_int(&w, "landlock_abi", landlock_abi);
        json_string(&w, "seccomp_mode", p->seccomp_mode == JAIL_SECCOMP_ALLOWLIST ? "allowlist" : "denylist");
        json_string(&w, "cgroup_path", e->cgroup_path);
        /* One object per section, one "enforced|unavailable|partial|off" per feature. */
        for (size_t i = 0; i < enforced_features_count; i++) {
                if (!section || strcmp(section, enforced_features[i].section) != 0) {
                        if (section)
                                json_end_object(&w);
                        section = enforced_features[i].section;
                        json_begin_object(&w, section);
                }
                json_string(&w, enforced_features[i].name, feature_state_to_string(enforced_get(e, i)));
        }
        if (section)
                json_end_object(&w);
        json_begin_array(&w, "unavailable");
        for (size_t i = 0; i < enforced_features_count; i++) {
                enum feature_state s = enforced_get(e, i);
                char name[128];
                if (s != FEATURE_UNAVAILABLE && s != FEATURE_PARTIAL)
                        continue;
                (void) snprintf(name, sizeof name, "%s.%s", enforced_features[i].section, enforced_features[i].name);
                json_string(&w, NULL, name);
        }
        json_end_array(&w);
        json_begin_array(&w, "notes");
        for (unsigned i = 0; i < e->n_notes && i < ENFORCED_MAX_NOTES; i++)
                json_string(&w, NULL, e->notes[i]);
        json_end_array(&w);
        json_bool(&w, "complete", n_missing == 0);
        json_end_object(&w);
        return ferror(f) ? -EIO : 0;
}

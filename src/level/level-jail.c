/* SPDX-License-Identifier: MIT */
/* The jail of a level, expressed as profile settings (the same keys as
 * rempart-jail.profile(5)), so that every value goes through the profile's
 * own parser and validation, and an error names where it came from. */
#include "level-jail.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "level-runtime.h"
#include "macro.h"

struct setter {
        struct jail_profile *p;
        struct jail_origin origin;
        struct jail_error *err;
};

static int set(struct setter *s, const char *section, const char *key, const char *value) {
        (void) snprintf(s->origin.key, sizeof s->origin.key, "%s.%s", section, key);
        return profile_set(s->p, section, key, value, &s->origin, s->err);
}

static int setf(struct setter *s, const char *section, const char *key, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int setf(struct setter *s, const char *section, const char *key, const char *fmt, ...) {
        char v[2 * JAIL_PATH_MAX + 8];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(v, sizeof v, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof v)
                return profile_error(s->err, &s->origin, "%s.%s: value too long", section, key);
        return set(s, section, key, v);
}

/* Merged-/usr hosts have /bin -> usr/bin and so on: the same links in the
 * level; a host with real directories gets them bound read-only. */
static int add_usr_links(struct setter *s, const struct level_config *l) {
        static const char *const dirs[] = { "bin", "sbin", "lib", "lib64" };
        bool have_usr = false;

        for (unsigned i = 0; i < l->n_system; i++)
                if (strcmp(l->system[i], "/usr") == 0)
                        have_usr = true;
        if (!have_usr)
                return 0;
        for (unsigned i = 0; i < ELEMENTSOF(dirs); i++) {
                char host[16], target[64];
                struct stat st;
                ssize_t n;
                int r;

                (void) snprintf(host, sizeof host, "/%s", dirs[i]);
                if (lstat(host, &st) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        n = readlink(host, target, sizeof target - 1);
                        if (n <= 0)
                                continue;
                        target[n] = '\0';
                        r = setf(s, "filesystem", "symlink", "%s:%s", target, host);
                } else if (S_ISDIR(st.st_mode))
                        r = set(s, "filesystem", "ro", host);
                else
                        continue;
                if (r < 0)
                        return r;
        }
        return 0;
}

int level_build_profile(const struct level_config *l, const struct level_jail_paths *paths,
                        struct jail_profile *p, struct jail_error *err) {
        struct setter s = { .p = p, .err = err };
        char dir[JAIL_PATH_MAX];
        int r;

        profile_init_default(p);
        (void) snprintf(s.origin.file, sizeof s.origin.file, "level %s", l->name);

        /* What every level is. */
        static const char *const base[][3] = {
                { "profile", "mode", "strict" },
                { "namespaces", "user", "no" },
                { "namespaces", "net", "none" },
                { "namespaces", "time", "no" },
                { "filesystem", "clear", "yes" },
                { "filesystem", "tmp", "yes" },
                { "filesystem", "proc", "yes" },
                { "filesystem", "sys", "none" },
                { "filesystem", "dev_shm", "yes" },
                { "filesystem", "dev_pts", "yes" },
                { "filesystem", "chdir", "/" },
                /* The broker: root of the level without the powers of root,
                 * only those it needs to become a user (it signals a session
                 * by taking on its user id for a moment). */
                { "credentials", "user", "0" },
                { "credentials", "group", "0" },
                { "credentials", "caps", "setuid setgid" },
                { "credentials", "mdwe", "yes" },
                /* SECBIT_EXEC_RESTRICT_FILE/DENY_INTERACTIVE are advisory
                 * (interpreters must ask) and Linux 6.14+: the image's 6.12
                 * kernel lacks them and strict mode would refuse the level. */
                { "credentials", "exec_securebits", "no" },
                { "credentials", "new_session", "yes" },
                { "credentials", "memfd_noexec", "yes" },
                { "credentials", "die_with_parent", "yes" },
                { "environment", "clear", "yes" },
                { "environment", "set", "PATH=/usr/local/bin:/usr/bin:/bin" },
                { "rlimits", "core", "0" },
                { "landlock", "enabled", "yes" },
                { "landlock", "filesystem", "yes" },
                /* Own network namespace: Landlock's TCP rules would only stop
                 * the level's own services talking to each other on lo. */
                { "landlock", "network", "no" },
                { "landlock", "scope_abstract_unix", "yes" },
                { "landlock", "scope_signal", "yes" },
                { "seccomp", "enabled", "yes" },
                { "seccomp", "mode", "denylist" },
                { "cgroup", "enabled", "yes" },
                { "cgroup", "pids_max", "max" },
        };
        for (unsigned i = 0; i < ELEMENTSOF(base); i++) {
                r = set(&s, base[i][0], base[i][1], base[i][2]);
                if (r < 0)
                        return r;
        }
        if (paths->dev) {
                r = set(&s, "profile", "mode", "best-effort");
                if (r < 0)
                        return r;
        }
        r = setf(&s, "profile", "name", "level-%s", l->name);
        if (r >= 0)
                r = set(&s, "namespaces", "hostname", l->name);
        if (r >= 0)
                r = set(&s, "namespaces", "loopback", l->network == LEVEL_NET_LOOPBACK ? "yes" : "no");
        if (r >= 0 && l->network == LEVEL_NET_NETNS)
                r = set(&s, "namespaces", "net", l->netns);
        if (r < 0)
                return r;

        /* What the level sees: the system read-only, its data writable. */
        for (unsigned i = 0; i < l->n_system; i++) {
                r = set(&s, "filesystem", "ro", l->system[i]);
                if (r < 0)
                        return r;
        }
        r = add_usr_links(&s, l);
        if (r < 0)
                return r;
        r = setf(&s, "filesystem", "rw", "%s/home:" LEVEL_IN_HOME, l->data);
        if (r >= 0)
                r = setf(&s, "filesystem", "rw", "%s/var:" LEVEL_IN_VAR, l->data);
        if (r < 0)
                return r;
        if (l->tmp_size) {
                r = setf(&s, "filesystem", "tmp_size", "%" PRIu64, l->tmp_size);
                if (r < 0)
                        return r;
        }
        /* The broker's socket directory, its binary and its configuration. */
        r = level_runtime_path(paths->runtime, l->name, "broker", dir, sizeof dir);
        if (r < 0)
                return profile_error(err, &s.origin, "runtime directory name too long");
        r = setf(&s, "filesystem", "rw", "%s:" LEVEL_IN_BROKER_DIR, dir);
        if (r >= 0)
                r = setf(&s, "filesystem", "ro", "%s:" LEVEL_IN_BROKER_BIN, paths->broker_bin);
        /* The transfer service's socket directory: read-only (connecting to
         * a socket needs no write access to its file system). */
        if (r >= 0) {
                r = level_runtime_path(paths->runtime, l->name, "xfer", dir, sizeof dir);
                if (r < 0)
                        return profile_error(err, &s.origin, "runtime directory name too long");
                r = setf(&s, "filesystem", "ro_noexec", "%s:" LEVEL_IN_XFER_DIR, dir);
        }
        if (r >= 0)
                r = setf(&s, "filesystem", "ro_noexec", "%s:" LEVEL_IN_CONFIG_DIR "/%s.conf", l->path, l->name);
        if (r < 0)
                return r;

        for (unsigned i = 0; i < l->n_devices; i++) {
                r = set(&s, "devices", "allow", l->devices[i]);
                if (r < 0)
                        return r;
        }

        /* Limits, in the level's own cgroup. */
        r = set(&s, "cgroup", "parent", paths->cgroup_parent);
        if (r < 0)
                return r;
        p->memory_max = l->memory_max;
        p->memory_max_set = l->memory_max_set;
        p->memory_swap_max = l->memory_swap_max;
        p->memory_swap_max_set = l->memory_swap_max_set;
        if (l->pids_max_set) {
                p->pids_max = l->pids_max;
                p->pids_max_set = true;
        }
        p->cpu_quota_us = l->cpu_quota_us;
        p->cpu_period_us = l->cpu_period_us;
        p->cpu_weight = l->cpu_weight;

        return profile_validate(p, paths->check_host, err);
}

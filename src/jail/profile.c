/* SPDX-License-Identifier: MIT */
/* The built-in default profile and whole-profile validation. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "creds.h"
#include "macro.h"
#include "profile.h"

static const struct jail_origin builtin = { .file = "built-in default profile", .line = 0, .key = "default" };

static void add_default(struct jail_profile *p, const char *section, const char *key, const char *value) {
        struct jail_error err;

        /* The defaults are constants of this file: failing to apply one is a
         * programming error caught by the unit tests, never by users. */
        if (profile_set(p, section, key, value, &builtin, &err) < 0)
                abort();
}

void profile_init_default(struct jail_profile *p) {
        memset(p, 0, sizeof *p);
        (void) snprintf(p->name, sizeof p->name, "default");
        p->mode = JAIL_MODE_BEST_EFFORT;

        /* Namespaces: everything private, network empty with loopback down. */
        p->net = JAIL_NET_NONE;
        (void) snprintf(p->hostname, sizeof p->hostname, "rempart");

        /* File system: just enough to run a dynamically linked program from
         * /usr on a merged-/usr system. */
        add_default(p, "filesystem", "ro", "/usr");
        add_default(p, "filesystem", "ro", "?/etc/ld.so.cache");
        add_default(p, "filesystem", "symlink", "usr/bin:/bin");
        add_default(p, "filesystem", "symlink", "usr/sbin:/sbin");
        add_default(p, "filesystem", "symlink", "usr/lib:/lib");
        add_default(p, "filesystem", "symlink", "usr/lib64:/lib64");
        p->private_tmp = true;
        p->proc = true;
        p->sys = JAIL_SYS_NONE;
        p->dev_shm = true;
        p->dev_pts = false;

        add_default(p, "devices", "allow", "/dev/null");
        add_default(p, "devices", "allow", "/dev/zero");
        add_default(p, "devices", "allow", "/dev/full");
        add_default(p, "devices", "allow", "/dev/random");
        add_default(p, "devices", "allow", "/dev/urandom");
        add_default(p, "devices", "allow", "?/dev/tty");
        p->device_policy = true;

        /* Credentials: nobody, no capability, every lock on. */
        p->uid = 65534;
        p->gid = 65534;
        p->mdwe = true;
        p->exec_securebits = true;
        p->new_session = true;
        p->memfd_noexec = true;
        p->die_with_parent = true;

        add_default(p, "environment", "keep", "TERM LANG LC_ALL");
        add_default(p, "environment", "set", "PATH=/usr/bin:/bin");
        add_default(p, "environment", "set", "HOME=/tmp");
        (void) snprintf(p->cwd, sizeof p->cwd, "/");

        add_default(p, "rlimits", "core", "0");

        p->landlock = true;
        p->landlock_fs = true;
        p->landlock_net = true; /* no port listed: no TCP bind or connect */
        p->scope_abstract_unix = true;
        p->scope_signal = true;

        p->seccomp = true;
        p->seccomp_mode = JAIL_SECCOMP_DENYLIST;
        p->seccomp_errno = EPERM;

        p->cgroup = true;
        (void) snprintf(p->cgroup_parent, sizeof p->cgroup_parent, "rempart");
        p->pids_max = 1024;
        p->pids_max_set = true;
}

/* "file:line" or "file" (command line, built-in), for cross-references. */
static const char *origin_where(const struct jail_origin *o, char *buf, size_t size) {
        if (o->line > 0)
                (void) snprintf(buf, size, "%.180s:%u", o->file, o->line);
        else
                (void) snprintf(buf, size, "%.180s", o->file);
        return buf;
}

static const struct jail_origin *origin_of(const struct jail_profile *p, const char *section, const char *key) {
        int i = profile_key_index(section, key);

        if (i < 0 || p->origins[i].file[0] == '\0')
                return &builtin;
        return &p->origins[i];
}

static bool is_set(const struct jail_profile *p, const char *section, const char *key) {
        int i = profile_key_index(section, key);
        return i >= 0 && p->origins[i].file[0] != '\0' && strcmp(p->origins[i].file, builtin.file) != 0;
}

/* a == b or a is below b, component-wise. */
static bool path_under(const char *a, const char *b) {
        size_t n = strlen(b);

        if (strcmp(b, "/") == 0)
                return true;
        return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

static int check_conflicts(struct jail_profile *p, struct jail_error *err) {
        if (!p->userns && (p->n_uid_map > 0 || p->n_gid_map > 0))
                return profile_error(err, origin_of(p, "namespaces", p->n_uid_map ? "uid_map" : "gid_map"),
                                     "id maps need a user namespace ([namespaces] user = yes)");
        if (p->net == JAIL_NET_JOIN && p->loopback && is_set(p, "namespaces", "loopback"))
                return profile_error(err, origin_of(p, "namespaces", "loopback"),
                                     "conflicts with net = %s: loopback applies only to the jail's own network namespace",
                                     p->netns_name);
        if (p->net == JAIL_NET_JOIN && p->userns)
                return profile_error(err, origin_of(p, "namespaces", "net"),
                                     "joining a named network namespace is not possible from a user namespace (user = yes)");
        if (!p->timens && (p->time_offset_boottime != 0 || p->time_offset_monotonic != 0))
                return profile_error(err, origin_of(p, "namespaces", p->time_offset_boottime ? "time_offset_boottime" : "time_offset_monotonic"),
                                     "time offsets need a time namespace ([namespaces] time = yes)");
        if ((p->n_tcp_bind > 0 || p->n_tcp_connect > 0) && (!p->landlock || !p->landlock_net))
                return profile_error(err, origin_of(p, "landlock", p->n_tcp_bind ? "tcp_bind" : "tcp_connect"),
                                     "port rules need [landlock] enabled = yes and network = yes");
        if (p->seccomp_mode == JAIL_SECCOMP_DENYLIST && p->n_seccomp_allow > 0)
                return profile_error(err, origin_of(p, "seccomp", "allow"),
                                     "an allow list needs [seccomp] mode = allowlist");
        if (p->seccomp && p->seccomp_mode == JAIL_SECCOMP_ALLOWLIST && p->n_seccomp_allow == 0)
                return profile_error(err, origin_of(p, "seccomp", "mode"),
                                     "allowlist mode needs a non-empty [seccomp] allow list");
        if (!p->cgroup) {
                /* Only limits that ask for something ("max" asks for nothing). */
                const struct { const char *key; bool requested; } limits[] = {
                        { "memory_max", p->memory_max_set },
                        { "memory_swap_max", p->memory_swap_max_set },
                        { "pids_max", p->pids_max_set },
                        { "cpu_max", p->cpu_quota_us != 0 && p->cpu_quota_us != UINT64_MAX },
                        { "cpu_weight", p->cpu_weight != 0 },
                        { "io_weight", p->io_weight != 0 },
                };
                for (size_t i = 0; i < ELEMENTSOF(limits); i++)
                        if (limits[i].requested && is_set(p, "cgroup", limits[i].key))
                                return profile_error(err, origin_of(p, "cgroup", limits[i].key),
                                                     "resource limits need [cgroup] enabled = yes");
        }
        if (p->userns) {
                bool uid_ok = false, gid_ok = false, root_uid = false, root_gid = false;

                /* Setup runs as root of the new user namespace (it creates
                 * files on the jail's tmpfs mounts), so 0 must be mapped too. */
                if (p->n_uid_map == 0 || p->n_gid_map == 0)
                        return profile_error(err, origin_of(p, "namespaces", "user"),
                                             "a user namespace needs uid_map and gid_map (e.g. '0 100000 65536')");
                for (unsigned i = 0; i < p->n_uid_map; i++)
                        root_uid |= p->uid_map[i].inside == 0;
                for (unsigned i = 0; i < p->n_gid_map; i++)
                        root_gid |= p->gid_map[i].inside == 0;
                if (!root_uid || !root_gid)
                        return profile_error(err, origin_of(p, "namespaces", root_uid ? "gid_map" : "uid_map"),
                                             "id 0 inside must be mapped: the jail is set up as root of its user namespace");
                for (unsigned i = 0; i < p->n_uid_map; i++)
                        uid_ok |= p->uid >= p->uid_map[i].inside && p->uid - p->uid_map[i].inside < p->uid_map[i].count;
                for (unsigned i = 0; i < p->n_gid_map; i++)
                        gid_ok |= p->gid >= p->gid_map[i].inside && p->gid - p->gid_map[i].inside < p->gid_map[i].count;
                if (p->n_uid_map > 0 && !uid_ok)
                        return profile_error(err, origin_of(p, "namespaces", "uid_map"),
                                             "the jail's user %u is not mapped by uid_map", (unsigned) p->uid);
                if (p->n_gid_map > 0 && !gid_ok)
                        return profile_error(err, origin_of(p, "namespaces", "gid_map"),
                                             "the jail's group %u is not mapped by gid_map", (unsigned) p->gid);
        }
        return 0;
}

static int check_mounts(struct jail_profile *p, struct jail_error *err) {
        static const char *const reserved[] = { "/proc", "/dev", "/sys" };

        for (unsigned i = 0; i < p->n_mounts; i++) {
                const struct jail_mount *m = &p->mounts[i];

                if (strcmp(m->dst, "/") == 0)
                        return profile_error(err, &m->origin, "cannot mount over the jail's root");
                for (size_t k = 0; k < ELEMENTSOF(reserved); k++)
                        if (path_under(m->dst, reserved[k]))
                                return profile_error(err, &m->origin,
                                                     "'%s' is managed by the jail (see [filesystem] proc/sys and [devices])",
                                                     m->dst);
                if (p->private_tmp && path_under(m->dst, "/tmp"))
                        return profile_error(err, &m->origin,
                                             "'%s' is under the private /tmp; set [filesystem] tmp = no to mount there",
                                             m->dst);
                for (unsigned j = 0; j < i; j++) {
                        char where[200];
                        if (strcmp(p->mounts[j].dst, m->dst) == 0)
                                return profile_error(err, &m->origin, "'%s' is already a mount point (set by %s)",
                                                     m->dst, origin_where(&p->mounts[j].origin, where, sizeof where));
                        /* Landlock rights are inherited down the tree: a
                         * writable place inside an executable bind would be
                         * executable for Landlock, leaving only noexec. */
                        const struct jail_mount *a = &p->mounts[j], *w = m, *x = NULL;
                        if ((a->kind == JAIL_MOUNT_RO) && (m->kind == JAIL_MOUNT_RW || m->kind == JAIL_MOUNT_TMPFS))
                                x = a;
                        else if ((m->kind == JAIL_MOUNT_RO) && (a->kind == JAIL_MOUNT_RW || a->kind == JAIL_MOUNT_TMPFS)) {
                                x = m;
                                w = a;
                        }
                        if (x && path_under(w->dst, x->dst))
                                return profile_error(err, &w->origin,
                                                     "writable '%s' would be inside the executable bind '%s' (set by %s): "
                                                     "refused (W^X: mount it outside executable trees)",
                                                     w->dst, x->dst, origin_where(&x->origin, where, sizeof where));
                }
        }
        /* Mount parents before children: stable insertion sort by depth. */
        for (unsigned i = 1; i < p->n_mounts; i++) {
                struct jail_mount tmp = p->mounts[i];
                size_t depth = 0;
                unsigned j = i;

                for (const char *c = tmp.dst; *c; c++)
                        depth += *c == '/';
                while (j > 0) {
                        size_t d2 = 0;
                        for (const char *c = p->mounts[j - 1].dst; *c; c++)
                                d2 += *c == '/';
                        if (d2 <= depth)
                                break;
                        p->mounts[j] = p->mounts[j - 1];
                        j--;
                }
                p->mounts[j] = tmp;
        }
        return 0;
}

/* Resolve bind sources on the host; drop optional ones that are missing;
 * refuse an executable bind whose source overlaps a writable one (a file
 * could be written through one mount and executed through the other). */
static int check_host_mounts(struct jail_profile *p, struct jail_error *err) {
        char (*real)[PATH_MAX] = calloc(JAIL_MAX_MOUNTS, (size_t) PATH_MAX);
        unsigned n = 0;
        int r = 0;

        if (!real)
                return -ENOMEM;
        for (unsigned i = 0; i < p->n_mounts; i++) {
                struct jail_mount *m = &p->mounts[i];

                if (m->kind == JAIL_MOUNT_TMPFS || m->kind == JAIL_MOUNT_SYMLINK) {
                        p->mounts[n++] = *m;
                        continue;
                }
                if (!realpath(m->src, real[n])) {
                        if (errno == ENOENT && m->optional)
                                continue;
                        r = profile_error(err, &m->origin, "source '%s': %s", m->src, strerror(errno));
                        goto out;
                }
                p->mounts[n++] = *m;
        }
        p->n_mounts = n;
        for (unsigned i = 0; i < n; i++) {
                if (p->mounts[i].kind != JAIL_MOUNT_RO)
                        continue;
                for (unsigned j = 0; j < n; j++) {
                        if (p->mounts[j].kind != JAIL_MOUNT_RW)
                                continue;
                        if (path_under(real[i], real[j]) || path_under(real[j], real[i])) {
                                char where[200];
                                r = profile_error(err, &p->mounts[i].origin,
                                                  "executable bind '%s' overlaps the writable bind '%s' (set by %s): refused (W^X)",
                                                  p->mounts[i].src, p->mounts[j].src,
                                                  origin_where(&p->mounts[j].origin, where, sizeof where));
                                goto out;
                        }
                }
        }
out:
        free(real);
        return r;
}

static int check_host_devices(struct jail_profile *p, struct jail_error *err) {
        unsigned n = 0;

        for (unsigned i = 0; i < p->n_devices; i++) {
                struct jail_device *d = &p->devices[i];
                struct stat st;

                if (stat(d->path, &st) < 0) {
                        if (errno == ENOENT && d->optional)
                                continue;
                        return profile_error(err, &d->origin, "device '%s': %s", d->path, strerror(errno));
                }
                if (S_ISBLK(st.st_mode))
                        return profile_error(err, &d->origin, "'%s' is a block device: only character devices may be allowed",
                                             d->path);
                if (!S_ISCHR(st.st_mode))
                        return profile_error(err, &d->origin, "'%s' is not a character device", d->path);
                d->major = major(st.st_rdev);
                d->minor = minor(st.st_rdev);
                d->is_block = false;
                p->devices[n++] = *d;
        }
        p->n_devices = n;
        return 0;
}

int profile_validate(struct jail_profile *p, bool check_host, struct jail_error *err) {
        int r;

        r = check_conflicts(p, err);
        if (r < 0)
                return r;
        r = check_mounts(p, err);
        if (r < 0)
                return r;
        if (!check_host)
                return 0;
        r = check_host_mounts(p, err);
        if (r < 0)
                return r;
        r = check_host_devices(p, err);
        if (r < 0)
                return r;
        if (p->net == JAIL_NET_JOIN) {
                char path[JAIL_PATH_MAX + 16];
                struct stat st;

                (void) snprintf(path, sizeof path, "/run/netns/%s", p->netns_name);
                if (stat(path, &st) < 0)
                        return profile_error(err, origin_of(p, "namespaces", "net"),
                                             "network namespace '%s' (%s): %s", p->netns_name, path, strerror(errno));
        }
        return 0;
}

/* ---- dump ---- */

static const char *yesno(bool b) {
        return b ? "yes" : "no";
}

static void dump_size(FILE *f, const char *key, uint64_t v) {
        if (v == UINT64_MAX)
                (void) fprintf(f, "%s = max\n", key);
        else
                (void) fprintf(f, "%s = %llu\n", key, (unsigned long long) v);
}

int profile_dump(const struct jail_profile *p, FILE *f) {
        static const char *const rl_names[JAIL_RLIMIT_COUNT] = {
                [RLIMIT_AS] = "as", [RLIMIT_CORE] = "core", [RLIMIT_CPU] = "cpu", [RLIMIT_DATA] = "data",
                [RLIMIT_FSIZE] = "fsize", [RLIMIT_MEMLOCK] = "memlock", [RLIMIT_MSGQUEUE] = "msgqueue",
                [RLIMIT_NICE] = "nice", [RLIMIT_NOFILE] = "nofile", [RLIMIT_NPROC] = "nproc",
                [RLIMIT_RTPRIO] = "rtprio", [RLIMIT_RTTIME] = "rttime", [RLIMIT_SIGPENDING] = "sigpending",
                [RLIMIT_STACK] = "stack",
        };

        (void) fprintf(f, "[profile]\nname = %s\nmode = %s\n\n", p->name,
                       p->mode == JAIL_MODE_STRICT ? "strict" : "best-effort");
        (void) fprintf(f, "[namespaces]\nuser = %s\n", yesno(p->userns));
        for (unsigned i = 0; i < p->n_uid_map; i++)
                (void) fprintf(f, "uid_map = %u %u %u\n", p->uid_map[i].inside, p->uid_map[i].outside, p->uid_map[i].count);
        for (unsigned i = 0; i < p->n_gid_map; i++)
                (void) fprintf(f, "gid_map = %u %u %u\n", p->gid_map[i].inside, p->gid_map[i].outside, p->gid_map[i].count);
        (void) fprintf(f, "net = %s\n", p->net == JAIL_NET_JOIN ? p->netns_name : "none");
        if (p->net == JAIL_NET_NONE)
                (void) fprintf(f, "loopback = %s\n", yesno(p->loopback));
        (void) fprintf(f, "time = %s\n", yesno(p->timens));
        if (p->timens)
                (void) fprintf(f, "time_offset_monotonic = %lld\ntime_offset_boottime = %lld\n",
                               (long long) p->time_offset_monotonic, (long long) p->time_offset_boottime);
        (void) fprintf(f, "hostname = %s\n\n[filesystem]\nclear = yes\n", p->hostname);
        for (unsigned i = 0; i < p->n_mounts; i++) {
                const struct jail_mount *m = &p->mounts[i];
                const char *opt = m->optional ? "?" : "";
                switch (m->kind) {
                case JAIL_MOUNT_RO: (void) fprintf(f, "ro = %s%s:%s\n", opt, m->src, m->dst); break;
                case JAIL_MOUNT_RO_NOEXEC: (void) fprintf(f, "ro_noexec = %s%s:%s\n", opt, m->src, m->dst); break;
                case JAIL_MOUNT_RW: (void) fprintf(f, "rw = %s%s:%s\n", opt, m->src, m->dst); break;
                case JAIL_MOUNT_TMPFS:
                        if (m->size)
                                (void) fprintf(f, "tmpfs = %s:%llu\n", m->dst, (unsigned long long) m->size);
                        else
                                (void) fprintf(f, "tmpfs = %s\n", m->dst);
                        break;
                case JAIL_MOUNT_SYMLINK: (void) fprintf(f, "symlink = %s:%s\n", m->src, m->dst); break;
                }
        }
        (void) fprintf(f, "tmp = %s\n", yesno(p->private_tmp));
        if (p->tmp_size)
                (void) fprintf(f, "tmp_size = %llu\n", (unsigned long long) p->tmp_size);
        (void) fprintf(f, "proc = %s\nsys = %s\ndev_shm = %s\ndev_pts = %s\nchdir = %s\n\n[devices]\nclear = yes\n",
                       yesno(p->proc), p->sys == JAIL_SYS_RO ? "ro" : "none", yesno(p->dev_shm), yesno(p->dev_pts),
                       p->cwd[0] ? p->cwd : "/");
        for (unsigned i = 0; i < p->n_devices; i++)
                (void) fprintf(f, "allow = %s%s\n", p->devices[i].optional ? "?" : "", p->devices[i].path);
        (void) fprintf(f, "policy = %s\n\n[credentials]\nuser = %u\ngroup = %u\ngroups =", yesno(p->device_policy),
                       (unsigned) p->uid, (unsigned) p->gid);
        for (unsigned i = 0; i < p->n_groups; i++)
                (void) fprintf(f, " %u", (unsigned) p->groups[i]);
        (void) fprintf(f, "\ncaps =");
        for (unsigned i = 0; i < p->n_caps_keep; i++) {
                const char *name = cap_to_name(p->caps_keep[i]);
                (void) fprintf(f, " %s", name ? name : "?");
        }
        (void) fprintf(f, "\nmdwe = %s\nexec_securebits = %s\nnew_session = %s\nmemfd_noexec = %s\ndie_with_parent = %s\n\n",
                       yesno(p->mdwe), yesno(p->exec_securebits), yesno(p->new_session), yesno(p->memfd_noexec),
                       yesno(p->die_with_parent));
        (void) fprintf(f, "[environment]\nclear = yes\n");
        for (unsigned i = 0; i < p->n_env_keep; i++)
                (void) fprintf(f, "keep = %s\n", p->env_keep[i]);
        for (unsigned i = 0; i < p->n_env_set; i++)
                (void) fprintf(f, "set = %s\n", p->env_set[i]);
        (void) fprintf(f, "\n[fds]\n");
        for (unsigned i = 0; i < p->n_fds_keep; i++)
                (void) fprintf(f, "keep = %d\n", p->fds_keep[i]);
        (void) fprintf(f, "\n[rlimits]\n");
        for (int i = 0; i < JAIL_RLIMIT_COUNT; i++) {
                if (!p->rlimits[i].set || !rl_names[i])
                        continue;
                (void) fprintf(f, "%s = ", rl_names[i]);
                if (p->rlimits[i].soft == RLIM_INFINITY)
                        (void) fprintf(f, "infinity:");
                else
                        (void) fprintf(f, "%llu:", (unsigned long long) p->rlimits[i].soft);
                if (p->rlimits[i].hard == RLIM_INFINITY)
                        (void) fprintf(f, "infinity\n");
                else
                        (void) fprintf(f, "%llu\n", (unsigned long long) p->rlimits[i].hard);
        }
        (void) fprintf(f, "\n[landlock]\nenabled = %s\nfilesystem = %s\nnetwork = %s\n", yesno(p->landlock),
                       yesno(p->landlock_fs), yesno(p->landlock_net));
        for (unsigned i = 0; i < p->n_tcp_bind; i++)
                (void) fprintf(f, "tcp_bind = %u\n", p->tcp_bind[i]);
        for (unsigned i = 0; i < p->n_tcp_connect; i++)
                (void) fprintf(f, "tcp_connect = %u\n", p->tcp_connect[i]);
        (void) fprintf(f, "scope_abstract_unix = %s\nscope_signal = %s\n\n", yesno(p->scope_abstract_unix),
                       yesno(p->scope_signal));
        (void) fprintf(f, "[seccomp]\nenabled = %s\nmode = %s\nerrno = %d\n", yesno(p->seccomp),
                       p->seccomp_mode == JAIL_SECCOMP_ALLOWLIST ? "allowlist" : "denylist", p->seccomp_errno);
        for (unsigned i = 0; i < p->n_seccomp_allow; i++)
                (void) fprintf(f, "allow = %s\n", p->seccomp_allow[i]);
        for (unsigned i = 0; i < p->n_seccomp_deny; i++)
                (void) fprintf(f, "deny = %s\n", p->seccomp_deny[i]);
        (void) fprintf(f, "\n[cgroup]\nenabled = %s\nparent = %s\n", yesno(p->cgroup), p->cgroup_parent);
        if (p->memory_max_set)
                dump_size(f, "memory_max", p->memory_max);
        if (p->memory_swap_max_set)
                dump_size(f, "memory_swap_max", p->memory_swap_max);
        dump_size(f, "pids_max", p->pids_max_set ? p->pids_max : UINT64_MAX);
        if (p->cpu_quota_us == UINT64_MAX)
                (void) fprintf(f, "cpu_max = max\n");
        else if (p->cpu_quota_us)
                (void) fprintf(f, "cpu_max = %llu %llu\n", (unsigned long long) p->cpu_quota_us,
                               (unsigned long long) p->cpu_period_us);
        if (p->cpu_weight)
                (void) fprintf(f, "cpu_weight = %llu\n", (unsigned long long) p->cpu_weight);
        if (p->io_weight)
                (void) fprintf(f, "io_weight = %llu\n", (unsigned long long) p->io_weight);
        return ferror(f) ? -EIO : 0;
}

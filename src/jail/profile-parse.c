/* SPDX-License-Identifier: MIT */
/* INI profile parser.  libinih splits the text into (section, key, value);
 * this file owns the key table, the value syntax of every key, and error
 * messages that name file, line and key.  It never touches the system:
 * host-dependent checks live in profile_validate(). */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "fileio.h"
#include "macro.h"
#include "parse.h"
#include "profile.h"
#include "seccomp-filter.h"

#define PROFILE_MAX_SIZE ((size_t) 1024 * 1024)

enum key_kind {
        KEY_SCALAR, /* may be given once per file */
        KEY_LIST,   /* may repeat; every occurrence appends */
};

typedef int (*key_setter)(struct jail_profile *p, const char *value, const struct jail_origin *o,
                          struct jail_error *err);

struct key_def {
        const char *section;
        const char *key;
        enum key_kind kind;
        key_setter set;
};

int profile_error(struct jail_error *err, const struct jail_origin *o, const char *fmt, ...) {
        char msg[JAIL_ERR_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (!err)
                return -EINVAL;
        /* Precisions keep the worst case within JAIL_ERR_MAX. */
        if (!o)
                (void) snprintf(err->msg, sizeof err->msg, "%.500s", msg);
        else if (o->line > 0)
                (void) snprintf(err->msg, sizeof err->msg, "%.180s:%u: %.60s: %.240s", o->file, o->line, o->key, msg);
        else
                (void) snprintf(err->msg, sizeof err->msg, "%.180s: %.60s: %.240s", o->file, o->key, msg);
        return -EINVAL;
}

/* ---- value helpers ---- */

static int set_bool(bool *dst, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (parse_bool(v, dst) < 0)
                return profile_error(err, o, "expected a boolean (yes/no/true/false/1/0/on/off), got '%s'", v);
        return 0;
}

static int set_str(char *dst, size_t size, const char *v, const struct jail_origin *o, struct jail_error *err) {
        size_t n = strlen(v);

        if (n >= size)
                return profile_error(err, o, "value too long (at most %zu characters)", size - 1);
        for (size_t i = 0; i < n; i++)
                if (!isprint((unsigned char) v[i]))
                        return profile_error(err, o, "value contains a control character");
        memcpy(dst, v, n + 1);
        return 0;
}

static int check_path(const char *path, const char *what, const struct jail_origin *o, struct jail_error *err) {
        if (!path_is_normalized_absolute(path))
                return profile_error(err, o,
                                     "%s '%s' must be an absolute path without '.', '..', '//', ':' or a trailing '/'",
                                     what, path);
        if (strlen(path) >= JAIL_PATH_MAX)
                return profile_error(err, o, "%s is too long (at most %d characters)", what, JAIL_PATH_MAX - 1);
        return 0;
}

/* ---- [profile] ---- */

static int k_name(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_str(p->name, sizeof p->name, v, o, err);
}
static int k_mode(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (strcmp(v, "strict") == 0)
                p->mode = JAIL_MODE_STRICT;
        else if (strcmp(v, "best-effort") == 0)
                p->mode = JAIL_MODE_BEST_EFFORT;
        else
                return profile_error(err, o, "expected 'strict' or 'best-effort', got '%s'", v);
        return 0;
}

/* ---- [namespaces] ---- */

static int k_user(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->userns, v, o, err);
}
static int parse_idmap(struct jail_idmap *maps, unsigned *n, const char *v, const struct jail_origin *o,
                       struct jail_error *err) {
        unsigned long long in, out, count;
        int consumed = 0;

        if (*n >= 8)
                return profile_error(err, o, "too many id map lines (at most 8)");
        if (sscanf(v, "%llu %llu %llu%n", &in, &out, &count, &consumed) != 3 || v[consumed] != '\0' ||
            !isdigit((unsigned char) v[0]))
                return profile_error(err, o, "expected 'INSIDE OUTSIDE COUNT', got '%s'", v);
        if (count == 0 || in > UINT32_MAX - 1 || out > UINT32_MAX - 1 || count > UINT32_MAX - in ||
            count > UINT32_MAX - out)
                return profile_error(err, o, "id range '%s' is empty or out of bounds", v);
        maps[*n] = (struct jail_idmap) { .inside = (uint32_t) in, .outside = (uint32_t) out, .count = (uint32_t) count };
        (*n)++;
        return 0;
}
static int k_uid_map(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return parse_idmap(p->uid_map, &p->n_uid_map, v, o, err);
}
static int k_gid_map(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return parse_idmap(p->gid_map, &p->n_gid_map, v, o, err);
}
static int k_net(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (strcmp(v, "none") == 0) {
                p->net = JAIL_NET_NONE;
                p->netns_name[0] = '\0';
                return 0;
        }
        /* A name under /run/netns, as created by `ip netns add`. */
        if (v[0] == '\0' || strlen(v) >= sizeof p->netns_name || strchr(v, '/') || strcmp(v, ".") == 0 ||
            strcmp(v, "..") == 0)
                return profile_error(err, o, "expected 'none' or the name of a network namespace, got '%s'", v);
        for (const char *c = v; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("-_.", *c))
                        return profile_error(err, o, "invalid network namespace name '%s'", v);
        p->net = JAIL_NET_JOIN;
        memcpy(p->netns_name, v, strlen(v) + 1);
        return 0;
}
static int k_loopback(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->loopback, v, o, err);
}
static int k_time(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->timens, v, o, err);
}
static int set_offset(int64_t *dst, const char *v, const struct jail_origin *o, struct jail_error *err) {
        /* The kernel bounds offsets to about +-KTIME_SEC_MAX/2; ten years is plenty. */
        if (parse_i64(v, -315576000, 315576000, dst) < 0)
                return profile_error(err, o, "expected seconds between -315576000 and 315576000, got '%s'", v);
        return 0;
}
static int k_off_mono(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_offset(&p->time_offset_monotonic, v, o, err);
}
static int k_off_boot(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_offset(&p->time_offset_boottime, v, o, err);
}
static int k_hostname(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        size_t n = strlen(v);

        if (n == 0 || n > 63)
                return profile_error(err, o, "hostname must have 1 to 63 characters");
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) v[i]) && v[i] != '-' && v[i] != '.')
                        return profile_error(err, o, "invalid hostname '%s'", v);
        memcpy(p->hostname, v, n + 1);
        return 0;
}

/* ---- [filesystem] ---- */

static struct jail_mount *new_mount(struct jail_profile *p, const struct jail_origin *o, struct jail_error *err) {
        struct jail_mount *m;

        if (p->n_mounts >= JAIL_MAX_MOUNTS) {
                (void) profile_error(err, o, "too many mounts (at most %d)", JAIL_MAX_MOUNTS);
                return NULL;
        }
        m = &p->mounts[p->n_mounts];
        memset(m, 0, sizeof *m);
        m->origin = *o;
        return m;
}

static bool mount_already_listed(const struct jail_profile *p, enum jail_mount_kind kind, const char *src,
                                 const char *dst, uint64_t size) {
        for (unsigned i = 0; i < p->n_mounts; i++)
                if (p->mounts[i].kind == kind && p->mounts[i].size == size && strcmp(p->mounts[i].src, src) == 0 &&
                    strcmp(p->mounts[i].dst, dst) == 0)
                        return true;
        return false;
}

/* "clear = yes": forget every mount listed so far (the built-in ones
 * included), for profiles that describe their own file system view. */
static int k_fs_clear(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        bool clear;
        int r = set_bool(&clear, v, o, err);
        if (r < 0)
                return r;
        if (clear)
                p->n_mounts = 0;
        return 0;
}

/* "[?]SRC[:DST[:OPTIONS]]" for binds.  OPTIONS is a comma list; the only
 * one accepted is "noexec" (for ro).  "exec" on a writable bind is the W^X
 * violation the issue asks to refuse, with its own message. */
static int add_bind(struct jail_profile *p, enum jail_mount_kind kind, const char *v, const struct jail_origin *o,
                    struct jail_error *err) {
        char buf[3 * JAIL_PATH_MAX];
        char *src, *dst, *opts;
        struct jail_mount *m;
        bool optional = false;
        int r;

        if (v[0] == '?') {
                optional = true;
                v++;
        }
        if (strlen(v) >= sizeof buf)
                return profile_error(err, o, "value too long");
        memcpy(buf, v, strlen(v) + 1);
        src = buf;
        dst = strchr(src, ':');
        opts = NULL;
        if (dst) {
                *dst++ = '\0';
                opts = strchr(dst, ':');
                if (opts)
                        *opts++ = '\0';
        } else
                dst = src;
        r = check_path(src, "source", o, err);
        if (r < 0)
                return r;
        r = check_path(dst, "destination", o, err);
        if (r < 0)
                return r;
        if (opts) {
                char *save = NULL;
                for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                        if (strcmp(t, "exec") == 0 && kind == JAIL_MOUNT_RW)
                                return profile_error(err, o,
                                                     "'%s' asks for a writable and executable mount: refused (W^X: writable places are always noexec)",
                                                     dst);
                        else if (strcmp(t, "noexec") == 0 && kind == JAIL_MOUNT_RO)
                                kind = JAIL_MOUNT_RO_NOEXEC;
                        else if (strcmp(t, "noexec") == 0 || (strcmp(t, "exec") == 0 && kind != JAIL_MOUNT_RW))
                                continue; /* already implied */
                        else
                                return profile_error(err, o, "unknown mount option '%s' (known: exec, noexec)", t);
                }
        }
        if (mount_already_listed(p, kind, src, dst, 0))
                return 0; /* e.g. a written-out default profile read on top of the defaults */
        m = new_mount(p, o, err);
        if (!m)
                return -EINVAL;
        m->kind = kind;
        m->optional = optional;
        memcpy(m->src, src, strlen(src) + 1);
        memcpy(m->dst, dst, strlen(dst) + 1);
        p->n_mounts++;
        return 0;
}
static int k_ro(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return add_bind(p, JAIL_MOUNT_RO, v, o, err);
}
static int k_ro_noexec(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return add_bind(p, JAIL_MOUNT_RO_NOEXEC, v, o, err);
}
static int k_rw(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return add_bind(p, JAIL_MOUNT_RW, v, o, err);
}
static int k_exec_rw(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        (void) p;
        return profile_error(err, o, "'%s' asks for a writable and executable mount: refused (W^X: writable places are always noexec)", v);
}
/* "DST[:SIZE]" */
static int k_tmpfs(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        char buf[JAIL_PATH_MAX + 32];
        char *size;
        struct jail_mount *m;
        uint64_t bytes = 0;
        int r;

        if (strlen(v) >= sizeof buf)
                return profile_error(err, o, "value too long");
        memcpy(buf, v, strlen(v) + 1);
        size = strchr(buf, ':');
        if (size) {
                *size++ = '\0';
                if (strcmp(size, "exec") == 0)
                        return profile_error(err, o, "'%s' asks for a writable and executable tmpfs: refused (W^X)", buf);
                if (parse_size(size, &bytes, NULL) < 0 || bytes == 0)
                        return profile_error(err, o, "invalid tmpfs size '%s' (expected e.g. 64M)", size);
        }
        r = check_path(buf, "destination", o, err);
        if (r < 0)
                return r;
        if (mount_already_listed(p, JAIL_MOUNT_TMPFS, "", buf, bytes))
                return 0;
        m = new_mount(p, o, err);
        if (!m)
                return -EINVAL;
        m->kind = JAIL_MOUNT_TMPFS;
        m->size = bytes;
        memcpy(m->dst, buf, strlen(buf) + 1);
        p->n_mounts++;
        return 0;
}
/* "TARGET:LINK" — TARGET is link text (may be relative), LINK is absolute. */
static int k_symlink(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        char buf[2 * JAIL_PATH_MAX];
        char *link;
        struct jail_mount *m;
        int r;

        if (strlen(v) >= sizeof buf)
                return profile_error(err, o, "value too long");
        memcpy(buf, v, strlen(v) + 1);
        link = strchr(buf, ':');
        if (!link || link == buf)
                return profile_error(err, o, "expected 'TARGET:LINK', got '%s'", v);
        *link++ = '\0';
        r = check_path(link, "link", o, err);
        if (r < 0)
                return r;
        if (strlen(buf) >= JAIL_PATH_MAX)
                return profile_error(err, o, "link target too long");
        for (const char *c = buf; *c; c++)
                if (!isprint((unsigned char) *c))
                        return profile_error(err, o, "link target contains a control character");
        if (mount_already_listed(p, JAIL_MOUNT_SYMLINK, buf, link, 0))
                return 0;
        m = new_mount(p, o, err);
        if (!m)
                return -EINVAL;
        m->kind = JAIL_MOUNT_SYMLINK;
        memcpy(m->src, buf, strlen(buf) + 1);
        memcpy(m->dst, link, strlen(link) + 1);
        p->n_mounts++;
        return 0;
}
static int k_tmp(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (strcmp(v, "exec") == 0)
                return profile_error(err, o, "an executable /tmp is refused (W^X: /tmp is always noexec)");
        return set_bool(&p->private_tmp, v, o, err);
}
static int k_tmp_size(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (parse_size(v, &p->tmp_size, NULL) < 0 || p->tmp_size == 0)
                return profile_error(err, o, "invalid size '%s' (expected e.g. 64M)", v);
        return 0;
}
static int k_proc(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->proc, v, o, err);
}
static int k_sys(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (strcmp(v, "none") == 0 || strcmp(v, "no") == 0)
                p->sys = JAIL_SYS_NONE;
        else if (strcmp(v, "ro") == 0)
                p->sys = JAIL_SYS_RO;
        else if (strcmp(v, "rw") == 0)
                return profile_error(err, o, "a writable /sys is refused; use 'ro' or 'none'");
        else
                return profile_error(err, o, "expected 'none' or 'ro', got '%s'", v);
        return 0;
}
static int k_dev_shm(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->dev_shm, v, o, err);
}
static int k_dev_pts(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->dev_pts, v, o, err);
}
static int k_chdir(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        int r = check_path(v, "directory", o, err);
        if (r < 0)
                return r;
        memcpy(p->cwd, v, strlen(v) + 1);
        return 0;
}

/* ---- [devices] ---- */

static int k_dev_allow(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct jail_device *d;
        bool optional = false;
        int r;

        if (v[0] == '?') {
                optional = true;
                v++;
        }
        r = check_path(v, "device", o, err);
        if (r < 0)
                return r;
        if (strncmp(v, "/dev/", 5) != 0 || strchr(v + 5, '/') != NULL)
                return profile_error(err, o, "device '%s' must be a node directly under /dev", v);
        for (unsigned i = 0; i < p->n_devices; i++)
                if (strcmp(p->devices[i].path, v) == 0)
                        return 0; /* already allowed (e.g. by the defaults) */
        if (p->n_devices >= JAIL_MAX_DEVICES)
                return profile_error(err, o, "too many devices (at most %d)", JAIL_MAX_DEVICES);
        d = &p->devices[p->n_devices++];
        memset(d, 0, sizeof *d);
        memcpy(d->path, v, strlen(v) + 1);
        d->optional = optional;
        d->origin = *o;
        return 0;
}
static int k_dev_clear(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        bool clear;
        int r = set_bool(&clear, v, o, err);
        if (r < 0)
                return r;
        if (clear)
                p->n_devices = 0;
        return 0;
}
static int k_dev_policy(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->device_policy, v, o, err);
}

/* ---- [credentials] ---- */

static int set_id(uint32_t *dst, const char *v, const struct jail_origin *o, struct jail_error *err) {
        uint64_t id;

        if (strcmp(v, "nobody") == 0 || strcmp(v, "nogroup") == 0) {
                *dst = 65534;
                return 0;
        }
        /* (uid_t)-1 is "no change" for setresuid: never a valid target. */
        if (parse_u64(v, UINT32_MAX - 1, &id) < 0)
                return profile_error(err, o, "expected a numeric id (or 'nobody'), got '%s'", v);
        *dst = (uint32_t) id;
        return 0;
}
static int k_cred_user(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_id(&p->uid, v, o, err);
}
static int k_cred_group(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_id(&p->gid, v, o, err);
}
struct list_ctx {
        struct jail_profile *p;
        const struct jail_origin *o;
        struct jail_error *err;
};
static int add_group_word(const char *w, void *u) {
        struct list_ctx *c = u;
        uint32_t id = 0;
        int r;

        if (c->p->n_groups >= JAIL_MAX_GROUPS)
                return profile_error(c->err, c->o, "too many groups (at most %d)", JAIL_MAX_GROUPS);
        r = set_id(&id, w, c->o, c->err);
        if (r < 0)
                return r;
        c->p->groups[c->p->n_groups++] = id;
        return 0;
}
static int k_cred_groups(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct list_ctx c = { p, o, err };
        p->n_groups = 0;
        return split_words(v, add_group_word, &c);
}
static int add_cap_word(const char *w, void *u) {
        struct list_ctx *c = u;
        int cap = cap_from_name(w);

        if (cap < 0)
                return profile_error(c->err, c->o, "unknown capability '%s'", w);
        for (unsigned i = 0; i < c->p->n_caps_keep; i++)
                if (c->p->caps_keep[i] == cap)
                        return 0;
        if (c->p->n_caps_keep >= JAIL_MAX_CAPS)
                return profile_error(c->err, c->o, "too many capabilities");
        c->p->caps_keep[c->p->n_caps_keep++] = cap;
        return 0;
}
static int k_cred_caps(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct list_ctx c = { p, o, err };
        p->n_caps_keep = 0;
        return split_words(v, add_cap_word, &c);
}
static int k_mdwe(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->mdwe, v, o, err);
}
static int k_exec_sb(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->exec_securebits, v, o, err);
}
static int k_new_session(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->new_session, v, o, err);
}
static int k_memfd_noexec(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->memfd_noexec, v, o, err);
}
static int k_die_with_parent(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->die_with_parent, v, o, err);
}

/* ---- [environment] ---- */

static bool env_name_valid(const char *s, size_t n) {
        if (n == 0 || n >= JAIL_NAME_MAX || !(isalpha((unsigned char) s[0]) || s[0] == '_'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && s[i] != '_')
                        return false;
        return true;
}
static int add_env_keep_word(const char *w, void *u) {
        struct list_ctx *c = u;

        if (!env_name_valid(w, strlen(w)))
                return profile_error(c->err, c->o, "invalid variable name '%s'", w);
        for (unsigned i = 0; i < c->p->n_env_keep; i++)
                if (strcmp(c->p->env_keep[i], w) == 0)
                        return 0;
        if (c->p->n_env_keep >= JAIL_MAX_ENV)
                return profile_error(c->err, c->o, "too many variables (at most %d)", JAIL_MAX_ENV);
        memcpy(c->p->env_keep[c->p->n_env_keep++], w, strlen(w) + 1);
        return 0;
}
static int k_env_keep(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct list_ctx c = { p, o, err };
        return split_words(v, add_env_keep_word, &c);
}
static int k_env_clear(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        bool clear;
        int r = set_bool(&clear, v, o, err);
        if (r < 0)
                return r;
        if (clear)
                p->n_env_keep = p->n_env_set = 0;
        return 0;
}
static int k_env_set(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        const char *eq = strchr(v, '=');
        size_t n;

        if (!eq || !env_name_valid(v, (size_t) (eq - v)))
                return profile_error(err, o, "expected NAME=VALUE, got '%s'", v);
        n = (size_t) (eq - v);
        if (strlen(v) >= JAIL_PATH_MAX)
                return profile_error(err, o, "value too long");
        for (unsigned i = 0; i < p->n_env_set; i++)
                if (strncmp(p->env_set[i], v, n + 1) == 0) {
                        memcpy(p->env_set[i], v, strlen(v) + 1);
                        return 0;
                }
        if (p->n_env_set >= JAIL_MAX_ENV)
                return profile_error(err, o, "too many variables (at most %d)", JAIL_MAX_ENV);
        memcpy(p->env_set[p->n_env_set++], v, strlen(v) + 1);
        return 0;
}

/* ---- [fds] ---- */

static int add_fd_word(const char *w, void *u) {
        struct list_ctx *c = u;
        uint64_t fd;

        if (parse_u64(w, 65535, &fd) < 0 || fd < 3)
                return profile_error(c->err, c->o, "invalid file descriptor '%s' (0-2 are always kept; 3-65535)", w);
        for (unsigned i = 0; i < c->p->n_fds_keep; i++)
                if (c->p->fds_keep[i] == (int) fd)
                        return 0;
        if (c->p->n_fds_keep >= JAIL_MAX_FDS)
                return profile_error(c->err, c->o, "too many file descriptors (at most %d)", JAIL_MAX_FDS);
        c->p->fds_keep[c->p->n_fds_keep++] = (int) fd;
        return 0;
}
static int k_fds_keep(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct list_ctx c = { p, o, err };
        return split_words(v, add_fd_word, &c);
}

/* ---- [rlimits] ---- */

static int parse_rlim_value(const char *s, rlim_t *ret) {
        uint64_t v;
        bool max = false;

        if (parse_size(s, &v, &max) < 0)
                return -EINVAL;
        *ret = max ? RLIM_INFINITY : (rlim_t) v;
        return 0;
}
static int set_rlimit(struct jail_profile *p, int res, const char *v, const struct jail_origin *o,
                      struct jail_error *err) {
        char buf[64];
        char *colon;
        rlim_t soft, hard;

        if (strlen(v) >= sizeof buf)
                return profile_error(err, o, "value too long");
        memcpy(buf, v, strlen(v) + 1);
        colon = strchr(buf, ':');
        if (colon)
                *colon++ = '\0';
        if (parse_rlim_value(buf, &soft) < 0 || (colon && parse_rlim_value(colon, &hard) < 0))
                return profile_error(err, o, "expected LIMIT or SOFT:HARD (numbers, K/M/G suffixes, or 'infinity'), got '%s'", v);
        if (!colon)
                hard = soft;
        if (soft > hard)
                return profile_error(err, o, "soft limit is above the hard limit");
        p->rlimits[res] = (struct jail_rlimit) { .set = true, .soft = soft, .hard = hard };
        return 0;
}
#define RLIMIT_SETTER(fn, res)                                                                            \
        static int fn(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) { \
                return set_rlimit(p, res, v, o, err);                                                     \
        }
RLIMIT_SETTER(k_rl_as, RLIMIT_AS)
RLIMIT_SETTER(k_rl_core, RLIMIT_CORE)
RLIMIT_SETTER(k_rl_cpu, RLIMIT_CPU)
RLIMIT_SETTER(k_rl_data, RLIMIT_DATA)
RLIMIT_SETTER(k_rl_fsize, RLIMIT_FSIZE)
RLIMIT_SETTER(k_rl_memlock, RLIMIT_MEMLOCK)
RLIMIT_SETTER(k_rl_msgqueue, RLIMIT_MSGQUEUE)
RLIMIT_SETTER(k_rl_nice, RLIMIT_NICE)
RLIMIT_SETTER(k_rl_nofile, RLIMIT_NOFILE)
RLIMIT_SETTER(k_rl_nproc, RLIMIT_NPROC)
RLIMIT_SETTER(k_rl_rtprio, RLIMIT_RTPRIO)
RLIMIT_SETTER(k_rl_rttime, RLIMIT_RTTIME)
RLIMIT_SETTER(k_rl_sigpending, RLIMIT_SIGPENDING)
RLIMIT_SETTER(k_rl_stack, RLIMIT_STACK)

/* ---- [landlock] ---- */

static int k_ll_enabled(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->landlock, v, o, err);
}
static int k_ll_fs(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->landlock_fs, v, o, err);
}
static int k_ll_net(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->landlock_net, v, o, err);
}
struct port_ctx {
        uint16_t *ports;
        unsigned *n;
        const struct jail_origin *o;
        struct jail_error *err;
};
static int add_port_word(const char *w, void *u) {
        struct port_ctx *c = u;
        uint64_t port;

        if (parse_u64(w, 65535, &port) < 0)
                return profile_error(c->err, c->o, "invalid port '%s' (0-65535)", w);
        if (*c->n >= JAIL_MAX_PORTS)
                return profile_error(c->err, c->o, "too many ports (at most %d)", JAIL_MAX_PORTS);
        c->ports[(*c->n)++] = (uint16_t) port;
        return 0;
}
static int k_ll_bind(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct port_ctx c = { p->tcp_bind, &p->n_tcp_bind, o, err };
        return split_words(v, add_port_word, &c);
}
static int k_ll_connect(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct port_ctx c = { p->tcp_connect, &p->n_tcp_connect, o, err };
        return split_words(v, add_port_word, &c);
}
static int k_ll_scope_unix(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->scope_abstract_unix, v, o, err);
}
static int k_ll_scope_signal(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->scope_signal, v, o, err);
}

/* ---- [seccomp] ---- */

static int k_sc_enabled(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->seccomp, v, o, err);
}
static int k_sc_mode(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (strcmp(v, "denylist") == 0)
                p->seccomp_mode = JAIL_SECCOMP_DENYLIST;
        else if (strcmp(v, "allowlist") == 0)
                p->seccomp_mode = JAIL_SECCOMP_ALLOWLIST;
        else
                return profile_error(err, o, "expected 'denylist' or 'allowlist', got '%s'", v);
        return 0;
}
struct sc_ctx {
        char (*names)[32];
        unsigned *n;
        bool deny;
        const struct jail_origin *o;
        struct jail_error *err;
};
static int add_syscall_word(const char *w, void *u) {
        struct sc_ctx *c = u;
        size_t n = strlen(w);

        if (n == 0 || n >= 32)
                return profile_error(c->err, c->o, "invalid system call name '%s'", w);
        for (size_t i = 0; i < n; i++)
                if (!islower((unsigned char) w[i]) && !isdigit((unsigned char) w[i]) && w[i] != '_')
                        return profile_error(c->err, c->o, "invalid system call name '%s'", w);
        /* Checked here, so that the error names this line. */
        if (seccomp_syscall_number(w) == -EINVAL)
                return profile_error(c->err, c->o, "unknown system call '%s'", w);
        /* Without these the command can neither start nor end. */
        if (c->deny && (strcmp(w, "execve") == 0 || strcmp(w, "exit") == 0 || strcmp(w, "exit_group") == 0))
                return profile_error(c->err, c->o, "'%s' cannot be denied: the command could not start or end", w);
        for (unsigned i = 0; i < *c->n; i++)
                if (strcmp(c->names[i], w) == 0)
                        return 0;
        if (*c->n >= JAIL_MAX_SYSCALLS)
                return profile_error(c->err, c->o, "too many system calls (at most %d)", JAIL_MAX_SYSCALLS);
        memcpy(c->names[(*c->n)++], w, n + 1);
        return 0;
}
static int k_sc_allow(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct sc_ctx c = { p->seccomp_allow, &p->n_seccomp_allow, false, o, err };
        return split_words(v, add_syscall_word, &c);
}
static int k_sc_deny(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        struct sc_ctx c = { p->seccomp_deny, &p->n_seccomp_deny, true, o, err };
        return split_words(v, add_syscall_word, &c);
}
static int k_sc_errno(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        static const struct { const char *name; int value; } names[] = {
                { "EPERM", EPERM }, { "EACCES", EACCES }, { "ENOSYS", ENOSYS }, { "EINVAL", EINVAL },
        };
        uint64_t n;

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(v, names[i].name) == 0) {
                        p->seccomp_errno = names[i].value;
                        return 0;
                }
        if (parse_u64(v, 4095, &n) < 0 || n == 0)
                return profile_error(err, o, "expected EPERM, EACCES, ENOSYS, EINVAL or a number 1-4095, got '%s'", v);
        p->seccomp_errno = (int) n;
        return 0;
}

/* ---- [cgroup] ---- */

static int k_cg_enabled(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_bool(&p->cgroup, v, o, err);
}
static int k_cg_parent(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        char abs[JAIL_PATH_MAX + 1];

        /* Relative to the cgroup2 mount; validated as if it were absolute. */
        if (strlen(v) + 1 >= sizeof abs)
                return profile_error(err, o, "value too long");
        (void) snprintf(abs, sizeof abs, "/%s", v);
        if (v[0] == '/' || !path_is_normalized_absolute(abs))
                return profile_error(err, o, "expected a relative cgroup path like 'rempart' or 'rempart/services', got '%s'", v);
        memcpy(p->cgroup_parent, v, strlen(v) + 1);
        return 0;
}
static int set_cg_size(uint64_t *dst, bool *set, const char *v, bool allow_zero, const struct jail_origin *o,
                       struct jail_error *err) {
        bool max = false;

        if (parse_size(v, dst, &max) < 0 || (!allow_zero && *dst == 0))
                return profile_error(err, o, "expected a size (e.g. 512M) or 'max', got '%s'", v);
        /* "max" is no limit: nothing to ask the kernel for. */
        *set = !max;
        return 0;
}
static int k_cg_mem(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_cg_size(&p->memory_max, &p->memory_max_set, v, false, o, err);
}
static int k_cg_swap(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_cg_size(&p->memory_swap_max, &p->memory_swap_max_set, v, true, o, err);
}
static int k_cg_pids(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (strcmp(v, "max") == 0) {
                /* No limit: nothing to ask the kernel for. */
                p->pids_max = UINT64_MAX;
                p->pids_max_set = false;
                return 0;
        }
        if (parse_u64(v, INT32_MAX, &p->pids_max) < 0 || p->pids_max == 0)
                return profile_error(err, o, "expected a number of tasks (1-%d) or 'max', got '%s'", INT32_MAX, v);
        p->pids_max_set = true;
        return 0;
}
/* "QUOTA PERIOD" in microseconds, "NN%" of one CPU, or "max" (parse_cpu_max). */
static int k_cg_cpu(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        int r = parse_cpu_max(v, &p->cpu_quota_us, &p->cpu_period_us);

        if (r == -EDOM)
                return profile_error(err, o, "invalid percentage '%s' (1%%-100000%%)", v);
        if (r == -ERANGE)
                return profile_error(err, o, "cpu.max out of range (period 1000-1000000 us, quota >= 1000 us)");
        if (r < 0)
                return profile_error(err, o, "expected 'QUOTA PERIOD' in microseconds, 'NN%%' or 'max', got '%s'", v);
        return 0;
}
static int set_weight(uint64_t *dst, const char *v, const struct jail_origin *o, struct jail_error *err) {
        if (parse_u64(v, 10000, dst) < 0 || *dst == 0)
                return profile_error(err, o, "expected a weight from 1 to 10000, got '%s'", v);
        return 0;
}
static int k_cg_cpu_weight(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_weight(&p->cpu_weight, v, o, err);
}
static int k_cg_io_weight(struct jail_profile *p, const char *v, const struct jail_origin *o, struct jail_error *err) {
        return set_weight(&p->io_weight, v, o, err);
}

static const struct key_def keys[] = {
        { "profile", "name", KEY_SCALAR, k_name },
        { "profile", "mode", KEY_SCALAR, k_mode },
        { "namespaces", "user", KEY_SCALAR, k_user },
        { "namespaces", "uid_map", KEY_LIST, k_uid_map },
        { "namespaces", "gid_map", KEY_LIST, k_gid_map },
        { "namespaces", "net", KEY_SCALAR, k_net },
        { "namespaces", "loopback", KEY_SCALAR, k_loopback },
        { "namespaces", "time", KEY_SCALAR, k_time },
        { "namespaces", "time_offset_monotonic", KEY_SCALAR, k_off_mono },
        { "namespaces", "time_offset_boottime", KEY_SCALAR, k_off_boot },
        { "namespaces", "hostname", KEY_SCALAR, k_hostname },
        { "filesystem", "ro", KEY_LIST, k_ro },
        { "filesystem", "ro_noexec", KEY_LIST, k_ro_noexec },
        { "filesystem", "rw", KEY_LIST, k_rw },
        { "filesystem", "rw_exec", KEY_LIST, k_exec_rw },
        { "filesystem", "exec", KEY_LIST, k_exec_rw },
        { "filesystem", "tmpfs", KEY_LIST, k_tmpfs },
        { "filesystem", "symlink", KEY_LIST, k_symlink },
        { "filesystem", "clear", KEY_SCALAR, k_fs_clear },
        { "filesystem", "tmp", KEY_SCALAR, k_tmp },
        { "filesystem", "tmp_size", KEY_SCALAR, k_tmp_size },
        { "filesystem", "proc", KEY_SCALAR, k_proc },
        { "filesystem", "sys", KEY_SCALAR, k_sys },
        { "filesystem", "dev_shm", KEY_SCALAR, k_dev_shm },
        { "filesystem", "dev_pts", KEY_SCALAR, k_dev_pts },
        { "filesystem", "chdir", KEY_SCALAR, k_chdir },
        { "devices", "allow", KEY_LIST, k_dev_allow },
        { "devices", "clear", KEY_SCALAR, k_dev_clear },
        { "devices", "policy", KEY_SCALAR, k_dev_policy },
        { "credentials", "user", KEY_SCALAR, k_cred_user },
        { "credentials", "group", KEY_SCALAR, k_cred_group },
        { "credentials", "groups", KEY_SCALAR, k_cred_groups },
        { "credentials", "caps", KEY_SCALAR, k_cred_caps },
        { "credentials", "mdwe", KEY_SCALAR, k_mdwe },
        { "credentials", "exec_securebits", KEY_SCALAR, k_exec_sb },
        { "credentials", "new_session", KEY_SCALAR, k_new_session },
        { "credentials", "memfd_noexec", KEY_SCALAR, k_memfd_noexec },
        { "credentials", "die_with_parent", KEY_SCALAR, k_die_with_parent },
        { "environment", "clear", KEY_SCALAR, k_env_clear },
        { "environment", "keep", KEY_LIST, k_env_keep },
        { "environment", "set", KEY_LIST, k_env_set },
        { "fds", "keep", KEY_LIST, k_fds_keep },
        { "rlimits", "as", KEY_SCALAR, k_rl_as },
        { "rlimits", "core", KEY_SCALAR, k_rl_core },
        { "rlimits", "cpu", KEY_SCALAR, k_rl_cpu },
        { "rlimits", "data", KEY_SCALAR, k_rl_data },
        { "rlimits", "fsize", KEY_SCALAR, k_rl_fsize },
        { "rlimits", "memlock", KEY_SCALAR, k_rl_memlock },
        { "rlimits", "msgqueue", KEY_SCALAR, k_rl_msgqueue },
        { "rlimits", "nice", KEY_SCALAR, k_rl_nice },
        { "rlimits", "nofile", KEY_SCALAR, k_rl_nofile },
        { "rlimits", "nproc", KEY_SCALAR, k_rl_nproc },
        { "rlimits", "rtprio", KEY_SCALAR, k_rl_rtprio },
        { "rlimits", "rttime", KEY_SCALAR, k_rl_rttime },
        { "rlimits", "sigpending", KEY_SCALAR, k_rl_sigpending },
        { "rlimits", "stack", KEY_SCALAR, k_rl_stack },
        { "landlock", "enabled", KEY_SCALAR, k_ll_enabled },
        { "landlock", "filesystem", KEY_SCALAR, k_ll_fs },
        { "landlock", "network", KEY_SCALAR, k_ll_net },
        { "landlock", "tcp_bind", KEY_LIST, k_ll_bind },
        { "landlock", "tcp_connect", KEY_LIST, k_ll_connect },
        { "landlock", "scope_abstract_unix", KEY_SCALAR, k_ll_scope_unix },
        { "landlock", "scope_signal", KEY_SCALAR, k_ll_scope_signal },
        { "seccomp", "enabled", KEY_SCALAR, k_sc_enabled },
        { "seccomp", "mode", KEY_SCALAR, k_sc_mode },
        { "seccomp", "allow", KEY_LIST, k_sc_allow },
        { "seccomp", "deny", KEY_LIST, k_sc_deny },
        { "seccomp", "errno", KEY_SCALAR, k_sc_errno },
        { "cgroup", "enabled", KEY_SCALAR, k_cg_enabled },
        { "cgroup", "parent", KEY_SCALAR, k_cg_parent },
        { "cgroup", "memory_max", KEY_SCALAR, k_cg_mem },
        { "cgroup", "memory_swap_max", KEY_SCALAR, k_cg_swap },
        { "cgroup", "pids_max", KEY_SCALAR, k_cg_pids },
        { "cgroup", "cpu_max", KEY_SCALAR, k_cg_cpu },
        { "cgroup", "cpu_weight", KEY_SCALAR, k_cg_cpu_weight },
        { "cgroup", "io_weight", KEY_SCALAR, k_cg_io_weight },
};
_Static_assert(sizeof keys / sizeof keys[0] <= JAIL_MAX_KEYS, "JAIL_MAX_KEYS too small");

int profile_key_index(const char *section, const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, key) == 0)
                        return (int) i;
        return -1;
}

static bool section_known(const char *section) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (strcmp(keys[i].section, section) == 0)
                        return true;
        return false;
}

int profile_set(struct jail_profile *p, const char *section, const char *key, const char *value,
                const struct jail_origin *origin, struct jail_error *err) {
        int idx = profile_key_index(section, key);
        int r;

        if (idx < 0) {
                if (!section_known(section))
                        return profile_error(err, origin, "unknown section '[%s]'", section);
                return profile_error(err, origin, "unknown key '%s' in section [%s]", key, section);
        }
        r = keys[idx].set(p, value, origin, err);
        if (r < 0)
                return r;
        p->origins[idx] = *origin;
        return 0;
}

/* ---- file parsing ---- */

struct parse_ctx {
        struct jail_profile *p;
        struct jail_error *err;
        const char *name;
        const char *buf, *end, *pos;
        unsigned line;
        unsigned first_error_line; /* ours, 0 = none */
        unsigned too_long_line;
        bool seen[ELEMENTSOF(keys)];
};

/* fgets() over the in-memory buffer, counting lines.  libinih calls it once
 * per line, so ctx->line is the line number of what the handler sees. */
static char *reader(char *str, int num, void *stream) {
        struct parse_ctx *c = stream;
        size_t n = 0, max;

        if (c->pos >= c->end || num <= 1)
                return NULL;
        max = (size_t) num - 1;
        c->line++;
        while (c->pos < c->end && n < max) {
                char ch = *c->pos++;
                if (ch == '\0') {
                        /* An embedded NUL would silently truncate the line. */
                        if (c->too_long_line == 0)
                                c->too_long_line = c->line;
                        ch = ' ';
                }
                str[n++] = ch;
                if (ch == '\n')
                        break;
        }
        if (n == max && str[n - 1] != '\n' && c->pos < c->end) {
                /* Line longer than libinih's buffer: swallow the rest and flag it. */
                if (c->too_long_line == 0)
                        c->too_long_line = c->line;
                while (c->pos < c->end && *c->pos != '\n')
                        c->pos++;
                if (c->pos < c->end)
                        c->pos++;
                str[n - 1] = '\n';
        }
        str[n] = '\0';
        return str;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        struct parse_ctx *c = user;
        struct jail_origin o = { .line = c->line };
        int idx;

        if (c->first_error_line != 0)
                return 1; /* keep only the first error; libinih goes on */
        (void) snprintf(o.file, sizeof o.file, "%s", c->name);
        (void) snprintf(o.key, sizeof o.key, "[%s] %s", section, name);
        if (section[0] == '\0') {
                (void) profile_error(c->err, &o, "key outside of any [section]");
                c->first_error_line = c->line;
                return 0;
        }
        idx = profile_key_index(section, name);
        if (idx >= 0 && keys[idx].kind == KEY_SCALAR) {
                if (c->seen[idx]) {
                        (void) profile_error(c->err, &o, "duplicate key (it may be given only once)");
                        c->first_error_line = c->line;
                        return 0;
                }
                c->seen[idx] = true;
        }
        if (profile_set(c->p, section, name, value, &o, c->err) < 0) {
                c->first_error_line = c->line;
                return 0;
        }
        return 1;
}

int profile_parse_buffer(struct jail_profile *p, const char *name, const char *buf, size_t len,
                         struct jail_error *err) {
        /* Parse into a copy, so that a failing profile leaves *p untouched. */
        struct parse_state {
                struct parse_ctx ctx;
                struct jail_profile copy;
        };
        _cleanup_free_ struct parse_state *st = calloc(1, sizeof *st);
        struct parse_ctx *c;
        struct jail_profile *tmp;
        int r;

        if (!st)
                return -ENOMEM;
        c = &st->ctx;
        tmp = &st->copy;
        *tmp = *p;
        c->p = tmp;
        c->err = err;
        c->name = name;
        c->buf = c->pos = buf;
        c->end = buf + len;
        r = ini_parse_stream(reader, c, handler, c);
        if (r == -2)
                return -ENOMEM;
        if (c->too_long_line != 0 && (c->first_error_line == 0 || c->too_long_line < c->first_error_line) &&
            (r <= 0 || (unsigned) r >= c->too_long_line)) {
                struct jail_origin o = { .line = c->too_long_line };
                (void) snprintf(o.file, sizeof o.file, "%s", name);
                (void) snprintf(o.key, sizeof o.key, "line");
                return profile_error(err, &o, "line too long or contains a NUL byte (at most %d characters)",
                                     INI_MAX_LINE - 2);
        }
        if (r > 0 && (c->first_error_line == 0 || (unsigned) r < c->first_error_line)) {
                struct jail_origin o = { .line = (unsigned) r };
                (void) snprintf(o.file, sizeof o.file, "%s", name);
                (void) snprintf(o.key, sizeof o.key, "syntax");
                return profile_error(err, &o, "expected '[section]', 'key = value' or a comment");
        }
        if (c->first_error_line != 0)
                return -EINVAL;
        *p = *tmp;
        return 0;
}

int profile_parse_file(struct jail_profile *p, const char *path, struct jail_error *err) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = read_full_file(path, PROFILE_MAX_SIZE, &buf, &len);
        if (r == -EFBIG)
                return profile_error(err, NULL, "%s: profile larger than %zu bytes", path, PROFILE_MAX_SIZE);
        if (r < 0) {
                (void) profile_error(err, NULL, "%s: cannot read profile: %s", path, strerror(-r));
                return r;
        }
        return profile_parse_buffer(p, path, buf, len, err);
}

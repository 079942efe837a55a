/* SPDX-License-Identifier: MIT */
/* A directory of level files: every NAME.conf, each parsed and validated on
 * its own, then the checks across levels (data directories). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "level-internal.h"
#include "level.h"
#include "macro.h"

struct candidate {
        char file[256]; /* d_name */
        char stem[256]; /* file without ".conf" */
};

static void closedirp(DIR **d) {
        if (*d) {
                int saved = errno;
                (void) closedir(*d);
                errno = saved;
        }
}

static int candidate_cmp(const void *a, const void *b) {
        return strcmp(((const struct candidate *) a)->stem, ((const struct candidate *) b)->stem);
}

/* The names ending in .conf, at most LEVEL_MAX_LEVELS of them. */
static int list_candidates(DIR *d, struct candidate *list, unsigned *n) {
        *n = 0;
        for (;;) {
                struct dirent *de;
                size_t len;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return negative_errno();
                        break;
                }
                len = strnlen(de->d_name, sizeof list[0].file);
                if (len >= sizeof list[0].file || len < 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
                        continue; /* not a level file: ignored */
                if (*n >= LEVEL_MAX_LEVELS)
                        return -E2BIG;
                memcpy(list[*n].file, de->d_name, len + 1);
                memcpy(list[*n].stem, de->d_name, len - 5);
                list[*n].stem[len - 5] = '\0';
                (*n)++;
        }
        qsort(list, *n, sizeof list[0], candidate_cmp);
        return 0;
}

static void load_one(struct level_entry *e, int dfd, const char *dir, const struct candidate *cand,
                     const struct level_userdb *db) {
        _cleanup_close_ int fd = -1;
        char path[JAIL_PATH_MAX];
        int r, n;

        memset(e, 0, sizeof *e);
        n = snprintf(path, sizeof path, "%s/%s", dir, cand->file);
        if (!level_name_valid(cand->stem)) {
                /* Not a level: no name, so that level_set_find() never returns it. */
                memset(&e->config, 0, sizeof e->config);
                (void) snprintf(e->config.path, sizeof e->config.path, "%s", path);
                (void) profile_error(&e->error, NULL,
                                     "%.180s: invalid level name '%.40s': a level file is NAME.conf with NAME matching [a-z][a-z0-9_-]{0,30}",
                                     path, cand->stem);
                return;
        }
        level_init_default(&e->config, cand->stem);
        (void) snprintf(e->config.path, sizeof e->config.path, "%s", path);
        if (n < 0 || (size_t) n >= sizeof path) {
                (void) profile_error(&e->error, NULL, "%.180s...: path too long", path);
                return;
        }
        /* Regular files only: no symbolic link is followed, no FIFO opened. */
        fd = openat(dfd, cand->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ELOOP)
                        (void) profile_error(&e->error, NULL, "%.180s: not a regular file (symbolic links are not followed)",
                                             path);
                else
                        (void) profile_error(&e->error, NULL, "%.180s: cannot open: %s", path, strerror(-r));
                return;
        }
        r = level_parse_fd(&e->config, fd, cand->stem, path, db, &e->error);
        if (r == -ENOMEM && e->error.msg[0] == '\0')
                (void) profile_error(&e->error, NULL, "%.180s: out of memory", path);
        if (r < 0)
                return;
        if (level_validate(&e->config, &e->error) < 0)
                return;
        e->ok = true;
}

static const char *relation(const char *a, const char *b) {
        if (strcmp(a, b) == 0)
                return "is the same as";
        return level_path_contains(a, b) ? "contains" : "is inside";
}

/* Two levels must not share data: the same directory, or one inside the
 * other, would let one level read and write the other's files; nor a
 * network namespace.  Both are refused, each naming the other. */
static void check_data_overlaps(struct level_set *set) {
        bool was_ok[LEVEL_MAX_LEVELS];

        for (unsigned i = 0; i < set->n_levels; i++)
                was_ok[i] = set->levels[i].ok;
        for (unsigned i = 0; i < set->n_levels; i++) {
                struct level_entry *a = &set->levels[i];

                if (!was_ok[i])
                        continue;
                for (unsigned j = 0; j < set->n_levels; j++) {
                        const struct level_entry *b = &set->levels[j];

                        if (j == i || !was_ok[j])
                                continue;
                        if (a->config.vt != 0 && a->config.vt == b->config.vt) {
                                a->ok = false;
                                (void) profile_error(&a->error, &a->config.origins[LK_VT],
                                                     "virtual terminal tty%u is also the one of level '%s' (%.100s): "
                                                     "both levels are refused",
                                                     a->config.vt, b->config.name, b->config.path);
                                break;
                        }
                        if (a->config.network == LEVEL_NET_NETNS && b->config.network == LEVEL_NET_NETNS &&
                            strcmp(a->config.netns, b->config.netns) == 0) {
                                a->ok = false;
                                (void) profile_error(&a->error, &a->config.origins[LK_NET_MODE],
                                                     "network namespace %s is also the network of level '%s' (%.100s): "
                                                     "both levels are refused",
                                                     a->config.netns, b->config.name, b->config.path);
                                break;
                        }
                        if (!level_path_contains(a->config.data, b->config.data) &&
                            !level_path_contains(b->config.data, a->config.data))
                                continue;
                        a->ok = false;
                        (void) profile_error(&a->error, &a->config.origins[LK_DATA],
                                             "data directory %.100s %s the data directory %.100s of level '%s' (%.100s): both levels are refused",
                                             a->config.data, relation(a->config.data, b->config.data), b->config.data,
                                             b->config.name, b->config.path);
                        break;
                }
        }
}

int level_set_load(struct level_set *set, const char *dir, const struct level_userdb *db) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct candidate list[LEVEL_MAX_LEVELS];
        unsigned n = 0;
        int r;

        set->n_levels = 0;
        d = opendir(dir);
        if (!d)
                return negative_errno();
        r = list_candidates(d, list, &n);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < n; i++)
                load_one(&set->levels[i], dirfd(d), dir, &list[i], db);
        set->n_levels = n;
        check_data_overlaps(set);
        return 0;
}

const struct level_entry *level_set_find(const struct level_set *set, const char *name) {
        if (!name || name[0] == '\0')
                return NULL;
        for (unsigned i = 0; i < set->n_levels && i < LEVEL_MAX_LEVELS; i++)
                if (strcmp(set->levels[i].config.name, name) == 0)
                        return &set->levels[i];
        return NULL;
}

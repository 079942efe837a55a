/* SPDX-License-Identifier: MIT */
/* Level configuration: defaults, names, colours, user lookups and the
 * checks of one level as a whole.  See rempart-level.conf(5). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "level-internal.h"
#include "level.h"
#include "macro.h"
#include "parse.h"

#define GETPW_BUF_MAX ((size_t) 1024 * 1024)

static const char *const colour_names[] = {
        [LEVEL_COLOUR_RED] = "red",         [LEVEL_COLOUR_GREEN] = "green", [LEVEL_COLOUR_YELLOW] = "yellow",
        [LEVEL_COLOUR_BLUE] = "blue",       [LEVEL_COLOUR_MAGENTA] = "magenta", [LEVEL_COLOUR_CYAN] = "cyan",
        [LEVEL_COLOUR_WHITE] = "white",
};

const char *level_colour_name(enum level_colour c) {
        if ((unsigned) c >= ELEMENTSOF(colour_names))
                return "white";
        return colour_names[c];
}

int level_colour_sgr(enum level_colour c) {
        /* SGR 31..37 follow the order of enum level_colour. */
        if ((unsigned) c >= ELEMENTSOF(colour_names))
                return 37;
        return 31 + (int) c;
}

int level_colour_from_name(const char *s, enum level_colour *ret) {
        for (size_t i = 0; i < ELEMENTSOF(colour_names); i++)
                if (strcmp(s, colour_names[i]) == 0) {
                        *ret = (enum level_colour) i;
                        return 0;
                }
        return -EINVAL;
}

bool level_name_valid(const char *name) {
        size_t n;

        if (!name || !(name[0] >= 'a' && name[0] <= 'z'))
                return false;
        n = strnlen(name, LEVEL_NAME_MAX);
        if (n >= LEVEL_NAME_MAX)
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

bool level_path_contains(const char *outer, const char *inner) {
        size_t n = strlen(outer);

        if (strcmp(outer, "/") == 0)
                return inner[0] == '/';
        return strncmp(outer, inner, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

/* Code points that are not shown as themselves and can make a label look
 * like something else: C1 controls, zero-width and bidirectional format
 * characters, line/paragraph separators, the byte order mark. */
static bool invisible_code_point(uint32_t cp) {
        return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
               (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff;
}

bool level_text_printable(const char *s, bool allow_tab) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                unsigned c = *p, len;
                uint32_t cp;

                if (c < 0x80) {
                        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
                                return false;
                        p++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        cp = c & 0x07;
                } else
                        return false;
                for (unsigned i = 1; i < len; i++) {
                        /* Also stops at the terminating NUL. */
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || invisible_code_point(cp))
                        return false;
                p += len;
        }
        return true;
}

/* ---- defaults ---- */

static const struct {
        const char *section, *key;
} origin_keys[LK_COUNT] = {
        [LK_LABEL] = { "level", "label" },
        [LK_COLOUR] = { "level", "colour" },
        [LK_USERS] = { "level", "users" },
        [LK_SYSTEM] = { "filesystem", "system" },
        [LK_DATA] = { "filesystem", "data" },
        [LK_TMP_SIZE] = { "filesystem", "tmp_size" },
        [LK_NET_MODE] = { "network", "mode" },
        [LK_DEV_ALLOW] = { "devices", "allow" },
        [LK_MEMORY_MAX] = { "limits", "memory_max" },
        [LK_MEMORY_SWAP_MAX] = { "limits", "memory_swap_max" },
        [LK_PIDS_MAX] = { "limits", "pids_max" },
        [LK_CPU_MAX] = { "limits", "cpu_max" },
        [LK_CPU_WEIGHT] = { "limits", "cpu_weight" },
        [LK_VT] = { "level", "vt" },
};
_Static_assert(LK_COUNT <= ELEMENTSOF(((struct level_config *) NULL)->origins), "level_config.origins too small");

int level_key_index(const char *section, const char *key) {
        if (!section || !key)
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(origin_keys); i++)
                if (strcmp(origin_keys[i].section, section) == 0 && strcmp(origin_keys[i].key, key) == 0)
                        return (int) i;
        return -1;
}

static void default_origin(struct jail_origin *o, const char *section, const char *key) {
        memset(o, 0, sizeof *o);
        (void) snprintf(o->file, sizeof o->file, "built-in default");
        (void) snprintf(o->key, sizeof o->key, "[%s] %s", section, key);
}

static void add_default_system(struct level_config *l, const char *path) {
        unsigned i = l->n_system++;

        (void) snprintf(l->system[i], sizeof l->system[i], "%s", path);
        default_origin(&l->system_origins[i], "filesystem", "system");
}

void level_init_default(struct level_config *l, const char *name) {
        memset(l, 0, sizeof *l);
        (void) snprintf(l->name, sizeof l->name, "%s", name ? name : "");
        (void) snprintf(l->label, sizeof l->label, "%s", l->name);
        l->colour = LEVEL_COLOUR_WHITE;
        for (size_t i = 0; i < ELEMENTSOF(origin_keys); i++)
                default_origin(&l->origins[i], origin_keys[i].section, origin_keys[i].key);
        add_default_system(l, "/usr");
        add_default_system(l, "/etc");
        (void) snprintf(l->data, sizeof l->data, "%s/%s", LEVEL_DEFAULT_DATA_ROOT, l->name);
        l->network = LEVEL_NET_LOOPBACK;
}

/* ---- services' argv ---- */

void level_config_rebase(struct level_config *l) {
        unsigned n = l->n_services < LEVEL_MAX_SERVICES ? l->n_services : LEVEL_MAX_SERVICES;

        for (unsigned i = 0; i < n; i++) {
                struct level_service *s = &l->services[i];
                size_t len = strnlen(s->exec, sizeof s->exec - 1);
                unsigned argc = 0;

                memcpy(s->exec_words, s->exec, len);
                s->exec_words[len] = '\0';
                for (size_t j = 0; j < len; j++) {
                        if (s->exec_words[j] == ' ' || s->exec_words[j] == '\t')
                                s->exec_words[j] = '\0';
                }
                for (size_t j = 0; j < len; j++) {
                        if (s->exec_words[j] != '\0' && (j == 0 || s->exec_words[j - 1] == '\0')) {
                                if (argc >= LEVEL_MAX_ARGS)
                                        break;
                                s->argv[argc++] = &s->exec_words[j];
                        }
                }
                for (unsigned k = argc; k <= LEVEL_MAX_ARGS; k++)
                        s->argv[k] = NULL;
                s->argc = argc;
        }
}

/* ---- users ---- */

static int getpw_lookup(const char *name, uid_t *uid, gid_t *gid) {
        long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = hint > 0 && (size_t) hint <= GETPW_BUF_MAX ? (size_t) hint : 4096;
        int r;

        for (;;) {
                struct passwd pw, *res = NULL;
                char *buf = malloc(size);

                if (!buf)
                        return -ENOMEM;
                r = getpwnam_r(name, &pw, buf, size, &res);
                if (r == 0 && res) {
                        *uid = pw.pw_uid;
                        *gid = pw.pw_gid;
                }
                free(buf);
                if (r == 0)
                        return res ? 0 : -ENOENT;
                if (r != ERANGE || size >= GETPW_BUF_MAX)
                        break;
                size *= 2;
        }
        if (r == ENOENT || r == ESRCH)
                return -ENOENT;
        return r > 0 ? -r : -EIO;
}

static bool user_name_valid(const char *s) {
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      *c == '_' || *c == '-' || *c == '.'))
                        return false;
        return true;
}

int level_resolve_user(const struct level_userdb *db, const char *word, const struct jail_origin *o,
                       struct level_user *u, struct jail_error *err) {
        size_t n = strlen(word);
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        if (n == 0 || n >= LEVEL_USER_MAX)
                return profile_error(err, o, "invalid user '%.40s' (1 to %d characters)", word, LEVEL_USER_MAX - 1);
        if (strspn(word, "0123456789") == n) {
                uint64_t id;

                /* (uid_t) -1 means "no change" to setresuid(): never a user. */
                if (parse_u64(word, UINT32_MAX - 1, &id) < 0)
                        return profile_error(err, o, "invalid uid '%s' (0-%u)", word, UINT32_MAX - 1);
                if (id == 0)
                        return profile_error(err, o, "uid 0 is refused: there are no root sessions in a level");
                memset(u, 0, sizeof *u);
                u->uid = (uid_t) id;
                u->gid = (gid_t) id;
                (void) snprintf(u->name, sizeof u->name, "%u", (unsigned) id);
                u->origin = *o;
                return 0;
        }
        if (!user_name_valid(word))
                return profile_error(err, o, "invalid user name '%s'", word);
        if (db && db->by_name)
                r = db->by_name(word, &uid, &gid, db->userdata);
        else
                r = getpw_lookup(word, &uid, &gid);
        if (r == -ENOMEM) {
                (void) profile_error(err, o, "cannot look up user '%s': out of memory", word);
                return -ENOMEM;
        }
        if (r == -ENOENT)
                return profile_error(err, o, "unknown user '%s'", word);
        if (r < 0)
                return profile_error(err, o, "cannot look up user '%s': %s", word, strerror(-r));
        if (uid == 0)
                return profile_error(err, o, "user '%s' has uid 0: there are no root sessions in a level", word);
        if (uid == (uid_t) -1)
                return profile_error(err, o, "user '%s' has an invalid uid", word);
        memset(u, 0, sizeof *u);
        memcpy(u->name, word, n + 1);
        u->uid = uid;
        u->gid = gid;
        u->origin = *o;
        return 0;
}

bool level_user_allowed(const struct level_config *l, uid_t uid) {
        unsigned n = l->n_users < LEVEL_MAX_USERS ? l->n_users : LEVEL_MAX_USERS;

        if (uid == 0 || uid == (uid_t) -1)
                return false;
        for (unsigned i = 0; i < n; i++)
                if (l->users[i].uid == uid)
                        return true;
        return false;
}

/* ---- whole-level checks ---- */

static bool device_path_valid(const char *d) {
        return path_is_normalized_absolute(d) && strncmp(d, "/dev/", 5) == 0 && strchr(d + 5, '/') == NULL;
}

int level_validate(const struct level_config *l, struct jail_error *err) {
        const struct jail_origin *o_data = &l->origins[LK_DATA];

        if (!level_name_valid(l->name))
                return profile_error(err, NULL, "%.180s: invalid level name '%.40s'", l->path, l->name);
        if (l->n_system > LEVEL_MAX_PATHS || l->n_devices > LEVEL_MAX_DEVICES || l->n_users > LEVEL_MAX_USERS ||
            l->n_services > LEVEL_MAX_SERVICES)
                return profile_error(err, NULL, "%.180s: too many entries", l->path);
        if (strnlen(l->data, sizeof l->data) >= sizeof l->data || !path_is_normalized_absolute(l->data))
                return profile_error(err, o_data, "data must be an absolute path without '.', '..', '//', ':' or a trailing '/'");

        for (unsigned i = 0; i < l->n_system; i++) {
                const char *sys = l->system[i];

                if (strnlen(sys, JAIL_PATH_MAX) >= JAIL_PATH_MAX || !path_is_normalized_absolute(sys))
                        return profile_error(err, &l->system_origins[i], "system path must be absolute and normalized");
                /* W^X: data is writable (and mounted noexec); a system path is
                 * executable.  The same place, or one inside the other,
                 * would be both. */
                if (level_path_contains(sys, l->data) || level_path_contains(l->data, sys))
                        return profile_error(err, o_data->line > 0 ? o_data : &l->system_origins[i],
                                             "writable+exec: data %s overlaps system path %s", l->data, sys);
        }

        for (unsigned i = 0; i < l->n_devices; i++) {
                const char *d = l->devices[i];

                if (strnlen(d, JAIL_PATH_MAX) >= JAIL_PATH_MAX || !device_path_valid(d))
                        return profile_error(err, &l->device_origins[i],
                                             "device '%.200s' must be a node directly under /dev", d);
                for (unsigned j = 0; j < l->n_system; j++)
                        if (level_path_contains(l->system[j], d))
                                return profile_error(err, &l->device_origins[i],
                                                     "device %s is inside system path %s: /dev is never a system path",
                                                     d, l->system[j]);
                if (level_path_contains(l->data, d))
                        return profile_error(err, &l->device_origins[i], "device %s is inside data %s", d, l->data);
        }

        if (l->n_users == 0)
                return profile_error(err, &l->origins[LK_USERS],
                                     "a level with no users cannot be logged into");
        for (unsigned i = 0; i < l->n_users; i++)
                if (l->users[i].uid == 0)
                        return profile_error(err, &l->users[i].origin,
                                             "uid 0 is refused: there are no root sessions in a level");

        for (unsigned i = 0; i < l->n_services; i++) {
                const struct level_service *s = &l->services[i];

                if (s->argc == 0 || s->argc > LEVEL_MAX_ARGS || !s->argv[0] || s->argv[s->argc] ||
                    !path_is_normalized_absolute(s->argv[0]))
                        return profile_error(err, &s->origin, "service '%.40s' has no valid exec", s->name);
                if (!level_user_allowed(l, s->user.uid))
                        return profile_error(err, &s->user.origin,
                                             "service '%.40s' runs as '%.40s', who is not a user of this level (see [level] users)",
                                             s->name, s->user.name);
        }
        return 0;
}

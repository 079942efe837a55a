/* SPDX-License-Identifier: MIT */
/* Level file parser.  libinih splits the text into (section, key, value);
 * this file owns the key table, the value syntax of every key and error
 * messages that name file, line, section and key, with the conventions of
 * the jail profile parser (profile-parse.c).  Section headers are also
 * noticed in the line reader, so that an empty or repeated [service NAME]
 * section and an unknown empty section are errors too. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "level-internal.h"
#include "level.h"
#include "macro.h"
#include "parse.h"

#define SECTION_TEXT_MAX 50 /* libinih's MAX_SECTION: longer names are cut */

struct parse_ctx;

typedef int (*key_setter)(struct parse_ctx *c, const char *value, const struct jail_origin *o);

enum key_kind {
        KEY_SCALAR, /* may be given once per file */
        KEY_LIST,   /* may repeat; every occurrence appends */
};

struct parse_ctx {
        struct level_config *l;
        const struct level_userdb *db;
        struct jail_error *err;
        const char *path;
        const char *pos, *end;
        unsigned line;
        unsigned first_error_line; /* ours, 0 = none */
        unsigned too_long_line;
        int fatal;                 /* -ENOMEM from a user lookup */
        bool after_key;            /* libinih would read an indented line as a continuation */
        bool seen[LK_COUNT];
};

/* ---- errors ---- */

static void make_origin(const struct parse_ctx *c, struct jail_origin *o, unsigned line, const char *section,
                        const char *key) {
        memset(o, 0, sizeof *o);
        o->line = line;
        (void) snprintf(o->file, sizeof o->file, "%s", c->path);
        if (key)
                (void) snprintf(o->key, sizeof o->key, "[%.40s] %.20s", section, key);
        else
                (void) snprintf(o->key, sizeof o->key, "[%.60s]", section);
}

/* Keep the first error only.  r is what the failing step returned. */
static int note_error(struct parse_ctx *c, unsigned line, int r) {
        if (c->first_error_line == 0) {
                c->first_error_line = line;
                if (r == -ENOMEM)
                        c->fatal = r;
        }
        return r;
}

/* ---- value helpers ---- */

static int check_path(const char *path, const char *what, const struct jail_origin *o, struct jail_error *err) {
        if (strlen(path) >= JAIL_PATH_MAX)
                return profile_error(err, o, "%s is too long (at most %d characters)", what, JAIL_PATH_MAX - 1);
        if (!path_is_normalized_absolute(path))
                return profile_error(err, o,
                                     "%s '%s' must be an absolute path without '.', '..', '//', ':' or a trailing '/'",
                                     what, path);
        return 0;
}

struct words_ctx {
        struct parse_ctx *c;
        const struct jail_origin *o;
        unsigned n;
};

/* split_words() with an error for over-long words and empty lists. */
static int for_words(struct parse_ctx *c, const char *v, const struct jail_origin *o, int (*cb)(const char *, void *),
                     const char *what) {
        struct words_ctx w = { c, o, 0 }; /* the callbacks count the words */
        int r = split_words(v, cb, &w);

        if (r == -ENAMETOOLONG)
                return profile_error(c->err, o, "a word of the value is longer than 255 characters");
        if (r < 0)
                return r;
        if (w.n == 0)
                return profile_error(c->err, o, "expected at least one %s", what);
        return 0;
}

/* ---- [level] ---- */

static int k_label(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        size_t n = strlen(v);

        if (n == 0)
                return profile_error(c->err, o, "label must not be empty");
        if (n >= LEVEL_LABEL_MAX)
                return profile_error(c->err, o, "label too long (at most %d bytes)", LEVEL_LABEL_MAX - 1);
        if (!level_text_printable(v, false))
                return profile_error(c->err, o, "label must be printable UTF-8 without control or invisible characters");
        memcpy(c->l->label, v, n + 1);
        return 0;
}

static int k_colour(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        if (level_colour_from_name(v, &c->l->colour) < 0)
                return profile_error(c->err, o,
                                     "unknown colour '%s' (red, green, yellow, blue, magenta, cyan or white)", v);
        return 0;
}

static int add_user_word(const char *word, void *userdata) {
        struct words_ctx *w = userdata;
        struct level_config *l = w->c->l;
        struct level_user u;
        int r;

        w->n++;
        if (l->n_users >= LEVEL_MAX_USERS)
                return profile_error(w->c->err, w->o, "too many users (at most %d)", LEVEL_MAX_USERS);
        r = level_resolve_user(w->c->db, word, w->o, &u, w->c->err);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < l->n_users; i++)
                if (l->users[i].uid == u.uid)
                        return profile_error(w->c->err, w->o, "user '%s' (uid %u) is listed twice (first at line %u)",
                                             word, (unsigned) u.uid, l->users[i].origin.line);
        l->users[l->n_users++] = u;
        return 0;
}

static int k_users(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        return for_words(c, v, o, add_user_word, "user");
}

/* ---- [filesystem] ---- */

static int add_system_word(const char *word, void *userdata) {
        struct words_ctx *w = userdata;
        struct level_config *l = w->c->l;
        int r;

        w->n++;
        r = check_path(word, "system path", w->o, w->c->err);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < l->n_system; i++)
                if (strcmp(l->system[i], word) == 0)
                        return 0; /* listed already */
        if (l->n_system >= LEVEL_MAX_PATHS)
                return profile_error(w->c->err, w->o, "too many system paths (at most %d)", LEVEL_MAX_PATHS);
        memcpy(l->system[l->n_system], word, strlen(word) + 1);
        l->system_origins[l->n_system] = *w->o;
        l->n_system++;
        return 0;
}

static int k_system(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        /* The default list applies only when the key never appears. */
        if (!c->seen[LK_SYSTEM])
                c->l->n_system = 0;
        return for_words(c, v, o, add_system_word, "path");
}

static int k_data(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        int r = check_path(v, "data", o, c->err);
        if (r < 0)
                return r;
        memcpy(c->l->data, v, strlen(v) + 1);
        return 0;
}

static int k_tmp_size(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        if (parse_size(v, &c->l->tmp_size, NULL) < 0 || c->l->tmp_size == 0)
                return profile_error(c->err, o, "invalid size '%s' (expected e.g. 256M)", v);
        return 0;
}

/* ---- [network] ---- */

static int k_net_mode(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        if (strcmp(v, "loopback") == 0)
                c->l->network = LEVEL_NET_LOOPBACK;
        else if (strcmp(v, "none") == 0)
                c->l->network = LEVEL_NET_NONE;
        else if (strncmp(v, "netns:", 6) == 0) {
                /* A namespace of /run/netns (ip netns add), same rules as the
                 * jail's namespaces.net. */
                const char *name = v + 6;
                size_t n = strlen(name);

                if (n == 0 || n >= sizeof c->l->netns || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                        return profile_error(c->err, o, "invalid network namespace name in '%s'", v);
                for (const char *p = name; *p; p++)
                        if (!isalnum((unsigned char) *p) && !strchr("-_.", *p))
                                return profile_error(c->err, o, "invalid network namespace name in '%s'", v);
                c->l->network = LEVEL_NET_NETNS;
                memcpy(c->l->netns, name, n + 1);
        } else
                return profile_error(c->err, o,
                                     "network mode '%s' is not supported (supported: loopback, none, netns:NAME)", v);
        return 0;
}

/* ---- [devices] ---- */

static int add_device_word(const char *word, void *userdata) {
        struct words_ctx *w = userdata;
        struct level_config *l = w->c->l;
        int r;

        w->n++;
        r = check_path(word, "device", w->o, w->c->err);
        if (r < 0)
                return r;
        /* rempart-jail binds devices directly under /dev only. */
        if (strncmp(word, "/dev/", 5) != 0 || strchr(word + 5, '/') != NULL)
                return profile_error(w->c->err, w->o, "device '%s' must be a node directly under /dev", word);
        for (unsigned i = 0; i < l->n_devices; i++)
                if (strcmp(l->devices[i], word) == 0)
                        return 0;
        if (l->n_devices >= LEVEL_MAX_DEVICES)
                return profile_error(w->c->err, w->o, "too many devices (at most %d)", LEVEL_MAX_DEVICES);
        memcpy(l->devices[l->n_devices], word, strlen(word) + 1);
        l->device_origins[l->n_devices] = *w->o;
        l->n_devices++;
        return 0;
}

static int k_dev_allow(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        return for_words(c, v, o, add_device_word, "device");
}

/* ---- [limits]: the syntax of rempart-jail.profile(5) [cgroup] ---- */

static int set_limit_size(uint64_t *dst, bool *set, const char *v, bool allow_zero, const struct jail_origin *o,
                          struct jail_error *err) {
        uint64_t bytes = 0;
        bool max = false;

        if (parse_size(v, &bytes, &max) < 0 || (!allow_zero && bytes == 0))
                return profile_error(err, o, "expected a size (e.g. 512M) or 'max', got '%s'", v);
        *dst = bytes;
        *set = !max; /* "max" is no limit: nothing to ask the kernel for */
        return 0;
}

static int k_memory_max(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        return set_limit_size(&c->l->memory_max, &c->l->memory_max_set, v, false, o, c->err);
}

static int k_memory_swap_max(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        return set_limit_size(&c->l->memory_swap_max, &c->l->memory_swap_max_set, v, true, o, c->err);
}

static int k_pids_max(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        uint64_t n;

        if (strcmp(v, "max") == 0) {
                c->l->pids_max = UINT64_MAX;
                c->l->pids_max_set = false;
                return 0;
        }
        if (parse_u64(v, INT32_MAX, &n) < 0 || n == 0)
                return profile_error(c->err, o, "expected a number of tasks (1-%d) or 'max', got '%s'", INT32_MAX, v);
        c->l->pids_max = n;
        c->l->pids_max_set = true;
        return 0;
}

static int k_cpu_max(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        int r = parse_cpu_max(v, &c->l->cpu_quota_us, &c->l->cpu_period_us);

        if (r == -EDOM)
                return profile_error(c->err, o, "invalid percentage '%s' (1%%-100000%%)", v);
        if (r == -ERANGE)
                return profile_error(c->err, o, "cpu_max out of range (period 1000-1000000 us, quota >= 1000 us)");
        if (r < 0)
                return profile_error(c->err, o, "expected 'QUOTA PERIOD' in microseconds, 'NN%%' or 'max', got '%s'", v);
        return 0;
}

static int k_cpu_weight(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        uint64_t w;

        if (parse_u64(v, 10000, &w) < 0 || w == 0)
                return profile_error(c->err, o, "expected a weight from 1 to 10000, got '%s'", v);
        c->l->cpu_weight = w;
        return 0;
}

/* A virtual terminal of its own (tty2..tty63): on a machine with a display,
 * the level's login is on that VT.  tty1 stays the core's. */
static int k_vt(struct parse_ctx *c, const char *v, const struct jail_origin *o) {
        uint64_t n;

        if (parse_u64(v, 63, &n) < 0 || n < 2)
                return profile_error(c->err, o, "expected a virtual terminal number from 2 to 63, got '%s'", v);
        c->l->vt = (unsigned) n;
        return 0;
}

static const struct {
        enum key_kind kind;
        key_setter set;
} keys[LK_COUNT] = {
        [LK_LABEL] = { KEY_SCALAR, k_label },
        [LK_COLOUR] = { KEY_SCALAR, k_colour },
        [LK_USERS] = { KEY_LIST, k_users },
        [LK_SYSTEM] = { KEY_LIST, k_system },
        [LK_DATA] = { KEY_SCALAR, k_data },
        [LK_TMP_SIZE] = { KEY_SCALAR, k_tmp_size },
        [LK_NET_MODE] = { KEY_SCALAR, k_net_mode },
        [LK_DEV_ALLOW] = { KEY_LIST, k_dev_allow },
        [LK_MEMORY_MAX] = { KEY_SCALAR, k_memory_max },
        [LK_MEMORY_SWAP_MAX] = { KEY_SCALAR, k_memory_swap_max },
        [LK_PIDS_MAX] = { KEY_SCALAR, k_pids_max },
        [LK_CPU_MAX] = { KEY_SCALAR, k_cpu_max },
        [LK_CPU_WEIGHT] = { KEY_SCALAR, k_cpu_weight },
        [LK_VT] = { KEY_SCALAR, k_vt },
};

static const char *const fixed_sections[] = { "level", "filesystem", "network", "devices", "limits" };

static bool fixed_section(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(fixed_sections); i++)
                if (strcmp(fixed_sections[i], s) == 0)
                        return true;
        return false;
}

/* ---- [service NAME] ---- */

static struct level_service *find_service(struct level_config *l, const char *name) {
        for (unsigned i = 0; i < l->n_services; i++)
                if (strcmp(l->services[i].name, name) == 0)
                        return &l->services[i];
        return NULL;
}

/* "service NAME" -> NAME, or NULL when the section is not a service. */
static const char *service_name(const char *section) {
        if (strncmp(section, "service", 7) != 0 || (section[7] != '\0' && section[7] != ' ' && section[7] != '\t'))
                return NULL;
        return section[7] == '\0' ? section + 7 : section + 8;
}

/* A section header was read at line c->line. */
static void section_start(struct parse_ctx *c, const char *section) {
        struct level_config *l = c->l;
        struct level_service *s;
        struct jail_origin o;
        const char *name;

        if (c->first_error_line != 0)
                return;
        make_origin(c, &o, c->line, section, NULL);
        if (fixed_section(section))
                return;
        name = service_name(section);
        if (!name) {
                (void) note_error(c, c->line, profile_error(c->err, &o, "unknown section '[%s]'", section));
                return;
        }
        if (!level_name_valid(name)) {
                (void) note_error(c, c->line,
                                  profile_error(c->err, &o,
                                                "invalid service name '%s': expected [service NAME] with NAME matching [a-z][a-z0-9_-]{0,30}",
                                                name));
                return;
        }
        s = find_service(l, name);
        if (s) {
                (void) note_error(c, c->line,
                                  profile_error(c->err, &o, "duplicate section (first at line %u)", s->origin.line));
                return;
        }
        if (l->n_services >= LEVEL_MAX_SERVICES) {
                (void) note_error(c, c->line,
                                  profile_error(c->err, &o, "too many services (at most %d)", LEVEL_MAX_SERVICES));
                return;
        }
        s = &l->services[l->n_services++];
        memset(s, 0, sizeof *s);
        memcpy(s->name, name, strlen(name) + 1);
        s->origin = o;
}

static int service_exec(struct parse_ctx *c, struct level_service *s, const char *v, const struct jail_origin *o) {
        size_t n = strlen(v), words = 0;

        if (n >= LEVEL_EXEC_MAX)
                return profile_error(c->err, o, "command line too long (at most %d bytes)", LEVEL_EXEC_MAX - 1);
        if (!level_text_printable(v, true))
                return profile_error(c->err, o, "command line must be UTF-8 without control characters");
        /* Count every word, to refuse rather than cut extra arguments. */
        for (size_t j = 0; j < n; j++)
                if (v[j] != ' ' && v[j] != '\t' && (j == 0 || v[j - 1] == ' ' || v[j - 1] == '\t'))
                        words++;
        if (words == 0)
                return profile_error(c->err, o, "expected an absolute path and arguments");
        if (words > LEVEL_MAX_ARGS)
                return profile_error(c->err, o, "too many arguments (at most %d words)", LEVEL_MAX_ARGS);
        memcpy(s->exec, v, n + 1);
        level_config_rebase(c->l); /* fills exec_words, argv and argc */
        if (!path_is_normalized_absolute(s->argv[0]) || strlen(s->argv[0]) >= JAIL_PATH_MAX)
                return profile_error(c->err, o,
                                     "program '%s' must be an absolute path without '.', '..', '//', ':' or a trailing '/'",
                                     s->argv[0]);
        return 0;
}

static int service_key(struct parse_ctx *c, struct level_service *s, const char *key, const char *v,
                       const struct jail_origin *o) {
        if (strcmp(key, "exec") == 0) {
                if (s->exec[0] != '\0')
                        return profile_error(c->err, o, "duplicate key (it may be given only once)");
                return service_exec(c, s, v, o);
        }
        if (strcmp(key, "user") == 0) {
                if (s->user.name[0] != '\0')
                        return profile_error(c->err, o, "duplicate key (it may be given only once)");
                if (v[0] == '\0' || strpbrk(v, " \t"))
                        return profile_error(c->err, o, "expected one user name or uid, got '%s'", v);
                /* Whether it is a level user is checked by level_validate(). */
                return level_resolve_user(c->db, v, o, &s->user, c->err);
        }
        return profile_error(c->err, o, "unknown key '%s' in section [service %s]", key, s->name);
}

/* ---- reading ---- */

/* Notice "[section]" lines the way libinih reads them: after an optional
 * UTF-8 BOM on line 1 and leading blanks, unless libinih takes an indented
 * line as the continuation of the previous key; the name ends at the first
 * ']' (a ';' after a blank first is a comment: libinih's syntax error). */
static void notice_header(struct parse_ctx *c, const char *line) {
        char section[SECTION_TEXT_MAX];
        const char *s = line, *e;
        size_t n;

        if (c->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
                s += 3;
        n = strspn(s, " \t\r\n\v\f");
        if (n > 0 && c->after_key)
                return;
        s += n;
        if (*s != '[')
                return;
        for (e = s + 1; *e && *e != ']'; e++)
                if (*e == ';' && (e[-1] == ' ' || e[-1] == '\t'))
                        return;
        if (*e != ']')
                return;
        c->after_key = false;
        n = (size_t) (e - s - 1);
        if (n >= sizeof section)
                n = sizeof section - 1; /* cut like libinih; no valid name is that long */
        memcpy(section, s + 1, n);
        section[n] = '\0';
        section_start(c, section);
}

/* fgets() over the in-memory buffer, counting lines.  libinih calls it once
 * per line, so c->line is the line number of what the handler sees. */
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
                        /* An embedded NUL would silently cut the line. */
                        if (c->too_long_line == 0)
                                c->too_long_line = c->line;
                        ch = ' ';
                }
                str[n++] = ch;
                if (ch == '\n')
                        break;
        }
        if (n == max && str[n - 1] != '\n' && c->pos < c->end) {
                /* Longer than libinih's buffer: swallow the rest and flag it. */
                if (c->too_long_line == 0)
                        c->too_long_line = c->line;
                while (c->pos < c->end && *c->pos != '\n')
                        c->pos++;
                if (c->pos < c->end)
                        c->pos++;
                str[n - 1] = '\n';
        }
        str[n] = '\0';
        notice_header(c, str);
        return str;
}

/* Handler result for libinih: 0 stops nothing but marks the line. */
static int finish(struct parse_ctx *c, int r) {
        if (r < 0) {
                (void) note_error(c, c->line, r);
                return 0;
        }
        return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        struct parse_ctx *c = user;
        struct jail_origin o;
        const char *svc;
        int idx, r;

        c->after_key = true;
        if (c->first_error_line != 0)
                return 1; /* keep only the first error; libinih goes on */
        make_origin(c, &o, c->line, section, name);
        if (section[0] == '\0')
                return finish(c, profile_error(c->err, &o, "key outside of any [section]"));

        svc = service_name(section);
        if (svc) {
                struct level_service *s = find_service(c->l, svc);
                if (!s) /* not noticed as a header: should not happen */
                        return finish(c, profile_error(c->err, &o, "unknown section '[%s]'", section));
                return finish(c, service_key(c, s, name, value, &o));
        }

        idx = level_key_index(section, name);
        if (idx < 0 || idx >= LK_COUNT) {
                if (!fixed_section(section))
                        return finish(c, profile_error(c->err, &o, "unknown section '[%s]'", section));
                return finish(c, profile_error(c->err, &o, "unknown key '%s' in section [%s]", name, section));
        }
        if (keys[idx].kind == KEY_SCALAR && c->seen[idx])
                return finish(c, profile_error(c->err, &o, "duplicate key (it may be given only once)"));
        r = keys[idx].set(c, value, &o);
        if (r < 0)
                return finish(c, r);
        c->seen[idx] = true;
        c->l->origins[idx] = o;
        return 1;
}

/* Checks once the whole file was read: both service keys present. */
static int check_services(struct parse_ctx *c) {
        for (unsigned i = 0; i < c->l->n_services; i++) {
                const struct level_service *s = &c->l->services[i];

                if (s->exec[0] == '\0')
                        return profile_error(c->err, &s->origin, "no exec: every service needs exec and user");
                if (s->user.name[0] == '\0')
                        return profile_error(c->err, &s->origin, "no user: every service needs exec and user");
        }
        return 0;
}

int level_parse_buffer(struct level_config *l, const char *name, const char *path, const char *buf, size_t len,
                       const struct level_userdb *db, struct jail_error *err) {
        /* Parse into a copy, so that a failing file leaves *l untouched. */
        struct parse_state {
                struct parse_ctx ctx;
                struct level_config copy;
        };
        _cleanup_free_ struct parse_state *st = NULL;
        struct parse_ctx *c;
        struct level_config *tmp;
        int r;

        if (!path)
                path = name ? name : "";
        if (!name || !level_name_valid(name))
                return profile_error(err, NULL, "%.180s: invalid level name '%.40s' (expected [a-z][a-z0-9_-]{0,30})",
                                     path, name ? name : "");
        if (strlen(path) >= JAIL_PATH_MAX)
                return profile_error(err, NULL, "%.180s...: path too long", path);
        if (!buf && len > 0)
                return profile_error(err, NULL, "%s: no data", path);

        st = calloc(1, sizeof *st);
        if (!st)
                return -ENOMEM;
        c = &st->ctx;
        tmp = &st->copy;
        level_init_default(tmp, name);
        memcpy(tmp->path, path, strlen(path) + 1);
        /* Defaults are reported as coming from this file (line 0). */
        for (unsigned i = 0; i < LK_COUNT; i++)
                memcpy(tmp->origins[i].file, tmp->path, sizeof tmp->path);
        for (unsigned i = 0; i < tmp->n_system; i++)
                memcpy(tmp->system_origins[i].file, tmp->path, sizeof tmp->path);

        c->l = tmp;
        c->db = db;
        c->err = err;
        c->path = tmp->path;
        c->pos = buf;
        c->end = buf + len;
        r = ini_parse_stream(reader, c, handler, c);
        if (r == -2)
                return -ENOMEM;
        if (c->fatal < 0)
                return c->fatal;
        if (c->too_long_line != 0 && (c->first_error_line == 0 || c->too_long_line < c->first_error_line) &&
            (r <= 0 || (unsigned) r >= c->too_long_line)) {
                struct jail_origin o = { .line = c->too_long_line };
                (void) snprintf(o.file, sizeof o.file, "%s", path);
                (void) snprintf(o.key, sizeof o.key, "line");
                return profile_error(err, &o, "line too long or contains a NUL byte (at most %d characters)",
                                     INI_MAX_LINE - 2);
        }
        if (r > 0 && (c->first_error_line == 0 || (unsigned) r < c->first_error_line)) {
                struct jail_origin o = { .line = (unsigned) r };
                (void) snprintf(o.file, sizeof o.file, "%s", path);
                (void) snprintf(o.key, sizeof o.key, "syntax");
                return profile_error(err, &o, "expected '[section]', 'key = value' or a comment");
        }
        if (c->first_error_line != 0)
                return -EINVAL;
        r = check_services(c);
        if (r < 0)
                return r;
        *l = *tmp;
        level_config_rebase(l);
        return 0;
}

int level_parse_fd(struct level_config *l, int fd, const char *name, const char *path,
                   const struct level_userdb *db, struct jail_error *err) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t total = 0;

        if (fstat(fd, &st) < 0) {
                int r = negative_errno();
                (void) profile_error(err, NULL, "%.180s: cannot read: %s", path, strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode))
                return profile_error(err, NULL, "%.180s: not a regular file", path);
        buf = malloc(LEVEL_FILE_MAX_SIZE + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + total, LEVEL_FILE_MAX_SIZE + 1 - total);
                if (n < 0) {
                        int r;
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        (void) profile_error(err, NULL, "%.180s: cannot read: %s", path, strerror(-r));
                        return r;
                }
                if (n == 0)
                        break;
                total += (size_t) n;
                if (total > LEVEL_FILE_MAX_SIZE)
                        return profile_error(err, NULL, "%.180s: level file larger than %zu bytes", path,
                                             LEVEL_FILE_MAX_SIZE);
        }
        return level_parse_buffer(l, name, path, buf, total, db, err);
}

int level_parse_file(struct level_config *l, const char *path, const struct level_userdb *db,
                     struct jail_error *err) {
        _cleanup_close_ int fd = -1;
        char name[LEVEL_NAME_MAX];
        const char *base, *dot;
        size_t n;

        if (!path || strlen(path) >= JAIL_PATH_MAX)
                return profile_error(err, NULL, "%.180s: path too long", path ? path : "");
        base = strrchr(path, '/');
        base = base ? base + 1 : path;
        n = strlen(base);
        dot = n > 5 ? base + n - 5 : NULL;
        if (!dot || strcmp(dot, ".conf") != 0 || (size_t) (dot - base) >= sizeof name)
                return profile_error(err, NULL, "%s: a level file is named NAME.conf", path);
        memcpy(name, base, (size_t) (dot - base));
        name[dot - base] = '\0';
        if (!level_name_valid(name))
                return profile_error(err, NULL, "%s: invalid level name '%s' (expected [a-z][a-z0-9_-]{0,30})", path, name);
        /* O_NONBLOCK: a FIFO in place of the file must not hang us. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = negative_errno();
                (void) profile_error(err, NULL, "%s: cannot open: %s", path, strerror(-r));
                return r;
        }
        return level_parse_fd(l, fd, name, path, db, err);
}

/* SPDX-License-Identifier: MIT */
/* Level configuration: one file /etc/rempart/levels/NAME.conf per level.
 * A level is an isolated user environment (e.g. "high", "low") run as one
 * rempart-jail; see rempart-level.conf(5).  This module only parses and
 * validates; nothing in here touches the system except reading the files
 * and the user database (getpwnam_r). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h" /* struct jail_origin, struct jail_error, JAIL_PATH_MAX */

#define LEVEL_NAME_MAX 32      /* [a-z][a-z0-9_-]{0,30} */
#define LEVEL_LABEL_MAX 64     /* printable UTF-8, no control characters */
#define LEVEL_USER_MAX 33      /* POSIX-ish user name, 32 bytes + NUL */
#define LEVEL_MAX_USERS 64
#define LEVEL_MAX_PATHS 32
#define LEVEL_MAX_DEVICES 16
#define LEVEL_MAX_SERVICES 16
#define LEVEL_MAX_ARGS 32
#define LEVEL_EXEC_MAX 1024
#define LEVEL_MAX_LEVELS 16
#define LEVEL_DEFAULT_DIR "/etc/rempart/levels"
#define LEVEL_DEFAULT_DATA_ROOT "/var/lib/rempart/levels"

enum level_colour {
        LEVEL_COLOUR_RED,
        LEVEL_COLOUR_GREEN,
        LEVEL_COLOUR_YELLOW,
        LEVEL_COLOUR_BLUE,
        LEVEL_COLOUR_MAGENTA,
        LEVEL_COLOUR_CYAN,
        LEVEL_COLOUR_WHITE,
};

enum level_network {
        LEVEL_NET_LOOPBACK, /* own network namespace with lo up (default) */
        LEVEL_NET_NONE,     /* own network namespace, not even lo */
        LEVEL_NET_NETNS,    /* join /run/netns/NAME, set up by the administrator
                             * (veth, routes, nftables); never shared by two levels */
};

struct level_user {
        char name[LEVEL_USER_MAX]; /* as written ("alice"), or the number for numeric ids */
        uid_t uid;
        gid_t gid;                 /* primary group (numeric entries: gid = uid) */
        struct jail_origin origin;
};

struct level_service {
        char name[LEVEL_NAME_MAX];    /* from the section name [service NAME] */
        char exec[LEVEL_EXEC_MAX];    /* command line as written */
        char *argv[LEVEL_MAX_ARGS + 1]; /* points into exec_words, NULL-terminated;
                                         * after copying a level_config by value,
                                         * call level_config_rebase() on the copy */
        char exec_words[LEVEL_EXEC_MAX]; /* exec split on blanks, NUL-separated */
        unsigned argc;
        struct level_user user;       /* runs as this user (must be a level user) */
        struct jail_origin origin;    /* where the section starts */
};

struct level_config {
        char name[LEVEL_NAME_MAX];    /* from the file name NAME.conf */
        char path[JAIL_PATH_MAX];     /* the file it came from */
        char label[LEVEL_LABEL_MAX];  /* [level] label, default: the name */
        enum level_colour colour;     /* [level] colour, default white */
        unsigned vt;                  /* [level] vt: its virtual terminal, 0 = none */

        struct level_user users[LEVEL_MAX_USERS]; /* [level] users */
        unsigned n_users;

        /* [filesystem] system: host paths shown read-only (and executable)
         * at the same place; default /usr /etc.  Merged-/usr symlinks
         * (/bin, /sbin, /lib, /lib64) are added by the runner. */
        char system[LEVEL_MAX_PATHS][JAIL_PATH_MAX];
        struct jail_origin system_origins[LEVEL_MAX_PATHS]; /* line of each entry */
        unsigned n_system;
        /* [filesystem] data: the level's persistent directory on the state
         * partition, writable and noexec; default LEVEL_DEFAULT_DATA_ROOT/NAME.
         * Users' homes are DATA/home/USER, seen as /home/USER in the level. */
        char data[JAIL_PATH_MAX];
        uint64_t tmp_size;            /* [filesystem] tmp_size, bytes, 0 = default */

        enum level_network network;   /* [network] mode */
        char netns[JAIL_NAME_MAX];    /* LEVEL_NET_NETNS: the namespace's name */

        char devices[LEVEL_MAX_DEVICES][JAIL_PATH_MAX]; /* [devices] allow */
        struct jail_origin device_origins[LEVEL_MAX_DEVICES];
        unsigned n_devices;

        /* [limits]; same meaning and syntax as rempart-jail.profile(5) [cgroup] */
        uint64_t memory_max, memory_swap_max, pids_max; /* UINT64_MAX = "max" */
        bool memory_max_set, memory_swap_max_set, pids_max_set;
        uint64_t cpu_quota_us, cpu_period_us;           /* quota 0 = unset */
        uint64_t cpu_weight;                            /* 0 = unset */

        struct level_service services[LEVEL_MAX_SERVICES]; /* [service NAME] */
        unsigned n_services;

        struct jail_origin origins[32]; /* where each key was set (errors), see level_key_index() */
};

/* How the user database is read; NULL lookup = getpwnam_r/getpwuid_r.
 * Tests and the fuzzer pass their own.  Returns 0, -ENOENT or -errno. */
struct level_userdb {
        int (*by_name)(const char *name, uid_t *uid, gid_t *gid, void *userdata);
        void *userdata;
};

/* Defaults for level NAME (see rempart-level.conf(5)). */
void level_init_default(struct level_config *l, const char *name);

/* True when name is a valid level name. */
bool level_name_valid(const char *name);

/* Parse one level file from memory; name is the level name, path is used
 * in messages.  The result starts from level_init_default(name): l's
 * previous content is not used.  Returns 0 or -EINVAL (err: "PATH:LINE:
 * [section] key: why"), or -ENOMEM; on any error *l is left exactly as it
 * was (no half-parsed state).  Does not call level_validate(). */
int level_parse_buffer(struct level_config *l, const char *name, const char *path, const char *buf,
                       size_t len, const struct level_userdb *db, struct jail_error *err);

/* Read and parse PATH (at most 256 KiB; NAME is derived from the file name,
 * which must be NAME.conf with a valid name). */
int level_parse_file(struct level_config *l, const char *path, const struct level_userdb *db,
                     struct jail_error *err);

/* Checks of one level as a whole: W^X (data or a device path inside a
 * system path, a system path inside data), data outside absolute normalized
 * paths, service users that are not level users.  0 or -EINVAL with err. */
int level_validate(const struct level_config *l, struct jail_error *err);

/* A directory of levels.  Each level is parsed and validated on its own; a
 * bad level gets ok = false and its error, and does not stop the others.
 * The config of a bad level holds only the defaults of its name (path set,
 * no users, so level_user_allowed() is false for everyone); name is empty
 * when the file name is not a valid level name. */
struct level_entry {
        struct level_config config;
        bool ok;
        struct jail_error error;
};

struct level_set {
        struct level_entry levels[LEVEL_MAX_LEVELS];
        unsigned n_levels; /* sorted by name */
};

/* Load every NAME.conf of dir (other names: an error entry, not fatal;
 * more than LEVEL_MAX_LEVELS: -E2BIG).  Then the checks across levels: two
 * levels whose data directories are the same or nested are both refused,
 * each error naming the other file.  Returns 0 (even when some levels are
 * bad: look at ok), or -errno when dir cannot be read. */
int level_set_load(struct level_set *set, const char *dir, const struct level_userdb *db);

/* The entry of level name in set, or NULL. */
const struct level_entry *level_set_find(const struct level_set *set, const char *name);

/* Index in level_config.origins of "[section] key" (section "level",
 * "filesystem", "network", "devices" or "limits"), or -1. */
int level_key_index(const char *section, const char *key);

/* Point every service's argv back into its own exec_words: needed after a
 * struct level_config was copied by value (argv holds pointers into the
 * struct).  The functions of this module do it for the structs they fill. */
void level_config_rebase(struct level_config *l);

/* True when uid is one of the level's users. */
bool level_user_allowed(const struct level_config *l, uid_t uid);

const char *level_colour_name(enum level_colour c);
/* ANSI SGR foreground code (31..37) of the colour. */
int level_colour_sgr(enum level_colour c);

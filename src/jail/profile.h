/* SPDX-License-Identifier: MIT */
/* The jail profile: the whole description of one confinement, as data.
 * It is filled from defaults, then an INI profile file, then command-line
 * options, validated once (profile_validate), and only then executed.
 * Nothing in here touches the system. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

#define JAIL_MAX_MOUNTS 64
#define JAIL_MAX_DEVICES 32
#define JAIL_MAX_ENV 64
#define JAIL_MAX_FDS 32
#define JAIL_MAX_PORTS 64
#define JAIL_MAX_CAPS 64
#define JAIL_MAX_SYSCALLS 256
#define JAIL_MAX_GROUPS 32
#define JAIL_PATH_MAX 256
#define JAIL_NAME_MAX 64
#define JAIL_ERR_MAX 512
#define JAIL_MAX_KEYS 96

/* Where a setting came from, so that an error can name it. */
struct jail_origin {
        char file[JAIL_PATH_MAX]; /* profile path, or "command line", or "built-in" */
        unsigned line;            /* 0 when not from a file */
        char key[JAIL_NAME_MAX];  /* "section.key" or "--option" */
};

enum jail_mount_kind {
        JAIL_MOUNT_RO,        /* bind, read-only, exec allowed (system content) */
        JAIL_MOUNT_RO_NOEXEC, /* bind, read-only, noexec */
        JAIL_MOUNT_RW,        /* bind, writable, always noexec,nosuid,nodev */
        JAIL_MOUNT_TMPFS,     /* fresh tmpfs, writable, always noexec,nosuid,nodev */
        JAIL_MOUNT_SYMLINK,   /* symlink dst -> src (src is the link target text) */
};

struct jail_mount {
        enum jail_mount_kind kind;
        char src[JAIL_PATH_MAX]; /* host path (bind), link target (symlink), "" (tmpfs) */
        char dst[JAIL_PATH_MAX]; /* absolute path inside the jail */
        uint64_t size;           /* tmpfs size in bytes, 0 = kernel default */
        bool optional;           /* "?" prefix: skip silently when src is missing */
        struct jail_origin origin;
};

struct jail_device {
        char path[JAIL_PATH_MAX]; /* /dev/NAME, bound from the host */
        bool optional;
        /* filled at validation time from stat(2) of the host node */
        unsigned major, minor;
        bool is_block;
        bool any_minor; /* every minor of major (pty slaves), never from profiles */
        struct jail_origin origin;
};

struct jail_idmap {
        uint32_t inside, outside, count;
};

struct jail_rlimit {
        bool set;
        rlim_t soft, hard;
};

enum jail_mode {
        JAIL_MODE_BEST_EFFORT, /* report what the kernel cannot enforce, run anyway */
        JAIL_MODE_STRICT,      /* refuse to start when a requested protection is missing */
};

enum jail_net_mode {
        JAIL_NET_NONE, /* new, empty network namespace */
        JAIL_NET_JOIN, /* join a named namespace (/run/netns/NAME) */
};

enum jail_seccomp_mode {
        JAIL_SECCOMP_DENYLIST, /* built-in deny-list (+ profile additions), default allow */
        JAIL_SECCOMP_ALLOWLIST /* profile allow-list, everything else denied */
};

enum jail_sys_mode { JAIL_SYS_NONE, JAIL_SYS_RO };

#define JAIL_RLIMIT_COUNT 16 /* RLIM_NLIMITS on Linux */

struct jail_profile {
        char name[JAIL_NAME_MAX];
        enum jail_mode mode;

        /* [namespaces] */
        bool userns;
        struct jail_idmap uid_map[8], gid_map[8];
        unsigned n_uid_map, n_gid_map;
        enum jail_net_mode net;
        char netns_name[JAIL_NAME_MAX];
        bool loopback;
        bool timens;
        int64_t time_offset_monotonic, time_offset_boottime; /* seconds */
        char hostname[JAIL_NAME_MAX];

        /* [filesystem] */
        struct jail_mount mounts[JAIL_MAX_MOUNTS];
        unsigned n_mounts;
        bool private_tmp;   /* noexec tmpfs on /tmp */
        uint64_t tmp_size;  /* bytes, 0 = default */
        bool proc;          /* /proc, hidepid=invisible,subset=pid */
        enum jail_sys_mode sys;
        bool dev_shm;       /* noexec tmpfs on /dev/shm */
        bool dev_pts;       /* private devpts instance + /dev/ptmx */

        /* [devices] */
        struct jail_device devices[JAIL_MAX_DEVICES];
        unsigned n_devices;

        /* [credentials] */
        uid_t uid;
        gid_t gid;
        gid_t groups[JAIL_MAX_GROUPS];
        unsigned n_groups;
        int caps_keep[JAIL_MAX_CAPS]; /* CAP_* numbers kept (bounding, permitted, effective, inheritable, ambient) */
        unsigned n_caps_keep;
        bool mdwe;              /* PR_SET_MDWE refuse-exec-gain */
        bool exec_securebits;   /* SECBIT_EXEC_RESTRICT_FILE + DENY_INTERACTIVE, locked */
        bool new_session;       /* setsid(): no controlling terminal inside */
        bool memfd_noexec;      /* vm.memfd_noexec=2 for the jail's pid namespace */

        /* [environment] */
        char env_keep[JAIL_MAX_ENV][JAIL_NAME_MAX];
        unsigned n_env_keep;
        char env_set[JAIL_MAX_ENV][JAIL_PATH_MAX]; /* NAME=VALUE */
        unsigned n_env_set;
        char cwd[JAIL_PATH_MAX];

        /* [fds] */
        int fds_keep[JAIL_MAX_FDS];
        unsigned n_fds_keep;

        /* [rlimits] indexed by RLIMIT_* */
        struct jail_rlimit rlimits[JAIL_RLIMIT_COUNT];

        /* [landlock] */
        bool landlock;
        bool landlock_fs;        /* rules derived from the mounts */
        bool landlock_net;       /* restrict TCP bind/connect to the lists below */
        uint16_t tcp_bind[JAIL_MAX_PORTS], tcp_connect[JAIL_MAX_PORTS];
        unsigned n_tcp_bind, n_tcp_connect;
        bool scope_abstract_unix, scope_signal;

        /* [seccomp] */
        bool seccomp;
        enum jail_seccomp_mode seccomp_mode;
        char seccomp_allow[JAIL_MAX_SYSCALLS][32]; /* allowlist mode */
        unsigned n_seccomp_allow;
        char seccomp_deny[JAIL_MAX_SYSCALLS][32];  /* extra denied calls (both modes) */
        unsigned n_seccomp_deny;
        int seccomp_errno;

        /* [cgroup] */
        bool cgroup;
        char cgroup_parent[JAIL_PATH_MAX]; /* relative to the cgroup2 mount, e.g. "rempart" */
        uint64_t memory_max, memory_swap_max, pids_max; /* UINT64_MAX = "max", 0 = unset */
        bool memory_max_set, memory_swap_max_set, pids_max_set;
        uint64_t cpu_quota_us, cpu_period_us; /* cpu.max; quota 0 = unset */
        uint64_t cpu_weight, io_weight;       /* 0 = unset */
        bool device_policy;                   /* BPF device program from [devices] */

        bool die_with_parent;   /* [credentials] die_with_parent */

        /* Where each key was last set (indexed by the parser's key table),
         * so that cross-key errors can name file, line and key. */
        struct jail_origin origins[JAIL_MAX_KEYS];
};

/* Parse/validation error: a message that names file, line and key. */
struct jail_error {
        char msg[JAIL_ERR_MAX];
};

/* Fill p with the built-in default profile (see rempart-jail.profile(5)). */
void profile_init_default(struct jail_profile *p);

/* Parse an INI profile from a memory buffer (name is used in messages).
 * Settings are applied on top of p.  Returns 0, or -EINVAL with err filled. */
int profile_parse_buffer(struct jail_profile *p, const char *name, const char *buf, size_t len,
                         struct jail_error *err);
/* Same, reading the file at path (at most 1 MiB). */
int profile_parse_file(struct jail_profile *p, const char *path, struct jail_error *err);

/* Apply one "section.key=value" setting, as given on the command line
 * (--set) or by the option table; origin describes where it came from. */
int profile_set(struct jail_profile *p, const char *section, const char *key, const char *value,
                const struct jail_origin *origin, struct jail_error *err);

/* Cross-key checks that need the whole profile: W^X, duplicate mount
 * destinations, device nodes that are not devices, conflicts between
 * options.  When check_host is true, also stat host paths (bind sources,
 * devices, netns) and fill device numbers.  Returns 0 or -errno with err. */
int profile_validate(struct jail_profile *p, bool check_host, struct jail_error *err);

/* Index of "section.key" in the key table (for origins[]), or -1. */
int profile_key_index(const char *section, const char *key);
/* Format an error that names where a setting came from. */
int profile_error(struct jail_error *err, const struct jail_origin *o, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Print the effective profile in INI form, for inspection (--print-profile). */
int profile_dump(const struct jail_profile *p, FILE *f);

/* SPDX-License-Identifier: MIT */
/* Transfer policy: which transfers of files between levels are allowed,
 * denied or need a confirmation, per source level, target level, operation
 * and user.  See rempart-xfer.policy(5).
 *
 * The policy is every NAME.policy file of a directory, read in byte order
 * of the names, the rules of all files concatenated; the first rule that
 * matches a request decides, and a request that no rule matches is denied.
 * Any error anywhere (a line that does not parse, a symbolic link, an
 * unreadable file...) puts the whole policy in the "deny everything" state,
 * with the first error as the reason: the policy never fails open.
 *
 * Nothing in here touches the system except reading the directory and the
 * user and group databases (through struct xfer_lookup). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define XFER_POLICY_DEFAULT_DIR "/etc/rempart/policy.d"
#define XFER_POLICY_SUFFIX ".policy"
#define XFER_POLICY_MAX_FILES 64                          /* NAME.policy files (sources) */
#define XFER_POLICY_MAX_FILE_SIZE ((size_t) 1024 * 1024)  /* bytes per file */
#define XFER_POLICY_MAX_LINE 4096                         /* bytes per line, newline excluded */
#define XFER_POLICY_MAX_RULES 4096                        /* in all files together */
#define XFER_PATH_MAX 256                                 /* file names in messages */
#define XFER_REASON_MAX 512                               /* why a policy is refused */
#define XFER_DECISION_REASON_MAX (XFER_REASON_MAX + 64)
#define XFER_LEVEL_NAME_MAX 32                            /* level names: [a-z][a-z0-9_-]{0,30} */
#define XFER_MAX_GROUPS 65536                             /* supplementary groups of a request */

/* Quotas of one transfer (one request), when a rule sets none. */
#define XFER_DEFAULT_MAX_BYTES ((uint64_t) 1 << 30) /* 1 GiB */
#define XFER_DEFAULT_MAX_FILES ((uint64_t) 100000)
/* Largest quotas a rule may set. */
#define XFER_LIMIT_MAX_BYTES ((uint64_t) 1 << 40) /* 1 TiB */
#define XFER_LIMIT_MAX_FILES ((uint64_t) 10000000)

/* DENY is 0: a zeroed decision denies. */
enum xfer_verdict {
        XFER_DENY = 0,
        XFER_ALLOW,
        XFER_CONFIRM, /* allowed once a user of the source level confirms it */
};

enum xfer_op {
        XFER_OP_COPY,
        _XFER_OP_COUNT,
};

/* How names in rules are resolved.  NULL callbacks: getpwnam_r(3),
 * getgrnam_r(3), and no check of level names beyond their syntax.
 * Lookups return 0, -ENOENT (no such name) or -errno; level_exists returns
 * 1 (known), 0 (unknown) or -errno.  Tests and the fuzzer pass their own;
 * the transfer service passes a level_exists that knows the level set, so
 * that a misspelt level in a rule is an error rather than a rule that
 * never matches (a misspelt deny rule would fail open). */
struct xfer_lookup {
        int (*user_by_name)(const char *name, uid_t *uid, void *userdata);
        int (*group_by_name)(const char *name, gid_t *gid, void *userdata);
        int (*level_exists)(const char *name, void *userdata);
        void *userdata;
};

/* Who asks for what.  The identity is the one the kernel vouches for
 * (SO_PEERCRED, the process's groups): the policy matches uids and gids
 * only, never names. */
struct xfer_request_id {
        const char *source;   /* level name */
        const char *target;   /* level name */
        enum xfer_op op;
        uid_t uid;
        gid_t gid;            /* primary group */
        const gid_t *groups;  /* supplementary groups, n_groups of them */
        size_t n_groups;      /* at most XFER_MAX_GROUPS */
};

struct xfer_decision {
        enum xfer_verdict verdict;
        char file[XFER_PATH_MAX]; /* the rule that decided; "" when none did */
        unsigned line;            /* its line, 0 when none */
        uint64_t max_bytes;       /* quotas of the transfer; 0 when denied */
        uint64_t max_files;
        char reason[XFER_DECISION_REASON_MAX]; /* one line for logs and users, always set */
};

struct xfer_policy;

/* An empty policy: no rules (everything denied), not failed.  Returns 0 or
 * -ENOMEM. */
int xfer_policy_new(struct xfer_policy **ret);

/* Parse one policy file from memory and append its rules; path names it in
 * messages.  Pure: reads nothing but lk.  Returns 0, -EINVAL (a parse
 * error: the policy is now failed, every rule dropped, the error kept as
 * reason), or -ENOMEM (the policy is failed too).  On a failed policy it
 * does nothing and returns -EINVAL: the first error stays. */
int xfer_policy_parse_buffer(struct xfer_policy *p, const char *path, const char *buf, size_t len,
                             const struct xfer_lookup *lk);

/* Load every NAME.policy of dir (NULL: XFER_POLICY_DEFAULT_DIR).  Returns
 * 0 with *ret set, also when the policy is failed (see xfer_policy_error():
 * it then denies everything); -ENOMEM with *ret = NULL when even that
 * could not be built.  An empty directory is a policy without rules, not
 * an error; a missing or unreadable one is an error. */
int xfer_policy_load(const char *dir, const struct xfer_lookup *lk, struct xfer_policy **ret);

/* NULL when the policy is usable, else why it denies everything
 * ("FILE:LINE: why", "FILE: why" or "DIR: why"). */
const char *xfer_policy_error(const struct xfer_policy *p);

/* Number of rules (0 for a failed policy). */
unsigned xfer_policy_n_rules(const struct xfer_policy *p);

/* Decide on a request.  p may be NULL (no policy: deny) and out may be
 * NULL.  Requests that make no sense (invalid level names, source ==
 * target, unknown operation, uid -1, too many groups) are denied whatever
 * the rules say.  Never fails: the verdict is returned and stored in out. */
enum xfer_verdict xfer_policy_decide(const struct xfer_policy *p, const struct xfer_request_id *req,
                                     struct xfer_decision *out);

void xfer_policy_free(struct xfer_policy *p);
static inline void xfer_policy_freep(struct xfer_policy **p) {
        xfer_policy_free(*p);
}

const char *xfer_verdict_name(enum xfer_verdict v); /* "deny", "allow", "confirm" */
const char *xfer_op_name(enum xfer_op op);          /* "copy", or "?" */
/* True when name is a valid level name ([a-z][a-z0-9_-]{0,30}, as in
 * rempart-level.conf(5)). */
bool xfer_level_name_valid(const char *name);

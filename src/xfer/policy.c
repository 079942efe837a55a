/* SPDX-License-Identifier: MIT */
/* Transfer policy: the policy object, loading a directory of NAME.policy
 * files, and decisions (first matching rule wins, no match denies).  The
 * rule syntax is in policy-parse.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy-internal.h"

/* ---- the object ---- */

int xfer_policy_new(struct xfer_policy **ret) {
        struct xfer_policy *p = calloc(1, sizeof *p);

        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

void xfer_policy_free(struct xfer_policy *p) {
        if (!p)
                return;
        free(p->rules);
        free(p);
}

int xfer_policy_fail(struct xfer_policy *p, const char *fmt, ...) {
        va_list ap;

        if (p->failed)
                return -EINVAL;
        p->failed = true;
        p->n_rules = 0;
        va_start(ap, fmt);
        (void) vsnprintf(p->error, sizeof p->error, fmt, ap);
        va_end(ap);
        if (p->error[0] == '\0')
                (void) snprintf(p->error, sizeof p->error, "policy refused");
        return -EINVAL;
}

const char *xfer_policy_error(const struct xfer_policy *p) {
        if (!p)
                return "no policy";
        return p->failed ? p->error : NULL;
}

unsigned xfer_policy_n_rules(const struct xfer_policy *p) {
        return p && !p->failed ? p->n_rules : 0;
}

const char *xfer_verdict_name(enum xfer_verdict v) {
        switch (v) {
        case XFER_DENY:
                return "deny";
        case XFER_ALLOW:
                return "allow";
        case XFER_CONFIRM:
                return "confirm";
        default:
                return "deny";
        }
}

const char *xfer_op_name(enum xfer_op op) {
        return op == XFER_OP_COPY ? "copy" : "?";
}

/* ---- loading a directory ---- */

struct candidate {
        char name[256];
};

static void closedirp(DIR **d) {
        if (*d) {
                int saved = errno;
                (void) closedir(*d);
                errno = saved;
        }
}

static int candidate_cmp(const void *a, const void *b) {
        return strcmp(((const struct candidate *) a)->name, ((const struct candidate *) b)->name);
}

/* NAME.policy with NAME of letters, digits, '.', '_', '-' (not starting
 * with '.': hidden names are ignored before). */
static bool policy_file_name_valid(const char *name, size_t len) {
        size_t stem = len - strlen(XFER_POLICY_SUFFIX);

        if (stem == 0)
                return false;
        for (size_t i = 0; i < stem; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* A name for messages: printable ASCII, anything else as '?'. */
static void sanitize(const char *in, char *out, size_t size) {
        size_t i = 0;

        for (; in[i] && i + 1 < size; i++)
                out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
        out[i] = '\0';
}

/* Files and directories that anyone but root (or the loading user, for
 * tests and non-root tools) could change are refused. */
static int check_owner(struct xfer_policy *p, const char *path, const struct stat *st) {
        if (st->st_uid != 0 && st->st_uid != geteuid())
                return xfer_policy_fail(p, "%s: owned by uid %u (expected root)", path, (unsigned) st->st_uid);
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return xfer_policy_fail(p, "%s: writable by group or others (mode %04o)", path,
                                        (unsigned) (st->st_mode & 07777));
        return 0;
}

/* The names ending in .policy, sorted; errors fail p. */
static int list_candidates(struct xfer_policy *p, DIR *d, const char *dir, struct candidate *list, unsigned *n) {
        size_t slen = strlen(XFER_POLICY_SUFFIX);

        *n = 0;
        for (;;) {
                char shown[80];
                struct dirent *de;
                size_t len;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0) {
                                int r = negative_errno();
                                return xfer_policy_fail(p, "%s: cannot read: %s", dir, strerror(-r));
                        }
                        break;
                }
                if (de->d_name[0] == '.')
                        continue; /* ".", "..", hidden files (editor locks) */
                len = strnlen(de->d_name, sizeof list[0].name);
                if (len >= sizeof list[0].name || len < slen || strcmp(de->d_name + len - slen, XFER_POLICY_SUFFIX) != 0)
                        continue; /* not a policy file: ignored */
                sanitize(de->d_name, shown, sizeof shown);
                if (!policy_file_name_valid(de->d_name, len))
                        return xfer_policy_fail(p,
                                                "%s/%s: invalid policy file name (expected NAME.policy, NAME of letters, digits, '.', '_' and '-')",
                                                dir, shown);
                if (*n >= XFER_POLICY_MAX_FILES)
                        return xfer_policy_fail(p, "%s: more than %d policy files", dir, XFER_POLICY_MAX_FILES);
                memcpy(list[*n].name, de->d_name, len + 1);
                (*n)++;
        }
        qsort(list, *n, sizeof list[0], candidate_cmp);
        return 0;
}

static int read_fd(struct xfer_policy *p, int fd, const char *path, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = malloc(XFER_POLICY_MAX_FILE_SIZE + 1);
        size_t total = 0;

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf + total, XFER_POLICY_MAX_FILE_SIZE + 1 - total);
                if (n < 0) {
                        int r;
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        return xfer_policy_fail(p, "%s: cannot read: %s", path, strerror(-r));
                }
                if (n == 0)
                        break;
                total += (size_t) n;
                if (total > XFER_POLICY_MAX_FILE_SIZE)
                        return xfer_policy_fail(p, "%s: larger than %zu bytes", path, XFER_POLICY_MAX_FILE_SIZE);
        }
        *ret = TAKE_PTR(buf);
        *ret_len = total;
        return 0;
}

static int load_one(struct xfer_policy *p, int dfd, const char *dir, const char *name,
                    const struct xfer_lookup *lk) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        char path[XFER_PATH_MAX];
        struct stat st;
        size_t len = 0;
        int r, n;

        n = snprintf(path, sizeof path, "%s/%s", dir, name);
        if (n < 0 || (size_t) n >= sizeof path)
                return xfer_policy_fail(p, "%.200s...: path too long (at most %d bytes)", path, XFER_PATH_MAX - 1);
        /* Regular files only: no symbolic link is followed, no FIFO opened. */
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ELOOP)
                        return xfer_policy_fail(p, "%s: a symbolic link (policy files must be regular files)", path);
                return xfer_policy_fail(p, "%s: cannot open: %s", path, strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                return xfer_policy_fail(p, "%s: cannot stat: %s", path, strerror(-r));
        }
        if (!S_ISREG(st.st_mode))
                return xfer_policy_fail(p, "%s: not a regular file", path);
        r = check_owner(p, path, &st);
        if (r < 0)
                return r;
        r = read_fd(p, fd, path, &buf, &len);
        if (r < 0)
                return r;
        return xfer_policy_parse_buffer(p, path, buf, len, lk);
}

static int load_dir(struct xfer_policy *p, const char *dir, const struct xfer_lookup *lk) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_close_ int fd = -1;
        struct candidate list[XFER_POLICY_MAX_FILES];
        struct stat st;
        unsigned n = 0;
        int dfd, r;

        if (strnlen(dir, XFER_PATH_MAX) >= XFER_PATH_MAX)
                return xfer_policy_fail(p, "%.200s...: path too long (at most %d bytes)", dir, XFER_PATH_MAX - 1);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                return xfer_policy_fail(p, "%s: cannot open: %s", dir, strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                return xfer_policy_fail(p, "%s: cannot stat: %s", dir, strerror(-r));
        }
        r = check_owner(p, dir, &st);
        if (r < 0)
                return r;
        dfd = take_fd(&fd); /* owned by d from here */
        d = fdopendir(dfd);
        if (!d) {
                r = negative_errno();
                (void) close(dfd);
                return xfer_policy_fail(p, "%s: cannot read: %s", dir, strerror(-r));
        }
        r = list_candidates(p, d, dir, list, &n);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < n; i++) {
                r = load_one(p, dirfd(d), dir, list[i].name, lk);
                if (r < 0)
                        return r;
        }
        return 0;
}

int xfer_policy_load(const char *dir, const struct xfer_lookup *lk, struct xfer_policy **ret) {
        struct xfer_policy *p = NULL;
        int r;

        *ret = NULL;
        r = xfer_policy_new(&p);
        if (r < 0)
                return r;
        r = load_dir(p, dir ? dir : XFER_POLICY_DEFAULT_DIR, lk);
        if (r == -ENOMEM) {
                xfer_policy_free(p);
                return r;
        }
        /* Other errors are in p (failed): it denies everything. */
        *ret = p;
        return 0;
}

/* ---- decisions ---- */

static bool rule_matches(const struct xfer_rule *rule, const struct xfer_request_id *q) {
        if (rule->source[0] != '\0' && strcmp(rule->source, q->source) != 0)
                return false;
        if (rule->target[0] != '\0' && strcmp(rule->target, q->target) != 0)
                return false;
        if (!rule->any_op && rule->op != q->op)
                return false;
        switch (rule->user_kind) {
        case XFER_USER_ANY:
                return true;
        case XFER_USER_UID:
                return (uint32_t) q->uid == rule->id;
        case XFER_USER_GID:
                if ((uint32_t) q->gid == rule->id)
                        return true;
                for (size_t i = 0; i < q->n_groups; i++)
                        if ((uint32_t) q->groups[i] == rule->id)
                                return true;
                return false;
        default:
                return false;
        }
}

/* Why a request is refused before any rule is looked at, or NULL. */
static const char *request_invalid(const struct xfer_request_id *q) {
        if (!q)
                return "invalid request";
        if (!xfer_level_name_valid(q->source))
                return "invalid request: the source is not a level name";
        if (!xfer_level_name_valid(q->target))
                return "invalid request: the target is not a level name";
        if (strcmp(q->source, q->target) == 0)
                return "source and target are the same level";
        if ((unsigned) q->op >= _XFER_OP_COUNT)
                return "invalid request: unknown operation";
        if (q->uid == (uid_t) -1 || q->gid == (gid_t) -1)
                return "invalid request: uid or gid -1";
        if (q->n_groups > XFER_MAX_GROUPS || (q->n_groups > 0 && !q->groups))
                return "invalid request: bad group list";
        return NULL;
}

static void decided(struct xfer_decision *d, const struct xfer_policy *p, const struct xfer_rule *rule) {
        static const char *const what[] = {
                [XFER_DENY] = "denied by",
                [XFER_ALLOW] = "allowed by",
                [XFER_CONFIRM] = "needs confirmation, by",
        };
        const char *file = rule->file < p->n_files ? p->files[rule->file] : "?";

        d->verdict = rule->action;
        (void) snprintf(d->file, sizeof d->file, "%s", file);
        d->line = rule->line;
        if (rule->action != XFER_DENY) {
                d->max_bytes = rule->max_bytes;
                d->max_files = rule->max_files;
        }
        (void) snprintf(d->reason, sizeof d->reason, "%s %s:%u", what[rule->action <= XFER_CONFIRM ? rule->action : 0],
                        d->file, d->line);
}

enum xfer_verdict xfer_policy_decide(const struct xfer_policy *p, const struct xfer_request_id *req,
                                     struct xfer_decision *out) {
        struct xfer_decision local = { .verdict = XFER_DENY };
        struct xfer_decision *d = out ? out : &local;
        const char *why;

        memset(d, 0, sizeof *d); /* verdict XFER_DENY, no quotas */
        if (!p) {
                (void) snprintf(d->reason, sizeof d->reason, "denied: no transfer policy");
                return XFER_DENY;
        }
        if (p->failed) {
                (void) snprintf(d->reason, sizeof d->reason, "denied: transfer policy refused: %s", p->error);
                return XFER_DENY;
        }
        why = request_invalid(req);
        if (why) {
                (void) snprintf(d->reason, sizeof d->reason, "denied: %s", why);
                return XFER_DENY;
        }
        for (unsigned i = 0; i < p->n_rules && i < XFER_POLICY_MAX_RULES; i++)
                if (rule_matches(&p->rules[i], req)) {
                        decided(d, p, &p->rules[i]);
                        return d->verdict;
                }
        (void) snprintf(d->reason, sizeof d->reason, "denied: no rule matches (default deny)");
        return XFER_DENY;
}

/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the transfer policy parser and decisions (policy
 * files are read by the core to decide what may cross between levels).
 * The input is one policy file, or two separated by a line "%%" (rules of
 * several files are concatenated).  Users, groups and levels come from a
 * fake database.  Besides memory errors (the group lists of requests are
 * allocated to their exact size, so that a decision reading past them is
 * caught), it checks that:
 *  - a refused policy says why and denies every request, with no rule and
 *    no quota in the decision;
 *  - a usable policy only allows or asks to confirm with quotas within the
 *    bounds and a rule that exists (file read, line within it); never a
 *    transfer within one level or an invalid request;
 *  - first match wins: the same text read twice decides exactly as once,
 *    by the rules of the first copy;
 *  - every decision is fully written (a NUL-terminated reason). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_user(const char *name, uid_t *uid, void *userdata) {
        (void) userdata;
        if (strcmp(name, "alice") == 0) {
                *uid = 1001;
                return 0;
        }
        if (strcmp(name, "bob") == 0) {
                *uid = 1002;
                return 0;
        }
        if (strcmp(name, "broken") == 0)
                return -EIO;
        return -ENOENT;
}

static int fake_group(const char *name, gid_t *gid, void *userdata) {
        (void) userdata;
        if (strcmp(name, "staff") == 0) {
                *gid = 50;
                return 0;
        }
        if (strcmp(name, "wheel") == 0) {
                *gid = 10;
                return 0;
        }
        return -ENOENT;
}

static int fake_level(const char *name, void *userdata) {
        (void) userdata;
        if (strcmp(name, "broken") == 0)
                return -EIO;
        return strcmp(name, "low") == 0 || strcmp(name, "high") == 0 || strcmp(name, "mid") == 0 ||
               strcmp(name, "secret") == 0;
}

static const struct xfer_lookup lk = { fake_user, fake_group, fake_level, NULL };

static const char *const names[2] = { "fuzz-a.policy", "fuzz-b.policy" };
static const char *const levels[] = { "low", "high", "mid", "secret", "other", "Bad", "" };
static const uid_t uids[] = { 1001, 1002, 0, 50, 4242 };

struct source {
        const char *buf;
        size_t len;
        unsigned lines;
};

static unsigned count_lines(const char *buf, size_t len) {
        unsigned n = 0;

        for (size_t i = 0; i < len; i++)
                if (buf[i] == '\n')
                        n++;
        return len > 0 && buf[len - 1] != '\n' ? n + 1 : n;
}

/* Parse the sources (each `copies` times, in a row) into a new policy. */
static struct xfer_policy *parse_sources(const struct source *src, unsigned n_src, unsigned copies, int *ret) {
        struct xfer_policy *p = NULL;
        int r = 0;

        if (xfer_policy_new(&p) < 0)
                return NULL;
        for (unsigned c = 0; c < copies && r == 0; c++)
                for (unsigned i = 0; i < n_src && r == 0; i++)
                        r = xfer_policy_parse_buffer(p, names[i], src[i].buf, src[i].len, &lk);
        if (r != 0 && r != -EINVAL && r != -ENOMEM)
                abort();
        *ret = r;
        return p;
}

static void check_decision(const struct xfer_policy *p, const struct xfer_request_id *q, const struct xfer_decision *d,
                           enum xfer_verdict v, const struct source *src, unsigned n_src) {
        bool valid_request = xfer_level_name_valid(q->source) && xfer_level_name_valid(q->target) &&
                             strcmp(q->source, q->target) != 0 && (unsigned) q->op < _XFER_OP_COUNT;

        if (v != d->verdict || strnlen(d->reason, sizeof d->reason) >= sizeof d->reason || d->reason[0] == '\0' ||
            strnlen(d->file, sizeof d->file) >= sizeof d->file)
                abort();
        if (xfer_policy_error(p) || !valid_request) {
                if (v != XFER_DENY || d->line != 0 || d->file[0] != '\0' || d->max_bytes != 0 || d->max_files != 0)
                        abort();
                if (xfer_policy_error(p) && valid_request && !strstr(d->reason, xfer_policy_error(p)))
                        abort();
                return;
        }
        switch (v) {
        case XFER_DENY:
                if (d->max_bytes != 0 || d->max_files != 0)
                        abort();
                if (d->line == 0) {
                        if (d->file[0] != '\0')
                                abort();
                        return;
                }
                break;
        case XFER_ALLOW:
        case XFER_CONFIRM:
                if (d->max_bytes == 0 || d->max_bytes > XFER_LIMIT_MAX_BYTES || d->max_files == 0 ||
                    d->max_files > XFER_LIMIT_MAX_FILES)
                        abort();
                break;
        default:
                abort();
        }
        /* A rule decided: it is in a file read, on one of its lines. */
        for (unsigned i = 0; i < n_src; i++)
                if (strcmp(d->file, names[i]) == 0) {
                        if (d->line == 0 || d->line > src[i].lines)
                                abort();
                        return;
                }
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *) data;
        struct source src[2];
        unsigned n_src = 1;
        struct xfer_policy *once = NULL, *twice = NULL;
        struct xfer_decision *d1 = NULL, *d2 = NULL;
        gid_t *groups = NULL;
        const char *sep;
        int r1 = 0, r2 = 0;

        src[0] = (struct source) { text, size, 0 };
        sep = size >= 4 ? memmem(text, size, "\n%%\n", 4) : NULL;
        if (sep) {
                src[0].len = (size_t) (sep - text) + 1;
                src[1] = (struct source) { sep + 4, size - src[0].len - 3, 0 };
                n_src = 2;
        }
        for (unsigned i = 0; i < n_src; i++)
                src[i].lines = count_lines(src[i].buf, src[i].len);

        once = parse_sources(src, n_src, 1, &r1);
        if (!once)
                return 0;
        if (r1 < 0) {
                const char *e = xfer_policy_error(once);
                /* Refused: says why, naming the file; no rule left. */
                if (!e || (strncmp(e, names[0], strlen(names[0])) != 0 && strncmp(e, names[1], strlen(names[1])) != 0))
                        abort();
                if (xfer_policy_n_rules(once) != 0)
                        abort();
        } else if (xfer_policy_error(once) || xfer_policy_n_rules(once) > XFER_POLICY_MAX_RULES) {
                abort();
        }
        /* The same text twice: first match wins, so the first copy decides
         * everything (when twice the rules still fit). */
        if (r1 == 0 && 2 * xfer_policy_n_rules(once) <= XFER_POLICY_MAX_RULES) {
                twice = parse_sources(src, n_src, 2, &r2);
                if (!twice)
                        goto out;
                if (r2 == -ENOMEM)
                        goto out;
                if (r2 != 0 || xfer_policy_n_rules(twice) != 2 * xfer_policy_n_rules(once))
                        abort();
        }

        d1 = malloc(sizeof *d1);
        d2 = malloc(sizeof *d2);
        groups = malloc(2 * sizeof *groups);
        if (!d1 || !d2 || !groups)
                goto out;
        groups[0] = 10;
        groups[1] = 77;
        for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
                for (size_t j = 0; j < sizeof levels / sizeof levels[0]; j++)
                        for (size_t k = 0; k < sizeof uids / sizeof uids[0]; k++)
                                for (unsigned g = 0; g < 4; g++) {
                                        struct xfer_request_id q = {
                                                .source = levels[i],
                                                .target = levels[j],
                                                .op = g == 3 ? (enum xfer_op) 5 : XFER_OP_COPY,
                                                .uid = uids[k],
                                                .gid = g == 1 ? 50 : uids[k],
                                                .groups = g == 2 ? groups : g == 1 ? groups + 1 : NULL,
                                                .n_groups = g == 2 ? 2 : g == 1 ? 1 : 0,
                                        };
                                        enum xfer_verdict v;

                                        memset(d1, 0xa5, sizeof *d1);
                                        v = xfer_policy_decide(once, &q, d1);
                                        check_decision(once, &q, d1, v, src, n_src);
                                        if (!twice)
                                                continue;
                                        memset(d2, 0x5a, sizeof *d2);
                                        if (xfer_policy_decide(twice, &q, d2) != v || d2->line != d1->line ||
                                            strcmp(d2->file, d1->file) != 0 || d2->max_bytes != d1->max_bytes ||
                                            d2->max_files != d1->max_files || strcmp(d2->reason, d1->reason) != 0)
                                                abort();
                                }
out:
        free(groups);
        free(d1);
        free(d2);
        xfer_policy_free(once);
        xfer_policy_free(twice);
        return 0;
}

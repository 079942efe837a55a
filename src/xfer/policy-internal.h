/* SPDX-License-Identifier: MIT */
/* The representation of a transfer policy, shared by policy.c (loading a
 * directory, decisions) and policy-parse.c (the rule syntax); not part of
 * the API. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "policy.h"

enum xfer_user_kind {
        XFER_USER_ANY,
        XFER_USER_UID, /* the request's uid */
        XFER_USER_GID, /* the request's primary or a supplementary group */
};

struct xfer_rule {
        enum xfer_verdict action;
        char source[XFER_LEVEL_NAME_MAX]; /* "" = any level */
        char target[XFER_LEVEL_NAME_MAX]; /* "" = any level */
        bool any_op;
        enum xfer_op op;                  /* when !any_op */
        enum xfer_user_kind user_kind;
        uint32_t id;                      /* uid or gid */
        uint64_t max_bytes, max_files;    /* 0 for deny rules */
        unsigned file;                    /* index in xfer_policy.files */
        unsigned line;
};

struct xfer_policy {
        struct xfer_rule *rules;
        unsigned n_rules, n_allocated;
        char files[XFER_POLICY_MAX_FILES][XFER_PATH_MAX]; /* sources, in the order read */
        unsigned n_files;
        bool failed;                 /* deny everything */
        char error[XFER_REASON_MAX]; /* why, when failed */
};

/* Put p in the deny-everything state with the message, unless it failed
 * already (the first error stays).  Drops every rule.  Returns -EINVAL. */
int xfer_policy_fail(struct xfer_policy *p, const char *fmt, ...) _printf_(2, 3);

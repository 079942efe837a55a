/* SPDX-License-Identifier: MIT */
/* Transfers waiting for a confirmation, kept by rempart-xferd in its state
 * directory (root 0700, /run/rempart/xferd by default):
 *
 *   pending/ID          a request received, staged, waiting
 *   resolved/ID         the same file once someone claimed it (confirm,
 *                       deny, expiry): rename(2) makes the claim atomic, so
 *                       exactly one of them acts on a request
 *   resolved/ID.result  what became of it, for a sender that waits
 *
 * A request file is "key=value" lines (id, uid, gid, user, source,
 * target, created, expires), a line "manifest", then the manifest
 * (manifest.h).  Only the daemon writes them; they are still parsed
 * strictly. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "manifest.h"

#define XFER_ID_LEN 12 /* hex digits */
#define XFER_USER_MAX 33

struct xfer_pending {
        char id[XFER_ID_LEN + 1];
        uid_t uid;
        gid_t gid;
        char user[XFER_USER_MAX];
        char source[32], target[32];
        int64_t created, expires; /* seconds since the epoch (CLOCK_REALTIME) */
        struct xfer_manifest *manifest;
};

void xfer_pending_clear(struct xfer_pending *p); /* frees the manifest */

bool xfer_id_valid(const char *id);
/* A new random ID. */
int xfer_id_new(char id[XFER_ID_LEN + 1]);

/* Create STATE/pending and STATE/resolved (0700) if needed; returns a
 * descriptor of STATE or -errno. */
int xfer_state_open(const char *dir);

/* Write STATE/pending/ID atomically (-EEXIST if taken). */
int xfer_pending_write(int state_fd, const struct xfer_pending *p);
/* Read pending/ID (resolved = false) or resolved/ID (true). */
int xfer_pending_read(int state_fd, const char *id, bool resolved, struct xfer_pending *ret);
/* Claim: rename pending/ID to resolved/ID.  -ENOENT when someone else did. */
int xfer_pending_claim(int state_fd, const char *id);
/* IDs in pending/ (malloc'd array of XFER_ID_LEN+1 strings). */
int xfer_pending_list(int state_fd, char (**ret)[XFER_ID_LEN + 1], size_t *n);
/* resolved/ID.result: "CODE TEXT" (reply code of xfer-proto.h). */
int xfer_result_write(int state_fd, const char *id, int code, const char *text);
/* 0 and the result, -ENOENT when not written yet. */
int xfer_result_read(int state_fd, const char *id, int *code, char *text, size_t size);
/* Remove resolved/ID and resolved/ID.result. */
void xfer_resolved_remove(int state_fd, const char *id);

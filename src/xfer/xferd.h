/* SPDX-License-Identifier: MIT */
/* rempart-xferd, the transfer service of the core.  See README.md
 * ("Transfer service") for the processes and the trust boundary:
 *
 *   main process (root)        listens on every level's socket and on the
 *                              control socket, forks one worker per
 *                              connection, expires waiting requests
 *   worker (root, per conn.)   identifies the peer, applies the policy,
 *                              audits, commits; never parses the stream
 *   parser (user, jailed)      parser-jail.h: the only reader of the stream
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit.h"
#include "level.h"
#include "pending.h"
#include "policy.h"
#include "seccomp-filter.h"

#define XFERD_STATE_DIR "/run/rempart/xferd"
#define XFERD_CONTROL_SOCKET "/run/rempart/xferd.sock"
#define XFERD_DEFAULT_EXPIRY 600 /* seconds a request waits for a confirmation */
#define XFERD_MAX_WORKERS 64
#define XFERD_MAX_WORKERS_PER_SOCKET 16
#define XFERD_AUDIT_NAMES_MAX 32 /* files named in an audit record; the rest in the manifest file */
#define XFERD_STAGING_DIR "xfer" /* DATA/xfer/ID of the target level, root 0700 */
#define XFERD_INCOMING "Incoming"

struct xferd {
        const char *levels_dir, *policy_dir, *runtime_dir, *audit_dir, *state_dir, *control_path;
        unsigned expiry;   /* seconds */
        unsigned idle;     /* seconds without data before a transfer is abandoned */
        struct seccomp_program filter;
        int state_fd;
        /* The levels and the policy, loaded by the main process (workers
         * inherit them) and reloaded when their files change. */
        struct level_set *set;
        struct xfer_policy *policy;
        uint64_t config_stamp;
        bool config_loaded;
};

/* Reload the levels and the policy if any of their files (or the user and
 * group databases) changed since the last load.  Returns 1 (reloaded), 0
 * (unchanged) or -errno (the policy could not even be built: d->policy
 * stays as it was). */
int xferd_config_refresh(struct xferd *d);

/* ---- xferd-common.c ---- */

/* Who is at the other end of a UNIX socket. */
struct xferd_peer {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        gid_t groups[256];
        size_t n_groups;
        char user[XFER_USER_MAX]; /* name from the core's user database, or the number */
        int pidfd;                /* SO_PEERPIDFD, or -1 */
};
/* lookup_name: the name from the user database (else the number, for the
 * caller to replace, e.g. with the level file's name of that uid). */
int xferd_peer_get(int fd, bool lookup_name, struct xferd_peer *ret);

void xferd_peer_done(struct xferd_peer *peer); /* closes the pidfd */

/* Is the peer a process of level name: in the level's cgroup (from its
 * runner's state file, which no level can write) and in a pid namespace
 * below ours?  Reads only world-readable files of /proc, and checks with
 * the peer's pidfd that they were about the peer.  0, -EPERM or -errno. */
int xferd_peer_in_level(const char *runtime, const char *name, const struct xferd_peer *peer);
/* Is the peer in our own pid namespace (the core, not a level)?  0,
 * -EPERM or -errno. */
int xferd_peer_in_core(const struct xferd_peer *peer);

/* Append an audit record about request p (NULL: no manifest and no id;
 * then source/target/user come from the other arguments).  Returns the
 * record's number or -errno (the caller must then not act). */
int64_t xferd_audit(const struct xferd *d, enum audit_type type, const struct xfer_pending *p, const char *source,
                    const char *target, const struct xferd_peer *peer, const char *confirmer, const char *reason);

/* Create DATA/xfer/ID (0700, owned by uid:gid) of level l; returns its
 * descriptor or -errno. */
int xferd_staging_create(const struct level_config *l, const char *id, uid_t uid, gid_t gid);
/* Remove DATA/xfer/ID and everything in it.  0 or -errno. */
int xferd_staging_remove(const struct level_config *l, const char *id);

/* The arrival: check DATA/xfer/ID against p's manifest, then move it into
 * DATA/home/USER/Incoming/SOURCE/ (see README.md for the names).  where
 * gets the path as seen in the target level.  0 or -errno with why. */
int xferd_commit(const struct level_config *target, const struct xfer_pending *p, bool verify_hashes, char *where,
                 size_t wsize, char *why, size_t whylen);

/* ---- the workers ---- */
void xferd_handle_transfer(struct xferd *d, const char *source, int conn);
void xferd_handle_control(struct xferd *d, int conn);

/* ---- the main process: expire requests whose time is up ---- */
void xferd_expire(struct xferd *d, bool all_leftovers);

/* SPDX-License-Identifier: MIT */
/* Run-time state of levels in the core, shared by rempart-level (which
 * writes it) and rempartctl (which reads it).
 *
 *   RUNTIME/NAME/            root 0755, never visible inside any level
 *   RUNTIME/NAME/state       "runner=PID\ncgroup=PATH\n", written atomically
 *   RUNTIME/NAME/broker/     root 0755, bound into level NAME at
 *                            /run/rempart/broker: the broker's socket
 *   RUNTIME/NAME/xfer/       root 0755, bound read-only into level NAME at
 *                            /run/rempart/xfer: rempart-xferd's socket for
 *                            transfers from that level (xfer.sock)
 *
 * RUNTIME is /run/rempart/levels unless overridden (development mode). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "level.h"

#define LEVEL_RUNTIME_DIR "/run/rempart/levels"
#define LEVEL_BROKER_SOCKET_NAME "broker.sock"
/* Paths inside the level. */
#define LEVEL_IN_BROKER_DIR "/run/rempart/broker"
#define LEVEL_IN_XFER_DIR "/run/rempart/xfer"
#define LEVEL_XFER_SOCKET_NAME "xfer.sock"
#define LEVEL_IN_BROKER_BIN "/run/rempart/rempart-broker"
#define LEVEL_IN_CONFIG_DIR "/run/rempart/config" /* holds NAME.conf, read-only */
#define LEVEL_IN_HOME "/home"
#define LEVEL_IN_VAR "/var/lib/level"

struct level_state {
        pid_t runner;              /* rempart-level run NAME (the jail's supervisor) */
        char cgroup[JAIL_PATH_MAX]; /* the jail's cgroup parent, relative to the v2 mount */
};

/* RUNTIME/NAME, RUNTIME/NAME/broker, RUNTIME/NAME/broker/broker.sock. */
int level_runtime_path(const char *runtime, const char *name, const char *leaf, char *buf, size_t size);

/* Create RUNTIME/NAME, RUNTIME/NAME/broker and RUNTIME/NAME/xfer (0755, root), refusing
 * symlinks on the way.  Returns 0 or -errno. */
int level_runtime_prepare(const char *runtime, const char *name);

/* Write/read/remove RUNTIME/NAME/state. */
int level_state_write(const char *runtime, const char *name, const struct level_state *st);
int level_state_read(const char *runtime, const char *name, struct level_state *st);
int level_state_remove(const char *runtime, const char *name);

/* True when the state file names a live runner. */
bool level_is_running(const char *runtime, const char *name, struct level_state *st);

/* Create DATA (root, 0700, also enforced when it exists), DATA/home,
 * DATA/var (root, 0755) and DATA/home/USER (0700, owned by the user) for
 * every user of the level; existing directories and their content are kept
 * (a level's data survives restarts), symlinks refused. */
int level_data_prepare(const struct level_config *l);

/* Is the process pid (uid as the kernel reported it for a socket peer) the
 * broker of level name?  It must be uid 0, its parent the level's jail init
 * and that one's parent the runner of the state file, which no level can
 * write.  Returns 0, -EPERM (not the broker) or -errno. */
int level_check_broker(const char *runtime, const char *name, pid_t pid, uid_t uid);

/* True while pid exists and is not a zombie (/proc/PID/stat). */
bool proc_alive(pid_t pid);

/* Parent pid of pid, from /proc/PID/stat.  Returns 0 or -errno. */
int proc_parent_pid(pid_t pid, pid_t *ret);

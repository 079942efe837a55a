/* SPDX-License-Identifier: MIT */
/* The session broker of a level (rempart-broker(8)): listens on a UNIX
 * socket that only the core can reach, and starts commands as the level's
 * users on the core's behalf, as its own children. */
#pragma once

#include "level.h"

#define BROKER_MAX_SESSIONS 64
/* Time a session is given between SIGHUP (client gone) or SIGTERM (broker
 * stopping) and SIGKILL. */
#define BROKER_KILL_DELAY_MS 2000

/* Create the listening socket at path: refuse when another broker answers
 * there, remove a stale socket (never anything that is not a socket), bind,
 * chmod 0666 (who may start what is decided by the peer checks, not by the
 * file mode), listen.  Returns the socket or -errno (logged). */
int broker_listen(const char *path);

/* Keep only CAP_SETUID and CAP_SETGID (permitted and effective; the
 * inheritable and ambient sets are cleared).  Fails with -EPERM (logged)
 * when either is missing. */
int broker_drop_privileges(void);

/* Serve until SIGTERM or SIGINT: then terminate every session (SIGTERM,
 * SIGKILL after BROKER_KILL_DELAY_MS), remove the socket and return 0.
 * SIGCHLD, SIGTERM and SIGINT must be blocked by the caller (they are
 * read from a signalfd).  Returns -errno on a fatal error. */
int broker_serve(const struct level_config *level, int listen_fd, const char *socket_path);

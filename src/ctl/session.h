/* SPDX-License-Identifier: MIT */
/* A command or an interactive session in a level, from the core side. */
#pragma once

#include <stdbool.h>

#include "broker-client.h"
#include "level.h"

struct ctl_session {
        const struct level_config *level;
        char socket[JAIL_PATH_MAX];      /* the level's broker socket */
        int (*check_peer)(const struct broker_peer *peer, void *userdata);
        void *check_userdata;
        /* Interactive: the level gets a new pseudo-terminal (never the
         * caller's own), relayed by us; the last row of the real terminal
         * shows the level indicator (status-line.h). */
        bool tty;
};

/* Run argv (NULL: the user's shell) in the level; *ret_status: the
 * command's status (128+N when killed by signal N).  Returns 0, or -errno
 * after printing why the command could not run. */
int session_run(const struct ctl_session *s, char *const argv[], int *ret_status);

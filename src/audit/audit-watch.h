/* SPDX-License-Identifier: MIT */
/* rempart-audit watch-kernel: kernel integrity errors into the audit log
 * (see audit-kmsg.h for what counts), and boot-check: the log verified at
 * boot.  Part of the rempart-audit command, not of the library. */
#pragma once

#include <stdbool.h>

#define WATCH_DEFAULT_KMSG "/dev/kmsg"
#define WATCH_DEFAULT_STATE "/var"
#define WATCH_DEFAULT_CURSOR "/run/rempart-audit/kmsg.cursor"

struct watch_opts {
        const char *dir;          /* the audit directory */
        const char *kmsg;         /* /dev/kmsg, or a dump of it (one record per line) for tests */
        const char *state;        /* mount point of the state partition (its ext4 errors count) */
        const char *state_device; /* or its device name, as the kernel writes it ("vda6") */
        const char *cursor;       /* last recorded kmsg sequence number of this boot; NULL: none */
        bool once;                /* read what is there, then exit (no waiting) */
};

/* Returns the command's exit status: 0, 1 when a record could not be
 * written (--once), 2 when the kernel log cannot be read. */
int watch_kernel(const struct watch_opts *o);

/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char *program_invocation_short_name;

int log_full_errno(enum log_level lvl, int err, const char *fmt, ...) {
        static const char *const names[] = { "error", "warning", "info", "debug" };
        char msg[1024];
        va_list ap;
        int saved = errno;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        if (err != 0)
                (void) fprintf(stderr, "%s: %s: %s: %s\n", program_invocation_short_name,
                               names[lvl], msg, strerror(abs(err)));
        else
                (void) fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, names[lvl], msg);
        errno = saved;
        return err == 0 ? -EINVAL : -abs(err);
}

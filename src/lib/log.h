/* SPDX-License-Identifier: MIT */
/* Logging to stderr with a program prefix.  No global mutable state: the
 * prefix is the program's invocation name, read-only after start. */
#pragma once

#include "macro.h"

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Log a message; returns -abs(err) so callers can `return log_error_errno(r, ...)`. */
int log_full_errno(enum log_level lvl, int err, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) ((void) log_full_errno(LOG_LVL_ERR, 0, __VA_ARGS__))
#define log_warning(...) ((void) log_full_errno(LOG_LVL_WARN, 0, __VA_ARGS__))
#define log_info(...) ((void) log_full_errno(LOG_LVL_INFO, 0, __VA_ARGS__))
#define log_error_errno(e, ...) log_full_errno(LOG_LVL_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_LVL_WARN, (e), __VA_ARGS__)

/* SPDX-License-Identifier: MIT */
/* Strict parsers for values read from configuration and the command line.
 * Every function rejects trailing garbage, empty input and overflow. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

int parse_bool(const char *s, bool *ret);
/* Unsigned decimal integer in [0, max]. */
int parse_u64(const char *s, uint64_t max, uint64_t *ret);
/* Byte size with optional K/M/G/T suffix (binary multiples), or "max". */
int parse_size(const char *s, uint64_t *ret, bool *is_max);
/* Signed decimal in [min, max]. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret);
/* Split a whitespace-separated list; calls cb for every word (NUL-terminated
 * copy, at most 255 bytes).  Stops at the first negative return of cb. */
int split_words(const char *s, int (*cb)(const char *word, void *userdata), void *userdata);
/* True when s is an absolute, normalised path: starts with '/', no "//",
 * no "." or ".." components, no trailing '/', only printable ASCII. */
bool path_is_normalized_absolute(const char *s);
/* cgroup v2 cpu.max as written in profiles and level files: "QUOTA PERIOD"
 * in microseconds (period 1000-1000000, quota 1000-2^40), "NN%" of one CPU
 * (1-100000, period 100 ms) or "max" (quota UINT64_MAX, period 100 ms).
 * Returns 0, -EINVAL (not one of the forms), -EDOM (bad percentage) or
 * -ERANGE (QUOTA PERIOD out of range); *quota_us and *period_us are only
 * written on success. */
int parse_cpu_max(const char *s, uint64_t *quota_us, uint64_t *period_us);

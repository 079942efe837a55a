/* SPDX-License-Identifier: MIT */
/* Helpers shared by the files of the level module; not part of its API. */
#pragma once

#include <stdbool.h>

#include "level.h"

#define LEVEL_FILE_MAX_SIZE ((size_t) 256 * 1024)

/* Keys of the fixed sections, in the order of level_config.origins[]
 * (level_key_index()).  [service NAME] keys are not in this list. */
enum level_key {
        LK_LABEL,
        LK_COLOUR,
        LK_USERS,
        LK_SYSTEM,
        LK_DATA,
        LK_TMP_SIZE,
        LK_NET_MODE,
        LK_DEV_ALLOW,
        LK_MEMORY_MAX,
        LK_MEMORY_SWAP_MAX,
        LK_PIDS_MAX,
        LK_CPU_MAX,
        LK_CPU_WEIGHT,
        LK_VT,
        LK_COUNT
};

/* True when inner is outer or lies below it (both absolute, normalized). */
bool level_path_contains(const char *outer, const char *inner);

/* Valid UTF-8 with no control character (C0, DEL, C1); tab allowed when
 * allow_tab. */
bool level_text_printable(const char *s, bool allow_tab);

/* "red" ... "white" -> colour; 0 or -EINVAL. */
int level_colour_from_name(const char *s, enum level_colour *ret);

/* Resolve a user name or numeric uid as written in a level file into *u
 * (origin included).  Refuses uid 0, unknown users and bad syntax with an
 * error naming o.  Returns 0, -EINVAL or -ENOMEM. */
int level_resolve_user(const struct level_userdb *db, const char *word, const struct jail_origin *o,
                       struct level_user *u, struct jail_error *err);

/* Parse the already opened file fd (regular files only, at most
 * LEVEL_FILE_MAX_SIZE bytes) as level name; path is used in messages. */
int level_parse_fd(struct level_config *l, int fd, const char *name, const char *path,
                   const struct level_userdb *db, struct jail_error *err);

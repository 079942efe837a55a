/* SPDX-License-Identifier: MIT */
/* Kernel modules stage 1 needs, loaded with libkmod from the initramfs's own
 * /lib/modules/<release> (part of the signed UKI; the kernel additionally
 * enforces module signatures). */
#pragma once

#include <stddef.h>

/* Modules every Rempart boot needs; storage drivers the hardware needs come
 * from MODULES_EXTRA_FILE. */
#define MODULES_REQUIRED "dm_verity", "squashfs", "ext4"
/* Optional list, one module name per line, '#' comments; written by the
 * initramfs build. */
#define MODULES_EXTRA_FILE "/etc/rempart/initrd-modules"

/* Load each module (and its dependencies).  A module already loaded or built
 * into the kernel counts as loaded.  dir: module directory, NULL for
 * /lib/modules/`uname -r`.  On failure returns -errno and points *ret_failed
 * at the name that could not be loaded (one of names[]). */
int modules_load(const char *const *names, size_t n, const char *dir, const char **ret_failed);

/* Read MODULES_EXTRA_FILE-style content (at most 64 names of at most 63
 * bytes) into a NULL-terminated, malloc'd array of names.  A missing file is
 * an empty list. */
int modules_read_list(const char *path, char ***ret, size_t *ret_n);
void modules_free_list(char **list);

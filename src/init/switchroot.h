/* SPDX-License-Identifier: MIT */
/* Hand over to the real init. */
#pragma once

#include "layout.h"

/* Move /dev, /proc and /sys under sysroot, mount sysroot/dev/shm (noexec),
 * verify the whole layout, make sysroot the root, free the initramfs and
 * execute the first existing init of candidates[] (NULL-terminated).  Only
 * returns on failure (-errno, err filled). */
int switch_root_exec(const char *sysroot, const char *const *candidates, struct layout_error *err);

/* SPDX-License-Identifier: MIT */
/* dm-verity activation of the root through libcryptsetup. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"

struct verity_request {
        const char *name;        /* device-mapper name: /dev/mapper/<name> */
        const char *data_device; /* squashfs partition */
        const char *hash_device; /* superblock + hash tree at 0, FEC at fec_offset */
        uint64_t fec_offset;
        unsigned fec_roots;
        const uint8_t *root_hash; /* ROOT_HASH_SIZE bytes, from the signed command line */
};

struct verity_error {
        char msg[256];
};

/* Activate the root read-only with restart_on_corruption and FEC, after
 * proving the root hash right on a probe mapping without the restart flag
 * (otherwise a wrong hash would reboot the machine in a loop instead of
 * saying what is wrong).  On return 0, /dev/mapper/<name> exists, is active,
 * read-only, restarts on corruption and has not seen any. */
int verity_activate(const struct verity_request *req, struct verity_error *err);

/* Re-check a mapping: active, read-only, restart_on_corruption set, and no
 * corruption recorded by the kernel.  Returns 0, -EBADMSG when corruption was
 * seen, or -errno. */
int verity_check_active(const char *name, struct verity_error *err);

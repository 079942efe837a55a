/* SPDX-License-Identifier: MIT */
/* The sending side of a transfer: runs inside the source level, with the
 * user's own rights, and writes the stream (stream.h) of the files and
 * directories given to it.  The core does not trust it: everything it
 * checks here is checked again by the decoder.  It checks anyway, so that
 * a user learns at once why a transfer cannot be done, before anything
 * was sent.
 *
 * It never modifies the source.  What it refuses:
 *   - symbolic links, anywhere: in the given paths (every component is
 *     resolved with RESOLVE_NO_SYMLINKS) and in the trees below them
 *     (openat2() RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS with O_NOFOLLOW, one
 *     component at a time from the parent's descriptor), including a link
 *     swapped in while the transfer runs: the packer fails, it never
 *     follows it;
 *   - devices, fifos, sockets (never opened: their type is seen first);
 *   - regular files with more than one hard link;
 *   - names that are not valid transfer names (names.h);
 *   - two given paths with the same last component (both would be the
 *     same top-level name).
 * setuid, setgid and sticky bits are dropped, silently.
 *
 * Consistency: the trees are walked twice.  The first walk counts entries
 * and bytes for the header and fails before anything is written if
 * anything is refused.  The second one reopens every entry the same way,
 * checks it is still the same object (device, inode, type; for files also
 * size, modification and change times) and streams it.  A file is read
 * through its descriptor for exactly the size seen at open; if it grows,
 * shrinks or is modified while it is read, the packer stops with -ESTALE
 * before writing the trailer, so the receiver sees a truncated stream and
 * keeps nothing.  Entries added to a directory after the first walk are
 * not sent; entries removed make the transfer fail. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "stream.h"

/* Largest number of entries when no limits are given. */
#define XFER_PACK_MAX_FILES UINT64_C(10000000)

struct xfer_pack_options {
        /* Quotas known to the sender (NULL: XFER_PACK_MAX_FILES entries,
         * no byte limit): exceeding them fails before anything is sent. */
        const struct xfer_limits *limits;
        /* Called before each file's data is read (progress, cancel); a
         * negative return stops the transfer with that error.  May be NULL. */
        int (*on_file)(void *userdata, const char *name, uint64_t size);
        void *userdata;
};

/* Write the stream of paths[0..n_paths-1] to out_fd.  Relative paths are
 * resolved from base_fd (AT_FDCWD for the working directory); each path is
 * a regular file or a directory whose last component becomes a top-level
 * name of the transfer.  opts may be NULL.
 *
 * Returns 0, or -errno with a one-line reason in why (printable ASCII,
 * names escaped): -ELOOP (a symbolic link), -EPERM (a device, fifo,
 * socket or hard-linked file), -EINVAL (a name that cannot be sent, bad
 * arguments), -EDQUOT (over the given limits), -ESTALE (a file or
 * directory changed while being sent), -EPIPE (the receiver went away),
 * or another error of the file system.  On failure after the header was
 * written, the stream simply stops: it has no trailer. */
int xfer_pack(int out_fd, int base_fd, const char *const *paths, size_t n_paths,
              const struct xfer_pack_options *opts, char *why, size_t whylen);

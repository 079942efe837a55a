/* SPDX-License-Identifier: MIT */
/* The receiving side of a transfer: runs in the core's parser jail (no
 * network, no other level's files), reads the stream a level sent, which
 * it treats as hostile, and creates what it describes in a staging
 * directory of the target level.  The core then shows the manifest for
 * confirmation and moves the staging directory into place with
 * xfer_commit().
 *
 * Nothing is ever created by path from "/": directories are made with
 * mkdirat() in their parent's descriptor and opened with openat2()
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS; files are created with
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, and directories 0700 until the
 * end.  Each file gets its mode (permission bits only) and times once its
 * data is written; directories get theirs once the whole stream has been
 * checked, deepest first.  Before success is reported the data is on
 * disk: a small transfer (up to 16 files and 1 MiB) fsyncs each file and
 * directory; a larger one syncs the staging directory's file system once
 * (syncfs).
 *
 * On any error (malformed stream, quota, ENOSPC, EDQUOT, EIO...)
 * everything created in the staging directory is removed before
 * returning: the caller only removes the (empty) staging directory.  If
 * the unpacking process dies instead, the caller must remove the staging
 * directory with its contents (xfer_staging_clear()).
 *
 * The jail needs: read on the stream, write, mkdirat, openat, openat2,
 * fchmod, fchmodat, utimensat (futimens), close, fstat/newfstatat,
 * getdents64, lseek (rewinddir), unlinkat, fsync, syncfs, and the memory
 * allocation calls. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "stream.h"

struct xfer_manifest_entry {
        enum xfer_type type;
        char *name;
        uint32_t mode; /* 0..0777 */
        int64_t mtime_sec;
        uint32_t mtime_nsec;
        uint64_t size;                       /* 0 for directories */
        uint8_t sha256[XFER_SHA256_SIZE];    /* of the data, files only */
};

/* What arrived, in stream order (directories before their contents). */
struct xfer_manifest {
        struct xfer_manifest_entry *entries;
        size_t n_entries;
        uint64_t n_files, n_dirs, total_bytes;
        uint8_t stream_sha256[XFER_SHA256_SIZE]; /* the trailer's digest */
};

void xfer_manifest_free(struct xfer_manifest *m);
static inline void xfer_manifest_freep(struct xfer_manifest **m) {
        xfer_manifest_free(*m);
}

/* One line per entry, "D MODE - - NAME" or "F MODE SIZE SHA256 NAME"
 * (MODE in octal, four digits), then "total N files, M directories, B
 * bytes, stream SHA256".  Names are valid transfer names (names.h): no
 * control or invisible characters.  Returns 0 or -EIO. */
int xfer_manifest_write(const struct xfer_manifest *m, FILE *f);

/* Read the stream from in_fd to its end and create its entries in
 * staging_fd, which must be an empty directory (-ENOTEMPTY otherwise).
 * Returns 0 with *ret set (free with xfer_manifest_free()); or -errno with
 * a one-line reason in why, the staging directory emptied again:
 * -EBADMSG (malformed stream, including a truncated one), -EDQUOT (over
 * limits), or the file system's error (-ENOSPC, -EDQUOT, -EIO...). */
int xfer_unpack(int in_fd, int staging_fd, const struct xfer_limits *limits, struct xfer_manifest **ret,
                char *why, size_t whylen);

/* Remove everything inside the directory dirfd (not the directory
 * itself), never following symbolic links, making directories writable
 * as needed.  Returns 0 or the first -errno. */
int xfer_staging_clear(int dirfd);

/* The atomic arrival: rename the directory staging_name of
 * staging_parent_fd to dest_name in incoming_fd (for instance
 * Incoming/<source-level>/<transfer-name>) with renameat2(RENAME_NOREPLACE),
 * then fsync incoming_fd (opened O_RDONLY|O_DIRECTORY) so that the new
 * name is on disk.  Both must be on the same file system (-EXDEV
 * otherwise: create the staging directory next to Incoming).  Both names
 * must be single components.  Either the whole transfer appears under
 * dest_name or nothing does.  Returns 0; -EEXIST when dest_name exists
 * (nothing is replaced); -EINVAL for a bad name; another -errno from
 * renameat2(); or fsync()'s error, in which case the rename was done but
 * is not known to be durable. */
int xfer_commit(int staging_parent_fd, const char *staging_name, int incoming_fd, const char *dest_name);

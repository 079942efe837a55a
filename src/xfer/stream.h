/* SPDX-License-Identifier: MIT */
/* The transfer stream: how a level sends a tree of files to the core.
 *
 * The stream is written by rempart-xfer inside the source level (which the
 * core does not trust) and parsed by the core in a jail: the decoder
 * treats every byte as hostile.  All integers are little-endian.
 *
 *   header (24 bytes)
 *     u32 magic     0x46585052 ("RPXF" on the wire)
 *     u16 version   2
 *     u16 reserved  0
 *     u64 entries   number of entries that follow (directories + files)
 *     u64 bytes     sum of the sizes of all files
 *
 *   entry, `entries` times (27 bytes + name + data)
 *     u8  type      'D' (0x44) directory or 'F' (0x46) regular file; there
 *                   is no encoding for anything else (symbolic links,
 *                   devices, fifos, sockets, hard links)
 *     u32 mode      permission bits only: 0..0777 (no setuid, setgid, sticky)
 *     i64 mtime     seconds since the epoch (two's complement)
 *     u32 mtime_ns  0..999999999
 *     u64 size      file: bytes of data that follow; directory: 0
 *     u16 name_len  1..XFER_NAME_MAX
 *     name          name_len bytes, a valid name (names.h)
 *     data          `size` bytes, files only
 *
 *   trailer (49 bytes)
 *     u8  type      'Z' (0x5a)
 *     u64 entries   equal to the header's, and to the entries sent
 *     u64 bytes     equal to the header's, and to the data sent
 *     u8  sha256[32] the stream's digest (below)
 *
 *   and nothing after it.
 *
 * Digest: SHA-256 over every byte of the stream before the digest field
 * (header, entry heads, the trailer's first 17 bytes) except file data:
 * in place of each file's data, the SHA-256 of that data (32 bytes) is
 * fed in at the end of the data, also for an empty file.  The sequence
 * hashed is thus
 *
 *   header, head(1), [sha256(data(1)) if file], head(2), ..., trailer[0..16]
 *
 * which can be split back into its fields (a file's head is always
 * followed by exactly 32 bytes), so the digest still commits to every
 * byte of every file, through the file's own SHA-256.  Data is hashed
 * once, by each side: the per-file SHA-256 given to end_file (and shown in
 * the manifest) is the one the digest covers.  (Version 1 hashed the data
 * twice: into the digest and into the file's SHA-256.)
 *
 * Order: entries come in depth-first pre-order with the children of a
 * directory (and the top-level entries) sorted by byte-wise comparison of
 * their names (strcmp).  Every directory is thus sent before its contents,
 * and a duplicate or a child without its parent is seen by comparing an
 * entry with the previous one only: the decoder needs no table of names.
 *
 * The encoder and the decoder are pure (no I/O; they allocate their state
 * and use OpenSSL's SHA-256) and apply the same rules, so whatever the
 * encoder accepts the decoder accepts, and nothing else. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"

#define XFER_STREAM_MAGIC UINT32_C(0x46585052)
#define XFER_STREAM_VERSION 2
#define XFER_HEADER_SIZE 24
#define XFER_ENTRY_FIXED_SIZE 27                               /* entry head without the name */
#define XFER_ENTRY_HEAD_MAX (XFER_ENTRY_FIXED_SIZE + XFER_NAME_MAX) /* entry head with the longest name */
#define XFER_TRAILER_SIZE 49
#define XFER_SHA256_SIZE 32
#define XFER_MODE_MASK 07777U /* what st_mode permission fields may hold */
#define XFER_MODE_ALLOWED 0777U /* what is transferred (setuid/setgid/sticky dropped) */
#define XFER_ERROR_MAX 640    /* decoder/encoder messages, with an escaped name */

enum xfer_type {
        XFER_TYPE_DIR = 'D',
        XFER_TYPE_FILE = 'F',
};
#define XFER_TRAILER_TYPE 'Z'

/* Quotas of one transfer.  max_files counts every entry, directories
 * included (an empty directory costs an inode like an empty file);
 * max_bytes counts file data. */
struct xfer_limits {
        uint64_t max_files;
        uint64_t max_bytes;
};

/* One entry, as given to the encoder and by the decoder. */
struct xfer_entry {
        enum xfer_type type;
        const char *name; /* NUL-terminated in decoder events */
        size_t name_len;
        uint32_t mode;    /* 0..0777 */
        int64_t mtime_sec;
        uint32_t mtime_nsec;
        uint64_t size;    /* 0 for directories */
        /* set by the decoder only: */
        const char *base; /* last component of name */
        unsigned depth;   /* number of components, 1..XFER_DEPTH_MAX */
};

/* ---- encoder ---- */

struct xfer_encoder;

/* Start a stream that will hold n_entries entries and n_bytes bytes of
 * data: writes the header into header[XFER_HEADER_SIZE].  Returns 0,
 * -EINVAL or -ENOMEM. */
int xfer_encoder_new(uint64_t n_entries, uint64_t n_bytes, uint8_t header[XFER_HEADER_SIZE],
                     struct xfer_encoder **ret);
void xfer_encoder_free(struct xfer_encoder *e);

/* The head of the next entry (e->base/e->depth are ignored) into buf
 * (size >= 27 + name_len, XFER_ENTRY_HEAD_MAX always fits); *ret_len set.
 * Returns 0; -EINVAL (invalid name, mode, nanoseconds, a directory with a
 * size, the previous file's data incomplete, out of order, duplicate,
 * parent missing) or -ERANGE (more entries or bytes than declared); the
 * encoder is then failed (xfer_encoder_error()). */
int xfer_encoder_entry(struct xfer_encoder *enc, const struct xfer_entry *e, uint8_t *buf, size_t size,
                       size_t *ret_len);
/* Account for n bytes of the current file's data, which the caller writes
 * to the stream unchanged.  Returns 0 or -ERANGE (more than its size). */
int xfer_encoder_data(struct xfer_encoder *enc, const void *data, size_t n);
/* The trailer, once every declared entry and byte was given.  Returns 0 or
 * -EINVAL. */
int xfer_encoder_trailer(struct xfer_encoder *enc, uint8_t trailer[XFER_TRAILER_SIZE]);
const char *xfer_encoder_error(const struct xfer_encoder *enc);

/* ---- decoder ---- */

/* Events.  Each callback may be NULL; a negative return stops decoding
 * with that error.  begin_file is followed by file_data for the data (in
 * pieces of any size, none for an empty file) and end_file, which also
 * gives the SHA-256 of the file's data.  end is only called from
 * xfer_decoder_finish(), once the whole stream has been checked. */
struct xfer_callbacks {
        int (*begin_dir)(void *userdata, const struct xfer_entry *e);
        int (*begin_file)(void *userdata, const struct xfer_entry *e);
        int (*file_data)(void *userdata, const uint8_t *data, size_t n);
        int (*end_file)(void *userdata, const struct xfer_entry *e, const uint8_t sha256[XFER_SHA256_SIZE]);
        int (*end)(void *userdata, uint64_t n_entries, uint64_t n_bytes, const uint8_t sha256[XFER_SHA256_SIZE]);
};

struct xfer_decoder;

/* limits must not be NULL.  Returns 0, -EINVAL or -ENOMEM. */
int xfer_decoder_new(const struct xfer_limits *limits, const struct xfer_callbacks *cb, void *userdata,
                     struct xfer_decoder **ret);
void xfer_decoder_free(struct xfer_decoder *d);

/* Consume len bytes (any split of the stream is fine).  Returns 0, or the
 * error that stopped decoding: -EBADMSG (malformed stream, sizes or counts
 * that differ from what was declared, wrong digest, bytes after the
 * trailer), -EDQUOT (a quota exceeded: checked against the header's
 * declaration before any entry, and again as entries arrive) or a
 * callback's error.  Once failed, a decoder returns the same error. */
int xfer_decoder_feed(struct xfer_decoder *d, const void *buf, size_t len);
/* End of the stream: returns 0 after calling end when the stream was
 * complete, -EBADMSG when it was truncated, or the earlier error. */
int xfer_decoder_finish(struct xfer_decoder *d);
/* Why decoding failed (one line, printable ASCII, with the offset), or "". */
const char *xfer_decoder_error(const struct xfer_decoder *d);
/* Bytes consumed so far. */
uint64_t xfer_decoder_offset(const struct xfer_decoder *d);

/* Free helpers for _cleanup_(). */
static inline void xfer_encoder_freep(struct xfer_encoder **e) {
        xfer_encoder_free(*e);
}
static inline void xfer_decoder_freep(struct xfer_decoder **d) {
        xfer_decoder_free(*d);
}

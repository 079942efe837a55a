/* SPDX-License-Identifier: MIT */
/* The manifest as the core reads it back: the parser jail prints it
 * (xfer_manifest_write(), then "END"), the daemon parses it with
 * xfer_manifest_parse() and checks the staged tree against it with
 * xfer_manifest_check_tree() before showing or committing anything.  The
 * parser jail is ours but it handled hostile input: what it says is
 * checked again here, structurally (names, order, types, sizes, modes and
 * nothing more or less in the tree). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "unpack.h"

/* Largest manifest text accepted from the parser (100 000 entries with
 * long names fit easily; a parser that writes more is killed). */
#define XFER_MANIFEST_TEXT_MAX ((size_t) 64 * 1024 * 1024)

/* Parse the lines of xfer_manifest_write() ("D MODE - - NAME", "F MODE SIZE
 * SHA256 NAME", then "total N files, M directories, B bytes, stream
 * SHA256").  Names must be valid (names.h), in stream order (depth-first,
 * siblings sorted byte-wise, see xfer_path_order()), each with its parent
 * directory listed before it; the total line must match the entries.
 * Returns 0 with *ret set, or -EBADMSG with a reason (line number) in why. */
int xfer_manifest_parse(const char *text, size_t len, struct xfer_manifest **ret, char *why, size_t whylen);

/* Order of two names in a stream: <0, 0 or >0.  A directory comes before
 * its contents; siblings compare with strcmp(). */
int xfer_path_order(const char *a, const char *b);

/* Check that the tree in dirfd is exactly the manifest: every entry exists
 * with its type, mode and (files) size, reached without symbolic links or
 * mount points, files have one link, and the tree holds nothing else.
 * Returns 0, -EBADMSG with why, or -errno. */
int xfer_manifest_check_tree(int dirfd, const struct xfer_manifest *m, char *why, size_t whylen);

/* Read every file of the manifest in dirfd again and compare its size
 * and SHA-256 (before a confirmed transfer is committed: what the user
 * saw is what arrives).  Returns 0, -EBADMSG with why, or -errno. */
int xfer_manifest_check_hashes(int dirfd, const struct xfer_manifest *m, char *why, size_t whylen);

/* Lowercase hex of a SHA-256 (65 bytes with the NUL). */
void xfer_sha256_hex(const uint8_t sha[32], char out[65]);

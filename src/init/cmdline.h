/* SPDX-License-Identifier: MIT */
/* Strict parser of the rempart.* kernel command-line parameters.
 *
 * The command line is the trust anchor of stage 1: it is part of the signed
 * unified kernel image and carries the root hash.  Anything ambiguous in it
 * (a repeated or unknown rempart.* key, a malformed value) is refused rather
 * than guessed at.  Parameters without the "rempart." prefix are ignored: they
 * belong to the kernel or to systemd. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX_SIZE ((size_t) 64 * 1024)
#define UUID_STRING_LEN 36
#define ROOT_HASH_SIZE ((size_t) 32) /* sha256, the only algorithm accepted */
#define FEC_ROOTS_MIN 2
#define FEC_ROOTS_MAX 24
#define FEC_ROOTS_DEFAULT 2
#define VERITY_BLOCK_SIZE 4096

struct init_cmdline {
        char root_partuuid[UUID_STRING_LEN + 1];   /* rempart.root: verity data (squashfs) */
        char verity_partuuid[UUID_STRING_LEN + 1]; /* rempart.verity: hash tree + FEC */
        char state_partuuid[UUID_STRING_LEN + 1];  /* rempart.state: ext4, mounted on /var */
        uint8_t root_hash[ROOT_HASH_SIZE];         /* rempart.roothash */
        char slot;                                 /* rempart.slot: 'a' or 'b' */
        uint64_t fec_offset;                       /* rempart.fec_offset: bytes into the verity partition */
        unsigned fec_roots;                        /* rempart.fec_roots: 2..24, default 2 */
};

struct cmdline_error {
        char msg[192];
};

/* Parse a NUL-terminated kernel command line (as in /proc/cmdline) of at most
 * CMDLINE_MAX_SIZE bytes.  Returns 0 and fills *ret, or -EINVAL (-E2BIG when
 * too long) with err->msg naming the offending parameter. */
int cmdline_parse(const char *line, struct init_cmdline *ret, struct cmdline_error *err);

/* Lowercase hex of the root hash into buf (2 * ROOT_HASH_SIZE + 1 bytes). */
void cmdline_root_hash_hex(const struct init_cmdline *c, char buf[static 2 * ROOT_HASH_SIZE + 1]);

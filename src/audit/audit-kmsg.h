/* SPDX-License-Identifier: MIT */
/* Kernel messages that are integrity errors, for the audit log.
 *
 * rempart-audit watch-kernel reads /dev/kmsg and records the messages of
 * dm-verity (and its FEC), dm-integrity, dm-crypt's integrity checks, ext4
 * on the state partition and squashfs (the root) as INTEGRITY_ERROR.
 * Only records of the kernel facility count: the kernel gives every line a
 * process writes into /dev/kmsg a non-zero facility (LOG_USER unless the
 * writer names another), so a process cannot forge one of these.
 * Pure functions (no I/O): parsing and classification. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KMSG_RECORD_MAX 16384 /* bytes of one /dev/kmsg record we read */
#define KMSG_DEVICE_MAX 64

/* One /dev/kmsg record: "PRIO,SEQ,USEC,FLAG[,...];TEXT\n[ KEY=VALUE\n]...". */
struct kmsg_record {
        unsigned facility; /* PRIO >> 3: 0 = the kernel */
        unsigned level;    /* PRIO & 7: 0 emerg ... 7 debug */
        uint64_t seq;
        uint64_t usec;     /* CLOCK_MONOTONIC of the message */
        const char *text;  /* points into the parsed buffer; not NUL-terminated */
        size_t text_len;
};

/* Parse one record (the bytes of one read(2) of /dev/kmsg, or one line of
 * a dump of it).  Strict: decimal fields without sign or leading zeros,
 * the prefix within 2^10 facilities, a ';' before the text.  The text ends
 * at the first newline.  Returns 0 or -EBADMSG. */
int kmsg_parse(const char *buf, size_t len, struct kmsg_record *r);

struct kmsg_integrity {
        const char *subsystem; /* "dm-verity", "dm-verity-fec", "dm-integrity", "dm-crypt", "ext4", "squashfs" */
        const char *event;     /* "corrupted", "corrected", "uncorrectable", "checksum", "error", "remount-ro",
                                  "mounted-with-errors", "error-count", "journal-aborted" */
        char device[KMSG_DEVICE_MAX]; /* as the kernel names it ("254:1", "vda6"); "" when not given */
};

/* Is r an integrity error?  state_dev: the block device name of the state
 * partition ("vda6"); ext4 messages about other devices are not integrity
 * errors of this system (NULL: every ext4 device counts).  Returns true
 * and fills ev, or false. */
bool kmsg_integrity_classify(const struct kmsg_record *r, const char *state_dev, struct kmsg_integrity *ev);

/* SPDX-License-Identifier: MIT */
/* Parsing /dev/kmsg records and recognising integrity errors in them
 * (audit-kmsg.h).  The message texts are the kernel's (6.12):
 *   device-mapper: verity: DEV: data block N is corrupted          KERN_ERR
 *   device-mapper: verity: DEV: reached maximum errors              KERN_ERR
 *   device-mapper: verity-fec: DEV: FEC N: corrected K errors       KERN_WARNING
 *   device-mapper: verity-fec: DEV: FEC N: failed to correct...     KERN_ERR
 *   device-mapper: integrity: DEV: Checksum failed at sector 0x...  KERN_ERR
 *   device-mapper: crypt: DEV: INTEGRITY AEAD ERROR, sector N       KERN_ERR
 *   EXT4-fs error (device DEV): FUNC:LINE: ...                      KERN_CRIT
 *   EXT4-fs (DEV): Remounting filesystem read-only                  KERN_CRIT
 *   EXT4-fs (DEV): warning: mounting fs with errors, ...            KERN_WARNING
 *   EXT4-fs (DEV): error count since last fsck: N                   KERN_NOTICE
 *   Aborting journal on device DEV-N.                               KERN_ERR
 *   SQUASHFS error: ...                                              KERN_ERR */
#include "audit-kmsg.h"

#include <errno.h>
#include <string.h>

#define PRIO_MAX 8191 /* 1024 facilities of 8 levels */
#define LVL_ERR 3
#define LVL_WARNING 4
#define LVL_NOTICE 5

/* Decimal without sign or leading zero, at most max; advances *p. */
static int parse_dec(const char **p, const char *end, uint64_t max, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || *s < '0' || *s > '9')
                return -EBADMSG;
        if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
                return -EBADMSG;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                uint64_t d = (uint64_t) (*s - '0');
                if (v > (max - d) / 10)
                        return -EBADMSG;
                v = v * 10 + d;
        }
        *p = s;
        *ret = v;
        return 0;
}

int kmsg_parse(const char *buf, size_t len, struct kmsg_record *r) {
        const char *p = buf, *end = buf + len, *nl;
        uint64_t prio, seq, usec;

        if (!buf || !r || len == 0 || len > KMSG_RECORD_MAX)
                return -EBADMSG;
        if (parse_dec(&p, end, PRIO_MAX, &prio) < 0 || p >= end || *p++ != ',')
                return -EBADMSG;
        if (parse_dec(&p, end, UINT64_MAX, &seq) < 0 || p >= end || *p++ != ',')
                return -EBADMSG;
        if (parse_dec(&p, end, UINT64_MAX, &usec) < 0 || p >= end || *p++ != ',')
                return -EBADMSG;
        /* The flag ('-'; 'c' or '+' on continuation lines of old kernels),
         * then optional fields (",caller=T1") up to the ';'. */
        if (p >= end || *p == '\0' || !strchr("-c+", *p))
                return -EBADMSG;
        p++;
        if (p < end && *p == ',')
                for (p++; p < end && *p != ';'; p++)
                        if (*p == '\n' || *p == '\0')
                                return -EBADMSG;
        if (p >= end || *p++ != ';')
                return -EBADMSG;
        nl = memchr(p, '\n', (size_t) (end - p));
        if (memchr(p, '\0', (size_t) ((nl ? nl : end) - p)))
                return -EBADMSG;
        *r = (struct kmsg_record) {
                .facility = (unsigned) (prio >> 3),
                .level = (unsigned) (prio & 7),
                .seq = seq,
                .usec = usec,
                .text = p,
                .text_len = (size_t) ((nl ? nl : end) - p),
        };
        return 0;
}

static bool starts(const struct kmsg_record *r, const char *prefix, const char **rest) {
        size_t n = strlen(prefix);

        if (r->text_len < n || memcmp(r->text, prefix, n) != 0)
                return false;
        *rest = r->text + n;
        return true;
}

static bool contains(const struct kmsg_record *r, const char *needle) {
        return memmem(r->text, r->text_len, needle, strlen(needle)) != NULL;
}

/* Copy [s, e) as a device name when it looks like one, else leave "". */
static void set_device(struct kmsg_integrity *ev, const char *s, const char *e) {
        size_t n;

        ev->device[0] = '\0';
        if (!e)
                return;
        n = (size_t) (e - s);
        if (n == 0 || n >= sizeof ev->device)
                return;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
                      c == '.' || c == '_' || c == '-' || c == '+' || c == '!'))
                        return;
        }
        memcpy(ev->device, s, n);
        ev->device[n] = '\0';
}

/* Device-mapper messages: "DEV: ..." after the target's prefix. */
static void dm_device(const struct kmsg_record *r, const char *rest, struct kmsg_integrity *ev) {
        const char *end = r->text + r->text_len;
        const char *sep = memmem(rest, (size_t) (end - rest), ": ", 2);

        set_device(ev, rest, sep);
}

/* "DEV)" after "EXT4-fs (" or "EXT4-fs error (device ". */
static void paren_device(const struct kmsg_record *r, const char *rest, struct kmsg_integrity *ev) {
        const char *end = r->text + r->text_len;
        const char *close = memchr(rest, ')', (size_t) (end - rest));

        set_device(ev, rest, close);
}

static bool is_state(const struct kmsg_integrity *ev, const char *state_dev) {
        return !state_dev || strcmp(ev->device, state_dev) == 0;
}

bool kmsg_integrity_classify(const struct kmsg_record *r, const char *state_dev, struct kmsg_integrity *ev) {
        const char *rest;

        if (!r || !ev || r->facility != 0) /* not the kernel's: written by a process */
                return false;
        memset(ev, 0, sizeof *ev);

        if (starts(r, "device-mapper: verity: ", &rest) && r->level <= LVL_WARNING) {
                ev->subsystem = "dm-verity";
                ev->event = contains(r, " is corrupted") || contains(r, "reached maximum errors") ? "corrupted"
                                                                                                   : "error";
                dm_device(r, rest, ev);
                return true;
        }
        if (starts(r, "device-mapper: verity-fec: ", &rest) && r->level <= LVL_WARNING) {
                ev->subsystem = "dm-verity-fec";
                ev->event = contains(r, ": corrected ")         ? "corrected"
                            : contains(r, ": failed to correct") ? "uncorrectable"
                                                                  : "error";
                dm_device(r, rest, ev);
                return true;
        }
        if (starts(r, "device-mapper: integrity: ", &rest) && r->level <= LVL_ERR) {
                ev->subsystem = "dm-integrity";
                ev->event = contains(r, "Checksum failed") ? "checksum" : "error";
                dm_device(r, rest, ev);
                return true;
        }
        if (starts(r, "device-mapper: crypt: ", &rest) && r->level <= LVL_ERR && contains(r, "INTEGRITY")) {
                ev->subsystem = "dm-crypt";
                ev->event = "checksum";
                dm_device(r, rest, ev);
                return true;
        }
        if (starts(r, "EXT4-fs error (device ", &rest) && r->level <= LVL_ERR) {
                ev->subsystem = "ext4";
                ev->event = "error";
                paren_device(r, rest, ev);
                return is_state(ev, state_dev);
        }
        if (starts(r, "EXT4-fs (", &rest)) {
                ev->subsystem = "ext4";
                if (contains(r, "): Remounting filesystem read-only") && r->level <= LVL_ERR)
                        ev->event = "remount-ro";
                else if (contains(r, "): warning: mounting fs with errors") && r->level <= LVL_WARNING)
                        ev->event = "mounted-with-errors";
                else if (contains(r, "): error count since last fsck:") && r->level <= LVL_NOTICE)
                        ev->event = "error-count";
                else
                        return false;
                paren_device(r, rest, ev);
                return is_state(ev, state_dev);
        }
        if (starts(r, "Aborting journal on device ", &rest) && r->level <= LVL_ERR) {
                /* "DEV-INO." */
                const char *end = r->text + r->text_len, *dash = NULL;
                for (const char *q = rest; q < end; q++)
                        if (*q == '-')
                                dash = q;
                ev->subsystem = "jbd2";
                ev->event = "journal-aborted";
                set_device(ev, rest, dash);
                return is_state(ev, state_dev);
        }
        if (starts(r, "SQUASHFS error: ", &rest) && r->level <= LVL_ERR) {
                ev->subsystem = "squashfs";
                ev->event = "error";
                return true;
        }
        return false;
}

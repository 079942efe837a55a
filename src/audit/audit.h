/* SPDX-License-Identifier: MIT */
/* librempart-audit: the tamper-evident audit log of Rempart.
 *
 * One directory holds three files:
 *   audit.log   one record per line, hash-chained (0640, the directory's group)
 *   audit.head  seq and hash of the last record, under an HMAC (0640)
 *   audit.key   the 32-byte HMAC key (0400, root)
 * Records are appended under an exclusive flock(2) of the directory, by
 * any number of processes; each append is one write(2) followed by
 * fsync(2) and an atomic replacement of audit.head.  Format, anchors,
 * crash recovery and the trust boundary are described in README.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_DEFAULT_DIR "/var/lib/rempart/audit"
#define AUDIT_LOG_FILE "audit.log"
#define AUDIT_HEAD_FILE "audit.head"
#define AUDIT_KEY_FILE "audit.key"

#define AUDIT_KEY_SIZE 32
#define AUDIT_RECORD_MAX 16384 /* bytes of a record line, newline included */
#define AUDIT_FIELDS_MAX 128   /* key=value fields of one record */
#define AUDIT_KEY_NAME_MAX 32  /* bytes of a field name */
#define AUDIT_ANCHOR_EVERY_DEFAULT 64
#define AUDIT_ANCHOR_EVERY_MAX 100000

enum audit_type {
        /* written by the library only */
        AUDIT_HEADER,   /* record 0: format version, log id, key id, anchor interval */
        AUDIT_ANCHOR,   /* HMAC over (log id, seq, previous hash) */
        AUDIT_RECOVERY, /* a writer found and sealed the trace of a crash */
        /* decisions of the transfer service */
        AUDIT_XFER_ALLOWED,
        AUDIT_XFER_DENIED,
        AUDIT_XFER_CONFIRMED,
        AUDIT_XFER_EXPIRED,
        AUDIT_XFER_FAILED,
        /* other security events */
        AUDIT_JAIL_REFUSED,
        AUDIT_LEVEL_RESTART,
        AUDIT_INTEGRITY_ERROR,
        /* more decisions of the transfer service */
        AUDIT_XFER_HELD,            /* received, waiting for a confirmation */
        AUDIT_XFER_CONFIRM_REFUSED, /* a confirmation asked from where it may not be */
        _AUDIT_TYPE_MAX,
};

/* "XFER_ALLOWED"...; NULL when out of range. */
const char *audit_type_to_string(enum audit_type t);
/* Exact, case-sensitive name -> type; -EINVAL when unknown. */
int audit_type_from_string(const char *s, enum audit_type *ret);
/* True for the types audit_append() accepts (not HEADER/ANCHOR/RECOVERY). */
bool audit_type_is_event(enum audit_type t);

/* One key=value field.  Keys: [a-z][a-z0-9_]*, at most AUDIT_KEY_NAME_MAX
 * bytes, not "prev" or "hash".  Values: any bytes but NUL (escaped in the
 * file).  A key may repeat (e.g. one name/size/sha256 triple per file). */
struct audit_field {
        const char *key;
        const char *value;
};

/* Recommended keys, so that every component writes the same ones. */
#define AUDIT_K_USER "user"           /* name of the requesting user */
#define AUDIT_K_UID "uid"
#define AUDIT_K_SRC_LEVEL "src_level"
#define AUDIT_K_DST_LEVEL "dst_level"
#define AUDIT_K_OP "op"
#define AUDIT_K_NAME "name"           /* one per file, followed by its size and sha256 */
#define AUDIT_K_SIZE "size"
#define AUDIT_K_SHA256 "sha256"
#define AUDIT_K_CONFIRMER "confirmer"
#define AUDIT_K_REASON "reason"
#define AUDIT_K_LEVEL "level"

struct audit_log;

enum {
        /* First use: when none of log, head and key exists, create the
         * directory (0750) if needed, the key and a new log.  A key without
         * log and head is refused: it means the log was deleted. */
        AUDIT_OPEN_CREATE = 1 << 0,
        /* Start a new log (administrator's decision, rempart-audit init):
         * uses the existing key or creates one; -EEXIST when a log or head
         * file exists. */
        AUDIT_OPEN_INIT = 1 << 1,
};

/* Open the log of dir for appending.  The directory must belong to the
 * caller's effective uid and not be writable by group or others.  The log
 * must end where audit.head says (seen under the lock); the two traces a
 * crashed writer can leave (a partial last line, a head file one record
 * behind) are sealed with a RECOVERY record; anything else is -EBADMSG
 * (run rempart-audit verify).  anchor_every (0: default) is only used when
 * a log is created.  Returns 0 or -errno. */
int audit_open(const char *dir, unsigned flags, unsigned anchor_every, struct audit_log **ret);

/* Append one event record (audit_type_is_event()) with n fields; adds a
 * periodic ANCHOR when due.  Durable on return (fsync'ed).  A caller that
 * makes a security decision must not act on it when this fails.  (A
 * failure after the record's own write, e.g. while replacing the head
 * file, may leave the record in the log: the next writer seals it as a
 * head-behind recovery.  So a refused action is worth its own record.)
 * Returns the record's sequence number (>= 0) or -errno: -EINVAL for a
 * bad type or field, -E2BIG when the record would exceed AUDIT_RECORD_MAX,
 * -EBADMSG when the log no longer ends where the head file says. */
int64_t audit_append(struct audit_log *log, enum audit_type type, const struct audit_field *fields, size_t n);

/* Write a closing ANCHOR (unless the last record is one) and free the log.
 * Returns 0 or -errno of the anchor; the log is freed in every case. */
int audit_close(struct audit_log *log);
/* Free without writing anything (error paths; usable as a cleanup). */
void audit_log_free(struct audit_log *log);
static inline void audit_log_freep(struct audit_log **l) {
        audit_log_free(*l);
}

/* Load the key: a regular file of exactly AUDIT_KEY_SIZE bytes, not
 * accessible to group or others.  Returns 0 or -errno (-EPERM for bad
 * permissions, -EBADMSG for a bad size). */
int audit_key_load(const char *path, uint8_t key[AUDIT_KEY_SIZE]);

/* ---- verification ---- */

enum audit_problem_kind {
        AUDIT_PROBLEM_MALFORMED,  /* a line that is not a record */
        AUDIT_PROBLEM_MODIFIED,   /* text does not match its hash, or the chain breaks */
        AUDIT_PROBLEM_REMOVED,    /* gap in sequence numbers */
        AUDIT_PROBLEM_REORDERED,  /* sequence numbers out of order, or duplicated */
        AUDIT_PROBLEM_TRUNCATED,  /* partial last line, or the log ends before the head */
        AUDIT_PROBLEM_BAD_ANCHOR, /* wrong MAC, or too many records without an anchor */
        AUDIT_PROBLEM_BAD_HEAD,   /* head file missing, malformed, wrong MAC or not matching */
        AUDIT_PROBLEM_BAD_HEADER, /* first record, log id or key id wrong */
        _AUDIT_PROBLEM_MAX,
};

const char *audit_problem_kind_to_string(enum audit_problem_kind k);

struct audit_problem {
        enum audit_problem_kind kind;
        uint64_t line;   /* 1-based line of audit.log; 0: about the head file */
        uint64_t offset; /* byte offset of that line */
        char msg[320];
};

struct audit_verify_result {
        uint64_t lines;      /* lines read */
        uint64_t records;    /* records (every type) */
        uint64_t anchors;
        uint64_t recoveries; /* RECOVERY records (crash traces sealed by a writer) */
        uint64_t last_seq;
        uint64_t problems;
        bool macs_checked;   /* false when verifying without the key */
};

/* Called for every problem, in file order; the first one is the one to
 * believe (later ones may be consequences).  A negative return stops the
 * verification, and audit_verify() returns it. */
typedef int (*audit_problem_cb)(const struct audit_problem *p, void *userdata);

/* Verify dir's log against its head file.  key NULL: chain and structure
 * only (anyone can recompute a SHA-256 chain: no protection against a
 * rewrite).  Reads a consistent snapshot (size of the log and head file
 * taken under a shared lock), so concurrent appends are harmless.
 * Returns 0 when verification ran (result->problems says the outcome),
 * -ENOENT when dir has neither log nor head, other -errno on I/O errors. */
int audit_verify(const char *dir, const uint8_t *key, audit_problem_cb cb, void *userdata,
                 struct audit_verify_result *result);

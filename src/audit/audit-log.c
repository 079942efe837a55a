/* SPDX-License-Identifier: MIT */
/* The writer.  Every operation runs under an exclusive flock(2) of the
 * audit directory and starts from the files, not from memory: it reads the
 * head file (checking its MAC) and the end of the log, and appends only if
 * the log ends exactly where the head says.  So any number of processes
 * may hold the log open, and a writer never builds on records it has not
 * seen.  Per record: one write(2) with O_APPEND, fsync(2), then the head
 * file is replaced (temporary file, fsync, rename, fsync of the directory).
 *
 * A writer that dies can leave two traces, which the next one seals with a
 * RECOVERY record (and an ANCHOR) instead of refusing to work:
 *   - a partial last line (killed inside write(2), or a crash before the
 *     data reached the disk): sealed by a newline and a RECOVERY record that
 *     gives the bad bytes' offset, length and SHA-256;
 *   - a head file one record behind (crash between the fsync of the log
 *     and the rename of the head): accepted only when that record's MAC is
 *     valid, i.e. it was written by a holder of the key.
 * Anything else (a log shorter than the head, a last record that differs
 * from the head's, a head with a wrong MAC...) is -EBADMSG: tampering or
 * damage that only an administrator may decide about (rempart-audit
 * verify, then init for a new log). */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit-internal.h"
#include "fileio.h"
#include "log.h"
#include "macro.h"

#define HEAD_TMP AUDIT_HEAD_FILE ".tmp"
#define KEY_TMP AUDIT_KEY_FILE ".tmp"
/* The end of the log a writer reads: a partial line and the complete
 * record before it, each shorter than AUDIT_RECORD_MAX. */
#define TAIL_MAX ((size_t) 2 * AUDIT_RECORD_MAX)

struct audit_log {
        int dir_fd, log_fd;
        gid_t gid; /* the directory's: the audit role's group */
        uint8_t key[AUDIT_KEY_SIZE];
        uint8_t log_id[AUDIT_LOG_ID_SIZE];
        unsigned anchor_every;
        struct audit_head head; /* valid under the lock, after sync_tail() */
        struct audit_record rec;
        char buf[AUDIT_RECORD_MAX + 1];
        char tail[TAIL_MAX + 1];
};

enum recovery { RECOVERY_NONE, RECOVERY_PARTIAL, RECOVERY_HEAD_BEHIND };

struct tail_state {
        enum recovery recovery;
        uint64_t bad_offset, bad_bytes;
        uint8_t bad_sha256[AUDIT_HASH_SIZE];
        uint64_t old_head_seq;
};

void audit_log_free(struct audit_log *log) {
        if (!log)
                return;
        closep(&log->log_fd);
        closep(&log->dir_fd);
        OPENSSL_cleanse(log->key, sizeof log->key);
        free(log);
}

/* ---- locking and small file helpers ---- */

static int lock_dir(int dir_fd, int op) {
        while (flock(dir_fd, op) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return 0;
}

static void unlock_dir(int dir_fd) {
        (void) flock(dir_fd, LOCK_UN); /* nothing to do on failure: closing the fd releases it too */
}

static int exists_at(int dir_fd, const char *name) {
        struct stat st;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return 1;
}

/* Create dir_fd/name (fresh, O_EXCL) with the given mode, whatever the
 * umask, and group gid ((gid_t) -1: unchanged).  oflags: access mode and
 * extra flags. */
static int create_file(struct audit_log *log, const char *name, mode_t mode, gid_t gid, int oflags) {
        _cleanup_close_ int fd = -1;

        fd = openat(log->dir_fd, name, O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | oflags, mode);
        if (fd < 0)
                return negative_errno();
        if ((gid != (gid_t) -1 && fchown(fd, (uid_t) -1, gid) < 0) || fchmod(fd, mode) < 0) {
                int r = negative_errno();
                (void) unlinkat(log->dir_fd, name, 0); /* ours, created just above */
                return r;
        }
        return take_fd(&fd);
}

/* Write a small file atomically: temporary file, fsync, rename, fsync of
 * the directory.  noreplace: fail with -EEXIST rather than replace. */
static int replace_file(struct audit_log *log, const char *tmp, const char *name, mode_t mode, gid_t gid,
                        const void *data, size_t len, bool noreplace) {
        _cleanup_close_ int fd = -1;
        int r;

        if (unlinkat(log->dir_fd, tmp, 0) < 0 && errno != ENOENT)
                return negative_errno();
        fd = create_file(log, tmp, mode, gid, O_WRONLY);
        if (fd < 0)
                return fd;
        r = write_all(fd, data, len);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && renameat2(log->dir_fd, tmp, log->dir_fd, name, noreplace ? RENAME_NOREPLACE : 0) < 0)
                r = negative_errno();
        if (r >= 0 && fsync(log->dir_fd) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlinkat(log->dir_fd, tmp, 0); /* best effort; the next writer removes it too */
        return r;
}

static int write_head(struct audit_log *log, uint64_t seq, uint64_t anchor_seq, const uint8_t hash[AUDIT_HASH_SIZE]) {
        struct audit_head h;
        char text[AUDIT_HEAD_MAX];
        int r, n;

        memcpy(h.log_id, log->log_id, AUDIT_LOG_ID_SIZE);
        h.seq = seq;
        h.anchor_seq = anchor_seq;
        memcpy(h.hash, hash, AUDIT_HASH_SIZE);
        r = audit_head_mac(log->key, h.log_id, seq, anchor_seq, hash, h.mac);
        if (r < 0)
                return r;
        n = audit_head_format(&h, text, sizeof text);
        if (n < 0)
                return n;
        r = replace_file(log, HEAD_TMP, AUDIT_HEAD_FILE, 0640, log->gid, text, (size_t) n, false);
        if (r < 0)
                return r;
        log->head = h;
        return 0;
}

static int read_head(struct audit_log *log, struct audit_head *h) {
        _cleanup_close_ int fd = -1;
        char text[AUDIT_HEAD_MAX + 1];
        ssize_t n;

        fd = openat(log->dir_fd, AUDIT_HEAD_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        n = read(fd, text, sizeof text);
        if (n < 0)
                return negative_errno();
        if (audit_head_parse(text, (size_t) n, h) < 0 || audit_head_check(h, log->key) < 0 ||
            memcmp(h->log_id, log->log_id, AUDIT_LOG_ID_SIZE) != 0)
                return log_error_errno(-EBADMSG, "%s is malformed, has a wrong MAC or belongs to another log",
                                       AUDIT_HEAD_FILE);
        return 0;
}

/* ---- records ---- */

/* Parse a complete line and check its hash (and MAC when check_mac). */
static int parse_checked(struct audit_log *log, const char *line, size_t len, bool check_mac) {
        uint8_t h[AUDIT_HASH_SIZE], mac[AUDIT_HASH_SIZE];
        int r;

        if (audit_record_parse(line, len, &log->rec, NULL) < 0)
                return -EBADMSG;
        r = audit_sha256(line, log->rec.hashed_len, h);
        if (r < 0)
                return r;
        if (memcmp(h, log->rec.hash, AUDIT_HASH_SIZE) != 0)
                return -EBADMSG;
        if (check_mac) {
                r = audit_record_mac(log->key, log->log_id, log->rec.seq, h, mac);
                if (r < 0)
                        return r;
                if (!audit_mac_equal(mac, log->rec.mac))
                        return -EBADMSG;
        }
        return 0;
}

/* Build the record following log->head and append it, prefixed with
 * prefix_len bytes of prefix (the newline that closes a partial line). */
static int append_locked(struct audit_log *log, enum audit_type type, const struct audit_field *fields, size_t n,
                         const char *prefix, size_t prefix_len) {
        char now[AUDIT_TIME_LEN + 1];
        uint8_t hash[AUDIT_HASH_SIZE];
        uint64_t seq = log->head.seq + 1;
        int len, r;

        if (log->head.seq >= INT64_MAX)
                return -EOVERFLOW;
        r = audit_format_time(now);
        if (r < 0)
                return r;
        memcpy(log->buf, prefix, prefix_len);
        len = audit_record_format_body(log->buf + prefix_len, sizeof log->buf - prefix_len, seq, now, type, fields, n,
                                       log->head.hash);
        if (len < 0)
                return len;
        len = audit_record_seal(log->buf + prefix_len, sizeof log->buf - prefix_len, (size_t) len, log->key,
                                log->log_id, seq, hash);
        if (len < 0)
                return len;
        /* One write(2): with O_APPEND the record lands after everything
         * else, in one piece unless the system dies during the call. */
        r = write_all(log->log_fd, log->buf, prefix_len + (size_t) len);
        if (r >= 0 && fsync(log->log_fd) < 0)
                r = negative_errno();
        if (r < 0)
                return r;
        return write_head(log, seq, type == AUDIT_ANCHOR ? seq : log->head.anchor_seq, hash);
}

static int append_anchor(struct audit_log *log, const char *reason) {
        const struct audit_field f[] = { { AUDIT_K_REASON, reason } };
        return append_locked(log, AUDIT_ANCHOR, f, ELEMENTSOF(f), "", 0);
}

/* ---- reading the end of the log ---- */

/* Compare the end of the log with the head file.  On success log->head is
 * the head and st says whether a crash trace must be sealed. */
static int sync_tail(struct audit_log *log, struct tail_state *st) {
        struct stat a, b;
        uint64_t size, off;
        size_t n, end, start;
        ssize_t k;
        int r;

        memset(st, 0, sizeof *st);
        /* Still the file named audit.log?  (Renamed away, replaced.) */
        if (fstat(log->log_fd, &a) < 0)
                return negative_errno();
        if (fstatat(log->dir_fd, AUDIT_LOG_FILE, &b, AT_SYMLINK_NOFOLLOW) < 0)
                return log_error_errno(negative_errno(), "%s disappeared", AUDIT_LOG_FILE);
        if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return log_error_errno(-ESTALE, "%s was replaced by another file", AUDIT_LOG_FILE);
        r = read_head(log, &log->head);
        if (r == -ENOENT)
                return log_error_errno(-EBADMSG, "%s is missing", AUDIT_HEAD_FILE);
        if (r < 0)
                return r;

        size = (uint64_t) a.st_size;
        off = size > TAIL_MAX ? size - TAIL_MAX : 0;
        n = (size_t) (size - off);
        k = pread(log->log_fd, log->tail, n, (off_t) off);
        if (k < 0)
                return negative_errno();
        if ((size_t) k != n)
                return -EIO;
        if (n == 0)
                return log_error_errno(-EBADMSG, "%s is empty", AUDIT_LOG_FILE);

        /* end: length of the complete lines; [end, n) is a partial line. */
        end = n;
        if (log->tail[n - 1] != '\n') {
                const char *nl = memrchr(log->tail, '\n', n);
                end = nl ? (size_t) (nl - log->tail) + 1 : 0;
                if (end == 0 || n - end >= AUDIT_RECORD_MAX)
                        return log_error_errno(-EBADMSG, "%s ends with garbage", AUDIT_LOG_FILE);
                st->recovery = RECOVERY_PARTIAL;
                st->bad_offset = off + end;
                st->bad_bytes = n - end;
                r = audit_sha256(log->tail + end, n - end, st->bad_sha256);
                if (r < 0)
                        return r;
        }
        /* the last complete line */
        {
                const char *nl = end >= 2 ? memrchr(log->tail, '\n', end - 1) : NULL;
                start = nl ? (size_t) (nl - log->tail) + 1 : 0;
                if (start == 0 && off > 0)
                        return log_error_errno(-EBADMSG, "%s ends with an overlong line", AUDIT_LOG_FILE);
        }
        if (end - start < 2)
                return log_error_errno(-EBADMSG, "%s ends with an empty line", AUDIT_LOG_FILE);
        r = parse_checked(log, log->tail + start, end - start - 1, true);
        if (r == -EBADMSG)
                return log_error_errno(r, "the last record of %s is damaged", AUDIT_LOG_FILE);
        if (r < 0)
                return r;
        if (log->rec.seq == log->head.seq && memcmp(log->rec.hash, log->head.hash, AUDIT_HASH_SIZE) == 0)
                return 0;
        if (st->recovery == RECOVERY_NONE && log->rec.seq == log->head.seq + 1 &&
            memcmp(log->rec.prev, log->head.hash, AUDIT_HASH_SIZE) == 0) {
                /* parse_checked() checked its MAC: ours, not injected. */
                st->recovery = RECOVERY_HEAD_BEHIND;
                st->old_head_seq = log->head.seq;
                log->head.seq = log->rec.seq;
                memcpy(log->head.hash, log->rec.hash, AUDIT_HASH_SIZE);
                if (log->rec.type == AUDIT_ANCHOR)
                        log->head.anchor_seq = log->rec.seq;
                return 0;
        }
        return log_error_errno(-EBADMSG,
                               "%s ends with record %llu, but %s names record %llu: truncated, extended or modified",
                               AUDIT_LOG_FILE, (unsigned long long) log->rec.seq, AUDIT_HEAD_FILE,
                               (unsigned long long) log->head.seq);
}

/* sync_tail(), then seal a crash trace and write an anchor that is due. */
static int sync_and_repair(struct audit_log *log) {
        struct tail_state st;
        int r = sync_tail(log, &st);

        if (r < 0)
                return r;
        if (st.recovery == RECOVERY_PARTIAL) {
                char off[24], bytes[24], sha[2 * AUDIT_HASH_SIZE + 1];
                const struct audit_field f[] = {
                        { AUDIT_K_REASON, "partial-record" },
                        { "bad_offset", off },
                        { "bad_bytes", bytes },
                        { "bad_sha256", sha },
                };
                (void) snprintf(off, sizeof off, "%llu", (unsigned long long) st.bad_offset);
                (void) snprintf(bytes, sizeof bytes, "%llu", (unsigned long long) st.bad_bytes);
                audit_hex(st.bad_sha256, AUDIT_HASH_SIZE, sha);
                log_warning("%s ends with a partial record (%llu bytes at offset %llu, a writer died): sealing it",
                            AUDIT_LOG_FILE, (unsigned long long) st.bad_bytes, (unsigned long long) st.bad_offset);
                r = append_locked(log, AUDIT_RECOVERY, f, ELEMENTSOF(f), "\n", 1);
        } else if (st.recovery == RECOVERY_HEAD_BEHIND) {
                char seq[24];
                const struct audit_field f[] = {
                        { AUDIT_K_REASON, "head-behind" },
                        { "head_seq", seq },
                };
                (void) snprintf(seq, sizeof seq, "%llu", (unsigned long long) st.old_head_seq);
                log_warning("%s is one record behind %s (a writer died): sealing it", AUDIT_HEAD_FILE,
                            AUDIT_LOG_FILE);
                r = append_locked(log, AUDIT_RECOVERY, f, ELEMENTSOF(f), "", 0);
        }
        if (r < 0)
                return r;
        if (st.recovery != RECOVERY_NONE)
                return append_anchor(log, "recovery");
        /* a writer died between a record and its periodic anchor */
        if (log->head.seq - log->head.anchor_seq >= log->anchor_every)
                return append_anchor(log, "periodic");
        return 0;
}

/* ---- creation and opening ---- */

static int parse_anchor_every(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        if (!s || s[0] < '1' || s[0] > '9')
                return -EBADMSG;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > AUDIT_ANCHOR_EVERY_MAX)
                return -EBADMSG;
        *ret = (unsigned) v;
        return 0;
}

/* Read record 0 and take the log id and anchor interval from it. */
static int load_header(struct audit_log *log) {
        uint8_t genesis[AUDIT_HASH_SIZE], key_id[AUDIT_KEY_ID_SIZE], want[AUDIT_KEY_ID_SIZE];
        const char *nl, *s;
        ssize_t k;
        int r;

        k = pread(log->log_fd, log->buf, AUDIT_RECORD_MAX, 0);
        if (k < 0)
                return negative_errno();
        nl = memchr(log->buf, '\n', (size_t) k);
        if (!nl)
                return log_error_errno(-EBADMSG, "%s does not start with a record", AUDIT_LOG_FILE);
        r = parse_checked(log, log->buf, (size_t) (nl - log->buf), false);
        if (r < 0 || log->rec.seq != 0 || log->rec.type != AUDIT_HEADER)
                return log_error_errno(-EBADMSG, "%s does not start with a valid HEADER record", AUDIT_LOG_FILE);
        s = audit_record_get(&log->rec, "log");
        if (!s || audit_unhex(s, strlen(s), log->log_id, AUDIT_LOG_ID_SIZE) < 0 ||
            parse_anchor_every(audit_record_get(&log->rec, "anchor_every"), &log->anchor_every) < 0)
                return log_error_errno(-EBADMSG, "the HEADER record of %s is malformed", AUDIT_LOG_FILE);
        s = audit_record_get(&log->rec, "key_id");
        r = audit_key_id(log->key, want);
        if (r < 0)
                return r;
        if (!s || audit_unhex(s, strlen(s), key_id, AUDIT_KEY_ID_SIZE) < 0 || memcmp(key_id, want, sizeof want) != 0)
                return log_error_errno(-EKEYREJECTED, "%s was not made with this key", AUDIT_LOG_FILE);
        r = audit_genesis(log->log_id, genesis);
        if (r < 0)
                return r;
        if (memcmp(genesis, log->rec.prev, AUDIT_HASH_SIZE) != 0)
                return log_error_errno(-EBADMSG, "the HEADER record of %s does not commit to its log id",
                                       AUDIT_LOG_FILE);
        return 0;
}

static int create_key(struct audit_log *log) {
        int r = audit_random(log->key, sizeof log->key);
        if (r < 0)
                return r;
        return replace_file(log, KEY_TMP, AUDIT_KEY_FILE, 0400, (gid_t) -1, log->key, sizeof log->key, true);
}

/* A new log: HEADER (seq 0) and ANCHOR (seq 1) in one write, then the head. */
static int create_log(struct audit_log *log, unsigned anchor_every) {
        char id[2 * AUDIT_LOG_ID_SIZE + 1], key_id[2 * AUDIT_KEY_ID_SIZE + 1], every[16], now[AUDIT_TIME_LEN + 1];
        uint8_t genesis[AUDIT_HASH_SIZE], h0[AUDIT_HASH_SIZE], h1[AUDIT_HASH_SIZE], kid[AUDIT_KEY_ID_SIZE];
        const struct audit_field hf[] = {
                { "version", "1" },
                { "log", id },
                { "key_id", key_id },
                { "anchor_every", every },
        };
        const struct audit_field af[] = { { AUDIT_K_REASON, "create" } };
        int r, len0, len1;

        log->anchor_every = anchor_every;
        r = audit_random(log->log_id, sizeof log->log_id);
        if (r >= 0)
                r = audit_key_id(log->key, kid);
        if (r >= 0)
                r = audit_genesis(log->log_id, genesis);
        if (r >= 0)
                r = audit_format_time(now);
        if (r < 0)
                return r;
        audit_hex(log->log_id, AUDIT_LOG_ID_SIZE, id);
        audit_hex(kid, AUDIT_KEY_ID_SIZE, key_id);
        (void) snprintf(every, sizeof every, "%u", anchor_every);

        len0 = audit_record_format_body(log->buf, sizeof log->buf, 0, now, AUDIT_HEADER, hf, ELEMENTSOF(hf), genesis);
        if (len0 >= 0)
                len0 = audit_record_seal(log->buf, sizeof log->buf, (size_t) len0, log->key, log->log_id, 0, h0);
        if (len0 < 0)
                return len0;
        len1 = audit_record_format_body(log->buf + len0, sizeof log->buf - (size_t) len0, 1, now, AUDIT_ANCHOR, af,
                                        ELEMENTSOF(af), h0);
        if (len1 >= 0)
                len1 = audit_record_seal(log->buf + len0, sizeof log->buf - (size_t) len0, (size_t) len1, log->key,
                                         log->log_id, 1, h1);
        if (len1 < 0)
                return len1;

        log->log_fd = create_file(log, AUDIT_LOG_FILE, 0640, log->gid, O_RDWR | O_APPEND);
        if (log->log_fd < 0)
                return log->log_fd;
        r = write_all(log->log_fd, log->buf, (size_t) len0 + (size_t) len1);
        if (r >= 0 && fsync(log->log_fd) < 0)
                r = negative_errno();
        if (r >= 0 && fsync(log->dir_fd) < 0)
                r = negative_errno();
        if (r < 0)
                return r;
        return write_head(log, 1, 1, h1);
}

/* The log exists but the head does not: accepted only as the trace of a
 * crash during creation, i.e. the log is exactly HEADER + ANCHOR(create),
 * both with a valid MAC. */
static int finish_creation(struct audit_log *log) {
        struct stat st;
        const char *nl, *reason;
        size_t len;
        ssize_t k;
        int r;

        if (fstat(log->log_fd, &st) < 0)
                return negative_errno();
        if (st.st_size <= 0 || st.st_size > AUDIT_RECORD_MAX)
                goto refuse;
        k = pread(log->log_fd, log->buf, (size_t) st.st_size, 0);
        if (k != st.st_size)
                return k < 0 ? negative_errno() : -EIO;
        nl = memchr(log->buf, '\n', (size_t) k);
        if (!nl)
                goto refuse;
        len = (size_t) (nl - log->buf) + 1;
        if ((size_t) k <= len || log->buf[k - 1] != '\n' || memchr(log->buf + len, '\n', (size_t) k - len - 1))
                goto refuse;
        r = parse_checked(log, log->buf + len, (size_t) k - len - 1, true);
        if (r == -EBADMSG)
                goto refuse;
        if (r < 0)
                return r;
        reason = audit_record_get(&log->rec, AUDIT_K_REASON);
        if (log->rec.seq != 1 || log->rec.type != AUDIT_ANCHOR || !reason || strcmp(reason, "create") != 0)
                goto refuse;
        log_warning("%s is missing after the creation of the log: writing it", AUDIT_HEAD_FILE);
        return write_head(log, 1, 1, log->rec.hash);
refuse:
        return log_error_errno(-EBADMSG, "%s is missing: the log cannot be trusted (see rempart-audit verify)",
                               AUDIT_HEAD_FILE);
}

static int open_dir(struct audit_log *log, const char *dir, unsigned flags) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && (flags & (AUDIT_OPEN_CREATE | AUDIT_OPEN_INIT))) {
                bool made = mkdir(dir, 0750) >= 0;
                if (!made && errno != EEXIST)
                        return negative_errno();
                fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0 && made && fchmod(fd, 0750) < 0) /* whatever the umask */
                        return negative_errno();
        }
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* Whoever can write the directory can swap the files. */
        if (st.st_uid != geteuid() || (st.st_mode & 022) != 0)
                return log_error_errno(-EPERM, "%s must belong to uid %u and not be writable by group or others", dir,
                                       (unsigned) geteuid());
        log->gid = st.st_gid;
        log->dir_fd = take_fd(&fd);
        return 0;
}

/* audit_open() under the lock. */
static int open_locked(struct audit_log *log, const char *dir, unsigned flags, unsigned anchor_every) {
        int r, have_log, have_head, have_key;

        have_log = exists_at(log->dir_fd, AUDIT_LOG_FILE);
        have_head = exists_at(log->dir_fd, AUDIT_HEAD_FILE);
        have_key = exists_at(log->dir_fd, AUDIT_KEY_FILE);
        if (have_log < 0 || have_head < 0 || have_key < 0)
                return have_log < 0 ? have_log : have_head < 0 ? have_head : have_key;

        if ((flags & AUDIT_OPEN_INIT) || ((flags & AUDIT_OPEN_CREATE) && !have_log && !have_head && !have_key)) {
                if (have_log || have_head)
                        return log_error_errno(-EEXIST, "%s already holds a log: move %s and %s away first", dir,
                                               AUDIT_LOG_FILE, AUDIT_HEAD_FILE);
                r = have_key ? audit_key_load_at(log->dir_fd, AUDIT_KEY_FILE, log->key) : create_key(log);
                if (r < 0)
                        return log_error_errno(r, "cannot %s %s/%s", have_key ? "load" : "create", dir,
                                               AUDIT_KEY_FILE);
                r = create_log(log, anchor_every);
                if (r < 0)
                        return log_error_errno(r, "cannot create the log in %s", dir);
                return 0;
        }

        if (!have_log && !have_head && !have_key)
                return -ENOENT;
        if (!have_key)
                return log_error_errno(-ENOKEY, "%s/%s is missing", dir, AUDIT_KEY_FILE);
        if (!have_log)
                return log_error_errno(-EBADMSG, "%s/%s is missing but %s exists: the log was removed", dir,
                                       AUDIT_LOG_FILE, have_head ? AUDIT_HEAD_FILE : AUDIT_KEY_FILE);
        r = audit_key_load_at(log->dir_fd, AUDIT_KEY_FILE, log->key);
        if (r < 0)
                return log_error_errno(r, "cannot load %s/%s", dir, AUDIT_KEY_FILE);
        log->log_fd = openat(log->dir_fd, AUDIT_LOG_FILE, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (log->log_fd < 0)
                return negative_errno();
        {
                struct stat st;
                if (fstat(log->log_fd, &st) < 0)
                        return negative_errno();
                if (!S_ISREG(st.st_mode))
                        return -EBADMSG;
        }
        r = load_header(log);
        if (r < 0)
                return r;
        if (!have_head) {
                r = finish_creation(log);
                if (r < 0)
                        return r;
        }
        return sync_and_repair(log);
}

int audit_open(const char *dir, unsigned flags, unsigned anchor_every, struct audit_log **ret) {
        struct audit_log *log;
        int r;

        if ((flags & ~(unsigned) (AUDIT_OPEN_CREATE | AUDIT_OPEN_INIT)) || anchor_every > AUDIT_ANCHOR_EVERY_MAX)
                return -EINVAL;
        if (anchor_every == 0)
                anchor_every = AUDIT_ANCHOR_EVERY_DEFAULT;
        log = calloc(1, sizeof *log);
        if (!log)
                return -ENOMEM;
        log->dir_fd = log->log_fd = -1;
        r = open_dir(log, dir, flags);
        if (r >= 0)
                r = lock_dir(log->dir_fd, LOCK_EX);
        if (r >= 0) {
                r = open_locked(log, dir, flags, anchor_every);
                unlock_dir(log->dir_fd);
        }
        if (r < 0) {
                audit_log_free(log);
                return r;
        }
        *ret = log;
        return 0;
}

/* ---- appending and closing ---- */

static int64_t append_event_locked(struct audit_log *log, enum audit_type type, const struct audit_field *fields,
                                   size_t n) {
        uint64_t seq;
        int r;

        r = sync_and_repair(log);
        if (r < 0)
                return r;
        r = append_locked(log, type, fields, n, "", 0);
        if (r < 0)
                return r;
        seq = log->head.seq;
        /* The event is durable: a failing anchor is written by the next
         * operation (sync_and_repair()), and must not make the caller
         * believe the event was not recorded. */
        if (log->head.seq - log->head.anchor_seq >= log->anchor_every) {
                r = append_anchor(log, "periodic");
                if (r < 0)
                        log_warning_errno(r, "cannot write the periodic anchor after record %llu, left to the next "
                                          "writer", (unsigned long long) seq);
        }
        return (int64_t) seq;
}

int64_t audit_append(struct audit_log *log, enum audit_type type, const struct audit_field *fields, size_t n) {
        int64_t r;

        if (!log || !audit_type_is_event(type) || n > AUDIT_FIELDS_MAX || (n > 0 && !fields))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!fields[i].key || !fields[i].value || audit_check_key(fields[i].key) < 0)
                        return -EINVAL;
        r = lock_dir(log->dir_fd, LOCK_EX);
        if (r < 0)
                return r;
        r = append_event_locked(log, type, fields, n);
        unlock_dir(log->dir_fd);
        return r;
}

int audit_close(struct audit_log *log) {
        int r;

        if (!log)
                return 0;
        r = lock_dir(log->dir_fd, LOCK_EX);
        if (r >= 0) {
                r = sync_and_repair(log);
                if (r >= 0 && log->head.anchor_seq != log->head.seq)
                        r = append_anchor(log, "close");
                unlock_dir(log->dir_fd);
        }
        audit_log_free(log);
        return r;
}

/* SPDX-License-Identifier: MIT */
/* The verifier.  Lines are fed in file order and judged with one line of
 * lookahead, which tells a swap of two records from a removal, and a
 * partial line sealed by a writer's RECOVERY record from garbage.
 *
 * After a problem the verifier resynchronises on the next record (takes
 * its seq and hash as the new base), so that one damaged spot is reported
 * once and the rest of the log is still checked.  The first problem is the
 * one to believe. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit-internal.h"
#include "macro.h"

#define READ_BUF ((size_t) 4 * AUDIT_RECORD_MAX)

struct audit_verifier {
        audit_problem_cb cb;
        void *userdata;
        struct audit_record *cur, *look;
        char *pend;    /* the line waiting for its lookahead */
        char *readbuf; /* audit_verify()'s reading buffer */
        struct audit_verify_result res;
        uint64_t pend_offset, line_no;
        size_t pend_len;

        /* chain state */
        uint64_t exp_seq;
        uint64_t last_anchor;
        uint64_t last_seq, last_line;
        uint64_t swap_seq; /* the swapped pair's later record */
        unsigned anchor_every;
        int stop;
        uint8_t key[AUDIT_KEY_SIZE];
        uint8_t exp_prev[AUDIT_HASH_SIZE];
        uint8_t last_hash[AUDIT_HASH_SIZE];
        uint8_t swap_hash[AUDIT_HASH_SIZE];
        uint8_t log_id[AUDIT_LOG_ID_SIZE];
        bool have_key;
        bool macs; /* checking MACs: a key, and the log's id known */
        bool pend_valid, pend_newline, pend_overlong;
        bool have_base, resync, have_header, have_last;
        bool swap_pending;   /* the second line of a swapped pair comes next */
        bool sealed_pending; /* a partial line was sealed: the next record is its RECOVERY */
};

static const char *const kind_names[_AUDIT_PROBLEM_MAX] = {
        [AUDIT_PROBLEM_MALFORMED] = "malformed",
        [AUDIT_PROBLEM_MODIFIED] = "modified",
        [AUDIT_PROBLEM_REMOVED] = "removed",
        [AUDIT_PROBLEM_REORDERED] = "reordered",
        [AUDIT_PROBLEM_TRUNCATED] = "truncated",
        [AUDIT_PROBLEM_BAD_ANCHOR] = "bad-anchor",
        [AUDIT_PROBLEM_BAD_HEAD] = "bad-head",
        [AUDIT_PROBLEM_BAD_HEADER] = "bad-header",
};

const char *audit_problem_kind_to_string(enum audit_problem_kind k) {
        if ((unsigned) k >= _AUDIT_PROBLEM_MAX)
                return NULL;
        return kind_names[k];
}

_printf_(5, 6) static void problem(struct audit_verifier *v, enum audit_problem_kind kind, uint64_t line,
                                   uint64_t offset, const char *fmt, ...) {
        struct audit_problem p = { .kind = kind, .line = line, .offset = offset };
        va_list ap;

        v->res.problems++;
        if (!v->cb || v->stop < 0)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(p.msg, sizeof p.msg, fmt, ap);
        va_end(ap);
        v->stop = v->cb(&p, v->userdata);
        if (v->stop > 0)
                v->stop = 0;
}

int audit_verifier_new(const uint8_t *key, audit_problem_cb cb, void *userdata, struct audit_verifier **ret) {
        struct audit_verifier *v = calloc(1, sizeof *v);

        if (!v)
                return -ENOMEM;
        v->cur = malloc(sizeof *v->cur);
        v->look = malloc(sizeof *v->look);
        v->pend = malloc(AUDIT_RECORD_MAX);
        v->readbuf = malloc(READ_BUF);
        if (!v->cur || !v->look || !v->pend || !v->readbuf) {
                audit_verifier_free(v);
                return -ENOMEM;
        }
        if (key) {
                memcpy(v->key, key, AUDIT_KEY_SIZE);
                v->have_key = true;
        }
        v->cb = cb;
        v->userdata = userdata;
        v->anchor_every = AUDIT_ANCHOR_EVERY_DEFAULT;
        *ret = v;
        return 0;
}

void audit_verifier_free(struct audit_verifier *v) {
        if (!v)
                return;
        OPENSSL_cleanse(v->key, sizeof v->key);
        free(v->cur);
        free(v->look);
        free(v->pend);
        free(v->readbuf);
        free(v);
}

/* ---- judging one record ---- */

static bool hash_ok(const char *line, const struct audit_record *r) {
        uint8_t h[AUDIT_HASH_SIZE];
        return audit_sha256(line, r->hashed_len, h) >= 0 && memcmp(h, r->hash, AUDIT_HASH_SIZE) == 0;
}

static bool mac_ok(const struct audit_verifier *v, const struct audit_record *r) {
        uint8_t mac[AUDIT_HASH_SIZE];
        return audit_record_mac(v->key, v->log_id, r->seq, r->hash, mac) >= 0 && audit_mac_equal(mac, r->mac);
}

static bool parse_u64_field(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t x = 0;

        if (!s || !*s || (s[0] == '0' && s[1]) || strlen(s) > 19)
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                x = x * 10 + (uint64_t) (*s - '0');
        }
        if (x > max)
                return false;
        *ret = x;
        return true;
}

/* Record 0.  Takes the log id (for MACs) and the anchor interval. */
static void check_header(struct audit_verifier *v, const struct audit_record *r, uint64_t line, uint64_t off) {
        uint8_t genesis[AUDIT_HASH_SIZE], kid[AUDIT_KEY_ID_SIZE], want[AUDIT_KEY_ID_SIZE];
        const char *id = audit_record_get(r, "log"), *version = audit_record_get(r, "version"),
                   *key_id = audit_record_get(r, "key_id");
        uint64_t every;

        if (r->seq != 0 || r->type != AUDIT_HEADER) {
                problem(v, AUDIT_PROBLEM_BAD_HEADER, line, off,
                        "the log does not start with its HEADER record (line %llu is seq %llu, %s): records were "
                        "removed from the start",
                        (unsigned long long) line, (unsigned long long) r->seq, audit_type_to_string(r->type));
                return;
        }
        if (!version || strcmp(version, "1") != 0 || !id ||
            audit_unhex(id, strlen(id), v->log_id, AUDIT_LOG_ID_SIZE) < 0 || !key_id ||
            audit_unhex(key_id, strlen(key_id), kid, AUDIT_KEY_ID_SIZE) < 0 ||
            !parse_u64_field(audit_record_get(r, "anchor_every"), AUDIT_ANCHOR_EVERY_MAX, &every) || every == 0) {
                problem(v, AUDIT_PROBLEM_BAD_HEADER, line, off,
                        "line %llu: the HEADER record lacks version=1, log=, key_id= or anchor_every=",
                        (unsigned long long) line);
                return;
        }
        if (audit_genesis(v->log_id, genesis) < 0 || memcmp(genesis, r->prev, AUDIT_HASH_SIZE) != 0) {
                problem(v, AUDIT_PROBLEM_BAD_HEADER, line, off,
                        "line %llu: the HEADER record's prev= does not commit to its log id",
                        (unsigned long long) line);
                return;
        }
        v->have_header = true;
        v->anchor_every = (unsigned) every;
        if (!v->have_key)
                return;
        if (audit_key_id(v->key, want) < 0 || memcmp(want, kid, sizeof kid) != 0) {
                problem(v, AUDIT_PROBLEM_BAD_HEADER, line, off,
                        "the key is not this log's key (key_id=%s in the HEADER record): MACs not checked", key_id);
                return;
        }
        v->macs = true;
}

static bool is_sealing_recovery(const struct audit_record *r, const char *bad, size_t bad_len) {
        uint8_t sha[AUDIT_HASH_SIZE], claimed[AUDIT_HASH_SIZE];
        const char *reason = audit_record_get(r, AUDIT_K_REASON), *s = audit_record_get(r, "bad_sha256");
        uint64_t bytes;

        return r->type == AUDIT_RECOVERY && reason && strcmp(reason, "partial-record") == 0 &&
               parse_u64_field(audit_record_get(r, "bad_bytes"), AUDIT_RECORD_MAX, &bytes) && bytes == bad_len && s &&
               audit_unhex(s, strlen(s), claimed, AUDIT_HASH_SIZE) >= 0 && audit_sha256(bad, bad_len, sha) >= 0 &&
               memcmp(sha, claimed, AUDIT_HASH_SIZE) == 0;
}

static void check_type(struct audit_verifier *v, const struct audit_record *r, bool sealed, uint64_t line,
                       uint64_t off) {
        const char *reason = audit_record_get(r, AUDIT_K_REASON);

        switch (r->type) {
        case AUDIT_HEADER:
                if (r->seq != 0)
                        problem(v, AUDIT_PROBLEM_BAD_HEADER, line, off,
                                "line %llu (seq %llu): a HEADER record inside the log", (unsigned long long) line,
                                (unsigned long long) r->seq);
                return;
        case AUDIT_ANCHOR:
                v->res.anchors++;
                if (r->seq > v->last_anchor)
                        v->last_anchor = r->seq;
                if (!reason || (strcmp(reason, "create") != 0 && strcmp(reason, "periodic") != 0 &&
                                strcmp(reason, "close") != 0 && strcmp(reason, "recovery") != 0))
                        problem(v, AUDIT_PROBLEM_BAD_ANCHOR, line, off,
                                "line %llu (seq %llu): ANCHOR record without a known reason=",
                                (unsigned long long) line, (unsigned long long) r->seq);
                return;
        case AUDIT_RECOVERY:
                v->res.recoveries++;
                if (reason && strcmp(reason, "head-behind") == 0)
                        return;
                if (reason && strcmp(reason, "partial-record") == 0 && sealed)
                        return;
                problem(v, AUDIT_PROBLEM_MODIFIED, line, off,
                        "line %llu (seq %llu): RECOVERY record that seals nothing (no partial line before it)",
                        (unsigned long long) line, (unsigned long long) r->seq);
                return;
        default:
                if (r->seq > v->last_anchor && r->seq - v->last_anchor > v->anchor_every)
                        problem(v, AUDIT_PROBLEM_BAD_ANCHOR, line, off,
                                "line %llu (seq %llu): more than %u records since the last ANCHOR (seq %llu): "
                                "anchors were removed",
                                (unsigned long long) line, (unsigned long long) r->seq, v->anchor_every,
                                (unsigned long long) v->last_anchor);
                return;
        }
}

static void advance(struct audit_verifier *v, uint64_t seq, const uint8_t hash[AUDIT_HASH_SIZE], uint64_t line) {
        v->have_base = true;
        v->exp_seq = seq + 1;
        memcpy(v->exp_prev, hash, AUDIT_HASH_SIZE);
        v->have_last = true;
        v->last_seq = seq;
        v->last_line = line;
        memcpy(v->last_hash, hash, AUDIT_HASH_SIZE);
}

/* Parse the lookahead line into v->look; false when it is no record. */
static bool parse_look(struct audit_verifier *v, const char *look, size_t look_len, bool look_usable) {
        return look_usable && audit_record_parse(look, look_len, v->look, NULL) >= 0 && hash_ok(look, v->look);
}

static void process(struct audit_verifier *v, const char *look, size_t look_len, bool look_usable) {
        struct audit_record *r = v->cur;
        uint64_t line = v->line_no, off = v->pend_offset;
        const char *why = NULL;
        bool sealed;

        v->res.lines++;
        if (v->pend_overlong) {
                problem(v, AUDIT_PROBLEM_MALFORMED, line, off, "line %llu is longer than any record",
                        (unsigned long long) line);
                v->resync = true;
                return;
        }
        if (!v->pend_newline) {
                /* even if the bytes parse: the writer never wrote a record
                 * without its newline, and never acknowledged this one */
                problem(v, AUDIT_PROBLEM_TRUNCATED, line, off,
                        "the log ends inside a record (line %llu, %zu bytes without a newline): cut, or a writer "
                        "died during a write",
                        (unsigned long long) line, v->pend_len);
                return;
        }
        /* A partial line that a writer sealed: the next line is a RECOVERY
         * record naming its length and SHA-256 (the bytes may even parse,
         * when only the newline was lost). */
        if (look_usable && memmem(look, look_len, " RECOVERY ", 10) && parse_look(v, look, look_len, look_usable) &&
            is_sealing_recovery(v->look, v->pend, v->pend_len)) {
                v->sealed_pending = true; /* judged with the RECOVERY record */
                return;
        }
        if (audit_record_parse(v->pend, v->pend_len, r, &why) < 0) {
                problem(v, AUDIT_PROBLEM_MALFORMED, line, off, "line %llu is not a record (%s)",
                        (unsigned long long) line, why);
                v->resync = true;
                return;
        }
        sealed = v->sealed_pending;
        v->sealed_pending = false;
        v->res.records++;
        if (!hash_ok(v->pend, r)) {
                problem(v, AUDIT_PROBLEM_MODIFIED, line, off,
                        "line %llu (seq %llu): the text does not match its hash: the record was modified",
                        (unsigned long long) line, (unsigned long long) r->seq);
                /* Assume it holds its place, with the hash it was written
                 * with: the next record still chains to that. */
                advance(v, v->have_base ? v->exp_seq : r->seq, r->hash, line);
                return;
        }
        if (!v->have_base)
                check_header(v, r, line, off);
        if (v->macs && !mac_ok(v, r))
                problem(v, AUDIT_PROBLEM_MODIFIED, line, off,
                        "line %llu (seq %llu): wrong MAC: the record was written or rewritten without the key",
                        (unsigned long long) line, (unsigned long long) r->seq);

        if (v->swap_pending) {
                /* the earlier record of a reported swap, judged already */
                v->swap_pending = false;
                advance(v, v->swap_seq, v->swap_hash, line);
                return;
        }
        if (v->have_base && !v->resync) {
                if (r->seq == v->exp_seq) {
                        if (memcmp(r->prev, v->exp_prev, AUDIT_HASH_SIZE) != 0)
                                problem(v, AUDIT_PROBLEM_MODIFIED, line, off,
                                        "line %llu (seq %llu) does not follow line %llu (seq %llu): one of them was "
                                        "changed and rehashed, or replaced",
                                        (unsigned long long) line, (unsigned long long) r->seq,
                                        (unsigned long long) v->last_line, (unsigned long long) v->last_seq);
                } else if (r->seq > v->exp_seq) {
                        if (parse_look(v, look, look_len, look_usable) && v->look->seq == v->exp_seq) {
                                problem(v, AUDIT_PROBLEM_REORDERED, line, off,
                                        "lines %llu and %llu are swapped (seq %llu before seq %llu)",
                                        (unsigned long long) line, (unsigned long long) line + 1,
                                        (unsigned long long) r->seq, (unsigned long long) v->look->seq);
                                /* judge both in their order, so that an
                                 * ANCHOR swapped with its neighbour does not
                                 * also count as missing */
                                check_type(v, v->look, false, line + 1, off);
                                check_type(v, r, sealed, line, off);
                                v->swap_pending = true;
                                v->swap_seq = r->seq;
                                memcpy(v->swap_hash, r->hash, AUDIT_HASH_SIZE);
                                return;
                        }
                        if (r->seq == v->exp_seq + 1)
                                problem(v, AUDIT_PROBLEM_REMOVED, line, off,
                                        "record %llu is missing before line %llu (seq %llu)",
                                        (unsigned long long) v->exp_seq, (unsigned long long) line,
                                        (unsigned long long) r->seq);
                        else
                                problem(v, AUDIT_PROBLEM_REMOVED, line, off,
                                        "records %llu to %llu are missing before line %llu (seq %llu)",
                                        (unsigned long long) v->exp_seq, (unsigned long long) r->seq - 1,
                                        (unsigned long long) line, (unsigned long long) r->seq);
                } else {
                        if (v->have_last && r->seq == v->last_seq &&
                            memcmp(r->hash, v->last_hash, AUDIT_HASH_SIZE) == 0)
                                problem(v, AUDIT_PROBLEM_REORDERED, line, off,
                                        "line %llu repeats line %llu (seq %llu)", (unsigned long long) line,
                                        (unsigned long long) v->last_line, (unsigned long long) r->seq);
                        else
                                problem(v, AUDIT_PROBLEM_REORDERED, line, off,
                                        "line %llu (seq %llu) is out of order: seq %llu came before it",
                                        (unsigned long long) line, (unsigned long long) r->seq,
                                        (unsigned long long) v->exp_seq - 1);
                        return; /* keep the chain of the records in order */
                }
        }
        v->resync = false;
        check_type(v, r, sealed, line, off);
        advance(v, r->seq, r->hash, line);
}

int audit_verifier_line(struct audit_verifier *v, uint64_t offset, const char *line, size_t len, bool newline,
                        bool overlong) {
        if (v->stop < 0)
                return v->stop;
        if (!overlong && len + 1 > AUDIT_RECORD_MAX)
                overlong = true;
        if (v->pend_valid)
                process(v, line, len, !overlong);
        v->line_no++;
        v->pend_valid = true;
        v->pend_offset = offset;
        v->pend_newline = newline;
        v->pend_overlong = overlong;
        v->pend_len = overlong ? 0 : len;
        if (!overlong && len > 0)
                memcpy(v->pend, line, len);
        return v->stop;
}

int audit_verifier_finish(struct audit_verifier *v, const char *head_text, size_t head_len,
                          struct audit_verify_result *result) {
        struct audit_head h;

        if (v->pend_valid && v->stop >= 0) {
                process(v, NULL, 0, false);
                v->pend_valid = false;
        }
        if (v->stop >= 0 && v->res.lines == 0)
                problem(v, AUDIT_PROBLEM_TRUNCATED, 0, 0, "the log is empty or missing");
        if (v->stop >= 0) {
                if (!head_text)
                        problem(v, AUDIT_PROBLEM_BAD_HEAD, 0, 0, "the head file %s is missing", AUDIT_HEAD_FILE);
                else if (audit_head_parse(head_text, head_len, &h) < 0)
                        problem(v, AUDIT_PROBLEM_BAD_HEAD, 0, 0, "the head file %s is malformed (truncated?)",
                                AUDIT_HEAD_FILE);
                else if (v->have_header && memcmp(h.log_id, v->log_id, AUDIT_LOG_ID_SIZE) != 0)
                        problem(v, AUDIT_PROBLEM_BAD_HEAD, 0, 0, "the head file belongs to another log");
                else if (v->macs && audit_head_check(&h, v->key) < 0)
                        problem(v, AUDIT_PROBLEM_BAD_HEAD, 0, 0,
                                "the head file has a wrong MAC: it was written without the key");
                else if (v->have_last && h.seq > v->last_seq)
                        problem(v, AUDIT_PROBLEM_TRUNCATED, v->last_line, 0,
                                "the log ends at seq %llu (line %llu) but the head file names seq %llu: %llu "
                                "record(s) removed from the end",
                                (unsigned long long) v->last_seq, (unsigned long long) v->last_line,
                                (unsigned long long) h.seq, (unsigned long long) (h.seq - v->last_seq));
                else if (v->have_last && h.seq < v->last_seq)
                        problem(v, AUDIT_PROBLEM_BAD_HEAD, 0, 0,
                                "the head file names seq %llu but the log goes on to seq %llu: an older head file "
                                "was put back, or a writer died before updating it (the next writer seals that)",
                                (unsigned long long) h.seq, (unsigned long long) v->last_seq);
                else if (v->have_last && memcmp(h.hash, v->last_hash, AUDIT_HASH_SIZE) != 0)
                        problem(v, AUDIT_PROBLEM_MODIFIED, v->last_line, 0,
                                "the last record (line %llu, seq %llu) is not the one the head file commits to",
                                (unsigned long long) v->last_line, (unsigned long long) v->last_seq);
                else if (v->have_last && h.anchor_seq != v->last_anchor)
                        problem(v, AUDIT_PROBLEM_BAD_HEAD, 0, 0,
                                "the head file names seq %llu as the last ANCHOR, the log seq %llu",
                                (unsigned long long) h.anchor_seq, (unsigned long long) v->last_anchor);
        }
        v->res.last_seq = v->have_last ? v->last_seq : 0;
        v->res.macs_checked = v->macs;
        if (result)
                *result = v->res;
        return v->stop < 0 ? v->stop : 0;
}

/* ---- reading the files ---- */

static int feed_file(struct audit_verifier *v, int fd, uint64_t size) {
        char *buf = v->readbuf;
        uint64_t left = size, base = 0; /* base: file offset of buf[0] */
        size_t have = 0;
        bool skipping = false;          /* inside an overlong line, already reported */
        int r = 0;

        for (;;) {
                size_t pos = 0;
                const char *nl;

                if (left > 0) {
                        size_t want = READ_BUF - have;
                        ssize_t k;

                        if (want > left)
                                want = (size_t) left;
                        k = read(fd, buf + have, want);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0)
                                return negative_errno();
                        if (k == 0)
                                left = 0; /* shrank under us: judge what was read */
                        have += (size_t) k;
                        left -= (uint64_t) k;
                }
                while (r >= 0 && pos < have && (nl = memchr(buf + pos, '\n', have - pos))) {
                        size_t len = (size_t) (nl - (buf + pos));
                        if (skipping)
                                skipping = false;
                        else
                                r = audit_verifier_line(v, base + pos, buf + pos, len, true, false);
                        pos += len + 1;
                }
                if (r < 0)
                        return r;
                memmove(buf, buf + pos, have - pos);
                have -= pos;
                base += pos;
                if (left == 0) {
                        if (have > 0 && !skipping)
                                r = audit_verifier_line(v, base, buf, have, false, false);
                        return r;
                }
                if (have >= AUDIT_RECORD_MAX) {
                        /* no newline in a record's worth of bytes */
                        if (!skipping)
                                r = audit_verifier_line(v, base, NULL, 0, true, true);
                        if (r < 0)
                                return r;
                        skipping = true;
                        base += have;
                        have = 0;
                }
        }
}

int audit_verify(const char *dir, const uint8_t *key, audit_problem_cb cb, void *userdata,
                 struct audit_verify_result *result) {
        _cleanup_close_ int dir_fd = -1, log_fd = -1, head_fd = -1;
        struct audit_verifier *v = NULL;
        char head[AUDIT_HEAD_MAX + 1];
        ssize_t head_len = -1;
        uint64_t size = 0;
        struct stat st;
        int r;

        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return negative_errno();
        /* A snapshot: writers append a record and then replace the head
         * under the exclusive lock; the log's prefix of this size is never
         * rewritten after it. */
        while (flock(dir_fd, LOCK_SH) < 0)
                if (errno != EINTR)
                        return negative_errno();
        log_fd = openat(dir_fd, AUDIT_LOG_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (log_fd < 0 && errno != ENOENT)
                return negative_errno();
        if (log_fd >= 0) {
                if (fstat(log_fd, &st) < 0)
                        return negative_errno();
                if (!S_ISREG(st.st_mode))
                        return -EBADMSG;
                size = (uint64_t) st.st_size;
        }
        head_fd = openat(dir_fd, AUDIT_HEAD_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (head_fd < 0 && errno != ENOENT)
                return negative_errno();
        if (head_fd >= 0) {
                head_len = read(head_fd, head, sizeof head);
                if (head_len < 0)
                        return negative_errno();
        }
        (void) flock(dir_fd, LOCK_UN); /* closing dir_fd releases it anyway */
        if (log_fd < 0 && head_fd < 0)
                return -ENOENT;

        r = audit_verifier_new(key, cb, userdata, &v);
        if (r < 0)
                return r;
        if (log_fd >= 0)
                r = feed_file(v, log_fd, size);
        /* After a stop requested by the callback, still fill the result. */
        if (r >= 0 || (v->stop < 0 && r == v->stop))
                r = audit_verifier_finish(v, head_len >= 0 ? head : NULL, head_len >= 0 ? (size_t) head_len : 0,
                                          result);
        audit_verifier_free(v);
        return r;
}

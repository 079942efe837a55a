/* SPDX-License-Identifier: MIT */
/* Unit tests of the audit log (src/audit): the record format (round trip,
 * one spelling per record), a log of a few hundred records, and every kind
 * of tampering on a small log: a changed byte anywhere (log, head file,
 * key), a record removed, two records swapped, the log cut at every byte,
 * the head file cut, an old head file put back, a head file forged without
 * the key, a chain recomputed without the key.  Then the writer: crash
 * traces are sealed (and only those), everything else is refused, and two
 * processes appending at once build one valid chain.  Every test works in
 * its own temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit-internal.h"
#include "audit.h"
#include "fileio.h"
#include "macro.h"

static char dir[256];
static char path_log[300], path_head[300], path_key[300];
static uint8_t key[AUDIT_KEY_SIZE];

/* ---- files ---- */

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw) {
        (void) st;
        (void) type;
        (void) ftw;
        return remove(p);
}

static int setup(void **state) {
        (void) state;
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/test-audit.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir))
                return -1;
        snprintf(path_log, sizeof path_log, "%s/%s", dir, AUDIT_LOG_FILE);
        snprintf(path_head, sizeof path_head, "%s/%s", dir, AUDIT_HEAD_FILE);
        snprintf(path_key, sizeof path_key, "%s/%s", dir, AUDIT_KEY_FILE);
        return 0;
}

static int teardown(void **state) {
        (void) state;
        /* Only our own mkdtemp directory; symbolic links are not followed. */
        return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *slurp(const char *path, size_t *len) {
        char *buf = NULL;
        assert_int_equal(read_full_file(path, (size_t) 64 * AUDIT_RECORD_MAX, &buf, len), 0);
        return buf;
}

static void slurp_head(struct audit_head *h) {
        size_t len;
        char *text = slurp(path_head, &len);
        assert_int_equal(audit_head_parse(text, len, h), 0);
        free(text);
}

static void spit(const char *path, const char *buf, size_t len) {
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, buf, len), (ssize_t) len);
        assert_int_equal(close(fd), 0);
}

/* ---- logs ---- */

static void load_key(void) {
        assert_int_equal(audit_key_load(path_key, key), 0);
}

/* A log with n events of every type, with values that need escaping. */
static void make_log(unsigned n, unsigned anchor_every) {
        static const char *const names[] = { "report.pdf", "my file.txt", "caf\xc3\xa9 100%", "tab\there",
                                             "line\nbreak", "=eq=", "" };
        struct audit_log *log = NULL;

        assert_int_equal(audit_open(dir, AUDIT_OPEN_CREATE, anchor_every, &log), 0);
        for (unsigned i = 0; i < n; i++) {
                char idx[16];
                const struct audit_field f[] = {
                        { AUDIT_K_USER, "alice" },     { AUDIT_K_SRC_LEVEL, "high" },
                        { AUDIT_K_DST_LEVEL, "low" },  { AUDIT_K_NAME, names[i % ELEMENTSOF(names)] },
                        { AUDIT_K_SIZE, "1234" },      { AUDIT_K_SHA256, "9f86d081884c7d659a2feaa0c55ad015" },
                        { AUDIT_K_CONFIRMER, "bob" },  { "idx", idx },
                };
                enum audit_type t = (enum audit_type) (AUDIT_XFER_ALLOWED + i % (_AUDIT_TYPE_MAX - AUDIT_XFER_ALLOWED));
                snprintf(idx, sizeof idx, "%u", i);
                assert_true(audit_append(log, t, f, ELEMENTSOF(f)) > 0);
        }
        assert_int_equal(audit_close(log), 0);
        load_key();
}

struct first {
        uint64_t n;
        struct audit_problem p;
};

static int keep_first(const struct audit_problem *p, void *userdata) {
        struct first *f = userdata;
        if (f->n++ == 0)
                f->p = *p;
        return 0;
}

/* Verify with the key; the number of problems, the first in *f. */
static uint64_t verify_with(const uint8_t *k, struct first *f, struct audit_verify_result *res) {
        struct audit_verify_result tmp;
        memset(f, 0, sizeof *f);
        assert_int_equal(audit_verify(dir, k, keep_first, f, res ? res : &tmp), 0);
        assert_int_equal((res ? res : &tmp)->problems, f->n);
        return f->n;
}

static uint64_t verify(struct first *f) {
        return verify_with(key, f, NULL);
}

static void assert_intact(void) {
        struct first f;
        struct audit_verify_result res;
        if (verify_with(key, &f, &res) != 0)
                fail_msg("unexpected problem: %s: %s", audit_problem_kind_to_string(f.p.kind), f.p.msg);
        assert_true(res.macs_checked);
}

static void assert_first(struct first *f, enum audit_problem_kind kind, const char *what) {
        if (f->n == 0)
                fail_msg("%s: not detected", what);
        if (f->p.kind != kind)
                fail_msg("%s: first problem is %s (%s), expected %s", what, audit_problem_kind_to_string(f->p.kind),
                         f->p.msg, audit_problem_kind_to_string(kind));
}

/* Line starts of buf (at most max), returns their count; starts[n] = len. */
static size_t split_lines(const char *buf, size_t len, size_t *starts, size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < len && n < max; i++)
                if (i == 0 || buf[i - 1] == '\n')
                        starts[n++] = i;
        starts[n] = len;
        return n;
}

/* ---- the record format ---- */

static void test_record_roundtrip(void **state) {
        (void) state;
        struct audit_record *r = malloc(sizeof *r);
        char all[256], buf[AUDIT_RECORD_MAX], again[AUDIT_RECORD_MAX];
        uint8_t prev[AUDIT_HASH_SIZE], hash[AUDIT_HASH_SIZE], id[AUDIT_LOG_ID_SIZE] = { 1, 2, 3 };
        const struct audit_field f[] = { { "all", all }, { "empty", "" }, { "name", "a b" }, { "name", "c" } };
        int n, m;

        assert_non_null(r);
        for (int i = 1; i < 256; i++)
                all[i - 1] = (char) i;
        all[255] = '\0';
        memset(prev, 0xab, sizeof prev);
        memset(key, 7, sizeof key);
        n = audit_record_format_body(buf, sizeof buf, 42, "2026-11-05T12:34:56.123456Z", AUDIT_XFER_DENIED, f,
                                     ELEMENTSOF(f), prev);
        assert_true(n > 0);
        n = audit_record_seal(buf, sizeof buf, (size_t) n, key, id, 42, hash);
        assert_true(n > 0);
        assert_int_equal(buf[n - 1], '\n');
        for (int i = 0; i < n - 1; i++)
                assert_true(buf[i] >= 0x20 && buf[i] <= 0x7e);
        assert_int_equal(audit_record_parse(buf, (size_t) n - 1, r, NULL), 0);
        assert_int_equal(r->seq, 42);
        assert_int_equal(r->type, AUDIT_XFER_DENIED);
        assert_int_equal(r->n_fields, 4);
        assert_string_equal(r->fields[0].value, all);
        assert_string_equal(r->fields[1].value, "");
        assert_string_equal(r->fields[2].value, "a b");
        assert_string_equal(audit_record_get(r, "name"), "a b");
        assert_memory_equal(r->prev, prev, sizeof prev);
        assert_memory_equal(r->hash, hash, sizeof hash);
        /* formatting the parsed record gives the same bytes */
        m = audit_record_format_body(again, sizeof again, r->seq, r->time, r->type, r->fields, r->n_fields, r->prev);
        assert_int_equal((size_t) m, r->hashed_len);
        assert_memory_equal(again, buf, (size_t) m);
        free(r);
}

static void test_record_rejects(void **state) {
        (void) state;
        static const char *const mutations[][2] = {
                /* from, to: applied to the good line */
                { " XFER_ALLOWED", "  XFER_ALLOWED" },           /* double space */
                { "name=a%20b", "name=a%2fb" },                   /* lowercase escape */
                { "name=a%20b", "name=a%41b" },                   /* needless escape */
                { "name=a%20b", "name=a%00b" },                   /* NUL */
                { "name=a%20b", "name=a%2" },                     /* short escape */
                { "name=a%20b", "name=a b" },                     /* raw space */
                { "name=a%20b", "Name=a%20b" },                   /* bad key */
                { "name=a%20b", "prev=a%20b" },                   /* reserved key */
                { "name=a%20b", "mac=a%20b" },                    /* reserved key */
                { "name=a%20b", "name" },                         /* no '=' */
                { "name=a%20b", "=a%20b" },                       /* empty key */
                { "42 ", "042 " },                                /* leading zero */
                { "42 ", "9223372036854775808 " },                /* > INT64_MAX */
                { "XFER_ALLOWED", "XFER_ALLOWEDX" },              /* unknown type */
                { "XFER_ALLOWED", "xfer_allowed" },               /* case */
                { "T12:", "t12:" },                               /* time */
                { "-11-", "-13-" },                               /* month */
                { ".123456Z", ".12345Z" },                        /* time width */
                { "prev=ab", "prev=AB" },                         /* uppercase hash */
                { "hash=", "hash=0" },                            /* hash length */
                { " mac=", " mac=x" },                            /* mac digit */
                { "name=a%20b", "name=a\tb" },                    /* control byte */
                { "name=a%20b", "name=a\xc3\xa9" },               /* 8-bit byte */
        };
        const struct audit_field f[] = { { "name", "a b" } };
        struct audit_record *r = malloc(sizeof *r);
        char good[AUDIT_RECORD_MAX], bad[AUDIT_RECORD_MAX + 64];
        uint8_t prev[AUDIT_HASH_SIZE], hash[AUDIT_HASH_SIZE], id[AUDIT_LOG_ID_SIZE] = { 0 };
        int n;

        assert_non_null(r);
        memset(prev, 0xab, sizeof prev);
        n = audit_record_format_body(good, sizeof good, 42, "2026-11-05T12:34:56.123456Z", AUDIT_XFER_ALLOWED, f, 1,
                                     prev);
        n = audit_record_seal(good, sizeof good, (size_t) n, key, id, 42, hash);
        assert_true(n > 0);
        good[--n] = '\0';
        assert_int_equal(audit_record_parse(good, (size_t) n, r, NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(mutations); i++) {
                const char *at = strstr(good, mutations[i][0]);
                const char *why = NULL;
                assert_non_null(at);
                snprintf(bad, sizeof bad, "%.*s%s%s", (int) (at - good), good, mutations[i][1],
                         at + strlen(mutations[i][0]));
                if (audit_record_parse(bad, strlen(bad), r, &why) != -EBADMSG)
                        fail_msg("accepted: %s", bad);
                assert_non_null(why);
        }
        /* leading and trailing space, empty, too long */
        snprintf(bad, sizeof bad, " %s", good);
        assert_int_equal(audit_record_parse(bad, strlen(bad), r, NULL), -EBADMSG);
        snprintf(bad, sizeof bad, "%s ", good);
        assert_int_equal(audit_record_parse(bad, strlen(bad), r, NULL), -EBADMSG);
        assert_int_equal(audit_record_parse("", 0, r, NULL), -EBADMSG);
        memset(bad, 'a', AUDIT_RECORD_MAX);
        assert_int_equal(audit_record_parse(bad, AUDIT_RECORD_MAX, r, NULL), -EBADMSG);
        free(r);
}

static void test_types(void **state) {
        (void) state;
        enum audit_type t;
        for (unsigned i = 0; i < _AUDIT_TYPE_MAX; i++) {
                assert_int_equal(audit_type_from_string(audit_type_to_string((enum audit_type) i), &t), 0);
                assert_int_equal(t, i);
        }
        assert_null(audit_type_to_string(_AUDIT_TYPE_MAX));
        assert_int_equal(audit_type_from_string("ANCHOR ", &t), -EINVAL);
        assert_false(audit_type_is_event(AUDIT_HEADER));
        assert_false(audit_type_is_event(AUDIT_ANCHOR));
        assert_false(audit_type_is_event(AUDIT_RECOVERY));
        assert_true(audit_type_is_event(AUDIT_XFER_CONFIRMED));
        assert_true(audit_type_is_event(AUDIT_INTEGRITY_ERROR));
}

/* ---- a valid log ---- */

static void test_big_log(void **state) {
        (void) state;
        struct audit_verify_result res;
        struct first f;
        size_t len, starts[1024] = { 0 }, n, events = 0, anchors = 0;
        char *buf;
        struct audit_record *r = malloc(sizeof *r);

        assert_non_null(r);
        make_log(300, 0);
        assert_int_equal(verify_with(key, &f, &res), 0);
        assert_true(res.macs_checked);
        assert_int_equal(res.recoveries, 0);
        buf = slurp(path_log, &len);
        n = split_lines(buf, len, starts, ELEMENTSOF(starts) - 1);
        assert_int_equal(res.records, n);
        assert_int_equal(res.last_seq, n - 1);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(audit_record_parse(buf + starts[i], starts[i + 1] - starts[i] - 1, r, NULL), 0);
                assert_int_equal(r->seq, i);
                if (audit_type_is_event(r->type))
                        events++;
                else if (r->type == AUDIT_ANCHOR)
                        anchors++;
        }
        assert_int_equal(events, 300);
        /* create, one every 64 records, close */
        assert_int_equal(anchors, res.anchors);
        assert_true(anchors >= 2 + 300 / 64);
        /* and without the key: same verdict, MACs not checked */
        assert_int_equal(verify_with(NULL, &f, &res), 0);
        assert_false(res.macs_checked);
        free(buf);
        free(r);
}

static void test_append_errors(void **state) {
        (void) state;
        struct audit_log *log = NULL;
        char *big = malloc(AUDIT_RECORD_MAX);
        const struct audit_field ok[] = { { "user", "alice" } };
        struct audit_field f[1];

        assert_non_null(big);
        assert_int_equal(audit_open(dir, AUDIT_OPEN_CREATE, 0, &log), 0);
        assert_int_equal(audit_append(log, AUDIT_HEADER, ok, 1), -EINVAL);
        assert_int_equal(audit_append(log, AUDIT_ANCHOR, ok, 1), -EINVAL);
        assert_int_equal(audit_append(log, AUDIT_RECOVERY, ok, 1), -EINVAL);
        assert_int_equal(audit_append(log, _AUDIT_TYPE_MAX, ok, 1), -EINVAL);
        static const char *const bad_keys[] = { "", "User", "1user", "us-er", "prev", "hash", "mac",
                                                "a23456789012345678901234567890123" };
        for (size_t i = 0; i < ELEMENTSOF(bad_keys); i++) {
                f[0] = (struct audit_field) { bad_keys[i], "x" };
                assert_int_equal(audit_append(log, AUDIT_XFER_DENIED, f, 1), -EINVAL);
        }
        f[0] = (struct audit_field) { "user", NULL };
        assert_int_equal(audit_append(log, AUDIT_XFER_DENIED, f, 1), -EINVAL);
        memset(big, 'x', AUDIT_RECORD_MAX - 1);
        big[AUDIT_RECORD_MAX - 1] = '\0';
        f[0] = (struct audit_field) { "reason", big };
        assert_int_equal(audit_append(log, AUDIT_XFER_DENIED, f, 1), -E2BIG);
        big[AUDIT_RECORD_MAX / 4] = '\0';
        assert_int_equal(audit_append(log, AUDIT_XFER_DENIED, f, 1), 2);
        assert_int_equal(audit_append(log, AUDIT_XFER_DENIED, NULL, 0), 3);
        assert_int_equal(audit_close(log), 0);
        load_key();
        assert_intact();
        free(big);
}

/* ---- tampering ---- */

/* Every byte of the log, changed three ways (lowest bit, case bit, high
 * bit), then every byte of the head file and of the key. */
static void test_byte_changes(void **state) {
        (void) state;
        static const uint8_t flips[] = { 0x01, 0x20, 0x80 };
        const char *files[] = { path_log, path_head, path_key };
        struct first f;

        make_log(6, 3);
        assert_intact();
        for (size_t k = 0; k < ELEMENTSOF(files); k++) {
                size_t len;
                char *orig = slurp(files[k], &len);
                int fd = open(files[k], O_RDWR | O_CLOEXEC);
                assert_true(fd >= 0);
                for (size_t i = 0; i < len; i++)
                        for (size_t j = 0; j < ELEMENTSOF(flips); j++) {
                                char c = (char) (orig[i] ^ flips[j]);
                                uint8_t k2[AUDIT_KEY_SIZE];
                                assert_int_equal(pwrite(fd, &c, 1, (off_t) i), 1);
                                /* verify as rempart-audit does: with the key file's key */
                                assert_int_equal(audit_key_load(path_key, k2), 0);
                                if (verify_with(k2, &f, NULL) == 0)
                                        fail_msg("%s: byte %zu ^ 0x%02x not detected", files[k], i, flips[j]);
                                assert_int_equal(pwrite(fd, orig + i, 1, (off_t) i), 1);
                        }
                assert_int_equal(close(fd), 0);
                free(orig);
                assert_intact();
        }
}

static void test_remove_each_record(void **state) {
        (void) state;
        size_t len, starts[64] = { 0 }, n;
        char *orig, *buf;
        struct first f;

        make_log(8, 3);
        orig = slurp(path_log, &len);
        buf = malloc(len);
        assert_non_null(buf);
        n = split_lines(orig, len, starts, ELEMENTSOF(starts) - 1);
        assert_true(n > 10);
        for (size_t i = 0; i < n; i++) {
                size_t a = starts[i], b = starts[i + 1];
                memcpy(buf, orig, a);
                memcpy(buf + a, orig + b, len - b);
                spit(path_log, buf, len - (b - a));
                assert_int_not_equal(verify(&f), 0);
                if (i == 0)
                        assert_first(&f, AUDIT_PROBLEM_BAD_HEADER, "header removed");
                else if (i == n - 1)
                        assert_first(&f, AUDIT_PROBLEM_TRUNCATED, "last record removed");
                else
                        assert_first(&f, AUDIT_PROBLEM_REMOVED, "record removed");
                if (i > 0 && i < n - 1 && !strstr(f.p.msg, "missing"))
                        fail_msg("message: %s", f.p.msg);
        }
        spit(path_log, orig, len);
        assert_intact();
        free(orig);
        free(buf);
}

static void test_swap_each_pair(void **state) {
        (void) state;
        size_t len, starts[64] = { 0 }, n;
        char *orig, *buf;
        struct first f;
        char want[64];

        make_log(8, 3);
        orig = slurp(path_log, &len);
        buf = malloc(len);
        assert_non_null(buf);
        n = split_lines(orig, len, starts, ELEMENTSOF(starts) - 1);
        for (size_t i = 0; i + 1 < n; i++) {
                size_t a = starts[i], b = starts[i + 1], c = starts[i + 2];
                memcpy(buf, orig, len);
                memcpy(buf + a, orig + b, c - b);
                memcpy(buf + a + (c - b), orig + a, b - a);
                spit(path_log, buf, len);
                assert_int_not_equal(verify(&f), 0);
                if (i == 0) {
                        assert_first(&f, AUDIT_PROBLEM_BAD_HEADER, "header swapped");
                        continue;
                }
                assert_first(&f, AUDIT_PROBLEM_REORDERED, "records swapped");
                snprintf(want, sizeof want, "lines %zu and %zu are swapped", i + 1, i + 2);
                if (!strstr(f.p.msg, want))
                        fail_msg("message '%s' lacks '%s'", f.p.msg, want);
                /* one damaged spot, one problem */
                assert_int_equal(f.n, 1);
        }
        free(orig);
        free(buf);
}

static void test_truncate_everywhere(void **state) {
        (void) state;
        size_t len, starts[64] = { 0 }, n;
        char *orig;
        struct first f;

        make_log(6, 3);
        orig = slurp(path_log, &len);
        n = split_lines(orig, len, starts, ELEMENTSOF(starts) - 1);
        for (size_t size = 0; size < len; size++) {
                spit(path_log, orig, size);
                if (verify(&f) == 0)
                        fail_msg("log cut at %zu of %zu bytes: not detected", size, len);
                assert_first(&f, AUDIT_PROBLEM_TRUNCATED, "log cut");
        }
        /* at a record boundary, the message counts the records lost */
        spit(path_log, orig, starts[n - 2]);
        assert_int_not_equal(verify(&f), 0);
        if (!strstr(f.p.msg, "2 record(s) removed from the end"))
                fail_msg("message: %s", f.p.msg);
        spit(path_log, orig, len);
        assert_intact();
        free(orig);
}

static void test_head_cut(void **state) {
        (void) state;
        size_t len;
        char *orig;
        struct first f;

        make_log(3, 0);
        orig = slurp(path_head, &len);
        for (size_t size = 0; size < len; size++) {
                spit(path_head, orig, size);
                assert_int_not_equal(verify(&f), 0);
                assert_first(&f, AUDIT_PROBLEM_BAD_HEAD, "head cut");
        }
        assert_int_equal(unlink(path_head), 0);
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_BAD_HEAD, "head removed");
        free(orig);
}

static void test_old_head(void **state) {
        (void) state;
        size_t hlen, llen;
        char *old_head, *old_log;
        struct first f;

        make_log(3, 0);
        old_head = slurp(path_head, &hlen);
        old_log = slurp(path_log, &llen);
        make_log(3, 0); /* reopens the existing log and appends */
        spit(path_head, old_head, hlen);
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_BAD_HEAD, "older head file");
        assert_non_null(strstr(f.p.msg, "older head"));
        /* The known limit (README, residual risks): the log cut back to the
         * state that the old head file describes is consistent again.
         * Only a monotonic counter or a remote copy can tell. */
        assert_int_equal(truncate(path_log, (off_t) llen), 0);
        assert_intact();
        free(old_head);
        free(old_log);
}

/* A forger without the key: drop the last record (the closing anchor)
 * and write a head file for the record before, MACed with another key. */
static void test_forged_head(void **state) {
        (void) state;
        struct audit_record *r = malloc(sizeof *r);
        size_t len, starts[64] = { 0 }, n;
        uint8_t other[AUDIT_KEY_SIZE];
        struct audit_head h;
        char text[AUDIT_HEAD_MAX], *buf;
        struct first f;

        assert_non_null(r);
        make_log(3, 0);
        buf = slurp(path_log, &len);
        n = split_lines(buf, len, starts, ELEMENTSOF(starts) - 1);
        assert_int_equal(audit_record_parse(buf + starts[n - 2], starts[n - 1] - starts[n - 2] - 1, r, NULL), 0);
        assert_int_equal(truncate(path_log, (off_t) starts[n - 1]), 0);
        slurp_head(&h);
        h.seq = r->seq;
        h.anchor_seq = 1; /* the creation's anchor */
        memcpy(h.hash, r->hash, AUDIT_HASH_SIZE);
        memset(other, 0x42, sizeof other);
        assert_int_equal(audit_head_mac(other, h.log_id, h.seq, h.anchor_seq, h.hash, h.mac), 0);
        assert_true(audit_head_format(&h, text, sizeof text) > 0);
        spit(path_head, text, strlen(text));
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_BAD_HEAD, "head forged without the key");
        assert_non_null(strstr(f.p.msg, "MAC"));
        free(buf);
        free(r);
}

/* A forger without the key changes a value and recomputes every hash, MAC
 * (with another key) and the head: the key finds it, the chain alone
 * cannot. */
static void test_rewrite_without_key(void **state) {
        (void) state;
        struct audit_record *r = malloc(sizeof *r);
        uint8_t other[AUDIT_KEY_SIZE], prev[AUDIT_HASH_SIZE], hash[AUDIT_HASH_SIZE];
        size_t len, starts[64] = { 0 }, n, out = 0;
        char *buf, *fake = malloc((size_t) 64 * AUDIT_RECORD_MAX);
        struct audit_head h;
        char text[AUDIT_HEAD_MAX];
        struct first f;

        assert_non_null(r);
        assert_non_null(fake);
        make_log(4, 0);
        buf = slurp(path_log, &len);
        n = split_lines(buf, len, starts, ELEMENTSOF(starts) - 1);
        slurp_head(&h);
        memset(other, 0x42, sizeof other);
        for (size_t i = 0; i < n; i++) {
                int k;
                assert_int_equal(audit_record_parse(buf + starts[i], starts[i + 1] - starts[i] - 1, r, NULL), 0);
                if (i > 0)
                        memcpy(r->prev, prev, sizeof prev);
                for (unsigned j = 0; j < r->n_fields; j++)
                        if (strcmp(r->fields[j].key, "confirmer") == 0)
                                r->fields[j].value = "mallory";
                k = audit_record_format_body(fake + out, AUDIT_RECORD_MAX, r->seq, r->time, r->type, r->fields,
                                             r->n_fields, r->prev);
                assert_true(k > 0);
                k = audit_record_seal(fake + out, AUDIT_RECORD_MAX, (size_t) k, other, h.log_id, r->seq, hash);
                assert_true(k > 0);
                out += (size_t) k;
                memcpy(prev, hash, sizeof hash);
        }
        spit(path_log, fake, out);
        memcpy(h.hash, prev, sizeof prev);
        assert_int_equal(audit_head_mac(other, h.log_id, h.seq, h.anchor_seq, h.hash, h.mac), 0);
        assert_true(audit_head_format(&h, text, sizeof text) > 0);
        spit(path_head, text, strlen(text));
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_MODIFIED, "rewritten with another key");
        assert_non_null(strstr(f.p.msg, "wrong MAC"));
        assert_int_equal(f.p.line, 1);
        /* without the key, nothing to see: why verify needs it */
        assert_int_equal(verify_with(NULL, &f, NULL), 0);
        free(buf);
        free(fake);
        free(r);
}

static void test_garbage_inside(void **state) {
        (void) state;
        size_t len, starts[64] = { 0 }, n;
        char *orig, *buf;
        struct first f;
        static const char junk[] = "this is not a record\n";

        make_log(5, 0);
        orig = slurp(path_log, &len);
        n = split_lines(orig, len, starts, ELEMENTSOF(starts) - 1);
        buf = malloc(len + sizeof junk + (size_t) 2 * AUDIT_RECORD_MAX);
        assert_non_null(buf);
        /* a line inserted */
        memcpy(buf, orig, starts[3]);
        memcpy(buf + starts[3], junk, sizeof junk - 1);
        memcpy(buf + starts[3] + sizeof junk - 1, orig + starts[3], len - starts[3]);
        spit(path_log, buf, len + sizeof junk - 1);
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_MALFORMED, "junk line");
        assert_int_equal(f.p.line, 4);
        assert_int_equal(f.n, 1); /* the chain goes on after it */
        /* an overlong line */
        memcpy(buf, orig, starts[3]);
        memset(buf + starts[3], 'x', (size_t) 2 * AUDIT_RECORD_MAX);
        buf[starts[3] + (size_t) 2 * AUDIT_RECORD_MAX - 1] = '\n';
        memcpy(buf + starts[3] + (size_t) 2 * AUDIT_RECORD_MAX, orig + starts[3], len - starts[3]);
        spit(path_log, buf, len + (size_t) 2 * AUDIT_RECORD_MAX);
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_MALFORMED, "overlong line");
        assert_int_equal(f.n, 1);
        /* a duplicated record */
        memcpy(buf, orig, starts[4]);
        memcpy(buf + starts[4], orig + starts[3], starts[4] - starts[3]);
        memcpy(buf + starts[4] + (starts[4] - starts[3]), orig + starts[4], len - starts[4]);
        spit(path_log, buf, len + starts[4] - starts[3]);
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_REORDERED, "duplicate");
        assert_non_null(strstr(f.p.msg, "repeats"));
        (void) n;
        free(orig);
        free(buf);
}

static int stop_at_first(const struct audit_problem *p, void *userdata) {
        (void) p;
        (*(int *) userdata)++;
        return -ECANCELED;
}

static void test_callback_stops(void **state) {
        (void) state;
        struct audit_verify_result res;
        int calls = 0;

        make_log(3, 0);
        assert_int_equal(unlink(path_head), 0);
        assert_int_equal(truncate(path_log, 10), 0);
        assert_int_equal(audit_verify(dir, key, stop_at_first, &calls, &res), -ECANCELED);
        assert_int_equal(calls, 1);
        assert_int_equal(res.problems, 1);
}

/* ---- the writer: crash traces ---- */

/* The trace of a writer that died during the write of the next record:
 * its first cut bytes (0: all but the newline).  Returns cut. */
static size_t leave_partial_record(size_t cut) {
        size_t len, len2, hlen;
        char *log1, *log2, *head1;

        log1 = slurp(path_log, &len);
        head1 = slurp(path_head, &hlen);
        make_log(1, 0);
        log2 = slurp(path_log, &len2);
        if (cut == 0) { /* all of it but the newline */
                size_t k = len;
                while (k < len2 && log2[k] != '\n')
                        k++;
                cut = k - len;
        }
        assert_true(len2 > len + cut);
        spit(path_log, log2, len + cut);
        spit(path_head, head1, hlen);
        free(log1);
        free(log2);
        free(head1);
        return cut;
}

/* A partial record left by a dying writer is sealed by the next one. */
static void partial_line_sealed(size_t cut) {
        struct audit_log *log = NULL;
        struct audit_verify_result res;
        struct audit_record *r = malloc(sizeof *r);
        size_t len, starts[64] = { 0 }, n;
        char *buf, bytes[24];
        struct first f;

        assert_non_null(r);
        make_log(3, 0);
        cut = leave_partial_record(cut);
        snprintf(bytes, sizeof bytes, "%zu", cut);
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_TRUNCATED, "partial record");
        assert_int_equal(f.n, 1);
        /* the next writer seals it and goes on */
        assert_int_equal(audit_open(dir, 0, 0, &log), 0);
        assert_true(audit_append(log, AUDIT_LEVEL_RESTART, NULL, 0) > 0);
        assert_int_equal(audit_close(log), 0);
        assert_int_equal(verify_with(key, &f, &res), 0);
        assert_int_equal(res.recoveries, 1);
        buf = slurp(path_log, &len);
        n = split_lines(buf, len, starts, ELEMENTSOF(starts) - 1);
        bool found = false;
        for (size_t i = 0; i < n; i++)
                if (audit_record_parse(buf + starts[i], starts[i + 1] - starts[i] - 1, r, NULL) == 0 &&
                    r->type == AUDIT_RECOVERY) {
                        assert_string_equal(audit_record_get(r, "reason"), "partial-record");
                        assert_string_equal(audit_record_get(r, "bad_bytes"), bytes);
                        /* the partial line is the one before */
                        assert_int_equal(starts[i] - starts[i - 1], cut + 1);
                        /* changing the sealed bytes is detected */
                        buf[starts[i - 1] + 50] ^= 1;
                        spit(path_log, buf, len);
                        assert_int_not_equal(verify(&f), 0);
                        /* a cut record is no record; a whole one has a wrong hash */
                        if (f.p.kind != AUDIT_PROBLEM_MODIFIED)
                                assert_first(&f, AUDIT_PROBLEM_MALFORMED, "sealed bytes changed");
                        found = true;
                }
        assert_true(found);
        free(buf);
        free(r);
}

static void test_partial_line_sealed(void **state) {
        (void) state;
        static const size_t cuts[] = { 1, 100, 0 };
        for (size_t i = 0; i < ELEMENTSOF(cuts); i++) {
                assert_int_equal(teardown(NULL), 0);
                assert_int_equal(setup(NULL), 0);
                partial_line_sealed(cuts[i]);
        }
}

static void test_head_behind_sealed(void **state) {
        (void) state;
        struct audit_log *log = NULL;
        struct audit_verify_result res;
        size_t hlen;
        char *head;
        struct first f;

        make_log(3, 0);
        head = slurp(path_head, &hlen);
        /* one more record, then the head as it was: a writer that died
         * between the fsync of the log and the rename of the head */
        assert_int_equal(audit_open(dir, 0, 0, &log), 0);
        assert_true(audit_append(log, AUDIT_JAIL_REFUSED, NULL, 0) > 0);
        audit_log_free(log);
        spit(path_head, head, hlen);
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_BAD_HEAD, "head behind");
        assert_int_equal(audit_open(dir, 0, 0, &log), 0);
        assert_int_equal(audit_close(log), 0);
        assert_int_equal(verify_with(key, &f, &res), 0);
        assert_int_equal(res.recoveries, 1);
        free(head);
}

/* A record added by someone without the key looks like the same trace, but
 * its MAC is wrong: refused, not sealed. */
static void test_injected_record_refused(void **state) {
        (void) state;
        struct audit_log *log = NULL;
        struct audit_head h;
        uint8_t other[AUDIT_KEY_SIZE], hash[AUDIT_HASH_SIZE];
        const struct audit_field fl[] = { { "confirmer", "mallory" } };
        char line[AUDIT_RECORD_MAX], now[AUDIT_TIME_LEN + 1];
        struct first f;
        int n, fd;

        make_log(3, 0);
        slurp_head(&h);
        memset(other, 0x42, sizeof other);
        assert_int_equal(audit_format_time(now), 0);
        n = audit_record_format_body(line, sizeof line, h.seq + 1, now, AUDIT_XFER_CONFIRMED, fl, 1, h.hash);
        n = audit_record_seal(line, sizeof line, (size_t) n, other, h.log_id, h.seq + 1, hash);
        assert_true(n > 0);
        fd = open(path_log, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, line, (size_t) n), n);
        assert_int_equal(close(fd), 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), -EBADMSG);
        assert_int_not_equal(verify(&f), 0);
        assert_first(&f, AUDIT_PROBLEM_MODIFIED, "injected record");
        assert_non_null(strstr(f.p.msg, "MAC"));
}

static void test_writer_refuses(void **state) {
        (void) state;
        struct audit_log *log = NULL;
        size_t len, hlen, starts[64] = { 0 }, n;
        char *orig, *head;
        static const char junk[] = "junk\n";
        int fd;

        make_log(3, 0);
        orig = slurp(path_log, &len);
        head = slurp(path_head, &hlen);
        n = split_lines(orig, len, starts, ELEMENTSOF(starts) - 1);
        assert_true(n > 2);

        /* last record removed, or cut */
        assert_int_equal(truncate(path_log, (off_t) starts[n - 1]), 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), -EBADMSG);
        spit(path_log, orig, len - 1);
        assert_int_equal(audit_open(dir, 0, 0, &log), -EBADMSG);
        /* a complete junk line at the end */
        spit(path_log, orig, len);
        fd = open(path_log, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, junk, sizeof junk - 1), (ssize_t) sizeof junk - 1);
        assert_int_equal(close(fd), 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), -EBADMSG);
        spit(path_log, orig, len);
        /* the head: a changed byte, missing */
        head[30] ^= 1;
        spit(path_head, head, hlen);
        assert_int_equal(audit_open(dir, 0, 0, &log), -EBADMSG);
        head[30] ^= 1;
        assert_int_equal(unlink(path_head), 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), -EBADMSG);
        /* the log missing, head or key present: never a silent new log */
        assert_int_equal(unlink(path_log), 0);
        assert_int_equal(audit_open(dir, AUDIT_OPEN_CREATE, 0, &log), -EBADMSG);
        {
                int hfd = open(path_head, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
                assert_true(hfd >= 0);
                assert_int_equal(write(hfd, head, hlen), (ssize_t) hlen);
                assert_int_equal(close(hfd), 0);
        }
        assert_int_equal(audit_open(dir, AUDIT_OPEN_CREATE, 0, &log), -EBADMSG);
        /* init refuses while a log or a head exists, then starts anew */
        assert_int_equal(audit_open(dir, AUDIT_OPEN_INIT, 0, &log), -EEXIST);
        assert_int_equal(unlink(path_head), 0);
        assert_int_equal(audit_open(dir, AUDIT_OPEN_INIT, 0, &log), 0);
        assert_int_equal(audit_close(log), 0);
        assert_intact();
        /* the key: readable by others, missing */
        assert_int_equal(chmod(path_key, 0440), 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), -EPERM);
        assert_int_equal(chmod(path_key, 0400), 0);
        assert_int_equal(unlink(path_key), 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), -ENOKEY);
        free(orig);
        free(head);
}

static void test_dir_checks(void **state) {
        (void) state;
        struct audit_log *log = NULL;
        char sub[300];

        assert_int_equal(audit_open(dir, 0, 0, &log), -ENOENT);
        assert_int_equal(chmod(dir, 0770), 0);
        assert_int_equal(audit_open(dir, AUDIT_OPEN_CREATE, 0, &log), -EPERM);
        assert_int_equal(chmod(dir, 0700), 0);
        /* created on first use, with its mode */
        snprintf(sub, sizeof sub, "%s/audit", dir);
        assert_int_equal(audit_open(sub, AUDIT_OPEN_CREATE, 0, &log), 0);
        assert_int_equal(audit_close(log), 0);
        {
                struct stat st;
                char p[400];
                assert_int_equal(stat(sub, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0750);
                snprintf(p, sizeof p, "%s/%s", sub, AUDIT_LOG_FILE);
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0640);
                snprintf(p, sizeof p, "%s/%s", sub, AUDIT_HEAD_FILE);
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0640);
                snprintf(p, sizeof p, "%s/%s", sub, AUDIT_KEY_FILE);
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0400);
                assert_int_equal(st.st_size, AUDIT_KEY_SIZE);
        }
}

/* A crash after the log was created but before its head file: finished by
 * the next writer (nothing but HEADER and ANCHOR to vouch for). */
static void test_creation_crash(void **state) {
        (void) state;
        struct audit_log *log = NULL;

        assert_int_equal(audit_open(dir, AUDIT_OPEN_CREATE, 0, &log), 0);
        audit_log_free(log);
        load_key();
        assert_int_equal(unlink(path_head), 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), 0);
        assert_int_equal(audit_close(log), 0);
        assert_intact();
        /* but not once there is more */
        make_log(1, 0);
        assert_int_equal(unlink(path_head), 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), -EBADMSG);
}

static void test_log_replaced(void **state) {
        (void) state;
        struct audit_log *log = NULL;
        size_t len;
        char *orig;
        char tmp[320];

        make_log(2, 0);
        assert_int_equal(audit_open(dir, 0, 0, &log), 0);
        orig = slurp(path_log, &len);
        snprintf(tmp, sizeof tmp, "%s.old", path_log);
        assert_int_equal(rename(path_log, tmp), 0);
        {
                int fd = open(path_log, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, orig, len), (ssize_t) len);
                assert_int_equal(close(fd), 0);
        }
        assert_int_equal(audit_append(log, AUDIT_XFER_FAILED, NULL, 0), -ESTALE);
        audit_log_free(log);
        free(orig);
}

/* ---- concurrency ---- */

#define PER_WRITER 500

static void writer(const char *name) {
        struct audit_log *log = NULL;
        char idx[16];
        const struct audit_field f[] = { { "writer", name }, { "idx", idx } };

        if (audit_open(dir, AUDIT_OPEN_CREATE, 0, &log) < 0)
                _exit(1);
        for (int i = 0; i < PER_WRITER; i++) {
                snprintf(idx, sizeof idx, "%d", i);
                if (audit_append(log, AUDIT_XFER_ALLOWED, f, ELEMENTSOF(f)) < 0)
                        _exit(2);
        }
        _exit(audit_close(log) < 0 ? 3 : 0);
}

static void test_concurrent_writers(void **state) {
        (void) state;
        struct audit_record *r = malloc(sizeof *r);
        struct audit_verify_result res;
        struct first f;
        pid_t pids[2];
        int next[2] = { 0, 0 }, status;
        size_t len, start = 0;
        char *buf;

        assert_non_null(r);
        /* both race to create the log, too */
        for (int i = 0; i < 2; i++) {
                pids[i] = fork();
                assert_true(pids[i] >= 0);
                if (pids[i] == 0)
                        writer(i == 0 ? "a" : "b");
        }
        for (int i = 0; i < 2; i++) {
                assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }
        load_key();
        assert_int_equal(verify_with(key, &f, &res), 0);
        buf = slurp(path_log, &len);
        for (size_t i = 0; i < len; i++) {
                if (buf[i] != '\n')
                        continue;
                assert_int_equal(audit_record_parse(buf + start, i - start, r, NULL), 0);
                start = i + 1;
                if (r->type != AUDIT_XFER_ALLOWED)
                        continue;
                const char *w = audit_record_get(r, "writer");
                int k = strcmp(w, "a") == 0 ? 0 : 1;
                char want[16];
                snprintf(want, sizeof want, "%d", next[k]++);
                assert_string_equal(audit_record_get(r, "idx"), want);
        }
        assert_int_equal(next[0], PER_WRITER);
        assert_int_equal(next[1], PER_WRITER);
        assert_true(res.records > 2 * PER_WRITER + 2 * PER_WRITER / AUDIT_ANCHOR_EVERY_DEFAULT);
        free(buf);
        free(r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_record_roundtrip),
                cmocka_unit_test(test_record_rejects),
                cmocka_unit_test(test_types),
                cmocka_unit_test_setup_teardown(test_big_log, setup, teardown),
                cmocka_unit_test_setup_teardown(test_append_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_byte_changes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_remove_each_record, setup, teardown),
                cmocka_unit_test_setup_teardown(test_swap_each_pair, setup, teardown),
                cmocka_unit_test_setup_teardown(test_truncate_everywhere, setup, teardown),
                cmocka_unit_test_setup_teardown(test_head_cut, setup, teardown),
                cmocka_unit_test_setup_teardown(test_old_head, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forged_head, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rewrite_without_key, setup, teardown),
                cmocka_unit_test_setup_teardown(test_garbage_inside, setup, teardown),
                cmocka_unit_test_setup_teardown(test_callback_stops, setup, teardown),
                cmocka_unit_test_setup_teardown(test_partial_line_sealed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_head_behind_sealed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_injected_record_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_writer_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dir_checks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_creation_crash, setup, teardown),
                cmocka_unit_test_setup_teardown(test_log_replaced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

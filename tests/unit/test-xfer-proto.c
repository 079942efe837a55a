/* SPDX-License-Identifier: MIT */
/* Unit tests: the level <-> rempart-xferd messages (xfer-proto.h), the
 * manifest as the core reads it back (manifest.h) and the waiting
 * requests (pending.h). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "manifest.h"
#include "pending.h"
#include "xfer-proto.h"

/* ---- protocol ---- */

static void test_request_roundtrip(void **state) {
        (void) state;
        uint8_t buf[XFER_REQUEST_MAX];
        struct xfer_request in = { .op = XFER_PROTO_SEND_WAIT, .target = "high" }, out;
        int n = xfer_request_encode(&in, buf, sizeof buf);
        assert_int_equal(n, XFER_REQUEST_FIXED + 4);
        assert_int_equal(xfer_request_size(buf, (size_t) n), n);
        assert_int_equal(xfer_request_size(buf, 3), 0); /* incomplete */
        assert_int_equal(xfer_request_decode(buf, (size_t) n, &out), 0);
        assert_int_equal(out.op, XFER_PROTO_SEND_WAIT);
        assert_string_equal(out.target, "high");
}

static void test_request_refused(void **state) {
        (void) state;
        uint8_t buf[XFER_REQUEST_MAX + 8];
        struct xfer_request in = { .op = XFER_PROTO_SEND, .target = "low" }, out;
        int n = xfer_request_encode(&in, buf, sizeof buf);
        assert_true(n > 0);

        /* Not encodable: bad op, bad level names. */
        struct xfer_request bad = { .op = 9, .target = "low" };
        assert_int_equal(xfer_request_encode(&bad, buf, sizeof buf), -EINVAL);
        const char *names[] = { "", "Low", "../x", "a b", "1abc", "-x" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                struct xfer_request b = { .op = XFER_PROTO_SEND };
                memcpy(b.target, names[i], strlen(names[i]) + 1);
                assert_int_equal(xfer_request_encode(&b, buf, sizeof buf), -EINVAL);
        }

        uint8_t c[XFER_REQUEST_MAX + 8];
        /* Every byte flipped: never accepted as something else than what was sent. */
        for (int i = 0; i < n; i++) {
                memcpy(c, buf, (size_t) n);
                c[i] ^= 0x20;
                int size = xfer_request_size(c, (size_t) n);
                if (size == n && xfer_request_decode(c, (size_t) n, &out) == 0)
                        assert_true(out.op != XFER_PROTO_SEND || strcmp(out.target, "low") != 0);
        }
        /* Trailing byte, wrong magic, version, zero or long name length. */
        memcpy(c, buf, (size_t) n);
        c[n] = 'x';
        assert_int_equal(xfer_request_decode(c, (size_t) n + 1, &out), -EBADMSG);
        memcpy(c, buf, (size_t) n);
        c[0] ^= 1;
        assert_int_equal(xfer_request_size(c, (size_t) n), -EBADMSG);
        memcpy(c, buf, (size_t) n);
        c[4] = 2;
        assert_int_equal(xfer_request_size(c, (size_t) n), -EBADMSG);
        memcpy(c, buf, (size_t) n);
        c[8] = 0;
        assert_int_equal(xfer_request_size(c, (size_t) n), -EBADMSG);
        c[8] = 200;
        assert_int_equal(xfer_request_size(c, (size_t) n), -EBADMSG);
        /* A NUL inside the name. */
        memcpy(c, buf, (size_t) n);
        c[XFER_REQUEST_FIXED + 1] = '\0';
        assert_int_equal(xfer_request_decode(c, (size_t) n, &out), -EBADMSG);
}

static void test_reply(void **state) {
        (void) state;
        uint8_t buf[XFER_REPLY_MAX + 1];
        struct xfer_reply r;
        int n = xfer_reply_encode(XFER_REPLY_DONE, "/home/a/Incoming/low/f", buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal(xfer_reply_decode(buf, (size_t) n, &r), 0);
        assert_int_equal(r.code, XFER_REPLY_DONE);
        assert_string_equal(r.text, "/home/a/Incoming/low/f");
        /* Terminal escapes and newlines are never sent nor accepted. */
        assert_int_equal(xfer_reply_encode(XFER_REPLY_FAILED, "a\033[2Jb", buf, sizeof buf), -EINVAL);
        assert_int_equal(xfer_reply_encode(XFER_REPLY_FAILED, "a\nb", buf, sizeof buf), -EINVAL);
        n = xfer_reply_encode(XFER_REPLY_FAILED, "abc", buf, sizeof buf);
        buf[XFER_REPLY_FIXED + 1] = 0x1b;
        assert_int_equal(xfer_reply_decode(buf, (size_t) n, &r), -EBADMSG);
        buf[XFER_REPLY_FIXED + 1] = 'b';
        buf[4] = 99; /* unknown code */
        assert_int_equal(xfer_reply_decode(buf, (size_t) n, &r), -EBADMSG);
        char longtext[XFER_REPLY_TEXT_MAX + 2];
        memset(longtext, 'a', sizeof longtext - 1);
        longtext[sizeof longtext - 1] = '\0';
        assert_int_equal(xfer_reply_encode(XFER_REPLY_FAILED, longtext, buf, sizeof buf), -EINVAL);
}

static void test_text_sanitize(void **state) {
        (void) state;
        char out[64];
        assert_string_equal(xfer_text_sanitize("cannot write 'a b': No space", out, sizeof out),
                            "cannot write 'a b': No space");
        assert_string_equal(xfer_text_sanitize("x\033[2J\n\xc3\xa9", out, sizeof out), "x\\x1b[2J\\x0a\\xc3\\xa9");
        /* Cut to fit, never in the middle of an escape. */
        assert_string_equal(xfer_text_sanitize("ab\033", out, 6), "ab");
        assert_string_equal(xfer_text_sanitize("abcdefgh", out, 4), "abc");
}

static void test_read_write_pipe(void **state) {
        (void) state;
        int p[2];
        struct xfer_request req = { .op = XFER_PROTO_SEND, .target = "high" }, got;
        assert_int_equal(pipe(p), 0);
        assert_int_equal(xfer_request_write(p[1], &req), 0);
        /* What follows the request is not consumed by the reader. */
        assert_int_equal(write(p[1], "RPXF", 4), 4);
        assert_int_equal(xfer_request_read(p[0], &got), 0);
        assert_string_equal(got.target, "high");
        char rest[4];
        assert_int_equal(read(p[0], rest, 4), 4);
        assert_memory_equal(rest, "RPXF", 4);
        /* EOF in the middle of a message. */
        assert_int_equal(write(p[1], "RPXQ", 4), 4);
        close(p[1]);
        assert_int_equal(xfer_request_read(p[0], &got), -ECONNRESET);
        close(p[0]);
}

/* ---- manifest ---- */

#define SHA_A "0000000000000000000000000000000000000000000000000000000000000001"
#define SHA_T "1111111111111111111111111111111111111111111111111111111111111111"

static const char good[] = "D 0755 - - dir\n"
                           "F 0644 3 " SHA_A " dir/a b\n"
                           "D 0700 - - dir/sub\n"
                           "F 0600 0 " SHA_A " dir/sub/é.txt\n"
                           "F 0640 5 " SHA_A " file\n"
                           "total 3 files, 2 directories, 8 bytes, stream " SHA_T "\n";

static void test_manifest_good(void **state) {
        (void) state;
        struct xfer_manifest *m = NULL;
        char why[256];
        assert_int_equal(xfer_manifest_parse(good, strlen(good), &m, why, sizeof why), 0);
        assert_int_equal(m->n_entries, 5);
        assert_int_equal(m->n_files, 3);
        assert_int_equal(m->n_dirs, 2);
        assert_int_equal(m->total_bytes, 8);
        assert_string_equal(m->entries[1].name, "dir/a b");
        assert_int_equal(m->entries[4].mode, 0640);
        assert_int_equal(m->stream_sha256[0], 0x11);
        /* Written back, it is the same text. */
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        assert_int_equal(xfer_manifest_write(m, f), 0);
        (void) fclose(f);
        assert_string_equal(text, good);
        free(text);
        xfer_manifest_free(m);
}

static void test_manifest_bad(void **state) {
        (void) state;
        const char *bad[] = {
                "",                                                                   /* no total */
                "total 0 files, 0 directories, 0 bytes, stream " SHA_T,               /* no newline */
                "F 0644 1 " SHA_A " a\ntotal 0 files, 0 directories, 1 bytes, stream " SHA_T "\n", /* counts */
                "F 0644 1 " SHA_A " a\ntotal 1 files, 0 directories, 2 bytes, stream " SHA_T "\n", /* bytes */
                "F 4755 1 " SHA_A " a\ntotal 1 files, 0 directories, 1 bytes, stream " SHA_T "\n", /* setuid */
                "F 0644 01 " SHA_A " a\ntotal 1 files, 0 directories, 1 bytes, stream " SHA_T "\n", /* 01 */
                "F 0644 1 " SHA_A " ../a\ntotal 1 files, 0 directories, 1 bytes, stream " SHA_T "\n",
                "F 0644 1 " SHA_A " /a\ntotal 1 files, 0 directories, 1 bytes, stream " SHA_T "\n",
                "F 0644 1 " SHA_A " a\x1b[2J\ntotal 1 files, 0 directories, 1 bytes, stream " SHA_T "\n",
                "F 0644 1 ABCD a\ntotal 1 files, 0 directories, 1 bytes, stream " SHA_T "\n",
                "L 0644 1 " SHA_A " a\ntotal 1 files, 0 directories, 1 bytes, stream " SHA_T "\n",
                "D 0755 5 - a\ntotal 0 files, 1 directories, 0 bytes, stream " SHA_T "\n",
                /* order: b before a, a duplicate, a child without its directory */
                "F 0644 0 " SHA_A " b\nF 0644 0 " SHA_A " a\ntotal 2 files, 0 directories, 0 bytes, stream " SHA_T "\n",
                "F 0644 0 " SHA_A " a\nF 0644 0 " SHA_A " a\ntotal 2 files, 0 directories, 0 bytes, stream " SHA_T "\n",
                "F 0644 0 " SHA_A " d/a\ntotal 1 files, 0 directories, 0 bytes, stream " SHA_T "\n",
                "F 0644 0 " SHA_A " d\nF 0644 0 " SHA_A " d/a\ntotal 2 files, 0 directories, 0 bytes, stream " SHA_T "\n",
                /* text after the total */
                "total 0 files, 0 directories, 0 bytes, stream " SHA_T "\nF 0644 0 " SHA_A " a\n",
                "total 0 files, 0 directories, 0 bytes, stream " SHA_T " \n",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct xfer_manifest *m = NULL;
                char why[256] = "";
                int r = xfer_manifest_parse(bad[i], strlen(bad[i]), &m, why, sizeof why);
                if (r != -EBADMSG)
                        fail_msg("case %zu accepted: %s", i, bad[i]);
                assert_null(m);
                assert_true(why[0] != '\0');
        }
}

static void test_path_order(void **state) {
        (void) state;
        assert_true(xfer_path_order("a", "b") < 0);
        assert_true(xfer_path_order("a", "a/b") < 0);   /* a directory before its content */
        assert_true(xfer_path_order("a/z", "a-b") < 0); /* content of a before a-b (components) */
        assert_true(xfer_path_order("a-b", "a/z") > 0);
        assert_true(xfer_path_order("ab", "a/z") > 0);
        assert_int_equal(xfer_path_order("a/b", "a/b"), 0);
}

static char *mkdtemp_dir(void) {
        char tmpl[] = "/tmp/rempart-test-xfer-proto.XXXXXX";
        char *d = mkdtemp(tmpl);
        assert_non_null(d);
        return strdup(d);
}

static void test_tree_check(void **state) {
        (void) state;
        char *d = mkdtemp_dir(), path[512], why[256];
        struct xfer_manifest *m = NULL;
        const char text[] = "D 0755 - - dir\nF 0640 3 " SHA_A " dir/f\n"
                            "total 1 files, 1 directories, 3 bytes, stream " SHA_T "\n";
        assert_int_equal(xfer_manifest_parse(text, strlen(text), &m, why, sizeof why), 0);
        snprintf(path, sizeof path, "%s/dir", d);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(chmod(path, 0755), 0);
        snprintf(path, sizeof path, "%s/dir/f", d);
        int fd = open(path, O_WRONLY | O_CREAT, 0640);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "abc", 3), 3);
        close(fd);
        assert_int_equal(chmod(path, 0640), 0);
        int dfd = open(d, O_RDONLY | O_DIRECTORY);
        assert_int_equal(xfer_manifest_check_tree(dfd, m, why, sizeof why), 0);
        /* An extra file, a wrong size, a wrong mode, a symlink instead. */
        snprintf(path, sizeof path, "%s/dir/extra", d);
        close(open(path, O_WRONLY | O_CREAT, 0600));
        assert_int_equal(xfer_manifest_check_tree(dfd, m, why, sizeof why), -EBADMSG);
        unlink(path);
        snprintf(path, sizeof path, "%s/dir/f", d);
        assert_int_equal(chmod(path, 0644), 0);
        assert_int_equal(xfer_manifest_check_tree(dfd, m, why, sizeof why), -EBADMSG);
        assert_int_equal(chmod(path, 0640), 0);
        assert_int_equal(truncate(path, 2), 0);
        assert_int_equal(xfer_manifest_check_tree(dfd, m, why, sizeof why), -EBADMSG);
        unlink(path);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_int_equal(xfer_manifest_check_tree(dfd, m, why, sizeof why), -EBADMSG);
        unlink(path);
        snprintf(path, sizeof path, "%s/dir", d);
        rmdir(path);
        rmdir(d);
        close(dfd);
        xfer_manifest_free(m);
        free(d);
}

/* ---- waiting requests ---- */

static void test_pending(void **state) {
        (void) state;
        char *d = mkdtemp_dir(), why[256];
        int sfd = xfer_state_open(d);
        assert_true(sfd >= 0);
        struct xfer_pending p = { .uid = 1000, .gid = 1000, .user = "alice", .source = "high", .target = "low",
                                  .created = 100, .expires = 700 };
        assert_int_equal(xfer_id_new(p.id), 0);
        assert_true(xfer_id_valid(p.id));
        assert_false(xfer_id_valid("../../etc/pw"));
        assert_false(xfer_id_valid("ABCDEF012345"));
        assert_int_equal(xfer_manifest_parse(good, strlen(good), &p.manifest, why, sizeof why), 0);
        assert_int_equal(xfer_pending_write(sfd, &p), 0);
        assert_int_equal(xfer_pending_write(sfd, &p), -EEXIST);

        char (*ids)[XFER_ID_LEN + 1] = NULL;
        size_t n = 0;
        assert_int_equal(xfer_pending_list(sfd, &ids, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(ids[0], p.id);
        free(ids);

        struct xfer_pending q;
        assert_int_equal(xfer_pending_read(sfd, p.id, false, &q), 0);
        assert_string_equal(q.user, "alice");
        assert_int_equal(q.expires, 700);
        assert_int_equal(q.manifest->n_entries, 5);
        xfer_pending_clear(&q);

        /* Exactly one claim wins. */
        assert_int_equal(xfer_pending_claim(sfd, p.id), 0);
        assert_int_equal(xfer_pending_claim(sfd, p.id), -ENOENT);
        assert_int_equal(xfer_pending_read(sfd, p.id, false, &q), -ENOENT);
        assert_int_equal(xfer_pending_read(sfd, p.id, true, &q), 0);
        xfer_pending_clear(&q);

        int code;
        char text[128];
        assert_int_equal(xfer_result_read(sfd, p.id, &code, text, sizeof text), -ENOENT);
        assert_int_equal(xfer_result_write(sfd, p.id, XFER_REPLY_DONE, "/home/alice/Incoming/high/x"), 0);
        assert_int_equal(xfer_result_read(sfd, p.id, &code, text, sizeof text), 0);
        assert_int_equal(code, XFER_REPLY_DONE);
        assert_string_equal(text, "/home/alice/Incoming/high/x");
        xfer_resolved_remove(sfd, p.id);

        /* A damaged request file is refused, not half-read. */
        char path[600];
        snprintf(path, sizeof path, "%s/pending/%s", d, p.id);
        FILE *f = fopen(path, "w");
        (void) fputs("id=", f);
        (void) fputs(p.id, f);
        (void) fputs("\nuid=x\n", f);
        (void) fclose(f);
        assert_int_equal(xfer_pending_read(sfd, p.id, false, &q), -EBADMSG);
        unlink(path);
        xfer_pending_clear(&p);
        close(sfd);
        snprintf(path, sizeof path, "rm -rf '%s'", d);
        assert_int_equal(system(path), 0);
        free(d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_roundtrip), cmocka_unit_test(test_request_refused),
                cmocka_unit_test(test_reply),             cmocka_unit_test(test_read_write_pipe),
                cmocka_unit_test(test_text_sanitize),
                cmocka_unit_test(test_manifest_good),     cmocka_unit_test(test_manifest_bad),
                cmocka_unit_test(test_path_order),        cmocka_unit_test(test_tree_check),
                cmocka_unit_test(test_pending),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Session broker protocol: every message round-trips to the same bytes,
 * and the decoder refuses every malformed variant (truncation at every
 * byte, length lies, limits, NUL bytes, bad magic/version/type, trailing
 * bytes); descriptors travel only where they belong and are never leaked.
 * The client library is driven against a fake broker. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker-client.h"
#include "broker-proto.h"

static struct broker_msg *m;
static uint8_t buf[BROKER_MSG_MAX + 64];

/* ---- a raw message builder, to write what the encoders refuse ---- */

struct raw {
        uint8_t b[BROKER_MSG_MAX + 64];
        size_t n;
};

static void raw_u16(struct raw *r, uint16_t v) {
        r->b[r->n++] = (uint8_t) v;
        r->b[r->n++] = (uint8_t) (v >> 8);
}

static void raw_u32(struct raw *r, uint32_t v) {
        for (int i = 0; i < 4; i++)
                r->b[r->n++] = (uint8_t) (v >> (8 * i));
}

static void raw_bytes(struct raw *r, const void *p, size_t n) {
        memcpy(r->b + r->n, p, n);
        r->n += n;
}

static void raw_str(struct raw *r, const char *s, size_t n) {
        raw_u32(r, (uint32_t) n);
        raw_bytes(r, s, n);
}

static void raw_begin(struct raw *r, uint16_t type) {
        r->n = 0;
        raw_u32(r, BROKER_PROTO_MAGIC);
        raw_u16(r, BROKER_PROTO_VERSION);
        raw_u16(r, type);
        raw_u32(r, 0);
}

/* Patch the header's length to what follows it. */
static void raw_end(struct raw *r) {
        uint32_t len = (uint32_t) (r->n - BROKER_HDR_SIZE);
        for (int i = 0; i < 4; i++)
                r->b[8 + i] = (uint8_t) (len >> (8 * i));
}

static void set_len(uint8_t *b, uint32_t len) {
        for (int i = 0; i < 4; i++)
                b[8 + i] = (uint8_t) (len >> (8 * i));
}

static int decode_raw(struct raw *r) {
        return broker_decode(r->b, r->n, m);
}

/* A RUN with the given argv strings (lengths given, so NULs can be in
 * them) and env strings. */
static struct raw *raw_run(uint32_t flags, uint32_t argc, const char *const *argv, const size_t *alen, uint32_t envc,
                           const char *const *env) {
        static struct raw r;
        raw_begin(&r, BROKER_MSG_RUN);
        raw_u32(&r, flags);
        raw_u32(&r, argc);
        for (uint32_t i = 0; i < argc; i++)
                raw_str(&r, argv[i], alen ? alen[i] : strlen(argv[i]));
        raw_u32(&r, envc);
        for (uint32_t i = 0; i < envc; i++)
                raw_str(&r, env[i], strlen(env[i]));
        raw_end(&r);
        return &r;
}

/* Every strict prefix is refused, with the true length or with the header
 * claiming exactly the prefix (a consistent lie), and so is one more byte. */
static void assert_strict(const uint8_t *msg, size_t len) {
        static uint8_t tmp[BROKER_MSG_MAX + 64];

        assert_int_equal(broker_decode(msg, len, m), 0);
        for (size_t k = 0; k < len; k++) {
                memcpy(tmp, msg, k);
                assert_int_equal(broker_decode(tmp, k, m), -EBADMSG);
                if (k >= BROKER_HDR_SIZE) {
                        set_len(tmp, (uint32_t) (k - BROKER_HDR_SIZE));
                        if (broker_decode(tmp, k, m) != -EBADMSG)
                                fail_msg("prefix of %zu/%zu bytes with a matching length was accepted", k, len);
                }
        }
        memcpy(tmp, msg, len);
        tmp[len] = 0;
        assert_int_equal(broker_decode(tmp, len + 1, m), -EBADMSG); /* length says len */
        set_len(tmp, (uint32_t) (len + 1 - BROKER_HDR_SIZE));
        assert_int_equal(broker_decode(tmp, len + 1, m), -EBADMSG); /* trailing byte */
        /* and decoding then encoding again gives the same bytes */
        assert_int_equal(broker_decode(msg, len, m), 0);
}

static void reencode_same(const uint8_t *msg, size_t len) {
        static uint8_t again[BROKER_MSG_MAX];
        size_t n = 0;

        assert_int_equal(broker_decode(msg, len, m), 0);
        switch (m->type) {
        case BROKER_MSG_RUN:
                assert_int_equal(broker_encode_run(again, sizeof again, &n, m->flags, m->argv, m->env), 0);
                break;
        case BROKER_MSG_SERVICE:
                assert_int_equal(broker_encode_service(again, sizeof again, &n, m->service), 0);
                break;
        case BROKER_MSG_SIGNAL:
                assert_int_equal(broker_encode_signal(again, sizeof again, &n, m->signo), 0);
                break;
        case BROKER_MSG_WINSIZE:
                assert_int_equal(broker_encode_winsize(again, sizeof again, &n, m->rows, m->cols), 0);
                break;
        case BROKER_MSG_STARTED:
                assert_int_equal(broker_encode_started(again, sizeof again, &n, m->pid), 0);
                break;
        case BROKER_MSG_EXIT:
                assert_int_equal(broker_encode_exit(again, sizeof again, &n, m->exit_kind, m->exit_code), 0);
                break;
        case BROKER_MSG_ERROR:
                assert_int_equal(broker_encode_error(again, sizeof again, &n, m->error, m->message), 0);
                break;
        }
        assert_int_equal(n, len);
        assert_memory_equal(again, msg, len);
}

/* ---- round trips ---- */

static void test_run_roundtrip(void **state) {
        char *argv[] = { "/bin/sh", "-c", "echo \"$1\"", "", "x\xff\x01y", NULL };
        char *env[] = { "TERM=xterm-256color", "LANG=fr_FR.UTF-8", "LC_ALL=C", "COLUMNS=80", "LINES=24", NULL };
        size_t len;
        (void) state;

        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, BROKER_RUN_TTY, argv, env), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->type, BROKER_MSG_RUN);
        assert_int_equal(m->flags, BROKER_RUN_TTY);
        assert_int_equal(m->argc, 5);
        for (int i = 0; i < 5; i++)
                assert_string_equal(m->argv[i], argv[i]);
        assert_null(m->argv[5]);
        assert_int_equal(m->envc, 5);
        for (int i = 0; i < 5; i++)
                assert_string_equal(m->env[i], env[i]);
        assert_null(m->env[5]);
        assert_strict(buf, len);
        reencode_same(buf, len);

        /* empty argv (login shell), no env; NULL arrays too */
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, NULL, NULL), 0);
        assert_int_equal(len, BROKER_HDR_SIZE + 12);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->argc, 0);
        assert_null(m->argv[0]);
        assert_int_equal(m->envc, 0);
        assert_null(m->env[0]);
        assert_strict(buf, len);
        reencode_same(buf, len);
}

static void test_run_limits(void **state) {
        static char big[BROKER_STRING_MAX + 2];
        static char *argv[BROKER_ARGC_MAX + 2];
        size_t len;
        (void) state;

        /* the largest argc and the longest string are accepted */
        for (int i = 0; i < BROKER_ARGC_MAX; i++)
                argv[i] = (char *) "a";
        argv[BROKER_ARGC_MAX] = NULL;
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, argv, NULL), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->argc, BROKER_ARGC_MAX);
        reencode_same(buf, len);
        argv[BROKER_ARGC_MAX] = (char *) "a";
        argv[BROKER_ARGC_MAX + 1] = NULL;
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, argv, NULL), -EINVAL);

        memset(big, 'x', BROKER_STRING_MAX);
        big[BROKER_STRING_MAX] = '\0';
        char *one[] = { big, NULL };
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, one, NULL), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(strlen(m->argv[0]), BROKER_STRING_MAX);
        big[BROKER_STRING_MAX] = 'x';
        big[BROKER_STRING_MAX + 1] = '\0';
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, one, NULL), -EINVAL);

        /* 20 strings of 4096 bytes: over 64 KiB */
        big[BROKER_STRING_MAX] = '\0';
        for (int i = 0; i < 20; i++)
                argv[i] = big;
        argv[20] = NULL;
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, argv, NULL), -E2BIG);
        /* a small buffer */
        argv[1] = NULL;
        assert_int_equal(broker_encode_run(buf, 100, &len, 0, argv, NULL), -ENOBUFS);

        /* decoder side: argc 257 with 257 strings present */
        static const char *many[BROKER_ARGC_MAX + 1];
        for (int i = 0; i <= BROKER_ARGC_MAX; i++)
                many[i] = "a";
        assert_int_equal(decode_raw(raw_run(0, BROKER_ARGC_MAX, many, NULL, 0, NULL)), 0);
        assert_int_equal(decode_raw(raw_run(0, BROKER_ARGC_MAX + 1, many, NULL, 0, NULL)), -EBADMSG);
        /* argc that lies (more than present), huge argc */
        struct raw *r = raw_run(0, 2, many, NULL, 0, NULL);
        r->b[BROKER_HDR_SIZE + 4] = 3;
        assert_int_equal(decode_raw(r), -EBADMSG);
        r->b[BROKER_HDR_SIZE + 7] = 0xff;
        assert_int_equal(decode_raw(r), -EBADMSG);
        /* string of 4097 bytes */
        const char *lng[] = { big };
        size_t l4097 = BROKER_STRING_MAX + 1;
        memset(big, 'x', sizeof big);
        assert_int_equal(decode_raw(raw_run(0, 1, lng, &l4097, 0, NULL)), -EBADMSG);
        /* a string length pointing past the end */
        r = raw_run(0, 1, many, NULL, 0, NULL);
        r->b[BROKER_HDR_SIZE + 8] = 200;
        assert_int_equal(decode_raw(r), -EBADMSG);
        r->b[BROKER_HDR_SIZE + 8] = 1;
        r->b[BROKER_HDR_SIZE + 11] = 0x80;
        assert_int_equal(decode_raw(r), -EBADMSG);
        /* too many env entries: 33 (all valid names are only 17, so the count alone must refuse) */
        static const char *envs[BROKER_ENVC_MAX + 1];
        for (int i = 0; i <= BROKER_ENVC_MAX; i++)
                envs[i] = "TERM=x";
        assert_int_equal(decode_raw(raw_run(0, 0, NULL, NULL, BROKER_ENVC_MAX + 1, envs)), -EBADMSG);
}

static void test_run_strings(void **state) {
        const char *nul[] = { "/bin/sh", "a\0b" };
        const size_t nul_len[] = { 7, 3 };
        const char *empty0[] = { "" };
        const char *ok[] = { "/bin/true" };
        size_t len;
        (void) state;

        assert_int_equal(decode_raw(raw_run(0, 2, nul, nul_len, 0, NULL)), -EBADMSG);
        assert_int_equal(decode_raw(raw_run(0, 1, empty0, NULL, 0, NULL)), -EBADMSG);
        char *e0[] = { "", NULL };
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, e0, NULL), -EINVAL);
        /* unknown flag bits */
        assert_int_equal(decode_raw(raw_run(2, 1, ok, NULL, 0, NULL)), -EBADMSG);
        assert_int_equal(decode_raw(raw_run(0x80000001u, 1, ok, NULL, 0, NULL)), -EBADMSG);
        char *argv[] = { "/bin/true", NULL };
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 4, argv, NULL), -EINVAL);
        assert_int_equal(decode_raw(raw_run(BROKER_RUN_TTY, 1, ok, NULL, 0, NULL)), 0);
}

static void test_env(void **state) {
        static const char *const good[] = {
                "TERM=xterm", "LANG=C.UTF-8", "LC_CTYPE=de_DE@euro", "LC_TELEPHONE=C", "COLUMNS=1", "LINES=9999",
                "TERM=screen.xterm-256color",
        };
        static const char *const bad[] = {
                "PATH=/bin", "LD_PRELOAD=/tmp/x.so", "HOME=/", "TERM=", "TERM", "=x", "TERM=a b", "TERM=x\x1b[2J",
                "LANG=../../x", "LANG=/tmp/x", "COLUMNS=0", "COLUMNS=10000", "COLUMNS=08", "LINES=-1", "LINES=1x",
                "LC_FOO=C", "LC_=C", "term=xterm", "TERMX=1", "TERM=\xc3\xa9",
                "TERM=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
        };
        size_t len;
        (void) state;

        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
                if (!broker_env_allowed(good[i]))
                        fail_msg("refused: %s", good[i]);
                const char *e[] = { good[i] };
                assert_int_equal(decode_raw(raw_run(0, 0, NULL, NULL, 1, e)), 0);
        }
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                if (broker_env_allowed(bad[i]))
                        fail_msg("allowed: %s", bad[i]);
                const char *e[] = { bad[i] };
                assert_int_equal(decode_raw(raw_run(0, 0, NULL, NULL, 1, e)), -EBADMSG);
                char *ev[] = { (char *) bad[i], NULL };
                assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, NULL, ev), -EINVAL);
        }
        /* one variable twice */
        const char *dup[] = { "TERM=a", "LANG=C", "TERM=b" };
        assert_int_equal(decode_raw(raw_run(0, 0, NULL, NULL, 3, dup)), -EBADMSG);
        char *dupv[] = { "LC_ALL=C", "LC_ALL=C", NULL };
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, NULL, dupv), -EINVAL);
        /* 64-byte value: the maximum */
        assert_true(broker_env_allowed("TERM=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_small_roundtrips(void **state) {
        static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
        size_t len;
        (void) state;

        assert_int_equal(broker_encode_service(buf, sizeof buf, &len, "sync-2_x"), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->type, BROKER_MSG_SERVICE);
        assert_string_equal(m->service, "sync-2_x");
        assert_strict(buf, len);
        reencode_same(buf, len);

        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
                assert_int_equal(broker_encode_signal(buf, sizeof buf, &len, sigs[i]), 0);
                assert_int_equal(broker_decode(buf, len, m), 0);
                assert_int_equal(m->type, BROKER_MSG_SIGNAL);
                assert_int_equal(m->signo, sigs[i]);
                assert_strict(buf, len);
                reencode_same(buf, len);
        }

        assert_int_equal(broker_encode_winsize(buf, sizeof buf, &len, 50, 0xffff), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->type, BROKER_MSG_WINSIZE);
        assert_int_equal(m->rows, 50);
        assert_int_equal(m->cols, 0xffff);
        assert_strict(buf, len);
        reencode_same(buf, len);

        assert_int_equal(broker_encode_started(buf, sizeof buf, &len, 4194304), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->type, BROKER_MSG_STARTED);
        assert_int_equal(m->pid, 4194304);
        assert_strict(buf, len);
        reencode_same(buf, len);

        assert_int_equal(broker_encode_exit(buf, sizeof buf, &len, BROKER_EXIT_EXITED, 255), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->type, BROKER_MSG_EXIT);
        assert_int_equal(m->exit_kind, BROKER_EXIT_EXITED);
        assert_int_equal(m->exit_code, 255);
        assert_strict(buf, len);
        reencode_same(buf, len);
        assert_int_equal(broker_encode_exit(buf, sizeof buf, &len, BROKER_EXIT_SIGNALED, SIGKILL), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->exit_kind, BROKER_EXIT_SIGNALED);
        assert_int_equal(m->exit_code, SIGKILL);
        reencode_same(buf, len);

        assert_int_equal(broker_encode_error(buf, sizeof buf, &len, -EPERM, "uid 1000 is not a user of level high"), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->type, BROKER_MSG_ERROR);
        assert_int_equal(m->error, -EPERM);
        assert_string_equal(m->message, "uid 1000 is not a user of level high");
        assert_strict(buf, len);
        reencode_same(buf, len);
        assert_int_equal(broker_encode_error(buf, sizeof buf, &len, -4095, NULL), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        assert_int_equal(m->error, -4095);
        assert_string_equal(m->message, "");
        reencode_same(buf, len);
}

static void test_small_refusals(void **state) {
        struct raw r;
        size_t len;
        char name32[33];
        (void) state;

        /* encoders */
        assert_int_equal(broker_encode_service(buf, sizeof buf, &len, ""), -EINVAL);
        assert_int_equal(broker_encode_service(buf, sizeof buf, &len, "Sync"), -EINVAL);
        assert_int_equal(broker_encode_service(buf, sizeof buf, &len, "1sync"), -EINVAL);
        assert_int_equal(broker_encode_service(buf, sizeof buf, &len, "a/b"), -EINVAL);
        memset(name32, 'a', 32);
        name32[32] = '\0';
        assert_int_equal(broker_encode_service(buf, sizeof buf, &len, name32), -EINVAL);
        name32[31] = '\0';
        assert_int_equal(broker_encode_service(buf, sizeof buf, &len, name32), 0);
        assert_int_equal(broker_encode_signal(buf, sizeof buf, &len, SIGKILL), -EINVAL);
        assert_int_equal(broker_encode_signal(buf, sizeof buf, &len, 0), -EINVAL);
        assert_int_equal(broker_encode_started(buf, sizeof buf, &len, 0), -EINVAL);
        assert_int_equal(broker_encode_started(buf, sizeof buf, &len, -5), -EINVAL);
        assert_int_equal(broker_encode_exit(buf, sizeof buf, &len, BROKER_EXIT_EXITED, 256), -EINVAL);
        assert_int_equal(broker_encode_exit(buf, sizeof buf, &len, BROKER_EXIT_EXITED, -1), -EINVAL);
        assert_int_equal(broker_encode_exit(buf, sizeof buf, &len, BROKER_EXIT_SIGNALED, 0), -EINVAL);
        assert_int_equal(broker_encode_exit(buf, sizeof buf, &len, BROKER_EXIT_SIGNALED, 65), -EINVAL);
        assert_int_equal(broker_encode_exit(buf, sizeof buf, &len, (enum broker_exit_kind) 3, 0), -EINVAL);
        assert_int_equal(broker_encode_error(buf, sizeof buf, &len, 0, "x"), -EINVAL);
        assert_int_equal(broker_encode_error(buf, sizeof buf, &len, 5, "x"), -EINVAL);
        assert_int_equal(broker_encode_error(buf, sizeof buf, &len, -4096, "x"), -EINVAL);
        assert_int_equal(broker_encode_error(buf, sizeof buf, &len, -1, "\x1b[31mred"), -EINVAL);
        assert_int_equal(broker_encode_error(buf, sizeof buf, &len, -1, "caf\xc3\xa9"), -EINVAL);

        /* decoder: service */
        raw_begin(&r, BROKER_MSG_SERVICE);
        raw_str(&r, "Bad", 3);
        raw_end(&r);
        assert_int_equal(decode_raw(&r), -EBADMSG);
        raw_begin(&r, BROKER_MSG_SERVICE);
        raw_str(&r, "", 0);
        raw_end(&r);
        assert_int_equal(decode_raw(&r), -EBADMSG);
        raw_begin(&r, BROKER_MSG_SERVICE);
        raw_str(&r, "a\0b", 3);
        raw_end(&r);
        assert_int_equal(decode_raw(&r), -EBADMSG);
        memset(name32, 'a', 32);
        raw_begin(&r, BROKER_MSG_SERVICE);
        raw_str(&r, name32, 32);
        raw_end(&r);
        assert_int_equal(decode_raw(&r), -EBADMSG);

        /* signals: not allowed, 0, out of range */
        static const uint32_t bad_sigs[] = { 0, SIGKILL, SIGSTOP, SIGUSR1, 65, 0x100 + SIGINT, 0xffffffffu };
        for (size_t i = 0; i < sizeof bad_sigs / sizeof bad_sigs[0]; i++) {
                raw_begin(&r, BROKER_MSG_SIGNAL);
                raw_u32(&r, bad_sigs[i]);
                raw_end(&r);
                assert_int_equal(decode_raw(&r), -EBADMSG);
        }
        /* STARTED */
        static const uint32_t bad_pids[] = { 0, 0x80000000u, 0xffffffffu };
        for (size_t i = 0; i < sizeof bad_pids / sizeof bad_pids[0]; i++) {
                raw_begin(&r, BROKER_MSG_STARTED);
                raw_u32(&r, bad_pids[i]);
                raw_end(&r);
                assert_int_equal(decode_raw(&r), -EBADMSG);
        }
        /* EXIT */
        static const uint32_t bad_exit[][2] = { { 1, 256 }, { 2, 0 }, { 2, 65 }, { 0, 0 }, { 3, 1 }, { 1, 0xffffffffu } };
        for (size_t i = 0; i < sizeof bad_exit / sizeof bad_exit[0]; i++) {
                raw_begin(&r, BROKER_MSG_EXIT);
                raw_u32(&r, bad_exit[i][0]);
                raw_u32(&r, bad_exit[i][1]);
                raw_end(&r);
                assert_int_equal(decode_raw(&r), -EBADMSG);
        }
        /* ERROR: code 0, positive, -4096; control, non-ASCII, NUL in the message; too long */
        static const uint32_t bad_codes[] = { 0, 1, 0x7fffffffu, 0xfffff000u };
        for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
                raw_begin(&r, BROKER_MSG_ERROR);
                raw_u32(&r, bad_codes[i]);
                raw_str(&r, "x", 1);
                raw_end(&r);
                assert_int_equal(decode_raw(&r), -EBADMSG);
        }
        static const char *const bad_msgs[] = { "a\nb", "\x1b]0;owned\x07", "\x7f", "\xc3\xa9", "a\0b" };
        for (size_t i = 0; i < sizeof bad_msgs / sizeof bad_msgs[0]; i++) {
                raw_begin(&r, BROKER_MSG_ERROR);
                raw_u32(&r, (uint32_t) -EPERM);
                raw_str(&r, bad_msgs[i], i == 4 ? 3 : strlen(bad_msgs[i]));
                raw_end(&r);
                assert_int_equal(decode_raw(&r), -EBADMSG);
        }
        static char longmsg[BROKER_ERRMSG_MAX + 1];
        memset(longmsg, 'x', sizeof longmsg);
        raw_begin(&r, BROKER_MSG_ERROR);
        raw_u32(&r, (uint32_t) -EPERM);
        raw_str(&r, longmsg, BROKER_ERRMSG_MAX);
        raw_end(&r);
        assert_int_equal(decode_raw(&r), 0);
        raw_begin(&r, BROKER_MSG_ERROR);
        raw_u32(&r, (uint32_t) -EPERM);
        raw_str(&r, longmsg, BROKER_ERRMSG_MAX + 1);
        raw_end(&r);
        assert_int_equal(decode_raw(&r), -EBADMSG);
        /* WINSIZE with an extra u16 */
        raw_begin(&r, BROKER_MSG_WINSIZE);
        raw_u16(&r, 1);
        raw_u16(&r, 2);
        raw_u16(&r, 3);
        raw_end(&r);
        assert_int_equal(decode_raw(&r), -EBADMSG);
}

static void test_header(void **state) {
        size_t len;
        (void) state;

        assert_int_equal(broker_encode_signal(buf, sizeof buf, &len, SIGINT), 0);
        assert_int_equal(broker_decode(buf, len, m), 0);
        /* the exact bytes: "RPBK", version 1, type 3, length 4, signo 2 */
        static const uint8_t expect[] = { 'R', 'P', 'B', 'K', 1, 0, 3, 0, 4, 0, 0, 0, 2, 0, 0, 0 };
        assert_int_equal(len, sizeof expect);
        assert_memory_equal(buf, expect, sizeof expect);

        /* every single-bit change of magic, version and type is refused */
        for (size_t byte = 0; byte < 8; byte++)
                for (int bit = 0; bit < 8; bit++) {
                        buf[byte] ^= (uint8_t) (1u << bit);
                        int r = broker_decode(buf, len, m);
                        /* type 3 ^ bit may land on another valid type with a 4-byte
                         * payload (1 RUN, 2 SERVICE, 4 WINSIZE...): those are
                         * payload-checked; only signal-shaped success would be wrong */
                        if (byte < 6)
                                assert_int_equal(r, -EBADMSG);
                        else if (r == 0)
                                assert_int_not_equal(m->type, BROKER_MSG_SIGNAL);
                        buf[byte] ^= (uint8_t) (1u << bit);
                }
        /* unknown types */
        static const uint16_t bad_types[] = { 0, 5, 0x80, 0x84, 0xffff };
        for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
                buf[6] = (uint8_t) bad_types[i];
                buf[7] = (uint8_t) (bad_types[i] >> 8);
                assert_int_equal(broker_decode(buf, len, m), -EBADMSG);
        }
        buf[6] = 3;
        buf[7] = 0;
        /* version 2, version 0 */
        buf[4] = 2;
        assert_int_equal(broker_decode(buf, len, m), -EBADMSG);
        buf[4] = 0;
        assert_int_equal(broker_decode(buf, len, m), -EBADMSG);
        buf[4] = 1;
        /* length lies: bigger, smaller, huge */
        set_len(buf, 5);
        assert_int_equal(broker_decode(buf, len, m), -EBADMSG);
        set_len(buf, 3);
        assert_int_equal(broker_decode(buf, len, m), -EBADMSG);
        set_len(buf, 0xffffffffu);
        assert_int_equal(broker_decode(buf, len, m), -EBADMSG);
        set_len(buf, 4);
        assert_int_equal(broker_decode(buf, len, m), 0);
        /* nothing, NULL, over 64 KiB */
        assert_int_equal(broker_decode(NULL, 0, m), -EBADMSG);
        assert_int_equal(broker_decode(buf, 0, m), -EBADMSG);
        assert_int_equal(broker_decode(buf, BROKER_MSG_MAX + 1, m), -EBADMSG);
}

/* ---- socket I/O ---- */

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;
        assert_non_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

static void sp(int s[2]) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s), 0);
}

/* Send raw bytes with n descriptors (all copies of fd). */
static void send_with_fds(int s, const uint8_t *b, size_t len, int fd, size_t n) {
        union {
                struct cmsghdr align;
                char c[CMSG_SPACE(sizeof(int) * 32)];
        } control = {};
        int fds[32];
        struct iovec iov = { .iov_base = (void *) b, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        for (size_t i = 0; i < n; i++)
                fds[i] = fd;
        if (n > 0) {
                mh.msg_control = control.c;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        }
        assert_int_equal(sendmsg(s, &mh, 0), (ssize_t) len);
}

static void test_io(void **state) {
        int s[2], fds[BROKER_N_FDS], pipefd[2];
        char *argv[] = { "/bin/true", NULL };
        size_t len, sig_len;
        uint8_t sig[32];
        (void) state;

        sp(s);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        int base = count_fds();
        assert_int_equal(broker_encode_run(buf, sizeof buf, &len, 0, argv, NULL), 0);
        assert_int_equal(broker_encode_signal(sig, sizeof sig, &sig_len, SIGINT), 0);

        /* RUN with three descriptors: received, close-on-exec */
        int three[3] = { pipefd[0], pipefd[1], pipefd[1] };
        assert_int_equal(broker_send(s[0], buf, len, three, 3), 0);
        assert_int_equal(broker_recv(s[1], m, fds), 0);
        assert_int_equal(m->type, BROKER_MSG_RUN);
        for (int i = 0; i < 3; i++) {
                assert_true(fds[i] >= 0);
                assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
                close(fds[i]);
        }
        assert_int_equal(count_fds(), base);

        /* wrong counts: 0, 1, 2, 4, 16, 20 (beyond the room: MSG_CTRUNC); none leaks */
        static const size_t counts[] = { 0, 1, 2, 4, 16, 20 };
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
                send_with_fds(s[0], buf, len, pipefd[0], counts[i]);
                assert_int_equal(broker_recv(s[1], m, fds), -EBADMSG);
                assert_int_equal(fds[0], -1);
                assert_int_equal(count_fds(), base);
        }
        /* a message that carries no descriptors, with some */
        send_with_fds(s[0], sig, sig_len, pipefd[0], 3);
        assert_int_equal(broker_recv(s[1], m, fds), -EBADMSG);
        assert_int_equal(count_fds(), base);
        send_with_fds(s[0], sig, sig_len, pipefd[0], 0);
        assert_int_equal(broker_recv(s[1], m, fds), 0);
        assert_int_equal(m->signo, SIGINT);
        assert_int_equal(fds[0], -1);
        /* the sender refuses other counts */
        assert_int_equal(broker_send(s[0], sig, sig_len, three, 2), -EINVAL);
        /* a malformed datagram with descriptors: refused, closed */
        buf[0] ^= 1;
        send_with_fds(s[0], buf, len, pipefd[0], 3);
        buf[0] ^= 1;
        assert_int_equal(broker_recv(s[1], m, fds), -EBADMSG);
        assert_int_equal(count_fds(), base);
        /* a datagram over 64 KiB (MSG_TRUNC) */
        static uint8_t huge[BROKER_MSG_MAX + 100];
        memcpy(huge, buf, len);
        send_with_fds(s[0], huge, sizeof huge, pipefd[0], 3);
        assert_int_equal(broker_recv(s[1], m, fds), -EBADMSG);
        assert_int_equal(count_fds(), base);
        /* an empty datagram, then end of stream */
        send_with_fds(s[0], buf, 0, pipefd[0], 0);
        assert_int_equal(broker_recv(s[1], m, fds), -ECONNRESET);
        close(s[0]);
        assert_int_equal(broker_recv(s[1], m, fds), -ECONNRESET);
        close(s[1]);
        /* the peer gone: EPIPE, no SIGPIPE */
        sp(s);
        close(s[1]);
        assert_int_equal(broker_send(s[0], sig, sig_len, NULL, 0), -EPIPE);
        close(s[0]);
        close(pipefd[0]);
        close(pipefd[1]);
}

/* ---- the client against a fake broker ---- */

static char sock_dir[64], sock_path[128];

enum fake_script { FAKE_EXIT_SIGNALED, FAKE_ERROR, FAKE_BAD_ERROR, FAKE_EXIT_BEFORE_START, FAKE_CLOSE };

/* A fake broker that serves one connection as the script says, and exits
 * 0 when the request was as expected. */
static pid_t fake_broker(enum fake_script script) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        assert_true(l >= 0);
        (void) unlink(sock_path);
        memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
        assert_int_equal(bind(l, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(l, 1), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid > 0) {
                close(l);
                return pid;
        }
        static struct broker_msg req;
        static uint8_t out[256];
        int fds[3], c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        size_t len = 0;
        if (c < 0 || broker_recv(c, &req, fds) < 0)
                _exit(10);
        if (req.type == BROKER_MSG_RUN && (req.argc != 2 || strcmp(req.argv[1], "x") != 0 || req.envc != 1))
                _exit(11);
        if (req.type == BROKER_MSG_SERVICE && strcmp(req.service, "sync") != 0)
                _exit(12);
        for (int i = 0; i < 3; i++)
                close(fds[i]);
        switch (script) {
        case FAKE_EXIT_SIGNALED:
                if (broker_encode_started(out, sizeof out, &len, 42) < 0 || broker_send(c, out, len, NULL, 0) < 0)
                        _exit(13);
                if (broker_encode_exit(out, sizeof out, &len, BROKER_EXIT_SIGNALED, SIGTERM) < 0 ||
                    broker_send(c, out, len, NULL, 0) < 0)
                        _exit(14);
                break;
        case FAKE_ERROR:
                if (broker_encode_error(out, sizeof out, &len, -EPERM, "uid 7 is not a user of level test") < 0 ||
                    broker_send(c, out, len, NULL, 0) < 0)
                        _exit(15);
                break;
        case FAKE_BAD_ERROR: {
                /* a terminal escape in the message: the client must refuse it */
                static const uint8_t bad[] = { 'R', 'P', 'B', 'K', 1, 0, 0x83, 0, 11, 0, 0, 0, 0xff, 0xff,
                                               0xff, 0xff, 3, 0, 0, 0, 0x1b, '[', 'J' };
                if (broker_send(c, bad, sizeof bad, NULL, 0) < 0)
                        _exit(16);
                break;
        }
        case FAKE_EXIT_BEFORE_START:
                if (broker_encode_exit(out, sizeof out, &len, BROKER_EXIT_EXITED, 0) < 0 ||
                    broker_send(c, out, len, NULL, 0) < 0)
                        _exit(17);
                break;
        case FAKE_CLOSE:
                break;
        }
        close(c);
        _exit(0);
}

static int check_any(const struct broker_peer *peer, void *userdata) {
        struct broker_peer *seen = userdata;
        *seen = *peer;
        return 0;
}

static int check_refuse(const struct broker_peer *peer, void *userdata) {
        (void) peer;
        (void) userdata;
        return -EACCES;
}

static void wait_fake(pid_t pid) {
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_client(void **state) {
        struct broker_peer seen = {};
        struct broker_client_opts opts = { .check_peer = check_any, .userdata = &seen };
        struct broker_result res;
        int fds[3] = { 0, 1, 2 };
        char *argv[] = { "/bin/echo", "x", NULL };
        char *env[] = { "TERM=dumb", NULL };
        pid_t pid;
        (void) state;

        assert_non_null(mkdtemp(strcpy(sock_dir, "/tmp/test-broker.XXXXXX")));
        (void) snprintf(sock_path, sizeof sock_path, "%s/s", sock_dir);

        pid = fake_broker(FAKE_EXIT_SIGNALED);
        assert_int_equal(broker_client_run(sock_path, 0, argv, env, fds, &opts, &res), 0);
        wait_fake(pid);
        /* The broker's identity, from the kernel: the process that called
         * listen(), here this one (the fake forks after listening). */
        assert_int_equal(seen.pid, getpid());
        assert_int_equal(seen.uid, getuid());
        assert_int_equal(res.peer.pid, getpid());
        assert_int_equal(res.peer.pidfd, -1);
        assert_int_equal(res.pid, 42);
        assert_true(res.exited);
        assert_int_equal(res.kind, BROKER_EXIT_SIGNALED);
        assert_int_equal(res.code, SIGTERM);
        assert_int_equal(res.status, 128 + SIGTERM);
        assert_int_equal(res.error, 0);

        pid = fake_broker(FAKE_ERROR);
        assert_int_equal(broker_client_run(sock_path, 0, argv, env, fds, &opts, &res), -EPERM);
        wait_fake(pid);
        assert_int_equal(res.error, -EPERM);
        assert_string_equal(res.message, "uid 7 is not a user of level test");
        assert_int_equal(res.status, -1);
        assert_int_equal(res.pid, 0);

        pid = fake_broker(FAKE_BAD_ERROR);
        assert_int_equal(broker_client_service(sock_path, "sync", fds, &opts, &res), -EPROTO);
        wait_fake(pid);
        assert_string_equal(res.message, "");

        pid = fake_broker(FAKE_EXIT_BEFORE_START);
        assert_int_equal(broker_client_service(sock_path, "sync", fds, &opts, &res), -EPROTO);
        wait_fake(pid);

        pid = fake_broker(FAKE_CLOSE);
        assert_int_equal(broker_client_run(sock_path, 0, argv, env, fds, &opts, &res), -ECONNRESET);
        wait_fake(pid);

        /* the peer check refuses: nothing is sent (the fake sees EOF) */
        opts.check_peer = check_refuse;
        pid = fake_broker(FAKE_CLOSE);
        assert_int_equal(broker_client_run(sock_path, 0, argv, env, fds, &opts, &res), -EACCES);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_int_equal(WEXITSTATUS(st), 10);

        /* invalid requests never leave the process */
        char *badenv[] = { "LD_PRELOAD=/x.so", NULL };
        assert_int_equal(broker_client_run(sock_path, 0, argv, badenv, fds, &opts, &res), -EINVAL);
        assert_int_equal(broker_client_service(sock_path, "../x", fds, &opts, &res), -EINVAL);
        /* nobody listening */
        (void) unlink(sock_path);
        assert_int_equal(broker_client_run(sock_path, 0, argv, env, fds, &opts, &res), -ENOENT);
        assert_int_equal(rmdir(sock_dir), 0);
}

static int setup(void **state) {
        (void) state;
        m = malloc(sizeof *m);
        return m ? 0 : -1;
}

static int teardown(void **state) {
        (void) state;
        free(m);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_run_roundtrip), cmocka_unit_test(test_run_limits),
                cmocka_unit_test(test_run_strings),   cmocka_unit_test(test_env),
                cmocka_unit_test(test_small_roundtrips), cmocka_unit_test(test_small_refusals),
                cmocka_unit_test(test_header),        cmocka_unit_test(test_io),
                cmocka_unit_test(test_client),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: MIT */
/* Test client of a level's transfer socket that sends hand-made, hostile
 * streams (rempart-xfer would refuse to produce any of them).  Run inside
 * a level by tests/host/test-xfer.sh and by the image's e2e tests.  Links
 * nothing but libc, like level-probe.
 *
 *   xfer-rawsend CASE TARGET-LEVEL
 *   xfer-rawsend --list
 *
 * Prints the service's last answer, "CODE TEXT" (GO DONE HELD DENIED
 * FAILED EXPIRED), or "EOF" when the service closed without one.  The
 * stream format is src/xfer/stream.h (little-endian). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "stream.h" /* XFER_STREAM_VERSION, XFER_STREAM_MAGIC */

#define SOCK_DEFAULT "/run/rempart/xfer/xfer.sock"

struct buf {
        uint8_t *p;
        size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n) {
        if (b->len + n > b->cap) {
                b->cap = (b->len + n) * 2;
                b->p = realloc(b->p, b->cap);
                if (!b->p)
                        exit(2);
        }
        memcpy(b->p + b->len, p, n);
        b->len += n;
}

static void le(struct buf *b, uint64_t v, unsigned n) {
        uint8_t x[8];
        for (unsigned i = 0; i < n; i++)
                x[i] = (uint8_t) (v >> (8 * i));
        put(b, x, n);
}

static void header(struct buf *b, uint64_t entries, uint64_t bytes) {
        le(b, XFER_STREAM_MAGIC, 4);
        le(b, XFER_STREAM_VERSION, 2);
        le(b, 0, 2);
        le(b, entries, 8);
        le(b, bytes, 8);
}

static void entry(struct buf *b, char type, const char *name, size_t name_len, uint64_t size, uint32_t mode) {
        le(b, (uint8_t) type, 1);
        le(b, mode, 4);
        le(b, 1700000000, 8);
        le(b, 0, 4);
        le(b, size, 8);
        le(b, name_len, 2);
        put(b, name, name_len);
}

static void data(struct buf *b, char c, size_t n) {
        for (size_t i = 0; i < n; i++)
                put(b, &c, 1);
}

#define N(s) s, sizeof(s) - 1

static const char *const cases[] = {
        "dotdot", "absolute", "newline", "bad-utf8", "overlong-utf8", "bidi", "symlink-type", "device-type",
        "setuid-mode", "size-lie", "count-lie", "duplicate", "truncated", "too-many-files", "over-quota-bytes",
        "garbage", NULL,
};

static int build(const char *c, struct buf *b) {
        const uint64_t big = UINT64_C(9) * 1024 * 1024;
        if (strcmp(c, "dotdot") == 0)
                header(b, 1, 1), entry(b, 'F', N("../evil"), 1, 0644), data(b, 'x', 1);
        else if (strcmp(c, "absolute") == 0)
                header(b, 1, 1), entry(b, 'F', N("/etc/evil"), 1, 0644), data(b, 'x', 1);
        else if (strcmp(c, "newline") == 0)
                header(b, 1, 1), entry(b, 'F', N("a\nb"), 1, 0644), data(b, 'x', 1);
        else if (strcmp(c, "bad-utf8") == 0)
                header(b, 1, 1), entry(b, 'F', N("\xff\xfe.txt"), 1, 0644), data(b, 'x', 1);
        else if (strcmp(c, "overlong-utf8") == 0)
                header(b, 1, 1), entry(b, 'F', N("\xc0\xaf.txt"), 1, 0644), data(b, 'x', 1);
        else if (strcmp(c, "bidi") == 0) /* U+202E RIGHT-TO-LEFT OVERRIDE */
                header(b, 1, 1), entry(b, 'F', N("a\xe2\x80\xaetxt.exe"), 1, 0644), data(b, 'x', 1);
        else if (strcmp(c, "symlink-type") == 0)
                header(b, 1, 0), entry(b, 'L', N("link"), 0, 0777);
        else if (strcmp(c, "device-type") == 0)
                header(b, 1, 0), entry(b, 'C', N("null"), 0, 0666);
        else if (strcmp(c, "setuid-mode") == 0)
                header(b, 1, 1), entry(b, 'F', N("suid"), 1, 04755), data(b, 'x', 1);
        else if (strcmp(c, "size-lie") == 0)
                header(b, 1, 10), entry(b, 'F', N("f"), 100, 0644), data(b, 'x', 100);
        else if (strcmp(c, "count-lie") == 0)
                header(b, 1, 2), entry(b, 'F', N("a"), 1, 0644), data(b, 'x', 1), entry(b, 'F', N("b"), 1, 0644),
                        data(b, 'y', 1);
        else if (strcmp(c, "duplicate") == 0)
                header(b, 2, 2), entry(b, 'F', N("a"), 1, 0644), data(b, 'x', 1), entry(b, 'F', N("a"), 1, 0644),
                        data(b, 'y', 1);
        else if (strcmp(c, "truncated") == 0)
                header(b, 1, 1000), entry(b, 'F', N("t"), 1000, 0644), data(b, 'x', 10);
        else if (strcmp(c, "too-many-files") == 0)
                header(b, 100001, 100001);
        else if (strcmp(c, "over-quota-bytes") == 0)
                header(b, 1, big), entry(b, 'F', N("big"), big, 0644);
        else if (strcmp(c, "garbage") == 0)
                for (int i = 0; i < 4; i++)
                        put(b, "hello, transfer service", 23);
        else if (strcmp(c, "slow") != 0)
                return -1;
        return 0;
}

static int read_all(int fd, void *p, size_t n) {
        uint8_t *q = p;
        while (n > 0) {
                ssize_t k = read(fd, q, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                q += k;
                n -= (size_t) k;
        }
        return 0;
}

static int send_all(int fd, const void *p, size_t n) {
        const uint8_t *q = p;
        while (n > 0) {
                ssize_t k = send(fd, q, n, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -1;
                q += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Read one reply; print it when last.  Returns its code, -1 on EOF. */
static int reply(int fd, bool print) {
        static const char *const names[] = { "?", "GO", "DONE", "HELD", "DENIED", "FAILED", "EXPIRED" };
        uint8_t h[8];
        char text[1025];
        if (read_all(fd, h, 8) < 0) {
                printf("EOF\n");
                return -1;
        }
        unsigned code = h[4] | (h[5] << 8), n = h[6] | (h[7] << 8);
        if (n > 1024 || read_all(fd, text, n) < 0) {
                printf("EOF\n");
                return -1;
        }
        text[n] = '\0';
        if (print || code != 1)
                printf("%s %s\n", code < 7 ? names[code] : "?", text);
        return (int) code;
}

int main(int argc, char **argv) {
        struct buf b = { 0 };
        const char *sock = getenv("REMPART_XFER_SOCKET") ? getenv("REMPART_XFER_SOCKET") : SOCK_DEFAULT;

        if (argc == 2 && strcmp(argv[1], "--list") == 0) {
                for (int i = 0; cases[i]; i++)
                        printf("%s\n", cases[i]);
                return 0;
        }
        if (argc != 3 || build(argv[1], &b) < 0 || strlen(argv[2]) > 31) {
                free(b.p);
                fprintf(stderr, "usage: xfer-rawsend CASE TARGET-LEVEL (xfer-rawsend --list)\n");
                return 2;
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                perror("connect");
                free(b.p);
                return 1;
        }
        struct buf req = { 0 };
        le(&req, 0x51585052, 4); /* "RPXQ" */
        le(&req, 1, 2);          /* protocol version */
        le(&req, 1, 2);          /* SEND */
        le(&req, strlen(argv[2]), 2);
        put(&req, argv[2], strlen(argv[2]));
        if (send_all(fd, req.p, req.len) < 0 || reply(fd, false) != 1) {
                free(b.p);
                free(req.p);
                return 0; /* denied or gone: printed */
        }

        if (strcmp(argv[1], "slow") == 0) {
                /* A 5 MiB file sent slowly (about 10 s): the test kills the
                 * parser meanwhile, and the rest is refused. */
                const uint64_t size = UINT64_C(5) * 1024 * 1024;
                static uint8_t chunk[65536];
                memset(chunk, 's', sizeof chunk);
                header(&b, 1, size);
                entry(&b, 'F', N("slow"), size, 0644);
                if (send_all(fd, b.p, b.len) == 0) {
                        printf("SENDING\n");
                        (void) fflush(stdout);
                        struct timespec ts = { 0, 125000000L };
                        for (uint64_t sent = 0; sent < size; sent += sizeof chunk) {
                                if (send_all(fd, chunk, sizeof chunk) < 0)
                                        break;
                                nanosleep(&ts, NULL);
                        }
                }
        } else
                (void) send_all(fd, b.p, b.len); /* an error: the service stopped reading */
        (void) shutdown(fd, SHUT_WR);
        (void) reply(fd, true);
        free(b.p);
        free(req.p);
        return 0;
}

/* SPDX-License-Identifier: MIT */
/* Level <-> rempart-xferd messages: see xfer-proto.h. */
#include "xfer-proto.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "policy.h" /* xfer_level_name_valid() */

static void put16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
        for (unsigned i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static uint16_t get16(const uint8_t *p) {
        return (uint16_t) (p[0] | (p[1] << 8));
}
static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

bool xfer_text_printable(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
                        return false;
        return true;
}

static bool op_valid(unsigned op) {
        return op == XFER_PROTO_SEND || op == XFER_PROTO_SEND_WAIT || op == XFER_PROTO_CONFIRM;
}

static bool code_valid(unsigned c) {
        return c >= XFER_REPLY_GO && c <= XFER_REPLY_EXPIRED;
}

const char *xfer_reply_code_name(enum xfer_reply_code c) {
        static const char *const names[] = {
                [XFER_REPLY_GO] = "GO",         [XFER_REPLY_DONE] = "DONE",
                [XFER_REPLY_HELD] = "HELD",     [XFER_REPLY_DENIED] = "DENIED",
                [XFER_REPLY_FAILED] = "FAILED", [XFER_REPLY_EXPIRED] = "EXPIRED",
        };
        return code_valid(c) ? names[c] : "?";
}

int xfer_request_encode(const struct xfer_request *req, uint8_t *buf, size_t size) {
        size_t n = strnlen(req->target, sizeof req->target);

        if (!op_valid(req->op) || n >= sizeof req->target || !xfer_level_name_valid(req->target) ||
            size < XFER_REQUEST_FIXED + n)
                return -EINVAL;
        put32(buf, XFER_REQUEST_MAGIC);
        put16(buf + 4, XFER_PROTO_VERSION);
        put16(buf + 6, (uint16_t) req->op);
        put16(buf + 8, (uint16_t) n);
        memcpy(buf + XFER_REQUEST_FIXED, req->target, n);
        return (int) (XFER_REQUEST_FIXED + n);
}

int xfer_reply_encode(enum xfer_reply_code code, const char *text, uint8_t *buf, size_t size) {
        size_t n = text ? strlen(text) : 0;

        if (!code_valid(code) || n > XFER_REPLY_TEXT_MAX || !xfer_text_printable(text ? text : "", n) ||
            size < XFER_REPLY_FIXED + n)
                return -EINVAL;
        put32(buf, XFER_REPLY_MAGIC);
        put16(buf + 4, (uint16_t) code);
        put16(buf + 6, (uint16_t) n);
        /* Length-prefixed on the wire: no NUL. */
        for (size_t i = 0; i < n; i++)
                buf[XFER_REPLY_FIXED + i] = (uint8_t) text[i];
        return (int) (XFER_REPLY_FIXED + n);
}

int xfer_request_size(const uint8_t *buf, size_t len) {
        if (len < XFER_REQUEST_FIXED)
                return 0;
        if (get32(buf) != XFER_REQUEST_MAGIC || get16(buf + 4) != XFER_PROTO_VERSION)
                return -EBADMSG;
        uint16_t n = get16(buf + 8);
        if (n == 0 || n > XFER_REQUEST_MAX - XFER_REQUEST_FIXED)
                return -EBADMSG;
        return XFER_REQUEST_FIXED + n;
}

int xfer_reply_size(const uint8_t *buf, size_t len) {
        if (len < XFER_REPLY_FIXED)
                return 0;
        if (get32(buf) != XFER_REPLY_MAGIC)
                return -EBADMSG;
        uint16_t n = get16(buf + 6);
        if (n > XFER_REPLY_TEXT_MAX)
                return -EBADMSG;
        return XFER_REPLY_FIXED + n;
}

int xfer_request_decode(const uint8_t *buf, size_t len, struct xfer_request *ret) {
        int size = xfer_request_size(buf, len);

        if (size <= 0 || (size_t) size != len)
                return -EBADMSG;
        unsigned op = get16(buf + 6);
        size_t n = get16(buf + 8);
        if (!op_valid(op) || n >= sizeof ret->target)
                return -EBADMSG;
        memset(ret, 0, sizeof *ret);
        memcpy(ret->target, buf + XFER_REQUEST_FIXED, n);
        if (strlen(ret->target) != n || !xfer_level_name_valid(ret->target))
                return -EBADMSG;
        ret->op = (enum xfer_proto_op) op;
        return 0;
}

int xfer_reply_decode(const uint8_t *buf, size_t len, struct xfer_reply *ret) {
        int size = xfer_reply_size(buf, len);

        if (size <= 0 || (size_t) size != len)
                return -EBADMSG;
        unsigned code = get16(buf + 4);
        size_t n = get16(buf + 6);
        if (!code_valid(code) || !xfer_text_printable((const char *) buf + XFER_REPLY_FIXED, n))
                return -EBADMSG;
        ret->code = (enum xfer_reply_code) code;
        memcpy(ret->text, buf + XFER_REPLY_FIXED, n);
        ret->text[n] = '\0';
        return 0;
}

/* Read one message whose size the fixed part tells: read the fixed part,
 * then exactly the rest (never a byte more: what follows a request is the
 * transfer stream, read by someone else). */
static int read_message(int fd, uint8_t *buf, size_t fixed, size_t max, int (*size_of)(const uint8_t *, size_t)) {
        int r = read_exact(fd, buf, fixed);
        if (r < 0)
                return r == -EPIPE || r == -ENODATA ? -ECONNRESET : r;
        int size = size_of(buf, fixed);
        if (size < 0)
                return size;
        if ((size_t) size > max)
                return -EBADMSG;
        r = read_exact(fd, buf + fixed, (size_t) size - fixed);
        if (r < 0)
                return r == -EPIPE || r == -ENODATA ? -ECONNRESET : r;
        return size;
}

int xfer_request_read(int fd, struct xfer_request *ret) {
        uint8_t buf[XFER_REQUEST_MAX];
        int size = read_message(fd, buf, XFER_REQUEST_FIXED, sizeof buf, xfer_request_size);
        if (size < 0)
                return size;
        return xfer_request_decode(buf, (size_t) size, ret);
}

int xfer_reply_read(int fd, struct xfer_reply *ret) {
        uint8_t buf[XFER_REPLY_MAX];
        int size = read_message(fd, buf, XFER_REPLY_FIXED, sizeof buf, xfer_reply_size);
        if (size < 0)
                return size;
        return xfer_reply_decode(buf, (size_t) size, ret);
}

int xfer_reply_write(int fd, enum xfer_reply_code code, const char *text) {
        uint8_t buf[XFER_REPLY_MAX];
        int n = xfer_reply_encode(code, text, buf, sizeof buf);
        if (n < 0)
                return n;
        return write_all(fd, buf, (size_t) n);
}

int xfer_request_write(int fd, const struct xfer_request *req) {
        uint8_t buf[XFER_REQUEST_MAX];
        int n = xfer_request_encode(req, buf, sizeof buf);
        if (n < 0)
                return n;
        return write_all(fd, buf, (size_t) n);
}

char *xfer_text_sanitize(const char *s, char *out, size_t outlen) {
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        if (outlen == 0)
                return out;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                bool plain = *p >= 0x20 && *p <= 0x7e;
                if (o + (plain ? 1 : 4) + 1 > outlen)
                        break;
                if (plain)
                        out[o++] = (char) *p;
                else {
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[*p >> 4];
                        out[o++] = hex[*p & 0xf];
                }
        }
        out[o] = '\0';
        return out;
}

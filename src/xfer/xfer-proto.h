/* SPDX-License-Identifier: MIT */
/* The messages between rempart-xfer (inside a level) and rempart-xferd (in
 * the core), on the level's transfer socket (SOCK_STREAM,
 * /run/rempart/xfer/xfer.sock inside the level).
 *
 *   client -> daemon   request   u32 magic "RPXQ"  u16 version 1  u16 op
 *                                u16 target_len (1..31)  target (level name)
 *   daemon -> client   reply     u32 magic "RPXR"  u16 code  u16 text_len
 *                                (0..XFER_REPLY_TEXT_MAX)  text (printable ASCII)
 *
 * SEND:    request; the daemon answers GO (text "MAX_BYTES MAX_FILES": the
 *          quotas, so that the sender can refuse early) or DENIED; after GO
 *          the client sends the transfer stream (stream.h) and shuts its
 *          side down; the daemon answers DONE (text: where it arrived, as
 *          seen in the target level), HELD (text: "ID EXPIRES_IN_SECONDS")
 *          or FAILED.  After HELD, a client that asked to wait
 *          (XFER_OP_SEND_WAIT) gets one more reply: DONE, DENIED (refused
 *          by the user), EXPIRED or FAILED.
 * CONFIRM: a level may not confirm anything: always answered DENIED (and
 *          audited); it exists so that the refusal is explicit.
 *
 * The daemon trusts nothing in the request but its shape: who sends
 * comes from the socket (which level's socket, SO_PEERCRED, the pid
 * namespace).  Decoders are strict and pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XFER_REQUEST_MAGIC UINT32_C(0x51585052) /* "RPXQ" */
#define XFER_REPLY_MAGIC UINT32_C(0x52585052)   /* "RPXR" */
#define XFER_PROTO_VERSION 1
#define XFER_REQUEST_FIXED 10                   /* before the target name */
#define XFER_REQUEST_MAX (XFER_REQUEST_FIXED + 31)
#define XFER_REPLY_FIXED 8
#define XFER_REPLY_TEXT_MAX 1024
#define XFER_REPLY_MAX (XFER_REPLY_FIXED + XFER_REPLY_TEXT_MAX)

enum xfer_proto_op {
        XFER_PROTO_SEND = 1,
        XFER_PROTO_SEND_WAIT = 2, /* SEND, and wait for the confirmation */
        XFER_PROTO_CONFIRM = 3,   /* always refused: see above */
};

enum xfer_reply_code {
        XFER_REPLY_GO = 1,
        XFER_REPLY_DONE = 2,
        XFER_REPLY_HELD = 3,
        XFER_REPLY_DENIED = 4,
        XFER_REPLY_FAILED = 5,
        XFER_REPLY_EXPIRED = 6,
};

struct xfer_request {
        enum xfer_proto_op op;
        char target[32];
};

struct xfer_reply {
        enum xfer_reply_code code;
        char text[XFER_REPLY_TEXT_MAX + 1];
};

/* Encode into buf (at least XFER_REQUEST_MAX / XFER_REPLY_MAX bytes).
 * Return the length, or -EINVAL (bad op or code, invalid level name, text
 * too long or not printable ASCII). */
int xfer_request_encode(const struct xfer_request *req, uint8_t *buf, size_t size);
int xfer_reply_encode(enum xfer_reply_code code, const char *text, uint8_t *buf, size_t size);

/* How many bytes the message starting with the len bytes of buf needs in
 * all: 0 when its fixed part is not complete yet, -EBADMSG when that part
 * is already wrong (magic, version, lengths). */
int xfer_request_size(const uint8_t *buf, size_t len);
int xfer_reply_size(const uint8_t *buf, size_t len);

/* Decode exactly one whole message (len must be what *_size() said).
 * Returns 0 or -EBADMSG (unknown op or code, invalid level name, text not
 * printable ASCII, trailing bytes). */
int xfer_request_decode(const uint8_t *buf, size_t len, struct xfer_request *ret);
int xfer_reply_decode(const uint8_t *buf, size_t len, struct xfer_reply *ret);

/* Read/write one message on a blocking descriptor: 0, -EBADMSG,
 * -ECONNRESET (EOF before a whole message) or -errno. */
int xfer_request_read(int fd, struct xfer_request *ret);
int xfer_reply_read(int fd, struct xfer_reply *ret);
int xfer_reply_write(int fd, enum xfer_reply_code code, const char *text);
int xfer_request_write(int fd, const struct xfer_request *req);

const char *xfer_reply_code_name(enum xfer_reply_code c);

/* True when s is printable ASCII (0x20..0x7e) only. */
bool xfer_text_printable(const char *s, size_t len);

/* s as printable ASCII for a reply or a control answer: printable ASCII
 * kept, any other byte (control characters, UTF-8 of names) as \xNN; cut
 * to fit outlen with its NUL.  Returns out. */
char *xfer_text_sanitize(const char *s, char *out, size_t outlen);

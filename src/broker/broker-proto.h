/* SPDX-License-Identifier: MIT */
/* Wire protocol between the core-side client and a level's session broker.
 *
 * Transport: a UNIX SOCK_SEQPACKET connection, one request per connection.
 * Every message is one datagram (the kernel keeps the boundaries):
 *
 *   offset 0  u32 magic   0x4b425052 ("RPBK" on the wire)
 *          4  u16 version 1
 *          6  u16 type    enum broker_msg_type
 *          8  u32 length  payload bytes that follow (the datagram is exactly
 *                         BROKER_HDR_SIZE + length bytes)
 *
 * All integers are little-endian, written and read byte by byte.  A string
 * is a u32 byte count followed by that many bytes, no NUL among them and
 * no terminator.  Payloads (in this order, nothing after them):
 *
 *   RUN      u32 flags (BROKER_RUN_*), u32 argc, argc strings,
 *            u32 envc, envc strings "NAME=VALUE" (broker_env_allowed)
 *   SERVICE  string name ([a-z][a-z0-9_-]*, 1..BROKER_SERVICE_MAX bytes)
 *   SIGNAL   u32 signo (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH)
 *   WINSIZE  u16 rows, u16 cols
 *   STARTED  u32 pid (1..INT32_MAX, the command's pid inside the level)
 *   EXIT     u32 kind (BROKER_EXIT_*), u32 code (0..255, or signal 1..64)
 *   ERROR    u32 code (a negative errno, two's complement, -4095..-1),
 *            string message (printable ASCII only, 0..BROKER_ERRMSG_MAX)
 *
 * RUN and SERVICE carry exactly three file descriptors (SCM_RIGHTS): the
 * command's stdin, stdout and stderr.  No other message carries any.
 *
 * The encoders and the decoder are pure functions (buffers in, structures
 * out, no allocation, no system call), so that a fuzzer can drive the
 * decoder.  The decoder accepts only the canonical encoding: decoding then
 * encoding again gives the same bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BROKER_PROTO_MAGIC UINT32_C(0x4b425052)
#define BROKER_PROTO_VERSION 1
#define BROKER_HDR_SIZE 12
#define BROKER_MSG_MAX 65536      /* whole datagram, header included */
#define BROKER_ARGC_MAX 256
#define BROKER_ENVC_MAX 32
#define BROKER_STRING_MAX 4096    /* bytes of one string, terminator excluded */
#define BROKER_SERVICE_MAX 31
#define BROKER_ERRMSG_MAX 1024
#define BROKER_ENV_VALUE_MAX 64
#define BROKER_N_FDS 3            /* stdin, stdout, stderr */

#define BROKER_DEFAULT_SOCKET "/run/rempart/broker/broker.sock"

enum broker_msg_type {
        /* client -> broker */
        BROKER_MSG_RUN = 1,
        BROKER_MSG_SERVICE = 2,
        BROKER_MSG_SIGNAL = 3,
        BROKER_MSG_WINSIZE = 4,
        /* broker -> client */
        BROKER_MSG_STARTED = 0x81,
        BROKER_MSG_EXIT = 0x82,
        BROKER_MSG_ERROR = 0x83,
};

/* RUN flags */
#define BROKER_RUN_TTY UINT32_C(0x1) /* stdin is a terminal: make it the controlling one */
#define BROKER_RUN_FLAGS_ALL BROKER_RUN_TTY

enum broker_exit_kind {
        BROKER_EXIT_EXITED = 1,   /* code = exit status 0..255 */
        BROKER_EXIT_SIGNALED = 2, /* code = signal number 1..64 */
};

/* A decoded message.  argv/env point into strings[]: the structure must not
 * be copied by assignment while they are used.  It is large (about 70 KiB):
 * allocate it, do not put it on a small stack. */
struct broker_msg {
        enum broker_msg_type type;
        /* RUN */
        uint32_t flags;
        unsigned argc, envc;
        char *argv[BROKER_ARGC_MAX + 1]; /* NULL-terminated */
        char *env[BROKER_ENVC_MAX + 1];  /* NULL-terminated */
        /* SERVICE */
        char service[BROKER_SERVICE_MAX + 1];
        /* SIGNAL */
        int signo;
        /* WINSIZE */
        uint16_t rows, cols;
        /* STARTED */
        pid_t pid;
        /* EXIT */
        enum broker_exit_kind exit_kind;
        int exit_code;
        /* ERROR */
        int error;
        char message[BROKER_ERRMSG_MAX + 1];
        /* storage of the RUN strings, NUL-terminated one after the other */
        char strings[BROKER_MSG_MAX];
};

/* Name of a message type for logs ("RUN", ...), "unknown" otherwise. */
const char *broker_msg_type_name(unsigned type);

/* The signals a client may forward (SIGNAL). */
bool broker_signal_allowed(int signo);
/* True when "NAME=VALUE" may be passed in RUN: NAME is TERM, LANG, COLUMNS,
 * LINES or one of the LC_* locale categories; VALUE is 1..64 bytes of
 * [A-Za-z0-9._@+-] (COLUMNS, LINES: a number 1..9999 without leading 0). */
bool broker_env_allowed(const char *entry);
/* True when name is a valid service name ([a-z][a-z0-9_-]*, at most
 * BROKER_SERVICE_MAX bytes). */
bool broker_service_name_valid(const char *name);

/* Encoders: write one message into buf (size bytes), set *ret_len.
 * Return 0, -EINVAL when a field is out of range (same rules as the
 * decoder), or -E2BIG/-ENOBUFS when it does not fit in BROKER_MSG_MAX/size. */
int broker_encode_run(uint8_t *buf, size_t size, size_t *ret_len, uint32_t flags, char *const argv[],
                      char *const env[]);
int broker_encode_service(uint8_t *buf, size_t size, size_t *ret_len, const char *name);
int broker_encode_signal(uint8_t *buf, size_t size, size_t *ret_len, int signo);
int broker_encode_winsize(uint8_t *buf, size_t size, size_t *ret_len, uint16_t rows, uint16_t cols);
int broker_encode_started(uint8_t *buf, size_t size, size_t *ret_len, pid_t pid);
int broker_encode_exit(uint8_t *buf, size_t size, size_t *ret_len, enum broker_exit_kind kind, int code);
/* message may be NULL (empty); bytes outside printable ASCII are refused. */
int broker_encode_error(uint8_t *buf, size_t size, size_t *ret_len, int code, const char *message);

/* Decode exactly one message of len bytes.  Returns 0, or -EBADMSG for
 * anything malformed (m is then unspecified). */
int broker_decode(const uint8_t *buf, size_t len, struct broker_msg *m);

/* Send one encoded message on a SOCK_SEQPACKET socket, with n_fds (0 or
 * BROKER_N_FDS) descriptors attached.  MSG_NOSIGNAL: a closed peer gives
 * -EPIPE, no SIGPIPE.  Returns 0 or -errno. */
int broker_send(int sock, const uint8_t *buf, size_t len, const int *fds, size_t n_fds);

/* Receive and decode one message.  fds (BROKER_N_FDS entries) receives the
 * descriptors of RUN and SERVICE (close-on-exec, owned by the caller) and
 * is all -1 for the other types.  Returns 0; -ECONNRESET when the peer
 * closed the connection; -EBADMSG when the datagram is malformed or too
 * long, or carries the wrong number of descriptors or any other control
 * message (every descriptor received is closed then); -EAGAIN on a
 * non-blocking socket with nothing to read; or another -errno. */
int broker_recv(int sock, struct broker_msg *m, int fds[BROKER_N_FDS]);

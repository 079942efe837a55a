/* SPDX-License-Identifier: MIT */
/* Session broker wire protocol: see broker-proto.h for the format.  The
 * encoders and the decoder apply the same rules, so that whatever one side
 * can build, the other side accepts, and nothing else. */
#include "broker-proto.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "macro.h"

/* ---- shared rules ---- */

const char *broker_msg_type_name(unsigned type) {
        switch (type) {
        case BROKER_MSG_RUN:
                return "RUN";
        case BROKER_MSG_SERVICE:
                return "SERVICE";
        case BROKER_MSG_SIGNAL:
                return "SIGNAL";
        case BROKER_MSG_WINSIZE:
                return "WINSIZE";
        case BROKER_MSG_STARTED:
                return "STARTED";
        case BROKER_MSG_EXIT:
                return "EXIT";
        case BROKER_MSG_ERROR:
                return "ERROR";
        default:
                return "unknown";
        }
}

static bool type_known(unsigned type) {
        return strcmp(broker_msg_type_name(type), "unknown") != 0;
}

bool broker_signal_allowed(int signo) {
        return signo == SIGINT || signo == SIGTERM || signo == SIGHUP || signo == SIGQUIT || signo == SIGWINCH;
}

static const char *const env_names[] = {
        "TERM",        "LANG",       "COLUMNS",     "LINES",          "LC_ALL",           "LC_CTYPE",
        "LC_COLLATE",  "LC_MESSAGES", "LC_MONETARY", "LC_NUMERIC",    "LC_TIME",          "LC_ADDRESS",
        "LC_IDENTIFICATION", "LC_MEASUREMENT", "LC_NAME", "LC_PAPER", "LC_TELEPHONE",
};

/* Length of the NAME part when entry is an allowed "NAME=VALUE", else 0. */
static size_t env_name_len(const char *entry) {
        const char *eq = strchr(entry, '=');
        if (!eq)
                return 0;
        size_t n = (size_t) (eq - entry);
        for (size_t i = 0; i < ELEMENTSOF(env_names); i++)
                if (strlen(env_names[i]) == n && memcmp(env_names[i], entry, n) == 0)
                        return n;
        return 0;
}

static bool env_value_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '@' || c == '+' || c == '-';
}

bool broker_env_allowed(const char *entry) {
        size_t n = env_name_len(entry);
        if (n == 0)
                return false;
        const char *v = entry + n + 1;
        size_t vlen = strlen(v);
        if (vlen == 0 || vlen > BROKER_ENV_VALUE_MAX)
                return false;
        if ((n == 7 && memcmp(entry, "COLUMNS", 7) == 0) || (n == 5 && memcmp(entry, "LINES", 5) == 0)) {
                if (vlen > 4 || v[0] == '0')
                        return false;
                for (size_t i = 0; i < vlen; i++)
                        if (v[i] < '0' || v[i] > '9')
                                return false;
                return true;
        }
        for (size_t i = 0; i < vlen; i++)
                if (!env_value_char(v[i]))
                        return false;
        return true;
}

/* Two entries set the same variable. */
static bool env_same_name(const char *a, const char *b) {
        size_t n = env_name_len(a);
        return n > 0 && n == env_name_len(b) && memcmp(a, b, n) == 0;
}

bool broker_service_name_valid(const char *name) {
        size_t n = strlen(name);
        if (n == 0 || n > BROKER_SERVICE_MAX || name[0] < 'a' || name[0] > 'z')
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

static bool errmsg_valid(const char *s, size_t n) {
        if (n > BROKER_ERRMSG_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] < 0x20 || s[i] > 0x7e)
                        return false;
        return true;
}

/* ---- encoding ---- */

struct writer {
        uint8_t *buf;
        size_t size; /* min(buffer size, BROKER_MSG_MAX) */
        size_t pos;
        int err;
};

static void put_bytes(struct writer *w, const void *p, size_t n) {
        if (w->err < 0)
                return;
        if (n > BROKER_MSG_MAX - w->pos) {
                w->err = -E2BIG;
                return;
        }
        if (n > w->size - w->pos) {
                w->err = -ENOBUFS;
                return;
        }
        if (n > 0)
                memcpy(w->buf + w->pos, p, n);
        w->pos += n;
}

static void put_u16(struct writer *w, uint16_t v) {
        uint8_t b[2] = { (uint8_t) v, (uint8_t) (v >> 8) };
        put_bytes(w, b, sizeof b);
}

static void put_u32(struct writer *w, uint32_t v) {
        uint8_t b[4] = { (uint8_t) v, (uint8_t) (v >> 8), (uint8_t) (v >> 16), (uint8_t) (v >> 24) };
        put_bytes(w, b, sizeof b);
}

static void put_string(struct writer *w, const char *s, size_t n) {
        put_u32(w, (uint32_t) n);
        put_bytes(w, s, n);
}

static void writer_begin(struct writer *w, uint8_t *buf, size_t size, enum broker_msg_type type) {
        *w = (struct writer) { .buf = buf, .size = size < BROKER_MSG_MAX ? size : BROKER_MSG_MAX };
        put_u32(w, BROKER_PROTO_MAGIC);
        put_u16(w, BROKER_PROTO_VERSION);
        put_u16(w, (uint16_t) type);
        put_u32(w, 0); /* length, patched by writer_end */
}

static int writer_end(struct writer *w, size_t *ret_len) {
        if (w->err < 0)
                return w->err;
        uint32_t len = (uint32_t) (w->pos - BROKER_HDR_SIZE);
        w->buf[8] = (uint8_t) len;
        w->buf[9] = (uint8_t) (len >> 8);
        w->buf[10] = (uint8_t) (len >> 16);
        w->buf[11] = (uint8_t) (len >> 24);
        *ret_len = w->pos;
        return 0;
}

static size_t strv_length(char *const v[], size_t max) {
        size_t n = 0;
        if (!v)
                return 0;
        while (n <= max && v[n])
                n++;
        return n;
}

int broker_encode_run(uint8_t *buf, size_t size, size_t *ret_len, uint32_t flags, char *const argv[],
                      char *const env[]) {
        size_t argc = strv_length(argv, BROKER_ARGC_MAX), envc = strv_length(env, BROKER_ENVC_MAX);
        struct writer w;

        if ((flags & ~BROKER_RUN_FLAGS_ALL) != 0 || argc > BROKER_ARGC_MAX || envc > BROKER_ENVC_MAX)
                return -EINVAL;
        if (argc > 0 && argv[0][0] == '\0')
                return -EINVAL;
        for (size_t i = 0; i < argc; i++)
                if (strlen(argv[i]) > BROKER_STRING_MAX)
                        return -EINVAL;
        for (size_t i = 0; i < envc; i++) {
                if (!broker_env_allowed(env[i]))
                        return -EINVAL;
                for (size_t j = 0; j < i; j++)
                        if (env_same_name(env[i], env[j]))
                                return -EINVAL;
        }

        writer_begin(&w, buf, size, BROKER_MSG_RUN);
        put_u32(&w, flags);
        put_u32(&w, (uint32_t) argc);
        for (size_t i = 0; i < argc; i++)
                put_string(&w, argv[i], strlen(argv[i]));
        put_u32(&w, (uint32_t) envc);
        for (size_t i = 0; i < envc; i++)
                put_string(&w, env[i], strlen(env[i]));
        return writer_end(&w, ret_len);
}

int broker_encode_service(uint8_t *buf, size_t size, size_t *ret_len, const char *name) {
        struct writer w;

        if (!name || !broker_service_name_valid(name))
                return -EINVAL;
        writer_begin(&w, buf, size, BROKER_MSG_SERVICE);
        put_string(&w, name, strlen(name));
        return writer_end(&w, ret_len);
}

int broker_encode_signal(uint8_t *buf, size_t size, size_t *ret_len, int signo) {
        struct writer w;

        if (!broker_signal_allowed(signo))
                return -EINVAL;
        writer_begin(&w, buf, size, BROKER_MSG_SIGNAL);
        put_u32(&w, (uint32_t) signo);
        return writer_end(&w, ret_len);
}

int broker_encode_winsize(uint8_t *buf, size_t size, size_t *ret_len, uint16_t rows, uint16_t cols) {
        struct writer w;

        writer_begin(&w, buf, size, BROKER_MSG_WINSIZE);
        put_u16(&w, rows);
        put_u16(&w, cols);
        return writer_end(&w, ret_len);
}

int broker_encode_started(uint8_t *buf, size_t size, size_t *ret_len, pid_t pid) {
        struct writer w;

        if (pid <= 0)
                return -EINVAL;
        writer_begin(&w, buf, size, BROKER_MSG_STARTED);
        put_u32(&w, (uint32_t) pid);
        return writer_end(&w, ret_len);
}

static bool exit_valid(uint32_t kind, uint32_t code) {
        if (kind == BROKER_EXIT_EXITED)
                return code <= 255;
        if (kind == BROKER_EXIT_SIGNALED)
                return code >= 1 && code <= 64;
        return false;
}

int broker_encode_exit(uint8_t *buf, size_t size, size_t *ret_len, enum broker_exit_kind kind, int code) {
        struct writer w;

        if (code < 0 || !exit_valid((uint32_t) kind, (uint32_t) code))
                return -EINVAL;
        writer_begin(&w, buf, size, BROKER_MSG_EXIT);
        put_u32(&w, (uint32_t) kind);
        put_u32(&w, (uint32_t) code);
        return writer_end(&w, ret_len);
}

int broker_encode_error(uint8_t *buf, size_t size, size_t *ret_len, int code, const char *message) {
        size_t n = message ? strlen(message) : 0;
        struct writer w;

        if (code >= 0 || code < -4095 || !errmsg_valid(message ? message : "", n))
                return -EINVAL;
        writer_begin(&w, buf, size, BROKER_MSG_ERROR);
        put_u32(&w, (uint32_t) code);
        put_string(&w, message ? message : "", n);
        return writer_end(&w, ret_len);
}

/* ---- decoding ---- */

struct reader {
        const uint8_t *p;
        size_t len, pos;
};

static bool get_u16(struct reader *r, uint16_t *v) {
        if (r->len - r->pos < 2)
                return false;
        *v = (uint16_t) (r->p[r->pos] | (unsigned) r->p[r->pos + 1] << 8);
        r->pos += 2;
        return true;
}

static bool get_u32(struct reader *r, uint32_t *v) {
        if (r->len - r->pos < 4)
                return false;
        *v = (uint32_t) r->p[r->pos] | (uint32_t) r->p[r->pos + 1] << 8 | (uint32_t) r->p[r->pos + 2] << 16 |
             (uint32_t) r->p[r->pos + 3] << 24;
        r->pos += 4;
        return true;
}

/* A counted string of at most max bytes, without NUL, copied with a
 * terminator to dst (room: dst_size bytes). */
static bool get_string(struct reader *r, size_t max, char *dst, size_t dst_size, size_t *ret_n) {
        uint32_t n;

        if (!get_u32(r, &n) || n > max || n > r->len - r->pos || (size_t) n + 1 > dst_size)
                return false;
        if (memchr(r->p + r->pos, '\0', n))
                return false;
        memcpy(dst, r->p + r->pos, n);
        dst[n] = '\0';
        r->pos += n;
        *ret_n = n;
        return true;
}

/* A list of count strings into m->strings from *used on, pointers in v. */
static bool get_strv(struct reader *r, uint32_t count, char **v, struct broker_msg *m, size_t *used) {
        for (uint32_t i = 0; i < count; i++) {
                size_t n;
                char *dst = m->strings + *used;
                if (!get_string(r, BROKER_STRING_MAX, dst, sizeof m->strings - *used, &n))
                        return false;
                v[i] = dst;
                *used += n + 1;
        }
        v[count] = NULL;
        return true;
}

static int decode_run(struct reader *r, struct broker_msg *m) {
        uint32_t flags, argc, envc;
        size_t used = 0;

        if (!get_u32(r, &flags) || (flags & ~BROKER_RUN_FLAGS_ALL) != 0)
                return -EBADMSG;
        m->flags = flags;
        if (!get_u32(r, &argc) || argc > BROKER_ARGC_MAX || !get_strv(r, argc, m->argv, m, &used))
                return -EBADMSG;
        if (argc > 0 && m->argv[0][0] == '\0')
                return -EBADMSG;
        m->argc = argc;
        if (!get_u32(r, &envc) || envc > BROKER_ENVC_MAX || !get_strv(r, envc, m->env, m, &used))
                return -EBADMSG;
        m->envc = envc;
        for (uint32_t i = 0; i < envc; i++) {
                if (!broker_env_allowed(m->env[i]))
                        return -EBADMSG;
                for (uint32_t j = 0; j < i; j++)
                        if (env_same_name(m->env[i], m->env[j]))
                                return -EBADMSG;
        }
        return 0;
}

static int decode_payload(struct reader *r, struct broker_msg *m) {
        uint32_t a, b;
        uint16_t rows, cols;
        size_t n;

        switch (m->type) {
        case BROKER_MSG_RUN:
                return decode_run(r, m);
        case BROKER_MSG_SERVICE:
                if (!get_string(r, BROKER_SERVICE_MAX, m->service, sizeof m->service, &n) ||
                    !broker_service_name_valid(m->service))
                        return -EBADMSG;
                return 0;
        case BROKER_MSG_SIGNAL:
                if (!get_u32(r, &a) || a > 64 || !broker_signal_allowed((int) a))
                        return -EBADMSG;
                m->signo = (int) a;
                return 0;
        case BROKER_MSG_WINSIZE:
                if (!get_u16(r, &rows) || !get_u16(r, &cols))
                        return -EBADMSG;
                m->rows = rows;
                m->cols = cols;
                return 0;
        case BROKER_MSG_STARTED:
                if (!get_u32(r, &a) || a == 0 || a > INT32_MAX)
                        return -EBADMSG;
                m->pid = (pid_t) a;
                return 0;
        case BROKER_MSG_EXIT:
                if (!get_u32(r, &a) || !get_u32(r, &b) || !exit_valid(a, b))
                        return -EBADMSG;
                m->exit_kind = (enum broker_exit_kind) a;
                m->exit_code = (int) b;
                return 0;
        case BROKER_MSG_ERROR:
                /* a is a negative errno in two's complement: -4095..-1 */
                if (!get_u32(r, &a) || a < UINT32_C(0xfffff001))
                        return -EBADMSG;
                m->error = -(int) (UINT32_C(0xffffffff) - a + 1);
                if (!get_string(r, BROKER_ERRMSG_MAX, m->message, sizeof m->message, &n) ||
                    !errmsg_valid(m->message, n))
                        return -EBADMSG;
                return 0;
        }
        return -EBADMSG;
}

int broker_decode(const uint8_t *buf, size_t len, struct broker_msg *m) {
        struct reader r = { .p = buf, .len = len };
        uint32_t magic, plen;
        uint16_t version, type;
        int ret;

        if (!buf || len < BROKER_HDR_SIZE || len > BROKER_MSG_MAX)
                return -EBADMSG;
        if (!get_u32(&r, &magic) || !get_u16(&r, &version) || !get_u16(&r, &type) || !get_u32(&r, &plen))
                return -EBADMSG;
        if (magic != BROKER_PROTO_MAGIC || version != BROKER_PROTO_VERSION || !type_known(type))
                return -EBADMSG;
        if (plen != len - BROKER_HDR_SIZE) /* truncated, or trailing bytes after the payload */
                return -EBADMSG;

        m->type = (enum broker_msg_type) type;
        m->flags = 0;
        m->argc = m->envc = 0;
        m->argv[0] = m->env[0] = NULL;
        m->service[0] = m->message[0] = '\0';
        ret = decode_payload(&r, m);
        if (ret < 0)
                return ret;
        if (r.pos != r.len) /* bytes after the last field */
                return -EBADMSG;
        return 0;
}

/* ---- socket I/O ---- */

/* Room for more descriptors than any message may carry, so that "four
 * instead of three" is seen as a wrong count rather than as truncation. */
#define RECV_FDS_ROOM 16

int broker_send(int sock, const uint8_t *buf, size_t len, const int *fds, size_t n_fds) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * BROKER_N_FDS)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        ssize_t n;

        if (n_fds != 0 && n_fds != BROKER_N_FDS)
                return -EINVAL;
        if (n_fds > 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if ((size_t) n != len) /* a SEQPACKET send is all or nothing */
                return -EIO;
        return 0;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0) {
                        (void) close(fds[i]); /* nothing to do about a failure */
                        fds[i] = -1;
                }
}

int broker_recv(int sock, struct broker_msg *m, int fds[BROKER_N_FDS]) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * RECV_FDS_ROOM)];
        } control = {};
        /* One byte more than the largest message: a longer datagram is cut
         * and flagged MSG_TRUNC, never silently accepted. */
        _cleanup_free_ uint8_t *buf = malloc(BROKER_MSG_MAX + 1);
        struct iovec iov = { .iov_base = buf, .iov_len = BROKER_MSG_MAX + 1 };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf,
        };
        int got[RECV_FDS_ROOM];
        size_t n_got = 0;
        bool bad_control = false;
        ssize_t n;
        int r;

        for (size_t i = 0; i < BROKER_N_FDS; i++)
                fds[i] = -1;
        if (!buf)
                return -ENOMEM;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == ECONNRESET) {
                /* The peer closed while something we sent was still unread
                 * (e.g. a broker refusing a connection at once).  The kernel
                 * reports that first, once, but what the peer had sent us
                 * is still queued: read it. */
                mh.msg_controllen = sizeof control.buf;
                mh.msg_flags = 0;
                do
                        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
                while (n < 0 && errno == EINTR);
                if (n < 0 && (errno == EAGAIN || errno == ECONNRESET))
                        return -ECONNRESET;
        }
        if (n < 0)
                return negative_errno();

        /* Collect every descriptor that arrived, whatever else is wrong, so
         * that none stays open behind our back. */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) {
                        bad_control = true;
                        continue;
                }
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                        if (n_got < RECV_FDS_ROOM)
                                got[n_got++] = fd;
                        else
                                (void) close(fd); /* cannot happen: the buffer holds RECV_FDS_ROOM */
                }
        }

        if (n == 0) {
                /* End of stream (or an empty datagram, which is no message). */
                close_fds(got, n_got);
                return -ECONNRESET;
        }
        if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || bad_control) {
                close_fds(got, n_got);
                return -EBADMSG;
        }
        r = broker_decode(buf, (size_t) n, m);
        if (r < 0) {
                close_fds(got, n_got);
                return r;
        }
        size_t want = (m->type == BROKER_MSG_RUN || m->type == BROKER_MSG_SERVICE) ? BROKER_N_FDS : 0;
        if (n_got != want) {
                close_fds(got, n_got);
                return -EBADMSG;
        }
        for (size_t i = 0; i < want; i++)
                fds[i] = got[i];
        return 0;
}

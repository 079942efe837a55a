/* SPDX-License-Identifier: MIT */
/* The transfer stream: see stream.h for the format.  The encoder and the
 * decoder share the rules below (entry fields, names, order), so that
 * whatever one side builds the other accepts, and nothing else. */
#include "stream.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "macro.h"

#define NSEC_PER_SEC 1000000000U
#define QUOTE_MAX 200 /* escaped name in a message */

static void vformat(char *buf, size_t size, const char *fmt, va_list ap) _printf_(3, 0);
static void vformat(char *buf, size_t size, const char *fmt, va_list ap) {
        (void) vsnprintf(buf, size, fmt, ap); /* messages are cut when too long, on purpose */
}

static void format(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void format(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vformat(buf, size, fmt, ap);
        va_end(ap);
}

/* ---- little-endian fields ---- */

static void put_le(uint8_t *p, uint64_t v, size_t n) {
        for (size_t i = 0; i < n; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t n) {
        uint64_t v = 0;
        for (size_t i = n; i > 0; i--)
                v = (v << 8) | p[i - 1];
        return v;
}

/* ---- shared rules ---- */

struct span {
        const char *p;
        size_t n;
};

/* Components of a valid name (at most XFER_DEPTH_MAX). */
static unsigned split_name(const char *name, size_t len, struct span out[XFER_DEPTH_MAX]) {
        unsigned k = 0;
        size_t start = 0;
        for (size_t i = 0; i <= len && k < XFER_DEPTH_MAX; i++)
                if (i == len || name[i] == '/') {
                        out[k++] = (struct span) { name + start, i - start };
                        start = i + 1;
                }
        return k;
}

static int span_cmp(const struct span *a, const struct span *b) {
        int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);
        if (c != 0)
                return c;
        return a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
}

/* May cur (a valid name) come right after prev (valid, a directory when
 * prev_dir; none when prev is NULL)?  Depth-first pre-order, siblings
 * sorted: cur's parent must be prev or one of prev's ancestors, and cur
 * must sort after the sibling subtree it follows. */
static int order_check(const char *prev, size_t plen, bool prev_dir, const char *cur, size_t clen, char *why,
                       size_t whylen) {
        struct span pc[XFER_DEPTH_MAX], cc[XFER_DEPTH_MAX];
        char qc[QUOTE_MAX], qp[QUOTE_MAX];
        unsigned j = 0, k = split_name(cur, clen, cc);

        (void) xfer_name_escape(cur, clen, qc, sizeof qc);
        if (!prev) {
                if (k == 1)
                        return 0;
                format(why, whylen, "'%s': its parent directory was not sent before it", qc);
                return -EINVAL;
        }
        (void) xfer_name_escape(prev, plen, qp, sizeof qp);
        j = split_name(prev, plen, pc);
        if (k - 1 == j && !prev_dir) {
                format(why, whylen, "'%s': its parent '%s' is not a directory", qc, qp);
                return -EINVAL;
        }
        for (unsigned i = 0; i + 1 < k; i++)
                if (i >= j || span_cmp(&cc[i], &pc[i]) != 0) {
                        format(why, whylen,
                               "'%s' after '%s': its parent directory was not sent right before its contents "
                               "(missing, or out of order)",
                               qc, qp);
                        return -EINVAL;
                }
        if (k - 1 == j)
                return 0; /* the first entry of the directory just sent */
        int c = span_cmp(&cc[k - 1], &pc[k - 1]);
        if (c == 0) {
                format(why, whylen, "'%s': duplicate name", qc);
                return -EINVAL;
        }
        if (c < 0) {
                format(why, whylen, "'%s' after '%s': entries are not sorted", qc, qp);
                return -EINVAL;
        }
        return 0;
}

/* The fields of an entry other than its name and its place. */
static int fields_check(enum xfer_type type, uint32_t mode, uint32_t nsec, uint64_t size, char *why, size_t whylen) {
        if (type != XFER_TYPE_DIR && type != XFER_TYPE_FILE) {
                format(why, whylen, "entry type 0x%02x: only directories ('D') and regular files ('F') can be sent",
                       (unsigned) type & 0xffU);
                return -EINVAL;
        }
        if ((mode & ~XFER_MODE_ALLOWED) != 0) {
                format(why, whylen, "mode %#o has bits other than the permission bits 0777", (unsigned) mode);
                return -EINVAL;
        }
        if (nsec >= NSEC_PER_SEC) {
                format(why, whylen, "modification time has %" PRIu32 " nanoseconds", nsec);
                return -EINVAL;
        }
        if (type == XFER_TYPE_DIR && size != 0) {
                format(why, whylen, "directory with a size (%" PRIu64 ")", size);
                return -EINVAL;
        }
        return 0;
}

/* SHA-256, fetched once per encoder or decoder: EVP_sha256() would be
 * looked up in the provider again at every EVP_DigestInit_ex(), that is
 * for every file. */
static int sha_fetch(EVP_MD **md) {
        *md = EVP_MD_fetch(NULL, "SHA256", NULL);
        return *md ? 0 : -EIO;
}

static int sha_init(EVP_MD_CTX **ctx, const EVP_MD *md) {
        *ctx = EVP_MD_CTX_new();
        if (!*ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(*ctx, md, NULL) != 1)
                return -EIO;
        return 0;
}

/* The end of a file's data: its SHA-256 into out, and into the stream's
 * digest in its place (see stream.h). */
static int sha_file_end(EVP_MD_CTX *stream, EVP_MD_CTX *file, uint8_t out[XFER_SHA256_SIZE]) {
        unsigned len = 0;
        if (EVP_DigestFinal_ex(file, out, &len) != 1 || len != XFER_SHA256_SIZE)
                return -EIO;
        if (EVP_DigestUpdate(stream, out, XFER_SHA256_SIZE) != 1)
                return -EIO;
        return 0;
}

/* ---- encoder ---- */

struct xfer_encoder {
        EVP_MD *md;
        EVP_MD_CTX *sha, *file_sha; /* the stream's digest, the current file's */
        uint64_t declared_entries, declared_bytes;
        uint64_t entries, bytes; /* bytes: sizes of the entries given so far */
        uint64_t file_left;      /* data of the current file still due */
        bool failed, done, have_prev, prev_dir, in_file;
        size_t prev_len;
        char prev[XFER_NAME_MAX + 1];
        char error[XFER_ERROR_MAX];
};

void xfer_encoder_free(struct xfer_encoder *e) {
        if (!e)
                return;
        EVP_MD_CTX_free(e->sha);
        EVP_MD_CTX_free(e->file_sha);
        EVP_MD_free(e->md);
        free(e);
}

static void enc_msg(struct xfer_encoder *e, const char *fmt, ...) _printf_(2, 3);
static void enc_msg(struct xfer_encoder *e, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vformat(e->error, sizeof e->error, fmt, ap);
        va_end(ap);
        e->failed = true;
}

/* Fail with a reason, evaluating to err (always negative).  Macros: the
 * static analyser does not follow variadic functions and must see that
 * failures are negative. */
#define enc_fail(e, err, ...)                          \
        ({                                             \
                int _err_ = (err);                     \
                enc_msg((e), __VA_ARGS__);             \
                _err_ < 0 ? _err_ : -EIO;              \
        })

static int enc_hash(struct xfer_encoder *e, const void *p, size_t n) {
        if (n > 0 && EVP_DigestUpdate(e->sha, p, n) != 1)
                return enc_fail(e, -EIO, "SHA-256 failed");
        return 0;
}

int xfer_encoder_new(uint64_t n_entries, uint64_t n_bytes, uint8_t header[XFER_HEADER_SIZE],
                     struct xfer_encoder **ret) {
        struct xfer_encoder *e;
        int r;

        if (!header || !ret)
                return -EINVAL;
        e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        r = sha_fetch(&e->md);
        if (r >= 0)
                r = sha_init(&e->sha, e->md);
        if (r >= 0)
                r = sha_init(&e->file_sha, e->md);
        if (r < 0) {
                xfer_encoder_free(e);
                return r;
        }
        e->declared_entries = n_entries;
        e->declared_bytes = n_bytes;
        put_le(header, XFER_STREAM_MAGIC, 4);
        put_le(header + 4, XFER_STREAM_VERSION, 2);
        put_le(header + 6, 0, 2);
        put_le(header + 8, n_entries, 8);
        put_le(header + 16, n_bytes, 8);
        r = enc_hash(e, header, XFER_HEADER_SIZE);
        if (r < 0) {
                xfer_encoder_free(e);
                return r;
        }
        *ret = e;
        return 0;
}

const char *xfer_encoder_error(const struct xfer_encoder *enc) {
        return enc ? enc->error : "";
}

static int enc_file_end(struct xfer_encoder *enc);

int xfer_encoder_entry(struct xfer_encoder *enc, const struct xfer_entry *e, uint8_t *buf, size_t size,
                       size_t *ret_len) {
        char why[XFER_ERROR_MAX], q[QUOTE_MAX];
        int r;

        if (!enc || !e || !buf || !ret_len)
                return -EINVAL;
        if (enc->failed || enc->done)
                return -EINVAL;
        if (!e->name)
                return enc_fail(enc, -EINVAL, "entry without a name");
        (void) xfer_name_escape(e->name, e->name_len, q, sizeof q);
        if (enc->file_left > 0)
                return enc_fail(enc, -EINVAL, "'%s': %" PRIu64 " bytes of the previous file still due", q,
                                enc->file_left);
        if (fields_check(e->type, e->mode, e->mtime_nsec, e->size, why, sizeof why) < 0)
                return enc_fail(enc, -EINVAL, "'%s': %s", q, why);
        if (xfer_name_valid(e->name, e->name_len, why, sizeof why) < 0)
                return enc_fail(enc, -EINVAL, "invalid name '%s': %s", q, why);
        if (order_check(enc->have_prev ? enc->prev : NULL, enc->prev_len, enc->prev_dir, e->name, e->name_len, why,
                        sizeof why) < 0)
                return enc_fail(enc, -EINVAL, "%s", why);
        if (enc->entries >= enc->declared_entries)
                return enc_fail(enc, -ERANGE, "'%s': more entries than the %" PRIu64 " declared", q,
                                enc->declared_entries);
        if (e->size > enc->declared_bytes - enc->bytes)
                return enc_fail(enc, -ERANGE, "'%s': more data than the %" PRIu64 " bytes declared", q,
                                enc->declared_bytes);
        if (size < XFER_ENTRY_FIXED_SIZE + e->name_len)
                return -ENOBUFS;

        buf[0] = (uint8_t) e->type;
        put_le(buf + 1, e->mode, 4);
        put_le(buf + 5, (uint64_t) e->mtime_sec, 8);
        put_le(buf + 13, e->mtime_nsec, 4);
        put_le(buf + 17, e->size, 8);
        put_le(buf + 25, e->name_len, 2);
        memcpy(buf + XFER_ENTRY_FIXED_SIZE, e->name, e->name_len);
        *ret_len = XFER_ENTRY_FIXED_SIZE + e->name_len;
        r = enc_hash(enc, buf, *ret_len);
        if (r < 0)
                return r;

        memcpy(enc->prev, e->name, e->name_len);
        enc->prev[e->name_len] = '\0';
        enc->prev_len = e->name_len;
        enc->prev_dir = e->type == XFER_TYPE_DIR;
        enc->have_prev = true;
        enc->entries++;
        enc->bytes += e->size;
        enc->file_left = e->size;
        if (e->type != XFER_TYPE_FILE)
                return 0;
        if (EVP_DigestInit_ex(enc->file_sha, enc->md, NULL) != 1)
                return enc_fail(enc, -EIO, "SHA-256 failed");
        enc->in_file = true;
        return e->size == 0 ? enc_file_end(enc) : 0;
}

static int enc_file_end(struct xfer_encoder *enc) {
        uint8_t digest[XFER_SHA256_SIZE];
        enc->in_file = false;
        if (sha_file_end(enc->sha, enc->file_sha, digest) < 0)
                return enc_fail(enc, -EIO, "SHA-256 failed");
        return 0;
}

int xfer_encoder_data(struct xfer_encoder *enc, const void *data, size_t n) {
        if (!enc || (n > 0 && !data) || enc->failed || enc->done)
                return -EINVAL;
        if (n > enc->file_left)
                return enc_fail(enc, -ERANGE, "%zu bytes of data where %" PRIu64 " are due", n, enc->file_left);
        if (n == 0)
                return 0;
        /* File data goes into the file's digest only; the stream's gets
         * that digest once the file is complete. */
        if (EVP_DigestUpdate(enc->file_sha, data, n) != 1)
                return enc_fail(enc, -EIO, "SHA-256 failed");
        enc->file_left -= n;
        return enc->file_left == 0 && enc->in_file ? enc_file_end(enc) : 0;
}

int xfer_encoder_trailer(struct xfer_encoder *enc, uint8_t trailer[XFER_TRAILER_SIZE]) {
        unsigned len = 0;
        int r;

        if (!enc || !trailer || enc->failed || enc->done)
                return -EINVAL;
        if (enc->file_left > 0)
                return enc_fail(enc, -EINVAL, "%" PRIu64 " bytes of the last file still due", enc->file_left);
        if (enc->entries != enc->declared_entries || enc->bytes != enc->declared_bytes)
                return enc_fail(enc, -EINVAL,
                                "%" PRIu64 " entries and %" PRIu64 " bytes sent, %" PRIu64 " and %" PRIu64 " declared",
                                enc->entries, enc->bytes, enc->declared_entries, enc->declared_bytes);
        trailer[0] = XFER_TRAILER_TYPE;
        put_le(trailer + 1, enc->entries, 8);
        put_le(trailer + 9, enc->bytes, 8);
        r = enc_hash(enc, trailer, 17);
        if (r < 0)
                return r;
        if (EVP_DigestFinal_ex(enc->sha, trailer + 17, &len) != 1 || len != XFER_SHA256_SIZE)
                return enc_fail(enc, -EIO, "SHA-256 failed");
        enc->done = true;
        return 0;
}

/* ---- decoder ---- */

enum dstate {
        D_HEADER,  /* 24 bytes */
        D_TYPE,    /* 1 byte: entry or trailer */
        D_FIXED,   /* 26 bytes: the rest of an entry head without the name */
        D_NAME,    /* name_len bytes */
        D_DATA,    /* data of a file */
        D_TRAILER, /* 16 bytes: counts */
        D_DIGEST,  /* 32 bytes: SHA-256, not hashed */
        D_DONE,    /* trailer checked: only the end may come */
        D_FINISHED,
        D_FAILED,
};

struct xfer_decoder {
        struct xfer_limits limits;
        struct xfer_callbacks cb;
        void *userdata;
        EVP_MD *md;
        EVP_MD_CTX *sha, *file_sha; /* the stream's digest, the current file's */
        enum dstate state;
        uint64_t offset, field_off;
        uint8_t acc[XFER_HEADER_SIZE + XFER_SHA256_SIZE];
        size_t acc_len;
        uint64_t declared_entries, declared_bytes;
        uint64_t entries, bytes; /* bytes: sizes of the entries received so far */
        uint64_t data_left;
        uint8_t digest[XFER_SHA256_SIZE]; /* what the trailer must hold */
        struct xfer_entry cur;
        char name[XFER_NAME_MAX + 1];
        bool have_prev, prev_dir;
        size_t prev_len;
        char prev[XFER_NAME_MAX + 1];
        int err;
        char error[XFER_ERROR_MAX];
};

void xfer_decoder_free(struct xfer_decoder *d) {
        if (!d)
                return;
        EVP_MD_CTX_free(d->sha);
        EVP_MD_CTX_free(d->file_sha);
        EVP_MD_free(d->md);
        free(d);
}

int xfer_decoder_new(const struct xfer_limits *limits, const struct xfer_callbacks *cb, void *userdata,
                     struct xfer_decoder **ret) {
        struct xfer_decoder *d;
        int r;

        if (!limits || !ret)
                return -EINVAL;
        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        r = sha_fetch(&d->md);
        if (r >= 0)
                r = sha_init(&d->sha, d->md);
        if (r >= 0)
                r = sha_init(&d->file_sha, d->md);
        if (r < 0) {
                xfer_decoder_free(d);
                return r;
        }
        d->limits = *limits;
        if (cb)
                d->cb = *cb;
        d->userdata = userdata;
        d->state = D_HEADER;
        *ret = d;
        return 0;
}

const char *xfer_decoder_error(const struct xfer_decoder *d) {
        return d ? d->error : "";
}

uint64_t xfer_decoder_offset(const struct xfer_decoder *d) {
        return d ? d->offset : 0;
}

static void dec_msg(struct xfer_decoder *d, int err, const char *fmt, ...) _printf_(3, 4);
static void dec_msg(struct xfer_decoder *d, int err, const char *fmt, ...) {
        char msg[XFER_ERROR_MAX];
        va_list ap;

        va_start(ap, fmt);
        vformat(msg, sizeof msg, fmt, ap);
        va_end(ap);
        format(d->error, sizeof d->error, "offset %" PRIu64 ": %s", d->field_off, msg);
        d->err = err < 0 ? err : -EIO;
        d->state = D_FAILED;
}

#define dec_fail(d, err, ...)                          \
        ({                                             \
                int _err_ = (err);                     \
                dec_msg((d), _err_, __VA_ARGS__);      \
                _err_ < 0 ? _err_ : -EIO;              \
        })

static void set_state(struct xfer_decoder *d, enum dstate s) {
        d->state = s;
        d->field_off = d->offset;
        d->acc_len = 0;
}

/* A callback's refusal: keep its error, say where it happened. */
static int cb_result(struct xfer_decoder *d, int r) {
        if (r >= 0)
                return 0;
        return dec_fail(d, r, "refused by the receiver: %s", strerror(-r));
}

/* Move up to need - acc_len bytes from the input into dst (at acc_len),
 * hashing them (except the digest).  True when dst holds need bytes. */
static bool take(struct xfer_decoder *d, const uint8_t **p, size_t *len, uint8_t *dst, size_t need, int *r) {
        size_t n = need - d->acc_len;
        if (n > *len)
                n = *len;
        memcpy(dst + d->acc_len, *p, n);
        if (d->state != D_DIGEST && EVP_DigestUpdate(d->sha, *p, n) != 1) {
                *r = dec_fail(d, -EIO, "SHA-256 failed");
                return false;
        }
        d->acc_len += n;
        d->offset += n;
        *p += n;
        *len -= n;
        return d->acc_len == need;
}

static int on_header(struct xfer_decoder *d) {
        const uint8_t *h = d->acc;
        uint32_t magic = (uint32_t) get_le(h, 4);
        uint16_t version = (uint16_t) get_le(h + 4, 2), reserved = (uint16_t) get_le(h + 6, 2);

        if (magic != XFER_STREAM_MAGIC)
                return dec_fail(d, -EBADMSG, "not a transfer stream (magic %#" PRIx32 ")", magic);
        if (version != XFER_STREAM_VERSION)
                return dec_fail(d, -EBADMSG, "unsupported stream version %u", (unsigned) version);
        if (reserved != 0)
                return dec_fail(d, -EBADMSG, "reserved header field is %#x, not 0", (unsigned) reserved);
        d->declared_entries = get_le(h + 8, 8);
        d->declared_bytes = get_le(h + 16, 8);
        if (d->declared_entries > d->limits.max_files)
                return dec_fail(d, -EDQUOT, "the transfer has %" PRIu64 " files and directories, the quota is %" PRIu64,
                                d->declared_entries, d->limits.max_files);
        if (d->declared_bytes > d->limits.max_bytes)
                return dec_fail(d, -EDQUOT, "the transfer has %" PRIu64 " bytes, the quota is %" PRIu64,
                                d->declared_bytes, d->limits.max_bytes);
        set_state(d, D_TYPE);
        return 0;
}

static int on_type(struct xfer_decoder *d) {
        uint8_t t = d->acc[0];

        if (t == XFER_TRAILER_TYPE) {
                set_state(d, D_TRAILER);
                return 0;
        }
        if (t != XFER_TYPE_DIR && t != XFER_TYPE_FILE) {
                char why[XFER_ERROR_MAX];
                (void) fields_check((enum xfer_type) t, 0, 0, 0, why, sizeof why);
                return dec_fail(d, -EBADMSG, "%s", why);
        }
        if (d->entries >= d->limits.max_files)
                return dec_fail(d, -EDQUOT, "more than %" PRIu64 " files and directories (quota)", d->limits.max_files);
        if (d->entries >= d->declared_entries)
                return dec_fail(d, -EBADMSG, "more entries than the %" PRIu64 " declared", d->declared_entries);
        d->cur = (struct xfer_entry) { .type = (enum xfer_type) t, .name = d->name };
        d->state = D_FIXED; /* same field as the type byte, for messages */
        d->acc_len = 0;
        return 0;
}

static int on_fixed(struct xfer_decoder *d) {
        const uint8_t *f = d->acc; /* the head after the type byte */
        struct xfer_entry *e = &d->cur;
        char why[XFER_ERROR_MAX];

        e->mode = (uint32_t) get_le(f, 4);
        e->mtime_sec = (int64_t) get_le(f + 4, 8);
        e->mtime_nsec = (uint32_t) get_le(f + 12, 4);
        e->size = get_le(f + 16, 8);
        e->name_len = (size_t) get_le(f + 24, 2);
        if (fields_check(e->type, e->mode, e->mtime_nsec, e->size, why, sizeof why) < 0)
                return dec_fail(d, -EBADMSG, "%s", why);
        if (e->name_len == 0 || e->name_len > XFER_NAME_MAX)
                return dec_fail(d, -EBADMSG, "name length %zu (1..%d)", e->name_len, XFER_NAME_MAX);
        if (e->size > d->limits.max_bytes - d->bytes)
                return dec_fail(d, -EDQUOT, "file of %" PRIu64 " bytes: more than %" PRIu64 " bytes in all (quota)",
                                e->size, d->limits.max_bytes);
        if (e->size > d->declared_bytes - d->bytes)
                return dec_fail(d, -EBADMSG, "file of %" PRIu64 " bytes: more data than the %" PRIu64 " bytes declared",
                                e->size, d->declared_bytes);
        d->state = D_NAME;
        d->acc_len = 0;
        return 0;
}

static int end_file(struct xfer_decoder *d);

static int on_name(struct xfer_decoder *d) {
        struct xfer_entry *e = &d->cur;
        char why[XFER_ERROR_MAX], q[QUOTE_MAX];
        int r;

        d->name[e->name_len] = '\0';
        if (xfer_name_valid(d->name, e->name_len, why, sizeof why) < 0)
                return dec_fail(d, -EBADMSG, "invalid name '%s': %s",
                                xfer_name_escape(d->name, e->name_len, q, sizeof q), why);
        if (order_check(d->have_prev ? d->prev : NULL, d->prev_len, d->prev_dir, d->name, e->name_len, why,
                        sizeof why) < 0)
                return dec_fail(d, -EBADMSG, "%s", why);
        e->depth = xfer_name_depth(d->name, e->name_len);
        e->base = strrchr(d->name, '/');
        e->base = e->base ? e->base + 1 : d->name;

        memcpy(d->prev, d->name, e->name_len + 1);
        d->prev_len = e->name_len;
        d->prev_dir = e->type == XFER_TYPE_DIR;
        d->have_prev = true;
        d->entries++;
        d->bytes += e->size;

        if (e->type == XFER_TYPE_DIR) {
                r = d->cb.begin_dir ? cb_result(d, d->cb.begin_dir(d->userdata, e)) : 0;
                if (r < 0)
                        return r;
                set_state(d, D_TYPE);
                return 0;
        }
        if (EVP_DigestInit_ex(d->file_sha, d->md, NULL) != 1)
                return dec_fail(d, -EIO, "SHA-256 failed");
        r = d->cb.begin_file ? cb_result(d, d->cb.begin_file(d->userdata, e)) : 0;
        if (r < 0)
                return r;
        d->data_left = e->size;
        set_state(d, D_DATA);
        return e->size == 0 ? end_file(d) : 0;
}

static int end_file(struct xfer_decoder *d) {
        uint8_t digest[XFER_SHA256_SIZE];
        int r;

        if (sha_file_end(d->sha, d->file_sha, digest) < 0)
                return dec_fail(d, -EIO, "SHA-256 failed");
        r = d->cb.end_file ? cb_result(d, d->cb.end_file(d->userdata, &d->cur, digest)) : 0;
        if (r < 0)
                return r;
        set_state(d, D_TYPE);
        return 0;
}

static int on_data(struct xfer_decoder *d, const uint8_t **p, size_t *len) {
        size_t n = *len;
        int r;

        if (n > d->data_left)
                n = (size_t) d->data_left;
        /* Into the file's digest only: the stream's digest gets the
         * file's digest at its end (end_file). */
        if (EVP_DigestUpdate(d->file_sha, *p, n) != 1)
                return dec_fail(d, -EIO, "SHA-256 failed");
        r = d->cb.file_data ? cb_result(d, d->cb.file_data(d->userdata, *p, n)) : 0;
        if (r < 0)
                return r;
        d->offset += n;
        d->data_left -= n;
        *p += n;
        *len -= n;
        return d->data_left == 0 ? end_file(d) : 0;
}

static int on_trailer(struct xfer_decoder *d) {
        uint64_t entries = get_le(d->acc, 8), bytes = get_le(d->acc + 8, 8);
        unsigned len = 0;

        if (entries != d->declared_entries || entries != d->entries)
                return dec_fail(d, -EBADMSG,
                                "trailer counts %" PRIu64 " entries, %" PRIu64 " were declared and %" PRIu64 " sent",
                                entries, d->declared_entries, d->entries);
        if (bytes != d->declared_bytes || bytes != d->bytes)
                return dec_fail(d, -EBADMSG,
                                "trailer counts %" PRIu64 " bytes, %" PRIu64 " were declared and %" PRIu64 " sent", bytes,
                                d->declared_bytes, d->bytes);
        if (EVP_DigestFinal_ex(d->sha, d->digest, &len) != 1 || len != XFER_SHA256_SIZE)
                return dec_fail(d, -EIO, "SHA-256 failed");
        set_state(d, D_DIGEST);
        return 0;
}

int xfer_decoder_feed(struct xfer_decoder *d, const void *buf, size_t len) {
        const uint8_t *p = buf;
        int r = 0;

        if (!d || (len > 0 && !buf))
                return -EINVAL;
        if (d->state == D_FAILED)
                return d->err;
        while (len > 0) {
                switch (d->state) {
                case D_HEADER:
                        if (take(d, &p, &len, d->acc, XFER_HEADER_SIZE, &r))
                                r = on_header(d);
                        break;
                case D_TYPE:
                        if (take(d, &p, &len, d->acc, 1, &r))
                                r = on_type(d);
                        break;
                case D_FIXED:
                        if (take(d, &p, &len, d->acc, XFER_ENTRY_FIXED_SIZE - 1, &r))
                                r = on_fixed(d);
                        break;
                case D_NAME:
                        if (take(d, &p, &len, (uint8_t *) d->name, d->cur.name_len, &r))
                                r = on_name(d);
                        break;
                case D_DATA:
                        r = on_data(d, &p, &len);
                        break;
                case D_TRAILER:
                        if (take(d, &p, &len, d->acc, 16, &r))
                                r = on_trailer(d);
                        break;
                case D_DIGEST:
                        if (take(d, &p, &len, d->acc, XFER_SHA256_SIZE, &r)) {
                                if (memcmp(d->acc, d->digest, XFER_SHA256_SIZE) != 0)
                                        r = dec_fail(d, -EBADMSG, "the trailer's SHA-256 does not match the stream");
                                else
                                        set_state(d, D_DONE);
                        }
                        break;
                case D_DONE:
                case D_FINISHED:
                        r = dec_fail(d, -EBADMSG, "%zu bytes after the end of the stream", len);
                        break;
                case D_FAILED:
                        return d->err;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *state_what(enum dstate s) {
        switch (s) {
        case D_HEADER:
                return "in the header";
        case D_TYPE:
                return "before the trailer";
        case D_FIXED:
        case D_NAME:
                return "in an entry's head";
        case D_DATA:
                return "in a file's data";
        case D_TRAILER:
        case D_DIGEST:
                return "in the trailer";
        default:
                return "";
        }
}

int xfer_decoder_finish(struct xfer_decoder *d) {
        char q[QUOTE_MAX];

        if (!d)
                return -EINVAL;
        switch (d->state) {
        case D_FAILED:
                return d->err;
        case D_FINISHED:
                return 0;
        case D_DONE:
                d->state = D_FINISHED;
                if (d->cb.end) {
                        int r = d->cb.end(d->userdata, d->entries, d->bytes, d->digest);
                        if (r < 0)
                                return cb_result(d, r);
                }
                return 0;
        case D_DATA:
                d->field_off = d->offset;
                return dec_fail(d, -EBADMSG, "truncated stream: %" PRIu64 " bytes of '%s' missing", d->data_left,
                                xfer_name_escape(d->name, d->cur.name_len, q, sizeof q));
        default:
                d->field_off = d->offset;
                return dec_fail(d, -EBADMSG, "truncated stream: it ends %s (%" PRIu64 " entries of %" PRIu64 ")",
                                state_what(d->state), d->entries, d->declared_entries);
        }
}

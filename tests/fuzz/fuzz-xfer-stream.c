/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the transfer stream decoder, which parses what a
 * level sends (hostile) inside the core's parser jail.  Small quotas (64
 * entries, 64 KiB), as a transfer service would set them.  Checked:
 * every event carries what the format promises (valid names, permission
 * bits only, sizes within the quotas, each file's data exactly its size),
 * end comes only once everything was checked, and decoding does not
 * depend on how the input is split (whole, then in pieces of 1..17
 * bytes: same result, same events).  When a stream is accepted, its
 * digest is computed again here from the input as stream.h defines it
 * (file data replaced by the file's SHA-256), and must be the one in the
 * trailer and the one given to end; each file's SHA-256 given to end_file
 * must be that of its data. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "names.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 64
#define MAX_BYTES 65536

struct state {
        uint64_t h;        /* digest of the events */
        uint64_t entries;  /* begin_dir + begin_file */
        uint64_t bytes;    /* file data seen */
        uint64_t declared; /* sizes of the files begun */
        uint64_t left;     /* data of the current file still due */
        int in_file, ended;
        size_t n_files;
        uint8_t file_sha[MAX_FILES][XFER_SHA256_SIZE]; /* end_file's, in order */
        uint8_t digest[XFER_SHA256_SIZE];             /* end's */
};

static void mix(struct state *s, const void *p, size_t n) {
        const uint8_t *b = p;
        for (size_t i = 0; i < n; i++)
                s->h = (s->h ^ b[i]) * UINT64_C(0x100000001b3);
}

static void check_entry(struct state *s, const struct xfer_entry *e) {
        if (s->in_file || s->ended || !e->name || strlen(e->name) != e->name_len ||
            xfer_name_valid(e->name, e->name_len, NULL, 0) != 0 || e->depth < 1 || e->depth > XFER_DEPTH_MAX ||
            e->depth != xfer_name_depth(e->name, e->name_len) || (e->mode & ~0777U) != 0 ||
            e->mtime_nsec >= 1000000000U || e->size > MAX_BYTES)
                abort();
        if (++s->entries > MAX_FILES)
                abort();
        mix(s, e->name, e->name_len);
        mix(s, &e->mode, sizeof e->mode);
        mix(s, &e->size, sizeof e->size);
}

static int on_dir(void *u, const struct xfer_entry *e) {
        struct state *s = u;
        check_entry(s, e);
        if (e->type != XFER_TYPE_DIR || e->size != 0)
                abort();
        mix(s, "D", 1);
        return 0;
}

static int on_file(void *u, const struct xfer_entry *e) {
        struct state *s = u;
        check_entry(s, e);
        if (e->type != XFER_TYPE_FILE)
                abort();
        s->declared += e->size;
        if (s->declared > MAX_BYTES)
                abort();
        s->in_file = 1;
        s->left = e->size;
        mix(s, "F", 1);
        return 0;
}

static int on_data(void *u, const uint8_t *p, size_t n) {
        struct state *s = u;
        if (!s->in_file || n == 0 || n > s->left)
                abort();
        s->left -= n;
        s->bytes += n;
        mix(s, p, n);
        return 0;
}

static int on_end_file(void *u, const struct xfer_entry *e, const uint8_t sha[XFER_SHA256_SIZE]) {
        struct state *s = u;
        if (!s->in_file || s->left != 0)
                abort();
        s->in_file = 0;
        if (s->n_files >= MAX_FILES)
                abort();
        memcpy(s->file_sha[s->n_files++], sha, XFER_SHA256_SIZE);
        mix(s, sha, XFER_SHA256_SIZE);
        return 0;
}

static int on_end(void *u, uint64_t n, uint64_t bytes, const uint8_t sha[XFER_SHA256_SIZE]) {
        struct state *s = u;
        if (s->in_file || s->ended || n != s->entries || bytes != s->bytes || bytes != s->declared)
                abort();
        s->ended = 1;
        memcpy(s->digest, sha, XFER_SHA256_SIZE);
        mix(s, sha, XFER_SHA256_SIZE);
        return 0;
}

static const struct xfer_callbacks cb = {
        .begin_dir = on_dir, .begin_file = on_file, .file_data = on_data, .end_file = on_end_file, .end = on_end,
};

static uint64_t le(const uint8_t *p, size_t n) {
        uint64_t v = 0;
        for (size_t i = n; i > 0; i--)
                v = (v << 8) | p[i - 1];
        return v;
}

static void update(EVP_MD_CTX *c, const void *p, size_t n) {
        if (EVP_DigestUpdate(c, p, n) != 1)
                abort();
}

/* An accepted stream, walked again: its digest as defined, each file's
 * SHA-256 against its data. */
static void check_digest(const uint8_t *data, size_t size, const struct state *s) {
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        uint8_t d[XFER_SHA256_SIZE];
        unsigned len = 0;
        size_t off = XFER_HEADER_SIZE, k = 0;

        if (!c || size < XFER_HEADER_SIZE + XFER_TRAILER_SIZE || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
                abort();
        update(c, data, XFER_HEADER_SIZE);
        while (data[off] != XFER_TRAILER_TYPE) {
                if (size - off < XFER_ENTRY_FIXED_SIZE + XFER_TRAILER_SIZE)
                        abort();
                uint64_t n = le(data + off + 17, 8), head = XFER_ENTRY_FIXED_SIZE + le(data + off + 25, 2);
                int file = data[off] == XFER_TYPE_FILE;
                if (head + n > size - off - XFER_TRAILER_SIZE)
                        abort();
                update(c, data + off, (size_t) head);
                off += (size_t) head;
                if (!file)
                        continue;
                if (k >= s->n_files || EVP_Digest(data + off, (size_t) n, d, &len, EVP_sha256(), NULL) != 1 ||
                    memcmp(d, s->file_sha[k], sizeof d) != 0)
                        abort();
                update(c, d, sizeof d);
                off += (size_t) n;
                k++;
        }
        if (k != s->n_files || size - off != XFER_TRAILER_SIZE)
                abort();
        update(c, data + off, XFER_TRAILER_SIZE - XFER_SHA256_SIZE);
        if (EVP_DigestFinal_ex(c, d, &len) != 1 || memcmp(d, data + size - XFER_SHA256_SIZE, sizeof d) != 0 ||
            memcmp(d, s->digest, sizeof d) != 0)
                abort();
        EVP_MD_CTX_free(c);
}

static int run(const uint8_t *data, size_t size, int split, struct state *s) {
        static const struct xfer_limits lim = { .max_files = MAX_FILES, .max_bytes = MAX_BYTES };
        struct xfer_decoder *d = NULL;
        int r = 0;

        *s = (struct state) { .h = UINT64_C(0xcbf29ce484222325) };
        if (xfer_decoder_new(&lim, &cb, s, &d) != 0)
                abort();
        for (size_t off = 0, k = 0; off < size && r == 0; k++) {
                size_t n = split ? 1 + (k * 7) % 17 : size;
                if (n > size - off)
                        n = size - off;
                r = xfer_decoder_feed(d, data + off, n);
                off += n;
        }
        if (r == 0)
                r = xfer_decoder_finish(d);
        if ((r == 0) != (s->ended == 1) || (r != 0 && xfer_decoder_error(d)[0] == '\0'))
                abort();
        xfer_decoder_free(d);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct state a, b;
        int ra = run(data, size, 0, &a);
        int rb = run(data, size, 1, &b);

        if (ra != rb || a.h != b.h || a.entries != b.entries || a.bytes != b.bytes)
                abort();
        if (ra == 0)
                check_digest(data, size, &a);
        return 0;
}

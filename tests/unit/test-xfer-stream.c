/* SPDX-License-Identifier: MIT */
/* Transfer stream: names, the encoder/decoder pair (round trip at every
 * split, truncation at every byte, each malformed or lying variant), the
 * packer on real trees (modes, times, setuid bits dropped, symbolic links,
 * devices, fifos, sockets, hard links refused, files changing while sent,
 * a directory flipped to a symbolic link in a loop while packing) and the
 * unpacker (every hostile stream leaves the staging directory empty, also
 * with 100 000 files against a quota and on a full file system, mounted
 * in a private mount namespace of a child).
 *
 * With REMPART_XFER_WRITE_CORPUS=DIR in the environment, the seeds of
 * tests/fuzz/corpus/xfer-stream/ are (re)written to DIR. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "fileio.h"
#include "names.h"
#include "pack.h"
#include "stream.h"
#include "unpack.h"

static const struct xfer_limits big_limits = { .max_files = 1000000, .max_bytes = UINT64_C(1) << 40 };

/* ---- helpers ---- */

static void sha256(const void *p, size_t n, uint8_t out[32]) {
        unsigned len = 0;
        assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
        assert_int_equal(len, 32);
}

/* A growing byte buffer. */
struct buf {
        uint8_t *p;
        size_t n, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n) {
        if (b->n + n > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->n + n)
                        cap *= 2;
                b->p = realloc(b->p, cap);
                assert_non_null(b->p);
                b->cap = cap;
        }
        if (n > 0)
                memcpy(b->p + b->n, p, n);
        b->n += n;
}

static void buf_le(struct buf *b, uint64_t v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                uint8_t c = (uint8_t) (v >> (8 * i));
                buf_add(b, &c, 1);
        }
}

static void buf_free(struct buf *b) {
        free(b->p);
        *b = (struct buf) {};
}

/* Raw streams, to write what the encoder refuses.  The trailer's digest
 * is computed, so that only the intended fault is present. */
static void raw_header(struct buf *b, uint64_t entries, uint64_t bytes) {
        buf_le(b, XFER_STREAM_MAGIC, 4);
        buf_le(b, XFER_STREAM_VERSION, 2);
        buf_le(b, 0, 2);
        buf_le(b, entries, 8);
        buf_le(b, bytes, 8);
}

static void raw_entry_n(struct buf *b, uint8_t type, uint32_t mode, int64_t sec, uint32_t nsec, uint64_t size,
                        const char *name, size_t nlen) {
        buf_le(b, type, 1);
        buf_le(b, mode, 4);
        buf_le(b, (uint64_t) sec, 8);
        buf_le(b, nsec, 4);
        buf_le(b, size, 8);
        buf_le(b, nlen, 2);
        buf_add(b, name, nlen);
}

static void raw_entry(struct buf *b, uint8_t type, uint32_t mode, uint64_t size, const char *name) {
        raw_entry_n(b, type, mode, 1700000000, 0, size, name, strlen(name));
}

static uint64_t get_le(const uint8_t *p, size_t n) {
        uint64_t v = 0;
        for (size_t i = n; i > 0; i--)
                v = (v << 8) | p[i - 1];
        return v;
}

/* The stream's digest as stream.h defines it, computed here on its own
 * (not with stream.c): SHA-256 of p[0..n), a stream up to its digest
 * field, except that each file's data is replaced by the SHA-256 of that
 * data, or by the next 32 bytes of files when given.  Entries are walked
 * by their declared sizes, whatever else is wrong with them; a file cut
 * short is hashed as far as it goes. */
static void ref_digest_files(const uint8_t *p, size_t n, const struct buf *files, uint8_t out[32]) {
        size_t nfile = 0;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        unsigned len = 0;
        size_t off = n < XFER_HEADER_SIZE ? n : XFER_HEADER_SIZE;

        assert_non_null(c);
        assert_int_equal(EVP_DigestInit_ex(c, EVP_sha256(), NULL), 1);
        assert_int_equal(EVP_DigestUpdate(c, p, off), 1);
        while (off < n) {
                size_t head = n - off < XFER_ENTRY_FIXED_SIZE || p[off] == XFER_TRAILER_TYPE
                                      ? n - off
                                      : XFER_ENTRY_FIXED_SIZE + (size_t) get_le(p + off + 25, 2);
                if (head > n - off)
                        head = n - off;
                bool file = p[off] == XFER_TYPE_FILE && head >= XFER_ENTRY_FIXED_SIZE;
                uint64_t size = file ? get_le(p + off + 17, 8) : 0;
                assert_int_equal(EVP_DigestUpdate(c, p + off, head), 1);
                off += head;
                if (!file)
                        continue;
                uint8_t d[32];
                size_t k = size < n - off ? (size_t) size : n - off;
                if (files) {
                        assert_true((nfile + 1) * 32 <= files->n);
                        memcpy(d, files->p + nfile * 32, 32);
                } else
                        sha256(p + off, k, d);
                nfile++;
                assert_int_equal(EVP_DigestUpdate(c, d, sizeof d), 1);
                off += k;
        }
        if (files)
                assert_int_equal(nfile * 32, files->n);
        assert_int_equal(EVP_DigestFinal_ex(c, out, &len), 1);
        assert_int_equal(len, 32);
        EVP_MD_CTX_free(c);
}

static void ref_digest(const uint8_t *p, size_t n, uint8_t out[32]) {
        ref_digest_files(p, n, NULL, out);
}

static void raw_trailer(struct buf *b, uint64_t entries, uint64_t bytes) {
        uint8_t d[32];
        buf_le(b, XFER_TRAILER_TYPE, 1);
        buf_le(b, entries, 8);
        buf_le(b, bytes, 8);
        ref_digest(b->p, b->n, d);
        buf_add(b, d, sizeof d);
}

/* What a decoder reported, as text. */
struct events {
        struct buf log;
        uint64_t data;
        uint64_t fnv; /* of the current file's data, as the callbacks saw it */
        int ended;
        uint8_t digest[32]; /* given to end */
        struct buf file_sha; /* end_file's SHA-256 of each file, in order */
};

static void ev_printf(struct events *ev, const char *fmt, ...) {
        char line[8192];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t) n < sizeof line);
        buf_add(&ev->log, line, (size_t) n);
}

static int ev_dir(void *u, const struct xfer_entry *e) {
        ev_printf(u, "D %s %o %" PRId64 ".%09" PRIu32 "\n", e->name, (unsigned) e->mode, e->mtime_sec, e->mtime_nsec);
        return 0;
}

static int ev_file(void *u, const struct xfer_entry *e) {
        ev_printf(u, "F %s %o %" PRIu64 "\n", e->name, (unsigned) e->mode, e->size);
        return 0;
}

static int ev_data(void *u, const uint8_t *p, size_t n) {
        struct events *ev = u;
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++)
                ev->fnv = (ev->fnv ^ p[i]) * UINT64_C(0x100000001b3);
        ev->data += n;
        return 0;
}

static int ev_end_file(void *u, const struct xfer_entry *e, const uint8_t sha[32]) {
        struct events *ev = u;
        ev_printf(u, "E %s %02x%02x %016" PRIx64 "\n", e->name, sha[0], sha[31], ev->fnv);
        buf_add(&ev->file_sha, sha, 32);
        ev->fnv = UINT64_C(0xcbf29ce484222325);
        return 0;
}

static int ev_end(void *u, uint64_t n, uint64_t bytes, const uint8_t sha[32]) {
        struct events *ev = u;
        ev->ended++;
        memcpy(ev->digest, sha, 32);
        ev_printf(u, "END %" PRIu64 " %" PRIu64 "\n", n, bytes);
        return 0;
}

static void ev_free(struct events *ev) {
        buf_free(&ev->log);
        buf_free(&ev->file_sha);
}

static const struct xfer_callbacks ev_cb = {
        .begin_dir = ev_dir, .begin_file = ev_file, .file_data = ev_data, .end_file = ev_end_file, .end = ev_end,
};

/* Decode p in pieces of chunk bytes (0: all at once); error text in why. */
static int decode(const uint8_t *p, size_t n, size_t chunk, const struct xfer_limits *lim, struct events *ev,
                  char *why, size_t whylen) {
        struct xfer_decoder *d = NULL;
        int r;

        assert_int_equal(xfer_decoder_new(lim ? lim : &big_limits, &ev_cb, ev, &d), 0);
        r = 0;
        for (size_t off = 0; off < n && r >= 0;) {
                size_t k = chunk == 0 || chunk > n - off ? n - off : chunk;
                r = xfer_decoder_feed(d, p + off, k);
                off += k;
        }
        if (r >= 0)
                r = xfer_decoder_finish(d);
        if (why)
                snprintf(why, whylen, "%s", xfer_decoder_error(d));
        if (r < 0)
                assert_true(xfer_decoder_error(d)[0] != '\0');
        xfer_decoder_free(d);
        return r;
}

static int decode_buf(const struct buf *b, const struct xfer_limits *lim, char *why, size_t whylen) {
        struct events ev = {};
        int r = decode(b->p, b->n, 0, lim, &ev, why, whylen);
        if (r < 0)
                assert_int_equal(ev.ended, 0);
        ev_free(&ev);
        return r;
}

/* Encode entries (content of file i: its name repeated to its size). */
struct ent {
        const char *name;
        uint64_t size;
        uint32_t mode;
        char type;
};

static void content(const char *name, uint64_t i, uint8_t *out) {
        size_t l = strlen(name);
        *out = (uint8_t) (name[i % l] + (uint8_t) (i / l));
}

static void encode(struct buf *b, const struct ent *es, size_t n) {
        struct xfer_encoder *enc = NULL;
        uint8_t header[XFER_HEADER_SIZE], trailer[XFER_TRAILER_SIZE];
        static uint8_t head[XFER_ENTRY_HEAD_MAX];
        uint64_t bytes = 0;

        for (size_t i = 0; i < n; i++)
                bytes += es[i].size;
        assert_int_equal(xfer_encoder_new(n, bytes, header, &enc), 0);
        buf_add(b, header, sizeof header);
        for (size_t i = 0; i < n; i++) {
                struct xfer_entry e = {
                        .type = (enum xfer_type) es[i].type,
                        .name = es[i].name,
                        .name_len = strlen(es[i].name),
                        .mode = es[i].mode,
                        .mtime_sec = 1700000000 + (int64_t) i,
                        .mtime_nsec = (uint32_t) i * 1000,
                        .size = es[i].size,
                };
                size_t len = 0;
                int r = xfer_encoder_entry(enc, &e, head, sizeof head, &len);
                if (r != 0)
                        fail_msg("encoder: %s", xfer_encoder_error(enc));
                buf_add(b, head, len);
                for (uint64_t k = 0; k < es[i].size; k++) {
                        uint8_t c;
                        content(es[i].name, k, &c);
                        assert_int_equal(xfer_encoder_data(enc, &c, 1), 0);
                        buf_add(b, &c, 1);
                }
        }
        assert_int_equal(xfer_encoder_trailer(enc, trailer), 0);
        buf_add(b, trailer, sizeof trailer);
        xfer_encoder_free(enc);
}

static const struct ent sample[] = {
        { "dir", 0, 0755, 'D' },        { "dir/a", 5, 0644, 'F' },    { "dir/sub", 0, 0700, 'D' },
        { "dir/sub/big", 3000, 0600, 'F' }, { "dir/sub/empty", 0, 0400, 'F' }, { "dir-x", 1, 0640, 'F' },
        { "z\xc3\xa9t\xc3\xa9", 7, 0644, 'F' },
};

/* A memfd holding b, at offset 0. */
static int memfd_of(const struct buf *b) {
        int fd = memfd_create("xfer-test", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, b->p, b->n), 0);
        assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
        return fd;
}

static void memfd_read(int fd, struct buf *b) {
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        b->n = 0;
        buf_add(b, NULL, 0);
        if (st.st_size > 0) {
                uint8_t *tmp = malloc((size_t) st.st_size);
                assert_non_null(tmp);
                assert_int_equal(pread(fd, tmp, (size_t) st.st_size, 0), st.st_size);
                buf_add(b, tmp, (size_t) st.st_size);
                free(tmp);
        }
}

/* Entries below dirfd, recursively. */
static size_t count_entries(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        DIR *d = fdopendir(fd);
        assert_non_null(d);
        size_t n = 0;
        const struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                n++;
                struct stat st;
                assert_int_equal(fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW), 0);
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        assert_true(sub >= 0);
                        n += count_entries(sub);
                        close(sub);
                }
        }
        closedir(d);
        return n;
}

/* Open descriptors of this process: the code under test leaks none. */
static size_t count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        size_t n = 0;
        assert_non_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

/* ---- per-test temporary directory ---- */

struct tmp {
        char path[256];
        int fd;
        int staging; /* tmp/staging, empty */
        size_t fds;  /* open at the start of the test */
};

static int tmp_setup(void **state) {
        struct tmp *t = calloc(1, sizeof *t);
        const char *base = getenv("TMPDIR");
        if (!t)
                return -1;
        snprintf(t->path, sizeof t->path, "%s/test-xfer.XXXXXX", base && base[0] == '/' ? base : "/tmp");
        t->fd = t->staging = -1;
        if (mkdtemp(t->path))
                t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->fd >= 0 && mkdirat(t->fd, "staging", 0700) == 0 && mkdirat(t->fd, "src", 0755) == 0)
                t->staging = openat(t->fd, "staging", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->staging < 0) {
                fprintf(stderr, "# cannot set up %s: %s\n", t->path, strerror(errno));
                if (t->fd >= 0)
                        close(t->fd);
                free(t);
                return -1;
        }
        t->fds = count_fds();
        *state = t;
        return 0;
}

static int tmp_teardown(void **state) {
        struct tmp *t = *state;
        if (!t)
                return 0;
        size_t fds = count_fds();
        if (fds != t->fds) {
                fprintf(stderr, "# %zu descriptors open after the test, %zu before\n", fds, t->fds);
                return -1;
        }
        close(t->staging);
        int r = xfer_staging_clear(t->fd);
        close(t->fd);
        if (r < 0 || rmdir(t->path) < 0)
                fprintf(stderr, "# cannot remove %s: %s\n", t->path, strerror(r < 0 ? -r : errno));
        free(t);
        return 0;
}

static void assert_staging_empty(struct tmp *t) {
        size_t n = count_entries(t->staging);
        if (n != 0)
                fail_msg("%zu entries left in the staging directory", n);
}

/* Unpack b into t's staging directory; the staging directory must be
 * empty afterwards on failure. */
static int unpack_buf(struct tmp *t, const struct buf *b, const struct xfer_limits *lim, struct xfer_manifest **ret,
                      char *why, size_t whylen) {
        struct xfer_manifest *m = NULL;
        int fd = memfd_of(b);
        int r = xfer_unpack(fd, t->staging, lim ? lim : &big_limits, &m, why, whylen);
        close(fd);
        if (r < 0) {
                assert_null(m);
                assert_true(why[0] != '\0');
                assert_staging_empty(t);
        }
        if (ret)
                *ret = m;
        else
                xfer_manifest_free(m);
        return r;
}

static void expect_refused(struct tmp *t, const struct buf *b, const struct xfer_limits *lim, int err,
                           const char *needle) {
        char why[1024] = "";
        int r = unpack_buf(t, b, lim, NULL, why, sizeof why);
        if (r != err)
                fail_msg("unpack gave %d (%s), expected %d", r, why, err);
        if (needle && !strstr(why, needle))
                fail_msg("message \"%s\" does not mention \"%s\"", why, needle);
        /* the decoder alone agrees */
        r = decode_buf(b, lim, why, sizeof why);
        if (r != err)
                fail_msg("decoder gave %d (%s), expected %d", r, why, err);
}

/* ---- names ---- */

static void test_names_valid(void **state) {
        static const char *const good[] = {
                "a", "a/b/c", "\xc3\xa9t\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt", "a b", ".hidden", "x-y",
                "emoji \xf0\x9f\x98\x80", "a.", "...", "a/...b", "~tilde", "\xf4\x8f\xbf\xbd" /* U+10FFFD */,
        };
        char why[XFER_WHY_MAX];
        char *s = malloc(XFER_NAME_MAX + 2);

        assert_non_null(s);
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                if (xfer_name_valid(good[i], strlen(good[i]), why, sizeof why) != 0)
                        fail_msg("'%s' refused: %s", good[i], why);
        /* limits: a component of 255 bytes, a name of 4095, 64 components */
        memset(s, 'x', 256);
        assert_int_equal(xfer_name_valid(s, 255, why, sizeof why), 0);
        assert_int_equal(xfer_name_valid(s, 256, why, sizeof why), -EINVAL);
        size_t n = 0;
        for (int c = 0; c < 16; c++) {
                if (c > 0)
                        s[n++] = '/';
                memset(s + n, 'a' + c, 255);
                n += 255;
        }
        assert_int_equal(n, XFER_NAME_MAX);
        assert_int_equal(xfer_name_valid(s, n, why, sizeof why), 0);
        s[n] = 'x';
        assert_int_equal(xfer_name_valid(s, n + 1, why, sizeof why), -EINVAL);
        n = 0;
        for (int c = 0; c < 64; c++) {
                if (c > 0)
                        s[n++] = '/';
                s[n++] = 'd';
        }
        assert_int_equal(xfer_name_valid(s, n, why, sizeof why), 0);
        assert_int_equal(xfer_name_depth(s, n), 64);
        s[n] = '/';
        s[n + 1] = 'd';
        assert_int_equal(xfer_name_valid(s, n + 2, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "64"));
        free(s);
}

static void test_names_invalid(void **state) {
        static const struct {
                const char *s;
                size_t len; /* 0: strlen */
                const char *why;
        } bad[] = {
                { "", 0, "empty" },
                { "/a", 0, "absolute" },
                { "/", 0, "absolute" },
                { "a/", 0, "empty" },
                { "a//b", 0, "empty" },
                { ".", 0, "\".\"" },
                { "..", 0, "\"..\"" },
                { "../x", 0, "\"..\"" },
                { "a/../b", 0, "\"..\"" },
                { "a/./b", 0, "\".\"" },
                { "a/..", 0, "\"..\"" },
                { "-rf", 0, "'-'" },
                { "a/-x", 0, "'-'" },
                { "a\nb", 0, "control" },
                { "a\rb", 0, "control" },
                { "\t", 0, "control" },
                { "\x1b[31m", 0, "control" },
                { "a\x7f", 0, "control" },
                { "a\0b", 3, "NUL" },
                { "\xc2\x85", 0, "C1" },
                { "\xc2\x9b", 0, "C1" },
                { "\xc0\xaf", 0, "UTF-8" },
                { "\xc1\xbf", 0, "UTF-8" },
                { "\xe0\x80\xaf", 0, "UTF-8" },
                { "\xf0\x80\x80\xaf", 0, "UTF-8" },
                { "\xed\xa0\x80", 0, "UTF-8" },
                { "\xed\xbf\xbf", 0, "UTF-8" },
                { "\xf4\x90\x80\x80", 0, "UTF-8" },
                { "\xf5\x80\x80\x80", 0, "UTF-8" },
                { "\xff", 0, "UTF-8" },
                { "\x80", 0, "UTF-8" },
                { "a\xe2\x82", 0, "UTF-8" },
                { "\xe2\x82\x41", 0, "UTF-8" },
                { "a\\b", 0, "reserved" },
                { "a:b", 0, "reserved" },
                { "a*b", 0, "reserved" },
                { "a?b", 0, "reserved" },
                { "a\"b", 0, "reserved" },
                { "a<b", 0, "reserved" },
                { "a>b", 0, "reserved" },
                { "a|b", 0, "reserved" },
                { "gpj.\342\200\256exe", 0, "direction" }, /* U+202E */
                { "\xe2\x80\xaa", 0, "direction" },         /* U+202A */
                { "\xe2\x81\xa6", 0, "direction" },         /* U+2066 */
                { "\xe2\x81\xa9", 0, "direction" },         /* U+2069 */
                { "\xe2\x80\x8f", 0, "direction" },         /* U+200F */
                { "\xd8\x9c", 0, "direction" },             /* U+061C */
                { "a\xe2\x80\x8b", 0, "invisible" },        /* U+200B */
                { "\xe2\x80\x8d", 0, "invisible" },         /* U+200D */
                { "\xef\xbb\xbf" "a", 0, "invisible" },     /* U+FEFF */
                { "\xc2\xad", 0, "invisible" },             /* U+00AD */
                { "\xe2\x81\xa0", 0, "invisible" },         /* U+2060 */
                { "a\xe2\x80\xa8", 0, "separator" },        /* U+2028 */
                { "\xe2\x80\xa9", 0, "separator" },         /* U+2029 */
                { "\xf3\xa0\x81\x81", 0, "tag" },           /* U+E0041 */
                { "\xef\xbf\xbe", 0, "noncharacter" },      /* U+FFFE */
                { "\xef\xb7\x90", 0, "noncharacter" },      /* U+FDD0 */
                { "\xf4\x8f\xbf\xbf", 0, "noncharacter" },  /* U+10FFFF */
        };
        char why[XFER_WHY_MAX];

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                size_t len = bad[i].len ? bad[i].len : strlen(bad[i].s);
                char q[128];
                xfer_name_escape(bad[i].s, len, q, sizeof q);
                why[0] = '\0';
                if (xfer_name_valid(bad[i].s, len, why, sizeof why) != -EINVAL)
                        fail_msg("'%s' accepted", q);
                if (!strstr(why, bad[i].why))
                        fail_msg("'%s': reason \"%s\" does not mention \"%s\"", q, why, bad[i].why);
        }
        /* single components */
        assert_int_equal(xfer_component_valid("a", 1, why, sizeof why), 0);
        assert_int_equal(xfer_component_valid("a/b", 3, why, sizeof why), -EINVAL);
        assert_int_equal(xfer_component_valid(NULL, 0, NULL, 0), -EINVAL);
        assert_int_equal(xfer_name_valid(NULL, 0, NULL, 0), -EINVAL);
}

static void test_name_escape(void **state) {
        char out[32];

        assert_string_equal(xfer_name_escape("ab\n'\\\xff", 6, out, sizeof out), "ab\\x0a\\x27\\x5c\\xff");
        assert_string_equal(xfer_name_escape("abcdefghij", 10, out, 8), "abcd...");
        assert_string_equal(xfer_name_escape("abcdefg", 7, out, 8), "abcdefg");
        assert_string_equal(xfer_name_escape("\n\n\n", 3, out, 8), "\\x0a...");
        assert_string_equal(xfer_name_escape("abc", 3, out, 2), "a");
        assert_string_equal(xfer_name_escape("", 0, out, 1), "");
}

/* ---- encoder and decoder ---- */

static void test_stream_roundtrip(void **state) {
        struct buf b = {};
        static const size_t chunks[] = { 0, 1, 2, 3, 7, 24, 25, 64, 4096 };
        struct events ref = { .fnv = UINT64_C(0xcbf29ce484222325) };

        encode(&b, sample, sizeof sample / sizeof sample[0]);
        assert_int_equal(decode(b.p, b.n, 0, NULL, &ref, NULL, 0), 0);
        assert_int_equal(ref.ended, 1);
        assert_int_equal(ref.data, 3013);
        buf_add(&ref.log, "", 1);
        assert_non_null(strstr((char *) ref.log.p, "D dir 755 1700000000.000000000\nF dir/a 644 5\n"));
        if (!strstr((char *) ref.log.p, "F dir/sub/empty 400 0\nE dir/sub/empty e355 cbf29ce484222325\n"))
                fail_msg("%s", (char *) ref.log.p);
        assert_non_null(strstr((char *) ref.log.p, "END 7 3013\n"));
        for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
                struct events ev = { .fnv = UINT64_C(0xcbf29ce484222325) };
                assert_int_equal(decode(b.p, b.n, chunks[i], NULL, &ev, NULL, 0), 0);
                buf_add(&ev.log, "", 1);
                assert_int_equal(ev.log.n, ref.log.n);
                assert_memory_equal(ev.log.p, ref.log.p, ref.log.n);
                ev_free(&ev);
        }
        /* exactly at the quotas is fine, one less is not */
        struct xfer_limits lim = { .max_files = 7, .max_bytes = 3013 };
        assert_int_equal(decode_buf(&b, &lim, NULL, 0), 0);
        lim.max_files = 6;
        assert_int_equal(decode_buf(&b, &lim, NULL, 0), -EDQUOT);
        lim = (struct xfer_limits) { .max_files = 7, .max_bytes = 3012 };
        assert_int_equal(decode_buf(&b, &lim, NULL, 0), -EDQUOT);
        /* an empty transfer is a valid stream */
        struct buf e = {};
        encode(&e, NULL, 0);
        assert_int_equal(e.n, XFER_HEADER_SIZE + XFER_TRAILER_SIZE);
        assert_int_equal(decode_buf(&e, NULL, NULL, 0), 0);
        buf_free(&e);
        ev_free(&ref);
        buf_free(&b);
}

/* The digest (stream.h, version 2), by the encoder and the decoder, is
 * the one defined: file data enters it through the file's SHA-256 only,
 * the one end_file gives, empty files included. */
static void test_stream_digest(void **state) {
        const size_t nf = sizeof sample / sizeof sample[0];
        struct events ev = { .fnv = UINT64_C(0xcbf29ce484222325) };
        uint8_t want[32], got[32], all[32];
        struct buf b = {}, c = {};
        size_t k = 0;
        char why[1024];

        encode(&b, sample, nf);
        ref_digest(b.p, b.n - 32, want);
        assert_memory_equal(b.p + b.n - 32, want, 32); /* the encoder's */
        assert_int_equal(decode(b.p, b.n, 0, NULL, &ev, NULL, 0), 0);
        assert_memory_equal(ev.digest, want, 32); /* the decoder's, given to end */
        /* each file's SHA-256 is that of its data ... */
        for (size_t i = 0; i < nf; i++) {
                if (sample[i].type != 'F')
                        continue;
                uint8_t *p = malloc(sample[i].size + 1), d[32];
                assert_non_null(p);
                for (size_t j = 0; j < sample[i].size; j++)
                        content(sample[i].name, j, &p[j]);
                sha256(p, sample[i].size, d);
                assert_true((k + 1) * 32 <= ev.file_sha.n);
                assert_memory_equal(ev.file_sha.p + k * 32, d, 32);
                free(p);
                k++;
        }
        assert_int_equal(ev.file_sha.n, k * 32);
        /* ... and those are what the stream's digest covers */
        ref_digest_files(b.p, b.n - 32, &ev.file_sha, got);
        assert_memory_equal(got, want, 32);
        ev_free(&ev);

        /* the digest of every byte (version 1) is refused */
        sha256(b.p, b.n - 32, all);
        assert_memory_not_equal(all, want, 32);
        buf_add(&c, b.p, b.n);
        memcpy(c.p + c.n - 32, all, 32);
        assert_int_equal(decode_buf(&c, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "SHA-256"));
        /* and so is a version 1 stream */
        c.n = 0;
        buf_add(&c, b.p, b.n);
        c.p[4] = 1;
        assert_int_equal(decode_buf(&c, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "version 1"));

        /* an empty file: the SHA-256 of nothing is in the digest */
        c.n = 0;
        raw_header(&c, 1, 0);
        raw_entry(&c, 'F', 0644, 0, "e");
        buf_le(&c, XFER_TRAILER_TYPE, 1);
        buf_le(&c, 1, 8);
        buf_le(&c, 0, 8);
        sha256(c.p, c.n, all); /* without it */
        buf_add(&c, all, 32);
        assert_int_equal(decode_buf(&c, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "SHA-256"));
        c.n -= 32;
        ref_digest(c.p, c.n, want); /* with it */
        assert_memory_not_equal(all, want, 32);
        buf_add(&c, want, 32);
        assert_int_equal(decode_buf(&c, NULL, why, sizeof why), 0);
        /* the same stream from the encoder */
        static const struct ent empty_file[] = { { "e", 0, 0644, 'F' } };
        b.n = 0;
        encode(&b, empty_file, 1);
        assert_memory_equal(b.p + b.n - 32, want, 32);
        buf_free(&b);
        buf_free(&c);
}

static void test_stream_truncated(void **state) {
        struct buf b = {};
        char why[1024];

        encode(&b, sample, sizeof sample / sizeof sample[0]);
        for (size_t k = 0; k < b.n; k++) {
                struct events ev = {};
                int r = decode(b.p, k, 0, NULL, &ev, why, sizeof why);
                if (r != -EBADMSG)
                        fail_msg("prefix of %zu/%zu bytes: %d", k, b.n, r);
                assert_int_equal(ev.ended, 0);
                if (!strstr(why, "truncated"))
                        fail_msg("prefix of %zu: \"%s\"", k, why);
                ev_free(&ev);
        }
        buf_free(&b);
}

static void test_stream_trailing(void **state) {
        struct buf b = {};
        struct xfer_decoder *d = NULL;
        char why[1024];

        encode(&b, sample, 2);
        buf_add(&b, "\0", 1);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "after the end"));
        /* a second stream glued after the first */
        b.n--;
        size_t n = b.n;
        buf_add(&b, b.p, n);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        /* feeding after finish */
        assert_int_equal(xfer_decoder_new(&big_limits, NULL, NULL, &d), 0);
        assert_int_equal(xfer_decoder_feed(d, b.p, n), 0);
        assert_int_equal(xfer_decoder_finish(d), 0);
        assert_int_equal(xfer_decoder_finish(d), 0);
        assert_int_equal(xfer_decoder_feed(d, "x", 1), -EBADMSG);
        assert_int_equal(xfer_decoder_feed(d, "x", 1), -EBADMSG); /* sticky */
        assert_int_equal(xfer_decoder_finish(d), -EBADMSG);
        xfer_decoder_free(d);
        buf_free(&b);
}

static void test_stream_header(void **state) {
        struct buf b = {};
        char why[1024];
        struct xfer_limits lim = { .max_files = 10, .max_bytes = 1000 };

        encode(&b, sample, 1);
        for (size_t i = 0; i < 8; i++) {
                struct buf c = {};
                buf_add(&c, b.p, b.n);
                c.p[i] ^= 0x01; /* magic, version, reserved */
                assert_int_equal(decode_buf(&c, NULL, why, sizeof why), -EBADMSG);
                assert_non_null(strstr(why, "offset 0:"));
                buf_free(&c);
        }
        buf_free(&b);
        /* quotas are checked against the declaration, before any entry */
        raw_header(&b, 11, 0);
        assert_int_equal(decode_buf(&b, &lim, why, sizeof why), -EDQUOT);
        assert_non_null(strstr(why, "quota"));
        b.n = 0;
        raw_header(&b, 1, 1001);
        assert_int_equal(decode_buf(&b, &lim, why, sizeof why), -EDQUOT);
        b.n = 0;
        raw_header(&b, UINT64_MAX, UINT64_MAX);
        assert_int_equal(decode_buf(&b, &lim, why, sizeof why), -EDQUOT);
        buf_free(&b);
}

static void test_stream_types(void **state) {
        /* symbolic link, block and character devices, fifo, socket, hard
         * link, and any other byte: no encoding, refused by name */
        static const uint8_t types[] = { 'L', 'l', 'S', 's', 'B', 'b', 'C', 'c', 'P', 'p', 'H', 'h', 'd', 'f',
                                         'z', 0, 1, 2, 0x7f, 0x80, 0xff };
        char why[1024], needle[16];

        for (size_t i = 0; i < sizeof types; i++) {
                struct buf b = {};
                raw_header(&b, 2, 0);
                raw_entry(&b, 'D', 0755, 0, "d");
                raw_entry(&b, types[i], 0644, 0, "d/x");
                raw_trailer(&b, 2, 0);
                assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
                snprintf(needle, sizeof needle, "0x%02x", types[i]);
                if (!strstr(why, needle))
                        fail_msg("\"%s\" does not name %s", why, needle);
                buf_free(&b);
        }
}

static void test_stream_fields(void **state) {
        static const struct {
                uint64_t size;
                const char *why;
                uint32_t mode, nsec;
                uint16_t name_len; /* 0xffff: strlen("a") */
                uint8_t type;
        } bad[] = {
                { 0, "mode", 04755, 0, 0xffff, 'F' },
                { 0, "mode", 02755, 0, 0xffff, 'F' },
                { 0, "mode", 01777, 0, 0xffff, 'D' },
                { 0, "mode", 0100644, 0, 0xffff, 'F' },
                { 0, "nanoseconds", 0644, 1000000000, 0xffff, 'F' },
                { 0, "nanoseconds", 0644, UINT32_MAX, 0xffff, 'F' },
                { 1, "directory with a size", 0755, 0, 0xffff, 'D' },
                { 0, "name length", 0644, 0, 0, 'F' },
                { 0, "name length", 0644, 0, XFER_NAME_MAX + 1, 'F' },
                { 0, "name length", 0644, 0, 0xfffe, 'F' },
        };
        char why[1024];

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct buf b = {};
                raw_header(&b, 1, bad[i].size);
                buf_le(&b, bad[i].type, 1);
                buf_le(&b, bad[i].mode, 4);
                buf_le(&b, 0, 8);
                buf_le(&b, bad[i].nsec, 4);
                buf_le(&b, bad[i].size, 8);
                buf_le(&b, bad[i].name_len == 0xffff ? 1 : bad[i].name_len, 2);
                buf_add(&b, "a", 1);
                assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
                if (!strstr(why, bad[i].why))
                        fail_msg("case %zu: \"%s\" does not mention \"%s\"", i, why, bad[i].why);
                buf_free(&b);
        }
        /* negative times are times */
        struct buf b = {};
        raw_header(&b, 1, 0);
        raw_entry_n(&b, 'F', 0, -1, 999999999, 0, "old", 3);
        raw_trailer(&b, 1, 0);
        assert_int_equal(decode_buf(&b, NULL, NULL, 0), 0);
        buf_free(&b);
}

static void test_stream_names(void **state) {
        static const char *const bad[] = {
                "../x", "/etc/passwd", "a\nb", "\xff\xfe", "a/../../b", ".", "..", "a/", "-x", "a\xe2\x80\xae",
        };
        char why[1024];

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct buf b = {};
                raw_header(&b, 1, 0);
                raw_entry(&b, 'F', 0644, 0, bad[i]);
                raw_trailer(&b, 1, 0);
                assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
                assert_non_null(strstr(why, "invalid name"));
                buf_free(&b);
        }
        /* a NUL inside the name */
        struct buf b = {};
        raw_header(&b, 1, 0);
        raw_entry_n(&b, 'F', 0644, 0, 0, 0, "a\0b", 3);
        raw_trailer(&b, 1, 0);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "NUL"));
        buf_free(&b);
}

struct order_case {
        const char *names[4]; /* type prefix: 'D' or 'F' */
        const char *why;      /* NULL: valid */
};

static void test_stream_order(void **state) {
        static const struct order_case cases[] = {
                { { "Da", "Fa/x", "Fa-b" }, NULL },
                { { "Da", "Da/b", "Fa/b/c", "Fa/c" }, NULL },
                { { "Fa", "Fb", "Fc" }, NULL },
                { { "Fa-b", "Da", "Fa/x" }, "sorted" },
                { { "Fa/b" }, "parent directory was not sent" },
                { { "Da", "Fb/c" }, "parent directory was not sent" },
                { { "Fa", "Fa/b" }, "not a directory" },
                { { "Fa", "Fa" }, "duplicate" },
                { { "Da", "Fa" }, "duplicate" },
                { { "Da", "Da/b", "Fa/b/c", "Da/b" }, "duplicate" },
                { { "Da", "Da/b", "Fa/b/c", "Da" }, "duplicate" },
                { { "Fb", "Fa" }, "sorted" },
                { { "Da", "Da/c", "Fa/b" }, "sorted" },
                { { "Da", "Db", "Fa/x" }, "parent directory was not sent" },
                { { "Da", "Da/b", "Dc", "Fa/b/x" }, "parent directory was not sent" },
        };
        char why[1024];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct buf b = {};
                size_t n = 0;
                while (n < 4 && cases[i].names[n])
                        n++;
                raw_header(&b, n, 0);
                for (size_t k = 0; k < n; k++)
                        raw_entry(&b, (uint8_t) cases[i].names[k][0], 0755, 0, cases[i].names[k] + 1);
                raw_trailer(&b, n, 0);
                int r = decode_buf(&b, NULL, why, sizeof why);
                if (!cases[i].why) {
                        if (r != 0)
                                fail_msg("case %zu refused: %s", i, why);
                } else if (r != -EBADMSG || !strstr(why, cases[i].why))
                        fail_msg("case %zu: %d \"%s\", expected \"%s\"", i, r, why, cases[i].why);
                buf_free(&b);
        }
}

static void test_stream_lies(void **state) {
        struct buf b = {};
        char why[1024];

        /* more entries than declared: refused at the extra entry's type byte */
        raw_header(&b, 1, 0);
        raw_entry(&b, 'F', 0644, 0, "a");
        raw_entry(&b, 'F', 0644, 0, "b");
        raw_trailer(&b, 2, 0);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "more entries than the 1 declared"));
        b.n = 0;
        /* fewer entries than declared */
        raw_header(&b, 2, 0);
        raw_entry(&b, 'F', 0644, 0, "a");
        raw_trailer(&b, 2, 0);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "trailer counts"));
        b.n = 0;
        /* a file larger than the declared total */
        raw_header(&b, 1, 3);
        raw_entry(&b, 'F', 0644, 4, "a");
        buf_add(&b, "abcd", 4);
        raw_trailer(&b, 1, 4);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "more data than the 3 bytes declared"));
        b.n = 0;
        /* less data than declared in all */
        raw_header(&b, 1, 5);
        raw_entry(&b, 'F', 0644, 4, "a");
        buf_add(&b, "abcd", 4);
        raw_trailer(&b, 1, 5);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        b.n = 0;
        /* an entry claims less data than it carries: the rest is taken
         * for the next entry, which has no valid type */
        raw_header(&b, 1, 2);
        raw_entry(&b, 'F', 0644, 2, "a");
        buf_add(&b, "abcd", 4);
        raw_trailer(&b, 1, 2);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "0x63"));
        b.n = 0;
        /* an entry claims more data than it carries: the trailer is eaten
         * as data, the stream ends early */
        raw_header(&b, 1, 60);
        raw_entry(&b, 'F', 0644, 60, "a");
        buf_add(&b, "abcd", 4);
        raw_trailer(&b, 1, 60);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        assert_non_null(strstr(why, "truncated"));
        b.n = 0;
        /* the trailer's counts differ from the header's (and the data) */
        raw_header(&b, 1, 1);
        raw_entry(&b, 'F', 0644, 1, "a");
        buf_add(&b, "x", 1);
        raw_trailer(&b, 1, 2);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), -EBADMSG);
        b.n = 0;
        /* any changed byte breaks the digest */
        encode(&b, sample, sizeof sample / sizeof sample[0]);
        for (size_t i = 0; i < b.n; i++) {
                b.p[i] ^= 0x20;
                struct events ev = {};
                int r = decode(b.p, b.n, 0, NULL, &ev, why, sizeof why);
                if (r == 0)
                        fail_msg("stream with byte %zu changed accepted", i);
                assert_int_equal(ev.ended, 0);
                ev_free(&ev);
                b.p[i] ^= 0x20;
        }
        buf_free(&b);
}

static int refuse_cb(void *u, const struct xfer_entry *e) {
        return strcmp(e->name, "dir/sub") == 0 ? -ENOSPC : 0;
}

static void test_stream_encoder_rules(void **state) {
        struct xfer_encoder *enc = NULL;
        uint8_t header[XFER_HEADER_SIZE], trailer[XFER_TRAILER_SIZE];
        static uint8_t head[XFER_ENTRY_HEAD_MAX];
        size_t len;
        struct xfer_entry e = { .type = XFER_TYPE_FILE, .name = "a", .name_len = 1, .mode = 0644, .size = 2 };

        assert_int_equal(xfer_encoder_new(2, 2, header, &enc), 0);
        e.mode = 04644;
        assert_int_equal(xfer_encoder_entry(enc, &e, head, sizeof head, &len), -EINVAL);
        xfer_encoder_free(enc);
        assert_int_equal(xfer_encoder_new(2, 2, header, &enc), 0);
        e.mode = 0644;
        assert_int_equal(xfer_encoder_entry(enc, &e, head, sizeof head, &len), 0);
        assert_int_equal(xfer_encoder_data(enc, "abc", 3), -ERANGE);
        xfer_encoder_free(enc);
        assert_int_equal(xfer_encoder_new(2, 2, header, &enc), 0);
        assert_int_equal(xfer_encoder_entry(enc, &e, head, sizeof head, &len), 0);
        assert_int_equal(xfer_encoder_trailer(enc, trailer), -EINVAL); /* data due */
        xfer_encoder_free(enc);
        assert_int_equal(xfer_encoder_new(2, 2, header, &enc), 0);
        assert_int_equal(xfer_encoder_entry(enc, &e, head, sizeof head, &len), 0);
        assert_int_equal(xfer_encoder_data(enc, "ab", 2), 0);
        e.size = 1;
        e.name = "b";
        assert_int_equal(xfer_encoder_entry(enc, &e, head, sizeof head, &len), -ERANGE); /* bytes */
        xfer_encoder_free(enc);
        assert_int_equal(xfer_encoder_new(1, 0, header, &enc), 0);
        e.size = 0;
        e.name = "../b";
        e.name_len = 4;
        assert_int_equal(xfer_encoder_entry(enc, &e, head, sizeof head, &len), -EINVAL);
        assert_non_null(strstr(xfer_encoder_error(enc), "invalid name"));
        xfer_encoder_free(enc);

        /* a callback's error stops decoding, with its code */
        struct buf b = {};
        struct xfer_decoder *d = NULL;
        const struct xfer_callbacks cb = { .begin_dir = refuse_cb };
        encode(&b, sample, sizeof sample / sizeof sample[0]);
        assert_int_equal(xfer_decoder_new(&big_limits, &cb, NULL, &d), 0);
        assert_int_equal(xfer_decoder_feed(d, b.p, b.n), -ENOSPC);
        assert_int_equal(xfer_decoder_finish(d), -ENOSPC);
        assert_non_null(strstr(xfer_decoder_error(d), "receiver"));
        xfer_decoder_free(d);
        buf_free(&b);
}

/* ---- source trees ---- */

struct spec {
        const char *name;
        char type;
        mode_t mode, expect;
        int64_t sec;
        long nsec;
        size_t size;
};

static const struct spec tree[] = {
        { "top", 'D', 0750, 0750, 1600000000, 111, 0 },
        { "top/a.txt", 'F', 0644, 0644, 1000000000, 123456789, 5 },
        { "top/big.bin", 'F', 0640, 0640, 1700000000, 5, 200003 },
        { "top/empty", 'F', 0600, 0600, 1500000000, 0, 0 },
        { "top/sgid-dir", 'D', 02775, 0775, 1400000000, 999999999, 0 },
        { "top/sgid-dir/ro", 'F', 0444, 0444, 1300000000, 1, 65536 },
        { "top/sticky", 'D', 01777, 0777, 1200000000, 2, 0 },
        { "top/sub", 'D', 0700, 0700, 1100000000, 3, 0 },
        { "top/sub/deeper", 'D', 0555, 0555, 1000000001, 4, 0 },
        { "top/sub/deeper/file", 'F', 0604, 0604, 900000000, 5, 70000 },
        { "top/suid", 'F', 04755, 0755, 800000000, 6, 10 },
        { "top/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xc3\xbc.txt", 'F', 0400, 0400, 700000000, 7, 3 },
        { "single.txt", 'F', 06751, 0751, 600000000, 8, 1 },
};
#define N_TREE (sizeof tree / sizeof tree[0])

static void make_tree(int dirfd, const struct spec *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (s[i].type == 'D')
                        assert_int_equal(mkdirat(dirfd, s[i].name, 0700), 0);
                else {
                        int fd = openat(dirfd, s[i].name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                        assert_true(fd >= 0);
                        uint8_t *p = malloc(s[i].size + 1);
                        assert_non_null(p);
                        for (size_t k = 0; k < s[i].size; k++)
                                content(s[i].name, k, &p[k]);
                        assert_int_equal(write_all(fd, p, s[i].size), 0);
                        free(p);
                        close(fd);
                }
        }
        /* modes and times last, deepest first */
        for (size_t i = n; i > 0; i--) {
                const struct spec *e = &s[i - 1];
                struct timespec ts[2] = { { e->sec, e->nsec }, { e->sec, e->nsec } };
                assert_int_equal(fchmodat(dirfd, e->name, e->mode, 0), 0);
                assert_int_equal(utimensat(dirfd, e->name, ts, AT_SYMLINK_NOFOLLOW), 0);
        }
}

static void check_tree(int dirfd, const struct spec *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (fstatat(dirfd, s[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        fail_msg("'%s' missing: %m", s[i].name);
                assert_true(s[i].type == 'D' ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
                if ((st.st_mode & 07777) != s[i].expect)
                        fail_msg("'%s': mode %o, expected %o", s[i].name, st.st_mode & 07777, s[i].expect);
                if (st.st_mtim.tv_sec != s[i].sec || st.st_mtim.tv_nsec != s[i].nsec)
                        fail_msg("'%s': mtime %lld.%09ld, expected %lld.%09ld", s[i].name, (long long) st.st_mtim.tv_sec,
                                 st.st_mtim.tv_nsec, (long long) s[i].sec, s[i].nsec);
                if (s[i].type == 'F') {
                        assert_int_equal(st.st_size, s[i].size);
                        assert_int_equal(st.st_nlink, 1);
                        int fd = openat(dirfd, s[i].name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        assert_true(fd >= 0);
                        uint8_t *p = malloc(s[i].size + 1);
                        assert_non_null(p);
                        assert_int_equal(read_exact(fd, p, s[i].size), 0);
                        for (size_t k = 0; k < s[i].size; k++) {
                                uint8_t c;
                                content(s[i].name, k, &c);
                                if (p[k] != c)
                                        fail_msg("'%s': byte %zu differs", s[i].name, k);
                        }
                        free(p);
                        close(fd);
                }
        }
        assert_int_equal(count_entries(dirfd), n);
}

static int src_fd(struct tmp *t) {
        int fd = openat(t->fd, "src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

/* Pack paths from t/src into a memfd; returns pack's result, stream in b. */
static int pack_paths(struct tmp *t, const char *const *paths, size_t n, const struct xfer_pack_options *opts,
                      struct buf *b, char *why, size_t whylen) {
        int src = src_fd(t);
        int out = memfd_create("xfer-pack", MFD_CLOEXEC);
        assert_true(out >= 0);
        why[0] = '\0';
        int r = xfer_pack(out, src, paths, n, opts, why, whylen);
        if (r < 0)
                assert_true(why[0] != '\0');
        memfd_read(out, b);
        close(out);
        close(src);
        return r;
}

static void test_pack_roundtrip(void **state) {
        struct tmp *t = *state;
        const char *const paths[] = { "top", "single.txt" };
        struct stat before[N_TREE];
        struct xfer_manifest *m = NULL;
        struct buf b = {};
        char why[1024];
        int src = src_fd(t);

        make_tree(src, tree, N_TREE);
        for (size_t i = 0; i < N_TREE; i++)
                assert_int_equal(fstatat(src, tree[i].name, &before[i], AT_SYMLINK_NOFOLLOW), 0);
        if (pack_paths(t, paths, 2, NULL, &b, why, sizeof why) != 0)
                fail_msg("pack: %s", why);
        /* the source is unchanged */
        for (size_t i = 0; i < N_TREE; i++) {
                struct stat st;
                assert_int_equal(fstatat(src, tree[i].name, &st, AT_SYMLINK_NOFOLLOW), 0);
                assert_int_equal(st.st_ino, before[i].st_ino);
                assert_int_equal(st.st_mode, before[i].st_mode);
                assert_int_equal(st.st_size, before[i].st_size);
                assert_int_equal(st.st_mtim.tv_sec, before[i].st_mtim.tv_sec);
                assert_int_equal(st.st_mtim.tv_nsec, before[i].st_mtim.tv_nsec);
                assert_int_equal(st.st_ctim.tv_sec, before[i].st_ctim.tv_sec);
                assert_int_equal(st.st_ctim.tv_nsec, before[i].st_ctim.tv_nsec);
        }
        /* byte by byte through the decoder */
        struct events ev = {};
        assert_int_equal(decode(b.p, b.n, 1, NULL, &ev, why, sizeof why), 0);
        ev_free(&ev);

        if (unpack_buf(t, &b, NULL, &m, why, sizeof why) != 0)
                fail_msg("unpack: %s", why);
        check_tree(t->staging, tree, N_TREE);

        /* manifest: stream order, sizes, digests */
        assert_int_equal(m->n_entries, N_TREE);
        assert_int_equal(m->n_dirs, 5);
        assert_int_equal(m->n_files, N_TREE - 5);
        uint64_t total = 0;
        for (size_t i = 0; i < N_TREE; i++) {
                const struct xfer_manifest_entry *e = NULL;
                for (size_t k = 0; k < m->n_entries; k++)
                        if (strcmp(m->entries[k].name, tree[i].name) == 0)
                                e = &m->entries[k];
                assert_non_null(e);
                assert_int_equal(e->mode, tree[i].expect);
                if (tree[i].type == 'F') {
                        uint8_t *p = malloc(tree[i].size + 1), d[32];
                        assert_non_null(p);
                        for (size_t k = 0; k < tree[i].size; k++)
                                content(tree[i].name, k, &p[k]);
                        sha256(p, tree[i].size, d);
                        assert_memory_equal(e->sha256, d, 32);
                        assert_int_equal(e->size, tree[i].size);
                        total += tree[i].size;
                        free(p);
                }
        }
        assert_int_equal(m->total_bytes, total);
        /* the stream's digest: the trailer's, as defined */
        uint8_t digest[32];
        ref_digest(b.p, b.n - 32, digest);
        assert_memory_equal(m->stream_sha256, digest, 32);
        assert_memory_equal(b.p + b.n - 32, digest, 32);
        assert_string_equal(m->entries[0].name, "single.txt"); /* sorted */
        char *text = NULL;
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        assert_non_null(f);
        assert_int_equal(xfer_manifest_write(m, f), 0);
        assert_int_equal(fclose(f), 0);
        assert_non_null(strstr(text, "F 0751 1 "));
        assert_non_null(strstr(text, "D 0555 - - top/sub/deeper\n"));
        char line[128];
        snprintf(line, sizeof line, "total 8 files, 5 directories, %" PRIu64 " bytes, stream ", total);
        assert_non_null(strstr(text, line));
        free(text);
        xfer_manifest_free(m);
        buf_free(&b);
        close(src);
}

static void pack_refused(struct tmp *t, const char *path, int err, const char *needle) {
        struct buf b = {};
        char why[1024];
        const char *const paths[] = { path };
        int r = pack_paths(t, paths, 1, NULL, &b, why, sizeof why);
        if (r != err || !strstr(why, needle))
                fail_msg("pack '%s': %d \"%s\", expected %d \"%s\"", path, r, why, err, needle);
        assert_int_equal(b.n, 0); /* refused before anything was written */
        buf_free(&b);
}

static void test_pack_refuses(void **state) {
        struct tmp *t = *state;
        int src = src_fd(t);
        static const struct spec base[] = {
                { "t", 'D', 0755, 0755, 1, 0, 0 },
                { "t/a", 'F', 0644, 0644, 1, 0, 3 },
                { "t/z", 'D', 0755, 0755, 1, 0, 0 },
        };
        const char *const dup[] = { "t/a", "u/a" };
        struct buf b = {};
        char why[1024];

        make_tree(src, base, 3);
        /* a symbolic link inside, as the argument, in the argument's path */
        assert_int_equal(symlinkat("/etc", src, "t/z/link"), 0);
        pack_refused(t, "t", -ELOOP, "'t/z/link' is a symbolic link");
        pack_refused(t, "t/z/link", -ELOOP, "is a symbolic link");
        assert_int_equal(symlinkat("t", src, "tl"), 0);
        pack_refused(t, "tl/a", -ELOOP, "symbolic link");
        assert_int_equal(unlinkat(src, "t/z/link", 0), 0);
        /* a fifo: refused without blocking */
        assert_int_equal(mkfifoat(src, "t/z/fifo", 0644), 0);
        pack_refused(t, "t", -EPERM, "'t/z/fifo' is a fifo");
        pack_refused(t, "t/z/fifo", -EPERM, "is a fifo");
        assert_int_equal(unlinkat(src, "t/z/fifo", 0), 0);
        /* a device */
        if (mknodat(src, "t/z/null", S_IFCHR | 0666, makedev(1, 3)) == 0) {
                pack_refused(t, "t", -EPERM, "'t/z/null' is a device");
                assert_int_equal(unlinkat(src, "t/z/null", 0), 0);
        } else
                print_message("# no device node test: mknod: %s\n", strerror(errno));
        /* a socket */
        {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                assert_true(s >= 0);
                assert_true(strlen(t->path) < 80);
                snprintf(sa.sun_path, sizeof sa.sun_path, "%.80s/src/t/z/sock", t->path);
                assert_int_equal(bind(s, (struct sockaddr *) &sa, sizeof sa), 0);
                close(s);
                pack_refused(t, "t", -EPERM, "'t/z/sock' is a socket");
                assert_int_equal(unlinkat(src, "t/z/sock", 0), 0);
        }
        /* a hard link (both names are refused) */
        assert_int_equal(linkat(src, "t/a", src, "t/z/hard", 0), 0);
        pack_refused(t, "t", -EPERM, "'t/a' has 2 hard links");
        pack_refused(t, "t/z/hard", -EPERM, "hard links");
        assert_int_equal(unlinkat(src, "t/z/hard", 0), 0);
        /* names that cannot be sent */
        static const char *const names[] = { "t/z/a\nb", "t/z/-x", "t/z/\xff", "t/z/a\342\200\256b", "t/z/a:b" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                int fd = openat(src, names[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                close(fd);
                pack_refused(t, "t", -EINVAL, "cannot be sent");
                assert_int_equal(unlinkat(src, names[i], 0), 0);
        }
        /* arguments */
        pack_refused(t, ".", -EINVAL, "by its name");
        pack_refused(t, "t/..", -EINVAL, "by its name");
        pack_refused(t, "/", -EINVAL, "give a file");
        pack_refused(t, "", -EINVAL, "give a file");
        pack_refused(t, "missing", -ENOENT, "missing");
        assert_int_equal(mkdirat(src, "u", 0755), 0);
        int ua = openat(src, "u/a", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(ua >= 0);
        close(ua);
        assert_int_equal(pack_paths(t, dup, 2, NULL, &b, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "would both arrive as 'a'"));
        assert_int_equal(b.n, 0);
        assert_int_equal(unlinkat(src, "u/a", 0), 0);
        /* limits known to the sender */
        struct xfer_limits lim = { .max_files = 2, .max_bytes = 100 };
        struct xfer_pack_options o = { .limits = &lim };
        const char *const one[] = { "t" };
        assert_int_equal(pack_paths(t, one, 1, &o, &b, why, sizeof why), -EDQUOT);
        lim = (struct xfer_limits) { .max_files = 10, .max_bytes = 2 };
        assert_int_equal(pack_paths(t, one, 1, &o, &b, why, sizeof why), -EDQUOT);
        lim.max_bytes = 3;
        assert_int_equal(pack_paths(t, one, 1, &o, &b, why, sizeof why), 0);
        /* a trailing slash is fine, and absolute paths too */
        const char *const slash[] = { "t/" };
        assert_int_equal(pack_paths(t, slash, 1, NULL, &b, why, sizeof why), 0);
        char abs[300];
        snprintf(abs, sizeof abs, "%s/src/t", t->path);
        const char *const absv[] = { abs };
        assert_int_equal(pack_paths(t, absv, 1, NULL, &b, why, sizeof why), 0);
        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), 0);
        buf_free(&b);
        close(src);
}

/* ---- sources changing while sent (deterministic, through on_file) ---- */

struct hook {
        struct tmp *t;
        const char *when; /* file whose turn triggers the change */
        int what;
};

enum { GROW, SHRINK, REWRITE, REPLACE_LATER, SYMLINK_LATER, REMOVE_LATER };

static int change_hook(void *userdata, const char *name, uint64_t size) {
        struct hook *h = userdata;
        int src = src_fd(h->t), fd;
        struct timespec ts[2] = { { 5, 0 }, { 5, 0 } };

        if (strcmp(name, h->when) != 0) {
                close(src);
                return 0;
        }
        switch (h->what) {
        case GROW:
                fd = openat(src, "t/m/f", O_WRONLY | O_APPEND | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(write_all(fd, "more", 4), 0);
                close(fd);
                break;
        case SHRINK:
                fd = openat(src, "t/m/f", O_WRONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(ftruncate(fd, 10), 0);
                close(fd);
                break;
        case REWRITE: /* same size, other content, other time */
                fd = openat(src, "t/m/f", O_WRONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(pwrite(fd, "XXXX", 4, 100), 4);
                assert_int_equal(futimens(fd, ts), 0);
                close(fd);
                break;
        case REPLACE_LATER:
                fd = openat(src, "t/z/new", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write_all(fd, "abc", 3), 0);
                close(fd);
                assert_int_equal(renameat(src, "t/z/new", src, "t/z/g"), 0);
                break;
        case SYMLINK_LATER:
                assert_int_equal(renameat(src, "t/z", src, "z-moved"), 0);
                assert_int_equal(symlinkat("../z-moved", src, "t/z"), 0);
                break;
        case REMOVE_LATER:
                assert_int_equal(unlinkat(src, "t/z/g", 0), 0);
                break;
        }
        close(src);
        return 0;
}

static void test_pack_changes(void **state) {
        struct tmp *t = *state;
        static const struct spec base[] = {
                { "t", 'D', 0755, 0755, 1, 0, 0 },      { "t/m", 'D', 0755, 0755, 1, 0, 0 },
                { "t/m/f", 'F', 0644, 0644, 1, 0, 300000 }, { "t/z", 'D', 0755, 0755, 1, 0, 0 },
                { "t/z/g", 'F', 0644, 0644, 1, 0, 3 },
        };
        static const struct {
                const char *when;
                const char *why;
                int what;
                int err;
        } cases[] = {
                { "t/m/f", "'t/m/f' grew", GROW, -ESTALE },
                { "t/m/f", "'t/m/f' shrank", SHRINK, -ESTALE },
                { "t/m/f", "'t/m/f' was modified", REWRITE, -ESTALE },
                { "t/m/f", "'t/z/g' was replaced", REPLACE_LATER, -ESTALE },
                { "t/m/f", "'t/z' is a symbolic link", SYMLINK_LATER, -ELOOP },
                { "t/m/f", "'t/z/g'", REMOVE_LATER, -ENOENT },
        };
        const char *const paths[] = { "t" };
        char why[1024];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                int src = src_fd(t);
                struct hook h = { .t = t, .when = cases[i].when, .what = cases[i].what };
                struct xfer_pack_options o = { .on_file = change_hook, .userdata = &h };
                struct buf b = {};

                make_tree(src, base, sizeof base / sizeof base[0]);
                int r = pack_paths(t, paths, 1, &o, &b, why, sizeof why);
                if (r != cases[i].err || !strstr(why, cases[i].why))
                        fail_msg("case %zu: %d \"%s\", expected %d \"%s\"", i, r, why, cases[i].err, cases[i].why);
                /* what was written is a stream without its end: nothing arrives */
                expect_refused(t, &b, NULL, -EBADMSG, "truncated");
                buf_free(&b);
                /* start again from nothing */
                assert_int_equal(xfer_staging_clear(src), 0);
                close(src);
        }
}

/* A child appends to a file for as long as the packer runs: either the
 * packer notices, or (if the child happened not to run) the transfer is
 * clean and complete. */
static void test_pack_grow_concurrent(void **state) {
        struct tmp *t = *state;
        static const struct spec base[] = {
                { "t", 'D', 0755, 0755, 1, 0, 0 },
                { "t/log", 'F', 0644, 0644, 1, 0, 1 << 20 },
        };
        const char *const paths[] = { "t" };
        int src = src_fd(t), p[2], stale = 0;
        char why[1024], c;

        make_tree(src, base, 2);
        for (int round = 0; round < 10; round++) {
                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        int fd = openat(src, "t/log", O_WRONLY | O_APPEND | O_CLOEXEC);
                        if (fd < 0 || write(fd, "x", 1) != 1 || write(p[1], "r", 1) != 1)
                                _exit(1);
                        for (;;)
                                if (write(fd, "0123456789abcdef", 16) != 16)
                                        _exit(1);
                }
                close(p[1]);
                assert_int_equal(read(p[0], &c, 1), 1); /* appending has started */
                close(p[0]);
                struct buf b = {};
                int r = pack_paths(t, paths, 1, NULL, &b, why, sizeof why);
                kill(pid, SIGKILL);
                assert_int_equal(waitpid(pid, NULL, 0), pid);
                if (r == 0)
                        assert_int_equal(decode_buf(&b, NULL, why, sizeof why), 0);
                else {
                        if (r != -ESTALE)
                                fail_msg("pack: %d %s", r, why);
                        stale++;
                        if (b.n > 0)
                                expect_refused(t, &b, NULL, -EBADMSG, "truncated");
                }
                buf_free(&b);
        }
        print_message("# growing file: %d of 10 transfers stopped\n", stale);
        close(src);
}

/* A child swaps a directory of the tree with a symbolic link to a secret
 * directory (renameat2 RENAME_EXCHANGE, so the name always exists) as
 * fast as it can.  Every pack either fails or sends the real directory:
 * never anything of the secret one. */
static void test_pack_symlink_race(void **state) {
        struct tmp *t = *state;
        static const struct spec base[] = {
                { "tree", 'D', 0755, 0755, 1, 0, 0 },         { "tree/a", 'D', 0755, 0755, 1, 0, 0 },
                { "tree/a/d", 'D', 0755, 0755, 1, 0, 0 },     { "tree/a/d/f1", 'F', 0644, 0644, 1, 0, 100 },
                { "tree/a/d/sub", 'D', 0755, 0755, 1, 0, 0 }, { "tree/a/d/sub/f2", 'F', 0644, 0644, 1, 0, 5000 },
                { "hold", 'D', 0755, 0755, 1, 0, 0 },         { "outside", 'D', 0755, 0755, 1, 0, 0 },
                { "outside/f1", 'F', 0644, 0644, 1, 0, 7 },   { "outside/secret", 'F', 0644, 0644, 1, 0, 9 },
        };
        const char *const paths[] = { "tree" };
        int src = src_fd(t), ok = 0, refused = 0;
        char why[1024], target[300];

        make_tree(src, base, sizeof base / sizeof base[0]);
        snprintf(target, sizeof target, "%s/src/outside", t->path);
        assert_int_equal(symlinkat(target, src, "hold/d"), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                for (;;)
                        if (renameat2(src, "tree/a/d", src, "hold/d", RENAME_EXCHANGE) < 0)
                                _exit(1);
        /* Failures are reported once the child is stopped. */
        char failure[2048] = "";
        for (int i = 0; i < 300 && !failure[0]; i++) {
                struct buf b = {};
                int r = pack_paths(t, paths, 1, NULL, &b, why, sizeof why);
                if (r == 0) {
                        struct events ev = {};
                        ok++;
                        if (decode(b.p, b.n, 0, NULL, &ev, why, sizeof why) != 0)
                                snprintf(failure, sizeof failure, "stream refused: %s", why);
                        buf_add(&ev.log, "", 1);
                        if (strstr((char *) ev.log.p, "secret") || !strstr((char *) ev.log.p, "F tree/a/d/sub/f2 644 5000") ||
                            ev.data != 5100)
                                snprintf(failure, sizeof failure, "wrong transfer:\n%s", (char *) ev.log.p);
                        ev_free(&ev);
                } else {
                        refused++;
                        if (r != -ELOOP && r != -ESTALE)
                                snprintf(failure, sizeof failure, "pack: %d %s", r, why);
                        if (strstr(why, "secret"))
                                snprintf(failure, sizeof failure, "followed the link: %s", why);
                }
                buf_free(&b);
        }
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (failure[0])
                fail_msg("%s", failure);
        assert_true(WIFSIGNALED(status)); /* the child was still swapping */
        print_message("# symlink race: %d clean transfers, %d refused\n", ok, refused);
        close(src);
}

/* ---- unpacking hostile streams ---- */

/* Two valid entries (a directory and a file with data) then the fault:
 * each case checks that what was created first is removed again. */
static void prefix(struct buf *b, uint64_t entries, uint64_t bytes) {
        raw_header(b, entries, bytes);
        raw_entry(b, 'D', 0755, 0, "a");
        raw_entry(b, 'F', 0400, 3, "a/f");
        buf_add(b, "abc", 3);
}

static void test_unpack_hostile(void **state) {
        struct tmp *t = *state;
        struct buf b = {};
        static const char *const names[] = { "a/../x", "a/../../x", "/etc/x", "a/x\ny", "a/\xc3\x28", "a/\xed\xa0\x80",
                                             "../x" };

        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
                prefix(&b, 3, 3);
                raw_entry(&b, 'F', 0644, 0, names[i]);
                raw_trailer(&b, 3, 3);
                expect_refused(t, &b, NULL, -EBADMSG, "invalid name");
                b.n = 0;
        }
        static const uint8_t types[] = { 'L', 'B', 'C', 'P', 'S', 'H' };
        for (size_t i = 0; i < sizeof types; i++) {
                prefix(&b, 3, 3);
                raw_entry(&b, types[i], 0644, 0, "a/x");
                raw_trailer(&b, 3, 3);
                expect_refused(t, &b, NULL, -EBADMSG, "only directories");
                b.n = 0;
        }
        /* setuid in a mode */
        prefix(&b, 3, 3);
        raw_entry(&b, 'F', 04755, 0, "a/x");
        raw_trailer(&b, 3, 3);
        expect_refused(t, &b, NULL, -EBADMSG, "mode");
        b.n = 0;
        /* sizes that lie */
        prefix(&b, 3, 3);
        raw_entry(&b, 'F', 0644, 10, "a/x");
        buf_add(&b, "abcd", 4);
        raw_trailer(&b, 3, 13);
        expect_refused(t, &b, NULL, -EBADMSG, "more data than");
        b.n = 0;
        prefix(&b, 3, 103);
        raw_entry(&b, 'F', 0644, 100, "a/x");
        buf_add(&b, "abcd", 4);
        raw_trailer(&b, 3, 103);
        expect_refused(t, &b, NULL, -EBADMSG, "truncated");
        b.n = 0;
        prefix(&b, 3, 13);
        raw_entry(&b, 'F', 0644, 2, "a/x");
        buf_add(&b, "abcdefghijk", 11);
        raw_trailer(&b, 3, 13);
        expect_refused(t, &b, NULL, -EBADMSG, "0x63");
        b.n = 0;
        /* more entries than declared */
        prefix(&b, 2, 3);
        raw_entry(&b, 'F', 0644, 0, "a/x");
        raw_trailer(&b, 3, 3);
        expect_refused(t, &b, NULL, -EBADMSG, "more entries");
        b.n = 0;
        /* duplicate, parent missing, file as parent */
        prefix(&b, 3, 3);
        raw_entry(&b, 'F', 0644, 0, "a/f");
        raw_trailer(&b, 3, 3);
        expect_refused(t, &b, NULL, -EBADMSG, "duplicate");
        b.n = 0;
        prefix(&b, 3, 3);
        raw_entry(&b, 'D', 0755, 0, "a");
        raw_trailer(&b, 3, 3);
        expect_refused(t, &b, NULL, -EBADMSG, "duplicate");
        b.n = 0;
        prefix(&b, 3, 3);
        raw_entry(&b, 'F', 0644, 0, "b/x");
        raw_trailer(&b, 3, 3);
        expect_refused(t, &b, NULL, -EBADMSG, "parent directory");
        b.n = 0;
        prefix(&b, 3, 3);
        raw_entry(&b, 'F', 0644, 0, "a/f/x");
        raw_trailer(&b, 3, 3);
        expect_refused(t, &b, NULL, -EBADMSG, "not a directory");
        b.n = 0;
        /* everything written, then the digest does not match */
        prefix(&b, 3, 3);
        raw_entry(&b, 'D', 0500, 0, "b");
        raw_trailer(&b, 3, 3);
        b.p[b.n - 1] ^= 1;
        expect_refused(t, &b, NULL, -EBADMSG, "SHA-256");
        b.n = 0;
        /* everything right, then one byte more */
        prefix(&b, 3, 3);
        raw_entry(&b, 'D', 0500, 0, "b");
        raw_trailer(&b, 3, 3);
        buf_add(&b, "\n", 1);
        expect_refused(t, &b, NULL, -EBADMSG, "after the end");
        b.n--;
        /* and the same stream without it is accepted */
        char why[1024];
        assert_int_equal(unpack_buf(t, &b, NULL, NULL, why, sizeof why), 0);
        assert_int_equal(count_entries(t->staging), 3);
        assert_int_equal(xfer_staging_clear(t->staging), 0);
        assert_staging_empty(t);
        buf_free(&b);
}

static void test_unpack_truncated(void **state) {
        struct tmp *t = *state;
        struct buf b = {}, c = {};

        encode(&b, sample, sizeof sample / sizeof sample[0]);
        for (size_t k = 0; k < b.n; k += (k < 200 || b.n - k < 100) ? 1 : 97) {
                c.n = 0;
                buf_add(&c, b.p, k);
                expect_refused(t, &c, NULL, -EBADMSG, "truncated");
        }
        buf_free(&b);
        buf_free(&c);
}

static void test_unpack_quota(void **state) {
        struct tmp *t = *state;
        struct buf b = {};
        struct xfer_limits lim = { .max_files = 1000, .max_bytes = 1 << 20 };
        char name[32];

        /* 100 000 small files, honestly declared: refused at the header */
        raw_header(&b, 100000, 100000);
        for (int i = 0; i < 100000; i++) {
                snprintf(name, sizeof name, "f%06d", i);
                raw_entry(&b, 'F', 0644, 1, name);
                buf_add(&b, "x", 1);
        }
        raw_trailer(&b, 100000, 100000);
        assert_int_equal(decode_buf(&b, NULL, NULL, 0), 0); /* valid without quota */
        expect_refused(t, &b, &lim, -EDQUOT, "offset 0: the transfer has 100000 files");
        /* the same, declared as 10: refused at the 11th */
        b.p[8] = 10;
        b.p[9] = b.p[10] = 0;
        expect_refused(t, &b, &lim, -EBADMSG, "more entries than the 10 declared");
        b.n = 0;
        /* a file over quota: declared, or hidden behind a small declaration */
        raw_header(&b, 1, 2 << 20);
        raw_entry(&b, 'F', 0644, 2 << 20, "big");
        expect_refused(t, &b, &lim, -EDQUOT, "quota");
        b.n = 0;
        raw_header(&b, 2, 10);
        raw_entry(&b, 'F', 0644, 5, "a");
        buf_add(&b, "abcde", 5);
        raw_entry(&b, 'F', 0644, 2 << 20, "big");
        expect_refused(t, &b, &lim, -EDQUOT, "quota");
        b.n = 0;
        raw_header(&b, 2, 10);
        raw_entry(&b, 'F', 0644, 5, "a");
        buf_add(&b, "abcde", 5);
        raw_entry(&b, 'F', 0644, 100, "b");
        expect_refused(t, &b, &lim, -EBADMSG, "more data than the 10 bytes declared");
        buf_free(&b);
}

/* 100 000 real files packed; the receiver's quota refuses them before
 * creating anything. */
static void test_unpack_quota_many_files(void **state) {
        struct tmp *t = *state;
        struct xfer_limits lim = { .max_files = 1000, .max_bytes = 1 << 30 };
        const char *const paths[] = { "many" };
        struct buf b = {};
        char why[1024], name[32];
        int src = src_fd(t);

        assert_int_equal(mkdirat(src, "many", 0755), 0);
        int dir = openat(src, "many", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dir >= 0);
        for (int i = 0; i < 100000; i++) {
                snprintf(name, sizeof name, "f%06d", i);
                int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, "x", 1), 1);
                close(fd);
        }
        close(dir);
        if (pack_paths(t, paths, 1, NULL, &b, why, sizeof why) != 0)
                fail_msg("pack: %s", why);
        expect_refused(t, &b, &lim, -EDQUOT, "100001 files and directories");
        /* the sender knows the quota: refused before writing anything */
        struct xfer_pack_options o = { .limits = &lim };
        assert_int_equal(pack_paths(t, paths, 1, &o, &b, why, sizeof why), -EDQUOT);
        assert_int_equal(b.n, 0);
        buf_free(&b);
        close(src);
}

/* The receiver goes away (here: quota) while the sender writes into a
 * pipe: the sender gets -EPIPE. */
static void test_pack_pipe(void **state) {
        struct tmp *t = *state;
        static const struct spec base[] = {
                { "t", 'D', 0755, 0755, 1, 0, 0 },
                { "t/big", 'F', 0644, 0644, 1, 0, 4 << 20 },
                { "t/small", 'F', 0644, 0644, 1, 0, 10 },
        };
        const char *const paths[] = { "t" };
        struct xfer_limits lim = { .max_files = 10, .max_bytes = 1000 };
        struct xfer_manifest *m = NULL;
        int src = src_fd(t), p[2], status = 0;
        char why[1024];

        make_tree(src, base, 3);
        for (int round = 0; round < 2; round++) {
                assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        char w[1024];
                        (void) signal(SIGPIPE, SIG_IGN);
                        close(p[0]);
                        int r = xfer_pack(p[1], src, paths, 1, NULL, w, sizeof w);
                        _exit(r == 0 ? 0 : r == -EPIPE ? 2 : 1);
                }
                close(p[1]);
                int r = xfer_unpack(p[0], t->staging, round == 0 ? &lim : &big_limits, &m, why, sizeof why);
                close(p[0]);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                if (round == 0) {
                        assert_int_equal(r, -EDQUOT);
                        assert_int_equal(WEXITSTATUS(status), 2);
                        assert_staging_empty(t);
                } else {
                        /* the whole transfer through a pipe */
                        if (r != 0)
                                fail_msg("unpack: %s", why);
                        assert_int_equal(WEXITSTATUS(status), 0);
                        check_tree(t->staging, base, 3);
                        xfer_manifest_free(m);
                        assert_int_equal(xfer_staging_clear(t->staging), 0);
                }
        }
        close(src);
}

/* Disk full: a 1 MiB tmpfs, mounted in a private mount namespace of a
 * child (the host's mounts are never touched). */
static int disk_full_child(const char *dir, int stream_fd, int inodes) {
        char why[1024];
        struct xfer_manifest *m = NULL;

        if (unshare(CLONE_NEWNS) < 0)
                return 77;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 3;
        if (mount("xfer-test", dir, "tmpfs", MS_NOSUID | MS_NODEV,
                  inodes ? "size=1m,nr_inodes=40,mode=0700" : "size=1m,mode=0700") < 0)
                return 4;
        int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0 || mkdirat(root, "staging", 0700) < 0)
                return 5;
        int staging = openat(root, "staging", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (staging < 0)
                return 6;
        int r = xfer_unpack(stream_fd, staging, &big_limits, &m, why, sizeof why);
        fprintf(stderr, "# disk full: %d %s\n", r, why);
        if (r != -ENOSPC || !strstr(why, "No space left"))
                return 7;
        if (count_entries(staging) != 0)
                return 8;
        /* and the space is free again */
        if (count_entries(root) != 1)
                return 9;
        return 0;
}

static void test_unpack_disk_full(void **state) {
        struct tmp *t = *state;
        char dir[300];

        snprintf(dir, sizeof dir, "%s/mnt", t->path);
        assert_int_equal(mkdir(dir, 0700), 0);
        for (int inodes = 0; inodes < 2; inodes++) {
                struct buf b = {};
                char name[32];
                if (!inodes) {
                        /* some files, then one larger than the file system */
                        raw_header(&b, 4, 3 + 100 + (3 << 20));
                        raw_entry(&b, 'D', 0755, 0, "d");
                        raw_entry(&b, 'F', 0644, 3, "d/a");
                        buf_add(&b, "abc", 3);
                        raw_entry(&b, 'F', 0644, 3 << 20, "d/big");
                        for (int i = 0; i < 3 << 10; i++) {
                                uint8_t k[1024];
                                memset(k, i & 0xff, sizeof k);
                                buf_add(&b, k, sizeof k);
                        }
                        raw_entry(&b, 'F', 0644, 100, "d/z");
                        for (int i = 0; i < 100; i++)
                                buf_add(&b, "z", 1);
                        raw_trailer(&b, 4, 3 + 100 + (3 << 20));
                } else {
                        /* more files than the file system has inodes */
                        raw_header(&b, 100, 0);
                        for (int i = 0; i < 100; i++) {
                                snprintf(name, sizeof name, "f%03d", i);
                                raw_entry(&b, 'F', 0644, 0, name);
                        }
                        raw_trailer(&b, 100, 0);
                }
                int fd = memfd_of(&b);
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0)
                        _exit(disk_full_child(dir, fd, inodes));
                int status = 0;
                assert_int_equal(waitpid(pid, &status, 0), pid);
                close(fd);
                buf_free(&b);
                assert_true(WIFEXITED(status));
                if (WEXITSTATUS(status) == 77) {
                        rmdir(dir);
                        skip(); /* no mount namespace (not root) */
                }
                if (WEXITSTATUS(status) != 0)
                        fail_msg("disk-full child (%s) failed at step %d", inodes ? "inodes" : "bytes",
                                 WEXITSTATUS(status));
                /* the host's view: an empty directory, nothing mounted */
                int mnt = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(mnt >= 0);
                assert_int_equal(count_entries(mnt), 0);
                close(mnt);
        }
        assert_int_equal(rmdir(dir), 0);
}

static void test_unpack_staging(void **state) {
        struct tmp *t = *state;
        struct buf b = {};
        struct xfer_manifest *m = NULL;
        char why[1024];

        encode(&b, sample, 2);
        int fd = openat(t->staging, "other", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        fd = memfd_of(&b);
        assert_int_equal(xfer_unpack(fd, t->staging, &big_limits, &m, why, sizeof why), -ENOTEMPTY);
        assert_null(m);
        close(fd);
        assert_int_equal(count_entries(t->staging), 1); /* not ours: left alone */
        assert_int_equal(unlinkat(t->staging, "other", 0), 0);
        fd = memfd_of(&b);
        assert_int_equal(xfer_unpack(fd, fd, &big_limits, &m, why, sizeof why), -ENOTDIR);
        assert_int_equal(xfer_unpack(fd, t->staging, NULL, &m, why, sizeof why), -EINVAL);
        close(fd);
        buf_free(&b);
}

/* Clearing works without privileges on read-only directories. */
static void test_staging_clear(void **state) {
        struct tmp *t = *state;
        static const struct spec ro[] = {
                { "a", 'D', 0555, 0555, 1, 0, 0 },     { "a/b", 'D', 0000, 0000, 1, 0, 0 },
                { "a/b/f", 'F', 0000, 0000, 1, 0, 3 }, { "a/c", 'D', 0500, 0500, 1, 0, 0 },
                { "a/c/g", 'F', 0444, 0444, 1, 0, 1 }, { "h", 'F', 0000, 0000, 1, 0, 0 },
        };

        make_tree(t->staging, ro, sizeof ro / sizeof ro[0]);
        if (geteuid() != 0) {
                assert_int_equal(xfer_staging_clear(t->staging), 0);
                assert_staging_empty(t);
                return;
        }
        for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++)
                assert_int_equal(fchownat(t->staging, ro[i].name, 65534, 65534, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(fchown(t->staging, 65534, 65534), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(3);
                _exit(xfer_staging_clear(t->staging) == 0 ? 0 : 1);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_staging_empty(t);
        assert_int_equal(fchown(t->staging, 0, 0), 0);
}

static void test_commit(void **state) {
        struct tmp *t = *state;
        struct buf b = {};
        char why[1024];

        encode(&b, sample, sizeof sample / sizeof sample[0]);
        assert_int_equal(unpack_buf(t, &b, NULL, NULL, why, sizeof why), 0);
        assert_int_equal(mkdirat(t->fd, "Incoming", 0755), 0);
        int in = openat(t->fd, "Incoming", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(in >= 0);
        assert_int_equal(xfer_commit(t->fd, "staging", in, "a/b"), -EINVAL);
        assert_int_equal(xfer_commit(t->fd, "staging", in, ".."), -EINVAL);
        assert_int_equal(xfer_commit(t->fd, "../staging", in, "x"), -EINVAL);
        assert_int_equal(xfer_commit(t->fd, "staging", in, "transfer-1"), 0);
        assert_int_equal(faccessat(t->fd, "staging", F_OK, AT_SYMLINK_NOFOLLOW), -1);
        int got = openat(in, "transfer-1", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(got >= 0);
        assert_int_equal(count_entries(got), 7);
        close(got);
        /* never over an existing transfer */
        assert_int_equal(mkdirat(t->fd, "staging2", 0700), 0);
        assert_int_equal(xfer_commit(t->fd, "staging2", in, "transfer-1"), -EEXIST);
        assert_int_equal(faccessat(t->fd, "staging2", F_OK, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(xfer_commit(t->fd, "missing", in, "transfer-2"), -ENOENT);
        close(in);
        /* the test's staging directory fd now points into Incoming: recreate */
        close(t->staging);
        assert_int_equal(mkdirat(t->fd, "staging", 0700), 0);
        t->staging = openat(t->fd, "staging", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->staging >= 0);
        buf_free(&b);
}

/* ---- seed corpus for tests/fuzz/fuzz-xfer-stream.c ---- */

static void write_seed(int dirfd, const char *name, const struct buf *b) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write_all(fd, b->p, b->n), 0);
        close(fd);
}

static void test_write_corpus(void **state) {
        const char *dir = getenv("REMPART_XFER_WRITE_CORPUS");
        static const struct ent one_dir[] = { { "d", 0, 0755, 'D' } };
        static const struct ent one_file[] = { { "hello.txt", 12, 0644, 'F' } };
        static const struct ent nested[] = {
                { "a", 0, 0700, 'D' }, { "a/b", 0, 0755, 'D' }, { "a/b/c", 0, 0755, 'D' },
                { "a/b/c/d", 1, 0600, 'F' }, { "a/e", 0, 0644, 'F' }, { "f", 2, 0444, 'F' },
        };
        struct buf b = {};

        if (!dir) {
                skip();
                return;
        }
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        encode(&b, NULL, 0);
        write_seed(fd, "empty", &b);
        b.n = 0;
        encode(&b, one_dir, 1);
        write_seed(fd, "one-dir", &b);
        b.n = 0;
        encode(&b, one_file, 1);
        write_seed(fd, "one-file", &b);
        b.n = 0;
        encode(&b, nested, sizeof nested / sizeof nested[0]);
        write_seed(fd, "nested", &b);
        b.n = 0;
        encode(&b, sample, sizeof sample / sizeof sample[0]);
        write_seed(fd, "sample", &b);
        b.n--; /* truncated */
        write_seed(fd, "truncated", &b);
        b.n = 0;
        raw_header(&b, 2, 0);
        raw_entry(&b, 'D', 0755, 0, "d");
        raw_entry(&b, 'L', 0777, 0, "d/link");
        raw_trailer(&b, 2, 0);
        write_seed(fd, "symlink-type", &b);
        close(fd);
        buf_free(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names_valid),
                cmocka_unit_test(test_names_invalid),
                cmocka_unit_test(test_name_escape),
                cmocka_unit_test(test_stream_roundtrip),
                cmocka_unit_test(test_stream_digest),
                cmocka_unit_test(test_stream_truncated),
                cmocka_unit_test(test_stream_trailing),
                cmocka_unit_test(test_stream_header),
                cmocka_unit_test(test_stream_types),
                cmocka_unit_test(test_stream_fields),
                cmocka_unit_test(test_stream_names),
                cmocka_unit_test(test_stream_order),
                cmocka_unit_test(test_stream_lies),
                cmocka_unit_test(test_stream_encoder_rules),
                cmocka_unit_test_setup_teardown(test_pack_roundtrip, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_pack_refuses, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_pack_changes, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_pack_grow_concurrent, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_pack_symlink_race, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_pack_pipe, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_unpack_hostile, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_unpack_truncated, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_unpack_quota, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_unpack_quota_many_files, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_unpack_disk_full, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_unpack_staging, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_staging_clear, tmp_setup, tmp_teardown),
                cmocka_unit_test_setup_teardown(test_commit, tmp_setup, tmp_teardown),
                cmocka_unit_test(test_write_corpus),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

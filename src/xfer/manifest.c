/* SPDX-License-Identifier: MIT */
/* Reading back and checking the parser's manifest: see manifest.h. */
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "macro.h"
#include "names.h"
#include "parse.h"

static int fail(char *why, size_t whylen, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(char *why, size_t whylen, int r, const char *fmt, ...) {
        va_list ap;
        if (why && whylen) {
                va_start(ap, fmt);
                (void) vsnprintf(why, whylen, fmt, ap);
                va_end(ap);
        }
        return r;
}

void xfer_sha256_hex(const uint8_t sha[32], char out[65]) {
        static const char hex[] = "0123456789abcdef";
        for (size_t k = 0; k < 32; k++) {
                out[2 * k] = hex[sha[k] >> 4];
                out[2 * k + 1] = hex[sha[k] & 0xf];
        }
        out[64] = '\0';
}

static int parse_sha(const char *s, size_t len, uint8_t out[32]) {
        if (len != 64)
                return -EBADMSG;
        for (unsigned k = 0; k < 64; k++) {
                char c = s[k];
                int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (v < 0)
                        return -EBADMSG;
                if (k % 2 == 0)
                        out[k / 2] = (uint8_t) (v << 4);
                else
                        out[k / 2] |= (uint8_t) v;
        }
        return 0;
}

int xfer_path_order(const char *a, const char *b) {
        for (;;) {
                size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
                /* Components compare like strcmp() of the components alone. */
                size_t n = la < lb ? la : lb;
                int c = memcmp(a, b, n);
                if (c != 0)
                        return c;
                if (la != lb)
                        return la < lb ? -1 : 1;
                a += la;
                b += lb;
                if (*a == '\0' || *b == '\0')
                        return (*a != '\0') - (*b != '\0'); /* the ancestor first */
                a++;
                b++;
        }
}

/* Next whitespace-separated field of a line: the field must be followed by
 * exactly one space. */
static const char *field(const char **p, const char *end, size_t *len) {
        const char *s = *p, *sp = memchr(s, ' ', (size_t) (end - s));
        if (!sp || sp == s)
                return NULL;
        *len = (size_t) (sp - s);
        *p = sp + 1;
        return s;
}

static int parse_mode(const char *s, size_t len, uint32_t *ret) {
        if (len != 4 || s[0] != '0')
                return -EBADMSG;
        uint32_t v = 0;
        for (unsigned i = 1; i < 4; i++) {
                if (s[i] < '0' || s[i] > '7')
                        return -EBADMSG;
                v = v * 8 + (uint32_t) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

static int parse_dec(const char *s, size_t len, uint64_t *ret) {
        char buf[24];
        if (len == 0 || len >= sizeof buf || (len > 1 && s[0] == '0'))
                return -EBADMSG;
        memcpy(buf, s, len);
        buf[len] = '\0';
        for (size_t i = 0; i < len; i++)
                if (buf[i] < '0' || buf[i] > '9')
                        return -EBADMSG;
        return parse_u64(buf, UINT64_MAX, ret) < 0 ? -EBADMSG : 0;
}

static int add_entry(struct xfer_manifest *m, size_t *cap, const struct xfer_manifest_entry *e) {
        if (m->n_entries == *cap) {
                size_t c = *cap ? *cap * 2 : 64;
                struct xfer_manifest_entry *n = reallocarray(m->entries, c, sizeof *n);
                if (!n)
                        return -ENOMEM;
                m->entries = n;
                *cap = c;
        }
        m->entries[m->n_entries++] = *e;
        return 0;
}

/* The parent of name (everything before its last '/') must be the closest
 * earlier directory on its path: in stream order, the entries between a
 * directory and its child are that directory's other descendants. */
static bool parent_listed(const struct xfer_manifest *m, const char *name) {
        const char *slash = strrchr(name, '/');
        if (!slash)
                return true;
        size_t plen = (size_t) (slash - name);
        for (size_t i = m->n_entries; i-- > 0;) {
                const struct xfer_manifest_entry *e = &m->entries[i];
                if (strncmp(e->name, name, plen) == 0 && e->name[plen] == '\0')
                        return e->type == XFER_TYPE_DIR;
                /* Still inside the parent's subtree?  If not, the parent was not listed. */
                if (strncmp(e->name, name, plen) != 0 || e->name[plen] != '/')
                        return false;
        }
        return false;
}

static int parse_total(const char *s, size_t len, const struct xfer_manifest *m, uint8_t sha[32]) {
        char buf[256];
        uint64_t files, dirs, bytes;
        char shahex[65];
        int n = 0;

        if (len >= sizeof buf)
                return -EBADMSG;
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (sscanf(buf, "total %" SCNu64 " files, %" SCNu64 " directories, %" SCNu64 " bytes, stream %64[0-9a-f]%n",
                   &files, &dirs, &bytes, shahex, &n) != 4 ||
            (size_t) n != len)
                return -EBADMSG;
        if (files != m->n_files || dirs != m->n_dirs || bytes != m->total_bytes)
                return -EBADMSG;
        /* Canonical form only: print it back and compare. */
        char again[256];
        int k = snprintf(again, sizeof again, "total %" PRIu64 " files, %" PRIu64 " directories, %" PRIu64 " bytes, stream %s",
                         files, dirs, bytes, shahex);
        if (k < 0 || (size_t) k != len || memcmp(again, buf, len) != 0)
                return -EBADMSG;
        return parse_sha(shahex, strlen(shahex), sha);
}

static int parse_lines(struct xfer_manifest *m, const char *text, size_t len, char *why, size_t whylen) {
        const char *p = text, *end = text + len;
        size_t cap = 0;
        unsigned long line = 0;
        bool total = false;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                line++;
                if (!nl)
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: no newline at the end", line);
                if (total)
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: text after the total", line);
                if ((size_t) (nl - p) > 5 && memcmp(p, "total", 5) == 0) {
                        if (parse_total(p, (size_t) (nl - p), m, m->stream_sha256) < 0)
                                return fail(why, whylen, -EBADMSG, "manifest line %lu: bad total", line);
                        total = true;
                        p = nl + 1;
                        continue;
                }
                struct xfer_manifest_entry e = { 0 };
                const char *f, *q = p;
                size_t fl;
                if (nl - p < 2 || (p[0] != 'D' && p[0] != 'F') || p[1] != ' ')
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: bad type", line);
                e.type = p[0] == 'D' ? XFER_TYPE_DIR : XFER_TYPE_FILE;
                q = p + 2;
                if (!(f = field(&q, nl, &fl)) || parse_mode(f, fl, &e.mode) < 0)
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: bad mode", line);
                if (!(f = field(&q, nl, &fl)))
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: bad size", line);
                if (e.type == XFER_TYPE_DIR ? fl != 1 || f[0] != '-' : parse_dec(f, fl, &e.size) < 0)
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: bad size", line);
                if (!(f = field(&q, nl, &fl)))
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: bad SHA-256", line);
                if (e.type == XFER_TYPE_DIR ? fl != 1 || f[0] != '-' : parse_sha(f, fl, e.sha256) < 0)
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: bad SHA-256", line);
                size_t nlen = (size_t) (nl - q);
                if (nlen == 0 || nlen > XFER_NAME_MAX || xfer_name_valid(q, nlen, NULL, 0) < 0)
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: bad name", line);
                e.name = strndup(q, nlen);
                if (!e.name)
                        return fail(why, whylen, -ENOMEM, "out of memory");
                if ((m->n_entries > 0 && xfer_path_order(m->entries[m->n_entries - 1].name, e.name) >= 0) ||
                    !parent_listed(m, e.name)) {
                        free(e.name);
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: entry out of order or without its directory", line);
                }
                if (e.type == XFER_TYPE_DIR)
                        m->n_dirs++;
                else
                        m->n_files++;
                if (__builtin_add_overflow(m->total_bytes, e.size, &m->total_bytes)) {
                        free(e.name);
                        return fail(why, whylen, -EBADMSG, "manifest line %lu: sizes overflow", line);
                }
                if (add_entry(m, &cap, &e) < 0) {
                        free(e.name);
                        return fail(why, whylen, -ENOMEM, "out of memory");
                }
                p = nl + 1;
        }
        if (!total)
                return fail(why, whylen, -EBADMSG, "manifest: no total line");
        return 0;
}

int xfer_manifest_parse(const char *text, size_t len, struct xfer_manifest **ret, char *why, size_t whylen) {
        struct xfer_manifest *m = calloc(1, sizeof *m);
        if (!m)
                return fail(why, whylen, -ENOMEM, "out of memory");
        int r = parse_lines(m, text, len, why, whylen);
        if (r < 0) {
                xfer_manifest_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

/* ---- the staged tree against the manifest ---- */

static int open_beneath(int dirfd, const char *name) {
        struct open_how how = {
                .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        };
        long r = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
        return r < 0 ? negative_errno() : (int) r;
}

/* Count every entry below dirfd (not dirfd itself), up to limit + 1. */
static int count_tree(int dirfd, unsigned depth, uint64_t limit, uint64_t *count) {
        if (depth > XFER_DEPTH_MAX)
                return -ELOOP;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();
                (void) close(fd);
                return r;
        }
        int r = 0;
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (++*count > limit)
                        break;
                if (de->d_type == DT_DIR) {
                        int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = negative_errno();
                                break;
                        }
                        r = count_tree(sub, depth + 1, limit, count);
                        (void) close(sub);
                        if (r < 0)
                                break;
                }
                errno = 0;
        }
        if (r == 0 && errno != 0)
                r = negative_errno();
        (void) closedir(d);
        return r;
}

int xfer_manifest_check_tree(int dirfd, const struct xfer_manifest *m, char *why, size_t whylen) {
        char q[XFER_NAME_MAX * 4 + 8];
        struct stat top;

        if (fstat(dirfd, &top) < 0)
                return negative_errno();
        for (size_t i = 0; i < m->n_entries; i++) {
                const struct xfer_manifest_entry *e = &m->entries[i];
                struct stat st;
                int fd = open_beneath(dirfd, e->name);
                if (fd < 0)
                        return fail(why, whylen, -EBADMSG, "staged %s: cannot be opened: %s",
                                    xfer_name_escape(e->name, strlen(e->name), q, sizeof q), strerror(-fd));
                int r = fstat(fd, &st) < 0 ? negative_errno() : 0;
                (void) close(fd);
                if (r < 0)
                        return r;
                bool ok = st.st_dev == top.st_dev && (st.st_mode & 07777) == e->mode &&
                          (e->type == XFER_TYPE_DIR ? S_ISDIR(st.st_mode)
                                                    : S_ISREG(st.st_mode) && st.st_nlink == 1 && (uint64_t) st.st_size == e->size);
                if (!ok)
                        return fail(why, whylen, -EBADMSG, "staged %s does not match the manifest",
                                    xfer_name_escape(e->name, strlen(e->name), q, sizeof q));
        }
        uint64_t count = 0;
        int r = count_tree(dirfd, 0, m->n_entries, &count);
        if (r < 0)
                return fail(why, whylen, r, "cannot walk the staged tree: %s", strerror(-r));
        if (count != m->n_entries)
                return fail(why, whylen, -EBADMSG, "the staged tree holds %s entries than the manifest",
                            count > m->n_entries ? "more" : "fewer");
        return 0;
}

int xfer_manifest_check_hashes(int dirfd, const struct xfer_manifest *m, char *why, size_t whylen) {
        char q[XFER_NAME_MAX * 4 + 8];
        uint8_t *buf = malloc(1 << 20);
        EVP_MD_CTX *ctx = buf ? EVP_MD_CTX_new() : NULL;
        int r = 0;

        if (!ctx) {
                free(buf);
                return fail(why, whylen, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; r == 0 && i < m->n_entries; i++) {
                const struct xfer_manifest_entry *e = &m->entries[i];
                if (e->type != XFER_TYPE_FILE)
                        continue;
                struct open_how how = {
                        .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
                };
                long fd = syscall(SYS_openat2, dirfd, e->name, &how, sizeof how);
                if (fd < 0) {
                        r = fail(why, whylen, -EBADMSG, "staged %s: cannot be opened",
                                 xfer_name_escape(e->name, strlen(e->name), q, sizeof q));
                        break;
                }
                uint64_t total = 0;
                uint8_t md[32];
                unsigned mdlen = 0;
                if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
                        r = -EIO;
                while (r == 0) {
                        ssize_t n = read((int) fd, buf, 1 << 20);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                r = negative_errno();
                        else if (n == 0)
                                break;
                        else if (EVP_DigestUpdate(ctx, buf, (size_t) n) != 1)
                                r = -EIO;
                        total += (uint64_t) (n > 0 ? n : 0);
                }
                (void) close((int) fd);
                if (r == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
                        r = -EIO;
                if (r < 0)
                        r = fail(why, whylen, r, "staged %s: cannot be read",
                                 xfer_name_escape(e->name, strlen(e->name), q, sizeof q));
                else if (total != e->size || memcmp(md, e->sha256, 32) != 0)
                        r = fail(why, whylen, -EBADMSG, "staged %s does not match its SHA-256",
                                 xfer_name_escape(e->name, strlen(e->name), q, sizeof q));
        }
        EVP_MD_CTX_free(ctx);
        free(buf);
        return r;
}

/* SPDX-License-Identifier: MIT */
/* The receiving side of a transfer: see unpack.h. */
#include "unpack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

/* Input buffer: see README.md (performance) for the size. */
#define IBUF_SIZE ((size_t) 256 * 1024)
#define QUOTE_MAX 256
#define RESOLVE_STRICT (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)
/* Our trees are at most XFER_DEPTH_MAX deep; clearing goes a bit further,
 * never without bound. */
#define CLEAR_DEPTH_MAX (2 * XFER_DEPTH_MAX)

/* Up to these, each file and directory is fsync'ed (see per_file_sync). */
#define SYNC_EACH_MAX_FILES 16
#define SYNC_EACH_MAX_BYTES ((uint64_t) 1 << 20)

struct unpacker {
        uint8_t *buf; /* input */
        int staging_fd;
        int stack[XFER_DEPTH_MAX]; /* directories open along the current path */
        unsigned open;
        int file_fd;
        /* Durability: small transfers fsync each file and directory (a few
         * ms); larger ones end with one syncfs(), which also flushes other
         * programs' dirty data of the file system, but once. */
        bool per_file_sync;
        uint64_t synced_bytes;
        struct xfer_manifest *m;
        size_t cap;
        char *why;
        size_t whylen;
        bool why_set;
};

/* The first reason given is kept (a callback's, rather than the
 * decoder's summary of it). */
static void up_msg(struct unpacker *u, const char *fmt, ...) _printf_(2, 3);
static void up_msg(struct unpacker *u, const char *fmt, ...) {
        if (u->why && u->whylen > 0 && !u->why_set) {
                va_list ap;
                va_start(ap, fmt);
                (void) vsnprintf(u->why, u->whylen, fmt, ap); /* cut when too long, on purpose */
                va_end(ap);
                u->why_set = true;
        }
}

/* Set the reason, evaluate to err (always negative); a macro so that the
 * static analyser sees it (it does not follow variadic functions). */
#define up_fail(u, err, ...)                           \
        ({                                             \
                int _err_ = (err);                     \
                up_msg((u), __VA_ARGS__);              \
                _err_ < 0 ? _err_ : -EIO;              \
        })

static const char *quote(const char *s, char buf[QUOTE_MAX]) {
        return xfer_name_escape(s, strlen(s), buf, QUOTE_MAX);
}

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
        struct open_how how = { .flags = flags, .mode = mode, .resolve = resolve };
        long r;
        do
                r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        while (r < 0 && errno == EINTR);
        return r < 0 ? negative_errno() : (int) r;
}

void xfer_manifest_free(struct xfer_manifest *m) {
        if (!m)
                return;
        for (size_t i = 0; i < m->n_entries; i++)
                free(m->entries[i].name);
        free(m->entries);
        free(m);
}

static int manifest_add(struct unpacker *u, const struct xfer_entry *e) {
        struct xfer_manifest *m = u->m;

        if (m->n_entries == u->cap) {
                size_t cap = u->cap ? u->cap * 2 : 64;
                struct xfer_manifest_entry *n = reallocarray(m->entries, cap, sizeof *n);
                if (!n)
                        return up_fail(u, -ENOMEM, "out of memory");
                m->entries = n;
                u->cap = cap;
        }
        char *name = strndup(e->name, e->name_len);
        if (!name)
                return up_fail(u, -ENOMEM, "out of memory");
        m->entries[m->n_entries++] = (struct xfer_manifest_entry) {
                .type = e->type,
                .name = name,
                .mode = e->mode,
                .mtime_sec = e->mtime_sec,
                .mtime_nsec = e->mtime_nsec,
                .size = e->size,
        };
        if (e->type == XFER_TYPE_DIR)
                m->n_dirs++;
        else
                m->n_files++;
        m->total_bytes += e->size;
        return 0;
}

/* Close the directories below depth, and return the descriptor of the
 * entry's parent. */
static int parent_of(struct unpacker *u, const struct xfer_entry *e) {
        while (u->open > e->depth - 1)
                (void) close(u->stack[--u->open]); /* directories: nothing to report */
        if (u->open != e->depth - 1) /* the decoder guarantees the order */
                return up_fail(u, -EBADMSG, "internal error: entry out of order");
        return u->open == 0 ? u->staging_fd : u->stack[u->open - 1];
}

static int on_dir(void *userdata, const struct xfer_entry *e) {
        struct unpacker *u = userdata;
        char q[QUOTE_MAX];
        int parent, r;

        parent = parent_of(u, e);
        if (parent < 0)
                return parent;
        if (u->open >= XFER_DEPTH_MAX)
                return up_fail(u, -EBADMSG, "internal error: too deep");
        r = manifest_add(u, e);
        if (r < 0)
                return r;
        if (mkdirat(parent, e->base, 0700) < 0) {
                r = negative_errno();
                return up_fail(u, r, "cannot create directory '%s': %s", quote(e->name, q), strerror(-r));
        }
        int fd = sys_openat2(parent, e->base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_STRICT);
        if (fd < 0)
                return up_fail(u, fd, "cannot open directory '%s': %s", quote(e->name, q), strerror(-fd));
        u->stack[u->open++] = fd;
        return 0;
}

static int on_file(void *userdata, const struct xfer_entry *e) {
        struct unpacker *u = userdata;
        char q[QUOTE_MAX];
        int parent, r;

        parent = parent_of(u, e);
        if (parent < 0)
                return parent;
        r = manifest_add(u, e);
        if (r < 0)
                return r;
        u->file_fd = sys_openat2(parent, e->base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                                 0600, RESOLVE_STRICT);
        if (u->file_fd < 0)
                return up_fail(u, u->file_fd, "cannot create '%s': %s", quote(e->name, q), strerror(-u->file_fd));
        return 0;
}

static int on_data(void *userdata, const uint8_t *data, size_t n) {
        struct unpacker *u = userdata;
        const struct xfer_manifest_entry *me = &u->m->entries[u->m->n_entries - 1];
        char q[QUOTE_MAX];
        int r = write_all(u->file_fd, data, n);

        if (r < 0)
                return up_fail(u, r, "cannot write '%s': %s", quote(me->name, q), strerror(-r));
        return 0;
}

/* Mode and times of an entry, on its descriptor.  atime = mtime. */
static int set_attrs(int fd, uint32_t mode, int64_t sec, uint32_t nsec) {
        const struct timespec ts[2] = {
                { .tv_sec = (time_t) sec, .tv_nsec = (long) nsec },
                { .tv_sec = (time_t) sec, .tv_nsec = (long) nsec },
        };
        if (fchmod(fd, (mode_t) (mode & XFER_MODE_ALLOWED)) < 0)
                return negative_errno();
        if (futimens(fd, ts) < 0)
                return negative_errno();
        return 0;
}

static int on_end_file(void *userdata, const struct xfer_entry *e, const uint8_t sha256[XFER_SHA256_SIZE]) {
        struct unpacker *u = userdata;
        char q[QUOTE_MAX];
        int fd = u->file_fd, r;

        memcpy(u->m->entries[u->m->n_entries - 1].sha256, sha256, XFER_SHA256_SIZE);
        u->file_fd = -1;
        r = set_attrs(fd, e->mode, e->mtime_sec, e->mtime_nsec);
        if (r >= 0 && u->per_file_sync) {
                u->synced_bytes += e->size;
                if (u->m->n_files > SYNC_EACH_MAX_FILES || u->synced_bytes > SYNC_EACH_MAX_BYTES)
                        u->per_file_sync = false; /* syncfs() at the end instead */
                else if (fsync(fd) < 0)
                        r = negative_errno();
        }
        if (close(fd) < 0 && r >= 0)
                r = negative_errno();
        if (r < 0)
                return up_fail(u, r, "cannot finish '%s': %s", quote(e->name, q), strerror(-r));
        return 0;
}

static int on_end(void *userdata, uint64_t n_entries, uint64_t n_bytes, const uint8_t sha256[XFER_SHA256_SIZE]) {
        struct unpacker *u = userdata;
        struct xfer_manifest *m = u->m;
        char q[QUOTE_MAX];

        while (u->open > 0)
                (void) close(u->stack[--u->open]);
        if (n_entries != m->n_entries || n_bytes != m->total_bytes)
                return up_fail(u, -EBADMSG, "internal error: counts differ");
        memcpy(m->stream_sha256, sha256, XFER_SHA256_SIZE);
        /* Reverse pre-order: every directory after everything inside it. */
        for (size_t i = m->n_entries; i > 0; i--) {
                const struct xfer_manifest_entry *me = &m->entries[i - 1];
                if (me->type != XFER_TYPE_DIR)
                        continue;
                _cleanup_close_ int fd = sys_openat2(u->staging_fd, me->name,
                                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_STRICT);
                if (fd < 0)
                        return up_fail(u, fd, "cannot open directory '%s': %s", quote(me->name, q), strerror(-fd));
                int r = set_attrs(fd, me->mode, me->mtime_sec, me->mtime_nsec);
                if (r >= 0 && u->per_file_sync && fsync(fd) < 0)
                        r = negative_errno();
                if (r < 0)
                        return up_fail(u, r, "cannot finish directory '%s': %s", quote(me->name, q), strerror(-r));
        }
        if (u->per_file_sync ? fsync(u->staging_fd) < 0 : syncfs(u->staging_fd) < 0) {
                int r = negative_errno();
                return up_fail(u, r, "cannot write the files to disk: %s", strerror(-r));
        }
        return 0;
}

/* ---- removal ---- */

static int clear_at(int dirfd, unsigned depth);

static int remove_entry(int dirfd, const char *name, unsigned depth) {
        struct stat st;
        int r;

        if (unlinkat(dirfd, name, 0) >= 0)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return negative_errno();
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode))
                return -EPERM;
        /* A directory whose final mode was already set may be read-only:
         * it is ours, give it back its owner's rights to empty it (it is a
         * directory, checked without following links, in a tree only we
         * write to). */
        if ((st.st_mode & 0700) != 0700 && fchmodat(dirfd, name, 0700, 0) < 0)
                return negative_errno();
        _cleanup_close_ int fd = sys_openat2(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                                             RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (fd < 0)
                return fd;
        r = clear_at(fd, depth + 1);
        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
                return negative_errno();
        return 0;
}

static int clear_at(int dirfd, unsigned depth) {
        int r = 0;

        if (depth > CLEAR_DEPTH_MAX)
                return -ELOOP;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        DIR *dir = fdopendir(fd);
        if (!dir) {
                r = negative_errno();
                (void) close(fd); /* nothing more to report */
                return r;
        }
        /* Entries removed while reading may or may not be seen again: read
         * until a pass finds nothing left (or only what cannot go). */
        for (bool again = true; again;) {
                again = false;
                for (;;) {
                        errno = 0;
                        const struct dirent *de = readdir(dir);
                        if (!de) {
                                if (errno != 0 && r >= 0)
                                        r = negative_errno();
                                break;
                        }
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        int k = remove_entry(dirfd, de->d_name, depth);
                        if (k < 0) {
                                if (r >= 0)
                                        r = k;
                        } else
                                again = true;
                }
                if (r < 0)
                        break;
                rewinddir(dir);
        }
        (void) closedir(dir); /* read-only: nothing to report */
        return r;
}

int xfer_staging_clear(int dirfd) {
        if (dirfd < 0)
                return -EBADF;
        return clear_at(dirfd, 0);
}

static int dir_is_empty(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = 1;

        if (fd < 0)
                return negative_errno();
        DIR *dir = fdopendir(fd);
        if (!dir) {
                r = negative_errno();
                (void) close(fd); /* nothing more to report */
                return r;
        }
        for (;;) {
                errno = 0;
                const struct dirent *de = readdir(dir);
                if (!de) {
                        if (errno != 0)
                                r = negative_errno();
                        break;
                }
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        r = 0;
                        break;
                }
        }
        (void) closedir(dir); /* read-only: nothing to report */
        return r;
}

/* ---- the whole transfer ---- */

static int run(struct unpacker *u, int in_fd, const struct xfer_limits *limits) {
        static const struct xfer_callbacks cb = {
                .begin_dir = on_dir,
                .begin_file = on_file,
                .file_data = on_data,
                .end_file = on_end_file,
                .end = on_end,
        };
        _cleanup_(xfer_decoder_freep) struct xfer_decoder *d = NULL;
        uint8_t *buf = u->buf;
        int r;

        r = xfer_decoder_new(limits, &cb, u, &d);
        if (r < 0)
                return up_fail(u, r, "cannot start decoding: %s", strerror(-r));
        for (;;) {
                ssize_t n = read(in_fd, buf, IBUF_SIZE);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = negative_errno();
                        return up_fail(u, r, "cannot read the stream at offset %" PRIu64 ": %s",
                                       xfer_decoder_offset(d), strerror(-r));
                }
                if (n == 0)
                        break;
                r = xfer_decoder_feed(d, buf, (size_t) n);
                if (r < 0)
                        return up_fail(u, r, "%s", xfer_decoder_error(d));
        }
        r = xfer_decoder_finish(d);
        if (r < 0)
                return up_fail(u, r, "%s", xfer_decoder_error(d));
        return 0;
}

int xfer_unpack(int in_fd, int staging_fd, const struct xfer_limits *limits, struct xfer_manifest **ret,
                char *why, size_t whylen) {
        struct unpacker u = { .staging_fd = staging_fd, .file_fd = -1, .per_file_sync = true, .why = why, .whylen = whylen };
        struct stat st;
        int r;

        if (why && whylen > 0)
                why[0] = '\0';
        if (!limits || !ret || in_fd < 0 || staging_fd < 0)
                return up_fail(&u, -EINVAL, "invalid arguments");
        if (fstat(staging_fd, &st) < 0) {
                r = negative_errno();
                return up_fail(&u, r, "staging directory: %s", strerror(-r));
        }
        if (!S_ISDIR(st.st_mode))
                return up_fail(&u, -ENOTDIR, "staging directory: not a directory");
        r = dir_is_empty(staging_fd);
        if (r < 0)
                return up_fail(&u, r, "staging directory: %s", strerror(-r));
        if (r == 0)
                return up_fail(&u, -ENOTEMPTY, "staging directory: not empty");
        u.m = calloc(1, sizeof *u.m);
        u.buf = malloc(IBUF_SIZE);
        if (!u.m || !u.buf)
                r = up_fail(&u, -ENOMEM, "out of memory");
        else
                r = run(&u, in_fd, limits);
        free(u.buf);

        if (u.file_fd >= 0)
                (void) close(u.file_fd); /* being removed: nothing to report */
        while (u.open > 0)
                (void) close(u.stack[--u.open]);
        if (r < 0) {
                int k = xfer_staging_clear(staging_fd);
                if (k < 0) {
                        /* Say so: the caller must not reuse the directory. */
                        size_t len = why ? strnlen(why, whylen) : 0;
                        if (why && len + 1 < whylen)
                                (void) snprintf(why + len, whylen - len, " (and removing what arrived failed: %s)",
                                                strerror(-k));
                }
                xfer_manifest_free(u.m);
                return r;
        }
        *ret = u.m;
        return 0;
}

/* ---- commit and manifest ---- */

static bool single_component(const char *s) {
        return s && s[0] != '\0' && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
               strlen(s) <= XFER_COMPONENT_MAX;
}

int xfer_commit(int staging_parent_fd, const char *staging_name, int incoming_fd, const char *dest_name) {
        if (!single_component(staging_name) || !single_component(dest_name))
                return -EINVAL;
        if (renameat2(staging_parent_fd, staging_name, incoming_fd, dest_name, RENAME_NOREPLACE) < 0)
                return negative_errno();
        if (fsync(incoming_fd) < 0)
                return negative_errno();
        return 0;
}

int xfer_manifest_write(const struct xfer_manifest *m, FILE *f) {
        static const char hex[] = "0123456789abcdef";
        char sha[2 * XFER_SHA256_SIZE + 1];

        if (!m || !f)
                return -EINVAL;
        for (size_t i = 0; i < m->n_entries; i++) {
                const struct xfer_manifest_entry *e = &m->entries[i];
                int n;
                if (e->type == XFER_TYPE_DIR)
                        n = fprintf(f, "D %04o - - %s\n", (unsigned) e->mode, e->name);
                else {
                        for (size_t k = 0; k < XFER_SHA256_SIZE; k++) {
                                sha[2 * k] = hex[e->sha256[k] >> 4];
                                sha[2 * k + 1] = hex[e->sha256[k] & 0xf];
                        }
                        sha[sizeof sha - 1] = '\0';
                        n = fprintf(f, "F %04o %" PRIu64 " %s %s\n", (unsigned) e->mode, e->size, sha, e->name);
                }
                if (n < 0)
                        return -EIO;
        }
        for (size_t k = 0; k < XFER_SHA256_SIZE; k++) {
                sha[2 * k] = hex[m->stream_sha256[k] >> 4];
                sha[2 * k + 1] = hex[m->stream_sha256[k] & 0xf];
        }
        sha[sizeof sha - 1] = '\0';
        if (fprintf(f, "total %" PRIu64 " files, %" PRIu64 " directories, %" PRIu64 " bytes, stream %s\n", m->n_files,
                    m->n_dirs, m->total_bytes, sha) < 0)
                return -EIO;
        return 0;
}

/* SPDX-License-Identifier: MIT */
/* The sending side of a transfer: see pack.h. */
#include "pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

/* The output buffer: entry heads and file data are put there (data read
 * straight into it, hashed there) and written out when it is full, so
 * that small files share write() calls and large ones are written in
 * large pieces.  See README.md (performance) for the size. */
#define OBUF_SIZE ((size_t) 256 * 1024)
/* Do not read a large file into less room than this at the end of the
 * buffer: write the buffer out first. */
#define READ_MIN ((size_t) 64 * 1024)
/* Files from this size on are read with POSIX_FADV_SEQUENTIAL. */
#define SEQUENTIAL_MIN ((uint64_t) 1024 * 1024)
#define QUOTE_MAX 256

/* What the first walk saw of an entry, for the second one to compare. */
struct item {
        char *name;    /* name in the stream */
        unsigned arg;  /* index in the sorted arguments */
        unsigned depth;
        dev_t dev;
        ino_t ino;
        mode_t mode;   /* st_mode, type included */
        uint64_t size;
        struct timespec mtime, ctime;
};

struct arg {
        const char *path;
        char *base;
        int parent_fd; /* O_PATH */
};

struct packer {
        struct item *items;
        size_t n_items, cap;
        struct arg *args;
        size_t n_args;
        uint64_t bytes, max_files, max_bytes;
        const struct xfer_pack_options *opts;
        char *why;
        size_t whylen;
        int out_fd;
        struct xfer_encoder *enc;
        uint8_t *obuf, *head; /* output, entry heads */
        size_t olen;
};

static void pk_msg(struct packer *pk, const char *fmt, ...) _printf_(2, 3);
static void pk_msg(struct packer *pk, const char *fmt, ...) {
        if (pk->why && pk->whylen > 0) {
                va_list ap;
                va_start(ap, fmt);
                (void) vsnprintf(pk->why, pk->whylen, fmt, ap); /* cut when too long, on purpose */
                va_end(ap);
        }
}

/* Set the reason, evaluate to err (always negative).  A macro rather than
 * a function: the static analyser does not follow variadic functions, and
 * must see that failures are negative. */
#define pk_fail(pk, err, ...)                          \
        ({                                             \
                int _err_ = (err);                     \
                pk_msg((pk), __VA_ARGS__);             \
                _err_ < 0 ? _err_ : -EIO;              \
        })

static const char *quote(const char *s, char buf[QUOTE_MAX]) {
        return xfer_name_escape(s, strlen(s), buf, QUOTE_MAX);
}

static int sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
        struct open_how how = { .flags = flags, .resolve = resolve };
        long r;
        do
                r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        while (r < 0 && errno == EINTR);
        return r < 0 ? negative_errno() : (int) r;
}

/* 0 when st may be sent; else the error, with the reason set. */
static int type_refusal(struct packer *pk, const struct stat *st, const char *name) {
        char q[QUOTE_MAX];
        const char *what;

        if (S_ISDIR(st->st_mode))
                return 0;
        if (S_ISREG(st->st_mode)) {
                if (st->st_nlink > 1)
                        return pk_fail(pk, -EPERM, "'%s' has %ju hard links: hard-linked files cannot be sent",
                                       quote(name, q), (uintmax_t) st->st_nlink);
                return 0;
        }
        if (S_ISLNK(st->st_mode))
                return pk_fail(pk, -ELOOP, "'%s' is a symbolic link: only regular files and directories can be sent",
                               quote(name, q));
        if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                what = "a device";
        else if (S_ISFIFO(st->st_mode))
                what = "a fifo";
        else if (S_ISSOCK(st->st_mode))
                what = "a socket";
        else
                what = "of an unknown type";
        return pk_fail(pk, -EPERM, "'%s' is %s: only regular files and directories can be sent", quote(name, q),
                       what);
}

/* Open base (one component) in dirfd: never through a symbolic link, and
 * never a device or fifo (the type is looked at first, and checked again
 * on the descriptor).  name is the entry's name for messages. */
static int open_entry(struct packer *pk, int dirfd, const char *base, const char *name, struct stat *st) {
        char q[QUOTE_MAX];
        struct stat pre;
        int r;

        if (fstatat(dirfd, base, &pre, AT_SYMLINK_NOFOLLOW) < 0) {
                r = negative_errno();
                return pk_fail(pk, r, "cannot read '%s': %s", quote(name, q), strerror(-r));
        }
        r = type_refusal(pk, &pre, name);
        if (r < 0)
                return r;
        /* O_NONBLOCK: should a fifo be swapped in after the fstatat(),
         * opening it must not wait for a writer. */
        _cleanup_close_ int fd = sys_openat2(
                dirfd, base,
                O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | (S_ISDIR(pre.st_mode) ? O_DIRECTORY : 0),
                RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (fd == -ELOOP || fd == -ENOTDIR) {
                /* Replaced since the fstatat(): by a link (O_NOFOLLOW gives
                 * ELOOP, or ENOTDIR with O_DIRECTORY) or by something else. */
                if (fstatat(dirfd, base, &pre, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(pre.st_mode))
                        return pk_fail(pk, -ELOOP, "'%s' became a symbolic link while being sent", quote(name, q));
                return pk_fail(pk, -ESTALE, "'%s' changed while being sent", quote(name, q));
        }
        /* RESOLVE_BENEATH: the object was moved out of its directory while
         * it was being opened (EXDEV), or the kernel saw a rename it could
         * not rule out (EAGAIN). */
        if (fd == -EXDEV || fd == -EAGAIN)
                return pk_fail(pk, -ESTALE, "'%s' was moved while being sent", quote(name, q));
        if (fd < 0)
                return pk_fail(pk, fd, "cannot open '%s': %s", quote(name, q), strerror(-fd));
        if (fstat(fd, st) < 0) {
                r = negative_errno();
                return pk_fail(pk, r, "cannot read '%s': %s", quote(name, q), strerror(-r));
        }
        if (st->st_dev != pre.st_dev || st->st_ino != pre.st_ino || (st->st_mode & S_IFMT) != (pre.st_mode & S_IFMT))
                return pk_fail(pk, -ESTALE, "'%s' changed while being sent", quote(name, q));
        r = type_refusal(pk, st, name);
        if (r < 0)
                return r;
        return take_fd(&fd);
}

static int add_item(struct packer *pk, const char *name, unsigned arg, unsigned depth, const struct stat *st) {
        char q[QUOTE_MAX];

        if (pk->n_items >= pk->max_files)
                return pk_fail(pk, -EDQUOT, "more than %" PRIu64 " files and directories", pk->max_files);
        if (S_ISREG(st->st_mode)) {
                uint64_t size = (uint64_t) st->st_size;
                if (size > pk->max_bytes - pk->bytes)
                        return pk_fail(pk, -EDQUOT, "'%s': more than %" PRIu64 " bytes in all", quote(name, q),
                                       pk->max_bytes);
                pk->bytes += size;
        }
        if (pk->n_items == pk->cap) {
                size_t cap = pk->cap ? pk->cap * 2 : 256;
                struct item *n = reallocarray(pk->items, cap, sizeof *n);
                if (!n)
                        return pk_fail(pk, -ENOMEM, "out of memory");
                pk->items = n;
                pk->cap = cap;
        }
        char *copy = strdup(name);
        if (!copy)
                return pk_fail(pk, -ENOMEM, "out of memory");
        pk->items[pk->n_items++] = (struct item) {
                .name = copy,
                .arg = arg,
                .depth = depth,
                .dev = st->st_dev,
                .ino = st->st_ino,
                .mode = st->st_mode,
                .size = S_ISREG(st->st_mode) ? (uint64_t) st->st_size : 0,
                .mtime = st->st_mtim,
                .ctime = st->st_ctim,
        };
        return 0;
}

static int strcmp_p(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static void free_names(char **names, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* The names in a directory, sorted, "." and ".." left out. */
static int list_dir(struct packer *pk, int dirfd, const char *name, char ***ret, size_t *ret_n) {
        char q[QUOTE_MAX];
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir;

        if (fd < 0) {
                r = negative_errno();
                return pk_fail(pk, r, "cannot list '%s': %s", quote(name, q), strerror(-r));
        }
        dir = fdopendir(fd);
        if (!dir) {
                r = negative_errno();
                (void) close(fd); /* nothing more to report */
                return pk_fail(pk, r, "cannot list '%s': %s", quote(name, q), strerror(-r));
        }
        for (;;) {
                errno = 0;
                const struct dirent *de = readdir(dir);
                if (!de) {
                        if (errno != 0) {
                                r = negative_errno();
                                r = pk_fail(pk, r, "cannot list '%s': %s", quote(name, q), strerror(-r));
                        }
                        break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                /* Fail early on a huge directory rather than listing it all. */
                if (n >= pk->max_files - pk->n_items) {
                        r = pk_fail(pk, -EDQUOT, "more than %" PRIu64 " files and directories", pk->max_files);
                        break;
                }
                if (n == cap) {
                        size_t c = cap ? cap * 2 : 64;
                        char **nn = reallocarray(names, c, sizeof *nn);
                        if (!nn) {
                                r = pk_fail(pk, -ENOMEM, "out of memory");
                                break;
                        }
                        names = nn;
                        cap = c;
                }
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        r = pk_fail(pk, -ENOMEM, "out of memory");
                        break;
                }
                n++;
        }
        (void) closedir(dir); /* read-only: nothing to report */
        if (r < 0) {
                free_names(names, n);
                return r;
        }
        if (n > 0)
                qsort(names, n, sizeof *names, strcmp_p);
        *ret = names;
        *ret_n = n;
        return 0;
}

/* Append "/child" to path (holding plen bytes), checking the name. */
static int join(struct packer *pk, char *path, size_t plen, const char *child, size_t *ret_len) {
        char why[XFER_WHY_MAX], q[QUOTE_MAX], qc[QUOTE_MAX];
        size_t clen = strlen(child);

        if (xfer_component_valid(child, clen, why, sizeof why) < 0)
                return pk_fail(pk, -EINVAL, "'%s/%s' cannot be sent: %s", quote(path, q), quote(child, qc), why);
        if (plen + 1 + clen > XFER_NAME_MAX)
                return pk_fail(pk, -EINVAL, "'%s/%s' cannot be sent: name longer than %d bytes", quote(path, q),
                               quote(child, qc), XFER_NAME_MAX);
        path[plen] = '/';
        memcpy(path + plen + 1, child, clen + 1);
        *ret_len = plen + 1 + clen;
        return 0;
}

/* First walk, below the directory dirfd whose name is path. */
static int scan_dir(struct packer *pk, int dirfd, char *path, size_t plen, unsigned depth, unsigned arg) {
        char q[QUOTE_MAX];
        char **names = NULL;
        size_t n = 0;
        int r;

        if (depth >= XFER_DEPTH_MAX)
                return pk_fail(pk, -EINVAL, "'%s' is more than %d levels deep", quote(path, q), XFER_DEPTH_MAX);
        r = list_dir(pk, dirfd, path, &names, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                size_t len;
                struct stat st;

                r = join(pk, path, plen, names[i], &len);
                if (r < 0)
                        break;
                if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = negative_errno();
                        r = pk_fail(pk, r, "cannot read '%s': %s", quote(path, q), strerror(-r));
                        break;
                }
                r = type_refusal(pk, &st, path);
                if (r < 0)
                        break;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int fd = open_entry(pk, dirfd, names[i], path, &st);
                        if (fd < 0) {
                                r = fd;
                                break;
                        }
                        r = add_item(pk, path, arg, depth + 1, &st);
                        if (r >= 0)
                                r = scan_dir(pk, fd, path, len, depth + 1, arg);
                } else {
                        /* Unreadable files are refused now, before anything is sent. */
                        if (faccessat(dirfd, names[i], R_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) < 0) {
                                r = negative_errno();
                                r = pk_fail(pk, r, "cannot read '%s': %s", quote(path, q), strerror(-r));
                                break;
                        }
                        r = add_item(pk, path, arg, depth + 1, &st);
                }
                path[plen] = '\0';
        }
        path[plen] = '\0';
        free_names(names, n);
        return r;
}

static int arg_cmp(const void *a, const void *b) {
        return strcmp(((const struct arg *) a)->base, ((const struct arg *) b)->base);
}

/* Split a given path into its parent directory (opened, every component
 * without symbolic links) and its last component. */
static int open_arg(struct packer *pk, int base_fd, struct arg *a) {
        char q[QUOTE_MAX], why[XFER_WHY_MAX], dir[PATH_MAX];
        size_t len = strlen(a->path);

        while (len > 1 && a->path[len - 1] == '/')
                len--;
        if (len == 0 || (len == 1 && a->path[0] == '/'))
                return pk_fail(pk, -EINVAL, "'%s': give a file or a directory", quote(a->path, q));
        if (len >= sizeof dir)
                return pk_fail(pk, -ENAMETOOLONG, "'%s': path too long", quote(a->path, q));
        const char *slash = memrchr(a->path, '/', len);
        const char *base = slash ? slash + 1 : a->path;
        size_t blen = len - (size_t) (base - a->path);
        if (!slash)
                strcpy(dir, ".");
        else if (slash == a->path)
                strcpy(dir, "/");
        else {
                memcpy(dir, a->path, (size_t) (slash - a->path));
                dir[slash - a->path] = '\0';
        }
        a->base = strndup(base, blen);
        if (!a->base)
                return pk_fail(pk, -ENOMEM, "out of memory");
        if (strcmp(a->base, ".") == 0 || strcmp(a->base, "..") == 0)
                return pk_fail(pk, -EINVAL, "'%s': give the directory by its name, not '%s'", quote(a->path, q),
                               a->base);
        if (xfer_component_valid(a->base, blen, why, sizeof why) < 0)
                return pk_fail(pk, -EINVAL, "'%s' cannot be sent: %s", quote(a->path, q), why);
        a->parent_fd = sys_openat2(base_fd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC,
                                   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
        if (a->parent_fd == -ELOOP)
                return pk_fail(pk, -ELOOP, "'%s': a component of the path is a symbolic link (give the real path)",
                               quote(a->path, q));
        if (a->parent_fd < 0)
                return pk_fail(pk, a->parent_fd, "'%s': %s", quote(a->path, q), strerror(-a->parent_fd));
        return 0;
}

static int scan(struct packer *pk, int base_fd) {
        char q[QUOTE_MAX], qa[QUOTE_MAX], qb[QUOTE_MAX];
        char path[XFER_NAME_MAX + 1]; /* the name being scanned */
        int r;

        for (size_t i = 0; i < pk->n_args; i++) {
                r = open_arg(pk, base_fd, &pk->args[i]);
                if (r < 0)
                        return r;
        }
        qsort(pk->args, pk->n_args, sizeof *pk->args, arg_cmp);
        for (size_t i = 0; i + 1 < pk->n_args; i++)
                if (strcmp(pk->args[i].base, pk->args[i + 1].base) == 0)
                        return pk_fail(pk, -EINVAL, "'%s' and '%s' would both arrive as '%s'",
                                       quote(pk->args[i].path, qa), quote(pk->args[i + 1].path, qb),
                                       quote(pk->args[i].base, q));
        for (size_t i = 0; i < pk->n_args; i++) {
                struct stat st;
                const struct arg *a = &pk->args[i];

                strcpy(path, a->base); /* a valid component: at most 255 bytes */
                _cleanup_close_ int fd = open_entry(pk, a->parent_fd, a->base, a->path, &st);
                if (fd < 0)
                        return fd;
                r = add_item(pk, path, (unsigned) i, 1, &st);
                if (r < 0)
                        return r;
                if (S_ISDIR(st.st_mode)) {
                        r = scan_dir(pk, fd, path, strlen(path), 1, (unsigned) i);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* ---- output ---- */

static int out_flush(struct packer *pk) {
        int r;

        if (pk->olen == 0)
                return 0;
        r = write_all(pk->out_fd, pk->obuf, pk->olen);
        pk->olen = 0;
        if (r == -EPIPE)
                return pk_fail(pk, r, "the receiver closed the stream");
        if (r < 0)
                return pk_fail(pk, r, "cannot write the stream: %s", strerror(-r));
        return 0;
}

/* Small pieces only (header, entry heads, trailer). */
static int out_put(struct packer *pk, const void *p, size_t n) {
        if (n > OBUF_SIZE)
                return pk_fail(pk, -EIO, "internal error: %zu bytes do not fit in the output buffer", n);
        if (n > OBUF_SIZE - pk->olen) {
                int r = out_flush(pk);
                if (r < 0)
                        return r;
        }
        memcpy(pk->obuf + pk->olen, p, n);
        pk->olen += n;
        return 0;
}

/* ---- second walk ---- */

static bool ts_equal(const struct timespec *a, const struct timespec *b) {
        return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int changed(struct packer *pk, const char *name, const char *how) {
        char q[QUOTE_MAX];
        return pk_fail(pk, -ESTALE, "'%s' %s while being sent: transfer stopped", quote(name, q), how);
}

/* The file's data, read straight into the output buffer (no copy) and
 * hashed there while it is in the cache, then the proof that it ends
 * there. */
static int send_data(struct packer *pk, int fd, const struct item *it, const struct stat *st) {
        uint64_t left = it->size;
        char q[QUOTE_MAX];
        struct stat after;
        uint8_t probe;
        ssize_t n;
        int r;

        if (pk->opts && pk->opts->on_file) {
                r = pk->opts->on_file(pk->opts->userdata, it->name, it->size);
                if (r < 0)
                        return pk_fail(pk, r, "'%s': transfer cancelled", quote(it->name, q));
        }
        /* A hint (twice the read-ahead): nothing depends on it. */
        if (left >= SEQUENTIAL_MIN)
                (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        while (left > 0) {
                size_t room = OBUF_SIZE - pk->olen;
                if (room < left && room < READ_MIN) {
                        r = out_flush(pk);
                        if (r < 0)
                                return r;
                        room = OBUF_SIZE;
                }
                size_t want = left < room ? (size_t) left : room;
                uint8_t *p = pk->obuf + pk->olen;
                n = read(fd, p, want);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = negative_errno();
                        return pk_fail(pk, r, "cannot read '%s': %s", quote(it->name, q), strerror(-r));
                }
                if (n == 0)
                        return changed(pk, it->name, "shrank");
                r = xfer_encoder_data(pk->enc, p, (size_t) n);
                if (r < 0)
                        return pk_fail(pk, r, "%s", xfer_encoder_error(pk->enc));
                pk->olen += (size_t) n;
                left -= (uint64_t) n;
        }
        do
                n = read(fd, &probe, 1);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                r = negative_errno();
                return pk_fail(pk, r, "cannot read '%s': %s", quote(it->name, q), strerror(-r));
        }
        if (n > 0)
                return changed(pk, it->name, "grew");
        if (fstat(fd, &after) < 0) {
                r = negative_errno();
                return pk_fail(pk, r, "cannot read '%s': %s", quote(it->name, q), strerror(-r));
        }
        if (after.st_size != st->st_size || !ts_equal(&after.st_mtim, &st->st_mtim) ||
            !ts_equal(&after.st_ctim, &st->st_ctim))
                return changed(pk, it->name, "was modified");
        return 0;
}

static int send_item(struct packer *pk, const struct item *it, int parent_fd, uint8_t *head, int *ret_dirfd) {
        const char *base = strrchr(it->name, '/');
        struct stat st;
        size_t hlen = 0;
        int r;

        base = base ? base + 1 : it->name;
        _cleanup_close_ int fd = open_entry(pk, parent_fd, base, it->name, &st);
        if (fd < 0)
                return fd;
        if (st.st_dev != it->dev || st.st_ino != it->ino || (st.st_mode & S_IFMT) != (it->mode & S_IFMT))
                return changed(pk, it->name, "was replaced");
        if (S_ISREG(st.st_mode) && ((uint64_t) st.st_size != it->size || !ts_equal(&st.st_mtim, &it->mtime) ||
                                    !ts_equal(&st.st_ctim, &it->ctime)))
                return changed(pk, it->name, "was modified");

        struct xfer_entry e = {
                .type = S_ISDIR(st.st_mode) ? XFER_TYPE_DIR : XFER_TYPE_FILE,
                .name = it->name,
                .name_len = strlen(it->name),
                .mode = (uint32_t) st.st_mode & XFER_MODE_ALLOWED, /* setuid, setgid, sticky dropped */
                .mtime_sec = (int64_t) st.st_mtim.tv_sec,
                .mtime_nsec = (uint32_t) st.st_mtim.tv_nsec,
                .size = it->size,
        };
        r = xfer_encoder_entry(pk->enc, &e, head, XFER_ENTRY_HEAD_MAX, &hlen);
        if (r < 0)
                return pk_fail(pk, r, "%s", xfer_encoder_error(pk->enc));
        r = out_put(pk, head, hlen);
        if (r < 0)
                return r;
        if (S_ISDIR(st.st_mode)) {
                *ret_dirfd = take_fd(&fd);
                return 0;
        }
        return send_data(pk, fd, it, &st);
}

static int send_all(struct packer *pk) {
        uint8_t header[XFER_HEADER_SIZE], trailer[XFER_TRAILER_SIZE];
        int stack[XFER_DEPTH_MAX];
        unsigned open = 0;
        int r;

        r = xfer_encoder_new(pk->n_items, pk->bytes, header, &pk->enc);
        if (r < 0)
                return pk_fail(pk, r, "cannot start the stream: %s", strerror(-r));
        r = out_put(pk, header, sizeof header);
        for (size_t i = 0; i < pk->n_items && r >= 0; i++) {
                const struct item *it = &pk->items[i];
                int dirfd = -1;

                /* Entries come in pre-order: the parent is the innermost
                 * directory still open at depth - 1. */
                while (open > it->depth - 1)
                        (void) close(stack[--open]); /* read-only: nothing to report */
                if (open != it->depth - 1) {
                        r = pk_fail(pk, -EIO, "internal error: walk out of order");
                        break;
                }
                int parent = open == 0 ? pk->args[it->arg].parent_fd : stack[open - 1];
                r = send_item(pk, it, parent, pk->head, &dirfd);
                if (r >= 0 && dirfd >= 0) {
                        if (open >= XFER_DEPTH_MAX) {
                                (void) close(dirfd);
                                r = pk_fail(pk, -EIO, "internal error: too deep");
                        } else
                                stack[open++] = dirfd;
                }
        }
        while (open > 0)
                (void) close(stack[--open]);
        if (r < 0)
                return r;
        r = xfer_encoder_trailer(pk->enc, trailer);
        if (r < 0)
                return pk_fail(pk, r, "%s", xfer_encoder_error(pk->enc));
        r = out_put(pk, trailer, sizeof trailer);
        if (r < 0)
                return r;
        return out_flush(pk);
}

int xfer_pack(int out_fd, int base_fd, const char *const *paths, size_t n_paths,
              const struct xfer_pack_options *opts, char *why, size_t whylen) {
        struct packer pk = {
                .opts = opts,
                .why = why,
                .whylen = whylen,
                .out_fd = out_fd,
                .max_files = XFER_PACK_MAX_FILES,
                .max_bytes = UINT64_MAX,
        };
        int r;

        if (why && whylen > 0)
                why[0] = '\0';
        if (out_fd < 0 || !paths || n_paths == 0 || n_paths > XFER_PACK_MAX_FILES)
                return pk_fail(&pk, -EINVAL, "nothing to send");
        for (size_t i = 0; i < n_paths; i++)
                if (!paths[i])
                        return pk_fail(&pk, -EINVAL, "nothing to send");
        if (opts && opts->limits) {
                pk.max_files = opts->limits->max_files;
                pk.max_bytes = opts->limits->max_bytes;
        }
        pk.args = calloc(n_paths, sizeof *pk.args);
        pk.obuf = malloc(OBUF_SIZE);
        pk.head = malloc(XFER_ENTRY_HEAD_MAX);
        if (!pk.args || !pk.obuf || !pk.head) {
                r = pk_fail(&pk, -ENOMEM, "out of memory");
                goto out;
        }
        pk.n_args = n_paths;
        for (size_t i = 0; i < n_paths; i++)
                pk.args[i] = (struct arg) { .path = paths[i], .parent_fd = -1 };

        r = scan(&pk, base_fd);
        if (r >= 0)
                r = send_all(&pk);
out:
        xfer_encoder_free(pk.enc);
        for (size_t i = 0; i < pk.n_items; i++)
                free(pk.items[i].name);
        free(pk.items);
        for (size_t i = 0; pk.args && i < pk.n_args; i++) {
                free(pk.args[i].base);
                if (pk.args[i].parent_fd >= 0)
                        (void) close(pk.args[i].parent_fd); /* O_PATH: nothing to report */
        }
        free(pk.args);
        free(pk.obuf);
        free(pk.head);
        return r;
}

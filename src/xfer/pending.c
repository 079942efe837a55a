/* SPDX-License-Identifier: MIT */
/* Transfers waiting for a confirmation: see pending.h. */
#include "pending.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "parse.h"
#include "policy.h"

#define REQUEST_MAX (XFER_MANIFEST_TEXT_MAX + 4096)

void xfer_pending_clear(struct xfer_pending *p) {
        xfer_manifest_free(p->manifest);
        p->manifest = NULL;
}

bool xfer_id_valid(const char *id) {
        if (strlen(id) != XFER_ID_LEN)
                return false;
        for (size_t i = 0; i < XFER_ID_LEN; i++)
                if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
                        return false;
        return true;
}

int xfer_id_new(char id[XFER_ID_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t b[XFER_ID_LEN / 2];
        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return -EIO;
        for (size_t i = 0; i < sizeof b; i++) {
                id[2 * i] = hex[b[i] >> 4];
                id[2 * i + 1] = hex[b[i] & 0xf];
        }
        id[XFER_ID_LEN] = '\0';
        return 0;
}

static int mkdir_private(int dirfd, const char *name) {
        struct stat st;
        if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
                return -EPERM;
        return 0;
}

int xfer_state_open(const char *dir) {
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_uid != geteuid() || (st.st_mode & 077))
                return -EPERM;
        int r = mkdir_private(fd, "pending");
        if (r >= 0)
                r = mkdir_private(fd, "resolved");
        if (r < 0)
                return r;
        return take_fd(&fd);
}

int xfer_pending_write(int state_fd, const struct xfer_pending *p) {
        char tmp[64], path[64];
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        if (!xfer_id_valid(p->id))
                return -EINVAL;
        f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        (void) fprintf(f, "id=%s\nuid=%u\ngid=%u\nuser=%s\nsource=%s\ntarget=%s\ncreated=%" PRId64 "\nexpires=%" PRId64
                          "\nmanifest\n",
                       p->id, (unsigned) p->uid, (unsigned) p->gid, p->user, p->source, p->target, p->created,
                       p->expires);
        r = xfer_manifest_write(p->manifest, f);
        if (fclose(f) != 0 || r < 0)
                return r < 0 ? r : -ENOMEM;
        (void) snprintf(tmp, sizeof tmp, "pending/.%s.tmp", p->id);
        (void) snprintf(path, sizeof path, "pending/%s", p->id);
        _cleanup_close_ int fd = openat(state_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        r = write_all(fd, text, len);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        if (r >= 0 && renameat2(state_fd, tmp, state_fd, path, RENAME_NOREPLACE) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlinkat(state_fd, tmp, 0);
        return r;
}

static int field_copy(const char *v, char *out, size_t size) {
        size_t n = strlen(v);
        if (n == 0 || n >= size)
                return -EBADMSG;
        memcpy(out, v, n + 1);
        return 0;
}

int xfer_pending_read(int state_fd, const char *id, bool resolved, struct xfer_pending *ret) {
        char path[64];
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        unsigned seen = 0;

        if (!xfer_id_valid(id))
                return -EINVAL;
        (void) snprintf(path, sizeof path, "%s/%s", resolved ? "resolved" : "pending", id);
        fd = openat(state_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t) st.st_size > REQUEST_MAX)
                return -EBADMSG;
        text = malloc((size_t) st.st_size + 1);
        if (!text)
                return -ENOMEM;
        int r = read_exact(fd, text, (size_t) st.st_size);
        if (r < 0)
                return r;
        text[st.st_size] = '\0';

        memset(ret, 0, sizeof *ret);
        char *p = text, *end = text + st.st_size;
        while (p < end) {
                char *nl = memchr(p, '\n', (size_t) (end - p));
                if (!nl)
                        return -EBADMSG;
                *nl = '\0';
                if (strcmp(p, "manifest") == 0) {
                        p = nl + 1;
                        break;
                }
                char *eq = strchr(p, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = '\0';
                const char *k = p, *v = eq + 1;
                uint64_t u;
                int64_t s;
                if (strcmp(k, "id") == 0)
                        r = field_copy(v, ret->id, sizeof ret->id), seen |= 1;
                else if (strcmp(k, "uid") == 0)
                        r = parse_u64(v, UINT32_MAX - 1, &u), ret->uid = (uid_t) u, seen |= 2;
                else if (strcmp(k, "gid") == 0)
                        r = parse_u64(v, UINT32_MAX - 1, &u), ret->gid = (gid_t) u, seen |= 4;
                else if (strcmp(k, "user") == 0)
                        r = field_copy(v, ret->user, sizeof ret->user), seen |= 8;
                else if (strcmp(k, "source") == 0)
                        r = field_copy(v, ret->source, sizeof ret->source), seen |= 16;
                else if (strcmp(k, "target") == 0)
                        r = field_copy(v, ret->target, sizeof ret->target), seen |= 32;
                else if (strcmp(k, "created") == 0)
                        r = parse_i64(v, 0, INT64_MAX, &s), ret->created = s, seen |= 64;
                else if (strcmp(k, "expires") == 0)
                        r = parse_i64(v, 0, INT64_MAX, &s), ret->expires = s, seen |= 128;
                else
                        r = -EBADMSG;
                if (r < 0)
                        return -EBADMSG;
                p = nl + 1;
        }
        if (seen != 255 || strcmp(ret->id, id) != 0 || !xfer_level_name_valid(ret->source) ||
            !xfer_level_name_valid(ret->target))
                return -EBADMSG;
        r = xfer_manifest_parse(p, (size_t) (end - p), &ret->manifest, NULL, 0);
        return r < 0 ? -EBADMSG : 0;
}

int xfer_pending_claim(int state_fd, const char *id) {
        char from[64], to[64];
        if (!xfer_id_valid(id))
                return -EINVAL;
        (void) snprintf(from, sizeof from, "pending/%s", id);
        (void) snprintf(to, sizeof to, "resolved/%s", id);
        if (renameat2(state_fd, from, state_fd, to, RENAME_NOREPLACE) < 0)
                return errno == EEXIST ? -ENOENT : negative_errno();
        return 0;
}

int xfer_pending_list(int state_fd, char (**ret)[XFER_ID_LEN + 1], size_t *n) {
        int fd = openat(state_fd, "pending", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();
                (void) close(fd);
                return r;
        }
        char (*ids)[XFER_ID_LEN + 1] = NULL;
        size_t count = 0, cap = 0;
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                if (!xfer_id_valid(de->d_name))
                        continue;
                if (count == cap) {
                        size_t c = cap ? cap * 2 : 16;
                        char (*m)[XFER_ID_LEN + 1] = reallocarray(ids, c, sizeof *ids);
                        if (!m) {
                                r = -ENOMEM;
                                break;
                        }
                        ids = m;
                        cap = c;
                }
                memcpy(ids[count++], de->d_name, XFER_ID_LEN + 1);
        }
        (void) closedir(d);
        if (r < 0) {
                free(ids);
                return r;
        }
        *ret = ids;
        *n = count;
        return 0;
}

int xfer_result_write(int state_fd, const char *id, int code, const char *text) {
        char tmp[64], path[64], buf[1200];
        if (!xfer_id_valid(id))
                return -EINVAL;
        int n = snprintf(buf, sizeof buf, "%d %s\n", code, text ? text : "");
        if (n < 0 || (size_t) n >= sizeof buf)
                return -E2BIG;
        (void) snprintf(tmp, sizeof tmp, "resolved/.%s.result.tmp", id);
        (void) snprintf(path, sizeof path, "resolved/%s.result", id);
        _cleanup_close_ int fd = openat(state_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        int r = write_all(fd, buf, (size_t) n);
        if (r >= 0 && renameat(state_fd, tmp, state_fd, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlinkat(state_fd, tmp, 0);
        return r;
}

int xfer_result_read(int state_fd, const char *id, int *code, char *text, size_t size) {
        char path[64], buf[1200];
        if (!xfer_id_valid(id))
                return -EINVAL;
        (void) snprintf(path, sizeof path, "resolved/%s.result", id);
        _cleanup_close_ int fd = openat(state_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return n < 0 ? negative_errno() : -EBADMSG;
        buf[n] = '\0';
        char *nl = strchr(buf, '\n'), *sp = strchr(buf, ' ');
        if (!nl || !sp || sp > nl)
                return -EBADMSG;
        *nl = *sp = '\0';
        int64_t c;
        if (parse_i64(buf, 1, 100, &c) < 0 || strlen(sp + 1) >= size)
                return -EBADMSG;
        *code = (int) c;
        memcpy(text, sp + 1, strlen(sp + 1) + 1);
        return 0;
}

void xfer_resolved_remove(int state_fd, const char *id) {
        char path[64];
        if (!xfer_id_valid(id))
                return;
        (void) snprintf(path, sizeof path, "resolved/%s", id);
        (void) unlinkat(state_fd, path, 0);
        (void) snprintf(path, sizeof path, "resolved/%s.result", id);
        (void) unlinkat(state_fd, path, 0);
}

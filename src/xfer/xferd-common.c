/* SPDX-License-Identifier: MIT */
/* rempart-xferd: peers, audit records, staging and arrival. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fileio.h"
#include "level-runtime.h"
#include "log.h"
#include "macro.h"
#include "missing.h"
#include "xferd.h"

static int openat2_dir(int dirfd, const char *path, uint64_t extra_flags) {
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | extra_flags,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        };
        long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        return r < 0 ? negative_errno() : (int) r;
}

/* ---- peers ---- */

int xferd_peer_get(int fd, bool lookup_name, struct xferd_peer *ret) {
        struct ucred uc;
        socklen_t len = sizeof uc;

        memset(ret, 0, sizeof *ret);
        ret->pidfd = -1;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
                return negative_errno();
        if (uc.pid <= 0 || uc.uid == (uid_t) -1)
                return -EPERM;
        ret->pid = uc.pid;
        ret->uid = uc.uid;
        ret->gid = uc.gid;
        len = sizeof ret->groups;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, ret->groups, &len) < 0)
                return errno == ERANGE ? -E2BIG : negative_errno();
        ret->n_groups = len / sizeof(gid_t);

        struct passwd pw, *res = NULL;
        char buf[4096];
        if (lookup_name && getpwuid_r(uc.uid, &pw, buf, sizeof buf, &res) == 0 && res &&
            strlen(res->pw_name) < sizeof ret->user)
                memcpy(ret->user, res->pw_name, strlen(res->pw_name) + 1);
        else
                (void) snprintf(ret->user, sizeof ret->user, "%u", (unsigned) uc.uid);
        /* The peer as it was at connect(), immune to pid reuse (Linux 6.5). */
        int pidfd = -1;
        len = sizeof pidfd;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0)
                ret->pidfd = pidfd;
        return 0;
}

/* How deep pid is below our pid namespace: the number of entries of NSpid
 * in /proc/PID/status (1: in our own namespace).  World-readable: no
 * ptrace right is needed (unlike /proc/PID/ns/pid). */
static int proc_nspid_depth(pid_t pid, unsigned *ret) {
        char path[64], buf[4096];
        (void) snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return n < 0 ? negative_errno() : -EBADMSG;
        buf[n] = '\0';
        const char *l = strstr(buf, "\nNSpid:");
        if (!l)
                return -EBADMSG;
        unsigned depth = 0;
        for (const char *c = l + 7; *c && *c != '\n'; c++)
                if (*c >= '0' && *c <= '9' && (c[-1] == '\t' || c[-1] == ' ' || c[-1] == ':'))
                        depth++;
        if (depth == 0)
                return -EBADMSG;
        *ret = depth;
        return 0;
}

/* The cgroup v2 path of pid ("/a/b"), from the "0::" line of /proc/PID/cgroup. */
static int proc_cgroup(pid_t pid, char *out, size_t size) {
        char path[64], buf[8192];
        (void) snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return n < 0 ? negative_errno() : -EBADMSG;
        buf[n] = '\0';
        const char *l = strncmp(buf, "0::", 3) == 0 ? buf : strstr(buf, "\n0::");
        if (!l)
                return -ENOENT;
        l += l[0] == '\n' ? 4 : 3;
        size_t len = strcspn(l, "\n");
        if (len == 0 || len >= size || l[0] != '/')
                return -EBADMSG;
        memcpy(out, l, len);
        out[len] = '\0';
        return 0;
}

/* The peer is still the process it was when it connected (its pidfd has
 * not signalled an exit): what was read from /proc/PID was about it. */
static int peer_still_there(const struct xferd_peer *peer) {
        if (peer->pidfd < 0)
                return 0; /* kernel without SO_PEERPIDFD: the pid only */
        struct pollfd p = { .fd = peer->pidfd, .events = POLLIN };
        return poll(&p, 1, 0) == 0 ? 0 : -ESRCH;
}

int xferd_peer_in_level(const char *runtime, const char *name, const struct xferd_peer *peer) {
        struct level_state st;
        char cg[JAIL_PATH_MAX + 2], want[JAIL_PATH_MAX + 2];
        unsigned depth = 0;
        int r;

        r = level_state_read(runtime, name, &st);
        if (r < 0)
                return r == -ENOENT ? -EPERM : r;
        if (!st.cgroup[0])
                return -EPERM;
        /* In the level's cgroup (only root can move a process into it, and
         * no process of a level out of it), and in a pid namespace below
         * ours (the level's own). */
        r = proc_cgroup(peer->pid, cg, sizeof cg);
        if (r >= 0)
                r = proc_nspid_depth(peer->pid, &depth);
        if (r < 0)
                return r;
        (void) snprintf(want, sizeof want, "/%s", st.cgroup);
        size_t wl = strlen(want);
        if (depth < 2 || strncmp(cg, want, wl) != 0 || (cg[wl] != '/' && cg[wl] != '\0'))
                return -EPERM;
        return peer_still_there(peer);
}

int xferd_peer_in_core(const struct xferd_peer *peer) {
        unsigned depth = 0;
        int r = proc_nspid_depth(peer->pid, &depth);
        if (r < 0)
                return r;
        if (depth != 1)
                return -EPERM;
        return peer_still_there(peer);
}

void xferd_peer_done(struct xferd_peer *peer) {
        if (peer->pidfd >= 0)
                (void) close(peer->pidfd);
        peer->pidfd = -1;
}

/* ---- audit ---- */

struct fields {
        struct audit_field f[AUDIT_FIELDS_MAX];
        size_t n;
        char nums[16][32]; /* storage of numbers */
        size_t n_nums;
        char shas[XFERD_AUDIT_NAMES_MAX + 2][65];
        char sizes[XFERD_AUDIT_NAMES_MAX][24];
};

static void add(struct fields *f, const char *k, const char *v) {
        if (v && f->n < AUDIT_FIELDS_MAX)
                f->f[f->n++] = (struct audit_field) { k, v };
}

static void add_u64(struct fields *f, const char *k, uint64_t v) {
        if (f->n_nums >= ELEMENTSOF(f->nums))
                return;
        char *s = f->nums[f->n_nums++];
        (void) snprintf(s, sizeof f->nums[0], "%" PRIu64, v);
        add(f, k, s);
}

/* The SHA-256 of the whole manifest, for the record (the chain then covers
 * it); keep: also write the manifest next to the log, as
 * AUDIT_DIR/manifests/ID.manifest. */
static int store_manifest(const struct xferd *d, const struct xfer_pending *p, bool keep, char sha_hex[65]) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        int r = xfer_manifest_write(p->manifest, f);
        if (fclose(f) != 0 || r < 0)
                return r < 0 ? r : -ENOMEM;
        uint8_t md[32];
        unsigned mdlen;
        if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1)
                return -EIO;
        xfer_sha256_hex(md, sha_hex);
        if (!keep)
                return 0;

        _cleanup_close_ int dfd = open(d->audit_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (dfd < 0 || fstat(dfd, &st) < 0)
                return negative_errno();
        if (mkdirat(dfd, "manifests", 0750) < 0 && errno != EEXIST)
                return negative_errno();
        _cleanup_close_ int mfd = openat(dfd, "manifests", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (mfd < 0)
                return negative_errno();
        if (fchown(mfd, st.st_uid, st.st_gid) < 0 || fchmod(mfd, 0750) < 0)
                return negative_errno();
        char name[XFER_ID_LEN + 16];
        (void) snprintf(name, sizeof name, "%s.manifest", p->id);
        _cleanup_close_ int fd = openat(mfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0)
                return negative_errno();
        r = write_all(fd, text, len);
        if (r >= 0 && (fchown(fd, st.st_uid, st.st_gid) < 0 || fsync(fd) < 0))
                r = negative_errno();
        return r;
}

int64_t xferd_audit(const struct xferd *d, enum audit_type type, const struct xfer_pending *p, const char *source,
                    const char *target, const struct xferd_peer *peer, const char *confirmer, const char *reason) {
        _cleanup_(audit_log_freep) struct audit_log *log = NULL;
        struct fields *f = calloc(1, sizeof *f);
        char manifest_sha[65];
        int64_t seq;
        int r;

        if (!f)
                return -ENOMEM;
        if (p) {
                add(f, "id", p->id);
                add(f, AUDIT_K_USER, p->user);
                add_u64(f, AUDIT_K_UID, p->uid);
                add(f, AUDIT_K_SRC_LEVEL, p->source);
                add(f, AUDIT_K_DST_LEVEL, p->target);
        } else {
                add(f, AUDIT_K_USER, peer ? peer->user : NULL);
                if (peer)
                        add_u64(f, AUDIT_K_UID, peer->uid);
                add(f, AUDIT_K_SRC_LEVEL, source);
                add(f, AUDIT_K_DST_LEVEL, target);
        }
        add(f, AUDIT_K_OP, "copy");
        add(f, AUDIT_K_CONFIRMER, confirmer);
        add(f, AUDIT_K_REASON, reason);
        if (p && p->manifest) {
                const struct xfer_manifest *m = p->manifest;
                add_u64(f, "files", m->n_files);
                add_u64(f, "dirs", m->n_dirs);
                add_u64(f, "bytes", m->total_bytes);
                xfer_sha256_hex(m->stream_sha256, f->shas[XFERD_AUDIT_NAMES_MAX]);
                add(f, "stream_sha256", f->shas[XFERD_AUDIT_NAMES_MAX]);
                /* The record names every file of a small transfer of files;
                 * anything else also keeps its whole manifest next to the log. */
                bool whole = m->n_dirs == 0 && m->n_files <= XFERD_AUDIT_NAMES_MAX;
                r = store_manifest(d, p, !whole, manifest_sha);
                if (r < 0) {
                        free(f);
                        return r;
                }
                add(f, "manifest_sha256", manifest_sha);
                size_t k = 0;
                for (size_t i = 0; i < m->n_entries && k < XFERD_AUDIT_NAMES_MAX; i++) {
                        const struct xfer_manifest_entry *e = &m->entries[i];
                        if (e->type != XFER_TYPE_FILE)
                                continue;
                        add(f, AUDIT_K_NAME, e->name);
                        (void) snprintf(f->sizes[k], sizeof f->sizes[k], "%" PRIu64, e->size);
                        add(f, AUDIT_K_SIZE, f->sizes[k]);
                        xfer_sha256_hex(e->sha256, f->shas[k]);
                        add(f, AUDIT_K_SHA256, f->shas[k]);
                        k++;
                }
                if (m->n_files > k)
                        add_u64(f, "names_omitted", m->n_files - k);
        }
        r = audit_open(d->audit_dir, AUDIT_OPEN_CREATE, 0, &log);
        if (r < 0) {
                free(f);
                return r;
        }
        seq = audit_append(log, type, f->f, f->n);
        if (seq == -E2BIG) {
                /* Long names: keep the totals and the manifest's hash only. */
                size_t keep = 0;
                for (size_t i = 0; i < f->n; i++)
                        if (strcmp(f->f[i].key, AUDIT_K_NAME) != 0 && strcmp(f->f[i].key, AUDIT_K_SIZE) != 0 &&
                            strcmp(f->f[i].key, AUDIT_K_SHA256) != 0)
                                f->f[keep++] = f->f[i];
                f->n = keep;
                seq = audit_append(log, type, f->f, f->n);
        }
        free(f);
        if (seq < 0)
                return seq;
        /* No closing anchor per event: the library anchors every 64
         * records and the MAC'd head file covers the tail; one fsync'ed
         * record per decision keeps a transfer's latency low. */
        return seq;
}

/* ---- staging ---- */

static int data_fd(const struct level_config *l) {
        int fd = open(l->data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? negative_errno() : fd;
}

static int staging_root(const struct level_config *l, bool create) {
        _cleanup_close_ int dfd = data_fd(l);
        if (dfd < 0)
                return dfd;
        if (create && mkdirat(dfd, XFERD_STAGING_DIR, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        int fd = openat2_dir(dfd, XFERD_STAGING_DIR, 0);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 077)) {
                (void) close(fd);
                return -EPERM;
        }
        return fd;
}

int xferd_staging_create(const struct level_config *l, const char *id, uid_t uid, gid_t gid) {
        _cleanup_close_ int root = staging_root(l, true);
        if (root < 0)
                return root;
        if (mkdirat(root, id, 0700) < 0)
                return negative_errno();
        int fd = openat2_dir(root, id, 0);
        if (fd < 0)
                return fd;
        if (fchown(fd, uid, gid) < 0) {
                int r = negative_errno();
                (void) close(fd);
                return r;
        }
        return fd;
}

int xferd_staging_remove(const struct level_config *l, const char *id) {
        _cleanup_close_ int root = staging_root(l, false);
        if (root < 0)
                return root == -ENOENT ? 0 : root;
        _cleanup_close_ int fd = openat2_dir(root, id, 0);
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;
        int r = xfer_staging_clear(fd);
        if (r < 0)
                return r;
        return unlinkat(root, id, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
}

/* ---- arrival ---- */

static const struct level_user *target_user(const struct level_config *l, uid_t uid) {
        for (unsigned i = 0; i < l->n_users; i++)
                if (l->users[i].uid == uid)
                        return &l->users[i];
        return NULL;
}

/* Open (creating it as uid:gid 0700 if missing) the directory name in
 * parent, which must belong to uid. */
static int user_dir(int parent, const char *name, uid_t uid, gid_t gid) {
        bool created = mkdirat(parent, name, 0700) == 0;
        if (!created && errno != EEXIST)
                return negative_errno();
        _cleanup_close_ int fd = openat2_dir(parent, name, 0);
        struct stat st;
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (created && st.st_uid == 0 && fchown(fd, uid, gid) < 0)
                return negative_errno();
        else if (!created && st.st_uid != uid)
                return -EPERM;
        return take_fd(&fd);
}

int xferd_commit(const struct level_config *target, const struct xfer_pending *p, bool verify_hashes, char *where,
                 size_t wsize, char *why, size_t whylen) {
        const struct level_user *u = target_user(target, p->uid);
        const struct xfer_manifest *m = p->manifest;
        int r;

        if (!u)
                return snprintf(why, whylen, "%s is not a user of level %s", p->user, target->name), -EPERM;
        _cleanup_close_ int root = staging_root(target, false);
        if (root < 0)
                return snprintf(why, whylen, "staging directory: %s", strerror(-root)), root;
        _cleanup_close_ int staging = openat2_dir(root, p->id, 0);
        if (staging < 0)
                return snprintf(why, whylen, "staged transfer: %s", strerror(-staging)), staging;
        r = xfer_manifest_check_tree(staging, m, why, whylen);
        if (r < 0)
                return r;
        /* What a user confirmed is what arrives: the data is hashed again
         * here, out of the parser's reach (allowed transfers rely on the
         * parser's hashes, see README.md). */
        if (verify_hashes) {
                r = xfer_manifest_check_hashes(staging, m, why, whylen);
                if (r < 0)
                        return r;
        }

        _cleanup_close_ int dfd = data_fd(target);
        if (dfd < 0)
                return snprintf(why, whylen, "level data: %s", strerror(-dfd)), dfd;
        char home[LEVEL_USER_MAX + 8];
        (void) snprintf(home, sizeof home, "home/%s", u->name);
        _cleanup_close_ int hfd = openat2_dir(dfd, home, 0);
        struct stat st;
        if (hfd < 0 || fstat(hfd, &st) < 0 || st.st_uid != p->uid)
                return snprintf(why, whylen, "the home directory of %s in %s is missing or not theirs", u->name,
                                target->name), -EPERM;
        _cleanup_close_ int inc = user_dir(hfd, XFERD_INCOMING, p->uid, p->gid);
        if (inc < 0)
                return snprintf(why, whylen, "%s: %s", XFERD_INCOMING, strerror(-inc)), inc;
        _cleanup_close_ int src = user_dir(inc, p->source, p->uid, p->gid);
        if (src < 0)
                return snprintf(why, whylen, "%s/%s: %s", XFERD_INCOMING, p->source, strerror(-src)), src;

        /* One top-level entry arrives under its own name (NAME.1, NAME.2...
         * when taken); several arrive together in one directory named after
         * the transfer.  Either way one rename: all or nothing. */
        size_t tops = 0, first = 0;
        for (size_t i = 0; i < m->n_entries; i++)
                if (!strchr(m->entries[i].name, '/') && tops++ == 0)
                        first = i;
        char dest[XFER_COMPONENT_MAX + 1];
        for (unsigned k = 0; k < 1000; k++) {
                if (tops == 1) {
                        const char *name = m->entries[first].name;
                        int n = k == 0 ? snprintf(dest, sizeof dest, "%s", name)
                                       : snprintf(dest, sizeof dest, "%s.%u", name, k);
                        if (n < 0 || (size_t) n >= sizeof dest)
                                (void) snprintf(dest, sizeof dest, "transfer-%s.%u", p->id, k);
                        r = xfer_commit(staging, name, src, dest);
                } else {
                        if (k == 0)
                                (void) snprintf(dest, sizeof dest, "transfer-%s", p->id);
                        else
                                (void) snprintf(dest, sizeof dest, "transfer-%s.%u", p->id, k);
                        r = xfer_commit(root, p->id, src, dest);
                }
                if (r != -EEXIST)
                        break;
        }
        if (r < 0)
                return snprintf(why, whylen, "cannot move the transfer into place: %s", strerror(-r)), r;
        if (tops == 1)
                (void) unlinkat(root, p->id, AT_REMOVEDIR);
        (void) snprintf(where, wsize, "%s/%s/%s/%s/%s", LEVEL_IN_HOME, u->name, XFERD_INCOMING, p->source, dest);
        return 0;
}

/* ---- configuration: loaded by the main process, reloaded on change ---- */

static int level_exists_cb(const char *name, void *userdata) {
        const struct level_set *set = userdata;
        return level_set_find(set, name) != NULL;
}

/* FNV-1a over what identifies the files of dir: names, inodes, sizes,
 * modification and change times (and the directory's own); for a file,
 * the file's. */
static uint64_t dir_stamp(const char *dir, uint64_t h) {
        struct stat st;
#define MIX(v)                                                          \
        do {                                                            \
                uint64_t _v = (uint64_t) (v);                           \
                for (unsigned _i = 0; _i < 8; _i++)                     \
                        h = (h ^ ((_v >> (8 * _i)) & 0xff)) * 0x100000001b3ULL; \
        } while (0)
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                /* A file (the user database), or nothing. */
                if (stat(dir, &st) < 0)
                        return h ^ 0x9e3779b97f4a7c15ULL;
                MIX(st.st_ino);
                MIX(st.st_size);
                MIX(st.st_mtim.tv_sec);
                MIX(st.st_mtim.tv_nsec);
                MIX(st.st_ctim.tv_nsec);
                return h;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                (void) close(fd);
                return h ^ 0x9e3779b97f4a7c15ULL;
        }
        if (fstat(dirfd(d), &st) == 0) {
                MIX(st.st_ino);
                MIX(st.st_mtim.tv_sec);
                MIX(st.st_mtim.tv_nsec);
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) < 0)
                        continue;
                for (const char *c = de->d_name; *c; c++)
                        h = (h ^ (uint8_t) *c) * 0x100000001b3ULL;
                MIX(st.st_ino);
                MIX(st.st_size);
                MIX(st.st_mode);
                MIX(st.st_uid);
                MIX(st.st_mtim.tv_sec);
                MIX(st.st_mtim.tv_nsec);
                MIX(st.st_ctim.tv_sec);
                MIX(st.st_ctim.tv_nsec);
        }
#undef MIX
        (void) closedir(d);
        return h;
}

int xferd_config_refresh(struct xferd *d) {
        /* The user database too: a level file or a rule may name a user. */
        uint64_t stamp = dir_stamp(d->levels_dir, 0xcbf29ce484222325ULL);
        stamp = dir_stamp(d->policy_dir, stamp);
        stamp = dir_stamp("/etc/passwd", dir_stamp("/etc/group", stamp)); /* files: their own stat */
        if (d->config_loaded && stamp == d->config_stamp)
                return 0;
        int r = level_set_load(d->set, d->levels_dir, NULL);
        if (r < 0) {
                /* Unreadable levels: no level is usable (every request is refused). */
                memset(d->set, 0, sizeof *d->set);
                log_error_errno(r, "cannot read the levels in %s", d->levels_dir);
        }
        struct xfer_lookup lk = { .level_exists = level_exists_cb, .userdata = d->set };
        struct xfer_policy *p = NULL;
        r = xfer_policy_load(d->policy_dir, &lk, &p);
        if (r < 0)
                return log_error_errno(r, "cannot load the transfer policy"), r;
        xfer_policy_free(d->policy);
        d->policy = p;
        if (xfer_policy_error(p))
                log_error("transfer policy refused, every transfer is denied: %s", xfer_policy_error(p));
        d->config_stamp = stamp;
        d->config_loaded = true;
        return 1;
}

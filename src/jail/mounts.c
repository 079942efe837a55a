/* SPDX-License-Identifier: MIT */
/* The jail's file system: an empty tmpfs root populated only with what the
 * profile names, built with the new mount API and entered with pivot_root.
 *
 * Order matters:
 *   1. make every mount private, so nothing we do propagates to the host;
 *   2. open (clone) every bind source while the host tree is still visible,
 *      and set their flags on the detached trees with one recursive
 *      mount_setattr each, so submounts of a source inherit ro/noexec too;
 *   3. create the new root tmpfs and attach it on a staging directory (the
 *      only place of the host tree it hides is in our private namespace,
 *      and the sources are already open);
 *   4. populate it relative to the root fd (never by host path strings);
 *   5. pivot_root, detach the old root, make the root tmpfs read-only.
 *
 * While building, directories and files are only ever created on tmpfs
 * instances made here: a mount point missing inside a bind source is an
 * error, never a mkdir on the host's file system. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "parse.h"

#define ROOT_TMPFS_SIZE "1m"  /* only mount points and symlinks live there */
#define DEV_TMPFS_SIZE ((uint64_t) 256 * 1024) /* likewise, plus the mount points of device nodes */
#define MAX_OWN_MOUNTS (JAIL_MAX_MOUNTS + 8)

/* Bind sources, opened before the host tree is hidden; -1 = nothing to bind. */
struct sources {
        int mount_fd[JAIL_MAX_MOUNTS];
        bool mount_is_dir[JAIL_MAX_MOUNTS];
        int device_fd[JAIL_MAX_DEVICES];
        int sys_fd;
};

/* The tree being built. */
struct build {
        int root_fd; /* root of the new root tmpfs */
        int dev_fd;  /* root of the /dev tmpfs, made read-only at the end */
        /* Mount ids of the tmpfs instances made here: the only places where
         * mount points may be created. */
        uint64_t own[MAX_OWN_MOUNTS];
        unsigned n_own;
};

static void sources_close(struct sources *s) {
        for (size_t i = 0; i < ELEMENTSOF(s->mount_fd); i++)
                closep(&s->mount_fd[i]);
        for (size_t i = 0; i < ELEMENTSOF(s->device_fd); i++)
                closep(&s->device_fd[i]);
        closep(&s->sys_fd);
}

static void build_close(struct build *b) {
        closep(&b->root_fd);
        closep(&b->dev_fd);
}

static int mount_id_of(int fd, uint64_t *ret) {
        struct statx stx = { 0 };

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
                return negative_errno();
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret = stx.stx_mnt_id;
        return 0;
}

static int own_add(struct build *b, int fd) {
        uint64_t id = 0;
        int r = mount_id_of(fd, &id);

        if (r < 0)
                return r;
        if (b->n_own >= ELEMENTSOF(b->own))
                return -E2BIG;
        b->own[b->n_own++] = id;
        return 0;
}

/* Conservative: any doubt means "not ours", and nothing is created. */
static bool own_contains(const struct build *b, int dirfd) {
        uint64_t id = 0;

        if (mount_id_of(dirfd, &id) < 0)
                return false;
        for (unsigned i = 0; i < b->n_own; i++)
                if (b->own[i] == id)
                        return true;
        return false;
}

/* The kernel explains fsconfig() refusals through the fs context fd; pass
 * that on, it is far more precise than EINVAL. */
static void log_fs_context(int fsfd, const char *type) {
        char buf[256];

        for (unsigned i = 0; i < 8; i++) {
                ssize_t n = read(fsfd, buf, sizeof buf - 1);
                if (n <= 0)
                        return;
                buf[n] = '\0';
                log_warning("%s: %s", type, buf);
        }
}

struct fsopt {
        const char *key, *value; /* value NULL: a flag */
};

/* New detached superblock+mount of the given type; returns the mount fd. */
static int make_fs(const char *type, const struct fsopt *opts, size_t n_opts, unsigned attrs) {
        _cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return negative_errno();

        for (size_t i = 0; i < n_opts; i++) {
                int r = opts[i].value
                        ? fsconfig(fsfd, FSCONFIG_SET_STRING, opts[i].key, opts[i].value, 0)
                        : fsconfig(fsfd, FSCONFIG_SET_FLAG, opts[i].key, NULL, 0);
                if (r < 0) {
                        r = negative_errno();
                        log_fs_context(fsfd, type);
                        return r;
                }
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                int r = negative_errno();
                log_fs_context(fsfd, type);
                return r;
        }
        int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
        return mfd < 0 ? negative_errno() : mfd;
}

static int make_tmpfs(const char *mode, const char *size, uid_t uid, gid_t gid, unsigned attrs) {
        struct fsopt opts[4] = { { "mode", mode } };
        char uidbuf[16];  /* cppcheck-suppress variableScope ; must outlive the block, opts points into it */
        char gidbuf[16];  /* cppcheck-suppress variableScope */
        size_t n = 1;

        if (size)
                opts[n++] = (struct fsopt) { "size", size };
        if (uid != 0 || gid != 0) {
                (void) snprintf(uidbuf, sizeof uidbuf, "%u", (unsigned) uid); /* cannot truncate */
                (void) snprintf(gidbuf, sizeof gidbuf, "%u", (unsigned) gid);
                opts[n++] = (struct fsopt) { "uid", uidbuf };
                opts[n++] = (struct fsopt) { "gid", gidbuf };
        }
        return make_fs("tmpfs", opts, n, attrs);
}

/* Clone the tree at src and restrict it; recursive so that submounts of a
 * source (e.g. /usr/local on its own file system) get the same flags. */
static int clone_tree(const char *src, bool recursive, uint64_t attrs, int *ret) {
        struct mount_attr ma = { .attr_set = attrs, .propagation = MS_PRIVATE };
        _cleanup_close_ int fd = open_tree(AT_FDCWD, src,
                                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
        if (fd < 0)
                return negative_errno();
        if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &ma, sizeof ma) < 0)
                return negative_errno();
        *ret = take_fd(&fd);
        return 0;
}

static int open_sources(const struct jail_profile *p, struct sources *s, const char **step) {
        for (unsigned i = 0; i < p->n_mounts; i++) {
                const struct jail_mount *m = &p->mounts[i];
                uint64_t attrs;
                struct stat st;
                int r;

                switch (m->kind) {
                case JAIL_MOUNT_RO:
                        attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
                        break;
                case JAIL_MOUNT_RO_NOEXEC:
                        attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
                        break;
                case JAIL_MOUNT_RW:
                        /* Writable is never executable.  Read-only is not
                         * cleared: a source that is ro on the host stays ro. */
                        attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
                        break;
                case JAIL_MOUNT_TMPFS:
                case JAIL_MOUNT_SYMLINK:
                        continue;
                default:
                        *step = "mount kind";
                        return -EINVAL;
                }

                r = clone_tree(m->src, true, attrs, &s->mount_fd[i]);
                if (r == -ENOENT && m->optional)
                        continue;
                if (r < 0) {
                        *step = "open_tree(bind source)";
                        return log_error_errno(r, "bind source %s (for %s)", m->src, m->dst);
                }
                if (fstat(s->mount_fd[i], &st) < 0) {
                        *step = "fstat(bind source)";
                        return log_error_errno(negative_errno(), "bind source %s", m->src);
                }
                s->mount_is_dir[i] = S_ISDIR(st.st_mode);
        }

        for (unsigned i = 0; i < p->n_devices; i++) {
                const struct jail_device *d = &p->devices[i];
                struct stat st;
                /* Read-only is fine for a device node (writes to it do not
                 * need a writable mount) and stops chmod/chown/utimes on the
                 * host's node; no nodev, obviously. */
                int r = clone_tree(d->path, false, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
                                   &s->device_fd[i]);
                if (r == -ENOENT && d->optional)
                        continue;
                if (r < 0) {
                        *step = "open_tree(device)";
                        return log_error_errno(r, "device %s", d->path);
                }
                /* The node was checked by profile_validate; make sure the
                 * path still names that very device now that it is pinned. */
                if (fstat(s->device_fd[i], &st) < 0) {
                        *step = "fstat(device)";
                        return log_error_errno(negative_errno(), "device %s", d->path);
                }
                if (!(d->is_block ? S_ISBLK(st.st_mode) : S_ISCHR(st.st_mode)) ||
                    st.st_rdev != makedev(d->major, d->minor)) {
                        *step = "device identity";
                        log_error("device %s is no longer %s %u:%u", d->path, d->is_block ? "block" : "char",
                                  d->major, d->minor);
                        return -ESTALE;
                }
        }

        if (p->sys == JAIL_SYS_RO) {
                int r = clone_tree("/sys", true,
                                   MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                   &s->sys_fd);
                if (r < 0) {
                        *step = "open_tree(/sys)";
                        return r;
                }
        }
        return 0;
}

/* Open the directory that will contain the last component of dst (an
 * absolute path inside the jail), creating missing directories on our own
 * tmpfs instances.  Never follows symlinks.  *ret_name points into dst. */
static int open_parent(const struct build *b, const char *dst, int *ret_parent, const char **ret_name) {
        char comp[JAIL_PATH_MAX];
        const char *slash = strrchr(dst, '/');
        const char *p;

        *ret_name = slash ? slash + 1 : dst;
        if (!path_is_normalized_absolute(dst) || strcmp(dst, "/") == 0 || strlen(dst) >= sizeof comp)
                return -EINVAL;

        _cleanup_close_ int dirfd = fcntl(b->root_fd, F_DUPFD_CLOEXEC, 3);
        if (dirfd < 0)
                return negative_errno();

        for (p = dst + 1;;) {
                size_t n = strcspn(p, "/");
                if (p[n] == '\0')
                        break; /* last component */
                memcpy(comp, p, n);
                comp[n] = '\0';
                /* Defensive: the path is normalized, but a ".." here would
                 * walk out of the new root onto the host. */
                if (n == 0 || strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
                        return -EINVAL;

                int fd = openat(dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT) {
                        if (!own_contains(b, dirfd))
                                return -ENOENT;
                        if (mkdirat(dirfd, comp, 0755) < 0 && errno != EEXIST)
                                return negative_errno();
                        fd = openat(dirfd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0)
                        return negative_errno();
                closep(&dirfd);
                dirfd = fd;
                p += n + 1;
        }
        if (p != *ret_name || strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
                return -EINVAL;
        *ret_parent = take_fd(&dirfd);
        return 0;
}

/* Open (creating on our tmpfs if missing) a directory or an empty regular
 * file at dst to mount on; returns an O_PATH fd. */
static int make_mountpoint(const struct build *b, const char *dst, bool is_dir, int *ret) {
        _cleanup_close_ int parent = -1;
        const char *name = NULL;
        struct stat st;
        int r = open_parent(b, dst, &parent, &name);
        if (r < 0)
                return r;

        int flags = O_PATH | O_NOFOLLOW | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0);
        _cleanup_close_ int fd = openat(parent, name, flags);
        if (fd < 0 && errno == ENOENT) {
                if (!own_contains(b, parent))
                        return -ENOENT;
                if (is_dir) {
                        if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
                                return negative_errno();
                } else {
                        _cleanup_close_ int f =
                                openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                        if (f < 0 && errno != EEXIST)
                                return negative_errno();
                }
                fd = openat(parent, name, flags);
        }
        if (fd < 0)
                return negative_errno();
        /* Files are mounted on files, directories on directories; a symlink
         * (opened itself, thanks to O_NOFOLLOW) is neither. */
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (is_dir ? !S_ISDIR(st.st_mode) : (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
                return is_dir ? -ENOTDIR : -EISDIR;
        *ret = take_fd(&fd);
        return 0;
}

static int attach(const struct build *b, int mnt_fd, const char *dst, bool is_dir) {
        _cleanup_close_ int mp = -1;
        int r = make_mountpoint(b, dst, is_dir, &mp);
        if (r < 0)
                return r;
        if (move_mount(mnt_fd, "", mp, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

static int make_symlink(const struct build *b, const char *dst, const char *target, bool keep_existing) {
        _cleanup_close_ int parent = -1;
        const char *name = NULL;
        char cur[JAIL_PATH_MAX];
        int r = open_parent(b, dst, &parent, &name);
        if (r < 0)
                return r;
        if (!own_contains(b, parent))
                return -EROFS;
        if (symlinkat(target, parent, name) >= 0)
                return 0;
        if (errno != EEXIST)
                return negative_errno();
        if (keep_existing)
                return 0;
        /* Tolerate the same link twice; anything else is a conflict. */
        ssize_t n = readlinkat(parent, name, cur, sizeof cur - 1);
        if (n < 0)
                return -EEXIST;
        cur[n] = '\0';
        return strcmp(cur, target) == 0 ? 0 : -EEXIST;
}

/* Attach a freshly made tmpfs at dst and remember it as ours. */
static int attach_tmpfs(struct build *b, const char *dst, const char *mode, uint64_t size, uid_t uid, gid_t gid,
                        unsigned attrs, int *ret_fd) {
        char sizebuf[32];

        if (size > 0)
                (void) snprintf(sizebuf, sizeof sizebuf, "%" PRIu64, size); /* cannot truncate */
        _cleanup_close_ int fd = make_tmpfs(mode, size > 0 ? sizebuf : NULL, uid, gid, attrs);
        if (fd < 0)
                return fd;
        int r = attach(b, fd, dst, true);
        if (r < 0)
                return r;
        r = own_add(b, fd);
        if (r < 0)
                return r;
        if (ret_fd)
                *ret_fd = take_fd(&fd);
        return 0;
}

static int setup_dev(const struct jail_profile *p, struct build *b, const struct sources *s, const char **step) {
        static const char *const links[][2] = {
                { "/dev/fd", "/proc/self/fd" },
                { "/dev/stdin", "/proc/self/fd/0" },
                { "/dev/stdout", "/proc/self/fd/1" },
                { "/dev/stderr", "/proc/self/fd/2" },
        };
        int r;

        /* nodev on the /dev tmpfs itself: every usable node is a bind mount
         * of the host's node and carries its own mount flags, so nothing
         * needs device access through this file system. */
        r = attach_tmpfs(b, "/dev", "0755", DEV_TMPFS_SIZE, 0, 0,
                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, &b->dev_fd);
        if (r < 0) {
                *step = "mount /dev";
                return r;
        }
        for (unsigned i = 0; i < p->n_devices; i++) {
                const char *path = p->devices[i].path;
                if (s->device_fd[i] < 0)
                        continue; /* optional and absent */
                if (strncmp(path, "/dev/", 5) != 0) {
                        *step = "device path";
                        log_error("device %s is not under /dev", path);
                        return -EINVAL;
                }
                r = attach(b, s->device_fd[i], path, false);
                if (r < 0) {
                        *step = "bind device";
                        return log_error_errno(r, "device %s", path);
                }
        }
        if (p->dev_shm) {
                r = attach_tmpfs(b, "/dev/shm", "01777", 0, 0, 0,
                                 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, NULL);
                if (r < 0) {
                        *step = "mount /dev/shm";
                        return r;
                }
        }
        if (p->dev_pts) {
                /* A private instance: the jail sees its own ptys only. */
                static const struct fsopt opts[] = {
                        { "newinstance", NULL },
                        { "ptmxmode", "0666" },
                        { "mode", "0620" },
                };
                _cleanup_close_ int fd =
                        make_fs("devpts", opts, ELEMENTSOF(opts), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
                if (fd < 0) {
                        *step = "fsmount(devpts)";
                        return fd;
                }
                r = attach(b, fd, "/dev/pts", true);
                if (r < 0) {
                        *step = "mount /dev/pts";
                        return r;
                }
                r = make_symlink(b, "/dev/ptmx", "pts/ptmx", true);
                if (r < 0) {
                        *step = "symlink /dev/ptmx";
                        return r;
                }
        }
        /* A device of the profile may already hold one of these names. */
        for (size_t i = 0; i < ELEMENTSOF(links); i++) {
                r = make_symlink(b, links[i][0], links[i][1], true);
                if (r < 0) {
                        *step = "symlink in /dev";
                        return r;
                }
        }
        return 0;
}

static int setup_proc(struct build *b, struct jail_enforced *e, const char **step) {
        static const struct fsopt full[] = { { "hidepid", "invisible" }, { "subset", "pid" } };
        /* Read-only: /proc/PID/mem writes ignore page protections (FOLL_FORCE)
         * and would let a process patch its own code despite MDWE; the few
         * writable knobs left (comm, oom_score_adj) are not worth that.  A
         * write open fails with EROFS before the file is even looked at. */
        const unsigned attrs = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
        /* fsopen("proc") binds the instance to our pid namespace, of which
         * we are PID 1: only the jail's processes are visible. */
        _cleanup_close_ int fd = make_fs("proc", full, ELEMENTSOF(full), attrs);
        if (fd == -EINVAL) {
                fd = make_fs("proc", full, 1, attrs);
                if (fd >= 0) {
                        e->proc_subset_pid = FEATURE_PARTIAL;
                        enforced_note(e, "proc: subset=pid refused, /proc/sys and friends are visible (hidepid only)");
                }
        } else if (fd >= 0)
                e->proc_subset_pid = FEATURE_ENFORCED;
        if (fd < 0) {
                *step = "fsmount(proc)";
                return fd;
        }
        int r = attach(b, fd, "/proc", true);
        if (r < 0)
                *step = "mount /proc";
        return r;
}

/* vm.memfd_noexec is per pid namespace and applies to the namespace of the
 * writer, so this has to run in the jail's PID 1 and through the host's
 * /proc (the jail's own /proc has no /proc/sys). */
static void setup_memfd_noexec(struct jail_enforced *e) {
        int r;

        if (getpid() != 1) {
                /* Not the init of a fresh pid namespace: writing would
                 * change the setting of the host's namespace. */
                e->memfd_noexec = FEATURE_UNAVAILABLE;
                enforced_note(e, "memfd_noexec: not PID 1 of a new pid namespace, not set");
                return;
        }
        r = write_string_at(AT_FDCWD, "/proc/sys/vm/memfd_noexec", "2");
        if (r >= 0) {
                char buf[8];
                ssize_t n = read_string_at(AT_FDCWD, "/proc/sys/vm/memfd_noexec", buf, sizeof buf);
                r = n < 0 ? (int) n : strcmp(buf, "2") == 0 ? 0 : -EIO;
        }
        if (r < 0) {
                e->memfd_noexec = FEATURE_UNAVAILABLE;
                if (r == -ENOENT)
                        enforced_note(e, "memfd_noexec: vm.memfd_noexec needs Linux 6.3");
                else
                        enforced_note(e, "memfd_noexec: cannot set vm.memfd_noexec=2: %s", strerror(-r));
                return;
        }
        e->memfd_noexec = FEATURE_ENFORCED;
}

/* Attach the new root somewhere so that pivot_root accepts it.  Any
 * existing directory will do: it is hidden only in our namespace. */
static int stage_root(int root_fd) {
        static const char *const candidates[] = { "/tmp", "/mnt", "/run", "/" };
        int r = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++) {
                if (move_mount(root_fd, "", AT_FDCWD, candidates[i], MOVE_MOUNT_F_EMPTY_PATH) >= 0)
                        return 0;
                r = negative_errno();
                if (r != -ENOENT && r != -ENOTDIR && r != -EINVAL)
                        break;
        }
        return r;
}

static int populate(const struct jail_profile *p, struct build *b, const struct sources *s,
                    struct jail_enforced *e, const char **step) {
        int r;

        if (p->private_tmp) {
                r = attach_tmpfs(b, "/tmp", "01777", p->tmp_size, 0, 0,
                                 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, NULL);
                if (r < 0) {
                        *step = "mount /tmp";
                        return r;
                }
        }
        r = setup_dev(p, b, s, step);
        if (r < 0)
                return r;
        if (p->proc) {
                r = setup_proc(b, e, step);
                if (r < 0)
                        return r;
        }
        if (s->sys_fd >= 0) {
                r = attach(b, s->sys_fd, "/sys", true);
                if (r < 0) {
                        *step = "mount /sys";
                        return r;
                }
        }

        for (unsigned i = 0; i < p->n_mounts; i++) {
                const struct jail_mount *m = &p->mounts[i];

                switch (m->kind) {
                case JAIL_MOUNT_SYMLINK:
                        r = make_symlink(b, m->dst, m->src, false);
                        *step = "symlink";
                        break;
                case JAIL_MOUNT_TMPFS:
                        /* Owned by the jail's user, so that it is usable
                         * after privileges are dropped. */
                        r = attach_tmpfs(b, m->dst, "0755", m->size, p->uid, p->gid,
                                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, NULL);
                        *step = "mount tmpfs";
                        break;
                default:
                        if (s->mount_fd[i] < 0)
                                continue; /* optional, absent */
                        r = attach(b, s->mount_fd[i], m->dst, s->mount_is_dir[i]);
                        *step = "bind mount";
                        break;
                }
                if (r < 0) {
                        if (r == -ENOENT)
                                log_error("%s: mount point missing in a bind mount (never created on the host)",
                                          m->dst);
                        return log_error_errno(r, "%s", m->dst);
                }
        }

        /* Populated: no node may be created or renamed in /dev from now on. */
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        if (mount_setattr(b->dev_fd, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0) {
                *step = "mount_setattr(/dev, ro)";
                return negative_errno();
        }
        return 0;
}

static int enter_root(const struct build *b, const char **step) {
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };

        if (fchdir(b->root_fd) < 0) {
                *step = "fchdir(new root)";
                return negative_errno();
        }
        /* Old root stacked on top of the new one, then detached with
         * everything below it: nothing of the host stays reachable. */
        if (syscall(SYS_pivot_root, ".", ".") < 0) {
                *step = "pivot_root";
                return negative_errno();
        }
        if (umount2(".", MNT_DETACH) < 0) {
                *step = "umount(old root)";
                return negative_errno();
        }
        if (chdir("/") < 0) {
                *step = "chdir(/)";
                return negative_errno();
        }
        /* Only the root tmpfs itself: the mounts below keep their flags. */
        if (mount_setattr(b->root_fd, "", AT_EMPTY_PATH, &ro, sizeof ro) < 0) {
                *step = "mount_setattr(/, ro)";
                return negative_errno();
        }
        return 0;
}

int mounts_setup(const struct jail_profile *p, struct jail_enforced *e, const char **step) {
        _cleanup_(sources_close) struct sources s = { .sys_fd = -1 };
        _cleanup_(build_close) struct build b = { .root_fd = -1, .dev_fd = -1 };
        int r;

        *step = "mounts";
        for (size_t i = 0; i < ELEMENTSOF(s.mount_fd); i++)
                s.mount_fd[i] = -1;
        for (size_t i = 0; i < ELEMENTSOF(s.device_fd); i++)
                s.device_fd[i] = -1;
        if (p->n_mounts > JAIL_MAX_MOUNTS || p->n_devices > JAIL_MAX_DEVICES)
                return -E2BIG;

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                *step = "make / private";
                return negative_errno();
        }

        r = open_sources(p, &s, step);
        if (r < 0) {
                if (r == -ENOSYS)
                        e->new_mount_api = FEATURE_UNAVAILABLE;
                return r;
        }

        if (p->memfd_noexec)
                setup_memfd_noexec(e);

        r = make_tmpfs("0755", ROOT_TMPFS_SIZE, 0, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (r < 0) {
                *step = "fsmount(root tmpfs)";
                if (r == -ENOSYS)
                        e->new_mount_api = FEATURE_UNAVAILABLE;
                return r;
        }
        b.root_fd = r;
        r = own_add(&b, b.root_fd);
        if (r < 0) {
                *step = "statx(root tmpfs)";
                return r;
        }
        r = stage_root(b.root_fd);
        if (r < 0) {
                *step = "move_mount(root tmpfs to staging)";
                return r;
        }

        r = populate(p, &b, &s, e, step);
        if (r < 0)
                return r;

        r = enter_root(&b, step);
        if (r < 0)
                return r;
        e->pivot_root = FEATURE_ENFORCED;
        e->new_mount_api = FEATURE_ENFORCED;

        if (p->cwd[0] != '\0' && chdir(p->cwd) < 0) {
                *step = "chdir(cwd)";
                return log_error_errno(negative_errno(), "working directory %s", p->cwd);
        }
        return 0;
}

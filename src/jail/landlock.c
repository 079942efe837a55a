/* SPDX-License-Identifier: MIT */
/* Landlock ruleset derived from the mount plan.
 *
 * Landlock attaches a rule to an inode and, at access time, walks the
 * path of the accessed file up to the root, OR-ing the rights of every
 * rule met on the way.  A rule on a mount point therefore covers the whole
 * mounted tree, and "/" covers everything: it only gets READ_DIR.
 *
 * Rights per kind of place (masked to what the kernel's ABI handles):
 *   read-only exec bind       EXECUTE READ_FILE READ_DIR
 *   read-only noexec bind     READ_FILE READ_DIR
 *   writable (bind, tmpfs,    READ_FILE READ_DIR WRITE_FILE TRUNCATE REFER
 *     /tmp, /dev/shm)         REMOVE_* MAKE_{DIR,REG,SOCK,FIFO,SYM}
 *                             never EXECUTE, MAKE_CHAR, MAKE_BLOCK
 *   device node, /dev/ptmx,   READ_FILE WRITE_FILE IOCTL_DEV
 *     /dev/pts
 *   /dev                      READ_DIR
 *   /proc                     READ_FILE READ_DIR (mounted read-only too)
 *   /sys (read-only)          READ_FILE READ_DIR
 * A rule on a non-directory (a file bind, a device) keeps only the file
 * rights, the only ones the kernel accepts there.
 */
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "missing.h"

/* Newest ABI whose rights this file knows; a newer kernel still gets
 * everything listed here handled, plus a note. */
#define LANDLOCK_ABI_KNOWN 7

#define A(x) LANDLOCK_ACCESS_FS_##x

/* The 13 rights of ABI 1 (bits 0..12). */
#define ACCESS_FS_ABI1                                                                      \
        (A(EXECUTE) | A(WRITE_FILE) | A(READ_FILE) | A(READ_DIR) | A(REMOVE_DIR) |          \
         A(REMOVE_FILE) | A(MAKE_CHAR) | A(MAKE_DIR) | A(MAKE_REG) | A(MAKE_SOCK) |         \
         A(MAKE_FIFO) | A(MAKE_BLOCK) | A(MAKE_SYM))

/* The only rights the kernel accepts in a rule on a non-directory. */
#define ACCESS_FILE (A(EXECUTE) | A(WRITE_FILE) | A(READ_FILE) | A(TRUNCATE) | A(IOCTL_DEV))

#define RIGHTS_RO_EXEC (A(EXECUTE) | A(READ_FILE) | A(READ_DIR))
#define RIGHTS_RO (A(READ_FILE) | A(READ_DIR))
/* Writable places are mounted nodev, so IOCTL_DEV would be useless there;
 * MAKE_CHAR/MAKE_BLOCK are left out for the same reason and because a
 * device node is never something a confined program should create. */
#define RIGHTS_WRITABLE                                                                     \
        (A(READ_FILE) | A(READ_DIR) | A(WRITE_FILE) | A(TRUNCATE) | A(REFER) |              \
         A(REMOVE_DIR) | A(REMOVE_FILE) | A(MAKE_DIR) | A(MAKE_REG) | A(MAKE_SOCK) |        \
         A(MAKE_FIFO) | A(MAKE_SYM))
#define RIGHTS_DEVICE (A(READ_FILE) | A(WRITE_FILE) | A(IOCTL_DEV))
/* /proc is mounted read-only with subset=pid,hidepid=invisible: only the
 * jail's own /proc/PID trees are visible, and nothing there may be opened
 * for writing (/proc/self/mem would let a process patch its own code).
 * Landlock says the same, so the two layers agree. */
#define RIGHTS_PROC (A(READ_FILE) | A(READ_DIR))

#define ACCESS_NET_TCP (LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP)

struct ruleset {
        int fd;
        uint64_t handled_fs;
        unsigned n_path_rules;
};

int landlock_abi_version(void) {
        int abi = rp_landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

        if (abi >= 0)
                return abi;
        /* ENOSYS: not built in; EOPNOTSUPP: built in but disabled at boot. */
        if (errno == ENOSYS || errno == EOPNOTSUPP)
                return 0;
        return negative_errno();
}

static uint64_t fs_access_for_abi(int abi) {
        uint64_t a = ACCESS_FS_ABI1;

        if (abi >= 2)
                a |= A(REFER);
        if (abi >= 3)
                a |= A(TRUNCATE);
        if (abi >= 5)
                a |= A(IOCTL_DEV);
        return a;
}

/* The kernel reads the prefix of the attribute that the size covers; an
 * older kernel rejects a size that includes fields it does not know. */
static size_t ruleset_attr_size(int abi) {
        if (abi >= 6)
                return sizeof(struct rp_landlock_ruleset_attr);
        if (abi >= 4)
                return offsetof(struct rp_landlock_ruleset_attr, scoped);
        return offsetof(struct rp_landlock_ruleset_attr, handled_access_net);
}

/* Symbolic links are refused on every path (RESOLVE_NO_SYMLINKS) because
 * a writable bind's content may be changed from the host while we run:
 * a rule must land on the mount point itself, never on wherever a link
 * planted there points.  The one exception (follow) is /dev/ptmx, which
 * is commonly a link to pts/ptmx created by the jail itself; magic links
 * are refused even then.  openat2 exists on every kernel with Landlock. */
static int open_path(const char *path, bool follow) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = follow ? RESOLVE_NO_MAGICLINKS : RESOLVE_NO_SYMLINKS,
        };

        return RET_NERRNO(syscall(__NR_openat2, AT_FDCWD, path, &how, sizeof how));
}

/* Add a path-beneath rule.  Missing optional paths are skipped.  With
 * need_mount_root, an optional path that exists but is not the root of a
 * mount is skipped too: the optional mount was not made, and the rule
 * would otherwise grant its rights to whatever directory lies beneath. */
static int add_path_rule(struct ruleset *rs, const char *path, uint64_t access, bool optional,
                         bool need_mount_root, bool follow) {
        struct landlock_path_beneath_attr pb = { 0 };
        struct statx stx;
        _cleanup_close_ int fd = -1;

        fd = open_path(path, follow);
        if (fd == -ENOENT && optional)
                return 0;
        if (fd == -ELOOP)
                return log_error_errno(fd, "landlock: %s: path contains a symbolic link", path);
        if (fd < 0)
                return log_error_errno(fd, "landlock: cannot open %s", path);

        if (statx(fd, "", AT_EMPTY_PATH, STATX_TYPE, &stx) < 0)
                return log_error_errno(negative_errno(), "landlock: cannot stat %s", path);
        if (optional && need_mount_root && (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
            !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return 0;

        if (!S_ISDIR(stx.stx_mode))
                access &= ACCESS_FILE;
        access &= rs->handled_fs;
        if (access == 0) /* the kernel refuses empty rules (ENOMSG) */
                return 0;

        pb.allowed_access = access;
        pb.parent_fd = fd;
        if (rp_landlock_add_rule(rs->fd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
                return log_error_errno(negative_errno(), "landlock: cannot add a rule for %s", path);
        rs->n_path_rules++;
        return 0;
}

static uint64_t mount_access(enum jail_mount_kind kind) {
        switch (kind) {
        case JAIL_MOUNT_RO:
                return RIGHTS_RO_EXEC;
        case JAIL_MOUNT_RO_NOEXEC:
                return RIGHTS_RO;
        case JAIL_MOUNT_RW:
        case JAIL_MOUNT_TMPFS:
                return RIGHTS_WRITABLE;
        case JAIL_MOUNT_SYMLINK: /* resolved at access time to a place with its own rule */
                return 0;
        }
        return 0;
}

static int add_fs_rules(struct ruleset *rs, const struct jail_profile *p) {
        int r;

        if (p->n_mounts > JAIL_MAX_MOUNTS || p->n_devices > JAIL_MAX_DEVICES)
                return -EINVAL;

        /* Lets programs list "/" (and, being inherited, every directory);
         * path resolution and stat() are not subject to Landlock anyway. */
        r = add_path_rule(rs, "/", A(READ_DIR), false, false, false);
        if (r < 0)
                return r;

        for (unsigned i = 0; i < p->n_mounts; i++) {
                const struct jail_mount *m = &p->mounts[i];
                uint64_t access = mount_access(m->kind);

                if (access == 0)
                        continue;
                r = add_path_rule(rs, m->dst, access, m->optional, true, false);
                if (r < 0)
                        return r;
        }

        if (p->private_tmp) {
                r = add_path_rule(rs, "/tmp", RIGHTS_WRITABLE, false, false, false);
                if (r < 0)
                        return r;
        }

        /* The jail's /dev is its own tmpfs; absent only in odd test setups. */
        r = add_path_rule(rs, "/dev", A(READ_DIR), true, false, false);
        if (r < 0)
                return r;
        if (p->dev_shm) {
                r = add_path_rule(rs, "/dev/shm", RIGHTS_WRITABLE, false, false, false);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < p->n_devices; i++) {
                const struct jail_device *d = &p->devices[i];

                r = add_path_rule(rs, d->path, RIGHTS_DEVICE, d->optional, false, false);
                if (r < 0)
                        return r;
        }
        if (p->dev_pts) {
                r = add_path_rule(rs, "/dev/pts", RIGHTS_DEVICE, false, false, false);
                if (r < 0)
                        return r;
                /* Rules follow inodes, not names: whether /dev/ptmx is a link
                 * to pts/ptmx or a bind of it, the rule must be on that
                 * inode, because a bind's path walk never passes /dev/pts. */
                r = add_path_rule(rs, "/dev/ptmx", RIGHTS_DEVICE, true, false, true);
                if (r < 0)
                        return r;
        }

        if (p->proc) {
                r = add_path_rule(rs, "/proc", RIGHTS_PROC, false, false, false);
                if (r < 0)
                        return r;
        }
        if (p->sys == JAIL_SYS_RO) {
                r = add_path_rule(rs, "/sys", RIGHTS_RO, false, false, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_port_rules(int fd, const uint16_t *ports, unsigned n, uint64_t access) {
        if (n > JAIL_MAX_PORTS)
                return -EINVAL;
        for (unsigned i = 0; i < n; i++) {
                struct rp_landlock_net_port_attr np = { .allowed_access = access, .port = ports[i] };

                if (rp_landlock_add_rule(fd, RP_LANDLOCK_RULE_NET_PORT, &np, 0) < 0)
                        return log_error_errno(negative_errno(), "landlock: cannot add a rule for TCP port %u",
                                               (unsigned) ports[i]);
        }
        return 0;
}

/* Record what the kernel cannot do; nothing is in force yet. */
static void record_unavailable(const struct jail_profile *p, struct jail_enforced *e, int abi) {
        if (abi == 0) {
                if (p->landlock_fs)
                        e->landlock_fs = FEATURE_UNAVAILABLE;
                enforced_note(e, "landlock: not supported by the kernel or disabled at boot");
        }
        if (p->landlock_net && abi < 4) {
                e->landlock_net = FEATURE_UNAVAILABLE;
                if (abi > 0)
                        enforced_note(e, "landlock: ABI %d < 4: TCP bind/connect not restricted", abi);
        }
        if ((p->scope_abstract_unix || p->scope_signal) && abi < 6) {
                if (p->scope_abstract_unix)
                        e->landlock_scope_unix = FEATURE_UNAVAILABLE;
                if (p->scope_signal)
                        e->landlock_scope_signal = FEATURE_UNAVAILABLE;
                if (abi > 0)
                        enforced_note(e, "landlock: ABI %d < 6: abstract unix socket and signal scoping unavailable",
                                      abi);
        }
}

static void record_enforced(struct jail_enforced *e, int abi, const struct rp_landlock_ruleset_attr *attr,
                            unsigned n_path_rules) {
        if (attr->handled_access_fs != 0) {
                e->landlock_fs = abi >= 5 ? FEATURE_ENFORCED : FEATURE_PARTIAL;
                if (abi < 5)
                        enforced_note(e, "landlock: ABI %d does not restrict %s%s", abi,
                                      abi < 3 ? "file truncation (ABI 3) and " : "",
                                      "device ioctls (ABI 5)");
                if (abi < 2)
                        enforced_note(e, "landlock: ABI 1: files cannot be renamed or linked across directories");
        }
        if (attr->handled_access_net != 0)
                e->landlock_net = FEATURE_ENFORCED;
        if (attr->scoped & RP_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET)
                e->landlock_scope_unix = FEATURE_ENFORCED;
        if (attr->scoped & RP_LANDLOCK_SCOPE_SIGNAL)
                e->landlock_scope_signal = FEATURE_ENFORCED;

        enforced_note(e, "landlock: ABI %d, %u path rules, TCP %s, scoped:%s%s%s", abi, n_path_rules,
                      attr->handled_access_net != 0 ? "rules active (UDP not covered)" : "unrestricted",
                      attr->scoped == 0 ? " none" : "",
                      (attr->scoped & RP_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET) ? " abstract-unix" : "",
                      (attr->scoped & RP_LANDLOCK_SCOPE_SIGNAL) ? " signal" : "");
        if (abi > LANDLOCK_ABI_KNOWN)
                enforced_note(e, "landlock: kernel ABI %d is newer than %d: newer rights are not handled", abi,
                              LANDLOCK_ABI_KNOWN);
}

int landlock_apply(const struct jail_profile *p, struct jail_enforced *e) {
        struct rp_landlock_ruleset_attr attr = { 0 };
        struct ruleset rs = { .fd = -1 };
        _cleanup_close_ int fd = -1;
        int abi, r;

        e->landlock_fs = FEATURE_OFF;
        e->landlock_net = FEATURE_OFF;
        e->landlock_scope_unix = FEATURE_OFF;
        e->landlock_scope_signal = FEATURE_OFF;

        abi = landlock_abi_version();
        if (!p->landlock) {
                /* Informative only: the ABI is reported even when unused. */
                e->landlock_abi = abi > 0 ? abi : 0;
                return 0;
        }
        if (abi < 0)
                return log_error_errno(abi, "landlock: cannot query the ABI version");
        e->landlock_abi = abi;

        record_unavailable(p, e, abi);
        if (abi == 0)
                return 0;

        if (p->landlock_fs)
                attr.handled_access_fs = fs_access_for_abi(abi);
        if (p->landlock_net && abi >= 4)
                attr.handled_access_net = ACCESS_NET_TCP;
        if (abi >= 6) {
                if (p->scope_abstract_unix)
                        attr.scoped |= RP_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
                if (p->scope_signal)
                        attr.scoped |= RP_LANDLOCK_SCOPE_SIGNAL;
        }
        /* Nothing the kernel can do was requested: a ruleset would be
         * refused (ENOMSG) and restricting would be pointless. */
        if (attr.handled_access_fs == 0 && attr.handled_access_net == 0 && attr.scoped == 0)
                return 0;

        fd = rp_landlock_create_ruleset(&attr, ruleset_attr_size(abi), 0);
        if (fd < 0)
                return log_error_errno(negative_errno(), "landlock: cannot create the ruleset (ABI %d)", abi);
        rs.fd = fd;
        rs.handled_fs = attr.handled_access_fs;

        if (attr.handled_access_fs != 0) {
                r = add_fs_rules(&rs, p);
                if (r < 0)
                        return r;
        }
        if (attr.handled_access_net != 0) {
                r = add_port_rules(fd, p->tcp_bind, p->n_tcp_bind, LANDLOCK_ACCESS_NET_BIND_TCP);
                if (r < 0)
                        return r;
                r = add_port_rules(fd, p->tcp_connect, p->n_tcp_connect, LANDLOCK_ACCESS_NET_CONNECT_TCP);
                if (r < 0)
                        return r;
        }

        /* The caller set no_new_privs; flags 0 keeps the kernel's default
         * audit logging (ABI 7) of denials. */
        if (rp_landlock_restrict_self(fd, 0) < 0)
                return log_error_errno(negative_errno(), "landlock: cannot enforce the ruleset");

        record_enforced(e, abi, &attr, rs.n_path_rules);
        return 0;
}

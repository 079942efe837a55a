/* SPDX-License-Identifier: MIT */
/* The parser jail: see parser-jail.h. */
#include "parser-jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <openssl/evp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macro.h"
#include "missing.h"
#include "profile.h"
#include "unpack.h"

#define LL(x) LANDLOCK_ACCESS_FS_##x

static int fail(char *why, size_t whylen, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(char *why, size_t whylen, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
        return r;
}

static void release_ctx(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

int xfer_parser_filter_build(struct seccomp_program *out, struct jail_error *err) {
        /* What xfer_unpack(), xfer_manifest_write() (stdio), glibc's malloc
         * and OpenSSL's SHA-256 need, once OpenSSL is initialised. */
        static const char *const allowed[] = {
                "read", "write", "readv", "writev", "close", "fstat", "newfstatat", "statx", "lseek",
                "openat", "openat2", "mkdirat", "unlinkat", "fchmod", "fchmodat", "utimensat", "getdents64",
                "syncfs", "fsync", "fdatasync", "fcntl", "brk", "munmap", "mremap", "madvise", "futex",
                "exit", "exit_group", "rt_sigreturn", "clock_gettime", "getrandom",
        };
        __attribute__((cleanup(release_ctx))) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        int r;

        if (!ctx) {
                (void) snprintf(err->msg, sizeof err->msg, "libseccomp: cannot create a filter");
                return -ENOMEM;
        }
        for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                int nr = seccomp_syscall_resolve_name(allowed[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not on this architecture (fstat on arm64...) */
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0) {
                        (void) snprintf(err->msg, sizeof err->msg, "libseccomp: cannot allow %s: %s", allowed[i],
                                        strerror(-r));
                        return r;
                }
        }
#ifdef __SANITIZE_ADDRESS__
        /* Test builds with AddressSanitizer only: its runtime needs these
         * (thread ids, signal stacks, and LeakSanitizer's tracer at exit).
         * The escape tests know that these builds are weaker. */
        static const char *const sanitizer[] = {
                "gettid", "getpid", "getppid", "sched_yield", "sigaltstack", "rt_sigaction", "rt_sigprocmask",
                "prctl", "readlink", "readlinkat", "clone", "clone3", "ptrace", "wait4", "waitid", "prlimit64",
                "getrlimit", "tgkill", "kill", "pipe2", "sched_getaffinity", "exit",
        };
        for (size_t i = 0; i < ELEMENTSOF(sanitizer); i++) {
                int nr = seccomp_syscall_resolve_name(sanitizer[i]);
                if (nr != __NR_SCMP_ERROR && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
                        return -EINVAL;
        }
#endif
        /* Memory, never executable (mmap, mprotect: no PROT_EXEC). */
        static const char *const mem[] = { "mmap", "mprotect" };
        for (size_t i = 0; i < ELEMENTSOF(mem); i++) {
                int nr = seccomp_syscall_resolve_name(mem[i]);
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
                if (r < 0) {
                        (void) snprintf(err->msg, sizeof err->msg, "libseccomp: cannot allow %s: %s", mem[i],
                                        strerror(-r));
                        return r;
                }
        }
        return seccomp_ctx_export(ctx, out, err);
}

static int landlock_staging_only(int staging_fd, char *why, size_t whylen) {
        int abi = rp_landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
        if (abi < 1)
                return fail(why, whylen, -EOPNOTSUPP, "Landlock is not available: the parser cannot be confined");
        uint64_t handled = LL(EXECUTE) | LL(WRITE_FILE) | LL(READ_FILE) | LL(READ_DIR) | LL(REMOVE_DIR) |
                           LL(REMOVE_FILE) | LL(MAKE_CHAR) | LL(MAKE_DIR) | LL(MAKE_REG) | LL(MAKE_SOCK) |
                           LL(MAKE_FIFO) | LL(MAKE_BLOCK) | LL(MAKE_SYM);
        if (abi >= 2)
                handled |= LL(REFER);
        if (abi >= 3)
                handled |= LL(TRUNCATE);
        if (abi >= 5)
                handled |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
        struct rp_landlock_ruleset_attr attr = { .handled_access_fs = handled };
        size_t size = sizeof attr.handled_access_fs;
        if (abi >= 4) {
                attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
                size += sizeof attr.handled_access_net;
        }
        if (abi >= 6) {
                attr.scoped = RP_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | RP_LANDLOCK_SCOPE_SIGNAL;
                size += sizeof attr.scoped;
        }
        _cleanup_close_ int rs = rp_landlock_create_ruleset(&attr, size, 0);
        if (rs < 0)
                return fail(why, whylen, negative_errno(), "Landlock: cannot create the ruleset: %m");
        /* Below the staging directory: create, write, read back, remove
         * (to empty it on error).  No execute, no device, fifo, socket or
         * symbolic link, no ioctl, no rename across (REFER). */
        struct landlock_path_beneath_attr pb = {
                .allowed_access = handled & (LL(WRITE_FILE) | LL(READ_FILE) | LL(READ_DIR) | LL(REMOVE_DIR) |
                                             LL(REMOVE_FILE) | LL(MAKE_DIR) | LL(MAKE_REG) | LL(TRUNCATE)),
                .parent_fd = staging_fd,
        };
        if (rp_landlock_add_rule(rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
                return fail(why, whylen, negative_errno(), "Landlock: cannot add the staging rule: %m");
        if (rp_landlock_restrict_self(rs, 0) < 0)
                return fail(why, whylen, negative_errno(), "Landlock: cannot restrict the parser: %m");
        return 0;
}

int xfer_parser_enter(const struct seccomp_program *filter, uid_t uid, gid_t gid, uint64_t max_bytes, char *why,
                      size_t whylen) {
        int r;

        if (uid == 0 || gid == 0)
                return fail(why, whylen, -EPERM, "the parser never runs as root");
        /* OpenSSL loads its providers on first use: do it now, while files
         * can still be read. */
        uint8_t md[32];
        unsigned mdlen;
        if (EVP_Digest("", 0, md, &mdlen, EVP_sha256(), NULL) != 1)
                return fail(why, whylen, -EIO, "OpenSSL: SHA-256 is not available");

        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return fail(why, whylen, negative_errno(), "cannot become uid %u: %m", (unsigned) uid);
        uid_t ru, eu, su;
        if (getresuid(&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid || setresuid(0, 0, 0) == 0)
                return fail(why, whylen, -EPERM, "the parser could not drop root");
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return fail(why, whylen, negative_errno(), "prctl: %m");

        struct rlimit nofile = { 128, 128 }, core = { 0, 0 }, nproc = { 0, 0 };
        rlim_t fsz = max_bytes >= (uint64_t) RLIM_INFINITY - 1 ? RLIM_INFINITY : (rlim_t) max_bytes + 1;
        struct rlimit fsize = { fsz, fsz };
        if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_CORE, &core) < 0 ||
            setrlimit(RLIMIT_NPROC, &nproc) < 0 || setrlimit(RLIMIT_FSIZE, &fsize) < 0)
                return fail(why, whylen, negative_errno(), "setrlimit: %m");

        r = landlock_staging_only(3, why, whylen);
        if (r < 0)
                return r;
        r = seccomp_program_load(filter);
        if (r < 0)
                return fail(why, whylen, r, "cannot load the seccomp filter: %s", strerror(-r));
        return 0;
}

/* The child: never returns. */
_noreturn_ static void parser_main(const struct seccomp_program *filter, const struct xfer_parser_args *a, int out_fd) {
        char why[XFER_ERROR_MAX];
        _cleanup_(xfer_manifest_freep) struct xfer_manifest *m = NULL;
        int devnull, r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        (void) prctl(PR_SET_NAME, XFER_PARSER_COMM, 0, 0, 0);
        /* Descriptors: 0 stream, 1 manifest, 2 /dev/null, 3 staging. */
        /* First out of the way of 0..3, whatever numbers they had. */
        int in = fcntl(a->stream_fd, F_DUPFD_CLOEXEC, 10), st = fcntl(a->staging_fd, F_DUPFD_CLOEXEC, 10),
            o = fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (in < 0 || st < 0 || o < 0 || devnull < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(devnull, 2) < 0 ||
            dup2(st, 3) < 0)
                _exit(125);
        if (syscall(SYS_close_range, 4U, ~0U, 0) < 0)
                _exit(125);
        /* Blocking, whatever the daemon used. */
        for (int fd = 0; fd <= 3; fd++) {
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, 0) < 0)
                        _exit(125);
        }
        FILE *out = fdopen(1, "w");
        if (!out)
                _exit(125);
        r = xfer_parser_enter(filter, a->uid, a->gid, a->limits.max_bytes, why, sizeof why);
        if (r >= 0)
                r = xfer_unpack(0, 3, &a->limits, &m, why, sizeof why);
        if (r >= 0) {
                r = xfer_manifest_write(m, out);
                if (r >= 0 && fputs("END\n", out) < 0)
                        r = -EIO;
                if (fflush(out) != 0)
                        r = -EIO;
                _exit(r < 0 ? 1 : 0);
        }
        (void) fprintf(out, "ERR %d %s\n", -r, why);
        (void) fflush(out);
        _exit(1);
}

int xfer_parser_spawn(const struct seccomp_program *filter, const struct xfer_parser_args *a, pid_t *pid,
                      int *manifest_fd) {
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pid_t child = fork();
        if (child < 0) {
                int r = negative_errno();
                (void) close(p[0]);
                (void) close(p[1]);
                return r;
        }
        if (child == 0) {
                (void) close(p[0]);
                parser_main(filter, a, p[1]);
        }
        (void) close(p[1]);
        *pid = child;
        *manifest_fd = p[0];
        return 0;
}

/* SPDX-License-Identifier: MIT */
/* The seccomp filter.
 *
 * Deny-list mode (the default) allows everything except the calls below,
 * which answer with an errno.  Allow-list mode answers every call with an
 * errno except the profile's list.  In both modes:
 *   - only the native architecture is in the filter; any other (i386 via
 *     int 0x80, x32 on x86_64) kills the whole process;
 *   - clone3 answers ENOSYS: its flags live in memory a filter cannot read,
 *     so libc is made to fall back to clone, whose flags can be checked;
 *   - clone may not create namespaces, ioctl may not push input into a
 *     terminal (TIOCSTI, TIOCLINUX) and personality may only be queried or
 *     reset, whatever else is allowed.
 *
 * The filter is compiled in the parent (so a bad name is a profile error
 * before anything starts) and handed to the child as plain BPF: the child
 * only calls prctl(PR_SET_SECCOMP) and then execve. */
#include "seccomp-filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <seccomp.h> /* libseccomp */

#include "fileio.h"
#include "macro.h"
#include "missing.h"

#define ERRNO_MAX 4095 /* the kernel treats larger return values as addresses */

const char *const seccomp_default_denylist[] = {
        /* Loading or replacing kernel code.  Needs CAP_SYS_MODULE or
         * CAP_SYS_BOOT, which the jail drops: the filter is the second wall. */
        "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
        /* Whole-system state no confined program owns: power, swap, process
         * accounting, disk quotas, the kernel log, the terminal hangup. */
        "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup",
        /* The system clock (the jail may have a time namespace, but those
         * only offset the monotonic and boot clocks, never the wall clock).
         * Read-only adjtimex() queries are lost too, a rare need in a jail. */
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
        /* Large kernel attack surface with a long exploit history: eBPF,
         * perf events, io_uring, and userfaultfd (used to widen race windows
         * in kernel exploits). */
        "bpf", "perf_event_open", "io_uring_setup", "io_uring_enter", "io_uring_register",
        "userfaultfd",
        /* Kernel keyrings are not namespaced: keys would be shared with the
         * host user of the same uid. */
        "keyctl", "add_key", "request_key",
        /* Reaching into other processes: their memory, their descriptors, the
         * comparison of kernel objects (a KASLR-style oracle), their NUMA
         * placement. */
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
        "migrate_pages", "move_pages",
        /* Changing the mount tree, the old and the new mount API (an
         * unprivileged user namespace would otherwise allow it). */
        "mount", "umount2", "fsopen", "fsconfig", "fsmount", "fspick", "open_tree",
        "open_tree_attr", "move_mount", "mount_setattr", "pivot_root", "chroot",
        /* Creating or entering namespaces: the jail's layout is final once the
         * command runs (clone's namespace flags are handled separately). */
        "unshare", "setns",
        /* Opening a file from a handle bypasses the path walk, and so the
         * mount layout (the classic container escape).  name_to_handle_at
         * stays: a handle is useless without this call. */
        "open_by_handle_at",
        /* Raw port I/O and LDT segments (x86 only, absent elsewhere). */
        "iopl", "ioperm", "modify_ldt",
        /* Obsolete interfaces nobody needs and that only add surface. */
        "uselib", "ustat", "sysfs", "nfsservctl", "lookup_dcookie",
        /* Watching whole mounts or filesystems. */
        "fanotify_init",
        NULL,
};
/* Deliberately not on the list: socket families (the network namespace and
 * capabilities decide; only AF_VSOCK, which escapes both, is denied below), mbind/set_mempolicy/get_mempolicy (a process's own
 * memory; NUMA-aware runtimes use them), and the landlock calls (a program
 * may confine itself further). */

/* What the runtime calls between loading the filter and the command's first
 * instruction: execve (execveat when started from a descriptor), and on
 * failure write() of the message then exit_group().  exit is there for the
 * same reason as exit_group: a process or thread must be able to end. */
static const char *const runtime_calls[] = {
        "execve", "execveat", "write", "exit", "exit_group", NULL,
};
/* Denying these makes the command impossible to start or to end. */
static const char *const undeniable_calls[] = { "execve", "exit", "exit_group", NULL };

/* Calls that libseccomp 2.5.4 does not know by name.  From number 424 on,
 * every architecture shares one numbering (alpha and mips excepted), so the
 * table is only used on the architectures we build for. */
static int fallback_syscall_nr(const char *name) {
#if (defined(__x86_64__) && !defined(__ILP32__)) || defined(__aarch64__) || \
        (defined(__riscv) && __riscv_xlen == 64)
        static const struct {
                const char *name;
                int nr;
        } table[] = {
                { "futex_wake", 454 },        { "futex_wait", 455 },
                { "futex_requeue", 456 },     { "statmount", 457 },
                { "listmount", 458 },         { "lsm_get_self_attr", 459 },
                { "lsm_set_self_attr", 460 }, { "lsm_list_modules", 461 },
                { "mseal", 462 },             { "setxattrat", 463 },
                { "getxattrat", 464 },        { "listxattrat", 465 },
                { "removexattrat", 466 },     { "open_tree_attr", 467 },
                { "file_getattr", 468 },      { "file_setattr", 469 },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (strcmp(table[i].name, name) == 0)
                        return table[i].nr;
#endif
        return -1;
}

/* The native number of a call: >= 0, -ENOENT when the name is known but the
 * native architecture has no such call (nothing to filter), -EINVAL when the
 * name is unknown. */
int seccomp_syscall_number(const char *name) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr >= 0 || nr != __NR_SCMP_ERROR)
                return nr >= 0 ? nr : -ENOENT;
        nr = fallback_syscall_nr(name);
        return nr >= 0 ? nr : -EINVAL;
}

static int resolve_syscall(const char *name) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr >= 0)
                return nr;
        if (nr != __NR_SCMP_ERROR)
                return -ENOENT; /* libseccomp pseudo-number: not on this architecture */
        nr = fallback_syscall_nr(name);
        return nr >= 0 ? nr : -EINVAL;
}

static bool in_list(const char *const *list, const char *name) {
        for (; *list; list++)
                if (strcmp(*list, name) == 0)
                        return true;
        return false;
}

static int fail(struct jail_error *err, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(struct jail_error *err, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

/* A name from the profile: NUL-terminated within its field, known. */
static int resolve_profile_name(const char name[32], int *ret, struct jail_error *err) {
        *ret = -ENOENT;
        if (!memchr(name, 0, 32))
                return fail(err, -EINVAL, "system call name too long");
        int nr = resolve_syscall(name);
        if (nr == -EINVAL)
                return fail(err, -EINVAL, "unknown system call '%s'", name);
        *ret = nr;
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const char *name, unsigned n,
                    const struct scmp_arg_cmp *cmp, struct jail_error *err) {
        int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);
        if (r < 0)
                return fail(err, r, "libseccomp: cannot add a rule for '%s': %s", name, strerror(-r));
        return 0;
}

/* Add `action` rules matching argument `arg` of nr whenever its low 32 bits
 * are neither a nor b.  libseccomp offers no masked "not equal" and at most
 * one comparison per argument and rule, so the set is written as a union of
 * masked-equal tests:
 *   - for each bit where a and b agree: the argument has the other value;
 *   - on the bits D where they differ, x must be neither a's pattern nor its
 *     complement (b's), i.e. x^a on D is neither all zeroes nor all ones,
 *     i.e. for some pair of neighbours in D (taken cyclically) x differs from
 *     a on the first and agrees on the second: one two-bit test per bit.
 * The masks never cover the high 32 bits: the kernel takes these arguments
 * as unsigned int, so high garbage must not change the verdict
 * (CVE-2017-5226 / CVE-2023-28100 for TIOCSTI). */
static int add_rules_low32_not_pair(scmp_filter_ctx ctx, uint32_t action, int nr, const char *name,
                                    unsigned arg, uint32_t a, uint32_t b, struct jail_error *err) {
        uint32_t diff = a ^ b;
        unsigned dbits[32], nd = 0;
        int r;

        for (unsigned i = 0; i < 32; i++) {
                uint32_t bit = UINT32_C(1) << i;
                if (diff & bit) {
                        dbits[nd++] = i;
                        continue;
                }
                struct scmp_arg_cmp cmp = SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, bit, ~a & bit);
                r = add_rule(ctx, action, nr, name, 1, &cmp, err);
                if (r < 0)
                        return r;
        }
        /* With a single differing bit, every value agreeing elsewhere is a or b. */
        for (unsigned k = 0; nd >= 2 && k < nd; k++) {
                uint32_t first = UINT32_C(1) << dbits[k], second = UINT32_C(1) << dbits[(k + 1) % nd];
                struct scmp_arg_cmp cmp =
                        SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, first | second, (~a & first) | (a & second));
                r = add_rule(ctx, action, nr, name, 1, &cmp, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* clone's flags argument: clone(newsp, flags, ...) on s390, first elsewhere. */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif
/* CLONE_NEWTIME is absent on purpose: for clone() that bit belongs to the
 * exit signal; time namespaces come only from clone3 and unshare. */
static const uint64_t clone_ns_flags[] = {
        CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};

/* Deny-list mode: the argument guards as errno rules. */
static int add_guards_deny(scmp_filter_ctx ctx, uint32_t deny, struct jail_error *err) {
        int r;

        /* clone: any namespace flag.  The kernel only reads the low 32 bits
         * and every flag lies there, so high bits cannot hide one. */
        for (size_t i = 0; i < ELEMENTSOF(clone_ns_flags); i++) {
                struct scmp_arg_cmp cmp =
                        SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, clone_ns_flags[i], clone_ns_flags[i]);
                r = add_rule(ctx, deny, SCMP_SYS(clone), "clone", 1, &cmp, err);
                if (r < 0)
                        return r;
        }
        /* ioctl: faking terminal input, which reaches whatever reads the
         * terminal outside the jail.  Compared on the low 32 bits only. */
        static const uint32_t tty_requests[] = { TIOCSTI, TIOCLINUX };
        for (size_t i = 0; i < ELEMENTSOF(tty_requests); i++) {
                struct scmp_arg_cmp cmp = SCMP_CMP(1, SCMP_CMP_MASKED_EQ, 0xffffffffU, tty_requests[i]);
                r = add_rule(ctx, deny, SCMP_SYS(ioctl), "ioctl", 1, &cmp, err);
                if (r < 0)
                        return r;
        }
        /* socket(AF_VSOCK): a channel to the hypervisor that no network
         * namespace contains (found by the escape battery). */
        {
                struct scmp_arg_cmp cmp = SCMP_CMP(0, SCMP_CMP_MASKED_EQ, 0xffffffffU, AF_VSOCK);
                r = add_rule(ctx, deny, SCMP_SYS(socket), "socket", 1, &cmp, err);
                if (r < 0)
                        return r;
        }
        /* personality: only the query (0xffffffff) and PER_LINUX (0).  Other
         * values weaken the next exec (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE). */
        return add_rules_low32_not_pair(ctx, deny, SCMP_SYS(personality), "personality", 0, 0,
                                        0xffffffffU, err);
}

/* Allow-list mode: allow one call, with the same guards as allow rules. */
static int allow_call(scmp_filter_ctx ctx, int nr, const char *name, struct jail_error *err) {
        if (nr == SCMP_SYS(clone)) {
                uint64_t all = 0;
                for (size_t i = 0; i < ELEMENTSOF(clone_ns_flags); i++)
                        all |= clone_ns_flags[i];
                struct scmp_arg_cmp cmp = SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, all, 0);
                return add_rule(ctx, SCMP_ACT_ALLOW, nr, name, 1, &cmp, err);
        }
        if (nr == SCMP_SYS(ioctl))
                return add_rules_low32_not_pair(ctx, SCMP_ACT_ALLOW, nr, name, 1, TIOCSTI, TIOCLINUX, err);
        if (nr == SCMP_SYS(socket)) /* every family but AF_VSOCK (a == b: "not equal") */
                return add_rules_low32_not_pair(ctx, SCMP_ACT_ALLOW, nr, name, 0, AF_VSOCK, AF_VSOCK, err);
        if (nr == SCMP_SYS(personality)) {
                static const uint32_t ok[] = { 0, 0xffffffffU };
                for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                        struct scmp_arg_cmp cmp = SCMP_CMP(0, SCMP_CMP_MASKED_EQ, 0xffffffffU, ok[i]);
                        int r = add_rule(ctx, SCMP_ACT_ALLOW, nr, name, 1, &cmp, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        return add_rule(ctx, SCMP_ACT_ALLOW, nr, name, 0, NULL, err);
}

static int build_denylist(scmp_filter_ctx ctx, const struct jail_profile *p, uint32_t deny,
                          struct jail_error *err) {
        int r;

        for (const char *const *n = seccomp_default_denylist; *n; n++) {
                /* Absent on this architecture, or too new for libseccomp and
                 * the fallback table here: nothing to deny.  (The unit test
                 * checks that every name resolves on x86_64.) */
                int nr = resolve_syscall(*n);
                if (nr < 0)
                        continue;
                r = add_rule(ctx, deny, nr, *n, 0, NULL, err);
                if (r < 0)
                        return r;
        }
        r = add_guards_deny(ctx, deny, err);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < p->n_seccomp_deny; i++) {
                int nr;
                r = resolve_profile_name(p->seccomp_deny[i], &nr, err);
                if (r < 0)
                        return r;
                if (nr == -ENOENT || nr == SCMP_SYS(clone3)) /* absent here / already ENOSYS */
                        continue;
                r = add_rule(ctx, deny, nr, p->seccomp_deny[i], 0, NULL, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int build_allowlist(scmp_filter_ctx ctx, const struct jail_profile *p, struct jail_error *err) {
        int denied[JAIL_MAX_SYSCALLS] = { 0 }; /* the first n_seccomp_deny are used */
        int r;

        /* The deny entries are still checked, then simply never allowed. */
        for (unsigned i = 0; i < p->n_seccomp_deny; i++) {
                r = resolve_profile_name(p->seccomp_deny[i], &denied[i], err);
                if (r < 0)
                        return r;
        }
        unsigned n_runtime = ELEMENTSOF(runtime_calls) - 1;
        for (unsigned i = 0; i < p->n_seccomp_allow + n_runtime; i++) {
                bool from_profile = i < p->n_seccomp_allow;
                const char *name = from_profile ? p->seccomp_allow[i] : runtime_calls[i - p->n_seccomp_allow];
                int nr;

                if (from_profile) {
                        r = resolve_profile_name(name, &nr, err);
                        if (r < 0)
                                return r;
                } else {
                        nr = resolve_syscall(name);
                        if (nr == -EINVAL)
                                return fail(err, -EINVAL, "unknown system call '%s' needed by the runtime", name);
                }
                /* clone3 stays ENOSYS even when listed: see the top of the file. */
                if (nr == -ENOENT || nr == SCMP_SYS(clone3))
                        continue;
                bool is_denied = false;
                for (unsigned j = 0; j < p->n_seccomp_deny && !is_denied; j++)
                        is_denied = denied[j] == nr;
                if (is_denied)
                        continue;
                r = allow_call(ctx, nr, name, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_profile(const struct jail_profile *p, struct jail_error *err) {
        if (p->seccomp_mode != JAIL_SECCOMP_DENYLIST && p->seccomp_mode != JAIL_SECCOMP_ALLOWLIST)
                return fail(err, -EINVAL, "invalid seccomp mode %d", (int) p->seccomp_mode);
        if (p->seccomp_errno < 1 || p->seccomp_errno > ERRNO_MAX)
                return fail(err, -EINVAL, "seccomp errno %d out of range (1-%d)", p->seccomp_errno, ERRNO_MAX);
        if (p->n_seccomp_allow > JAIL_MAX_SYSCALLS || p->n_seccomp_deny > JAIL_MAX_SYSCALLS)
                return fail(err, -E2BIG, "too many system calls listed (at most %d)", JAIL_MAX_SYSCALLS);
        for (unsigned i = 0; i < p->n_seccomp_deny; i++)
                if (memchr(p->seccomp_deny[i], 0, sizeof p->seccomp_deny[i]) &&
                    in_list(undeniable_calls, p->seccomp_deny[i]))
                        return fail(err, -EINVAL,
                                    "system call '%s' cannot be denied: the command could not start or end",
                                    p->seccomp_deny[i]);
        return 0;
}

static int build_ctx(const struct jail_profile *p, scmp_filter_ctx *ret, struct jail_error *err) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        bool allowlist = p->seccomp_mode == JAIL_SECCOMP_ALLOWLIST;
        int r;

        r = check_profile(p, err);
        if (r < 0)
                return r;
        uint32_t deny = SCMP_ACT_ERRNO((uint32_t) p->seccomp_errno);

        /* seccomp_init() puts the native architecture only in the filter. */
        ctx = seccomp_init(allowlist ? deny : SCMP_ACT_ALLOW);
        if (!ctx)
                return fail(err, -ENOMEM, "libseccomp: cannot create a filter");
        /* Any other architecture kills the process: i386 calls through
         * int 0x80 and, on x86_64, x32 calls (libseccomp sends numbers with
         * the x32 bit to this action when x32 is not in the filter). */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return fail(err, r, "libseccomp: cannot set the bad-architecture action: %s", strerror(-r));
        /* A binary search on the call number instead of a linear scan.  Only
         * an optimisation: the filter is the same without it. */
        (void) seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

        /* With an allow-list answering ENOSYS, clone3 needs no rule (libseccomp
         * refuses rules equal to the default action). */
        if (!(allowlist && p->seccomp_errno == ENOSYS)) {
                r = add_rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), "clone3", 0, NULL, err);
                if (r < 0)
                        return r;
        }
        r = allowlist ? build_allowlist(ctx, p, err) : build_denylist(ctx, p, deny, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ctx);
        return 0;
}

int seccomp_ctx_export(scmp_filter_ctx ctx, struct seccomp_program *out, struct jail_error *err) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ struct sock_filter *insns = NULL;
        int r;

        out->insns = NULL;
        out->len = 0;
        /* libseccomp 2.5 exports to a descriptor only: use an anonymous file. */
        fd = memfd_create("rempart-seccomp", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
        if (fd < 0 && errno == EINVAL) /* kernel older than 6.3 */
                fd = memfd_create("rempart-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return fail(err, negative_errno(), "cannot create a memfd for the seccomp filter: %m");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return fail(err, r, "libseccomp: cannot export the filter: %s", strerror(-r));
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return fail(err, negative_errno(), "cannot size the seccomp filter: %m");
        if (size == 0 || (size_t) size % sizeof(struct sock_filter) != 0 ||
            (size_t) size > BPF_MAXINSNS * sizeof(struct sock_filter))
                return fail(err, -E2BIG,
                            "seccomp filter of %jd bytes is empty, truncated or too large (at most %d instructions)",
                            (intmax_t) size, BPF_MAXINSNS);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return fail(err, negative_errno(), "cannot rewind the seccomp filter: %m");
        insns = malloc((size_t) size);
        if (!insns)
                return fail(err, -ENOMEM, "out of memory");
        r = read_exact(fd, insns, (size_t) size);
        if (r < 0)
                return fail(err, r, "cannot read the seccomp filter back: %s", strerror(-r));

        out->insns = TAKE_PTR(insns);
        out->len = (size_t) size / sizeof(struct sock_filter);
        return 0;
}

int seccomp_build(const struct jail_profile *p, struct seccomp_program *out, struct jail_error *err) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        out->insns = NULL;
        out->len = 0;
        r = build_ctx(p, &ctx, err);
        if (r < 0)
                return r;
        return seccomp_ctx_export(ctx, out, err);
}

int seccomp_write_pfc(const struct jail_profile *p, int fd, struct jail_error *err) {
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        r = build_ctx(p, &ctx, err);
        if (r < 0)
                return r;
        r = seccomp_export_pfc(ctx, fd);
        if (r < 0)
                return fail(err, r, "libseccomp: cannot export the filter as text: %s", strerror(-r));
        return 0;
}

int seccomp_program_load(const struct seccomp_program *prog) {
        if (!prog || !prog->insns || prog->len == 0 || prog->len > BPF_MAXINSNS)
                return -EINVAL;
        struct sock_fprog fprog = {
                .len = (unsigned short) prog->len,
                .filter = prog->insns,
        };
        /* Not seccomp(2) with TSYNC: the command's process has one thread. */
        if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
                return negative_errno();
        return 0;
}

void seccomp_program_free(struct seccomp_program *prog) {
        if (!prog)
                return;
        free(prog->insns);
        prog->insns = NULL;
        prog->len = 0;
}

/* SPDX-License-Identifier: MIT */
/* Probes on privileged or attack-surface system calls: keyrings, bpf, perf,
 * userfaultfd, io_uring, modules, kexec, reboot, swap, accounting, port I/O,
 * personality, kernel log, time, hostname, hangup, and foreign syscall ABIs.
 *
 * Where success would change the host, the arguments are invalid in a way
 * the kernel only looks at after its permission check (documented per
 * probe): that errno means ALLOWED, EPERM means DENIED. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/klog.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>

#include "probe.h"

#define KEYCTL_GET_KEYRING_ID_ 0
#define KEY_SPEC_SESSION_KEYRING_ (-3)
#define KEY_SPEC_PROCESS_KEYRING_ (-2)
#define SYSLOG_ACTION_SIZE_BUFFER_ 10
#define X32_SYSCALL_BIT 0x40000000L
#define I386_NR_GETPID 20
#define INVALID_FLAG 0x80000000UL

static void probe_keyctl(const struct probe_ctx *ctx, struct probe_result *r) {
        long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID_, KEY_SPEC_SESSION_KEYRING_, 0);
        judge(r, id, 0, "keyctl(KEYCTL_GET_KEYRING_ID) answered");
}

/* A key in the process keyring, which dies with this probe's child. */
static void probe_add_key(const struct probe_ctx *ctx, struct probe_result *r) {
        long id = syscall(SYS_add_key, "user", "rempart-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING_);
        judge(r, id, 0, "add_key created a key");
}

static void probe_bpf_map_create(const struct probe_ctx *ctx, struct probe_result *r) {
        union bpf_attr a;
        long fd;

        memset(&a, 0, sizeof(a));
        a.map_type = BPF_MAP_TYPE_ARRAY;
        a.key_size = 4;
        a.value_size = 4;
        a.max_entries = 1;
        fd = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
        if (fd >= 0)
                (void) close((int) fd);
        judge(r, fd, 0, "created a BPF map");
}

static void probe_bpf_prog_load(const struct probe_ctx *ctx, struct probe_result *r) {
        /* r0 = 0; exit */
        struct bpf_insn insns[2] = {
                { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
                { .code = BPF_JMP | BPF_EXIT },
        };
        union bpf_attr a;
        long fd;

        memset(&a, 0, sizeof(a));
        a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
        a.insns = (__u64) (unsigned long) insns;
        a.insn_cnt = 2;
        a.license = (__u64) (unsigned long) "GPL";
        fd = syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
        if (fd >= 0)
                (void) close((int) fd);
        judge(r, fd, 0, "loaded a BPF program");
}

/* A user-space-only software counter on ourselves: allowed unprivileged
 * by perf_event_paranoid <= 2, so only a filter refuses it. */
static void probe_perf_event_open(const struct probe_ctx *ctx, struct probe_result *r) {
        struct perf_event_attr a;
        long fd;

        memset(&a, 0, sizeof(a));
        a.size = sizeof(a);
        a.type = PERF_TYPE_SOFTWARE;
        a.config = PERF_COUNT_SW_CPU_CLOCK;
        a.disabled = 1;
        a.exclude_kernel = 1;
        a.exclude_hv = 1;
        fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
        if (fd >= 0)
                (void) close((int) fd);
        judge(r, fd, 0, "opened a perf event");
}

static void probe_userfaultfd(const struct probe_ctx *ctx, struct probe_result *r) {
        long fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);

        if (fd >= 0)
                (void) close((int) fd);
        judge(r, fd, 0, "created a userfaultfd");
}

static void probe_io_uring_setup(const struct probe_ctx *ctx, struct probe_result *r) {
        struct io_uring_params p;
        long fd;

        memset(&p, 0, sizeof(p));
        fd = syscall(SYS_io_uring_setup, 1, &p);
        if (fd >= 0)
                (void) close((int) fd);
        judge(r, fd, 0, "created an io_uring");
}

/* Bad descriptor: EBADF after CAP_SYS_MODULE. */
static void probe_finit_module(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, syscall(SYS_finit_module, -1, "", 0), EBADF, "finit_module");
}

/* Unknown module: ENOENT after CAP_SYS_MODULE. */
static void probe_delete_module(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, syscall(SYS_delete_module, "rempart_probe_no_such_module", O_NONBLOCK), ENOENT,
              "delete_module");
}

/* Too many segments and an unknown flag: EINVAL after CAP_SYS_BOOT (both
 * are checked before anything is read, and 0 segments is never passed, as
 * that would unload a loaded image). */
static void probe_kexec_load(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, syscall(SYS_kexec_load, 0UL, 0xffffUL, NULL, INVALID_FLAG), EINVAL, "kexec_load");
}

static void probe_kexec_file_load(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, syscall(SYS_kexec_file_load, -1, -1, 0UL, "", INVALID_FLAG), EINVAL, "kexec_file_load");
}

/* Wrong magic numbers: EINVAL after CAP_SYS_BOOT. */
static void probe_reboot(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, syscall(SYS_reboot, 0, 0, 0, NULL), EINVAL, "reboot");
}

static void missing_path(const struct probe_ctx *ctx, char *buf, size_t size) {
        (void) snprintf(buf, size, "%s/no-such-file", ctx->workdir[0] ? ctx->workdir : "/nonexistent-rempart");
}

/* A path that does not exist: ENOENT after CAP_SYS_ADMIN. */
static void probe_swapon(const struct probe_ctx *ctx, struct probe_result *r) {
        char p[PATH_MAX];
        missing_path(ctx, p, sizeof(p));
        judge(r, syscall(SYS_swapon, p, 0), ENOENT, "swapon");
}

static void probe_swapoff(const struct probe_ctx *ctx, struct probe_result *r) {
        char p[PATH_MAX];
        missing_path(ctx, p, sizeof(p));
        judge(r, syscall(SYS_swapoff, p), ENOENT, "swapoff");
}

/* A path that does not exist: ENOENT after CAP_SYS_PACCT. */
static void probe_acct(const struct probe_ctx *ctx, struct probe_result *r) {
        char p[PATH_MAX];
        missing_path(ctx, p, sizeof(p));
        judge(r, syscall(SYS_acct, p), ENOENT, "acct");
}

/* Port I/O rights for this disposable child only; no port is touched. */
static void probe_iopl(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, syscall(SYS_iopl, 3), 0, "iopl(3) granted");
}

static void probe_ioperm(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, syscall(SYS_ioperm, 0x80UL, 1UL, 1), 0, "ioperm(0x80) granted");
}

static void set_persona(unsigned long flag, const char *what, struct probe_result *r) {
        long rc = syscall(SYS_personality, PER_LINUX | flag);

        if (rc >= 0 && syscall(SYS_personality, 0xffffffffUL) != (long) (PER_LINUX | flag))
                set_result(r, PROBE_DENIED, "personality unchanged");
        else
                judge(r, rc, 0, what);
}

static void probe_personality_rie(const struct probe_ctx *ctx, struct probe_result *r) {
        set_persona(READ_IMPLIES_EXEC, "personality(READ_IMPLIES_EXEC) set", r);
}

static void probe_personality_norandom(const struct probe_ctx *ctx, struct probe_result *r) {
        set_persona(ADDR_NO_RANDOMIZE, "personality(ADDR_NO_RANDOMIZE) set", r);
}

static void probe_syslog_read(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, klogctl(SYSLOG_ACTION_SIZE_BUFFER_, NULL, 0), 0, "syslog(2) answered");
}

/* Both pointers NULL: the kernel checks CAP_SYS_TIME, then has nothing to
 * set and returns 0. */
static void probe_settimeofday(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, syscall(SYS_settimeofday, NULL, NULL), 0, "settimeofday passed the CAP_SYS_TIME check");
}

/* ADJ_TICK with an absurd tick: EINVAL after CAP_SYS_TIME. */
static void probe_adjtimex_tick(const struct probe_ctx *ctx, struct probe_result *r) {
        struct timex tx;

        memset(&tx, 0, sizeof(tx));
        tx.modes = ADJ_TICK;
        tx.tick = 1;
        judge(r, syscall(SYS_adjtimex, &tx), EINVAL, "adjtimex");
}

/* 65 bytes is one more than a hostname may have: EINVAL after
 * CAP_SYS_ADMIN. */
static void probe_sethostname(const struct probe_ctx *ctx, struct probe_result *r) {
        char name[65];

        memset(name, 'x', sizeof(name));
        judge(r, syscall(SYS_sethostname, name, sizeof(name)), EINVAL, "sethostname");
}

/* vhangup in a new session (no controlling terminal): it passes the
 * CAP_SYS_TTY_CONFIG check and has nothing to hang up. */
static int do_vhangup(void *arg) {
        if (setsid() < 0)
                return errno;
        return syscall(SYS_vhangup) < 0 ? errno : 0;
}

static void probe_vhangup(const struct probe_ctx *ctx, struct probe_result *r) {
        int e = in_grandchild(do_vhangup, NULL);

        if (e < 0)
                set_result(r, PROBE_ERROR, "grandchild: %s", errname(-e));
        else
                judge_err(r, e == 0 ? 0 : -1, e, 0, "vhangup passed the CAP_SYS_TTY_CONFIG check");
}

/* The i386 ABI through int $0x80: the jail's filter kills the process. */
static void probe_i386_int80(const struct probe_ctx *ctx, struct probe_result *r) {
        long ret;

        __asm__ volatile("int $0x80" : "=a"(ret) : "a"((long) I386_NR_GETPID) : "memory", "r8", "r9", "r10", "r11");
        if (ret == (long) getpid())
                set_result(r, PROBE_ALLOWED, "i386 getpid() through int $0x80 answered");
        else if (ret < 0 && ret > -4096)
                judge_err(r, -1, (int) -ret, 0, "");
        else
                set_result(r, PROBE_ERROR, "int $0x80 returned %ld", ret);
}

/* The x32 ABI (syscall number | 0x40000000). */
static void probe_x32_syscall(const struct probe_ctx *ctx, struct probe_result *r) {
        long rc = syscall(X32_SYSCALL_BIT | SYS_getpid);
        judge(r, rc, 0, "x32 getpid() answered");
}

const struct probe probes_kernel[] = {
        { "keyctl", probe_keyctl, "keyctl(KEYCTL_GET_KEYRING_ID)", 0, false },
        { "add_key", probe_add_key, "add_key to the process keyring", 0, false },
        { "bpf_map_create", probe_bpf_map_create, "bpf(BPF_MAP_CREATE)", 0, false },
        { "bpf_prog_load", probe_bpf_prog_load, "bpf(BPF_PROG_LOAD) socket filter", 0, false },
        { "perf_event_open", probe_perf_event_open, "perf_event_open (software, self, user only)", 0, false },
        { "userfaultfd", probe_userfaultfd, "userfaultfd(UFFD_USER_MODE_ONLY)", 0, false },
        { "io_uring_setup", probe_io_uring_setup, "io_uring_setup", 0, false },
        { "finit_module", probe_finit_module, "finit_module(-1) (EBADF past the check)", 0, false },
        { "delete_module", probe_delete_module, "delete_module (unknown: ENOENT past the check)", 0, false },
        { "kexec_load", probe_kexec_load, "kexec_load (bad args: EINVAL past the check)", 0, false },
        { "kexec_file_load", probe_kexec_file_load, "kexec_file_load (bad flag: EINVAL past the check)", 0, false },
        { "reboot", probe_reboot, "reboot (bad magic: EINVAL past the check)", 0, false },
        { "swapon", probe_swapon, "swapon (missing file: ENOENT past the check)", 0, false },
        { "swapoff", probe_swapoff, "swapoff (missing file: ENOENT past the check)", 0, false },
        { "acct", probe_acct, "acct (missing file: ENOENT past the check)", 0, false },
        { "iopl", probe_iopl, "iopl(3)", 0, false },
        { "ioperm", probe_ioperm, "ioperm(0x80)", 0, false },
        { "personality_rie", probe_personality_rie, "personality(READ_IMPLIES_EXEC)", 0, false },
        { "personality_norandom", probe_personality_norandom, "personality(ADDR_NO_RANDOMIZE)", 0, false },
        { "syslog_read", probe_syslog_read, "syslog(2) (kernel log)", 0, false },
        { "settimeofday", probe_settimeofday, "settimeofday(NULL, NULL) (no change past the check)", 0, false },
        { "adjtimex_tick", probe_adjtimex_tick, "adjtimex(ADJ_TICK) (bad tick: EINVAL past the check)", 0, false },
        { "sethostname", probe_sethostname, "sethostname (65 bytes: EINVAL past the check)", 0, false },
        { "vhangup", probe_vhangup, "vhangup (no tty: nothing to hang up)", 0, false },
        { "i386_int80", probe_i386_int80, "i386 syscall through int $0x80", 0, false },
        { "x32_syscall", probe_x32_syscall, "x32 syscall", 0, false },
        { NULL, NULL, NULL, 0, false },
};

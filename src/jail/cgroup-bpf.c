/* SPDX-License-Identifier: MIT */
/* The jail's device policy: a BPF_PROG_TYPE_CGROUP_DEVICE program attached to
 * the jail's cgroup.  The kernel runs it on every open(2) of a device node
 * and every mknod(2) of one by a task of the cgroup (on the cgroup v2
 * hierarchy, also on hybrid hosts); it returns 1 to allow, 0 to deny
 * (EPERM).
 *
 * The program is emitted as raw instructions rather than compiled from C so
 * that the build needs no clang/libbpf and the whole policy is visible here:
 *
 *         r2 = ctx->access_type            (access << 16 | type)
 *         r3 = r2 & 0xffff                 type: BPF_DEVCG_DEV_CHAR/BLOCK
 *         r2 >>= 16                        access: BPF_DEVCG_ACC_*
 *         r4 = ctx->major, r5 = ctx->minor
 *         if r2 & ~(READ|WRITE) goto deny  never mknod
 *     for each allowed device:
 *         if r3 != type  goto next
 *         if r4 != major goto next
 *         if r5 != minor goto next
 *         return 1
 *     next:
 *     deny:
 *         return 0
 */
#include "cgroup.h"
#include "cgroup-bpf.h"

#include <assert.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"

#define PROLOGUE_INSNS 7
#define PER_DEVICE_INSNS 5
#define EPILOGUE_INSNS 2
#define MAX_INSNS (PROLOGUE_INSNS + PER_DEVICE_INSNS * JAIL_MAX_DEVICES + EPILOGUE_INSNS)
#define VERIFIER_LOG_SIZE ((size_t) 64 << 10)
#define VERIFIER_LOG_MAX_LINES 80

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        return (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/* dst = *(u32 *)(r1 + off): the context is always in r1 at entry. */
static struct bpf_insn ld_ctx_u32(uint8_t dst, size_t off) {
        return insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, (int16_t) off, 0);
}

/* Entries that validation could not resolve (an optional node absent on the
 * host) keep 0:0; the kernel never consults the device cgroup for rdev 0,
 * so there is nothing to allow. */
static bool device_resolved(const struct jail_device *d) {
        return d->major != 0 || d->minor != 0 || d->any_minor;
}

int cgroup_device_prog_build(const struct jail_device *devs, unsigned n, struct bpf_insn *out, size_t max) {
        size_t k = 0, total, i = 0;

        if (!out || (n > 0 && !devs))
                return -EINVAL;
        for (unsigned d = 0; d < n; d++) {
                if (!device_resolved(&devs[d]))
                        continue;
                /* Compared as sign-extended 32-bit immediates. */
                if (devs[d].major > INT32_MAX || devs[d].minor > INT32_MAX)
                        return -EINVAL;
                k++;
        }
        /* Checked before multiplying so the total cannot wrap; also keeps the
         * forward jump to "deny" within the 16-bit branch offset. */
        if (k > (INT16_MAX - PROLOGUE_INSNS - EPILOGUE_INSNS) / PER_DEVICE_INSNS)
                return -E2BIG;
        total = PROLOGUE_INSNS + PER_DEVICE_INSNS * k + EPILOGUE_INSNS;
        if (total > max)
                return -E2BIG;

        const size_t deny = total - EPILOGUE_INSNS;

        out[i++] = ld_ctx_u32(BPF_REG_2, offsetof(struct bpf_cgroup_dev_ctx, access_type));
        out[i++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
        out[i++] = insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff);
        out[i++] = insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);
        out[i++] = ld_ctx_u32(BPF_REG_4, offsetof(struct bpf_cgroup_dev_ctx, major));
        out[i++] = ld_ctx_u32(BPF_REG_5, offsetof(struct bpf_cgroup_dev_ctx, minor));
        /* Any access bit other than read/write (today: mknod) is denied, even
         * for listed devices: the jail gets the host's nodes bound in and has
         * no business creating new ones. */
        out[i] = insn(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_2, 0, (int16_t) (deny - i - 1),
                      ~(int32_t) (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE));
        i++;

        for (unsigned d = 0; d < n; d++) {
                const struct jail_device *dev = &devs[d];

                if (!device_resolved(dev))
                        continue;
                out[i++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 4,
                                dev->is_block ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
                out[i++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, 3, (int32_t) dev->major);
                if (dev->any_minor) /* "ja +0": keeps every entry PER_DEVICE_INSNS long */
                        out[i++] = insn(BPF_JMP | BPF_JA, 0, 0, 0, 0);
                else
                        out[i++] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 2, (int32_t) dev->minor);
                out[i++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
                out[i++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        }

        out[i++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
        out[i++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return (int) i;
}

static int sys_bpf(int cmd, union bpf_attr *attr) {
        return (int) syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int prog_load(const struct bpf_insn *insns, unsigned count, char *log, size_t log_size) {
        union bpf_attr a;
        int fd;

        memset(&a, 0, sizeof a);
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t) (uintptr_t) insns;
        a.insn_cnt = count;
        /* The program calls no helper, so the license string has no effect;
         * the kernel only requires one to be present. */
        a.license = (uint64_t) (uintptr_t) "MIT";
        /* Shows up in bpftool/fdinfo, so an administrator can tell what is
         * attached to a jail's cgroup. */
        static_assert(sizeof "rempart_devices" <= sizeof a.prog_name, "BPF_OBJ_NAME_LEN");
        memcpy(a.prog_name, "rempart_devices", sizeof "rempart_devices");
        if (log) {
                a.log_buf = (uint64_t) (uintptr_t) log;
                a.log_size = (uint32_t) log_size;
                a.log_level = 1;
        }
        /* The verifier may ask to be retried (EAGAIN) under memory pressure;
         * bounded, like any retry here. */
        for (unsigned attempt = 0;; attempt++) {
                fd = sys_bpf(BPF_PROG_LOAD, &a);
                if (fd >= 0 || (errno != EAGAIN && errno != EINTR) || attempt >= 4)
                        break;
        }
        return fd < 0 ? negative_errno() : fd;
}

/* Reload with a log buffer and print what the verifier said: a rejected
 * program is a bug in the builder above, and the log is the only way to
 * see why. */
static void log_verifier(const struct bpf_insn *insns, unsigned count) {
        _cleanup_free_ char *log = calloc(1, VERIFIER_LOG_SIZE);
        char *line, *save = NULL;
        unsigned lines = 0;
        int fd;

        if (!log)
                return;
        fd = prog_load(insns, count, log, VERIFIER_LOG_SIZE);
        if (fd >= 0) {
                /* Accepted on the second try (transient failure): nothing to show. */
                (void) close(fd);
                return;
        }
        log[VERIFIER_LOG_SIZE - 1] = '\0';
        for (line = strtok_r(log, "\n", &save); line && lines < VERIFIER_LOG_MAX_LINES;
             line = strtok_r(NULL, "\n", &save), lines++)
                log_error("cgroup: verifier: %s", line);
}

int cgroup_device_prog_attach(int cgroup_fd, const struct jail_device *devs, unsigned n) {
        struct bpf_insn insns[MAX_INSNS];
        _cleanup_close_ int prog = -1;
        union bpf_attr a;
        int count;

        if (cgroup_fd < 0)
                return -EBADF;
        count = cgroup_device_prog_build(devs, n, insns, ELEMENTSOF(insns));
        if (count < 0)
                return log_error_errno(count, "cgroup: cannot build the device program");

        prog = prog_load(insns, (unsigned) count, NULL, 0);
        if (prog < 0) {
                int r = prog;

                /* EPERM/ENOSYS/EINVAL (no CAP_BPF, no bpf(2), no cgroup BPF
                 * in this kernel) say nothing about the program itself. */
                if (r == -EACCES || r == -EINVAL)
                        log_verifier(insns, (unsigned) count);
                return log_error_errno(r, "cgroup: cannot load the device program");
        }

        /* ALLOW_MULTI: a nested runtime inside the jail may attach programs of
         * its own below this cgroup, and the kernel then runs ours as well
         * (a device must be allowed by every program), so the policy can only
         * be narrowed from inside, never replaced. */
        memset(&a, 0, sizeof a);
        a.target_fd = (uint32_t) cgroup_fd;
        a.attach_bpf_fd = (uint32_t) prog;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
                return log_error_errno(negative_errno(), "cgroup: cannot attach the device program");

        return take_fd(&prog);
}

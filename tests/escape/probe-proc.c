/* SPDX-License-Identifier: MIT */
/* Probes on processes, namespaces and credentials: seeing, signalling and
 * tracing a host process, creating or joining namespaces, regaining root or
 * capabilities, and the resource limits (pids, memory).
 *
 * Each probe runs in its own disposable child, so credential and namespace
 * changes that succeed (outside the jail) die with it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define NOBODY 65534

static bool need_host_pid(const struct probe_ctx *ctx, struct probe_result *r) {
        if (ctx->host_pid)
                return true;
        set_result(r, PROBE_SKIP, "no --host-pid");
        return false;
}

static void probe_see_host_pid(const struct probe_ctx *ctx, struct probe_result *r) {
        char p[64];
        struct stat st;

        if (!need_host_pid(ctx, r))
                return;
        (void) snprintf(p, sizeof(p), "/proc/%d", (int) ctx->host_pid);
        judge_visible(r, stat(p, &st), "host process visible in /proc");
}

static void probe_signal_host_pid(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!need_host_pid(ctx, r))
                return;
        judge_visible(r, kill(ctx->host_pid, 0), "kill(host pid, 0) succeeded");
}

static void probe_pidfd_host_pid(const struct probe_ctx *ctx, struct probe_result *r) {
        long fd;

        if (!need_host_pid(ctx, r))
                return;
        fd = syscall(SYS_pidfd_open, ctx->host_pid, 0);
        judge_visible(r, fd, "pidfd_open(host pid) succeeded");
}

/* PTRACE_SEIZE does not stop the tracee; our exit detaches. */
static void probe_ptrace_host_pid(const struct probe_ctx *ctx, struct probe_result *r) {
        if (!need_host_pid(ctx, r))
                return;
        judge_visible(r, ptrace(PTRACE_SEIZE, ctx->host_pid, NULL, NULL), "attached to the host process");
}

static void probe_ptrace_child(const struct probe_ctx *ctx, struct probe_result *r) {
        pid_t pid = fork();
        long rc;

        if (pid < 0) {
                set_result(r, PROBE_ERROR, "fork: %s", errname(errno));
                return;
        }
        if (pid == 0) {
                (void) pause();
                _exit(0);
        }
        rc = ptrace(PTRACE_SEIZE, pid, NULL, NULL);
        judge(r, rc, 0, "attached to our own child");
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
}

static void probe_process_vm_readv(const struct probe_ctx *ctx, struct probe_result *r) {
        static const char src[] = "rempart";
        char dst[sizeof(src)];
        struct iovec local = { dst, sizeof(dst) }, remote = { (void *) (uintptr_t) src, sizeof(src) };
        ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

        judge(r, n, 0, "read memory with process_vm_readv");
}

static void do_setns(const char *path, int type, struct probe_result *r) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                judge_visible(r, -1, "");
                append_detail(r, " (%s)", path);
                return;
        }
        judge(r, setns(fd, type), 0, "");
        if (r->status == PROBE_ALLOWED)
                set_result(r, PROBE_ALLOWED, "joined %s", path);
        (void) close(fd);
}

static void probe_setns_host_net(const struct probe_ctx *ctx, struct probe_result *r) {
        char p[64];

        if (!need_host_pid(ctx, r))
                return;
        (void) snprintf(p, sizeof(p), "/proc/%d/ns/net", (int) ctx->host_pid);
        do_setns(p, CLONE_NEWNET, r);
}

static void probe_setns_self(const struct probe_ctx *ctx, struct probe_result *r) {
        do_setns("/proc/self/ns/uts", CLONE_NEWUTS, r);
}

static void probe_userns_caps(const struct probe_ctx *ctx, struct probe_result *r) {
        char buf[4096];
        const char *eff;

        if (unshare(CLONE_NEWUSER) < 0) {
                judge(r, -1, 0, "");
                return;
        }
        eff = read_small("/proc/self/status", buf, sizeof(buf)) > 0 ? strstr(buf, "CapEff:\t") : NULL;
        set_result(r, PROBE_ALLOWED, "new user namespace, CapEff %.16s", eff ? eff + 8 : "?");
}

static void probe_unshare_mnt(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, unshare(CLONE_NEWNS), 0, "new mount namespace");
}

static void probe_unshare_net(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, unshare(CLONE_NEWNET), 0, "new network namespace");
}

/* Raw clone(2) with a namespace flag (what glibc's clone() does). */
static void raw_clone(unsigned long flags, const char *what, struct probe_result *r) {
        long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);

        if (pid == 0)
                _exit(0);
        if (pid > 0)
                (void) waitpid((pid_t) pid, NULL, 0);
        judge(r, pid, 0, what);
}

static void probe_clone_newns(const struct probe_ctx *ctx, struct probe_result *r) {
        raw_clone(CLONE_NEWNS, "clone(CLONE_NEWNS) created a process", r);
}

static void probe_clone_newuser(const struct probe_ctx *ctx, struct probe_result *r) {
        raw_clone(CLONE_NEWUSER, "clone(CLONE_NEWUSER) created a process", r);
}

/* clone3 takes its flags in memory, out of seccomp's reach: the jail
 * answers ENOSYS so that libc falls back to clone(2), which is filtered. */
static void probe_clone3(const struct probe_ctx *ctx, struct probe_result *r) {
        struct {
                uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        } args = { .exit_signal = SIGCHLD };
        long pid = syscall(SYS_clone3, &args, sizeof(args));

        if (pid == 0)
                _exit(0);
        if (pid > 0)
                (void) waitpid((pid_t) pid, NULL, 0);
        if (pid < 0 && errno == ENOSYS)
                set_result(r, PROBE_DENIED, "ENOSYS");
        else
                judge(r, pid, 0, "clone3 created a process");
}

/* Drop to nobody if we are root (outside), then run the setuid-root copy
 * of ourselves, which prints its effective uid. */
static void probe_setuid_binary(const struct probe_ctx *ctx, struct probe_result *r) {
        char *const argv[] = { "rempart-probe", "--print-euid", NULL };
        char out[32] = "";
        int pfd[2], st;
        ssize_t n;

        if (!ctx->suid) {
                set_result(r, PROBE_SKIP, "no --suid");
                return;
        }
        if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                               setresuid(NOBODY, NOBODY, NOBODY) < 0)) {
                set_result(r, PROBE_ERROR, "cannot drop to uid %d: %s", NOBODY, errname(errno));
                return;
        }
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                set_result(r, PROBE_ERROR, "pipe: %s", errname(errno));
                return;
        }
        st = spawn_wait(AT_FDCWD, ctx->suid, argv, 0, pfd[1]);
        (void) close(pfd[1]);
        n = read(pfd[0], out, sizeof(out) - 1);
        (void) close(pfd[0]);
        if (st < 0) {
                judge_err(r, -1, -st, 0, "");
                return;
        }
        if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                set_result(r, PROBE_ERROR, "setuid copy failed (status 0x%x)", (unsigned) st);
                return;
        }
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
        if (strcmp(out, "0") == 0)
                set_result(r, PROBE_ALLOWED, "uid %u ran a setuid binary with euid 0", (unsigned) getuid());
        else
                set_result(r, PROBE_DENIED, "setuid bit ignored (euid %s)", out);
}

/* Becoming root again.  Outside, the probe is root, so this succeeds by
 * definition (uid 0 / CAP_SETUID is what it tests for); inside, real,
 * effective and saved ids are all 65534 and CAP_SETUID is gone, so no id
 * is left to switch back to. */
static void probe_setuid0(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, setresuid(0, 0, 0), 0, "became uid 0");
}

static void probe_setgid0(const struct probe_ctx *ctx, struct probe_result *r) {
        judge(r, setresgid(0, 0, 0), 0, "became gid 0");
}

static void probe_setgroups_root(const struct probe_ctx *ctx, struct probe_result *r) {
        gid_t g = 0;
        judge(r, setgroups(1, &g), 0, "joined supplementary group 0");
}

static void probe_capset_raise(const struct probe_ctx *ctx, struct probe_result *r) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct d[2];

        if (syscall(SYS_capget, &h, d) < 0) {
                set_result(r, PROBE_ERROR, "capget: %s", errname(errno));
                return;
        }
        d[0].effective |= 1U << CAP_SYS_ADMIN;
        d[0].permitted |= 1U << CAP_SYS_ADMIN;
        judge(r, syscall(SYS_capset, &h, d), 0, "raised CAP_SYS_ADMIN");
}

/* Clearing the exec/no-root securebits: EPERM when they are locked. */
static void probe_securebits_clear(const struct probe_ctx *ctx, struct probe_result *r) {
        int before = prctl(PR_GET_SECUREBITS);
        judge(r, prctl(PR_SET_SECUREBITS, 0UL), 0, "");
        if (r->status == PROBE_ALLOWED)
                set_result(r, PROBE_ALLOWED, "securebits 0x%x cleared", (unsigned) before);
}

/* Raising a hard limit needs CAP_SYS_RESOURCE: lower it by one (always
 * allowed), then raise it back. */
static void probe_rlimit_raise(const struct probe_ctx *ctx, struct probe_result *r) {
        struct rlimit orig, low;

        if (getrlimit(RLIMIT_NOFILE, &orig) < 0 || orig.rlim_max == RLIM_INFINITY || orig.rlim_max < 2) {
                set_result(r, PROBE_ERROR, "unusable RLIMIT_NOFILE");
                return;
        }
        low.rlim_max = orig.rlim_max - 1;
        low.rlim_cur = orig.rlim_cur > low.rlim_max ? low.rlim_max : orig.rlim_cur;
        if (setrlimit(RLIMIT_NOFILE, &low) < 0) {
                set_result(r, PROBE_ERROR, "lowering RLIMIT_NOFILE: %s", errname(errno));
                return;
        }
        judge(r, setrlimit(RLIMIT_NOFILE, &orig), 0, "raised a hard RLIMIT_NOFILE");
}

static void probe_rt_priority(const struct probe_ctx *ctx, struct probe_result *r) {
        struct sched_param sp = { .sched_priority = 1 }, other = { .sched_priority = 0 };
        int rc = sched_setscheduler(0, SCHED_FIFO, &sp);

        judge(r, rc, 0, "switched to SCHED_FIFO");
        if (rc == 0)
                (void) sched_setscheduler(0, SCHED_OTHER, &other); /* only for the moment left */
}

/* Fork up to --pids children (each pauses), then kill them all.
 * Contained = fork fails with EAGAIN before the count is reached. */
static void probe_fork_bomb(const struct probe_ctx *ctx, struct probe_result *r) {
        pid_t *kids = calloc(ctx->pids ? ctx->pids : 1, sizeof(pid_t));
        unsigned n = 0;
        int err = 0;

        if (!kids) {
                set_result(r, PROBE_ERROR, "out of memory");
                return;
        }
        while (n < ctx->pids) {
                pid_t pid = fork();
                if (pid == 0) {
                        (void) pause();
                        _exit(0);
                }
                if (pid < 0) {
                        err = errno;
                        break;
                }
                kids[n++] = pid;
        }
        for (unsigned i = 0; i < n; i++)
                (void) kill(kids[i], SIGKILL);
        for (unsigned i = 0; i < n; i++)
                (void) waitpid(kids[i], NULL, 0);
        free(kids);
        if (n == ctx->pids)
                set_result(r, PROBE_ALLOWED, "forked %u processes", n);
        else if (err == EAGAIN)
                set_result(r, PROBE_DENIED, "contained: fork failed with EAGAIN after %u of %u", n, ctx->pids);
        else
                set_result(r, PROBE_ERROR, "fork failed after %u: %s", n, errname(err));
}

/* Allocate and touch --mem-mib MiB in a grandchild.  Contained = the
 * grandchild is OOM-killed or cannot get the memory. */
static void probe_memory_hog(const struct probe_ctx *ctx, struct probe_result *r) {
        size_t size = (size_t) ctx->mem_mib << 20;
        int st;
        pid_t pid = fork();

        if (pid < 0) {
                set_result(r, PROBE_ERROR, "fork: %s", errname(errno));
                return;
        }
        if (pid == 0) {
                char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        _exit(errno == ENOMEM ? 3 : 4);
                for (size_t off = 0; off < size; off += 4096)
                        p[off] = 1;
                _exit(0);
        }
        if (waitpid(pid, &st, 0) < 0) {
                set_result(r, PROBE_ERROR, "waitpid: %s", errname(errno));
                return;
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                set_result(r, PROBE_ALLOWED, "allocated and touched %u MiB", ctx->mem_mib);
        else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
                set_result(r, PROBE_DENIED, "contained: killed by SIGKILL (OOM) before %u MiB", ctx->mem_mib);
        else if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
                set_result(r, PROBE_DENIED, "contained: mmap of %u MiB failed with ENOMEM", ctx->mem_mib);
        else
                set_result(r, PROBE_ERROR, "allocating child ended with status 0x%x", (unsigned) st);
}

const struct probe probes_proc[] = {
        { "see_host_pid", probe_see_host_pid, "see the host process in /proc", 0, false },
        { "signal_host_pid", probe_signal_host_pid, "kill(host pid, 0)", 0, false },
        { "pidfd_host_pid", probe_pidfd_host_pid, "pidfd_open(host pid)", 0, false },
        { "ptrace_host_pid", probe_ptrace_host_pid, "PTRACE_SEIZE the host process", 0, false },
        { "ptrace_child", probe_ptrace_child, "PTRACE_SEIZE our own child", 0, false },
        { "process_vm_readv", probe_process_vm_readv, "process_vm_readv on ourselves", 0, false },
        { "setns_host_net", probe_setns_host_net, "setns into the host process's network namespace", 0, false },
        { "setns_self", probe_setns_self, "setns into our own UTS namespace", 0, false },
        { "userns_caps", probe_userns_caps, "unshare(CLONE_NEWUSER) and gain its capabilities", 0, false },
        { "unshare_mnt", probe_unshare_mnt, "unshare(CLONE_NEWNS)", 0, false },
        { "unshare_net", probe_unshare_net, "unshare(CLONE_NEWNET)", 0, false },
        { "clone_newns", probe_clone_newns, "clone(CLONE_NEWNS)", 0, false },
        { "clone_newuser", probe_clone_newuser, "clone(CLONE_NEWUSER)", 0, false },
        { "clone3", probe_clone3, "clone3 (must be ENOSYS)", 0, false },
        { "setuid_binary", probe_setuid_binary, "gain euid 0 through a setuid-root binary", 0, false },
        { "setuid0", probe_setuid0, "setresuid(0, 0, 0)", 0, false },
        { "setgid0", probe_setgid0, "setresgid(0, 0, 0)", 0, false },
        { "setgroups_root", probe_setgroups_root, "setgroups({0})", 0, false },
        { "capset_raise", probe_capset_raise, "capset: raise CAP_SYS_ADMIN", 0, false },
        { "securebits_clear", probe_securebits_clear, "PR_SET_SECUREBITS 0", 0, false },
        { "rlimit_raise", probe_rlimit_raise, "raise a hard rlimit", 0, false },
        { "rt_priority", probe_rt_priority, "sched_setscheduler(SCHED_FIFO)", 0, false },
        { "fork_bomb", probe_fork_bomb, "fork --pids children (pids.max containment)", 30, false },
        { "memory_hog", probe_memory_hog, "allocate and touch --mem-mib MiB (memory.max containment)", 60, true },
        { NULL, NULL, NULL, 0, false },
};

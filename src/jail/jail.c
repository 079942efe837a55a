/* SPDX-License-Identifier: MIT */
/* jail_run(): the ordered executor.  Everything that can fail because of
 * the profile or the host is done before the command starts; the child
 * reports each failing step back to the parent over a pipe, so that a
 * failure names what went wrong and the command never runs half-confined.
 *
 * Parent:  cgroup + limits -> clone3 -> id maps -> "go" -> [seccomp build,
 *          BPF device program]  (in parallel with the child's setup)
 *          -> reads ENFORCED -> strict check -> "run" + filter -> supervise
 * Child:   hostname, lo -> time ns -> mounts + pivot_root -> rlimits ->
 *          securebits, ids, caps, NNP, MDWE -> Landlock -> ENFORCED ->
 *          waits for "run" -> fork command, then reap
 * Command: setsid -> env -> fds -> unblock signals -> seccomp -> execve
 *
 * The expensive parent work (libseccomp compilation, BPF verification)
 * overlaps the child's namespace and mount work; nothing inside the jail
 * opens a device or runs foreign code before "run". */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "creds.h"
#include "fileio.h"
#include "init.h"
#include "jail.h"
#include "landlock.h"
#include "log.h"
#include "macro.h"
#include "missing.h"
#include "mounts.h"
#include "seccomp-filter.h"
#include "jail-spawn.h"

enum msg_type {
        MSG_ENFORCED = 1, /* setup complete, command about to start */
        MSG_SETUP_FAILED, /* step + errno: nothing was started */
        MSG_STRICT,       /* strict mode refused: step lists what is missing */
        MSG_EXEC_FAILED,  /* the command could not be executed */
};

struct jail_msg {
        int type;
        int err;
        char step[512];
        struct jail_enforced enforced;
};

/* Parent -> child, after ENFORCED: start the command with this filter. */
struct run_msg {
        uint32_t magic;
        uint32_t n_insns; /* 0: no seccomp filter */
};
#define RUN_MAGIC 0x52554e21U /* "RUN!" */
#define MAX_FILTER_INSNS 4096 /* BPF_MAXINSNS */

struct child_ctx {
        const struct jail_profile *p;
        char *const *argv;
        struct seccomp_program prog; /* received from the parent */
        char **env;                  /* the command's environment, built by init */
        int status_fd; /* write end, O_CLOEXEC */
        int sync_fd;   /* read end */
        int netns_fd;
        struct jail_enforced e;
};

static _Noreturn void child_fail(struct child_ctx *c, int type, int err, const char *step) {
        struct jail_msg m = { .type = type, .err = err };

        (void) snprintf(m.step, sizeof m.step, "%s", step);
        (void) write_all(c->status_fd, &m, sizeof m);
        _exit(type == MSG_EXEC_FAILED ? (err == ENOENT ? JAIL_EXIT_NOENT : JAIL_EXIT_NOEXEC) : JAIL_EXIT_SETUP);
}

static int loopback_up(void) {
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = { .ifr_name = "lo" };

        if (fd < 0)
                return negative_errno();
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return negative_errno();
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return negative_errno();
        return 0;
}

static int setup_timens(const struct jail_profile *p) {
        char buf[128];

        if (unshare(CLONE_NEWTIME) < 0)
                return negative_errno();
        (void) snprintf(buf, sizeof buf, "monotonic %lld 0\nboottime %lld 0\n", (long long) p->time_offset_monotonic,
                        (long long) p->time_offset_boottime);
        /* Offsets must be written in one go, before any process enters. */
        return write_string_at(AT_FDCWD, "/proc/self/timens_offsets", buf);
}

/* execvpe() looks PATH up in the caller's environment, not in envp: do the
 * lookup in the jail's own environment instead. */
static int exec_command(char *const argv[], char **env) {
        const char *path = NULL;
        int last = ENOENT;

        if (strchr(argv[0], '/')) {
                execve(argv[0], argv, env);
                return negative_errno();
        }
        for (char **e = env; *e; e++)
                if (strncmp(*e, "PATH=", 5) == 0)
                        path = *e + 5;
        if (!path)
                path = "/usr/bin:/bin";
        while (*path) {
                char full[JAIL_PATH_MAX * 2];
                size_t n = strcspn(path, ":");

                if (n > 0 && n < JAIL_PATH_MAX) {
                        (void) snprintf(full, sizeof full, "%.*s/%s", (int) n, path, argv[0]);
                        execve(full, argv, env);
                        if (errno != ENOENT && errno != ENOTDIR)
                                last = errno;
                }
                path += n;
                if (*path == ':')
                        path++;
        }
        return -last;
}

static _Noreturn void run_command(struct child_ctx *c) {
        const struct jail_profile *p = c->p;
        sigset_t empty;
        int r;

        if (p->new_session && setsid() < 0)
                child_fail(c, MSG_SETUP_FAILED, errno, "setsid (new session)");
        if (!p->new_session && setpgid(0, 0) < 0)
                child_fail(c, MSG_SETUP_FAILED, errno, "setpgid");
        if (p->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_fail(c, MSG_SETUP_FAILED, errno, "PR_SET_PDEATHSIG");
        r = fds_close_on_exec(p, c->status_fd);
        if (r < 0)
                child_fail(c, MSG_SETUP_FAILED, -r, "closing inherited file descriptors");
        (void) sigemptyset(&empty);
        if (sigprocmask(SIG_SETMASK, &empty, NULL) < 0)
                child_fail(c, MSG_SETUP_FAILED, errno, "signal mask");
        if (c->prog.len > 0) {
                r = seccomp_program_load(&c->prog);
                if (r < 0)
                        child_fail(c, MSG_SETUP_FAILED, -r, "loading the seccomp filter");
        }
        r = exec_command(c->argv, c->env);
        child_fail(c, MSG_EXEC_FAILED, -r, c->argv[0]);
}

static int run_command_fn(void *arg) {
        run_command(arg);
}

/* Start the command.  A vfork-style clone (shared memory, init suspended
 * until the command has executed) skips copying init's page tables, the
 * largest cost of starting the command; init is single-threaded, so
 * nothing else touches the shared memory meanwhile.  A time namespace
 * needs a real fork: a process sharing init's memory cannot live in
 * another time namespace. */
static pid_t spawn_command(struct child_ctx *c) {
        const size_t stack_size = (size_t) 256 * 1024;
        pid_t pid;
        void *stack;

        if (c->p->timens) {
                pid = fork();
                if (pid == 0)
                        run_command(c);
                return pid < 0 ? negative_errno() : pid;
        }
        stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return negative_errno();
        pid = clone(run_command_fn, (char *) stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
        if (pid < 0)
                pid = negative_errno();
        /* CLONE_VFORK: the command has executed or exited, its stack is free. */
        (void) munmap(stack, stack_size);
        return pid;
}

/* Wait for the parent's go-ahead and the seccomp filter.  EOF or anything
 * malformed means no: the command is not started. */
static int receive_run(struct child_ctx *c) {
        struct run_msg rm;
        int r = read_exact(c->sync_fd, &rm, sizeof rm);

        if (r < 0)
                return r;
        if (rm.magic != RUN_MAGIC || rm.n_insns > MAX_FILTER_INSNS || (rm.n_insns == 0 && c->p->seccomp))
                return -EBADMSG;
        if (rm.n_insns == 0)
                return 0;
        c->prog.insns = calloc(rm.n_insns, sizeof c->prog.insns[0]);
        if (!c->prog.insns)
                return -ENOMEM;
        c->prog.len = rm.n_insns;
        return read_exact(c->sync_fd, c->prog.insns, rm.n_insns * sizeof c->prog.insns[0]);
}

static _Noreturn void child_main(struct child_ctx *c) {
        const struct jail_profile *p = c->p;
        struct jail_msg m = { .type = MSG_ENFORCED };
        const char *step = "setup";
        char go;
        char missing[400];
        pid_t cmd;
        int r;

        if (p->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_fail(c, MSG_SETUP_FAILED, errno, "PR_SET_PDEATHSIG");
        /* Wait until the parent has written id maps / moved us into the
         * cgroup; EOF means it died. */
        if (read_exact(c->sync_fd, &go, 1) < 0)
                _exit(JAIL_EXIT_SETUP);

        if (p->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                child_fail(c, MSG_SETUP_FAILED, errno, "becoming root of the user namespace");

        c->e.ns_mount = c->e.ns_pid = c->e.ns_ipc = c->e.ns_uts = c->e.ns_cgroup = FEATURE_ENFORCED;
        /* A joined namespace is shared with whoever else is in it. */
        c->e.ns_net = c->netns_fd >= 0 ? FEATURE_OFF : FEATURE_ENFORCED;
        if (c->netns_fd >= 0)
                enforced_note(&c->e, "net: joined the shared network namespace '%s'", p->netns_name);
        c->e.ns_user = p->userns ? FEATURE_ENFORCED : FEATURE_OFF;

        if (c->netns_fd >= 0) {
                if (setns(c->netns_fd, CLONE_NEWNET) < 0)
                        child_fail(c, MSG_SETUP_FAILED, errno, "joining the network namespace");
                (void) close(c->netns_fd);
        } else if (p->loopback) {
                r = loopback_up();
                if (r < 0)
                        child_fail(c, MSG_SETUP_FAILED, -r, "bringing up the loopback interface");
        }
        if (sethostname(p->hostname, strlen(p->hostname)) < 0)
                child_fail(c, MSG_SETUP_FAILED, errno, "sethostname");

        /* Before the mounts: the offsets are written through the host's
         * /proc, as the jail's own /proc is read-only. */
        if (p->timens) {
                r = setup_timens(p);
                if (r < 0 && p->mode == JAIL_MODE_STRICT)
                        child_fail(c, MSG_SETUP_FAILED, -r, "time namespace");
                c->e.ns_time = r < 0 ? FEATURE_UNAVAILABLE : FEATURE_ENFORCED;
                if (r < 0)
                        enforced_note(&c->e, "time namespace: %s", strerror(-r));
        }

        r = mounts_setup(p, &c->e, &step);
        if (r < 0)
                child_fail(c, MSG_SETUP_FAILED, -r, step);

        r = creds_apply_rlimits(p);
        if (r < 0)
                child_fail(c, MSG_SETUP_FAILED, -r, "setrlimit");
        r = creds_drop(p, &c->e, &step);
        if (r < 0)
                child_fail(c, MSG_SETUP_FAILED, -r, step);
        r = landlock_apply(p, &c->e);
        if (r < 0)
                child_fail(c, MSG_SETUP_FAILED, -r, "Landlock");
        c->e.seccomp = p->seccomp ? FEATURE_ENFORCED : FEATURE_OFF;
        c->e.fds_closed = FEATURE_ENFORCED;

        if (p->mode == JAIL_MODE_STRICT && enforced_missing(&c->e, missing, sizeof missing) > 0)
                child_fail(c, MSG_STRICT, EOPNOTSUPP, missing);

        m.enforced = c->e;
        r = write_all(c->status_fd, &m, sizeof m);
        if (r < 0)
                _exit(JAIL_EXIT_SETUP);
        r = receive_run(c);
        if (r < 0)
                _exit(JAIL_EXIT_SETUP); /* the parent refused or died: nothing runs */

        c->env = env_build(p, environ);
        if (!c->env)
                child_fail(c, MSG_SETUP_FAILED, ENOMEM, "environment");
        cmd = spawn_command(c);
        if (cmd < 0)
                child_fail(c, MSG_SETUP_FAILED, -cmd, "starting the command");
        /* Only the command keeps the status pipe, so that the parent sees
         * EOF exactly when it has executed (or failed to). */
        (void) close(c->status_fd);
        (void) close(c->sync_fd);
        init_reaper_loop(cmd);
}

/* ---- parent side ---- */

/* The jail's init is the jail: if the OOM killer picked it (a memory hog in
 * the jail's cgroup, once the hog is gone the next task is anyone), every
 * process of the jail would die with it.  Exempt it, and only it: this runs
 * once the command has been executed, so the command (and everything it
 * starts) keeps the default score.  Best effort: a failure is logged. */
static void protect_init_from_oom(pid_t init) {
        char path[64];
        _cleanup_close_ int fd = -1;
        (void) snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int) init);
        int r;

        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        r = fd < 0 ? negative_errno() : write_all(fd, "-1000", 5);
        /* EACCES: we lack CAP_SYS_RESOURCE (a container host): nothing to say. */
        if (r < 0 && r != -EACCES)
                log_warning_errno(r, "cannot exempt the jail's init from the OOM killer");
}

static int write_seccomp_export(const char *path, const struct seccomp_program *prog) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

        if (fd < 0)
                return log_error_errno(negative_errno(), "cannot write seccomp filter to %s", path);
        return write_all(fd, prog->insns, prog->len * sizeof prog->insns[0]);
}

static int write_report(const char *path, const struct jail_profile *p, const struct jail_enforced *e) {
        FILE *f;
        int fd, r;

        if (strcmp(path, "-") == 0)
                return report_write_json(stderr, p, e, e->landlock_abi);
        /* Root writes this file: never through a symlink planted there. */
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return log_error_errno(negative_errno(), "cannot write report %s", path);
        f = fdopen(fd, "w");
        if (!f) {
                r = log_error_errno(negative_errno(), "cannot write report %s", path);
                (void) close(fd);
                return r;
        }
        r = report_write_json(f, p, e, e->landlock_abi);
        if (fclose(f) != 0 && r == 0)
                r = negative_errno();
        return r;
}

/* Forward signals until the jail's init exits; returns its wait status. */
static int supervise(int pidfd, const sigset_t *fwd) {
        _cleanup_close_ int sfd = signalfd(-1, fwd, SFD_CLOEXEC);

        for (;;) {
                struct pollfd pfd[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                siginfo_t si = { 0 };

                if (poll(pfd, sfd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (sfd >= 0 && (pfd[1].revents & POLLIN)) {
                        struct signalfd_siginfo ssi;
                        if (read(sfd, &ssi, sizeof ssi) == (ssize_t) sizeof ssi)
                                (void) rp_pidfd_send_signal(pidfd, (int) ssi.ssi_signo, NULL, 0);
                }
                if (pfd[0].revents & (POLLIN | POLLHUP)) {
                        if (waitid(P_PIDFD, (id_t) pidfd, &si, WEXITED) < 0) {
                                if (errno == EINTR)
                                        continue;
                                return negative_errno();
                        }
                        if (si.si_code == CLD_EXITED)
                                return si.si_status & 0xff;
                        return 128 + (si.si_status & 0x7f);
                }
        }
}

/* Compile the profile's filter (and export it when asked).  -EINVAL: the
 * profile is at fault (message printed), other -errno: the host. */
static int build_seccomp(const struct jail_profile *p, const struct jail_run_options *opts,
                         struct seccomp_program *prog) {
        struct jail_error err = { "" };
        int r;

        if (!p->seccomp)
                return 0;
        r = seccomp_build(p, prog, &err);
        if (r < 0) {
                log_error("%s", err.msg[0] ? err.msg : "cannot build the seccomp filter");
                return r == -ENOMEM ? r : -EINVAL;
        }
        if (prog->len == 0 || prog->len > MAX_FILTER_INSNS) {
                log_error("seccomp filter of %zu instructions: out of bounds", prog->len);
                return -E2BIG;
        }
        if (opts->seccomp_export) {
                r = write_seccomp_export(opts->seccomp_export, prog);
                if (r < 0)
                        return r == -EINVAL ? -EIO : r;
        }
        return 0;
}

static int send_run(int fd, const struct seccomp_program *prog) {
        struct run_msg rm = { .magic = RUN_MAGIC, .n_insns = (uint32_t) prog->len };
        int r = write_all(fd, &rm, sizeof rm);

        if (r < 0 || prog->len == 0)
                return r;
        return write_all(fd, prog->insns, prog->len * sizeof prog->insns[0]);
}

static void merge_cgroup_fields(struct jail_enforced *dst, const struct jail_enforced *cg) {
        dst->cgroup = cg->cgroup;
        dst->cg_memory = cg->cg_memory;
        dst->cg_swap = cg->cg_swap;
        dst->cg_pids = cg->cg_pids;
        dst->cg_cpu = cg->cg_cpu;
        dst->cg_io = cg->cg_io;
        dst->cg_devices = cg->cg_devices;
        dst->clone_into_cgroup = cg->clone_into_cgroup;
        memcpy(dst->cgroup_path, cg->cgroup_path, sizeof dst->cgroup_path);
        for (unsigned i = 0; i < cg->n_notes; i++)
                enforced_note(dst, "%s", cg->notes[i]);
}

int jail_run(struct jail_profile *p, char *const argv[], const struct jail_run_options *opts) {
        struct seccomp_program prog = { 0 };
        struct jail_cgroup cg = JAIL_CGROUP_INIT;
        struct jail_enforced parent_e = { 0 };
        struct spawn_result sr = { .pid = -1, .pidfd = -1 };
        _cleanup_close_ int netns_fd = -1;
        int status_pipe[2] = { -1, -1 }, sync_pipe[2] = { -1, -1 };
        sigset_t fwd, old;
        char missing[400], name[64];
        int r, ret = JAIL_EXIT_SETUP;
        struct jail_msg m;

        if (p->net == JAIL_NET_JOIN) {
                char path[JAIL_PATH_MAX + 16];
                (void) snprintf(path, sizeof path, "/run/netns/%s", p->netns_name);
                netns_fd = open(path, O_RDONLY | O_CLOEXEC);
                if (netns_fd < 0) {
                        log_error_errno(negative_errno(), "network namespace %s", path);
                        goto out;
                }
        }
        if (opts->dry_run) {
                r = build_seccomp(p, opts, &prog);
                ret = r == 0 ? 0 : r == -EINVAL ? JAIL_EXIT_USAGE : JAIL_EXIT_SETUP;
                goto out;
        }

        (void) snprintf(name, sizeof name, "jail-%d", (int) getpid());
        r = cgroup_create(p, name, &cg, &parent_e);
        if (r < 0) {
                if (p->mode == JAIL_MODE_STRICT || r != -ENOENT) {
                        log_error_errno(r, "cannot create the jail's cgroup under '%s'", p->cgroup_parent);
                        goto out;
                }
                parent_e.cgroup = FEATURE_UNAVAILABLE;
                enforced_note(&parent_e, "cgroup: no cgroup2 hierarchy on this host");
        }
        if (p->mode == JAIL_MODE_STRICT && enforced_missing(&parent_e, missing, sizeof missing) > 0) {
                log_error("strict mode: the kernel cannot provide: %s", missing);
                goto out;
        }

        if (pipe2(status_pipe, O_CLOEXEC) < 0 || pipe2(sync_pipe, O_CLOEXEC) < 0) {
                log_error_errno(negative_errno(), "pipe");
                goto out;
        }
        init_forwarded_signals(&fwd);
        (void) sigaddset(&fwd, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &fwd, &old) < 0) {
                log_error_errno(negative_errno(), "sigprocmask");
                goto out;
        }
        (void) sigdelset(&fwd, SIGCHLD);

        r = spawn_clone(spawn_namespace_flags(p), cg.dir_fd, &sr);
        if (r < 0) {
                log_error_errno(r, "clone3 (creating the jail's namespaces)");
                goto out_sigmask;
        }
        if (r == 0) {
                struct child_ctx c = {
                        .p = p, .argv = argv,
                        .status_fd = status_pipe[1], .sync_fd = sync_pipe[0], .netns_fd = netns_fd,
                };
                (void) close(status_pipe[0]);
                (void) close(sync_pipe[1]);
                child_main(&c);
        }
        (void) close(status_pipe[1]);
        status_pipe[1] = -1;
        (void) close(sync_pipe[0]);
        sync_pipe[0] = -1;

        if (cg.dir_fd >= 0) {
                parent_e.clone_into_cgroup = sr.into_cgroup ? FEATURE_ENFORCED : FEATURE_PARTIAL;
                if (!sr.into_cgroup) {
                        char pid[16];
                        (void) snprintf(pid, sizeof pid, "%d", (int) sr.pid);
                        r = write_string_at(cg.dir_fd, "cgroup.procs", pid);
                        if (r < 0) {
                                log_error_errno(r, "moving the jail into its cgroup");
                                goto out_kill;
                        }
                        enforced_note(&parent_e, "cgroup: CLONE_INTO_CGROUP refused, moved before start");
                        if (p->mode == JAIL_MODE_STRICT) {
                                log_error("strict mode: the kernel refused CLONE_INTO_CGROUP; nothing was started");
                                goto out_kill;
                        }
                }
        }
        if (p->userns) {
                r = spawn_write_idmaps(p, &sr);
                if (r < 0) {
                        log_error_errno(r, "writing the user namespace id maps");
                        goto out_kill;
                }
        }
        if (write_all(sync_pipe[1], "g", 1) < 0) {
                log_error("the jail's init died before setup");
                goto out_kill;
        }

        /* While the child builds its namespaces and mounts. */
        r = build_seccomp(p, opts, &prog);
        if (r < 0) {
                ret = r == -EINVAL ? JAIL_EXIT_USAGE : JAIL_EXIT_SETUP;
                goto out_kill;
        }
        (void) cgroup_attach_devices(p, &cg, &parent_e);

        r = read_exact(status_pipe[0], &m, sizeof m);
        if (r < 0) {
                log_error("the jail's init died during setup");
                goto out_wait;
        }
        if (m.type == MSG_SETUP_FAILED) {
                log_error("jail setup failed at %s: %s; nothing was started", m.step, strerror(m.err));
                goto out_wait;
        }
        if (m.type == MSG_STRICT) {
                log_error("strict mode: the kernel cannot provide: %s; nothing was started", m.step);
                goto out_wait;
        }
        if (m.type != MSG_ENFORCED) {
                log_error("unexpected message from the jail's init");
                goto out_kill;
        }
        merge_cgroup_fields(&m.enforced, &parent_e);
        if (p->mode == JAIL_MODE_STRICT && enforced_missing(&m.enforced, missing, sizeof missing) > 0) {
                log_error("strict mode: the kernel cannot provide: %s; nothing was started", missing);
                goto out_kill;
        }
        r = send_run(sync_pipe[1], &prog);
        if (r < 0) {
                log_error_errno(r, "the jail's init died before the command could start");
                goto out_kill;
        }
        (void) close(sync_pipe[1]);
        sync_pipe[1] = -1;
        if (opts->report_path)
                (void) write_report(opts->report_path, p, &m.enforced);

        /* EOF: the command was executed; a message: it could not be. */
        r = read_exact(status_pipe[0], &m, sizeof m);
        if (r == 0 && m.type == MSG_EXEC_FAILED) {
                log_error("cannot execute %s: %s", m.step, strerror(m.err));
                ret = m.err == ENOENT ? JAIL_EXIT_NOENT : JAIL_EXIT_NOEXEC;
                (void) supervise(sr.pidfd, &fwd);
                goto out_sigmask;
        }
        if (r == 0 && m.type == MSG_SETUP_FAILED) {
                log_error("jail setup failed at %s: %s; the command was not started", m.step, strerror(m.err));
                (void) supervise(sr.pidfd, &fwd);
                goto out_sigmask;
        }
        (void) close(status_pipe[0]);
        status_pipe[0] = -1;
        protect_init_from_oom(sr.pid);

        r = supervise(sr.pidfd, &fwd);
        ret = r < 0 ? JAIL_EXIT_SETUP : r;
        goto out_sigmask;

out_kill:
        (void) rp_pidfd_send_signal(sr.pidfd, SIGKILL, NULL, 0);
out_wait:
        if (sr.pidfd >= 0) {
                siginfo_t si;
                while (waitid(P_PIDFD, (id_t) sr.pidfd, &si, WEXITED) < 0 && errno == EINTR)
                        ;
        }
out_sigmask:
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
out:
        if (sr.pidfd >= 0)
                (void) close(sr.pidfd);
        for (int i = 0; i < 2; i++) {
                if (status_pipe[i] >= 0)
                        (void) close(status_pipe[i]);
                if (sync_pipe[i] >= 0)
                        (void) close(sync_pipe[i]);
        }
        (void) cgroup_destroy(&cg);
        seccomp_program_free(&prog);
        return ret;
}

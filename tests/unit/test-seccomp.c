/* SPDX-License-Identifier: MIT */
/* The seccomp filter: building it, and its real effect once loaded.
 *
 * Behaviour tests load the filter in a forked child (the test process
 * itself is never filtered) and report through the exit status.  Every
 * denial is paired with a control run of the same call without the filter
 * where that run is harmless, so that a pass cannot come from the call
 * failing for some other reason (the sweep over the whole deny-list uses an
 * errno those calls never return instead).  Controls that need root
 * (creating namespaces) are skipped otherwise; the unit tier runs as root. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* libseccomp, only to turn the deny-list's names into numbers. */
#include <seccomp.h>

#include "seccomp-filter.h"

/* An errno no kernel call below returns by itself, so that seeing it proves
 * the filter answered. */
#define TEST_ERRNO ECHRNG

static struct jail_profile *new_profile(enum jail_seccomp_mode mode, int e) {
        struct jail_profile *p = calloc(1, sizeof *p);
        assert_non_null(p);
        p->seccomp = true;
        p->seccomp_mode = mode;
        p->seccomp_errno = e;
        return p;
}

static void add_name(char list[][32], unsigned *n, const char *name) {
        assert_true(*n < JAIL_MAX_SYSCALLS);
        assert_true(strlen(name) < 32);
        strcpy(list[(*n)++], name);
}

static void build_ok(const struct jail_profile *p, struct seccomp_program *prog) {
        struct jail_error err = { .msg = "" };
        int r = seccomp_build(p, prog, &err);
        if (r < 0)
                print_error("seccomp_build: %s\n", err.msg);
        assert_int_equal(r, 0);
        assert_non_null(prog->insns);
        assert_true(prog->len > 0 && prog->len <= BPF_MAXINSNS);
}

/* ---- running code in a filtered child ---- */

/* Leave a child with the bare system call.  Not _exit() nor a noreturn
 * function: under AddressSanitizer both run runtime code (sigaltstack,
 * mmap) that an allow-list filter refuses. */
static void child_exit(int status) {
        for (;;)
                (void) syscall(SYS_exit_group, status);
}

static void child_fail(int line, const char *what, long r, int e) {
        char buf[512];
        int n = snprintf(buf, sizeof buf, "child check failed at line %d: %s (returned %ld, errno %d)\n",
                         line, what, r, e);
        if (n > 0 && write(STDERR_FILENO, buf, (size_t) n) < 0) {
                /* Nothing else to tell: the exit status says it failed. */
        }
        child_exit(100);
}

#define CHECK(cond)                                   \
        do {                                          \
                if (!(cond))                          \
                        child_fail(__LINE__, #cond, 0, errno); \
        } while (0)
/* The call fails with errno e. */
#define EXPECT_ERRNO(call, e)                                            \
        do {                                                             \
                errno = 0;                                               \
                long r_ = (long) (call);                                 \
                int e_ = errno;                                          \
                if (r_ != -1 || e_ != (e))                               \
                        child_fail(__LINE__, #call " -> " #e, r_, e_);   \
        } while (0)
/* The call does not fail with errno e (succeeds, or fails otherwise). */
#define EXPECT_NOT_ERRNO(call, e)                                        \
        do {                                                             \
                errno = 0;                                               \
                long r_ = (long) (call);                                 \
                int e_ = errno;                                          \
                if (r_ == -1 && e_ == (e))                               \
                        child_fail(__LINE__, #call " -> not " #e, r_, e_); \
        } while (0)

/* Fork; in the child: own session (no controlling terminal, so nothing a
 * call does can reach the test's terminal), no_new_privs, the filter when
 * prog is not NULL, then fn.  Returns the child's wait status. */
static int run_child(const struct seccomp_program *prog, void (*fn)(const void *arg), const void *arg) {
        (void) fflush(NULL); /* or the child would repeat buffered output */
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* cmocka catches these to report a crashing test: in a child
                 * that would resume the test runner instead of dying. */
                static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS };
                for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
                        CHECK(signal(crash_signals[i], SIG_DFL) != SIG_ERR);
                struct rlimit no_core = { 0, 0 }; /* SIGSYS kills would dump core */
                CHECK(setrlimit(RLIMIT_CORE, &no_core) == 0);
                CHECK(setsid() >= 0);
                CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
                if (prog)
                        CHECK(seccomp_program_load(prog) == 0);
                fn(arg);
                child_exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static void assert_child_ok(int status) {
        if (WIFSIGNALED(status))
                print_error("child killed by signal %d\n", WTERMSIG(status));
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static bool is_root(void) {
        return geteuid() == 0;
}

/* ---- building ---- */

static void test_build_default(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct seccomp_program prog;

        build_ok(p, &prog);
        print_message("default deny-list filter: %zu BPF instructions\n", prog.len);
        seccomp_program_free(&prog);
        assert_null(prog.insns);
        assert_int_equal(prog.len, 0);

        p->seccomp_mode = JAIL_SECCOMP_ALLOWLIST; /* only the runtime's own calls */
        build_ok(p, &prog);
        print_message("empty allow-list filter: %zu BPF instructions\n", prog.len);
        seccomp_program_free(&prog);
        free(p);
}

static void test_default_denylist_table(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct seccomp_program prog;
        size_t n = 0;

        for (const char *const *a = seccomp_default_denylist; *a; a++, n++) {
                for (const char *const *b = a + 1; *b; b++)
                        assert_string_not_equal(*a, *b);
                /* Calls every program needs must never be on it. */
                static const char *const needed[] = { "execve", "exit_group", "read", "write", "mmap",
                                                      "clone", "ioctl", "personality", "socket" };
                for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
                        assert_string_not_equal(*a, needed[i]);
                /* Each name is also accepted where a profile lists it. */
                add_name(p->seccomp_deny, &p->n_seccomp_deny, *a);
        }
        assert_true(n >= 40);
        build_ok(p, &prog);
        seccomp_program_free(&prog);
        free(p);
}

static void expect_build_error(const struct jail_profile *p, int r_expected, const char *msg) {
        struct jail_error err = { .msg = "" };
        struct seccomp_program prog = { .insns = (struct sock_filter *) &err, .len = 99 };

        assert_int_equal(seccomp_build(p, &prog, &err), r_expected);
        assert_null(prog.insns);
        assert_int_equal(prog.len, 0);
        if (!strstr(err.msg, msg))
                print_error("message: '%s', expected to contain '%s'\n", err.msg, msg);
        assert_non_null(strstr(err.msg, msg));

        /* The text export builds the same filter and fails the same way. */
        memset(&err, 0, sizeof err);
        assert_int_equal(seccomp_write_pfc(p, -1, &err), r_expected);
        assert_non_null(strstr(err.msg, msg));
}

static void test_unknown_names(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct jail_error err = { .msg = "" };
        struct seccomp_program prog;

        add_name(p->seccomp_deny, &p->n_seccomp_deny, "getppid");
        add_name(p->seccomp_deny, &p->n_seccomp_deny, "foo");
        assert_int_equal(seccomp_build(p, &prog, &err), -EINVAL);
        assert_string_equal(err.msg, "unknown system call 'foo'"); /* the caller adds file and line */

        /* Allow-list mode checks both lists. */
        p->seccomp_mode = JAIL_SECCOMP_ALLOWLIST;
        expect_build_error(p, -EINVAL, "unknown system call 'foo'");
        p->n_seccomp_deny = 0;
        add_name(p->seccomp_allow, &p->n_seccomp_allow, "read");
        add_name(p->seccomp_allow, &p->n_seccomp_allow, "bar");
        expect_build_error(p, -EINVAL, "unknown system call 'bar'");

        /* A name filling its whole field (no terminating NUL). */
        p->n_seccomp_allow = 0;
        p->n_seccomp_deny = 1;
        memset(p->seccomp_deny[0], 'a', sizeof p->seccomp_deny[0]);
        expect_build_error(p, -EINVAL, "too long");

        /* Calls newer than libseccomp 2.5.4 are still known by name. */
        p->n_seccomp_deny = 0;
        add_name(p->seccomp_deny, &p->n_seccomp_deny, "open_tree_attr");
        add_name(p->seccomp_deny, &p->n_seccomp_deny, "mseal");
        for (int mode = JAIL_SECCOMP_DENYLIST; mode <= JAIL_SECCOMP_ALLOWLIST; mode++) {
                p->seccomp_mode = (enum jail_seccomp_mode) mode;
                build_ok(p, &prog);
                seccomp_program_free(&prog);
        }
        free(p);
}

static void test_bad_settings(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);

        /* The runtime starts the command with execve once the filter is in place. */
        add_name(p->seccomp_deny, &p->n_seccomp_deny, "execve");
        expect_build_error(p, -EINVAL, "'execve' cannot be denied");
        p->seccomp_mode = JAIL_SECCOMP_ALLOWLIST;
        expect_build_error(p, -EINVAL, "'execve' cannot be denied");
        p->n_seccomp_deny = 0;

        p->seccomp_errno = 0; /* would fake success */
        expect_build_error(p, -EINVAL, "errno 0 out of range");
        p->seccomp_errno = 4096;
        expect_build_error(p, -EINVAL, "errno 4096 out of range");
        p->seccomp_errno = EPERM;

        p->n_seccomp_allow = JAIL_MAX_SYSCALLS + 1;
        expect_build_error(p, -E2BIG, "too many");
        p->n_seccomp_allow = 0;

        p->seccomp_mode = (enum jail_seccomp_mode) 7;
        expect_build_error(p, -EINVAL, "invalid seccomp mode");
        free(p);
}

static void test_export_pfc(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct jail_error err = { .msg = "" };
        char buf[64 * 1024];

        int fd = memfd_create("test-pfc", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(seccomp_write_pfc(p, fd, &err), 0);
        off_t size = lseek(fd, 0, SEEK_END);
        assert_true(size > 0 && (size_t) size < sizeof buf);
        assert_int_equal(pread(fd, buf, (size_t) size, 0), size);
        buf[size] = '\0';
        assert_non_null(strstr(buf, "action KILL_PROCESS")); /* foreign architectures */
        assert_non_null(strstr(buf, "action ERRNO(38)"));    /* clone3 -> ENOSYS */
        assert_non_null(strstr(buf, "\"bpf\""));
        assert_non_null(strstr(buf, "action ALLOW")); /* the default */
        assert_int_equal(close(fd), 0);
        free(p);
}

static void test_load_rejects_bad_program(void **state) {
        (void) state;
        struct sock_filter insn = { 0 };
        struct seccomp_program prog = { .insns = NULL, .len = 1 };

        assert_int_equal(seccomp_program_load(NULL), -EINVAL);
        assert_int_equal(seccomp_program_load(&prog), -EINVAL);
        prog.insns = &insn;
        prog.len = 0;
        assert_int_equal(seccomp_program_load(&prog), -EINVAL);
        prog.len = BPF_MAXINSNS + 1;
        assert_int_equal(seccomp_program_load(&prog), -EINVAL);
        seccomp_program_free(NULL); /* allowed, like free(NULL) */
}

/* ---- deny-list behaviour ---- */

static void child_namespaces_denied(const void *arg) {
        (void) arg;
        EXPECT_ERRNO(unshare(CLONE_NEWUTS), EPERM);
        EXPECT_ERRNO(setns(-1, 0), EPERM);
        /* Ordinary calls are untouched. */
        CHECK(getpid() > 0);
        EXPECT_ERRNO(close(-1), EBADF);
}
static void child_namespaces_control(const void *arg) {
        (void) arg;
        CHECK(unshare(CLONE_NEWUTS) == 0); /* needs root; private to this child */
        EXPECT_ERRNO(setns(-1, 0), EBADF);
}

static void test_deny_namespaces(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct seccomp_program prog;

        build_ok(p, &prog);
        assert_child_ok(run_child(&prog, child_namespaces_denied, NULL));
        seccomp_program_free(&prog);
        free(p);
        if (!is_root())
                skip(); /* the control creates a UTS namespace: needs root */
        assert_child_ok(run_child(NULL, child_namespaces_control, NULL));
}


static void child_keyctl_ptrace(const void *arg) {
        if (*(const bool *) arg) {
                EXPECT_ERRNO(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0), EPERM);
                EXPECT_ERRNO(syscall(SYS_add_key, "user", "rempart-test", "x", 1, KEY_SPEC_THREAD_KEYRING), EPERM);
                EXPECT_ERRNO(ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM);
                EXPECT_ERRNO(syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0), EPERM);
        } else {
                /* No thread keyring yet: ENOKEY or a new keyring's id. */
                EXPECT_NOT_ERRNO(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_THREAD_KEYRING, 0), EPERM);
                /* A key in this child's own thread keyring, gone with it. */
                CHECK(syscall(SYS_add_key, "user", "rempart-test", "x", 1, KEY_SPEC_THREAD_KEYRING) > 0);
                /* The test process becomes our tracer; we never stop, so it
                 * only sees our exit. */
                CHECK(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0);
                /* Empty vectors: nothing is copied. */
                CHECK(syscall(SYS_process_vm_readv, getppid(), NULL, 0, NULL, 0, 0) == 0);
        }
}

static void test_deny_keyctl_ptrace(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct seccomp_program prog;
        bool filtered = true;

        build_ok(p, &prog);
        assert_child_ok(run_child(&prog, child_keyctl_ptrace, &filtered));
        filtered = false;
        assert_child_ok(run_child(NULL, child_keyctl_ptrace, &filtered));
        seccomp_program_free(&prog);
        free(p);
}

/* Every call of the built-in list, with junk arguments (-1 everywhere: each
 * call rejects them, so even an unfiltered run would do nothing), must get
 * the profile's errno.  TEST_ERRNO is one these calls never return by
 * themselves, which makes the check conclusive without a control run. */
struct call_list {
        long nr[128];
        const char *name[128];
        size_t n;
};

static void child_call_all(const void *arg) {
        const struct call_list *l = arg;
        for (size_t i = 0; i < l->n; i++) {
                errno = 0;
                long r = syscall(l->nr[i], -1L, -1L, -1L, -1L, -1L, -1L);
                int e = errno;
                if (r != -1 || e != TEST_ERRNO)
                        child_fail(__LINE__, l->name[i], r, e);
        }
        EXPECT_ERRNO(syscall(SYS_getppid), TEST_ERRNO); /* the profile's own deny entry */
        CHECK(getpid() > 0);
        EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS); /* ENOSYS whatever the profile's errno */
}

static void test_deny_every_listed_call(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, TEST_ERRNO);
        struct seccomp_program prog;
        struct call_list l = { .n = 0 };

        for (const char *const *n = seccomp_default_denylist; *n; n++) {
                int nr = seccomp_syscall_resolve_name(*n);
                if (nr < 0) /* not on this architecture, or newer than libseccomp */
                        continue;
                assert_true(l.n < sizeof l.nr / sizeof l.nr[0]);
                l.nr[l.n] = nr;
                l.name[l.n++] = *n;
        }
#if defined(__x86_64__) || defined(__aarch64__)
        l.nr[l.n] = 467; /* open_tree_attr, unknown to libseccomp 2.5.4 */
        l.name[l.n++] = "open_tree_attr";
#endif
        print_message("checked %zu denied calls\n", l.n);
        assert_true(l.n >= 40);

        add_name(p->seccomp_deny, &p->n_seccomp_deny, "getppid");
        build_ok(p, &prog);
        assert_child_ok(run_child(&prog, child_call_all, &l));
        seccomp_program_free(&prog);
        free(p);
}

/* clone(): returns -1 with errno, or 0 once a child was created and has
 * exited 0 (the child itself leaves at once). */
static long clone_and_reap(unsigned long flags) {
        long pid = syscall(SYS_clone, flags, NULL, NULL, NULL, 0L);
        if (pid < 0)
                return -1;
        if (pid == 0)
                child_exit(0);
        int status;
        if (waitpid((pid_t) pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                child_fail(__LINE__, "clone child", pid, errno);
        return 0;
}

static const unsigned long ns_flags[] = {
        CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
};
static int thread_marker;
static void *thread_main(void *arg) {
        (void) arg;
        return &thread_marker;
}

static void child_clone_filtered(const void *arg) {
        (void) arg;
        /* clone3 is made to look absent... */
        EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);
        /* ...and libc falls back to clone: fork and threads still work. */
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
                _exit(7);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
        pthread_t t;
        void *ret = NULL;
        CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);
        CHECK(pthread_join(t, &ret) == 0);
        CHECK(ret == &thread_marker);
        CHECK(clone_and_reap(SIGCHLD) == 0);

        /* No namespace flag gets through, alone, combined, or with high
         * bits the kernel ignores. */
        for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++) {
                EXPECT_ERRNO(clone_and_reap(ns_flags[i] | SIGCHLD), EPERM);
                EXPECT_ERRNO(clone_and_reap((1UL << 32) | ns_flags[i] | SIGCHLD), EPERM);
        }
        EXPECT_ERRNO(clone_and_reap(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | SIGCHLD), EPERM);
}

static void child_clone_control(const void *arg) {
        (void) arg;
        EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), EINVAL); /* exists, rejects size 0 */
        /* Needs root: a child in its own mount namespace, gone at once.  With
         * high bits too, to show the kernel ignores them. */
        CHECK(clone_and_reap(CLONE_NEWNS | SIGCHLD) == 0);
        CHECK(clone_and_reap((1UL << 32) | CLONE_NEWNS | SIGCHLD) == 0);
}

static void test_clone(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct seccomp_program prog;

        build_ok(p, &prog);
        assert_child_ok(run_child(&prog, child_clone_filtered, NULL));
        seccomp_program_free(&prog);
        free(p);
        if (!is_root())
                skip(); /* the control creates a mount namespace: needs root */
        assert_child_ok(run_child(NULL, child_clone_control, NULL));
}

static void child_ioctl(const void *arg) {
        bool filtered = *(const bool *) arg;
        char c = 'x';
        int n;
        struct winsize ws;

        int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        CHECK(m >= 0);
        /* The kernel reads the request as 32 bits: high bits change nothing. */
        CHECK(syscall(SYS_ioctl, m, (1UL << 32) | TIOCGWINSZ, &ws) == 0);
        CHECK(syscall(SYS_ioctl, m, 0xffffffff00000000UL | TIOCGWINSZ, &ws) == 0);
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, FIONREAD, &n), EBADF);
        if (filtered) {
                EXPECT_ERRNO(syscall(SYS_ioctl, m, TIOCSTI, &c), EPERM);
                EXPECT_ERRNO(syscall(SYS_ioctl, m, (1UL << 32) | TIOCSTI, &c), EPERM);
                EXPECT_ERRNO(syscall(SYS_ioctl, m, 0xffffffff00000000UL | TIOCSTI, &c), EPERM);
                EXPECT_ERRNO(syscall(SYS_ioctl, -1, TIOCLINUX, &c), EPERM);
                EXPECT_ERRNO(syscall(SYS_ioctl, -1, (1UL << 40) | TIOCLINUX, &c), EPERM);
        } else {
                /* On a bad descriptor: the kernel's own answer, not EPERM. */
                EXPECT_ERRNO(syscall(SYS_ioctl, -1, TIOCSTI, &c), EBADF);
                EXPECT_ERRNO(syscall(SYS_ioctl, -1, (1UL << 32) | TIOCSTI, &c), EBADF);
                EXPECT_ERRNO(syscall(SYS_ioctl, -1, TIOCLINUX, &c), EBADF);
        }
        CHECK(close(m) == 0);
}

static void test_ioctl_tiocsti(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct seccomp_program prog;
        bool filtered = true;

        build_ok(p, &prog);
        assert_child_ok(run_child(&prog, child_ioctl, &filtered));
        filtered = false;
        assert_child_ok(run_child(NULL, child_ioctl, &filtered));
        seccomp_program_free(&prog);
        free(p);
}

static void child_personality(const void *arg) {
        if (*(const bool *) arg) {
                CHECK(personality(0xffffffff) != -1); /* the query */
                EXPECT_ERRNO(personality(READ_IMPLIES_EXEC), EPERM);
                EXPECT_ERRNO(personality(ADDR_NO_RANDOMIZE), EPERM);
                EXPECT_ERRNO(personality(PER_LINUX32), EPERM);
                EXPECT_ERRNO(syscall(SYS_personality, (1UL << 32) | READ_IMPLIES_EXEC), EPERM);
                EXPECT_ERRNO(syscall(SYS_personality, 0xfffffffeUL), EPERM);
                EXPECT_ERRNO(syscall(SYS_personality, 0x7fffffffUL), EPERM);
                EXPECT_ERRNO(syscall(SYS_personality, 0x80000000UL), EPERM);
                CHECK(personality(PER_LINUX) != -1); /* resetting is fine */
                CHECK(personality(0xffffffff) == PER_LINUX);
        } else {
                CHECK(personality(READ_IMPLIES_EXEC) != -1);
                CHECK(personality(0xffffffff) == READ_IMPLIES_EXEC);
        }
}

static void test_personality(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct seccomp_program prog;
        bool filtered = true;

        build_ok(p, &prog);
        assert_child_ok(run_child(&prog, child_personality, &filtered));
        filtered = false;
        assert_child_ok(run_child(NULL, child_personality, &filtered));
        seccomp_program_free(&prog);
        free(p);
}

/* ---- foreign architectures ---- */

#if defined(__x86_64__)
#define I386_NR_GETPID 20L
#define X32_SYSCALL_BIT 0x40000000L

static long i386_getpid(void) {
        long ret;
        /* int 0x80 from 64-bit code enters the kernel's i386 entry point. */
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(I386_NR_GETPID)
                         : "r8", "r9", "r10", "r11", "memory", "cc");
        return ret;
}

static void child_i386(const void *arg) {
        (void) arg;
        long r = i386_getpid();
        CHECK(r == getpid()); /* reached only without the filter */
}

static void child_x32(const void *arg) {
        (void) arg;
        errno = 0;
        long r = syscall(X32_SYSCALL_BIT | SYS_getpid);
        /* Without the filter: ENOSYS when the kernel lacks x32, else the pid. */
        CHECK(r == getpid() || (r == -1 && errno == ENOSYS));
}

static void assert_killed_by_sigsys(int status) {
        if (!WIFSIGNALED(status))
                print_error("child not killed (exit status %d)\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_foreign_arch_killed(void **state) {
        (void) state;
        /* Both modes: the architecture check comes before any rule. */
        for (int mode = JAIL_SECCOMP_DENYLIST; mode <= JAIL_SECCOMP_ALLOWLIST; mode++) {
                struct jail_profile *p = new_profile((enum jail_seccomp_mode) mode, EPERM);
                struct seccomp_program prog;
                build_ok(p, &prog);

                assert_killed_by_sigsys(run_child(&prog, child_x32, NULL));
                assert_child_ok(run_child(NULL, child_x32, NULL));

                int status = run_child(NULL, child_i386, NULL);
                if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
                        /* No i386 entry point at all: int 0x80 faults before
                         * seccomp runs.  test_bpf_arch_check covers the filter. */
                        print_message("IA-32 emulation off in this kernel: int 0x80 not run\n");
                } else {
                        assert_child_ok(status);
                        assert_killed_by_sigsys(run_child(&prog, child_i386, NULL));
                }
                seccomp_program_free(&prog);
                free(p);
        }
}

/* The program's structure, independent of what the kernel offers: load the
 * architecture, anything but x86_64 returns KILL_PROCESS; then numbers with
 * the x32 bit are sent to the same place. */
static void test_bpf_arch_check(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_DENYLIST, EPERM);
        struct seccomp_program prog;

        build_ok(p, &prog);
        const struct sock_filter *f = prog.insns;
        assert_true(prog.len > 5);
        assert_int_equal(f[0].code, BPF_LD | BPF_W | BPF_ABS);
        assert_int_equal(f[0].k, offsetof(struct seccomp_data, arch));
        assert_int_equal(f[1].code, BPF_JMP | BPF_JEQ | BPF_K);
        assert_int_equal(f[1].k, AUDIT_ARCH_X86_64);
        size_t bad_arch = 2 + f[1].jf;
        assert_true(f[1].jt == 0 && bad_arch < prog.len);
        assert_int_equal(f[bad_arch].code, BPF_RET | BPF_K);
        assert_int_equal(f[bad_arch].k, SECCOMP_RET_KILL_PROCESS);
        /* Then: load nr, "nr >= X32_SYSCALL_BIT" -> (nr == -1, a tracer's
         * skipped call, goes on) -> the same KILL_PROCESS. */
        assert_int_equal(f[2].code, BPF_LD | BPF_W | BPF_ABS);
        assert_int_equal(f[2].k, offsetof(struct seccomp_data, nr));
        assert_int_equal(f[3].code, BPF_JMP | BPF_JGE | BPF_K);
        assert_int_equal(f[3].k, X32_SYSCALL_BIT);
        assert_int_equal(f[4].code, BPF_JMP | BPF_JEQ | BPF_K);
        assert_int_equal(f[4].k, 0xffffffffU);
        assert_int_equal(5 + f[4].jf, bad_arch);
        seccomp_program_free(&prog);
        free(p);
}
#else
static void test_bpf_arch_check(void **state) {
        (void) state;
        skip(); /* written for the x86_64 layout */
}
static void test_foreign_arch_killed(void **state) {
        (void) state;
        skip(); /* the i386 and x32 entry points are x86_64 matters */
}
#endif

/* ---- allow-list behaviour ---- */

static void child_allowlist(const void *arg) {
        bool filtered = *(const bool *) arg;
        char c = 'x';
        int n;
        struct winsize ws;

        CHECK(syscall(SYS_getpid) > 0);
        if (!filtered) {
                CHECK(syscall(SYS_getppid) > 0);
                CHECK(syscall(SYS_getuid) >= 0);
                EXPECT_ERRNO(syscall(SYS_close, -1), EBADF);
                return;
        }
        EXPECT_ERRNO(syscall(SYS_getppid), EPERM); /* not listed */
        EXPECT_ERRNO(syscall(SYS_close, -1), EPERM);
        EXPECT_ERRNO(syscall(SYS_getuid), EPERM);  /* listed, but also denied */
        EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);

        /* What the runtime needs to start the command (it calls nothing
         * else after loading the filter): the calls exist, they fail only
         * for their own reasons. */
        EXPECT_ERRNO(syscall(SYS_execve, "/nonexistent/rempart-test", NULL, NULL), ENOENT);
        EXPECT_ERRNO(syscall(SYS_execveat, -1, "", NULL, NULL, AT_EMPTY_PATH), EBADF);
        CHECK(syscall(SYS_write, STDERR_FILENO, "", 0) == 0);

        /* Listed calls keep their guards. */
        CHECK(clone_and_reap(SIGCHLD) == 0); /* uses wait4, listed */
        EXPECT_ERRNO(clone_and_reap(CLONE_NEWNS | SIGCHLD), EPERM);
        EXPECT_ERRNO(clone_and_reap(CLONE_NEWUSER | SIGCHLD), EPERM);
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, FIONREAD, &n), EBADF);
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, (1UL << 32) | FIONREAD, &n), EBADF);
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, 0xffffffff00000000UL | TIOCGWINSZ, &ws), EBADF);
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, TIOCSTI, &c), EPERM);
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, (1UL << 32) | TIOCSTI, &c), EPERM);
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, TIOCLINUX, &c), EPERM);
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, TIOCSTI + 1, &c), EBADF); /* neighbours pass */
        EXPECT_ERRNO(syscall(SYS_ioctl, -1, TIOCLINUX - 1, &c), EBADF);
        CHECK(syscall(SYS_personality, 0xffffffffUL) != -1);
        EXPECT_ERRNO(syscall(SYS_personality, READ_IMPLIES_EXEC), EPERM);
        CHECK(syscall(SYS_personality, PER_LINUX) != -1);
}

static void test_allowlist(void **state) {
        (void) state;
        struct jail_profile *p = new_profile(JAIL_SECCOMP_ALLOWLIST, EPERM);
        struct seccomp_program prog;
        bool filtered = true;

        /* Duplicates, and a runtime call (write) listed again, are fine. */
        static const char *const allow[] = { "getpid", "getuid", "ioctl", "personality", "clone",
                                              "wait4", "clone3", "ioctl", "write" };
        for (size_t i = 0; i < sizeof allow / sizeof allow[0]; i++)
                add_name(p->seccomp_allow, &p->n_seccomp_allow, allow[i]);
        add_name(p->seccomp_deny, &p->n_seccomp_deny, "getuid");

        build_ok(p, &prog);
        print_message("allow-list filter: %zu BPF instructions\n", prog.len);
        assert_child_ok(run_child(&prog, child_allowlist, &filtered));
        filtered = false;
        assert_child_ok(run_child(NULL, child_allowlist, &filtered));
        seccomp_program_free(&prog);
        free(p);
}

static void child_allowlist_enosys(const void *arg) {
        (void) arg;
        CHECK(syscall(SYS_getpid) > 0);
        EXPECT_ERRNO(syscall(SYS_getppid), ENOSYS);
        EXPECT_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);
}

static void test_allowlist_enosys(void **state) {
        (void) state;
        /* With ENOSYS as the answer, clone3 needs no rule of its own. */
        struct jail_profile *p = new_profile(JAIL_SECCOMP_ALLOWLIST, ENOSYS);
        struct seccomp_program prog;

        add_name(p->seccomp_allow, &p->n_seccomp_allow, "getpid");
        build_ok(p, &prog);
        assert_child_ok(run_child(&prog, child_allowlist_enosys, NULL));
        seccomp_program_free(&prog);
        free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_build_default),
                cmocka_unit_test(test_default_denylist_table),
                cmocka_unit_test(test_unknown_names),
                cmocka_unit_test(test_bad_settings),
                cmocka_unit_test(test_export_pfc),
                cmocka_unit_test(test_load_rejects_bad_program),
                cmocka_unit_test(test_deny_namespaces),
                cmocka_unit_test(test_deny_keyctl_ptrace),
                cmocka_unit_test(test_deny_every_listed_call),
                cmocka_unit_test(test_clone),
                cmocka_unit_test(test_ioctl_tiocsti),
                cmocka_unit_test(test_personality),
                cmocka_unit_test(test_foreign_arch_killed),
                cmocka_unit_test(test_bpf_arch_check),
                cmocka_unit_test(test_allowlist),
                cmocka_unit_test(test_allowlist_enosys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

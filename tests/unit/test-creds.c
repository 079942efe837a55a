/* SPDX-License-Identifier: MIT */
/* Unit tests for creds.c and capnames.c.  The privilege-drop tests need
 * root with a full capability set; each one runs creds_drop() in a forked
 * child (the drop is irreversible) and checks the result from inside the
 * child, which reports failure through its exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "creds.h"
#include "macro.h"
#include "missing.h"

#define NOBODY 65534
#define LOCKED_BASE                                                                            \
        (SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |                       \
         SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | \
         SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)
#define LOCKED_EXEC                                                                            \
        (SECBIT_EXEC_RESTRICT_FILE | SECBIT_EXEC_RESTRICT_FILE_LOCKED |                        \
         SECBIT_EXEC_DENY_INTERACTIVE | SECBIT_EXEC_DENY_INTERACTIVE_LOCKED)

/* Inside a forked child: report and exit instead of longjmp'ing into
 * cmocka's state, which belongs to the parent. */
#define CHECK(cond)                                                                        \
        do {                                                                               \
                if (!(cond)) {                                                             \
                        fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n", __FILE__, \
                                __LINE__, #cond, errno);                                   \
                        _exit(1);                                                          \
                }                                                                          \
        } while (0)

static struct jail_profile *profile_new(void) {
        struct jail_profile *p = calloc(1, sizeof(*p));
        assert_non_null(p);
        profile_init_default(p);
        /* Pin every field creds.c reads, whatever the defaults are. */
        p->userns = false;
        p->uid = NOBODY;
        p->gid = NOBODY;
        p->n_groups = 0;
        p->n_caps_keep = 0;
        p->mdwe = true;
        p->exec_securebits = true;
        p->die_with_parent = false;
        p->n_env_keep = p->n_env_set = 0;
        p->n_fds_keep = 0;
        for (size_t i = 0; i < JAIL_RLIMIT_COUNT; i++)
                p->rlimits[i].set = false;
        return p;
}

static void caps_read(uint64_t *eff, uint64_t *perm, uint64_t *inh) {
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = {};

        CHECK(syscall(SYS_capget, &hdr, d) == 0);
        *eff = (uint64_t) d[1].effective << 32 | d[0].effective;
        *perm = (uint64_t) d[1].permitted << 32 | d[0].permitted;
        *inh = (uint64_t) d[1].inheritable << 32 | d[0].inheritable;
}

static int last_cap(void) {
        int c = 0;
        while (c < 63 && prctl(PR_CAPBSET_READ, (unsigned long) c + 1, 0, 0, 0) >= 0)
                c++;
        return c;
}

/* Bounding and ambient sets are exactly `keep`. */
static void check_bset_ambient(uint64_t keep) {
        for (int c = 0; c <= last_cap(); c++) {
                int want = (int) ((keep >> c) & 1);
                CHECK(prctl(PR_CAPBSET_READ, (unsigned long) c, 0, 0, 0) == want);
                CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long) c, 0, 0) == want);
        }
}

static bool have_privileges(void) {
        uint64_t eff, perm, inh;
        caps_read(&eff, &perm, &inh);
        return geteuid() == 0 && (eff & (UINT64_C(1) << CAP_SETPCAP)) &&
               (eff & (UINT64_C(1) << CAP_SETUID)) && (eff & (UINT64_C(1) << CAP_NET_BIND_SERVICE));
}

/* Fork; the child drops privileges as p says and runs check(); stdout of
 * the child goes to out_fd when >= 0. */
static int run_dropped(const struct jail_profile *p, void (*check)(const struct jail_enforced *), int out_fd) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct jail_enforced e = {};
                const char *step = NULL;
                int r = creds_drop(p, &e, &step);
                if (r < 0) {
                        fprintf(stderr, "creds_drop: %s: %s\n", step ? step : "?", strerror(-r));
                        _exit(100);
                }
                CHECK(step == NULL);
                CHECK(e.caps_dropped == FEATURE_ENFORCED);
                CHECK(e.securebits_locked == FEATURE_ENFORCED);
                CHECK(e.no_new_privs == FEATURE_ENFORCED);
                CHECK(e.exec_securebits != FEATURE_OFF);
                CHECK(e.mdwe != FEATURE_OFF);
                if (out_fd >= 0)
                        CHECK(dup2(out_fd, STDOUT_FILENO) == STDOUT_FILENO);
                check(&e);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

/* ---- capability names ---- */

static void test_cap_names(void **state) {
        (void) state;
        for (int c = 0; c <= CAP_CHECKPOINT_RESTORE; c++) {
                const char *name = cap_to_name(c);
                char lower[64];

                assert_non_null(name);
                assert_int_equal(strncmp(name, "CAP_", 4), 0);
                assert_int_equal(cap_from_name(name), c);
                assert_true(strlen(name) < sizeof(lower));
                for (size_t i = 0; i <= strlen(name); i++)
                        lower[i] = (char) tolower((unsigned char) name[i]);
                assert_int_equal(cap_from_name(lower), c);
                assert_int_equal(cap_from_name(lower + 4), c);
                assert_int_equal(cap_from_name(name + 4), c);
        }
        assert_int_equal(cap_from_name("Cap_Sys_Admin"), CAP_SYS_ADMIN);
        assert_int_equal(cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
        assert_null(cap_to_name(-1));
        assert_null(cap_to_name(CAP_CHECKPOINT_RESTORE + 1));
        assert_int_equal(cap_from_name(NULL), -EINVAL);
        assert_int_equal(cap_from_name(""), -EINVAL);
        assert_int_equal(cap_from_name("CAP_"), -EINVAL);
        assert_int_equal(cap_from_name("cap_bogus"), -EINVAL);
        assert_int_equal(cap_from_name("sys_admin "), -EINVAL);
        assert_int_equal(cap_from_name("CAP_CAP_SYS_ADMIN"), -EINVAL);
}

/* ---- environment ---- */

static void test_env_build(void **state) {
        (void) state;
        struct jail_profile *p = profile_new();
        char *host[] = { "PATH=/usr/bin", "PATHX=1", "HOME=/root", "TERM=xterm", "SECRET=x",
                         "LANG=C.UTF-8", "EMPTY=", NULL };
        const char *keep[] = { "PATH", "TERM", "LANG", "NOPE", "PAT", "EMPTY", "PATH" };
        const char *set[] = { "TERM=dumb", "FOO=bar", "FOO=baz=qux" };

        for (size_t i = 0; i < ELEMENTSOF(keep); i++)
                snprintf(p->env_keep[p->n_env_keep++], JAIL_NAME_MAX, "%s", keep[i]);
        for (size_t i = 0; i < ELEMENTSOF(set); i++)
                snprintf(p->env_set[p->n_env_set++], JAIL_PATH_MAX, "%s", set[i]);

        _cleanup_free_ char **env = env_build(p, host);
        assert_non_null(env);
        const char *want[] = { "PATH=/usr/bin", "TERM=dumb", "LANG=C.UTF-8", "EMPTY=", "FOO=baz=qux" };
        size_t n = 0;
        while (env[n])
                n++;
        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++)
                assert_string_equal(env[i], want[i]);

        /* No host environment at all: only the explicit settings. */
        _cleanup_free_ char **env2 = env_build(p, NULL);
        assert_non_null(env2);
        assert_string_equal(env2[0], "TERM=dumb");
        assert_string_equal(env2[1], "FOO=baz=qux");
        assert_null(env2[2]);

        /* A setting without '=' is refused. */
        snprintf(p->env_set[p->n_env_set++], JAIL_PATH_MAX, "%s", "NOVALUE");
        errno = 0;
        assert_null(env_build(p, host));
        assert_int_equal(errno, EINVAL);
        free(p);
}

/* ---- file descriptors ---- */

static bool is_cloexec(int fd) {
        int fl = fcntl(fd, F_GETFD);
        assert_true(fl >= 0);
        return fl & FD_CLOEXEC;
}

static void test_fds_close_on_exec(void **state) {
        (void) state;
        struct jail_profile *p = profile_new();
        int fd[5];

        for (size_t i = 0; i < ELEMENTSOF(fd); i++) {
                fd[i] = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
                assert_true(fd[i] >= 3);
        }
        int high = fcntl(fd[0], F_DUPFD, 200);
        assert_true(high >= 200);
        assert_int_equal(fcntl(fd[1], F_SETFD, FD_CLOEXEC), 0); /* kept: must be cleared */
        int except = fd[4];

        p->fds_keep[p->n_fds_keep++] = fd[3];
        p->fds_keep[p->n_fds_keep++] = fd[1];
        p->fds_keep[p->n_fds_keep++] = except; /* listed, still left alone */
        p->fds_keep[p->n_fds_keep++] = fd[1];  /* duplicate */
        assert_int_equal(fds_close_on_exec(p, except), 0);

        assert_true(is_cloexec(fd[0]));
        assert_false(is_cloexec(fd[1]));
        assert_true(is_cloexec(fd[2]));
        assert_false(is_cloexec(fd[3]));
        assert_false(is_cloexec(except)); /* untouched, as it was */
        assert_true(is_cloexec(high));
        assert_false(is_cloexec(STDERR_FILENO));

        /* A kept fd that is not open is an error. */
        p->fds_keep[0] = high + 1;
        assert_int_equal(fds_close_on_exec(p, -1), -EBADF);

        for (size_t i = 0; i < ELEMENTSOF(fd); i++)
                assert_int_equal(close(fd[i]), 0);
        assert_int_equal(close(high), 0);
        free(p);
}

/* ---- rlimits ---- */

static void test_rlimits(void **state) {
        (void) state;
        struct jail_profile *p = profile_new();

        p->rlimits[RLIMIT_NOFILE] = (struct jail_rlimit) { .set = true, .soft = 64, .hard = 128 };
        p->rlimits[RLIMIT_CORE] = (struct jail_rlimit) { .set = true, .soft = 0, .hard = 0 };
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct rlimit rl;
                CHECK(creds_apply_rlimits(p) == 0);
                CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 64 && rl.rlim_max == 128);
                CHECK(getrlimit(RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        p->rlimits[RLIMIT_NOFILE] = (struct jail_rlimit) { .set = true, .soft = 10, .hard = 5 };
        assert_int_equal(creds_apply_rlimits(p), -EINVAL);
        free(p);
}

/* ---- privilege drop ---- */

static void check_nobody_no_caps(const struct jail_enforced *e) {
        uid_t r, ef, s;
        gid_t gr, ge, gs;
        uint64_t eff, perm, inh;

        CHECK(getresuid(&r, &ef, &s) == 0 && r == NOBODY && ef == NOBODY && s == NOBODY);
        CHECK(getresgid(&gr, &ge, &gs) == 0 && gr == NOBODY && ge == NOBODY && gs == NOBODY);
        CHECK(getgroups(0, NULL) == 0);
        caps_read(&eff, &perm, &inh);
        CHECK(eff == 0 && perm == 0 && inh == 0);
        check_bset_ambient(0);

        int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
        int want = LOCKED_BASE | (e->exec_securebits == FEATURE_ENFORCED ? LOCKED_EXEC : 0);
        fprintf(stderr, "securebits locked: %#x (exec bits %s)\n", (unsigned) bits,
                e->exec_securebits == FEATURE_ENFORCED ? "enforced" : "unavailable");
        CHECK(bits == want);
        CHECK(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) < 0 && errno == EPERM);
        CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1);

        if (e->mdwe == FEATURE_ENFORCED) {
                void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                CHECK(m == MAP_FAILED && errno == EACCES);
                m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                CHECK(m != MAP_FAILED);
                CHECK(mprotect(m, 4096, PROT_READ | PROT_EXEC) < 0 && errno == EACCES);
        } else
                CHECK(e->mdwe == FEATURE_UNAVAILABLE);
}

static void test_drop_nobody(void **state) {
        (void) state;
        if (!have_privileges())
                skip();

        /* Non-vacuous: W+X mappings work here, before MDWE. */
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(m != MAP_FAILED);
        assert_int_equal(mprotect(m, 4096, PROT_READ | PROT_WRITE | PROT_EXEC), 0);
        assert_int_equal(munmap(m, 4096), 0);

        struct jail_profile *p = profile_new();
        p->die_with_parent = true;
        assert_int_equal(run_dropped(p, check_nobody_no_caps, -1), 0);
        free(p);
}

static void check_groups(const struct jail_enforced *e) {
        gid_t g[8];
        (void) e;
        int n = getgroups(8, g);
        CHECK(n == 2);
        CHECK((g[0] == 100 && g[1] == 4242) || (g[0] == 4242 && g[1] == 100));
        CHECK(getgid() == 4243 && getuid() == 4244);
}

static void test_drop_groups(void **state) {
        (void) state;
        if (!have_privileges())
                skip();
        struct jail_profile *p = profile_new();
        p->uid = 4244;
        p->gid = 4243;
        p->groups[p->n_groups++] = 4242;
        p->groups[p->n_groups++] = 100;
        assert_int_equal(run_dropped(p, check_groups, -1), 0);
        free(p);
}

/* Read all of fd into buf (NUL-terminated). */
static void read_all(int fd, char *buf, size_t size) {
        size_t n = 0;
        for (;;) {
                ssize_t k = read(fd, buf + n, size - 1 - n);
                assert_true(k >= 0);
                if (k == 0)
                        break;
                n += (size_t) k;
                assert_true(n < size - 1);
        }
        buf[n] = '\0';
}

static const char *status_field(const char *status, const char *key) {
        const char *s = strstr(status, key);
        assert_non_null(s);
        s += strlen(key);
        while (*s == '\t' || *s == ' ')
                s++;
        return s;
}

static void exec_cat(const struct jail_enforced *e) {
        uint64_t eff, perm, inh, want = UINT64_C(1) << CAP_NET_BIND_SERVICE;
        (void) e;
        caps_read(&eff, &perm, &inh);
        CHECK(eff == want && perm == want && inh == want);
        check_bset_ambient(want);
        execl("/bin/cat", "cat", "/proc/self/status", (char *) NULL);
        CHECK(!"execl");
}

/* Keep CAP_NET_BIND_SERVICE as uid `uid`; after execve of an ordinary
 * binary it is the only capability, in every set. */
static void drop_keep_exec(uid_t uid) {
        struct jail_profile *p = profile_new();
        char buf[8192];
        int pfd[2];

        p->uid = uid;
        p->gid = uid;
        p->caps_keep[p->n_caps_keep++] = CAP_NET_BIND_SERVICE;
        assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
        /* /proc/self/status fits in the pipe buffer: waiting first is safe. */
        assert_int_equal(run_dropped(p, exec_cat, pfd[1]), 0);
        assert_int_equal(close(pfd[1]), 0);
        read_all(pfd[0], buf, sizeof(buf));
        assert_int_equal(close(pfd[0]), 0);

        const char *keys[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:" };
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                assert_int_equal(strncmp(status_field(buf, keys[i]), "0000000000000400\n", 17), 0);
        assert_int_equal(strncmp(status_field(buf, "NoNewPrivs:"), "1\n", 2), 0);
        char uidline[64];
        snprintf(uidline, sizeof(uidline), "%u\t%u\t%u\t%u\n", uid, uid, uid, uid);
        assert_int_equal(strncmp(status_field(buf, "Uid:"), uidline, strlen(uidline)), 0);
        free(p);
}

static void test_drop_keep_nobody(void **state) {
        (void) state;
        if (!have_privileges())
                skip();
        drop_keep_exec(NOBODY);
}

static void test_drop_keep_root(void **state) {
        (void) state;
        if (!have_privileges())
                skip();
        drop_keep_exec(0);
}

/* With CAP_SETPCAP kept, a refusal to change the securebits can only come
 * from the locks, and a lowered ambient cap cannot be raised again. */
static void check_locks(const struct jail_enforced *e) {
        int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
        (void) e;
        CHECK(bits >= 0);
        CHECK(prctl(PR_SET_SECUREBITS, (unsigned long) bits, 0, 0, 0) == 0);
        CHECK(prctl(PR_SET_SECUREBITS, (unsigned long) (bits & ~SECBIT_NOROOT), 0, 0, 0) < 0 && errno == EPERM);
        CHECK(prctl(PR_SET_SECUREBITS, (unsigned long) (bits & ~SECBIT_NO_SETUID_FIXUP), 0, 0, 0) < 0 &&
              errno == EPERM);
        CHECK(prctl(PR_SET_SECUREBITS, 0, 0, 0, 0) < 0 && errno == EPERM);
        CHECK(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 && errno == EPERM);
        CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_SETPCAP, 0, 0) == 1);
        CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_SETPCAP, 0, 0) == 0);
        CHECK(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SETPCAP, 0, 0) < 0 && errno == EPERM);
}

static void test_drop_locks(void **state) {
        (void) state;
        if (!have_privileges())
                skip();
        struct jail_profile *p = profile_new();
        p->uid = 0;
        p->gid = 0;
        p->caps_keep[p->n_caps_keep++] = CAP_SETPCAP;
        assert_int_equal(run_dropped(p, check_locks, -1), 0);
        free(p);
}

static void check_unreached(const struct jail_enforced *e) {
        (void) e;
        _exit(1);
}

static void test_drop_invalid(void **state) {
        (void) state;
        if (!have_privileges())
                skip();
        struct jail_profile *p = profile_new();
        p->caps_keep[p->n_caps_keep++] = 63; /* beyond any current kernel */
        assert_int_equal(run_dropped(p, check_unreached, -1), 100);
        p->caps_keep[0] = -1;
        assert_int_equal(run_dropped(p, check_unreached, -1), 100);
        free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cap_names),
                cmocka_unit_test(test_env_build),
                cmocka_unit_test(test_fds_close_on_exec),
                cmocka_unit_test(test_rlimits),
                cmocka_unit_test(test_drop_nobody),
                cmocka_unit_test(test_drop_groups),
                cmocka_unit_test(test_drop_keep_nobody),
                cmocka_unit_test(test_drop_keep_root),
                cmocka_unit_test(test_drop_locks),
                cmocka_unit_test(test_drop_invalid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

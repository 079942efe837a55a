/* SPDX-License-Identifier: MIT */
/* Landlock rules, exercised for real on the running kernel.  Each check
 * runs in a forked child (a Landlock domain cannot be left), with host
 * paths standing in for the jail's mount destinations.  Every denial is
 * paired with the same operation succeeding before the ruleset is applied,
 * so that a test cannot pass because the host already forbids it; denials
 * are EACCES/EPERM, never EROFS, showing Landlock itself refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforced.h"
#include "landlock.h"
#include "profile.h"

#define TRUE_BIN "/usr/bin/true"
#define OUTSIDE_FILE "/etc/passwd"
#define USR_PROBE "/usr/.rempart-landlock-test"

/* Checks inside a child: report the line and leave with a failure status
 * (cmocka's own assertions must not run in a forked copy of the runner). */
#define CHECK(cond)                                                                           \
        do {                                                                                  \
                if (!(cond)) {                                                                \
                        (void) fprintf(stderr, "%s:%d: check failed: %s (errno: %s)\n",       \
                                       __FILE__, __LINE__, #cond, strerror(errno));           \
                        _exit(1);                                                             \
                }                                                                             \
        } while (0)

struct dirs {
        char base[64];
        char rw[96], tmpfs[96], ronoexec[96], file[96], notmounted[96];
};

static struct jail_profile *profile_new(void) {
        struct jail_profile *p = calloc(1, sizeof *p);

        assert_non_null(p);
        p->landlock = true;
        return p;
}

static void add_mount(struct jail_profile *p, enum jail_mount_kind kind, const char *dst, bool optional) {
        struct jail_mount *m = &p->mounts[p->n_mounts++];

        m->kind = kind;
        (void) snprintf(m->dst, sizeof m->dst, "%s", dst);
        m->optional = optional;
}

/* 0 when path can be opened with flags, else -errno. */
static int try_open(const char *path, int flags) {
        int fd = open(path, flags | O_CLOEXEC, 0600);

        if (fd < 0)
                return -errno;
        (void) close(fd);
        return 0;
}

/* Exit status of path run without arguments, or -errno when it could not
 * be executed: the execve error comes back through a close-on-exec pipe.
 * (<spawn.h> is shadowed by the jail's own spawn.h on the include path.) */
static int run(const char *path) {
        char *const argv[] = { (char *) path, NULL };
        int pfd[2], err = 0, status;
        ssize_t n;
        pid_t pid;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                err = -errno;
                (void) close(pfd[0]);
                (void) close(pfd[1]);
                return err;
        }
        if (pid == 0) {
                (void) execv(path, argv);
                err = errno;
                /* On a short write the parent sees no errno and gets 127. */
                if (write(pfd[1], &err, sizeof err) != (ssize_t) sizeof err)
                        _exit(127);
                _exit(127);
        }
        (void) close(pfd[1]);
        n = read(pfd[0], &err, sizeof err);
        (void) close(pfd[0]);
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (n == (ssize_t) sizeof err)
                return -err;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int copy_file(const char *src, const char *dst, mode_t mode) {
        char buf[8192];
        int in, out, r = 0;
        ssize_t n;

        in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (out < 0) {
                r = -errno;
                (void) close(in);
                return r;
        }
        while ((n = read(in, buf, sizeof buf)) > 0)
                if (write(out, buf, (size_t) n) != n) {
                        r = -EIO;
                        break;
                }
        if (n < 0)
                r = -errno;
        (void) close(in);
        if (close(out) < 0 && r == 0)
                r = -errno;
        return r;
}

static void path_join(char *buf, size_t size, const char *dir, const char *name) {
        int n = snprintf(buf, size, "%s/%s", dir, name);

        CHECK(n > 0 && (size_t) n < size);
}

/* Run fn in a child and require a clean exit. */
static void in_child(void (*fn)(void *), void *arg) {
        pid_t pid;
        int status;

        (void) fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                fn(arg);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* As the jail does: no_new_privs first, then Landlock. */
static void child_apply(const struct jail_profile *p, struct jail_enforced *e, int expect) {
        CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        CHECK(landlock_apply(p, e) == expect);
}

static void require_abi(int min) {
        if (landlock_abi_version() < min)
                skip();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 ? -1 : 0;
}

static int dirs_setup(void **state) {
        struct dirs *d = calloc(1, sizeof *d);

        if (!d)
                return -1;
        (void) snprintf(d->base, sizeof d->base, "/tmp/rempart-landlock-XXXXXX");
        if (!mkdtemp(d->base)) {
                free(d);
                return -1;
        }
        /* From here on the teardown removes whatever was created. */
        *state = d;
        (void) snprintf(d->rw, sizeof d->rw, "%s/rw", d->base);
        (void) snprintf(d->tmpfs, sizeof d->tmpfs, "%s/tmpfs", d->base);
        (void) snprintf(d->ronoexec, sizeof d->ronoexec, "%s/ronoexec", d->base);
        (void) snprintf(d->file, sizeof d->file, "%s/file", d->base);
        (void) snprintf(d->notmounted, sizeof d->notmounted, "%s/notmounted", d->base);
        if (mkdir(d->rw, 0755) < 0 || mkdir(d->tmpfs, 0755) < 0 || mkdir(d->ronoexec, 0755) < 0 ||
            mkdir(d->notmounted, 0755) < 0 || try_open(d->file, O_WRONLY | O_CREAT | O_EXCL) < 0)
                return -1;
        return 0;
}

static int dirs_teardown(void **state) {
        struct dirs *d = *state;
        int r = nftw(d->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);

        /* Only present if Landlock failed to deny their creation. */
        (void) unlink(USR_PROBE ".f");
        (void) rmdir(USR_PROBE);
        free(d);
        return r == 0 ? 0 : -1;
}

static void test_abi_version(void **state) {
        (void) state;
        int abi = landlock_abi_version();

        assert_true(abi >= 0);
        if (abi == 0)
                skip();
        /* Asking twice gives the same answer and creates nothing. */
        assert_int_equal(landlock_abi_version(), abi);
}

static void child_disabled(void *arg) {
        (void) arg;
        struct jail_profile *p = profile_new();
        struct jail_enforced e = { 0 };

        p->landlock = false;
        p->landlock_fs = p->landlock_net = p->scope_signal = p->scope_abstract_unix = true;
        child_apply(p, &e, 0);
        CHECK(e.landlock_fs == FEATURE_OFF && e.landlock_net == FEATURE_OFF);
        CHECK(e.landlock_scope_unix == FEATURE_OFF && e.landlock_scope_signal == FEATURE_OFF);
        CHECK(e.landlock_abi == landlock_abi_version());
        CHECK(try_open(OUTSIDE_FILE, O_RDONLY) == 0);
        free(p);
}

static void test_disabled(void **state) {
        (void) state;
        in_child(child_disabled, NULL);
}

static void child_fs(void *arg) {
        const struct dirs *d = arg;
        struct jail_profile *p = profile_new();
        struct jail_enforced e = { 0 };
        char rw_true[128], ro_true[128], tmp_true[128], a[128], b[128], c[128];
        DIR *dir;
        struct stat st;
        int fd;

        path_join(rw_true, sizeof rw_true, d->rw, "true");
        path_join(ro_true, sizeof ro_true, d->ronoexec, "true");
        path_join(tmp_true, sizeof tmp_true, d->tmpfs, "true");
        CHECK(copy_file(TRUE_BIN, rw_true, 0755) == 0);
        CHECK(copy_file(TRUE_BIN, ro_true, 0755) == 0);

        /* Before: everything below is allowed by the host. */
        CHECK(run(rw_true) == 0);
        CHECK(run(ro_true) == 0);
        CHECK(try_open(OUTSIDE_FILE, O_RDONLY) == 0);
        CHECK(try_open("/dev/zero", O_RDONLY) == 0);

        p->landlock_fs = true;
        p->proc = true;
        add_mount(p, JAIL_MOUNT_RO, "/usr", false);
        add_mount(p, JAIL_MOUNT_RW, d->rw, false);
        add_mount(p, JAIL_MOUNT_TMPFS, d->tmpfs, false);
        add_mount(p, JAIL_MOUNT_RO_NOEXEC, d->ronoexec, false);
        add_mount(p, JAIL_MOUNT_RW, d->file, false);      /* a file bind: file rights only */
        add_mount(p, JAIL_MOUNT_SYMLINK, "/nowhere", false); /* needs no rule */
        add_mount(p, JAIL_MOUNT_RO, "/nonexistent-rempart-landlock", true);
        /* Exists but is not a mount point: the optional mount was skipped. */
        add_mount(p, JAIL_MOUNT_RW, d->notmounted, true);
        (void) snprintf(p->devices[0].path, sizeof p->devices[0].path, "/dev/null");
        p->n_devices = 1;
        child_apply(p, &e, 0);

        CHECK(e.landlock_abi == landlock_abi_version());
        CHECK(e.landlock_fs == (e.landlock_abi >= 5 ? FEATURE_ENFORCED : FEATURE_PARTIAL));
        CHECK(e.landlock_net == FEATURE_OFF);
        CHECK(e.landlock_scope_unix == FEATURE_OFF && e.landlock_scope_signal == FEATURE_OFF);
        CHECK(e.n_notes >= 1);

        /* Read-only exec bind: read and run, never write. */
        CHECK(try_open(TRUE_BIN, O_RDONLY) == 0);
        CHECK(run(TRUE_BIN) == 0);
        CHECK(mkdir(USR_PROBE, 0755) < 0 && errno == EACCES);
        CHECK(try_open(USR_PROBE ".f", O_WRONLY | O_CREAT) == -EACCES);

        /* Writable bind: create, rename, remove; never execute. */
        path_join(a, sizeof a, d->rw, "a");
        path_join(b, sizeof b, d->rw, "b");
        fd = open(a, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        CHECK(fd >= 0);
        CHECK(write(fd, "x", 1) == 1);
        CHECK(ftruncate(fd, 0) == 0);
        CHECK(close(fd) == 0);
        CHECK(try_open(a, O_WRONLY | O_TRUNC) == 0);
        CHECK(rename(a, b) == 0);
        CHECK(symlink("b", a) == 0 && unlink(a) == 0);
        CHECK(mkfifo(a, 0600) == 0 && unlink(a) == 0);
        CHECK(mkdir(a, 0755) == 0 && rmdir(a) == 0);
        CHECK(mknod(a, S_IFCHR | 0600, makedev(1, 3)) < 0 && errno == EACCES);
        CHECK(run(rw_true) == -EACCES);

        /* Rename across two writable places with identical rights: needs
         * REFER (ABI 2); ABI 1 refuses every cross-directory rename. */
        path_join(c, sizeof c, d->tmpfs, "b");
        if (e.landlock_abi >= 2)
                CHECK(rename(b, c) == 0 && unlink(c) == 0);
        else
                CHECK(rename(b, c) < 0 && errno == EXDEV && unlink(b) == 0);

        /* Tmpfs-like place: a binary written there cannot be run. */
        CHECK(copy_file(TRUE_BIN, tmp_true, 0755) == 0);
        CHECK(run(tmp_true) == -EACCES);

        /* Read-only noexec bind. */
        CHECK(try_open(ro_true, O_RDONLY) == 0);
        CHECK(run(ro_true) == -EACCES);
        path_join(a, sizeof a, d->ronoexec, "new");
        CHECK(try_open(a, O_WRONLY | O_CREAT) == -EACCES);

        /* File bind: writable and truncatable. */
        CHECK(try_open(d->file, O_WRONLY | O_TRUNC) == 0);

        /* Skipped optional mount: no rule, nothing granted. */
        path_join(a, sizeof a, d->notmounted, "x");
        CHECK(try_open(a, O_WRONLY | O_CREAT) == -EACCES);

        /* Outside every rule: no read, but "/" (and below) can be listed,
         * and stat() is not a Landlock access at all. */
        CHECK(try_open(OUTSIDE_FILE, O_RDONLY) == -EACCES);
        dir = opendir("/");
        CHECK(dir != NULL && closedir(dir) == 0);
        dir = opendir("/etc");
        CHECK(dir != NULL && closedir(dir) == 0);
        CHECK(stat(OUTSIDE_FILE, &st) == 0);

        /* /proc: readable, never writable (not even the process's own
         * memory, which would bypass MDWE). */
        CHECK(try_open("/proc/self/status", O_RDONLY) == 0);
        CHECK(try_open("/proc/self/comm", O_WRONLY) == -EACCES);
        CHECK(try_open("/proc/self/mem", O_RDWR) == -EACCES);

        /* Devices: only the listed nodes. */
        CHECK(try_open("/dev/null", O_RDWR) == 0);
        CHECK(try_open("/dev/zero", O_RDONLY) == -EACCES);
        free(p);
}

static void test_fs(void **state) {
        require_abi(1);
        in_child(child_fs, *state);
}

static void child_missing_mount(void *arg) {
        (void) arg;
        struct jail_profile *p = profile_new();
        struct jail_enforced e = { 0 };

        p->landlock_fs = true;
        add_mount(p, JAIL_MOUNT_RO, "/nonexistent-rempart-landlock", false);
        child_apply(p, &e, -ENOENT);
        CHECK(e.landlock_fs == FEATURE_OFF);
        /* Nothing was enforced. */
        CHECK(try_open(OUTSIDE_FILE, O_RDONLY) == 0);
        free(p);
}

static void test_missing_mount(void **state) {
        (void) state;
        require_abi(1);
        in_child(child_missing_mount, NULL);
}

static void child_symlink(void *arg) {
        const struct dirs *d = arg;
        struct jail_profile *p = profile_new();
        struct jail_enforced e = { 0 };
        char link[128];

        /* A link planted at a writable mount destination must not move the
         * rule to its target. */
        path_join(link, sizeof link, d->base, "link");
        CHECK(symlink("/etc", link) == 0);
        p->landlock_fs = true;
        add_mount(p, JAIL_MOUNT_RW, link, false);
        child_apply(p, &e, -ELOOP);
        CHECK(try_open(OUTSIDE_FILE, O_RDONLY) == 0);
        CHECK(unlink(link) == 0);
        free(p);
}

static void test_symlink_refused(void **state) {
        require_abi(1);
        in_child(child_symlink, *state);
}

static void child_signal(void *arg) {
        (void) arg;
        struct jail_profile *p = profile_new();
        struct jail_enforced e = { 0 };
        pid_t gc;
        int status;

        CHECK(kill(getppid(), 0) == 0);
        p->scope_signal = true;
        child_apply(p, &e, 0);
        CHECK(e.landlock_scope_signal == FEATURE_ENFORCED);
        CHECK(e.landlock_scope_unix == FEATURE_OFF && e.landlock_fs == FEATURE_OFF);

        CHECK(kill(getppid(), 0) < 0 && errno == EPERM);
        /* Processes inside the domain can still be signalled. */
        gc = fork();
        CHECK(gc >= 0);
        if (gc == 0) {
                (void) pause();
                _exit(0);
        }
        CHECK(kill(gc, SIGKILL) == 0);
        CHECK(waitpid(gc, &status, 0) == gc && WIFSIGNALED(status));
        /* No file-system rights were handled. */
        CHECK(try_open(OUTSIDE_FILE, O_RDONLY) == 0);
        free(p);
}

static void test_scope_signal(void **state) {
        (void) state;
        require_abi(6);
        in_child(child_signal, NULL);
}

static socklen_t abstract_addr(struct sockaddr_un *sa, const char *name) {
        size_t len = strlen(name);

        memset(sa, 0, sizeof *sa);
        sa->sun_family = AF_UNIX;
        memcpy(sa->sun_path + 1, name, len); /* leading NUL: abstract name */
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

static int unix_connect(const char *name) {
        struct sockaddr_un sa;
        socklen_t len = abstract_addr(&sa, name);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, len) < 0)
                r = -errno;
        (void) close(fd);
        return r;
}

static int unix_listen(const char *name) {
        struct sockaddr_un sa;
        socklen_t len = abstract_addr(&sa, name);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 8) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        return fd;
}

static void child_unix(void *arg) {
        const char *outside = arg;
        struct jail_profile *p = profile_new();
        struct jail_enforced e = { 0 };
        char inside[64];
        int fd;

        CHECK(unix_connect(outside) == 0);
        p->scope_abstract_unix = true;
        child_apply(p, &e, 0);
        CHECK(e.landlock_scope_unix == FEATURE_ENFORCED && e.landlock_scope_signal == FEATURE_OFF);

        CHECK(unix_connect(outside) == -EPERM);
        /* A socket created inside the domain is reachable. */
        (void) snprintf(inside, sizeof inside, "%s-inside", outside);
        fd = unix_listen(inside);
        CHECK(fd >= 0);
        CHECK(unix_connect(inside) == 0);
        CHECK(close(fd) == 0);
        free(p);
}

static void test_scope_abstract_unix(void **state) {
        (void) state;
        char name[64];
        int fd;

        require_abi(6);
        (void) snprintf(name, sizeof name, "rempart-landlock-test-%d", (int) getpid());
        fd = unix_listen(name);
        assert_true(fd >= 0);
        in_child(child_unix, name);
        assert_int_equal(close(fd), 0);
}

static int tcp_socket(void) {
        return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static struct sockaddr_in loopback(uint16_t port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sa;
}

/* connect (bind = false) or bind to 127.0.0.1:port; 0 or -errno. */
static int tcp_try(uint16_t port, bool do_bind) {
        struct sockaddr_in sa = loopback(port);
        int fd = tcp_socket(), r = 0, k;

        if (fd < 0)
                return -errno;
        k = do_bind ? bind(fd, (struct sockaddr *) &sa, sizeof sa)
                    : connect(fd, (struct sockaddr *) &sa, sizeof sa);
        if (k < 0)
                r = -errno;
        (void) close(fd);
        return r;
}

static int tcp_listen(uint16_t *port) {
        struct sockaddr_in sa = loopback(0);
        socklen_t len = sizeof sa;
        int fd = tcp_socket();

        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 8) < 0 ||
            getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
                (void) close(fd);
                return -1;
        }
        *port = ntohs(sa.sin_port);
        return fd;
}

static void child_tcp(void *arg) {
        const uint16_t *ports = arg; /* [0] allowed, [1] not */
        struct jail_profile *p = profile_new();
        struct jail_enforced e = { 0 };

        CHECK(tcp_try(ports[1], false) == 0);
        CHECK(tcp_try(ports[1], true) == -EADDRINUSE);

        p->landlock_net = true;
        p->tcp_connect[p->n_tcp_connect++] = ports[0];
        p->tcp_bind[p->n_tcp_bind++] = ports[0];
        child_apply(p, &e, 0);
        CHECK(e.landlock_net == FEATURE_ENFORCED && e.landlock_fs == FEATURE_OFF);

        CHECK(tcp_try(ports[0], false) == 0);
        CHECK(tcp_try(ports[1], false) == -EACCES);
        /* Bind: Landlock lets port A through to the stack (in use by the
         * parent), and stops port B before it. */
        CHECK(tcp_try(ports[0], true) == -EADDRINUSE);
        CHECK(tcp_try(ports[1], true) == -EACCES);
        free(p);
}

static void test_tcp(void **state) {
        (void) state;
        uint16_t ports[2] = { 0, 0 };
        int fa, fb;

        require_abi(4);
        fa = tcp_listen(&ports[0]);
        fb = tcp_listen(&ports[1]);
        assert_true(fa >= 0 && fb >= 0);
        in_child(child_tcp, ports);
        assert_int_equal(close(fa), 0);
        assert_int_equal(close(fb), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_abi_version),
                cmocka_unit_test(test_disabled),
                cmocka_unit_test_setup_teardown(test_fs, dirs_setup, dirs_teardown),
                cmocka_unit_test(test_missing_mount),
                cmocka_unit_test_setup_teardown(test_symlink_refused, dirs_setup, dirs_teardown),
                cmocka_unit_test(test_scope_signal),
                cmocka_unit_test(test_scope_abstract_unix),
                cmocka_unit_test(test_tcp),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* The cgroup device program: shape of the generated instructions, then, when
 * running as root with bpf(2) available, that the verifier accepts it and
 * that the kernel enforces it on a throw-away cgroup (open of a listed
 * device allowed, of an unlisted one and mknod denied; the cgroup is killed
 * and removed by cgroup_destroy). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"
#include "fileio.h"
#include "macro.h"

#define MAX_TEST_INSNS 512

static struct jail_device dev(unsigned major, unsigned minor, bool is_block) {
        struct jail_device d;

        memset(&d, 0, sizeof d);
        d.major = major;
        d.minor = minor;
        d.is_block = is_block;
        return d;
}

static bool is_exit(const struct bpf_insn *i) {
        return i->code == (BPF_JMP | BPF_EXIT);
}

/* Every branch lands inside the program, every path ends in an exit that
 * follows "r0 = 0|1", and the program denies by default. */
static void check_shape(const struct bpf_insn *insns, int count, unsigned allowed) {
        unsigned exits = 0;

        assert_int_equal(count, 7 + 5 * (int) allowed + 2);
        assert_int_equal(insns[0].code, BPF_LDX | BPF_MEM | BPF_W);
        assert_int_equal(insns[0].src_reg, BPF_REG_1);
        assert_int_equal(insns[0].off, offsetof(struct bpf_cgroup_dev_ctx, access_type));
        assert_true(is_exit(&insns[count - 1]));
        assert_int_equal(insns[count - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
        assert_int_equal(insns[count - 2].dst_reg, BPF_REG_0);
        assert_int_equal(insns[count - 2].imm, 0);

        for (int i = 0; i < count; i++) {
                const struct bpf_insn *in = &insns[i];

                if (is_exit(in)) {
                        exits++;
                        assert_true(i > 0);
                        assert_int_equal(insns[i - 1].code, BPF_ALU64 | BPF_MOV | BPF_K);
                        assert_int_equal(insns[i - 1].dst_reg, BPF_REG_0);
                        assert_true(insns[i - 1].imm == 0 || insns[i - 1].imm == 1);
                } else if (BPF_CLASS(in->code) == BPF_JMP) {
                        int target = i + 1 + in->off;
                        assert_true(in->off >= 0); /* forward only: no loops */
                        assert_true(target < count);
                }
        }
        assert_int_equal(exits, allowed + 1);

        /* mknod is refused before any device is looked at. */
        assert_int_equal(insns[6].code, BPF_JMP | BPF_JSET | BPF_K);
        assert_int_equal(6 + 1 + insns[6].off, count - 2);
        assert_true(insns[6].imm & BPF_DEVCG_ACC_MKNOD);
        assert_false(insns[6].imm & (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE));
}

static void test_build_shape(void **state) {
        struct jail_device devs[] = { dev(1, 3, false), dev(0, 0, false) /* unresolved optional */,
                                      dev(8, 0, true), dev(136, 1048575, false) };
        struct bpf_insn insns[MAX_TEST_INSNS];
        int n;

        (void) state;
        n = cgroup_device_prog_build(devs, ELEMENTSOF(devs), insns, ELEMENTSOF(insns));
        check_shape(insns, n, 3);

        /* Device blocks in order: type, major, minor compared, then allow. */
        const struct { int type; unsigned major, minor; } want[] = {
                { BPF_DEVCG_DEV_CHAR, 1, 3 }, { BPF_DEVCG_DEV_BLOCK, 8, 0 }, { BPF_DEVCG_DEV_CHAR, 136, 1048575 }
        };
        for (unsigned d = 0; d < ELEMENTSOF(want); d++) {
                const struct bpf_insn *b = &insns[7 + 5 * d];
                assert_int_equal(b[0].code, BPF_JMP | BPF_JNE | BPF_K);
                assert_int_equal(b[0].imm, want[d].type);
                assert_int_equal(b[1].imm, (int32_t) want[d].major);
                assert_int_equal(b[2].imm, (int32_t) want[d].minor);
                assert_int_equal(b[3].imm, 1);
                assert_true(is_exit(&b[4]));
        }
}

static void test_build_empty(void **state) {
        struct bpf_insn insns[16];
        int n;

        (void) state;
        n = cgroup_device_prog_build(NULL, 0, insns, ELEMENTSOF(insns));
        check_shape(insns, n, 0);
}

static void test_build_too_small(void **state) {
        struct jail_device devs[] = { dev(1, 3, false), dev(1, 5, false) };
        struct bpf_insn insns[MAX_TEST_INSNS];
        int n;

        (void) state;
        n = cgroup_device_prog_build(devs, 2, insns, ELEMENTSOF(insns));
        assert_int_equal(n, 19);
        assert_int_equal(cgroup_device_prog_build(devs, 2, insns, (size_t) n - 1), -E2BIG);
        assert_int_equal(cgroup_device_prog_build(devs, 2, insns, 0), -E2BIG);
        assert_int_equal(cgroup_device_prog_build(devs, 2, insns, (size_t) n), n);
}

static void test_build_invalid(void **state) {
        struct jail_device bad = dev(UINT_MAX, 0, false);
        struct bpf_insn insns[16];

        (void) state;
        assert_int_equal(cgroup_device_prog_build(&bad, 1, insns, ELEMENTSOF(insns)), -EINVAL);
        assert_int_equal(cgroup_device_prog_build(NULL, 1, insns, ELEMENTSOF(insns)), -EINVAL);
        assert_int_equal(cgroup_device_prog_build(NULL, 0, NULL, 16), -EINVAL);
}

/* --------------------------------------------------------- with the kernel -- */

static int load(const struct bpf_insn *insns, int count, char *log, size_t log_size) {
        union bpf_attr a;

        memset(&a, 0, sizeof a);
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t) (uintptr_t) insns;
        a.insn_cnt = (uint32_t) count;
        a.license = (uint64_t) (uintptr_t) "MIT";
        a.log_buf = (uint64_t) (uintptr_t) log;
        a.log_size = (uint32_t) log_size;
        a.log_level = 1;
        return (int) syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof a);
}

static void test_verifier_accepts(void **state) {
        struct jail_device devs[JAIL_MAX_DEVICES];
        struct bpf_insn insns[MAX_TEST_INSNS];
        static char log[64 * 1024];

        (void) state;
        if (geteuid() != 0)
                skip();
        for (unsigned i = 0; i < ELEMENTSOF(devs); i++)
                devs[i] = dev(1 + i, i, i % 2 == 0);
        for (unsigned n = 0; n <= ELEMENTSOF(devs); n += ELEMENTSOF(devs) / 2) {
                int count = cgroup_device_prog_build(devs, n, insns, ELEMENTSOF(insns));
                assert_true(count > 0);
                log[0] = '\0';
                int fd = load(insns, count, log, sizeof log);
                if (fd < 0 && (errno == EPERM || errno == ENOSYS))
                        skip();
                if (fd < 0)
                        fail_msg("verifier rejected %d devices: %s\n%s", n, strerror(errno), log);
                (void) close(fd);
        }
}

struct cg_test {
        struct jail_cgroup cg;
        struct jail_profile *p;
        char tmpdir[PATH_MAX];
};

static int setup_cg(void **state) {
        struct cg_test *t = calloc(1, sizeof *t);

        if (!t)
                return -1;
        t->cg = (struct jail_cgroup) JAIL_CGROUP_INIT;
        t->p = calloc(1, sizeof *t->p);
        if (!t->p) {
                free(t);
                return -1;
        }
        *state = t;
        return 0;
}

/* Runs even when an assertion failed: the cgroup must never be left behind. */
static int teardown_cg(void **state) {
        struct cg_test *t = *state;

        (void) cgroup_destroy(&t->cg);
        if (t->tmpdir[0] != '\0')
                (void) rmdir(t->tmpdir);
        free(t->p);
        free(t);
        return 0;
}

/* The test process's own cgroup v2, relative to the mount: the new cgroup
 * is created below it, the least intrusive place on any host. */
static int own_cgroup(char *buf, size_t size) {
        _cleanup_free_ char *s = NULL;
        char *l, *save = NULL;

        if (read_full_file("/proc/self/cgroup", (size_t) 64 << 10, &s, NULL) < 0)
                return -ENOENT;
        for (l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (strncmp(l, "0::/", 4) != 0)
                        continue;
                if ((size_t) snprintf(buf, size, "%s", l + 4) >= size)
                        return -ENAMETOOLONG;
                return 0;
        }
        return -ENOENT;
}

/* Child side: report each expectation as one bit of the exit status. */
static _noreturn_ void probe_devices(const char *tmpdir) {
        int status = 0, fd, dfd;

        fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                status |= 1;
        else
                (void) close(fd);
        fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || errno != EPERM)
                status |= 2;
        if (fd >= 0)
                (void) close(fd);
        /* mknod is denied even for an allowed device. */
        dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = dfd < 0 ? -1 : mknodat(dfd, "null", S_IFCHR | 0600, makedev(1, 3));
        if (r == 0)
                (void) unlinkat(dfd, "null", 0);
        if (dfd < 0 || r == 0 || errno != EPERM)
                status |= 4;
        _exit(status);
}

static pid_t clone_into(int cgroup_fd) {
        struct clone_args args;

        memset(&args, 0, sizeof args);
        args.flags = CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = (uint64_t) cgroup_fd;
        return (pid_t) syscall(__NR_clone3, &args, sizeof args);
}

/* Create a jail cgroup with only /dev/null allowed, or skip the test when
 * this host cannot (not root, no cgroup2, cgroupfs read-only, no bpf). */
static void create_or_skip(struct cg_test *t) {
        struct jail_enforced e;
        struct stat st;
        char mount[JAIL_PATH_MAX], name[JAIL_NAME_MAX];
        const char *tmp = getenv("TMPDIR");

        if (geteuid() != 0 || cgroup_find_mount(mount, sizeof mount) < 0 ||
            own_cgroup(t->p->cgroup_parent, sizeof t->p->cgroup_parent) < 0)
                skip();
        assert_int_equal(stat("/dev/null", &st), 0);

        /* No resource limits: they would make cgroup_create delegate
         * controllers in the existing cgroups above ours. */
        t->p->cgroup = true;
        t->p->device_policy = true;
        t->p->n_devices = 1;
        (void) snprintf(t->p->devices[0].path, sizeof t->p->devices[0].path, "/dev/null");
        t->p->devices[0].major = major(st.st_rdev);
        t->p->devices[0].minor = minor(st.st_rdev);

        (void) snprintf(t->tmpdir, sizeof t->tmpdir, "%s/rempart-test-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
        if (!mkdtemp(t->tmpdir)) {
                t->tmpdir[0] = '\0';
                skip();
        }

        (void) snprintf(name, sizeof name, "rempart-test-%d", (int) getpid());
        memset(&e, 0, sizeof e);
        int r = cgroup_create(t->p, name, &t->cg, &e);
        if (r == -EACCES || r == -EPERM || r == -EROFS)
                skip();
        assert_int_equal(r, 0);
        assert_int_equal(e.cgroup, FEATURE_ENFORCED);
        assert_string_equal(e.cgroup_path, t->cg.path);
        assert_true(t->cg.dir_fd >= 0);
        assert_int_equal(e.cg_memory, FEATURE_OFF);
        assert_int_equal(e.cg_pids, FEATURE_OFF);
        assert_int_equal(cgroup_attach_devices(t->p, &t->cg, &e), 0);
        if (e.cg_devices != FEATURE_ENFORCED)
                skip(); /* bpf(2) unavailable: nothing to enforce */
        assert_true(t->cg.bpf_prog_fd >= 0);
}

static void expect_clean_exit(pid_t pid) {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        /* 1: /dev/null refused, 2: /dev/zero allowed, 4: mknod allowed */
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* Spawned the way the runtime does it: clone3(CLONE_INTO_CGROUP). */
static void test_enforced_clone_into(void **state) {
        struct cg_test *t = *state;
        pid_t pid;

        create_or_skip(t);
        pid = clone_into(t->cg.dir_fd);
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG))
                skip();
        assert_true(pid >= 0);
        if (pid == 0)
                probe_devices(t->tmpdir);
        expect_clean_exit(pid);
}

/* Moved in afterwards through cgroup.procs: the program applies from the
 * first device access after the move. */
static void test_enforced_moved(void **state) {
        struct cg_test *t = *state;
        int go[2];
        char buf[16];
        pid_t pid;

        create_or_skip(t);
        assert_int_equal(pipe2(go, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char c;
                (void) close(go[1]);
                if (read(go[0], &c, 1) != 1)
                        _exit(64);
                probe_devices(t->tmpdir);
        }
        (void) close(go[0]);
        (void) snprintf(buf, sizeof buf, "%d", (int) pid);
        int r = write_string_at(t->cg.dir_fd, "cgroup.procs", buf);
        if (r == 0)
                assert_int_equal(write(go[1], "x", 1), 1);
        (void) close(go[1]); /* without the go, the child exits 64 */
        if (r < 0) {
                int status;
                (void) waitpid(pid, &status, 0);
                fail_msg("cannot move the child into %s: %s", t->cg.path, strerror(-r));
        }
        expect_clean_exit(pid);
}

/* cgroup_destroy kills what is still running, waits and removes the cgroup,
 * even before the caller has reaped its child. */
static void test_destroy_kills(void **state) {
        struct cg_test *t = *state;
        char path[sizeof t->cg.path];
        int status;
        pid_t pid;

        create_or_skip(t);
        pid = clone_into(t->cg.dir_fd);
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG))
                skip();
        assert_true(pid >= 0);
        if (pid == 0) {
                for (;;)
                        (void) pause();
        }
        (void) snprintf(path, sizeof path, "%s", t->cg.path);
        assert_int_equal(cgroup_destroy(&t->cg), 0);
        assert_int_equal(t->cg.dir_fd, -1);
        assert_int_equal(t->cg.bpf_prog_fd, -1);
        assert_int_equal(access(path, F_OK), -1);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        /* Idempotent. */
        assert_int_equal(cgroup_destroy(&t->cg), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_build_shape),
                cmocka_unit_test(test_build_empty),
                cmocka_unit_test(test_build_too_small),
                cmocka_unit_test(test_build_invalid),
                cmocka_unit_test(test_verifier_accepts),
                cmocka_unit_test_setup_teardown(test_enforced_clone_into, setup_cg, teardown_cg),
                cmocka_unit_test_setup_teardown(test_enforced_moved, setup_cg, teardown_cg),
                cmocka_unit_test_setup_teardown(test_destroy_kills, setup_cg, teardown_cg),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* Syscall-heavy loop, to measure what a seccomp filter adds per system call.
 *
 *   bench-syscall-loop [--seccomp|--seccomp-trivial] [--mode MODE] [--iterations N]
 *
 * With --seccomp the process first loads rempart-jail's default filter,
 * built by the jail library from the built-in default profile (the same
 * code path as the jail, minus everything else the jail does), so that the
 * filter alone can be compared with no filter in the same binary.
 * --seccomp-trivial loads a one-instruction "allow everything" filter
 * instead: the cost any filter has (the kernel's seccomp entry path),
 * against which the default filter's own cost can be told apart.
 *
 * Modes (each iteration issues the listed calls):
 *   getppid  getppid()
 *   clock    clock_gettime() through syscall(2), bypassing the vDSO
 *   read     read() of one byte from /dev/zero
 *   mix      the three above (default)
 *   ioctl    ioctl(FIONREAD) on /dev/zero: ioctl has argument checks in
 *            the filter, so the kernel cannot answer it from its per-syscall
 *            "always allowed" cache and runs the BPF program every time,
 *            the slow path of a filter
 *
 * Output, one line, key=value so that scripts can parse it:
 *   mode=mix seccomp=no|default|trivial iterations=N ns_per_syscall=X.XX
 *
 * --compare K measures the three filters (none, trivial, default) K times
 * each, alternating, every measurement in a fresh child process of its
 * own, and prints the medians and the median of the per-round ratios:
 *   mode=mix compare=K iterations=N none=X trivial=Y default=Z
 *   trivial_overhead_pct=A default_overhead_pct=B
 * Measurements a fraction of a second apart see the same machine, which
 * makes this much less noisy than separate runs of the program. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "parse.h"
#include "profile.h"
#include "seccomp-filter.h"

enum mode { MODE_GETPPID, MODE_CLOCK, MODE_READ, MODE_MIX, MODE_IOCTL };
enum filter { FILTER_NONE, FILTER_DEFAULT, FILTER_TRIVIAL, FILTER_COUNT };

#define COMPARE_MAX 1000

static const char *const mode_names[] = {
        [MODE_GETPPID] = "getppid", [MODE_CLOCK] = "clock", [MODE_READ] = "read",
        [MODE_MIX] = "mix",         [MODE_IOCTL] = "ioctl",
};
static const char *const filter_names[] = {
        [FILTER_NONE] = "no", [FILTER_DEFAULT] = "default", [FILTER_TRIVIAL] = "trivial",
};

/* The kernel refuses a filter from a process without no_new_privs (or
 * CAP_SYS_ADMIN); the jail sets it long before loading its filter. */
static int set_no_new_privs(void) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                int r = negative_errno();
                fprintf(stderr, "bench-syscall-loop: cannot set no_new_privs: %s\n", strerror(-r));
                return r;
        }
        return 0;
}

static int load_trivial_filter(void) {
        struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        const struct seccomp_program prog = { .insns = &allow, .len = 1 };
        int r = set_no_new_privs();

        if (r < 0)
                return r;
        r = seccomp_program_load(&prog);
        if (r < 0)
                fprintf(stderr, "bench-syscall-loop: cannot load the seccomp filter: %s\n", strerror(-r));
        return r;
}

static int load_default_filter(void) {
        /* The profile is large (mount and syscall tables): keep it off the stack. */
        _cleanup_free_ struct jail_profile *p = calloc(1, sizeof(*p));
        struct seccomp_program prog = { 0 };
        struct jail_error err = { { 0 } };
        int r;

        if (!p)
                return -ENOMEM;
        profile_init_default(p);
        r = seccomp_build(p, &prog, &err);
        if (r < 0) {
                fprintf(stderr, "bench-syscall-loop: %s\n", err.msg);
                return r;
        }
        r = set_no_new_privs();
        if (r == 0) {
                r = seccomp_program_load(&prog);
                if (r < 0)
                        fprintf(stderr, "bench-syscall-loop: cannot load the seccomp filter: %s\n", strerror(-r));
        }
        seccomp_program_free(&prog);
        return r;
}

static uint64_t now_ns(void) {
        struct timespec ts;

        /* CLOCK_MONOTONIC cannot fail with a valid pointer. */
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int one_read(int fd) {
        char c;
        ssize_t n = read(fd, &c, 1);

        if (n < 0)
                return negative_errno();
        return n == 1 ? 0 : -EIO;
}

static int one_clock(void) {
        struct timespec ts;

        return syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) < 0 ? negative_errno() : 0;
}

/* Run the loop; returns the number of system calls issued, or -errno. */
static int64_t run(enum mode mode, uint64_t iterations, int fd) {
        int n;

        for (uint64_t i = 0; i < iterations; i++) {
                int r = 0;

                switch (mode) {
                case MODE_GETPPID:
                        (void) getppid(); /* cannot fail */
                        break;
                case MODE_CLOCK:
                        r = one_clock();
                        break;
                case MODE_READ:
                        r = one_read(fd);
                        break;
                case MODE_MIX:
                        (void) getppid(); /* cannot fail */
                        r = one_clock();
                        if (r == 0)
                                r = one_read(fd);
                        break;
                case MODE_IOCTL:
                        /* The answer (ENOTTY from /dev/zero, or EACCES under
                         * Landlock's device-ioctl right) does not matter: the
                         * cost of getting it does. */
                        (void) ioctl(fd, FIONREAD, &n);
                        break;
                }
                if (r < 0)
                        return r;
        }
        return (int64_t) (iterations * (mode == MODE_MIX ? 3u : 1u));
}

/* Load the filter, warm up, time the loop.  Returns 0 with *ns_per_call
 * set, or -errno (after a message). */
static int measure(enum filter filter, enum mode mode, uint64_t iterations, int fd, double *ns_per_call) {
        int64_t n;

        if (filter == FILTER_DEFAULT && load_default_filter() < 0)
                return -EPERM;
        if (filter == FILTER_TRIVIAL && load_trivial_filter() < 0)
                return -EPERM;

        /* A short warm-up so that caches and branch predictors hold the
         * loop, not the filter setup. */
        n = run(mode, iterations / 10 + 1, fd);
        if (n >= 0) {
                uint64_t t0 = now_ns();
                n = run(mode, iterations, fd);
                if (n > 0)
                        *ns_per_call = (double) (now_ns() - t0) / (double) n;
        }
        if (n < 0) {
                fprintf(stderr, "bench-syscall-loop: system call failed: %s\n", strerror((int) -n));
                return (int) n;
        }
        return 0;
}

/* The same in a child process (a filter cannot be unloaded), the result
 * handed back through a pipe. */
static int measure_in_child(enum filter filter, enum mode mode, uint64_t iterations, int fd, double *ns_per_call) {
        _cleanup_close_ int rd = -1, wr = -1;
        int pipefd[2], status;
        ssize_t got;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return negative_errno();
        rd = pipefd[0];
        wr = pipefd[1];
        pid_t pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                double v = 0;
                if (measure(filter, mode, iterations, fd, &v) < 0 || write(wr, &v, sizeof v) != (ssize_t) sizeof v)
                        _exit(1);
                _exit(0);
        }
        closep(&wr);
        do
                got = read(rd, ns_per_call, sizeof *ns_per_call);
        while (got < 0 && errno == EINTR);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        if (got != (ssize_t) sizeof *ns_per_call || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        return 0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

/* Median of v[0..n); sorts v. */
static double median(double *v, size_t n) {
        qsort(v, n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int compare(enum mode mode, uint64_t iterations, unsigned rounds, int fd) {
        static double ns[FILTER_COUNT][COMPARE_MAX], ratio[FILTER_COUNT][COMPARE_MAX];
        double med[FILTER_COUNT], over[FILTER_COUNT];

        for (unsigned r = 0; r < rounds; r++)
                for (unsigned k = 0; k < FILTER_COUNT; k++) {
                        /* Rotate the order so that no filter always runs
                         * first, right after the previous round's last. */
                        enum filter f = (enum filter) ((k + r) % FILTER_COUNT);
                        int ret = measure_in_child(f, mode, iterations, fd, &ns[f][r]);
                        if (ret < 0) {
                                fprintf(stderr, "bench-syscall-loop: measurement failed: %s\n", strerror(-ret));
                                return ret;
                        }
                }
        for (unsigned f = 0; f < FILTER_COUNT; f++) {
                for (unsigned r = 0; r < rounds; r++)
                        ratio[f][r] = ns[f][r] / ns[FILTER_NONE][r];
                over[f] = (median(ratio[f], rounds) - 1) * 100;
                med[f] = median(ns[f], rounds);
        }
        if (printf("mode=%s compare=%u iterations=%" PRIu64 " none=%.2f trivial=%.2f default=%.2f"
                   " trivial_overhead_pct=%.2f default_overhead_pct=%.2f\n",
                   mode_names[mode], rounds, iterations, med[FILTER_NONE], med[FILTER_TRIVIAL],
                   med[FILTER_DEFAULT], over[FILTER_TRIVIAL], over[FILTER_DEFAULT]) < 0 ||
            fflush(stdout) != 0)
                return -EIO;
        return 0;
}

static void usage(FILE *f) {
        /* Nothing useful to do if the usage text cannot be written. */
        (void) fputs("Usage: bench-syscall-loop [--seccomp|--seccomp-trivial|--compare K] "
                     "[--mode getppid|clock|read|mix|ioctl] [--iterations N]\n",
                     f);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "seccomp", no_argument, NULL, 's' },
                { "seccomp-trivial", no_argument, NULL, 't' },
                { "compare", required_argument, NULL, 'c' },
                { "mode", required_argument, NULL, 'm' },
                { "iterations", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        enum mode mode = MODE_MIX;
        uint64_t iterations = 1000000;
        enum filter filter = FILTER_NONE;
        uint64_t rounds = 0;
        _cleanup_close_ int fd = -1;
        double ns = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "stc:m:n:h", options, NULL)) >= 0) {
                switch (c) {
                case 's':
                        filter = FILTER_DEFAULT;
                        break;
                case 't':
                        filter = FILTER_TRIVIAL;
                        break;
                case 'c':
                        r = parse_u64(optarg, COMPARE_MAX, &rounds);
                        if (r < 0 || rounds == 0) {
                                fprintf(stderr, "bench-syscall-loop: bad round count '%s' (1-%d)\n", optarg,
                                        COMPARE_MAX);
                                return 2;
                        }
                        break;
                case 'm': {
                        size_t i;
                        for (i = 0; i < ELEMENTSOF(mode_names); i++)
                                if (strcmp(optarg, mode_names[i]) == 0)
                                        break;
                        if (i == ELEMENTSOF(mode_names)) {
                                fprintf(stderr, "bench-syscall-loop: unknown mode '%s'\n", optarg);
                                return 2;
                        }
                        mode = (enum mode) i;
                        break;
                }
                case 'n':
                        /* Bounded so that iterations * 3 cannot overflow. */
                        r = parse_u64(optarg, UINT64_C(1) << 40, &iterations);
                        if (r < 0 || iterations == 0) {
                                fprintf(stderr, "bench-syscall-loop: bad iteration count '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind != argc) {
                usage(stderr);
                return 2;
        }

        fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "bench-syscall-loop: cannot open /dev/zero: %m\n");
                return 1;
        }
        if (rounds > 0)
                return compare(mode, iterations, (unsigned) rounds, fd) < 0 ? 1 : 0;
        if (measure(filter, mode, iterations, fd, &ns) < 0)
                return 1;
        /* The result is the whole point: a failed write is a failed run. */
        if (printf("mode=%s seccomp=%s iterations=%" PRIu64 " ns_per_syscall=%.2f\n", mode_names[mode],
                   filter_names[filter], iterations, ns) < 0 ||
            fflush(stdout) != 0)
                return 1;
        return 0;
}

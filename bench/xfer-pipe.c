/* SPDX-License-Identifier: MIT */
/* Throughput of a transfer's real pipeline: xfer_pack() in a child
 * process writing the stream into a UNIX stream socket (or a pipe), and
 * xfer_unpack() in this process reading it into a fresh staging directory
 * (syncfs() included, as always), like rempart-xfer and the core's parser
 * do, minus the jail and the policy.
 *
 *   bench-xfer-pipe [--pipe] [--sndbuf BYTES] [--pipe-size BYTES]
 *                   [--runs N] [--keep] [--drop-caches]
 *                   [--save FILE | --replay FILE | --discard]
 *                   STAGING-PARENT PATH...
 *
 * Each run creates STAGING-PARENT/xfer-bench.XXXXXX, transfers PATH...
 * into it, and removes it again (untimed), or leaves it with --keep.
 * Removing files just before creating as many slows ext4's inode
 * allocation down for a while (it avoids recently deleted inodes, see
 * recently_deleted() in fs/ext4/ialloc.c): with --keep, a benchmark can
 * remove everything at the end, and wait a minute before the next one.
 *
 * --sndbuf sets SO_SNDBUF on the sender's end and SO_RCVBUF on the
 * receiver's; --pipe-size sets the pipe's capacity (F_SETPIPE_SZ); both
 * are the caller's business in real use.  --drop-caches syncs and drops
 * the page cache before each run (the sender then reads from the disk;
 * root only).
 *
 * One side alone: --save FILE writes the stream of PATH... to FILE and
 * stops; --replay FILE runs the receiver only, its peer writing FILE's
 * bytes (read beforehand) to the transport instead of xfer_pack() (PATH...
 * is then unused); --discard runs the sender only, its peer reading and
 * dropping the stream (bytes= is then the stream's size).
 *
 * Output, key=value so that scripts can parse it, one line per run:
 *   run=1 transport=socket entries=N bytes=B seconds=S mib_s=X
 *   sender_cpu=U receiver_cpu=V
 * (CPU seconds, user + system), then the medians:
 *   median transport=socket runs=N seconds=S mib_s=X */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "pack.h"
#include "unpack.h"

#define RUNS_MAX 1000

static double now(void) {
        struct timespec ts;
        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double cpu_of(const struct rusage *ru) {
        return (double) ru->ru_utime.tv_sec + (double) ru->ru_utime.tv_usec / 1e6 + (double) ru->ru_stime.tv_sec +
               (double) ru->ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y ? 1 : 0;
}

static int drop_caches(void) {
        sync();
        int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, "3\n", 2);
        int r = n == 2 ? 0 : -errno;
        (void) close(fd);
        return r;
}

static void usage(void) {
        fprintf(stderr, "usage: bench-xfer-pipe [--pipe] [--sndbuf BYTES] [--pipe-size BYTES] [--runs N] "
                        "[--keep] [--drop-caches] [--save FILE | --replay FILE | --discard] "
                        "STAGING-PARENT PATH...\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "pipe", no_argument, NULL, 'p' },           { "sndbuf", required_argument, NULL, 's' },
                { "pipe-size", required_argument, NULL, 'P' }, { "runs", required_argument, NULL, 'n' },
                { "drop-caches", no_argument, NULL, 'd' },    { "keep", no_argument, NULL, 'k' },
                { "save", required_argument, NULL, 'S' },     { "replay", required_argument, NULL, 'R' },
                { "discard", no_argument, NULL, 'D' },        { NULL, 0, NULL, 0 },
        };
        static const struct xfer_limits limits = { .max_files = UINT64_C(10000000), .max_bytes = UINT64_C(1) << 42 };
        bool use_pipe = false, drop = false, keep = false, discard = false;
        const char *save = NULL, *replay = NULL;
        _cleanup_free_ uint8_t *replay_buf = NULL;
        size_t replay_len = 0;
        long sndbuf = 0, pipe_size = 0, runs = 1;
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                switch (c) {
                case 'p':
                        use_pipe = true;
                        break;
                case 's':
                        sndbuf = strtol(optarg, NULL, 0);
                        break;
                case 'P':
                        pipe_size = strtol(optarg, NULL, 0);
                        break;
                case 'n':
                        runs = strtol(optarg, NULL, 0);
                        break;
                case 'd':
                        drop = true;
                        break;
                case 'k':
                        keep = true;
                        break;
                case 'S':
                        save = optarg;
                        break;
                case 'R':
                        replay = optarg;
                        break;
                case 'D':
                        discard = true;
                        break;
                default:
                        usage();
                        return 2;
                }
        if (argc - optind < 2 || runs < 1 || runs > RUNS_MAX) {
                usage();
                return 2;
        }
        const char *parent = argv[optind];
        const char *const *paths = (const char *const *) argv + optind + 1;
        size_t n_paths = (size_t) (argc - optind - 1);
        const char *transport = use_pipe ? "pipe" : "socket";
        if (save) {
                char why[512];
                int fd = open(save, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0) {
                        fprintf(stderr, "%s: %s\n", save, strerror(errno));
                        return 1;
                }
                int r = xfer_pack(fd, AT_FDCWD, paths, n_paths, NULL, why, sizeof why);
                if (r < 0 || close(fd) < 0) {
                        fprintf(stderr, "pack: %s (%s)\n", why, strerror(r < 0 ? -r : errno));
                        return 1;
                }
                return 0;
        }
        if (replay) {
                struct stat st;
                int fd = open(replay, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0) {
                        fprintf(stderr, "%s: %s\n", replay, strerror(errno));
                        return 1;
                }
                replay_len = (size_t) st.st_size;
                replay_buf = malloc(replay_len + 1);
                if (!replay_buf || read_exact(fd, replay_buf, replay_len) < 0) {
                        fprintf(stderr, "%s: cannot read it\n", replay);
                        return 1;
                }
                (void) close(fd);
        }
        double secs[RUNS_MAX] = { 0 };
        uint64_t bytes = 0;

        for (long run = 1; run <= runs; run++) {
                char staging[PATH_MAX];
                int fds[2];

                if (drop && drop_caches() < 0) {
                        fprintf(stderr, "cannot drop the page cache: %s\n", strerror(errno));
                        return 1;
                }
                if (snprintf(staging, sizeof staging, "%s/xfer-bench.XXXXXX", parent) >= (int) sizeof staging ||
                    !mkdtemp(staging)) {
                        fprintf(stderr, "cannot create a staging directory in %s: %s\n", parent, strerror(errno));
                        return 1;
                }
                int staging_fd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (staging_fd < 0) {
                        fprintf(stderr, "%s: %s\n", staging, strerror(errno));
                        return 1;
                }
                if (use_pipe ? pipe2(fds, O_CLOEXEC) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds)) {
                        fprintf(stderr, "cannot create the transport: %s\n", strerror(errno));
                        return 1;
                }
                /* fds[0]: the receiver's end, fds[1]: the sender's. */
                if (use_pipe && pipe_size > 0 && fcntl(fds[1], F_SETPIPE_SZ, (int) pipe_size) < 0)
                        fprintf(stderr, "F_SETPIPE_SZ: %s\n", strerror(errno));
                if (!use_pipe && sndbuf > 0) {
                        int v = (int) sndbuf;
                        if (setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &v, sizeof v) < 0 ||
                            setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v) < 0)
                                fprintf(stderr, "setsockopt: %s\n", strerror(errno));
                }
                struct rusage self0, self1, child;
                (void) getrusage(RUSAGE_SELF, &self0);
                double t0 = now();
                pid_t pid = fork();
                if (pid < 0) {
                        fprintf(stderr, "fork: %s\n", strerror(errno));
                        return 1;
                }
                if (pid == 0) {
                        char why[512] = "";
                        (void) close(fds[0]);
                        int r = replay ? write_all(fds[1], replay_buf, replay_len)
                                       : xfer_pack(fds[1], AT_FDCWD, paths, n_paths, NULL, why, sizeof why);
                        if (r < 0)
                                fprintf(stderr, "pack: %s (%s)\n", why, strerror(-r));
                        _exit(r < 0 ? 1 : 0);
                }
                (void) close(fds[1]);
                struct xfer_manifest *m = NULL;
                char why[512] = "";
                int r;
                if (discard) {
                        static uint8_t sink[1 << 20];
                        uint64_t total = 0;
                        ssize_t n;
                        while ((n = read(fds[0], sink, sizeof sink)) > 0)
                                total += (uint64_t) n;
                        r = n < 0 ? -errno : 0;
                        m = calloc(1, sizeof *m);
                        if (!m)
                                return 1;
                        m->total_bytes = total; /* the stream's size */
                } else
                        r = xfer_unpack(fds[0], staging_fd, &limits, &m, why, sizeof why);
                double t1 = now();
                (void) getrusage(RUSAGE_SELF, &self1);
                (void) close(fds[0]);
                int status = 0;
                if (wait4(pid, &status, 0, &child) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "the sender failed\n");
                        r = r < 0 ? r : -EIO;
                }
                if (r < 0) {
                        fprintf(stderr, "unpack: %s (%s)\n", why, strerror(-r));
                        xfer_manifest_free(m);
                        return 1;
                }
                secs[run - 1] = t1 - t0;
                bytes = m->total_bytes;
                printf("run=%ld transport=%s entries=%zu bytes=%" PRIu64
                       " seconds=%.3f mib_s=%.1f sender_cpu=%.3f receiver_cpu=%.3f\n",
                       run, transport, m->n_entries, m->total_bytes, t1 - t0,
                       (double) m->total_bytes / (1024.0 * 1024.0) / (t1 - t0), cpu_of(&child),
                       cpu_of(&self1) - cpu_of(&self0));
                (void) fflush(stdout);
                xfer_manifest_free(m);
                r = keep ? 0 : xfer_staging_clear(staging_fd);
                (void) close(staging_fd);
                if (r < 0 || (!keep && rmdir(staging) < 0)) {
                        fprintf(stderr, "cannot remove %s\n", staging);
                        return 1;
                }
        }
        qsort(secs, (size_t) runs, sizeof *secs, cmp_double);
        double med = runs % 2 ? secs[runs / 2] : (secs[runs / 2 - 1] + secs[runs / 2]) / 2;
        printf("median transport=%s runs=%ld seconds=%.3f mib_s=%.1f\n", transport, runs, med,
               (double) bytes / (1024.0 * 1024.0) / med);
        return 0;
}

/* SPDX-License-Identifier: MIT */
/* rempart-probe: the escape battery's runner and shared helpers.
 *
 *   rempart-probe [--list] [--only NAME[,NAME...]] [--host-pid PID]
 *                 [--marker PATH] [--abstract NAME] [--unix-path PATH]
 *                 [--tcp-port N] [--udp-port N] [--suid PATH] [--device PATH]
 *                 [--pids N] [--mem-mib N]
 *   rempart-probe --serve-fixtures [--abstract NAME] [--unix-path PATH]
 *   rempart-probe --noop | --print-euid      (helper modes used by probes)
 *
 * Output: one line per probe
 *   PROBE <name> <ALLOWED|DENIED|ERROR|SKIP> <detail>
 * then "SUMMARY allowed=N denied=N error=N skip=N".  The exit status is 0
 * when the battery ran (whatever the verdicts), 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define DEFAULT_TIMEOUT 10

/* ---------------------------------------------------------------- results */

void set_result(struct probe_result *r, enum probe_status s, const char *fmt, ...) {
        va_list ap;

        r->status = s;
        va_start(ap, fmt);
        (void) vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
        va_end(ap);
}

void buf_append(char *buf, size_t size, const char *fmt, ...) {
        size_t len = strnlen(buf, size);
        va_list ap;

        if (len + 1 >= size)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(buf + len, size - len, fmt, ap); /* truncation is fine: a report line */
        va_end(ap);
}

void append_detail(struct probe_result *r, const char *fmt, ...) {
        size_t len = strnlen(r->detail, sizeof(r->detail));
        va_list ap;

        if (len + 1 >= sizeof(r->detail))
                return;
        va_start(ap, fmt);
        (void) vsnprintf(r->detail + len, sizeof(r->detail) - len, fmt, ap);
        va_end(ap);
}

const char *errname(int err) {
        const char *n = strerrorname_np(err);
        return n ? n : "E?";
}

bool is_denial(int err) {
        return err == EPERM || err == EACCES || err == EROFS;
}

void judge_err(struct probe_result *r, long rc, int err, int past_check, const char *what) {
        if (rc >= 0)
                set_result(r, PROBE_ALLOWED, "%s", what);
        else if (past_check != 0 && err == past_check)
                set_result(r, PROBE_ALLOWED, "%s after the permission check (%s)", errname(err), what);
        else if (is_denial(err))
                set_result(r, PROBE_DENIED, "%s", errname(err));
        else
                set_result(r, PROBE_ERROR, "%s: %s", errname(err), strerror(err));
}

void judge(struct probe_result *r, long rc, int past_check, const char *what) {
        judge_err(r, rc, errno, past_check, what);
}

void judge_visible_err(struct probe_result *r, long rc, int err, const char *what) {
        if (rc < 0 && (err == ENOENT || err == ESRCH))
                set_result(r, PROBE_DENIED, "%s (not visible)", errname(err));
        else
                judge_err(r, rc, err, 0, what);
}

void judge_visible(struct probe_result *r, long rc, const char *what) {
        judge_visible_err(r, rc, errno, what);
}

/* ---------------------------------------------------------------- helpers */

ssize_t read_small(const char *path, char *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                n = -errno;
        else
                buf[n] = '\0';
        (void) close(fd); /* read-only: nothing to flush */
        return n;
}

int spawn_wait(int dirfd, const char *path, char *const argv[], int flags, int out_fd) {
        int pfd[2], status, err = 0;
        pid_t pid;
        ssize_t n;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                err = errno;
                (void) close(pfd[0]);
                (void) close(pfd[1]);
                return -err;
        }
        if (pid == 0) {
                static char *const env[] = { "PATH=/usr/bin:/bin", NULL };
                int devnull = open("/dev/null", O_WRONLY);

                (void) close(pfd[0]);
                if (out_fd >= 0)
                        (void) dup2(out_fd, STDOUT_FILENO);
                if (devnull >= 0)
                        (void) dup2(devnull, STDERR_FILENO);
                (void) execveat(dirfd, path, argv, env, flags);
                err = errno;
                /* Best effort: the parent reads 0 bytes and sees a failed
                 * wait status if this write fails. */
                (void) !write(pfd[1], &err, sizeof(err));
                _exit(127);
        }
        (void) close(pfd[1]);
        do
                n = read(pfd[0], &err, sizeof(err));
        while (n < 0 && errno == EINTR);
        (void) close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (n == (ssize_t) sizeof(err))
                return -err;
        return status;
}

int copy_self(int fd) {
        int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        struct stat st;
        off_t off = 0;
        int r = 0;

        if (src < 0)
                return -errno;
        if (fstat(src, &st) < 0)
                r = -errno;
        while (r == 0 && off < st.st_size) {
                ssize_t n = sendfile(fd, src, &off, (size_t) (st.st_size - off));
                if (n < 0)
                        r = -errno;
                else if (n == 0)
                        r = -EIO;
        }
        (void) close(src);
        return r;
}

int make_exec_copy(const char *dir) {
        static unsigned counter;
        char path[PATH_MAX], proc[64];
        int w, ro, r;
        bool named = false;

        w = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0700);
        if (w < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
                /* No O_TMPFILE here: a uniquely named file, removed below. */
                (void) snprintf(path, sizeof(path), "%s/.rempart-probe-%d-%u", strcmp(dir, "/") ? dir : "",
                                (int) getpid(), counter++);
                w = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0700);
                named = true;
        }
        if (w < 0)
                return -errno;
        r = copy_self(w);
        if (r < 0) {
                if (named)
                        (void) unlink(path);
                (void) close(w);
                return r;
        }
        /* A file still open for writing cannot be executed (ETXTBSY):
         * reopen it read-only and drop the writable descriptor. */
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w);
        ro = open(named ? path : proc, O_RDONLY | O_CLOEXEC);
        if (ro < 0)
                r = -errno;
        if (named)
                (void) unlink(path);
        (void) close(w);
        return ro < 0 ? r : ro;
}

int try_exec_fd(int fd, int *err) {
        char *const argv[] = { "rempart-probe", "--noop", NULL };
        int st = spawn_wait(fd, "", argv, AT_EMPTY_PATH, -1);

        if (st < 0) {
                *err = -st;
                return is_denial(-st) ? 0 : st;
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_NOOP_EXIT)
                return 1;
        return -EPROTO;
}

int in_grandchild(int (*fn)(void *), void *arg) {
        int pfd[2], res = 0, status;
        pid_t pid;
        ssize_t n;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                res = -errno;
                (void) close(pfd[0]);
                (void) close(pfd[1]);
                return res;
        }
        if (pid == 0) {
                (void) close(pfd[0]);
                res = fn(arg);
                (void) !write(pfd[1], &res, sizeof(res)); /* parent sees a short read */
                _exit(0);
        }
        (void) close(pfd[1]);
        do
                n = read(pfd[0], &res, sizeof(res));
        while (n < 0 && errno == EINTR);
        (void) close(pfd[0]);
        (void) waitpid(pid, &status, 0);
        return n == (ssize_t) sizeof(res) ? res : -EPROTO;
}

/* ---------------------------------------------------------------- runner */

static const struct probe *const tables[] = { probes_fs, probes_mount, probes_proc, probes_kernel, probes_net };

static const char *status_name(enum probe_status s) {
        switch (s) {
        case PROBE_ALLOWED: return "ALLOWED";
        case PROBE_DENIED: return "DENIED";
        case PROBE_SKIP: return "SKIP";
        case PROBE_ERROR: break;
        }
        return "ERROR";
}

/* Read the probe child's verdict and reap it.  Grandchildren may hold the
 * pipe open after the child died (a paused fork_bomb child, say), so EOF
 * is not awaited: once the child is reaped, what it wrote is already in the
 * pipe.  Returns the bytes read; *status is the wait status, or -1 if the
 * child had to be killed after timeout seconds. */
static size_t collect(pid_t pid, int fd, struct probe_result *r, unsigned timeout, int *status) {
        size_t got = 0;

        for (unsigned ticks = 0;; ticks++) {
                struct pollfd pf = { .fd = fd, .events = POLLIN };
                ssize_t n;

                if (waitpid(pid, status, WNOHANG) == pid) {
                        /* Reaped: drain what it wrote without blocking. */
                        while (got < sizeof(*r) && poll(&pf, 1, 0) > 0 &&
                               (n = read(fd, (char *) r + got, sizeof(*r) - got)) > 0)
                                got += (size_t) n;
                        return got;
                }
                if (ticks >= timeout * 10) {
                        (void) kill(-pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                        *status = -1;
                        return 0;
                }
                if (poll(&pf, 1, 100) <= 0)
                        continue;
                n = read(fd, (char *) r + got, sizeof(*r) - got);
                if (n > 0)
                        got += (size_t) n;
                /* A full verdict or EOF: the child is exiting right now. */
                if (got == sizeof(*r) || n == 0) {
                        while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                                ;
                        return got;
                }
        }
}

static void run_one(const struct probe *p, const struct probe_ctx *ctx, struct probe_result *r) {
        int pfd[2], status;
        size_t got;
        pid_t pid;

        set_result(r, PROBE_ERROR, "no result");
        if (pipe2(pfd, O_CLOEXEC) < 0) {
                set_result(r, PROBE_ERROR, "pipe: %s", errname(errno));
                return;
        }
        (void) fflush(stdout);
        pid = fork();
        if (pid < 0) {
                set_result(r, PROBE_ERROR, "fork: %s", errname(errno));
                (void) close(pfd[0]);
                (void) close(pfd[1]);
                return;
        }
        if (pid == 0) {
                struct probe_result res;

                (void) close(pfd[0]);
                /* Own process group: the runner kills stragglers (fork_bomb
                 * children, paused tracees) with one kill(-pgid). */
                (void) setpgid(0, 0);
                (void) alarm(p->timeout ? p->timeout : DEFAULT_TIMEOUT);
                set_result(&res, PROBE_ERROR, "probe returned no verdict");
                p->fn(ctx, &res);
                (void) !write(pfd[1], &res, sizeof(res)); /* short read = ERROR below */
                _exit(0);
        }
        (void) setpgid(pid, pid); /* also here: no race with the kill below */
        (void) close(pfd[1]);
        got = collect(pid, pfd[0], r, (p->timeout ? p->timeout : DEFAULT_TIMEOUT) + 5, &status);
        (void) close(pfd[0]);
        (void) kill(-pid, SIGKILL); /* stragglers; ESRCH when nothing is left */
        if (got == sizeof(*r) && (unsigned) r->status <= PROBE_SKIP) {
                r->detail[sizeof(r->detail) - 1] = '\0';
                return;
        }
        if (status == -1) {
                set_result(r, PROBE_ERROR, "timeout (probe did not end)");
        } else if (WIFSIGNALED(status)) {
                int sig = WTERMSIG(status);
                if (sig == SIGSYS)
                        set_result(r, PROBE_DENIED, "killed by SIGSYS (seccomp)");
                else if (sig == SIGKILL && p->killed_contains)
                        set_result(r, PROBE_DENIED, "probe killed by SIGKILL (contained)");
                else if (sig == SIGALRM)
                        set_result(r, PROBE_ERROR, "timeout");
                else
                        set_result(r, PROBE_ERROR, "killed by %s", sigabbrev_np(sig) ?: "?");
        } else {
                set_result(r, PROBE_ERROR, "no result (exit status %d)", WEXITSTATUS(status));
        }
}

static bool selected(const char *name, const char *only) {
        size_t len = strlen(name);
        const char *p = only;

        if (!only)
                return true;
        while ((p = strstr(p, name))) {
                if ((p == only || p[-1] == ',') && (p[len] == '\0' || p[len] == ','))
                        return true;
                p += len;
        }
        return false;
}

static int run_battery(const struct probe_ctx *ctx, const char *only) {
        unsigned counts[4] = { 0 }, n = 0;

        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct probe *p = tables[t]; p->name; p++) {
                        struct probe_result r;

                        if (!selected(p->name, only))
                                continue;
                        run_one(p, ctx, &r);
                        /* One line each: the detail never contains a newline. */
                        for (char *c = r.detail; *c; c++)
                                if (*c == '\n')
                                        *c = ' ';
                        printf("PROBE %s %s %s\n", p->name, status_name(r.status), r.detail);
                        (void) fflush(stdout);
                        counts[r.status]++;
                        n++;
                }
        printf("SUMMARY probes=%u allowed=%u denied=%u error=%u skip=%u\n", n, counts[PROBE_ALLOWED],
               counts[PROBE_DENIED], counts[PROBE_ERROR], counts[PROBE_SKIP]);
        return n == 0 ? 2 : 0;
}

static void list_probes(void) {
        for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
                for (const struct probe *p = tables[t]; p->name; p++)
                        printf("%-26s %s\n", p->name, p->what);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *f) {
        (void) fputs("usage: rempart-probe [--list] [--only NAME[,NAME...]] [--host-pid PID] [--marker PATH]\n"
              "                     [--abstract NAME] [--unix-path PATH] [--tcp-port N] [--udp-port N]\n"
              "                     [--suid PATH] [--device PATH] [--pids N] [--mem-mib N]\n"
              "       rempart-probe --serve-fixtures [--abstract NAME] [--unix-path PATH]\n"
              "       rempart-probe --noop | --print-euid\n",
              f);
}

static int parse_uint(const char *s, unsigned max, unsigned *out) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v > max)
                return -EINVAL;
        *out = (unsigned) v;
        return 0;
}

static void record_inherited(struct probe_ctx *ctx) {
        for (int fd = 3; fd < 256 && ctx->n_inherited < PROBE_MAX_INHERITED; fd++)
                if (fcntl(fd, F_GETFD) >= 0)
                        ctx->inherited[ctx->n_inherited++] = fd;
}

int main(int argc, char *argv[]) {
        struct probe_ctx ctx = { .pids = 200, .mem_mib = 256 };
        const char *only = NULL;
        bool serve = false;
        int r;

        /* Before anything opens a descriptor of its own. */
        record_inherited(&ctx);

        if (argc == 2 && strcmp(argv[1], "--noop") == 0)
                return PROBE_NOOP_EXIT;
        if (argc == 2 && strcmp(argv[1], "--print-euid") == 0) {
                printf("%u\n", (unsigned) geteuid());
                return 0;
        }
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                unsigned u = 0;
                bool ok = true;

                if (strcmp(a, "--list") == 0) {
                        list_probes();
                        return 0;
                } else if (strcmp(a, "--serve-fixtures") == 0) {
                        serve = true;
                        continue;
                } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        usage(stdout);
                        return 0;
                }
                if (!v) {
                        usage(stderr);
                        return 2;
                }
                i++;
                if (strcmp(a, "--only") == 0) {
                        only = v;
                } else if (strcmp(a, "--host-pid") == 0) {
                        ok = parse_uint(v, INT_MAX, &u) == 0 && u > 0;
                        ctx.host_pid = (pid_t) u;
                } else if (strcmp(a, "--marker") == 0) {
                        ctx.marker = v;
                } else if (strcmp(a, "--abstract") == 0) {
                        ctx.abstract_name = v;
                } else if (strcmp(a, "--unix-path") == 0) {
                        ctx.unix_path = v;
                } else if (strcmp(a, "--tcp-port") == 0) {
                        ok = parse_uint(v, 65535, &u) == 0;
                        ctx.tcp_port = (int) u;
                } else if (strcmp(a, "--udp-port") == 0) {
                        ok = parse_uint(v, 65535, &u) == 0;
                        ctx.udp_port = (int) u;
                } else if (strcmp(a, "--suid") == 0) {
                        ctx.suid = v;
                } else if (strcmp(a, "--device") == 0) {
                        ctx.device = v;
                } else if (strcmp(a, "--pids") == 0) {
                        ok = parse_uint(v, 4096, &ctx.pids) == 0;
                } else if (strcmp(a, "--mem-mib") == 0) {
                        ok = parse_uint(v, 65536, &ctx.mem_mib) == 0;
                } else {
                        ok = false;
                }
                if (!ok) {
                        fprintf(stderr, "rempart-probe: bad option or value: %s %s\n", a, v);
                        usage(stderr);
                        return 2;
                }
        }
        if (serve)
                return serve_fixtures(ctx.abstract_name, ctx.unix_path);

        /* Line-buffered so that a driver sees progress. */
        (void) setvbuf(stdout, NULL, _IOLBF, 0);
        /* A private scratch directory for the probes that need a place to
         * create things; removed at the end (probes clean up after
         * themselves, so rmdir suffices). */
        (void) snprintf(ctx.workdir, sizeof(ctx.workdir), "/tmp/rempart-probe.XXXXXX");
        if (!mkdtemp(ctx.workdir)) {
                fprintf(stderr, "rempart-probe: warning: no scratch directory in /tmp: %s\n", strerror(errno));
                ctx.workdir[0] = '\0';
        }
        r = run_battery(&ctx, only);
        if (ctx.workdir[0] && rmdir(ctx.workdir) < 0)
                fprintf(stderr, "rempart-probe: warning: cannot remove %s: %s\n", ctx.workdir, strerror(errno));
        if (r == 2)
                fprintf(stderr, "rempart-probe: no probe matched --only %s\n", only ? only : "");
        return r;
}

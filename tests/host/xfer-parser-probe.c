/* SPDX-License-Identifier: MIT */
/* Escape probes for the transfer parser's jail (src/xfer/parser-jail.h).
 *
 *   xfer-parser-probe [--no-jail] UID GID STAGING_DIR PROBE
 *
 * Sets up the descriptors the parser gets (0 /dev/null, 1 stdout, 2
 * stderr, 3 the staging directory), enters the jail (or, with --no-jail,
 * only becomes UID:GID, so that the same probe can be shown to work
 * outside), tries one thing and prints "OK" (it worked) or "DENIED errno".
 * A probe that the seccomp filter forbids kills the process with SIGSYS:
 * the test reads the exit status. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "parser-jail.h"

static int result(int r) {
        if (r >= 0)
                printf("OK\n");
        else
                printf("DENIED %s\n", strerror(errno));
        (void) fflush(stdout);
        /* _exit: in the jail, a sanitizer's exit-time leak check could
         * not read /proc (Landlock) nor trace itself (seccomp). */
        _exit(0);
}

int main(int argc, char **argv) {
        bool jail = true;
        int a = 1;
        if (argc == 2 && strcmp(argv[1], "--sanitized") == 0) {
                printf("%d\n", XFER_PARSER_SANITIZED);
                return 0;
        }
        if (argc > 1 && strcmp(argv[1], "--no-jail") == 0) {
                jail = false;
                a++;
        }
        if (argc - a != 4) {
                fprintf(stderr, "usage: xfer-parser-probe [--no-jail] UID GID STAGING_DIR PROBE\n");
                return 2;
        }
        uid_t uid = (uid_t) strtoul(argv[a], NULL, 10);
        gid_t gid = (gid_t) strtoul(argv[a + 1], NULL, 10);
        const char *probe = argv[a + 3];
        /* A socket anyone may connect to (socket-unix), read now: the
         * jail leaves no way to read the environment's files later. */
        const char *sock_path = getenv("PROBE_SOCKET") ? getenv("PROBE_SOCKET") : "/run/systemd/journal/stdout";
        int st = open(argv[a + 2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (st < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(st, 3) < 0) {
                perror("setup");
                return 2;
        }
        if (syscall(SYS_close_range, 4U, ~0U, 0) < 0) {
                perror("close_range");
                return 2;
        }
        if (jail) {
                struct seccomp_program prog;
                struct jail_error err = { { 0 } };
                char why[512];
                if (xfer_parser_filter_build(&prog, &err) < 0) {
                        fprintf(stderr, "filter: %s\n", err.msg);
                        return 2;
                }
                if (xfer_parser_enter(&prog, uid, gid, 1 << 20, why, sizeof why) < 0) {
                        fprintf(stderr, "enter: %s\n", why);
                        return 2;
                }
        } else if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
                perror("setresuid");
                return 2;
        }

        if (strcmp(probe, "write-staging") == 0) { /* the positive control: allowed */
                int fd = openat(3, "probe-file", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                return result(fd >= 0 && write(fd, "x", 1) == 1 && mkdirat(3, "probe-dir", 0700) == 0 ? 0 : -1);
        }
        if (strcmp(probe, "read-etc") == 0)
                return result(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
        if (strcmp(probe, "write-tmp") == 0) /* a place the user may write */
                return result(open("/var/tmp", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600));
        if (strcmp(probe, "escape-dotdot") == 0) /* out of the staging directory by its parent */
                return result(openat(3, "../probe-escape", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (strcmp(probe, "socket-inet") == 0)
                return result(socket(AF_INET, SOCK_STREAM, 0));
        if (strcmp(probe, "socket-unix") == 0) {
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                (void) snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
                return result(fd >= 0 ? connect(fd, (struct sockaddr *) &sa, sizeof sa) : -1);
        }
        if (strcmp(probe, "exec") == 0) {
                char *const args[] = { (char *) "/bin/echo", (char *) "OK", NULL };
                return result(execv("/bin/echo", args));
        }
        if (strcmp(probe, "fork") == 0) {
                pid_t p = fork();
                if (p == 0)
                        _exit(0);
                if (p > 0)
                        (void) waitpid(p, NULL, 0);
                return result(p);
        }
        if (strcmp(probe, "mmap-exec") == 0) {
                void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                return result(m == MAP_FAILED ? -1 : 0);
        }
        if (strcmp(probe, "kill") == 0) /* signal 0 to itself: is kill(2) there at all */
                return result(kill(getpid(), 0));
        if (strcmp(probe, "ptrace") == 0)
                return result((int) ptrace(PTRACE_TRACEME, 0, NULL, NULL));
        if (strcmp(probe, "symlink-staging") == 0)
                return result(symlinkat("/etc", 3, "probe-link"));
        if (strcmp(probe, "mknod-fifo") == 0)
                return result(mknodat(3, "probe-fifo", S_IFIFO | 0600, 0));
        if (strcmp(probe, "rename-out") == 0) /* committing by itself */
                return result(renameat(3, "probe-file", AT_FDCWD, "/var/tmp/probe-renamed"));
        fprintf(stderr, "unknown probe %s\n", probe);
        return 2;
}

/* SPDX-License-Identifier: MIT */
/* rempart-xferd: the main process.  Binds one socket per level
 * (RUNTIME/NAME/xfer/xfer.sock, seen as /run/rempart/xfer/xfer.sock in the
 * level) and the control socket, forks one worker per connection, and
 * expires requests that wait for a confirmation.  See rempart-xferd(8). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "level-runtime.h"
#include "log.h"
#include "macro.h"
#include "parse.h"
#include "parser-jail.h"
#include "policy.h"
#include "xferd.h"

struct listener {
        int fd;
        char level[LEVEL_NAME_MAX]; /* "" for the control socket */
        unsigned workers;           /* running workers of its connections */
};

/* A running worker and the socket it serves. */
struct worker {
        pid_t pid;
        size_t listener;
};

static void help(void) {
        printf("Usage: rempart-xferd [OPTIONS]\n"
               "The transfer service of Rempart: transfers of files between levels.\n\n"
               "  -h, --help              show this help\n"
               "  -c, --config-dir DIR    levels (default " LEVEL_DEFAULT_DIR ")\n"
               "  -p, --policy-dir DIR    transfer policy (default " XFER_POLICY_DEFAULT_DIR ")\n"
               "  -r, --runtime-dir DIR   levels' run-time state (default " LEVEL_RUNTIME_DIR ")\n"
               "  -a, --audit-dir DIR     audit log (default " AUDIT_DEFAULT_DIR ")\n"
               "  -s, --state-dir DIR     waiting requests (default " XFERD_STATE_DIR ")\n"
               "  -C, --control PATH      control socket (default " XFERD_CONTROL_SOCKET ")\n"
               "  -e, --expiry SECONDS    how long a request waits for a confirmation (default %u)\n"
               "  -i, --idle SECONDS      how long a sender may pause (default 60)\n"
               "See rempart-xferd(8).\n",
               XFERD_DEFAULT_EXPIRY);
}

static int bind_socket(const char *path, mode_t mode) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        struct stat st;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                (void) unlink(path);
        }
        /* Created with the final mode (umask), then chmod: connect needs
         * write access, and who may use it is decided by the peer checks. */
        mode_t old = umask(0777 & ~mode);
        int r = bind(fd, (struct sockaddr *) &sa, sizeof sa);
        (void) umask(old);
        if (r < 0 || chmod(path, mode) < 0 || listen(fd, 64) < 0)
                return negative_errno();
        return take_fd(&fd);
}

static int parse_seconds(const char *s, unsigned *ret) {
        uint64_t v;
        if (parse_u64(s, UINT64_C(7) * 24 * 3600, &v) < 0 || v == 0)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },           { "config-dir", required_argument, NULL, 'c' },
                { "policy-dir", required_argument, NULL, 'p' }, { "runtime-dir", required_argument, NULL, 'r' },
                { "audit-dir", required_argument, NULL, 'a' },  { "state-dir", required_argument, NULL, 's' },
                { "control", required_argument, NULL, 'C' },    { "expiry", required_argument, NULL, 'e' },
                { "idle", required_argument, NULL, 'i' },       { NULL, 0, NULL, 0 },
        };
        struct xferd d = {
                .levels_dir = LEVEL_DEFAULT_DIR, .policy_dir = XFER_POLICY_DEFAULT_DIR, .runtime_dir = LEVEL_RUNTIME_DIR,
                .audit_dir = AUDIT_DEFAULT_DIR, .state_dir = XFERD_STATE_DIR, .control_path = XFERD_CONTROL_SOCKET,
                .expiry = XFERD_DEFAULT_EXPIRY, .idle = 60, .state_fd = -1,
        };
        struct listener ls[LEVEL_MAX_LEVELS + 1];
        size_t n_ls = 0;
        struct jail_error err = { { 0 } };
        int opt, r;

        while ((opt = getopt_long(argc, argv, "hc:p:r:a:s:C:e:i:", longopts, NULL)) != -1) {
                switch (opt) {
                case 'h': help(); return 0;
                case 'c': d.levels_dir = optarg; break;
                case 'p': d.policy_dir = optarg; break;
                case 'r': d.runtime_dir = optarg; break;
                case 'a': d.audit_dir = optarg; break;
                case 's': d.state_dir = optarg; break;
                case 'C': d.control_path = optarg; break;
                case 'e':
                case 'i':
                        if (parse_seconds(optarg, opt == 'e' ? &d.expiry : &d.idle) < 0) {
                                fprintf(stderr, "rempart-xferd: --%s: not a number of seconds (1..604800): '%s'\n",
                                        opt == 'e' ? "expiry" : "idle", optarg);
                                return 2;
                        }
                        break;
                default: fprintf(stderr, "Try 'rempart-xferd --help'.\n"); return 2;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "rempart-xferd: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "rempart-xferd: must run as root (it starts the parser as the sending user)\n");
                return 1;
        }
        /* The levels' run-time directories must stay traversable (0755):
         * their files are created with modes of their own. */
        (void) umask(0022);
        d.set = calloc(1, sizeof *d.set);
        if (!d.set)
                return log_error_errno(-ENOMEM, "out of memory"), 1;
        r = xfer_parser_filter_build(&d.filter, &err);
        if (r < 0)
                return log_error_errno(r, "cannot build the parser's seccomp filter: %s", err.msg), 1;
        d.state_fd = xfer_state_open(d.state_dir);
        if (d.state_fd < 0)
                return log_error_errno(d.state_fd, "state directory %s", d.state_dir), 1;
        /* The audit log must work before anything is decided. */
        {
                struct audit_log *log = NULL;
                r = audit_open(d.audit_dir, AUDIT_OPEN_CREATE, 0, &log);
                if (r < 0)
                        return log_error_errno(r, "audit log %s cannot be opened (run rempart-audit verify)",
                                               d.audit_dir), 1;
                audit_log_free(log);
        }
        r = xferd_config_refresh(&d);
        if (r < 0)
                return 1;
        /* Load once here what every worker would otherwise load again:
         * the user database's modules (NSS) and OpenSSL's providers. */
        {
                char buf[4096];
                struct passwd pw, *res;
                uint8_t md[32];
                unsigned mdlen;
                (void) getpwuid_r(0, &pw, buf, sizeof buf, &res);
                if (EVP_Digest("", 0, md, &mdlen, EVP_sha256(), NULL) != 1)
                        return log_error("OpenSSL: SHA-256 is not available"), 1;
        }

        /* One socket per level, even for a level that is not running yet:
         * its directory is bound into the level when it starts. */
        for (unsigned i = 0; i < d.set->n_levels; i++) {
                const struct level_entry *e = &d.set->levels[i];
                char dir[JAIL_PATH_MAX], sock[JAIL_PATH_MAX];
                if (!e->ok || !e->config.name[0])
                        continue;
                if (level_runtime_prepare(d.runtime_dir, e->config.name) < 0 ||
                    level_runtime_path(d.runtime_dir, e->config.name, "xfer", dir, sizeof dir) < 0 ||
                    level_runtime_path(d.runtime_dir, e->config.name, "xfer/" LEVEL_XFER_SOCKET_NAME, sock,
                                       sizeof sock) < 0) {
                        log_error("level %s: cannot prepare %s", e->config.name, d.runtime_dir);
                        continue;
                }
                int fd = bind_socket(sock, 0666);
                if (fd < 0) {
                        log_error_errno(fd, "level %s: cannot listen on %s", e->config.name, sock);
                        continue;
                }
                ls[n_ls] = (struct listener) { .fd = fd };
                memcpy(ls[n_ls].level, e->config.name, sizeof ls[n_ls].level);
                n_ls++;
        }
        int cfd = bind_socket(d.control_path, 0666);
        if (cfd < 0)
                return log_error_errno(cfd, "cannot listen on %s", d.control_path), 1;
        ls[n_ls] = (struct listener) { .fd = cfd };
        n_ls++;

        xferd_expire(&d, true);

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(negative_errno(), "sigprocmask"), 1;
        _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return log_error_errno(negative_errno(), "signalfd"), 1;
        (void) signal(SIGPIPE, SIG_IGN);
        log_info("ready: %zu level socket(s), control %s", n_ls - 1, d.control_path);

        /* At most XFERD_MAX_WORKERS in all and XFERD_MAX_WORKERS_PER_SOCKET
         * per socket: one level cannot starve the others (nor the control
         * socket) by opening connections. */
        struct worker running[XFERD_MAX_WORKERS] = { { 0 } };
        unsigned workers = 0;
        for (;;) {
                struct pollfd pfd[LEVEL_MAX_LEVELS + 2];
                for (size_t i = 0; i < n_ls; i++)
                        pfd[i] = (struct pollfd) {
                                .fd = workers < XFERD_MAX_WORKERS && ls[i].workers < XFERD_MAX_WORKERS_PER_SOCKET ? ls[i].fd : -1,
                                .events = POLLIN,
                        };
                pfd[n_ls] = (struct pollfd) { .fd = sfd, .events = POLLIN };
                int n = poll(pfd, n_ls + 1, 1000);
                if (n < 0 && errno != EINTR)
                        return log_error_errno(negative_errno(), "poll"), 1;
                if (n > 0 && (pfd[n_ls].revents & POLLIN)) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == (ssize_t) sizeof si)
                                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                                        log_info("stopping");
                                        for (size_t i = 0; i < n_ls; i++)
                                                (void) close(ls[i].fd);
                                        return 0;
                                }
                        pid_t dead;
                        while ((dead = waitpid(-1, NULL, WNOHANG)) > 0)
                                for (size_t k = 0; k < XFERD_MAX_WORKERS; k++)
                                        if (running[k].pid == dead) {
                                                running[k].pid = 0;
                                                ls[running[k].listener].workers--;
                                                workers--;
                                                break;
                                        }
                }
                for (size_t i = 0; n > 0 && i < n_ls; i++) {
                        if (!(pfd[i].revents & POLLIN))
                                continue;
                        int conn = accept4(ls[i].fd, NULL, NULL, SOCK_CLOEXEC);
                        if (conn < 0)
                                continue;
                        /* The worker decides with what is on disk now. */
                        (void) xferd_config_refresh(&d);
                        pid_t pid = fork();
                        if (pid == 0) {
                                (void) sigprocmask(SIG_UNBLOCK, &mask, NULL);
                                (void) signal(SIGCHLD, SIG_DFL);
                                for (size_t k = 0; k < n_ls; k++)
                                        (void) close(ls[k].fd);
                                (void) close(sfd);
                                if (ls[i].level[0])
                                        xferd_handle_transfer(&d, ls[i].level, conn);
                                else
                                        xferd_handle_control(&d, conn);
                                _exit(0);
                        }
                        if (pid > 0) {
                                for (size_t k = 0; k < XFERD_MAX_WORKERS; k++)
                                        if (running[k].pid == 0) {
                                                running[k] = (struct worker) { .pid = pid, .listener = i };
                                                break;
                                        }
                                ls[i].workers++;
                                workers++;
                        }
                        else
                                log_error_errno(negative_errno(), "cannot fork a worker");
                        (void) close(conn);
                }
                xferd_expire(&d, false);
        }
}

/* SPDX-License-Identifier: MIT */
/* Test-only client of rempart-broker (never installed): drives
 * broker-client.h from the host tier's shell scripts, and can send raw
 * datagrams to check how the broker takes malformed input.
 *
 *   rempart-broker-test-client SOCKET [OPTIONS] [--] [COMMAND [ARG...]]
 *     --env NAME=VALUE   pass an environment entry (repeatable)
 *     --tty              set the TTY flag (stdin must be a terminal)
 *     --pty              allocate a pseudo-terminal, pass its slave as
 *                        stdin/stdout/stderr with the TTY flag, and copy
 *                        what the command writes to our stdout
 *     --forward          forward SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGWINCH
 *     --service NAME     start the level's service NAME instead
 *     --raw FILE         send FILE's bytes as one datagram, with --fds N
 *                        copies of stdin attached (default 0); print the
 *                        replies, one per line
 *     --peer             print the broker's pid and uid on stderr
 *
 * Exit status: the command's (128 + signal when killed); 120 when the
 * broker refused (its message on stderr); 121 on a local failure; 0 after
 * --raw. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker-client.h"
#include "broker-proto.h"
#include "fileio.h"
#include "macro.h"

#define EXIT_REFUSED 120
#define EXIT_LOCAL 121

static int print_peer(const struct broker_peer *peer, void *userdata) {
        (void) userdata;
        (void) fprintf(stderr, "broker pid %d uid %u pidfd %s\n", (int) peer->pid, (unsigned) peer->uid,
                       peer->pidfd >= 0 ? "yes" : "no");
        return peer->pid > 0 && peer->uid == 0 ? 0 : -EPERM;
}

/* Print every reply, one per line, until the connection ends. */
static void print_replies(int sock) {
        struct broker_msg *m = malloc(sizeof *m);

        if (!m)
                return;
        for (;;) {
                int got[BROKER_N_FDS];
                int r = broker_recv(sock, m, got);
                if (r < 0) {
                        (void) printf("end: %s\n", strerror(-r));
                        break;
                }
                if (m->type == BROKER_MSG_ERROR)
                        (void) printf("ERROR %d %s\n", m->error, m->message);
                else
                        (void) printf("%s\n", broker_msg_type_name(m->type));
        }
        free(m);
}

static int raw_send(const char *socket_path, const char *file, int n_fds) {
        _cleanup_free_ char *data = NULL;
        struct broker_peer peer = { .pidfd = -1 };
        size_t len;
        int fds[BROKER_N_FDS + 1] = { 0, 0, 0, 0 };
        int sock, r;

        r = read_full_file(file, (size_t) BROKER_MSG_MAX * 2, &data, &len);
        if (r < 0) {
                (void) fprintf(stderr, "%s: %s\n", file, strerror(-r));
                return EXIT_LOCAL;
        }
        sock = broker_client_connect(socket_path, &peer);
        if (sock < 0) {
                (void) fprintf(stderr, "connect: %s\n", strerror(-sock));
                return EXIT_LOCAL;
        }
        if (peer.pidfd >= 0)
                (void) close(peer.pidfd);
        /* Not broker_send(): it refuses other descriptor counts. */
        union {
                struct cmsghdr align;
                char c[CMSG_SPACE(sizeof(int) * (BROKER_N_FDS + 1))];
        } control = {};
        struct iovec iov = { .iov_base = data, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (n_fds > 0) {
                mh.msg_control = control.c;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t) n_fds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t) n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t) n_fds);
        }
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                (void) fprintf(stderr, "send: %s\n", strerror(errno));
        print_replies(sock);
        (void) close(sock);
        return 0;
}

/* Copy the pty master to stdout until the slave side is closed everywhere. */
static pid_t start_relay(int master, int slave) {
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        char b[4096];
        (void) close(slave); /* else the master never sees the end */
        for (;;) {
                ssize_t n = read(master, b, sizeof b);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(0);
                if (write_all(STDOUT_FILENO, b, (size_t) n) < 0)
                        _exit(1);
        }
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "env", required_argument, NULL, 'e' },   { "tty", no_argument, NULL, 't' },
                { "pty", no_argument, NULL, 'p' },         { "forward", no_argument, NULL, 'f' },
                { "service", required_argument, NULL, 's' }, { "raw", required_argument, NULL, 'r' },
                { "fds", required_argument, NULL, 'n' },   { "peer", no_argument, NULL, 'P' },
                {},
        };
        char *env[BROKER_ENVC_MAX + 1] = {};
        size_t n_env = 0;
        const char *service = NULL, *raw = NULL, *socket_path;
        struct broker_client_opts opts = {};
        struct broker_result res;
        uint32_t flags = 0;
        bool pty = false;
        int n_fds = 0, c, r, fds[BROKER_N_FDS] = { 0, 1, 2 }, master = -1;
        pid_t relay = -1;

        if (argc < 2 || argv[1][0] == '-') {
                (void) fprintf(stderr, "usage: %s SOCKET [OPTIONS] [--] [COMMAND...]\n", argv[0]);
                return EXIT_LOCAL;
        }
        socket_path = argv[1];
        argv[1] = argv[0];
        argc--;
        argv++;
        while ((c = getopt_long(argc, argv, "+", options, NULL)) != -1) {
                switch (c) {
                case 'e':
                        if (n_env >= BROKER_ENVC_MAX)
                                return EXIT_LOCAL;
                        env[n_env++] = optarg;
                        break;
                case 't':
                        flags |= BROKER_RUN_TTY;
                        break;
                case 'p':
                        pty = true;
                        break;
                case 'f':
                        opts.forward_signals = true;
                        break;
                case 's':
                        service = optarg;
                        break;
                case 'r':
                        raw = optarg;
                        break;
                case 'n':
                        n_fds = atoi(optarg);
                        if (n_fds < 0 || n_fds > BROKER_N_FDS + 1)
                                return EXIT_LOCAL;
                        break;
                case 'P':
                        opts.check_peer = print_peer;
                        break;
                default:
                        return EXIT_LOCAL;
                }
        }
        if (raw)
                return raw_send(socket_path, raw, n_fds);

        if (pty) {
                master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
                        return EXIT_LOCAL;
                const char *name = ptsname(master);
                int slave = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
                if (slave < 0)
                        return EXIT_LOCAL;
                relay = start_relay(master, slave);
                if (relay < 0)
                        return EXIT_LOCAL;
                fds[0] = fds[1] = fds[2] = slave;
                flags |= BROKER_RUN_TTY;
                opts.send_winsize = opts.forward_signals;
                opts.winsize_fd = slave;
        }

        if (service)
                r = broker_client_service(socket_path, service, fds, &opts, &res);
        else
                r = broker_client_run(socket_path, flags, argv + optind, env, fds, &opts, &res);

        if (pty) {
                (void) close(fds[0]);
                (void) close(master);
                (void) waitpid(relay, NULL, 0);
        }
        if (r < 0 && res.error != 0) {
                (void) fprintf(stderr, "broker refused: %s (%s)\n", res.message, strerror(-res.error));
                return EXIT_REFUSED;
        }
        if (r < 0) {
                (void) fprintf(stderr, "client failed: %s\n", strerror(-r));
                return EXIT_LOCAL;
        }
        return res.status;
}

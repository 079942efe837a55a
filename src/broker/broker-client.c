/* SPDX-License-Identifier: MIT */
/* Core-side client of the session broker: see broker-client.h.  The broker
 * runs inside a level, which the core does not trust: its identity is
 * checked before any descriptor is sent, and its replies go through the
 * same strict decoder as the requests (ERROR messages are printable ASCII
 * only, so a broker cannot write terminal escapes through the caller). */
#include "broker-client.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "macro.h"
#include "missing.h"

int broker_client_connect(const char *socket_path, struct broker_peer *ret_peer) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct ucred uc = {};
        socklen_t len = sizeof uc;
        _cleanup_close_ int fd = -1;
        int pidfd = -1;

        if (!socket_path || strlen(socket_path) >= sizeof sa.sun_path || socket_path[0] == '\0')
                return -EINVAL;
        memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (const struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
                return negative_errno();
        if (len != sizeof uc)
                return -EIO;
        len = sizeof pidfd;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0 || len != sizeof pidfd)
                pidfd = -1; /* older kernel: the pid alone has to do */
        *ret_peer = (struct broker_peer) { .pid = uc.pid, .uid = uc.uid, .gid = uc.gid, .pidfd = pidfd };
        return take_fd(&fd);
}

static int default_check(const struct broker_peer *peer) {
        /* pid 0: the broker is not in our pid namespace, so we cannot tell
         * which one it is.  The broker runs as root of its level. */
        if (peer->pid <= 0 || peer->uid != 0)
                return -EPERM;
        return 0;
}

static int send_winsize(int sock, int tty) {
        struct winsize ws = {};
        uint8_t buf[BROKER_HDR_SIZE + 4];
        size_t len;
        int r;

        if (ioctl(tty, TIOCGWINSZ, &ws) < 0)
                return negative_errno();
        r = broker_encode_winsize(buf, sizeof buf, &len, ws.ws_row, ws.ws_col);
        if (r < 0)
                return r;
        return broker_send(sock, buf, len, NULL, 0);
}

static int send_signal(int sock, int signo) {
        uint8_t buf[BROKER_HDR_SIZE + 4];
        size_t len;
        int r = broker_encode_signal(buf, sizeof buf, &len, signo);
        if (r < 0)
                return r;
        return broker_send(sock, buf, len, NULL, 0);
}

/* A reply arrived: 1 to keep waiting, 0 when done (EXIT), or -errno. */
static int handle_reply(const struct broker_msg *m, struct broker_result *res) {
        switch (m->type) {
        case BROKER_MSG_STARTED:
                if (res->pid != 0)
                        return -EPROTO; /* twice */
                res->pid = m->pid;
                return 1;
        case BROKER_MSG_EXIT:
                if (res->pid == 0)
                        return -EPROTO; /* never started */
                res->exited = true;
                res->kind = m->exit_kind;
                res->code = m->exit_code;
                res->status = m->exit_kind == BROKER_EXIT_SIGNALED ? 128 + m->exit_code : m->exit_code;
                return 0;
        case BROKER_MSG_ERROR:
                res->error = m->error;
                memcpy(res->message, m->message, sizeof res->message);
                return m->error;
        default:
                return -EPROTO; /* a request type, from the broker */
        }
}

/* Forward what the signalfd holds.  Send failures are not fatal: the
 * broker's reply (or its closing the connection) tells what happened. */
static void forward_signals(int sfd, int sock, const struct broker_client_opts *opts) {
        struct signalfd_siginfo si;

        while (read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                int signo = (int) si.ssi_signo;
                if (signo == SIGWINCH && opts->send_winsize)
                        (void) send_winsize(sock, opts->winsize_fd);
                else
                        (void) send_signal(sock, signo);
        }
}

static int wait_loop(int sock, int sfd, const struct broker_client_opts *opts, struct broker_result *res,
                     struct broker_msg *m) {
        int fds[BROKER_N_FDS];

        for (;;) {
                struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (sfd >= 0 && (p[1].revents & POLLIN))
                        forward_signals(sfd, sock, opts);
                if (p[0].revents == 0)
                        continue;
                int r = broker_recv(sock, m, fds);
                if (r == -EBADMSG)
                        return -EPROTO;
                if (r < 0)
                        return r;
                r = handle_reply(m, res);
                if (r <= 0)
                        return r;
        }
}

static int wait_replies(int sock, int sfd, const struct broker_client_opts *opts, struct broker_result *res) {
        /* Freed explicitly: clang's analyzer does not follow cleanup
         * attributes through the loop. */
        struct broker_msg *m = malloc(sizeof *m);
        int r;

        if (!m)
                return -ENOMEM;
        r = wait_loop(sock, sfd, opts, res, m);
        free(m);
        return r;
}

static int client_session(const char *socket_path, const uint8_t *req, size_t req_len, const int fds[BROKER_N_FDS],
                          bool tty, const struct broker_client_opts *opts, struct broker_result *res) {
        static const struct broker_client_opts no_opts = {};
        static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH };
        _cleanup_close_ int sock = -1, sfd = -1;
        struct broker_peer peer = { .pidfd = -1 };
        sigset_t set, old;
        bool blocked = false;
        int r;

        if (!opts)
                opts = &no_opts;
        sock = broker_client_connect(socket_path, &peer);
        if (sock < 0)
                return sock;
        r = opts->check_peer ? opts->check_peer(&peer, opts->userdata) : default_check(&peer);
        if (peer.pidfd >= 0)
                (void) close(peer.pidfd); /* only meant for the check */
        peer.pidfd = -1;
        res->peer = peer;
        if (r < 0)
                return r;
        if (r > 0)
                return -EPERM; /* a check must return 0 or -errno; be safe */

        if (opts->forward_signals) {
                if (sigemptyset(&set) < 0)
                        return negative_errno();
                for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                        if (sigaddset(&set, forwarded[i]) < 0)
                                return negative_errno();
                r = pthread_sigmask(SIG_BLOCK, &set, &old);
                if (r != 0)
                        return -r;
                blocked = true;
                sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
                if (sfd < 0) {
                        r = negative_errno();
                        goto out;
                }
        }

        r = broker_send(sock, req, req_len, fds, BROKER_N_FDS);
        if (r == -EPIPE || r == -ECONNRESET) {
                /* The broker refused us at once (e.g. not a level user) and
                 * closed; its ERROR is still queued on our side. */
                r = wait_replies(sock, -1, opts, res);
                if (r == 0 || r == 1)
                        r = -EPROTO;
                goto out;
        }
        if (r < 0)
                goto out;
        if (tty && opts->forward_signals && opts->send_winsize)
                (void) send_winsize(sock, opts->winsize_fd); /* best effort, like a later SIGWINCH */
        r = wait_replies(sock, sfd, opts, res);
out:
        if (blocked) {
                /* Consume what arrived after the last poll, so that restoring
                 * the mask does not deliver it to us. */
                if (sfd >= 0) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof si) == (ssize_t) sizeof si)
                                ;
                }
                (void) pthread_sigmask(SIG_SETMASK, &old, NULL); /* cannot fail with a valid set */
        }
        return r;
}

static void result_init(struct broker_result *res) {
        *res = (struct broker_result) { .peer = { .pidfd = -1 }, .status = -1 };
}

int broker_client_run(const char *socket_path, uint32_t flags, char *const argv[], char *const env[],
                      const int fds[BROKER_N_FDS], const struct broker_client_opts *opts,
                      struct broker_result *res) {
        _cleanup_free_ uint8_t *buf = malloc(BROKER_MSG_MAX);
        size_t len;
        int r;

        result_init(res);
        if (!buf)
                return -ENOMEM;
        r = broker_encode_run(buf, BROKER_MSG_MAX, &len, flags, argv, env);
        if (r < 0)
                return r;
        return client_session(socket_path, buf, len, fds, (flags & BROKER_RUN_TTY) != 0, opts, res);
}

int broker_client_service(const char *socket_path, const char *service, const int fds[BROKER_N_FDS],
                          const struct broker_client_opts *opts, struct broker_result *res) {
        uint8_t buf[BROKER_HDR_SIZE + 4 + BROKER_SERVICE_MAX];
        size_t len;
        int r;

        result_init(res);
        r = broker_encode_service(buf, sizeof buf, &len, service);
        if (r < 0)
                return r;
        return client_session(socket_path, buf, len, fds, false, opts, res);
}

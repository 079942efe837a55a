/* SPDX-License-Identifier: MIT */
/* Core-side client of a level's session broker (rempart-broker(8)).
 *
 * One call = one connection = one command: connect, check who is listening
 * (the kernel's SO_PEERCRED of the broker, before anything is sent), send
 * the request with the three standard descriptors, then wait for STARTED
 * and EXIT (or ERROR), forwarding the caller's job-control signals to the
 * command meanwhile.  Closing the connection (the caller exiting) makes
 * the broker hang up and kill the session.
 *
 * What the level gets: the three descriptors passed, nothing else.  Pass a
 * pseudo-terminal the caller allocated and relays, not the caller's own
 * terminal: a process of the level could otherwise keep the real terminal
 * open after the session and write to it (or, on kernels with
 * dev.tty.legacy_tiocsti=1, inject input into it). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "broker-proto.h"

/* Who listens on the socket, as the kernel recorded it when the broker
 * called listen(). */
struct broker_peer {
        pid_t pid;  /* in the caller's pid namespace; 0 when not visible there */
        uid_t uid;
        gid_t gid;
        int pidfd;  /* SO_PEERPIDFD (Linux 6.5+), -1 when unavailable */
};

struct broker_client_opts {
        /* Called once connected, before anything is sent.  Return 0 to go
         * on, or -errno to refuse: the call then returns that value.  The
         * peer's pidfd (if any) is valid during the call and closed after;
         * use it (e.g. pidfd -> /proc/PID/cgroup, then pidfd_send_signal(0)
         * to prove the pid was not reused) to check that the broker is the
         * one of the intended level.  NULL: the default check, which only
         * requires pid > 0 and uid 0. */
        int (*check_peer)(const struct broker_peer *peer, void *userdata);
        void *userdata;
        /* While waiting, block SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGWINCH
         * in the calling thread and forward them as SIGNAL messages (they
         * go to the command's process group).  The signal mask is restored
         * before returning; signals that arrived meanwhile are consumed. */
        bool forward_signals;
        /* With forward_signals: on SIGWINCH (and once at the start), read the
         * window size of winsize_fd (TIOCGWINSZ) and send WINSIZE instead of
         * SIGNAL SIGWINCH; the broker sets it on the session's terminal,
         * which makes the kernel signal its foreground process group. */
        bool send_winsize;
        int winsize_fd;
};

struct broker_result {
        struct broker_peer peer;      /* pidfd is always -1 here (closed) */
        pid_t pid;                    /* STARTED: the command's pid inside the level, 0 if none */
        bool exited;                  /* an EXIT message arrived */
        enum broker_exit_kind kind;   /* EXIT */
        int code;                     /* EXIT: exit status, or signal number */
        /* Shell convention: code when the command exited, 128 + signal when
         * it was killed by a signal; -1 when there was no EXIT. */
        int status;
        int error;                                 /* ERROR from the broker: its -errno, else 0 */
        char message[BROKER_ERRMSG_MAX + 1];       /* ERROR message, printable ASCII */
};

/* Connect to socket_path (SOCK_SEQPACKET) and read the broker's identity.
 * Returns the connected socket (close-on-exec) or -errno; ret_peer->pidfd
 * is owned by the caller (-1 when unavailable). */
int broker_client_connect(const char *socket_path, struct broker_peer *ret_peer);

/* Run argv (NULL or empty: the user's login shell) in the level, as the
 * caller's uid, with fds[0..2] as its stdin, stdout and stderr.  flags:
 * BROKER_RUN_TTY when fds[0] is a terminal to make the controlling one.
 * env: NULL or NULL-terminated "NAME=VALUE" entries allowed by
 * broker_env_allowed() (other entries: -EINVAL, nothing is sent).
 * opts may be NULL (default peer check, no signal forwarding).
 *
 * Returns 0 when the command ran and its EXIT arrived (res->status);
 * the broker's refusal as its -errno, with res->error and res->message set
 * (e.g. -EPERM "uid 1000 is not a user of level high"); -EPROTO when the
 * broker broke the protocol; -ECONNRESET when it closed the connection
 * without EXIT; or another -errno of a local failure.  res is always
 * filled as far as the exchange went. */
int broker_client_run(const char *socket_path, uint32_t flags, char *const argv[], char *const env[],
                      const int fds[BROKER_N_FDS], const struct broker_client_opts *opts,
                      struct broker_result *res);

/* Start the level's configured service NAME (its own command and user,
 * see rempart-level.conf(5)), with fds[1] and fds[2] as its stdout and
 * stderr; its stdin is /dev/null (fds[0] is sent but not used).  Allowed
 * to uid 0 and to the service's own user.  Same returns as
 * broker_client_run(). */
int broker_client_service(const char *socket_path, const char *service, const int fds[BROKER_N_FDS],
                          const struct broker_client_opts *opts, struct broker_result *res);

/* SPDX-License-Identifier: MIT */
/* Sessions in a level, core side.  Non-interactive: the caller's stdin,
 * stdout and stderr go to the broker as they are.  Interactive: a new
 * pseudo-terminal pair; its slave goes to the level, the master stays
 * here and a relay process (ours, in the core) copies keys in and output
 * out through the status-line filter, so the level never holds the real
 * terminal and cannot forge or hide the level indicator. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "status-line.h"

#define RELAY_BUF 4096
#define REPAINT_DELAY_MS 100

extern char **environ;

/* The caller's TERM, LANG, LC_* ... that the broker accepts. */
static void collect_env(char *env[], size_t max) {
        size_t n = 0;

        for (char **e = environ; e && *e && n + 1 < max; e++)
                if (broker_env_allowed(*e))
                        env[n++] = *e;
        env[n] = NULL;
}

static void window_size(int fd, unsigned *rows, unsigned *cols) {
        struct winsize ws = { 0 };

        if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row >= 2 && ws.ws_col >= 2) {
                *rows = ws.ws_row;
                *cols = ws.ws_col;
        } else {
                *rows = 24;
                *cols = 80;
        }
}

static void set_level_size(int master, unsigned rows, unsigned cols) {
        struct winsize ws = { .ws_row = (unsigned short) (rows - 1), .ws_col = (unsigned short) cols };
        (void) ioctl(master, TIOCSWINSZ, &ws);
}

/* The relay: runs until SIGTERM (the session is over) or the terminal
 * goes away; then drains what the level wrote last and gives the last row
 * back. */
static _noreturn_ void relay(int master, const struct level_config *l) {
        static uint8_t in[RELAY_BUF], out[STATUS_OUT_MAX(RELAY_BUF)];
        struct status_line st;
        char text[STATUS_TEXT_MAX];
        unsigned rows, cols;
        sigset_t mask;
        bool pending = false, stopping = false;
        int sfd;
        size_t n;

        sigemptyset(&mask);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        window_size(STDOUT_FILENO, &rows, &cols);
        (void) snprintf(text, sizeof text, " level %s | %s | rempart ", l->name, l->label);
        status_line_init(&st, text, level_colour_sgr(l->colour), rows, cols);
        n = status_line_begin(&st, out, sizeof out);
        (void) write_all(STDOUT_FILENO, out, n);

        for (;;) {
                struct pollfd p[3] = {
                        { .fd = stopping ? -1 : STDIN_FILENO, .events = POLLIN },
                        { .fd = master, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                };
                int timeout = stopping ? 200 : pending ? REPAINT_DELAY_MS : -1;
                int k = poll(p, 3, timeout);

                if (k < 0 && errno != EINTR)
                        break;
                if (k == 0) {
                        if (stopping)
                                break; /* drained */
                        n = status_line_flush(&st, out, sizeof out);
                        (void) write_all(STDOUT_FILENO, out, n);
                        pending = false;
                        continue;
                }
                if (p[2].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
                                if (si.ssi_signo == SIGWINCH) {
                                        window_size(STDOUT_FILENO, &rows, &cols);
                                        set_level_size(master, rows, cols);
                                        n = status_line_resize(&st, rows, cols, out, sizeof out);
                                        (void) write_all(STDOUT_FILENO, out, n);
                                } else
                                        stopping = true;
                        }
                }
                if (p[0].revents & POLLIN) {
                        ssize_t r = read(STDIN_FILENO, in, sizeof in);
                        if (r <= 0)
                                stopping = true;
                        else if (write_all(master, in, (size_t) r) < 0)
                                stopping = true;
                } else if (p[0].revents & (POLLHUP | POLLERR))
                        stopping = true;
                if (p[1].revents & POLLIN) {
                        ssize_t r = read(master, in, sizeof in);
                        if (r <= 0) {
                                if (stopping)
                                        break;
                                continue;
                        }
                        n = status_line_filter(&st, in, (size_t) r, out, sizeof out, &pending);
                        if (write_all(STDOUT_FILENO, out, n) < 0)
                                break;
                } else if (p[1].revents & (POLLHUP | POLLERR)) {
                        if (stopping)
                                break;
                        /* Every slave closed: nothing more can come. */
                        (void) poll(NULL, 0, 20);
                }
        }
        n = status_line_end(&st, out, sizeof out);
        (void) write_all(STDOUT_FILENO, out, n);
        _exit(0);
}

static int open_pty(int *ret_master, int *ret_slave) {
        _cleanup_close_ int master = -1, slave = -1;
        char name[64];

        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return negative_errno();
        if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
                return negative_errno();
        slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return negative_errno();
        *ret_master = take_fd(&master);
        *ret_slave = take_fd(&slave);
        return 0;
}

static void report_failure(const struct ctl_session *s, int r, const struct broker_result *res) {
        if (res->error)
                log_error("level %s: %s", s->level->name, res->message[0] ? res->message : strerror(-res->error));
        else if (r == -ECONNREFUSED || r == -ENOENT)
                log_error("level %s: its broker is not listening (%s)", s->level->name, strerror(-r));
        else if (r != -EPERM) /* -EPERM from check_peer: already explained */
                log_error("level %s: %s", s->level->name, strerror(-r));
}

int session_run(const struct ctl_session *s, char *const argv[], int *ret_status) {
        struct broker_client_opts opts = { .check_peer = s->check_peer, .userdata = s->check_userdata,
                                           .forward_signals = true, .winsize_fd = -1 };
        struct broker_result res;
        char *env[BROKER_ENVC_MAX + 1];
        int fds[BROKER_N_FDS] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
        _cleanup_close_ int master = -1, slave = -1;
        struct termios saved, raw;
        unsigned rows, cols;
        pid_t relay_pid;
        int r, status;

        memset(&res, 0, sizeof res);
        collect_env(env, ELEMENTSOF(env));
        if (!s->tty) {
                r = broker_client_run(s->socket, 0, argv, env, fds, &opts, &res);
                if (r < 0) {
                        report_failure(s, r, &res);
                        return r;
                }
                *ret_status = res.status;
                return 0;
        }

        r = open_pty(&master, &slave);
        if (r < 0)
                return log_error_errno(r, "cannot allocate a terminal for the session");
        if (tcgetattr(STDIN_FILENO, &saved) < 0)
                return log_error_errno(negative_errno(), "stdin is not a terminal");
        (void) tcsetattr(slave, TCSANOW, &saved); /* the user's settings, on the new terminal */
        window_size(STDOUT_FILENO, &rows, &cols);
        set_level_size(master, rows, cols);
        raw = saved;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) < 0)
                return log_error_errno(negative_errno(), "cannot set the terminal to raw mode");

        relay_pid = fork();
        if (relay_pid < 0) {
                r = negative_errno();
                (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
                return log_error_errno(r, "fork");
        }
        if (relay_pid == 0) {
                closep(&slave);
                relay(master, s->level);
        }
        fds[0] = fds[1] = fds[2] = slave;
        r = broker_client_run(s->socket, BROKER_RUN_TTY, argv, env, fds, &opts, &res);
        closep(&slave);
        (void) kill(relay_pid, SIGTERM);
        while (waitpid(relay_pid, &status, 0) < 0 && errno == EINTR)
                ;
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        if (r < 0) {
                report_failure(s, r, &res);
                return r;
        }
        fprintf(stderr, "rempart: session in level %s ended (status %d); back in the core\n", s->level->name,
                res.status);
        *ret_status = res.status;
        return 0;
}

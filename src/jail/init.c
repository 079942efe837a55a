/* SPDX-License-Identifier: MIT */
#include "init.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM };

void init_forwarded_signals(sigset_t *set) {
        (void) sigemptyset(set);
        for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
                (void) sigaddset(set, forwarded[i]);
}

static void noop_handler(int sig) {
        (void) sig;
}

_Noreturn void init_reaper_loop(pid_t child) {
        sigset_t set;
        struct sigaction sa = { .sa_handler = noop_handler };

        init_forwarded_signals(&set);
        (void) sigaddset(&set, SIGCHLD);
        /* PID 1 ignores signals whose disposition is SIG_DFL, even from the
         * parent namespace; a handler (never run: the signals stay blocked
         * and are taken by sigwaitinfo) makes them deliverable. */
        for (int sig = 1; sig < NSIG; sig++)
                if (sigismember(&set, sig) == 1)
                        (void) sigaction(sig, &sa, NULL);

        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);

                if (sig < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(125);
                }
                if (sig != SIGCHLD) {
                        /* The command is its own session/process group leader. */
                        if (kill(-child, sig) < 0)
                                (void) kill(child, sig);
                        continue;
                }
                for (;;) {
                        int status;
                        pid_t pid = waitpid(-1, &status, WNOHANG);

                        if (pid <= 0)
                                break;
                        if (pid != child)
                                continue; /* an orphan: reaped, nothing else to do */
                        if (WIFEXITED(status))
                                _exit(WEXITSTATUS(status));
                        if (WIFSIGNALED(status))
                                _exit(128 + WTERMSIG(status));
                }
        }
}

/* SPDX-License-Identifier: MIT */
/* The session broker of a level; see broker.h, README.md and
 * rempart-broker(8).
 *
 * Trust.  The broker runs inside the level, as uid 0 with CAP_SETUID and
 * CAP_SETGID only.  It trusts nothing its clients say beyond what the
 * kernel vouches for (SO_PEERCRED): who may start what is decided from the
 * peer's pid and uid, and the request itself only picks a command among
 * those the user could run anyway.  Sessions are its own children, so they
 * are confined by the level's jail by construction.
 *
 * Life of a connection: accept (peer checks) -> RUN or SERVICE with three
 * descriptors -> fork; the child drops to the user and reports a failure
 * before execve() through a close-on-exec pipe (EOF = the exec happened)
 * -> STARTED -> SIGNAL/WINSIZE forwarded -> the leader exits: what is left
 * of its process group is killed, EXIT is sent, the connection closed.
 * When the client goes away first, the session gets SIGHUP, then SIGKILL
 * BROKER_KILL_DELAY_MS later: a session never outlives its client. */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "broker-proto.h"
#include "log.h"
#include "macro.h"

#define CAP_WORDS 2
#define CAP_PROBE_MAX 63
#define LISTEN_BACKLOG 16
#define ACCEPT_BURST 16
#define SESSION_PATH "/usr/local/bin:/usr/bin:/bin"
#define SESSION_UMASK 0077

/* ---- capabilities ---- */

static int caps_get(uint64_t *eff, uint64_t *perm, uint64_t *inh) {
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[CAP_WORDS] = {};

        if (syscall(SYS_capget, &hdr, data) < 0)
                return negative_errno();
        *eff = (uint64_t) data[1].effective << 32 | data[0].effective;
        *perm = (uint64_t) data[1].permitted << 32 | data[0].permitted;
        *inh = (uint64_t) data[1].inheritable << 32 | data[0].inheritable;
        return 0;
}

static int caps_set(uint64_t eff, uint64_t perm, uint64_t inh) {
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[CAP_WORDS] = {
                { .effective = (uint32_t) eff, .permitted = (uint32_t) perm, .inheritable = (uint32_t) inh },
                { .effective = (uint32_t) (eff >> 32),
                  .permitted = (uint32_t) (perm >> 32),
                  .inheritable = (uint32_t) (inh >> 32) },
        };

        return RET_NERRNO(syscall(SYS_capset, &hdr, data));
}

/* Any capability left in the ambient set (probing until the kernel says
 * it does not know the number). */
static bool ambient_any(void) {
        for (int c = 0; c <= CAP_PROBE_MAX; c++) {
                int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long) c, 0, 0);
                if (r < 0)
                        return false;
                if (r > 0)
                        return true;
        }
        return false;
}

int broker_drop_privileges(void) {
        const uint64_t need = UINT64_C(1) << CAP_SETUID | UINT64_C(1) << CAP_SETGID;
        uint64_t eff = 0, perm = 0, inh = 0;
        uid_t ru = 0, eu = 0, su = 0;
        int r;

        if (getresuid(&ru, &eu, &su) < 0)
                return log_error_errno(negative_errno(), "getresuid");
        if (ru != 0 || eu != 0 || su != 0)
                return log_error_errno(-EPERM, "the broker must run as uid 0 (real, effective and saved)");
        r = caps_get(&eff, &perm, &inh);
        if (r < 0)
                return log_error_errno(r, "capget");
        if ((perm & need) != need)
                return log_error_errno(-EPERM, "the broker needs CAP_SETUID and CAP_SETGID (permitted set: %#llx)",
                                       (unsigned long long) perm);
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return log_error_errno(negative_errno(), "clearing the ambient capabilities");
        r = caps_set(need, need, 0);
        if (r < 0)
                return log_error_errno(r, "capset");
        r = caps_get(&eff, &perm, &inh);
        if (r < 0)
                return log_error_errno(r, "capget");
        if (eff != need || perm != need || inh != 0 || ambient_any())
                return log_error_errno(-EPERM, "capabilities did not drop to CAP_SETUID and CAP_SETGID");
        return 0;
}

/* ---- listening socket ---- */

int broker_listen(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (!path || path[0] != '/' || strlen(path) >= sizeof sa.sun_path)
                return log_error_errno(-EINVAL, "socket path must be absolute and shorter than %zu bytes",
                                       sizeof sa.sun_path);
        memcpy(sa.sun_path, path, strlen(path) + 1);

        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return log_error_errno(-EEXIST, "%s exists and is not a socket; not removing it", path);
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                if (probe < 0)
                        return log_error_errno(negative_errno(), "socket");
                if (connect(probe, (const struct sockaddr *) &sa, sizeof sa) == 0)
                        return log_error_errno(-EADDRINUSE, "another broker is listening on %s", path);
                if (errno != ECONNREFUSED)
                        return log_error_errno(negative_errno(), "%s exists and cannot be probed", path);
                /* Nobody listens: a stale socket of a previous run. */
                if (unlink(path) < 0)
                        return log_error_errno(negative_errno(), "removing stale socket %s", path);
        } else if (errno != ENOENT) {
                return log_error_errno(negative_errno(), "%s", path);
        }

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(negative_errno(), "socket");
        if (bind(fd, (const struct sockaddr *) &sa, sizeof sa) < 0)
                return log_error_errno(negative_errno(), "bind %s", path);
        /* Anyone who can reach the file may connect: access is decided by
         * the peer checks at accept time, not by the mode. */
        if (chmod(path, 0666) < 0)
                return log_error_errno(negative_errno(), "chmod %s", path);
        if (listen(fd, LISTEN_BACKLOG) < 0)
                return log_error_errno(negative_errno(), "listen %s", path);
        return take_fd(&fd);
}

/* ---- sessions ---- */

enum session_state {
        SESSION_FREE,
        SESSION_WAIT_REQUEST, /* connected, no request yet */
        SESSION_STARTING,     /* forked, exec report pending */
        SESSION_RUNNING,
};

struct session {
        enum session_state state;
        unsigned id;     /* for logs */
        int fd;          /* the connection; -1 once the client is gone */
        uid_t peer_uid;
        pid_t pid;       /* leader, and id of its process group; 0 before fork */
        uid_t uid;       /* user the session runs as */
        int report;      /* STARTING: read end of the exec report pipe */
        int tty;         /* TTY sessions: the terminal, for WINSIZE */
        bool failed;     /* ERROR sent instead of STARTED: no EXIT */
        uint64_t kill_at; /* CLOCK_MONOTONIC ms of a pending SIGKILL, 0 = none */
};

struct broker {
        const struct level_config *level;
        const char *socket_path;
        struct stat socket_stat; /* to remove only our own socket at the end */
        int listen_fd;
        int sig_fd;
        struct session sessions[BROKER_MAX_SESSIONS];
        unsigned next_id;
        bool stopping, stop_killed;
        uint64_t stop_deadline;
        struct broker_msg msg; /* receive buffer */
};

/* What the child needs to start the command. */
struct child_spec {
        const struct level_user *user;
        char *const *argv;   /* NULL: login shell */
        char *const *env;    /* allowlisted client entries, may be NULL */
        bool tty;
        pid_t broker_pid;    /* the parent, to notice its death before PDEATHSIG was set */
};

/* Sent by the child through the report pipe when a step fails. */
struct exec_report {
        int32_t err;
        char step[28];
};

static uint64_t now_ms(void) {
        struct timespec ts;
        if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
                return 0; /* cannot fail with CLOCK_MONOTONIC */
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void close_fd(int *fd) {
        if (*fd >= 0) {
                (void) close(*fd); /* nothing useful to do about a failure */
                *fd = -1;
        }
}

static void close_fds3(int fds[BROKER_N_FDS]) {
        for (size_t i = 0; i < BROKER_N_FDS; i++)
                close_fd(&fds[i]);
}

/* Replies.  A failed send is only logged: the connection's hang-up shows
 * up in poll() and is handled there. */
static void reply(const struct session *s, const uint8_t *buf, size_t len) {
        if (s->fd < 0)
                return;
        int r = broker_send(s->fd, buf, len, NULL, 0);
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                log_warning_errno(r, "session %u: sending a reply", s->id);
}

static void reply_error_fd(int fd, unsigned id, int code, const char *fmt, ...) _printf_(4, 5);
static void reply_error_fd(int fd, unsigned id, int code, const char *fmt, ...) {
        char msg[BROKER_ERRMSG_MAX + 1];
        uint8_t buf[BROKER_HDR_SIZE + 8 + BROKER_ERRMSG_MAX];
        va_list ap;
        size_t len;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        for (char *p = msg; *p; p++) /* file names from the config could hold anything */
                if (*p < 0x20 || *p > 0x7e)
                        *p = '?';
        log_info("session %u: error sent: %s", id, msg);
        if (fd < 0)
                return;
        if (code >= 0 || code < -4095)
                code = -EIO;
        if (broker_encode_error(buf, sizeof buf, &len, code, msg) < 0)
                return; /* cannot happen: the message was made valid above */
        int r = broker_send(fd, buf, len, NULL, 0);
        if (r < 0 && r != -EPIPE && r != -ECONNRESET)
                log_warning_errno(r, "session %u: sending ERROR", id);
}

static struct session *session_by_pid(struct broker *b, pid_t pid) {
        for (size_t i = 0; i < BROKER_MAX_SESSIONS; i++)
                if (b->sessions[i].state != SESSION_FREE && b->sessions[i].pid == pid)
                        return &b->sessions[i];
        return NULL;
}

static bool session_alive(const struct broker *b) {
        for (size_t i = 0; i < BROKER_MAX_SESSIONS; i++)
                if (b->sessions[i].state != SESSION_FREE)
                        return true;
        return false;
}

static void session_free(struct session *s) {
        close_fd(&s->fd);
        close_fd(&s->report);
        close_fd(&s->tty);
        *s = (struct session) { .state = SESSION_FREE, .fd = -1, .report = -1, .tty = -1 };
}

/* Signal the session's whole process group.  The broker normally holds no
 * CAP_KILL, and kill(2) lets a sender signal a process when the sender's
 * real or effective uid equals the target's real or saved uid.  So, when
 * the plain kill() is refused, the broker switches only its effective uid
 * to the session's user for the call (CAP_SETUID) and back to 0 right
 * after (no privilege needed: the real and saved uids stay 0).  The
 * broker is single-threaded, nothing else happens in between, and the
 * switch makes it no easier to signal: the check looks at the target's
 * real and saved uids, never at its effective one. */
static void session_signal(const struct session *s, int sig) {
        int err = 0;

        if (s->pid <= 0)
                return;
        if (kill(-s->pid, sig) == 0 || errno == ESRCH)
                return;
        if (errno != EPERM) {
                log_warning_errno(negative_errno(), "session %u: kill(-%d, %d)", s->id, (int) s->pid, sig);
                return;
        }
        if (setresuid((uid_t) -1, s->uid, (uid_t) -1) < 0) {
                log_warning_errno(negative_errno(), "session %u: seteuid(%u)", s->id, (unsigned) s->uid);
                return;
        }
        if (kill(-s->pid, sig) < 0)
                err = negative_errno();
        if (setresuid((uid_t) -1, 0, (uid_t) -1) < 0) {
                /* Cannot happen (real and saved uid are 0); never go on
                 * serving with the wrong identity. */
                (void) log_error_errno(negative_errno(), "seteuid(0)");
                _exit(EXIT_FAILURE);
        }
        if (err < 0 && err != -ESRCH)
                log_warning_errno(err, "session %u: kill(-%d, %d)", s->id, (int) s->pid, sig);
}

/* The client is gone (or broke the protocol): hang up its session. */
static void client_gone(struct session *s, const char *why) {
        log_info("session %u: closing: %s", s->id, why);
        close_fd(&s->fd);
        if (s->pid <= 0) {
                session_free(s);
                return;
        }
        session_signal(s, SIGHUP);
        session_signal(s, SIGCONT); /* a stopped job must see its SIGHUP */
        s->kill_at = now_ms() + BROKER_KILL_DELAY_MS;
}

/* ---- the child: become the user, then execve() ---- */

static _noreturn_ void child_fail(int report, const char *step, int err) {
        struct exec_report rep = { .err = err < 0 ? err : -EIO };
        (void) snprintf(rep.step, sizeof rep.step, "%s", step);
        /* Nowhere else to report: the pipe is the only channel left. */
        if (write(report, &rep, sizeof rep) < 0)
                _exit(126);
        _exit(127);
}

static bool name_is_numeric(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

/* Groups, gid, uid; then every capability set empty, no way back, and the
 * result read back from the kernel. */
static int child_drop(const struct level_user *u, const char **step) {
        uid_t ru = 0, eu = 0, su = 0;
        gid_t rg = 0, eg = 0, sg = 0, groups[2] = { 0, 0 };
        uint64_t eff = 0, perm = 0, inh = 0;

        *step = "setgroups";
        if (name_is_numeric(u->name)) {
                if (setgroups(1, &u->gid) < 0)
                        return negative_errno();
        } else {
                *step = "initgroups";
                if (initgroups(u->name, u->gid) < 0)
                        return negative_errno();
        }
        *step = "setresgid";
        if (setresgid(u->gid, u->gid, u->gid) < 0)
                return negative_errno();
        *step = "setresuid";
        if (setresuid(u->uid, u->uid, u->uid) < 0)
                return negative_errno();

        /* With SECBIT_NO_SETUID_FIXUP (as in the level's jail) the uid
         * change kept every capability: clear them all ourselves.  Ambient
         * first (it must stay a subset of permitted and inheritable). */
        *step = "clear ambient caps";
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return negative_errno();
        *step = "capset";
        int r = caps_set(0, 0, 0);
        if (r < 0)
                return r;
        *step = "keepcaps";
        r = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
        if (r < 0)
                return negative_errno();
        if (r > 0 && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return negative_errno();
        *step = "no_new_privs";
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();

        *step = "verify credentials";
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return negative_errno();
        if (ru != u->uid || eu != u->uid || su != u->uid || rg != u->gid || eg != u->gid || sg != u->gid)
                return -EPERM;
        if (name_is_numeric(u->name) && (getgroups(2, groups) != 1 || groups[0] != u->gid))
                return -EPERM;
        r = caps_get(&eff, &perm, &inh);
        if (r < 0)
                return r;
        if (eff != 0 || perm != 0 || inh != 0 || ambient_any())
                return -EPERM;
        /* And the way back must be closed. */
        if (setresuid(0, 0, 0) == 0 || setgroups(0, NULL) == 0)
                return -EPERM;
        return 0;
}

/* The shell of a session inside the level: the user's, unless it is one
 * that only makes sense in the core (rempart-login, the level menu: users of
 * levels have it as login shell) or refuses sessions (nologin, false); then
 * /bin/sh. */
static bool shell_usable(const char *shell) {
        static const char *const core_only[] = { "rempart-login", "nologin", "false" };
        const char *base = strrchr(shell, '/');

        base = base ? base + 1 : shell;
        for (size_t i = 0; i < sizeof core_only / sizeof core_only[0]; i++)
                if (strcmp(base, core_only[i]) == 0)
                        return false;
        return access(shell, X_OK) == 0;
}

static void user_shell(uid_t uid, char *shell, size_t size) {
        struct passwd pw, *res = NULL;
        char buf[4096];

        if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res && res->pw_shell && res->pw_shell[0] == '/' &&
            strlen(res->pw_shell) < size && shell_usable(res->pw_shell)) {
                memcpy(shell, res->pw_shell, strlen(res->pw_shell) + 1);
                return;
        }
        (void) snprintf(shell, size, "/bin/sh");
}

/* execve() file, searching SESSION_PATH when it has no '/'; returns the
 * most telling -errno (like execvp: EACCES wins over ENOENT). */
static int exec_search(const char *file, char *const argv[], char *const envp[]) {
        static const char *const dirs[] = { "/usr/local/bin", "/usr/bin", "/bin" };
        char path[BROKER_STRING_MAX + 32];
        int err = -ENOENT;

        if (strchr(file, '/')) {
                (void) execve(file, argv, envp);
                return negative_errno();
        }
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (snprintf(path, sizeof path, "%s/%s", dirs[i], file) >= (int) sizeof path)
                        return -ENAMETOOLONG;
                (void) execve(path, argv, envp);
                if (errno != ENOENT && errno != ENOTDIR)
                        err = negative_errno();
        }
        return err;
}

static _noreturn_ void session_child(const struct child_spec *spec, int fds[BROKER_N_FDS], int report) {
        sigset_t none;
        const char *step = "setup";
        char home[sizeof spec->user->name + 16], user[sizeof spec->user->name + 16],
                logname[sizeof spec->user->name + 16], shell[1024], shellenv[sizeof shell + 16], argv0[sizeof shell + 1];
        char *envp[5 + BROKER_ENVC_MAX + 1];
        char *login_argv[2];
        size_t n = 0;
        int moved[BROKER_N_FDS], r;

        /* The broker reads its signals from a signalfd: unblock them.  And
         * an ignored signal stays ignored across execve(): whatever the
         * broker inherited, the command starts with every default. */
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL); /* EINVAL for the numbers glibc reserves: fine */
        if (sigemptyset(&none) < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0)
                child_fail(report, "sigprocmask", negative_errno());
        if (setsid() < 0)
                child_fail(report, "setsid", negative_errno());

        /* Standard descriptors: first out of the way of 0..2 (the received
         * ones may be anywhere), then into place; the report pipe goes to
         * 3 (close-on-exec), everything else is closed. */
        for (size_t i = 0; i < BROKER_N_FDS; i++) {
                moved[i] = fcntl(fds[i], F_DUPFD, 10);
                if (moved[i] < 0)
                        child_fail(report, "fcntl", negative_errno());
        }
        report = fcntl(report, F_DUPFD_CLOEXEC, 10);
        if (report < 0)
                _exit(127);
        for (int i = 0; i < BROKER_N_FDS; i++)
                if (dup2(moved[i], i) < 0)
                        child_fail(report, "dup2", negative_errno());
        if (dup3(report, 3, O_CLOEXEC) < 0)
                child_fail(report, "dup3", negative_errno());
        report = 3;
        if (close_range(4, ~0U, 0) < 0)
                child_fail(report, "close_range", negative_errno());

        if (spec->tty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) < 0)
                child_fail(report, "TIOCSCTTY", negative_errno());

        r = child_drop(spec->user, &step);
        if (r < 0)
                child_fail(report, step, r);
        /* Die with the broker.  Set after the uid change, which clears it. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                child_fail(report, "pdeathsig", negative_errno());
        if (getppid() != spec->broker_pid)
                child_fail(report, "broker gone", -ESRCH);
        (void) umask(SESSION_UMASK);

        user_shell(spec->user->uid, shell, sizeof shell);
        (void) snprintf(home, sizeof home, "HOME=/home/%s", spec->user->name);
        (void) snprintf(user, sizeof user, "USER=%s", spec->user->name);
        (void) snprintf(logname, sizeof logname, "LOGNAME=%s", spec->user->name);
        (void) snprintf(shellenv, sizeof shellenv, "SHELL=%s", shell);
        if (chdir(home + 5) < 0 && chdir("/") < 0)
                child_fail(report, "chdir", negative_errno());
        envp[n++] = home;
        envp[n++] = user;
        envp[n++] = logname;
        envp[n++] = shellenv;
        envp[n++] = (char *) "PATH=" SESSION_PATH;
        for (size_t i = 0; spec->env && spec->env[i] && i < BROKER_ENVC_MAX; i++)
                if (broker_env_allowed(spec->env[i])) /* checked by the decoder already */
                        envp[n++] = spec->env[i];
        envp[n] = NULL;

        if (!spec->argv || !spec->argv[0]) {
                /* Interactive login shell: argv[0] is "-" and its base name. */
                const char *base = strrchr(shell, '/');
                (void) snprintf(argv0, sizeof argv0, "-%s", base ? base + 1 : shell);
                login_argv[0] = argv0;
                login_argv[1] = NULL;
                (void) execve(shell, login_argv, envp);
                child_fail(report, "execve", negative_errno());
        }
        r = exec_search(spec->argv[0], spec->argv, envp);
        child_fail(report, "execve", r);
}

/* ---- starting sessions ---- */

static const struct level_user *level_user_find(const struct level_config *l, uid_t uid) {
        for (unsigned i = 0; i < l->n_users && i < LEVEL_MAX_USERS; i++)
                if (l->users[i].uid == uid)
                        return &l->users[i];
        return NULL;
}

static const struct level_service *level_service_find(const struct level_config *l, const char *name) {
        for (unsigned i = 0; i < l->n_services && i < LEVEL_MAX_SERVICES; i++)
                if (strcmp(l->services[i].name, name) == 0)
                        return &l->services[i];
        return NULL;
}

static void spawn(struct session *s, struct child_spec *spec, int fds[BROKER_N_FDS]) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
                reply_error_fd(s->fd, s->id, negative_errno(), "cannot start: pipe2: %m");
                close_fds3(fds);
                client_gone(s, "request refused");
                return;
        }
        spec->broker_pid = getpid();
        pid = fork();
        if (pid < 0) {
                reply_error_fd(s->fd, s->id, negative_errno(), "cannot start: fork: %m");
                close_fds3(fds);
                close_fd(&p[0]);
                close_fd(&p[1]);
                client_gone(s, "request refused");
                return;
        }
        if (pid == 0) {
                close_fd(&p[0]);
                session_child(spec, fds, p[1]);
        }
        close_fd(&p[1]);
        s->pid = pid;
        s->uid = spec->user->uid;
        s->report = p[0];
        s->state = SESSION_STARTING;
        if (spec->tty) {
                s->tty = fds[0];
                fds[0] = -1;
        }
        close_fds3(fds);
        log_info("session %u: uid %u: started pid %d as %s (%s)", s->id, (unsigned) s->peer_uid, (int) pid,
                 spec->user->name, spec->argv && spec->argv[0] ? spec->argv[0] : "login shell");
}

static void start_run(struct broker *b, struct session *s, int fds[BROKER_N_FDS]) {
        const struct broker_msg *m = &b->msg;
        const struct level_user *u = NULL;

        if (level_user_allowed(b->level, s->peer_uid))
                u = level_user_find(b->level, s->peer_uid);
        if (!u) {
                close_fds3(fds);
                reply_error_fd(s->fd, s->id, -EPERM, "uid %u is not a user of level %s", (unsigned) s->peer_uid,
                               b->level->name);
                client_gone(s, "request refused");
                return;
        }
        if ((m->flags & BROKER_RUN_TTY) && !isatty(fds[0])) {
                close_fds3(fds);
                reply_error_fd(s->fd, s->id, -ENOTTY, "TTY requested but the standard input sent is not a terminal");
                client_gone(s, "request refused");
                return;
        }
        struct child_spec spec = {
                .user = u,
                .argv = m->argc > 0 ? m->argv : NULL,
                .env = m->env,
                .tty = (m->flags & BROKER_RUN_TTY) != 0,
        };
        spawn(s, &spec, fds);
}

static void start_service(struct broker *b, struct session *s, int fds[BROKER_N_FDS]) {
        const struct level_service *svc = level_service_find(b->level, b->msg.service);

        if (!svc) {
                close_fds3(fds);
                reply_error_fd(s->fd, s->id, -ENOENT, "level %s has no service %s", b->level->name, b->msg.service);
                client_gone(s, "request refused");
                return;
        }
        if (s->peer_uid != 0 && s->peer_uid != svc->user.uid) {
                close_fds3(fds);
                reply_error_fd(s->fd, s->id, -EPERM, "service %s runs as %s: only that user or root may start it",
                               svc->name, svc->user.name);
                client_gone(s, "request refused");
                return;
        }
        if (!level_user_allowed(b->level, svc->user.uid) || svc->argc == 0 || !svc->argv[0]) {
                close_fds3(fds);
                reply_error_fd(s->fd, s->id, -EINVAL, "service %s is not runnable (user %s, %u words)", svc->name,
                               svc->user.name, svc->argc);
                client_gone(s, "request refused");
                return;
        }
        /* A service reads nothing from the client. */
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (null < 0) {
                close_fds3(fds);
                reply_error_fd(s->fd, s->id, negative_errno(), "cannot open /dev/null: %m");
                client_gone(s, "request refused");
                return;
        }
        close_fd(&fds[0]);
        fds[0] = null;
        struct child_spec spec = { .user = &svc->user, .argv = svc->argv, .env = NULL, .tty = false };
        spawn(s, &spec, fds);
}

/* ---- events ---- */

static void accept_one(struct broker *b, bool *again) {
        _cleanup_close_ int fd = -1;
        struct ucred uc = {};
        socklen_t len = sizeof uc;
        struct session *s = NULL;
        unsigned id;

        *again = false;
        fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(negative_errno(), "accept");
                *again = errno == EINTR || errno == ECONNABORTED;
                return;
        }
        *again = true;
        id = ++b->next_id;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0 || len != sizeof uc) {
                log_warning_errno(negative_errno(), "session %u: SO_PEERCRED", id);
                return;
        }
        /* The key check.  SO_PEERCRED gives the peer's pid as seen from the
         * broker's pid namespace, which is the level's own.  Every process
         * of the level (and of any namespace nested in it) has a pid there;
         * only a process outside of it (the core, in an ancestor namespace)
         * has none, and shows up as pid 0.  So a non-zero pid means that a
         * process of the level itself is asking to start a session, e.g.
         * as another user of the level: refused.  If the level had no pid
         * namespace of its own, every peer, the core included, would have
         * a pid and be refused: the check fails closed. */
        if (uc.pid != 0) {
                reply_error_fd(fd, id, -EPERM,
                               "the peer (pid %d, uid %u) runs inside level %s: sessions are started from the core only",
                               (int) uc.pid, (unsigned) uc.uid, b->level->name);
                return;
        }
        if (uc.uid != 0 && !level_user_allowed(b->level, uc.uid)) {
                reply_error_fd(fd, id, -EPERM, "uid %u is not a user of level %s", (unsigned) uc.uid, b->level->name);
                return;
        }
        for (size_t i = 0; i < BROKER_MAX_SESSIONS && !s; i++)
                if (b->sessions[i].state == SESSION_FREE)
                        s = &b->sessions[i];
        if (!s) {
                reply_error_fd(fd, id, -EAGAIN, "too many sessions in level %s (at most %d)", b->level->name,
                               BROKER_MAX_SESSIONS);
                return;
        }
        *s = (struct session) {
                .state = SESSION_WAIT_REQUEST,
                .id = id,
                .fd = take_fd(&fd),
                .peer_uid = uc.uid,
                .report = -1,
                .tty = -1,
        };
}

static void handle_input(struct broker *b, struct session *s) {
        struct broker_msg *m = &b->msg;
        int fds[BROKER_N_FDS];
        int r = broker_recv(s->fd, m, fds);

        if (r == -EAGAIN)
                return;
        if (r == -ECONNRESET) {
                client_gone(s, "the client closed the connection");
                return;
        }
        if (r == -EBADMSG) {
                reply_error_fd(s->fd, s->id, -EBADMSG, "malformed message");
                client_gone(s, "malformed message from the client");
                return;
        }
        if (r < 0) {
                log_warning_errno(r, "session %u: receiving", s->id);
                client_gone(s, "connection failed");
                return;
        }

        if (s->state == SESSION_WAIT_REQUEST) {
                if (m->type == BROKER_MSG_RUN) {
                        start_run(b, s, fds);
                        return;
                }
                if (m->type == BROKER_MSG_SERVICE) {
                        start_service(b, s, fds);
                        return;
                }
        } else if (m->type == BROKER_MSG_SIGNAL) {
                session_signal(s, m->signo);
                return;
        } else if (m->type == BROKER_MSG_WINSIZE) {
                struct winsize ws = { .ws_row = m->rows, .ws_col = m->cols };
                if (s->tty >= 0 && ioctl(s->tty, TIOCSWINSZ, &ws) < 0)
                        log_warning_errno(negative_errno(), "session %u: TIOCSWINSZ", s->id);
                return;
        }
        close_fds3(fds);
        reply_error_fd(s->fd, s->id, -EPROTO, "unexpected %s message", broker_msg_type_name(m->type));
        client_gone(s, "protocol violation by the client");
}

/* The child's exec report: EOF means execve() succeeded. */
static void handle_report(struct session *s) {
        struct exec_report rep = {};
        ssize_t n;
        uint8_t buf[BROKER_HDR_SIZE + 4];
        size_t len;

        do
                n = read(s->report, &rep, sizeof rep);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN)
                return;
        close_fd(&s->report);
        s->state = SESSION_RUNNING;
        if (n == 0) {
                if (broker_encode_started(buf, sizeof buf, &len, s->pid) == 0)
                        reply(s, buf, len);
                return;
        }
        s->failed = true;
        if (n != (ssize_t) sizeof rep) {
                reply_error_fd(s->fd, s->id, -EIO, "the session failed to start (no report)");
                return;
        }
        rep.step[sizeof rep.step - 1] = '\0';
        reply_error_fd(s->fd, s->id, rep.err, "cannot start the command: %s: %s", rep.step,
                       strerror(rep.err < 0 ? -rep.err : EIO));
}

static void session_exited(struct session *s, int status) {
        uint8_t buf[BROKER_HDR_SIZE + 8];
        size_t len;
        enum broker_exit_kind kind;
        int code;

        if (WIFSIGNALED(status)) {
                kind = BROKER_EXIT_SIGNALED;
                code = WTERMSIG(status);
        } else {
                kind = BROKER_EXIT_EXITED;
                code = WEXITSTATUS(status);
        }
        log_info("session %u: pid %d %s %d", s->id, (int) s->pid,
                 kind == BROKER_EXIT_SIGNALED ? "killed by signal" : "exited with status", code);
        if (!s->failed && broker_encode_exit(buf, sizeof buf, &len, kind, code) == 0)
                reply(s, buf, len);
        session_free(s);
}

static void reap(struct broker *b) {
        for (;;) {
                siginfo_t si = {};
                int status = 0;
                pid_t pid;

                /* Look first (WNOWAIT): while the leader is an unreaped
                 * zombie its pid, which is also its process group id,
                 * cannot be reused, so killing the group is safe. */
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != ECHILD)
                                log_warning_errno(negative_errno(), "waitid");
                        return;
                }
                if (si.si_pid == 0)
                        return;
                struct session *s = session_by_pid(b, si.si_pid);
                if (s) {
                        if (s->state == SESSION_STARTING)
                                handle_report(s);
                        session_signal(s, SIGKILL); /* what is left of it */
                }
                do
                        pid = waitpid(si.si_pid, &status, 0);
                while (pid < 0 && errno == EINTR);
                if (pid < 0) {
                        log_warning_errno(negative_errno(), "waitpid(%d)", (int) si.si_pid);
                        return;
                }
                if (s)
                        session_exited(s, status);
        }
}

static void begin_stop(struct broker *b) {
        struct stat st;

        if (b->stopping)
                return;
        log_info("stopping: terminating every session");
        b->stopping = true;
        close_fd(&b->listen_fd);
        if (lstat(b->socket_path, &st) == 0 && st.st_dev == b->socket_stat.st_dev &&
            st.st_ino == b->socket_stat.st_ino && unlink(b->socket_path) < 0)
                log_warning_errno(negative_errno(), "removing %s", b->socket_path);
        for (size_t i = 0; i < BROKER_MAX_SESSIONS; i++) {
                struct session *s = &b->sessions[i];
                if (s->state == SESSION_FREE)
                        continue;
                if (s->pid <= 0) {
                        session_free(s);
                        continue;
                }
                session_signal(s, SIGTERM);
                session_signal(s, SIGCONT);
                s->kill_at = 0;
        }
        b->stop_deadline = now_ms() + BROKER_KILL_DELAY_MS;
}

static void handle_signals(struct broker *b) {
        struct signalfd_siginfo si;

        while (read(b->sig_fd, &si, sizeof si) == (ssize_t) sizeof si)
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                        begin_stop(b);
        /* SIGCHLD or not: reaping is cheap, and several exits may have
         * been merged into one signal. */
        reap(b);
}

static void run_timers(struct broker *b) {
        uint64_t now = now_ms();

        for (size_t i = 0; i < BROKER_MAX_SESSIONS; i++) {
                struct session *s = &b->sessions[i];
                if (s->state != SESSION_FREE && s->kill_at != 0 && now >= s->kill_at) {
                        log_info("session %u: still running after hang-up: SIGKILL", s->id);
                        session_signal(s, SIGKILL);
                        s->kill_at = 0;
                }
        }
        if (b->stopping && !b->stop_killed && now >= b->stop_deadline) {
                for (size_t i = 0; i < BROKER_MAX_SESSIONS; i++)
                        if (b->sessions[i].state != SESSION_FREE)
                                session_signal(&b->sessions[i], SIGKILL);
                b->stop_killed = true;
        }
}

static int next_timeout(const struct broker *b) {
        uint64_t now = now_ms(), next = UINT64_MAX;

        for (size_t i = 0; i < BROKER_MAX_SESSIONS; i++)
                if (b->sessions[i].state != SESSION_FREE && b->sessions[i].kill_at != 0 &&
                    b->sessions[i].kill_at < next)
                        next = b->sessions[i].kill_at;
        if (b->stopping && !b->stop_killed && b->stop_deadline < next)
                next = b->stop_deadline;
        if (next == UINT64_MAX)
                return -1;
        return next <= now ? 0 : (int) (next - now);
}

enum poll_kind { POLL_CONN, POLL_REPORT, POLL_LISTEN, POLL_SIGNAL };

static int serve_loop(struct broker *b) {
        for (;;) {
                struct pollfd p[2 + 2 * BROKER_MAX_SESSIONS];
                enum poll_kind kind[ELEMENTSOF(p)];
                size_t idx[ELEMENTSOF(p)];
                nfds_t n = 0;

                if (b->stopping && !session_alive(b))
                        break;
                /* Connections first: handling one never frees another
                 * slot, so entries later in the array stay valid.  Accepting
                 * (into free slots) and reaping (which frees) come last. */
                for (size_t i = 0; i < BROKER_MAX_SESSIONS; i++) {
                        const struct session *s = &b->sessions[i];
                        if (s->fd >= 0) {
                                p[n] = (struct pollfd) { .fd = s->fd, .events = POLLIN };
                                kind[n] = POLL_CONN;
                                idx[n++] = i;
                        }
                        if (s->report >= 0) {
                                p[n] = (struct pollfd) { .fd = s->report, .events = POLLIN };
                                kind[n] = POLL_REPORT;
                                idx[n++] = i;
                        }
                }
                if (b->listen_fd >= 0) {
                        p[n] = (struct pollfd) { .fd = b->listen_fd, .events = POLLIN };
                        kind[n] = POLL_LISTEN;
                        idx[n++] = 0;
                }
                p[n] = (struct pollfd) { .fd = b->sig_fd, .events = POLLIN };
                kind[n] = POLL_SIGNAL;
                idx[n++] = 0;

                if (poll(p, n, next_timeout(b)) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(negative_errno(), "poll");
                }
                for (nfds_t k = 0; k < n; k++) {
                        if (p[k].revents == 0)
                                continue;
                        struct session *s = &b->sessions[idx[k]];
                        switch (kind[k]) {
                        case POLL_CONN:
                                if (s->fd == p[k].fd)
                                        handle_input(b, s);
                                break;
                        case POLL_REPORT:
                                if (s->report == p[k].fd)
                                        handle_report(s);
                                break;
                        case POLL_LISTEN:
                                for (unsigned burst = 0; burst < ACCEPT_BURST; burst++) {
                                        bool again;
                                        accept_one(b, &again);
                                        if (!again)
                                                break;
                                }
                                break;
                        case POLL_SIGNAL:
                                handle_signals(b);
                                break;
                        }
                }
                run_timers(b);
        }
        log_info("stopped");
        return 0;
}

int broker_serve(const struct level_config *level, int listen_fd, const char *socket_path) {
        _cleanup_close_ int sig_fd = -1;
        struct stat st;
        struct broker *b;
        sigset_t set;
        int r;

        if (sigemptyset(&set) < 0 || sigaddset(&set, SIGCHLD) < 0 || sigaddset(&set, SIGTERM) < 0 ||
            sigaddset(&set, SIGINT) < 0)
                return log_error_errno(negative_errno(), "sigset");
        sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sig_fd < 0)
                return log_error_errno(negative_errno(), "signalfd");
        if (lstat(socket_path, &st) < 0)
                return log_error_errno(negative_errno(), "%s", socket_path);
        b = calloc(1, sizeof *b);
        if (!b)
                return log_error_errno(-ENOMEM, "allocating the broker state");
        b->level = level;
        b->socket_path = socket_path;
        b->socket_stat = st;
        b->listen_fd = listen_fd;
        b->sig_fd = sig_fd;
        for (size_t i = 0; i < BROKER_MAX_SESSIONS; i++)
                session_free(&b->sessions[i]);
        r = serve_loop(b);
        /* Sessions and connections are all closed once the loop ended. */
        close_fd(&b->listen_fd);
        free(b);
        return r;
}

/* SPDX-License-Identifier: MIT */
/* level-probe: one isolation action per call, for the levels' isolation
 * matrix (run-level-matrix.sh, guest-levels.sh).  The same action is run
 * across levels (where it must fail) and within one level or in the core
 * (where it must work), so that no check of the matrix passes vacuously.
 *
 * Output: one line, and the exit status
 *   OK <detail>                    0  the action worked
 *   DENIED <ERRNO-NAME> <detail>   1  the action was refused or found nothing
 *   ERROR <ERRNO-NAME> <detail>    3  the probe itself could not run
 *   usage message on stderr        2
 * Servers (hold, *-listen, * create) print "READY <detail>" once set up,
 * then serve until SIGTERM, SIGHUP or SIGINT, or their time limit, remove
 * what they created and exit 0.
 *
 * "batch" runs many calls in one process (one child each), reading
 * "TAG COMMAND [ARGS]" lines and printing "@@MX TAG STATUS OUTPUT".
 *
 * It links nothing but libc, so that it can be copied alone into a VM
 * payload, and it runs unprivileged (except "runas", which needs root). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_DENIED 1
#define EXIT_USAGE 2
#define EXIT_ERROR 3
#define SERVE_DEFAULT_S 600      /* servers end by themselves after this */
#define CONNECT_TIMEOUT_MS 5000
#define UDP_REPLY_TIMEOUT_MS 3000
#define GREETING_TIMEOUT_MS 300
#define FORKBOMB_CAP 2000        /* a bomb that is not contained stops here */
#define MEMHOG_MAX_MB 65536
#define PROC_CMDLINE_MAX 4096
#define IPC_MODE 0666            /* open to everyone: only the namespaces isolate */
#define BATCH_OUT_MAX 1024
#define BATCH_MAX_WORDS 6
#define BATCH_CALL_TIMEOUT_S 30

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
        (void) sig;
        stop_requested = 1;
}

static const char *errname(int err) {
        const char *n = strerrorname_np(err);
        return n ? n : "E?";
}

/* One result line; flushed at once (stdout is a file or a pipe). */
__attribute__((format(printf, 2, 3))) static void line(const char *tag, const char *fmt, ...) {
        va_list ap;

        (void) fputs(tag, stdout);
        (void) fputc(' ', stdout);
        va_start(ap, fmt);
        (void) vfprintf(stdout, fmt, ap);
        va_end(ap);
        (void) fputc('\n', stdout);
        (void) fflush(stdout);
}

#define ok(...) (line("OK", __VA_ARGS__), 0)
/* DENIED/ERROR with the errno's name first. */
__attribute__((format(printf, 3, 4))) static int fail(int status, int err, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        line(status == EXIT_DENIED ? "DENIED" : "ERROR", "%s %s", errname(err), msg);
        return status;
}
#define denied(err, ...) fail(EXIT_DENIED, (err), __VA_ARGS__)
#define trouble(err, ...) fail(EXIT_ERROR, (err), __VA_ARGS__)

static int usage(void) {
        (void) fputs("usage: level-probe COMMAND [ARGS]\n"
                     "  pids | find MARKER | hostname | sethostname NAME\n"
                     "  signal PID [SIG] | ptrace PID | proc-root PID [PATH]\n"
                     "  read PATH | write PATH | stat PATH\n"
                     "  sysv-shm|sysv-msg|sysv-sem create|open KEY\n"
                     "  posix-shm|posix-mq create|open NAME\n"
                     "  unix-listen PATH | unix-connect PATH\n"
                     "  abstract-listen NAME | abstract-connect NAME\n"
                     "  tcp-listen PORT [ADDR] | tcp-connect ADDR PORT\n"
                     "  udp-listen PORT [ADDR] | udp-connect ADDR PORT\n"
                     "  hold SECONDS [MARKER] | forkbomb SECONDS | memhog MB [MS] | cpuburn SECONDS [PROCS]\n"
                     "  runas UID -- COMMAND [ARGS]   (root only)\n"
                     "  batch      (stdin: \"TAG COMMAND [ARGS]\" lines; prints \"@@MX TAG STATUS OUTPUT\")\n",
                     stderr);
        return EXIT_USAGE;
}

static bool parse_long(const char *s, long min, long max, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 0);
        if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
                return false;
        *ret = v;
        return true;
}

static void install_stop_handlers(void) {
        struct sigaction sa = { .sa_handler = on_stop };

        (void) sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        /* A peer that closes early must not kill a server. */
        (void) signal(SIGPIPE, SIG_IGN);
}

static long long now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void short_hostname(char *buf, size_t size) {
        struct utsname u;

        if (uname(&u) < 0)
                (void) snprintf(buf, size, "?");
        else
                (void) snprintf(buf, size, "%s", u.nodename);
}

/* Serve: wait until asked to stop (or the time limit), calling fn for each
 * readable fd (fd < 0: just wait). */
static void serve(int fd, void (*fn)(int fd)) {
        long long end = now_ms() + (long long) SERVE_DEFAULT_S * 1000;

        while (!stop_requested && now_ms() < end) {
                struct pollfd pf = { .fd = fd, .events = POLLIN };
                int n = poll(&pf, fd >= 0 ? 1 : 0, 500);

                if (n > 0 && fn)
                        fn(fd);
        }
}

/* ------------------------------------------------------------ processes */

static bool is_pid_name(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

static int cmd_pids(void) {
        DIR *d = opendir("/proc");
        char list[1024] = "";
        size_t len = 0;
        unsigned n = 0;
        struct dirent *de;

        if (!d)
                return denied(errno, "opendir /proc");
        while ((de = readdir(d))) {
                if (!is_pid_name(de->d_name))
                        continue;
                n++;
                if (len + strlen(de->d_name) + 2 < sizeof list)
                        len += (size_t) snprintf(list + len, sizeof list - len, " %s", de->d_name);
        }
        (void) closedir(d);
        return ok("n=%u pids:%s", n, list);
}

/* Is /proc/PID/cmdline "level-probe hold SECONDS MARKER"?  (Not merely a
 * command line that mentions the marker: rempartctl's does too.) */
static bool is_holder(const char *pid, const char *marker) {
        char path[300], buf[PROC_CMDLINE_MAX];
        ssize_t n;
        int fd;

        (void) snprintf(path, sizeof path, "/proc/%s/cmdline", pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof buf - 1);
        (void) close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        {
                const char *args[4] = { NULL };
                unsigned argc = 0;

                for (ssize_t i = 0; i < n && argc < 4; i += (ssize_t) strlen(buf + i) + 1)
                        args[argc++] = buf + i;
                return argc == 4 && strcmp(args[1], "hold") == 0 && strcmp(args[3], marker) == 0;
        }
}

/* The "hold SECONDS MARKER" processes we can see (ourselves left out). */
static int cmd_find(const char *marker) {
        DIR *d = opendir("/proc");
        char self[32], found[512] = "";
        size_t len = 0;
        unsigned n = 0, seen = 0;
        struct dirent *de;

        if (!d)
                return denied(errno, "opendir /proc");
        (void) snprintf(self, sizeof self, "%d", (int) getpid());
        while ((de = readdir(d))) {
                if (!is_pid_name(de->d_name))
                        continue;
                seen++;
                if (strcmp(de->d_name, self) == 0 || !is_holder(de->d_name, marker))
                        continue;
                n++;
                if (len + strlen(de->d_name) + 2 < sizeof found)
                        len += (size_t) snprintf(found + len, sizeof found - len, "%s%s", n > 1 ? "," : "",
                                                 de->d_name);
        }
        (void) closedir(d);
        if (n == 0)
                return denied(ENOENT, "no holder of %s among %u visible processes", marker, seen);
        return ok("pid=%s (%u visible)", found, seen);
}

static int cmd_signal(const char *pid_s, const char *sig_s) {
        long pid, sig = SIGWINCH; /* ignored by default: harmless if it arrives */

        if (!parse_long(pid_s, 1, INT_MAX, &pid) || (sig_s && !parse_long(sig_s, 0, 64, &sig)))
                return usage();
        if (kill((pid_t) pid, (int) sig) < 0)
                return denied(errno, "kill(%ld, %ld)", pid, sig);
        return ok("kill(%ld, %ld)", pid, sig);
}

static int cmd_ptrace(const char *pid_s) {
        long pid;

        if (!parse_long(pid_s, 1, INT_MAX, &pid))
                return usage();
        /* SEIZE does not stop the tracee; our exit detaches it. */
        if (ptrace(PTRACE_SEIZE, (pid_t) pid, NULL, NULL) < 0)
                return denied(errno, "ptrace(PTRACE_SEIZE, %ld)", pid);
        return ok("ptrace(PTRACE_SEIZE, %ld)", pid);
}

static int cmd_proc_root(const char *pid_s, const char *rel) {
        char path[PATH_MAX];
        long pid;
        int fd;

        if (!parse_long(pid_s, 1, INT_MAX, &pid))
                return usage();
        (void) snprintf(path, sizeof path, "/proc/%ld/root/%s", pid, rel ? rel : ".");
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return denied(errno, "open %s", path);
        (void) close(fd);
        return ok("opened %s", path);
}

/* ---------------------------------------------------------------- files */

static int cmd_read(const char *path) {
        char buf[256];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return denied(errno, "open %s", path);
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0) {
                int e = errno;
                (void) close(fd);
                return denied(e, "read %s", path);
        }
        (void) close(fd);
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return ok("read %s: %s", path, buf);
}

static int cmd_write(const char *path) {
        static const char text[] = "written by level-probe\n";
        ssize_t n;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0644);

        if (fd < 0)
                return denied(errno, "open %s for writing", path);
        n = write(fd, text, sizeof text - 1);
        if (n < 0) {
                int e = errno;
                (void) close(fd);
                return denied(e, "write %s", path);
        }
        if (close(fd) < 0)
                return denied(errno, "close %s", path);
        return ok("wrote %s", path);
}

static int cmd_stat(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return denied(errno, "lstat %s", path);
        return ok("%s mode %o uid %u", path, (unsigned) st.st_mode, (unsigned) st.st_uid);
}

/* ------------------------------------------------------------------ IPC */

static bool parse_key(const char *s, key_t *key) {
        long v;

        if (!parse_long(s, 1, INT_MAX, &v))
                return false;
        *key = (key_t) v;
        return true;
}

static int sysv_ready_and_serve(const char *what, key_t key, int id, int kind) {
        line("READY", "%s key %ld id %d", what, (long) key, id);
        serve(-1, NULL);
        if (kind == 0)
                (void) shmctl(id, IPC_RMID, NULL);
        else if (kind == 1)
                (void) msgctl(id, IPC_RMID, NULL);
        else
                (void) semctl(id, 0, IPC_RMID);
        return 0;
}

static int cmd_sysv_shm(bool create, key_t key) {
        int id;
        void *p;

        if (create) {
                id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | IPC_MODE);
                if (id < 0)
                        return trouble(errno, "shmget(%ld, IPC_CREAT)", (long) key);
                p = shmat(id, NULL, 0);
                if (p == (void *) -1) {
                        int e = errno;
                        (void) shmctl(id, IPC_RMID, NULL);
                        return trouble(e, "shmat");
                }
                (void) snprintf(p, 4096, "sysv shm of pid %d", (int) getpid());
                (void) shmdt(p);
                return sysv_ready_and_serve("sysv-shm", key, id, 0);
        }
        id = shmget(key, 0, 0);
        if (id < 0)
                return denied(errno, "shmget(%ld)", (long) key);
        p = shmat(id, NULL, SHM_RDONLY);
        if (p == (void *) -1)
                return denied(errno, "shmat(%d)", id);
        {
                char text[64];
                (void) snprintf(text, sizeof text, "%s", (const char *) p);
                (void) shmdt(p);
                return ok("attached sysv shm %ld: %s", (long) key, text);
        }
}

static int cmd_sysv_msg(bool create, key_t key) {
        struct {
                long mtype;
                char mtext[32];
        } m = { .mtype = 1, .mtext = "hello" };
        int id;

        if (create) {
                id = msgget(key, IPC_CREAT | IPC_EXCL | IPC_MODE);
                if (id < 0)
                        return trouble(errno, "msgget(%ld, IPC_CREAT)", (long) key);
                return sysv_ready_and_serve("sysv-msg", key, id, 1);
        }
        id = msgget(key, 0);
        if (id < 0)
                return denied(errno, "msgget(%ld)", (long) key);
        if (msgsnd(id, &m, sizeof m.mtext, IPC_NOWAIT) < 0)
                return denied(errno, "msgsnd(%d)", id);
        if (msgrcv(id, &m, sizeof m.mtext, 0, IPC_NOWAIT) < 0)
                return denied(errno, "msgrcv(%d)", id);
        return ok("sent and received a message on queue %ld", (long) key);
}

static int cmd_sysv_sem(bool create, key_t key) {
        int id, v;

        if (create) {
                id = semget(key, 1, IPC_CREAT | IPC_EXCL | IPC_MODE);
                if (id < 0)
                        return trouble(errno, "semget(%ld, IPC_CREAT)", (long) key);
                if (semctl(id, 0, SETVAL, 7) < 0) {
                        int e = errno;
                        (void) semctl(id, 0, IPC_RMID);
                        return trouble(e, "semctl(SETVAL)");
                }
                return sysv_ready_and_serve("sysv-sem", key, id, 2);
        }
        id = semget(key, 0, 0);
        if (id < 0)
                return denied(errno, "semget(%ld)", (long) key);
        v = semctl(id, 0, GETVAL);
        if (v < 0)
                return denied(errno, "semctl(%d, GETVAL)", id);
        return ok("semaphore %ld has value %d", (long) key, v);
}

static bool valid_posix_name(const char *name) {
        return name[0] == '/' && name[1] != '\0' && !strchr(name + 1, '/') && strlen(name) < NAME_MAX;
}

static int cmd_posix_shm(bool create, const char *name) {
        char buf[64];
        ssize_t n;
        int fd;

        if (!valid_posix_name(name))
                return usage();
        if (create) {
                mode_t old = umask(0);
                fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, IPC_MODE);
                (void) umask(old);
                if (fd < 0)
                        return trouble(errno, "shm_open(%s, O_CREAT)", name);
                n = snprintf(buf, sizeof buf, "posix shm of pid %d\n", (int) getpid());
                if (write(fd, buf, (size_t) n) != n) {
                        int e = errno;
                        (void) close(fd);
                        (void) shm_unlink(name);
                        return trouble(e, "write");
                }
                (void) close(fd);
                line("READY", "posix-shm %s", name);
                serve(-1, NULL);
                (void) shm_unlink(name);
                return 0;
        }
        fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0)
                return denied(errno, "shm_open(%s)", name);
        n = read(fd, buf, sizeof buf - 1);
        (void) close(fd);
        if (n < 0)
                return denied(errno, "read %s", name);
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return ok("opened posix shm %s: %s", name, buf);
}

static int cmd_posix_mq(bool create, const char *name) {
        struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 64 };
        char buf[64];
        mqd_t q;

        if (!valid_posix_name(name))
                return usage();
        if (create) {
                mode_t old = umask(0);
                q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, IPC_MODE, &attr);
                (void) umask(old);
                if (q == (mqd_t) -1) {
                        int e = errno;
                        /* Landlock refuses to open files outside its rules,
                         * the mqueue file system's included, but only after
                         * the queue was created: it exists (EEXIST now),
                         * and peers can still find it. */
                        if (e != EACCES || mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, IPC_MODE, &attr) !=
                                                   (mqd_t) -1 || errno != EEXIST)
                                return trouble(e, "mq_open(%s, O_CREAT)", name);
                        line("READY", "posix-mq %s created, but opening it: EACCES", name);
                } else {
                        (void) mq_close(q);
                        line("READY", "posix-mq %s", name);
                }
                serve(-1, NULL);
                (void) mq_unlink(name);
                return 0;
        }
        q = mq_open(name, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (q == (mqd_t) -1)
                return denied(errno, "mq_open(%s)%s", name, errno == EACCES ? ": it exists, opening is refused" : "");
        if (mq_send(q, "hello", 6, 0) < 0) {
                int e = errno;
                (void) mq_close(q);
                return denied(e, "mq_send(%s)", name);
        }
        if (mq_receive(q, buf, sizeof buf, NULL) < 0) {
                int e = errno;
                (void) mq_close(q);
                return denied(e, "mq_receive(%s)", name);
        }
        (void) mq_close(q);
        return ok("sent and received a message on %s", name);
}

/* -------------------------------------------------------------- sockets */

static void greet(int listen_fd) {
        char msg[128], host[65];
        int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        int n;

        if (c < 0)
                return;
        short_hostname(host, sizeof host);
        n = snprintf(msg, sizeof msg, "hello from %s pid %d\n", host, (int) getpid());
        (void) send(c, msg, (size_t) n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void) close(c);
}

static void echo_udp(int fd) {
        struct sockaddr_storage from;
        socklen_t len = sizeof from;
        char buf[128], host[65], msg[160];
        ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &from, &len);
        int m;

        if (n < 0)
                return;
        short_hostname(host, sizeof host);
        m = snprintf(msg, sizeof msg, "hello from %s pid %d", host, (int) getpid());
        (void) sendto(fd, msg, (size_t) m, MSG_DONTWAIT, (struct sockaddr *) &from, len);
}

/* Fill sun for a path or an abstract name; returns the address length or 0. */
static socklen_t unix_addr(struct sockaddr_un *sun, const char *name, bool abstract) {
        size_t len = strlen(name);

        *sun = (struct sockaddr_un) { .sun_family = AF_UNIX };
        if (len == 0 || len + 2 > sizeof sun->sun_path)
                return 0;
        memcpy(sun->sun_path + (abstract ? 1 : 0), name, len);
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 1 : 0));
}

static int cmd_unix_listen(const char *name, bool abstract) {
        struct sockaddr_un sun;
        socklen_t len = unix_addr(&sun, name, abstract);
        int fd;

        if (len == 0)
                return usage();
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return trouble(errno, "socket(AF_UNIX)");
        if (!abstract)
                (void) umask(0); /* the socket file open to all: only isolation stops a peer */
        if (bind(fd, (struct sockaddr *) &sun, len) < 0 || listen(fd, 16) < 0) {
                int e = errno;
                (void) close(fd);
                return trouble(e, "bind/listen %s%s", abstract ? "@" : "", name);
        }
        line("READY", "listening on %s%s", abstract ? "@" : "", name);
        serve(fd, greet);
        (void) close(fd);
        if (!abstract)
                (void) unlink(name);
        return 0;
}

/* Read what the server says first, if it says something soon. */
static void read_greeting(int fd, char *buf, size_t size) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        ssize_t n;

        buf[0] = '\0';
        if (poll(&pf, 1, GREETING_TIMEOUT_MS) <= 0)
                return;
        n = recv(fd, buf, size - 1, MSG_DONTWAIT);
        if (n <= 0) {
                buf[0] = '\0';
                return;
        }
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
}

static int cmd_unix_connect(const char *name, bool abstract) {
        struct sockaddr_un sun;
        socklen_t len = unix_addr(&sun, name, abstract);
        char greeting[128];
        int fd;

        if (len == 0)
                return usage();
        /* A stream socket, else (EPROTOTYPE) a seqpacket one: the brokers'. */
        for (int i = 0;; i++) {
                fd = socket(AF_UNIX, (i == 0 ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return trouble(errno, "socket(AF_UNIX)");
                if (connect(fd, (struct sockaddr *) &sun, len) == 0)
                        break;
                {
                        int e = errno;
                        (void) close(fd);
                        if (e != EPROTOTYPE || i > 0)
                                return denied(e, "connect %s%s", abstract ? "@" : "", name);
                }
        }
        read_greeting(fd, greeting, sizeof greeting);
        (void) close(fd);
        return ok("connected to %s%s%s%s", abstract ? "@" : "", name, greeting[0] ? ": " : "", greeting);
}

static bool inet_addr_port(const char *addr, const char *port_s, struct sockaddr_in *sin) {
        long port;

        *sin = (struct sockaddr_in) { .sin_family = AF_INET };
        if (!parse_long(port_s, 0, 65535, &port) || inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
                return false;
        sin->sin_port = htons((uint16_t) port);
        return true;
}

static int cmd_inet_listen(const char *port_s, const char *addr, bool udp) {
        struct sockaddr_in sin;
        int fd, one = 1;

        if (!inet_addr_port(addr ? addr : "127.0.0.1", port_s, &sin))
                return usage();
        fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return trouble(errno, "socket(AF_INET)");
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &sin, sizeof sin) < 0 || (!udp && listen(fd, 16) < 0)) {
                int e = errno;
                (void) close(fd);
                return trouble(e, "bind %s:%s", addr ? addr : "127.0.0.1", port_s);
        }
        line("READY", "%s listening on %s:%s", udp ? "udp" : "tcp", addr ? addr : "127.0.0.1", port_s);
        serve(fd, udp ? echo_udp : greet);
        (void) close(fd);
        return 0;
}

static int cmd_tcp_connect(const char *addr, const char *port_s) {
        struct sockaddr_in sin;
        struct pollfd pf;
        char greeting[128];
        socklen_t elen = sizeof(int);
        int fd, err = 0;

        if (!inet_addr_port(addr, port_s, &sin))
                return usage();
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return trouble(errno, "socket(AF_INET)");
        if (connect(fd, (struct sockaddr *) &sin, sizeof sin) < 0) {
                if (errno != EINPROGRESS) {
                        err = errno;
                        (void) close(fd);
                        return denied(err, "connect %s:%s", addr, port_s);
                }
                pf = (struct pollfd) { .fd = fd, .events = POLLOUT };
                if (poll(&pf, 1, CONNECT_TIMEOUT_MS) <= 0) {
                        (void) close(fd);
                        return denied(ETIMEDOUT, "connect %s:%s: no answer in %d ms", addr, port_s,
                                      CONNECT_TIMEOUT_MS);
                }
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                        err = errno;
                if (err) {
                        (void) close(fd);
                        return denied(err, "connect %s:%s", addr, port_s);
                }
        }
        read_greeting(fd, greeting, sizeof greeting);
        (void) close(fd);
        return ok("connected to %s:%s%s%s", addr, port_s, greeting[0] ? ": " : "", greeting);
}

static int cmd_udp_connect(const char *addr, const char *port_s) {
        struct sockaddr_in sin;
        struct pollfd pf;
        char buf[128];
        ssize_t n;
        int fd;

        if (!inet_addr_port(addr, port_s, &sin))
                return usage();
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return trouble(errno, "socket(AF_INET)");
        if (connect(fd, (struct sockaddr *) &sin, sizeof sin) < 0 || send(fd, "ping", 4, 0) < 0) {
                int e = errno;
                (void) close(fd);
                return denied(e, "send to udp %s:%s", addr, port_s);
        }
        pf = (struct pollfd) { .fd = fd, .events = POLLIN };
        if (poll(&pf, 1, UDP_REPLY_TIMEOUT_MS) <= 0) {
                (void) close(fd);
                return denied(ETIMEDOUT, "no reply from udp %s:%s in %d ms", addr, port_s, UDP_REPLY_TIMEOUT_MS);
        }
        n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
        if (n < 0) {
                int e = errno; /* ECONNREFUSED: the ICMP port unreachable of a closed port */
                (void) close(fd);
                return denied(e, "udp %s:%s", addr, port_s);
        }
        (void) close(fd);
        buf[n] = '\0';
        return ok("udp reply from %s:%s: %s", addr, port_s, buf);
}

/* ------------------------------------------------------- host identity */

static int cmd_hostname(void) {
        struct utsname u;

        if (uname(&u) < 0)
                return trouble(errno, "uname");
        return ok("%s", u.nodename);
}

static int cmd_sethostname(const char *name) {
        if (sethostname(name, strlen(name)) < 0)
                return denied(errno, "sethostname(%s)", name);
        return ok("hostname set to %s", name);
}

/* ------------------------------------------------------------ resources */

static int cmd_hold(const char *secs_s) {
        long secs;
        long long end;

        if (!parse_long(secs_s, 1, 86400, &secs))
                return usage();
        line("READY", "pid=%d uid=%u", (int) getpid(), (unsigned) getuid());
        end = now_ms() + secs * 1000;
        while (!stop_requested && now_ms() < end)
                (void) poll(NULL, 0, 200);
        return 0;
}

/* The children of forkbomb: burn CPU and try to fork more, until their
 * parent is gone (PR_SET_PDEATHSIG) or kills them. */
static _Noreturn void bomb_child(pid_t parent) {
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Nice 19: the level's cgroup uses up its CPU share all the same
         * (that is what the other levels must be protected from), but a
         * memory hog run alongside in the same level is not starved. */
        (void) setpriority(PRIO_PROCESS, 0, 19);
        if (getppid() != parent)
                _exit(0);
        for (;;) {
                pid_t p = fork(); /* pressure on pids.max, as a real bomb does */

                if (p == 0)
                        _exit(0);
                if (p > 0)
                        (void) waitpid(p, NULL, 0);
        }
}

/* Fork until fork() fails (pids.max) or FORKBOMB_CAP children, keep them
 * all for SECONDS (or until stopped), then kill them.  "READY" once the
 * ceiling is reached.  DENIED EAGAIN = contained, OK = not contained. */
static int cmd_forkbomb(const char *secs_s) {
        static pid_t kids[FORKBOMB_CAP];
        pid_t self = getpid();
        unsigned n = 0;
        int err = 0;
        long secs;
        long long end;

        if (!parse_long(secs_s, 1, 3600, &secs))
                return usage();
        while (n < FORKBOMB_CAP) {
                pid_t p = fork();

                if (p < 0) {
                        err = errno;
                        break;
                }
                if (p == 0)
                        bomb_child(self);
                kids[n++] = p;
        }
        line("READY", "forked %u children%s%s", n, err ? ", then fork: " : " (the cap)", err ? errname(err) : "");
        end = now_ms() + secs * 1000;
        while (!stop_requested && now_ms() < end) {
                pid_t p = fork(); /* keep pushing */

                if (p == 0)
                        _exit(0);
                if (p > 0)
                        (void) waitpid(p, NULL, 0);
                else
                        (void) poll(NULL, 0, 10);
        }
        for (unsigned i = 0; i < n; i++)
                (void) kill(kids[i], SIGKILL);
        for (unsigned i = 0; i < n; i++)
                (void) waitpid(kids[i], NULL, 0);
        if (err)
                return denied(err, "fork failed after %u children", n);
        return ok("forked %u children without failure", n);
}

/* Allocate and touch MB MiB, pausing MS milliseconds after each.  An OOM
 * kill ends the process (SIGKILL): the caller sees it in the exit status. */
static int cmd_memhog(const char *mb_s, const char *ms_s) {
        long mb, ms = 0;
        long done = 0;

        if (!parse_long(mb_s, 1, MEMHOG_MAX_MB, &mb) || (ms_s && !parse_long(ms_s, 0, 10000, &ms)))
                return usage();
        line("READY", "allocating %ld MiB", mb);
        for (; done < mb; done++) {
                if (ms > 0)
                        (void) poll(NULL, 0, (int) ms);
                char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                if (p == MAP_FAILED)
                        return denied(errno, "mmap failed after %ld MiB", done);
                for (size_t off = 0; off < (1 << 20); off += 4096)
                        p[off] = (char) off | 1;
        }
        return ok("allocated and touched %ld MiB", mb);
}

static int cmd_cpuburn(const char *secs_s, const char *procs_s) {
        long secs, procs = 1;
        long long end;
        pid_t kids[64];
        long n = 0;

        if (!parse_long(secs_s, 1, 3600, &secs) || (procs_s && !parse_long(procs_s, 1, 64, &procs)))
                return usage();
        line("READY", "burning %ld CPU(s) for %ld s", procs, secs);
        end = now_ms() + secs * 1000;
        for (; n < procs - 1; n++) {
                kids[n] = fork();
                if (kids[n] < 0)
                        break;
                if (kids[n] == 0) {
                        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                        while (now_ms() < end)
                                ;
                        _exit(0);
                }
        }
        while (!stop_requested && now_ms() < end)
                ;
        for (long i = 0; i < n; i++)
                if (kids[i] > 0) {
                        (void) kill(kids[i], SIGKILL);
                        (void) waitpid(kids[i], NULL, 0);
                }
        return ok("burned %ld CPU(s)", procs);
}

/* runas UID -- COMMAND...: drop to uid (and gid = uid, no supplementary
 * groups) and execute COMMAND; what setpriv does, for busybox systems. */
static int cmd_runas(int argc, char **argv) {
        long uid;

        if (argc < 4 || strcmp(argv[3], "--") != 0 || argc < 5 || !parse_long(argv[2], 1, 0x7fffffff, &uid))
                return usage();
        if (setgroups(0, NULL) < 0 || setresgid((gid_t) uid, (gid_t) uid, (gid_t) uid) < 0 ||
            setresuid((uid_t) uid, (uid_t) uid, (uid_t) uid) < 0)
                return trouble(errno, "cannot become uid %ld", uid);
        execvp(argv[4], argv + 4);
        return trouble(errno, "execvp %s", argv[4]);
}

/* --------------------------------------------------------------- main */

static int ipc_cmd(const char *cmd, const char *verb, const char *arg) {
        bool create;
        key_t key = 0;

        if (strcmp(verb, "create") == 0)
                create = true;
        else if (strcmp(verb, "open") == 0 || strcmp(verb, "attach") == 0)
                create = false;
        else
                return usage();
        if (strncmp(cmd, "sysv-", 5) == 0 && !parse_key(arg, &key))
                return usage();
        if (create)
                install_stop_handlers();
        if (strcmp(cmd, "sysv-shm") == 0)
                return cmd_sysv_shm(create, key);
        if (strcmp(cmd, "sysv-msg") == 0)
                return cmd_sysv_msg(create, key);
        if (strcmp(cmd, "sysv-sem") == 0)
                return cmd_sysv_sem(create, key);
        if (strcmp(cmd, "posix-shm") == 0)
                return cmd_posix_shm(create, arg);
        if (strcmp(cmd, "posix-mq") == 0)
                return cmd_posix_mq(create, arg);
        return usage();
}

static int cmd_batch(void);

/* One command: argv[1] is its name (argv[0] is unused). */
static int dispatch(int argc, char **argv) {
        const char *cmd = argc > 1 ? argv[1] : "";
        const char *a1 = argc > 2 ? argv[2] : NULL, *a2 = argc > 3 ? argv[3] : NULL;

        if (strcmp(cmd, "runas") == 0)
                return cmd_runas(argc, argv);
        if (strcmp(cmd, "batch") == 0)
                return argc == 2 ? cmd_batch() : usage();
        if (argc > 5)
                return usage();
        if (strcmp(cmd, "pids") == 0)
                return cmd_pids();
        if (strcmp(cmd, "hostname") == 0)
                return cmd_hostname();
        if (!a1)
                return usage();
        if (strcmp(cmd, "find") == 0)
                return cmd_find(a1);
        if (strcmp(cmd, "sethostname") == 0)
                return cmd_sethostname(a1);
        if (strcmp(cmd, "signal") == 0)
                return cmd_signal(a1, a2);
        if (strcmp(cmd, "ptrace") == 0)
                return cmd_ptrace(a1);
        if (strcmp(cmd, "proc-root") == 0)
                return cmd_proc_root(a1, a2);
        if (strcmp(cmd, "read") == 0)
                return cmd_read(a1);
        if (strcmp(cmd, "write") == 0)
                return cmd_write(a1);
        if (strcmp(cmd, "stat") == 0)
                return cmd_stat(a1);
        if (strncmp(cmd, "sysv-", 5) == 0 || strncmp(cmd, "posix-", 6) == 0)
                return a2 ? ipc_cmd(cmd, a1, a2) : usage();
        if (strcmp(cmd, "hold") == 0) {
                install_stop_handlers();
                return cmd_hold(a1); /* a2: a marker for "find", unused here */
        }
        if (strcmp(cmd, "unix-listen") == 0 || strcmp(cmd, "abstract-listen") == 0) {
                install_stop_handlers();
                return cmd_unix_listen(a1, cmd[0] == 'a');
        }
        if (strcmp(cmd, "unix-connect") == 0 || strcmp(cmd, "abstract-connect") == 0)
                return cmd_unix_connect(a1, cmd[0] == 'a');
        if (strcmp(cmd, "tcp-listen") == 0 || strcmp(cmd, "udp-listen") == 0) {
                install_stop_handlers();
                return cmd_inet_listen(a1, a2, cmd[0] == 'u');
        }
        if (strcmp(cmd, "tcp-connect") == 0)
                return a2 ? cmd_tcp_connect(a1, a2) : usage();
        if (strcmp(cmd, "udp-connect") == 0)
                return a2 ? cmd_udp_connect(a1, a2) : usage();
        if (strcmp(cmd, "forkbomb") == 0) {
                install_stop_handlers();
                return cmd_forkbomb(a1);
        }
        if (strcmp(cmd, "memhog") == 0)
                return cmd_memhog(a1, a2);
        if (strcmp(cmd, "cpuburn") == 0) {
                install_stop_handlers();
                return cmd_cpuburn(a1, a2);
        }
        return usage();
}

/* batch: one command per line of stdin, "TAG COMMAND [ARGS]" (words
 * separated by blanks, no quoting), each run in a child of its own (with a
 * time limit); prints "@@MX TAG STATUS OUTPUT" per line, OUTPUT being the
 * first line the command printed.  Saves an execve() and a dynamic link
 * per call, which count under emulation. */
static int run_one(char *words[], int n, const char *tag) {
        char out[BATCH_OUT_MAX];
        size_t len = 0;
        int pfd[2], status = 0;
        pid_t pid;

        if (pipe2(pfd, O_CLOEXEC) < 0)
                return trouble(errno, "pipe");
        (void) fflush(stdout);
        pid = fork();
        if (pid < 0) {
                int e = errno;
                (void) close(pfd[0]);
                (void) close(pfd[1]);
                return trouble(e, "fork");
        }
        if (pid == 0) {
                (void) dup2(pfd[1], STDOUT_FILENO);
                (void) dup2(pfd[1], STDERR_FILENO);
                (void) alarm(BATCH_CALL_TIMEOUT_S);
                _exit(dispatch(n, words));
        }
        (void) close(pfd[1]);
        for (;;) {
                ssize_t r = read(pfd[0], out + len, sizeof out - 1 - len);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                len += (size_t) r;
                if (len == sizeof out - 1) {
                        char sink[256];
                        while (read(pfd[0], sink, sizeof sink) > 0)
                                ;
                        break;
                }
        }
        (void) close(pfd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return trouble(errno, "waitpid");
        out[len] = '\0';
        out[strcspn(out, "\n")] = '\0';
        printf("@@MX %s %d %s\n", tag, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out);
        (void) fflush(stdout);
        return 0;
}

static int cmd_batch(void) {
        char buf[1024];

        while (fgets(buf, sizeof buf, stdin)) {
                char *words[BATCH_MAX_WORDS + 2], *save = NULL, *tag;
                int n = 1;

                tag = strtok_r(buf, " \t\n", &save);
                if (!tag || tag[0] == '#')
                        continue;
                words[0] = (char *) "level-probe";
                while (n <= BATCH_MAX_WORDS && (words[n] = strtok_r(NULL, " \t\n", &save)))
                        n++;
                words[n] = NULL;
                if (n < 2)
                        continue;
                (void) run_one(words, n, tag);
        }
        return 0;
}

int main(int argc, char **argv) {
        return dispatch(argc, argv);
}

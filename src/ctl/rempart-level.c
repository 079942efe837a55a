/* SPDX-License-Identifier: MIT */
/* rempart-level: run one level as a jail whose main process is the level's
 * session broker.  This is the main process of rempart-level@NAME.service:
 * systemd supervises it (restart with backoff, journal); nothing here
 * restarts anything.  Also: check the configuration, print a level's
 * effective jail profile, record the unit's abnormal ends in the audit log
 * (audit-exit, its ExecStopPost=). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "broker-client.h"
#include "fileio.h"
#include "jail.h"
#include "level-jail.h"
#include "level-runtime.h"
#include "level.h"
#include "log.h"
#include "macro.h"

/* A level set and a profile, allocated together (both are large). */
struct work {
        struct level_set set;
        struct jail_profile profile;
};

#define DEFAULT_BROKER_NAME "rempart-broker" /* next to rempart-level */
#define EXIT_CONFIG 78 /* sysexits' EX_CONFIG: systemd does not restart on it */
#define CGROUP2_SUPER_MAGIC_ 0x63677270
#define SERVICE_WAIT_MS 60000
#define UNIT_DIR "/usr/lib/systemd/system"

struct options {
        const char *config_dir, *runtime_dir, *broker, *cgroup_parent, *report;
        /* The audit log's directory; NULL: no records (--dev without
         * --audit-dir: a development host has no audit role). */
        const char *audit_dir;
        bool dev;
};

static void help(void) {
        printf("Usage: rempart-level [OPTIONS] run NAME\n"
               "       rempart-level [OPTIONS] check [NAME...]\n"
               "       rempart-level [OPTIONS] print-profile NAME\n"
               "       rempart-level [OPTIONS] service NAME SERVICE\n"
               "       rempart-level [OPTIONS] audit-exit NAME\n"
               "       rempart-level-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n"
               "\n"
               "Run level NAME: its jail (rempart-jail) with the level's session broker as\n"
               "main process.  Meant to be started by rempart-level@NAME.service; systemd\n"
               "restarts it.  'check' validates the level files (all, or the named ones) and\n"
               "exits 1 if one is bad; 'print-profile' shows the jail profile of a level.\n"
               "'service' runs the level's service SERVICE through its broker and exits with\n"
               "its status (the main process of the generated rempart-service-NAME-SERVICE\n"
               "unit).  'audit-exit' is the ExecStopPost= of rempart-level@NAME.service: it\n"
               "records an abnormal end of the level ($SERVICE_RESULT, $EXIT_CODE,\n"
               "$EXIT_STATUS) as LEVEL_RESTART in the audit log.  As the systemd generator\n"
               "rempart-level-generator, it enables rempart-level@NAME.service for every level\n"
               "file and writes one unit per service.\n"
               "\n"
               "Options:\n"
               "  -c, --config-dir DIR    level files (default " LEVEL_DEFAULT_DIR ")\n"
               "  -r, --runtime-dir DIR   run-time state (default " LEVEL_RUNTIME_DIR ")\n"
               "      --broker PATH       rempart-broker binary (default: the one installed next\n"
               "                          to rempart-level)\n"
               "      --cgroup-parent P   cgroup of the level, relative to the v2 mount\n"
               "                          (default: under the service's own cgroup when run by\n"
               "                          systemd without --dev, else rempart/level-NAME)\n"
               "      --dev               development mode on a plain host: best-effort jail\n"
               "      --report FILE       write the jail's JSON report\n"
               "      --audit-dir DIR     audit log (default " AUDIT_DEFAULT_DIR "; with --dev: none\n"
               "                          unless given)\n"
               "  -h, --help              this help\n"
               "\n"
               "Exit status: the broker's; 78 for a bad level configuration (not restarted\n"
               "by systemd); 2 for a usage error.  audit-exit: 0 recorded or nothing to\n"
               "record, 1 the audit log refused the record, 2 bad environment.  See\n"
               "rempart-level(8), rempart-level.conf(5).\n");
}

/* Our own binary, and a file next to it. */
static int self_path(const char *sibling, char *buf, size_t size) {
        ssize_t n = readlink("/proc/self/exe", buf, size - 1);
        char *slash;

        if (n <= 0 || (size_t) n >= size - 1)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        if (!sibling)
                return 0;
        slash = strrchr(buf, '/');
        if (!slash || (size_t) (slash + 1 - buf) + strlen(sibling) >= size)
                return -ENAMETOOLONG;
        memcpy(slash + 1, sibling, strlen(sibling) + 1);
        return 0;
}

/* Our own cgroup v2 path ("0::/PATH" of /proc/self/cgroup), without the
 * leading slash. */
static int own_cgroup(char *buf, size_t size) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        const char *line;
        int r;

        r = read_full_file("/proc/self/cgroup", 65536, &text, &len);
        if (r < 0)
                return r;
        line = strstr(text, "0::/");
        if (!line || (line != text && line[-1] != '\n'))
                return -ENOENT;
        line += 4;
        len = strcspn(line, "\n");
        if (len >= size)
                return -ENAMETOOLONG;
        memcpy(buf, line, len);
        buf[len] = '\0';
        return 0;
}

/* Under systemd (Delegate=yes), the service's cgroup is ours to divide, but
 * cgroup v2 allows no process in a cgroup that delegates controllers to
 * children: move ourselves into OWN/supervisor, the jail goes under
 * OWN/level. */
static int systemd_cgroup_parent(char *parent, size_t size) {
        char own[JAIL_PATH_MAX], dir[JAIL_PATH_MAX + 64], pid[32];
        struct statfs sfs;
        _cleanup_close_ int fd = -1;
        int r, n;

        if (!getenv("INVOCATION_ID"))
                return -ENOENT;
        if (statfs("/sys/fs/cgroup", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC_)
                return -ENOENT;
        r = own_cgroup(own, sizeof own);
        if (r < 0 || own[0] == '\0')
                return r < 0 ? r : -ENOENT;
        if (strlen(own) > 11 && strcmp(own + strlen(own) - 11, "/supervisor") == 0)
                own[strlen(own) - 11] = '\0'; /* already moved (restart in the same cgroup) */
        else {
                n = snprintf(dir, sizeof dir, "/sys/fs/cgroup/%s/supervisor", own);
                if (n < 0 || (size_t) n >= sizeof dir)
                        return -ENAMETOOLONG;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(negative_errno(), "cannot create %s", dir);
                fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                (void) snprintf(pid, sizeof pid, "%d", (int) getpid());
                r = write_string_at(fd, "cgroup.procs", pid);
                if (r < 0)
                        return log_error_errno(r, "cannot move into %s", dir);
        }
        n = snprintf(parent, size, "%s/level", own);
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

/* Load level name; on refusal, the one-line reason (also logged) in why
 * when why is not NULL. */
static int load_level(const struct options *o, const char *name, struct level_set *set,
                      const struct level_config **ret, char *why, size_t why_size) {
        const struct level_entry *e;
        char buf[sizeof e->error.msg + 64];
        int r;

        if (!why) {
                why = buf;
                why_size = sizeof buf;
        }
        why[0] = '\0';
        if (!level_name_valid(name)) {
                (void) snprintf(why, why_size, "'%s' is not a valid level name", name);
                log_error("%s", why);
                return -EINVAL;
        }
        r = level_set_load(set, o->config_dir, NULL);
        if (r < 0) {
                (void) snprintf(why, why_size, "cannot read the level directory %s: %s", o->config_dir,
                                strerror(-r));
                log_error("%s", why);
                return r;
        }
        e = level_set_find(set, name);
        if (!e) {
                (void) snprintf(why, why_size, "no level '%s': %s/%s.conf does not exist", name, o->config_dir,
                                name);
                log_error("%s", why);
                return -ENOENT;
        }
        if (!e->ok) {
                (void) snprintf(why, why_size, "%s", e->error.msg);
                log_error("level %s refused: %s", name, e->error.msg);
                return -EINVAL;
        }
        *ret = &e->config;
        return 0;
}

/* ---- audit log ---- */

/* Append one event to the audit log (nothing when o->audit_dir is NULL).
 * The caller's decision is already made (a refused level stays refused):
 * a failure is reported, and returned. */
static int audit_record(const struct options *o, enum audit_type type, const struct audit_field *fields,
                        size_t n) {
        struct audit_log *log = NULL;
        int64_t seq;
        int r;

        if (!o->audit_dir)
                return 0;
        r = audit_open(o->audit_dir, AUDIT_OPEN_CREATE, 0, &log);
        if (r < 0)
                return log_error_errno(r, "cannot open the audit log in %s; %s not recorded", o->audit_dir,
                                       audit_type_to_string(type));
        seq = audit_append(log, type, fields, n);
        r = audit_close(log);
        if (seq < 0)
                return log_error_errno((int) seq, "cannot append %s to the audit log in %s",
                                       audit_type_to_string(type), o->audit_dir);
        if (r < 0)
                log_warning_errno(r, "closing the audit log in %s", o->audit_dir);
        return 0;
}

/* JAIL_REFUSED level=NAME step=config|profile|setup|jail reason=WHY status=N */
static void audit_refused(const struct options *o, const char *name, const char *step, const char *why,
                          int status) {
        char st[16];
        struct audit_field f[] = {
                { AUDIT_K_LEVEL, name }, { "step", step }, { AUDIT_K_REASON, why }, { "status", st },
        };

        (void) snprintf(st, sizeof st, "%d", status);
        (void) audit_record(o, AUDIT_JAIL_REFUSED, f, ELEMENTSOF(f));
}

/* The level cannot be set up on this host (its cgroup, data or run-time
 * directories): logged, recorded as JAIL_REFUSED step=setup; returns 1. */
_printf_(4, 5) static int refuse_setup(const struct options *o, const char *name, int err, const char *fmt, ...) {
        char why[1024];
        size_t n;
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        n = strlen(why);
        (void) snprintf(why + n, sizeof why - n, ": %s", strerror(abs(err)));
        log_error("level %s: %s", name, why);
        audit_refused(o, name, "setup", why, 1);
        return 1;
}

/* jail_run() gives the reason it refused to start a jail (strict mode: a
 * missing kernel feature, a cgroup it cannot create...) only as an error
 * line on stderr.  While it runs, stderr is a stream that passes every
 * byte on to fd 2 and keeps the first error line this process writes (the
 * cause; later lines may be consequences).  Processes started in the jail
 * write to fd 2 themselves, not through this stream. */
struct err_capture {
        char line[512];
        size_t len;
        char first[512];
};

static ssize_t capture_write(void *cookie, const char *buf, size_t size) {
        struct err_capture *c = cookie;
        static const char tag[] = ": error: ";

        if (write_all(STDERR_FILENO, buf, size) < 0)
                return -1;
        for (size_t i = 0; i < size; i++) {
                if (buf[i] != '\n') {
                        if (c->len < sizeof c->line - 1)
                                c->line[c->len++] = buf[i];
                        continue;
                }
                c->line[c->len] = '\0';
                c->len = 0;
                const char *e = strstr(c->line, tag);
                if (e && c->first[0] == '\0')
                        (void) snprintf(c->first, sizeof c->first, "%s", e + strlen(tag));
        }
        return (ssize_t) size;
}

static int run_jail_captured(struct jail_profile *p, char *const argv[], const struct jail_run_options *jopts,
                             struct err_capture *cap) {
        static const cookie_io_functions_t io = { .write = capture_write };
        FILE *orig = stderr, *f;
        int status;

        f = fopencookie(cap, "w", io);
        if (f && setvbuf(f, NULL, _IONBF, 0) != 0) {
                (void) fclose(f);
                f = NULL;
        }
        if (f)
                stderr = f;
        status = jail_run(p, argv, jopts);
        if (f) {
                stderr = orig;
                (void) fclose(f);
        }
        return status;
}

static int cmd_run(const struct options *o, struct work *w, const char *name) {
        struct level_set *set = &w->set;
        struct jail_profile *p = &w->profile;
        const struct level_config *l = NULL;
        struct level_jail_paths paths = { .runtime = o->runtime_dir, .broker_bin = o->broker, .dev = o->dev,
                                          .check_host = true };
        struct level_state st = { .runner = getpid() };
        struct jail_run_options jopts = { .report_path = o->report };
        struct jail_error err = { { 0 } };
        char parent[JAIL_PATH_MAX];
        char config[JAIL_PATH_MAX];
        char *argv[] = { (char *) LEVEL_IN_BROKER_BIN, (char *) "--config", config, (char *) "--socket",
                         (char *) LEVEL_IN_BROKER_DIR "/" LEVEL_BROKER_SOCKET_NAME, NULL };
        struct err_capture cap = { .len = 0 };
        char why[sizeof err.msg + 64];
        int r, status;

        if (load_level(o, name, set, &l, why, sizeof why) < 0 || !l) {
                audit_refused(o, name, "config", why, EXIT_CONFIG);
                return EXIT_CONFIG;
        }
        (void) snprintf(config, sizeof config, LEVEL_IN_CONFIG_DIR "/%s.conf", name);
        if (geteuid() != 0)
                return log_error("level %s: rempart-level run needs root", name), 1;
        if (level_is_running(o->runtime_dir, name, NULL))
                return log_error("level %s is already running", name), 1;

        if (o->cgroup_parent)
                r = snprintf(parent, sizeof parent, "%s", o->cgroup_parent) >= (int) sizeof parent ? -ENAMETOOLONG : 0;
        else {
                /* Development mode: rempart/level-NAME, whoever started us
                 * (a test harness run by systemd has no delegated cgroup). */
                r = o->dev ? -ENOENT : systemd_cgroup_parent(parent, sizeof parent);
                if (r == -ENOENT)
                        r = snprintf(parent, sizeof parent, "rempart/level-%s", name) >= (int) sizeof parent
                                ? -ENAMETOOLONG : 0;
        }
        if (r < 0)
                return refuse_setup(o, name, r, "cannot choose its cgroup");
        paths.cgroup_parent = parent;
        memcpy(st.cgroup, parent, strlen(parent) + 1);

        r = level_data_prepare(l);
        if (r < 0)
                return refuse_setup(o, name, r, "cannot prepare its data directory %s", l->data);
        r = level_runtime_prepare(o->runtime_dir, name);
        if (r < 0)
                return refuse_setup(o, name, r, "cannot prepare %s/%s", o->runtime_dir, name);
        r = level_build_profile(l, &paths, p, &err);
        if (r < 0) {
                log_error("level %s: %s", name, err.msg);
                audit_refused(o, name, "profile", err.msg, EXIT_CONFIG);
                return EXIT_CONFIG;
        }
        r = level_state_write(o->runtime_dir, name, &st);
        if (r < 0)
                return refuse_setup(o, name, r, "cannot write its state file");

        log_info("level %s (%s): starting, %u user(s), %u service(s), cgroup %s", name, l->label, l->n_users,
                 l->n_services, parent);
        status = run_jail_captured(p, argv, &jopts, &cap);
        (void) level_state_remove(o->runtime_dir, name);
        /* jail_run()'s own statuses, with an error line from this process:
         * the jail was not set up, or the broker could not be executed.
         * Otherwise the status is the broker's (128+N: it or the level's
         * init was killed by signal N), recorded by audit-exit when systemd
         * sees the unit fail. */
        if (cap.first[0] != '\0' && (status == JAIL_EXIT_SETUP || status == JAIL_EXIT_USAGE ||
                                     status == JAIL_EXIT_NOEXEC || status == JAIL_EXIT_NOENT)) {
                log_error("level %s: the jail was refused (status %d): %s", name, status, cap.first);
                audit_refused(o, name, "jail", cap.first, status);
                return status;
        }
        log_info("level %s: stopped, status %d", name, status);
        return status;
}

static int cmd_check(const struct options *o, struct work *w, char **names, int n) {
        struct level_set *set = &w->set;
        struct jail_profile *p = &w->profile;
        struct level_jail_paths paths = { .runtime = o->runtime_dir, .broker_bin = o->broker, .dev = o->dev,
                                          .cgroup_parent = "rempart", .check_host = false };
        int r, bad = 0;

        r = level_set_load(set, o->config_dir, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot read the level directory %s", o->config_dir), 1;
        for (int i = 0; i < n; i++)
                if (!level_set_find(set, names[i])) {
                        log_error("no level '%s' in %s", names[i], o->config_dir);
                        bad = 1;
                }
        for (unsigned i = 0; i < set->n_levels; i++) {
                const struct level_entry *e = &set->levels[i];
                struct jail_error err = { { 0 } };
                bool wanted = n == 0;

                for (int k = 0; k < n; k++)
                        wanted = wanted || strcmp(names[k], e->config.name) == 0;
                if (!wanted)
                        continue;
                if (e->ok && level_build_profile(&e->config, &paths, p, &err) < 0) {
                        printf("%s: refused: %s\n", e->config.name, err.msg);
                        bad = 1;
                } else if (e->ok)
                        printf("%s: ok (%s, %u user(s))\n", e->config.name, e->config.label, e->config.n_users);
                else {
                        printf("%s: refused: %s\n", e->config.name, e->error.msg);
                        bad = 1;
                }
        }
        return bad;
}

static int cmd_print(const struct options *o, struct work *w, const char *name) {
        struct level_set *set = &w->set;
        struct jail_profile *p = &w->profile;
        const struct level_config *l = NULL;
        struct level_jail_paths paths = { .runtime = o->runtime_dir, .broker_bin = o->broker, .dev = o->dev,
                                          .cgroup_parent = o->cgroup_parent ? o->cgroup_parent : "rempart",
                                          .check_host = false };
        struct jail_error err = { { 0 } };

        if (load_level(o, name, set, &l, NULL, 0) < 0 || !l)
                return EXIT_CONFIG;
        if (level_build_profile(l, &paths, p, &err) < 0)
                return log_error("level %s: %s", name, err.msg), EXIT_CONFIG;
        return profile_dump(p, stdout) < 0 ? 1 : 0;
}

struct peer_check {
        const char *runtime, *name;
};

static int check_broker(const struct broker_peer *peer, void *userdata) {
        const struct peer_check *pc = userdata;

        if (level_check_broker(pc->runtime, pc->name, peer->pid, peer->uid) < 0)
                return log_error("level %s: the socket is not held by the level's broker (pid %d)", pc->name,
                                 (int) peer->pid), -EPERM;
        return 0;
}

/* One of the level's services, as the main process of its unit: started by
 * the broker inside the level (a child of the level's init, as its user),
 * its output on ours (the journal), its end our end, so that systemd sees
 * a crash and restarts it. */
static int cmd_service(const struct options *o, struct work *w, const char *name, const char *service) {
        struct level_set *set = &w->set;
        const struct level_config *l = NULL;
        struct peer_check pc = { .runtime = o->runtime_dir, .name = name };
        struct broker_client_opts opts = { .check_peer = check_broker, .userdata = &pc, .forward_signals = true,
                                           .winsize_fd = -1 };
        struct broker_result res;
        char sock[JAIL_PATH_MAX];
        _cleanup_close_ int nul = -1;
        int fds[BROKER_N_FDS], r = -ENOENT;
        bool known = false;

        if (load_level(o, name, set, &l, NULL, 0) < 0 || !l)
                return EXIT_CONFIG;
        for (unsigned i = 0; i < l->n_services; i++)
                known = known || strcmp(l->services[i].name, service) == 0;
        if (!known)
                return log_error("level %s has no service '%s' in %s", name, service, l->path), EXIT_CONFIG;
        if (level_runtime_path(o->runtime_dir, name, "broker/" LEVEL_BROKER_SOCKET_NAME, sock, sizeof sock) < 0)
                return 1;
        nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul < 0)
                return log_error_errno(negative_errno(), "/dev/null"), 1;
        fds[0] = nul;
        fds[1] = STDOUT_FILENO;
        fds[2] = STDERR_FILENO;
        /* The level may be starting at the same time as we do. */
        for (int waited = 0; waited < SERVICE_WAIT_MS; waited += 100) {
                memset(&res, 0, sizeof res);
                r = broker_client_service(sock, service, fds, &opts, &res);
                if (r != -ENOENT && r != -ECONNREFUSED)
                        break;
                (void) usleep(100 * 1000);
        }
        if (r < 0) {
                if (res.error)
                        log_error("level %s, service %s: %s", name, service, res.message);
                else
                        log_error_errno(r, "level %s, service %s: cannot reach the level's broker", name, service);
                return 1;
        }
        log_info("level %s, service %s: ended, status %d", name, service, res.status);
        return res.status;
}

/* ---- audit-exit: the ExecStopPost= of rempart-level@NAME.service ---- */

/* systemd's $SERVICE_RESULT: a word of [a-z-] ("success", "exit-code",
 * "signal", "core-dump", "timeout", "watchdog", "oom-kill", "resources",
 * "protocol"...).  Unknown but well-formed words are kept as they are: a
 * newer systemd must not make an abnormal end go unrecorded. */
static bool result_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 32 || s[0] < 'a' || s[0] > 'z')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz-") == n;
}

/* $EXIT_STATUS: decimal 0..255 (no sign, no leading zero) after "exited",
 * else a signal name as systemd writes it ("KILL", "RTMIN+3"). */
static bool exit_status_valid(const char *code, const char *s) {
        size_t n = strlen(s);

        if (strcmp(code, "exited") == 0) {
                if (n == 0 || n > 3 || strspn(s, "0123456789") != n || (s[0] == '0' && n > 1))
                        return false;
                return atoi(s) <= 255;
        }
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev && strcmp(abbrev, s) == 0)
                        return true;
        }
        if (strcmp(s, "RTMIN") == 0)
                return true;
        if (strncmp(s, "RTMIN+", 6) == 0 && n >= 7 && n <= 8 && strspn(s + 6, "0123456789") == n - 6 &&
            s[6] != '0')
                return atoi(s + 6) <= SIGRTMAX - SIGRTMIN;
        return false;
}

static bool invocation_valid(const char *s) {
        return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

/* Record an abnormal end of the level's unit, from what systemd passes to
 * ExecStopPost=.  A clean end ($SERVICE_RESULT=success: stopped on request,
 * or the broker exited 0) is not a restart and is not recorded (the
 * journal has it); nor is exit status 78, a refused configuration, which
 * systemd does not restart and the runner recorded as JAIL_REFUSED with
 * its reason.  Every other end is: systemd restarts the level. */
static int cmd_audit_exit(const struct options *o, const char *name) {
        const char *result = getenv("SERVICE_RESULT"), *code = getenv("EXIT_CODE"),
                   *status = getenv("EXIT_STATUS"), *inv = getenv("INVOCATION_ID");
        static const char *const codes[] = { "exited", "killed", "dumped", "trapped", "stopped", "continued" };
        struct audit_field f[5];
        size_t n = 0;
        bool code_ok = false;

        if (!level_name_valid(name))
                return log_error("audit-exit: '%s' is not a valid level name", name), 2;
        if (!result)
                return log_error("audit-exit: $SERVICE_RESULT is not set (run by systemd as ExecStopPost= of "
                                 "rempart-level@%s.service)", name), 2;
        if (!result_valid(result))
                return log_error("audit-exit: level %s: bad $SERVICE_RESULT '%.64s'", name, result), 2;
        /* Both unset or empty: the main process never ran (or had not ended). */
        if (!code || code[0] == '\0') {
                if (status && status[0] != '\0')
                        return log_error("audit-exit: level %s: $EXIT_STATUS without $EXIT_CODE", name), 2;
                code = status = NULL;
        } else {
                for (size_t i = 0; i < ELEMENTSOF(codes); i++)
                        code_ok = code_ok || strcmp(code, codes[i]) == 0;
                if (!code_ok)
                        return log_error("audit-exit: level %s: bad $EXIT_CODE '%.64s'", name, code), 2;
                if (!status || !exit_status_valid(code, status))
                        return log_error("audit-exit: level %s: bad $EXIT_STATUS '%.64s' for $EXIT_CODE %s", name,
                                         status ? status : "(unset)", code), 2;
        }
        if (inv && !invocation_valid(inv))
                return log_error("audit-exit: level %s: bad $INVOCATION_ID '%.64s'", name, inv), 2;

        if (strcmp(result, "success") == 0)
                return 0;
        if (code && strcmp(code, "exited") == 0 && atoi(status) == EXIT_CONFIG)
                return 0;
        f[n++] = (struct audit_field) { AUDIT_K_LEVEL, name };
        f[n++] = (struct audit_field) { "result", result };
        f[n++] = (struct audit_field) { "exit_code", code ? code : "none" };
        if (status)
                f[n++] = (struct audit_field) { "exit_status", status };
        if (inv)
                f[n++] = (struct audit_field) { "invocation", inv };
        if (audit_record(o, AUDIT_LEVEL_RESTART, f, n) < 0)
                return 1;
        log_info("level %s: recorded LEVEL_RESTART (result %s, %s %s)", name, result, code ? code : "none",
                 status ? status : "-");
        return 0;
}

/* systemd generator: one wants link per level, one unit per service. */
static int write_service_unit(const char *dir, const struct level_config *l, const struct level_service *svc,
                              const char *self) {
        char path[JAIL_PATH_MAX * 2], wants[JAIL_PATH_MAX * 2], link[JAIL_PATH_MAX * 3];
        _cleanup_close_ int fd = -1;
        char text[2048];
        int n;

        n = snprintf(path, sizeof path, "%s/rempart-service-%s-%s.service", dir, l->name, svc->name);
        if (n < 0 || (size_t) n >= sizeof path)
                return -ENAMETOOLONG;
        n = snprintf(text, sizeof text,
                     "# Generated by rempart-level-generator from %s\n"
                     "[Unit]\n"
                     "Description=Rempart level %s: service %s\n"
                     "Documentation=man:rempart-level.conf(5) man:rempart-level(8)\n"
                     "BindsTo=rempart-level@%s.service\n"
                     "After=rempart-level@%s.service\n"
                     "StartLimitIntervalSec=0\n"
                     "\n"
                     "[Service]\n"
                     "ExecStart=%s service %s %s\n"
                     "Restart=always\n"
                     "RestartSec=1s\n"
                     "RestartSteps=5\n"
                     "RestartMaxDelaySec=30s\n"
                     "RestartPreventExitStatus=78\n",
                     l->path, l->name, svc->name, l->name, l->name, self, l->name, svc->name);
        if (n < 0 || (size_t) n >= sizeof text)
                return -ENAMETOOLONG;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, text, (size_t) n) < 0)
                return negative_errno();
        n = snprintf(wants, sizeof wants, "%s/rempart-level@%s.service.wants", dir, l->name);
        if (n < 0 || (size_t) n >= sizeof wants)
                return -ENAMETOOLONG;
        if (mkdir(wants, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        n = snprintf(link, sizeof link, "%s/rempart-service-%s-%s.service", wants, l->name, svc->name);
        if (n < 0 || (size_t) n >= sizeof link)
                return -ENAMETOOLONG;
        return symlink(path, link) < 0 && errno != EEXIST ? negative_errno() : 0;
}

static int cmd_generate(const struct options *o, struct work *w, const char *dir) {
        struct level_set *set = &w->set;
        char wants[JAIL_PATH_MAX * 2], link[JAIL_PATH_MAX * 3], self[JAIL_PATH_MAX];
        int r, n, bad = 0;

        /* The units run the binary the generator is (a link to rempart-level). */
        r = self_path(NULL, self, sizeof self);
        if (r < 0)
                return log_error_errno(r, "cannot find our own binary"), 1;
        r = level_set_load(set, o->config_dir, NULL);
        if (r == -ENOENT)
                return 0; /* no levels on this machine */
        if (r < 0)
                return log_error_errno(r, "cannot read %s", o->config_dir), 1;
        n = snprintf(wants, sizeof wants, "%s/multi-user.target.wants", dir);
        if (n < 0 || (size_t) n >= sizeof wants || (mkdir(wants, 0755) < 0 && errno != EEXIST))
                return log_error_errno(negative_errno(), "cannot create %s", wants), 1;
        for (unsigned i = 0; i < set->n_levels; i++) {
                const struct level_entry *e = &set->levels[i];

                if (!level_name_valid(e->config.name))
                        continue;
                /* A bad level is enabled too: its unit fails with the reason
                 * in the journal and systemctl status, the others start. */
                n = snprintf(link, sizeof link, "%s/rempart-level@%s.service", wants, e->config.name);
                if (n < 0 || (size_t) n >= sizeof link)
                        continue;
                if (symlink(UNIT_DIR "/rempart-level@.service", link) < 0 && errno != EEXIST) {
                        log_error_errno(negative_errno(), "cannot create %s", link);
                        bad = 1;
                }
                /* Its own virtual terminal: a getty there (the login shell of
                 * level users, rempart-login, enters the level of its VT). */
                if (e->ok && e->config.vt) {
                        char gwants[JAIL_PATH_MAX * 2], glink[JAIL_PATH_MAX * 3];

                        n = snprintf(gwants, sizeof gwants, "%s/getty.target.wants", dir);
                        if (n > 0 && (size_t) n < sizeof gwants && (mkdir(gwants, 0755) == 0 || errno == EEXIST)) {
                                n = snprintf(glink, sizeof glink, "%s/getty@tty%u.service", gwants, e->config.vt);
                                if (n > 0 && (size_t) n < sizeof glink &&
                                    symlink(UNIT_DIR "/getty@.service", glink) < 0 && errno != EEXIST) {
                                        log_error_errno(negative_errno(), "cannot create %s", glink);
                                        bad = 1;
                                }
                        }
                }
                for (unsigned k = 0; e->ok && k < e->config.n_services; k++) {
                        r = write_service_unit(dir, &e->config, &e->config.services[k], self);
                        if (r < 0) {
                                log_error_errno(r, "level %s: cannot write the unit of service %s", e->config.name,
                                                e->config.services[k].name);
                                bad = 1;
                        }
                }
        }
        return bad;
}

static int dispatch(int argc, char **argv, struct work *w) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "config-dir", required_argument, NULL, 'c' },
                { "runtime-dir", required_argument, NULL, 'r' },
                { "broker", required_argument, NULL, 'B' },
                { "cgroup-parent", required_argument, NULL, 'C' },
                { "report", required_argument, NULL, 'R' },
                { "dev", no_argument, NULL, 'D' },
                { "audit-dir", required_argument, NULL, 'A' },
                { NULL, 0, NULL, 0 },
        };
        struct options o = { .config_dir = LEVEL_DEFAULT_DIR, .runtime_dir = LEVEL_RUNTIME_DIR };
        char broker[JAIL_PATH_MAX];
        const char *audit_dir = NULL;
        int c;

        if (self_path(DEFAULT_BROKER_NAME, broker, sizeof broker) == 0)
                o.broker = broker;
        const char *base = strrchr(argv[0], '/');

        /* systemd generators are called with three directories. */
        if (strcmp(base ? base + 1 : argv[0], "rempart-level-generator") == 0) {
                if (argc < 2 || argc > 4) {
                        fprintf(stderr, "rempart-level-generator: usage: NORMAL-DIR [EARLY-DIR LATE-DIR]\n");
                        return 2;
                }
                /* Tests point the generator elsewhere (generators take no options). */
                if (getenv("REMPART_LEVEL_DIR"))
                        o.config_dir = getenv("REMPART_LEVEL_DIR");
                return cmd_generate(&o, w, argv[1]);
        }
        while ((c = getopt_long(argc, argv, "+hc:r:", longopts, NULL)) != -1) {
                switch (c) {
                case 'h': help(); return 0;
                case 'c': o.config_dir = optarg; break;
                case 'r': o.runtime_dir = optarg; break;
                case 'B': o.broker = optarg; break;
                case 'C': o.cgroup_parent = optarg; break;
                case 'R': o.report = optarg; break;
                case 'D': o.dev = true; break;
                case 'A':
                        if (optarg[0] == '\0')
                                return fprintf(stderr, "rempart-level: --audit-dir: empty path\n"), 2;
                        audit_dir = optarg;
                        break;
                default: fprintf(stderr, "Try 'rempart-level --help'.\n"); return 2;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "rempart-level: missing command (run, check, print-profile, service, audit-exit); "
                                "see --help\n");
                return 2;
        }
        /* Production (no --dev): always the system's audit log. */
        o.audit_dir = audit_dir ? audit_dir : o.dev ? NULL : AUDIT_DEFAULT_DIR;
        const char *cmd = argv[optind++];
        if (strcmp(cmd, "audit-exit") == 0) {
                if (argc - optind != 1) {
                        fprintf(stderr, "rempart-level: 'audit-exit' takes exactly one level name\n");
                        return 2;
                }
                return cmd_audit_exit(&o, argv[optind]);
        }
        if (!o.broker) {
                fprintf(stderr, "rempart-level: cannot locate rempart-broker; use --broker\n");
                return 2;
        }
        if (strcmp(cmd, "run") == 0 || strcmp(cmd, "print-profile") == 0) {
                if (argc - optind != 1) {
                        fprintf(stderr, "rempart-level: '%s' takes exactly one level name\n", cmd);
                        return 2;
                }
                return cmd[0] == 'r' ? cmd_run(&o, w, argv[optind]) : cmd_print(&o, w, argv[optind]);
        }
        if (strcmp(cmd, "service") == 0) {
                if (argc - optind != 2) {
                        fprintf(stderr, "rempart-level: 'service' takes a level name and a service name\n");
                        return 2;
                }
                return cmd_service(&o, w, argv[optind], argv[optind + 1]);
        }
        if (strcmp(cmd, "check") == 0)
                return cmd_check(&o, w, argv + optind, argc - optind);
        fprintf(stderr, "rempart-level: unknown command '%s'; see --help\n", cmd);
        return 2;
}

int main(int argc, char **argv) {
        /* Large (a level set and a jail profile): on the heap, once. */
        struct work *w = calloc(1, sizeof *w);
        int r;

        if (!w) {
                fprintf(stderr, "rempart-level: out of memory\n");
                return 1;
        }
        r = dispatch(argc, argv, w);
        free(w);
        return r;
}
